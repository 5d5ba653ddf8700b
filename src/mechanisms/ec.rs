//! Elliptic-curve keys and ECDSA (PKCS#11 3.0 Current Mechanisms §2.3)
//! (ECDH is in `ecdh.rs`, on the same curve table):
//! CKM_EC_KEY_PAIR_GEN, CKM_ECDSA (on a caller's digest, single-part) and
//! CKM_ECDSA_SHA1/224/256/384/512, on P-256, P-384, P-521 and secp256k1.
//!
//! Encodings (what OpenSC, OpenSSL's pkcs11 engine/provider and SoftHSMv2
//! use):
//! - CKA_EC_PARAMS: the DER OBJECT IDENTIFIER of a named curve; a DER
//!   PrintableString curve name ("prime256v1", "secp384r1" ...) is accepted
//!   too (3.0's curveName choice). Explicit parameters are not supported.
//! - CKA_EC_POINT: a DER OCTET STRING around the uncompressed SEC 1 point.
//!   On import the bare point is accepted as well.
//! - CKA_VALUE (private key): the scalar, big-endian, field length; shorter
//!   values (leading zeros dropped) are accepted.
//! - Signatures: r || s, each the length of the group order, as the spec
//!   requires (not DER). secp256k1 signatures are always low-S (blockchains
//!   reject high-S); verification accepts both halves, as OpenSSL does, so
//!   signatures from other tokens verify.
//!
//! CKM_ECDSA: a digest longer than the order is truncated to its leftmost
//! bits (ANSI X9.62); a shorter one is used as the integer it is. On P-521
//! the input may be at most 64 bytes (CKR_DATA_LEN_RANGE beyond).

use aws_lc_rs::agreement;
use aws_lc_rs::digest as lc_digest;
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::{self as lc, KeyPair as _};
use cryptoki_sys::*;
use k256::ecdsa::hazmat::SignPrimitive;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use zeroize::Zeroizing;

use crate::awslc::ec::{EcPrivateKey, Group};
use crate::backend::{MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::digest::{Hash, SignInput};
use crate::mechanisms::{der, key_value, no_param, template_value};
use crate::mechanisms::{KeyPairGen, Sign, SignOp, Verify, VerifyOp};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;

// ---------------------------------------------------------------------------
// Named curves (Weierstrass and Edwards share CKA_EC_PARAMS).

/// A curve named by CKA_EC_PARAMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveId {
    P256,
    P384,
    P521,
    Secp256k1,
    Ed25519,
    Ed448,
}

/// (curve, OID contents, accepted PrintableString names).
const CURVE_NAMES: &[(CurveId, &[u8], &[&str])] = &[
    (
        CurveId::P256,
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        &["prime256v1", "secp256r1", "P-256"],
    ),
    (
        CurveId::P384,
        &[0x2b, 0x81, 0x04, 0x00, 0x22],
        &["secp384r1", "P-384"],
    ),
    (
        CurveId::P521,
        &[0x2b, 0x81, 0x04, 0x00, 0x23],
        &["secp521r1", "P-521"],
    ),
    (
        CurveId::Secp256k1,
        &[0x2b, 0x81, 0x04, 0x00, 0x0a],
        &["secp256k1"],
    ),
    (
        CurveId::Ed25519,
        &[0x2b, 0x65, 0x70],
        &["edwards25519", "ed25519"],
    ),
    (
        CurveId::Ed448,
        &[0x2b, 0x65, 0x71],
        &["edwards448", "ed448"],
    ),
];

impl CurveId {
    /// The curve CKA_EC_PARAMS names.
    ///
    /// # Errors
    /// CKR_DOMAIN_PARAMS_INVALID when the value is not DER;
    /// CKR_CURVE_NOT_SUPPORTED for a curve this token lacks (explicit
    /// parameters included).
    pub fn from_params(params: &[u8]) -> Result<CurveId> {
        let (tag, value, rest) = der::split(params).map_err(|_| Rv::DOMAIN_PARAMS_INVALID)?;
        if !rest.is_empty() {
            return Err(Rv::DOMAIN_PARAMS_INVALID);
        }
        let found = match tag {
            der::OID => CURVE_NAMES.iter().find(|(_, oid, _)| *oid == value),
            der::PRINTABLE_STRING => CURVE_NAMES.iter().find(|(_, _, names)| {
                names
                    .iter()
                    .any(|n| n.as_bytes().eq_ignore_ascii_case(value))
            }),
            _ => None,
        };
        found.map(|(c, _, _)| *c).ok_or(Rv::CURVE_NOT_SUPPORTED)
    }

