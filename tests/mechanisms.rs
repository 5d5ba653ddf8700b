//! Cryptographic mechanisms through the C ABI, as a client sees them
//! (PKCS#11 3.0 §5.8–5.16): the built cdylib loaded with the `cryptoki`
//! crate, session objects only (CKA_TOKEN = FALSE), on a fresh token.

mod common;

use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use common::Fixture;

const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";

/// A fresh token and a user session on it. The fixture must outlive the
/// session.
fn session() -> (Fixture, Session) {
    let f = Fixture::new();
    let slot = f.init_token("mechanisms");
    let s = f.user_session(slot);
    (f, s)
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 error: {other}"),
    }
}

fn pair(
    s: &Session,
    gen: &Mechanism,
    params: &[u8],
    extra: &[Attribute],
) -> (ObjectHandle, ObjectHandle) {
    let public = [
        Attribute::Token(false),
        Attribute::EcParams(params.to_vec()),
        Attribute::Verify(true),
    ];
    let mut private = vec![
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ];
    // `extra` overrides: a template must not repeat an attribute.
    private.retain(|a| {
        !extra
            .iter()
            .any(|e| e.attribute_type() == a.attribute_type())
    });
    private.extend_from_slice(extra);
    s.generate_key_pair(gen, &public, &private)
        .expect("C_GenerateKeyPair")
}

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

#[test]
fn mechanism_list_and_info() {
    let f = Fixture::new();
    let slot = f.init_token("mechanisms");
    let list = f.p11().get_mechanism_list(slot).expect("list");
    for m in [
        MechanismType::ECDSA,
        MechanismType::ECDSA_SHA256,
        MechanismType::EDDSA,
        MechanismType::SHA256_HMAC,
        MechanismType::AES_GCM,
        MechanismType::SHA256,
    ] {
        assert!(list.contains(&m), "{m} listed");
    }
    let info = f
        .p11()
        .get_mechanism_info(slot, MechanismType::ECDSA)
        .expect("info");
    assert!(info.sign() && info.verify() && !info.encrypt());
    assert_eq!((info.min_key_size(), info.max_key_size()), (256, 521));
}

#[test]
fn ecdsa_on_every_curve() {
    let (_f, s) = session();
    for params in [P256, P384, P521, SECP256K1] {
        let (public, private) = pair(&s, &Mechanism::EccKeyPairGen, params, &[]);
        let point = ec_point(&s, public);
        // A DER OCTET STRING around an uncompressed point.
        assert_eq!(point[0], 0x04);
        let (len, body) = match point[1] {
            0x81 => (usize::from(point[2]), &point[3..]),
            n => (usize::from(n), &point[2..]),
        };
        assert_eq!(len, body.len());
        assert_eq!(body[0], 0x04, "uncompressed");
        let sig = s
            .sign(&Mechanism::EcdsaSha256, private, b"data")
            .expect("C_Sign");
        assert_eq!(sig.len() % 2, 0);
        s.verify(&Mechanism::EcdsaSha256, public, b"data", &sig)
            .expect("C_Verify");
        let err = s
            .verify(&Mechanism::EcdsaSha256, public, b"datA", &sig)
            .unwrap_err();
        assert_eq!(rv(err), RvError::SignatureInvalid);
        // Multi-part equals single-part.
        s.sign_init(&Mechanism::EcdsaSha384, private).expect("init");
        s.sign_update(b"da").expect("update");
        s.sign_update(b"ta").expect("update");
        let sig = s.sign_final().expect("final");
        s.verify(&Mechanism::EcdsaSha384, public, b"data", &sig)
            .expect("verifies");
    }
}

