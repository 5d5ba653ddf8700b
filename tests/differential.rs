//! Differential tests against SoftHSMv2 (issue #3, "How it is checked"): the
//! same operations on a SoftHSMv2 token and a ProzHSM token, in one process,
//! through the C ABI (`cryptoki`), give results that agree — a signature made
//! by one verifies with the other's imported public key, digests, HMACs and
//! deterministic ciphertexts (AES ECB/CBC/CBC_PAD/CTR/GCM) and signatures
//! (Ed25519, RSA PKCS#1 v1.5) are byte-equal for the same key, and ECDH
//! between a key in each token agrees on the secret. Debian's SoftHSMv2 does
//! its cryptography with OpenSSL, so agreement is agreement with OpenSSL too.
//!
//! Needs Debian's softhsm2 (scripts/test.sh installs it). RSA runs when
//! ProzHSM lists CKM_RSA_PKCS_KEY_PAIR_GEN; until then the RSA test prints
//! "skip - ..." and checks nothing.

mod common;

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use cryptoki_sys::CK_AES_CTR_PARAMS;

use common::{Fixture, SO_PIN, USER_PIN};

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

#[test]
fn digests_are_equal() {
    let t = Tokens::new();
    let big = pattern(1 << 20, 7);
    let inputs: [&[u8]; 4] = [b"", b"abc", &big[..1000], &big];
    for mech in [
        Mechanism::Sha1,
        Mechanism::Sha224,
        Mechanism::Sha256,
        Mechanism::Sha384,
        Mechanism::Sha512,
    ] {
        for data in inputs {
            let a = t.pz.digest(&mech, data).expect("ProzHSM C_Digest");
            let b = t.sh.digest(&mech, data).expect("SoftHSMv2 C_Digest");
            assert_eq!(a, b, "{mech:?} of {} B", data.len());
        }
        // Multi-part on ProzHSM against single-part on SoftHSMv2.
        t.pz.digest_init(&mech).expect("C_DigestInit");
        for piece in big.chunks(10_007) {
            t.pz.digest_update(piece).expect("C_DigestUpdate");
        }
        let a = t.pz.digest_final().expect("C_DigestFinal");
        assert_eq!(
            a,
            t.sh.digest(&mech, &big).expect("digest"),
            "{mech:?} multi-part"
        );
    }
}

#[test]
fn hmac_equal_and_cross_verified() {
    let t = Tokens::new();
    let value = pattern(64, 0x3c);
    let template = |v: &[u8]| {
        vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Sign(true),
            Attribute::Verify(true),
            Attribute::Value(v.to_vec()),
        ]
    };
    let kp = t.pz.create_object(&template(&value)).expect("ProzHSM key");
    let ks =
        t.sh.create_object(&template(&value))
            .expect("SoftHSMv2 key");
    let data = pattern(4099, 1);
    for mech in [
        Mechanism::Sha1Hmac,
        Mechanism::Sha224Hmac,
        Mechanism::Sha256Hmac,
        Mechanism::Sha384Hmac,
        Mechanism::Sha512Hmac,
    ] {
        for len in [0, 64, 4099] {
            let a = t.pz.sign(&mech, kp, &data[..len]).expect("ProzHSM HMAC");
            let b = t.sh.sign(&mech, ks, &data[..len]).expect("SoftHSMv2 HMAC");
            assert_eq!(a, b, "{mech:?} of {len} B");
            t.pz.verify(&mech, kp, &data[..len], &b)
                .expect("ProzHSM verifies SoftHSMv2's MAC");
            t.sh.verify(&mech, ks, &data[..len], &a)
                .expect("SoftHSMv2 verifies ProzHSM's MAC");
        }
    }
}

