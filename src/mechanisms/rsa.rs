//! RSA (PKCS#11 3.0 Current Mechanisms §2.1), on AWS-LC: key pair
//! generation, PKCS#1 v1.5, PSS and raw (X.509) signatures, OAEP, PKCS#1
//! v1.5 and raw encryption, and key wrapping with OAEP and PKCS#1 v1.5.
//!
//! # Why AWS-LC, and why it is safe
//!
//! AWS-LC's RSA private operations are constant-time and blinded, and check
//! their result against the public key before releasing it (no fault
//! attacks); its OAEP decoding is constant-time and fails with one error.
//! The pure-Rust `rsa` crate before 0.10 leaks key bits through timing (the
//! Marvin attack, RUSTSEC-2023-0071) and is not used. The calls go through
//! `crate::awslc::rsa` (aws-lc-rs's safe API lacks the raw operation, small
//! keys, SHA-224 and mixed MGF1 hashes, and re-validates the key at every
//! use, which made signing slower than SoftHSMv2).
//!
//! # What is offered
//!
//! - CKM_RSA_PKCS_KEY_PAIR_GEN: 2048–8192 bits in steps of 128 (1024 up
//!   with `allow_rsa_1024`), CKA_PUBLIC_EXPONENT honoured (see [`keys`]).
//! - CKM_RSA_PKCS: sign and verify any data up to k − 11 bytes (a
//!   DigestInfo, as the spec intends, or a TLS 1.1 MD5+SHA-1 pair), sign
//!   and verify with recovery, encrypt, decrypt (with implicit rejection,
//!   below), wrap and unwrap.
//! - CKM_SHA1/224/256/384/512_RSA_PKCS: sign and verify, multi-part.
//! - CKM_RSA_PKCS_PSS (on a caller's digest, whose length must equal
//!   hashAlg's) and CKM_SHA1/224/256/384/512_RSA_PKCS_PSS: hashAlg one of
//!   those hashes, equal to the mechanism's where it has one; MGF1 with any
//!   of them; sLen up to emLen − hLen − 2.
//! - CKM_RSA_PKCS_OAEP: encrypt, decrypt, wrap, unwrap; hashAlg and MGF1
//!   any of SHA-1/224/256/384/512, source CKZ_DATA_SPECIFIED with any
//!   label (or 0 with none). Every decryption failure is
//!   CKR_ENCRYPTED_DATA_INVALID (CKR_WRAPPED_KEY_INVALID when unwrapping);
//!   only a ciphertext that is not k bytes long gets a length error (its
//!   length is no secret).
//! - CKM_RSA_X_509: raw RSA for sign, verify, recovery, encrypt and
//!   decrypt; shorter inputs are left-padded with zeros (§2.1.10), an input
//!   not below the modulus is CKR_DATA_INVALID.
//!
//! Encryption and decryption are single-part (the spec's footnote 1);
//! C_EncryptUpdate / C_DecryptUpdate answer CKR_FUNCTION_NOT_SUPPORTED.
//!
//! # PKCS#1 v1.5 decryption without a padding oracle
//!
//! A ciphertext with bad padding does not fail: it decrypts to a synthetic
//! message derived from the key and the ciphertext ([`implicit`]), in
//! constant time, so neither the answer nor its timing tells a
//! Bleichenbacher attacker anything; the ciphertext 0 too (Wycheproof's
//! rsa_pkcs1 tcId 27), as in OpenSSL. Unwrapping with CKM_RSA_PKCS is also
//! refused under `strict` (`allow_pkcs1v15_unwrap`).

#[path = "rsa_implicit.rs"]
mod implicit;
#[path = "rsa_keys.rs"]
pub mod keys;
#[path = "rsa_schemes.rs"]
mod schemes;

use cryptoki_sys::*;

