//! A session's cryptographic operations (PKCS#11 3.0 §5.8–5.14): what is
//! common to every mechanism. The mechanisms themselves are in
//! `crate::mechanisms`; here are the checks at C_*Init, the operation
//! state, and the two-call convention.
//!
//! At C_*Init, in this order: an operation of the kind already active →
//! CKR_OPERATION_ACTIVE; the mechanism not in the table, or without this
//! capability → CKR_MECHANISM_INVALID; the key handle unknown or not
//! visible (private objects are only indexed while the user is logged in)
//! → CKR_KEY_HANDLE_INVALID; the key's class or type wrong for the
//! mechanism → CKR_KEY_TYPE_INCONSISTENT (the spec ranks it above the
//! next); the key's usage attribute (CKA_SIGN ...) false or absent →
//! CKR_KEY_FUNCTION_NOT_PERMITTED; CKA_ALLOWED_MECHANISMS present, non-empty
//! and without the mechanism → CKR_MECHANISM_INVALID; then the mechanism's
//! own checks (CKR_MECHANISM_PARAM_INVALID, CKR_CURVE_NOT_SUPPORTED ...).
//!
//! An operation ends when a call finishes it or fails, but not on
//! CKR_BUFFER_TOO_SMALL nor on a length query (NULL output buffer): the
//! output length is known before any input is consumed, so those calls
//! leave the operation untouched.

use cryptoki_sys::*;

use crate::backend::soft::session::SoftSession;
use crate::backend::{Mechanism, Output};
use crate::error::{Result, Rv};
use crate::mechanisms::{self, CipherOp, DigestOp, SignOp, VerifyOp};
use crate::object::Attributes;

/// The operations active in one session, at most one of each kind.
#[derive(Default)]
pub struct Operations {
    digest: Option<Box<dyn DigestOp>>,
    sign: Option<Box<dyn SignOp>>,
    verify: Option<Box<dyn VerifyOp>>,
    encrypt: Option<Box<dyn CipherOp>>,
    decrypt: Option<Box<dyn CipherOp>>,
}

/// What a key is used for, and the attribute that permits it.
#[derive(Clone, Copy)]
enum Usage {
    Sign,
    Verify,
    Encrypt,
    Decrypt,
}

impl Usage {
    fn attribute(self) -> CK_ATTRIBUTE_TYPE {
        match self {
            Usage::Sign => CKA_SIGN,
            Usage::Verify => CKA_VERIFY,
            Usage::Encrypt => CKA_ENCRYPT,
            Usage::Decrypt => CKA_DECRYPT,
        }
    }

    /// The class an asymmetric key must have for this use.
    fn asymmetric_class(self) -> CK_OBJECT_CLASS {
        match self {
            Usage::Sign | Usage::Decrypt => CKO_PRIVATE_KEY,
            Usage::Verify | Usage::Encrypt => CKO_PUBLIC_KEY,
        }
    }
}

/// Run `start` on the key behind `handle` once every common check passed.
fn with_key<T>(
    session: &SoftSession,
    mechanism: &Mechanism,
    handle: CK_OBJECT_HANDLE,
    usage: Usage,
    key_types: &[CK_KEY_TYPE],
    start: impl FnOnce(&Attributes) -> Result<T>,
) -> Result<T> {
    let object = session.token().object(handle).map_err(|rv| match rv {
        Rv::OBJECT_HANDLE_INVALID => Rv::KEY_HANDLE_INVALID,
        other => other,
    })?;
    let attrs = object.attrs();
    let class = attrs.class();
    let key_type = attrs.key_type().ok_or(Rv::KEY_TYPE_INCONSISTENT)?;
    let class_ok = if is_secret_type(key_type) {
        class == CKO_SECRET_KEY
    } else {
        class == usage.asymmetric_class()
    };
    if !class_ok || !key_types.contains(&key_type) {
        return Err(Rv::KEY_TYPE_INCONSISTENT);
    }
    if !attrs.flag(usage.attribute(), false) {
        return Err(Rv::KEY_FUNCTION_NOT_PERMITTED);
    }
    if !mechanism_allowed(&attrs, mechanism.kind) {
        return Err(Rv::MECHANISM_INVALID);
    }
    start(&attrs)
}