#[test]
fn aes_ciphertexts_equal_and_cross_decrypted() {
    let t = Tokens::new();
    for key in [pattern(16, 0x10), pattern(24, 0x20), pattern(32, 0x30)] {
        let kp =
            t.pz.create_object(&aes_template(&key))
                .expect("ProzHSM AES key");
        let ks =
            t.sh.create_object(&aes_template(&key))
                .expect("SoftHSMv2 AES key");
        let blocks = pattern(4096, 5);
        let odd = pattern(4099, 6);
        let iv = [0x42u8; 16];
        let ctr = CK_AES_CTR_PARAMS {
            ulCounterBits: 32,
            cb: [7u8; 16],
        };
        let cases: Vec<(&str, Mechanism, &[u8])> = vec![
            ("ECB", Mechanism::AesEcb, &blocks),
            ("CBC", Mechanism::AesCbc(iv), &blocks),
            ("CBC_PAD", Mechanism::AesCbcPad(iv), &odd),
            ("CBC_PAD", Mechanism::AesCbcPad(iv), &blocks),
            (
                "CTR",
                Mechanism::VendorDefined(VendorDefinedMechanism::new(
                    MechanismType::AES_CTR,
                    Some(&ctr),
                )),
                &odd,
            ),
        ];
        for (name, mech, data) in cases {
            let a = t.pz.encrypt(&mech, kp, data).expect("ProzHSM encrypt");
            let b = t.sh.encrypt(&mech, ks, data).expect("SoftHSMv2 encrypt");
            assert_eq!(a, b, "AES-{}-{name}, {} B", key.len() * 8, data.len());
            assert_eq!(t.pz.decrypt(&mech, kp, &b).expect("ProzHSM decrypt"), data);
            assert_eq!(
                t.sh.decrypt(&mech, ks, &a).expect("SoftHSMv2 decrypt"),
                data
            );
        }
        // GCM at the parameters ProzHSM takes: 96-bit IV, 128-bit tag.
        let mut iv_p = [9u8; 12];
        let mut iv_s = [9u8; 12];
        let aad = b"associated";
        let gp = Mechanism::AesGcm(GcmParams::new(&mut iv_p, aad, 128.into()).expect("params"));
        let gs = Mechanism::AesGcm(GcmParams::new(&mut iv_s, aad, 128.into()).expect("params"));
        let a = t.pz.encrypt(&gp, kp, &odd).expect("ProzHSM GCM");
        let b = t.sh.encrypt(&gs, ks, &odd).expect("SoftHSMv2 GCM");
        assert_eq!(a, b, "AES-{}-GCM", key.len() * 8);
        assert_eq!(t.pz.decrypt(&gp, kp, &b).expect("ProzHSM GCM decrypt"), odd);
        assert_eq!(
            t.sh.decrypt(&gs, ks, &a).expect("SoftHSMv2 GCM decrypt"),
            odd
        );
    }
}

#[test]
fn aes_cmac_equal_when_both_offer_it() {
    let t = Tokens::new();
    if !t.both_offer(MechanismType::AES_CMAC) {
        eprintln!("skip - AES-CMAC (not offered by both)");
        return;
    }
    let key = pattern(32, 0x77);
    let kp = t.pz.create_object(&aes_sign_template(&key)).expect("key");
    let ks = t.sh.create_object(&aes_sign_template(&key)).expect("key");
    for len in [0, 16, 4099] {
        let data = pattern(len, 2);
        let a =
            t.pz.sign(&Mechanism::AesCMac, kp, &data)
                .expect("ProzHSM CMAC");
        let b =
            t.sh.sign(&Mechanism::AesCMac, ks, &data)
                .expect("SoftHSMv2 CMAC");
        assert_eq!(a, b, "CMAC of {len} B");
    }
}

#[test]
fn ecdsa_signatures_verify_across() {
    let t = Tokens::new();
    for (name, params, hash) in [
        ("P-256", P256, Mechanism::Sha256),
        ("P-384", P384, Mechanism::Sha384),
        ("P-521", P521, Mechanism::Sha512),
        ("secp256k1", SECP256K1, Mechanism::Sha256),
    ] {
        let data = pattern(1000, 9);
        let digest = t.pz.digest(&hash, &data).expect("digest");
        // Both directions: (signer, verifier).
        for (signer, verifier, dir) in [
            (&t.pz, &t.sh, "ProzHSM -> SoftHSMv2"),
            (&t.sh, &t.pz, "SoftHSMv2 -> ProzHSM"),
        ] {
            let (public, private) = ec_pair(signer, &Mechanism::EccKeyPairGen, params);
            let point = ec_point(signer, public);
            let imported = import_ec_public(verifier, KeyType::EC, params, &point);
            // Several signatures: SoftHSMv2 makes high-S ones on secp256k1
            // half the time, which ProzHSM must still accept.
            for i in 0..8u8 {
                let mut d = digest.clone();
                d[0] ^= i;
                let sig = signer.sign(&Mechanism::Ecdsa, private, &d).expect("C_Sign");
                verifier
                    .verify(&Mechanism::Ecdsa, imported, &d, &sig)
                    .unwrap_or_else(|e| panic!("{name} {dir}: {e}"));
                d[1] ^= 1;
                assert!(
                    verifier
                        .verify(&Mechanism::Ecdsa, imported, &d, &sig)
                        .is_err(),
                    "{name} {dir}: a signature over another digest verified"
                );
            }
        }
    }
}

