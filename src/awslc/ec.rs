//! ECDSA signing on P-256, P-384 and P-521 through AWS-LC's C API, with a
//! key made of its private scalar alone.
//!
//! # Why the C API
//!
//! aws-lc-rs builds a signing key from an RFC 5915 ECPrivateKey only, and
//! computes the public point from the scalar when the DER leaves it out (as
//! ours does: CKA_VALUE holds the scalar alone). That is a full scalar
//! multiplication, about as costly as the signature, paid at every
//! C_SignInit. Signing needs only the group and the scalar, so
//! [`EcPrivateKey`] holds an `EC_KEY` with just those.
//!
//! # What `ECDSA_do_sign` does (AWS-LC `crypto/fipsmodule/ecdsa/ecdsa.c`)
//!
//! - It reads the key's group and private scalar, nothing else; the public
//!   key is used only by verification.
//! - Nonces are random, not RFC 6979: `k` is drawn uniformly from [1, n)
//!   by rejection sampling (`ec_random_nonzero_scalar`) from AWS-LC's DRBG,
//!   hedged with SHA-512(d ‖ digest) as additional input, so a failing
//!   entropy source alone does not repeat a nonce across messages (the
//!   same as every aws-lc-rs ECDSA signature, which runs this function).
//! - The secret-dependent steps are constant-time: `k·G` with the group's
//!   constant-time base-point multiplication, `k⁻¹` by Fermat inversion
//!   (`ec_scalar_inv0_montgomery`), `d·r` in Montgomery form; `k` and the
//!   temporaries are cleansed. Only the public r and s, and the
//!   retry-on-zero checks (probability ~2⁻²⁵⁶), are declassified.
//! - The digest is taken as ANSI X9.62 §7.3 says: longer than the order,
//!   its leftmost bits; shorter, the integer it is.
//!
//! # Scalar range
//!
//! `EC_KEY_set_private_key` refuses a scalar that is zero or not below the
//! group order n (`ec_bignum_to_scalar`, then a zero check), so
//! [`EcPrivateKey::new`] accepts exactly 1 ≤ d < n, as aws-lc-rs's parser
//! did.
//!
//! # Memory
//!
//! The scalar is copied into a BIGNUM for the constructor and into the
//! EC_KEY's own scalar for the key's lifetime; both are released through
//! `OPENSSL_free`, which zeroizes each allocation.

use std::ptr::{self, NonNull};

use aws_lc_sys as sys;

use super::{clear_errors, BigNum};
use crate::error::{Result, Rv};

/// A NIST curve AWS-LC keeps a static `EC_GROUP` for. `pub` (in this
/// crate-private module) because the public curve table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    P256,
    P384,
    P521,
}

impl Group {
    /// The byte length of the group order: of the scalar, of r and of s.
    pub(crate) fn order_len(self) -> usize {
        match self {
            Group::P256 => 32,
            Group::P384 => 48,
            Group::P521 => 66,
        }
    }

    fn raw(self) -> *const sys::EC_GROUP {
        // SAFETY: these return pointers to static groups, never NULL and
        // never freed (EC_GROUP_free ignores built-in curves).
        unsafe {
            match self {
                Group::P256 => sys::EC_group_p256(),
                Group::P384 => sys::EC_group_p384(),
                Group::P521 => sys::EC_group_p521(),
            }
        }
    }
}

/// An AWS-LC `EC_KEY` holding a group and a private scalar, without the
/// public point; freed, and the scalar wiped, on drop.
pub(crate) struct EcPrivateKey {
    key: NonNull<sys::EC_KEY>,
    order_len: usize,
}

// SAFETY: the EC_KEY is owned by this value alone, has no method table and
// no thread affinity; signing only reads it (ECDSA_do_sign takes it as
// `const`), and the DRBG it draws nonces from is thread-safe.
unsafe impl Send for EcPrivateKey {}
// SAFETY: as above: the only operation offered, `sign_digest`, reads the
// key and never changes it.
unsafe impl Sync for EcPrivateKey {}

impl Drop for EcPrivateKey {
    fn drop(&mut self) {
        // SAFETY: `key` came from EC_KEY_new and is owned by us alone.
        unsafe { sys::EC_KEY_free(self.key.as_ptr()) }
    }
}

