//! Wrapped keys between ProzHSM and others: private keys as PKCS #8 under
//! the padded AES key wrap, and blobs exchanged with `openssl enc
//! -id-aes256-wrap[-pad]` both ways (skipped without `openssl`).

mod common;
#[path = "common/keys.rs"]
mod keys;
#[path = "common/raw.rs"]
mod raw;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki_sys::*;

use keys::*;
use raw::{b, oh, rv, u, v, Client, Mech};

/// Interoperability with OpenSSL's key wrap (`openssl enc -id-aes256-wrap`
/// and `-id-aes256-wrap-pad`), both ways. Skipped without `openssl`.
#[test]
fn openssl_interop() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl not found: skipped");
        return;
    }
    let (f, s) = token(STRICT);
    let c = Client::of(&s);
    let kek_value: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5c).collect();
    let key_value: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(11) ^ 0xa3).collect();
    let kek_hex = hex(&kek_value);
    let k = created_aes(&c, &kek_value, vec![b(CKA_WRAP, true), b(CKA_UNWRAP, true)]);
    let t = created_aes(
        &c,
        &key_value,
        vec![
            b(CKA_EXTRACTABLE, true),
            b(CKA_SENSITIVE, false),
            b(CKA_ENCRYPT, true),
        ],
    );
    let dir = f.dir.path();
    for (mech, cipher, iv) in [
        (KWP, "-id-aes256-wrap-pad", "A65959A6"),
        (KW, "-id-aes256-wrap", "A6A6A6A6A6A6A6A6"),
    ] {
        // Token → OpenSSL.
        let blob = c.wrap(Mech::none(mech), k, t).expect("wraps");
        std::fs::write(dir.join("blob"), &blob).expect("write");
        let plain = openssl(
            &["enc", "-d", cipher, "-K", &kek_hex, "-iv", iv, "-in"],
            &dir.join("blob"),
        );
        assert_eq!(
            plain, key_value,
            "{cipher}: OpenSSL unwraps the token's blob"
        );
        // OpenSSL → token.
        std::fs::write(dir.join("key"), &key_value).expect("write");
        let blob = openssl(
            &["enc", "-e", cipher, "-K", &kek_hex, "-iv", iv, "-in"],
            &dir.join("key"),
        );
        let new = c
            .unwrap(Mech::none(mech), k, &blob, &aes_template(vec![]))
            .expect("the token unwraps OpenSSL's blob");
        assert!(same_key(&s, t, new), "{cipher}");
    }
}

