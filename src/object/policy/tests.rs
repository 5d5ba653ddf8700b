//! Tests of C_CreateObject templates, keys the token makes, reads and
//! matching, with the CKR codes the spec requires.

use cryptoki_sys::*;

use super::*;
use crate::backend::Attr;

pub(super) const USER: Actor = Actor {
    so: false,
    hardening: Hardening::STRICT,
};
pub(super) const SO: Actor = Actor {
    so: true,
    hardening: Hardening::STRICT,
};
pub(super) const AES_KEY: [u8; 32] = [7; 32];

pub(super) fn class(c: CK_OBJECT_CLASS) -> Attr {
    Attr::ulong(CKA_CLASS, c)
}

pub(super) fn key_type(k: CK_KEY_TYPE) -> Attr {
    Attr::ulong(CKA_KEY_TYPE, k)
}

/// A C_CreateObject template for a 256-bit AES key, plus `extra`.
pub(super) fn aes(extra: &[Attr]) -> Vec<Attr> {
    let mut t = vec![
        class(CKO_SECRET_KEY),
        key_type(CKK_AES),
        Attr::new(CKA_VALUE, &AES_KEY),
    ];
    t.extend_from_slice(extra);
    t
}

/// An imported AES key whose value may be read back.
pub(super) fn readable_aes(extra: &[Attr]) -> Attributes {
    let mut t = vec![Attr::bool(CKA_EXTRACTABLE, true)];
    t.extend_from_slice(extra);
    for_create(&aes(&t), USER).expect("valid AES template")
}

fn err(r: Result<Attributes>) -> Rv {
    r.expect_err("must be refused")
}

fn data(extra: &[Attr]) -> Vec<Attr> {
    let mut t = vec![class(CKO_DATA)];
    t.extend_from_slice(extra);
    t
}

fn cert(extra: &[Attr]) -> Vec<Attr> {
    let mut t = vec![
        class(CKO_CERTIFICATE),
        Attr::ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
        Attr::new(CKA_SUBJECT, b"subject der"),
        Attr::new(CKA_VALUE, b"certificate der"),
    ];
    t.extend_from_slice(extra);
    t
}

fn rsa_public(extra: &[Attr]) -> Vec<Attr> {
    let mut t = vec![
        class(CKO_PUBLIC_KEY),
        key_type(CKK_RSA),
        Attr::new(CKA_MODULUS, &[0x80; 256]),
        Attr::new(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
    ];
    t.extend_from_slice(extra);
    t
}

fn without(t: Vec<Attr>, kind: CK_ATTRIBUTE_TYPE) -> Vec<Attr> {
    t.into_iter().filter(|a| a.kind != kind).collect()
}

fn is_sealed(attrs: &Attributes, kind: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(attrs.get(kind), Some(AttrValue::Secret(_)))
}

// ---- C_CreateObject: each class with a minimal template ----

#[test]
fn data_object_defaults() {
    let o = for_create(&data(&[]), USER).expect("minimal data object");
    assert_eq!(o.class(), CKO_DATA);
    assert_eq!(o.bool(CKA_TOKEN), Some(false));
    assert_eq!(o.bool(CKA_PRIVATE), Some(true));
    for kind in [CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE] {
        assert_eq!(o.bool(kind), Some(true));
    }
    for kind in [CKA_LABEL, CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE] {
        assert_eq!(o.bytes(kind), Some(&[][..]));
    }
    assert!(!o.has(CKA_LOCAL) && !o.has(CKA_KEY_TYPE) && !o.has(CKA_UNIQUE_ID));
}

#[test]
fn data_object_keeps_given_values() {
    let t = data(&[
        Attr::bool(CKA_TOKEN, true),
        Attr::bool(CKA_PRIVATE, false),
        Attr::new(CKA_LABEL, b"blob"),
        Attr::new(CKA_VALUE, b"payload"),
    ]);
    let o = for_create(&t, USER).expect("data object");
    assert!(o.is_token() && !o.is_private());
    assert_eq!(o.bytes(CKA_LABEL), Some(&b"blob"[..]));
    assert_eq!(o.bytes(CKA_VALUE), Some(&b"payload"[..]));
}

#[test]
fn certificate_defaults_and_requirements() {
    let o = for_create(&cert(&[]), USER).expect("X.509 certificate");
    assert_eq!(o.bool(CKA_PRIVATE), Some(false));
    assert_eq!(o.bool(CKA_TRUSTED), Some(false));
    assert_eq!(o.ulong(CKA_CERTIFICATE_CATEGORY), Some(0));
    assert_eq!(o.ulong(CKA_NAME_HASH_ALGORITHM), Some(CKM_SHA_1));
    assert_eq!(o.bytes(CKA_ID), Some(&[][..]));
    assert!(!is_sealed(&o, CKA_VALUE));
    for missing in [CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_VALUE] {
        let t = without(cert(&[]), missing);
        assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCOMPLETE);
    }
    let mut t = without(cert(&[]), CKA_CERTIFICATE_TYPE);
    t.push(Attr::ulong(CKA_CERTIFICATE_TYPE, CKC_X_509_ATTR_CERT));
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_VALUE_INVALID);
    // An empty CKA_VALUE needs a CKA_URL.
    let mut t = without(cert(&[]), CKA_VALUE);
    t.push(Attr::new(CKA_VALUE, b""));
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_VALUE_INVALID);
    t.push(Attr::new(CKA_URL, b"https://example.org/c.der"));
    assert!(for_create(&t, USER).is_ok());
}