/// RFC 8032 §7.1 test 2: the same Ed25519 key in both tokens gives the
/// published signature; keys generated in each verify across.
#[test]
fn ed25519_equal_and_verified_across() {
    let t = Tokens::new();
    let seed = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    let message = [0x72u8];
    let expected = hex(
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
         085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    );
    let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    let private = |s: &Session| {
        s.create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Token(false),
            Attribute::Sign(true),
            Attribute::EcParams(ED25519.to_vec()),
            Attribute::Value(seed.clone()),
        ])
        .expect("C_CreateObject Ed25519 private key")
    };
    let a =
        t.pz.sign(&eddsa, private(&t.pz), &message)
            .expect("ProzHSM sign");
    let b =
        t.sh.sign(&eddsa, private(&t.sh), &message)
            .expect("SoftHSMv2 sign");
    assert_eq!(a, expected, "ProzHSM: RFC 8032 test 2");
    assert_eq!(b, expected, "SoftHSMv2: RFC 8032 test 2");
    let point = [&[0x04, 0x20][..], &public].concat();
    for s in [&t.pz, &t.sh] {
        let k = import_ec_public(s, KeyType::EC_EDWARDS, ED25519, &point);
        s.verify(&eddsa, k, &message, &expected)
            .expect("RFC 8032 test 2 verifies");
    }

    let data = pattern(1000, 4);
    for (signer, verifier, dir) in [
        (&t.pz, &t.sh, "ProzHSM -> SoftHSMv2"),
        (&t.sh, &t.pz, "SoftHSMv2 -> ProzHSM"),
    ] {
        let (public, private) = ec_pair(signer, &Mechanism::EccEdwardsKeyPairGen, ED25519);
        let point = ec_point(signer, public);
        let imported = import_ec_public(verifier, KeyType::EC_EDWARDS, ED25519, &point);
        let sig = signer.sign(&eddsa, private, &data).expect("C_Sign");
        verifier
            .verify(&eddsa, imported, &data, &sig)
            .unwrap_or_else(|e| panic!("Ed25519 {dir}: {e}"));
        assert!(verifier.verify(&eddsa, imported, &data[1..], &sig).is_err());
    }
}

#[test]
fn ecdh_agrees_across() {
    let t = Tokens::new();
    for (name, params, len) in [
        ("P-256", P256, 32),
        ("P-384", P384, 48),
        ("P-521", P521, 66),
    ] {
        let derive_pair = |s: &Session| {
            s.generate_key_pair(
                &Mechanism::EccKeyPairGen,
                &[
                    Attribute::Token(false),
                    Attribute::EcParams(params.to_vec()),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Derive(true),
                ],
            )
            .expect("C_GenerateKeyPair")
        };
        let (pub_p, priv_p) = derive_pair(&t.pz);
        let (pub_s, priv_s) = derive_pair(&t.sh);
        let point_p = raw_point(&ec_point(&t.pz, pub_p));
        let point_s = raw_point(&ec_point(&t.sh, pub_s));
        let secret = |s: &Session, key, other: &[u8]| {
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Token(false),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
                Attribute::ValueLen((len as u64).into()),
            ];
            let mech = Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), other));
            let k = s.derive_key(&mech, key, &template).expect("C_DeriveKey");
            value(s, k)
        };
        let a = secret(&t.pz, priv_p, &point_s);
        let b = secret(&t.sh, priv_s, &point_p);
        assert_eq!(a.len(), len, "{name}: secret length");
        assert_eq!(a, b, "{name}: ECDH secrets differ");
    }
}

