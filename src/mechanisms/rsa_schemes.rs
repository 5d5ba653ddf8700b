//! The signature schemes of [`super`]: which padding, hash, MGF1 hash and
//! PSS salt a mechanism and its parameter select, and the DigestInfo
//! encodings of PKCS#1 v1.5 signatures.

use cryptoki_sys::*;

use crate::error::{Result, Rv};
use crate::mechanisms::digest::{hash_of, Hash};

/// What one signature or verification does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scheme {
    /// PKCS#1 v1.5 (RFC 8017 §8.2): on a running `hash` (its DigestInfo is
    /// signed), or, for CKM_RSA_PKCS (None), on the caller's data of at
    /// most k − 11 bytes.
    Pkcs1(Option<Hash>),
    /// PSS (RFC 8017 §8.1) on a digest of `hash`, MGF1 over `mgf1`.
    Pss { hash: Hash, mgf1: Hash, salt: usize },
    /// CKM_RSA_X_509: raw RSA on at most k bytes.
    X509,
}

impl Scheme {
    /// The scheme of a PSS mechanism (`mine`: its own hash, None for
    /// CKM_RSA_PKCS_PSS) and its CK_RSA_PKCS_PSS_PARAMS, for a key of `bits`
    /// bits. PKCS#11 3.0 §2.1.14: hashAlg must be the mechanism's hash
    /// where it has one; the MGF may use another hash; sLen is at most
    /// emLen − hLen − 2.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID.
    pub(super) fn pss(
        mine: Option<Hash>,
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        salt: CK_ULONG,
        bits: usize,
    ) -> Result<Scheme> {
        let hash = hash_of(hash)
            .filter(|h| rsa_hash(*h) && mine.is_none_or(|m| m == *h))
            .ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        let mgf1 = mgf1_hash(mgf).ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        let salt = usize::try_from(salt).map_err(|_| Rv::MECHANISM_PARAM_INVALID)?;
        if max_salt(bits, hash).is_none_or(|max| salt > max) {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        Ok(Scheme::Pss { hash, mgf1, salt })
    }

    /// The hash C_SignUpdate feeds, if the scheme hashes for the caller.
    pub(super) fn running_hash(self, mechanism_hashes: bool) -> Option<Hash> {
        match self {
            Scheme::Pkcs1(h) => h,
            Scheme::Pss { hash, .. } if mechanism_hashes => Some(hash),
            Scheme::Pss { .. } | Scheme::X509 => None,
        }
    }

    /// Whether an input of `n` bytes (the digest, DigestInfo or data) fits
    /// a key of `k` bytes.
    pub(super) fn input_fits(self, n: usize, k: usize) -> bool {
        match self {
            Scheme::Pkcs1(Some(h)) | Scheme::Pss { hash: h, .. } => n == h.output_len(),
            Scheme::Pkcs1(None) => n + 11 <= k,
            Scheme::X509 => n <= k,
        }
    }
}

/// The hashes RSA signs and encrypts with (SHA-1 and SHA-2).
pub(super) fn rsa_hash(hash: Hash) -> bool {
    matches!(
        hash,
        Hash::Sha1 | Hash::Sha224 | Hash::Sha256 | Hash::Sha384 | Hash::Sha512
    )
}

/// The hash of a CKG_MGF1_ function.
pub(super) fn mgf1_hash(mgf: CK_RSA_PKCS_MGF_TYPE) -> Option<Hash> {
    Some(match mgf {
        CKG_MGF1_SHA1 => Hash::Sha1,
        CKG_MGF1_SHA224 => Hash::Sha224,
        CKG_MGF1_SHA256 => Hash::Sha256,
        CKG_MGF1_SHA384 => Hash::Sha384,
        CKG_MGF1_SHA512 => Hash::Sha512,
        _ => return None,
    })
}

/// The largest PSS salt for a key of `bits` bits: emLen − hLen − 2, with
/// emLen = ⌈(bits − 1) / 8⌉ (RFC 8017 §9.1.1).
pub(super) fn max_salt(bits: usize, hash: Hash) -> Option<usize> {
    (bits.saturating_sub(1).div_ceil(8)).checked_sub(hash.output_len() + 2)
}

/// The DER DigestInfo prefix of a hash (RFC 8017 §9.2 note 1, NULL
/// parameters), followed by the digest itself.
pub(super) fn digest_info_prefix(hash: Hash) -> Option<&'static [u8]> {
    Some(match hash {
        Hash::Sha1 => &SHA1_PREFIX,
        Hash::Sha224 => &SHA224_PREFIX,
        Hash::Sha256 => &SHA256_PREFIX,
        Hash::Sha384 => &SHA384_PREFIX,
        Hash::Sha512 => &SHA512_PREFIX,
        _ => return None,
    })
}

const SHA1_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
const SHA224_PREFIX: [u8; 19] = sha2_prefix(0x2d, 0x04, 0x1c);
const SHA256_PREFIX: [u8; 19] = sha2_prefix(0x31, 0x01, 0x20);
const SHA384_PREFIX: [u8; 19] = sha2_prefix(0x41, 0x02, 0x30);
const SHA512_PREFIX: [u8; 19] = sha2_prefix(0x51, 0x03, 0x40);

/// The DigestInfo prefix of a SHA-2 hash (OID 2.16.840.1.101.3.4.2.`arc`).
const fn sha2_prefix(total: u8, arc: u8, len: u8) -> [u8; 19] {
    [
        0x30, total, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, arc,
        0x05, 0x00, 0x04, len,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each prefix is a well-formed DigestInfo header for its digest: the
    /// outer length covers the rest, the OCTET STRING the digest.
    #[test]
    fn digest_info_prefixes_are_consistent() {
        for hash in [
            Hash::Sha1,
            Hash::Sha224,
            Hash::Sha256,
            Hash::Sha384,
            Hash::Sha512,
        ] {
            let p = digest_info_prefix(hash).expect("prefix");
            assert_eq!(p[0], 0x30);
            assert_eq!(usize::from(p[1]), p.len() - 2 + hash.output_len());
            assert_eq!(p[p.len() - 2], 0x04);
            assert_eq!(usize::from(p[p.len() - 1]), hash.output_len());
        }
    }

    #[test]
    fn pss_parameters() {
        let bits = 2048;
        let ok = Scheme::pss(Some(Hash::Sha256), CKM_SHA256, CKG_MGF1_SHA1, 32, bits);
        assert!(ok.is_ok(), "the MGF1 hash may differ");
        let max = max_salt(bits, Hash::Sha256).expect("fits");
        assert_eq!(max, 256 - 32 - 2);
        assert!(Scheme::pss(None, CKM_SHA256, CKG_MGF1_SHA256, max as CK_ULONG, bits).is_ok());
        assert_eq!(
            Scheme::pss(None, CKM_SHA256, CKG_MGF1_SHA256, max as CK_ULONG + 1, bits),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
        assert_eq!(
            Scheme::pss(Some(Hash::Sha384), CKM_SHA256, CKG_MGF1_SHA256, 32, bits),
            Err(Rv::MECHANISM_PARAM_INVALID),
            "hashAlg must be the mechanism's hash"
        );
        assert_eq!(
            Scheme::pss(None, CKM_MD5, CKG_MGF1_SHA256, 16, bits),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
    }
}
