//! RSA through the C ABI (PKCS#11 3.0 Current Mechanisms §2.1): the
//! mechanism rows, key pair generation, PKCS#1 v1.5, PSS and raw
//! signatures, signatures with recovery, OAEP, PKCS#1 v1.5 and raw
//! encryption, keys imported by their components, the RSA-1024 policy
//! rule, and interoperability with the `openssl` command line (signatures
//! verified there, ciphertexts made there decrypted here, and back).

mod common;
#[path = "common/raw.rs"]
mod raw;

#[path = "../src/mechanisms/rsa_vectors.rs"]
#[allow(dead_code)]
mod vectors;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{code, Fixture};
use cryptoki::error::RvError;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki_sys::{
    CKM_RSA_PKCS, CKM_RSA_X_509, CKM_SHA256_RSA_PKCS, CKR_KEY_FUNCTION_NOT_PERMITTED,
    CKR_MECHANISM_INVALID, CKR_SIGNATURE_INVALID,
};
use raw::{Client, Mech};
use vectors as v;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// A key pair as pkcs11-tool's `--keypairgen --key-type rsa:BITS` asks.
fn generate(s: &Session, bits: u64) -> cryptoki::error::Result<(ObjectHandle, ObjectHandle)> {
    let public = [
        Attribute::Token(false),
        Attribute::ModulusBits(bits.into()),
        Attribute::PublicExponent(vec![1, 0, 1]),
        Attribute::Verify(true),
        Attribute::Encrypt(true),
    ];
    let private = [
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
        Attribute::Decrypt(true),
    ];
    s.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
}

/// The OpenSSL test key imported with C_CreateObject: (public, private).
fn import(s: &Session) -> (ObjectHandle, ObjectHandle) {
    let public = s
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(hex(v::N)),
            Attribute::PublicExponent(hex(v::E)),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
        ])
        .expect("import public");
    let private = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Private(true),
            Attribute::Modulus(hex(v::N)),
            Attribute::PublicExponent(hex(v::E)),
            Attribute::PrivateExponent(hex(v::D)),
            Attribute::Prime1(hex(v::P)),
            Attribute::Prime2(hex(v::Q)),
            Attribute::Exponent1(hex(v::DP)),
            Attribute::Exponent2(hex(v::DQ)),
            Attribute::Coefficient(hex(v::QINV)),
            Attribute::Sign(true),
            Attribute::Decrypt(true),
        ])
        .expect("import private");
    (public, private)
}

fn pss(hash: MechanismType, mgf: PkcsMgfType, salt: u64) -> PkcsPssParams {
    PkcsPssParams {
        hash_alg: hash,
        mgf,
        s_len: salt.into(),
    }
}

fn pss256() -> PkcsPssParams {
    pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32)
}

fn modulus_and_exponent(s: &Session, key: ObjectHandle) -> (Vec<u8>, Vec<u8>) {
    let attrs = s
        .get_attributes(
            key,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .expect("read");
    let mut n = Vec::new();
    let mut e = Vec::new();
    for a in attrs {
        match a {
            Attribute::Modulus(m) => n = m,
            Attribute::PublicExponent(x) => e = x,
            _ => {}
        }
    }
    (n, e)
}

#[test]
fn mechanism_rows_are_honest() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let list = f.p11().get_mechanism_list(slot).expect("list");
    for m in [
        MechanismType::RSA_PKCS_KEY_PAIR_GEN,
        MechanismType::RSA_PKCS,
        MechanismType::RSA_X_509,
        MechanismType::SHA1_RSA_PKCS,
        MechanismType::SHA256_RSA_PKCS,
        MechanismType::SHA384_RSA_PKCS,
        MechanismType::SHA512_RSA_PKCS,
        MechanismType::RSA_PKCS_PSS,
        MechanismType::SHA1_RSA_PKCS_PSS,
        MechanismType::SHA256_RSA_PKCS_PSS,
        MechanismType::SHA384_RSA_PKCS_PSS,
        MechanismType::SHA512_RSA_PKCS_PSS,
        MechanismType::RSA_PKCS_OAEP,
    ] {
        assert!(list.contains(&m), "{m} listed");
        let info = f.p11().get_mechanism_info(slot, m).expect("info");
        assert_eq!(
            (info.min_key_size(), info.max_key_size()),
            (2048, 8192),
            "{m}"
        );
    }
    let pkcs = f
        .p11()
        .get_mechanism_info(slot, MechanismType::RSA_PKCS)
        .expect("info");
    assert!(pkcs.sign() && pkcs.verify() && pkcs.encrypt() && pkcs.decrypt());
    assert!(pkcs.sign_recover() && pkcs.verify_recover());
    assert!(pkcs.wrap() && pkcs.unwrap());
    let sha1 = f
        .p11()
        .get_mechanism_info(slot, MechanismType::SHA1_RSA_PKCS)
        .expect("info");
    assert!(sha1.verify() && sha1.sign() && !sha1.sign_recover());
    let oaep = f
        .p11()
        .get_mechanism_info(slot, MechanismType::RSA_PKCS_OAEP)
        .expect("info");
    assert!(oaep.encrypt() && oaep.decrypt() && oaep.wrap() && oaep.unwrap() && !oaep.sign());
    // Under the relaxed profile the rows admit RSA-1024 (one fixture at a
    // time: they share the process's environment).
    drop(f);
    let legacy = Fixture::with_config("[policy]\nallow_rsa_1024 = true");
    let slot = legacy.init_token("rsa");
    let info = legacy
        .p11()
        .get_mechanism_info(slot, MechanismType::RSA_PKCS)
        .expect("info");
    assert_eq!(info.min_key_size(), 1024);
}