impl EcPrivateKey {
    /// A signing key on `group` from its private scalar (big-endian, any
    /// length; leading zeros allowed). The public point is not computed.
    ///
    /// # Errors
    /// CKR_KEY_SIZE_RANGE when the scalar is not in [1, n) (SEC 1 §3.2.1);
    /// CKR_DEVICE_MEMORY when AWS-LC cannot allocate.
    pub(crate) fn new(group: Group, scalar: &[u8]) -> Result<EcPrivateKey> {
        // SAFETY: plain constructor; NULL is handled.
        let key = NonNull::new(unsafe { sys::EC_KEY_new() }).ok_or(Rv::DEVICE_MEMORY)?;
        let key = EcPrivateKey {
            key,
            order_len: group.order_len(),
        };
        // SAFETY: the key is ours and has no group yet; a built-in group is
        // shared, not copied (EC_GROUP_dup returns it as is).
        if unsafe { sys::EC_KEY_set_group(key.key.as_ptr(), group.raw()) } != 1 {
            clear_errors();
            return Err(Rv::DEVICE_MEMORY);
        }
        let d = BigNum::from_be(scalar)?;
        // SAFETY: the key has its group; set_private_key copies the number
        // (after checking 1 <= d < n), so `d` stays ours to free.
        if unsafe { sys::EC_KEY_set_private_key(key.key.as_ptr(), d.0.as_ptr()) } != 1 {
            clear_errors();
            return Err(Rv::KEY_SIZE_RANGE);
        }
        Ok(key)
    }

    /// An ECDSA signature (ANSI X9.62 §7.3; see the module doc for the
    /// nonce) on `digest`, written to `out` as r ‖ s, each big-endian at
    /// the order's length: the PKCS#11 CKM_ECDSA format (Current Mechanisms
    /// §2.3.1). Returns the length written, twice the order's length.
    ///
    /// # Errors
    /// CKR_GENERAL_ERROR when `out` is shorter than the signature (the
    /// caller sizes it); CKR_FUNCTION_FAILED when AWS-LC fails.
    pub(crate) fn sign_digest(&self, digest: &[u8], out: &mut [u8]) -> Result<usize> {
        let len = self.order_len;
        let (r_out, rest) = out
            .get_mut(..2 * len)
            .ok_or(Rv::GENERAL_ERROR)?
            .split_at_mut(len);
        // SAFETY: `digest` is valid for its length; the key is live and
        // has a group and a private scalar. The result, if not NULL, is
        // ours and freed by the guard.
        let sig = unsafe { sys::ECDSA_do_sign(digest.as_ptr(), digest.len(), self.key.as_ptr()) };
        let Some(sig) = NonNull::new(sig).map(Signature) else {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        };
        let (mut r, mut s) = (ptr::null(), ptr::null());
        // SAFETY: the getter writes two pointers borrowed from `sig`, which
        // outlives their use below.
        unsafe { sys::ECDSA_SIG_get0(sig.0.as_ptr(), &mut r, &mut s) };
        if r.is_null() || s.is_null() {
            return Err(Rv::FUNCTION_FAILED);
        }
        // SAFETY: `r_out` and `rest` are `len` bytes each; r and s are live
        // BIGNUMs below the order, so they fit (the call fails otherwise).
        let ok = unsafe {
            sys::BN_bn2bin_padded(r_out.as_mut_ptr(), len, r) == 1
                && sys::BN_bn2bin_padded(rest.as_mut_ptr(), len, s) == 1
        };
        if !ok {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        }
        Ok(2 * len)
    }
}

/// An ECDSA_SIG we own.
struct Signature(NonNull<sys::ECDSA_SIG>);

