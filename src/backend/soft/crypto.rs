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
//! and without the mechanism → CKR_MECHANISM_INVALID; the key material
//! refused by the configured policy (`mechanisms::key_permitted`: RSA under
//! 2048 bits without `allow_rsa_1024` → CKR_KEY_SIZE_RANGE, a tiny RSA
//! exponent → CKR_PUBLIC_KEY_INVALID); then the mechanism's own checks
//! (CKR_MECHANISM_PARAM_INVALID, CKR_CURVE_NOT_SUPPORTED ...).
//!
//! An operation ends when a call finishes it or fails, but not on
//! CKR_BUFFER_TOO_SMALL nor on a length query (NULL output buffer): the
//! output length is known before any input is consumed, so those calls
//! leave the operation untouched.
//!
//! Per-use authentication (PKCS#11 3.0 §4.9, CKA_ALWAYS_AUTHENTICATE): an
//! operation started by C_SignInit, C_SignRecoverInit or C_DecryptInit on a
//! private key with
//! CKA_ALWAYS_AUTHENTICATE=TRUE waits for C_Login(CKU_CONTEXT_SPECIFIC)
//! with the user's PIN ([`SoftSession::crypto_context_login`]). Until then
//! every call that goes on with it (length queries included, as in
//! SoftHSMv2) answers CKR_USER_NOT_LOGGED_IN and, being an error, ends it
//! (§5.13: an error from C_Sign or C_SignUpdate ends the operation). The
//! authentication lasts until that one operation ends; the next Init asks
//! again. Sign (with or without recovery) and decrypt are the spec's "use
//! (sign or decrypt)": C_UnwrapKey and C_DeriveKey have no Init for a
//! C_Login to follow, so they take no per-use PIN (as in SoftHSMv2).

use cryptoki_sys::*;

use crate::backend::soft::session::SoftSession;
use crate::backend::soft::token::Login;
use crate::backend::{Mechanism, Output};
use crate::config::Config;
use crate::error::{Result, Rv};
use crate::mechanisms::{self, CipherOp, DigestOp, KeyedStart, RecoverOp, SignOp, VerifyOp};
use crate::object::Attributes;

/// The operations active in one session, at most one of each kind.
#[derive(Default)]
pub struct Operations {
    digest: Option<Active<dyn DigestOp>>,
    sign: Option<Active<dyn SignOp>>,
    verify: Option<Active<dyn VerifyOp>>,
    sign_recover: Option<Active<dyn SignOp>>,
    verify_recover: Option<Active<dyn RecoverOp>>,
    encrypt: Option<Active<dyn CipherOp>>,
    decrypt: Option<Active<dyn CipherOp>>,
}

/// One active operation. `private`: its key is a private object, so the
/// operation ends, unused, once the user has logged out. `awaiting_login`:
/// its key has CKA_ALWAYS_AUTHENTICATE and the operation has not yet had
/// its C_Login(CKU_CONTEXT_SPECIFIC).
struct Active<T: ?Sized> {
    private: bool,
    awaiting_login: bool,
    op: Box<T>,
}

impl Operations {
    /// Whether an operation waits for C_Login(CKU_CONTEXT_SPECIFIC).
    fn awaiting_login(&self) -> bool {
        fn waits<T: ?Sized>(slot: &Option<Active<T>>) -> bool {
            slot.as_ref().is_some_and(|a| a.awaiting_login)
        }
        waits(&self.digest)
            || waits(&self.sign)
            || waits(&self.verify)
            || waits(&self.sign_recover)
            || waits(&self.verify_recover)
            || waits(&self.encrypt)
            || waits(&self.decrypt)
    }

    /// The user's PIN was given again: every operation waiting for it may
    /// go on, each until it ends.
    fn authenticated(&mut self) {
        fn clear<T: ?Sized>(slot: &mut Option<Active<T>>) {
            if let Some(a) = slot {
                a.awaiting_login = false;
            }
        }
        clear(&mut self.digest);
        clear(&mut self.sign);
        clear(&mut self.verify);
        clear(&mut self.sign_recover);
        clear(&mut self.verify_recover);
        clear(&mut self.encrypt);
        clear(&mut self.decrypt);
    }
}

