//! PIN-derived keys (Argon2id) and constant-time comparison.

use crate::error::{Result, Rv};
use crate::secure::SecretBytes;

/// Argon2id cost, stored beside each wrapped token key so a config change
/// never locks out an existing token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub lanes: u32,
}

impl KdfCost {
    /// The production default: ~100 ms or more on a current core.
    pub const PRODUCTION: KdfCost = KdfCost {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        lanes: 1,
    };
    /// The fast profile for tests and throw-away CI tokens.
    pub const FAST: KdfCost = KdfCost {
        m_cost_kib: 256,
        t_cost: 1,
        lanes: 1,
    };
}

/// Derive a 32-byte key from `pin` and `salt`.
///
/// # Errors
/// CKR_GENERAL_ERROR when the cost parameters are invalid.
pub fn derive_key(pin: &[u8], salt: &[u8], cost: KdfCost) -> Result<SecretBytes> {
    let params = argon2::Params::new(cost.m_cost_kib, cost.t_cost, cost.lanes, Some(32))
        .map_err(|_| Rv::GENERAL_ERROR)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = SecretBytes::zeroed(32);
    argon
        .hash_password_into(pin, salt, key.as_mut_slice())
        .map_err(|_| Rv::GENERAL_ERROR)?;
    Ok(key)
}

/// Compare two byte strings in time independent of where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
