//! Private keys as PKCS #8 PrivateKeyInfo (RFC 5208), the form C_WrapKey
//! wraps them in (as SoftHSMv2 and OpenSSL do): EC keys on P-256, P-384,
//! P-521 and secp256k1 (RFC 5915's ECPrivateKey, the curve named in the
//! AlgorithmIdentifier, no public key), Ed25519 (RFC 8410), and RSA
//! (PKCS #1's two-prime RSAPrivateKey, through `rsa::keys`). Every buffer
//! that holds key material is wiped when dropped.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{Result, Rv};
use crate::mechanisms::der::{self, OCTET_STRING, OID, SEQUENCE};
use crate::mechanisms::ec::{Curve, CurveId};
use crate::mechanisms::{key_value, rsa};
use crate::object::Attributes;
use crate::secure::SecretBytes;

const INTEGER: u8 = 0x02;
/// 1.2.840.10045.2.1, id-ecPublicKey.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.3.101.112, id-Ed25519.
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// 1.2.840.113549.1.1.1, rsaEncryption.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A private key taken out of a PrivateKeyInfo: its key type, and its
/// attributes — `plain` ones (CKA_EC_PARAMS, CKA_MODULUS ...) and `secret`
/// ones (CKA_VALUE, CKA_PRIVATE_EXPONENT ...).
pub struct Decoded {
    pub key_type: CK_KEY_TYPE,
    pub plain: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    pub secret: Vec<(CK_ATTRIBUTE_TYPE, Zeroizing<Vec<u8>>)>,
}

impl Decoded {
    fn curve(key_type: CK_KEY_TYPE, params: Vec<u8>, value: &[u8]) -> Decoded {
        Decoded {
            key_type,
            plain: vec![(CKA_EC_PARAMS, params)],
            secret: vec![(CKA_VALUE, Zeroizing::new(value.to_vec()))],
        }
    }
}

/// A private key object's PrivateKeyInfo.
///
/// # Errors
/// CKR_KEY_NOT_WRAPPABLE for a key type or curve without a PKCS #8 form
/// here, or an RSA key without its CRT components; CKR_KEY_SIZE_RANGE for
/// an RSA key under 2048 bits; CKR_GENERAL_ERROR for a key missing its
/// attributes.
pub fn encode(key: &Attributes) -> Result<SecretBytes> {
    if key.key_type() == Some(CKK_RSA) {
        let info = rsa::keys::private_key_info(key).map_err(|rv| match rv {
            Rv::KEY_SIZE_RANGE => rv,
            _ => Rv::KEY_NOT_WRAPPABLE,
        })?;
        return SecretBytes::try_from_slice(&info);
    }
    let params = key.bytes(CKA_EC_PARAMS).ok_or(Rv::KEY_NOT_WRAPPABLE)?;
    let curve = CurveId::from_params(params).map_err(|_| Rv::KEY_NOT_WRAPPABLE)?;
    let mut algorithm = Vec::new();
    let mut private = Zeroizing::new(Vec::new());
    match (key.key_type(), curve) {
        (Some(CKK_EC), _) => {
            let scalar = Curve::of_key(key)
                .map_err(|_| Rv::KEY_NOT_WRAPPABLE)?
                .scalar(key)?;
            der::tlv_into(&mut algorithm, OID, EC_PUBLIC_KEY);
            algorithm.extend_from_slice(&curve.oid_der());
            let mut ec = Zeroizing::new(vec![INTEGER, 1, 1]);
            der::tlv_into(&mut ec, OCTET_STRING, &scalar);
            der::tlv_into(&mut private, SEQUENCE, &ec);
        }
        (Some(CKK_EC_EDWARDS), CurveId::Ed25519) => {
            let seed = key_value(key, CKA_VALUE)?;
            der::tlv_into(&mut algorithm, OID, ED25519);
            der::tlv_into(&mut private, OCTET_STRING, seed.as_slice());
        }
        _ => return Err(Rv::KEY_NOT_WRAPPABLE),
    }
    let mut body = Zeroizing::new(vec![INTEGER, 1, 0]);
    der::tlv_into(&mut body, SEQUENCE, &algorithm);
    der::tlv_into(&mut body, OCTET_STRING, &private);
    let mut out = Zeroizing::new(Vec::new());
    der::tlv_into(&mut out, SEQUENCE, &body);
    SecretBytes::try_from_slice(&out)
}

/// The key in a PrivateKeyInfo (version 0 or 1; attributes and a public
/// key after the private key are ignored).
///
/// # Errors
/// CKR_WRAPPED_KEY_INVALID for anything else.
pub fn decode(input: &[u8]) -> Result<Decoded> {
    decode_inner(input).map_err(|_| Rv::WRAPPED_KEY_INVALID)
}

