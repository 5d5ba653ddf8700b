//! C_WrapKey and C_UnwrapKey through the C ABI (PKCS#11 3.0 §5.18): the
//! AES key-wrap mechanisms, the spec's wrapping rules, and the
//! key-management hardening of the `strict` profile against the relaxed
//! `softhsm` one — each rule with its return code in both. Also the other
//! hardening rules of issue 3 a client can observe, and pkcs11-tool's
//! default key templates. Private keys and OpenSSL: `wrap_interop.rs`.

mod common;
#[path = "common/keys.rs"]
mod keys;
#[path = "common/raw.rs"]
mod raw;

use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki_sys::*;

use common::{pin, Fixture, SO_PIN};
use keys::*;
use raw::{b, oh, rv, u, v, Client, Mech, A};

#[test]
fn round_trips() {
    let (_f, s) = token(STRICT);
    let c = Client::of(&s);
    let k = kek(&c, 32);
    let t = target(&c, 16, true);
    for mech in [KW, KWP, CKM_AES_KEY_WRAP_KWP] {
        let blob = c.wrap(Mech::none(mech), k, t).expect("C_WrapKey");
        assert_eq!(blob.len(), 24);
        let new = c
            .unwrap(Mech::none(mech), k, &blob, &aes_template(vec![]))
            .expect("C_UnwrapKey");
        assert!(same_key(&s, t, new));
        // Computed by the token, whatever the template.
        assert!(!c.get_bool(new, CKA_LOCAL));
        assert!(!c.get_bool(new, CKA_ALWAYS_SENSITIVE));
        assert!(!c.get_bool(new, CKA_NEVER_EXTRACTABLE));
        assert_eq!(
            c.get_ulong(new, CKA_KEY_GEN_MECHANISM),
            CK_UNAVAILABLE_INFORMATION
        );
        assert_eq!(c.get_ulong(new, CKA_VALUE_LEN), 16);
        // Under `strict` an unwrapped key is sensitive.
        assert!(c.get_bool(new, CKA_SENSITIVE));
    }
    // The RFC's initial value may be named.
    let blob = c
        .wrap(Mech::bytes(KW, &[0xa6; 8]), k, t)
        .expect("explicit IV");
    assert_eq!(
        rv(c.wrap(Mech::bytes(KW, &[0xa5; 8]), k, t)),
        CKR_MECHANISM_PARAM_INVALID
    );
    assert_eq!(
        rv(c.unwrap(
            Mech::bytes(KWP, &[0xa6, 0x59, 0x59, 0xa6]),
            k,
            &blob,
            &aes_template(vec![])
        )),
        CKR_WRAPPED_KEY_INVALID
    );

    // A 20-byte secret: only the padded mode wraps it.
    let g = c
        .generate(
            Mech::none(CKM_GENERIC_SECRET_KEY_GEN),
            &[
                b(CKA_TOKEN, false),
                u(CKA_VALUE_LEN, 20),
                b(CKA_SENSITIVE, true),
                b(CKA_EXTRACTABLE, true),
            ],
        )
        .expect("generic secret");
    assert_eq!(rv(c.wrap(Mech::none(KW), k, g)), CKR_KEY_SIZE_RANGE);
    let blob = c.wrap(Mech::none(KWP), k, g).expect("padded");
    assert_eq!(blob.len(), 32);
    let generic = |len: Option<CK_ULONG>| {
        let mut t = vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            b(CKA_TOKEN, false),
        ];
        t.extend(len.map(|n| u(CKA_VALUE_LEN, n)));
        t
    };
    let new = c
        .unwrap(Mech::none(KWP), k, &blob, &generic(None))
        .expect("unwraps");
    assert_eq!(c.get_ulong(new, CKA_VALUE_LEN), 20);
    assert_eq!(
        rv(c.unwrap(Mech::none(KWP), k, &blob, &generic(Some(16)))),
        CKR_WRAPPED_KEY_LEN_RANGE
    );
    assert_eq!(
        rv(c.unwrap(Mech::none(KWP), k, &blob, &aes_template(vec![]))),
        CKR_WRAPPED_KEY_LEN_RANGE
    );

    // Two-call convention.
    assert_eq!(
        c.wrap_into(Mech::none(KW), k, t, 10),
        (CKR_BUFFER_TOO_SMALL, 24)
    );
    assert_eq!(c.wrap_into(Mech::none(KW), k, t, 40), (CKR_OK, 24));
}