/// What a key is used for, and the attribute that permits it.
#[derive(Clone, Copy)]
pub(super) enum Usage {
    Sign,
    Verify,
    SignRecover,
    VerifyRecover,
    Encrypt,
    Decrypt,
    Derive,
    Wrap,
    Unwrap,
}

impl Usage {
    fn attribute(self) -> CK_ATTRIBUTE_TYPE {
        match self {
            Usage::Sign => CKA_SIGN,
            Usage::Verify => CKA_VERIFY,
            Usage::SignRecover => CKA_SIGN_RECOVER,
            Usage::VerifyRecover => CKA_VERIFY_RECOVER,
            Usage::Encrypt => CKA_ENCRYPT,
            Usage::Decrypt => CKA_DECRYPT,
            Usage::Derive => CKA_DERIVE,
            Usage::Wrap => CKA_WRAP,
            Usage::Unwrap => CKA_UNWRAP,
        }
    }

    /// The class an asymmetric key must have for this use.
    fn asymmetric_class(self) -> CK_OBJECT_CLASS {
        match self {
            Usage::Sign | Usage::SignRecover | Usage::Decrypt | Usage::Derive | Usage::Unwrap => {
                CKO_PRIVATE_KEY
            }
            Usage::Verify | Usage::VerifyRecover | Usage::Encrypt | Usage::Wrap => CKO_PUBLIC_KEY,
        }
    }
}

/// Run `start` on the key behind `handle` once every common check passed;
/// the operation is marked private when the key is, and awaiting a
/// context-specific login when the key asks for one per use.
fn with_key<T: ?Sized>(
    session: &SoftSession,
    mechanism: &Mechanism,
    handle: CK_OBJECT_HANDLE,
    usage: Usage,
    key_types: &[CK_KEY_TYPE],
    start: impl FnOnce(&Attributes) -> Result<Box<T>>,
) -> Result<Active<T>> {
    use_key(session, mechanism, handle, usage, key_types, |attrs| {
        Ok(Active {
            private: attrs.is_private(),
            awaiting_login: always_authenticate(attrs),
            op: start(attrs)?,
        })
    })
}

/// Run `f` on the key behind `handle` once every common check passed.
pub(super) fn use_key<R>(
    session: &SoftSession,
    mechanism: &Mechanism,
    handle: CK_OBJECT_HANDLE,
    usage: Usage,
    key_types: &[CK_KEY_TYPE],
    f: impl FnOnce(&Attributes) -> Result<R>,
) -> Result<R> {
    let object = session.token().object(handle).map_err(|rv| match rv {
        Rv::OBJECT_HANDLE_INVALID => Rv::KEY_HANDLE_INVALID,
        other => other,
    })?;
    let attrs = object.attrs();
    key_usable(
        &attrs,
        mechanism,
        usage,
        key_types,
        session.token().config(),
    )?;
    f(&attrs)
}

