//! AES tests: NIST SP 800-38A (ECB, CBC) and the GCM specification's test
//! case 3 as known answers; CBC_PAD multi-part round trips at every split.

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
    assert_eq!(oneshot(op, &bad), Err(Rv::AEAD_DECRYPT_FAILED));
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
    assert_eq!(oneshot(op, &ct), Err(Rv::AEAD_DECRYPT_FAILED));
    for bad in [
        MechParam::Gcm {
            iv: vec![2u8; 16],
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