/// The spec's rules hold, with the same codes, in both profiles.
#[test]
fn spec_rules_in_both_profiles() {
    for config in [STRICT, SOFTHSM] {
        let (_f, s) = token(config);
        let c = Client::of(&s);
        let k = kek(&c, 32);
        let t = target(&c, 16, true);
        let blob = c.wrap(Mech::none(KW), k, t).expect("wraps");
        let none = || Mech::none(KW);

        // The wrapping key's usage attribute.
        let plain = aes(&c, 32, vec![b(CKA_WRAP, false), b(CKA_UNWRAP, false)]);
        assert_eq!(rv(c.wrap(none(), plain, t)), CKR_KEY_FUNCTION_NOT_PERMITTED);
        assert_eq!(
            rv(c.unwrap(none(), plain, &blob, &aes_template(vec![]))),
            CKR_KEY_FUNCTION_NOT_PERMITTED
        );
        // Handles and types.
        assert_eq!(
            rv(c.wrap(none(), 0xdead, t)),
            CKR_WRAPPING_KEY_HANDLE_INVALID
        );
        assert_eq!(rv(c.wrap(none(), k, 0xdead)), CKR_KEY_HANDLE_INVALID);
        assert_eq!(
            rv(c.unwrap(none(), 0xdead, &blob, &aes_template(vec![]))),
            CKR_UNWRAPPING_KEY_HANDLE_INVALID
        );
        let hmac = c
            .generate(
                Mech::none(CKM_GENERIC_SECRET_KEY_GEN),
                &[
                    b(CKA_TOKEN, false),
                    u(CKA_VALUE_LEN, 32),
                    b(CKA_WRAP, true),
                    b(CKA_UNWRAP, true),
                ],
            )
            .expect("generic");
        assert_eq!(
            rv(c.wrap(none(), hmac, t)),
            CKR_WRAPPING_KEY_TYPE_INCONSISTENT
        );
        assert_eq!(
            rv(c.unwrap(none(), hmac, &blob, &aes_template(vec![]))),
            CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT
        );
        let data = c
            .create(&[
                u(CKA_CLASS, CKO_DATA),
                b(CKA_TOKEN, false),
                v(CKA_VALUE, b"x"),
            ])
            .expect("data");
        assert_eq!(rv(c.wrap(none(), k, data)), CKR_KEY_HANDLE_INVALID);
        // What may be wrapped.
        let locked = target_with(&c, vec![b(CKA_EXTRACTABLE, false)]);
        assert_eq!(rv(c.wrap(none(), k, locked)), CKR_KEY_UNEXTRACTABLE);
        let needs_trust = target_with(
            &c,
            vec![b(CKA_EXTRACTABLE, true), b(CKA_WRAP_WITH_TRUSTED, true)],
        );
        assert_eq!(rv(c.wrap(none(), k, needs_trust)), CKR_KEY_NOT_WRAPPABLE);
        let (public, _) = s
            .generate_key_pair(
                &Mechanism::EccKeyPairGen,
                &[Attribute::Token(false), Attribute::EcParams(P256.to_vec())],
                &[Attribute::Token(false)],
            )
            .expect("EC pair");
        assert_eq!(
            rv(c.wrap(none(), k, public.handle())),
            CKR_KEY_NOT_WRAPPABLE
        );

        // CKA_WRAP_TEMPLATE: the key to be wrapped must match it.
        let only_generic = aes(
            &c,
            32,
            vec![
                b(CKA_WRAP, true),
                A::T(CKA_WRAP_TEMPLATE, vec![u(CKA_KEY_TYPE, CKK_GENERIC_SECRET)]),
            ],
        );
        assert_eq!(rv(c.wrap(none(), only_generic, t)), CKR_KEY_HANDLE_INVALID);
        let g = c
            .generate(
                Mech::none(CKM_GENERIC_SECRET_KEY_GEN),
                &[
                    b(CKA_TOKEN, false),
                    u(CKA_VALUE_LEN, 32),
                    b(CKA_EXTRACTABLE, true),
                ],
            )
            .expect("generic");
        assert_eq!(rv(c.wrap(none(), only_generic, g)), CKR_OK);

        // CKA_UNWRAP_TEMPLATE: added to the template, conflicts refused.
        let fixed = aes(
            &c,
            32,
            vec![
                b(CKA_WRAP, true),
                b(CKA_UNWRAP, true),
                A::T(
                    CKA_UNWRAP_TEMPLATE,
                    vec![b(CKA_EXTRACTABLE, false), b(CKA_SIGN, false)],
                ),
            ],
        );
        let from = c.wrap(none(), fixed, t).expect("wraps");
        assert_eq!(
            rv(c.unwrap(
                none(),
                fixed,
                &from,
                &aes_template(vec![b(CKA_EXTRACTABLE, true)])
            )),
            CKR_TEMPLATE_INCONSISTENT
        );
        let new = c
            .unwrap(none(), fixed, &from, &aes_template(vec![]))
            .expect("unwraps");
        assert!(!c.get_bool(new, CKA_EXTRACTABLE) && !c.get_bool(new, CKA_SIGN));
        // A blob opens only under its own key.
        assert_eq!(
            rv(c.unwrap(none(), fixed, &blob, &aes_template(vec![]))),
            CKR_WRAPPED_KEY_INVALID
        );
        // Templates: class and key type required; token-computed
        // attributes only with the token's value.
        let partial = [u(CKA_CLASS, CKO_SECRET_KEY), b(CKA_TOKEN, false)];
        assert_eq!(
            rv(c.unwrap(none(), k, &blob, &partial)),
            CKR_TEMPLATE_INCOMPLETE
        );
        let partial = [u(CKA_KEY_TYPE, CKK_AES), b(CKA_TOKEN, false)];
        assert_eq!(
            rv(c.unwrap(none(), k, &blob, &partial)),
            CKR_TEMPLATE_INCOMPLETE
        );
        for computed in [
            b(CKA_LOCAL, true),
            b(CKA_ALWAYS_SENSITIVE, true),
            b(CKA_NEVER_EXTRACTABLE, true),
        ] {
            assert_eq!(
                rv(c.unwrap(none(), k, &blob, &aes_template(vec![computed]))),
                CKR_ATTRIBUTE_READ_ONLY
            );
        }
        assert_eq!(
            rv(c.unwrap(none(), k, &blob, &aes_template(vec![b(CKA_LOCAL, false)]))),
            CKR_OK
        );
        // The blob.
        let mut bad = blob.clone();
        bad[3] ^= 1;
        assert_eq!(
            rv(c.unwrap(none(), k, &bad, &aes_template(vec![]))),
            CKR_WRAPPED_KEY_INVALID
        );
        assert_eq!(
            rv(c.unwrap(none(), k, &blob[..16], &aes_template(vec![]))),
            CKR_WRAPPED_KEY_LEN_RANGE
        );
    }
}

