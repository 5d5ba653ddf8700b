//! Message digests (PKCS#11 3.0 Current Mechanisms §2.16–2.20, §2.25, §6.x):
//! MD5, SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512 on AWS-LC's hash
//! contexts (`crate::awslc::digest`), whose running state can be saved and
//! restored (C_GetOperationState / C_SetOperationState); SHA3-256/384/512
//! through aws-lc-rs, whose state cannot (AWS-LC's Keccak context is not in
//! its public API). MD5 is offered for C_Digest only (as SoftHSMv2 does): no
//! MD5 signature or HMAC mechanism exists here.
//!
//! [`Hash`] is also what the hash-and-sign mechanisms (CKM_ECDSA_SHA256 ...)
//! use to digest their input.

use aws_lc_rs::digest as lc;
use cryptoki_sys::*;

use crate::awslc::digest::{Algorithm, HashCtx, MAX_OUTPUT_LEN};
use crate::backend::MechParam;
use crate::error::{Result, Rv};
use crate::mechanisms::{no_param, DigestOp};

/// A hash function, by its CKM_ digest mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

/// Where a hash runs.
enum Engine {
    /// An AWS-LC context: state can be saved.
    Ctx(Algorithm),
    /// aws-lc-rs's `digest::Context`.
    Lc(&'static lc::Algorithm),
}

impl Hash {
    /// The digest's length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Hash::Md5 => 16,
            Hash::Sha1 => 20,
            Hash::Sha224 => 28,
            Hash::Sha256 | Hash::Sha3_256 => 32,
            Hash::Sha384 | Hash::Sha3_384 => 48,
            Hash::Sha512 | Hash::Sha3_512 => 64,
        }
    }

    /// The CKM_ digest mechanism of this hash.
    pub fn mechanism(self) -> CK_MECHANISM_TYPE {
        match self {
            Hash::Md5 => CKM_MD5,
            Hash::Sha1 => CKM_SHA_1,
            Hash::Sha224 => CKM_SHA224,
            Hash::Sha256 => CKM_SHA256,
            Hash::Sha384 => CKM_SHA384,
            Hash::Sha512 => CKM_SHA512,
            Hash::Sha3_256 => CKM_SHA3_256,
            Hash::Sha3_384 => CKM_SHA3_384,
            Hash::Sha3_512 => CKM_SHA3_512,
        }
    }

    fn engine(self) -> Engine {
        match self {
            Hash::Md5 => Engine::Ctx(Algorithm::Md5),
            Hash::Sha1 => Engine::Ctx(Algorithm::Sha1),
            Hash::Sha224 => Engine::Ctx(Algorithm::Sha224),
            Hash::Sha256 => Engine::Ctx(Algorithm::Sha256),
            Hash::Sha384 => Engine::Ctx(Algorithm::Sha384),
            Hash::Sha512 => Engine::Ctx(Algorithm::Sha512),
            Hash::Sha3_256 => Engine::Lc(&lc::SHA3_256),
            Hash::Sha3_384 => Engine::Lc(&lc::SHA3_384),
            Hash::Sha3_512 => Engine::Lc(&lc::SHA3_512),
        }
    }

    /// A new running hash.
    pub fn start(self) -> Hasher {
        Hasher(match self.engine() {
            Engine::Ctx(alg) => Running::Ctx(HashCtx::new(alg)),
            Engine::Lc(alg) => Running::Lc(lc::Context::new(alg)),
        })
    }

    /// The digest of `data` in one call.
    pub fn digest(self, data: &[u8]) -> HashValue {
        let mut h = self.start();
        h.update(data);
        h.finish()
    }
}

/// A running hash.
pub struct Hasher(Running);

enum Running {
    Ctx(HashCtx),
    Lc(lc::Context),
}

impl Hasher {
    /// Feed data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            Running::Ctx(c) => c.update(data),
            Running::Lc(c) => c.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> HashValue {
        let mut out = HashValue {
            bytes: [0; MAX_OUTPUT_LEN],
            len: 0,
        };
        match self.0 {
            Running::Ctx(c) => out.len = c.finish(&mut out.bytes),
            Running::Lc(c) => {
                let d = c.finish();
                out.len = d.as_ref().len();
                out.bytes[..out.len].copy_from_slice(d.as_ref());
            }
        }
        out
    }

    /// The running state (`crate::awslc::digest`'s format), for the hashes
    /// on an AWS-LC context; None for the others.
    fn export(&self) -> Option<Vec<u8>> {
        match &self.0 {
            Running::Ctx(c) => Some(c.export()),
            Running::Lc(_) => None,
        }
    }
}

/// A digest value (at most 64 bytes), on the stack.
#[derive(Clone, Copy)]
pub struct HashValue {
    bytes: [u8; MAX_OUTPUT_LEN],
    len: usize,
}

