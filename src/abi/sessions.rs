//! Session management (PKCS#11 3.0 §5.6).

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::abi::convert;
use crate::core;
use crate::error::Rv;

pkcs11_fn! {
    /// Notification callbacks are accepted and never called: ProzHSM has no
    /// surrender points (the spec allows this).
    fn C_OpenSession(
        slotID: CK_SLOT_ID,
        flags: CK_FLAGS,
        pApplication: *mut c_void,
        Notify: CK_NOTIFY,
        phSession: *mut CK_SESSION_HANDLE,
    ) {
        let _ = (pApplication, Notify);
        let out = convert::out(phSession)?;
        *out = core::library()?.open_session(slotID, flags)?;
        Ok(())
    }

    fn C_CloseSession(hSession: CK_SESSION_HANDLE) {
        core::library()?.close_session(hSession)
    }

    fn C_CloseAllSessions(slotID: CK_SLOT_ID) {
        core::library()?.close_all_sessions(slotID)
    }

    fn C_GetSessionInfo(hSession: CK_SESSION_HANDLE, pInfo: *mut CK_SESSION_INFO) {
        let info = convert::out(pInfo)?;
        *info = core::library()?.session_info(hSession)?;
        Ok(())
    }

    fn C_SessionCancel(hSession: CK_SESSION_HANDLE, flags: CK_FLAGS) {
        core::library()?.session(hSession)?.session_cancel(flags)
    }

    fn C_GetOperationState(hSession: CK_SESSION_HANDLE, pOperationState: *mut CK_BYTE, pulOperationStateLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_output(pOperationState, pulOperationStateLen, |out| session.operation_state(out))
    }

    fn C_SetOperationState(
        hSession: CK_SESSION_HANDLE,
        pOperationState: *mut CK_BYTE,
        ulOperationStateLen: CK_ULONG,
        hEncryptionKey: CK_OBJECT_HANDLE,
        hAuthenticationKey: CK_OBJECT_HANDLE,
    ) {
        let state = convert::required_bytes(pOperationState, ulOperationStateLen)?;
        core::library()?.session(hSession)?.set_operation_state(state, hEncryptionKey, hAuthenticationKey)
    }

    fn C_Login(hSession: CK_SESSION_HANDLE, userType: CK_USER_TYPE, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG) {
        // A NULL PIN asks for a protected authentication path, which a
        // software token does not have.
        if pPin.is_null() {
            return Err(Rv::ARGUMENTS_BAD);
        }
        let pin = convert::bytes(pPin, ulPinLen)?;
        core::library()?.session(hSession)?.login(userType, pin)
    }

    fn C_LoginUser(
        hSession: CK_SESSION_HANDLE,
        userType: CK_USER_TYPE,
        pPin: *mut CK_UTF8CHAR,
        ulPinLen: CK_ULONG,
        pUsername: *mut CK_UTF8CHAR,
        ulUsernameLen: CK_ULONG,
    ) {
        let pin = convert::required_bytes(pPin, ulPinLen)?;
        let username = convert::required_bytes(pUsername, ulUsernameLen)?;
        core::library()?.session(hSession)?.login_user(userType, pin, username)
    }

    fn C_Logout(hSession: CK_SESSION_HANDLE) {
        core::library()?.session(hSession)?.logout()
    }
}
