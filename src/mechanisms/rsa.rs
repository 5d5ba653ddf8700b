//! RSA (PKCS#11 3.0 Current Mechanisms §2.1), all through aws-lc-rs: key
//! pair generation, PKCS#1 v1.5 and PSS signatures, OAEP and PKCS#1 v1.5
//! encryption, OAEP decryption.
//!
//! # Why aws-lc-rs, and why it is safe
//!
//! AWS-LC's RSA private operations are constant-time and blinded, and check
//! their result against the public key before releasing it (no fault
//! attacks); its OAEP decoding is constant-time and fails with one error.
//! The pure-Rust `rsa` crate before 0.10 leaks key bits through timing (the
//! Marvin attack, RUSTSEC-2023-0071) and is not used. Everything below uses
//! aws-lc-rs's safe API only (no `unsafe` outside `abi` and `secure`), and
//! that API sets the limits listed next.
//!
//! # What is offered
//!
//! - CKM_RSA_PKCS_KEY_PAIR_GEN: 2048, 3072, 4096, 8192 bits (other sizes
//!   CKR_KEY_SIZE_RANGE), e = 65537 (see [`keys`]).
//! - CKM_SHA256/384/512_RSA_PKCS: sign and verify, multi-part.
//! - CKM_SHA1_RSA_PKCS: verify only (legacy signatures); aws-lc-rs has no
//!   SHA-1 RSA signing.
//! - CKM_RSA_PKCS, sign/verify: the input is a DER DigestInfo, at most k−11
//!   bytes. aws-lc-rs signs a digest, not arbitrary data, so the DigestInfo
//!   must be that of SHA-256, SHA-384 or SHA-512 (RFC 8017 §9.2, with the
//!   NULL parameters), or of SHA-1 for verifying; any other input is
//!   CKR_DATA_INVALID. The signature equals the one over the raw input.
//! - CKM_RSA_PKCS_PSS (on a caller's digest, whose length must equal
//!   hashAlg's) and CKM_SHA256/384/512_RSA_PKCS_PSS: hashAlg SHA-256, -384
//!   or -512, equal to the mechanism's hash where it has one; mgf the MGF1
//!   of that same hash; sLen from 0 to 64 bytes, or the key's maximum
//!   (emLen − hLen − 2). Anything else is CKR_MECHANISM_PARAM_INVALID.
//! - CKM_RSA_PKCS_OAEP, encrypt and decrypt: hashAlg SHA-1, SHA-256, -384 or
//!   -512 with the MGF1 of the same hash; source CKZ_DATA_SPECIFIED with any
//!   label (pSourceData), or 0 with none. Every decryption failure is
//!   CKR_ENCRYPTED_DATA_INVALID; only a ciphertext that is not k bytes long
//!   gets CKR_ENCRYPTED_DATA_LEN_RANGE (its length is no secret).
//! - CKM_RSA_PKCS encrypt (PKCS#1 v1.5, input at most k−11 bytes).
//!
//! Encryption and decryption are single-part (the spec's footnote 1);
//! C_EncryptUpdate / C_DecryptUpdate answer CKR_FUNCTION_NOT_SUPPORTED.
//!
//! # What is left out, and why
//!
//! - CKM_RSA_PKCS decrypt: aws-lc-rs's PKCS#1 v1.5 decryption rejects bad
//!   padding explicitly (an error the caller sees), which is a Bleichenbacher
//!   padding oracle; it has no implicit-rejection variant. Not offered:
//!   C_DecryptInit with CKM_RSA_PKCS is CKR_MECHANISM_INVALID.
//! - CKM_RSA_X_509 (raw RSA): aws-lc-rs has no raw private operation.
//! - CKM_SHA224_RSA_PKCS, CKM_SHA1/SHA224_RSA_PKCS_PSS, PSS or OAEP with
//!   SHA-224, and an MGF1 hash different from the message hash: aws-lc-rs
//!   has no such encodings. SHA-1 PKCS#1 v1.5 signing, likewise.
//! - Private operations with keys under 2048 bits, so RSA-1024 (even where
//!   the policy allows it) only verifies; see [`keys`].

