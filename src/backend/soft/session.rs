//! A session on a software token: the object functions, login routing, and
//! the state of the session's find operation. Cryptographic operations live
//! in `crypto.rs`.

use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::Mutex;

use crate::backend::soft::crypto::Operations;
use crate::backend::soft::objects::Caller;
use crate::backend::soft::token::{Login, Token};
use crate::backend::{AttrQuery, Mechanism, Output, Session, Template};
use crate::config::Rule;
use crate::error::{Result, Rv};
use crate::mechanisms;
use crate::object::policy::{self, Actor, Hardening};
use crate::secure::aead;

/// A session on a software token.
pub struct SoftSession {
    handle: CK_SESSION_HANDLE,
    rw: bool,
    token: Arc<Token>,
    /// The active find: the remaining matches, in handle order.
    find: Mutex<Option<std::vec::IntoIter<CK_OBJECT_HANDLE>>>,
    /// The active cryptographic operations (`crypto.rs`).
    ops: Mutex<Operations>,
}

impl SoftSession {
    /// A new session; the token has already counted it.
    pub fn new(handle: CK_SESSION_HANDLE, rw: bool, token: Arc<Token>) -> SoftSession {
        SoftSession {
            handle,
            rw,
            token,
            find: Mutex::new(None),
            ops: Mutex::new(Operations::default()),
        }
    }

    /// The token this session is on.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// This session as an object-operation caller.
    pub fn caller(&self) -> Caller {
        Caller {
            session: self.handle,
            rw: self.rw,
        }
    }

    /// The key-management hardening of the configured policy profile.
    pub fn hardening(&self) -> Hardening {
        Hardening {
            separate_wrap_and_decrypt: !self.token.config().allows(Rule::WrapWithDecryptKeys),
            rsa_1024: self.token.config().allows(Rule::Rsa1024),
        }
    }

    /// The session's operation state, locked for one call.
    pub(super) fn operations(&self) -> parking_lot::MutexGuard<'_, Operations> {
        self.ops.lock()
    }

    /// Who is acting, for the attribute policy.
    pub fn actor(&self) -> Actor {
        Actor {
            so: self.token.login_state() == Login::So,
            hardening: self.hardening(),
        }
    }
}

impl Session for SoftSession {
    fn info(&self) -> Result<CK_SESSION_INFO> {
        let state = match (self.token.login_state(), self.rw) {
            (Login::Public, false) => CKS_RO_PUBLIC_SESSION,
            (Login::Public, true) => CKS_RW_PUBLIC_SESSION,
            (Login::User, false) => CKS_RO_USER_FUNCTIONS,
            (Login::User, true) => CKS_RW_USER_FUNCTIONS,
            (Login::So, _) => CKS_RW_SO_FUNCTIONS,
        };
        Ok(CK_SESSION_INFO {
            slotID: 0,
            state,
            flags: CKF_SERIAL_SESSION | if self.rw { CKF_RW_SESSION } else { 0 },
            ulDeviceError: 0,
        })
    }

    fn close(&self) -> Result<()> {
        self.token.drop_session_objects(self.handle);
        self.token.session_closed(self.rw);
        Ok(())
    }

    /// CKU_CONTEXT_SPECIFIC concerns this session's operations
    /// (`crypto.rs`); the SO and the user log in to the token.
    fn login(&self, user: CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        if user == CKU_CONTEXT_SPECIFIC {
            return self.crypto_context_login(pin);
        }
        self.token.login(user, pin)
    }

    fn logout(&self) -> Result<()> {
        self.token.logout()
    }

    fn init_pin(&self, pin: &[u8]) -> Result<()> {
        if !self.rw {
            return Err(Rv::SESSION_READ_ONLY);
        }
        self.token.init_pin(pin)
    }

    fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()> {
        if !self.rw {
            return Err(Rv::SESSION_READ_ONLY);
        }
        self.token.set_pin(old, new)
    }

    fn create_object(&self, template: &Template) -> Result<CK_OBJECT_HANDLE> {
        let attrs = policy::for_create_with(template, self.actor(), &self.hardening())?;
        mechanisms::check_material(&attrs)?;
        self.token.add_object(self.caller(), attrs)
    }

    fn copy_object(
        &self,
        object: CK_OBJECT_HANDLE,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let source = self.token.current_object(object)?;
        let attrs =
            policy::for_copy_with(&source.attrs(), template, self.actor(), &self.hardening())?;
        self.token.add_object(self.caller(), attrs)
    }

    fn destroy_object(&self, object: CK_OBJECT_HANDLE) -> Result<()> {
        self.token.destroy_object(self.caller(), object)
    }

    fn object_size(&self, object: CK_OBJECT_HANDLE) -> Result<CK_ULONG> {
        Ok(self.token.current_object(object)?.attrs().size() as CK_ULONG)
    }

    /// Fills every entry, then answers with the first problem met, as the
    /// spec allows when several apply (PKCS#11 3.0 §5.7, C_GetAttributeValue).
    fn get_attributes(&self, object: CK_OBJECT_HANDLE, query: &mut [AttrQuery]) -> Result<()> {
        let object = self.token.current_object(object)?;
        let attrs = object.attrs();
        let mut result = Ok(());
        for q in query.iter_mut() {
            let outcome = policy::read(&attrs, q.kind).and_then(|value| {
                match q.buf.as_deref_mut() {
                    None => {}
                    Some(buf) if buf.len() < value.len() => return Err(Rv::BUFFER_TOO_SMALL),
                    Some(buf) => buf[..value.len()].copy_from_slice(&value),
                }
                q.len = value.len() as CK_ULONG;
                Ok(())
            });
            if let Err(rv) = outcome {
                q.len = CK_UNAVAILABLE_INFORMATION;
                match rv {
                    Rv::ATTRIBUTE_SENSITIVE | Rv::ATTRIBUTE_TYPE_INVALID | Rv::BUFFER_TOO_SMALL => {
                        if result.is_ok() {
                            result = Err(rv);
                        }
                    }
                    other => return Err(other),
                }
            }
        }
        result
    }