/// The hardening rules: refused under `strict` with their codes, allowed
/// under `softhsm`.
#[test]
fn hardening_rules_by_profile() {
    for (config, strict) in [(STRICT, true), (SOFTHSM, false)] {
        let (_f, s) = token(config);
        let c = Client::of(&s);
        let expect = |code: CK_RV| if strict { code } else { CKR_OK };
        let k = kek(&c, 32);
        let sensitive = target(&c, 16, true);
        let readable = target(&c, 16, false);

        // allow_wrap_with_decrypt_keys: a KEK that can also decrypt.
        let both = aes(
            &c,
            32,
            vec![
                b(CKA_WRAP, true),
                b(CKA_UNWRAP, true),
                b(CKA_ENCRYPT, true),
                b(CKA_DECRYPT, true),
            ],
        );
        assert_eq!(
            rv(c.wrap(Mech::none(KW), both, sensitive)),
            expect(CKR_KEY_FUNCTION_NOT_PERMITTED)
        );
        let blob = c
            .wrap(Mech::none(KW), both, readable)
            .expect("a readable key");
        assert_eq!(
            rv(c.unwrap(Mech::none(KW), both, &blob, &aes_template(vec![]))),
            expect(CKR_KEY_FUNCTION_NOT_PERMITTED)
        );
        // ... an unwrapped key cannot be made readable (pkcs11-tool's
        // `--unwrap` template, neither sensitive nor extractable, is fine) ...
        let blob = c.wrap(Mech::none(KW), k, sensitive).expect("wraps");
        let tool_t = aes_template(vec![b(CKA_SENSITIVE, false), b(CKA_EXTRACTABLE, false)]);
        let copy = c
            .unwrap(Mech::none(KW), k, &blob, &tool_t)
            .expect("unwraps");
        assert_eq!(rv(c.get(copy, CKA_VALUE)), CKR_ATTRIBUTE_SENSITIVE);
        let blob = c.wrap(Mech::none(KW), k, sensitive).expect("wraps");
        let readable_t = aes_template(vec![b(CKA_SENSITIVE, false), b(CKA_EXTRACTABLE, true)]);
        let r = c.unwrap(Mech::none(KW), k, &blob, &readable_t);
        assert_eq!(rv(r), expect(CKR_TEMPLATE_INCONSISTENT));
        if let Ok(copy) = r {
            assert_eq!(c.get(copy, CKA_VALUE).map(|v| v.len()), Ok(16));
        }
        // ... and a key-wrapping key is never extractable, so never
        // wrapped: otherwise its roles could be laundered (switch CKA_WRAP
        // off, wrap it, unwrap the copy with CKA_DECRYPT).
        let inner_kek_template = [
            b(CKA_TOKEN, false),
            u(CKA_VALUE_LEN, 16),
            b(CKA_WRAP, true),
            b(CKA_SENSITIVE, true),
            b(CKA_EXTRACTABLE, true),
        ];
        let inner_kek = c.generate(aes_gen(), &inner_kek_template);
        assert_eq!(rv(inner_kek), expect(CKR_TEMPLATE_INCONSISTENT));
        if let Ok(inner_kek) = inner_kek {
            assert_eq!(rv(c.wrap(Mech::none(KW), k, inner_kek)), CKR_OK);
        }
        // Nor can an extractable key be given CKA_WRAP later.
        let r = c.set(readable, &[b(CKA_WRAP, true)]);
        assert_eq!(rv(r), expect(CKR_TEMPLATE_INCONSISTENT));

        // allow_untrusted_wrapping_keys: a KEK given in clear.
        let known = created_aes(&c, &[7u8; 32], vec![b(CKA_WRAP, true), b(CKA_UNWRAP, true)]);
        assert!(!c.get_bool(known, CKA_LOCAL));
        assert_eq!(
            rv(c.wrap(Mech::none(KW), known, sensitive)),
            expect(CKR_KEY_NOT_WRAPPABLE)
        );
        assert_eq!(rv(c.wrap(Mech::none(KW), known, readable)), CKR_OK);

        // allow_weak_wrapping: AES-256 under AES-128, both ways.
        let k128 = kek(&c, 16);
        let t256 = target(&c, 32, true);
        assert_eq!(
            rv(c.wrap(Mech::none(KW), k128, t256)),
            expect(CKR_WRAPPING_KEY_SIZE_RANGE)
        );
        assert_eq!(
            rv(c.wrap(Mech::none(KW), k128, target(&c, 32, false))),
            expect(CKR_WRAPPING_KEY_SIZE_RANGE)
        );
        let known128 = created_aes(&c, &[9u8; 16], vec![b(CKA_UNWRAP, true)]);
        let blob256 = prozhsm::mechanisms::wrap::kw_wrap(&[9u8; 16], &[3u8; 32]).expect("wraps");
        assert_eq!(
            rv(c.unwrap(Mech::none(KW), known128, &blob256, &aes_template(vec![]))),
            expect(CKR_UNWRAPPING_KEY_SIZE_RANGE)
        );
        // ... and SoftHSMv2's unauthenticated CBC wrap.
        let cbc = Mech::bytes(CKM_AES_CBC, &[0u8; 16]);
        let r = c.wrap(cbc, k, sensitive);
        assert_eq!(rv(r.clone()), expect(CKR_MECHANISM_INVALID));
        if let Ok(blob) = r {
            assert_eq!(blob.len(), 16);
        }
    }
}