/// Private keys travel as PKCS #8 under the padded key wrap.
#[test]
fn private_keys_as_pkcs8() {
    for config in [STRICT, SOFTHSM] {
        let (_f, s) = token(config);
        let c = Client::of(&s);
        let k = kek(&c, 32);
        for (params, key_type) in [(P256, CKK_EC), (ED25519, CKK_EC_EDWARDS)] {
            let (public, private) = key_pair(&s, params, true);
            if key_type == CKK_EC {
                // 67 bytes: only the padded mode takes them (Ed25519's
                // PKCS #8 is 48).
                assert_eq!(rv(c.wrap(Mech::none(KW), k, private)), CKR_KEY_SIZE_RANGE);
            }
            let blob = c.wrap(Mech::none(KWP), k, private).expect("wraps");
            let other = if key_type == CKK_EC {
                CKK_EC_EDWARDS
            } else {
                CKK_EC
            };
            assert_eq!(
                rv(c.unwrap(Mech::none(KWP), k, &blob, &private_template(other, vec![]))),
                CKR_TEMPLATE_INCONSISTENT
            );
            let given_params = private_template(key_type, vec![v(CKA_EC_PARAMS, params)]);
            assert_eq!(
                rv(c.unwrap(Mech::none(KWP), k, &blob, &given_params)),
                CKR_ATTRIBUTE_READ_ONLY
            );
            let new = c
                .unwrap(
                    Mech::none(KWP),
                    k,
                    &blob,
                    &private_template(key_type, vec![]),
                )
                .expect("unwraps");
            assert_eq!(c.get(new, CKA_EC_PARAMS), Ok(params.to_vec()));
            assert!(!c.get_bool(new, CKA_LOCAL));
            let sig = s
                .sign(&sign_mech(params), oh(new), b"message")
                .expect("signs");
            s.verify(&sign_mech(params), oh(public), b"message", &sig)
                .expect("the original public key verifies");
        }
        // RSA keys too (PKCS #1 inside PKCS #8).
        let (public, private) = s
            .generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[
                    Attribute::Token(false),
                    Attribute::ModulusBits(2048.into()),
                    Attribute::Verify(true),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Sign(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(true),
                ],
            )
            .expect("RSA pair");
        let blob = c.wrap(Mech::none(KWP), k, private.handle()).expect("wraps");
        let new = c
            .unwrap(
                Mech::none(KWP),
                k,
                &blob,
                &private_template(CKK_RSA, vec![]),
            )
            .expect("unwraps");
        assert_eq!(c.get(new, CKA_MODULUS), c.get(public.handle(), CKA_MODULUS));
        let sig = s
            .sign(&Mechanism::Sha256RsaPkcs, oh(new), b"message")
            .expect("signs");
        s.verify(&Mechanism::Sha256RsaPkcs, public, b"message", &sig)
            .expect("the original public key verifies");
        // No P-521 key (256-bit strength) under AES-128 in `strict`.
        let (_, p521) = key_pair(&s, P521, true);
        let r = c.wrap(Mech::none(KWP), kek(&c, 16), p521);
        let want = if config == STRICT {
            CKR_WRAPPING_KEY_SIZE_RANGE
        } else {
            CKR_OK
        };
        assert_eq!(rv(r), want);
    }
}