    fn set_attributes(&self, object: CK_OBJECT_HANDLE, template: &Template) -> Result<()> {
        let object = self.token.current_object(object)?;
        let attrs =
            policy::for_set_with(&object.attrs(), template, self.actor(), &self.hardening())?;
        self.token.replace_attributes(self.caller(), &object, attrs)
    }

    fn find_init(&self, template: &Template) -> Result<()> {
        let mut find = self.find.lock();
        if find.is_some() {
            return Err(Rv::OPERATION_ACTIVE);
        }
        *find = Some(self.token.find(template)?.into_iter());
        Ok(())
    }

    fn find(&self, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>> {
        let mut find = self.find.lock();
        let remaining = find.as_mut().ok_or(Rv::OPERATION_NOT_INITIALIZED)?;
        Ok(remaining.by_ref().take(max).collect())
    }

    fn find_final(&self) -> Result<()> {
        self.find
            .lock()
            .take()
            .map(drop)
            .ok_or(Rv::OPERATION_NOT_INITIALIZED)
    }

    // Cryptographic operations: `crypto.rs` and `keygen.rs`.

    fn session_cancel(&self, flags: CK_FLAGS) -> Result<()> {
        self.crypto_cancel(flags);
        if flags & CKF_FIND_OBJECTS != 0 {
            *self.find.lock() = None;
        }
        Ok(())
    }

    /// A saved digest only (`opstate.rs`).
    fn operation_state(&self, out: &mut Output) -> Result<()> {
        self.crypto_operation_state(out)
    }

    fn set_operation_state(
        &self,
        state: &[u8],
        enc_key: CK_OBJECT_HANDLE,
        auth_key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        self.crypto_set_operation_state(state, enc_key, auth_key)
    }

    fn digest_init(&self, mechanism: &Mechanism) -> Result<()> {
        self.crypto_digest_init(mechanism)
    }

    fn digest(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_digest(data, out)
    }

    fn digest_update(&self, data: &[u8]) -> Result<()> {
        self.crypto_digest_update(data)
    }

    fn digest_key(&self, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_digest_key(key)
    }

    fn digest_final(&self, out: &mut Output) -> Result<()> {
        self.crypto_digest_final(out)
    }

    fn sign_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_sign_init(mechanism, key)
    }

    fn sign(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_sign(data, out)
    }

    fn sign_update(&self, data: &[u8]) -> Result<()> {
        self.crypto_sign_update(data)
    }

    fn sign_final(&self, out: &mut Output) -> Result<()> {
        self.crypto_sign_final(out)
    }

    fn sign_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_sign_recover_init(mechanism, key)
    }

    fn sign_recover(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_sign_recover(data, out)
    }

    fn verify_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_verify_recover_init(mechanism, key)
    }

    fn verify_recover(&self, signature: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_verify_recover(signature, out)
    }

    fn verify_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_verify_init(mechanism, key)
    }

    fn verify(&self, data: &[u8], signature: &[u8]) -> Result<()> {
        self.crypto_verify(data, signature)
    }

    fn verify_update(&self, data: &[u8]) -> Result<()> {
        self.crypto_verify_update(data)
    }

    fn verify_final(&self, signature: &[u8]) -> Result<()> {
        self.crypto_verify_final(signature)
    }

    fn encrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_encrypt_init(mechanism, key)
    }

    fn encrypt(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_cipher(true, data, out)
    }

    fn encrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_cipher_update(true, data, out)
    }

    fn encrypt_final(&self, out: &mut Output) -> Result<()> {
        self.crypto_cipher_final(true, out)
    }

    fn decrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        self.crypto_decrypt_init(mechanism, key)
    }

    fn decrypt(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_cipher(false, data, out)
    }

    fn decrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()> {
        self.crypto_cipher_update(false, data, out)
    }

    fn decrypt_final(&self, out: &mut Output) -> Result<()> {
        self.crypto_cipher_final(false, out)
    }

    fn generate_key(&self, mechanism: &Mechanism, template: &Template) -> Result<CK_OBJECT_HANDLE> {
        self.crypto_generate_key(mechanism, template)
    }

    fn generate_key_pair(
        &self,
        mechanism: &Mechanism,
        public: &Template,
        private: &Template,
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        self.crypto_generate_key_pair(mechanism, public, private)
    }

    fn derive_key(
        &self,
        mechanism: &Mechanism,
        base_key: CK_OBJECT_HANDLE,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        self.crypto_derive_key(mechanism, base_key, template)
    }

    fn wrap_key(
        &self,
        mechanism: &Mechanism,
        wrapping_key: CK_OBJECT_HANDLE,
        key: CK_OBJECT_HANDLE,
        out: &mut Output,
    ) -> Result<()> {
        self.crypto_wrap_key(mechanism, wrapping_key, key, out)
    }

    fn unwrap_key(
        &self,
        mechanism: &Mechanism,
        unwrapping_key: CK_OBJECT_HANDLE,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        self.crypto_unwrap_key(mechanism, unwrapping_key, wrapped, template)
    }

    /// ProzHSM draws from the OS CSPRNG, which takes no seed.
    fn seed_random(&self, _seed: &[u8]) -> Result<()> {
        Err(Rv::RANDOM_SEED_NOT_SUPPORTED)
    }

    fn generate_random(&self, out: &mut [u8]) -> Result<()> {
        aead::random(out)
    }
}
