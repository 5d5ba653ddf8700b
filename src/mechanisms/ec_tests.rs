//! ECDSA tests: curve names, a known-answer P-256 verification (RFC 6979
//! A.2.5), sign/verify round trips on every curve and hash, the CKM_ECDSA
//! digest rules, low-S on secp256k1, the scalar range, and where a
//! signature's time goes (an ignored measurement).

use super::*;
use crate::mechanisms::test_util::{hex, key};

fn params(curve: CurveId) -> Vec<u8> {
    curve.oid_der()
}

fn pair(curve: CurveId) -> (Attributes, Attributes) {
    let p = params(curve);
    let c = Curve::of_params(&p).expect("supported");
    let (point, scalar) = c.generate().expect("generates");
    let private = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&scalar));
    let public = key(
        CKK_EC,
        &[(CKA_EC_PARAMS, &p), (CKA_EC_POINT, &encode_point(&point))],
        None,
    );
    (public, private)
}

fn sign(mech: &Ecdsa, key: &Attributes, data: &[u8]) -> Vec<u8> {
    let mut op = Sign::start(mech, &MechParam::None, key).expect("sign init");
    let mut sig = vec![0u8; op.signature_len()];
    op.update(data).expect("update");
    let n = op.finish(&mut sig).expect("sign");
    sig.truncate(n);
    sig
}

fn verify(mech: &Ecdsa, key: &Attributes, data: &[u8], sig: &[u8]) -> Result<()> {
    let mut op = Verify::start(mech, &MechParam::None, key)?;
    op.update(data)?;
    op.finish(sig)
}

#[test]
fn curve_names() {
    let p256_oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    assert_eq!(CurveId::from_params(&p256_oid), Ok(CurveId::P256));
    assert_eq!(
        CurveId::from_params(&der::tlv(der::PRINTABLE_STRING, b"secp256k1")),
        Ok(CurveId::Secp256k1)
    );
    assert_eq!(
        CurveId::from_params(&der::tlv(der::PRINTABLE_STRING, b"edwards25519")),
        Ok(CurveId::Ed25519)
    );
    assert_eq!(
        CurveId::from_params(&[0x06, 0x03, 0x2b, 0x65, 0x70]),
        Ok(CurveId::Ed25519)
    );
    // Explicit parameters and unknown curves.
    assert_eq!(
        CurveId::from_params(&[0x30, 0x00]),
        Err(Rv::CURVE_NOT_SUPPORTED)
    );
    assert_eq!(
        CurveId::from_params(&[0x06, 0x01, 0x2a]),
        Err(Rv::CURVE_NOT_SUPPORTED)
    );
    assert_eq!(
        CurveId::from_params(&[0x06, 0x09, 0x2a]),
        Err(Rv::DOMAIN_PARAMS_INVALID)
    );
    assert_eq!(CurveId::from_params(&[]), Err(Rv::DOMAIN_PARAMS_INVALID));
    for c in CURVES {
        assert_eq!(CurveId::from_params(&c.id.oid_der()), Ok(c.id));
    }
    assert!(matches!(
        Curve::of_params(&CurveId::Ed25519.oid_der()),
        Err(Rv::CURVE_NOT_SUPPORTED)
    ));
}

/// RFC 6979 A.2.5, P-256 with SHA-256, message "sample".
#[test]
fn p256_known_answer() {
    let p = params(CurveId::P256);
    let point = hex("04\
         60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6\
         7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299");
    let sig = hex(
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716\
         F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
    );
    // The point stored bare, as some importers do.
    let public = key(CKK_EC, &[(CKA_EC_PARAMS, &p), (CKA_EC_POINT, &point)], None);
    verify(&ECDSA_SHA256, &public, b"sample", &sig).expect("vector verifies");
    let digest = Hash::Sha256.digest(b"sample");
    verify(&ECDSA, &public, digest.as_ref(), &sig).expect("raw digest verifies");
    assert_eq!(
        verify(&ECDSA_SHA256, &public, b"samplf", &sig),
        Err(Rv::SIGNATURE_INVALID)
    );

    // The private key of the vector signs, and its signatures verify
    // against the vector's public key.
    let scalar = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    let private = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&scalar));
    let mine = sign(&ECDSA_SHA256, &private, b"sample");
    verify(&ECDSA_SHA256, &public, b"sample", &mine).expect("own signature verifies");
}