    /// The DER OBJECT IDENTIFIER of the curve.
    pub fn oid_der(self) -> Vec<u8> {
        let oid = CURVE_NAMES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, oid, _)| *oid)
            .unwrap_or_default();
        der::tlv(der::OID, oid)
    }
}

/// CKA_EC_POINT's value for a point: a DER OCTET STRING.
pub fn encode_point(point: &[u8]) -> Vec<u8> {
    der::tlv(der::OCTET_STRING, point)
}

/// The point inside CKA_EC_POINT: the OCTET STRING's contents, or the value
/// itself when a client stored the bare point. `bare_len` is the length of
/// a bare point of this curve, which settles the one ambiguous case.
pub fn decode_point<'a>(value: &'a [u8], bare_len: &[usize]) -> &'a [u8] {
    if bare_len.contains(&value.len()) {
        return value;
    }
    der::exact(value, der::OCTET_STRING).unwrap_or(value)
}

// ---------------------------------------------------------------------------
// The ECDSA curves and their backends.

/// Which crate does ECDSA on a curve: the one place this is decided.
#[derive(Clone, Copy)]
pub enum Backend {
    /// AWS-LC: assembly for the NIST curves (~9x `p256`'s signing speed).
    /// Signing goes through its C API with a key of the scalar alone
    /// ([`EcPrivateKey`]: no public point recomputed at each C_SignInit);
    /// verification, generation and ECDH through aws-lc-rs.
    Lc {
        group: Group,
        sign: &'static lc::EcdsaSigningAlgorithm,
        verify: &'static lc::EcdsaVerificationAlgorithm,
        digest: &'static lc_digest::Algorithm,
        ecdh: &'static agreement::Algorithm,
    },
    /// k256: ~5x aws-lc-rs's secp256k1 speed, and low-S by construction.
    K256,
}

/// An ECDSA curve.
pub struct Curve {
    pub id: CurveId,
    /// The byte length of the field and of the group order (r, s, scalar).
    pub len: usize,
    /// The length the digest is brought to before signing: the backend's
    /// native digest length.
    pub digest_len: usize,
    pub backend: Backend,
}

/// The ECDSA curves.
pub static CURVES: &[Curve] = &[
    Curve {
        id: CurveId::P256,
        len: 32,
        digest_len: 32,
        backend: Backend::Lc {
            group: Group::P256,
            sign: &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
            verify: &lc::ECDSA_P256_SHA256_FIXED,
            digest: &lc_digest::SHA256,
            ecdh: &agreement::ECDH_P256,
        },
    },
    Curve {
        id: CurveId::P384,
        len: 48,
        digest_len: 48,
        backend: Backend::Lc {
            group: Group::P384,
            sign: &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
            verify: &lc::ECDSA_P384_SHA384_FIXED,
            digest: &lc_digest::SHA384,
            ecdh: &agreement::ECDH_P384,
        },
    },
    Curve {
        id: CurveId::P521,
        len: 66,
        digest_len: 64,
        backend: Backend::Lc {
            group: Group::P521,
            sign: &lc::ECDSA_P521_SHA512_FIXED_SIGNING,
            verify: &lc::ECDSA_P521_SHA512_FIXED,
            digest: &lc_digest::SHA512,
            ecdh: &agreement::ECDH_P521,
        },
    },
    Curve {
        id: CurveId::Secp256k1,
        len: 32,
        digest_len: 32,
        backend: Backend::K256,
    },
];