#[test]
fn imported_secret_key_defaults() {
    let k = for_create(&aes(&[]), USER).expect("AES key");
    assert_eq!(k.key_type(), Some(CKK_AES));
    assert!(is_sealed(&k, CKA_VALUE));
    assert_eq!(k.ulong(CKA_VALUE_LEN), Some(32));
    assert_eq!(k.bool(CKA_PRIVATE), Some(true));
    assert_eq!(k.bool(CKA_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_EXTRACTABLE), Some(false));
    for kind in [
        CKA_LOCAL,
        CKA_ALWAYS_SENSITIVE,
        CKA_NEVER_EXTRACTABLE,
        CKA_DERIVE,
    ] {
        assert_eq!(k.bool(kind), Some(false), "{kind:#x}");
    }
    assert_eq!(
        k.ulong(CKA_KEY_GEN_MECHANISM),
        Some(CK_UNAVAILABLE_INFORMATION)
    );
    for kind in [CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY] {
        assert_eq!(k.bool(kind), Some(true), "{kind:#x}");
    }
    // Strict: the wrapping role only when asked for.
    assert_eq!(k.bool(CKA_WRAP), Some(false));
    assert_eq!(k.bool(CKA_UNWRAP), Some(false));
    let soft = for_create_with(&aes(&[]), USER, &Hardening::SOFTHSM).expect("AES key");
    assert_eq!(soft.bool(CKA_WRAP), Some(true));
    assert_eq!(soft.bool(CKA_UNWRAP), Some(true));
}

#[test]
fn strict_defaults_keep_roles_apart() {
    let k = for_create(&aes(&[Attr::bool(CKA_WRAP, true)]), USER).expect("wrapping key");
    assert_eq!(k.bool(CKA_WRAP), Some(true));
    assert_eq!(k.bool(CKA_ENCRYPT), Some(false));
    assert_eq!(k.bool(CKA_DECRYPT), Some(false));
    assert_eq!(k.bool(CKA_SIGN), Some(true));
    // An explicit template is obeyed: the mechanisms refuse the dangerous
    // operation, not the template.
    let t = aes(&[Attr::bool(CKA_WRAP, true), Attr::bool(CKA_DECRYPT, true)]);
    let k = for_create(&t, USER).expect("explicit template");
    assert_eq!(k.bool(CKA_DECRYPT), Some(true));
}

