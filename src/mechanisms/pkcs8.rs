//! Private keys as PKCS #8 PrivateKeyInfo (RFC 5208), the form C_WrapKey
//! wraps them in (as SoftHSMv2 and OpenSSL do): EC keys on P-256, P-384,
//! P-521 and secp256k1 (RFC 5915's ECPrivateKey, the curve named in the
//! AlgorithmIdentifier, no public key), and Ed25519 (RFC 8410). Every
//! buffer that holds key material is wiped when dropped.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{Result, Rv};
use crate::mechanisms::der::{self, OCTET_STRING, OID, SEQUENCE};
use crate::mechanisms::ec::{Curve, CurveId};
use crate::mechanisms::key_value;
use crate::object::Attributes;
use crate::secure::SecretBytes;

const INTEGER: u8 = 0x02;
/// 1.2.840.10045.2.1, id-ecPublicKey.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.3.101.112, id-Ed25519.
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A private key taken out of a PrivateKeyInfo.
pub struct Decoded {
    pub key_type: CK_KEY_TYPE,
    /// CKA_EC_PARAMS: the curve's OBJECT IDENTIFIER, DER.
    pub params: Vec<u8>,
    /// CKA_VALUE: the scalar, or the Ed25519 seed.
    pub value: Zeroizing<Vec<u8>>,
}

/// A private key object's PrivateKeyInfo.
///
/// # Errors
/// CKR_KEY_NOT_WRAPPABLE for a key type or curve without a PKCS #8 form
/// here; CKR_GENERAL_ERROR for a key missing its attributes.
pub fn encode(key: &Attributes) -> Result<SecretBytes> {
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
            Ok(Decoded {
                key_type: CKK_EC,
                params: curve.id.oid_der(),
                value: Zeroizing::new(scalar.to_vec()),
            })
        }
        ED25519 if curve_params.is_empty() => {
            let seed = der::exact(private, OCTET_STRING).ok_or(bad)?;
            if seed.len() != 32 {
                return Err(bad);
            }
            Ok(Decoded {
                key_type: CKK_EC_EDWARDS,
                params: CurveId::Ed25519.oid_der(),
                value: Zeroizing::new(seed.to_vec()),
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
            &[(CKA_EC_PARAMS, &d.params)],
            Some(&d.value),
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
            assert_eq!((d.key_type, &d.params), (CKK_EC, &params));
            assert_eq!(*d.value, *scalar, "{:?}", curve.id);
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
        let rsa = key(CKK_RSA, &[], Some(&[1; 32]));
        assert_eq!(encode(&rsa).err(), Some(Rv::KEY_NOT_WRAPPABLE));
    }
}
