//! Key derivation (PKCS#11 3.0 Current Mechanisms §2.43, §2.26, §2.15):
//! CKM_HKDF_DERIVE, CKM_HKDF_DATA, CKM_PKCS5_PBKD2 (a key generation),
//! CKM_AES_ECB_ENCRYPT_DATA and CKM_AES_CBC_ENCRYPT_DATA, and the ANSI X9.63
//! KDF that CKM_ECDH1_DERIVE applies for CKD_SHA*_KDF. HMAC, digests and
//! AES come from aws-lc-rs.
//!
//! The derived key: a CKO_SECRET_KEY (the template may say so, nothing
//! else) of CKA_KEY_TYPE CKK_GENERIC_SECRET when the template is silent, or
//! CKK_AES, CKK_HKDF or an HMAC key type (CKR_TEMPLATE_INCONSISTENT for
//! others: no DES); CKA_VALUE_LEN, when given, must be a length the key type
//! allows (CKR_TEMPLATE_INCONSISTENT). Its CKA_ALWAYS_SENSITIVE and
//! CKA_NEVER_EXTRACTABLE follow the base key's (`KeyOrigin::Derived`), and
//! CKA_LOCAL is FALSE.
//!
//! - HKDF (RFC 5869) takes CK_HKDF_PARAMS: at least one of bExtract and
//!   bExpand (CKR_MECHANISM_PARAM_INVALID otherwise); prfHashMechanism
//!   CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384 or CKM_SHA512; the salt
//!   absent (CKF_HKDF_SALT_NULL: HashLen zeros), given, or a key's value
//!   (CKF_HKDF_SALT_KEY: the token looks the key up first, see
//!   `backend::soft::wrapping::resolve_derive_param`). The base key is
//!   CKK_GENERIC_SECRET or CKK_HKDF of any length when extracting (RFC 5869
//!   takes any input keying material; the spec's "the length must be the
//!   size of the hash" would rule out RFC 5869's own test cases), and at
//!   least HashLen bytes when it is the PRK itself (expand only;
//!   CKR_KEY_SIZE_RANGE). The output is CKA_VALUE_LEN bytes (up to
//!   255 × HashLen; HashLen when not given); extract alone gives the PRK,
//!   HashLen bytes. HKDF runs on aws-lc-rs's HMAC rather than its `hkdf`
//!   module, which hides the PRK (extract alone must return it) and panics
//!   on a PRK longer than 64 bytes; a test checks both against each other.
//! - CKM_HKDF_DATA is HKDF whose output is a CKO_DATA object (CKA_VALUE the
//!   output, CKA_VALUE_LEN in the template giving the length, CKA_CLASS
//!   CKO_DATA if named; the rest of the template as for C_CreateObject).
//! - CKM_PKCS5_PBKD2 (PKCS #5 v2.1 PBKDF2) derives a key from a password:
//!   CKZ_SALT_SPECIFIED salt, 1 to 2^32 - 1 iterations, PRF HMAC-SHA1,
//!   -SHA256, -SHA384 or -SHA512 without PRF data (others:
//!   CKR_MECHANISM_PARAM_INVALID). CKA_VALUE_LEN is required
//!   (CKR_TEMPLATE_INCOMPLETE) and must suit the key type
//!   (CKR_KEY_SIZE_RANGE). Though reached through C_GenerateKey, the key is
//!   derived from material the caller knows: its CKA_LOCAL,
//!   CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE are FALSE, so it never
//!   counts as a token-generated wrapping key.
//! - CKM_AES_ECB_ENCRYPT_DATA / CKM_AES_CBC_ENCRYPT_DATA (as SoftHSMv2):
//!   the base AES key encrypts the parameter's data (a non-empty multiple of
//!   16 bytes, CKR_MECHANISM_PARAM_INVALID otherwise; CBC with the
//!   parameter's IV, no padding); the key is the leading CKA_VALUE_LEN
//!   bytes of the result, all of it when the template is silent.
//! - X9.63 (SEC 1 §3.6.1): K = H(Z ‖ 1 ‖ SharedInfo) ‖ H(Z ‖ 2 ‖ SharedInfo)
//!   ..., counters 32-bit big-endian, truncated to the key length.

