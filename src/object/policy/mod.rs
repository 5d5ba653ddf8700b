//! The attribute policy: per-class tables of which attributes an object
//! has, their defaults, which are sensitive, which the client may set on
//! create, change later, and in which direction (PKCS#11 3.0 §4).
//!
//! - `rules`: the tables (one per class and key family, flags after the
//!   spec's common footnotes 1–12). Every rule is data there.
//! - `build`: a new object from a template (C_CreateObject, and keys the
//!   token generates, unwraps or derives).
//! - `change`: C_SetAttributeValue and C_CopyObject templates, and the
//!   role-separation hardening rule.
//!
//! # Defaults
//!
//! Where the spec leaves a default to the token, ProzHSM takes SoftHSMv2's
//! (what its clients and test suites expect), except where noted:
//!
//! - CKA_TOKEN FALSE; CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE TRUE;
//!   CKA_LABEL, CKA_ID, CKA_SUBJECT, dates, CKA_ALLOWED_MECHANISMS and the
//!   wrap/unwrap/derive templates empty (spec defaults).
//! - CKA_PRIVATE TRUE for data objects, private keys and secret keys; FALSE
//!   for certificates and public keys (SoftHSMv2; spec: token-specific).
//! - CKA_EXTRACTABLE FALSE for every key (SoftHSMv2; spec: token-specific):
//!   key material is readable, or wrappable, only when the template says
//!   CKA_EXTRACTABLE=TRUE.
//! - CKA_SENSITIVE of secret keys FALSE (the spec's own default for secret
//!   keys). CKA_SENSITIVE of private keys (token-specific): FALSE when
//!   imported with C_CreateObject (SoftHSMv2), TRUE when the token makes the
//!   key (generate, unwrap, derive; SoftHSMv2 says FALSE — ProzHSM is secure
//!   by default, and pkcs11-tool asks for TRUE anyway).
//! - Usage: CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY,
//!   CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER TRUE, CKA_DERIVE FALSE
//!   (SoftHSMv2). CKA_WRAP and CKA_UNWRAP: TRUE in SoftHSMv2 and under
//!   [`Hardening::SOFTHSM`]; FALSE under [`Hardening::STRICT`], where also
//!   CKA_ENCRYPT/CKA_DECRYPT default to FALSE when the template asks for
//!   CKA_WRAP or CKA_UNWRAP — where the template is silent, roles stay apart.
//! - CKA_TRUSTED, CKA_WRAP_WITH_TRUSTED, CKA_ALWAYS_AUTHENTICATE FALSE;
//!   CKA_CERTIFICATE_CATEGORY and CKA_JAVA_MIDP_SECURITY_DOMAIN 0;
//!   CKA_NAME_HASH_ALGORITHM CKM_SHA_1 (spec defaults).
//! - Token-computed: imported keys get CKA_LOCAL, CKA_ALWAYS_SENSITIVE,
//!   CKA_NEVER_EXTRACTABLE FALSE and CKA_KEY_GEN_MECHANISM
//!   CK_UNAVAILABLE_INFORMATION; secret keys CKA_VALUE_LEN from the value,
//!   RSA public keys CKA_MODULUS_BITS from the modulus.
//!
//! # Choices where the spec allows several answers
//!
//! - A token-computed attribute (footnote 2/4/6: CKA_LOCAL,
//!   CKA_KEY_GEN_MECHANISM, CKA_VALUE_LEN on create ...) in a template is
//!   accepted only when it equals what the token computes (a client
//!   re-importing a key's attribute list passes CKA_LOCAL=FALSE); any other
//!   value is CKR_ATTRIBUTE_READ_ONLY, as are key material in a
//!   generate/unwrap/derive template and CKA_UNIQUE_ID always.
//! - An attribute the class does not have is CKR_ATTRIBUTE_TYPE_INVALID
//!   (SoftHSMv2), even where the spec's example suggests
//!   CKR_TEMPLATE_INCONSISTENT; a vendor-defined attribute
//!   (≥ CKA_VENDOR_DEFINED) is stored as given, except ProzHSM's own range
//!   ([`PROZ_ATTR_BASE`]), which only the token writes.
//! - One-way attributes (CKA_SENSITIVE, CKA_EXTRACTABLE,
//!   CKA_WRAP_WITH_TRUSTED, CKA_COPYABLE, and CKA_MODIFIABLE in a copy) and
//!   CKA_TRUSTED=TRUE by a non-SO give CKR_ATTRIBUTE_READ_ONLY (SoftHSMv2);
//!   setting one to the value it already has is accepted.
//! - Of the storage attributes only CKA_LABEL can be set after creation
//!   (§4.4). A copy may change CKA_TOKEN, CKA_PRIVATE, CKA_DESTROYABLE
//!   (SoftHSMv2), CKA_COPYABLE (TRUE → FALSE) and CKA_MODIFIABLE — but only
//!   TRUE → FALSE: a read-only object's copy stays read-only (footnote 8
//!   lets a token refuse; SoftHSMv2 allows both ways), and may change
//!   nothing else.
//! - CKA_CHECK_VALUE in a template is stored as given: the caller, which has
//!   the ciphers, verifies it (CKR_ATTRIBUTE_VALUE_INVALID) or computes it;
//!   C_SetAttributeValue may only empty a secret key's. A private key's
//!   CKA_PUBLIC_KEY_INFO is the token's to compute (the spec requires
//!   checking a given one against the key). CKA_UNIQUE_ID is assigned by the
//!   store.
//! - RSA private keys need CKA_PUBLIC_EXPONENT on create (required since
//!   v2.40; SoftHSMv2 does not insist). An X.509 certificate's CKA_VALUE
//!   must not be empty unless CKA_URL is given.

