//! Elliptic-curve Diffie-Hellman (PKCS#11 3.0 Current Mechanisms §2.3.17,
//! §2.3.18): CKM_ECDH1_DERIVE and CKM_ECDH1_COFACTOR_DERIVE on P-256,
//! P-384, P-521 (aws-lc-rs) and secp256k1 (k256). Every curve here has
//! cofactor 1, so the two mechanisms compute the same value.
//!
//! Parameters (CK_ECDH1_DERIVE_PARAMS): the KDF is CKD_NULL with no
//! shared data — the one SoftHSMv2 offers — or CKD_SHA1_KDF ...
//! CKD_SHA512_KDF, the ANSI X9.63 KDF over Z and the shared data
//! (`kdf::x963_kdf`); others are CKR_MECHANISM_PARAM_INVALID. The other
//! party's public key is the bare SEC 1 point or one inside a DER OCTET
//! STRING (both are in use).
//!
//! The derived key: a CKO_SECRET_KEY (the template may say so, nothing
//! else) of CKA_KEY_TYPE CKK_GENERIC_SECRET, CKK_AES or an HMAC key type
//! (CKR_TEMPLATE_INCOMPLETE without one). With CKD_NULL its value is the
//! shared secret Z (the x-coordinate), or its last CKA_VALUE_LEN bytes when
//! the template asks for fewer — SoftHSMv2 truncates from the leading end,
//! and so does ProzHSM so that derived keys agree across the two. With a
//! KDF it is the KDF's CKA_VALUE_LEN bytes (CKR_TEMPLATE_INCOMPLETE without
//! a length).

use aws_lc_rs::agreement;
use cryptoki_sys::*;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::Zeroizing;

use crate::backend::{MechParam, Template};
use crate::error::{Result, Rv};
use crate::mechanisms::ec::{decode_point, Backend, Curve};
use crate::mechanisms::{kdf, template_value, Derive};
use crate::object::policy::{self, Actor, KeyOrigin};
use crate::object::Attributes;

/// CKM_ECDH1_DERIVE and CKM_ECDH1_COFACTOR_DERIVE.
pub struct Ecdh;

pub static ECDH1_DERIVE: Ecdh = Ecdh;
pub static ECDH1_COFACTOR_DERIVE: Ecdh = Ecdh;

/// Key types a derived secret may have.
const DERIVED_TYPES: &[CK_KEY_TYPE] = &[
    CKK_GENERIC_SECRET,
    CKK_AES,
    CKK_SHA_1_HMAC,
    CKK_SHA224_HMAC,
    CKK_SHA256_HMAC,
    CKK_SHA384_HMAC,
    CKK_SHA512_HMAC,
];

impl Derive for Ecdh {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        &[CKK_EC]
    }

    fn derive(
        &self,
        param: &MechParam,
        base: &Attributes,
        template: &Template,
        actor: Actor,
    ) -> Result<Attributes> {
        let MechParam::Ecdh {
            kdf,
            shared_data,
            public_data,
        } = param
        else {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        };
        if *kdf == CKD_NULL && !shared_data.is_empty() {
            return Err(Rv::MECHANISM_PARAM_INVALID);
        }
        if *kdf != CKD_NULL {
            // Refuse an unknown KDF before any work.
            kdf::x963_kdf(*kdf, &[], &[], 0)?;
        }
        let (key_type, len) = derived_shape(template)?;
        let curve = Curve::of_key(base)?;
        let z = shared_secret(curve, base, public_data)?;
        let z = match *kdf {
            CKD_NULL => z,
            _ => kdf::x963_kdf(*kdf, &z, shared_data, len.ok_or(Rv::TEMPLATE_INCOMPLETE)?)?,
        };
        let len = len.unwrap_or(z.len());
        let value = z
            .len()
            .checked_sub(len)
            .map(|start| &z[start..])
            .ok_or(Rv::TEMPLATE_INCONSISTENT)?;
        if key_type == CKK_AES && ![16, 24, 32].contains(&value.len()) {
            return Err(Rv::TEMPLATE_INCONSISTENT);
        }
        if value.is_empty() {
            return Err(Rv::ATTRIBUTE_VALUE_INVALID);
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
}

/// The derived key's type and requested length, from the template.
fn derived_shape(template: &Template) -> Result<(CK_KEY_TYPE, Option<usize>)> {
    let ulong = |kind| -> Result<Option<CK_ULONG>> {
        template_value(template, kind)
            .map(|v| {
                v.try_into()
                    .map(CK_ULONG::from_ne_bytes)
                    .map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID)
            })
            .transpose()
    };
    if ulong(CKA_CLASS)?.is_some_and(|c| c != CKO_SECRET_KEY) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let key_type = ulong(CKA_KEY_TYPE)?.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
    if !DERIVED_TYPES.contains(&key_type) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    let len = ulong(CKA_VALUE_LEN)?
        .map(|n| usize::try_from(n).map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID))
        .transpose()?;
    Ok((key_type, len))
}

