//! ProzHSM: a PKCS#11 software token.
//!
//! The crate builds `libprozhsm.so`, a module any PKCS#11 client loads. The
//! layers follow `DESIGN.md`: `abi` (the only door to C) → `core` (library
//! state, slots, the session table) → `backend` (one implementation per kind
//! of slot: `backend::soft` is the software token) → below the software
//! token, `object` (attribute policy), `mechanisms`, `store` (SQLite) and
//! `secure` (secret memory, sealing, PIN keys).
//!
//! `unsafe` is denied here and allowed only in `abi`, `secure`,
//! `backend::forward` (the loader of another PKCS#11 module) and `awslc` (the
//! C calls aws-lc-rs does not expose), each block with a `// SAFETY:` line.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod abi;
#[allow(unsafe_code)]
mod awslc;
pub mod backend;
pub mod config;
pub mod core;
pub mod error;
pub mod logging;
pub mod mechanisms;
pub mod object;
#[allow(unsafe_code)]
pub mod secure;
pub mod store;

pub use error::{Result, Rv};