use aws_lc_rs::{digest, hmac};
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::{Attr, HkdfSalt, MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::{aes, key_value, template_value, Derive, Encrypt, KeyGen};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;

/// Key types a derived secret may have.
const DERIVED_TYPES: &[CK_KEY_TYPE] = &[
    CKK_GENERIC_SECRET,
    CKK_AES,
    CKK_HKDF,
    CKK_SHA_1_HMAC,
    CKK_SHA224_HMAC,
    CKK_SHA256_HMAC,
    CKK_SHA384_HMAC,
    CKK_SHA512_HMAC,
];

/// CKM_HKDF_DERIVE (`data` false) and CKM_HKDF_DATA (`data` true).
pub struct Hkdf {
    data: bool,
}

pub static HKDF_DERIVE: Hkdf = Hkdf { data: false };
pub static HKDF_DATA: Hkdf = Hkdf { data: true };

/// CKM_PKCS5_PBKD2.
pub struct Pbkdf2;

pub static PKCS5_PBKD2: Pbkdf2 = Pbkdf2;

/// CKM_AES_ECB_ENCRYPT_DATA (`cbc` false) and CKM_AES_CBC_ENCRYPT_DATA.
pub struct AesEncryptData {
    cbc: bool,
}

pub static AES_ECB_ENCRYPT_DATA: AesEncryptData = AesEncryptData { cbc: false };
pub static AES_CBC_ENCRYPT_DATA: AesEncryptData = AesEncryptData { cbc: true };

// ---------------------------------------------------------------------------
// HKDF.

/// The HMAC of an HKDF prfHashMechanism.
fn hkdf_prf(prf: CK_MECHANISM_TYPE) -> Result<hmac::Algorithm> {
    Ok(match prf {
        CKM_SHA_1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        CKM_SHA224 => hmac::HMAC_SHA224,
        CKM_SHA256 => hmac::HMAC_SHA256,
        CKM_SHA384 => hmac::HMAC_SHA384,
        CKM_SHA512 => hmac::HMAC_SHA512,
        _ => return Err(Rv::MECHANISM_PARAM_INVALID),
    })
}

/// HKDF-Extract (RFC 5869 §2.2): HMAC(salt, IKM); an empty salt is HashLen
/// zeros, which HMAC pads to the same key.
pub fn hkdf_extract(alg: hmac::Algorithm, salt: &[u8], ikm: &[u8]) -> Zeroizing<Vec<u8>> {
    let key = hmac::Key::new(alg, salt);
    Zeroizing::new(hmac::sign(&key, ikm).as_ref().to_vec())
}

/// HKDF-Expand (RFC 5869 §2.3): `len` bytes from `prk` and `info`.
///
/// # Errors
/// CKR_TEMPLATE_INCONSISTENT when `len` is 0 or over 255 × HashLen.
pub fn hkdf_expand(
    alg: hmac::Algorithm,
    prk: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    let hash_len = alg.digest_algorithm().output_len();
    if len == 0 || len > 255 * hash_len {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let key = hmac::Key::new(alg, prk);
    let mut out = Zeroizing::new(Vec::with_capacity(len + hash_len));
    let mut previous = Zeroizing::new(Vec::new());
    for counter in 1..=255u8 {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&previous);
        ctx.update(info);
        ctx.update(&[counter]);
        let t = ctx.sign();
        out.extend_from_slice(t.as_ref());
        if out.len() >= len {
            break;
        }
        previous = Zeroizing::new(t.as_ref().to_vec());
    }
    out.truncate(len);
    Ok(out)
}

impl Derive for Hkdf {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        &[CKK_GENERIC_SECRET, CKK_HKDF]
    }

    fn derive(
        &self,
        param: &MechParam,
        base: &Attributes,
        template: &Template,
        actor: Actor,
    ) -> Result<Attributes> {
        let MechParam::Hkdf {
            extract,
            expand,
            prf,
            salt,
            info,
        } = param
        else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        if !extract && !expand {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let alg = hkdf_prf(*prf)?;
        let hash_len = alg.digest_algorithm().output_len();
        let salt: &[u8] = match salt {
            HkdfSalt::Null => &[],
            HkdfSalt::Data(s) => s,
            HkdfSalt::KeyValue(s) => &s.0,
            // The token replaces a salt key by its value before this runs.
            HkdfSalt::Key(_) => return Err(Rv::MECHANISM_PARAM_INVALID),
        };
        let (class, key_type, len) = if self.data {
            (CKO_DATA, None, value_len(template)?)
        } else {
            let (key_type, len) = secret_shape(template)?;
            (CKO_SECRET_KEY, Some(key_type), len)
        };
        let ikm = key_value(base, CKA_VALUE)?;
        let prk = if *extract {
            hkdf_extract(alg, salt, ikm.as_slice())
        } else if ikm.len() < hash_len {
            return Err(Rv::KEY_SIZE_RANGE);
        } else {
            Zeroizing::new(ikm.as_slice().to_vec())
        };
        let okm = if *expand {
            hkdf_expand(alg, &prk, info, len.unwrap_or(hash_len))?
        } else if len.is_some_and(|n| n != hash_len) {
            return Err(Rv::TEMPLATE_INCONSISTENT);
        } else {
            prk
        };
        match key_type {
            Some(key_type) if class == CKO_SECRET_KEY => {
                new_secret(base, key_type, template, &okm, actor)
            }
            _ => new_data(template, &okm, actor),
        }
    }
}

// ---------------------------------------------------------------------------
// PBKDF2.

impl KeyGen for Pbkdf2 {
    fn generate(&self, param: &MechParam, template: &Template, actor: Actor) -> Result<Attributes> {
        let MechParam::Pbkdf2 {
            salt_source,
            salt,
            iterations,
            prf,
            prf_data,
            password,
        } = param
        else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        let alg = match *prf {
            CKP_PKCS5_PBKD2_HMAC_SHA1 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1,
            CKP_PKCS5_PBKD2_HMAC_SHA256 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            CKP_PKCS5_PBKD2_HMAC_SHA384 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA384,
            CKP_PKCS5_PBKD2_HMAC_SHA512 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
            _ => return Err(Rv::MECHANISM_PARAM_INVALID),
        };
        let iterations = u32::try_from(*iterations)
            .ok()
            .and_then(std::num::NonZeroU32::new)
            .ok_or(Rv::MECHANISM_PARAM_INVALID)?;
        if *salt_source != CKZ_SALT_SPECIFIED || !prf_data.is_empty() {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let (key_type, len) = secret_shape(template).map_err(|rv| match rv {
            // C_GenerateKey's code for a length the key type cannot have.
            Rv::TEMPLATE_INCONSISTENT if template_value(template, CKA_VALUE_LEN).is_some() => {
                Rv::KEY_SIZE_RANGE
            }
            other => other,
        })?;
        let len = len.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
        let mut value = Zeroizing::new(vec![0u8; len]);
        aws_lc_rs::pbkdf2::derive(alg, iterations, salt, &password.0, &mut value);
        let origin = KeyOrigin::Derived {
            base_always_sensitive: false,
            base_never_extractable: false,
        };
        let mut attrs = policy::for_new_key(CKO_SECRET_KEY, key_type, template, origin, actor)?;
        attrs.set_secret(CKA_VALUE, &value);
        attrs.set_ulong(CKA_VALUE_LEN, len as CK_ULONG);
        Ok(attrs)
    }
}

// ---------------------------------------------------------------------------
// Derivation by data encryption.

impl Derive for AesEncryptData {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        &[CKK_AES]
    }

    fn derive(
        &self,
        param: &MechParam,
        base: &Attributes,
        template: &Template,
        actor: Actor,
    ) -> Result<Attributes> {
        let (cipher, cipher_param, data): (&aes::AesBlock, MechParam, &[u8]) = match param {
            MechParam::Bytes(data) if !self.cbc => (&aes::AES_ECB, MechParam::None, data),
            MechParam::AesCbcEncryptData { iv, data } if self.cbc => {
                (&aes::AES_CBC, MechParam::Bytes(iv.to_vec()), data)
            }
            _ => return Err(Rv::MECHANISM_PARAM_INVALID),
        };
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        let (key_type, len) = secret_shape(template)?;
        let op = Encrypt::start(cipher, &cipher_param, base)?;
        let mut out = Zeroizing::new(vec![0u8; op.oneshot_len(data.len())]);
        let n = op.oneshot(data, &mut out)?;
        out.truncate(n);
        let len = len.unwrap_or(n);
        let value = out.get(..len).ok_or(Rv::TEMPLATE_INCONSISTENT)?;
        new_secret(base, key_type, template, value, actor)
    }
}

// ---------------------------------------------------------------------------
// ANSI X9.63.

/// The ANSI X9.63 KDF of CKD_SHA1_KDF ... CKD_SHA512_KDF: `len` bytes from
/// the shared secret `z` and `shared_info`.
///
/// # Errors
/// CKR_MECHANISM_PARAM_INVALID for another KDF.
pub fn x963_kdf(
    kdf: CK_EC_KDF_TYPE,
    z: &[u8],
    shared_info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    let alg = match kdf {
        CKD_SHA1_KDF => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        CKD_SHA224_KDF => &digest::SHA224,
        CKD_SHA256_KDF => &digest::SHA256,
        CKD_SHA384_KDF => &digest::SHA384,
        CKD_SHA512_KDF => &digest::SHA512,
        _ => return Err(Rv::MECHANISM_PARAM_INVALID),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(len + alg.output_len()));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut ctx = digest::Context::new(alg);
        ctx.update(z);
        ctx.update(&counter.to_be_bytes());
        ctx.update(shared_info);
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.checked_add(1).ok_or(Rv::TEMPLATE_INCONSISTENT)?;
    }
    out.truncate(len);
    Ok(out)
}