#[test]
fn generate_sign_verify_encrypt_decrypt() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (public, private) = generate(&s, 2048).expect("generate");
    let attrs = s
        .get_attributes(
            public,
            &[
                AttributeType::ModulusBits,
                AttributeType::PublicExponent,
                AttributeType::Local,
                AttributeType::KeyGenMechanism,
            ],
        )
        .expect("read public");
    assert!(attrs.contains(&Attribute::ModulusBits(2048.into())));
    assert!(attrs.contains(&Attribute::PublicExponent(vec![1, 0, 1])));
    assert!(attrs.contains(&Attribute::Local(true)));
    assert!(attrs.contains(&Attribute::KeyGenMechanism(
        MechanismType::RSA_PKCS_KEY_PAIR_GEN
    )));
    let (n, _) = modulus_and_exponent(&s, private);
    assert_eq!(n.len(), 256);
    // Sensitive: the client learns it cannot read it (cryptoki leaves it
    // out of the answer).
    let secret = s
        .get_attributes(private, &[AttributeType::PrivateExponent])
        .expect("read private");
    assert!(secret.is_empty());

    let data = b"the quick brown fox";
    let mechanisms = [
        Mechanism::Sha1RsaPkcs,
        Mechanism::Sha224RsaPkcs,
        Mechanism::Sha256RsaPkcs,
        Mechanism::Sha384RsaPkcs,
        Mechanism::Sha512RsaPkcs,
        Mechanism::Sha256RsaPkcsPss(pss256()),
        Mechanism::Sha384RsaPkcsPss(pss(MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 0)),
        Mechanism::Sha512RsaPkcsPss(pss(MechanismType::SHA512, PkcsMgfType::MGF1_SHA512, 64)),
    ];
    for m in &mechanisms {
        let sig = s.sign(m, private, data).expect("sign");
        assert_eq!(sig.len(), 256);
        s.verify(m, public, data, &sig).expect("verify");
        assert_eq!(
            code(s.verify(m, public, b"another message", &sig)),
            RvError::SignatureInvalid
        );
        // Multi-part gives a signature that verifies single-part.
        s.sign_init(m, private).expect("init");
        s.sign_update(&data[..5]).expect("update");
        s.sign_update(&data[5..]).expect("update");
        let parts = s.sign_final().expect("final");
        s.verify(m, public, data, &parts).expect("verify parts");
    }
    // CKM_RSA_PKCS_PSS on a digest, CKM_RSA_PKCS on a DigestInfo.
    let digest = s.digest(&Mechanism::Sha256, data).expect("digest");
    let sig = s
        .sign(&Mechanism::RsaPkcsPss(pss256()), private, &digest)
        .expect("sign digest");
    s.verify(&Mechanism::Sha256RsaPkcsPss(pss256()), public, data, &sig)
        .expect("verify as hash-and-sign");
    let mut digest_info = hex("3031300d060960864801650304020105000420");
    digest_info.extend_from_slice(&digest);
    let raw = s
        .sign(&Mechanism::RsaPkcs, private, &digest_info)
        .expect("raw");
    assert_eq!(
        raw,
        s.sign(&Mechanism::Sha256RsaPkcs, private, data)
            .expect("sign")
    );
    // Any data up to k - 11 bytes, with and without recovery.
    let sig = s
        .sign(&Mechanism::RsaPkcs, private, b"not a DigestInfo")
        .expect("sign raw data");
    s.verify(&Mechanism::RsaPkcs, public, b"not a DigestInfo", &sig)
        .expect("verify");
    assert_eq!(
        code(s.sign(&Mechanism::RsaPkcs, private, &[1; 246])),
        RvError::DataLenRange
    );

    // OAEP, with and without a label.
    for label in [&b""[..], b"a label"] {
        let source = if label.is_empty() {
            PkcsOaepSource::empty()
        } else {
            PkcsOaepSource::data_specified(label)
        };
        let m = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
            MechanismType::SHA256,
            PkcsMgfType::MGF1_SHA256,
            source,
        ));
        let ct = s.encrypt(&m, public, b"key material").expect("encrypt");
        assert_eq!(ct.len(), 256);
        assert_eq!(
            s.decrypt(&m, private, &ct).expect("decrypt"),
            b"key material"
        );
        let mut bad = ct.clone();
        bad[7] ^= 1;
        assert_eq!(
            code(s.decrypt(&m, private, &bad)),
            RvError::EncryptedDataInvalid
        );
    }
    // PKCS#1 v1.5 round trips; a bad ciphertext decrypts to a synthetic
    // message (implicit rejection), the same one every time.
    let ct = s
        .encrypt(&Mechanism::RsaPkcs, public, b"legacy")
        .expect("encrypt");
    assert_eq!(ct.len(), 256);
    assert_eq!(
        s.decrypt(&Mechanism::RsaPkcs, private, &ct)
            .expect("decrypt"),
        b"legacy"
    );
    let mut bad = ct.clone();
    bad[100] ^= 1;
    let first = s
        .decrypt(&Mechanism::RsaPkcs, private, &bad)
        .expect("no padding oracle: no error");
    assert_ne!(first, b"legacy");
    assert_eq!(
        s.decrypt(&Mechanism::RsaPkcs, private, &bad)
            .expect("again"),
        first
    );
    // Raw RSA.
    let ct = s
        .encrypt(&Mechanism::RsaX509, public, b"raw")
        .expect("encrypt raw");
    let plain = s.decrypt(&Mechanism::RsaX509, private, &ct).expect("raw");
    assert_eq!(plain.len(), 256);
    assert_eq!(&plain[253..], b"raw");
    assert!(plain[..253].iter().all(|b| *b == 0));
}

