//! AES-GCM with any IV length and a truncated tag, through AWS-LC's
//! `EVP_AEAD` interface (`EVP_aead_aes_{128,192,256}_gcm`).
//!
//! aws-lc-rs's `aead` takes only 96-bit nonces and full 128-bit tags; the C
//! AEAD underneath it takes any non-empty nonce (hashed with GHASH into the
//! initial counter block, NIST SP 800-38D §7.1) and a tag length of 1 to 16
//! bytes fixed when the context is made. `EVP_AEAD` rather than
//! `EVP_CIPHER_CTX`: it seals and opens a whole message in one call, with
//! the tag length bound to the key, so no call order of `EVP_CTRL_GCM_*`
//! controls can go wrong. Which IV and tag lengths PKCS#11 and the token's
//! policy accept is decided by the caller (`mechanisms::aes`), not here.
//!
//! [`GcmKey`] owns its `EVP_AEAD_CTX` (AES key schedule and GHASH key
//! inside) and frees it on drop; `EVP_AEAD_CTX_free` releases it through
//! `OPENSSL_free`, which wipes it first.

use std::ptr::NonNull;

use aws_lc_sys::{
    EVP_AEAD_CTX_free, EVP_AEAD_CTX_new, EVP_AEAD_CTX_open, EVP_AEAD_CTX_seal,
    EVP_aead_aes_128_gcm, EVP_aead_aes_192_gcm, EVP_aead_aes_256_gcm, EVP_AEAD_CTX,
};

use super::clear_errors;
use crate::error::{Result, Rv};
use crate::secure::SecretBytes;

/// The longest GCM tag, in bytes.
const MAX_TAG_LEN: usize = 16;

/// An AES-GCM key with its tag length, ready to seal and open whole
/// messages.
pub(crate) struct GcmKey {
    ctx: NonNull<EVP_AEAD_CTX>,
    tag_len: usize,
}

// SAFETY: the context is owned by this value alone and AWS-LC gives it no
// thread affinity; `seal` and `open_in_place` only read it (AWS-LC takes it
// as `const`), so moving it to another thread is sound.
unsafe impl Send for GcmKey {}

