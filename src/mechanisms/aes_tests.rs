//! AES tests: NIST SP 800-38A (ECB, CBC) and the GCM specification's test
//! cases 3, 5, 6, 11, 12, 17 and 18 (96-, 64- and 480-bit IVs; full and
//! truncated tags) as known answers; CBC_PAD multi-part round trips at
//! every split.

use super::*;
use crate::mechanisms::test_util::hex;

fn aes_key(value: &[u8]) -> Attributes {
    let mut a = Attributes::new();
    a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
    a.set_ulong(CKA_KEY_TYPE, CKK_AES);
    a.set_secret(CKA_VALUE, value);
    a
}

fn oneshot(op: Box<dyn CipherOp>, input: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; op.oneshot_len(input.len())];
    let n = op.oneshot(input, &mut out)?;
    out.truncate(n);
    Ok(out)
}

fn multipart(mut op: Box<dyn CipherOp>, parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    for p in parts {
        let mut out = vec![0u8; op.update_len(p.len())];
        let n = op.update(p, &mut out)?;
        all.extend_from_slice(&out[..n]);
    }
    let mut out = vec![0u8; op.final_len()];
    let n = op.finish(&mut out)?;
    all.extend_from_slice(&out[..n]);
    Ok(all)
}

const KEY128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51";