#[test]
fn secret_key_lengths() {
    let t = |kt, len: usize| {
        vec![
            class(CKO_SECRET_KEY),
            key_type(kt),
            Attr::new(CKA_VALUE, &vec![1; len]),
        ]
    };
    for len in [16, 24, 32] {
        assert!(for_create(&t(CKK_AES, len), USER).is_ok());
    }
    for len in [0, 15, 33] {
        assert_eq!(
            err(for_create(&t(CKK_AES, len), USER)),
            Rv::ATTRIBUTE_VALUE_INVALID
        );
    }
    let hmac = for_create(&t(CKK_SHA256_HMAC, 1), USER).expect("1-byte HMAC key");
    assert_eq!(hmac.ulong(CKA_VALUE_LEN), Some(1));
    assert_eq!(
        err(for_create(&t(CKK_GENERIC_SECRET, 0), USER)),
        Rv::ATTRIBUTE_VALUE_INVALID
    );
    let des3 = for_create(&t(CKK_DES3, 24), USER).expect("DES3 key");
    assert!(!des3.has(CKA_VALUE_LEN));
    assert!(for_create(&t(CKK_DES3, 16), USER).is_err());
    assert!(secret_key_length_ok(CKK_AES, 24) && !secret_key_length_ok(CKK_AES, 20));
    assert!(!secret_key_length_ok(CKK_RSA, 256));
}

#[test]
fn rsa_public_key() {
    let k = for_create(&rsa_public(&[]), USER).expect("RSA public key");
    assert_eq!(k.ulong(CKA_MODULUS_BITS), Some(2048));
    assert_eq!(k.bool(CKA_PRIVATE), Some(false));
    assert_eq!(k.bool(CKA_ENCRYPT), Some(true));
    assert_eq!(k.bool(CKA_VERIFY), Some(true));
    assert_eq!(k.bool(CKA_WRAP), Some(false));
    assert_eq!(k.bool(CKA_TRUSTED), Some(false));
    assert!(!k.has(CKA_SENSITIVE) && !k.has(CKA_ALWAYS_SENSITIVE));
    assert!(!is_sealed(&k, CKA_MODULUS));
    for missing in [CKA_MODULUS, CKA_PUBLIC_EXPONENT] {
        let t = without(rsa_public(&[]), missing);
        assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCOMPLETE);
    }
    // CKA_MODULUS_BITS is computed: only its true value is accepted.
    let t = rsa_public(&[Attr::ulong(CKA_MODULUS_BITS, 1024)]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_READ_ONLY);
    assert!(for_create(&rsa_public(&[Attr::ulong(CKA_MODULUS_BITS, 2048)]), USER).is_ok());
}

#[test]
fn rsa_private_key() {
    let t = vec![
        class(CKO_PRIVATE_KEY),
        key_type(CKK_RSA),
        Attr::new(CKA_MODULUS, &[0x80; 256]),
        Attr::new(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
        Attr::new(CKA_PRIVATE_EXPONENT, &[3; 256]),
    ];
    let k = for_create(&t, USER).expect("RSA private key without CRT");
    assert!(is_sealed(&k, CKA_PRIVATE_EXPONENT));
    assert!(!is_sealed(&k, CKA_MODULUS));
    assert!(!k.has(CKA_PRIME_1));
    assert_eq!(k.bool(CKA_PRIVATE), Some(true));
    assert_eq!(k.bool(CKA_SIGN), Some(true));
    assert_eq!(k.bool(CKA_UNWRAP), Some(false));
    let mut crt = t.clone();
    crt.push(Attr::new(CKA_PRIME_1, &[5; 128]));
    crt.push(Attr::new(CKA_COEFFICIENT, &[6; 128]));
    let k = for_create(&crt, USER).expect("RSA private key with CRT");
    assert!(is_sealed(&k, CKA_PRIME_1) && is_sealed(&k, CKA_COEFFICIENT));
    for missing in [CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT] {
        let t = without(t.clone(), missing);
        assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCOMPLETE);
    }
    // The token computes CKA_PUBLIC_KEY_INFO; it cannot check a given one.
    let mut info = t.clone();
    info.push(Attr::new(CKA_PUBLIC_KEY_INFO, b"spki"));
    assert_eq!(err(for_create(&info, USER)), Rv::ATTRIBUTE_READ_ONLY);
    assert_eq!(k.bytes(CKA_PUBLIC_KEY_INFO), Some(&[][..]));
}

#[test]
fn ec_and_edwards_keys() {
    for kt in [CKK_EC, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY] {
        let public = vec![
            class(CKO_PUBLIC_KEY),
            key_type(kt),
            Attr::new(CKA_EC_PARAMS, b"curve oid"),
            Attr::new(CKA_EC_POINT, b"point"),
        ];
        assert!(for_create(&public, USER).is_ok());
        let t = without(public, CKA_EC_POINT);
        assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCOMPLETE);

        let private = vec![
            class(CKO_PRIVATE_KEY),
            key_type(kt),
            Attr::new(CKA_EC_PARAMS, b"curve oid"),
            Attr::new(CKA_VALUE, &[9; 32]),
        ];
        let k = for_create(&private, USER).expect("EC private key");
        assert!(is_sealed(&k, CKA_VALUE));
        assert!(!is_sealed(&k, CKA_EC_PARAMS));
        let t = without(private, CKA_EC_PARAMS);
        assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCOMPLETE);
    }
}