/// C_SignRecover / C_VerifyRecover (PKCS#11 3.0 §5.13, §5.14) with
/// CKM_RSA_PKCS and CKM_RSA_X_509, through the raw C functions (the
/// `cryptoki` crate has no wrapper for them).
#[test]
fn sign_and_verify_recover() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (public, private) = generate(&s, 2048).expect("generate");
    let c = Client::of(&s);
    let (public_h, private_h) = (public.handle(), private.handle());
    for kind in [CKM_RSA_PKCS, CKM_RSA_X_509] {
        let data = b"recover me".to_vec();
        c.recover_init(true, Mech::none(kind), private_h)
            .expect("sign recover init");
        let sig = c.recover(true, &data).expect("sign recover");
        assert_eq!(sig.len(), 256);
        c.recover_init(false, Mech::none(kind), public_h)
            .expect("verify recover init");
        let back = c.recover(false, &sig).expect("verify recover");
        if kind == CKM_RSA_PKCS {
            assert_eq!(back, data);
            // The signature is an ordinary CKM_RSA_PKCS one.
            s.verify(&Mechanism::RsaPkcs, public, &data, &sig)
                .expect("verifies");
        } else {
            assert_eq!(&back[256 - data.len()..], &data[..]);
        }
        let mut bad = sig.clone();
        bad[9] ^= 1;
        c.recover_init(false, Mech::none(kind), public_h)
            .expect("verify recover init");
        let wrong = c.recover(false, &bad);
        if kind == CKM_RSA_PKCS {
            assert_eq!(wrong.err(), Some(CKR_SIGNATURE_INVALID));
        } else {
            assert_ne!(wrong.expect("raw RSA opens anything"), back);
        }
    }
    // A mechanism without recovery, and a key without CKA_SIGN_RECOVER.
    assert_eq!(
        c.recover_init(true, Mech::none(CKM_SHA256_RSA_PKCS), private_h),
        Err(CKR_MECHANISM_INVALID)
    );
    s.update_attributes(private, &[Attribute::SignRecover(false)])
        .expect("switch off");
    assert_eq!(
        c.recover_init(true, Mech::none(CKM_RSA_PKCS), private_h),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
}

