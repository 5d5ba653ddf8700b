//! Objects as typed attribute maps, and the rules about them.
//!
//! - [`Attributes`]: an object's attributes, type → value. Key material is
//!   held [`Sealed`]; everything else in plain bytes. Attributes the token
//!   does not model (vendor ones, future ones) are stored and returned as
//!   they came.
//! - [`policy`]: which attributes a class has, defaults, which are sensitive,
//!   which may change and in which direction; template checks for create,
//!   copy, set, generate, unwrap and derive; matching for find.
//! - [`codec`]: the byte encoding of attribute lists (store records,
//!   attribute arrays such as CKA_WRAP_TEMPLATE).

pub mod codec;
pub mod policy;

use std::collections::BTreeMap;

use cryptoki_sys::*;

use crate::secure::Sealed;

/// One attribute value: plain bytes, or key material sealed in memory.
#[derive(Debug)]
pub enum AttrValue {
    Plain(Vec<u8>),
    Secret(Sealed),
}

impl AttrValue {
    /// A second, independent copy (a secret is re-sealed).
    pub fn duplicate(&self) -> AttrValue {
        match self {
            AttrValue::Plain(v) => AttrValue::Plain(v.clone()),
            AttrValue::Secret(s) => AttrValue::Secret(s.duplicate()),
        }
    }

    /// The value's length in clear.
    pub fn len(&self) -> usize {
        match self {
            AttrValue::Plain(v) => v.len(),
            AttrValue::Secret(s) => s.secret_len(),
        }
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An object's attributes, ordered by type so encodings are deterministic.
#[derive(Debug, Default)]
pub struct Attributes {
    map: BTreeMap<CK_ATTRIBUTE_TYPE, AttrValue>,
}

impl Attributes {
    /// No attributes.
    pub fn new() -> Attributes {
        Attributes::default()
    }

    /// The value of `kind`, if present.
    pub fn get(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<&AttrValue> {
        self.map.get(&kind)
    }

    /// Whether `kind` is present.
    pub fn has(&self, kind: CK_ATTRIBUTE_TYPE) -> bool {
        self.map.contains_key(&kind)
    }

    /// A plain value's bytes (None for absent or secret values).
    pub fn bytes(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        match self.map.get(&kind) {
            Some(AttrValue::Plain(v)) => Some(v),
            _ => None,
        }
    }

    /// A CK_BBOOL value (None when absent or malformed).
    pub fn bool(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<bool> {
        match self.bytes(kind) {
            Some([b]) => Some(*b != 0),
            _ => None,
        }
    }

    /// A CK_BBOOL value, `default` when absent.
    pub fn flag(&self, kind: CK_ATTRIBUTE_TYPE, default: bool) -> bool {
        self.bool(kind).unwrap_or(default)
    }

    /// A CK_ULONG value (None when absent or malformed).
    pub fn ulong(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<CK_ULONG> {
        let b: [u8; std::mem::size_of::<CK_ULONG>()] = self.bytes(kind)?.try_into().ok()?;
        Some(CK_ULONG::from_ne_bytes(b))
    }

    /// The object's class; every object has one.
    pub fn class(&self) -> CK_OBJECT_CLASS {
        self.ulong(CKA_CLASS).unwrap_or(CK_UNAVAILABLE_INFORMATION)
    }

    /// The key type, for key objects.
    pub fn key_type(&self) -> Option<CK_KEY_TYPE> {
        self.ulong(CKA_KEY_TYPE)
    }

    /// Whether this is a token object (CKA_TOKEN).
    pub fn is_token(&self) -> bool {
        self.flag(CKA_TOKEN, false)
    }

    /// Whether this is a private object (CKA_PRIVATE).
    pub fn is_private(&self) -> bool {
        self.flag(CKA_PRIVATE, false)
    }

    /// Set a value.
    pub fn set(&mut self, kind: CK_ATTRIBUTE_TYPE, value: AttrValue) {
        self.map.insert(kind, value);
    }

    /// Set a plain value.
    pub fn set_bytes(&mut self, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) {
        self.map.insert(kind, AttrValue::Plain(value.to_vec()));
    }

    /// Set a CK_BBOOL value.
    pub fn set_bool(&mut self, kind: CK_ATTRIBUTE_TYPE, value: bool) {
        self.set_bytes(kind, &[value as u8]);
    }

    /// Set a CK_ULONG value.
    pub fn set_ulong(&mut self, kind: CK_ATTRIBUTE_TYPE, value: CK_ULONG) {
        self.set_bytes(kind, &value.to_ne_bytes());
    }

    /// Seal and set a secret value.
    pub fn set_secret(&mut self, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) {
        self.map
            .insert(kind, AttrValue::Secret(Sealed::seal(value)));
    }

    /// Remove a value.
    pub fn remove(&mut self, kind: CK_ATTRIBUTE_TYPE) -> Option<AttrValue> {
        self.map.remove(&kind)
    }

    /// All attributes in type order.
    pub fn iter(&self) -> impl Iterator<Item = (CK_ATTRIBUTE_TYPE, &AttrValue)> {
        self.map.iter().map(|(k, v)| (*k, v))
    }

    /// An independent copy (secrets re-sealed).
    pub fn duplicate(&self) -> Attributes {
        Attributes {
            map: self.map.iter().map(|(k, v)| (*k, v.duplicate())).collect(),
        }
    }

    /// The sum of the values' lengths: C_GetObjectSize's answer.
    pub fn size(&self) -> usize {
        self.map
            .values()
            .map(|v| v.len() + 2 * std::mem::size_of::<CK_ULONG>())
            .sum()
    }
}