impl AsRef<[u8]> for HashValue {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The digest mechanisms: one capability object per hash.
pub struct DigestMech(pub Hash);

pub static MD5: DigestMech = DigestMech(Hash::Md5);
pub static SHA1: DigestMech = DigestMech(Hash::Sha1);
pub static SHA224: DigestMech = DigestMech(Hash::Sha224);
pub static SHA256: DigestMech = DigestMech(Hash::Sha256);
pub static SHA384: DigestMech = DigestMech(Hash::Sha384);
pub static SHA512: DigestMech = DigestMech(Hash::Sha512);
pub static SHA3_256: DigestMech = DigestMech(Hash::Sha3_256);
pub static SHA3_384: DigestMech = DigestMech(Hash::Sha3_384);
pub static SHA3_512: DigestMech = DigestMech(Hash::Sha3_512);

/// The hash of a CKM_ digest mechanism, for mechanisms that name one in
/// their parameters (PSS, OAEP, HKDF ...).
pub fn hash_of(mechanism: CK_MECHANISM_TYPE) -> Option<Hash> {
    Some(match mechanism {
        CKM_MD5 => Hash::Md5,
        CKM_SHA_1 => Hash::Sha1,
        CKM_SHA224 => Hash::Sha224,
        CKM_SHA256 => Hash::Sha256,
        CKM_SHA384 => Hash::Sha384,
        CKM_SHA512 => Hash::Sha512,
        CKM_SHA3_256 => Hash::Sha3_256,
        CKM_SHA3_384 => Hash::Sha3_384,
        CKM_SHA3_512 => Hash::Sha3_512,
        _ => return None,
    })
}

impl crate::mechanisms::Digest for DigestMech {
    fn start(&self, param: &MechParam) -> Result<Box<dyn DigestOp>> {
        no_param(param)?;
        Ok(Box::new(Digesting {
            hash: self.0,
            hasher: self.0.start(),
            keyed: false,
        }))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn DigestOp>> {
        let Engine::Ctx(alg) = self.0.engine() else {
            return Err(Rv::SAVED_STATE_INVALID);
        };
        Ok(Box::new(Digesting {
            hash: self.0,
            hasher: Hasher(Running::Ctx(HashCtx::import(alg, state)?)),
            keyed: false,
        }))
    }
}

/// An active digest. `keyed`: C_DigestKey fed it a key, so its state is
/// not given out.
struct Digesting {
    hash: Hash,
    hasher: Hasher,
    keyed: bool,
}

impl DigestOp for Digesting {
    fn output_len(&self) -> usize {
        self.hash.output_len()
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.hasher.update(data);
        Ok(())
    }

    fn update_secret(&mut self, key: &[u8]) -> Result<()> {
        self.keyed = true;
        self.hasher.update(key);
        Ok(())
    }

    fn save(&self) -> Result<(CK_MECHANISM_TYPE, Vec<u8>)> {
        if self.keyed {
            return Err(Rv::STATE_UNSAVEABLE);
        }
        let state = self.hasher.export().ok_or(Rv::STATE_UNSAVEABLE)?;
        Ok((self.hash.mechanism(), state))
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let len = self.hash.output_len();
        let value = self.hasher.finish();
        out.get_mut(..len)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(value.as_ref());
        Ok(len)
    }
}

/// The input of a signature or verification: the caller's digest (or
/// DigestInfo), given once in a single-part call, or a running hash for the
/// hash-and-sign mechanisms (multi-part). Shared by the EC and RSA families.
pub enum SignInput {
    Given(Option<Vec<u8>>),
    Hashing(Hasher),
}

impl SignInput {
    /// A running hash of `hash`, or (None) the caller's own digest.
    pub fn new(hash: Option<Hash>) -> SignInput {
        match hash {
            None => SignInput::Given(None),
            Some(h) => SignInput::Hashing(h.start()),
        }
    }

    /// Whether C_SignUpdate / C_VerifyUpdate may feed it.
    pub fn multipart(&self) -> bool {
        matches!(self, SignInput::Hashing(_))
    }