#[test]
fn parameters_and_key_checks_at_init() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (public, private) = import(&s);
    let mismatched = pss(MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 48);
    assert_eq!(
        code(s.sign_init(&Mechanism::Sha256RsaPkcsPss(mismatched), private)),
        RvError::MechanismParamInvalid
    );
    let salt = pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA1, 223);
    assert_eq!(
        code(s.verify_init(&Mechanism::RsaPkcsPss(salt), public)),
        RvError::MechanismParamInvalid
    );
    let oaep_bad = PkcsOaepParams::new(
        // Not a hash at all.
        MechanismType::AES_ECB,
        PkcsMgfType::MGF1_SHA1,
        PkcsOaepSource::empty(),
    );
    assert_eq!(
        code(s.encrypt_init(&Mechanism::RsaPkcsOaep(oaep_bad), public)),
        RvError::MechanismParamInvalid
    );
    // A public key cannot sign.
    assert_eq!(
        code(s.sign_init(&Mechanism::Sha256RsaPkcs, public)),
        RvError::KeyTypeInconsistent
    );
    // A private key without the CRT components imports and signs.
    let bare = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(hex(v::N)),
            Attribute::PublicExponent(hex(v::E)),
            Attribute::PrivateExponent(hex(v::D)),
            Attribute::Sign(true),
        ])
        .expect("import n, e, d");
    assert_eq!(
        s.sign(&Mechanism::Sha256RsaPkcs, bare, b"abc")
            .expect("sign with n, e, d"),
        hex(v::SIG_PKCS1_SHA256)
    );
    // Components that disagree are refused at C_CreateObject.
    let mut bad_dp = hex(v::DP);
    bad_dp[10] ^= 1;
    let inconsistent = s.create_object(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Modulus(hex(v::N)),
        Attribute::PublicExponent(hex(v::E)),
        Attribute::PrivateExponent(hex(v::D)),
        Attribute::Prime1(hex(v::P)),
        Attribute::Prime2(hex(v::Q)),
        Attribute::Exponent1(bad_dp),
        Attribute::Exponent2(hex(v::DQ)),
        Attribute::Coefficient(hex(v::QINV)),
        Attribute::Sign(true),
    ]);
    assert_eq!(code(inconsistent), RvError::AttributeValueInvalid);
    let mut even = hex(v::N);
    *even.last_mut().expect("modulus") &= 0xfe;
    let even_modulus = s.create_object(&[
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Modulus(even),
        Attribute::PublicExponent(hex(v::E)),
    ]);
    assert_eq!(code(even_modulus), RvError::AttributeValueInvalid);
    // A public exponent of 3 imports (policy, not malformed) and is
    // refused at use.
    let tiny = s
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(hex(v::N)),
            Attribute::PublicExponent(vec![3]),
            Attribute::Encrypt(true),
        ])
        .expect("import e = 3");
    assert_eq!(
        code(s.encrypt_init(&Mechanism::RsaPkcs, tiny)),
        RvError::PublicKeyInvalid
    );
    // Generation: multiples of 128 bits, exponents from 65537 up.
    assert_eq!(code(generate(&s, 2000)), RvError::KeySizeRange);
    let e3 = [
        Attribute::ModulusBits(2048.into()),
        Attribute::PublicExponent(vec![3]),
    ];
    assert_eq!(
        code(s.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &e3, &[])),
        RvError::AttributeValueInvalid
    );
}

#[test]
fn imported_key_matches_openssl() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (public, private) = import(&s);
    let sig = s
        .sign(&Mechanism::Sha256RsaPkcs, private, b"abc")
        .expect("sign");
    assert_eq!(
        sig,
        hex(v::SIG_PKCS1_SHA256),
        "PKCS#1 v1.5 is deterministic"
    );
    s.verify(
        &Mechanism::Sha256RsaPkcsPss(pss256()),
        public,
        b"abc",
        &hex(v::SIG_PSS_SHA256),
    )
    .expect("OpenSSL's PSS signature");
    s.verify(
        &Mechanism::Sha1RsaPkcs,
        public,
        b"abc",
        &hex(v::SIG_PKCS1_SHA1),
    )
    .expect("OpenSSL's SHA-1 signature");
    let m = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::data_specified(b"label"),
    ));
    assert_eq!(
        s.decrypt(&m, private, &hex(v::CT_OAEP_SHA256_LABEL))
            .expect("decrypt"),
        b"a wrapped secret"
    );
}