/// The common checks of a key for `usage` with `mechanism`, in the spec's
/// order (see the module's documentation), then the configured policy's say
/// on the key material.
///
/// # Errors
/// CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED,
/// CKR_MECHANISM_INVALID; `mechanisms::key_permitted`'s CKR_KEY_SIZE_RANGE
/// and CKR_PUBLIC_KEY_INVALID.
pub(super) fn key_usable(
    attrs: &Attributes,
    mechanism: &Mechanism,
    usage: Usage,
    key_types: &[CK_KEY_TYPE],
    config: &Config,
) -> Result<()> {
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
    if !mechanism_allowed(attrs, mechanism.kind) {
        return Err(Rv::MECHANISM_INVALID);
    }
    mechanisms::key_permitted(attrs, mechanisms::KeyPolicy::of(config))
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

/// Whether each use of the key needs the user's PIN again (§4.9): a private
/// key with CKA_ALWAYS_AUTHENTICATE=TRUE. Only private keys have the
/// attribute; the policy lets it be TRUE only on a private object.
fn always_authenticate(attrs: &Attributes) -> bool {
    attrs.class() == CKO_PRIVATE_KEY && attrs.flag(CKA_ALWAYS_AUTHENTICATE, false)
}

/// Key types held as CKO_SECRET_KEY objects.
pub(super) fn is_secret_type(key_type: CK_KEY_TYPE) -> bool {
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
fn begin<T: ?Sized>(
    slot: &mut Option<Active<T>>,
    start: impl FnOnce() -> Result<Active<T>>,
) -> Result<()> {
    if slot.is_some() {
        return Err(Rv::OPERATION_ACTIVE);
    }
    *slot = Some(start()?);
    Ok(())
}

/// The operation in `slot`, if it may go on: none is
/// CKR_OPERATION_NOT_INITIALIZED; one on a private key after the user
/// logged out, or one still awaiting its context-specific login, ends,
/// CKR_USER_NOT_LOGGED_IN.
fn active<T: ?Sized>(slot: &mut Option<Active<T>>, logged_in: bool) -> Result<&mut T> {
    let refused = match slot {
        None => return Err(Rv::OPERATION_NOT_INITIALIZED),
        Some(a) => (a.private && !logged_in) || a.awaiting_login,
    };
    if refused {
        *slot = None;
        return Err(Rv::USER_NOT_LOGGED_IN);
    }
    slot.as_mut().map(|a| &mut *a.op).ok_or(Rv::GENERAL_ERROR)
}

/// Take the operation out of `slot` to finish it (no output).
fn take<T: ?Sized>(slot: &mut Option<Active<T>>, logged_in: bool) -> Result<Box<T>> {
    active(slot, logged_in)?;
    slot.take().map(|a| a.op).ok_or(Rv::GENERAL_ERROR)
}

/// Feed input to the operation in `slot`; an error ends it, and so does a
/// multi-part call on a single-part mechanism (CKM_ECDSA ...), answered
/// CKR_FUNCTION_NOT_SUPPORTED as SoftHSMv2 does.
fn feed<T: ?Sized>(
    slot: &mut Option<Active<T>>,
    logged_in: bool,
    multipart: impl FnOnce(&T) -> bool,
    update: impl FnOnce(&mut T) -> Result<()>,
) -> Result<()> {
    let op = active(slot, logged_in)?;
    let result = if multipart(op) {
        update(op)
    } else {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    };
    if result.is_err() {
        *slot = None;
    }
    result
}

/// Finish the operation in `slot` into `out` under the two-call
/// convention: a length query or a short buffer leave it active (the
/// length `len` reports is known before any input is consumed); otherwise
/// it ends, whatever `run` answers.
fn finish_into<T: ?Sized>(
    slot: &mut Option<Active<T>>,
    logged_in: bool,
    len: impl FnOnce(&T) -> usize,
    out: &mut Output,
    run: impl FnOnce(Box<T>, &mut [u8]) -> Result<usize>,
) -> Result<()> {
    let op = active(slot, logged_in)?;
    let Some(buf) = out.room(len(op))? else {
        return Ok(());
    };
    let op = slot.take().map(|a| a.op).ok_or(Rv::GENERAL_ERROR)?;
    let n = run(op, buf)?;
    out.written(n);
    Ok(())
}

/// A part with output (C_EncryptUpdate, C_DecryptUpdate) under the two-call
/// convention; the operation stays active unless `run` fails.
fn update_into<T: ?Sized>(
    slot: &mut Option<Active<T>>,
    logged_in: bool,
    len: impl FnOnce(&T) -> usize,
    out: &mut Output,
    run: impl FnOnce(&mut T, &mut [u8]) -> Result<usize>,
) -> Result<()> {
    let op = active(slot, logged_in)?;
    let Some(buf) = out.room(len(op))? else {
        return Ok(());
    };
    match run(op, buf) {
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

impl SoftSession {
    /// The table row of a mechanism this token offers: in the table and not
    /// switched off by the configuration (SoftHSM's slots.mechanisms).
    ///
    /// # Errors
    /// CKR_MECHANISM_INVALID.
    pub(super) fn mechanism_entry(
        &self,
        kind: CK_MECHANISM_TYPE,
    ) -> Result<&'static mechanisms::MechanismEntry> {
        let entry = mechanisms::entry(kind)?;
        if !self.token().config().mechanism_enabled(entry.name) {
            return Err(Rv::MECHANISM_INVALID);
        }
        Ok(entry)
    }

    /// The mechanism's capability `pick` selects, or CKR_MECHANISM_INVALID.
    pub(super) fn capability<C: ?Sized + 'static>(
        &self,
        mechanism: &Mechanism,
        pick: impl FnOnce(&mechanisms::Ops) -> Option<&'static C>,
    ) -> Result<&'static C> {
        pick(&self.mechanism_entry(mechanism.kind)?.ops).ok_or(Rv::MECHANISM_INVALID)
    }

    /// Every keyed C_*Init: refuse a second operation of the kind
    /// (`slot`), find the mechanism's capability (`pick`), check the key
    /// for `usage`, start the operation.
    ///
    /// # Errors
    /// CKR_OPERATION_ACTIVE, CKR_MECHANISM_INVALID, `key_usable`'s codes,
    /// and the capability's.
    fn keyed_init<C, Op>(
        &self,
        slot: impl FnOnce(&mut Operations) -> &mut Option<Active<Op>>,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
        usage: Usage,
        pick: impl FnOnce(&mechanisms::Ops) -> Option<&'static C>,
    ) -> Result<()>
    where
        C: ?Sized + KeyedStart<Op> + 'static,
        Op: ?Sized,
    {
        // The operations stay locked through the start, as for every Init.
        let mut ops = self.operations();
        begin(slot(&mut ops), || {
            let capability = self.capability(mechanism, pick)?;
            with_key(self, mechanism, key, usage, capability.key_types(), |k| {
                capability.start_with(&mechanism.param, k)
            })
        })
    }

    /// Whether the user is logged in (operations on private keys need it).
    fn user(&self) -> bool {
        self.token().login_state() == Login::User
    }

    // -- Digest (§5.12) ------------------------------------------------------

    pub(super) fn crypto_digest_init(&self, mechanism: &Mechanism) -> Result<()> {
        begin(&mut self.operations().digest, || {
            let digest = self.capability(mechanism, |o| o.digest)?;
            Ok(Active {
                private: false,
                awaiting_login: false,
                op: digest.start(&mechanism.param)?,
            })
        })
    }

    pub(super) fn crypto_digest(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().digest;
        finish_into(
            slot,
            user,
            |op| op.output_len(),
            out,
            |mut op, buf| {
                op.update(data)?;
                op.finish(buf)
            },
        )
    }

    pub(super) fn crypto_digest_update(&self, data: &[u8]) -> Result<()> {
        let user = self.user();
        feed(
            &mut self.operations().digest,
            user,
            |_| true,
            |op| op.update(data),
        )
    }

    /// C_DigestKey: only a secret key's value can be digested; any other
    /// object is CKR_KEY_INDIGESTIBLE (as SoftHSMv2). Digesting a private
    /// key object makes the digest private: it ends at logout. Either way
    /// the digest's state can no longer be saved (`opstate.rs`).
    pub(super) fn crypto_digest_key(&self, key: CK_OBJECT_HANDLE) -> Result<()> {
        let user = self.user();
        let mut ops = self.operations();
        active(&mut ops.digest, user)?;
        let value = self
            .token()
            .object(key)
            .map_err(|_| Rv::KEY_HANDLE_INVALID)
            .and_then(|o| {
                let attrs = o.attrs();
                if attrs.class() != CKO_SECRET_KEY {
                    return Err(Rv::KEY_INDIGESTIBLE);
                }
                let value =
                    mechanisms::key_value(&attrs, CKA_VALUE).map_err(|_| Rv::KEY_INDIGESTIBLE)?;
                Ok((value, attrs.is_private()))
            });
        match value {
            Ok((v, private)) => {
                if let Some(a) = ops.digest.as_mut() {
                    a.private |= private;
                }
                feed(
                    &mut ops.digest,
                    user,
                    |_| true,
                    |op| op.update_secret(v.as_slice()),
                )
            }
            Err(rv) => {
                ops.digest = None;
                Err(rv)
            }
        }
    }

    pub(super) fn crypto_digest_final(&self, out: &mut Output) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().digest;
        finish_into(
            slot,
            user,
            |op| op.output_len(),
            out,
            |op, buf| op.finish(buf),
        )
    }

    // -- Sign (§5.13) --------------------------------------------------------

    pub(super) fn crypto_sign_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(|o| &mut o.sign, mechanism, key, Usage::Sign, |o| o.sign)
    }

    pub(super) fn crypto_sign(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.sign_once(|o| &mut o.sign, data, out)
    }

    /// A single-part signature (C_Sign, C_SignRecover) by the operation in
    /// `slot`.
    fn sign_once(
        &self,
        slot: impl FnOnce(&mut Operations) -> &mut Option<Active<dyn SignOp>>,
        data: &[u8],
        out: &mut Output,
    ) -> Result<()> {
        let user = self.user();
        let mut ops = self.operations();
        finish_into(
            slot(&mut ops),
            user,
            |op| op.signature_len(),
            out,
            |mut op, buf| {
                op.update(data)?;
                op.finish(buf)
            },
        )
    }

    pub(super) fn crypto_sign_update(&self, data: &[u8]) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().sign;
        feed(slot, user, |op| op.multipart(), |op| op.update(data))
    }

    pub(super) fn crypto_sign_final(&self, out: &mut Output) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().sign;
        finish_into(
            slot,
            user,
            |op| op.signature_len(),
            out,
            |op, buf| op.finish(buf),
        )
    }

    // -- Verify (§5.14) ------------------------------------------------------

    pub(super) fn crypto_verify_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(
            |o| &mut o.verify,
            mechanism,
            key,
            Usage::Verify,
            |o| o.verify,
        )
    }

    pub(super) fn crypto_verify(&self, data: &[u8], signature: &[u8]) -> Result<()> {
        let user = self.user();
        let mut op = take(&mut self.operations().verify, user)?;
        op.update(data)?;
        op.finish(signature)
    }

    pub(super) fn crypto_verify_update(&self, data: &[u8]) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().verify;
        feed(slot, user, |op| op.multipart(), |op| op.update(data))
    }

    pub(super) fn crypto_verify_final(&self, signature: &[u8]) -> Result<()> {
        let user = self.user();
        take(&mut self.operations().verify, user)?.finish(signature)
    }

    // -- Encrypt and decrypt (§5.8, §5.10) -----------------------------------

    pub(super) fn crypto_encrypt_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(
            |o| &mut o.encrypt,
            mechanism,
            key,
            Usage::Encrypt,
            |o| o.encrypt,
        )
    }

    pub(super) fn crypto_decrypt_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(
            |o| &mut o.decrypt,
            mechanism,
            key,
            Usage::Decrypt,
            |o| o.decrypt,
        )
    }

    pub(super) fn crypto_cipher(&self, encrypt: bool, data: &[u8], out: &mut Output) -> Result<()> {
        let user = self.user();
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        finish_into(
            slot,
            user,
            |op| op.oneshot_len(data.len()),
            out,
            |op, buf| op.oneshot(data, buf),
        )
    }

    pub(super) fn crypto_cipher_update(
        &self,
        encrypt: bool,
        data: &[u8],
        out: &mut Output,
    ) -> Result<()> {
        let user = self.user();
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        update_into(
            slot,
            user,
            |op| op.update_len(data.len()),
            out,
            |op, buf| op.update(data, buf),
        )
    }

    pub(super) fn crypto_cipher_final(&self, encrypt: bool, out: &mut Output) -> Result<()> {
        let user = self.user();
        let mut ops = self.operations();
        let slot = cipher_slot(&mut ops, encrypt);
        finish_into(
            slot,
            user,
            |op| op.final_len(),
            out,
            |op, buf| op.finish(buf),
        )
    }
}

