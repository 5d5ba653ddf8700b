//! A session on a forwarded slot: every `Session` method is the same call on
//! the HSM's session. Object handles pass through unchanged (they are the
//! HSM's, valid in its sessions); login state, operation state and the
//! objects themselves are the HSM's.

use std::ptr::null_mut;

use cryptoki_sys::*;

use super::module::{call, Remote};
use super::raw::{self, RawTemplate};
use crate::backend::{AttrQuery, Mechanism, Output, Session, Template};
use crate::error::Result;

/// Handles asked of the HSM per C_FindObjects call: a client's maximum is
/// served in chunks of this many, so a huge maximum allocates nothing big.
const FIND_CHUNK: usize = 256;

/// A session on a forwarded slot: the HSM slot and the HSM's session handle
/// (ProzHSM's own handle for it is the core's).
pub struct ForwardSession {
    remote: Remote,
    handle: CK_SESSION_HANDLE,
}

impl ForwardSession {
    /// A session the HSM opened as `handle` on `remote`.
    pub fn new(remote: Remote, handle: CK_SESSION_HANDLE) -> ForwardSession {
        ForwardSession { remote, handle }
    }
}

/// A byte slice the module only reads, as the `*mut` the C prototypes take.
fn bytes(b: &[u8]) -> (*mut u8, CK_ULONG) {
    (b.as_ptr().cast_mut(), b.len() as CK_ULONG)
}

impl Session for ForwardSession {
    fn info(&self) -> Result<CK_SESSION_INFO> {
        let mut info = CK_SESSION_INFO::default();
        call!(&self.remote, C_GetSessionInfo(self.handle, &mut info))?;
        Ok(info)
    }

    fn close(&self) -> Result<()> {
        call!(&self.remote, C_CloseSession(self.handle))
    }

    fn login(&self, user: CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        let (p, n) = bytes(pin);
        call!(&self.remote, C_Login(self.handle, user, p, n))
    }

    fn login_user(&self, user: CK_USER_TYPE, pin: &[u8], username: &[u8]) -> Result<()> {
        let (p, n) = bytes(pin);
        let (u, un) = bytes(username);
        call!(&self.remote, v3 C_LoginUser(self.handle, user, p, n, u, un))
    }

    fn logout(&self) -> Result<()> {
        call!(&self.remote, C_Logout(self.handle))
    }

    fn init_pin(&self, pin: &[u8]) -> Result<()> {
        let (p, n) = bytes(pin);
        call!(&self.remote, C_InitPIN(self.handle, p, n))
    }

    fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()> {
        let (o, on) = bytes(old);
        let (p, n) = bytes(new);
        call!(&self.remote, C_SetPIN(self.handle, o, on, p, n))
    }

    fn session_cancel(&self, flags: CK_FLAGS) -> Result<()> {
        call!(&self.remote, v3 C_SessionCancel(self.handle, flags))
    }

    fn operation_state(&self, out: &mut Output) -> Result<()> {
        raw::output(out, |p, n| {
            call!(&self.remote, C_GetOperationState(self.handle, p, n))
        })
    }

    fn set_operation_state(
        &self,
        state: &[u8],
        enc_key: CK_OBJECT_HANDLE,
        auth_key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let (s, n) = bytes(state);
        call!(
            &self.remote,
            C_SetOperationState(self.handle, s, n, enc_key, auth_key)
        )
    }

    fn create_object(&self, template: &Template) -> Result<CK_OBJECT_HANDLE> {
        let t = RawTemplate::new(template)?;
        let mut object = CK_INVALID_HANDLE;
        call!(
            &self.remote,
            C_CreateObject(self.handle, t.ptr(), t.count(), &mut object)
        )?;
        Ok(object)
    }

    fn copy_object(
        &self,
        object: CK_OBJECT_HANDLE,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let t = RawTemplate::new(template)?;
        let mut copy = CK_INVALID_HANDLE;
        call!(
            &self.remote,
            C_CopyObject(self.handle, object, t.ptr(), t.count(), &mut copy)
        )?;
        Ok(copy)
    }

    fn destroy_object(&self, object: CK_OBJECT_HANDLE) -> Result<()> {
        call!(&self.remote, C_DestroyObject(self.handle, object))
    }

    fn object_size(&self, object: CK_OBJECT_HANDLE) -> Result<CK_ULONG> {
        let mut size: CK_ULONG = 0;
        call!(
            &self.remote,
            C_GetObjectSize(self.handle, object, &mut size)
        )?;
        Ok(size)
    }