#[path = "rsa_keys.rs"]
pub mod keys;
#[path = "rsa_schemes.rs"]
mod schemes;

use aws_lc_rs::digest as lc_digest;
use aws_lc_rs::rsa::{
    KeyPair, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    Pkcs1PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
    OAEP_SHA512_MGF1SHA512,
};
use cryptoki_sys::*;

use crate::backend::{MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::digest::{hash_of, Hash, SignInput};
use crate::mechanisms::{der, no_param, template_value};
use crate::mechanisms::{
    single_part_cipher, CipherOp, Decrypt, Encrypt, KeyPairGen, Sign, SignOp, Verify, VerifyOp,
};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;
use crate::secure::SecretBytes;

use keys::PublicParts;
use schemes::*;

/// ulMinKeySize of the RSA rows, in bits.
pub const MIN_KEY_BITS: CK_ULONG = keys::MIN_BITS as CK_ULONG;
/// ulMaxKeySize of the RSA rows, in bits.
pub const MAX_KEY_BITS: CK_ULONG = keys::MAX_BITS as CK_ULONG;

const RSA_KEYS: &[CK_KEY_TYPE] = &[CKK_RSA];

// ---------------------------------------------------------------------------
// The mechanisms.

/// A signature scheme: PKCS#1 v1.5 or PSS, on a running hash of the data
/// (`hash` set) or on the caller's DigestInfo / digest.
pub struct RsaSig {
    pss: bool,
    hash: Option<Hash>,
}

pub static RSA_PKCS: RsaSig = RsaSig::pkcs1(None);
pub static SHA1_RSA_PKCS: RsaSig = RsaSig::pkcs1(Some(Hash::Sha1));
pub static SHA256_RSA_PKCS: RsaSig = RsaSig::pkcs1(Some(Hash::Sha256));
pub static SHA384_RSA_PKCS: RsaSig = RsaSig::pkcs1(Some(Hash::Sha384));
pub static SHA512_RSA_PKCS: RsaSig = RsaSig::pkcs1(Some(Hash::Sha512));
pub static RSA_PKCS_PSS: RsaSig = RsaSig::pss(None);
pub static SHA256_RSA_PKCS_PSS: RsaSig = RsaSig::pss(Some(Hash::Sha256));
pub static SHA384_RSA_PKCS_PSS: RsaSig = RsaSig::pss(Some(Hash::Sha384));
pub static SHA512_RSA_PKCS_PSS: RsaSig = RsaSig::pss(Some(Hash::Sha512));

/// CKM_RSA_PKCS_OAEP (encrypt and decrypt).
pub struct RsaOaep;
pub static RSA_PKCS_OAEP: RsaOaep = RsaOaep;

/// CKM_RSA_PKCS encryption (PKCS#1 v1.5; no decryption, see the module
/// doc).
pub struct RsaPkcs1Encrypt;
pub static RSA_PKCS_ENCRYPT: RsaPkcs1Encrypt = RsaPkcs1Encrypt;

/// CKM_RSA_PKCS_KEY_PAIR_GEN.
pub struct RsaKeyPairGen;
pub static RSA_PKCS_KEY_PAIR_GEN: RsaKeyPairGen = RsaKeyPairGen;

impl RsaSig {
    const fn pkcs1(hash: Option<Hash>) -> RsaSig {
        RsaSig { pss: false, hash }
    }

    const fn pss(hash: Option<Hash>) -> RsaSig {
        RsaSig { pss: true, hash }
    }

    /// The scheme the parameter asks for, for a key of `bits` bits.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID; CKR_MECHANISM_INVALID (a hash aws-lc-rs
    /// cannot sign with).
    fn scheme(&self, param: &MechParam, bits: usize, signing: bool) -> Result<Scheme> {
        if !self.pss {
            no_param(param)?;
            return Ok(match self.hash {
                None => Scheme::RawPkcs1,
                Some(hash) => {
                    if signing && pkcs1_signing(hash).is_none() {
                        return Err(Rv::MECHANISM_INVALID);
                    }
                    Scheme::Pkcs1(hash)
                }
            });
        }
        let MechParam::RsaPss {
            hash,
            mgf,
            salt_len,
        } = *param
        else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        let hash = hash_of(hash)
            .filter(|h| pss_hash(*h) && self.hash.is_none_or(|mine| mine == *h))
            .ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        if mgf1_of(hash) != Some(mgf) {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let max = max_salt(bits, hash).ok_or(Rv::KEY_SIZE_RANGE)?;
        let salt = match usize::try_from(salt_len) {
            Ok(n) if n < SALTS && n <= max => Salt::Len(n),
            Ok(n) if n == max => Salt::Max,
            _ => return Err(Rv::MECHANISM_PARAM_INVALID),
        };
        Ok(Scheme::Pss { hash, salt })
    }
}

impl Sign for RsaSig {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>> {
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let scheme = self.scheme(param, public.bits(), true)?;
        let len = public.len();
        Ok(Box::new(RsaSignOp {
            key: keys::signing_key(key)?,
            len,
            input: SignInput::new(self.hash),
            scheme,
        }))
    }
}

impl Verify for RsaSig {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>> {
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let scheme = self.scheme(param, public.bits(), false)?;
        // The floor of a known hash's parameters (2048 bits for PSS and
        // SHA-384); CKM_RSA_PKCS's hash is known at C_Verify.
        if let Some(params) = scheme.hash().and_then(|h| scheme.verification(h)) {
            if public.bits() < params.min_modulus_len() as usize {
                return Err(Rv::KEY_SIZE_RANGE);
            }
        }
        Ok(Box::new(RsaVerifyOp {
            n: public.n.to_vec(),
            e: public.e.to_vec(),
            input: SignInput::new(self.hash),
            scheme,
        }))
    }
}

impl Encrypt for RsaOaep {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        let oaep = OaepParams::of(param)?;
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let key = OaepPublicEncryptingKey::new(public.encrypting_key()?)
            .map_err(|_| Rv::FUNCTION_FAILED)?;
        Ok(Box::new(RsaEncryptOp {
            len: public.len(),
            max_input: key.max_plaintext_size(oaep.algorithm),
            key: Encryptor::Oaep(key, oaep),
        }))
    }
}

impl Decrypt for RsaOaep {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        let oaep = OaepParams::of(param)?;
        PublicParts::of(key)?.check(keys::LEGACY_MIN_BITS)?;
        let key = OaepPrivateDecryptingKey::new(keys::decrypting_key(key)?)
            .map_err(|_| Rv::FUNCTION_FAILED)?;
        let len = key.key_size_bytes();
        let max_output = len.saturating_sub(2 * oaep.hash_len + 2);
        Ok(Box::new(RsaDecryptOp {
            key,
            oaep,
            len,
            max_output,
        }))
    }
}