/// Z, the x-coordinate of d·Q, for the base key's scalar d and the other
/// party's point Q.
///
/// # Errors
/// CKR_MECHANISM_PARAM_INVALID when Q is not a point of the curve.
pub fn shared_secret(
    curve: &Curve,
    base: &Attributes,
    public_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let scalar = curve.scalar(base)?;
    let peer = decode_point(public_data, &[2 * curve.len + 1]);
    match curve.backend {
        Backend::Lc { ecdh, .. } => {
            let private = agreement::PrivateKey::from_private_key(ecdh, &scalar)
                .map_err(|_| Rv::KEY_SIZE_RANGE)?;
            agreement::agree(
                &private,
                agreement::UnparsedPublicKey::new(ecdh, peer),
                Rv::MECHANISM_PARAM_INVALID,
                |z| Ok(Zeroizing::new(z.to_vec())),
            )
        }
        Backend::K256 => {
            let secret = k256::SecretKey::from_slice(&scalar).map_err(|_| Rv::KEY_SIZE_RANGE)?;
            let public =
                k256::PublicKey::from_sec1_bytes(peer).map_err(|_| Rv::MECHANISM_PARAM_INVALID)?;
            let d = Zeroizing::new(secret.to_nonzero_scalar());
            let point = (public.to_projective() * **d).to_affine();
            let encoded = point.to_encoded_point(false);
            let x = encoded.x().ok_or(Rv::MECHANISM_PARAM_INVALID)?;
            Ok(Zeroizing::new(x.to_vec()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Attr;
    use crate::mechanisms::ec::{encode_point, CurveId, CURVES};
    use crate::mechanisms::test_util::{hex, key};

    /// Both sides of an exchange compute the same Z, whatever the point's
    /// encoding.
    #[test]
    fn agreement_on_every_curve() {
        for curve in CURVES {
            let params = curve.id.oid_der();
            let (pa, sa) = curve.generate().expect("generates");
            let (pb, sb) = curve.generate().expect("generates");
            let a = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&sa));
            let b = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&sb));
            let zab = shared_secret(curve, &a, &pb).expect("a with b");
            let zba = shared_secret(curve, &b, &encode_point(&pa)).expect("b with a");
            assert_eq!(zab.len(), curve.len, "{:?}", curve.id);
            assert_eq!(*zab, *zba, "{:?}", curve.id);
            assert_eq!(
                shared_secret(curve, &a, &vec![4u8; 2 * curve.len + 1]),
                Err(Rv::MECHANISM_PARAM_INVALID)
            );
        }
    }

    /// NIST CAVS ECC CDH, P-256, COUNT = 0.
    #[test]
    fn p256_known_answer() {
        let params = CurveId::P256.oid_der();
        let curve = Curve::of_params(&params).expect("P-256");
        let d = hex("7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534");
        let peer = hex(
            "04700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287\
             db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
        );
        let z = hex("46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b");
        let base = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&d));
        assert_eq!(*shared_secret(curve, &base, &peer).expect("agrees"), z);
    }

    #[test]
    fn parameters_and_template() {
        let params = CurveId::P256.oid_der();
        let base = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&[3u8; 32]));
        let derive = |param: &MechParam, t: &[Attr]| {
            ECDH1_DERIVE
                .derive(param, &base, t, Actor::default())
                .map(drop)
        };
        let ok_param = MechParam::Ecdh {
            kdf: CKD_NULL,
            shared_data: Vec::new(),
            public_data: vec![4u8; 65],
        };
        let sha = MechParam::Ecdh {
            kdf: CKD_SHA3_256_KDF,
            shared_data: Vec::new(),
            public_data: vec![4u8; 65],
        };
        let generic = [Attr::ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)];
        assert_eq!(derive(&sha, &generic), Err(Rv::MECHANISM_PARAM_INVALID));
        let null_with_data = MechParam::Ecdh {
            kdf: CKD_NULL,
            shared_data: vec![1],
            public_data: vec![4u8; 65],
        };
        assert_eq!(
            derive(&null_with_data, &generic),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
        assert_eq!(
            derive(&MechParam::None, &generic),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
        assert_eq!(derive(&ok_param, &[]), Err(Rv::TEMPLATE_INCOMPLETE));
        let public_class = [
            Attr::ulong(CKA_CLASS, CKO_PUBLIC_KEY),
            Attr::ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
        ];
        assert_eq!(
            derive(&ok_param, &public_class),
            Err(Rv::TEMPLATE_INCONSISTENT)
        );
        // The peer point is checked after the template.
        assert_eq!(
            derive(&ok_param, &generic),
            Err(Rv::MECHANISM_PARAM_INVALID)
        );
    }

    /// With an X9.63 KDF both sides still agree, and the key is the KDF's
    /// output over Z and the shared data.
    #[test]
    fn sha_kdf() {
        let curve = &CURVES[0];
        let params = curve.id.oid_der();
        let (pa, sa) = curve.generate().expect("generates");
        let (pb, sb) = curve.generate().expect("generates");
        let a = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&sa));
        let b = key(CKK_EC, &[(CKA_EC_PARAMS, &params)], Some(&sb));
        let param = |peer: &[u8]| MechParam::Ecdh {
            kdf: CKD_SHA256_KDF,
            shared_data: b"info".to_vec(),
            public_data: peer.to_vec(),
        };
        let t = [
            Attr::ulong(CKA_KEY_TYPE, CKK_AES),
            Attr::ulong(CKA_VALUE_LEN, 16),
        ];
        let ka = ECDH1_DERIVE
            .derive(&param(&pb), &a, &t, Actor::default())
            .expect("derives");
        let kb = ECDH1_DERIVE
            .derive(&param(&pa), &b, &t, Actor::default())
            .expect("derives");
        let value = |k: &Attributes| {
            crate::mechanisms::key_value(k, CKA_VALUE)
                .expect("value")
                .as_slice()
                .to_vec()
        };
        assert_eq!(value(&ka), value(&kb));
        let z = shared_secret(curve, &a, &pb).expect("agrees");
        let want = kdf::x963_kdf(CKD_SHA256_KDF, &z, b"info", 16).expect("kdf");
        assert_eq!(value(&ka), *want);
        assert_eq!(
            ECDH1_DERIVE
                .derive(&param(&pb), &a, &t[..1], Actor::default())
                .map(drop),
            Err(Rv::TEMPLATE_INCOMPLETE)
        );
    }
}
