//! RSA keys (PKCS#11 3.0 Current Mechanisms §2.1.2–2.1.4): the attributes of
//! a key object turned into AWS-LC keys ([`RsaKey`]), key pair generation,
//! and which keys are accepted at all.
//!
//! - Components are big-endian unsigned integers. CKA_MODULUS and
//!   CKA_PUBLIC_EXPONENT are stored plain; CKA_PRIVATE_EXPONENT, CKA_PRIME_1/2,
//!   CKA_EXPONENT_1/2 and CKA_COEFFICIENT sealed. Leading zero bytes in an
//!   imported value are accepted; generated values have none.
//! - A private key is built from its components for each operation, without
//!   AWS-LC's RSA_check_key (which costs more than the signature): the
//!   components are checked once when they enter the token
//!   ([`check_key`], for C_CreateObject and C_UnwrapKey), and AWS-LC
//!   verifies each CRT result with e before releasing it, so a corrupt key
//!   gives an error, never a faulty signature that leaks the primes.
//! - Private keys without the CRT components (n, e, d only — legal in
//!   PKCS#11) work too, at a quarter of the speed; a key with only some of
//!   them is CKR_KEY_TYPE_INCONSISTENT at C_*Init. Wrapping one (PKCS#8
//!   needs every component) is CKR_KEY_NOT_WRAPPABLE.
//! - Sizes: 2048 to 8192 bits; 1024 to 2047 where the `allow_rsa_1024` rule
//!   ([`crate::config::Rule::Rsa1024`]) allows them, for every operation
//!   including generation. Generation makes sizes that are a multiple of
//!   128 bits (AWS-LC's granularity; another size is CKR_KEY_SIZE_RANGE
//!   rather than a key of a size nobody asked for).
//! - Public exponents: odd, at least 65537 (FIPS 186-5, SP 800-56B: tiny
//!   exponents are refused, issue 3's hardening) and below 2^33 (the bound
//!   AWS-LC enforces). A key with another exponent imports (C_CreateObject
//!   stores what it is given) and is refused at C_*Init with
//!   CKR_PUBLIC_KEY_INVALID, the private half included. Generation honours
//!   CKA_PUBLIC_EXPONENT within those bounds (CKR_ATTRIBUTE_VALUE_INVALID
//!   outside them) and makes 65537 when the template is silent.
//! - Size and exponent are checked at every C_*Init against the configured
//!   policy ([`key_permitted`], through `mechanisms::key_permitted`).

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::awslc::rsa::{PrivateComponents, RsaKey};
use crate::error::{Result, Rv};
use crate::mechanisms::{der, key_value, KeyPolicy};
use crate::object::Attributes;
use crate::secure::SecretBytes;

/// The smallest modulus of the default policy.
pub const MIN_BITS: usize = 2048;
/// The largest modulus this token uses.
pub const MAX_BITS: usize = 8192;
/// The smallest modulus the `allow_rsa_1024` rule admits.
pub const LEGACY_MIN_BITS: usize = 1024;
/// The public exponent generated keys get: 65537.
pub const F4: [u8; 3] = [0x01, 0x00, 0x01];

/// The DER contents of the rsaEncryption OID (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The private components after n and e, in RSAPrivateKey order.
const PRIVATE_PARTS: [CK_ATTRIBUTE_TYPE; 6] = [
    CKA_PRIVATE_EXPONENT,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_COEFFICIENT,
];

// ---------------------------------------------------------------------------
// Public parts and the acceptance rules.

/// The public half of an RSA key object: modulus and exponent without
/// leading zeros.
#[derive(Clone, Copy)]
pub struct PublicParts<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
}