/// Whether CKA_ALLOWED_MECHANISMS (an array of CK_MECHANISM_TYPE in native
/// layout) permits `kind`. Absent or empty means every mechanism; a value
/// that is not a whole number of CK_MECHANISM_TYPEs permits nothing.
pub fn mechanism_allowed(attrs: &Attributes, kind: CK_MECHANISM_TYPE) -> bool {
    const SIZE: usize = std::mem::size_of::<CK_MECHANISM_TYPE>();
    match attrs.bytes(CKA_ALLOWED_MECHANISMS) {
        None | Some([]) => true,
        Some(list) if list.len() % SIZE != 0 => false,
        Some(list) => list.chunks_exact(SIZE).any(|c| {
            let mut b = [0u8; SIZE];
            b.copy_from_slice(c);
            CK_MECHANISM_TYPE::from_ne_bytes(b) == kind
        }),
    }
}

/// Key types held as CKO_SECRET_KEY objects.
fn is_secret_type(key_type: CK_KEY_TYPE) -> bool {
    !matches!(
        key_type,
        CKK_RSA
            | CKK_DSA
            | CKK_DH
            | CKK_EC
            | CKK_X9_42_DH
            | CKK_KEA
            | CKK_EC_EDWARDS
            | CKK_EC_MONTGOMERY
    )
}

/// Start an operation in `slot` unless one is active.
fn begin<T>(slot: &mut Option<T>, start: impl FnOnce() -> Result<T>) -> Result<()> {
    if slot.is_some() {
        return Err(Rv::OPERATION_ACTIVE);
    }
    *slot = Some(start()?);
    Ok(())
}

/// Feed `data` to the active operation in `slot`; an error ends it.
fn feed<T: ?Sized>(
    slot: &mut Option<Box<T>>,
    multipart: impl FnOnce(&T) -> bool,
    update: impl FnOnce(&mut T) -> Result<()>,
) -> Result<()> {
    let op = slot.as_deref_mut().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
    let result = if multipart(op) {
        update(op)
    } else {
        // A single-part mechanism (CKM_ECDSA ...): as SoftHSMv2 answers.
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    };
    if result.is_err() {
        *slot = None;
    }
    result
}

impl SoftSession {
    // -- Digest (§5.12) ----------------------------------------------------

    pub(super) fn crypto_digest_init(&self, mechanism: &Mechanism) -> Result<()> {
        let mut ops = self.operations();
        begin(&mut ops.digest, || {
            let digest = mechanisms::entry(mechanism.kind)?
                .ops
                .digest
                .ok_or(Rv::MECHANISM_INVALID)?;
            digest.start(&mechanism.param)
        })
    }

