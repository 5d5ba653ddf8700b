//! Key values sealed in memory under the per-process master key.
//!
//! A [`Sealed`] value is `nonce || ciphertext || tag` (AES-256-GCM) in
//! ordinary memory: ordinary memory only ever holds ciphertext. The master
//! key is 32 random bytes in a [`SecretBytes`], made on first use. Each seal
//! or unseal builds the AES key schedule for that one call (aws-lc wipes it
//! when it is freed), so no expanded copy of the master key lives in
//! ordinary memory between operations.
//!
//! Nonces are deterministic (RFC 5116 §3.2): a 32-bit random prefix fixed
//! per master key, then a 64-bit counter. That is unique per key and costs
//! nothing, where a 96-bit random nonce from aws-lc's RNG cost ~640 ns, more
//! than the rest of a seal. A key never outlives its process generation:
//!
//! After `fork()` the child gets a new master key (and so a new counter):
//! through the fork handlers on Linux; through a canary next to the key that
//! `MADV_WIPEONFORK` zeroes in the child (should the handlers not have run,
//! e.g. a raw `clone`); or through [`reset_after_fork`]. Values sealed by
//! the parent then fail to unseal in the child, which must start afresh
//! (DESIGN.md: the child behaves as an uninitialized library).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use std::cell::RefCell;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Result, Rv};
use crate::secure::{fork, SecretBytes};

/// GCM tag length.
const TAG_LEN: usize = 16;

/// Master key length (AES-256).
const MASTER_LEN: usize = 32;

/// Canary bytes after the key: non-zero while the key is this process's,
/// zero in a child whose secret pages were wiped on fork.
const CANARY_LEN: usize = 8;

/// The master key, or `None` before first use and after a reset.
///
/// A std (futex) lock for the reason given at the arena's lock: a forked
/// child must be able to release what the fork handler took.
static MASTER: RwLock<Option<MasterKey>> = RwLock::new(None);

thread_local! {
    /// The write guard held across a fork by the forking thread.
    static HELD_OVER_FORK: RefCell<Option<RwLockWriteGuard<'static, Option<MasterKey>>>> =
        const { RefCell::new(None) };
}

/// The master key, read-locked (a lock poisoned by a panic is taken over:
/// the key is replaced whole or not at all).
fn read_master() -> RwLockReadGuard<'static, Option<MasterKey>> {
    MASTER
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The master key, write-locked.
fn write_master() -> RwLockWriteGuard<'static, Option<MasterKey>> {
    MASTER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Numbers master keys within this process, so a value sealed under an
/// earlier one is refused before any decryption is tried.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

/// A secret sealed under the per-process master key.
pub struct Sealed {
    /// Which master key sealed it.
    key_id: u64,
    /// `nonce || ciphertext || tag`.
    blob: Box<[u8]>,
}

impl Sealed {
    /// Seal a copy of `secret`.
    ///
    /// # Panics
    /// Only when the master key cannot be made or used, i.e. when secret
    /// memory or the crypto library's memory is exhausted; the ABI layer's
    /// guard turns that into CKR_GENERAL_ERROR. [`Sealed::try_seal`]
    /// returns the error instead.
    pub fn seal(secret: &[u8]) -> Sealed {
        match Sealed::try_seal(secret) {
            Ok(s) => s,
            Err(rv) => panic!("sealing failed: {rv:?}"),
        }
    }

    /// Seal a copy of `secret`.
    ///
    /// # Errors
    /// CKR_HOST_MEMORY when the master key's secret memory cannot be mapped;
    /// CKR_GENERAL_ERROR when the cipher cannot be set up.
    pub fn try_seal(secret: &[u8]) -> Result<Sealed> {
        with_master(|master| {
            let key = master.cipher()?;
            let nonce = master.next_nonce();
            let mut blob = vec![0u8; NONCE_LEN + secret.len() + TAG_LEN].into_boxed_slice();
            blob[..NONCE_LEN].copy_from_slice(&nonce);
            let (ct, tag) = blob[NONCE_LEN..].split_at_mut(secret.len());
            key.seal_out_of_place_scatter(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                secret,
                ct,
                &[],
                tag,
            )
            .map_err(|_| Rv::GENERAL_ERROR)?;
            Ok(Sealed {
                key_id: master.id,
                blob,
            })
        })?
    }

