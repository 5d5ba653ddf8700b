//! Key management and random numbers (PKCS#11 3.0 §5.16–5.17).

use cryptoki_sys::*;

use crate::abi::convert;
use crate::core;

pkcs11_fn! {
    fn C_GenerateKey(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG, phKey: *mut CK_OBJECT_HANDLE) {
        let mechanism = convert::mechanism(pMechanism)?;
        let template = convert::template(pTemplate, ulCount)?;
        let out = convert::out(phKey)?;
        *out = core::library()?.session(hSession)?.generate_key(&mechanism, &template)?;
        Ok(())
    }

    fn C_GenerateKeyPair(
        hSession: CK_SESSION_HANDLE,
        pMechanism: *mut CK_MECHANISM,
        pPublicKeyTemplate: *mut CK_ATTRIBUTE,
        ulPublicKeyAttributeCount: CK_ULONG,
        pPrivateKeyTemplate: *mut CK_ATTRIBUTE,
        ulPrivateKeyAttributeCount: CK_ULONG,
        phPublicKey: *mut CK_OBJECT_HANDLE,
        phPrivateKey: *mut CK_OBJECT_HANDLE,
    ) {
        let mechanism = convert::mechanism(pMechanism)?;
        let public = convert::template(pPublicKeyTemplate, ulPublicKeyAttributeCount)?;
        let private = convert::template(pPrivateKeyTemplate, ulPrivateKeyAttributeCount)?;
        let out_public = convert::out(phPublicKey)?;
        let out_private = convert::out(phPrivateKey)?;
        let (pub_key, priv_key) = core::library()?.session(hSession)?.generate_key_pair(&mechanism, &public, &private)?;
        *out_public = pub_key;
        *out_private = priv_key;
        Ok(())
    }

    fn C_WrapKey(
        hSession: CK_SESSION_HANDLE,
        pMechanism: *mut CK_MECHANISM,
        hWrappingKey: CK_OBJECT_HANDLE,
        hKey: CK_OBJECT_HANDLE,
        pWrappedKey: *mut CK_BYTE,
        pulWrappedKeyLen: *mut CK_ULONG,
    ) {
        let mechanism = convert::mechanism(pMechanism)?;
        let session = core::library()?.session(hSession)?;
        convert::with_output(pWrappedKey, pulWrappedKeyLen, |out| session.wrap_key(&mechanism, hWrappingKey, hKey, out))
    }

    fn C_UnwrapKey(
        hSession: CK_SESSION_HANDLE,
        pMechanism: *mut CK_MECHANISM,
        hUnwrappingKey: CK_OBJECT_HANDLE,
        pWrappedKey: *mut CK_BYTE,
        ulWrappedKeyLen: CK_ULONG,
        pTemplate: *mut CK_ATTRIBUTE,
        ulAttributeCount: CK_ULONG,
        phKey: *mut CK_OBJECT_HANDLE,
    ) {
        let mechanism = convert::mechanism(pMechanism)?;
        let wrapped = convert::required_bytes(pWrappedKey, ulWrappedKeyLen)?;
        let template = convert::template(pTemplate, ulAttributeCount)?;
        let out = convert::out(phKey)?;
        *out = core::library()?.session(hSession)?.unwrap_key(&mechanism, hUnwrappingKey, wrapped, &template)?;
        Ok(())
    }

    fn C_DeriveKey(
        hSession: CK_SESSION_HANDLE,
        pMechanism: *mut CK_MECHANISM,
        hBaseKey: CK_OBJECT_HANDLE,
        pTemplate: *mut CK_ATTRIBUTE,
        ulAttributeCount: CK_ULONG,
        phKey: *mut CK_OBJECT_HANDLE,
    ) {
        let mechanism = convert::mechanism(pMechanism)?;
        let template = convert::template(pTemplate, ulAttributeCount)?;
        let out = convert::out(phKey)?;
        *out = core::library()?.session(hSession)?.derive_key(&mechanism, hBaseKey, &template)?;
        Ok(())
    }

    fn C_SeedRandom(hSession: CK_SESSION_HANDLE, pSeed: *mut CK_BYTE, ulSeedLen: CK_ULONG) {
        let seed = convert::required_bytes(pSeed, ulSeedLen)?;
        core::library()?.session(hSession)?.seed_random(seed)
    }

    fn C_GenerateRandom(hSession: CK_SESSION_HANDLE, RandomData: *mut CK_BYTE, ulRandomLen: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        let buf = convert::buffer(RandomData, ulRandomLen)?.ok_or(crate::Rv::ARGUMENTS_BAD)?;
        session.generate_random(buf)
    }
}
