//! Changing an existing object: C_SetAttributeValue and the template of
//! C_CopyObject.

use cryptoki_sys::*;

use super::build::{check_value, dedup, is_true};
use super::rules::{
    find, outside, vtype, Outside, Rules, VType, CLEAR, COPY, SET, SO_TRUE, TO_FALSE, TO_TRUE,
};
use super::{Actor, Hardening};
use crate::backend::Template;
use crate::error::{Result, Rv};
use crate::object::Attributes;

/// Which call changes the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// C_SetAttributeValue on the object itself.
    Set,
    /// The template of C_CopyObject, applied to the copy.
    Copy,
}

/// `current` changed by `template`, or the reason the change is refused.
/// The caller has checked CKA_MODIFIABLE (set) or CKA_COPYABLE (copy).
pub(super) fn apply(
    current: &Attributes,
    template: &Template,
    actor: Actor,
    hardening: &Hardening,
    change: Change,
) -> Result<Attributes> {
    let entries = dedup(template)?;
    let rules = Rules::of_object(current);
    let modifiable = current.flag(CKA_MODIFIABLE, true);
    // "Trusted certificates cannot be modified" (§4.6.2).
    let frozen = current.class() == CKO_CERTIFICATE && current.flag(CKA_TRUSTED, false);
    let mut next = current.duplicate();

    for a in entries {
        let Some(rule) = rules.as_ref().and_then(|r| find(r, a.kind)) else {
            match outside(a.kind) {
                // Another vendor's attribute changes as any ordinarily
                // modifiable attribute does.
                Outside::Vendor if modifiable && !frozen => {
                    next.set_bytes(a.kind, &a.value);
                    continue;
                }
                Outside::Vendor | Outside::Reserved => return Err(Rv::ATTRIBUTE_READ_ONLY),
                Outside::Invalid => return Err(Rv::ATTRIBUTE_TYPE_INVALID),
            }
        };
        check_value(a.kind, &a.value)?;
        let settable = rule.has(SET) || (rule.has(CLEAR) && a.value.is_empty());
        let may_change =
            (rule.has(COPY) && change == Change::Copy) || (settable && modifiable && !frozen);
        if !may_change {
            return Err(Rv::ATTRIBUTE_READ_ONLY);
        }
        if vtype(a.kind) == VType::Bool {
            let new = is_true(&a.value);
            let old = current.bool(a.kind);
            let locked = (rule.has(TO_TRUE) && old == Some(true) && !new)
                || (rule.has(TO_FALSE) && old == Some(false) && new)
                || (rule.has(SO_TRUE) && new && old != Some(true) && !actor.so);
            if locked {
                return Err(Rv::ATTRIBUTE_READ_ONLY);
            }
            next.set_bool(a.kind, new);
        } else {
            // Settable attributes are never key material (a table test
            // keeps it so), so the value is plain.
            next.set_bytes(a.kind, &a.value);
        }
    }

    if change == Change::Copy {
        // The copy is a new object: the store gives it its own identifier.
        next.remove(CKA_UNIQUE_ID);
    }
    if hardening.separate_wrap_and_decrypt
        && (refuses_bridge(current, &next)
            || (extractable_wrapping_key(&next) && !extractable_wrapping_key(current)))
    {
        return Err(Rv::TEMPLATE_INCONSISTENT);
    }
    Ok(next)
}

/// The second half of the role-separation rule: a key-wrapping key
/// (CKA_WRAP or CKA_UNWRAP) is never extractable. Otherwise its roles can be
/// laundered: switch CKA_WRAP off, wrap it under another key, unwrap the copy
/// with CKA_DECRYPT, and decrypt every blob the original wrapped. Since
/// CKA_EXTRACTABLE only goes TRUE → FALSE, a wrapping key made unextractable
/// stays so.
pub(super) fn extractable_wrapping_key(attrs: &Attributes) -> bool {
    (attrs.flag(CKA_WRAP, false) || attrs.flag(CKA_UNWRAP, false))
        && attrs.flag(CKA_EXTRACTABLE, false)
}

/// The role-separation rule of the key-management hardening (issue 3):
/// usage attributes cannot be switched on later to make one key both a
/// key-wrapping key (CKA_WRAP / CKA_UNWRAP) and a data key (CKA_ENCRYPT /
/// CKA_DECRYPT), which would let a wrapped sensitive key be decrypted into
/// the clear, or known bytes be encrypted and unwrapped as a "sensitive"
/// key.
///
/// True when `after` has both roles and the change switched on one of the
/// four attributes. A key that already had both roles (created so
/// explicitly, or under the `softhsm` profile) keeps them, but gains no
/// further one.
pub(super) fn refuses_bridge(before: &Attributes, after: &Attributes) -> bool {
    const WRAP_ROLE: [CK_ATTRIBUTE_TYPE; 2] = [CKA_WRAP, CKA_UNWRAP];
    const DATA_ROLE: [CK_ATTRIBUTE_TYPE; 2] = [CKA_ENCRYPT, CKA_DECRYPT];
    let on = |attrs: &Attributes, kind| attrs.flag(kind, false);
    let both_roles =
        WRAP_ROLE.iter().any(|k| on(after, *k)) && DATA_ROLE.iter().any(|k| on(after, *k));
    both_roles
        && WRAP_ROLE
            .iter()
            .chain(DATA_ROLE.iter())
            .any(|k| on(after, *k) && !on(before, *k))
}