/// The other rules of issue 3 a client can see, in both profiles.
#[test]
fn other_hardening_rules() {
    for config in [STRICT, SOFTHSM] {
        let (_f, s) = token(config);
        let c = Client::of(&s);
        // AES-GCM tags under 96 bits.
        let key = target(&c, 16, true);
        let mut iv = [0u8; 12];
        for (bits, code) in [
            (32, CKR_MECHANISM_PARAM_INVALID),
            (64, CKR_MECHANISM_PARAM_INVALID),
            (88, CKR_MECHANISM_PARAM_INVALID),
            (96, CKR_OK),
            (112, CKR_OK),
            (128, CKR_OK),
        ] {
            let gcm = GcmParams::new(&mut iv, b"", (bits as CK_ULONG).into()).expect("params");
            let r = s.encrypt(&Mechanism::AesGcm(gcm), oh(key), b"data");
            assert_eq!(r.is_ok(), code == CKR_OK, "{bits}-bit tag");
            if code != CKR_OK {
                assert_eq!(
                    common::code(r),
                    cryptoki::error::RvError::MechanismParamInvalid
                );
            }
        }
        // Keys of invalid length.
        let bad = [
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_AES),
            b(CKA_TOKEN, false),
            v(CKA_VALUE, &[1u8; 20]),
        ];
        assert_eq!(rv(c.create(&bad)), CKR_ATTRIBUTE_VALUE_INVALID);
        assert_eq!(
            rv(c.generate(aes_gen(), &[b(CKA_TOKEN, false), u(CKA_VALUE_LEN, 20)])),
            CKR_KEY_SIZE_RANGE
        );
        // C_FindObjects never matches on key material, sensitive or not.
        for sensitive in [true, false] {
            let value = [sensitive as u8 + 0x40; 16];
            let _key = created_aes(
                &c,
                &value,
                vec![
                    b(CKA_SENSITIVE, sensitive),
                    b(CKA_EXTRACTABLE, true),
                    v(CKA_LABEL, b"find me"),
                ],
            );
            let by_value = c.find(&[u(CKA_CLASS, CKO_SECRET_KEY), v(CKA_VALUE, &value)]);
            assert!(by_value.is_empty(), "matched on CKA_VALUE");
        }
        assert_eq!(c.find(&[v(CKA_LABEL, b"find me")]).len(), 2);
        // CKA_TRUSTED is the SO's to set.
        let trusted = [
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_AES),
            b(CKA_TOKEN, false),
            v(CKA_VALUE, &[1u8; 16]),
            b(CKA_TRUSTED, true),
        ];
        assert_eq!(rv(c.create(&trusted)), CKR_ATTRIBUTE_READ_ONLY);
        let k = kek(&c, 32);
        assert_eq!(
            rv(c.set(k, &[b(CKA_TRUSTED, true)])),
            CKR_ATTRIBUTE_READ_ONLY
        );
    }
}

