//! Doors into AWS-LC that aws-lc-rs's safe API does not open.
//!
//! aws-lc-rs serves most mechanisms; a few PKCS#11 operations need the C
//! library underneath it (the same `aws-lc-sys` build, so one copy of
//! AWS-LC is linked):
//!
//! - RSA: the raw private and public operations (CKM_RSA_X_509, PKCS#1 v1.5
//!   signing of any DigestInfo, sign/verify-recover), keys under 2048 bits
//!   for the legacy profile, PSS and OAEP with any hash pair, and keys built
//!   from their components without re-validating them at every use.
//! - AES-GCM: IVs other than 96 bits and tags shorter than 128 bits, through
//!   `EVP_AEAD` (aws-lc-rs's `aead` takes neither).
//! - ECDSA on P-256/P-384/P-521: signing keys made of the private scalar
//!   alone (aws-lc-rs recomputes the public point at every parse, a scalar
//!   multiplication as costly as the signature).
//! - Digests: MD5, SHA-1 and SHA-2 on the low-level contexts, whose running
//!   state can be exported and imported (C_GetOperationState and
//!   C_SetOperationState); aws-lc-rs's `digest::Context` hides it.
//!
//! Each file wraps one family in types that own their C objects and free
//! them on drop; nothing outside this module sees a raw pointer. `unsafe`
//! is allowed here (as in `abi`, `secure` and `backend::forward`), each
//! block with a `// SAFETY:` line.
//!
//! AWS-LC's `OPENSSL_free` zeroizes every allocation before releasing it,
//! so key components copied into its big numbers are wiped when the owning
//! object drops.

use std::ptr::{self, NonNull};

use aws_lc_sys as sys;

use crate::error::{Result, Rv};

pub(crate) mod digest;
pub(crate) mod ec;
pub(crate) mod gcm;
pub(crate) mod rsa;

/// Drop the thread's AWS-LC error queue: failures are reported by our
/// return codes, and the queue would otherwise hold them until the thread
/// exits (or surface them in a later, unrelated call).
fn clear_errors() {
    // SAFETY: no arguments; touches only this thread's queue.
    unsafe { sys::ERR_clear_error() }
}

/// A BIGNUM we own: freed on drop (BN_free goes through OPENSSL_free, which
/// wipes it, so it may hold a secret). One handed to an RSA that takes
/// ownership is forgotten instead.
struct BigNum(NonNull<sys::BIGNUM>);

impl BigNum {
    fn new() -> Result<BigNum> {
        // SAFETY: plain constructor; NULL handled.
        NonNull::new(unsafe { sys::BN_new() })
            .map(BigNum)
            .ok_or(Rv::DEVICE_MEMORY)
    }

    /// A number from big-endian bytes (any leading zeros).
    fn from_be(bytes: &[u8]) -> Result<BigNum> {
        // SAFETY: `bytes` is valid for its length; a NULL `ret` asks for a
        // new BIGNUM.
        let bn = unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        NonNull::new(bn).map(BigNum).ok_or(Rv::DEVICE_MEMORY)
    }

    /// The value, big-endian, left-padded to fill `out`.
    fn write_be(&self, out: &mut [u8]) -> Result<()> {
        // SAFETY: `out` is valid for its length.
        let ok = unsafe { sys::BN_bn2bin_padded(out.as_mut_ptr(), out.len(), self.0.as_ptr()) };
        if ok == 1 {
            Ok(())
        } else {
            Err(Rv::FUNCTION_FAILED)
        }
    }
}

impl Drop for BigNum {
    fn drop(&mut self) {
        // SAFETY: ours (handed-over ones are forgotten, never dropped).
        unsafe { sys::BN_free(self.0.as_ptr()) }
    }
}