#[test]
fn ed25519_both_param_forms() {
    let (_f, s) = session();
    for params in [ED25519_OID, ED25519_NAME] {
        let (public, private) = pair(&s, &Mechanism::EccEdwardsKeyPairGen, params, &[]);
        let point = ec_point(&s, public);
        assert_eq!(&point[..2], &[0x04, 0x20], "OCTET STRING of 32 bytes");
        let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let sig = s.sign(&eddsa, private, b"message").expect("C_Sign");
        assert_eq!(sig.len(), 64);
        s.verify(&eddsa, public, b"message", &sig)
            .expect("C_Verify");
    }
}

/// An imported key (RFC 6979 A.2.5's P-256 pair) signs, and the vector's
/// signature verifies with the imported public key.
#[test]
fn imported_p256_key() {
    let (_f, s) = session();
    let hex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
            .collect()
    };
    let mut point = vec![0x04, 0x41, 0x04];
    point.extend(hex(
        "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
    ));
    point.extend(hex(
        "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
    ));
    let public = s
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::Token(false),
            Attribute::EcParams(P256.to_vec()),
            Attribute::EcPoint(point),
            Attribute::Verify(true),
        ])
        .expect("public key");
    let private = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Value(hex(
                "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
            )),
            Attribute::Sign(true),
        ])
        .expect("private key");
    let vector = hex(
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716\
         F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
    );
    s.verify(&Mechanism::EcdsaSha256, public, b"sample", &vector)
        .expect("vector");
    let sig = s
        .sign(&Mechanism::EcdsaSha256, private, b"sample")
        .expect("signs");
    s.verify(&Mechanism::EcdsaSha256, public, b"sample", &sig)
        .expect("verifies");

    // C_CreateObject refuses key material that is not what it claims: a
    // point off the curve, a scalar not below the order.
    let mut off_curve = vec![0x04, 0x41, 0x04];
    off_curve.extend([0x11; 64]);
    let bad_public = s.create_object(&[
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::EC),
        Attribute::Token(false),
        Attribute::EcParams(P256.to_vec()),
        Attribute::EcPoint(off_curve),
    ]);
    assert_eq!(rv(bad_public.unwrap_err()), RvError::AttributeValueInvalid);
    let bad_private = s.create_object(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::EC),
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::EcParams(P256.to_vec()),
        Attribute::Value(vec![0xff; 32]),
    ]);
    assert_eq!(rv(bad_private.unwrap_err()), RvError::AttributeValueInvalid);
}

#[test]
fn key_usage_is_enforced() {
    let (_f, s) = session();
    let (public, no_sign) = pair(
        &s,
        &Mechanism::EccKeyPairGen,
        P256,
        &[Attribute::Sign(false)],
    );
    let err = s.sign_init(&Mechanism::Ecdsa, no_sign).unwrap_err();
    assert_eq!(rv(err), RvError::KeyFunctionNotPermitted);
    // A public key cannot sign: wrong class.
    let err = s.sign_init(&Mechanism::Ecdsa, public).unwrap_err();
    assert_eq!(rv(err), RvError::KeyTypeInconsistent);
    // Edwards mechanism on an EC key.
    let (_, only_ecdsa) = pair(
        &s,
        &Mechanism::EccKeyPairGen,
        P256,
        &[Attribute::AllowedMechanisms(vec![MechanismType::ECDSA])],
    );
    let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    assert_eq!(
        rv(s.sign_init(&eddsa, only_ecdsa).unwrap_err()),
        RvError::KeyTypeInconsistent
    );
    let err = s
        .sign_init(&Mechanism::EcdsaSha256, only_ecdsa)
        .unwrap_err();
    assert_eq!(rv(err), RvError::MechanismInvalid);
    s.sign_init(&Mechanism::Ecdsa, only_ecdsa)
        .expect("listed mechanism");
    // One operation of a kind at a time; CKM_ECDSA is single-part.
    assert_eq!(
        rv(s.sign_init(&Mechanism::Ecdsa, only_ecdsa).unwrap_err()),
        RvError::OperationActive
    );
    assert_eq!(
        rv(s.sign_update(b"x").unwrap_err()),
        RvError::FunctionNotSupported
    );
    // The failed update ended the operation.
    assert_eq!(
        rv(s.sign_final().unwrap_err()),
        RvError::OperationNotInitialized
    );
    assert_eq!(
        rv(s.verify_final(&[0; 64]).unwrap_err()),
        RvError::OperationNotInitialized
    );
}

