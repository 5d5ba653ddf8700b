//! General-purpose functions (PKCS#11 3.0 §5.4): initialize, finalize,
//! library information, function lists and interfaces, and the legacy
//! parallel functions.

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::abi::convert;
use crate::abi::fork;
use crate::abi::function_list;
use crate::core;
use crate::error::Rv;

pkcs11_fn! {
    fn C_Initialize(pInitArgs: *mut c_void) {
        fork::watch();
        core::initialize(convert::init_args(pInitArgs)?)
    }

    fn C_Finalize(pReserved: *mut c_void) {
        if !pReserved.is_null() {
            return Err(Rv::ARGUMENTS_BAD);
        }
        core::finalize()
    }

    fn C_GetInfo(pInfo: *mut CK_INFO) {
        *convert::out(pInfo)? = core::info()?;
        Ok(())
    }

    fn C_GetFunctionList(ppFunctionList: *mut *mut CK_FUNCTION_LIST) {
        *convert::out(ppFunctionList)? = function_list::v2_40();
        Ok(())
    }

    fn C_GetInterfaceList(pInterfacesList: *mut CK_INTERFACE, pulCount: *mut CK_ULONG) {
        convert::put_list(&function_list::interfaces(), pInterfacesList, pulCount)
    }

    fn C_GetInterface(
        pInterfaceName: *mut CK_UTF8CHAR,
        pVersion: *mut CK_VERSION,
        ppInterface: *mut *mut CK_INTERFACE,
        flags: CK_FLAGS,
    ) {
        let out = convert::out(ppInterface)?;
        let name = if pInterfaceName.is_null() {
            None
        } else {
            Some(std::ffi::CStr::from_ptr(pInterfaceName as *const std::ffi::c_char).to_bytes())
        };
        *out = function_list::interface(name, pVersion.as_ref(), flags)?;
        Ok(())
    }

    /// Legacy: no function runs in parallel with the application.
    fn C_GetFunctionStatus(hSession: CK_SESSION_HANDLE) {
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_PARALLEL)
    }

    /// Legacy: no function runs in parallel with the application.
    fn C_CancelFunction(hSession: CK_SESSION_HANDLE) {
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_PARALLEL)
    }
}