impl Curve {
    /// The ECDSA curve of an EC key's CKA_EC_PARAMS.
    ///
    /// # Errors
    /// CKR_DOMAIN_PARAMS_INVALID, CKR_CURVE_NOT_SUPPORTED.
    pub fn of_params(params: &[u8]) -> Result<&'static Curve> {
        let id = CurveId::from_params(params)?;
        CURVES
            .iter()
            .find(|c| c.id == id)
            .ok_or(Rv::CURVE_NOT_SUPPORTED)
    }

    /// The ECDSA curve of a key object.
    ///
    /// # Errors
    /// As [`Curve::of_params`]; CKR_GENERAL_ERROR without CKA_EC_PARAMS.
    pub fn of_key(key: &Attributes) -> Result<&'static Curve> {
        let params = key.bytes(CKA_EC_PARAMS).ok_or_else(|| {
            log::error!("EC key without CKA_EC_PARAMS");
            Rv::GENERAL_ERROR
        })?;
        Curve::of_params(params)
    }

    /// Bring a caller's digest to the backend's digest length without
    /// changing the integer ECDSA takes from it (ANSI X9.62 §7.3 step 2):
    /// shorter ones are left-padded with zeros, longer ones keep their
    /// leftmost `digest_len` bytes where that is the order's bit length.
    fn prehash(&self, digest: &[u8]) -> Result<[u8; 64]> {
        let mut out = [0u8; 64];
        let n = self.digest_len;
        if digest.len() <= n {
            out[n - digest.len()..n].copy_from_slice(digest);
        } else if self.digest_len == self.len {
            out[..n].copy_from_slice(&digest[..n]);
        } else {
            // P-521: the leftmost 521 bits do not fit the backend's 512.
            return Err(Rv::DATA_LEN_RANGE);
        }
        Ok(out)
    }

    /// The private scalar of a key, at the order's length.
    pub(super) fn scalar(&self, key: &Attributes) -> Result<Zeroizing<Vec<u8>>> {
        let value = key_value(key, CKA_VALUE)?;
        let v = value.as_slice();
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let v = &v[start..];
        if v.is_empty() || v.len() > self.len {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let mut out = Zeroizing::new(vec![0u8; self.len]);
        out[self.len - v.len()..].copy_from_slice(v);
        Ok(out)
    }

    /// Parse a private key into the backend's key type.
    fn signing_key(&self, key: &Attributes) -> Result<SigningKey> {
        let scalar = self.scalar(key)?;
        match self.backend {
            // The scalar alone, range-checked (1 <= d < n); the public
            // point, which signing does not use, is not computed.
            Backend::Lc { group, .. } => EcPrivateKey::new(group, &scalar).map(SigningKey::Lc),
            // The secret key alone: k256's SigningKey would also compute
            // the public key, a scalar multiplication as costly as signing.
            Backend::K256 => k256::SecretKey::from_slice(&scalar)
                .map(SigningKey::K256)
                .map_err(|_| Rv::KEY_SIZE_RANGE),
        }
    }

    /// Parse a public key (CKA_EC_POINT) into the backend's key type.
    fn verifying_key(&self, key: &Attributes) -> Result<VerifyingKey> {
        let value = key.bytes(CKA_EC_POINT).ok_or_else(|| {
            log::error!("EC public key without CKA_EC_POINT");
            Rv::GENERAL_ERROR
        })?;
        let point = decode_point(value, &[2 * self.len + 1]);
        match self.backend {
            Backend::Lc { verify, digest, .. } => lc::ParsedPublicKey::new(verify, point)
                .map(|k| VerifyingKey::Lc(k, digest))
                .map_err(|_| Rv::PUBLIC_KEY_INVALID),
            Backend::K256 => k256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map(VerifyingKey::K256)
                .map_err(|_| Rv::PUBLIC_KEY_INVALID),
        }
    }

    /// A new key pair: (uncompressed point, scalar).
    ///
    /// # Errors
    /// CKR_FUNCTION_FAILED when the backend fails.
    pub fn generate(&self) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
        match self.backend {
            Backend::Lc { sign, .. } => {
                let pair = lc::EcdsaKeyPair::generate(sign).map_err(|_| Rv::FUNCTION_FAILED)?;
                let scalar = pair
                    .private_key()
                    .as_be_bytes()
                    .map_err(|_| Rv::FUNCTION_FAILED)?;
                Ok((
                    pair.public_key().as_ref().to_vec(),
                    Zeroizing::new(scalar.as_ref().to_vec()),
                ))
            }
            Backend::K256 => loop {
                let mut scalar = Zeroizing::new(vec![0u8; 32]);
                aws_lc_rs::rand::fill(&mut scalar).map_err(|_| Rv::FUNCTION_FAILED)?;
                // A draw of zero or above the order (~2^-128) is drawn again.
                if let Ok(k) = k256::ecdsa::SigningKey::from_slice(&scalar) {
                    let point = k.verifying_key().to_encoded_point(false);
                    return Ok((point.as_bytes().to_vec(), scalar));
                }
            },
        }
    }
}