fn public_1024(s: &Session) -> ObjectHandle {
    s.create_object(&[
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::RSA),
        Attribute::Modulus(hex(v::N_1024)),
        Attribute::PublicExponent(vec![1, 0, 1]),
        Attribute::Verify(true),
    ])
    .expect("import RSA-1024 public key")
}

#[test]
fn rsa_1024_is_refused_under_strict() {
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    assert_eq!(code(generate(&s, 1024)), RvError::KeySizeRange);
    let key = public_1024(&s);
    assert_eq!(
        code(s.verify_init(&Mechanism::Sha256RsaPkcs, key)),
        RvError::KeySizeRange
    );
}

#[test]
fn rsa_1024_verifies_when_the_policy_allows_it() {
    let f = Fixture::with_config("[policy]\nallow_rsa_1024 = true");
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let key = public_1024(&s);
    s.verify(
        &Mechanism::Sha256RsaPkcs,
        key,
        b"abc",
        &hex(v::SIG_1024_PKCS1_SHA256),
    )
    .expect("legacy signature verifies");
    // pkcs11-tool's `--keypairgen --key-type rsa:1024`, and what it does.
    let (public, private) = generate(&s, 1024).expect("generate RSA-1024");
    let sig = s
        .sign(&Mechanism::Sha256RsaPkcs, private, b"x")
        .expect("sign");
    assert_eq!(sig.len(), 128);
    s.verify(&Mechanism::Sha256RsaPkcs, public, b"x", &sig)
        .expect("verify");
    let ct = s
        .encrypt(&Mechanism::RsaPkcs, public, b"x")
        .expect("encrypt");
    assert_eq!(
        s.decrypt(&Mechanism::RsaPkcs, private, &ct)
            .expect("decrypt"),
        b"x"
    );
}

// ---------------------------------------------------------------------------
// Interoperability with the `openssl` command line.

/// DER: one TLV.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// DER: an unsigned INTEGER.
fn uint(value: &[u8]) -> Vec<u8> {
    let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    let mut v = value[start..].to_vec();
    if v.first().is_none_or(|b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}

/// A SubjectPublicKeyInfo (RFC 5280) for an RSA public key.
fn spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let rsa_encryption = tlv(0x06, &hex("2a864886f70d010101"));
    let alg = tlv(0x30, &[rsa_encryption, vec![0x05, 0x00]].concat());
    let key = tlv(0x30, &[uint(n), uint(e)].concat());
    let bits = tlv(0x03, &[&[0u8][..], &key].concat());
    tlv(0x30, &[alg, bits].concat())
}

/// A PKCS#1 RSAPrivateKey for the OpenSSL test key.
fn vector_private_key() -> Vec<u8> {
    let ints: Vec<u8> = [v::N, v::E, v::D, v::P, v::Q, v::DP, v::DQ, v::QINV]
        .iter()
        .flat_map(|h| uint(&hex(h)))
        .collect();
    tlv(0x30, &[uint(&[]), ints].concat())
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl")
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not found: interop test skipped");
    }
    ok
}