mod build;
mod change;
mod rules;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_change;

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::Template;
use crate::error::{Result, Rv};
use crate::object::{AttrValue, Attributes};
use crate::secure::Sealed;

use build::{dedup, Mode};
use change::Change;
pub use rules::PROZ_ATTR_BASE;
use rules::{family, is_key_class, key_type_fits, Family, Rules, SECRET};

/// Who is acting; some attributes (CKA_TRUSTED) only the SO may set.
#[derive(Clone, Copy, Debug, Default)]
pub struct Actor {
    pub so: bool,
    /// The hardening of the configured profile, for the keys this actor
    /// makes (generate, derive, unwrap reach the policy through mechanisms
    /// that know the actor, not the configuration).
    pub hardening: Hardening,
}

/// How a key the token makes came to be: decides CKA_LOCAL,
/// CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// C_GenerateKey / C_GenerateKeyPair.
    Generated,
    /// C_UnwrapKey.
    Unwrapped,
    /// C_DeriveKey; `base_always_sensitive` and `base_never_extractable`
    /// come from the base key.
    Derived {
        base_always_sensitive: bool,
        base_never_extractable: bool,
    },
}

/// The key-management hardening rules of the attribute policy that a
/// `[policy]` profile may relax (DESIGN.md, "Policy profiles"). The spec's
/// own rules hold whatever these say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hardening {
    /// Keep the key-wrapping role (CKA_WRAP/CKA_UNWRAP) and the data role
    /// (CKA_ENCRYPT/CKA_DECRYPT) apart: silent templates get one role only,
    /// and C_SetAttributeValue / C_CopyObject cannot switch a role on for a
    /// key that has the other one (CKR_TEMPLATE_INCONSISTENT).
    pub separate_wrap_and_decrypt: bool,
    /// RSA keys of 1024 to 2047 bits may be generated (`allow_rsa_1024`).
    pub rsa_1024: bool,
}

impl Hardening {
    /// The `strict` profile: every rule on.
    pub const STRICT: Hardening = Hardening {
        separate_wrap_and_decrypt: true,
        rsa_1024: false,
    };
    /// The `softhsm` profile: SoftHSMv2's behaviour where the spec allows.
    pub const SOFTHSM: Hardening = Hardening {
        separate_wrap_and_decrypt: false,
        rsa_1024: true,
    };
}

impl Default for Hardening {
    fn default() -> Hardening {
        Hardening::STRICT
    }
}