impl Encrypt for RsaPkcs1Encrypt {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        no_param(param)?;
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let key = Pkcs1PublicEncryptingKey::new(public.encrypting_key()?)
            .map_err(|_| Rv::FUNCTION_FAILED)?;
        Ok(Box::new(RsaEncryptOp {
            len: public.len(),
            max_input: key.max_plaintext_size(),
            key: Encryptor::Pkcs1(key),
        }))
    }
}

impl KeyPairGen for RsaKeyPairGen {
    /// CKA_MODULUS_BITS is required in the public template (the policy
    /// checks that); CKA_PUBLIC_EXPONENT may be given there and must then
    /// be 65537. The mechanism contributes CKA_MODULUS and
    /// CKA_PUBLIC_EXPONENT to both keys and the private components to the
    /// private key (spec §2.1.4).
    ///
    /// # Errors
    /// The policy's template errors; CKR_KEY_SIZE_RANGE;
    /// CKR_ATTRIBUTE_VALUE_INVALID (another exponent).
    fn generate(
        &self,
        param: &MechParam,
        public: &Template,
        private: &Template,
        actor: Actor,
    ) -> Result<(Attributes, Attributes)> {
        no_param(param)?;
        let mut pub_attrs =
            policy::for_new_key(CKO_PUBLIC_KEY, CKK_RSA, public, KeyOrigin::Generated, actor)?;
        let mut priv_attrs = policy::for_new_key(
            CKO_PRIVATE_KEY,
            CKK_RSA,
            private,
            KeyOrigin::Generated,
            actor,
        )?;
        let bits = pub_attrs
            .ulong(CKA_MODULUS_BITS)
            .ok_or(Rv::TEMPLATE_INCOMPLETE)?;
        if let Some(e) = template_value(public, CKA_PUBLIC_EXPONENT) {
            if der::strip_zeros(e) != keys::F4 {
                return Err(Rv::ATTRIBUTE_VALUE_INVALID);
            }
        }
        let bits = usize::try_from(bits).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        keys::generate_into(bits, &mut pub_attrs, &mut priv_attrs)?;
        Ok((pub_attrs, priv_attrs))
    }
}