/// PKCS #8 blobs interoperate with OpenSSL both ways: OpenSSL reads the
/// token's wrapped EC and Ed25519 keys, and the token signs with keys
/// OpenSSL generated and wrapped.
#[test]
fn openssl_pkcs8_interop() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl not found: skipped");
        return;
    }
    let (f, s) = token(STRICT);
    let c = Client::of(&s);
    let dir = f.dir.path();
    let kek_value = [0x3cu8; 32];
    let kek_hex = hex(&kek_value);
    let k = created_aes(&c, &kek_value, vec![b(CKA_WRAP, true), b(CKA_UNWRAP, true)]);
    let wrap_pad = [
        "-id-aes256-wrap-pad",
        "-K",
        &kek_hex,
        "-iv",
        "A65959A6",
        "-in",
    ];
    for (params, key_type, point_len, genpkey) in [
        (
            P256,
            CKK_EC,
            65,
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (ED25519, CKK_EC_EDWARDS, 32, vec!["-algorithm", "ed25519"]),
    ] {
        // Token → OpenSSL: the public key OpenSSL derives is the token's.
        // (Readable keys only: the KEK's value was given in clear.)
        let (public, private) = key_pair(&s, params, false);
        let blob = c.wrap(Mech::none(KWP), k, private).expect("wraps");
        std::fs::write(dir.join("blob"), &blob).expect("write");
        let mut args = vec!["enc", "-d"];
        args.extend(wrap_pad);
        let p8 = openssl(&args, &dir.join("blob"));
        std::fs::write(dir.join("p8"), &p8).expect("write");
        let spki = openssl(
            &[
                "pkey", "-inform", "DER", "-pubout", "-outform", "DER", "-in",
            ],
            &dir.join("p8"),
        );
        let point = c.get(public, CKA_EC_POINT).expect("point");
        assert_eq!(point[2..], spki[spki.len() - point_len..], "{key_type:#x}");

        // OpenSSL → token: sign with the unwrapped key, verify with the
        // public key OpenSSL gives.
        let mut args = vec!["genpkey"];
        args.extend(genpkey.iter().copied());
        args.extend(["-outform", "DER", "-out"]);
        openssl(&args, &dir.join("gen"));
        // (genpkey's DER is SEC 1's ECPrivateKey for EC keys.)
        let p8 = openssl(
            &[
                "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-outform", "DER", "-in",
            ],
            &dir.join("gen"),
        );
        std::fs::write(dir.join("gen8"), &p8).expect("write");
        let spki = openssl(
            &[
                "pkey", "-inform", "DER", "-pubout", "-outform", "DER", "-in",
            ],
            &dir.join("gen8"),
        );
        let mut args = vec!["enc", "-e"];
        args.extend(wrap_pad);
        let blob = openssl(&args, &dir.join("gen8"));
        let new = c
            .unwrap(
                Mech::none(KWP),
                k,
                &blob,
                &private_template(key_type, vec![]),
            )
            .expect("the token unwraps OpenSSL's key");
        let mut ec_point = vec![0x04, point_len as u8];
        ec_point.extend_from_slice(&spki[spki.len() - point_len..]);
        let verifier = c
            .create(&[
                u(CKA_CLASS, CKO_PUBLIC_KEY),
                u(CKA_KEY_TYPE, key_type),
                b(CKA_TOKEN, false),
                v(CKA_EC_PARAMS, params),
                v(CKA_EC_POINT, &ec_point),
                b(CKA_VERIFY, true),
            ])
            .expect("OpenSSL's public key");
        let sig = s
            .sign(&sign_mech(params), oh(new), b"message")
            .expect("signs");
        s.verify(&sign_mech(params), oh(verifier), b"message", &sig)
            .expect("verifies");
    }

    // RSA: OpenSSL's key comes back with its modulus, and OpenSSL reads
    // the token's.
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-outform",
            "DER",
            "-out",
        ],
        &dir.join("rsa"),
    );
    let modulus_of = |file: &str| {
        let out = openssl(
            &["rsa", "-inform", "DER", "-noout", "-modulus", "-in"],
            &dir.join(file),
        );
        let text = String::from_utf8(out).expect("text");
        text.trim()
            .trim_start_matches("Modulus=")
            .to_ascii_lowercase()
    };
    let p8 = openssl(
        &[
            "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-outform", "DER", "-in",
        ],
        &dir.join("rsa"),
    );
    std::fs::write(dir.join("rsa8"), &p8).expect("write");
    let mut args = vec!["enc", "-e"];
    args.extend(wrap_pad);
    let blob = openssl(&args, &dir.join("rsa8"));
    let new = c
        .unwrap(
            Mech::none(KWP),
            k,
            &blob,
            &private_template(CKK_RSA, vec![]),
        )
        .expect("the token unwraps OpenSSL's RSA key");
    assert_eq!(hex(&c.get(new, CKA_MODULUS).expect("n")), modulus_of("rsa"));
    let back = c
        .wrap(Mech::none(KWP), k, new)
        .expect_err("unwrapped keys are sensitive and were not made extractable");
    assert_eq!(back, CKR_KEY_UNEXTRACTABLE);
    let (public, private) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[Attribute::Token(false), Attribute::ModulusBits(2048.into())],
            &[
                Attribute::Token(false),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .expect("RSA pair");
    let blob = c.wrap(Mech::none(KWP), k, private.handle()).expect("wraps");
    std::fs::write(dir.join("rsa_blob"), &blob).expect("write");
    let mut args = vec!["enc", "-d"];
    args.extend(wrap_pad);
    let p8 = openssl(&args, &dir.join("rsa_blob"));
    std::fs::write(dir.join("rsa_token"), &p8).expect("write");
    let n = c.get(public.handle(), CKA_MODULUS).expect("n");
    assert_eq!(modulus_of("rsa_token"), hex(&n));
}