    pub(super) fn crypto_digest(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let op = ops.digest.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.output_len())? else {
            return Ok(());
        };
        let mut op = ops.digest.take().ok_or(Rv::GENERAL_ERROR)?;
        op.update(data)?;
        let n = op.finish(buf)?;
        out.written(n);
        Ok(())
    }

    pub(super) fn crypto_digest_update(&self, data: &[u8]) -> Result<()> {
        feed(
            &mut self.operations().digest,
            |_| true,
            |op| op.update(data),
        )
    }

    /// C_DigestKey: only a secret key's value can be digested; any other
    /// object is CKR_KEY_INDIGESTIBLE (as SoftHSMv2).
    pub(super) fn crypto_digest_key(&self, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut ops = self.operations();
        let value = self
            .token()
            .object(key)
            .map_err(|_| Rv::KEY_HANDLE_INVALID)
            .and_then(|o| {
                let attrs = o.attrs();
                if attrs.class() != CKO_SECRET_KEY {
                    return Err(Rv::KEY_INDIGESTIBLE);
                }
                mechanisms::key_value(&attrs, CKA_VALUE).map_err(|_| Rv::KEY_INDIGESTIBLE)
            });
        match value {
            Ok(v) => feed(&mut ops.digest, |_| true, |op| op.update(v.as_slice())),
            Err(rv) => {
                if ops.digest.take().is_none() {
                    return Err(Rv::OPERATION_NOT_INITIALIZED);
                }
                Err(rv)
            }
        }
    }

    pub(super) fn crypto_digest_final(&self, out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let op = ops.digest.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.output_len())? else {
            return Ok(());
        };
        let op = ops.digest.take().ok_or(Rv::GENERAL_ERROR)?;
        let n = op.finish(buf)?;
        out.written(n);
        Ok(())
    }

    // -- Sign (§5.13) --------------------------------------------------------

    pub(super) fn crypto_sign_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let mut ops = self.operations();
        begin(&mut ops.sign, || {
            let sign = mechanisms::entry(mechanism.kind)?
                .ops
                .sign
                .ok_or(Rv::MECHANISM_INVALID)?;
            with_key(self, mechanism, key, Usage::Sign, sign.key_types(), |k| {
                sign.start(&mechanism.param, k)
            })
        })
    }

    pub(super) fn crypto_sign(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let op = ops.sign.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.signature_len())? else {
            return Ok(());
        };
        let mut op = ops.sign.take().ok_or(Rv::GENERAL_ERROR)?;
        op.update(data)?;
        let n = op.finish(buf)?;
        out.written(n);
        Ok(())
    }

    pub(super) fn crypto_sign_update(&self, data: &[u8]) -> Result<()> {
        feed(
            &mut self.operations().sign,
            |op| op.multipart(),
            |op| op.update(data),
        )
    }

    pub(super) fn crypto_sign_final(&self, out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let op = ops.sign.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.signature_len())? else {
            return Ok(());
        };
        let op = ops.sign.take().ok_or(Rv::GENERAL_ERROR)?;
        let n = op.finish(buf)?;
        out.written(n);
        Ok(())
    }

    // -- Verify (§5.14) ------------------------------------------------------

    pub(super) fn crypto_verify_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let mut ops = self.operations();
        begin(&mut ops.verify, || {
            let verify = mechanisms::entry(mechanism.kind)?
                .ops
                .verify
                .ok_or(Rv::MECHANISM_INVALID)?;
            with_key(
                self,
                mechanism,
                key,
                Usage::Verify,
                verify.key_types(),
                |k| verify.start(&mechanism.param, k),
            )
        })
    }

    pub(super) fn crypto_verify(&self, data: &[u8], signature: &[u8]) -> Result<()> {
        let mut op = self
            .operations()
            .verify
            .take()
            .ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        op.update(data)?;
        op.finish(signature)
    }

    pub(super) fn crypto_verify_update(&self, data: &[u8]) -> Result<()> {
        feed(
            &mut self.operations().verify,
            |op| op.multipart(),
            |op| op.update(data),
        )
    }

    pub(super) fn crypto_verify_final(&self, signature: &[u8]) -> Result<()> {
        let op = self
            .operations()
            .verify
            .take()
            .ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        op.finish(signature)
    }

    // -- Encrypt and decrypt (§5.8, §5.10) -----------------------------------

    pub(super) fn crypto_encrypt_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let mut ops = self.operations();
        begin(&mut ops.encrypt, || {
            let encrypt = mechanisms::entry(mechanism.kind)?
                .ops
                .encrypt
                .ok_or(Rv::MECHANISM_INVALID)?;
            with_key(
                self,
                mechanism,
                key,
                Usage::Encrypt,
                encrypt.key_types(),
                |k| encrypt.start(&mechanism.param, k),
            )
        })
    }

    pub(super) fn crypto_decrypt_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let mut ops = self.operations();
        begin(&mut ops.decrypt, || {
            let decrypt = mechanisms::entry(mechanism.kind)?
                .ops
                .decrypt
                .ok_or(Rv::MECHANISM_INVALID)?;
            with_key(
                self,
                mechanism,
                key,
                Usage::Decrypt,
                decrypt.key_types(),
                |k| decrypt.start(&mechanism.param, k),
            )
        })
    }

    pub(super) fn crypto_cipher(&self, encrypt: bool, data: &[u8], out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        let op = slot.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.oneshot_len(data.len()))? else {
            return Ok(());
        };
        let op = slot.take().ok_or(Rv::GENERAL_ERROR)?;
        let n = op.oneshot(data, buf)?;
        out.written(n);
        Ok(())
    }

    pub(super) fn crypto_cipher_update(
        &self,
        encrypt: bool,
        data: &[u8],
        out: &mut Output,
    ) -> Result<()> {
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        let op = slot.as_mut().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.update_len(data.len()))? else {
            return Ok(());
        };
        match op.update(data, buf) {
            Ok(n) => {
                out.written(n);
                Ok(())
            }
            Err(rv) => {
                *slot = None;
                Err(rv)
            }
        }
    }

    pub(super) fn crypto_cipher_final(&self, encrypt: bool, out: &mut Output) -> Result<()> {
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        let op = slot.as_ref().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        let Some(buf) = out.room(op.final_len())? else {
            return Ok(());
        };
        let op = slot.take().ok_or(Rv::GENERAL_ERROR)?;
        let n = op.finish(buf)?;
        out.written(n);
        Ok(())
    }
}