// ---------------------------------------------------------------------------
// Signing and verification operations.

impl SignInput {
    /// The digest (or DigestInfo) to sign, its length checked against the
    /// scheme and the modulus length `len`.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE.
    fn finish(self, scheme: Scheme, len: usize) -> Result<InputValue> {
        let value = match self {
            SignInput::Hashing(h) => InputValue::Hash(h.finish()),
            SignInput::Given(d) => InputValue::Given(d.unwrap_or_default()),
        };
        let n = value.as_ref().len();
        let ok = match scheme {
            Scheme::RawPkcs1 => n + 11 <= len,
            Scheme::Pkcs1(h) | Scheme::Pss { hash: h, .. } => n == h.output_len(),
        };
        if ok {
            Ok(value)
        } else {
            Err(Rv::DATA_LEN_RANGE)
        }
    }
}

enum InputValue {
    Hash(crate::mechanisms::digest::HashValue),
    Given(Vec<u8>),
}

impl AsRef<[u8]> for InputValue {
    fn as_ref(&self) -> &[u8] {
        match self {
            InputValue::Hash(h) => h.as_ref(),
            InputValue::Given(v) => v,
        }
    }
}

/// A digest in aws-lc-rs's type.
fn lc_digest_of(hash: Hash, digest: &[u8]) -> Result<lc_digest::Digest> {
    let alg = lc_algorithm(hash).ok_or(Rv::DATA_INVALID)?;
    lc_digest::Digest::import_less_safe(digest, alg).map_err(|_| Rv::DATA_LEN_RANGE)
}

struct RsaSignOp {
    /// The parsed key; aws-lc cleanses its BIGNUMs when it drops.
    key: KeyPair,
    /// The modulus length: the signature's.
    len: usize,
    input: SignInput,
    scheme: Scheme,
}

impl SignOp for RsaSignOp {
    fn signature_len(&self) -> usize {
        self.len
    }

    fn multipart(&self) -> bool {
        self.input.multipart()
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        let value = self.input.finish(self.scheme, self.len)?;
        let (hash, digest) = self.scheme.split(value.as_ref()).ok_or(Rv::DATA_INVALID)?;
        let encoding = self.scheme.signing(hash).ok_or(Rv::DATA_INVALID)?;
        let digest = lc_digest_of(hash, digest)?;
        let sig = out.get_mut(..self.len).ok_or(Rv::GENERAL_ERROR)?;
        self.key
            .sign_digest(encoding, &digest, sig)
            .map_err(|_| Rv::FUNCTION_FAILED)?;
        Ok(self.len)
    }
}

struct RsaVerifyOp {
    n: Vec<u8>,
    e: Vec<u8>,
    input: SignInput,
    scheme: Scheme,
}