#[test]
fn sp800_38a_ecb_cbc() {
    let key = aes_key(&hex(KEY128));
    let plain = hex(PLAIN);
    let ecb = hex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf");
    let op = Encrypt::start(&AES_ECB, &MechParam::None, &key).expect("init");
    assert_eq!(oneshot(op, &plain).expect("encrypts"), ecb);
    let op = Decrypt::start(&AES_ECB, &MechParam::None, &key).expect("init");
    assert_eq!(
        multipart(op, &[&ecb[..5], &ecb[5..]]).expect("decrypts"),
        plain
    );

    let iv = MechParam::Bytes(hex("000102030405060708090a0b0c0d0e0f"));
    let cbc = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    let op = Encrypt::start(&AES_CBC, &iv, &key).expect("init");
    assert_eq!(
        multipart(op, &[&plain[..20], &plain[20..]]).expect("encrypts"),
        cbc
    );
    let op = Decrypt::start(&AES_CBC, &iv, &key).expect("init");
    assert_eq!(oneshot(op, &cbc).expect("decrypts"), plain);

    // Partial blocks are refused at the end.
    let op = Encrypt::start(&AES_CBC, &iv, &key).expect("init");
    assert_eq!(oneshot(op, &plain[..17]), Err(Rv::DATA_LEN_RANGE));
    let op = Decrypt::start(&AES_ECB, &MechParam::None, &key).expect("init");
    assert_eq!(oneshot(op, &cbc[..15]), Err(Rv::ENCRYPTED_DATA_LEN_RANGE));
    // IV rules.
    assert!(matches!(
        Encrypt::start(&AES_CBC, &MechParam::Bytes(vec![0; 15]), &key),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
    assert!(matches!(
        Encrypt::start(&AES_ECB, &iv, &key),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
    assert!(matches!(
        Encrypt::start(&AES_ECB, &MechParam::None, &aes_key(&[0; 20])),
        Err(Rv::KEY_SIZE_RANGE)
    ));
}

#[test]
fn cbc_pad_every_length_and_split() {
    let key = aes_key(&[7u8; 32]);
    let iv = MechParam::Bytes(vec![9u8; 16]);
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 48] {
        let plain: Vec<u8> = (0..len as u8).collect();
        let op = Encrypt::start(&AES_CBC_PAD, &iv, &key).expect("init");
        let ct = oneshot(op, &plain).expect("encrypts");
        assert_eq!(ct.len(), (len / 16 + 1) * 16);
        for split in 0..=ct.len() {
            let op = Decrypt::start(&AES_CBC_PAD, &iv, &key).expect("init");
            let got = multipart(op, &[&ct[..split], &ct[split..]]).expect("decrypts");
            assert_eq!(got, plain, "len {len} split {split}");
        }
        let op = Encrypt::start(&AES_CBC_PAD, &iv, &key).expect("init");
        let split = len / 3;
        assert_eq!(
            multipart(op, &[&plain[..split], &plain[split..]]).expect("encrypts"),
            ct
        );
    }
    // A corrupted padding block.
    let op = Encrypt::start(&AES_CBC_PAD, &iv, &key).expect("init");
    let mut ct = oneshot(op, b"abc").expect("encrypts");
    ct[15] ^= 1;
    let op = Decrypt::start(&AES_CBC_PAD, &iv, &key).expect("init");
    assert_eq!(oneshot(op, &ct), Err(Rv::ENCRYPTED_DATA_INVALID));
}

/// The GCM specification's test case 3 (AES-128, 96-bit IV, no AAD).
#[test]
fn gcm_known_answer() {
    let key = aes_key(&hex("feffe9928665731c6d6a8f9467308308"));
    let param = MechParam::Gcm {
        iv: hex("cafebabefacedbaddecaf888"),
        aad: Vec::new(),
        tag_bits: 128,
    };
    let plain = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    );
    let want = hex(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985\
         4d5c2af327cd64a62cf35abd2ba6fab4",
    );
    let op = Encrypt::start(&AES_GCM, &param, &key).expect("init");
    assert_eq!(oneshot(op, &plain).expect("encrypts"), want);
    let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
    assert_eq!(
        multipart(op, &[&want[..7], &want[7..]]).expect("decrypts"),
        plain
    );
    let mut bad = want.clone();
    bad[70] ^= 1;
    let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
    assert_eq!(oneshot(op, &bad), Err(Rv::ENCRYPTED_DATA_INVALID));
}

#[test]
fn gcm_aad_and_params() {
    let key = aes_key(&[1u8; 24]);
    let with_aad = MechParam::Gcm {
        iv: vec![2u8; 12],
        aad: b"header".to_vec(),
        tag_bits: 128,
    };
    let op = Encrypt::start(&AES_GCM, &with_aad, &key).expect("init");
    let ct = multipart(op, &[b"hello ", b"world"]).expect("encrypts");
    let op = Decrypt::start(&AES_GCM, &with_aad, &key).expect("init");
    assert_eq!(oneshot(op, &ct).expect("decrypts"), b"hello world");
    let other_aad = MechParam::Gcm {
        iv: vec![2u8; 12],
        aad: b"headeR".to_vec(),
        tag_bits: 128,
    };
    let op = Decrypt::start(&AES_GCM, &other_aad, &key).expect("init");
    assert_eq!(oneshot(op, &ct), Err(Rv::ENCRYPTED_DATA_INVALID));
    for bad in [
        MechParam::Gcm {
            iv: Vec::new(),
            aad: Vec::new(),
            tag_bits: 128,
        },
        MechParam::Gcm {
            iv: vec![2u8; 12],
            aad: Vec::new(),
            tag_bits: 64,
        },
        MechParam::None,
    ] {
        assert!(matches!(
            Encrypt::start(&AES_GCM, &bad, &key),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
    }
    let op = Decrypt::start(&AES_GCM, &with_aad, &key).expect("init");
    assert_eq!(oneshot(op, &ct[..15]), Err(Rv::ENCRYPTED_DATA_LEN_RANGE));
}

/// The GCM specification's (McGrew and Viega, 2005) test cases with IVs
/// other than 96 bits: 5 and 6 (AES-128), 11 and 12 (AES-192), 17 and 18
/// (AES-256), each with the 64-bit IV `cafebabefacedbad` and the 60-byte
/// one. Typed from the specification and checked against pyca/cryptography
/// (OpenSSL). The plaintext and AAD are the spec's test case 4 ones.
const GCM_P: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                     1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const GCM_A: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const GCM_K: &str = "feffe9928665731c6d6a8f9467308308";
const GCM_IV8: &str = "cafebabefacedbad";
const GCM_IV60: &str = "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728\
                        c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b";
/// (test case, key copies of GCM_K's bytes (16, 24 or 32 bytes), IV,
/// ciphertext, tag).
const GCM_VECTORS: [(u32, usize, &str, &str, &str); 6] = [
    (
        5,
        16,
        GCM_IV8,
        "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423\
         73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
        "3612d2e79e3b0785561be14aaca2fccb",
    ),
    (
        6,
        16,
        GCM_IV60,
        "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7\
         01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
        "619cc5aefffe0bfa462af43c1699d050",
    ),
    (
        11,
        24,
        GCM_IV8,
        "0f10f599ae14a154ed24b36e25324db8c566632ef2bbb34f8347280fc4507057\
         fddc29df9a471f75c66541d4d4dad1c9e93a19a58e8b473fa0f062f7",
        "65dcc57fcf623a24094fcca40d3533f8",
    ),
    (
        12,
        24,
        GCM_IV60,
        "d27e88681ce3243c4830165a8fdcf9ff1de9a1d8e6b447ef6ef7b79828666e45\
         81e79012af34ddd9e2f037589b292db3e67c036745fa22e7e9b7373b",
        "dcf566ff291c25bbb8568fc3d376a6d9",
    ),
    (
        17,
        32,
        GCM_IV8,
        "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0\
         feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
        "3a337dbf46a792c45e454913fe2ea8f2",
    ),
    (
        18,
        32,
        GCM_IV60,
        "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4\
         0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
        "a44a8266ee1c8eb0c8b5d4cf5ae9f19a",
    ),
];

/// Each vector at every tag length the token takes: a truncated tag is the
/// full tag's leading bytes (SP 800-38D §7.1, MSB_t), so one vector checks
/// all five. Single- and multi-part, both directions.
#[test]
fn gcm_known_answers_any_iv_and_tag() {
    let plain = hex(GCM_P);
    for (case, key_len, iv, ct, tag) in GCM_VECTORS {
        let key = aes_key(&hex(GCM_K).repeat(2)[..key_len]);
        let (ct, tag) = (hex(ct), hex(tag));
        for tag_bits in [96, 104, 112, 120, 128] {
            let what = format!("test case {case}, {tag_bits}-bit tag");
            let param = MechParam::Gcm {
                iv: hex(iv),
                aad: hex(GCM_A),
                tag_bits,
            };
            let want = [&ct[..], &tag[..tag_bits as usize / 8]].concat();
            let op = Encrypt::start(&AES_GCM, &param, &key).expect("init");
            assert_eq!(oneshot(op, &plain).expect("encrypts"), want, "{what}");
            let op = Encrypt::start(&AES_GCM, &param, &key).expect("init");
            let parts = [&plain[..1], &plain[1..33], &plain[33..]];
            assert_eq!(multipart(op, &parts).expect("encrypts"), want, "{what}");
            let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
            assert_eq!(oneshot(op, &want).expect("decrypts"), plain, "{what}");
            let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
            let parts = [
                &want[..5],
                &want[5..want.len() - 3],
                &want[want.len() - 3..],
            ];
            assert_eq!(multipart(op, &parts).expect("decrypts"), plain, "{what}");
            // A flipped bit anywhere, a tag cut short, or the tag of another
            // length: no plaintext, CKR_ENCRYPTED_DATA_INVALID.
            for at in [0, ct.len() - 1, want.len() - 1] {
                let mut bad = want.clone();
                bad[at] ^= 0x40;
                let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
                assert_eq!(oneshot(op, &bad), Err(Rv::ENCRYPTED_DATA_INVALID), "{what}");
            }
            let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
            let longer = [&ct[..], &tag[..]].concat();
            let expect = if tag_bits == 128 {
                Ok(plain.clone())
            } else {
                Err(Rv::ENCRYPTED_DATA_INVALID)
            };
            assert_eq!(oneshot(op, &longer), expect, "{what}: a 128-bit tag");
        }
    }
}

/// One-byte, 16-byte and 12-byte IVs with short tags, empty input and
/// empty AAD, against values computed with OpenSSL 3's libcrypto (EVP,
/// EVP_CTRL_GCM_SET_IVLEN) and, for the IVs it takes (8 to 128 bytes),
/// pyca/cryptography 48 as well.
#[test]
fn gcm_small_ivs_and_empty_input() {
    // (key, IV, AAD, plaintext, tag bits, ciphertext || tag)
    let cases: [(&str, &str, &str, &str, CK_ULONG, &str); 4] = [
        (
            "000102030405060708090a0b0c0d0e0f",
            "01",
            "",
            "616263",
            104,
            "1a88bc6e992d42a5ef7ac78aded34e84",
        ),
        (
            "000102030405060708090a0b0c0d0e0f1011121314151617",
            "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            "6161",
            "",
            96,
            "7da1271db3e813fb6e6c8277",
        ),
        (
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            "",
            "00112233445566778899aabbccddeeff00",
            112,
            "b8703e1cd5d588b0207cf97ec1f354557237cbd638441d38ff07febd47c632",
        ),
        (
            "000102030405060708090a0b0c0d0e0f",
            "0a0b0c0d0e0f101112131415",
            "",
            "616263",
            120,
            "41804be80ec80639a082ba5c8f907b240da2",
        ),
    ];
    for (key, iv, aad, plain, tag_bits, want) in cases {
        let key = aes_key(&hex(key));
        let param = MechParam::Gcm {
            iv: hex(iv),
            aad: hex(aad),
            tag_bits,
        };
        let (plain, want) = (hex(plain), hex(want));
        let op = Encrypt::start(&AES_GCM, &param, &key).expect("init");
        assert_eq!(oneshot(op, &plain).expect("encrypts"), want, "IV {iv}");
        let op = Decrypt::start(&AES_GCM, &param, &key).expect("init");
        assert_eq!(oneshot(op, &want).expect("decrypts"), plain, "IV {iv}");
    }
}

/// Tag lengths and IV lengths outside what the token takes.
#[test]
fn gcm_refused_sizes() {
    let key = aes_key(&[1u8; 16]);
    let gcm = |iv_len: usize, tag_bits: CK_ULONG| MechParam::Gcm {
        iv: vec![2u8; iv_len],
        aad: Vec::new(),
        tag_bits,
    };
    for tag_bits in [0, 8, 32, 64, 88, 95, 97, 100, 127, 129, 136, 256] {
        for start in [
            Encrypt::start(&AES_GCM, &gcm(12, tag_bits), &key),
            Decrypt::start(&AES_GCM, &gcm(12, tag_bits), &key),
            Encrypt::start(&AES_GCM, &gcm(16, tag_bits), &key),
        ] {
            assert!(
                matches!(start, Err(Rv::MECHANISM_PARAM_INVALID)),
                "{tag_bits}-bit tag"
            );
        }
    }
    assert!(matches!(
        Decrypt::start(&AES_GCM, &gcm(0, 128), &key),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
    // Long IVs are fine (GHASHed to the counter block).
    let op = Encrypt::start(&AES_GCM, &gcm(4096, 96), &key).expect("4 KiB IV");
    let ct = oneshot(op, b"x").expect("encrypts");
    let op = Decrypt::start(&AES_GCM, &gcm(4096, 96), &key).expect("init");
    assert_eq!(oneshot(op, &ct).expect("decrypts"), b"x");
    // Shorter than the tag: the length, not the content, is wrong.
    let op = Decrypt::start(&AES_GCM, &gcm(16, 96), &key).expect("init");
    assert_eq!(oneshot(op, &[0u8; 11]), Err(Rv::ENCRYPTED_DATA_LEN_RANGE));
}

fn ctr_param(bits: CK_ULONG, counter: &[u8]) -> MechParam {
    let mut p = bits.to_ne_bytes().to_vec();
    p.extend_from_slice(counter);
    MechParam::Bytes(p)
}

/// SP 800-38A F.5.1, CTR-AES128.
#[test]
fn sp800_38a_ctr() {
    let key = aes_key(&hex(KEY128));
    let param = ctr_param(128, &hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
    let plain = hex(PLAIN);
    let want = hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
    let op = Encrypt::start(&AES_CTR, &param, &key).expect("init");
    assert_eq!(
        multipart(op, &[&plain[..5], &plain[5..21], &plain[21..]]).expect("encrypts"),
        want
    );
    let op = Decrypt::start(&AES_CTR, &param, &key).expect("init");
    assert_eq!(oneshot(op, &want).expect("decrypts"), plain);
}

#[test]
fn ctr_counter_does_not_wrap() {
    let key = aes_key(&[5u8; 16]);
    // 2 counter bits starting at 2: two blocks (2, 3) before the wrap.
    let mut counter = [0u8; 16];
    counter[15] = 2;
    let param = ctr_param(2, &counter);
    let op = Encrypt::start(&AES_CTR, &param, &key).expect("init");
    assert_eq!(oneshot(op, &[0u8; 32]).map(|v| v.len()), Ok(32));
    let op = Encrypt::start(&AES_CTR, &param, &key).expect("init");
    assert_eq!(oneshot(op, &[0u8; 33]), Err(Rv::DATA_LEN_RANGE));
    for bad in [
        ctr_param(0, &counter),
        ctr_param(129, &counter),
        MechParam::Bytes(vec![0; 16]),
    ] {
        assert!(matches!(
            Encrypt::start(&AES_CTR, &bad, &key),
            Err(Rv::MECHANISM_PARAM_INVALID)
        ));
    }
}