    /// Feed data: the whole digest once, or a part to hash.
    ///
    /// # Errors
    /// CKR_FUNCTION_NOT_SUPPORTED for a second part of a given digest.
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        match self {
            SignInput::Given(d @ None) => {
                *d = Some(data.to_vec());
                Ok(())
            }
            SignInput::Given(Some(_)) => Err(Rv::FUNCTION_NOT_SUPPORTED),
            SignInput::Hashing(h) => {
                h.update(data);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::Digest as _;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// FIPS 180-2 / RFC 1321 / FIPS 202 "abc" vectors.
    #[test]
    fn known_answers_abc() {
        let cases = [
            (Hash::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (Hash::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                Hash::Sha224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                Hash::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                Hash::Sha384,
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
                 8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                Hash::Sha512,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                 2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                Hash::Sha3_256,
                "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            ),
        ];
        for (hash, want) in cases {
            assert_eq!(hex(hash.digest(b"abc").as_ref()), want, "{hash:?}");
            assert_eq!(hash.output_len(), want.len() / 2);
        }
    }

    #[test]
    fn multipart_equals_single_part() {
        let op = SHA256.start(&MechParam::None).expect("starts");
        let mut op = op;
        op.update(b"a").expect("update");
        op.update(b"bc").expect("update");
        let mut out = [0u8; 32];
        assert_eq!(op.finish(&mut out).expect("finish"), 32);
        assert_eq!(&out[..], Hash::Sha256.digest(b"abc").as_ref());
    }

    #[test]
    fn mechanism_and_hash_of_agree() {
        use Hash::*;
        for h in [
            Md5, Sha1, Sha224, Sha256, Sha384, Sha512, Sha3_256, Sha3_384, Sha3_512,
        ] {
            assert_eq!(hash_of(h.mechanism()), Some(h));
        }
    }

    #[test]
    fn saved_state_goes_on_elsewhere() {
        for mech in [&MD5, &SHA1, &SHA224, &SHA256, &SHA384, &SHA512] {
            let mut op = mech.start(&MechParam::None).expect("starts");
            op.update(b"the first part, ").expect("update");
            let (kind, state) = op.save().expect("saves");
            assert_eq!(kind, mech.0.mechanism());
            let mut restored = mech.restore(&state).expect("restores");
            for o in [&mut op, &mut restored] {
                o.update(b"and the rest").expect("update");
            }
            let mut a = [0u8; 64];
            let mut b = [0u8; 64];
            let n = op.finish(&mut a).expect("finish");
            assert_eq!(restored.finish(&mut b).expect("finish"), n);
            let want = mech.0.digest(b"the first part, and the rest");
            assert_eq!(&a[..n], want.as_ref());
            assert_eq!(&b[..n], want.as_ref());
        }
    }

    #[test]
    fn keyed_and_sha3_states_are_unsaveable() {
        let mut op = SHA256.start(&MechParam::None).expect("starts");
        op.update(b"data").expect("update");
        op.update_secret(b"key bytes").expect("key");
        assert!(matches!(op.save(), Err(Rv::STATE_UNSAVEABLE)));
        op.update(b"more").expect("update");
        assert!(matches!(op.save(), Err(Rv::STATE_UNSAVEABLE)));

        let op = SHA3_256.start(&MechParam::None).expect("starts");
        assert!(matches!(op.save(), Err(Rv::STATE_UNSAVEABLE)));
        let (_, sha256_state) = SHA256
            .start(&MechParam::None)
            .expect("starts")
            .save()
            .expect("saves");
        assert!(matches!(
            SHA3_256.restore(&sha256_state),
            Err(Rv::SAVED_STATE_INVALID)
        ));
    }

    #[test]
    fn state_of_another_hash_is_refused() {
        let (_, sha1_state) = SHA1
            .start(&MechParam::None)
            .expect("starts")
            .save()
            .expect("saves");
        for other in [&MD5, &SHA224, &SHA256, &SHA384, &SHA512] {
            assert!(
                matches!(other.restore(&sha1_state), Err(Rv::SAVED_STATE_INVALID)),
                "{:?}",
                other.0
            );
        }
    }

    /// SHA-256 on AWS-LC's context (this path) against aws-lc-rs's
    /// `digest::Context` (the path before it), 1 MiB in one update and
    /// 64-byte messages. Run:
    /// `cargo test --release --lib mechanisms::digest::tests::sha256_speed -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement"]
    fn sha256_speed() {
        use std::hint::black_box;
        use std::time::Instant;
        /// Seconds per call of `f`, over `rounds` calls.
        fn time(rounds: u32, mut f: impl FnMut()) -> f64 {
            let t = Instant::now();
            for _ in 0..rounds {
                f();
            }
            t.elapsed().as_secs_f64() / f64::from(rounds)
        }
        for (len, rounds) in [(1 << 20, 100), (64, 100_000)] {
            let data = vec![0x5au8; len];
            let ctx = || {
                let mut h = Hash::Sha256.start();
                h.update(black_box(&data));
                black_box(h.finish());
            };
            let lc = || {
                let mut h = lc::Context::new(&lc::SHA256);
                h.update(black_box(&data));
                black_box(h.finish());
            };
            // Best of 9 rounds, the two paths taking turns.
            let (mut best_ctx, mut best_lc) = (f64::MAX, f64::MAX);
            for _ in 0..9 {
                best_ctx = best_ctx.min(time(rounds, ctx));
                best_lc = best_lc.min(time(rounds, lc));
            }
            let mib = |t: f64| len as f64 / t / f64::from(1u32 << 20);
            println!(
                "{len} B: SHA256_CTX {:.0}/s ({:.0} MiB/s), digest::Context {:.0}/s ({:.0} MiB/s), ratio {:.3}",
                1.0 / best_ctx,
                mib(best_ctx),
                1.0 / best_lc,
                mib(best_lc),
                best_lc / best_ctx
            );
        }
    }

    #[test]
    fn parameter_refused() {
        assert!(matches!(
            SHA1.start(&MechParam::Bytes(vec![1])),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
    }
}