#[test]
fn openssl_verifies_our_signatures_and_we_decrypt_its_ciphertexts() {
    if !have_openssl() {
        return;
    }
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (public, private) = generate(&s, 3072).expect("generate");
    let (n, e) = modulus_and_exponent(&s, public);
    let dir = f.dir.path();
    std::fs::write(dir.join("pub.der"), spki(&n, &e)).expect("write key");
    std::fs::write(dir.join("msg"), b"signed in the token").expect("write msg");

    let cases: [(Mechanism, &[&str]); 3] = [
        (Mechanism::Sha256RsaPkcs, &[]),
        (
            Mechanism::Sha256RsaPkcsPss(pss256()),
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ],
        ),
        (
            Mechanism::Sha512RsaPkcsPss(pss(
                MechanismType::SHA512,
                PkcsMgfType::MGF1_SHA512,
                384 - 64 - 2,
            )),
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:max",
            ],
        ),
    ];
    for (m, opts) in &cases {
        let sig = s.sign(m, private, b"signed in the token").expect("sign");
        std::fs::write(dir.join("sig"), &sig).expect("write sig");
        let digest = if matches!(m, Mechanism::Sha512RsaPkcsPss(_)) {
            "-sha512"
        } else {
            "-sha256"
        };
        let mut args = vec!["dgst", digest, "-keyform", "DER", "-verify", "pub.der"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["-signature", "sig", "msg"]);
        let out = openssl(dir, &args);
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // OpenSSL encrypts with OAEP (SHA-1 default and SHA-256); we decrypt.
    std::fs::write(dir.join("pt"), b"from openssl").expect("write pt");
    for (md, hash, mgf) in [
        ("sha1", MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        ("sha256", MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
    ] {
        let oaep_md = format!("rsa_oaep_md:{md}");
        let mgf_md = format!("rsa_mgf1_md:{md}");
        let args = [
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-keyform",
            "DER",
            "-inkey",
            "pub.der",
            "-in",
            "pt",
            "-out",
            "ct",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            &oaep_md,
            "-pkeyopt",
            &mgf_md,
        ];
        let out = openssl(dir, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ct = std::fs::read(dir.join("ct")).expect("read ct");
        let m = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash, mgf, PkcsOaepSource::empty()));
        assert_eq!(
            s.decrypt(&m, private, &ct).expect("decrypt"),
            b"from openssl"
        );
    }

    // PKCS#1 v1.5 encryption with the imported key; OpenSSL decrypts.
    let (vector_public, _) = import(&s);
    let ct = s
        .encrypt(&Mechanism::RsaPkcs, vector_public, b"for openssl")
        .expect("encrypt");
    std::fs::write(dir.join("priv.der"), vector_private_key()).expect("write priv");
    std::fs::write(dir.join("ct1"), &ct).expect("write ct");
    let out = openssl(
        dir,
        &[
            "pkeyutl", "-decrypt", "-keyform", "DER", "-inkey", "priv.der", "-in", "ct1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"for openssl");

    // And the other way: OpenSSL encrypts with PKCS#1 v1.5, we decrypt.
    let out = openssl(
        dir,
        &[
            "pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", "pub.der", "-in", "pt",
            "-out", "ct2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ct = std::fs::read(dir.join("ct2")).expect("read ct");
    assert_eq!(
        s.decrypt(&Mechanism::RsaPkcs, private, &ct)
            .expect("decrypt"),
        b"from openssl"
    );
}

/// Sign throughput through the C ABI, RSA-2048 (PKCS#1 v1.5 and PSS over
/// SHA-256, a 32-byte message): ProzHSM, and SoftHSMv2 when installed.
/// Run: `cargo test --release --test rsa -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn sign_speed() {
    const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
    let f = Fixture::new();
    let slot = f.init_token("rsa");
    let s = f.user_session(slot);
    let (_, private) = generate(&s, 2048).expect("generate");
    let mechanisms = [
        ("PKCS#1 v1.5 SHA-256", Mechanism::Sha256RsaPkcs),
        ("PSS SHA-256", Mechanism::Sha256RsaPkcsPss(pss256())),
    ];
    for (name, m) in &mechanisms {
        println!(
            "ProzHSM   RSA-2048 {name:<20} {:>8.0} sign/s",
            rate(|| drop(s.sign(m, private, &[7; 32]).expect("sign")))
        );
    }
    if !Path::new(SOFTHSM).exists() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("tokens")).expect("token dir");
    let conf = dir.path().join("softhsm2.conf");
    let text = format!(
        "directories.tokendir = {}\n",
        dir.path().join("tokens").display()
    );
    std::fs::write(&conf, text).expect("conf");
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let p11 = cryptoki::context::Pkcs11::new(SOFTHSM).expect("load SoftHSMv2");
    p11.initialize(cryptoki::context::CInitializeArgs::new(
        cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
    ))
    .expect("init");
    let slot = p11.get_all_slots().expect("slots")[0];
    let so = common::pin(common::SO_PIN);
    p11.init_token(slot, &so, "bench").expect("init token");
    let soft = p11.open_rw_session(slot).expect("open");
    soft.login(cryptoki::session::UserType::So, Some(&so))
        .expect("SO login");
    soft.init_pin(&common::pin(common::USER_PIN))
        .expect("init pin");
    soft.logout().expect("logout");
    soft.login(
        cryptoki::session::UserType::User,
        Some(&common::pin(common::USER_PIN)),
    )
    .expect("login");
    let (_, private) = generate(&soft, 2048).expect("generate");
    for (name, m) in &mechanisms {
        println!(
            "SoftHSMv2 RSA-2048 {name:<20} {:>8.0} sign/s",
            rate(|| drop(soft.sign(m, private, &[7; 32]).expect("sign")))
        );
    }
}

/// Calls per second of `f` over about two seconds.
fn rate(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(2) {
        f();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}