#[test]
fn rsa_when_offered() {
    let t = Tokens::new();
    if !t.offers_pz(MechanismType::RSA_PKCS_KEY_PAIR_GEN) {
        eprintln!("skip - RSA differential (CKM_RSA_PKCS_KEY_PAIR_GEN not offered)");
        return;
    }
    let data = pattern(3000, 8);
    let pss = PkcsPssParams {
        hash_alg: MechanismType::SHA256,
        mgf: PkcsMgfType::MGF1_SHA256,
        s_len: 32.into(),
    };
    let oaep = PkcsOaepParams::new(
        MechanismType::SHA1,
        PkcsMgfType::MGF1_SHA1,
        PkcsOaepSource::empty(),
    );
    for (maker, other, dir) in [
        (&t.pz, &t.sh, "ProzHSM key, SoftHSMv2 public half"),
        (&t.sh, &t.pz, "SoftHSMv2 key, ProzHSM public half"),
    ] {
        let maker_is_pz = std::ptr::eq(maker, &t.pz);
        let (public, private) = maker
            .generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[
                    Attribute::Token(false),
                    Attribute::ModulusBits(2048.into()),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    Attribute::Verify(true),
                    Attribute::Encrypt(true),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Sign(true),
                    Attribute::Decrypt(true),
                ],
            )
            .expect("RSA-2048 key pair");
        let attrs = maker
            .get_attributes(
                public,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )
            .expect("modulus");
        let mut template = vec![
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Token(false),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
        ];
        template.extend(attrs);
        let imported = other
            .create_object(&template)
            .expect("import RSA public key");
        for mech in [Mechanism::Sha256RsaPkcs, Mechanism::Sha256RsaPkcsPss(pss)] {
            let sig = maker.sign(&mech, private, &data).expect("sign");
            other
                .verify(&mech, imported, &data, &sig)
                .unwrap_or_else(|e| panic!("{dir}: {mech:?}: {e}"));
            assert!(other.verify(&mech, imported, &data[1..], &sig).is_err());
        }
        for mech in [Mechanism::RsaPkcsOaep(oaep), Mechanism::RsaPkcs] {
            if maker_is_pz && !t.pz_decrypts(mech.mechanism_type()) {
                eprintln!("skip - RSA {mech:?} decryption in ProzHSM (not offered)");
                continue;
            }
            let secret = pattern(32, 0x99);
            let ct = other.encrypt(&mech, imported, &secret).expect("encrypt");
            let back = maker
                .decrypt(&mech, private, &ct)
                .unwrap_or_else(|e| panic!("{dir}: {mech:?} decrypt: {e}"));
            assert_eq!(back, secret, "{dir}: {mech:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Two tokens: ProzHSM (the test fixture) and SoftHSMv2, each fresh, each with
// a user session. Fields drop in order: sessions, then SoftHSMv2, then the
// fixture (which finalizes ProzHSM and lets the next test run).

struct Tokens {
    pz: Session,
    sh: Session,
    pz_slot: Slot,
    sh_slot: Slot,
    soft: SoftHsm,
    fixture: Fixture,
}

impl Tokens {
    fn new() -> Tokens {
        let fixture = Fixture::new();
        let pz_slot = fixture.init_token("differential");
        let pz = fixture.user_session(pz_slot);
        let soft = SoftHsm::new();
        let (sh_slot, sh) = soft.token();
        Tokens {
            pz,
            sh,
            pz_slot,
            sh_slot,
            soft,
            fixture,
        }
    }

    fn offers_pz(&self, m: MechanismType) -> bool {
        self.fixture
            .p11()
            .get_mechanism_list(self.pz_slot)
            .expect("mechanisms")
            .contains(&m)
    }

    /// ProzHSM lists `m` with CKF_DECRYPT.
    fn pz_decrypts(&self, m: MechanismType) -> bool {
        self.offers_pz(m)
            && self
                .fixture
                .p11()
                .get_mechanism_info(self.pz_slot, m)
                .map(|i| i.decrypt())
                .unwrap_or(false)
    }

    fn both_offer(&self, m: MechanismType) -> bool {
        self.offers_pz(m)
            && self
                .soft
                .p11()
                .get_mechanism_list(self.sh_slot)
                .expect("mechanisms")
                .contains(&m)
    }
}

struct SoftHsm {
    p11: Option<Pkcs11>,
    _dir: tempfile::TempDir,
}

impl SoftHsm {
    fn new() -> SoftHsm {
        assert!(
            Path::new(SOFTHSM).exists(),
            "{SOFTHSM} missing: install Debian's softhsm2 (scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("tokens")).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .expect("config");
        // ProzHSM reads PROZHSM_CONF first, so this leaves it alone.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let p11 = Pkcs11::new(SOFTHSM).expect("load SoftHSMv2");
        p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("SoftHSMv2 C_Initialize");
        SoftHsm {
            p11: Some(p11),
            _dir: dir,
        }
    }

    fn p11(&self) -> &Pkcs11 {
        self.p11.as_ref().expect("initialized")
    }

    fn token(&self) -> (Slot, Session) {
        let p = self.p11();
        let slot = *p.get_all_slots().expect("slots").last().expect("free slot");
        p.init_token(slot, &AuthPin::new(SO_PIN.into()), "differential")
            .expect("SoftHSMv2 C_InitToken");
        // SoftHSMv2 gives the new token a new slot ID.
        let slot = p
            .get_slots_with_initialized_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                p.get_token_info(*s)
                    .map(|i| i.label() == "differential")
                    .unwrap_or(false)
            })
            .expect("SoftHSMv2 token");
        let s = p.open_rw_session(slot).expect("open");
        s.login(UserType::So, Some(&AuthPin::new(SO_PIN.into())))
            .expect("SO login");
        s.init_pin(&AuthPin::new(USER_PIN.into()))
            .expect("C_InitPIN");
        s.logout().expect("logout");
        s.login(UserType::User, Some(&AuthPin::new(USER_PIN.into())))
            .expect("login");
        (slot, s)
    }
}

impl Drop for SoftHsm {
    fn drop(&mut self) {
        if let Some(p) = self.p11.take() {
            let _ = p.finalize();
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers.

fn aes_template(value: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Value(value.to_vec()),
    ]
}

fn aes_sign_template(value: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Sign(true),
        Attribute::Verify(true),
        Attribute::Value(value.to_vec()),
    ]
}

fn ec_pair(s: &Session, gen: &Mechanism, params: &[u8]) -> (ObjectHandle, ObjectHandle) {
    s.generate_key_pair(
        gen,
        &[
            Attribute::Token(false),
            Attribute::EcParams(params.to_vec()),
            Attribute::Verify(true),
        ],
        &[
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
        ],
    )
    .expect("C_GenerateKeyPair")
}

/// CKA_EC_POINT as the token gives it (a DER OCTET STRING).
fn ec_point(s: &Session, key: ObjectHandle) -> Vec<u8> {
    match s
        .get_attributes(key, &[AttributeType::EcPoint])
        .expect("attributes")
        .pop()
    {
        Some(Attribute::EcPoint(p)) => p,
        other => panic!("no CKA_EC_POINT: {other:?}"),
    }
}

/// The point inside the DER OCTET STRING (ECDH takes the raw point).
fn raw_point(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x04, "OCTET STRING");
    let skip = match der[1] {
        0x81 => 3,
        0x82 => 4,
        _ => 2,
    };
    der[skip..].to_vec()
}

fn import_ec_public(s: &Session, kt: KeyType, params: &[u8], point: &[u8]) -> ObjectHandle {
    s.create_object(&[
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(kt),
        Attribute::Token(false),
        Attribute::Verify(true),
        Attribute::EcParams(params.to_vec()),
        Attribute::EcPoint(point.to_vec()),
    ])
    .expect("C_CreateObject EC public key")
}

fn value(s: &Session, key: ObjectHandle) -> Vec<u8> {
    match s
        .get_attributes(key, &[AttributeType::Value])
        .expect("CKA_VALUE")
        .pop()
    {
        Some(Attribute::Value(v)) => v,
        other => panic!("no CKA_VALUE: {other:?}"),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