use crate::awslc::rsa::RsaKey;
use crate::backend::{MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::digest::{hash_of, Hash, SignInput};
use crate::mechanisms::{der, key_value, no_param, template_value};
use crate::mechanisms::{
    single_part_cipher, CipherOp, Decrypt, Encrypt, KeyPairGen, RecoverOp, Sign, SignOp, Unwrap,
    Verify, VerifyOp, VerifyRecover, Wrap,
};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;
use crate::secure::SecretBytes;

use keys::PublicParts;
use schemes::*;

/// ulMinKeySize of the RSA rows, in bits, under the default policy
/// ([`crate::mechanisms::info_under`] lowers it where `allow_rsa_1024`).
pub const MIN_KEY_BITS: CK_ULONG = keys::MIN_BITS as CK_ULONG;
/// ulMinKeySize of the RSA rows where `allow_rsa_1024` is set.
pub const LEGACY_MIN_KEY_BITS: CK_ULONG = keys::LEGACY_MIN_BITS as CK_ULONG;
/// ulMaxKeySize of the RSA rows, in bits.
pub const MAX_KEY_BITS: CK_ULONG = keys::MAX_BITS as CK_ULONG;

const RSA_KEYS: &[CK_KEY_TYPE] = &[CKK_RSA];

// ---------------------------------------------------------------------------
// The mechanisms.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Padding {
    Pkcs1,
    Pss,
    Raw,
}

/// A signature mechanism: its padding, and the hash it runs over the data
/// (None: the caller gives the digest, DigestInfo or data).
pub struct RsaSig {
    padding: Padding,
    hash: Option<Hash>,
}

pub static RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, None);
pub static RSA_X_509: RsaSig = RsaSig::new(Padding::Raw, None);
pub static SHA1_RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, Some(Hash::Sha1));
pub static SHA224_RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, Some(Hash::Sha224));
pub static SHA256_RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, Some(Hash::Sha256));
pub static SHA384_RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, Some(Hash::Sha384));
pub static SHA512_RSA_PKCS: RsaSig = RsaSig::new(Padding::Pkcs1, Some(Hash::Sha512));
pub static RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, None);
pub static SHA1_RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, Some(Hash::Sha1));
pub static SHA224_RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, Some(Hash::Sha224));
pub static SHA256_RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, Some(Hash::Sha256));
pub static SHA384_RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, Some(Hash::Sha384));
pub static SHA512_RSA_PKCS_PSS: RsaSig = RsaSig::new(Padding::Pss, Some(Hash::Sha512));

/// An encryption mechanism (also wrapping, for OAEP and PKCS#1 v1.5).
pub struct RsaCipher {
    padding: CipherPadding,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CipherPadding {
    Oaep,
    Pkcs1,
    Raw,
}

pub static RSA_PKCS_OAEP: RsaCipher = RsaCipher {
    padding: CipherPadding::Oaep,
};
pub static RSA_PKCS_CIPHER: RsaCipher = RsaCipher {
    padding: CipherPadding::Pkcs1,
};
pub static RSA_X_509_CIPHER: RsaCipher = RsaCipher {
    padding: CipherPadding::Raw,
};

/// CKM_RSA_PKCS_KEY_PAIR_GEN.
pub struct RsaKeyPairGen;
pub static RSA_PKCS_KEY_PAIR_GEN: RsaKeyPairGen = RsaKeyPairGen;

impl RsaSig {
    const fn new(padding: Padding, hash: Option<Hash>) -> RsaSig {
        RsaSig { padding, hash }
    }

    /// The scheme the parameter asks for, for a key of `bits` bits.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID.
    fn scheme(&self, param: &MechParam, bits: usize) -> Result<Scheme> {
        match self.padding {
            Padding::Pkcs1 => no_param(param).map(|()| Scheme::Pkcs1(self.hash)),
            Padding::Raw => no_param(param).map(|()| Scheme::X509),
            Padding::Pss => match *param {
                MechParam::RsaPss {
                    hash,
                    mgf,
                    salt_len,
                } => Scheme::pss(self.hash, hash, mgf, salt_len, bits),
                _ => Err(Rv::MECHANISM_PARAM_INVALID),
            },
        }
    }

    /// The public parts and scheme for a C_*Init with `key`.
    fn prepare<'a>(
        &self,
        param: &MechParam,
        key: &'a Attributes,
    ) -> Result<(PublicParts<'a>, Scheme, SignInput)> {
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let scheme = self.scheme(param, public.bits())?;
        let input = SignInput::new(scheme.running_hash(self.hash.is_some()));
        Ok((public, scheme, input))
    }
}

impl Sign for RsaSig {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>> {
        let (public, scheme, input) = self.prepare(param, key)?;
        Ok(Box::new(RsaSignOp {
            len: public.len(),
            key: keys::private_key(key)?,
            input,
            scheme,
        }))
    }
}

impl Verify for RsaSig {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>> {
        let (public, scheme, input) = self.prepare(param, key)?;
        Ok(Box::new(RsaVerifyOp {
            len: public.len(),
            key: public.key()?,
            input,
            scheme,
        }))
    }
}

