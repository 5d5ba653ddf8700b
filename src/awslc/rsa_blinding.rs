//! Blinding pairs for [`super::RsaKey::private_transform`], kept per
//! modulus in locked memory across operations (see the parent module's doc
//! for why), and the AWS-LC big-number contexts they are used with.

use std::ptr::NonNull;

use aws_lc_rs::digest;
use aws_lc_sys as sys;
use parking_lot::{const_mutex, Mutex};

use crate::awslc::{clear_errors, BigNum};
use crate::error::{Result, Rv};
use crate::secure::{self, SecretBytes};

/// Uses of a blinding pair before it is replaced (AWS-LC's and OpenSSL's
/// BN_BLINDING_COUNTER).
pub(super) const BLINDING_USES: u32 = 32;
/// Pairs kept at most (the oldest go first).
const MAX_PAIRS: usize = 64;

/// (A, Ai) = (r^e, r^-1) mod n, big-endian, k bytes each, in locked
/// memory.
pub(super) struct BlindingPair {
    /// SHA-256 of n and e: which key the pair is for.
    id: [u8; 32],
    pub(super) a: SecretBytes,
    pub(super) ai: SecretBytes,
    pub(super) uses: u32,
}

struct PairCache {
    /// The fork generation the pairs were made in.
    generation: u64,
    pairs: Vec<BlindingPair>,
}

static BLINDINGS: Mutex<PairCache> = const_mutex(PairCache {
    generation: 0,
    pairs: Vec::new(),
});

impl BlindingPair {
    /// A new pair: r random in [1, n), Ai = r^-1 (AWS-LC's blinded,
    /// constant-time inversion), A = r^e.
    pub(super) fn fresh(
        id: [u8; 32],
        n: *const sys::BIGNUM,
        e: *const sys::BIGNUM,
        mont: &Mont,
        ctx: &BnCtx,
        k: usize,
    ) -> Result<BlindingPair> {
        let r = BigNum::new()?;
        let ai = BigNum::new()?;
        let a = BigNum::new()?;
        let mut no_inverse = 0;
        // SAFETY: all numbers, the Montgomery context (for n) and the BN
        // context are live; n and e are the key's.
        let ok = unsafe {
            sys::BN_rand_range_ex(r.0.as_ptr(), 1, n) == 1
                && sys::BN_mod_inverse_blinded(
                    ai.0.as_ptr(),
                    &mut no_inverse,
                    r.0.as_ptr(),
                    mont.0.as_ptr(),
                    ctx.0.as_ptr(),
                ) == 1
                && sys::BN_mod_exp_mont(
                    a.0.as_ptr(),
                    r.0.as_ptr(),
                    e,
                    n,
                    ctx.0.as_ptr(),
                    mont.0.as_ptr(),
                ) == 1
        };
        if !ok {
            clear_errors();
            return Err(Rv::FUNCTION_FAILED);
        }
        let mut pair = BlindingPair {
            id,
            a: SecretBytes::try_zeroed(k)?,
            ai: SecretBytes::try_zeroed(k)?,
            uses: 0,
        };
        a.write_be(pair.a.as_mut_slice())?;
        ai.write_be(pair.ai.as_mut_slice())?;
        Ok(pair)
    }
}

/// SHA-256 of n ‖ e (each as k / len(e) big-endian bytes).
pub(super) fn modulus_id(n: *const sys::BIGNUM, e: *const sys::BIGNUM) -> Result<[u8; 32]> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for bn in [n, e] {
        // SAFETY: a live number borrowed from the key.
        let len = unsafe { sys::BN_num_bytes(bn) } as usize;
        let mut bytes = vec![0u8; len];
        // SAFETY: `bytes` holds exactly the number's length.
        if unsafe { sys::BN_bn2bin_padded(bytes.as_mut_ptr(), len, bn) } != 1 {
            return Err(Rv::FUNCTION_FAILED);
        }
        ctx.update(&(len as u64).to_be_bytes());
        ctx.update(&bytes);
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(ctx.finish().as_ref());
    Ok(id)
}

/// How long a thread waits for the pair cache before making its own pair:
/// the lock is held for a few list operations, so only a forked child whose
/// parent held it (the lock then never opens) waits this long.
const CACHE_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

/// A cached pair for the key `id`, taken out of the cache (so two threads
/// never share one). None when there is none, or when the cache's lock
/// cannot be had (see [`CACHE_WAIT`]).
pub(super) fn take_pair(id: &[u8; 32]) -> Option<BlindingPair> {
    let mut cache = BLINDINGS.try_lock_for(CACHE_WAIT)?;
    let generation = secure::fork_generation();
    if cache.generation != generation {
        // Inherited from the parent: its pairs are its own.
        cache.pairs.clear();
        cache.generation = generation;
    }
    let i = cache.pairs.iter().position(|p| &p.id == id)?;
    Some(cache.pairs.swap_remove(i))
}

/// Return a pair to the cache.
pub(super) fn put_pair(pair: BlindingPair) {
    if let Some(mut cache) = BLINDINGS.try_lock_for(CACHE_WAIT) {
        if cache.generation != secure::fork_generation() {
            return;
        }
        if cache.pairs.len() >= MAX_PAIRS {
            cache.pairs.remove(0);
        }
        cache.pairs.push(pair);
    }
}

/// A BN_CTX for one operation.
pub(super) struct BnCtx(pub(super) NonNull<sys::BN_CTX>);

impl BnCtx {
    pub(super) fn new() -> Result<BnCtx> {
        // SAFETY: plain constructor; NULL handled.
        NonNull::new(unsafe { sys::BN_CTX_new() })
            .map(BnCtx)
            .ok_or(Rv::DEVICE_MEMORY)
    }
}

impl Drop for BnCtx {
    fn drop(&mut self) {
        // SAFETY: ours.
        unsafe { sys::BN_CTX_free(self.0.as_ptr()) }
    }
}

/// A Montgomery context for one modulus.
pub(super) struct Mont(pub(super) NonNull<sys::BN_MONT_CTX>);

impl Mont {
    /// a·b mod n (from plain residues: `a` is taken into Montgomery form,
    /// and the Montgomery product of aR and b is ab).
    pub(super) fn mul(&self, a: &BigNum, b: &BigNum, ctx: &BnCtx) -> Result<BigNum> {
        let am = BigNum::new()?;
        let out = BigNum::new()?;
        // SAFETY: all numbers and contexts are live; a and b are below n.
        let ok = unsafe {
            sys::BN_to_montgomery(am.0.as_ptr(), a.0.as_ptr(), self.0.as_ptr(), ctx.0.as_ptr()) == 1
                && sys::BN_mod_mul_montgomery(
                    out.0.as_ptr(),
                    am.0.as_ptr(),
                    b.0.as_ptr(),
                    self.0.as_ptr(),
                    ctx.0.as_ptr(),
                ) == 1
        };
        if ok {
            Ok(out)
        } else {
            clear_errors();
            Err(Rv::FUNCTION_FAILED)
        }
    }
}

impl Drop for Mont {
    fn drop(&mut self) {
        // SAFETY: ours.
        unsafe { sys::BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}