// ---------------------------------------------------------------------------
// The derived object.

/// A CK_ULONG template value, if given.
fn template_ulong(template: &Template, kind: CK_ATTRIBUTE_TYPE) -> Result<Option<CK_ULONG>> {
    template_value(template, kind)
        .map(|v| {
            v.try_into()
                .map(CK_ULONG::from_ne_bytes)
                .map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID)
        })
        .transpose()
}

/// CKA_VALUE_LEN from the template, if given: a length of at least 1.
fn value_len(template: &Template) -> Result<Option<usize>> {
    match template_ulong(template, CKA_VALUE_LEN)? {
        None => Ok(None),
        Some(0) => Err(Rv::TEMPLATE_INCONSISTENT),
        Some(n) => usize::try_from(n)
            .map(Some)
            .map_err(|_| Rv::TEMPLATE_INCONSISTENT),
    }
}

/// The derived secret key's type and requested length, from the template
/// (see the module's documentation).
///
/// # Errors
/// CKR_TEMPLATE_INCONSISTENT; CKR_ATTRIBUTE_VALUE_INVALID.
pub fn secret_shape(template: &Template) -> Result<(CK_KEY_TYPE, Option<usize>)> {
    if template_ulong(template, CKA_CLASS)?.is_some_and(|c| c != CKO_SECRET_KEY) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let key_type = template_ulong(template, CKA_KEY_TYPE)?.unwrap_or(CKK_GENERIC_SECRET);
    if !DERIVED_TYPES.contains(&key_type) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let len = value_len(template)?;
    if len.is_some_and(|n| !policy::secret_key_length_ok(key_type, n)) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    Ok((key_type, len))
}