// ---- C_CreateObject: malformed templates ----

#[test]
fn class_and_key_type_checks() {
    let no_class = vec![Attr::new(CKA_LABEL, b"x")];
    assert_eq!(err(for_create(&no_class, USER)), Rv::TEMPLATE_INCOMPLETE);
    let no_type = without(aes(&[]), CKA_KEY_TYPE);
    assert_eq!(err(for_create(&no_type, USER)), Rv::TEMPLATE_INCOMPLETE);
    for c in [
        CKO_HW_FEATURE,
        CKO_DOMAIN_PARAMETERS,
        CKO_VENDOR_DEFINED + 1,
    ] {
        assert_eq!(
            err(for_create(&[class(c)], USER)),
            Rv::ATTRIBUTE_VALUE_INVALID
        );
    }
    let cast = vec![class(CKO_SECRET_KEY), key_type(CKK_CAST128)];
    assert_eq!(err(for_create(&cast, USER)), Rv::ATTRIBUTE_VALUE_INVALID);
    let rsa_secret = vec![
        class(CKO_SECRET_KEY),
        key_type(CKK_RSA),
        Attr::new(CKA_VALUE, &[1; 16]),
    ];
    assert_eq!(
        err(for_create(&rsa_secret, USER)),
        Rv::TEMPLATE_INCONSISTENT
    );
}

#[test]
fn duplicate_attributes() {
    let t = data(&[Attr::new(CKA_LABEL, b"a"), Attr::new(CKA_LABEL, b"b")]);
    assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCONSISTENT);
    let t = data(&[Attr::new(CKA_LABEL, b"a"), Attr::new(CKA_LABEL, b"a")]);
    assert!(for_create(&t, USER).is_ok());
    // 0x01 and 0xFF are both CK_TRUE.
    let t = data(&[Attr::new(CKA_TOKEN, &[1]), Attr::new(CKA_TOKEN, &[0xff])]);
    let o = for_create(&t, USER).expect("same boolean twice");
    assert_eq!(o.bytes(CKA_TOKEN), Some(&[1][..]));
    let t = vec![class(CKO_DATA), class(CKO_SECRET_KEY)];
    assert_eq!(err(for_create(&t, USER)), Rv::TEMPLATE_INCONSISTENT);
}

#[test]
fn wrong_sizes() {
    let bad = [
        data(&[Attr::new(CKA_TOKEN, &[1, 0])]),
        data(&[Attr::new(CKA_PRIVATE, &[])]),
        vec![Attr::new(CKA_CLASS, &[0; 4])],
        vec![class(CKO_SECRET_KEY), Attr::new(CKA_KEY_TYPE, &[0x1f; 4])],
        aes(&[Attr::new(CKA_START_DATE, b"2025")]),
        aes(&[Attr::new(CKA_ALLOWED_MECHANISMS, &[0; 12])]),
        aes(&[Attr::new(CKA_WRAP_TEMPLATE, &[1, 2, 3])]),
    ];
    for t in bad {
        assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_VALUE_INVALID);
    }
}

#[test]
fn token_computed_attributes_on_create() {
    for a in [
        Attr::bool(CKA_LOCAL, true),
        Attr::bool(CKA_ALWAYS_SENSITIVE, true),
        Attr::bool(CKA_NEVER_EXTRACTABLE, true),
        Attr::ulong(CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN),
        Attr::ulong(CKA_VALUE_LEN, 16),
        Attr::new(CKA_UNIQUE_ID, b"1"),
    ] {
        let kind = a.kind;
        assert_eq!(
            err(for_create(&aes(&[a]), USER)),
            Rv::ATTRIBUTE_READ_ONLY,
            "{kind:#x}"
        );
    }
    // The value the token computes anyway is accepted.
    let t = aes(&[
        Attr::bool(CKA_LOCAL, false),
        Attr::bool(CKA_ALWAYS_SENSITIVE, false),
        Attr::ulong(CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION),
        Attr::ulong(CKA_VALUE_LEN, 32),
    ]);
    assert!(for_create(&t, USER).is_ok());
}

