//! The signature schemes of [`super`] and their aws-lc-rs encodings: which
//! hash, padding and PSS salt a mechanism and its parameter select, the
//! DigestInfo prefixes CKM_RSA_PKCS recognizes, and the static encoding
//! tables aws-lc-rs's `&'static` API needs.

use aws_lc_rs::digest as lc_digest;
use aws_lc_rs::signature::{self as lc, RsaParameters, RsaPssSaltLength, RsaSignatureEncoding};
use cryptoki_sys::*;

use crate::mechanisms::digest::Hash;

/// The PSS salt lengths with a static encoding: 0 to 64 bytes (every digest
/// length); the key's maximum has one of its own.
pub(super) const SALTS: usize = 65;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Salt {
    Len(usize),
    Max,
}

/// What one signing or verification does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scheme {
    /// CKM_RSA_PKCS: the input is a DigestInfo.
    RawPkcs1,
    Pkcs1(Hash),
    Pss {
        hash: Hash,
        salt: Salt,
    },
}

impl Scheme {
    /// The hash the input is (or is digested with); None for a DigestInfo.
    pub(super) fn hash(self) -> Option<Hash> {
        match self {
            Scheme::RawPkcs1 => None,
            Scheme::Pkcs1(h) | Scheme::Pss { hash: h, .. } => Some(h),
        }
    }

    /// (hash, digest) of an input whose length was checked: the
    /// DigestInfo's for CKM_RSA_PKCS (None for one this module does not
    /// know), else the input under the scheme's hash.
    pub(super) fn split(self, input: &[u8]) -> Option<(Hash, &[u8])> {
        match self.hash() {
            None => split_digest_info(input),
            Some(h) => Some((h, input)),
        }
    }

    /// The encoding to sign a `hash` digest with.
    pub(super) fn signing(self, hash: Hash) -> Option<&'static RsaSignatureEncoding> {
        match self {
            Scheme::RawPkcs1 | Scheme::Pkcs1(_) => pkcs1_signing(hash),
            Scheme::Pss { salt, .. } => pss_signing(hash, salt),
        }
    }

    /// The parameters to verify a signature over a `hash` digest with.
    pub(super) fn verification(self, hash: Hash) -> Option<&'static RsaParameters> {
        match self {
            Scheme::RawPkcs1 | Scheme::Pkcs1(_) => pkcs1_verification(hash),
            Scheme::Pss { salt, .. } => pss_verification(hash, salt),
        }
    }
}

/// The DigestInfo prefixes of RFC 8017 §9.2 note 1 (NULL parameters).
pub(super) const DIGEST_INFOS: [(Hash, &[u8]); 4] = [
    (
        Hash::Sha1,
        &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
    ),
    (Hash::Sha256, &sha2_digest_info(0x31, 0x01, 0x20)),
    (Hash::Sha384, &sha2_digest_info(0x41, 0x02, 0x30)),
    (Hash::Sha512, &sha2_digest_info(0x51, 0x03, 0x40)),
];

/// The DigestInfo prefix of a SHA-2 hash (OID 2.16.840.1.101.3.4.2.`arc`).
pub(super) const fn sha2_digest_info(total: u8, arc: u8, len: u8) -> [u8; 19] {
    [
        0x30, total, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, arc,
        0x05, 0x00, 0x04, len,
    ]
}

/// The hash and digest of a DER DigestInfo this module knows.
pub(super) fn split_digest_info(input: &[u8]) -> Option<(Hash, &[u8])> {
    DIGEST_INFOS.iter().find_map(|(hash, prefix)| {
        let digest = input.strip_prefix(*prefix)?;
        (digest.len() == hash.output_len()).then_some((*hash, digest))
    })
}

/// aws-lc-rs's digest algorithm for a hash.
pub(super) fn lc_algorithm(hash: Hash) -> Option<&'static lc_digest::Algorithm> {
    Some(match hash {
        Hash::Sha1 => &lc_digest::SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => &lc_digest::SHA256,
        Hash::Sha384 => &lc_digest::SHA384,
        Hash::Sha512 => &lc_digest::SHA512,
        _ => return None,
    })
}

/// The hashes aws-lc-rs does PSS with.
pub(super) fn pss_hash(hash: Hash) -> bool {
    matches!(hash, Hash::Sha256 | Hash::Sha384 | Hash::Sha512)
}

