//! Building a new object's attributes from a template: C_CreateObject, and
//! the keys the token makes (generate, unwrap, derive).

use cryptoki_sys::*;

use super::rules::{
    family, find, is_key_class, outside, vtype, Def, Family, Outside, Rule, Rules, VType,
    NO_CREATE, NO_GEN, NO_UNWRAP, REQ_CREATE, REQ_GEN, SECRET, SO_TRUE,
};
use super::{Actor, Hardening, KeyOrigin};
use crate::backend::{Attr, Template};
use crate::error::{Result, Rv};
use crate::object::{codec, AttrValue, Attributes};

const ULONG: usize = std::mem::size_of::<CK_ULONG>();

/// How the object comes to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// C_CreateObject: the client supplies the whole object.
    Create,
    /// A key the token makes; its value comes from the mechanism.
    New(KeyOrigin),
}

impl Mode {
    /// The flag of the attributes a template must not give in this mode.
    fn forbidden(self) -> u32 {
        match self {
            Mode::Create => NO_CREATE,
            Mode::New(KeyOrigin::Unwrapped) => NO_UNWRAP,
            // Derived keys get their material from the mechanism, as
            // generated ones do.
            Mode::New(KeyOrigin::Generated | KeyOrigin::Derived { .. }) => NO_GEN,
        }
    }

    /// The flag of the attributes a template must give in this mode.
    fn required(self) -> u32 {
        match self {
            Mode::Create => REQ_CREATE,
            Mode::New(KeyOrigin::Generated) => REQ_GEN,
            Mode::New(_) => 0,
        }
    }
}

/// The template with repeated attributes merged: the same value twice is
/// accepted, two different values are CKR_TEMPLATE_INCONSISTENT (§4.1.1).
pub(super) fn dedup(template: &Template) -> Result<Vec<&Attr>> {
    let mut out: Vec<&Attr> = Vec::with_capacity(template.len());
    for a in template {
        match out.iter().find(|b| b.kind == a.kind) {
            Some(b) if same_value(a.kind, &a.value, &b.value) => {}
            Some(_) => return Err(Rv::TEMPLATE_INCONSISTENT),
            None => out.push(a),
        }
    }
    Ok(out)
}

/// Whether two values of `kind` are equal; CK_BBOOLs compare as booleans
/// (any non-zero byte is CK_TRUE).
pub(super) fn same_value(kind: CK_ATTRIBUTE_TYPE, a: &[u8], b: &[u8]) -> bool {
    match (vtype(kind), a, b) {
        (VType::Bool, [x], [y]) => (*x != 0) == (*y != 0),
        _ => a == b,
    }
}

/// Whether a template value is a CK_TRUE CK_BBOOL.
pub(super) fn is_true(value: &[u8]) -> bool {
    matches!(value, [b] if *b != 0)
}

