//! RSA through AWS-LC's C API: keys built from their components, the raw
//! and padded private and public operations, and generation.
//!
//! # Why the C API
//!
//! aws-lc-rs builds a private key from PKCS#8 only, and then runs
//! RSA_check_key on it (~750 µs for RSA-2048, longer than the signature),
//! refuses keys under 2048 bits, and offers neither the raw operation
//! (CKM_RSA_X_509, PKCS#1 v1.5 over any DigestInfo, sign/verify-recover)
//! nor PSS/OAEP with SHA-224 or with an MGF1 hash unlike the message hash.
//! The same AWS-LC does all of it underneath.
//!
//! # Why skipping RSA_check_key at each use is safe
//!
//! Keys are checked once, when they enter the token (C_CreateObject,
//! C_UnwrapKey: [`RsaKey::is_consistent`]); generated keys are consistent
//! by construction. And AWS-LC verifies every CRT result with the public
//! exponent before releasing it, so even a corrupted stored component gives
//! an error, never a faulty signature that would reveal a prime (the
//! Bellcore attack). Private operations are blinded and constant-time.
//!
//! # Blinding, kept across operations
//!
//! AWS-LC blinds each private operation (the input is multiplied by r^e,
//! the result by r^-1), but it keeps the blinding pair in the RSA object,
//! and a key object here lives for one operation: making a pair costs a
//! constant-time modular inversion, ~400 µs for RSA-2048, more than the
//! signature itself. So the signing and raw decryption paths blind here
//! instead ([`RsaKey::private_transform`]), with pairs kept per modulus in
//! locked memory (`SecretBytes`) and updated as AWS-LC and OpenSSL do:
//! each use squares both halves, and a pair is replaced after
//! [`BLINDING_USES`] uses. A forked child never reuses its parent's pairs.
//! OAEP decryption keeps AWS-LC's own blinding (its padding check runs
//! inside AWS-LC, after the private operation).
//!
//! # Memory
//!
//! Components are copied into AWS-LC BIGNUMs for one operation; RSA_free
//! releases them through OPENSSL_free, which zeroizes each allocation.

use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use aws_lc_sys as sys;

use super::{clear_errors, BigNum};
use crate::error::{Result, Rv};
use crate::mechanisms::digest::Hash;
use crate::secure::SecretBytes;

#[path = "rsa_blinding.rs"]
mod blinding;

use blinding::{modulus_id, put_pair, take_pair, BlindingPair, BnCtx, Mont, BLINDING_USES};

/// An AWS-LC `RSA` this wrapper owns (freed, and its numbers wiped, on
/// drop).
pub(crate) struct RsaKey {
    rsa: NonNull<sys::RSA>,
}

// SAFETY: an AWS-LC RSA object may be used from any thread; its lazily
// computed caches are guarded by its own lock. We hand out no aliases.
unsafe impl Send for RsaKey {}
// SAFETY: as above: every operation AWS-LC offers on a shared RSA is
// thread-safe (the object's `lock` guards the Montgomery/blinding caches).
unsafe impl Sync for RsaKey {}

impl Drop for RsaKey {
    fn drop(&mut self) {
        // SAFETY: `rsa` came from RSA_new and is owned by us alone.
        unsafe { sys::RSA_free(self.rsa.as_ptr()) }
    }
}

/// The private components after n and e (big-endian, leading zeros
/// allowed). `crt` is None for a key given as (n, e, d) only.
pub(crate) struct PrivateComponents<'a> {
    pub d: &'a [u8],
    /// p, q, dP, dQ, qInv.
    pub crt: Option<[&'a [u8]; 5]>,
}

impl RsaKey {
    /// A public key (n, e), big-endian.
    ///
    /// # Errors
    /// CKR_PUBLIC_KEY_INVALID when AWS-LC refuses the values.
    pub(crate) fn public(n: &[u8], e: &[u8]) -> Result<RsaKey> {
        let key = RsaKey::empty()?;
        key.set_key(n, e, None)?;
        Ok(key)
    }