/// A derived secret key of `key_type` with `value`.
fn new_secret(
    base: &Attributes,
    key_type: CK_KEY_TYPE,
    template: &Template,
    value: &[u8],
    actor: Actor,
) -> Result<Attributes> {
    if !policy::secret_key_length_ok(key_type, value.len()) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let origin = KeyOrigin::Derived {
        base_always_sensitive: base.flag(CKA_ALWAYS_SENSITIVE, false),
        base_never_extractable: base.flag(CKA_NEVER_EXTRACTABLE, false),
    };
    let mut attrs = policy::for_new_key(CKO_SECRET_KEY, key_type, template, origin, actor)?;
    attrs.set_secret(CKA_VALUE, value);
    attrs.set_ulong(CKA_VALUE_LEN, value.len() as CK_ULONG);
    Ok(attrs)
}

/// CKM_HKDF_DATA's data object: the template without CKA_VALUE_LEN (the
/// output length), CKA_CLASS CKO_DATA, CKA_VALUE the output.
fn new_data(template: &Template, value: &[u8], actor: Actor) -> Result<Attributes> {
    if template_ulong(template, CKA_CLASS)?.is_some_and(|c| c != CKO_DATA)
        || template_value(template, CKA_VALUE).is_some()
    {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let mut t: Vec<Attr> = template
        .iter()
        .filter(|a| a.kind != CKA_VALUE_LEN && a.kind != CKA_CLASS)
        .cloned()
        .collect();
    t.push(Attr::ulong(CKA_CLASS, CKO_DATA));
    t.push(Attr::new(CKA_VALUE, value));
    policy::for_create(&t, actor)
}

#[cfg(test)]
#[path = "kdf_tests.rs"]
mod tests;