#[test]
fn attributes_of_other_classes() {
    let t = data(&[Attr::bool(CKA_SENSITIVE, true)]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_TYPE_INVALID);
    let t = aes(&[Attr::new(CKA_MODULUS, &[1; 8])]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_TYPE_INVALID);
    let t = rsa_public(&[Attr::bool(CKA_DECRYPT, true)]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_TYPE_INVALID);
    // Another vendor's attribute is kept as given; ProzHSM's own range is
    // the token's to write.
    let vendor = CKA_VENDOR_DEFINED | 0x1234;
    let o = for_create(&data(&[Attr::new(vendor, b"v")]), USER).expect("vendor attribute");
    assert_eq!(o.bytes(vendor), Some(&b"v"[..]));
    let t = data(&[Attr::new(PROZ_ATTR_BASE + 1, b"v")]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn trusted_only_by_the_so() {
    let t = aes(&[Attr::bool(CKA_TRUSTED, true)]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_READ_ONLY);
    let k = for_create(&t, SO).expect("SO may trust");
    assert_eq!(k.bool(CKA_TRUSTED), Some(true));
    assert!(for_create(&aes(&[Attr::bool(CKA_TRUSTED, false)]), USER).is_ok());
    let t = cert(&[Attr::bool(CKA_TRUSTED, true)]);
    assert_eq!(err(for_create(&t, USER)), Rv::ATTRIBUTE_READ_ONLY);
    assert!(for_create(&t, SO).is_ok());
}

#[test]
fn always_authenticate_needs_a_private_object() {
    let t = vec![
        class(CKO_PRIVATE_KEY),
        key_type(CKK_EC),
        Attr::new(CKA_EC_PARAMS, b"oid"),
        Attr::new(CKA_VALUE, &[1; 32]),
        Attr::bool(CKA_ALWAYS_AUTHENTICATE, true),
    ];
    assert!(for_create(&t, USER).is_ok());
    let mut public = t.clone();
    public.push(Attr::bool(CKA_PRIVATE, false));
    assert_eq!(err(for_create(&public, USER)), Rv::TEMPLATE_INCONSISTENT);
}

// ---- Keys the token makes ----

fn new_aes(template: &[Attr], origin: KeyOrigin) -> Result<Attributes> {
    for_new_key(CKO_SECRET_KEY, CKK_AES, template, origin, USER)
}

fn len32() -> Attr {
    Attr::ulong(CKA_VALUE_LEN, 32)
}

#[test]
fn generated_key_defaults() {
    let k = new_aes(&[len32()], KeyOrigin::Generated).expect("generated AES");
    assert_eq!(k.class(), CKO_SECRET_KEY);
    assert_eq!(k.key_type(), Some(CKK_AES));
    assert_eq!(k.bool(CKA_LOCAL), Some(true));
    // The spec's default for a secret key; unextractable, so unreadable.
    assert_eq!(k.bool(CKA_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_EXTRACTABLE), Some(false));
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(true));
    assert_eq!(
        k.ulong(CKA_KEY_GEN_MECHANISM),
        Some(CK_UNAVAILABLE_INFORMATION)
    );
    assert_eq!(k.ulong(CKA_VALUE_LEN), Some(32));
    assert!(!k.has(CKA_VALUE));
    assert_eq!(k.bool(CKA_ENCRYPT), Some(true));
    assert_eq!(k.bool(CKA_WRAP), Some(false));
    let t = [len32(), Attr::bool(CKA_SENSITIVE, true)];
    let k = new_aes(&t, KeyOrigin::Generated).expect("sensitive generated AES");
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(true));
    let t = [len32(), Attr::bool(CKA_EXTRACTABLE, true)];
    let k = new_aes(&t, KeyOrigin::Generated).expect("readable generated AES");
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(false));
}

