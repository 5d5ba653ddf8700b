//! Message digests (PKCS#11 3.0 Current Mechanisms §2.16–2.20, §2.25, §6.x):
//! SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 and SHA3-256/384/512 through
//! aws-lc-rs; MD5 through the `md-5` crate, offered for C_Digest only (as
//! SoftHSMv2 does) — no MD5 signature or HMAC mechanism exists here.
//!
//! [`Hash`] is also what the hash-and-sign mechanisms (CKM_ECDSA_SHA256 ...)
//! use to digest their input.

use aws_lc_rs::digest as lc;
use cryptoki_sys::*;
use md5::Digest as _;

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

    /// A new running hash.
    pub fn start(self) -> Hasher {
        let lc = |alg: &'static lc::Algorithm| Hasher::Lc(lc::Context::new(alg));
        match self {
            Hash::Md5 => Hasher::Md5(md5::Md5::new()),
            Hash::Sha1 => lc(&lc::SHA1_FOR_LEGACY_USE_ONLY),
            Hash::Sha224 => lc(&lc::SHA224),
            Hash::Sha256 => lc(&lc::SHA256),
            Hash::Sha384 => lc(&lc::SHA384),
            Hash::Sha512 => lc(&lc::SHA512),
            Hash::Sha3_256 => lc(&lc::SHA3_256),
            Hash::Sha3_384 => lc(&lc::SHA3_384),
            Hash::Sha3_512 => lc(&lc::SHA3_512),
        }
    }

    /// The digest of `data` in one call.
    pub fn digest(self, data: &[u8]) -> HashValue {
        let mut h = self.start();
        h.update(data);
        h.finish()
    }
}

/// A running hash.
pub enum Hasher {
    Lc(lc::Context),
    Md5(md5::Md5),
}

impl Hasher {
    /// Feed data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Lc(c) => c.update(data),
            Hasher::Md5(c) => c.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> HashValue {
        let mut out = HashValue {
            bytes: [0; 64],
            len: 0,
        };
        match self {
            Hasher::Lc(c) => {
                let d = c.finish();
                out.len = d.as_ref().len();
                out.bytes[..out.len].copy_from_slice(d.as_ref());
            }
            Hasher::Md5(c) => {
                out.len = 16;
                out.bytes[..16].copy_from_slice(&c.finalize());
            }
        }
        out
    }
}

/// A digest value (at most 64 bytes), on the stack.
#[derive(Clone, Copy)]
pub struct HashValue {
    bytes: [u8; 64],
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
        Ok(Box::new(Running {
            len: self.0.output_len(),
            hasher: self.0.start(),
        }))
    }
}

struct Running {
    len: usize,
    hasher: Hasher,
}

impl DigestOp for Running {
    fn output_len(&self) -> usize {
        self.len
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.hasher.update(data);
        Ok(())
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let value = self.hasher.finish();
        out.get_mut(..self.len)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(value.as_ref());
        Ok(self.len)
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
    fn parameter_refused() {
        assert!(matches!(
            SHA1.start(&MechParam::Bytes(vec![1])),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
    }
}