/// The attributes of a new object from a C_CreateObject template (PKCS#11
/// 3.0 §4.1.1, §5.7): class checked, required attributes present, defaults
/// filled in, key material sealed, token-computed attributes (CKA_LOCAL ...)
/// set by the token. Uses [`Hardening::STRICT`]; see [`for_create_with`].
///
/// # Errors
/// CKR_TEMPLATE_INCOMPLETE (no CKA_CLASS, no CKA_KEY_TYPE for a key, a
/// required attribute missing), CKR_TEMPLATE_INCONSISTENT (an attribute
/// twice with different values, a key type of another class),
/// CKR_ATTRIBUTE_READ_ONLY (token-computed attributes, CKA_TRUSTED=TRUE by
/// a non-SO), CKR_ATTRIBUTE_TYPE_INVALID (an attribute the class lacks),
/// CKR_ATTRIBUTE_VALUE_INVALID (unknown class, key type or certificate
/// type, a value of the wrong size, a key of invalid length).
pub fn for_create(template: &Template, actor: Actor) -> Result<Attributes> {
    for_create_with(template, actor, &Hardening::STRICT)
}

/// [`for_create`] under the given hardening rules.
///
/// # Errors
/// As [`for_create`].
pub fn for_create_with(
    template: &Template,
    actor: Actor,
    hardening: &Hardening,
) -> Result<Attributes> {
    let entries = dedup(template)?;
    let ulong_of = |kind| -> Result<Option<CK_ULONG>> {
        entries
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.as_ulong())
            .transpose()
    };
    let class = ulong_of(CKA_CLASS)?.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
    let key_type = match class {
        CKO_DATA | CKO_CERTIFICATE => None,
        CKO_PUBLIC_KEY | CKO_PRIVATE_KEY | CKO_SECRET_KEY => {
            let key_type = ulong_of(CKA_KEY_TYPE)?.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
            check_key_type(class, key_type)?;
            Some(key_type)
        }
        _ => return Err(Rv::ATTRIBUTE_VALUE_INVALID),
    };
    if class == CKO_CERTIFICATE {
        // Absent: CKR_TEMPLATE_INCOMPLETE from the table.
        if ulong_of(CKA_CERTIFICATE_TYPE)?.is_some_and(|t| t != CKC_X_509) {
            return Err(Rv::ATTRIBUTE_VALUE_INVALID);
        }
    }
    build::build(class, key_type, &entries, Mode::Create, actor, hardening)
}

/// The attributes of a copy (C_CopyObject, §5.7): `source`'s, changed by
/// `template` where the spec allows: attributes that can ordinarily be
/// modified (in their allowed direction), and CKA_TOKEN, CKA_PRIVATE,
/// CKA_DESTROYABLE, CKA_MODIFIABLE (TRUE → FALSE). Secrets are re-sealed;
/// CKA_UNIQUE_ID is removed for the store to assign. Uses
/// [`Hardening::STRICT`]; see [`for_copy_with`].
///
/// # Errors
/// CKR_ACTION_PROHIBITED when CKA_COPYABLE is false; CKR_ATTRIBUTE_READ_ONLY
/// for attributes a copy may not change; CKR_ATTRIBUTE_TYPE_INVALID;
/// CKR_ATTRIBUTE_VALUE_INVALID; CKR_TEMPLATE_INCONSISTENT.
pub fn for_copy(source: &Attributes, template: &Template, actor: Actor) -> Result<Attributes> {
    for_copy_with(source, template, actor, &Hardening::STRICT)
}

/// [`for_copy`] under the given hardening rules.
///
/// # Errors
/// As [`for_copy`].
pub fn for_copy_with(
    source: &Attributes,
    template: &Template,
    actor: Actor,
    hardening: &Hardening,
) -> Result<Attributes> {
    if !source.flag(CKA_COPYABLE, true) {
        return Err(Rv::ACTION_PROHIBITED);
    }
    change::apply(source, template, actor, hardening, Change::Copy)
}