impl SoftSession {
    /// C_SignRecoverInit (3.0 §5.13): single-part signatures that carry
    /// their data, for the rows with CKF_SIGN_RECOVER; the key needs
    /// CKA_SIGN_RECOVER.
    pub(super) fn crypto_sign_recover_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(
            |o| &mut o.sign_recover,
            mechanism,
            key,
            Usage::SignRecover,
            |o| o.sign_recover,
        )
    }

    /// C_SignRecover.
    pub(super) fn crypto_sign_recover(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.sign_once(|o| &mut o.sign_recover, data, out)
    }

    /// C_VerifyRecoverInit (3.0 §5.14); the key needs CKA_VERIFY_RECOVER.
    pub(super) fn crypto_verify_recover_init(
        &self,
        mechanism: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.keyed_init(
            |o| &mut o.verify_recover,
            mechanism,
            key,
            Usage::VerifyRecover,
            |o| o.verify_recover,
        )
    }

    /// C_VerifyRecover: the data on success, the two-call convention for
    /// its length (an upper bound before the signature is checked).
    pub(super) fn crypto_verify_recover(&self, signature: &[u8], out: &mut Output) -> Result<()> {
        let user = self.user();
        let slot = &mut self.operations().verify_recover;
        finish_into(
            slot,
            user,
            |op| op.output_len(),
            out,
            |op, buf| op.recover(signature, buf),
        )
    }

    /// C_Login with CKU_CONTEXT_SPECIFIC (PKCS#11 3.0 §5.6, and §4.9 on
    /// CKA_ALWAYS_AUTHENTICATE): the user's PIN, given after C_SignInit or
    /// C_DecryptInit with a key that asks for it on each use, lets that
    /// operation go on until it ends. The PIN is always the user's: only
    /// the user sees private keys (SoftHSMv2 checks whoever is logged in,
    /// which comes to the same). A session with two such operations (a
    /// signature and a decryption) has both let go by one login. The
    /// session state does not change.
    ///
    /// # Errors
    /// CKR_USER_NOT_LOGGED_IN when the user is not logged in;
    /// CKR_OPERATION_NOT_INITIALIZED when no operation of this session
    /// waits for it (none active, or its key lacks CKA_ALWAYS_AUTHENTICATE,
    /// or it was given already), the operations untouched;
    /// `Token::reauthenticate`'s CKR_PIN_INCORRECT (the operation still
    /// waits) and CKR_PIN_LOCKED (the user is logged out).
    pub(super) fn crypto_context_login(&self, pin: &[u8]) -> Result<()> {
        match self.token().login_state() {
            Login::User => {}
            Login::Public => return Err(Rv::USER_NOT_LOGGED_IN),
            // The SO sees no private key, so nothing can wait.
            Login::So => return Err(Rv::OPERATION_NOT_INITIALIZED),
        }
        // Held through the PIN check, so the PIN goes to the operations
        // that were waiting when it was asked for, and to no later one.
        let mut ops = self.operations();
        if !ops.awaiting_login() {
            return Err(Rv::OPERATION_NOT_INITIALIZED);
        }
        self.token().reauthenticate(pin)?;
        ops.authenticated();
        Ok(())
    }

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
        if flags & CKF_SIGN_RECOVER != 0 {
            ops.sign_recover = None;
        }
        if flags & CKF_VERIFY_RECOVER != 0 {
            ops.verify_recover = None;
        }
    }
}

fn cipher_slot(ops: &mut Operations, encrypt: bool) -> &mut Option<Active<dyn CipherOp>> {
    if encrypt {
        &mut ops.encrypt
    } else {
        &mut ops.decrypt
    }
}

#[path = "opstate.rs"]
mod opstate;

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