    /// A private key from its components, not re-validated (see the module
    /// doc: consistency is checked at import, and every CRT result is
    /// verified).
    ///
    /// # Errors
    /// CKR_KEY_TYPE_INCONSISTENT when AWS-LC refuses the values.
    pub(crate) fn private(n: &[u8], e: &[u8], parts: &PrivateComponents) -> Result<RsaKey> {
        let key = RsaKey::empty()?;
        key.set_key(n, e, Some(parts.d))
            .map_err(|_| Rv::KEY_TYPE_INCONSISTENT)?;
        if let Some([p, q, dp, dq, qinv]) = parts.crt {
            let (p, q) = (BigNum::from_be(p)?, BigNum::from_be(q)?);
            // SAFETY: the key is ours; on success RSA_set0_factors takes
            // ownership of both numbers, which we then forget.
            if unsafe { sys::RSA_set0_factors(key.rsa.as_ptr(), p.0.as_ptr(), q.0.as_ptr()) } != 1 {
                return Err(Rv::KEY_TYPE_INCONSISTENT);
            }
            std::mem::forget((p, q));
            let (dp, dq, qinv) = (
                BigNum::from_be(dp)?,
                BigNum::from_be(dq)?,
                BigNum::from_be(qinv)?,
            );
            // SAFETY: as above, for the three CRT values.
            let ok = unsafe {
                sys::RSA_set0_crt_params(
                    key.rsa.as_ptr(),
                    dp.0.as_ptr(),
                    dq.0.as_ptr(),
                    qinv.0.as_ptr(),
                )
            };
            if ok != 1 {
                return Err(Rv::KEY_TYPE_INCONSISTENT);
            }
            std::mem::forget((dp, dq, qinv));
        }
        Ok(key)
    }

    /// A new key pair of `bits` bits with public exponent `e`.
    ///
    /// # Errors
    /// CKR_KEY_SIZE_RANGE when AWS-LC refuses the size;
    /// CKR_FUNCTION_FAILED otherwise.
    pub(crate) fn generate(bits: usize, e: &[u8]) -> Result<RsaKey> {
        let key = RsaKey::empty()?;
        let e = BigNum::from_be(e)?;
        let bits = c_int::try_from(bits).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        // SAFETY: key and e are valid; no callback.
        let ok = unsafe {
            sys::RSA_generate_key_ex(key.rsa.as_ptr(), bits, e.0.as_ptr(), ptr::null_mut())
        };
        if ok != 1 {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        }
        Ok(key)
    }

    /// RSA_check_key: n = pq, d and the CRT values agree with e (the import
    /// check).
    pub(crate) fn is_consistent(&self) -> bool {
        // SAFETY: the key is valid for reads.
        let ok = unsafe { sys::RSA_check_key(self.rsa.as_ptr()) } == 1;
        clear_errors();
        ok
    }