/// Check a value's size and form for its type.
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID.
pub(super) fn check_value(kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> Result<()> {
    let ok = match vtype(kind) {
        VType::Bool => value.len() == 1,
        VType::Ulong => value.len() == ULONG,
        VType::Date => value.is_empty() || value.len() == 8,
        VType::MechList => value.len() % ULONG == 0,
        VType::Template => match codec::decode(value) {
            Ok(inner) => inner.iter().all(|a| check_value(a.kind, &a.value).is_ok()),
            Err(_) => false,
        },
        VType::Bytes => true,
    };
    let ok = ok
        && match kind {
            // CK_CERTIFICATE_CATEGORY_* and CK_SECURITY_DOMAIN_*: 0 to 3.
            CKA_CERTIFICATE_CATEGORY | CKA_JAVA_MIDP_SECURITY_DOMAIN => ulong(value) <= 3,
            _ => true,
        };
    if ok {
        Ok(())
    } else {
        Err(Rv::ATTRIBUTE_VALUE_INVALID)
    }
}

/// A CK_ULONG value already checked for size.
fn ulong(value: &[u8]) -> CK_ULONG {
    value
        .try_into()
        .map(CK_ULONG::from_ne_bytes)
        .unwrap_or(CK_UNAVAILABLE_INFORMATION)
}

/// Build the attributes of a new object of `class` (and `key_type`) from a
/// de-duplicated template. The caller has checked that the class and key
/// type are supported and agree with the template.
pub(super) fn build(
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    entries: &[&Attr],
    mode: Mode,
    actor: Actor,
    hardening: &Hardening,
) -> Result<Attributes> {
    let rules = Rules::of(class, key_type).ok_or(Rv::TEMPLATE_INCONSISTENT)?;
    let given = |kind: CK_ATTRIBUTE_TYPE| entries.iter().find(|a| a.kind == kind).copied();

    // Every given attribute belongs to the class and has a valid value.
    for a in entries {
        match find(&rules, a.kind) {
            Some(rule) => {
                check_value(a.kind, &a.value)?;
                if rule.has(SO_TRUE) && is_true(&a.value) && !actor.so {
                    return Err(Rv::ATTRIBUTE_READ_ONLY);
                }
            }
            None => match outside(a.kind) {
                Outside::Vendor => {}
                Outside::Reserved => return Err(Rv::ATTRIBUTE_READ_ONLY),
                Outside::Invalid => return Err(Rv::ATTRIBUTE_TYPE_INVALID),
            },
        }
    }

    // What the mode requires is there.
    if rules
        .all()
        .any(|rule| rule.has(mode.required()) && given(rule.kind).is_none())
    {
        return Err(Rv::TEMPLATE_INCOMPLETE);
    }

    // The template's values, then the defaults, then what the token computes.
    let wants_wrap = [CKA_WRAP, CKA_UNWRAP]
        .iter()
        .any(|k| given(*k).is_some_and(|a| is_true(&a.value)));
    let mut attrs = Attributes::new();
    for rule in rules.all() {
        match given(rule.kind) {
            Some(a) if !rule.has(mode.forbidden()) => store(&mut attrs, rule, &a.value),
            _ => default(&mut attrs, rule, class, mode, hardening, wants_wrap),
        }
    }
    for a in entries {
        if find(&rules, a.kind).is_none() {
            attrs.set_bytes(a.kind, &a.value);
        }
    }
    compute(&mut attrs, class, key_type, mode, entries)?;
    if hardening.separate_wrap_and_decrypt && super::change::extractable_wrapping_key(&attrs) {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }

    // A token-computed attribute may be given only with the value the token
    // computed (CKA_LOCAL=FALSE on create ...); key material never.
    for a in entries {
        if let Some(rule) = find(&rules, a.kind) {
            if rule.has(mode.forbidden()) {
                match attrs.get(a.kind) {
                    Some(AttrValue::Plain(v)) if same_value(a.kind, v, &a.value) => {}
                    _ => return Err(Rv::ATTRIBUTE_READ_ONLY),
                }
            }
        }
    }

    let empty = |kind| attrs.bytes(kind).is_some_and(<[u8]>::is_empty);
    if class == CKO_CERTIFICATE && empty(CKA_VALUE) && empty(CKA_URL) {
        // "MUST be non-empty if CKA_URL is empty."
        return Err(Rv::ATTRIBUTE_VALUE_INVALID);
    }
    if attrs.flag(CKA_ALWAYS_AUTHENTICATE, false) && !attrs.is_private() {
        // An object usable without login cannot ask for a login per use.
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    Ok(attrs)
}

/// Store a template value: key material sealed, CK_BBOOLs as 0 or 1.
fn store(attrs: &mut Attributes, rule: &Rule, value: &[u8]) {
    if rule.has(SECRET) {
        attrs.set_secret(rule.kind, value);
    } else if vtype(rule.kind) == VType::Bool {
        attrs.set_bool(rule.kind, is_true(value));
    } else {
        attrs.set_bytes(rule.kind, value);
    }
}

/// Store the default of an attribute the template does not give.
fn default(
    attrs: &mut Attributes,
    rule: &Rule,
    class: CK_OBJECT_CLASS,
    mode: Mode,
    hardening: &Hardening,
    wants_wrap: bool,
) {
    let separate = hardening.separate_wrap_and_decrypt;
    match rule.def {
        Def::None | Def::Computed => {}
        Def::False => attrs.set_bool(rule.kind, false),
        Def::True => attrs.set_bool(rule.kind, true),
        Def::Empty => attrs.set_bytes(rule.kind, &[]),
        Def::Ulong(v) => attrs.set_ulong(rule.kind, v),
        Def::PrivateByClass => attrs.set_bool(
            rule.kind,
            !matches!(class, CKO_CERTIFICATE | CKO_PUBLIC_KEY),
        ),
        Def::Sensitive => attrs.set_bool(rule.kind, matches!(mode, Mode::New(_))),
        Def::Usage => {
            let data_role = matches!(rule.kind, CKA_ENCRYPT | CKA_DECRYPT);
            attrs.set_bool(rule.kind, !(separate && wants_wrap && data_role));
        }
        Def::WrapUsage => attrs.set_bool(rule.kind, !separate),
    }
}

/// Set what the token computes: class and key type, CKA_LOCAL,
/// CKA_KEY_GEN_MECHANISM, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, and
/// on create CKA_VALUE_LEN and CKA_MODULUS_BITS from the key material; and
/// check key lengths.
fn compute(
    attrs: &mut Attributes,
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    mode: Mode,
    entries: &[&Attr],
) -> Result<()> {
    attrs.set_ulong(CKA_CLASS, class);
    let Some(key_type) = key_type.filter(|_| is_key_class(class)) else {
        return Ok(());
    };
    attrs.set_ulong(CKA_KEY_TYPE, key_type);
    attrs.set_bool(CKA_LOCAL, mode == Mode::New(KeyOrigin::Generated));
    attrs.set_ulong(CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
    if class != CKO_PUBLIC_KEY {
        let sensitive = attrs.flag(CKA_SENSITIVE, false);
        let unextractable = !attrs.flag(CKA_EXTRACTABLE, true);
        let (always_sensitive, never_extractable) = match mode {
            Mode::Create | Mode::New(KeyOrigin::Unwrapped) => (false, false),
            Mode::New(KeyOrigin::Generated) => (sensitive, unextractable),
            Mode::New(KeyOrigin::Derived {
                base_always_sensitive,
                base_never_extractable,
            }) => (
                sensitive && base_always_sensitive,
                unextractable && base_never_extractable,
            ),
        };
        attrs.set_bool(CKA_ALWAYS_SENSITIVE, always_sensitive);
        attrs.set_bool(CKA_NEVER_EXTRACTABLE, never_extractable);
    }

    let given = |kind: CK_ATTRIBUTE_TYPE| entries.iter().find(|a| a.kind == kind);
    match family(key_type) {
        Some(Family::Secret { lens, fixed }) => match mode {
            Mode::Create => {
                let len = given(CKA_VALUE).map_or(0, |a| a.value.len());
                if !length_ok(lens, len) {
                    return Err(Rv::ATTRIBUTE_VALUE_INVALID);
                }
                if !fixed {
                    attrs.set_ulong(CKA_VALUE_LEN, len as CK_ULONG);
                }
            }
            Mode::New(_) => {
                if let Some(len) = attrs.ulong(CKA_VALUE_LEN) {
                    if !length_ok(lens, usize::try_from(len).unwrap_or(usize::MAX)) {
                        return Err(Rv::ATTRIBUTE_VALUE_INVALID);
                    }
                }
            }
        },
        Some(Family::Rsa) if class == CKO_PUBLIC_KEY && mode == Mode::Create => {
            let bits = given(CKA_MODULUS).map_or(0, |a| bit_length(&a.value));
            if bits == 0 {
                return Err(Rv::ATTRIBUTE_VALUE_INVALID);
            }
            attrs.set_ulong(CKA_MODULUS_BITS, bits as CK_ULONG);
        }
        _ => {}
    }
    Ok(())
}

/// Whether a secret key of a type allowing `lens` may be `len` bytes long.
pub(super) fn length_ok(lens: &[usize], len: usize) -> bool {
    if lens.is_empty() {
        len > 0
    } else {
        lens.contains(&len)
    }
}

/// The length in bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i - 1) * 8 + (8 - bytes[i].leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0xff; 256]), 2048);
    }

    #[test]
    fn value_checks() {
        assert!(check_value(CKA_TOKEN, &[1]).is_ok());
        assert_eq!(
            check_value(CKA_TOKEN, &[1, 0]),
            Err(Rv::ATTRIBUTE_VALUE_INVALID)
        );
        assert_eq!(
            check_value(CKA_CLASS, &[0; 4]),
            Err(Rv::ATTRIBUTE_VALUE_INVALID)
        );
        assert!(check_value(CKA_START_DATE, b"").is_ok());
        assert!(check_value(CKA_START_DATE, b"20250101").is_ok());
        assert!(check_value(CKA_START_DATE, b"2025").is_err());
        assert!(check_value(CKA_ALLOWED_MECHANISMS, &[0; 16]).is_ok());
        assert!(check_value(CKA_ALLOWED_MECHANISMS, &[0; 12]).is_err());
        assert!(check_value(CKA_CERTIFICATE_CATEGORY, &4u64.to_ne_bytes()).is_err());
        let good = codec::encode_template(&[Attr::bool(CKA_SENSITIVE, true)]);
        assert!(check_value(CKA_WRAP_TEMPLATE, &good).is_ok());
        let bad = codec::encode_template(&[Attr::new(CKA_SENSITIVE, &[1, 1])]);
        assert!(check_value(CKA_WRAP_TEMPLATE, &bad).is_err());
        assert!(check_value(CKA_WRAP_TEMPLATE, &[1, 2, 3]).is_err());
    }

    #[test]
    fn duplicates() {
        let t = [Attr::new(CKA_TOKEN, &[1]), Attr::new(CKA_TOKEN, &[0xff])];
        assert_eq!(dedup(&t).map(|v| v.len()), Ok(1));
        let t = [Attr::bool(CKA_TOKEN, true), Attr::bool(CKA_TOKEN, false)];
        assert_eq!(dedup(&t).err(), Some(Rv::TEMPLATE_INCONSISTENT));
    }
}
