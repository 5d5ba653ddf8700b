//! The message-based functions of PKCS#11 3.0 (§5.11, §5.13, §5.15, §5.18).
//! ProzHSM does not offer them yet: each answers CKR_FUNCTION_NOT_SUPPORTED
//! for a valid session (the README lists them).

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::core;
use crate::error::Rv;

type Bytes = *mut CK_BYTE;
type Len = CK_ULONG;
type LenPtr = *mut CK_ULONG;
type Param = *mut c_void;

macro_rules! message_fns {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        pkcs11_fn! {
            $(
                fn $name(hSession: CK_SESSION_HANDLE $(, $arg: $ty)*) {
                    let _ = ($($arg,)*);
                    core::library()?.session(hSession)?;
                    Err(Rv::FUNCTION_NOT_SUPPORTED)
                }
            )*
        }
    };
}

message_fns! {
    C_MessageEncryptInit(pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE);
    C_EncryptMessage(pParameter: Param, ulParameterLen: Len, pAssociatedData: Bytes, ulAssociatedDataLen: Len, pPlaintext: Bytes, ulPlaintextLen: Len, pCiphertext: Bytes, pulCiphertextLen: LenPtr);
    C_EncryptMessageBegin(pParameter: Param, ulParameterLen: Len, pAssociatedData: Bytes, ulAssociatedDataLen: Len);
    C_EncryptMessageNext(pParameter: Param, ulParameterLen: Len, pPlaintextPart: Bytes, ulPlaintextPartLen: Len, pCiphertextPart: Bytes, pulCiphertextPartLen: LenPtr, flags: CK_FLAGS);
    C_MessageEncryptFinal();
    C_MessageDecryptInit(pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE);
    C_DecryptMessage(pParameter: Param, ulParameterLen: Len, pAssociatedData: Bytes, ulAssociatedDataLen: Len, pCiphertext: Bytes, ulCiphertextLen: Len, pPlaintext: Bytes, pulPlaintextLen: LenPtr);
    C_DecryptMessageBegin(pParameter: Param, ulParameterLen: Len, pAssociatedData: Bytes, ulAssociatedDataLen: Len);
    C_DecryptMessageNext(pParameter: Param, ulParameterLen: Len, pCiphertextPart: Bytes, ulCiphertextPartLen: Len, pPlaintextPart: Bytes, pulPlaintextPartLen: LenPtr, flags: CK_FLAGS);
    C_MessageDecryptFinal();
    C_MessageSignInit(pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE);
    C_SignMessage(pParameter: Param, ulParameterLen: Len, pData: Bytes, ulDataLen: Len, pSignature: Bytes, pulSignatureLen: LenPtr);
    C_SignMessageBegin(pParameter: Param, ulParameterLen: Len);
    C_SignMessageNext(pParameter: Param, ulParameterLen: Len, pData: Bytes, ulDataLen: Len, pSignature: Bytes, pulSignatureLen: LenPtr);
    C_MessageSignFinal();
    C_MessageVerifyInit(pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE);
    C_VerifyMessage(pParameter: Param, ulParameterLen: Len, pData: Bytes, ulDataLen: Len, pSignature: Bytes, ulSignatureLen: Len);
    C_VerifyMessageBegin(pParameter: Param, ulParameterLen: Len);
    C_VerifyMessageNext(pParameter: Param, ulParameterLen: Len, pData: Bytes, ulDataLen: Len, pSignature: Bytes, ulSignatureLen: Len);
    C_MessageVerifyFinal();
}