    /// The modulus length in bytes.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: the key has n (every constructor sets it).
        unsafe { sys::RSA_size(self.rsa.as_ptr()) as usize }
    }

    /// The key's eight components (n, e, d, p, q, dP, dQ, qInv), big-endian
    /// without leading zeros, in locked memory: for a generated key.
    ///
    /// # Errors
    /// CKR_FUNCTION_FAILED when a component is missing.
    pub(crate) fn components(&self) -> Result<[SecretBytes; 8]> {
        let mut n = ptr::null();
        let mut e = ptr::null();
        let mut d = ptr::null();
        let mut p = ptr::null();
        let mut q = ptr::null();
        let mut dp = ptr::null();
        let mut dq = ptr::null();
        let mut qinv = ptr::null();
        // SAFETY: the getters write borrowed pointers (or NULL) into our
        // locals; they stay valid while `self` lives and is not changed.
        unsafe {
            sys::RSA_get0_key(self.rsa.as_ptr(), &mut n, &mut e, &mut d);
            sys::RSA_get0_factors(self.rsa.as_ptr(), &mut p, &mut q);
            sys::RSA_get0_crt_params(self.rsa.as_ptr(), &mut dp, &mut dq, &mut qinv);
        }
        let all = [n, e, d, p, q, dp, dq, qinv];
        let mut out = Vec::with_capacity(8);
        for bn in all {
            out.push(bn_to_secret(bn)?);
        }
        out.try_into().map_err(|_| Rv::GENERAL_ERROR)
    }

    /// The raw private operation m^d mod n on `input` (exactly k bytes,
    /// below n) into `out` (k bytes).
    ///
    /// # Errors
    /// CKR_DATA_INVALID when the input is not below n (its length is the
    /// caller's to check); CKR_FUNCTION_FAILED otherwise.
    pub(crate) fn private_raw(&self, input: &[u8], out: &mut [u8]) -> Result<()> {
        self.private_transform(input, out).map_err(|rv| match rv {
            Rv::DEVICE_MEMORY => rv,
            _ => Rv::DATA_INVALID,
        })
    }

    /// A PKCS#1 v1.5 type 1 signature (RFC 8017 §8.2.1, step 2 onwards) on
    /// `input` (a DigestInfo, or any data up to k − 11 bytes) into `out`.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE when the input is too long; CKR_FUNCTION_FAILED.
    pub(crate) fn sign_pkcs1(&self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let k = self.len();
        if input.len() + 11 > k {
            return Err(Rv::DATA_LEN_RANGE);
        }
        // EM = 0x00 ‖ 0x01 ‖ PS (0xff, at least 8) ‖ 0x00 ‖ T (§9.2 step 5).
        let mut em = SecretBytes::try_zeroed(k)?;
        let bytes = em.as_mut_slice();
        bytes[1] = 1;
        bytes[2..k - input.len() - 1].fill(0xff);
        bytes[k - input.len()..].copy_from_slice(input);
        self.private_transform(em.as_slice(), out.get_mut(..k).ok_or(Rv::GENERAL_ERROR)?)?;
        Ok(k)
    }

    /// A PSS signature on `digest` (RFC 8017 §8.1.1) with message hash
    /// `hash`, MGF1 over `mgf1` and a salt of `salt` bytes.
    ///
    /// # Errors
    /// CKR_FUNCTION_FAILED (a salt too long for the key is the caller's to
    /// refuse first).
    pub(crate) fn sign_pss(
        &self,
        digest: &[u8],
        hash: Hash,
        mgf1: Hash,
        salt: usize,
        out: &mut [u8],
    ) -> Result<usize> {
        let salt = c_int::try_from(salt).map_err(|_| Rv::MECHANISM_PARAM_INVALID)?;
        let k = self.len();
        if digest.len() != hash.output_len() {
            return Err(Rv::DATA_LEN_RANGE);
        }
        let mut em = SecretBytes::try_zeroed(k)?;
        // SAFETY: `em` has RSA_size bytes, the length the encoder writes
        // (with a leading zero byte when the modulus has 8k+1 bits);
        // `digest` has the hash's length; the EVP_MDs are static.
        let ok = unsafe {
            sys::RSA_padding_add_PKCS1_PSS_mgf1(
                self.rsa.as_ptr(),
                em.as_mut_slice().as_mut_ptr(),
                digest.as_ptr(),
                md(hash)?,
                md(mgf1)?,
                salt,
            )
        };
        finish(ok, k)?;
        self.private_transform(em.as_slice(), out.get_mut(..k).ok_or(Rv::GENERAL_ERROR)?)?;
        Ok(k)
    }

    /// Whether `signature` is a PSS signature on `digest` (salt `salt`
    /// bytes).
    pub(crate) fn verify_pss(
        &self,
        digest: &[u8],
        hash: Hash,
        mgf1: Hash,
        salt: usize,
        signature: &[u8],
    ) -> Result<bool> {
        let salt = c_int::try_from(salt).map_err(|_| Rv::MECHANISM_PARAM_INVALID)?;
        // SAFETY: all slices valid for their lengths; the EVP_MD pointers
        // are static.
        let ok = unsafe {
            sys::RSA_verify_pss_mgf1(
                self.rsa.as_ptr(),
                digest.as_ptr(),
                digest.len(),
                md(hash)?,
                md(mgf1)?,
                salt,
                signature.as_ptr(),
                signature.len(),
            )
        };
        clear_errors();
        Ok(ok == 1)
    }

    /// The raw public operation s^e mod n on `input` (k bytes, below n)
    /// into `out` (k bytes).
    ///
    /// # Errors
    /// CKR_SIGNATURE_INVALID when the input is not below n.
    pub(crate) fn public_raw(&self, input: &[u8], out: &mut [u8]) -> Result<()> {
        self.verify_raw(input, out, sys::RSA_NO_PADDING)
            .map(|_| ())
            .map_err(|_| Rv::SIGNATURE_INVALID)
    }

    /// The data a PKCS#1 v1.5 type 1 signature carries (its DigestInfo),
    /// into `out` (at least k − 11 bytes).
    ///
    /// # Errors
    /// CKR_SIGNATURE_INVALID when the signature does not open.
    pub(crate) fn recover_pkcs1(&self, signature: &[u8], out: &mut [u8]) -> Result<usize> {
        self.verify_raw(signature, out, sys::RSA_PKCS1_PADDING)
            .map_err(|_| Rv::SIGNATURE_INVALID)
    }

    /// PKCS#1 v1.5 type 2 encryption of `input` (at most k − 11 bytes).
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE; CKR_FUNCTION_FAILED.
    pub(crate) fn encrypt_pkcs1(&self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if input.len() + 11 > self.len() {
            return Err(Rv::DATA_LEN_RANGE);
        }
        self.encrypt(input, out, sys::RSA_PKCS1_PADDING)
    }

    /// OAEP encryption (RFC 8017 §7.1.1) of `input` with `label`.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE when the input exceeds k − 2·hLen − 2;
    /// CKR_FUNCTION_FAILED.
    pub(crate) fn encrypt_oaep(
        &self,
        input: &[u8],
        hash: Hash,
        mgf1: Hash,
        label: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let k = self.len();
        if input.len() + 2 * hash.output_len() + 2 > k {
            return Err(Rv::DATA_LEN_RANGE);
        }
        let mut em = SecretBytes::try_zeroed(k)?;
        // SAFETY: `em` is k bytes, `input` and `label` valid for their
        // lengths, the EVP_MD pointers static.
        let ok = unsafe {
            sys::RSA_padding_add_PKCS1_OAEP_mgf1(
                em.as_mut_slice().as_mut_ptr(),
                k,
                input.as_ptr(),
                input.len(),
                label.as_ptr(),
                label.len(),
                md(hash)?,
                md(mgf1)?,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        }
        self.encrypt(em.as_slice(), out, sys::RSA_NO_PADDING)
    }

    /// OAEP decryption of `input` (k bytes) with `label`, into `out` (at
    /// least k bytes). Every failure is the same error, in constant time
    /// (AWS-LC's OAEP decoding), so the answer tells nothing of where it
    /// failed (Manger's attack).
    ///
    /// # Errors
    /// CKR_ENCRYPTED_DATA_INVALID; CKR_DEVICE_MEMORY.
    pub(crate) fn decrypt_oaep(
        &self,
        input: &[u8],
        hash: Hash,
        mgf1: Hash,
        label: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (hash, mgf1) = (md(hash)?, md(mgf1)?);
        // This path relies on AWS-LC's own blinding: never on a key that
        // had it switched off for [`RsaKey::private_transform`].
        // SAFETY: reads the key's flags.
        if unsafe { sys::RSA_test_flags(self.rsa.as_ptr(), sys::RSA_FLAG_NO_BLINDING) } != 0 {
            return Err(Rv::GENERAL_ERROR);
        }
        let pkey = Pkey::of(self)?;
        // SAFETY: `pkey` is valid; the context it makes is freed by the
        // guard below.
        let ctx = unsafe { sys::EVP_PKEY_CTX_new(pkey.0.as_ptr(), ptr::null_mut()) };
        let ctx = PkeyCtx(NonNull::new(ctx).ok_or(Rv::DEVICE_MEMORY)?);
        let c = ctx.0.as_ptr();
        // SAFETY: `c` is a live context for `pkey`; the setters take static
        // EVP_MDs.
        let configured = unsafe {
            sys::EVP_PKEY_decrypt_init(c) == 1
                && sys::EVP_PKEY_CTX_set_rsa_padding(c, sys::RSA_PKCS1_OAEP_PADDING) == 1
                && sys::EVP_PKEY_CTX_set_rsa_oaep_md(c, hash) == 1
                && sys::EVP_PKEY_CTX_set_rsa_mgf1_md(c, mgf1) == 1
        };
        if !configured {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        }
        if !label.is_empty() {
            // The label is handed over: AWS-LC frees it with OPENSSL_free.
            // SAFETY: plain allocation, checked for NULL, then filled with
            // label.len() bytes; set0 owns it on success, we free it on
            // failure.
            unsafe {
                let p = sys::OPENSSL_malloc(label.len()).cast::<u8>();
                if p.is_null() {
                    return Err(Rv::DEVICE_MEMORY);
                }
                ptr::copy_nonoverlapping(label.as_ptr(), p, label.len());
                if sys::EVP_PKEY_CTX_set0_rsa_oaep_label(c, p, label.len()) != 1 {
                    sys::OPENSSL_free(p.cast());
                    clear_errors();
                    return Err(Rv::FUNCTION_FAILED);
                }
            }
        }
        let mut written = out.len();
        // SAFETY: `out` has room for `written` bytes, `input` is valid.
        let ok = unsafe {
            sys::EVP_PKEY_decrypt(
                c,
                out.as_mut_ptr(),
                &mut written,
                input.as_ptr(),
                input.len(),
            )
        };
        finish(ok, written).map_err(|_| Rv::ENCRYPTED_DATA_INVALID)
    }

    /// The raw private operation for decryption: `input` (k bytes, below n)
    /// to the encoded message in `out` (k bytes).
    ///
    /// # Errors
    /// CKR_ENCRYPTED_DATA_INVALID when the input is not below n.
    pub(crate) fn decrypt_raw(&self, input: &[u8], out: &mut [u8]) -> Result<()> {
        self.private_transform(input, out).map_err(|rv| match rv {
            Rv::DEVICE_MEMORY => rv,
            _ => Rv::ENCRYPTED_DATA_INVALID,
        })
    }

    // -----------------------------------------------------------------------

    fn empty() -> Result<RsaKey> {
        // SAFETY: plain constructor; NULL is handled.
        let rsa = unsafe { sys::RSA_new() };
        Ok(RsaKey {
            rsa: NonNull::new(rsa).ok_or(Rv::DEVICE_MEMORY)?,
        })
    }

    fn set_key(&self, n: &[u8], e: &[u8], d: Option<&[u8]>) -> Result<()> {
        let n = BigNum::from_be(n)?;
        let e = BigNum::from_be(e)?;
        let d = d.map(BigNum::from_be).transpose()?;
        let d_ptr = d.as_ref().map_or(ptr::null_mut(), |d| d.0.as_ptr());
        // SAFETY: the key is ours and has no n/e yet; on success it owns
        // the numbers, which we then forget.
        let ok = unsafe { sys::RSA_set0_key(self.rsa.as_ptr(), n.0.as_ptr(), e.0.as_ptr(), d_ptr) };
        if ok != 1 {
            return Err(Rv::PUBLIC_KEY_INVALID);
        }
        std::mem::forget((n, e, d));
        Ok(())
    }

    /// The private operation m^d mod n on `input` (k bytes, below n) into
    /// `out` (k bytes), blinded with a pair from the cache (see the module
    /// doc). AWS-LC's own blinding is switched off for this key, which is
    /// only ever used for this operation after that.
    ///
    /// # Errors
    /// CKR_DATA_INVALID when the input is not below n; CKR_DEVICE_MEMORY;
    /// CKR_FUNCTION_FAILED (AWS-LC's fault check included).
    fn private_transform(&self, input: &[u8], out: &mut [u8]) -> Result<()> {
        let k = self.len();
        if input.len() != k || out.len() != k {
            return Err(Rv::GENERAL_ERROR);
        }
        let (n, e) = self.public_numbers()?;
        let ctx = BnCtx::new()?;
        // SAFETY: `n` is the key's modulus; the context is live.
        let mont = unsafe { sys::BN_MONT_CTX_new_for_modulus(n, ctx.0.as_ptr()) };
        let mont = Mont(NonNull::new(mont).ok_or(Rv::DEVICE_MEMORY)?);
        let f = BigNum::from_be(input)?;
        // SAFETY: both numbers are live.
        if unsafe { sys::BN_ucmp(f.0.as_ptr(), n) } >= 0 {
            return Err(Rv::DATA_INVALID);
        }
        let id = modulus_id(n, e)?;
        let mut pair = match take_pair(&id) {
            Some(p) => p,
            None => BlindingPair::fresh(id, n, e, &mont, &ctx, k)?,
        };
        let a = BigNum::from_be(pair.a.as_slice())?;
        let ai = BigNum::from_be(pair.ai.as_slice())?;
        let blinded = mont.mul(&f, &a, &ctx)?;
        let mut blinded_bytes = SecretBytes::try_zeroed(k)?;
        blinded.write_be(blinded_bytes.as_mut_slice())?;
        let mut raw = SecretBytes::try_zeroed(k)?;
        let mut written = 0usize;
        // SAFETY: the key is ours and used only for this operation from
        // here on (see above); both buffers hold k bytes.
        let ok = unsafe {
            sys::RSA_set_flags(self.rsa.as_ptr(), sys::RSA_FLAG_NO_BLINDING);
            sys::RSA_sign_raw(
                self.rsa.as_ptr(),
                &mut written,
                raw.as_mut_slice().as_mut_ptr(),
                k,
                blinded_bytes.as_slice().as_ptr(),
                k,
                sys::RSA_NO_PADDING,
            )
        };
        finish(ok, written)?;
        let result = mont.mul(&BigNum::from_be(raw.as_slice())?, &ai, &ctx)?;
        result.write_be(out)?;
        // The next use gets (A², Ai²): still r'^e and r'^-1, for r' = r².
        pair.uses += 1;
        if pair.uses < BLINDING_USES {
            mont.mul(&a, &a, &ctx)?.write_be(pair.a.as_mut_slice())?;
            mont.mul(&ai, &ai, &ctx)?.write_be(pair.ai.as_mut_slice())?;
            put_pair(pair);
        }
        Ok(())
    }

    /// The key's n and e, borrowed.
    fn public_numbers(&self) -> Result<(*const sys::BIGNUM, *const sys::BIGNUM)> {
        let mut n = ptr::null();
        let mut e = ptr::null();
        // SAFETY: the getter writes borrowed pointers into our locals.
        unsafe { sys::RSA_get0_key(self.rsa.as_ptr(), &mut n, &mut e, ptr::null_mut()) };
        if n.is_null() || e.is_null() {
            return Err(Rv::GENERAL_ERROR);
        }
        Ok((n, e))
    }

    fn verify_raw(&self, input: &[u8], out: &mut [u8], padding: c_int) -> Result<usize> {
        self.public_call(sys::RSA_verify_raw, input, out, padding)
    }

    fn encrypt(&self, input: &[u8], out: &mut [u8], padding: c_int) -> Result<usize> {
        self.public_call(sys::RSA_encrypt, input, out, padding)
    }

    /// One of AWS-LC's public-key calls that share RSA_encrypt's signature.
    fn public_call(
        &self,
        call: PublicCall,
        input: &[u8],
        out: &mut [u8],
        padding: c_int,
    ) -> Result<usize> {
        let mut written = 0usize;
        // SAFETY: `call` is RSA_verify_raw or RSA_encrypt, which read
        // `input` and write at most `out.len()` bytes to `out`.
        let ok = unsafe {
            call(
                self.rsa.as_ptr(),
                &mut written,
                out.as_mut_ptr(),
                out.len(),
                input.as_ptr(),
                input.len(),
                padding,
            )
        };
        finish(ok, written)
    }
}