fn decode_inner(input: &[u8]) -> Result<Decoded> {
    let bad = Rv::WRAPPED_KEY_INVALID;
    let body = der::exact(input, SEQUENCE).ok_or(bad)?;
    let (tag, version, rest) = der::split(body)?;
    if tag != INTEGER || !matches!(version, [0] | [1]) {
        return Err(bad);
    }
    let (tag, algorithm, rest) = der::split(rest)?;
    let (private_tag, private, _attributes) = der::split(rest)?;
    if tag != SEQUENCE || private_tag != OCTET_STRING {
        return Err(bad);
    }
    let (tag, oid, curve_params) = der::split(algorithm)?;
    if tag != OID {
        return Err(bad);
    }
    match oid {
        EC_PUBLIC_KEY => {
            let curve = Curve::of_params(curve_params).map_err(|_| bad)?;
            let ec = der::exact(private, SEQUENCE).ok_or(bad)?;
            let (tag, version, rest) = der::split(ec)?;
            let (scalar_tag, scalar, _optional) = der::split(rest)?;
            if tag != INTEGER || version != [1] || scalar_tag != OCTET_STRING {
                return Err(bad);
            }
            if scalar.len() != curve.len {
                return Err(bad);
            }
            Ok(Decoded::curve(CKK_EC, curve.id.oid_der(), scalar))
        }
        ED25519 if curve_params.is_empty() => {
            let seed = der::exact(private, OCTET_STRING).ok_or(bad)?;
            if seed.len() != 32 {
                return Err(bad);
            }
            Ok(Decoded::curve(
                CKK_EC_EDWARDS,
                CurveId::Ed25519.oid_der(),
                seed,
            ))
        }
        RSA_ENCRYPTION => {
            let parts = rsa::keys::from_private_key_info(input)?;
            let (plain, secret) = parts.split_at(2);
            Ok(Decoded {
                key_type: CKK_RSA,
                plain: plain.iter().map(|(k, v)| (*k, v.to_vec())).collect(),
                secret: secret
                    .iter()
                    .map(|(k, v)| (*k, Zeroizing::new(v.to_vec())))
                    .collect(),
            })
        }
        _ => Err(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::test_util::{hex, key};

    /// RFC 8410 §10.3's example private key.
    #[test]
    fn ed25519_rfc8410() {
        let der = hex("302e020100300506032b657004220420\
             d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842");
        let d = decode(&der).expect("decodes");
        assert_eq!(d.key_type, CKK_EC_EDWARDS);
        let k = key(
            CKK_EC_EDWARDS,
            &[(CKA_EC_PARAMS, &d.plain[0].1)],
            Some(&d.secret[0].1),
        );
        assert_eq!(encode(&k).expect("encodes").as_slice(), der.as_slice());
    }

    #[test]
    fn ec_round_trips_on_every_curve() {
        for curve in crate::mechanisms::ec::CURVES {
            let (_, scalar) = curve.generate().expect("generates");
            let params = curve.id.oid_der();
            let k = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&scalar));
            let der = encode(&k).expect("encodes");
            let d = decode(der.as_slice()).expect("decodes");
            assert_eq!((d.key_type, &d.plain[0].1), (CKK_EC, &params));
            assert_eq!(*d.secret[0].1, *scalar, "{:?}", curve.id);
        }
    }

    #[test]
    fn rejects_other_forms() {
        let der = hex("302e020100300506032b657004220420d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842");
        for cut in [1, 5, der.len() - 1] {
            assert!(decode(&der[..cut]).is_err(), "cut at {cut}");
        }
        let mut v2 = der.clone();
        v2[4] = 2;
        assert_eq!(decode(&v2).err(), Some(Rv::WRAPPED_KEY_INVALID));
        let mut x25519 = der.clone();
        x25519[11] = 0x6e;
        assert_eq!(decode(&x25519).err(), Some(Rv::WRAPPED_KEY_INVALID));
        let ed448 = key(
            CKK_EC_EDWARDS,
            &[(CKA_EC_PARAMS, &CurveId::Ed448.oid_der())],
            Some(&[1; 57]),
        );
        assert_eq!(encode(&ed448).err(), Some(Rv::KEY_NOT_WRAPPABLE));
    }

    #[test]
    fn rsa_round_trips() {
        let mut public = Attributes::new();
        let mut private = Attributes::new();
        rsa::keys::generate_into(2048, &rsa::keys::F4, 2048, &mut public, &mut private)
            .expect("generates");
        private.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
        private.set_ulong(CKA_KEY_TYPE, CKK_RSA);
        let der = encode(&private).expect("encodes");
        let d = decode(der.as_slice()).expect("decodes");
        assert_eq!(d.key_type, CKK_RSA);
        let n = public.bytes(CKA_MODULUS).expect("n").to_vec();
        assert_eq!(d.plain[0], (CKA_MODULUS, n));
        assert_eq!(d.secret.len(), 6);
        assert_eq!(d.secret[0].0, CKA_PRIVATE_EXPONENT);
        let without_crt = key(
            CKK_RSA,
            &[
                (CKA_MODULUS, &[0xc5; 256]),
                (CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
            ],
            Some(&[1; 256]),
        );
        assert_eq!(encode(&without_crt).err(), Some(Rv::KEY_NOT_WRAPPABLE));
    }
}