/// Recovery, for the rows that offer it (CKM_RSA_PKCS: the data under the
/// PKCS#1 v1.5 padding; CKM_RSA_X_509: all k bytes).
impl VerifyRecover for RsaSig {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn RecoverOp>> {
        let (public, scheme, _) = self.prepare(param, key)?;
        if !matches!(scheme, Scheme::Pkcs1(None) | Scheme::X509) {
            return Err(Rv::MECHANISM_INVALID);
        }
        Ok(Box::new(RsaRecoverOp {
            len: public.len(),
            key: public.key()?,
            raw: scheme == Scheme::X509,
        }))
    }
}

impl RsaCipher {
    /// The parameter checked, and the longest plaintext for a key of `k`
    /// bytes.
    fn params(&self, param: &MechParam, k: usize) -> Result<(Option<OaepParams>, usize)> {
        match self.padding {
            CipherPadding::Oaep => {
                let oaep = OaepParams::of(param)?;
                let max = k.saturating_sub(2 * oaep.hash.output_len() + 2);
                Ok((Some(oaep), max))
            }
            CipherPadding::Pkcs1 => no_param(param).map(|()| (None, k.saturating_sub(11))),
            CipherPadding::Raw => no_param(param).map(|()| (None, k)),
        }
    }
}

impl Encrypt for RsaCipher {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let (oaep, max_input) = self.params(param, public.len())?;
        Ok(Box::new(RsaEncryptOp {
            key: public.key()?,
            padding: self.padding,
            oaep,
            len: public.len(),
            max_input,
        }))
    }
}

impl Decrypt for RsaCipher {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>> {
        let public = PublicParts::of(key)?;
        public.check(keys::LEGACY_MIN_BITS)?;
        let (oaep, max_output) = self.params(param, public.len())?;
        let d = match self.padding {
            CipherPadding::Pkcs1 => Some(key_value(key, CKA_PRIVATE_EXPONENT)?),
            _ => None,
        };
        Ok(Box::new(RsaDecryptOp {
            key: keys::private_key(key)?,
            padding: self.padding,
            oaep,
            d,
            len: public.len(),
            max_output,
        }))
    }
}