/// Check an EC key object's values the way C_SignInit / C_VerifyInit will
/// parse them (for C_CreateObject).
///
/// # Errors
/// CKR_DOMAIN_PARAMS_INVALID, CKR_CURVE_NOT_SUPPORTED, CKR_KEY_SIZE_RANGE
/// (bad scalar), CKR_PUBLIC_KEY_INVALID (point not on the curve).
pub fn check_key(key: &Attributes) -> Result<()> {
    let curve = Curve::of_key(key)?;
    match key.class() {
        CKO_PRIVATE_KEY => curve.signing_key(key).map(drop),
        _ => curve.verifying_key(key).map(drop),
    }
}

/// A parsed private key, held for one operation. AWS-LC frees its EC_KEY
/// with OPENSSL_free, which cleanses the memory; k256's SecretKey zeroizes
/// itself on drop.
enum SigningKey {
    Lc(EcPrivateKey),
    K256(k256::SecretKey),
}

impl SigningKey {
    fn sign(&self, prehash: &[u8], out: &mut [u8]) -> Result<usize> {
        match self {
            // Random nonces hedged with the key and digest (see awslc::ec).
            SigningKey::Lc(key) => key.sign_digest(prehash, out),
            SigningKey::K256(key) => {
                // RFC 6979 nonces; k256's signing primitive normalizes to
                // low-S. The scalar's working copy is wiped on drop.
                let scalar = Zeroizing::new(key.to_nonzero_scalar());
                let mut z = k256::FieldBytes::default();
                z.copy_from_slice(prehash);
                let (sig, _) = scalar
                    .try_sign_prehashed_rfc6979::<k256::sha2::Sha256>(&z, &[])
                    .map_err(|_| Rv::FUNCTION_FAILED)?;
                copy_out(&sig.to_bytes(), out)
            }
        }
    }
}

/// A parsed public key.
enum VerifyingKey {
    Lc(lc::ParsedPublicKey, &'static lc_digest::Algorithm),
    K256(k256::ecdsa::VerifyingKey),
}

impl VerifyingKey {
    fn verify(&self, prehash: &[u8], signature: &[u8]) -> Result<()> {
        match self {
            VerifyingKey::Lc(key, digest) => {
                let d = lc_digest::Digest::import_less_safe(prehash, digest)
                    .map_err(|_| Rv::GENERAL_ERROR)?;
                key.verify_digest_sig(&d, signature)
                    .map_err(|_| Rv::SIGNATURE_INVALID)
            }
            VerifyingKey::K256(key) => {
                let sig = k256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| Rv::SIGNATURE_INVALID)?;
                // k256 refuses high-S; the other half of the pair is the
                // same signature for ECDSA, and other signers produce it.
                let sig = sig.normalize_s().unwrap_or(sig);
                key.verify_prehash(prehash, &sig)
                    .map_err(|_| Rv::SIGNATURE_INVALID)
            }
        }
    }
}

fn copy_out(sig: &[u8], out: &mut [u8]) -> Result<usize> {
    out.get_mut(..sig.len())
        .ok_or(Rv::GENERAL_ERROR)?
        .copy_from_slice(sig);
    Ok(sig.len())
}

// ---------------------------------------------------------------------------
// The mechanisms.

/// CKM_ECDSA (hash None: the input is the digest) and CKM_ECDSA_SHA*.
pub struct Ecdsa {
    pub hash: Option<Hash>,
}

pub static ECDSA: Ecdsa = Ecdsa { hash: None };
pub static ECDSA_SHA1: Ecdsa = Ecdsa {
    hash: Some(Hash::Sha1),
};
pub static ECDSA_SHA224: Ecdsa = Ecdsa {
    hash: Some(Hash::Sha224),
};
pub static ECDSA_SHA256: Ecdsa = Ecdsa {
    hash: Some(Hash::Sha256),
};
pub static ECDSA_SHA384: Ecdsa = Ecdsa {
    hash: Some(Hash::Sha384),
};
pub static ECDSA_SHA512: Ecdsa = Ecdsa {
    hash: Some(Hash::Sha512),
};