impl<'a> PublicParts<'a> {
    /// CKA_MODULUS and CKA_PUBLIC_EXPONENT of a public or private key.
    ///
    /// # Errors
    /// CKR_GENERAL_ERROR when either is missing (the attribute policy
    /// requires both, so this is a token bug, logged).
    pub fn of(key: &'a Attributes) -> Result<PublicParts<'a>> {
        let get = |kind| {
            key.bytes(kind).map(der::strip_zeros).ok_or_else(|| {
                log::error!("RSA key without attribute {kind:#x}");
                Rv::GENERAL_ERROR
            })
        };
        Ok(PublicParts {
            n: get(CKA_MODULUS)?,
            e: get(CKA_PUBLIC_EXPONENT)?,
        })
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.n
            .first()
            .map_or(0, |b| self.n.len() * 8 - b.leading_zeros() as usize)
    }

    /// The modulus length in bytes: the length of signatures and
    /// ciphertexts.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// Whether the modulus is empty (never, for a key that passed
    /// [`PublicParts::check`]).
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// The key is one this token uses: `min_bits` to [`MAX_BITS`] long, an
    /// odd modulus, an exponent allowed by [`exponent_ok`].
    ///
    /// # Errors
    /// CKR_KEY_SIZE_RANGE (size); CKR_PUBLIC_KEY_INVALID (the rest).
    pub fn check(&self, min_bits: usize) -> Result<()> {
        if !(min_bits..=MAX_BITS).contains(&self.bits()) {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        if self.n.last().is_none_or(|b| b & 1 == 0) || !exponent_ok(self.e) {
            return Err(Rv::PUBLIC_KEY_INVALID);
        }
        Ok(())
    }

    /// The public key as an AWS-LC key.
    ///
    /// # Errors
    /// CKR_PUBLIC_KEY_INVALID.
    pub(crate) fn key(&self) -> Result<RsaKey> {
        RsaKey::public(self.n, self.e)
    }
}

/// Whether `e` (without leading zeros) is an exponent this token accepts:
/// odd, 65537 ≤ e < 2^33.
pub fn exponent_ok(e: &[u8]) -> bool {
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    let value = match e.len() {
        0..=5 => e.iter().fold(0u64, |v, b| v << 8 | u64::from(*b)),
        _ => return false,
    };
    odd && (65537..1 << 33).contains(&value)
}

/// The policy's verdict on an RSA key object: the check C_*Init applies to
/// every RSA key before the mechanism sees it (see
/// [`crate::mechanisms::key_permitted`]).
///
/// # Errors
/// As [`PublicParts::check`].
pub fn key_permitted(key: &Attributes, policy: KeyPolicy) -> Result<()> {
    let min = if policy.rsa_1024 {
        LEGACY_MIN_BITS
    } else {
        MIN_BITS
    };
    PublicParts::of(key)?.check(min)
}

/// The unwrap check (`mechanisms::check_key`, for C_UnwrapKey): the public
/// parts as every mechanism takes them, and for a
/// private key with its private exponent, AWS-LC's RSA_check_key (n = pq,
/// the CRT values and d agree with e). Keys of 1024 to 2047 bits pass (the
/// policy decides at use).
///
/// # Errors
/// CKR_KEY_SIZE_RANGE, CKR_PUBLIC_KEY_INVALID (as [`PublicParts::check`]);
/// CKR_ATTRIBUTE_VALUE_INVALID for inconsistent private components.
pub fn check_key(key: &Attributes) -> Result<()> {
    let public = PublicParts::of(key)?;
    public.check(LEGACY_MIN_BITS)?;
    check_private(key)
}

/// The C_CreateObject check (`mechanisms::check_material`): the
/// components are well formed — an odd modulus of at most [`MAX_BITS`], an
/// odd exponent above 1, and for a private key with its private exponent,
/// components that agree (RSA_check_key) — while sizes and exponents the
/// policy refuses (RSA-1024 under `strict`, e = 3) import and are refused
/// at use, with CKR_KEY_SIZE_RANGE / CKR_PUBLIC_KEY_INVALID.
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID.
pub fn check_material(key: &Attributes) -> Result<()> {
    let public = PublicParts::of(key)?;
    let odd = |v: &[u8]| v.last().is_some_and(|b| b & 1 == 1);
    let e_above_one = public.e.len() > 1 || public.e.first().is_some_and(|b| *b > 1);
    if !odd(public.n) || public.bits() > MAX_BITS || !odd(public.e) || !e_above_one {
        return Err(Rv::ATTRIBUTE_VALUE_INVALID);
    }
    check_private(key)
}

/// A private key's components agree, where it has its private exponent
/// (a key with only some CRT values imports and is refused at use).
fn check_private(key: &Attributes) -> Result<()> {
    if key.class() != CKO_PRIVATE_KEY || !key.has(CKA_PRIVATE_EXPONENT) {
        return Ok(());
    }
    match PrivateParts::of(key) {
        Err(Rv::KEY_TYPE_INCONSISTENT) => Ok(()),
        Err(other) => Err(other),
        Ok(parts) => match parts.key() {
            Ok(k) if k.is_consistent() => Ok(()),
            _ => Err(Rv::ATTRIBUTE_VALUE_INVALID),
        },
    }
}

// ---------------------------------------------------------------------------
// Private keys.

/// The private components of a key object, unsealed for one C_*Init.
struct PrivateParts<'a> {
    public: PublicParts<'a>,
    /// d; wiped on drop.
    d: SecretBytes,
    /// p, q, dP, dQ, qInv, when the key has them; wiped on drop.
    crt: Option<[SecretBytes; 5]>,
}

impl<'a> PrivateParts<'a> {
    /// # Errors
    /// CKR_KEY_TYPE_INCONSISTENT without d, or with only some of the CRT
    /// components.
    fn of(key: &'a Attributes) -> Result<PrivateParts<'a>> {
        let public = PublicParts::of(key)?;
        let [d, crt @ ..] = PRIVATE_PARTS;
        if !key.has(d) {
            return Err(Rv::KEY_TYPE_INCONSISTENT);
        }
        let present = crt.iter().filter(|kind| key.has(**kind)).count();
        let crt = match present {
            0 => None,
            5 => {
                let [p, q, dp, dq, qinv] = crt;
                Some([
                    key_value(key, p)?,
                    key_value(key, q)?,
                    key_value(key, dp)?,
                    key_value(key, dq)?,
                    key_value(key, qinv)?,
                ])
            }
            _ => return Err(Rv::KEY_TYPE_INCONSISTENT),
        };
        Ok(PrivateParts {
            public,
            d: key_value(key, d)?,
            crt,
        })
    }

    /// The key as an AWS-LC key (not re-validated; see the module doc).
    fn key(&self) -> Result<RsaKey> {
        let crt = self.crt.as_ref().map(|[p, q, dp, dq, qinv]| {
            [
                p.as_slice(),
                q.as_slice(),
                dp.as_slice(),
                dq.as_slice(),
                qinv.as_slice(),
            ]
        });
        let components = PrivateComponents {
            d: self.d.as_slice(),
            crt,
        };
        RsaKey::private(self.public.n, self.public.e, &components)
    }

    /// The key as PKCS#8 PrivateKeyInfo (RFC 5208) around a PKCS#1
    /// RSAPrivateKey, in a buffer reserved at its exact length (so it never
    /// reallocates) and wiped on drop.
    ///
    /// # Errors
    /// CKR_KEY_NOT_WRAPPABLE for a key without its CRT components.
    fn pkcs8(&self) -> Result<Zeroizing<Vec<u8>>> {
        let [p, q, dp, dq, qinv] = self.crt.as_ref().ok_or(Rv::KEY_NOT_WRAPPABLE)?;
        let ints: [&[u8]; 8] = [
            self.public.n,
            self.public.e,
            self.d.as_slice(),
            p.as_slice(),
            q.as_slice(),
            dp.as_slice(),
            dq.as_slice(),
            qinv.as_slice(),
        ];
        // RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, dP, dQ, qInv }
        let rsa_body = 3 + ints.iter().map(|v| der::uint_len(v)).sum::<usize>();
        let rsa_key = der::tlv_len(rsa_body);
        // AlgorithmIdentifier ::= SEQUENCE { rsaEncryption, NULL }
        let alg_body = der::tlv_len(RSA_ENCRYPTION_OID.len()) + 2;
        // PrivateKeyInfo ::= SEQUENCE { version 0, alg, OCTET STRING rsa_key }
        let body = 3 + der::tlv_len(alg_body) + der::tlv_len(rsa_key);
        let mut out = Zeroizing::new(Vec::with_capacity(der::tlv_len(body)));
        der::header_into(&mut out, der::SEQUENCE, body);
        der::uint_into(&mut out, &[]);
        der::header_into(&mut out, der::SEQUENCE, alg_body);
        der::tlv_into(&mut out, der::OID, &RSA_ENCRYPTION_OID);
        der::tlv_into(&mut out, der::NULL, &[]);
        der::header_into(&mut out, der::OCTET_STRING, rsa_key);
        der::header_into(&mut out, der::SEQUENCE, rsa_body);
        der::uint_into(&mut out, &[]);
        for v in ints {
            der::uint_into(&mut out, v);
        }
        debug_assert_eq!(out.len(), out.capacity());
        Ok(out)
    }
}

/// A private key object as an AWS-LC key, for one operation. AWS-LC keeps
/// the components in BIGNUMs it wipes when the key drops.
///
/// # Errors
/// As `PrivateParts::of`; CKR_KEY_TYPE_INCONSISTENT when AWS-LC refuses
/// the components.
pub(crate) fn private_key(key: &Attributes) -> Result<RsaKey> {
    PrivateParts::of(key)?.key()
}

/// A private key object as PKCS#8 PrivateKeyInfo, for C_WrapKey.
///
/// # Errors
/// As `PrivateParts::of`; CKR_KEY_NOT_WRAPPABLE without the CRT values.
pub fn private_key_info(key: &Attributes) -> Result<Zeroizing<Vec<u8>>> {
    PrivateParts::of(key)?.pkcs8()
}

/// The attributes of the private key in a PrivateKeyInfo, for
/// C_UnwrapKey: CKA_MODULUS and CKA_PUBLIC_EXPONENT (plain), then the
/// private components (to be sealed), each without leading zeros.
///
/// # Errors
/// CKR_WRAPPED_KEY_INVALID when the encoding is not a two-prime
/// RSAPrivateKey.
pub fn from_private_key_info(pkcs8: &[u8]) -> Result<[(CK_ATTRIBUTE_TYPE, &[u8]); 8]> {
    let [n, e, d, p, q, dp, dq, qinv] =
        pkcs8_components(pkcs8).map_err(|_| Rv::WRAPPED_KEY_INVALID)?;
    let [kd, kp, kq, kdp, kdq, kqinv] = PRIVATE_PARTS;
    Ok([
        (CKA_MODULUS, n),
        (CKA_PUBLIC_EXPONENT, e),
        (kd, d),
        (kp, p),
        (kq, q),
        (kdp, dp),
        (kdq, dq),
        (kqinv, qinv),
    ])
}

// ---------------------------------------------------------------------------
// Generation.

/// A generated key pair's attributes: CKA_MODULUS and CKA_PUBLIC_EXPONENT
/// for both keys, the private components (sealed) for the private key.
/// `bits` must lie between `min_bits` and [`MAX_BITS`] and be a multiple
/// of 128; `e` (without leading zeros) must pass [`exponent_ok`].
///
/// # Errors
/// CKR_KEY_SIZE_RANGE; CKR_ATTRIBUTE_VALUE_INVALID (the exponent);
/// CKR_FUNCTION_FAILED when the backend fails.
pub fn generate_into(
    bits: usize,
    e: &[u8],
    min_bits: usize,
    public: &mut Attributes,
    private: &mut Attributes,
) -> Result<()> {
    if !(min_bits..=MAX_BITS).contains(&bits) || bits % 128 != 0 {
        return Err(Rv::KEY_SIZE_RANGE);
    }
    if !exponent_ok(e) {
        return Err(Rv::ATTRIBUTE_VALUE_INVALID);
    }
    let pair = RsaKey::generate(bits, e)?;
    let [n, e, rest @ ..] = pair.components()?;
    for attrs in [&mut *public, &mut *private] {
        attrs.set_bytes(CKA_MODULUS, n.as_slice());
        attrs.set_bytes(CKA_PUBLIC_EXPONENT, e.as_slice());
    }
    for (kind, value) in PRIVATE_PARTS.iter().zip(&rest) {
        private.set_secret(*kind, value.as_slice());
    }
    Ok(())
}

/// The eight integers of a PKCS#8-wrapped two-prime RSAPrivateKey
/// (n, e, d, p, q, dP, dQ, qInv), without leading zeros.
///
/// # Errors
/// CKR_FUNCTION_FAILED when the encoding is not that.
fn pkcs8_components(pkcs8: &[u8]) -> Result<[&[u8]; 8]> {
    let bad = |_| Rv::FUNCTION_FAILED;
    let info = der::exact(pkcs8, der::SEQUENCE).ok_or(Rv::FUNCTION_FAILED)?;
    let (_version, rest) = der::split_uint(info).map_err(bad)?;
    let (_, _alg, rest) = der::split(rest).map_err(bad)?;
    let (tag, octets, _attributes) = der::split(rest).map_err(bad)?;
    let key = der::exact(octets, der::SEQUENCE).filter(|_| tag == der::OCTET_STRING);
    let (version, mut rest) = der::split_uint(key.ok_or(Rv::FUNCTION_FAILED)?).map_err(bad)?;
    if !version.is_empty() {
        // Version 1 is a multi-prime key, which aws-lc never generates.
        return Err(Rv::FUNCTION_FAILED);
    }
    let mut out: [&[u8]; 8] = [&[]; 8];
    for slot in &mut out {
        let (value, next) = der::split_uint(rest).map_err(bad)?;
        *slot = value;
        rest = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PKCS#8 writer fills its buffer exactly (no reallocation leaves a
    /// copy of the key behind) and the reader gives the components back.
    #[test]
    fn pkcs8_round_trip() {
        let mut public = Attributes::new();
        let mut private = Attributes::new();
        generate_into(2048, &F4, MIN_BITS, &mut public, &mut private).expect("generates");
        let parts = PrivateParts::of(&private).expect("parts");
        let der = parts.pkcs8().expect("encodes");
        assert_eq!(der.len(), der.capacity());
        let back = pkcs8_components(&der).expect("reads back");
        assert_eq!(back[0], public.bytes(CKA_MODULUS).expect("n"));
        assert_eq!(back[1], &F4[..]);
        assert_eq!(back[2], der::strip_zeros(parts.d.as_slice()));
        let crt = parts.crt.as_ref().expect("generated keys have CRT values");
        for (i, secret) in crt.iter().enumerate() {
            assert_eq!(back[i + 3], der::strip_zeros(secret.as_slice()));
        }
        assert!(pkcs8_components(&der[..der.len() - 1]).is_err());
    }
}