    /// The whole template goes to the HSM at once with the client's own
    /// buffers and sizes (an attribute array's buffer is the client's
    /// CK_ATTRIBUTE array, so nested values land in the client's memory
    /// too); each attribute's length and the HSM's code come back as they
    /// are.
    fn get_attributes(&self, object: CK_OBJECT_HANDLE, query: &mut [AttrQuery]) -> Result<()> {
        let mut template: Vec<CK_ATTRIBUTE> = query
            .iter_mut()
            .map(|q| {
                let (p, n) = match q.buf.as_deref_mut() {
                    Some(b) => (b.as_mut_ptr().cast(), b.len() as CK_ULONG),
                    None => (null_mut(), 0),
                };
                CK_ATTRIBUTE {
                    type_: q.kind,
                    pValue: p,
                    ulValueLen: n,
                }
            })
            .collect();
        let (p, n) = (template.as_mut_ptr(), template.len() as CK_ULONG);
        let result = call!(&self.remote, C_GetAttributeValue(self.handle, object, p, n));
        for (q, a) in query.iter_mut().zip(&template) {
            q.len = a.ulValueLen;
        }
        result
    }

    fn set_attributes(&self, object: CK_OBJECT_HANDLE, template: &Template) -> Result<()> {
        let t = RawTemplate::new(template)?;
        call!(
            &self.remote,
            C_SetAttributeValue(self.handle, object, t.ptr(), t.count())
        )
    }

    fn find_init(&self, template: &Template) -> Result<()> {
        let t = RawTemplate::new(template)?;
        call!(
            &self.remote,
            C_FindObjectsInit(self.handle, t.ptr(), t.count())
        )
    }