impl SoftSession {
    /// C_SessionCancel (3.0 §5.6) for the cryptographic operations named in
    /// `flags` (CKF_ENCRYPT, CKF_DECRYPT, CKF_DIGEST, CKF_SIGN, CKF_VERIFY);
    /// cancelling an operation that is not active is not an error.
    pub(super) fn crypto_cancel(&self, flags: CK_FLAGS) {
        let mut ops = self.operations();
        if flags & CKF_ENCRYPT != 0 {
            ops.encrypt = None;
        }
        if flags & CKF_DECRYPT != 0 {
            ops.decrypt = None;
        }
        if flags & CKF_DIGEST != 0 {
            ops.digest = None;
        }
        if flags & CKF_SIGN != 0 {
            ops.sign = None;
        }
        if flags & CKF_VERIFY != 0 {
            ops.verify = None;
        }
    }
}

fn cipher_slot(ops: &mut Operations, encrypt: bool) -> &mut Option<Box<dyn CipherOp>> {
    if encrypt {
        &mut ops.encrypt
    } else {
        &mut ops.decrypt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_allowed(list: &[CK_MECHANISM_TYPE]) -> Attributes {
        let mut a = Attributes::new();
        let bytes: Vec<u8> = list.iter().flat_map(|m| m.to_ne_bytes()).collect();
        a.set_bytes(CKA_ALLOWED_MECHANISMS, &bytes);
        a
    }

    #[test]
    fn allowed_mechanisms() {
        assert!(mechanism_allowed(&Attributes::new(), CKM_ECDSA));
        assert!(mechanism_allowed(&with_allowed(&[]), CKM_ECDSA));
        let a = with_allowed(&[CKM_SHA256, CKM_ECDSA]);
        assert!(mechanism_allowed(&a, CKM_ECDSA));
        assert!(!mechanism_allowed(&a, CKM_ECDSA_SHA256));
        let mut bad = Attributes::new();
        bad.set_bytes(CKA_ALLOWED_MECHANISMS, &[1, 2, 3]);
        assert!(!mechanism_allowed(&bad, CKM_ECDSA));
    }

    #[test]
    fn secret_types() {
        assert!(is_secret_type(CKK_AES));
        assert!(is_secret_type(CKK_GENERIC_SECRET));
        assert!(!is_secret_type(CKK_EC));
        assert!(!is_secret_type(CKK_EC_EDWARDS));
    }
}