impl Wrap for RsaCipher {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    /// # Errors
    /// CKR_KEY_SIZE_RANGE when the key to wrap is too long for the
    /// padding; CKR_MECHANISM_INVALID for CKM_RSA_X_509 (raw RSA is no
    /// wrapping scheme).
    fn wrap(&self, param: &MechParam, key: &Attributes, plain: &[u8]) -> Result<Vec<u8>> {
        if self.padding == CipherPadding::Raw {
            return Err(Rv::MECHANISM_INVALID);
        }
        let (_, max_input) = self.params(param, PublicParts::of(key)?.len())?;
        if plain.len() > max_input {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let op = Encrypt::start(self, param, key)?;
        let mut out = vec![0u8; op.oneshot_len(plain.len())];
        let n = op.oneshot(plain, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

impl Unwrap for RsaCipher {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        RSA_KEYS
    }

    /// # Errors
    /// CKR_WRAPPED_KEY_LEN_RANGE (not k bytes); CKR_WRAPPED_KEY_INVALID.
    fn unwrap(&self, param: &MechParam, key: &Attributes, wrapped: &[u8]) -> Result<SecretBytes> {
        if self.padding == CipherPadding::Raw {
            return Err(Rv::MECHANISM_INVALID);
        }
        let op = Decrypt::start(self, param, key)?;
        let mut out = SecretBytes::try_zeroed(op.oneshot_len(wrapped.len()))?;
        let n = op
            .oneshot(wrapped, out.as_mut_slice())
            .map_err(|rv| match rv {
                Rv::ENCRYPTED_DATA_LEN_RANGE => Rv::WRAPPED_KEY_LEN_RANGE,
                Rv::ENCRYPTED_DATA_INVALID => Rv::WRAPPED_KEY_INVALID,
                other => other,
            })?;
        Ok(SecretBytes::from_slice(&out.as_slice()[..n]))
    }
}

impl KeyPairGen for RsaKeyPairGen {
    /// CKA_MODULUS_BITS is required in the public template (the policy
    /// checks that); CKA_PUBLIC_EXPONENT may be given there (65537 when
    /// not). The mechanism contributes CKA_MODULUS and CKA_PUBLIC_EXPONENT
    /// to both keys and the private components to the private key (spec
    /// §2.1.4).
    ///
    /// # Errors
    /// The policy's template errors; CKR_KEY_SIZE_RANGE (see
    /// [`keys::generate_into`]); CKR_ATTRIBUTE_VALUE_INVALID (exponent).
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
        let e = template_value(public, CKA_PUBLIC_EXPONENT).map_or(&keys::F4[..], der::strip_zeros);
        let bits = usize::try_from(bits).map_err(|_| Rv::KEY_SIZE_RANGE)?;
        let min = if actor.hardening.rsa_1024 {
            keys::LEGACY_MIN_BITS
        } else {
            keys::MIN_BITS
        };
        keys::generate_into(bits, e, min, &mut pub_attrs, &mut priv_attrs)?;
        Ok((pub_attrs, priv_attrs))
    }
}

// ---------------------------------------------------------------------------
// Signing and verification operations.

/// The data given or hashed, its length checked against the scheme and
/// the modulus length `k`.
///
/// # Errors
/// CKR_DATA_LEN_RANGE.
fn input_value(input: SignInput, scheme: Scheme, k: usize) -> Result<InputValue> {
    let value = match input {
        SignInput::Hashing(h) => InputValue::Hash(h.finish()),
        SignInput::Given(d) => InputValue::Given(d.unwrap_or_default()),
    };
    if scheme.input_fits(value.as_ref().len(), k) {
        Ok(value)
    } else {
        Err(Rv::DATA_LEN_RANGE)
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

/// What a PKCS#1 v1.5 signature carries: the DigestInfo of a hashed
/// input, or the caller's data itself (CKM_RSA_PKCS).
fn pkcs1_payload(hash: Option<Hash>, value: &[u8]) -> Result<Vec<u8>> {
    match hash {
        None => Ok(value.to_vec()),
        Some(h) => {
            let prefix = digest_info_prefix(h).ok_or(Rv::MECHANISM_INVALID)?;
            Ok([prefix, value].concat())
        }
    }
}

/// `value` left-padded with zeros to `k` bytes (CKM_RSA_X_509's input).
fn left_padded(value: &[u8], k: usize) -> Result<SecretBytes> {
    let mut out = SecretBytes::try_zeroed(k)?;
    out.as_mut_slice()[k - value.len()..].copy_from_slice(value);
    Ok(out)
}

struct RsaSignOp {
    /// The private key; AWS-LC wipes its numbers when it drops.
    key: RsaKey,
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
        let k = self.len;
        let value = input_value(self.input, self.scheme, k)?;
        let sig = out.get_mut(..k).ok_or(Rv::GENERAL_ERROR)?;
        match self.scheme {
            Scheme::Pkcs1(hash) => {
                let payload = pkcs1_payload(hash, value.as_ref())?;
                self.key.sign_pkcs1(&payload, sig)
            }
            Scheme::Pss { hash, mgf1, salt } => {
                self.key.sign_pss(value.as_ref(), hash, mgf1, salt, sig)
            }
            Scheme::X509 => {
                let padded = left_padded(value.as_ref(), k)?;
                self.key.private_raw(padded.as_slice(), sig).map(|()| k)
            }
        }
    }
}

struct RsaVerifyOp {
    key: RsaKey,
    len: usize,
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
        let k = self.len;
        let value = input_value(self.input, self.scheme, k)?;
        if signature.len() != k {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let valid = match self.scheme {
            Scheme::Pkcs1(hash) => {
                let expected = pkcs1_payload(hash, value.as_ref())?;
                let mut recovered = vec![0u8; k];
                let n = self.key.recover_pkcs1(signature, &mut recovered)?;
                recovered[..n] == expected[..]
            }
            Scheme::Pss { hash, mgf1, salt } => {
                self.key
                    .verify_pss(value.as_ref(), hash, mgf1, salt, signature)?
            }
            Scheme::X509 => {
                let mut opened = vec![0u8; k];
                self.key.public_raw(signature, &mut opened)?;
                opened == left_padded(value.as_ref(), k)?.as_slice()
            }
        };
        if valid {
            Ok(())
        } else {
            Err(Rv::SIGNATURE_INVALID)
        }
    }
}

struct RsaRecoverOp {
    key: RsaKey,
    len: usize,
    /// CKM_RSA_X_509 (no padding to remove).
    raw: bool,
}

impl RecoverOp for RsaRecoverOp {
    fn output_len(&self) -> usize {
        if self.raw {
            self.len
        } else {
            self.len - 11
        }
    }

    fn recover(self: Box<Self>, signature: &[u8], out: &mut [u8]) -> Result<usize> {
        if signature.len() != self.len {
            return Err(Rv::SIGNATURE_LEN_RANGE);
        }
        let mut opened = vec![0u8; self.len];
        let n = if self.raw {
            self.key.public_raw(signature, &mut opened)?;
            self.len
        } else {
            self.key.recover_pkcs1(signature, &mut opened)?
        };
        out.get_mut(..n)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(&opened[..n]);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// Encryption and decryption operations.

/// CK_RSA_PKCS_OAEP_PARAMS, checked.
struct OaepParams {
    hash: Hash,
    mgf1: Hash,
    /// The label (encoding parameter); empty when none.
    label: Vec<u8>,
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
        let hash = hash_of(*hash)
            .filter(|h| rsa_hash(*h))
            .ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        let mgf1 = mgf1_hash(*mgf).ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        // Source 0 is not a CKZ_ value, but clients pass it with no label.
        let source_ok = *source == CKZ_DATA_SPECIFIED || (*source == 0 && label.is_empty());
        if !source_ok {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        Ok(OaepParams {
            hash,
            mgf1,
            label: label.clone(),
        })
    }
}

struct RsaEncryptOp {
    key: RsaKey,
    padding: CipherPadding,
    oaep: Option<OaepParams>,
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
        match (self.padding, &self.oaep) {
            (CipherPadding::Oaep, Some(p)) => {
                self.key.encrypt_oaep(input, p.hash, p.mgf1, &p.label, out)
            }
            (CipherPadding::Pkcs1, _) => self.key.encrypt_pkcs1(input, out),
            (CipherPadding::Raw, _) => {
                let padded = left_padded(input, self.len)?;
                self.key
                    .public_raw(padded.as_slice(), out)
                    .map(|()| self.len)
                    .map_err(|_| Rv::DATA_INVALID)
            }
            (CipherPadding::Oaep, None) => Err(Rv::GENERAL_ERROR),
        }
    }
}

struct RsaDecryptOp {
    key: RsaKey,
    padding: CipherPadding,
    oaep: Option<OaepParams>,
    /// The private exponent, for PKCS#1 v1.5's implicit rejection.
    d: Option<SecretBytes>,
    /// The modulus length: the ciphertext's.
    len: usize,
    /// The longest plaintext.
    max_output: usize,
}

impl CipherOp for RsaDecryptOp {
    single_part_cipher!();

    fn oneshot_len(&self, _input_len: usize) -> usize {
        self.max_output
    }

    /// One error for every failure after the length check, so the answer
    /// says nothing about where decoding failed (Manger's attack); PKCS#1
    /// v1.5 does not fail at all (implicit rejection).
    fn oneshot(self: Box<Self>, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if input.len() != self.len {
            return Err(Rv::ENCRYPTED_DATA_LEN_RANGE);
        }
        // The plaintext passes through locked memory that is wiped on drop.
        let mut clear = SecretBytes::try_zeroed(self.len)?;
        let n = match (self.padding, &self.oaep, &self.d) {
            (CipherPadding::Oaep, Some(p), _) => {
                self.key
                    .decrypt_oaep(input, p.hash, p.mgf1, &p.label, clear.as_mut_slice())?
            }
            (CipherPadding::Pkcs1, _, Some(d)) => {
                let mut em = SecretBytes::try_zeroed(self.len)?;
                // 0^d is 0, whose padding is wrong like any other: it gets
                // its synthetic message too (AWS-LC's raw operation refuses
                // the input 0, and an error would set it apart). The
                // ciphertext is public, so the branch leaks nothing.
                if input.iter().any(|b| *b != 0) {
                    self.key.decrypt_raw(input, em.as_mut_slice())?;
                }
                implicit::decode(em.as_slice(), input, d.as_slice(), clear.as_mut_slice())?
            }
            (CipherPadding::Raw, _, _) => {
                self.key.decrypt_raw(input, clear.as_mut_slice())?;
                self.len
            }
            _ => return Err(Rv::GENERAL_ERROR),
        };
        out.get_mut(..n)
            .ok_or(Rv::GENERAL_ERROR)?
            .copy_from_slice(&clear.as_slice()[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[path = "rsa_tests.rs"]
mod tests;