/// RSA_verify_raw's and RSA_encrypt's C signature.
type PublicCall = unsafe extern "C" fn(
    *mut sys::RSA,
    *mut usize,
    *mut u8,
    usize,
    *const u8,
    usize,
    c_int,
) -> c_int;

/// The result of a call that writes `written` bytes and returns 1 on
/// success.
fn finish(ok: c_int, written: usize) -> Result<usize> {
    if ok == 1 {
        Ok(written)
    } else {
        clear_errors();
        Err(Rv::FUNCTION_FAILED)
    }
}

/// AWS-LC's EVP_MD for a hash.
///
/// # Errors
/// CKR_MECHANISM_PARAM_INVALID for MD5 (never with RSA here).
fn md(hash: Hash) -> Result<*const sys::EVP_MD> {
    // SAFETY: these return pointers to static tables.
    Ok(unsafe {
        match hash {
            Hash::Sha1 => sys::EVP_sha1(),
            Hash::Sha224 => sys::EVP_sha224(),
            Hash::Sha256 => sys::EVP_sha256(),
            Hash::Sha384 => sys::EVP_sha384(),
            Hash::Sha512 => sys::EVP_sha512(),
            Hash::Sha3_256 => sys::EVP_sha3_256(),
            Hash::Sha3_384 => sys::EVP_sha3_384(),
            Hash::Sha3_512 => sys::EVP_sha3_512(),
            Hash::Md5 => return Err(Rv::MECHANISM_PARAM_INVALID),
        }
    })
}