impl GcmKey {
    /// A context for `key` (16, 24 or 32 bytes: AES-128/192/256) producing
    /// and checking tags of `tag_len` bytes. The key bytes are copied from
    /// the secret buffer into the context and nowhere else.
    ///
    /// # Errors
    /// CKR_KEY_SIZE_RANGE for another key length; CKR_MECHANISM_PARAM_INVALID
    /// for a tag length outside 1..=16; CKR_HOST_MEMORY when AWS-LC cannot
    /// allocate the context.
    pub(crate) fn new(key: &SecretBytes, tag_len: usize) -> Result<GcmKey> {
        // SAFETY: the EVP_aead_* functions return pointers to static
        // method tables and take no arguments.
        let aead = unsafe {
            match key.len() {
                16 => EVP_aead_aes_128_gcm(),
                24 => EVP_aead_aes_192_gcm(),
                32 => EVP_aead_aes_256_gcm(),
                _ => return Err(Rv::KEY_SIZE_RANGE),
            }
        };
        if !(1..=MAX_TAG_LEN).contains(&tag_len) {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let bytes = key.as_slice();
        // SAFETY: `aead` is a valid static table, `bytes` is readable for
        // its length for the duration of the call (AWS-LC copies it into
        // the new context), and `tag_len` is within the AEAD's maximum.
        let ctx = unsafe { EVP_AEAD_CTX_new(aead, bytes.as_ptr(), bytes.len(), tag_len) };
        match NonNull::new(ctx) {
            Some(ctx) => Ok(GcmKey { ctx, tag_len }),
            None => {
                clear_errors();
                Err(Rv::HOST_MEMORY)
            }
        }
    }

    /// GCM-AE (NIST SP 800-38D §7.1): encrypt `plain` under `nonce` with
    /// `aad` authenticated, writing ciphertext || tag (PKCS#11's output
    /// layout, 3.0 Current Mechanisms §2.13.2) to the start of `out`;
    /// returns the bytes written (`plain.len() + tag_len`).
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID for an empty nonce; CKR_BUFFER_TOO_SMALL
    /// when `out` is shorter than the output; CKR_DATA_LEN_RANGE past GCM's
    /// limit of 2^36 - 32 bytes of plaintext (AWS-LC refuses it).
    pub(crate) fn seal(
        &self,
        nonce: &[u8],
        aad: &[u8],
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        if nonce.is_empty() {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let need = plain
            .len()
            .checked_add(self.tag_len)
            .ok_or(Rv::DATA_LEN_RANGE)?;
        if out.len() < need {
            return Err(Rv::BUFFER_TOO_SMALL);
        }
        let mut written = 0usize;
        // SAFETY: the context is live (owned by `self`); every pointer comes
        // from a slice valid for the length passed with it; `out` is a
        // distinct `&mut` borrow, so it cannot alias `plain` (AWS-LC refuses
        // partial aliasing anyway); `written` outlives the call.
        let ok = unsafe {
            EVP_AEAD_CTX_seal(
                self.ctx.as_ptr(),
                out.as_mut_ptr(),
                &mut written,
                out.len(),
                nonce.as_ptr(),
                nonce.len(),
                plain.as_ptr(),
                plain.len(),
                aad.as_ptr(),
                aad.len(),
            )
        };
        if ok != 1 || written != need {
            clear_errors();
            return Err(Rv::DATA_LEN_RANGE);
        }
        Ok(written)
    }

    /// GCM-AD (NIST SP 800-38D §7.2): check and decrypt ciphertext || tag
    /// in place; on success the first returned-length bytes of `data` are
    /// the plaintext. On failure `data` is zeroed (by AWS-LC, and again
    /// here), so no unauthenticated plaintext stays behind.
    ///
    /// # Errors
    /// CKR_ENCRYPTED_DATA_LEN_RANGE when `data` is shorter than the tag;
    /// CKR_ENCRYPTED_DATA_INVALID when the tag does not match (wrong key,
    /// nonce, AAD, ciphertext or tag) or the nonce is empty.
    pub(crate) fn open_in_place(&self, nonce: &[u8], aad: &[u8], data: &mut [u8]) -> Result<usize> {
        if data.len() < self.tag_len {
            return Err(Rv::ENCRYPTED_DATA_LEN_RANGE);
        }
        if nonce.is_empty() {
            return Err(Rv::ENCRYPTED_DATA_INVALID);
        }
        let mut written = 0usize;
        let len = data.len();
        let p = data.as_mut_ptr();
        // SAFETY: the context is live (owned by `self`); `p` is valid for
        // reads and writes of `len` bytes; input and output are the same
        // buffer exactly, the one aliasing AWS-LC allows (in place); nonce
        // and AAD are slices valid for their lengths; `written` outlives the
        // call.
        let ok = unsafe {
            EVP_AEAD_CTX_open(
                self.ctx.as_ptr(),
                p,
                &mut written,
                len,
                nonce.as_ptr(),
                nonce.len(),
                p,
                len,
                aad.as_ptr(),
                aad.len(),
            )
        };
        if ok != 1 || written != len - self.tag_len {
            clear_errors();
            data.fill(0);
            return Err(Rv::ENCRYPTED_DATA_INVALID);
        }
        Ok(written)
    }
}

impl Drop for GcmKey {
    fn drop(&mut self) {
        // SAFETY: the context came from EVP_AEAD_CTX_new, is owned by this
        // value alone and is freed exactly once, here.
        unsafe { EVP_AEAD_CTX_free(self.ctx.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(len: usize) -> SecretBytes {
        SecretBytes::from_slice(&vec![7u8; len])
    }

    #[test]
    fn round_trip_and_tamper() {
        for (klen, nonce_len, tag_len) in [(16, 1, 12), (24, 16, 13), (32, 60, 16)] {
            let k = GcmKey::new(&key(klen), tag_len).expect("context");
            let nonce = vec![3u8; nonce_len];
            let mut sealed = vec![0u8; 5 + tag_len];
            let n = k
                .seal(&nonce, b"aad", b"hello", &mut sealed)
                .expect("seals");
            assert_eq!(n, 5 + tag_len);
            let mut data = sealed.clone();
            assert_eq!(k.open_in_place(&nonce, b"aad", &mut data), Ok(5));
            assert_eq!(&data[..5], b"hello");
            let mut data = sealed.clone();
            assert_eq!(
                k.open_in_place(&nonce, b"aaD", &mut data),
                Err(Rv::ENCRYPTED_DATA_INVALID)
            );
            assert!(data.iter().all(|b| *b == 0), "nothing released");
        }
    }

    #[test]
    fn refusals() {
        assert!(matches!(GcmKey::new(&key(20), 16), Err(Rv::KEY_SIZE_RANGE)));
        assert!(matches!(
            GcmKey::new(&key(16), 0),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
        assert!(matches!(
            GcmKey::new(&key(16), 17),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
        let k = GcmKey::new(&key(16), 16).expect("context");
        let mut out = [0u8; 20];
        assert_eq!(
            k.seal(&[], b"", b"abcd", &mut out),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
        assert_eq!(
            k.seal(&[1], b"", b"abcde", &mut out),
            Err(Rv::BUFFER_TOO_SMALL)
        );
        let mut short = [0u8; 15];
        assert_eq!(
            k.open_in_place(&[1], b"", &mut short),
            Err(Rv::ENCRYPTED_DATA_LEN_RANGE)
        );
    }
}