const EC_KEYS: &[CK_KEY_TYPE] = &[CKK_EC];

impl SignInput {
    fn prehash(self, curve: &Curve) -> Result<[u8; 64]> {
        match self {
            SignInput::Given(d) => curve.prehash(d.as_deref().unwrap_or_default()),
            SignInput::Hashing(h) => curve.prehash(h.finish().as_ref()),
        }
    }
}

impl Sign for Ecdsa {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        EC_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>> {
        no_param(param)?;
        let curve = Curve::of_key(key)?;
        Ok(Box::new(EcdsaSign {
            key: curve.signing_key(key)?,
            curve,
            input: SignInput::new(self.hash),
        }))
    }
}

impl Verify for Ecdsa {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        EC_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>> {
        no_param(param)?;
        let curve = Curve::of_key(key)?;
        Ok(Box::new(EcdsaVerify {
            key: curve.verifying_key(key)?,
            curve,
            input: SignInput::new(self.hash),
        }))
    }
}

struct EcdsaSign {
    key: SigningKey,
    curve: &'static Curve,
    input: SignInput,
}

impl SignOp for EcdsaSign {
    fn signature_len(&self) -> usize {
        2 * self.curve.len
    }

    fn multipart(&self) -> bool {
        self.input.multipart()
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let prehash = self.input.prehash(self.curve)?;
        self.key.sign(&prehash[..self.curve.digest_len], out)
    }
}

struct EcdsaVerify {
    key: VerifyingKey,
    curve: &'static Curve,
    input: SignInput,
}

impl VerifyOp for EcdsaVerify {
    fn multipart(&self) -> bool {
        self.input.multipart()
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    fn finish(self: Box<Self>, signature: &[u8]) -> Result<()> {
        if signature.len() != 2 * self.curve.len {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let prehash = self.input.prehash(self.curve)?;
        self.key
            .verify(&prehash[..self.curve.digest_len], signature)
    }
}

/// CKM_EC_KEY_PAIR_GEN.
pub struct EcKeyPairGen;

pub static EC_KEY_PAIR_GEN: EcKeyPairGen = EcKeyPairGen;

impl KeyPairGen for EcKeyPairGen {
    /// The curve comes from CKA_EC_PARAMS in the public template (a
    /// differing value in the private template is inconsistent); the
    /// mechanism contributes CKA_EC_POINT to the public key and CKA_VALUE
    /// and CKA_EC_PARAMS to the private key (spec §2.3.7).
    fn generate(
        &self,
        param: &MechParam,
        public: &Template,
        private: &Template,
        actor: Actor,
    ) -> Result<(Attributes, Attributes)> {
        no_param(param)?;
        let params = pair_params(public, private)?;
        let curve = Curve::of_params(params)?;
        let mut pub_attrs =
            policy::for_new_key(CKO_PUBLIC_KEY, CKK_EC, public, KeyOrigin::Generated, actor)?;
        let mut priv_attrs = policy::for_new_key(
            CKO_PRIVATE_KEY,
            CKK_EC,
            private,
            KeyOrigin::Generated,
            actor,
        )?;
        let (point, scalar) = curve.generate()?;
        pub_attrs.set_bytes(CKA_EC_PARAMS, params);
        pub_attrs.set_bytes(CKA_EC_POINT, &encode_point(&point));
        priv_attrs.set_bytes(CKA_EC_PARAMS, params);
        priv_attrs.set_secret(CKA_VALUE, &scalar);
        Ok((pub_attrs, priv_attrs))
    }
}

/// CKA_EC_PARAMS of a key pair to generate: required in the public
/// template; the private template may repeat it but not contradict it.
///
/// # Errors
/// CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT.
pub fn pair_params<'t>(public: &'t Template, private: &Template) -> Result<&'t [u8]> {
    let params = template_value(public, CKA_EC_PARAMS).ok_or(Rv::TEMPLATE_INCOMPLETE)?;
    match template_value(private, CKA_EC_PARAMS) {
        Some(p) if p != params => Err(Rv::TEMPLATE_INCONSISTENT),
        _ => Ok(params),
    }
}

#[cfg(test)]
#[path = "ec_tests.rs"]
mod tests;