/// A borrowed BIGNUM's value, big-endian without leading zeros, in locked
/// memory.
fn bn_to_secret(bn: *const sys::BIGNUM) -> Result<SecretBytes> {
    if bn.is_null() {
        return Err(Rv::FUNCTION_FAILED);
    }
    // SAFETY: `bn` is a live BIGNUM borrowed from an RSA we hold.
    let len = unsafe { sys::BN_num_bytes(bn) } as usize;
    let mut out = SecretBytes::try_zeroed(len)?;
    // SAFETY: `out` has exactly `len` bytes, the number's length.
    let ok = unsafe { sys::BN_bn2bin_padded(out.as_mut_slice().as_mut_ptr(), len, bn) };
    if ok != 1 {
        return Err(Rv::FUNCTION_FAILED);
    }
    Ok(out)
}

/// An EVP_PKEY holding a reference to one of our RSA keys.
struct Pkey(NonNull<sys::EVP_PKEY>);

impl Pkey {
    fn of(key: &RsaKey) -> Result<Pkey> {
        // SAFETY: plain constructor; NULL handled.
        let pkey = NonNull::new(unsafe { sys::EVP_PKEY_new() }).ok_or(Rv::DEVICE_MEMORY)?;
        let pkey = Pkey(pkey);
        // SAFETY: set1 takes its own reference to the RSA (up_ref), so
        // `key` stays ours to free.
        if unsafe { sys::EVP_PKEY_set1_RSA(pkey.0.as_ptr(), key.rsa.as_ptr()) } != 1 {
            return Err(Rv::DEVICE_MEMORY);
        }
        Ok(pkey)
    }
}

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: ours; drops its reference to the RSA.
        unsafe { sys::EVP_PKEY_free(self.0.as_ptr()) }
    }
}

struct PkeyCtx(NonNull<sys::EVP_PKEY_CTX>);

impl Drop for PkeyCtx {
    fn drop(&mut self) {
        // SAFETY: ours.
        unsafe { sys::EVP_PKEY_CTX_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
#[path = "rsa_tests.rs"]
mod tests;