/// A key the SO marked CKA_TRUSTED wraps keys that ask for one
/// (CKA_WRAP_WITH_TRUSTED), and — though its value was given in clear —
/// sensitive keys under `strict`.
#[test]
fn trusted_wrapping_keys() {
    let f = Fixture::new();
    let slot = f.init_token("trusted");
    {
        let so = f.p11().open_rw_session(slot).expect("open");
        so.login(UserType::So, Some(&pin(SO_PIN)))
            .expect("SO login");
        so.create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Value(vec![5u8; 32]),
            Attribute::Wrap(true),
            Attribute::Trusted(true),
            Attribute::Label(b"trusted kek".to_vec()),
        ])
        .expect("the SO sets CKA_TRUSTED");
        so.logout().expect("logout");
    }
    let s = f.user_session(slot);
    let c = Client::of(&s);
    let tk = c.find(&[v(CKA_LABEL, b"trusted kek")])[0];
    assert!(c.get_bool(tk, CKA_TRUSTED));
    assert!(!c.get_bool(tk, CKA_LOCAL));
    let t = target_with(
        &c,
        vec![b(CKA_EXTRACTABLE, true), b(CKA_WRAP_WITH_TRUSTED, true)],
    );
    let blob = c.wrap(Mech::none(KWP), tk, t).expect("under a trusted key");
    assert_eq!(blob.len(), 24);
    let untrusted = kek(&c, 32);
    assert_eq!(
        rv(c.wrap(Mech::none(KWP), untrusted, t)),
        CKR_KEY_NOT_WRAPPABLE
    );
}

