//! Known answers for the key derivation mechanisms: RFC 5869 test cases
//! 1–3, RFC 6070 and RFC 7914 PBKDF2, FIPS-197 for derivation by
//! encryption, and an ANSI X9.63 vector (NIST CAVS).

use super::*;
use crate::backend::ParamSecret;
use crate::mechanisms::test_util::hex;

fn base(key_type: CK_KEY_TYPE, value: &[u8]) -> Attributes {
    let mut a = Attributes::new();
    a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
    a.set_ulong(CKA_KEY_TYPE, key_type);
    a.set_secret(CKA_VALUE, value);
    a.set_bool(CKA_ALWAYS_SENSITIVE, true);
    a.set_bool(CKA_NEVER_EXTRACTABLE, true);
    a
}

fn value(attrs: &Attributes) -> Vec<u8> {
    key_value(attrs, CKA_VALUE)
        .expect("value")
        .as_slice()
        .to_vec()
}

fn hkdf(extract: bool, expand: bool, salt: HkdfSalt, info: &[u8]) -> MechParam {
    MechParam::Hkdf {
        extract,
        expand,
        prf: CKM_SHA256,
        salt,
        info: info.to_vec(),
    }
}

fn len(n: CK_ULONG) -> Attr {
    Attr::ulong(CKA_VALUE_LEN, n)
}