impl Drop for Signature {
    fn drop(&mut self) {
        // SAFETY: ours, from ECDSA_do_sign.
        unsafe { sys::ECDSA_SIG_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsBigEndian;
    use aws_lc_rs::signature::{self as lc, KeyPair as _};

    use super::*;

    /// (group, aws-lc-rs's signing and fixed-format verification
    /// algorithms, the curve's digest).
    fn curves() -> [(
        Group,
        &'static lc::EcdsaSigningAlgorithm,
        &'static lc::EcdsaVerificationAlgorithm,
        &'static aws_lc_rs::digest::Algorithm,
    ); 3] {
        [
            (
                Group::P256,
                &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
                &lc::ECDSA_P256_SHA256_FIXED,
                &aws_lc_rs::digest::SHA256,
            ),
            (
                Group::P384,
                &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
                &lc::ECDSA_P384_SHA384_FIXED,
                &aws_lc_rs::digest::SHA384,
            ),
            (
                Group::P521,
                &lc::ECDSA_P521_SHA512_FIXED_SIGNING,
                &lc::ECDSA_P521_SHA512_FIXED,
                &aws_lc_rs::digest::SHA512,
            ),
        ]
    }

    /// The group order n, big-endian at the order's length.
    fn order(group: Group) -> Vec<u8> {
        // SAFETY: static group; the order is a live BIGNUM borrowed from
        // it, written into a buffer of the order's length.
        unsafe {
            let n = sys::EC_GROUP_get0_order(group.raw());
            let mut out = vec![0u8; group.order_len()];
            assert_eq!(sys::BN_bn2bin_padded(out.as_mut_ptr(), out.len(), n), 1);
            out
        }
    }

    #[test]
    fn order_lengths_match_the_groups() {
        for (group, ..) in curves() {
            // SAFETY: static group, borrowed order.
            let bytes = unsafe { sys::BN_num_bytes(sys::EC_GROUP_get0_order(group.raw())) };
            assert_eq!(bytes as usize, group.order_len(), "{group:?}");
        }
    }

    /// ECDSA nonces are random, so no known answer: signatures from the
    /// scalar alone verify with aws-lc-rs under the key pair's public key.
    #[test]
    fn signatures_verify_with_aws_lc_rs() {
        for (group, signing, verifying, digest_alg) in curves() {
            let pair = lc::EcdsaKeyPair::generate(signing).expect("generate");
            let scalar = pair.private_key().as_be_bytes().expect("scalar");
            let key = EcPrivateKey::new(group, scalar.as_ref()).expect("key");
            let public = lc::UnparsedPublicKey::new(verifying, pair.public_key().as_ref());
            for msg in [&b""[..], b"abc", &[0x5a; 200]] {
                let mut sig = [0u8; 132];
                let n = key
                    .sign_digest(
                        aws_lc_rs::digest::digest(digest_alg, msg).as_ref(),
                        &mut sig,
                    )
                    .expect("sign");
                assert_eq!(n, 2 * group.order_len());
                public.verify(msg, &sig[..n]).expect("verifies");
                assert!(public.verify(b"other", &sig[..n]).is_err());
            }
        }
    }

    #[test]
    fn out_of_range_scalars_are_refused() {
        for (group, ..) in curves() {
            let len = group.order_len();
            let n = order(group);
            let mut n_minus_1 = n.clone();
            *n_minus_1.last_mut().expect("non-empty") -= 1;
            // No carry: the orders end in 0x51, 0x73 and 0x09.
            let mut n_plus_1 = n.clone();
            *n_plus_1.last_mut().expect("non-empty") += 1;
            let too_long = [&[1u8][..], &n_minus_1].concat();
            for bad in [
                &vec![0u8; len][..],
                &[],
                &n,
                &n_plus_1,
                &[0xff; 66],
                &too_long,
            ] {
                assert!(
                    matches!(EcPrivateKey::new(group, bad), Err(Rv::KEY_SIZE_RANGE)),
                    "{group:?} accepted {bad:02x?}"
                );
            }
            // The ends of the range are keys, with or without leading zeros.
            for good in [&[1u8][..], &[0, 0, 1], &n_minus_1] {
                let key = EcPrivateKey::new(group, good).expect("in range");
                let mut sig = [0u8; 132];
                key.sign_digest(&[7u8; 32], &mut sig).expect("signs");
            }
        }
    }

    #[test]
    fn short_output_is_an_error() {
        let key = EcPrivateKey::new(Group::P256, &[9u8; 32]).expect("key");
        assert_eq!(
            key.sign_digest(&[1u8; 32], &mut [0u8; 63]),
            Err(Rv::GENERAL_ERROR)
        );
    }
}