impl VerifyOp for RsaVerifyOp {
    fn multipart(&self) -> bool {
        self.input.multipart()
    }

    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data)
    }

    fn finish(self: Box<Self>, signature: &[u8]) -> Result<()> {
        let public = PublicParts {
            n: &self.n,
            e: &self.e,
        };
        let value = self.input.finish(self.scheme, public.len())?;
        if signature.len() != public.len() {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let (hash, digest) = self.scheme.split(value.as_ref()).ok_or(Rv::DATA_INVALID)?;
        let params = self.scheme.verification(hash).ok_or(Rv::DATA_INVALID)?;
        if public.bits() < params.min_modulus_len() as usize {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let digest = lc_digest_of(hash, digest)?;
        public
            .verifying_key(params)?
            .verify_digest_sig(&digest, signature)
            .map_err(|_| Rv::SIGNATURE_INVALID)
    }
}

// ---------------------------------------------------------------------------
// Encryption and decryption operations.

/// CK_RSA_PKCS_OAEP_PARAMS, checked.
struct OaepParams {
    algorithm: &'static OaepAlgorithm,
    hash_len: usize,
    /// The label (encoding parameter); None when empty.
    label: Option<Vec<u8>>,
}

impl OaepParams {
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID.
    fn of(param: &MechParam) -> Result<OaepParams> {
        let MechParam::RsaOaep {
            hash,
            mgf,
            source,
            label,
        } = param
        else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        let hash = hash_of(*hash).ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        let algorithm = match hash {
            Hash::Sha1 => &OAEP_SHA1_MGF1SHA1,
            Hash::Sha256 => &OAEP_SHA256_MGF1SHA256,
            Hash::Sha384 => &OAEP_SHA384_MGF1SHA384,
            Hash::Sha512 => &OAEP_SHA512_MGF1SHA512,
            _ => return Err(Rv::MECHANISM_PARAM_INVALID),
        };
        // Source 0 is not a CKZ_ value, but clients pass it with no label.
        let source_ok = *source == CKZ_DATA_SPECIFIED || (*source == 0 && label.is_empty());
        if mgf1_of(hash) != Some(*mgf) || !source_ok {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        Ok(OaepParams {
            algorithm,
            hash_len: hash.output_len(),
            label: (!label.is_empty()).then(|| label.clone()),
        })
    }
}

enum Encryptor {
    Oaep(OaepPublicEncryptingKey, OaepParams),
    Pkcs1(Pkcs1PublicEncryptingKey),
}

struct RsaEncryptOp {
    key: Encryptor,
    /// The modulus length: the ciphertext's.
    len: usize,
    max_input: usize,
}

impl CipherOp for RsaEncryptOp {
    single_part_cipher!();

    fn oneshot_len(&self, _input_len: usize) -> usize {
        self.len
    }

    fn oneshot(self: Box<Self>, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if input.len() > self.max_input {
            return Err(Rv::DATA_LEN_RANGE);
        }
        let out = out.get_mut(..self.len).ok_or(Rv::GENERAL_ERROR)?;
        let written = match &self.key {
            Encryptor::Oaep(key, p) => key
                .encrypt(p.algorithm, input, out, p.label.as_deref())
                .map(|c| c.len()),
            Encryptor::Pkcs1(key) => key.encrypt(input, out).map(|c| c.len()),
        };
        written.map_err(|_| Rv::FUNCTION_FAILED)
    }
}

struct RsaDecryptOp {
    key: OaepPrivateDecryptingKey,
    oaep: OaepParams,
    /// The modulus length: the ciphertext's.
    len: usize,
    /// The longest plaintext: k − 2·hLen − 2.
    max_output: usize,
}

impl CipherOp for RsaDecryptOp {
    single_part_cipher!();

    fn oneshot_len(&self, _input_len: usize) -> usize {
        self.max_output
    }

    /// One error for every failure after the length check, so the answer
    /// says nothing about where decoding failed (Manger's attack).
    fn oneshot(self: Box<Self>, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if input.len() != self.len {
            return Err(Rv::ENCRYPTED_DATA_LEN_RANGE);
        }
        // aws-lc-rs wants room for k bytes; the plaintext passes through
        // locked memory that is wiped on drop.
        let mut clear = SecretBytes::try_zeroed(self.len)?;
        let plain = self
            .key
            .decrypt(
                self.oaep.algorithm,
                input,
                clear.as_mut_slice(),
                self.oaep.label.as_deref(),
            )
            .map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?;
        let n = plain.len();
        out.get_mut(..n)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(plain);
        Ok(n)
    }
}

#[cfg(test)]
#[path = "rsa_tests.rs"]
mod tests;