#[test]
fn round_trips_every_curve_and_hash() {
    let mechs = [
        &ECDSA_SHA1,
        &ECDSA_SHA224,
        &ECDSA_SHA256,
        &ECDSA_SHA384,
        &ECDSA_SHA512,
    ];
    for curve in CURVES {
        let (public, private) = pair(curve.id);
        for mech in mechs {
            let sig = sign(mech, &private, b"message");
            assert_eq!(sig.len(), 2 * curve.len, "{:?}", curve.id);
            verify(mech, &public, b"message", &sig).expect("verifies");
            assert_eq!(
                verify(mech, &public, b"messagf", &sig),
                Err(Rv::SIGNATURE_INVALID)
            );
            assert_eq!(
                verify(mech, &public, b"message", &sig[1..]),
                Err(Rv::SIGNATURE_LEN_RANGE)
            );
            // CKM_ECDSA on the same digest is the same signature scheme.
            let digest = mech.hash.expect("hashing mechanism").digest(b"message");
            verify(&ECDSA, &public, digest.as_ref(), &sig).expect("raw verifies");
            let raw = sign(&ECDSA, &private, digest.as_ref());
            verify(mech, &public, b"message", &raw).expect("hashing verifies raw");
        }
    }
}

#[test]
fn multipart_equals_single_part() {
    let (public, private) = pair(CurveId::P384);
    let mut op = Sign::start(&ECDSA_SHA384, &MechParam::None, &private).expect("init");
    assert!(op.multipart());
    op.update(b"mess").expect("update");
    op.update(b"age").expect("update");
    let mut sig = vec![0u8; op.signature_len()];
    op.finish(&mut sig).expect("sign");
    verify(&ECDSA_SHA384, &public, b"message", &sig).expect("verifies");
    let raw = Sign::start(&ECDSA, &MechParam::None, &private).expect("init");
    assert!(!raw.multipart(), "CKM_ECDSA is single-part");
}

#[test]
fn raw_digest_lengths() {
    let (public, private) = pair(CurveId::P521);
    // Longer than the order is refused on P-521 only.
    let mut op = Sign::start(&ECDSA, &MechParam::None, &private).expect("init");
    op.update(&[1u8; 65]).expect("update");
    assert_eq!(op.finish(&mut [0u8; 132]), Err(Rv::DATA_LEN_RANGE));
    let sig = sign(&ECDSA, &private, &[7u8; 64]);
    verify(&ECDSA, &public, &[7u8; 64], &sig).expect("64 bytes verify");

    // On P-256 a 48-byte digest is truncated to its leftmost 32 bytes.
    let (public, private) = pair(CurveId::P256);
    let long: Vec<u8> = (0u8..48).collect();
    let sig = sign(&ECDSA, &private, &long);
    verify(&ECDSA, &public, &long[..32], &sig).expect("truncation");
    // A short digest is the integer it is: left-padding changes nothing.
    let sig = sign(&ECDSA, &private, &[9u8; 20]);
    let mut padded = [0u8; 32];
    padded[12..].copy_from_slice(&[9u8; 20]);
    verify(&ECDSA, &public, &padded, &sig).expect("padding");
}

#[test]
fn secp256k1_low_s_and_high_s_accepted() {
    // n/2 for secp256k1.
    let half = hex("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0");
    let (public, private) = pair(CurveId::Secp256k1);
    for i in 0u8..32 {
        let sig = sign(&ECDSA_SHA256, &private, &[i]);
        assert!(sig[32..] <= half[..], "high S produced");
        verify(&ECDSA_SHA256, &public, &[i], &sig).expect("verifies");
        // The high-S twin (n - s) verifies too.
        let s = k256::ecdsa::Signature::from_slice(&sig).expect("parses");
        let (r, s) = s.split_scalars();
        let twin = k256::ecdsa::Signature::from_scalars(r, -*s).expect("twin");
        verify(&ECDSA_SHA256, &public, &[i], &twin.to_bytes()).expect("high S verifies");
    }
}

#[test]
fn bad_keys() {
    let p = params(CurveId::P256);
    let zero = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&[0u8; 32]));
    assert!(matches!(
        Sign::start(&ECDSA, &MechParam::None, &zero),
        Err(Rv::KEY_SIZE_RANGE)
    ));
    let long = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&[1u8; 33]));
    assert!(matches!(
        Sign::start(&ECDSA, &MechParam::None, &long),
        Err(Rv::KEY_SIZE_RANGE)
    ));
    let off_curve = key(
        CKK_EC,
        &[
            (CKA_EC_PARAMS, &p),
            (CKA_EC_POINT, &encode_point(&[4u8; 65])),
        ],
        None,
    );
    assert!(matches!(
        Verify::start(&ECDSA, &MechParam::None, &off_curve),
        Err(Rv::PUBLIC_KEY_INVALID)
    ));
    let (_, private) = pair(CurveId::P256);
    assert!(matches!(
        Sign::start(&ECDSA, &MechParam::Bytes(vec![0]), &private),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
    // A scalar given without its leading zero bytes is accepted.
    let short = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&[1u8; 31]));
    assert!(Sign::start(&ECDSA, &MechParam::None, &short).is_ok());
}

