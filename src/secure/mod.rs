//! Secret memory, sealing and PIN-derived keys.
//!
//! - [`SecretBytes`]: a buffer for key material: locked in memory, excluded
//!   from core dumps, wiped on drop, never `Clone`, redacted in `Debug`.
//! - [`Sealed`]: a key value at rest in memory, AES-256-GCM under the
//!   per-process master key; unsealed into a `SecretBytes` only for the
//!   duration of an operation.
//! - [`aead`]: authenticated encryption of store records under a token key.
//! - [`pin`]: PIN-derived keys (Argon2id) and constant-time comparison.

pub mod aead;
pub mod memory;
pub mod pin;
pub mod seal;

pub use memory::SecretBytes;
pub use seal::Sealed;
