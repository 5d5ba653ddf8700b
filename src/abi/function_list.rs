//! The function lists (2.40 and 3.0) and the "PKCS 11" interfaces, built
//! from one list of names so no table is written twice.

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::abi::crypto::*;
use crate::abi::general::*;
use crate::abi::keys::*;
use crate::abi::message::*;
use crate::abi::objects::*;
use crate::abi::sessions::*;
use crate::abi::slots::*;
use crate::error::{Result, Rv};

macro_rules! function_lists {
    (v2: [$($v2:ident),* $(,)?], v3: [$($v3:ident),* $(,)?]) => {
        static LIST_2_40: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
            version: CK_VERSION { major: 2, minor: 40 },
            $($v2: Some($v2),)*
        };
        static LIST_3_0: CK_FUNCTION_LIST_3_0 = CK_FUNCTION_LIST_3_0 {
            version: CK_VERSION { major: 3, minor: 0 },
            $($v2: Some($v2),)*
            $($v3: Some($v3),)*
        };
    };
}

function_lists! {
    v2: [
        C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList,
        C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo,
        C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession,
        C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,
        C_SetOperationState, C_Login, C_Logout, C_CreateObject, C_CopyObject,
        C_DestroyObject, C_GetObjectSize, C_GetAttributeValue,
        C_SetAttributeValue, C_FindObjectsInit, C_FindObjects,
        C_FindObjectsFinal, C_EncryptInit, C_Encrypt, C_EncryptUpdate,
        C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate,
        C_DecryptFinal, C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey,
        C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate, C_SignFinal,
        C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify,
        C_VerifyUpdate, C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover,
        C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate,
        C_DecryptVerifyUpdate, C_GenerateKey, C_GenerateKeyPair, C_WrapKey,
        C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom,
        C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent,
    ],
    v3: [
        C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel,
        C_MessageEncryptInit, C_EncryptMessage, C_EncryptMessageBegin,
        C_EncryptMessageNext, C_MessageEncryptFinal, C_MessageDecryptInit,
        C_DecryptMessage, C_DecryptMessageBegin, C_DecryptMessageNext,
        C_MessageDecryptFinal, C_MessageSignInit, C_SignMessage,
        C_SignMessageBegin, C_SignMessageNext, C_MessageSignFinal,
        C_MessageVerifyInit, C_VerifyMessage, C_VerifyMessageBegin,
        C_VerifyMessageNext, C_MessageVerifyFinal,
    ]
}

/// The interface name, NUL-terminated as CK_INTERFACE wants it.
static INTERFACE_NAME: &[u8] = b"PKCS 11\0";

/// The 2.40 function list (C_GetFunctionList). Clients treat it as
/// read-only, as the spec requires.
pub fn v2_40() -> *mut CK_FUNCTION_LIST {
    &LIST_2_40 as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST
}

fn v3_0() -> *mut c_void {
    &LIST_3_0 as *const CK_FUNCTION_LIST_3_0 as *mut c_void
}

fn make(list: *mut c_void) -> CK_INTERFACE {
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: list,
        flags: 0,
    }
}

/// The interfaces offered, newest first (C_GetInterfaceList).
pub fn interfaces() -> [CK_INTERFACE; 2] {
    [make(v3_0()), make(v2_40() as *mut c_void)]
}

/// The interface a client asks for by name, version and flags
/// (C_GetInterface); NULL name and version mean the default, 3.0.
///
/// The returned pointer refers to one of two static interfaces.
///
/// # Errors
/// CKR_ARGUMENTS_BAD when no interface matches (the spec's code for this).
pub fn interface(
    name: Option<&[u8]>,
    version: Option<&CK_VERSION>,
    flags: CK_FLAGS,
) -> Result<*mut CK_INTERFACE> {
    struct Static(CK_INTERFACE);
    // SAFETY: the interfaces point only to immutable statics, so sharing
    // and sending them between threads is sound.
    unsafe impl Sync for Static {}
    // SAFETY: as above.
    unsafe impl Send for Static {}
    static V3: std::sync::OnceLock<Static> = std::sync::OnceLock::new();
    static V2: std::sync::OnceLock<Static> = std::sync::OnceLock::new();

    if name.is_some_and(|n| n != &INTERFACE_NAME[..INTERFACE_NAME.len() - 1]) || flags != 0 {
        return Err(Rv::ARGUMENTS_BAD);
    }
    let chosen = match version.map(|v| (v.major, v.minor)) {
        None | Some((3, 0)) => V3.get_or_init(|| Static(make(v3_0()))),
        Some((2, 40)) => V2.get_or_init(|| Static(make(v2_40() as *mut c_void))),
        Some(_) => return Err(Rv::ARGUMENTS_BAD),
    };
    Ok(&chosen.0 as *const CK_INTERFACE as *mut CK_INTERFACE)
}