/// The CKG_MGF1_ function of a hash.
pub(super) fn mgf1_of(hash: Hash) -> Option<CK_RSA_PKCS_MGF_TYPE> {
    Some(match hash {
        Hash::Sha1 => CKG_MGF1_SHA1,
        Hash::Sha224 => CKG_MGF1_SHA224,
        Hash::Sha256 => CKG_MGF1_SHA256,
        Hash::Sha384 => CKG_MGF1_SHA384,
        Hash::Sha512 => CKG_MGF1_SHA512,
        _ => return None,
    })
}

/// The largest PSS salt for a key of `bits` bits: emLen − hLen − 2, with
/// emLen = ⌈(bits − 1) / 8⌉ (RFC 8017 §9.1.1).
pub(super) fn max_salt(bits: usize, hash: Hash) -> Option<usize> {
    (bits.saturating_sub(1).div_ceil(8)).checked_sub(hash.output_len() + 2)
}

pub(super) fn pkcs1_signing(hash: Hash) -> Option<&'static RsaSignatureEncoding> {
    Some(match hash {
        Hash::Sha256 => &lc::RSA_PKCS1_SHA256,
        Hash::Sha384 => &lc::RSA_PKCS1_SHA384,
        Hash::Sha512 => &lc::RSA_PKCS1_SHA512,
        _ => return None,
    })
}

/// PKCS#1 v1.5 verification; the 1024-bit floors where aws-lc-rs has them
/// (the policy decides what is accepted, before this).
pub(super) fn pkcs1_verification(hash: Hash) -> Option<&'static RsaParameters> {
    Some(match hash {
        Hash::Sha1 => &lc::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        Hash::Sha384 => &lc::RSA_PKCS1_2048_8192_SHA384,
        Hash::Sha512 => &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        _ => return None,
    })
}

/// One static table per hash and direction: the API takes `&'static`
/// encodings, and these cover every salt length [`Salt`] admits.
macro_rules! salt_table {
    ($base:path, $ty:ty) => {{
        let mut t: [$ty; SALTS] = [$base; SALTS];
        let mut i = 0;
        while i < SALTS {
            t[i] = $base.with_pss_salt_length(RsaPssSaltLength::Custom(i as u16));
            i += 1;
        }
        t
    }};
}

static PSS_SIGN: [[RsaSignatureEncoding; SALTS]; 3] = [
    salt_table!(lc::RSA_PSS_SHA256, RsaSignatureEncoding),
    salt_table!(lc::RSA_PSS_SHA384, RsaSignatureEncoding),
    salt_table!(lc::RSA_PSS_SHA512, RsaSignatureEncoding),
];
static PSS_SIGN_MAX: [RsaSignatureEncoding; 3] = [
    lc::RSA_PSS_SHA256.with_pss_salt_length(RsaPssSaltLength::Max),
    lc::RSA_PSS_SHA384.with_pss_salt_length(RsaPssSaltLength::Max),
    lc::RSA_PSS_SHA512.with_pss_salt_length(RsaPssSaltLength::Max),
];
static PSS_VERIFY: [[RsaParameters; SALTS]; 3] = [
    salt_table!(lc::RSA_PSS_2048_8192_SHA256, RsaParameters),
    salt_table!(lc::RSA_PSS_2048_8192_SHA384, RsaParameters),
    salt_table!(lc::RSA_PSS_2048_8192_SHA512, RsaParameters),
];
static PSS_VERIFY_MAX: [RsaParameters; 3] = [
    lc::RSA_PSS_2048_8192_SHA256.with_pss_salt_length(RsaPssSaltLength::Max),
    lc::RSA_PSS_2048_8192_SHA384.with_pss_salt_length(RsaPssSaltLength::Max),
    lc::RSA_PSS_2048_8192_SHA512.with_pss_salt_length(RsaPssSaltLength::Max),
];

fn pss_index(hash: Hash) -> Option<usize> {
    match hash {
        Hash::Sha256 => Some(0),
        Hash::Sha384 => Some(1),
        Hash::Sha512 => Some(2),
        _ => None,
    }
}

pub(super) fn pss_signing(hash: Hash, salt: Salt) -> Option<&'static RsaSignatureEncoding> {
    let i = pss_index(hash)?;
    match salt {
        Salt::Len(n) => PSS_SIGN[i].get(n),
        Salt::Max => PSS_SIGN_MAX.get(i),
    }
}

pub(super) fn pss_verification(hash: Hash, salt: Salt) -> Option<&'static RsaParameters> {
    let i = pss_index(hash)?;
    match salt {
        Salt::Len(n) => PSS_VERIFY[i].get(n),
        Salt::Max => PSS_VERIFY_MAX.get(i),
    }
}