#[test]
fn generated_key_parameters() {
    assert_eq!(
        err(new_aes(&[], KeyOrigin::Generated)),
        Rv::TEMPLATE_INCOMPLETE
    );
    let t = [Attr::ulong(CKA_VALUE_LEN, 15)];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Generated)),
        Rv::ATTRIBUTE_VALUE_INVALID
    );
    // The value comes from the mechanism, never the template.
    for origin in [
        KeyOrigin::Generated,
        KeyOrigin::Unwrapped,
        KeyOrigin::Derived {
            base_always_sensitive: true,
            base_never_extractable: true,
        },
    ] {
        let t = [len32(), Attr::new(CKA_VALUE, &AES_KEY)];
        assert_eq!(err(new_aes(&t, origin)), Rv::ATTRIBUTE_READ_ONLY);
    }
}

#[test]
fn unwrapped_and_derived_keys() {
    let sensitive = [Attr::bool(CKA_SENSITIVE, true)];
    let k = new_aes(&sensitive, KeyOrigin::Unwrapped).expect("unwrapped AES");
    assert_eq!(k.bool(CKA_LOCAL), Some(false));
    assert_eq!(k.bool(CKA_SENSITIVE), Some(true));
    assert_eq!(k.bool(CKA_EXTRACTABLE), Some(false));
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(false));
    assert!(!k.has(CKA_VALUE_LEN));
    let t = [Attr::bool(CKA_LOCAL, true)];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Unwrapped)),
        Rv::ATTRIBUTE_READ_ONLY
    );
    assert!(new_aes(
        &[len32(), Attr::bool(CKA_LOCAL, true)],
        KeyOrigin::Generated
    )
    .is_ok());

    let derived = |always, never| KeyOrigin::Derived {
        base_always_sensitive: always,
        base_never_extractable: never,
    };
    let k = new_aes(&sensitive, derived(true, true)).expect("derived AES");
    assert_eq!(k.bool(CKA_LOCAL), Some(false));
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(true));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(true));
    let k = new_aes(&[], derived(true, true)).expect("derived AES");
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    let k = new_aes(&sensitive, derived(false, false)).expect("derived AES");
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(false));
    let t = [Attr::bool(CKA_EXTRACTABLE, true)];
    let k = new_aes(&t, derived(true, true)).expect("derived AES");
    assert_eq!(k.bool(CKA_NEVER_EXTRACTABLE), Some(false));
}

#[test]
fn new_key_class_and_type_must_agree() {
    let t = [len32(), class(CKO_SECRET_KEY), key_type(CKK_AES)];
    assert!(new_aes(&t, KeyOrigin::Generated).is_ok());
    let t = [len32(), class(CKO_PRIVATE_KEY)];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Generated)),
        Rv::TEMPLATE_INCONSISTENT
    );
    let t = [len32(), key_type(CKK_GENERIC_SECRET)];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Generated)),
        Rv::TEMPLATE_INCONSISTENT
    );
    let r = for_new_key(CKO_SECRET_KEY, CKK_RSA, &[], KeyOrigin::Unwrapped, USER);
    assert_eq!(err(r), Rv::TEMPLATE_INCONSISTENT);
    let r = for_new_key(CKO_DATA, CKK_AES, &[], KeyOrigin::Unwrapped, USER);
    assert_eq!(err(r), Rv::ATTRIBUTE_VALUE_INVALID);
}

