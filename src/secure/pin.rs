//! PIN-derived keys (Argon2id) and constant-time comparison.
//!
//! Argon2's working memory is a `ScratchSlice`: excluded from core dumps,
//! wiped in a forked child, and zeroized as soon as the key is derived (the
//! last blocks of that memory are as good as the derived key). It is not
//! locked: 64 MiB is more than a usual RLIMIT_MEMLOCK.

use crate::error::{Result, Rv};
use crate::secure::memory::ScratchSlice;
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
    /// The production default (RFC 9106's second recommended setting:
    /// 64 MiB, 3 passes): about 150–250 ms on one current x86-64 core for a
    /// release build, never under ~100 ms.
    pub const PRODUCTION: KdfCost = KdfCost {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        lanes: 1,
    };
    /// The fast profile for tests and throw-away CI tokens: well under a
    /// millisecond in a release build, a few in a debug build.
    pub const FAST: KdfCost = KdfCost {
        m_cost_kib: 256,
        t_cost: 1,
        lanes: 1,
    };
}

/// Derive a 32-byte key from `pin` and `salt` with Argon2id (v1.3).
///
/// # Errors
/// CKR_GENERAL_ERROR when the cost parameters or the salt are invalid
/// (Argon2 needs a salt of at least 8 bytes); CKR_HOST_MEMORY when the
/// working memory cannot be mapped.
pub fn derive_key(pin: &[u8], salt: &[u8], cost: KdfCost) -> Result<SecretBytes> {
    let params = argon2::Params::new(cost.m_cost_kib, cost.t_cost, cost.lanes, Some(32))
        .map_err(|_| Rv::GENERAL_ERROR)?;
    let mut blocks = ScratchSlice::<argon2::Block>::new(params.block_count())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = SecretBytes::try_zeroed(32)?;
    argon
        .hash_password_into_with_memory(pin, salt, key.as_mut_slice(), blocks.as_mut_slice())
        .map_err(|_| Rv::GENERAL_ERROR)?;
    // `blocks` is zeroized and unmapped here, before the key is returned.
    drop(blocks);
    Ok(key)
}

/// Compare two byte strings in time independent of their contents.
///
/// The lengths are compared first and are not hidden (a PIN's length is not
/// the secret part; the caller compares derived keys or MACs of fixed
/// length). Every byte is always visited: the accumulator passes through
/// `black_box` each step, so the compiler cannot turn the loop into an
/// early exit.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u8;
    for (x, y) in a.iter().zip(b) {
        acc = std::hint::black_box(acc | (x ^ y));
    }
    // Branch-free 0 → 1, anything else → 0.
    let zero = (u16::from(acc).wrapping_sub(1) >> 8) & 1;
    std::hint::black_box(zero) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &[u8] = b"sixteen byte slt";

    #[test]
    fn ct_eq_behaviour() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"123456", b"123456"));
        assert!(!ct_eq(b"123456", b"123457"));
        assert!(!ct_eq(b"123456", b"023456"));
        assert!(!ct_eq(b"123456", b"12345"));
        assert!(!ct_eq(b"", b"a"));
        for i in 0..=255u8 {
            assert_eq!(ct_eq(&[i], &[0]), i == 0);
            assert_eq!(ct_eq(&[0x80, i], &[0x80, 0x7F]), i == 0x7F);
        }
    }

    #[test]
    fn kdf_is_deterministic_and_separates_inputs() {
        let k1 = derive_key(b"1234", SALT, KdfCost::FAST).expect("kdf");
        let k2 = derive_key(b"1234", SALT, KdfCost::FAST).expect("kdf");
        assert_eq!(k1.len(), 32);
        assert_eq!(k1.as_slice(), k2.as_slice());
        let other_pin = derive_key(b"1235", SALT, KdfCost::FAST).expect("kdf");
        assert_ne!(k1.as_slice(), other_pin.as_slice());
        let other_salt = derive_key(b"1234", b"sixteen byte sl7", KdfCost::FAST).expect("kdf");
        assert_ne!(k1.as_slice(), other_salt.as_slice());
        let other_cost = KdfCost {
            t_cost: 2,
            ..KdfCost::FAST
        };
        let k3 = derive_key(b"1234", SALT, other_cost).expect("kdf");
        assert_ne!(k1.as_slice(), k3.as_slice());
    }

    #[test]
    fn kdf_known_answer() {
        // RFC 9106 §5.3 uses secret and associated data, which this API does
        // not; this vector is the reference `argon2` CLI's output:
        // echo -n password | argon2 somesalt -id -m 8 -t 2 -p 1 -l 32 -r
        let cost = KdfCost {
            m_cost_kib: 256,
            t_cost: 2,
            lanes: 1,
        };
        let key = derive_key(b"password", b"somesalt", cost).expect("kdf");
        assert_eq!(
            hex(key.as_slice()),
            "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe"
        );
    }

    #[test]
    fn bad_parameters_fail() {
        let cost = KdfCost {
            m_cost_kib: 1,
            t_cost: 1,
            lanes: 1,
        };
        assert_eq!(derive_key(b"1", SALT, cost).err(), Some(Rv::GENERAL_ERROR));
        assert!(derive_key(b"1", b"short", KdfCost::FAST).is_err());
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// KDF cost; run with
    /// `cargo test --release --lib secure::pin -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_kdf() {
        for (name, cost, runs) in [
            ("PRODUCTION", KdfCost::PRODUCTION, 5),
            ("FAST", KdfCost::FAST, 50),
        ] {
            let _ = derive_key(b"warm-up", SALT, cost).expect("kdf");
            let t = std::time::Instant::now();
            for _ in 0..runs {
                std::hint::black_box(derive_key(b"123456", SALT, cost).expect("kdf"));
            }
            let ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
            eprintln!("{name}: {ms:.2} ms per derivation");
        }
    }
}
