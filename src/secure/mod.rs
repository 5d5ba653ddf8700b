//! Secret memory, sealing and PIN-derived keys.
//!
//! - [`SecretBytes`]: a buffer for key material: locked in memory, excluded
//!   from core dumps, wiped in a forked child and on drop, never `Clone`,
//!   redacted in `Debug`. Served by a small slab allocator over locked pages
//!   (`arena`), or a dedicated mapping for secrets larger than a page.
//! - [`Sealed`]: a key value at rest in memory, AES-256-GCM under the
//!   per-process master key; unsealed into a `SecretBytes` only for the
//!   duration of an operation.
//! - [`aead`]: authenticated encryption of store records under a token key.
//! - [`pin`]: PIN-derived keys (Argon2id) and constant-time comparison.
//! - [`lock_status`]: whether secret pages are locked (for C_GetInfo, the log
//!   and the README's troubleshooting).
//! - [`clear_registers`]: zero the vector registers, where crypto code
//!   leaves key bytes that a core dump would save.
//!
//! After `fork()` a child gets a new master key and, where the kernel has
//! `MADV_WIPEONFORK`, zeroed secret pages: nothing of the parent's keys is
//! usable there (see `fork` and [`seal::reset_after_fork`]).

pub mod aead;
mod arena;
mod fork;
pub mod memory;
pub mod pin;
mod registers;
pub mod seal;

pub use arena::lock_status;
pub use memory::{wipe, SecretBytes, WipedVec};
pub use registers::clear_registers;
pub use seal::{reset_after_fork, Sealed};

/// The fork generation: changes in every forked child, so caches of secret
/// state can tell they were inherited (and must not be reused).
pub fn fork_generation() -> u64 {
    fork::generation()
}