#[test]
fn digest_and_digest_key() {
    let (_f, s) = session();
    let want = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad,
    ];
    assert_eq!(
        s.digest(&Mechanism::Sha256, b"abc").expect("C_Digest"),
        want
    );
    let key = s
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Value(b"abc".to_vec()),
        ])
        .expect("secret key");
    s.digest_init(&Mechanism::Sha256).expect("init");
    s.digest_key(key).expect("C_DigestKey");
    assert_eq!(s.digest_final().expect("final"), want);
}

#[test]
fn hmac_and_aes() {
    let (_f, s) = session();
    let hmac_key = s
        .generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32.into()),
                Attribute::Sign(true),
                Attribute::Verify(true),
            ],
        )
        .expect("generic secret");
    let tag = s
        .sign(&Mechanism::Sha256Hmac, hmac_key, b"msg")
        .expect("HMAC");
    assert_eq!(tag.len(), 32);
    s.verify(&Mechanism::Sha256Hmac, hmac_key, b"msg", &tag)
        .expect("verifies");

    let aes = s
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32.into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ],
        )
        .expect("AES key");
    let mut iv = [3u8; 12];
    let gcm = Mechanism::AesGcm(GcmParams::new(&mut iv, b"aad", 128.into()).expect("params"));
    let ct = s.encrypt(&gcm, aes, b"plaintext").expect("encrypts");
    assert_eq!(ct.len(), 9 + 16);
    assert_eq!(s.decrypt(&gcm, aes, &ct).expect("decrypts"), b"plaintext");
    let cbc = Mechanism::AesCbcPad([5u8; 16]);
    let ct = s
        .encrypt(&cbc, aes, b"seventeen bytes!!")
        .expect("encrypts");
    assert_eq!(ct.len(), 32);
    assert_eq!(
        s.decrypt(&cbc, aes, &ct).expect("decrypts"),
        b"seventeen bytes!!"
    );
}

/// Two key pairs agree on a secret through CKM_ECDH1_DERIVE; the derived
/// AES keys encrypt and decrypt for each other.
#[test]
fn ecdh_derive_agrees() {
    use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
    let (_f, s) = session();
    let derive_pair = |extra: &[Attribute]| {
        let mut private = vec![Attribute::Derive(true)];
        private.extend_from_slice(extra);
        pair(&s, &Mechanism::EccKeyPairGen, P256, &private)
    };
    let (pub_a, priv_a) = derive_pair(&[]);
    let (pub_b, priv_b) = derive_pair(&[]);
    let template = [
        Attribute::Token(false),
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(16.into()),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
    ];
    let point_b = ec_point(&s, pub_b);
    let point_a = ec_point(&s, pub_a);
    let ka = s
        .derive_key(
            &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &point_b)),
            priv_a,
            &template,
        )
        .expect("A derives");
    let kb = s
        .derive_key(
            &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &point_a)),
            priv_b,
            &template,
        )
        .expect("B derives");
    let cbc = Mechanism::AesCbcPad([1u8; 16]);
    let ct = s.encrypt(&cbc, ka, b"agreed").expect("encrypts");
    assert_eq!(s.decrypt(&cbc, kb, &ct).expect("decrypts"), b"agreed");
    // A key without CKA_DERIVE cannot derive.
    let (_, no_derive) = pair(&s, &Mechanism::EccKeyPairGen, P256, &[]);
    let err = s
        .derive_key(
            &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &point_a)),
            no_derive,
            &template,
        )
        .unwrap_err();
    assert_eq!(rv(err), RvError::KeyFunctionNotPermitted);
}