    /// Unseal into a secret buffer, for the duration of one operation.
    ///
    /// # Errors
    /// CKR_GENERAL_ERROR when the value was sealed under another master key
    /// (the parent's, after fork, or before [`reset_after_fork`]) or does not
    /// authenticate; CKR_HOST_MEMORY when secret memory cannot be mapped.
    pub fn unseal(&self) -> Result<SecretBytes> {
        with_master(|master| {
            if master.id != self.key_id {
                log::debug!("unseal: value sealed under a previous master key");
                return Err(Rv::GENERAL_ERROR);
            }
            let (nonce, rest) = self.blob.split_at(NONCE_LEN);
            let (ct, tag) = rest.split_at(self.secret_len());
            let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Rv::GENERAL_ERROR)?;
            let key = master.cipher()?;
            let mut out = SecretBytes::try_zeroed(ct.len())?;
            key.open_separate_gather(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                ct,
                tag,
                out.as_mut_slice(),
            )
            .map_err(|_| {
                log::error!("unseal: sealed value failed authentication");
                Rv::GENERAL_ERROR
            })?;
            Ok(out)
        })?
    }

    /// A second sealed copy of the same secret (C_CopyObject).
    ///
    /// The copy carries the same ciphertext: it is never unsealed to be
    /// copied. Two identical (nonce, plaintext) pairs give identical
    /// ciphertexts and reveal nothing, so GCM's nonce rule still holds.
    pub fn duplicate(&self) -> Sealed {
        Sealed {
            key_id: self.key_id,
            blob: self.blob.clone(),
        }
    }

    /// The length of the secret in clear.
    pub fn secret_len(&self) -> usize {
        self.blob.len() - NONCE_LEN - TAG_LEN
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed([REDACTED])")
    }
}

/// Forget the master key and make a new one on next use. The core calls this
/// in a forked child (on Linux the fork handlers already did it); every
/// value sealed before then fails to unseal afterwards, so calling it in a
/// process that still needs its sealed values loses them.
pub fn reset_after_fork() {
    fork::bump();
    // The old key (a copy of the parent's, or zeros after MADV_WIPEONFORK)
    // is zeroized as its SecretBytes drops.
    *write_master() = None;
}

/// Take the master key lock (writer) before a fork; see [`fork`].
pub(super) fn fork_prepare() {
    let guard = write_master();
    HELD_OVER_FORK.with(|held| *held.borrow_mut() = Some(guard));
}

/// Release the lock taken by [`fork_prepare`].
pub(super) fn fork_release() {
    // The forking thread (the child's only thread) drops the guard it kept.
    HELD_OVER_FORK.with(|held| drop(held.borrow_mut().take()));
}

struct MasterKey {
    /// `key || canary`.
    secret: SecretBytes,
    id: u64,
    /// The fork generation this key belongs to.
    generation: u64,
    /// The nonce's fixed field.
    nonce_prefix: [u8; 4],
    /// The nonce's counter field.
    counter: AtomicU64,
}

impl MasterKey {
    fn generate(generation: u64) -> Result<MasterKey> {
        let mut secret = SecretBytes::try_zeroed(MASTER_LEN + CANARY_LEN)?;
        let (key, canary) = secret.as_mut_slice().split_at_mut(MASTER_LEN);
        // Straight from the RNG into secret memory: no copy elsewhere.
        let rng = SystemRandom::new();
        rng.fill(key).map_err(|_| Rv::GENERAL_ERROR)?;
        canary.fill(0xFF);
        let mut nonce_prefix = [0u8; 4];
        rng.fill(&mut nonce_prefix).map_err(|_| Rv::GENERAL_ERROR)?;
        Ok(MasterKey {
            secret,
            id: NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed),
            generation,
            nonce_prefix,
            counter: AtomicU64::new(0),
        })
    }

    fn key(&self) -> &[u8] {
        &self.secret.as_slice()[..MASTER_LEN]
    }

    /// Whether this key is usable in this process generation.
    fn current(&self, generation: u64) -> bool {
        self.generation == generation && self.secret.as_slice()[MASTER_LEN..] != [0; CANARY_LEN]
    }

    /// A nonce never used before with this key.
    fn next_nonce(&self) -> [u8; NONCE_LEN] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(&self.nonce_prefix);
        nonce[4..].copy_from_slice(&n.to_be_bytes());
        nonce
    }

    /// The cipher for one operation; aws-lc zeroizes its context on drop.
    fn cipher(&self) -> Result<LessSafeKey> {
        let unbound = UnboundKey::new(&AES_256_GCM, self.key()).map_err(|_| Rv::GENERAL_ERROR)?;
        Ok(LessSafeKey::new(unbound))
    }
}

