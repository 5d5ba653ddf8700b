//! Tests of C_SetAttributeValue and C_CopyObject templates, and of the
//! role-separation hardening rule.

use cryptoki_sys::*;

use super::tests::{aes, class, key_type, readable_aes, AES_KEY, SO, USER};
use super::*;
use crate::backend::Attr;

fn set(o: &Attributes, t: &[Attr]) -> Result<Attributes> {
    for_set(o, t, USER)
}

fn refused(r: Result<Attributes>) -> Rv {
    r.expect_err("must be refused")
}

fn x509(extra: &[Attr]) -> Attributes {
    let mut t = vec![
        class(CKO_CERTIFICATE),
        Attr::ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
        Attr::new(CKA_SUBJECT, b"subject"),
        Attr::new(CKA_VALUE, b"der"),
    ];
    t.extend_from_slice(extra);
    for_create(&t, SO).expect("certificate")
}

// ---- C_SetAttributeValue ----

#[test]
fn set_changes_a_new_attribute_list() {
    let k = readable_aes(&[Attr::new(CKA_LABEL, b"old")]);
    let t = [Attr::new(CKA_LABEL, b"new"), Attr::new(CKA_ID, b"\x01")];
    let n = set(&k, &t).expect("label and id are modifiable");
    assert_eq!(n.bytes(CKA_LABEL), Some(&b"new"[..]));
    assert_eq!(n.bytes(CKA_ID), Some(&b"\x01"[..]));
    assert_eq!(k.bytes(CKA_LABEL), Some(&b"old"[..]));
    assert_eq!(
        read(&n, CKA_VALUE).expect("value kept").as_slice(),
        &AES_KEY
    );
}

#[test]
fn set_refused_on_unmodifiable_objects() {
    let k = readable_aes(&[Attr::bool(CKA_MODIFIABLE, false)]);
    let t = [Attr::new(CKA_LABEL, b"x")];
    assert_eq!(refused(set(&k, &t)), Rv::ACTION_PROHIBITED);
    assert_eq!(refused(set(&k, &[])), Rv::ACTION_PROHIBITED);
}

