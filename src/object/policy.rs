//! The attribute policy: per-class tables of which attributes an object
//! has, their defaults, which are sensitive, which the client may set on
//! create, change later, and in which direction (PKCS#11 3.0 §4).

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::Template;
use crate::error::{Result, Rv};
use crate::object::Attributes;

/// Who is acting; some attributes (CKA_TRUSTED) only the SO may set.
#[derive(Clone, Copy, Debug, Default)]
pub struct Actor {
    pub so: bool,
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

/// The attributes of a new object from a C_CreateObject template: class
/// checked, required attributes present, defaults filled in, key material
/// sealed, token-computed attributes (CKA_LOCAL ...) set by the token.
///
/// # Errors
/// CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT,
/// CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_TYPE_INVALID,
/// CKR_ATTRIBUTE_VALUE_INVALID.
pub fn for_create(template: &Template, actor: Actor) -> Result<Attributes> {
    let _ = (template, actor);
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}

/// The attributes of a copy (C_CopyObject): `source`'s, changed by
/// `template` where the spec allows.
///
/// # Errors
/// CKR_ACTION_PROHIBITED when CKA_COPYABLE is false; CKR_ATTRIBUTE_READ_ONLY
/// for attributes a copy may not change; CKR_TEMPLATE_INCONSISTENT.
pub fn for_copy(source: &Attributes, template: &Template, actor: Actor) -> Result<Attributes> {
    let _ = (source, template, actor);
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}

/// The attributes after C_SetAttributeValue, or the reason it is refused.
/// Nothing changes when it is refused.
///
/// # Errors
/// CKR_ACTION_PROHIBITED when CKA_MODIFIABLE is false;
/// CKR_ATTRIBUTE_READ_ONLY; CKR_ATTRIBUTE_VALUE_INVALID;
/// CKR_TEMPLATE_INCONSISTENT.
pub fn for_set(current: &Attributes, template: &Template, actor: Actor) -> Result<Attributes> {
    let _ = (current, template, actor);
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}

/// The attributes of a key the token makes (generate, unwrap, derive), before
/// the mechanism adds the key value and the attributes computed from it.
///
/// # Errors
/// As [`for_create`], and CKR_TEMPLATE_INCONSISTENT when the template's class
/// or key type disagree with the mechanism's.
pub fn for_new_key(
    class: CK_OBJECT_CLASS,
    key_type: CK_KEY_TYPE,
    template: &Template,
    origin: KeyOrigin,
    actor: Actor,
) -> Result<Attributes> {
    let _ = (class, key_type, template, origin, actor);
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}

/// One attribute's value for C_GetAttributeValue.
///
/// # Errors
/// CKR_ATTRIBUTE_SENSITIVE for key material of a sensitive or unextractable
/// key; CKR_ATTRIBUTE_TYPE_INVALID for an attribute the object lacks.
pub fn read(attrs: &Attributes, kind: CK_ATTRIBUTE_TYPE) -> Result<Zeroizing<Vec<u8>>> {
    let _ = (attrs, kind);
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}

/// Whether the object matches a C_FindObjectsInit template. A sensitive
/// value never matches, so a search cannot test a secret.
pub fn matches(attrs: &Attributes, template: &Template) -> bool {
    let _ = (attrs, template);
    false
}
