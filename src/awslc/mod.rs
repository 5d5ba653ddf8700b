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

pub(crate) mod digest;
pub(crate) mod ec;
pub(crate) mod gcm;
pub(crate) mod rsa;
