//! Slot and token management (PKCS#11 3.0 §5.5).

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::abi::convert;
use crate::core;

pkcs11_fn! {
    fn C_GetSlotList(tokenPresent: CK_BBOOL, pSlotList: *mut CK_SLOT_ID, pulCount: *mut CK_ULONG) {
        let lib = core::library()?;
        let slots = lib.slot_list(tokenPresent != CK_FALSE)?;
        convert::put_list(&slots, pSlotList, pulCount)
    }

    fn C_GetSlotInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_SLOT_INFO) {
        let info = convert::out(pInfo)?;
        *info = core::library()?.slot(slotID)?.slot_info()?;
        Ok(())
    }

    fn C_GetTokenInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_TOKEN_INFO) {
        let info = convert::out(pInfo)?;
        *info = core::library()?.slot(slotID)?.token_info()?;
        Ok(())
    }

    fn C_WaitForSlotEvent(flags: CK_FLAGS, pSlot: *mut CK_SLOT_ID, pReserved: *mut c_void) {
        if !pReserved.is_null() {
            return Err(crate::Rv::ARGUMENTS_BAD);
        }
        let slot = convert::out(pSlot)?;
        *slot = core::library()?.wait_for_slot_event(flags)?;
        Ok(())
    }

    fn C_GetMechanismList(slotID: CK_SLOT_ID, pMechanismList: *mut CK_MECHANISM_TYPE, pulCount: *mut CK_ULONG) {
        let list = core::library()?.slot(slotID)?.mechanism_list()?;
        convert::put_list(&list, pMechanismList, pulCount)
    }

    fn C_GetMechanismInfo(slotID: CK_SLOT_ID, type_: CK_MECHANISM_TYPE, pInfo: *mut CK_MECHANISM_INFO) {
        let info = convert::out(pInfo)?;
        *info = core::library()?.slot(slotID)?.mechanism_info(type_)?;
        Ok(())
    }

    fn C_InitToken(slotID: CK_SLOT_ID, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG, pLabel: *mut CK_UTF8CHAR) {
        let pin = convert::required_bytes(pPin, ulPinLen)?;
        let label: [u8; 32] = convert::required_bytes(pLabel, 32)?.try_into().map_err(|_| crate::Rv::ARGUMENTS_BAD)?;
        core::library()?.init_token(slotID, pin, &label)
    }

    fn C_InitPIN(hSession: CK_SESSION_HANDLE, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG) {
        let pin = convert::required_bytes(pPin, ulPinLen)?;
        core::library()?.session(hSession)?.init_pin(pin)
    }

    fn C_SetPIN(
        hSession: CK_SESSION_HANDLE,
        pOldPin: *mut CK_UTF8CHAR,
        ulOldLen: CK_ULONG,
        pNewPin: *mut CK_UTF8CHAR,
        ulNewLen: CK_ULONG,
    ) {
        let old = convert::required_bytes(pOldPin, ulOldLen)?;
        let new = convert::required_bytes(pNewPin, ulNewLen)?;
        core::library()?.session(hSession)?.set_pin(old, new)
    }
}