/// The checks CKM_EC_KEY_PAIR_GEN makes before the attribute policy.
#[test]
fn key_pair_gen_template_checks() {
    use crate::backend::Attr;
    let gen = |public: &[Attr], private: &[Attr]| {
        EC_KEY_PAIR_GEN
            .generate(&MechParam::None, public, private, Actor::default())
            .map(drop)
    };
    assert_eq!(gen(&[], &[]), Err(Rv::TEMPLATE_INCOMPLETE));
    let ed = [Attr::new(CKA_EC_PARAMS, &CurveId::Ed25519.oid_der())];
    assert_eq!(gen(&ed, &[]), Err(Rv::CURVE_NOT_SUPPORTED));
    let p256 = [Attr::new(CKA_EC_PARAMS, &CurveId::P256.oid_der())];
    let p384 = [Attr::new(CKA_EC_PARAMS, &CurveId::P384.oid_der())];
    assert_eq!(gen(&p256, &p384), Err(Rv::TEMPLATE_INCONSISTENT));
    assert_eq!(
        EC_KEY_PAIR_GEN
            .generate(&MechParam::Bytes(vec![1]), &p256, &[], Actor::default())
            .map(drop),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
}

#[test]
fn check_key_for_import() {
    use crate::mechanisms::check_key as check;
    let (public, private) = pair(CurveId::Secp256k1);
    assert_eq!(check(&public), Ok(()));
    assert_eq!(check(&private), Ok(()));
    let p = params(CurveId::P384);
    let zero = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&[0u8; 48]));
    assert_eq!(check(&zero), Err(Rv::ATTRIBUTE_VALUE_INVALID));
    let off = key(
        CKK_EC,
        &[(CKA_EC_PARAMS, &p), (CKA_EC_POINT, &[4u8; 97])],
        None,
    );
    assert_eq!(check(&off), Err(Rv::ATTRIBUTE_VALUE_INVALID));
    let brainpool = der::tlv(
        der::OID,
        &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07],
    );
    let other = key(CKK_EC, &[(CKA_EC_PARAMS, &brainpool)], Some(&[1u8; 32]));
    assert_eq!(check(&other), Err(Rv::CURVE_NOT_SUPPORTED));
}

/// Where a P-256/384/521 signature's time goes: building the key from its
/// scalar (C_SignInit), the signature alone, and both through the
/// mechanism. Run:
/// `cargo test --release --lib ec::tests::sign_cost -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn sign_cost() {
    const N: u32 = 2000;
    for curve in CURVES.iter().filter(|c| c.id != CurveId::Secp256k1) {
        let (_, private) = pair(curve.id);
        let t = std::time::Instant::now();
        for _ in 0..N {
            drop(curve.signing_key(&private).expect("build"));
        }
        let build = t.elapsed() / N;
        let key = curve.signing_key(&private).expect("build");
        let digest = [0x5au8; 32];
        let prehash = curve.prehash(&digest).expect("prehash");
        let mut sig = [0u8; 132];
        let t = std::time::Instant::now();
        for _ in 0..N {
            key.sign(&prehash[..curve.digest_len], &mut sig)
                .expect("sign");
        }
        let sign_only = t.elapsed() / N;
        let t = std::time::Instant::now();
        for _ in 0..N {
            let mut op = Sign::start(&ECDSA, &MechParam::None, &private).expect("init");
            op.update(&digest).expect("update");
            op.finish(&mut sig).expect("sign");
        }
        let both = t.elapsed() / N;
        println!(
            "{:?}: build {build:?}/key, sign {sign_only:?}/sig, start+sign {both:?}/sig \
             ({:.0}/s)",
            curve.id,
            1.0 / both.as_secs_f64()
        );
    }
}

/// The table's lengths agree with AWS-LC's groups.
#[test]
fn table_lengths_match_groups() {
    for curve in CURVES {
        if let Backend::Lc { group, .. } = curve.backend {
            assert_eq!(group.order_len(), curve.len, "{:?}", curve.id);
        }
    }
}

/// Scalars 0 and n are refused at C_SignInit and at import, with the codes
/// the aws-lc-rs parser gave.
#[test]
fn scalar_range() {
    // The order n of each NIST curve, and n - 1.
    let orders = [
        (
            CurveId::P256,
            "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
        ),
        (
            CurveId::P384,
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF\
             581A0DB248B0A77AECEC196ACCC52973",
        ),
        (
            CurveId::P521,
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
             FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        ),
    ];
    for (id, n) in orders {
        let p = params(id);
        let n = hex(n);
        let mut below = n.clone();
        *below.last_mut().expect("non-empty") -= 1;
        for bad in [vec![0u8; n.len()], n] {
            let k = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&bad));
            assert!(
                matches!(
                    Sign::start(&ECDSA, &MechParam::None, &k),
                    Err(Rv::KEY_SIZE_RANGE)
                ),
                "{id:?}"
            );
            assert_eq!(
                crate::mechanisms::check_key(&k),
                Err(Rv::ATTRIBUTE_VALUE_INVALID)
            );
        }
        let k = key(CKK_EC, &[(CKA_EC_PARAMS, &p)], Some(&below));
        assert_eq!(crate::mechanisms::check_key(&k), Ok(()));
        sign(&ECDSA_SHA256, &k, b"n - 1 is a key");
    }
}