/// The attributes after C_SetAttributeValue (§5.7), or the reason it is
/// refused. Nothing changes when it is refused: the result is a new
/// [`Attributes`]. Uses [`Hardening::STRICT`]; see [`for_set_with`].
///
/// # Errors
/// CKR_ACTION_PROHIBITED when CKA_MODIFIABLE is false;
/// CKR_ATTRIBUTE_READ_ONLY (read-only attributes, one-way attributes going
/// back, CKA_TRUSTED=TRUE by a non-SO, any change to a trusted
/// certificate); CKR_ATTRIBUTE_TYPE_INVALID; CKR_ATTRIBUTE_VALUE_INVALID;
/// CKR_TEMPLATE_INCONSISTENT (duplicates; the role-separation rule).
pub fn for_set(current: &Attributes, template: &Template, actor: Actor) -> Result<Attributes> {
    for_set_with(current, template, actor, &Hardening::STRICT)
}

/// [`for_set`] under the given hardening rules.
///
/// # Errors
/// As [`for_set`].
pub fn for_set_with(
    current: &Attributes,
    template: &Template,
    actor: Actor,
    hardening: &Hardening,
) -> Result<Attributes> {
    if !current.flag(CKA_MODIFIABLE, true) {
        return Err(Rv::ACTION_PROHIBITED);
    }
    change::apply(current, template, actor, hardening, Change::Set)
}

/// The attributes of a key the token makes (generate, unwrap, derive), before
/// the mechanism adds the key value and the attributes computed from it
/// (CKA_VALUE and CKA_VALUE_LEN, CKA_MODULUS and CKA_MODULUS_BITS,
/// CKA_EC_POINT ...) and sets CKA_KEY_GEN_MECHANISM (left
/// CK_UNAVAILABLE_INFORMATION here). CKA_LOCAL is TRUE for generated keys;
/// CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE follow the origin (both FALSE
/// for unwrapped keys). Parameters of the generation (CKA_VALUE_LEN,
/// CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS) are stored for the
/// mechanism to read. For C_UnwrapKey, append the unwrapping key's
/// CKA_UNWRAP_TEMPLATE to the client's template: a conflict is
/// CKR_TEMPLATE_INCONSISTENT. Uses the actor's hardening; see
/// [`for_new_key_with`].
///
/// # Errors
/// As [`for_create`] (with footnote 3 in place of footnote 1 for generated
/// keys), CKR_ATTRIBUTE_READ_ONLY for key material in the template, and
/// CKR_TEMPLATE_INCONSISTENT when the template's class or key type disagree
/// with the mechanism's.
pub fn for_new_key(
    class: CK_OBJECT_CLASS,
    key_type: CK_KEY_TYPE,
    template: &Template,
    origin: KeyOrigin,
    actor: Actor,
) -> Result<Attributes> {
    for_new_key_with(class, key_type, template, origin, actor, &actor.hardening)
}

/// [`for_new_key`] under the given hardening rules.
///
/// # Errors
/// As [`for_new_key`].
pub fn for_new_key_with(
    class: CK_OBJECT_CLASS,
    key_type: CK_KEY_TYPE,
    template: &Template,
    origin: KeyOrigin,
    actor: Actor,
    hardening: &Hardening,
) -> Result<Attributes> {
    if !is_key_class(class) {
        return Err(Rv::ATTRIBUTE_VALUE_INVALID);
    }
    check_key_type(class, key_type)?;
    let entries = dedup(template)?;
    for (kind, expected) in [(CKA_CLASS, class), (CKA_KEY_TYPE, key_type)] {
        if let Some(a) = entries.iter().find(|a| a.kind == kind) {
            if a.as_ulong()? != expected {
                return Err(Rv::TEMPLATE_INCONSISTENT);
            }
        }
    }
    build::build(
        class,
        Some(key_type),
        &entries,
        Mode::New(origin),
        actor,
        hardening,
    )
}

