//! Ed25519 tests: RFC 8032 vectors (pure, test 1; Ed25519ph, "abc"),
//! round trips, both CKA_EC_PARAMS forms, the parameter rules.

use super::*;
use crate::mechanisms::der;
use crate::mechanisms::test_util::{hex, key};

const NAME_PARAMS: &[u8] = b"\x13\x0cedwards25519";

fn keys(seed: &[u8], public: &[u8], params: &[u8]) -> (Attributes, Attributes) {
    let point = der::tlv(der::OCTET_STRING, public);
    (
        key(
            CKK_EC_EDWARDS,
            &[(CKA_EC_PARAMS, params), (CKA_EC_POINT, &point)],
            None,
        ),
        key(CKK_EC_EDWARDS, &[(CKA_EC_PARAMS, params)], Some(seed)),
    )
}

fn sign(param: &MechParam, key: &Attributes, parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut op = Sign::start(&EDDSA, param, key)?;
    for p in parts {
        op.update(p)?;
    }
    let mut sig = vec![0u8; op.signature_len()];
    let n = op.finish(&mut sig)?;
    sig.truncate(n);
    Ok(sig)
}

fn verify(param: &MechParam, key: &Attributes, data: &[u8], sig: &[u8]) -> Result<()> {
    let mut op = Verify::start(&EDDSA, param, key)?;
    op.update(data)?;
    op.finish(sig)
}

/// RFC 8032 §7.1, TEST 1 (empty message).
#[test]
fn rfc8032_test1() {
    let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let want = hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
         5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    for params in [CurveId::Ed25519.oid_der(), NAME_PARAMS.to_vec()] {
        let (pub_key, priv_key) = keys(&seed, &public, &params);
        assert_eq!(sign(&MechParam::None, &priv_key, &[]).expect("signs"), want);
        verify(&MechParam::None, &pub_key, b"", &want).expect("verifies");
        assert_eq!(
            verify(&MechParam::None, &pub_key, b"x", &want),
            Err(Rv::SIGNATURE_INVALID)
        );
        assert_eq!(
            verify(&MechParam::None, &pub_key, b"", &want[..63]),
            Err(Rv::SIGNATURE_LEN_RANGE)
        );
    }
    // A bare 32-byte CKA_EC_POINT is accepted.
    let bare = key(
        CKK_EC_EDWARDS,
        &[(CKA_EC_PARAMS, NAME_PARAMS), (CKA_EC_POINT, &public)],
        None,
    );
    verify(&MechParam::None, &bare, b"", &want).expect("bare point verifies");
}

/// RFC 8032 §7.3, Ed25519ph, message "abc".
#[test]
fn rfc8032_ed25519ph() {
    let seed = hex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    let public = hex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
    let want = hex(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
         31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
    );
    let ph = MechParam::Eddsa {
        prehash: true,
        context: Vec::new(),
    };
    let (pub_key, priv_key) = keys(&seed, &public, &CurveId::Ed25519.oid_der());
    assert_eq!(sign(&ph, &priv_key, &[b"a", b"bc"]).expect("signs"), want);
    verify(&ph, &pub_key, b"abc", &want).expect("verifies");
    // Not a pure Ed25519 signature.
    assert_eq!(
        verify(&MechParam::None, &pub_key, b"abc", &want),
        Err(Rv::SIGNATURE_INVALID)
    );
}

#[test]
fn round_trip_multipart_and_params() {
    let (public, seed) = generate().expect("generates");
    let (pub_key, priv_key) = keys(&seed[..], &public, NAME_PARAMS);
    let sig = sign(&MechParam::None, &priv_key, &[b"hello ", b"world"]).expect("signs");
    verify(&MechParam::None, &pub_key, b"hello world", &sig).expect("verifies");
    // phFlag FALSE without a context is pure Ed25519.
    let plain = MechParam::Eddsa {
        prehash: false,
        context: Vec::new(),
    };
    verify(&plain, &pub_key, b"hello world", &sig).expect("verifies");
    // Ed25519ctx is refused.
    let ctx = MechParam::Eddsa {
        prehash: false,
        context: b"ctx".to_vec(),
    };
    assert!(matches!(
        Sign::start(&EDDSA, &ctx, &priv_key),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
    let ph_ctx = MechParam::Eddsa {
        prehash: true,
        context: b"ctx".to_vec(),
    };
    let sig = sign(&ph_ctx, &priv_key, &[b"m"]).expect("signs");
    verify(&ph_ctx, &pub_key, b"m", &sig).expect("verifies");
    assert_eq!(
        verify(
            &MechParam::Eddsa {
                prehash: true,
                context: b"ctY".to_vec()
            },
            &pub_key,
            b"m",
            &sig
        ),
        Err(Rv::SIGNATURE_INVALID)
    );
}

#[test]
fn wrong_curve_and_length() {
    let (public, seed) = generate().expect("generates");
    let p256 = CurveId::P256.oid_der();
    let (_, priv_key) = keys(&seed[..], &public, &p256);
    assert!(matches!(
        Sign::start(&EDDSA, &MechParam::None, &priv_key),
        Err(Rv::CURVE_NOT_SUPPORTED)
    ));
    let short = key(
        CKK_EC_EDWARDS,
        &[(CKA_EC_PARAMS, NAME_PARAMS)],
        Some(&seed[..31]),
    );
    assert!(matches!(
        Sign::start(&EDDSA, &MechParam::None, &short),
        Err(Rv::KEY_SIZE_RANGE)
    ));
}