    /// Serves `max` in chunks of [`FIND_CHUNK`], until `max` or the HSM's
    /// last match.
    fn find(&self, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>> {
        let mut found: Vec<CK_OBJECT_HANDLE> = Vec::new();
        while found.len() < max {
            let want = (max - found.len()).min(FIND_CHUNK);
            let start = found.len();
            found.resize(start + want, CK_INVALID_HANDLE);
            let mut n: CK_ULONG = 0;
            let p = found[start..].as_mut_ptr();
            call!(
                &self.remote,
                C_FindObjects(self.handle, p, want as CK_ULONG, &mut n)
            )?;
            let n = (n as usize).min(want);
            found.truncate(start + n);
            if n < want {
                break;
            }
        }
        Ok(found)
    }

    fn find_final(&self) -> Result<()> {
        call!(&self.remote, C_FindObjectsFinal(self.handle))
    }

    fn encrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_EncryptInit(self.handle, &mut m, key))
    }

    fn encrypt(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_Encrypt(self.handle, d, dn, p, n))
        })
    }

    fn encrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_EncryptUpdate(self.handle, d, dn, p, n))
        })
    }

    fn encrypt_final(&self, out: &mut Output) -> Result<()> {
        raw::output(out, |p, n| {
            call!(&self.remote, C_EncryptFinal(self.handle, p, n))
        })
    }

    fn decrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_DecryptInit(self.handle, &mut m, key))
    }

    fn decrypt(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_Decrypt(self.handle, d, dn, p, n))
        })
    }

    fn decrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_DecryptUpdate(self.handle, d, dn, p, n))
        })
    }

    fn decrypt_final(&self, out: &mut Output) -> Result<()> {
        raw::output(out, |p, n| {
            call!(&self.remote, C_DecryptFinal(self.handle, p, n))
        })
    }

    fn digest_init(&self, mechanism: &Mechanism) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_DigestInit(self.handle, &mut m))
    }

    fn digest(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_Digest(self.handle, d, dn, p, n))
        })
    }

    fn digest_update(&self, data: &[u8]) -> Result<()> {
        let (d, dn) = bytes(data);
        call!(&self.remote, C_DigestUpdate(self.handle, d, dn))
    }

    fn digest_key(&self, key: CK_OBJECT_HANDLE) -> Result<()> {
        call!(&self.remote, C_DigestKey(self.handle, key))
    }

    fn digest_final(&self, out: &mut Output) -> Result<()> {
        raw::output(out, |p, n| {
            call!(&self.remote, C_DigestFinal(self.handle, p, n))
        })
    }

    fn sign_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_SignInit(self.handle, &mut m, key))
    }

    fn sign(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_Sign(self.handle, d, dn, p, n))
        })
    }

    fn sign_update(&self, data: &[u8]) -> Result<()> {
        let (d, dn) = bytes(data);
        call!(&self.remote, C_SignUpdate(self.handle, d, dn))
    }

    fn sign_final(&self, out: &mut Output) -> Result<()> {
        raw::output(out, |p, n| {
            call!(&self.remote, C_SignFinal(self.handle, p, n))
        })
    }

    fn sign_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_SignRecoverInit(self.handle, &mut m, key))
    }

    fn sign_recover(&self, data: &[u8], out: &mut Output) -> Result<()> {
        let (d, dn) = bytes(data);
        raw::output(out, |p, n| {
            call!(&self.remote, C_SignRecover(self.handle, d, dn, p, n))
        })
    }

    fn verify_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_VerifyInit(self.handle, &mut m, key))
    }

    fn verify(&self, data: &[u8], signature: &[u8]) -> Result<()> {
        let (d, dn) = bytes(data);
        let (s, sn) = bytes(signature);
        call!(&self.remote, C_Verify(self.handle, d, dn, s, sn))
    }

    fn verify_update(&self, data: &[u8]) -> Result<()> {
        let (d, dn) = bytes(data);
        call!(&self.remote, C_VerifyUpdate(self.handle, d, dn))
    }

    fn verify_final(&self, signature: &[u8]) -> Result<()> {
        let (s, sn) = bytes(signature);
        call!(&self.remote, C_VerifyFinal(self.handle, s, sn))
    }

    fn verify_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        call!(&self.remote, C_VerifyRecoverInit(self.handle, &mut m, key))
    }

    fn verify_recover(&self, signature: &[u8], out: &mut Output) -> Result<()> {
        let (s, sn) = bytes(signature);
        raw::output(out, |p, n| {
            call!(&self.remote, C_VerifyRecover(self.handle, s, sn, p, n))
        })
    }

    fn generate_key(&self, mechanism: &Mechanism, template: &Template) -> Result<CK_OBJECT_HANDLE> {
        let mut m = raw::mechanism(mechanism)?;
        let t = RawTemplate::new(template)?;
        let mut key = CK_INVALID_HANDLE;
        call!(
            &self.remote,
            C_GenerateKey(self.handle, &mut m, t.ptr(), t.count(), &mut key)
        )?;
        Ok(key)
    }

    fn generate_key_pair(
        &self,
        mechanism: &Mechanism,
        public: &Template,
        private: &Template,
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        let mut m = raw::mechanism(mechanism)?;
        let pt = RawTemplate::new(public)?;
        let st = RawTemplate::new(private)?;
        let (mut pk, mut sk) = (CK_INVALID_HANDLE, CK_INVALID_HANDLE);
        call!(
            &self.remote,
            C_GenerateKeyPair(
                self.handle,
                &mut m,
                pt.ptr(),
                pt.count(),
                st.ptr(),
                st.count(),
                &mut pk,
                &mut sk,
            )
        )?;
        Ok((pk, sk))
    }

    fn wrap_key(
        &self,
        mechanism: &Mechanism,
        wrapping_key: CK_OBJECT_HANDLE,
        key: CK_OBJECT_HANDLE,
        out: &mut Output,
    ) -> Result<()> {
        let mut m = raw::mechanism(mechanism)?;
        raw::output(out, |p, n| {
            call!(
                &self.remote,
                C_WrapKey(self.handle, &mut m, wrapping_key, key, p, n)
            )
        })
    }

    fn unwrap_key(
        &self,
        mechanism: &Mechanism,
        unwrapping_key: CK_OBJECT_HANDLE,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let mut m = raw::mechanism(mechanism)?;
        let (w, wn) = bytes(wrapped);
        let t = RawTemplate::new(template)?;
        let mut key = CK_INVALID_HANDLE;
        call!(
            &self.remote,
            C_UnwrapKey(
                self.handle,
                &mut m,
                unwrapping_key,
                w,
                wn,
                t.ptr(),
                t.count(),
                &mut key
            )
        )?;
        Ok(key)
    }

    fn derive_key(
        &self,
        mechanism: &Mechanism,
        base_key: CK_OBJECT_HANDLE,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let mut m = raw::mechanism(mechanism)?;
        let t = RawTemplate::new(template)?;
        let mut key = CK_INVALID_HANDLE;
        call!(
            &self.remote,
            C_DeriveKey(self.handle, &mut m, base_key, t.ptr(), t.count(), &mut key)
        )?;
        Ok(key)
    }

    fn seed_random(&self, seed: &[u8]) -> Result<()> {
        let (s, n) = bytes(seed);
        call!(&self.remote, C_SeedRandom(self.handle, s, n))
    }

    fn generate_random(&self, out: &mut [u8]) -> Result<()> {
        let (p, n) = (out.as_mut_ptr(), out.len() as CK_ULONG);
        call!(&self.remote, C_GenerateRandom(self.handle, p, n))
    }
}