#[test]
fn generated_key_pairs() {
    let gen = KeyOrigin::Generated;
    let public = [
        Attr::ulong(CKA_MODULUS_BITS, 2048),
        Attr::new(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
    ];
    let p = for_new_key(CKO_PUBLIC_KEY, CKK_RSA, &public, gen, USER).expect("RSA public");
    assert_eq!(p.ulong(CKA_MODULUS_BITS), Some(2048));
    assert_eq!(p.bool(CKA_LOCAL), Some(true));
    assert_eq!(p.bool(CKA_PRIVATE), Some(false));
    let r = for_new_key(CKO_PUBLIC_KEY, CKK_RSA, &[], gen, USER);
    assert_eq!(err(r), Rv::TEMPLATE_INCOMPLETE);
    let k = for_new_key(CKO_PRIVATE_KEY, CKK_RSA, &[], gen, USER).expect("RSA private");
    assert_eq!(k.bool(CKA_SENSITIVE), Some(true));
    assert_eq!(k.bool(CKA_ALWAYS_SENSITIVE), Some(true));
    assert_eq!(k.bool(CKA_DECRYPT), Some(true));
    assert_eq!(k.bool(CKA_UNWRAP), Some(false));
    let t = [Attr::new(CKA_MODULUS, &[1; 256])];
    let r = for_new_key(CKO_PRIVATE_KEY, CKK_RSA, &t, gen, USER);
    assert_eq!(err(r), Rv::ATTRIBUTE_READ_ONLY);

    let params = [Attr::new(CKA_EC_PARAMS, b"oid")];
    let p = for_new_key(CKO_PUBLIC_KEY, CKK_EC, &params, gen, USER).expect("EC public");
    assert_eq!(p.bytes(CKA_EC_PARAMS), Some(&b"oid"[..]));
    let r = for_new_key(CKO_PUBLIC_KEY, CKK_EC_EDWARDS, &[], gen, USER);
    assert_eq!(err(r), Rv::TEMPLATE_INCOMPLETE);
    let r = for_new_key(CKO_PRIVATE_KEY, CKK_EC, &params, gen, USER);
    assert_eq!(err(r), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn new_key_trust_and_hardening() {
    let t = [len32(), Attr::bool(CKA_TRUSTED, true)];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Generated)),
        Rv::ATTRIBUTE_READ_ONLY
    );
    let k = for_new_key(CKO_SECRET_KEY, CKK_AES, &t, KeyOrigin::Generated, SO).expect("SO");
    assert_eq!(k.bool(CKA_TRUSTED), Some(true));
    let k = for_new_key_with(
        CKO_SECRET_KEY,
        CKK_AES,
        &[len32()],
        KeyOrigin::Generated,
        USER,
        &Hardening::SOFTHSM,
    )
    .expect("softhsm profile");
    assert_eq!(k.bool(CKA_WRAP), Some(true));
    assert_eq!(k.bool(CKA_DECRYPT), Some(true));
}

#[test]
fn unwrap_template_conflicts() {
    // The client's template followed by the unwrapping key's
    // CKA_UNWRAP_TEMPLATE: they must agree.
    let t = [
        Attr::bool(CKA_SENSITIVE, false),
        Attr::bool(CKA_SENSITIVE, true),
    ];
    assert_eq!(
        err(new_aes(&t, KeyOrigin::Unwrapped)),
        Rv::TEMPLATE_INCONSISTENT
    );
}

// ---- C_GetAttributeValue ----

#[test]
fn read_key_material() {
    let k = readable_aes(&[]);
    assert_eq!(read(&k, CKA_VALUE).expect("readable").as_slice(), &AES_KEY);
    let k = for_create(&aes(&[]), USER).expect("AES key");
    assert_eq!(read(&k, CKA_VALUE).err(), Some(Rv::ATTRIBUTE_SENSITIVE));
    let k = readable_aes(&[Attr::bool(CKA_SENSITIVE, true)]);
    assert_eq!(read(&k, CKA_VALUE).err(), Some(Rv::ATTRIBUTE_SENSITIVE));
    // Everything else of a sensitive key stays readable.
    assert_eq!(
        read(&k, CKA_VALUE_LEN).expect("len").as_slice(),
        &32u64.to_ne_bytes()
    );
    assert_eq!(read(&k, CKA_LABEL).expect("label").as_slice(), b"");
}