/// pkcs11-tool 0.23's default `--keygen` and `--keypairgen` templates (as
/// pkcs11-spy records them) make keys that do their work under `strict`;
/// `--usage-wrap` makes a key that wraps.
#[test]
fn pkcs11_tool_default_keys() {
    let (_f, s) = token(STRICT);
    let c = Client::of(&s);
    let keygen = |key_type: CK_KEY_TYPE, len: CK_ULONG, usage: Vec<A>| {
        let mut t = vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            b(CKA_TOKEN, true),
            u(CKA_KEY_TYPE, key_type),
            b(CKA_SENSITIVE, false),
            b(CKA_EXTRACTABLE, false),
            b(CKA_PRIVATE, false),
        ];
        t.extend(usage);
        t.push(u(CKA_VALUE_LEN, len));
        t.push(v(CKA_LABEL, b"k1"));
        let mech = if key_type == CKK_AES {
            CKM_AES_KEY_GEN
        } else {
            CKM_GENERIC_SECRET_KEY_GEN
        };
        c.generate(Mech::none(mech), &t)
            .expect("pkcs11-tool --keygen")
    };
    let data_usage = || vec![b(CKA_ENCRYPT, true), b(CKA_DECRYPT, true)];
    // --keygen --key-type AES:32: encrypt and decrypt, and CMAC.
    let k = keygen(CKK_AES, 32, data_usage());
    let iv = [1u8; 16];
    let ct = s
        .encrypt(&Mechanism::AesCbcPad(iv), oh(k), b"some data")
        .expect("encrypt");
    assert_eq!(
        s.decrypt(&Mechanism::AesCbcPad(iv), oh(k), &ct)
            .expect("decrypt"),
        b"some data"
    );
    let mac = s.sign(&Mechanism::AesCMac, oh(k), b"data").expect("CMAC");
    s.verify(&Mechanism::AesCMac, oh(k), b"data", &mac)
        .expect("verifies");
    // --keygen --key-type GENERIC:32: HMAC.
    let g = keygen(CKK_GENERIC_SECRET, 32, data_usage());
    let mac = s
        .sign(&Mechanism::Sha256Hmac, oh(g), b"data")
        .expect("HMAC");
    s.verify(&Mechanism::Sha256Hmac, oh(g), b"data", &mac)
        .expect("verifies");
    // --keypairgen --key-type EC:prime256v1.
    let (public, private) = s
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::Derive(true),
                Attribute::EcParams(P256.to_vec()),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(b"e1".to_vec()),
                Attribute::Private(false),
            ],
            &[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Derive(true),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(b"e1".to_vec()),
            ],
        )
        .expect("pkcs11-tool --keypairgen");
    let sig = s
        .sign(&Mechanism::EcdsaSha256, private, b"data")
        .expect("sign");
    s.verify(&Mechanism::EcdsaSha256, public, b"data", &sig)
        .expect("verify");
    // --keygen --key-type AES:32 --usage-wrap, and a key made with
    // --extractable --sensitive: the first wraps the second.
    let w = keygen(CKK_AES, 32, vec![b(CKA_WRAP, true), b(CKA_UNWRAP, true)]);
    assert!(!c.get_bool(w, CKA_ENCRYPT) && !c.get_bool(w, CKA_DECRYPT));
    let t = c
        .generate(
            aes_gen(),
            &[
                u(CKA_CLASS, CKO_SECRET_KEY),
                b(CKA_TOKEN, true),
                u(CKA_KEY_TYPE, CKK_AES),
                b(CKA_SENSITIVE, true),
                b(CKA_EXTRACTABLE, true),
                b(CKA_PRIVATE, false),
                b(CKA_ENCRYPT, true),
                b(CKA_DECRYPT, true),
                u(CKA_VALUE_LEN, 16),
            ],
        )
        .expect("--extractable --sensitive");
    let blob = c.wrap(Mech::none(KWP), w, t).expect("wraps");
    let back = c
        .unwrap(Mech::none(KWP), w, &blob, &aes_template(vec![]))
        .expect("unwraps");
    assert!(same_key(&s, t, back));
}

/// Each rule has its own switch: `allow_weak_wrapping` alone relaxes that
/// rule and no other.
#[test]
fn one_switch_one_rule() {
    let (_f, s) = token("[policy]\nallow_weak_wrapping = true");
    let c = Client::of(&s);
    let k128 = kek(&c, 16);
    let t256 = target(&c, 32, true);
    assert_eq!(rv(c.wrap(Mech::none(KW), k128, t256)), CKR_OK);
    let both = aes(
        &c,
        32,
        vec![
            b(CKA_WRAP, true),
            b(CKA_ENCRYPT, true),
            b(CKA_DECRYPT, true),
        ],
    );
    assert_eq!(
        rv(c.wrap(Mech::none(KW), both, t256)),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    let cbc = Mech::bytes(CKM_AES_CBC, &[0u8; 16]);
    assert_eq!(rv(c.wrap(cbc, kek(&c, 32), t256)), CKR_OK);
}