/// One attribute's value for C_GetAttributeValue (§5.7). Key material is
/// unsealed into a buffer wiped on drop.
///
/// # Errors
/// CKR_ATTRIBUTE_SENSITIVE for key material of a key that is sensitive or
/// unextractable (or lacks either attribute: the check fails closed);
/// CKR_ATTRIBUTE_TYPE_INVALID for an attribute the object lacks.
pub fn read(attrs: &Attributes, kind: CK_ATTRIBUTE_TYPE) -> Result<Zeroizing<Vec<u8>>> {
    let value = attrs.get(kind);
    let secret = is_secret_attribute(attrs.class(), attrs.key_type(), kind)
        || matches!(value, Some(AttrValue::Secret(_)));
    if secret && !revealable(attrs) {
        return Err(Rv::ATTRIBUTE_SENSITIVE);
    }
    match value {
        None => Err(Rv::ATTRIBUTE_TYPE_INVALID),
        Some(AttrValue::Plain(v)) => Ok(Zeroizing::new(v.clone())),
        Some(AttrValue::Secret(s)) => unseal(s),
    }
}

/// Whether the object matches a C_FindObjectsInit template (§5.7): every
/// template attribute equals the object's value byte for byte, CK_BBOOLs
/// compared as booleans. A template naming key material never matches, so a
/// search cannot test a secret.
pub fn matches(attrs: &Attributes, template: &Template) -> bool {
    let rules = Rules::of_object(attrs);
    template.iter().all(|t| {
        let secret = rules
            .as_ref()
            .and_then(|r| r.find(t.kind))
            .is_some_and(|rule| rule.has(SECRET));
        match attrs.get(t.kind) {
            Some(AttrValue::Plain(v)) if !secret => build::same_value(t.kind, v, &t.value),
            _ => false,
        }
    })
}

/// Whether the object may be destroyed (C_DestroyObject, §5.7).
///
/// # Errors
/// CKR_ACTION_PROHIBITED when CKA_DESTROYABLE is false.
pub fn may_destroy(attrs: &Attributes) -> Result<()> {
    if attrs.flag(CKA_DESTROYABLE, true) {
        Ok(())
    } else {
        Err(Rv::ACTION_PROHIBITED)
    }
}

/// Whether `attr` is key material for an object of `class` and `key_type`
/// (footnote 7): held sealed, never revealed when the key is sensitive or
/// unextractable, never matched by C_FindObjects.
pub fn is_secret_attribute(
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    attr: CK_ATTRIBUTE_TYPE,
) -> bool {
    Rules::of(class, key_type)
        .and_then(|r| r.find(attr))
        .is_some_and(|rule| rule.has(SECRET))
}

/// Whether `attr` is one of the spec's attributes of an object of `class`
/// and `key_type` (vendor-defined attributes are accepted without being
/// "known").
pub fn attribute_known(
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    attr: CK_ATTRIBUTE_TYPE,
) -> bool {
    Rules::of(class, key_type).is_some_and(|r| r.find(attr).is_some())
}

/// Whether a secret key of `key_type` may be `len` bytes long (AES 16, 24
/// or 32; DES 8, DES2 16, DES3 24; generic secret, HMAC and HKDF keys at
/// least one byte). False for key types that are not secret keys.
pub fn secret_key_length_ok(key_type: CK_KEY_TYPE, len: usize) -> bool {
    match family(key_type) {
        Some(Family::Secret { lens, .. }) => build::length_ok(lens, len),
        _ => false,
    }
}

/// CKR_ATTRIBUTE_VALUE_INVALID for a key type ProzHSM does not hold,
/// CKR_TEMPLATE_INCONSISTENT for one of another class.
fn check_key_type(class: CK_OBJECT_CLASS, key_type: CK_KEY_TYPE) -> Result<()> {
    if family(key_type).is_none() {
        Err(Rv::ATTRIBUTE_VALUE_INVALID)
    } else if !key_type_fits(class, key_type) {
        Err(Rv::TEMPLATE_INCONSISTENT)
    } else {
        Ok(())
    }
}

/// Whether key material of this object may be revealed: CKA_SENSITIVE
/// false and CKA_EXTRACTABLE true (footnote 7). Fails closed when either is
/// missing.
fn revealable(attrs: &Attributes) -> bool {
    !attrs.flag(CKA_SENSITIVE, true) && attrs.flag(CKA_EXTRACTABLE, false)
}

/// The one place that unseals for C_GetAttributeValue.
fn unseal(sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>> {
    let clear = sealed.unseal()?;
    Ok(Zeroizing::new(clear.as_slice().to_vec()))
}