#[test]
fn read_absent_and_optional_attributes() {
    let k = readable_aes(&[]);
    assert_eq!(
        read(&k, CKA_MODULUS).err(),
        Some(Rv::ATTRIBUTE_TYPE_INVALID)
    );
    let rsa = |extra: &[Attr]| {
        let mut t = vec![
            class(CKO_PRIVATE_KEY),
            key_type(CKK_RSA),
            Attr::new(CKA_MODULUS, &[0x80; 256]),
            Attr::new(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
            Attr::new(CKA_PRIVATE_EXPONENT, &[3; 256]),
        ];
        t.extend_from_slice(extra);
        for_create(&t, USER).expect("RSA private key")
    };
    // A sensitive key does not even tell whether it has CRT parts.
    assert_eq!(
        read(&rsa(&[]), CKA_PRIME_1).err(),
        Some(Rv::ATTRIBUTE_SENSITIVE)
    );
    let open = rsa(&[Attr::bool(CKA_EXTRACTABLE, true)]);
    assert_eq!(
        read(&open, CKA_PRIME_1).err(),
        Some(Rv::ATTRIBUTE_TYPE_INVALID)
    );
    assert_eq!(read(&open, CKA_PRIVATE_EXPONENT).expect("d").len(), 256);
    let o = for_create(&data(&[Attr::new(CKA_VALUE, b"x")]), USER).expect("data");
    assert_eq!(read(&o, CKA_VALUE).expect("data value").as_slice(), b"x");
}

#[test]
fn read_fails_closed_without_sensitivity_attributes() {
    let mut odd = Attributes::new();
    odd.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
    odd.set_ulong(CKA_KEY_TYPE, CKK_AES);
    odd.set_secret(CKA_VALUE, &AES_KEY);
    assert_eq!(read(&odd, CKA_VALUE).err(), Some(Rv::ATTRIBUTE_SENSITIVE));
    odd.set_bool(CKA_SENSITIVE, false);
    assert_eq!(read(&odd, CKA_VALUE).err(), Some(Rv::ATTRIBUTE_SENSITIVE));
    odd.set_bool(CKA_EXTRACTABLE, true);
    assert!(read(&odd, CKA_VALUE).is_ok());
}

// ---- C_FindObjects ----

#[test]
fn matching() {
    let o = for_create(&data(&[Attr::new(CKA_LABEL, b"blob")]), USER).expect("data");
    assert!(matches(&o, &[]));
    assert!(matches(
        &o,
        &[class(CKO_DATA), Attr::new(CKA_LABEL, b"blob")]
    ));
    assert!(!matches(&o, &[Attr::new(CKA_LABEL, b"blo")]));
    assert!(!matches(&o, &[class(CKO_SECRET_KEY)]));
    assert!(!matches(&o, &[key_type(CKK_AES)]));
    assert!(matches(&o, &[Attr::new(CKA_VALUE, b"")]));
    // Booleans compare as booleans.
    assert!(matches(&o, &[Attr::new(CKA_PRIVATE, &[0xff])]));
    assert!(matches(&o, &[Attr::new(CKA_TOKEN, &[0])]));
    assert!(!matches(&o, &[Attr::new(CKA_TOKEN, &[0, 0])]));
}

#[test]
fn matching_never_tests_secrets() {
    let k = readable_aes(&[Attr::new(CKA_LABEL, b"k")]);
    assert!(matches(&k, &[Attr::new(CKA_LABEL, b"k")]));
    assert!(!matches(&k, &[Attr::new(CKA_VALUE, &AES_KEY)]));
    assert!(!matches(&k, &[Attr::new(CKA_VALUE, &[0; 32])]));
    assert!(matches(&k, &[Attr::ulong(CKA_VALUE_LEN, 32)]));
}

#[test]
fn secret_and_known_attributes() {
    assert!(is_secret_attribute(
        CKO_SECRET_KEY,
        Some(CKK_AES),
        CKA_VALUE
    ));
    assert!(is_secret_attribute(
        CKO_PRIVATE_KEY,
        Some(CKK_EC),
        CKA_VALUE
    ));
    assert!(is_secret_attribute(
        CKO_PRIVATE_KEY,
        Some(CKK_RSA),
        CKA_EXPONENT_2
    ));
    assert!(!is_secret_attribute(
        CKO_PRIVATE_KEY,
        Some(CKK_RSA),
        CKA_MODULUS
    ));
    assert!(!is_secret_attribute(CKO_DATA, None, CKA_VALUE));
    assert!(!is_secret_attribute(CKO_CERTIFICATE, None, CKA_VALUE));
    assert!(attribute_known(CKO_PUBLIC_KEY, Some(CKK_EC), CKA_EC_POINT));
    assert!(!attribute_known(
        CKO_PRIVATE_KEY,
        Some(CKK_EC),
        CKA_EC_POINT
    ));
    assert!(!attribute_known(CKO_DATA, None, CKA_VENDOR_DEFINED));
}

#[test]
fn destroyable() {
    let o = for_create(&data(&[]), USER).expect("data");
    assert!(may_destroy(&o).is_ok());
    let o = for_create(&data(&[Attr::bool(CKA_DESTROYABLE, false)]), USER).expect("data");
    assert_eq!(may_destroy(&o), Err(Rv::ACTION_PROHIBITED));
}