/// Run `f` with the current generation's master key, making it first if
/// needed. The read lock is held throughout, so a fork (whose handler takes
/// the write lock) never copies a half-finished operation.
fn with_master<R>(f: impl FnOnce(&MasterKey) -> R) -> Result<R> {
    let generation = fork::generation();
    {
        let guard = read_master();
        if let Some(master) = guard.as_ref().filter(|m| m.current(generation)) {
            return Ok(f(master));
        }
    }
    let mut guard = write_master();
    if !matches!(guard.as_ref(), Some(m) if m.current(generation)) {
        fork::install_handlers();
        *guard = Some(MasterKey::generate(generation)?);
    }
    // Used under the write lock this once (std has no downgrade): only the
    // first use of a generation's key comes here.
    match guard.as_ref() {
        Some(master) => Ok(f(master)),
        None => Err(Rv::GENERAL_ERROR), // just set above
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for len in [0usize, 1, 16, 32, 64, 2400, 5000] {
            let secret: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let sealed = Sealed::seal(&secret);
            assert_eq!(sealed.secret_len(), len);
            assert_eq!(sealed.blob.len(), NONCE_LEN + len + TAG_LEN);
            if len >= 16 {
                assert!(
                    !sealed.blob.windows(16).any(|w| w == &secret[..16]),
                    "plaintext visible in the blob"
                );
            }
            assert_eq!(sealed.unseal().expect("unseal").as_slice(), &secret[..]);
            let copy = sealed.duplicate();
            assert_eq!(copy.unseal().expect("unseal copy").as_slice(), &secret[..]);
        }
    }

    #[test]
    fn two_seals_differ() {
        let a = Sealed::seal(&[42u8; 32]);
        let b = Sealed::seal(&[42u8; 32]);
        assert_ne!(a.blob, b.blob);
        assert_ne!(
            a.blob[..NONCE_LEN],
            b.blob[..NONCE_LEN],
            "nonces must differ"
        );
        assert_eq!(
            a.unseal().expect("a").as_slice(),
            b.unseal().expect("b").as_slice()
        );
    }

    #[test]
    fn tampering_is_detected() {
        let sealed = Sealed::seal(b"0123456789abcdef0123456789abcdef");
        for i in 0..sealed.blob.len() {
            let mut bad = sealed.duplicate();
            bad.blob[i] ^= 0x01;
            assert_eq!(bad.unseal().err(), Some(Rv::GENERAL_ERROR), "byte {i}");
        }
        let mut other_key = sealed.duplicate();
        other_key.key_id = u64::MAX;
        assert!(other_key.unseal().is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let sealed = Sealed::seal(b"topsecret");
        assert_eq!(format!("{sealed:?}"), "Sealed([REDACTED])");
    }

    /// The master key is found in the arena's locked pages and nowhere else
    /// in this process's writable memory. The master key's write lock keeps
    /// concurrent tests out of seal/unseal (so no per-operation key schedule
    /// exists) and the arena's lock keeps its chunks in place while the scan
    /// runs; the test's own copy of the key is masked, so it cannot match
    /// itself.
    #[test]
    fn master_key_only_in_secret_memory() {
        let _ = Sealed::seal(b"make sure the master key exists");
        let guard = write_master();
        let master = guard.as_ref().expect("master key exists");
        let masked: Vec<u8> = master.key().iter().map(|b| b ^ MASK).collect();
        let (inside, outside) =
            crate::secure::arena::with_global_ranges(|secret| scan_own_memory(&masked, secret));
        drop(guard);
        assert!(inside >= 1, "the scan should find the key in the arena");
        assert_eq!(outside, 0, "master key found in ordinary memory");
    }

    const MASK: u8 = 0xA5;

    /// Count occurrences of the unmasked pattern in this process's writable
    /// mappings, inside and outside `secret`.
    fn scan_own_memory(masked: &[u8], secret: &[std::ops::Range<usize>]) -> (usize, usize) {
        use std::os::unix::fs::FileExt;
        const STEP: usize = 1 << 20;
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let mem = std::fs::File::open("/proc/self/mem").expect("mem");
        let in_secret = |addr: usize| secret.iter().any(|r| r.contains(&addr));
        let (mut inside, mut outside) = (0, 0);
        let mut buf = vec![0u8; STEP + masked.len()];
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            if !perms.starts_with("rw") {
                continue;
            }
            let mut at = start;
            while at < end {
                let want = (end - at).min(buf.len());
                let n = mem.read_at(&mut buf[..want], at as u64).unwrap_or(0);
                let first = masked[0] ^ MASK;
                for i in 0..n.min(STEP).min((n + 1).saturating_sub(masked.len())) {
                    if buf[i] == first
                        && buf[i..i + masked.len()]
                            .iter()
                            .zip(masked)
                            .all(|(b, m)| b ^ MASK == *m)
                    {
                        if in_secret(at + i) {
                            inside += 1;
                        } else {
                            outside += 1;
                        }
                    }
                }
                // The buffer may now hold a copy of secret memory: wipe it
                // before it is itself part of a later region's scan.
                buf.iter_mut().for_each(|b| *b = 0);
                std::hint::black_box(&buf);
                if n == 0 {
                    break;
                }
                at += STEP;
            }
        }
        (inside, outside)
    }

    /// In a forked child the parent's sealed values no longer unseal, new
    /// ones work, and the parent is unaffected.
    #[test]
    fn fork_child_gets_a_new_master_key() {
        let sealed = Sealed::seal(b"parent secret value, 32 bytes!!!");
        let kept = SecretBytes::from_slice(b"parent secret buffer");
        // SAFETY: the child only runs the closure below and leaves with
        // _exit, never returning into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(|| {
                let mut code = 0;
                if sealed.unseal().is_ok() {
                    code |= 1;
                }
                let fresh = Sealed::seal(b"child secret");
                if fresh.unseal().map(|s| s.as_slice() == b"child secret") != Ok(true) {
                    code |= 2;
                }
                // The explicit reset works the same way.
                reset_after_fork();
                if fresh.unseal().is_ok() {
                    code |= 16;
                }
                // A wiped canary (what MADV_WIPEONFORK does to a child whose
                // fork handlers did not run) also retires the key.
                let before = Sealed::seal(b"before the canary");
                if let Some(m) = write_master().as_mut() {
                    m.secret.as_mut_slice()[MASTER_LEN..].fill(0);
                }
                if before.unseal().is_ok() {
                    code |= 32;
                }
                if Sealed::seal(b"after").unseal().is_err() {
                    code |= 64;
                }
                // With MADV_WIPEONFORK the child's copy is zeros.
                let wiped = kept.as_slice().iter().all(|&b| b == 0);
                if !wiped && kept.as_slice() != b"parent secret buffer" {
                    code |= 4;
                }
                code
            })
            .unwrap_or(8);
            // SAFETY: leaving the forked child without running the
            // harness's atexit handlers or destructors.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child we just forked.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid);
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 0, "child checks failed");
        assert_eq!(
            sealed.unseal().expect("parent still unseals").as_slice(),
            b"parent secret value, 32 bytes!!!"
        );
        assert_eq!(kept.as_slice(), b"parent secret buffer");
    }

    /// Seal + unseal cost; run with
    /// `cargo test --release --lib secure::seal -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_seal_unseal() {
        let secret = [7u8; 32];
        let n = 200_000;
        let sealed = Sealed::seal(&secret);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(Sealed::seal(std::hint::black_box(&secret)));
        }
        let seal_ns = t.elapsed().as_nanos() / n;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(sealed.unseal().expect("unseal"));
        }
        let unseal_ns = t.elapsed().as_nanos() / n;
        eprintln!("32-byte secret: seal {seal_ns} ns, unseal {unseal_ns} ns");
    }
}