#[test]
fn set_read_only_attributes() {
    let k = readable_aes(&[]);
    for a in [
        class(CKO_SECRET_KEY),
        key_type(CKK_AES),
        Attr::new(CKA_VALUE, &[0; 32]),
        Attr::ulong(CKA_VALUE_LEN, 32),
        Attr::bool(CKA_LOCAL, false),
        Attr::bool(CKA_ALWAYS_SENSITIVE, false),
        Attr::bool(CKA_TOKEN, true),
        Attr::bool(CKA_PRIVATE, false),
        Attr::bool(CKA_MODIFIABLE, false),
        Attr::bool(CKA_DESTROYABLE, false),
        Attr::new(CKA_ALLOWED_MECHANISMS, &[]),
        Attr::new(PROZ_ATTR_BASE, b"v"),
    ] {
        let kind = a.kind;
        assert_eq!(refused(set(&k, &[a])), Rv::ATTRIBUTE_READ_ONLY, "{kind:#x}");
    }
    let data = for_create(&[class(CKO_DATA)], USER).expect("data");
    let t = [Attr::new(CKA_VALUE, b"x")];
    assert_eq!(refused(set(&data, &t)), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn set_unknown_and_malformed_attributes() {
    let k = readable_aes(&[]);
    let t = [Attr::new(CKA_MODULUS, &[1])];
    assert_eq!(refused(set(&k, &t)), Rv::ATTRIBUTE_TYPE_INVALID);
    let t = [Attr::new(CKA_DERIVE, &[1, 1])];
    assert_eq!(refused(set(&k, &t)), Rv::ATTRIBUTE_VALUE_INVALID);
    let t = [Attr::new(CKA_LABEL, b"a"), Attr::new(CKA_LABEL, b"b")];
    assert_eq!(refused(set(&k, &t)), Rv::TEMPLATE_INCONSISTENT);
    let vendor = CKA_VENDOR_DEFINED | 0x77;
    let n = set(&k, &[Attr::new(vendor, b"v")]).expect("vendor attribute");
    assert_eq!(n.bytes(vendor), Some(&b"v"[..]));
}

#[test]
fn set_sensitive_only_to_true() {
    let k = readable_aes(&[]);
    let on = set(&k, &[Attr::bool(CKA_SENSITIVE, true)]).expect("FALSE → TRUE");
    assert_eq!(on.bool(CKA_SENSITIVE), Some(true));
    // Becoming sensitive later does not make it "always sensitive".
    assert_eq!(on.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(read(&on, CKA_VALUE).err(), Some(Rv::ATTRIBUTE_SENSITIVE));
    let t = [Attr::bool(CKA_SENSITIVE, false)];
    assert_eq!(refused(set(&on, &t)), Rv::ATTRIBUTE_READ_ONLY);
    assert!(set(&on, &[Attr::bool(CKA_SENSITIVE, true)]).is_ok());
}

#[test]
fn set_extractable_only_to_false() {
    let k = readable_aes(&[]);
    let off = set(&k, &[Attr::bool(CKA_EXTRACTABLE, false)]).expect("TRUE → FALSE");
    assert_eq!(off.bool(CKA_EXTRACTABLE), Some(false));
    assert_eq!(off.bool(CKA_NEVER_EXTRACTABLE), Some(false));
    let t = [Attr::bool(CKA_EXTRACTABLE, true)];
    assert_eq!(refused(set(&off, &t)), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn set_wrap_with_trusted_and_copyable_one_way() {
    let k = readable_aes(&[]);
    let on = set(&k, &[Attr::bool(CKA_WRAP_WITH_TRUSTED, true)]).expect("FALSE → TRUE");
    let t = [Attr::bool(CKA_WRAP_WITH_TRUSTED, false)];
    assert_eq!(refused(set(&on, &t)), Rv::ATTRIBUTE_READ_ONLY);
    // Only CKA_LABEL of the storage attributes is settable; a copy may
    // drop CKA_COPYABLE, never regain it.
    let t = [Attr::bool(CKA_COPYABLE, false)];
    assert_eq!(refused(set(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
    let last = for_copy(&k, &t, USER).expect("TRUE → FALSE in a copy");
    assert_eq!(
        for_copy(&last, &[], USER).err(),
        Some(Rv::ACTION_PROHIBITED)
    );
}

#[test]
fn set_check_value_only_to_empty() {
    let k = readable_aes(&[Attr::new(CKA_CHECK_VALUE, &[1, 2, 3])]);
    let cleared = set(&k, &[Attr::new(CKA_CHECK_VALUE, b"")]).expect("no-value");
    assert_eq!(cleared.bytes(CKA_CHECK_VALUE), Some(&[][..]));
    let t = [Attr::new(CKA_CHECK_VALUE, &[4, 5, 6])];
    assert_eq!(refused(set(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn set_trusted_only_by_the_so() {
    let k = readable_aes(&[]);
    let t = [Attr::bool(CKA_TRUSTED, true)];
    assert_eq!(refused(set(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
    let trusted = for_set(&k, &t, SO).expect("SO may trust");
    assert_eq!(trusted.bool(CKA_TRUSTED), Some(true));
    let untrusted = set(&trusted, &[Attr::bool(CKA_TRUSTED, false)]).expect("distrust");
    assert_eq!(untrusted.bool(CKA_TRUSTED), Some(false));
}

#[test]
fn set_certificates() {
    let c = x509(&[]);
    let n = set(
        &c,
        &[Attr::new(CKA_ID, b"id"), Attr::new(CKA_ISSUER, b"ca")],
    )
    .expect("id");
    assert_eq!(n.bytes(CKA_ID), Some(&b"id"[..]));
    let t = [Attr::new(CKA_SUBJECT, b"other")];
    assert_eq!(refused(set(&c, &t)), Rv::ATTRIBUTE_READ_ONLY);
    // "Trusted certificates cannot be modified."
    let trusted = x509(&[Attr::bool(CKA_TRUSTED, true)]);
    let t = [Attr::new(CKA_LABEL, b"x")];
    assert_eq!(refused(set(&trusted, &t)), Rv::ATTRIBUTE_READ_ONLY);
    assert_eq!(refused(for_set(&trusted, &t, SO)), Rv::ATTRIBUTE_READ_ONLY);
}

// ---- The role-separation rule ----

#[test]
fn bridge_from_wrap_to_decrypt_refused() {
    let wrap_key = for_create(&aes(&[Attr::bool(CKA_WRAP, true)]), USER).expect("wrap key");
    for kind in [CKA_DECRYPT, CKA_ENCRYPT] {
        let t = [Attr::bool(kind, true)];
        assert_eq!(refused(set(&wrap_key, &t)), Rv::TEMPLATE_INCONSISTENT);
        let soft = for_set_with(&wrap_key, &t, USER, &Hardening::SOFTHSM);
        assert_eq!(soft.expect("softhsm profile").bool(kind), Some(true));
    }
    // Switching roles (one off, the other on) is a change of role, not a
    // bridge.
    let t = [Attr::bool(CKA_WRAP, false), Attr::bool(CKA_DECRYPT, true)];
    assert!(set(&wrap_key, &t).is_ok());
}

#[test]
fn bridge_from_decrypt_to_wrap_refused() {
    let data_key = for_create(&aes(&[]), USER).expect("data key");
    for kind in [CKA_WRAP, CKA_UNWRAP] {
        let t = [Attr::bool(kind, true)];
        assert_eq!(refused(set(&data_key, &t)), Rv::TEMPLATE_INCONSISTENT);
    }
    let t = [
        Attr::bool(CKA_ENCRYPT, false),
        Attr::bool(CKA_DECRYPT, false),
    ];
    let off = set(&data_key, &t).expect("roles off");
    assert!(set(&off, &[Attr::bool(CKA_UNWRAP, true)]).is_ok());
}

#[test]
fn dual_role_keys_gain_no_further_role() {
    let t = aes(&[Attr::bool(CKA_WRAP, true), Attr::bool(CKA_DECRYPT, true)]);
    let both = for_create(&t, USER).expect("explicit dual-role key");
    assert!(set(&both, &[Attr::new(CKA_LABEL, b"l")]).is_ok());
    assert!(set(&both, &[Attr::bool(CKA_DECRYPT, true)]).is_ok());
    let t = [Attr::bool(CKA_UNWRAP, true)];
    assert_eq!(refused(set(&both, &t)), Rv::TEMPLATE_INCONSISTENT);
    assert!(set(&both, &[Attr::bool(CKA_DECRYPT, false)]).is_ok());
}

// ---- C_CopyObject ----

fn copy(o: &Attributes, t: &[Attr]) -> Result<Attributes> {
    for_copy(o, t, USER)
}

#[test]
fn copy_refused_when_not_copyable() {
    let k = readable_aes(&[Attr::bool(CKA_COPYABLE, false)]);
    assert_eq!(refused(copy(&k, &[])), Rv::ACTION_PROHIBITED);
}

#[test]
fn copy_changes_token_and_private() {
    let mut k = readable_aes(&[Attr::new(CKA_LABEL, b"k")]);
    k.set_bytes(CKA_UNIQUE_ID, b"42");
    let t = [Attr::bool(CKA_TOKEN, true), Attr::bool(CKA_PRIVATE, false)];
    let c = copy(&k, &t).expect("copy to a public token object");
    assert!(c.is_token() && !c.is_private());
    assert!(!k.is_token() && k.is_private());
    assert!(!c.has(CKA_UNIQUE_ID), "the store assigns a new one");
    assert_eq!(c.bytes(CKA_LABEL), Some(&b"k"[..]));
    assert!(matches!(c.get(CKA_VALUE), Some(AttrValue::Secret(_))));
    assert_eq!(read(&c, CKA_VALUE).expect("same key").as_slice(), &AES_KEY);
    let c = copy(&k, &[Attr::bool(CKA_DESTROYABLE, false)]).expect("undestroyable copy");
    assert_eq!(may_destroy(&c), Err(Rv::ACTION_PROHIBITED));
}

#[test]
fn copy_follows_one_way_rules() {
    let k = readable_aes(&[]);
    let t = [
        Attr::bool(CKA_SENSITIVE, true),
        Attr::bool(CKA_EXTRACTABLE, false),
        Attr::new(CKA_LABEL, b"copy"),
    ];
    let c = copy(&k, &t).expect("a more protected copy");
    assert_eq!(c.bool(CKA_SENSITIVE), Some(true));
    assert_eq!(c.bool(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(c.bool(CKA_NEVER_EXTRACTABLE), Some(false));
    let t = [Attr::bool(CKA_SENSITIVE, false)];
    assert_eq!(refused(copy(&c, &t)), Rv::ATTRIBUTE_READ_ONLY);
    let t = [Attr::bool(CKA_EXTRACTABLE, true)];
    assert_eq!(refused(copy(&c, &t)), Rv::ATTRIBUTE_READ_ONLY);
}

#[test]
fn copy_read_only_attributes() {
    let k = readable_aes(&[]);
    for a in [
        class(CKO_DATA),
        Attr::new(CKA_VALUE, &[0; 32]),
        Attr::bool(CKA_LOCAL, true),
        Attr::ulong(CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN),
    ] {
        let kind = a.kind;
        assert_eq!(
            refused(copy(&k, &[a])),
            Rv::ATTRIBUTE_READ_ONLY,
            "{kind:#x}"
        );
    }
    let t = [Attr::new(CKA_MODULUS, &[1])];
    assert_eq!(refused(copy(&k, &t)), Rv::ATTRIBUTE_TYPE_INVALID);
}

#[test]
fn copy_of_read_only_object() {
    let k = readable_aes(&[Attr::bool(CKA_MODIFIABLE, false)]);
    let c = copy(&k, &[Attr::bool(CKA_TOKEN, true)]).expect("copy keeps being allowed");
    assert_eq!(c.bool(CKA_MODIFIABLE), Some(false));
    let t = [Attr::new(CKA_LABEL, b"x")];
    assert_eq!(refused(copy(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
    let t = [Attr::bool(CKA_MODIFIABLE, true)];
    assert_eq!(refused(copy(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
    let writable = readable_aes(&[]);
    let c = copy(&writable, &[Attr::bool(CKA_MODIFIABLE, false)]).expect("read-only copy");
    assert_eq!(for_set(&c, &[], USER).err(), Some(Rv::ACTION_PROHIBITED));
}

#[test]
fn copy_trust_and_roles() {
    let k = readable_aes(&[]);
    let t = [Attr::bool(CKA_TRUSTED, true)];
    assert_eq!(refused(copy(&k, &t)), Rv::ATTRIBUTE_READ_ONLY);
    assert!(for_copy(&k, &t, SO).is_ok());
    let t = [Attr::bool(CKA_WRAP, true)];
    assert_eq!(refused(copy(&k, &t)), Rv::TEMPLATE_INCONSISTENT);
    let soft = for_copy_with(&k, &t, USER, &Hardening::SOFTHSM).expect("softhsm profile");
    assert_eq!(soft.bool(CKA_WRAP), Some(true));
}
