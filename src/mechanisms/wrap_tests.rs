//! Known answers for AES key wrap: RFC 3394 §4.1–4.6 and RFC 5649 §6, and
//! the RFCs' algorithms run here checked against aws-lc-rs's.

use super::*;
use crate::mechanisms::test_util::hex;

fn kek(n: usize) -> Vec<u8> {
    (0..n as u8).collect()
}

const DATA: &str = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";

/// RFC 3394 §4: (KEK length, key data length, ciphertext).
const RFC3394: &[(usize, usize, &str)] = &[
    (16, 16, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"),
    (24, 16, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"),
    (32, 16, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"),
    (
        24,
        24,
        "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
    ),
    (
        32,
        24,
        "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
    ),
    (
        32,
        32,
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    ),
];

#[test]
fn rfc3394_vectors() {
    let data = hex(DATA);
    for (kek_len, len, want) in RFC3394 {
        let (k, p, want) = (kek(*kek_len), &data[..*len], hex(want));
        assert_eq!(kw_wrap(&k, p).expect("wraps"), want, "KEK {kek_len}");
        assert_eq!(rfc_kw_wrap(&k, p).expect("wraps"), want, "KEK {kek_len}");
        assert_eq!(kw_unwrap(&k, &want).expect("unwraps").as_slice(), p);
        assert_eq!(rfc_kw_unwrap(&k, &want).expect("unwraps").as_slice(), p);
        let mut bad = want.clone();
        bad[5] ^= 1;
        assert_eq!(kw_unwrap(&k, &bad).err(), Some(Rv::WRAPPED_KEY_INVALID));
        assert_eq!(rfc_kw_unwrap(&k, &bad).err(), Some(Rv::WRAPPED_KEY_INVALID));
    }
}

#[test]
fn rfc5649_vectors() {
    let k = hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    let cases = [
        (
            "c37b7e6492584340bed12207808941155068f738",
            "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
        ),
        ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
    ];
    for (p, want) in cases {
        let (p, want) = (hex(p), hex(want));
        assert_eq!(kwp_wrap(&k, &p).expect("wraps"), want);
        assert_eq!(kwp_unwrap(&k, &want).expect("unwraps").as_slice(), p);
        let mut bad = want.clone();
        bad[0] ^= 0x80;
        assert_eq!(kwp_unwrap(&k, &bad).err(), Some(Rv::WRAPPED_KEY_INVALID));
    }
}

/// The RFC algorithms here agree with aws-lc-rs's for the key sizes it has,
/// every length from 1 to 70 bytes, both ways.
#[test]
fn own_algorithms_agree_with_aws_lc() {
    for kek_len in [16, 32] {
        let mut k = vec![0u8; kek_len];
        aws_lc_rs::rand::fill(&mut k).expect("random");
        for len in 1..=70usize {
            let p: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let ours = rfc_kwp_wrap(&k, &p).expect("wraps");
            assert_eq!(kwp_wrap(&k, &p).expect("wraps"), ours, "KWP {len}");
            assert_eq!(rfc_kwp_unwrap(&k, &ours).expect("unwraps").as_slice(), p);
            if len >= 16 && len % 8 == 0 {
                let ours = rfc_kw_wrap(&k, &p).expect("wraps");
                assert_eq!(kw_wrap(&k, &p).expect("wraps"), ours, "KW {len}");
                assert_eq!(rfc_kw_unwrap(&k, &ours).expect("unwraps").as_slice(), p);
            }
        }
    }
}

/// KWP blobs made with the RFC 3394 core and a chosen length indicator and
/// padding: only the one whose indicator and zero padding agree unwraps.
#[test]
fn kwp_rejects_bad_length_and_padding() {
    let k = kek(24);
    let block = Block::new(&k, true).expect("key");
    let cases = [
        (9u32, [0u8; 7], true),
        (17, [0; 7], false),
        (8, [0; 7], false),
        (9, [0, 0, 0, 0, 0, 0, 1], false),
    ];
    for (mli, tail, valid) in cases {
        let mut r = vec![0x55u8; 16];
        r[9..].copy_from_slice(&tail);
        let mut aiv = [0u8; 8];
        aiv[..4].copy_from_slice(&KWP_AIV);
        aiv[4..].copy_from_slice(&mli.to_be_bytes());
        let a = w(&block, aiv, &mut r).expect("wraps");
        let mut blob = a.to_vec();
        blob.extend_from_slice(&r);
        match rfc_kwp_unwrap(&k, &blob) {
            Ok(p) => assert!(valid && p.as_slice() == [0x55u8; 9], "MLI {mli}"),
            Err(rv) => assert!(!valid && rv == Rv::WRAPPED_KEY_INVALID, "MLI {mli}"),
        }
    }
}

#[test]
fn capability_checks() {
    let key = |len: usize| {
        let mut a = Attributes::new();
        a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        a.set_ulong(CKA_KEY_TYPE, CKK_AES);
        a.set_secret(CKA_VALUE, &kek(len));
        a
    };
    let none = MechParam::None;
    assert_eq!(
        AES_KEY_WRAP.wrap(&none, &key(16), &[0; 15]).err(),
        Some(Rv::KEY_SIZE_RANGE)
    );
    assert_eq!(
        AES_KEY_WRAP.wrap(&none, &key(16), &[0; 20]).err(),
        Some(Rv::KEY_SIZE_RANGE)
    );
    assert_eq!(
        AES_KEY_WRAP_PAD.wrap(&none, &key(16), &[]).err(),
        Some(Rv::KEY_SIZE_RANGE)
    );
    assert_eq!(
        AES_KEY_WRAP.wrap(&none, &key(20), &[0; 16]).err(),
        Some(Rv::WRAPPING_KEY_SIZE_RANGE)
    );
    assert_eq!(
        AES_KEY_WRAP.unwrap(&none, &key(20), &[0; 24]).err(),
        Some(Rv::UNWRAPPING_KEY_SIZE_RANGE)
    );
    let iv = MechParam::Bytes(KW_IV.to_vec());
    let blob = AES_KEY_WRAP.wrap(&iv, &key(24), &[9; 24]).expect("wraps");
    assert_eq!(blob.len(), 32);
    let other = MechParam::Bytes(vec![0xa5; 8]);
    assert_eq!(
        AES_KEY_WRAP.wrap(&other, &key(24), &[9; 24]).err(),
        Some(Rv::MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        AES_KEY_WRAP.unwrap(&none, &key(24), &blob[..16]).err(),
        Some(Rv::WRAPPED_KEY_LEN_RANGE)
    );
    assert_eq!(
        AES_KEY_WRAP_PAD.unwrap(&none, &key(24), &blob[..31]).err(),
        Some(Rv::WRAPPED_KEY_LEN_RANGE)
    );
    let plain = AES_KEY_WRAP
        .unwrap(&none, &key(24), &blob)
        .expect("unwraps");
    assert_eq!(plain.as_slice(), &[9; 24]);
    // CBC: whole blocks only, with a 16-byte IV.
    let iv16 = MechParam::Bytes(vec![0; 16]);
    assert_eq!(
        AES_CBC_WRAP
            .wrap(&iv16, &key(16), &[1; 32])
            .map(|v| v.len()),
        Ok(32)
    );
    assert_eq!(
        AES_CBC_WRAP.wrap(&iv16, &key(16), &[1; 24]).err(),
        Some(Rv::KEY_SIZE_RANGE)
    );
    assert_eq!(
        AES_CBC_WRAP.wrap(&none, &key(16), &[1; 32]).err(),
        Some(Rv::MECHANISM_PARAM_INVALID)
    );
}