/// RFC 5869 §A.1–A.3: (IKM, salt, info, L, PRK, OKM).
const RFC5869: &[(&str, &str, &str, usize, &str, &str)] = &[
    (
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        42,
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
         202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
         404142434445464748494a4b4c4d4e4f",
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
         808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
         a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf\
         d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef\
         f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
        82,
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
         59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
         cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "",
        "",
        42,
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
];

#[test]
fn rfc5869_through_the_mechanism() {
    let actor = Actor::default();
    for (ikm, salt, info, l, prk, okm) in RFC5869 {
        let (ikm, salt, info, prk, okm) = (hex(ikm), hex(salt), hex(info), hex(prk), hex(okm));
        let key = base(CKK_GENERIC_SECRET, &ikm);
        let salt_param = if salt.is_empty() {
            HkdfSalt::Null
        } else {
            HkdfSalt::Data(salt.clone())
        };
        // Extract and expand.
        let both = hkdf(true, true, salt_param.clone(), &info);
        let k = HKDF_DERIVE
            .derive(&both, &key, &[len(*l as CK_ULONG)], actor)
            .expect("derives");
        assert_eq!(value(&k), okm);
        assert_eq!(k.ulong(CKA_VALUE_LEN), Some(*l as CK_ULONG));
        assert_eq!(k.bool(CKA_LOCAL), Some(false));
        // Extract alone gives the PRK.
        let k = HKDF_DERIVE
            .derive(&hkdf(true, false, salt_param, b"ignored"), &key, &[], actor)
            .expect("extracts");
        assert_eq!(value(&k), prk);
        // Expand alone, from the PRK.
        let k = HKDF_DERIVE
            .derive(
                &hkdf(false, true, HkdfSalt::Null, &info),
                &base(CKK_HKDF, &prk),
                &[len(*l as CK_ULONG)],
                actor,
            )
            .expect("expands");
        assert_eq!(value(&k), okm);
        // The salt as a key's value gives the same.
        let k = HKDF_DERIVE
            .derive(
                &hkdf(
                    true,
                    true,
                    HkdfSalt::KeyValue(ParamSecret(salt.into())),
                    &info,
                ),
                &key,
                &[len(*l as CK_ULONG)],
                actor,
            )
            .expect("derives");
        assert_eq!(value(&k), okm);
    }
}

/// The HMAC-based HKDF here agrees with aws-lc-rs's `hkdf`.
#[test]
fn hkdf_agrees_with_aws_lc() {
    use aws_lc_rs::hkdf as lc;
    struct Len(usize);
    impl lc::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    for (alg, lc_alg) in [
        (hmac::HMAC_SHA256, lc::HKDF_SHA256),
        (hmac::HMAC_SHA384, lc::HKDF_SHA384),
        (hmac::HMAC_SHA512, lc::HKDF_SHA512),
    ] {
        for n in [1usize, 31, 32, 64, 65, 200] {
            let prk = hkdf_extract(alg, b"salt", b"input keying material");
            let ours = hkdf_expand(alg, &prk, b"info", n).expect("expands");
            let lc_prk = lc::Salt::new(lc_alg, b"salt").extract(b"input keying material");
            let mut theirs = vec![0u8; n];
            lc_prk
                .expand(&[b"info"], Len(n))
                .and_then(|okm| okm.fill(&mut theirs))
                .expect("aws-lc expands");
            assert_eq!(*ours, theirs, "{n} bytes");
        }
    }
}

#[test]
fn hkdf_parameters_and_templates() {
    let actor = Actor::default();
    let key = base(CKK_GENERIC_SECRET, &[7; 32]);
    let derive = |p: &MechParam, t: &[Attr]| HKDF_DERIVE.derive(p, &key, t, actor).map(drop);
    let ok = hkdf(true, true, HkdfSalt::Null, b"");
    assert_eq!(derive(&ok, &[]), Ok(()));
    assert_eq!(
        derive(&hkdf(false, false, HkdfSalt::Null, b""), &[]),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
    let md5 = MechParam::Hkdf {
        extract: true,
        expand: true,
        prf: CKM_MD5,
        salt: HkdfSalt::Null,
        info: Vec::new(),
    };
    assert_eq!(derive(&md5, &[]), Err(Rv::MECHANISM_PARAM_INVALID));
    assert_eq!(
        derive(&hkdf(true, true, HkdfSalt::Key(3), b""), &[]),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        derive(&MechParam::None, &[]),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
    // Lengths: 255 × HashLen at most; extract alone gives HashLen only.
    assert_eq!(derive(&ok, &[len(255 * 32)]), Ok(()));
    assert_eq!(
        derive(&ok, &[len(255 * 32 + 1)]),
        Err(Rv::TEMPLATE_INCONSISTENT)
    );
    assert_eq!(derive(&ok, &[len(0)]), Err(Rv::TEMPLATE_INCONSISTENT));
    let extract = hkdf(true, false, HkdfSalt::Null, b"");
    assert_eq!(derive(&extract, &[len(16)]), Err(Rv::TEMPLATE_INCONSISTENT));
    // Key types.
    let aes = |n| [Attr::ulong(CKA_KEY_TYPE, CKK_AES), len(n)];
    assert_eq!(derive(&ok, &aes(32)), Ok(()));
    assert_eq!(derive(&ok, &aes(20)), Err(Rv::TEMPLATE_INCONSISTENT));
    assert_eq!(
        derive(&ok, &[Attr::ulong(CKA_KEY_TYPE, CKK_DES3)]),
        Err(Rv::TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        derive(&ok, &[Attr::ulong(CKA_CLASS, CKO_DATA)]),
        Err(Rv::TEMPLATE_INCONSISTENT)
    );
    // Expand alone needs a PRK of at least HashLen bytes.
    let short = base(CKK_HKDF, &[1; 31]);
    assert_eq!(
        HKDF_DERIVE
            .derive(&hkdf(false, true, HkdfSalt::Null, b""), &short, &[], actor)
            .map(drop),
        Err(Rv::KEY_SIZE_RANGE)
    );
    // Derived keys keep the base key's history.
    let k = HKDF_DERIVE
        .derive(&ok, &key, &[Attr::bool(CKA_SENSITIVE, true)], actor)
        .expect("derives");
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(true));
    assert_eq!(k.bool(CKA_LOCAL), Some(false));
}

#[test]
fn hkdf_data_makes_a_data_object() {
    let (ikm, salt, info, _, _, okm) = RFC5869[0];
    let key = base(CKK_GENERIC_SECRET, &hex(ikm));
    let p = hkdf(true, true, HkdfSalt::Data(hex(salt)), &hex(info));
    let t = [len(42), Attr::new(CKA_LABEL, b"iv")];
    let d = HKDF_DATA
        .derive(&p, &key, &t, Actor::default())
        .expect("derives");
    assert_eq!(d.class(), CKO_DATA);
    assert_eq!(d.bytes(CKA_VALUE), Some(hex(okm).as_slice()));
    assert_eq!(d.bytes(CKA_LABEL), Some(&b"iv"[..]));
    let bad = [Attr::ulong(CKA_CLASS, CKO_SECRET_KEY)];
    assert_eq!(
        HKDF_DATA.derive(&p, &key, &bad, Actor::default()).map(drop),
        Err(Rv::TEMPLATE_INCONSISTENT)
    );
}

fn pbkdf2(prf: CK_ULONG, password: &[u8], salt: &[u8], iterations: CK_ULONG) -> MechParam {
    MechParam::Pbkdf2 {
        salt_source: CKZ_SALT_SPECIFIED,
        salt: salt.to_vec(),
        iterations,
        prf,
        prf_data: Vec::new(),
        password: ParamSecret(password.to_vec().into()),
    }
}

/// RFC 6070 (HMAC-SHA1) and RFC 7914 §11 (HMAC-SHA256).
#[test]
fn pbkdf2_vectors() {
    let gen = |p: &MechParam, n: CK_ULONG| {
        PKCS5_PBKD2
            .generate(p, &[len(n)], Actor::default())
            .map(|a| value(&a))
    };
    let sha1 = CKP_PKCS5_PBKD2_HMAC_SHA1;
    for (c, want) in [
        (1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
        (2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        (4096, "4b007901b765489abead49d926f721d065a429c1"),
    ] {
        assert_eq!(
            gen(&pbkdf2(sha1, b"password", b"salt", c), 20),
            Ok(hex(want))
        );
    }
    let p = pbkdf2(sha1, b"pass\0word", b"sa\0lt", 4096);
    assert_eq!(gen(&p, 16), Ok(hex("56fa6aa75548099dcc37d7f03425e0c3")));
    let p = pbkdf2(CKP_PKCS5_PBKD2_HMAC_SHA256, b"passwd", b"salt", 1);
    let want = hex(
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
         49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
    );
    assert_eq!(gen(&p, 64), Ok(want));
}

#[test]
fn pbkdf2_checks() {
    let gen = |p: &MechParam, t: &[Attr]| PKCS5_PBKD2.generate(p, t, Actor::default()).map(drop);
    let ok = pbkdf2(CKP_PKCS5_PBKD2_HMAC_SHA256, b"pw", b"salt", 10);
    assert_eq!(gen(&ok, &[]), Err(Rv::TEMPLATE_INCOMPLETE));
    let aes = |n| [Attr::ulong(CKA_KEY_TYPE, CKK_AES), len(n)];
    assert_eq!(gen(&ok, &aes(20)), Err(Rv::KEY_SIZE_RANGE));
    let k = PKCS5_PBKD2
        .generate(&ok, &aes(32), Actor::default())
        .expect("generates");
    // From a password the caller knows: never counted as the token's own.
    assert_eq!(k.bool(CKA_LOCAL), Some(false));
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(false));
    for p in [
        pbkdf2(CKP_PKCS5_PBKD2_HMAC_SHA224, b"pw", b"salt", 10),
        pbkdf2(CKP_PKCS5_PBKD2_HMAC_SHA256, b"pw", b"salt", 0),
        pbkdf2(CKP_PKCS5_PBKD2_HMAC_SHA256, b"pw", b"salt", 1 << 40),
        MechParam::Pbkdf2 {
            salt_source: 2,
            salt: Vec::new(),
            iterations: 1,
            prf: CKP_PKCS5_PBKD2_HMAC_SHA256,
            prf_data: Vec::new(),
            password: ParamSecret(Vec::new().into()),
        },
    ] {
        assert_eq!(gen(&p, &aes(16)), Err(Rv::MECHANISM_PARAM_INVALID));
    }
}

/// FIPS-197 Appendix C.1: AES-128 of 00112233...ff.
#[test]
fn derivation_by_encryption() {
    let key = base(CKK_AES, &hex("000102030405060708090a0b0c0d0e0f"));
    let data = hex("00112233445566778899aabbccddeeff");
    let want = hex("69c4e0d86a7b0430d8cdb78070b4c55a");
    let actor = Actor::default();
    let ecb = MechParam::Bytes(data.clone());
    let aes16 = [Attr::ulong(CKA_KEY_TYPE, CKK_AES)];
    let k = AES_ECB_ENCRYPT_DATA
        .derive(&ecb, &key, &aes16, actor)
        .expect("derives");
    assert_eq!(value(&k), want);
    // CBC with a zero IV is ECB for one block.
    let cbc = MechParam::AesCbcEncryptData {
        iv: [0; 16],
        data: data.clone(),
    };
    let k = AES_CBC_ENCRYPT_DATA
        .derive(&cbc, &key, &[len(8)], actor)
        .expect("derives");
    assert_eq!(value(&k), want[..8]);
    let derive =
        |p: &MechParam, t: &[Attr]| AES_ECB_ENCRYPT_DATA.derive(p, &key, t, actor).map(drop);
    assert_eq!(
        derive(&MechParam::Bytes(vec![1; 15]), &[]),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        derive(&MechParam::Bytes(Vec::new()), &[]),
        Err(Rv::MECHANISM_PARAM_INVALID)
    );
    assert_eq!(derive(&cbc, &[]), Err(Rv::MECHANISM_PARAM_INVALID));
    assert_eq!(derive(&ecb, &[len(17)]), Err(Rv::TEMPLATE_INCONSISTENT));
}

/// NIST CAVS ANSI X9.63 KDF, SHA-256, no shared info, 128 bits.
#[test]
fn x963_known_answer() {
    let z = hex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08");
    let k = x963_kdf(CKD_SHA256_KDF, &z, &[], 16).expect("derives");
    assert_eq!(*k, hex("443024c3dae66b95e6f5670601558f71"));
    // Longer than one hash: the counter runs on.
    let long = x963_kdf(CKD_SHA256_KDF, &z, &[], 40).expect("derives");
    assert_eq!(long[..16], k[..]);
    assert_eq!(
        x963_kdf(CKD_NULL, &z, &[], 16).err(),
        Some(Rv::MECHANISM_PARAM_INVALID)
    );
}
