//! Encryption, decryption, digests, signatures and verification
//! (PKCS#11 3.0 §5.8–5.10, §5.12–5.14), and the dual-function updates (§5.15).

use cryptoki_sys::*;

use crate::abi::convert;
use crate::core;
use crate::error::Rv;

pkcs11_fn! {
    fn C_EncryptInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.encrypt_init(&mechanism, hKey)
    }

    fn C_Encrypt(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pEncryptedData: *mut CK_BYTE, pulEncryptedDataLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pData, ulDataLen)?;
        convert::with_output(pEncryptedData, pulEncryptedDataLen, |out| session.encrypt(data, out))
    }

    fn C_EncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pPart, ulPartLen)?;
        convert::with_output(pEncryptedPart, pulEncryptedPartLen, |out| session.encrypt_update(data, out))
    }

    fn C_EncryptFinal(hSession: CK_SESSION_HANDLE, pLastEncryptedPart: *mut CK_BYTE, pulLastEncryptedPartLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_output(pLastEncryptedPart, pulLastEncryptedPartLen, |out| session.encrypt_final(out))
    }

    fn C_DecryptInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.decrypt_init(&mechanism, hKey)
    }

    fn C_Decrypt(hSession: CK_SESSION_HANDLE, pEncryptedData: *mut CK_BYTE, ulEncryptedDataLen: CK_ULONG, pData: *mut CK_BYTE, pulDataLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pEncryptedData, ulEncryptedDataLen)?;
        convert::with_output(pData, pulDataLen, |out| session.decrypt(data, out))
    }

    fn C_DecryptUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pEncryptedPart, ulEncryptedPartLen)?;
        convert::with_output(pPart, pulPartLen, |out| session.decrypt_update(data, out))
    }

    fn C_DecryptFinal(hSession: CK_SESSION_HANDLE, pLastPart: *mut CK_BYTE, pulLastPartLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_output(pLastPart, pulLastPartLen, |out| session.decrypt_final(out))
    }

    fn C_DigestInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.digest_init(&mechanism)
    }

    fn C_Digest(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pDigest: *mut CK_BYTE, pulDigestLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pData, ulDataLen)?;
        convert::with_output(pDigest, pulDigestLen, |out| session.digest(data, out))
    }

    fn C_DigestUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        session.digest_update(convert::bytes(pPart, ulPartLen)?)
    }

    fn C_DigestKey(hSession: CK_SESSION_HANDLE, hKey: CK_OBJECT_HANDLE) {
        core::library()?.session(hSession)?.digest_key(hKey)
    }

    fn C_DigestFinal(hSession: CK_SESSION_HANDLE, pDigest: *mut CK_BYTE, pulDigestLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_output(pDigest, pulDigestLen, |out| session.digest_final(out))
    }

    fn C_SignInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.sign_init(&mechanism, hKey)
    }

    fn C_Sign(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pData, ulDataLen)?;
        convert::with_output(pSignature, pulSignatureLen, |out| session.sign(data, out))
    }

    fn C_SignUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        session.sign_update(convert::bytes(pPart, ulPartLen)?)
    }

    fn C_SignFinal(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_output(pSignature, pulSignatureLen, |out| session.sign_final(out))
    }

    fn C_SignRecoverInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.sign_recover_init(&mechanism, hKey)
    }

    fn C_SignRecover(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let data = convert::bytes(pData, ulDataLen)?;
        convert::with_output(pSignature, pulSignatureLen, |out| session.sign_recover(data, out))
    }

    fn C_VerifyInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.verify_init(&mechanism, hKey)
    }

    fn C_Verify(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        session.verify(convert::bytes(pData, ulDataLen)?, convert::bytes(pSignature, ulSignatureLen)?)
    }

    fn C_VerifyUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        session.verify_update(convert::bytes(pPart, ulPartLen)?)
    }

    fn C_VerifyFinal(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        session.verify_final(convert::bytes(pSignature, ulSignatureLen)?)
    }

    fn C_VerifyRecoverInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        core::library()?.session(hSession)?.verify_recover_init(&mechanism, hKey)
    }

    fn C_VerifyRecover(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG, pData: *mut CK_BYTE, pulDataLen: *mut CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let signature = convert::bytes(pSignature, ulSignatureLen)?;
        convert::with_output(pData, pulDataLen, |out| session.verify_recover(signature, out))
    }

    /// Dual-function updates are not supported (as in SoftHSMv2).
    fn C_DigestEncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        let _ = (pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    fn C_DecryptDigestUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        let _ = (pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    fn C_SignEncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        let _ = (pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    fn C_DecryptVerifyUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        let _ = (pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
        core::library()?.session(hSession)?;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }
}
