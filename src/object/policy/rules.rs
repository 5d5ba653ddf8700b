//! The attribute tables: for each object class and key type, the attributes
//! the object has, and for each its flags and its default.
//!
//! The flags follow the common footnotes of PKCS#11 3.0 §4.2 (Table 10), the
//! numbers in the comments are the footnote numbers. Every rule about which
//! attribute may be given, changed or read lives here as data; the logic in
//! `build.rs` and `change.rs` only reads these tables.

use cryptoki_sys::*;

/// Footnote 1: must be specified when the object is created with
/// C_CreateObject.
pub(super) const REQ_CREATE: u32 = 1 << 0;
/// Footnote 2: must not be specified on C_CreateObject (token-computed).
pub(super) const NO_CREATE: u32 = 1 << 1;
/// Footnote 3: must be specified when generated (C_GenerateKey/KeyPair).
pub(super) const REQ_GEN: u32 = 1 << 2;
/// Footnote 4: must not be specified when generated.
pub(super) const NO_GEN: u32 = 1 << 3;
/// Footnote 6: must not be specified when unwrapped (C_UnwrapKey).
pub(super) const NO_UNWRAP: u32 = 1 << 5;
/// Footnote 7: key material; cannot be revealed if the object is sensitive
/// or unextractable. Held sealed.
pub(super) const SECRET: u32 = 1 << 6;
/// Footnote 8: may be changed by C_SetAttributeValue and in C_CopyObject.
pub(super) const SET: u32 = 1 << 7;
/// Footnote 10: only the SO may set it to CK_TRUE.
pub(super) const SO_TRUE: u32 = 1 << 9;
/// Footnote 11: once CK_TRUE it cannot change (may only go FALSE → TRUE).
pub(super) const TO_TRUE: u32 = 1 << 10;
/// Footnote 12: once CK_FALSE it cannot change (may only go TRUE → FALSE).
pub(super) const TO_FALSE: u32 = 1 << 11;
/// May be changed in C_CopyObject only (CKA_TOKEN, CKA_PRIVATE ...; the
/// spec's C_CopyObject text, SoftHSM's "check 17").
pub(super) const COPY: u32 = 1 << 16;
/// May be set to an empty value after creation, and only that (a secret
/// key's CKA_CHECK_VALUE: "C_SetAttributeValue may be used to destroy the
/// attribute, by supplying no-value").
pub(super) const CLEAR: u32 = 1 << 17;
/// Computed by the token in every case (footnotes 2, 4 and 6 together).
pub(super) const TOKEN_COMPUTED: u32 = NO_CREATE | NO_GEN | NO_UNWRAP;

/// The default of an attribute the template does not give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Def {
    /// No default: absent unless given (or required).
    None,
    False,
    True,
    /// An empty byte string.
    Empty,
    Ulong(CK_ULONG),
    /// CKA_PRIVATE: TRUE for data objects, private and secret keys; FALSE
    /// for certificates and public keys (SoftHSMv2's defaults).
    PrivateByClass,
    /// A private key's CKA_SENSITIVE (token-specific, footnote 9): FALSE
    /// for imported keys (C_CreateObject, as SoftHSMv2), TRUE for keys the
    /// token makes.
    Sensitive,
    /// CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN ...: TRUE, except that under
    /// role separation CKA_ENCRYPT/CKA_DECRYPT default to FALSE when the
    /// template asks for CKA_WRAP or CKA_UNWRAP.
    Usage,
    /// CKA_WRAP, CKA_UNWRAP: TRUE as in SoftHSMv2, FALSE under role
    /// separation.
    WrapUsage,
    /// Set by the policy logic (CKA_LOCAL, CKA_VALUE_LEN ...).
    Computed,
}

/// One attribute of a class: its type, flags and default.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rule {
    pub kind: CK_ATTRIBUTE_TYPE,
    pub flags: u32,
    pub def: Def,
}

impl Rule {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

const fn r(kind: CK_ATTRIBUTE_TYPE, flags: u32, def: Def) -> Rule {
    Rule { kind, flags, def }
}

/// Common object and storage attributes (§4.3, §4.4).
const STORAGE: &[Rule] = &[
    r(CKA_CLASS, REQ_CREATE, Def::None),
    r(CKA_TOKEN, COPY, Def::False),
    r(CKA_PRIVATE, COPY, Def::PrivateByClass),
    // A copy may be made read-only, never writable: otherwise copying
    // would undo CKA_MODIFIABLE=FALSE.
    r(CKA_MODIFIABLE, COPY | TO_FALSE, Def::True),
    // "Only the CKA_LABEL attribute can be modified after the object is
    // created."
    r(CKA_LABEL, SET, Def::Empty),
    // "Can't be set to TRUE once it is set to FALSE": a copy may drop it.
    r(CKA_COPYABLE, COPY | TO_FALSE, Def::True),
    r(CKA_DESTROYABLE, COPY, Def::True),
    // Assigned by the store when the object is saved.
    r(CKA_UNIQUE_ID, TOKEN_COMPUTED, Def::None),
];

/// Data objects (§4.5). None of them is marked modifiable by the spec.
const DATA: &[Rule] = &[
    r(CKA_APPLICATION, 0, Def::Empty),
    r(CKA_OBJECT_ID, 0, Def::Empty),
    r(CKA_VALUE, 0, Def::Empty),
];

/// Common certificate attributes (§4.6.2).
const CERTIFICATE: &[Rule] = &[
    r(CKA_CERTIFICATE_TYPE, REQ_CREATE, Def::None),
    r(CKA_TRUSTED, SET | SO_TRUE, Def::False),
    r(CKA_CERTIFICATE_CATEGORY, 0, Def::Ulong(0)),
    r(CKA_CHECK_VALUE, 0, Def::None),
    r(CKA_START_DATE, 0, Def::Empty),
    r(CKA_END_DATE, 0, Def::Empty),
    r(CKA_PUBLIC_KEY_INFO, 0, Def::Empty),
];

/// X.509 public key certificates (§4.6.3). "The CKA_ID, CKA_ISSUER, and
/// CKA_SERIAL_NUMBER attributes may be modified after the object is
/// created."
const X509: &[Rule] = &[
    r(CKA_SUBJECT, REQ_CREATE, Def::None),
    r(CKA_ID, SET, Def::Empty),
    r(CKA_ISSUER, SET, Def::Empty),
    r(CKA_SERIAL_NUMBER, SET, Def::Empty),
    r(CKA_VALUE, REQ_CREATE, Def::None),
    r(CKA_URL, 0, Def::Empty),
    r(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, 0, Def::Empty),
    r(CKA_HASH_OF_ISSUER_PUBLIC_KEY, 0, Def::Empty),
    r(CKA_JAVA_MIDP_SECURITY_DOMAIN, 0, Def::Ulong(0)),
    r(CKA_NAME_HASH_ALGORITHM, 0, Def::Ulong(CKM_SHA_1)),
];

/// Common key attributes (§4.7).
const KEY: &[Rule] = &[
    r(CKA_KEY_TYPE, REQ_CREATE, Def::None),
    r(CKA_ID, SET, Def::Empty),
    r(CKA_START_DATE, SET, Def::Empty),
    r(CKA_END_DATE, SET, Def::Empty),
    r(CKA_DERIVE, SET, Def::False),
    r(CKA_LOCAL, TOKEN_COMPUTED, Def::Computed),
    r(CKA_KEY_GEN_MECHANISM, TOKEN_COMPUTED, Def::Computed),
    r(CKA_ALLOWED_MECHANISMS, 0, Def::Empty),
    r(CKA_DERIVE_TEMPLATE, 0, Def::Empty),
];

/// Common public key attributes (§4.8).
const PUBLIC_KEY: &[Rule] = &[
    r(CKA_SUBJECT, SET, Def::Empty),
    r(CKA_ENCRYPT, SET, Def::Usage),
    r(CKA_VERIFY, SET, Def::Usage),
    r(CKA_VERIFY_RECOVER, SET, Def::Usage),
    r(CKA_WRAP, SET, Def::WrapUsage),
    r(CKA_TRUSTED, SET | SO_TRUE, Def::False),
    r(CKA_WRAP_TEMPLATE, 0, Def::Empty),
    r(CKA_PUBLIC_KEY_INFO, 0, Def::Empty),
];

/// Common private key attributes (§4.9).
const PRIVATE_KEY: &[Rule] = &[
    r(CKA_SUBJECT, SET, Def::Empty),
    r(CKA_SENSITIVE, SET | TO_TRUE, Def::Sensitive),
    r(CKA_DECRYPT, SET, Def::Usage),
    r(CKA_SIGN, SET, Def::Usage),
    r(CKA_SIGN_RECOVER, SET, Def::Usage),
    r(CKA_UNWRAP, SET, Def::WrapUsage),
    r(CKA_EXTRACTABLE, SET | TO_FALSE, Def::False),
    r(CKA_ALWAYS_SENSITIVE, TOKEN_COMPUTED, Def::Computed),
    r(CKA_NEVER_EXTRACTABLE, TOKEN_COMPUTED, Def::Computed),
    r(CKA_WRAP_WITH_TRUSTED, SET | TO_TRUE, Def::False),
    r(CKA_UNWRAP_TEMPLATE, 0, Def::Empty),
    r(CKA_ALWAYS_AUTHENTICATE, 0, Def::False),
    // Given in a template the token "MUST verify correspondence" with the
    // key, which the policy cannot: only the token (the mechanism) sets it.
    r(CKA_PUBLIC_KEY_INFO, TOKEN_COMPUTED, Def::Empty),
];

/// Common secret key attributes (§4.10).
const SECRET_KEY: &[Rule] = &[
    // The spec's default for secret keys is CK_FALSE (footnote 9 does not
    // apply); CKA_EXTRACTABLE=FALSE keeps the value unreadable anyway.
    r(CKA_SENSITIVE, SET | TO_TRUE, Def::False),
    r(CKA_ENCRYPT, SET, Def::Usage),
    r(CKA_DECRYPT, SET, Def::Usage),
    r(CKA_SIGN, SET, Def::Usage),
    r(CKA_VERIFY, SET, Def::Usage),
    r(CKA_WRAP, SET, Def::WrapUsage),
    r(CKA_UNWRAP, SET, Def::WrapUsage),
    r(CKA_EXTRACTABLE, SET | TO_FALSE, Def::False),
    r(CKA_ALWAYS_SENSITIVE, TOKEN_COMPUTED, Def::Computed),
    r(CKA_NEVER_EXTRACTABLE, TOKEN_COMPUTED, Def::Computed),
    r(CKA_CHECK_VALUE, CLEAR, Def::None),
    r(CKA_WRAP_WITH_TRUSTED, SET | TO_TRUE, Def::False),
    r(CKA_TRUSTED, SET | SO_TRUE, Def::False),
    r(CKA_WRAP_TEMPLATE, 0, Def::Empty),
    r(CKA_UNWRAP_TEMPLATE, 0, Def::Empty),
];

/// RSA public keys (mechanisms §2.1.2).
const RSA_PUBLIC: &[Rule] = &[
    r(CKA_MODULUS, REQ_CREATE | NO_GEN | NO_UNWRAP, Def::None),
    r(CKA_MODULUS_BITS, NO_CREATE | REQ_GEN, Def::Computed),
    // Footnote 3 in some versions; the mechanism defaults it to 65537.
    r(CKA_PUBLIC_EXPONENT, REQ_CREATE, Def::None),
];

/// RSA private keys (mechanisms §2.1.3). The CRT parts are optional;
/// CKA_PUBLIC_EXPONENT is required since v2.40.
const RSA_PRIVATE: &[Rule] = &[
    r(CKA_MODULUS, REQ_CREATE | NO_GEN | NO_UNWRAP, Def::None),
    r(
        CKA_PUBLIC_EXPONENT,
        REQ_CREATE | NO_GEN | NO_UNWRAP,
        Def::None,
    ),
    r(
        CKA_PRIVATE_EXPONENT,
        REQ_CREATE | NO_GEN | NO_UNWRAP | SECRET,
        Def::None,
    ),
    r(CKA_PRIME_1, NO_GEN | NO_UNWRAP | SECRET, Def::None),
    r(CKA_PRIME_2, NO_GEN | NO_UNWRAP | SECRET, Def::None),
    r(CKA_EXPONENT_1, NO_GEN | NO_UNWRAP | SECRET, Def::None),
    r(CKA_EXPONENT_2, NO_GEN | NO_UNWRAP | SECRET, Def::None),
    r(CKA_COEFFICIENT, NO_GEN | NO_UNWRAP | SECRET, Def::None),
];

/// EC (ECDSA/ECDH), Edwards and Montgomery public keys (§2.3, §2.3.7ff).
const EC_PUBLIC: &[Rule] = &[
    r(CKA_EC_PARAMS, REQ_CREATE | REQ_GEN, Def::None),
    r(CKA_EC_POINT, REQ_CREATE | NO_GEN | NO_UNWRAP, Def::None),
];

/// EC, Edwards and Montgomery private keys.
const EC_PRIVATE: &[Rule] = &[
    r(CKA_EC_PARAMS, REQ_CREATE | NO_GEN | NO_UNWRAP, Def::None),
    r(
        CKA_VALUE,
        REQ_CREATE | NO_GEN | NO_UNWRAP | SECRET,
        Def::None,
    ),
];

/// Secret keys whose length varies: generic secret, AES, HMAC key types,
/// HKDF. CKA_VALUE_LEN is computed on create and given on generate; it is
/// accepted on unwrap and derive too, where mechanisms need it.
const SECRET_VALUE_LEN: &[Rule] = &[
    r(
        CKA_VALUE,
        REQ_CREATE | NO_GEN | NO_UNWRAP | SECRET,
        Def::None,
    ),
    r(CKA_VALUE_LEN, NO_CREATE | REQ_GEN, Def::Computed),
];

/// Secret keys of a fixed length (the DES family): no CKA_VALUE_LEN.
const SECRET_VALUE_FIXED: &[Rule] = &[r(
    CKA_VALUE,
    REQ_CREATE | NO_GEN | NO_UNWRAP | SECRET,
    Def::None,
)];

/// How a key type's material is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    Rsa,
    /// EC, Edwards and Montgomery curves: CKA_EC_PARAMS + point / value.
    Ec,
    /// A secret key; `lens` lists the allowed CKA_VALUE lengths in bytes
    /// (empty: any length of at least one byte); `fixed` when the key type
    /// has no CKA_VALUE_LEN.
    Secret {
        lens: &'static [usize],
        fixed: bool,
    },
}

/// The family of a supported key type; None for key types ProzHSM does not
/// hold.
pub(super) fn family(key_type: CK_KEY_TYPE) -> Option<Family> {
    const ANY: Family = Family::Secret {
        lens: &[],
        fixed: false,
    };
    Some(match key_type {
        CKK_RSA => Family::Rsa,
        CKK_EC | CKK_EC_EDWARDS | CKK_EC_MONTGOMERY => Family::Ec,
        CKK_AES => Family::Secret {
            lens: &[16, 24, 32],
            fixed: false,
        },
        CKK_DES => Family::Secret {
            lens: &[8],
            fixed: true,
        },
        CKK_DES2 => Family::Secret {
            lens: &[16],
            fixed: true,
        },
        CKK_DES3 => Family::Secret {
            lens: &[24],
            fixed: true,
        },
        CKK_GENERIC_SECRET | CKK_HKDF | CKK_MD5_HMAC | CKK_SHA_1_HMAC | CKK_SHA224_HMAC
        | CKK_SHA256_HMAC | CKK_SHA384_HMAC | CKK_SHA512_HMAC | CKK_SHA512_224_HMAC
        | CKK_SHA512_256_HMAC | CKK_SHA3_224_HMAC | CKK_SHA3_256_HMAC | CKK_SHA3_384_HMAC
        | CKK_SHA3_512_HMAC => ANY,
        _ => return None,
    })
}

/// Whether `class` is one of the key classes.
pub(super) fn is_key_class(class: CK_OBJECT_CLASS) -> bool {
    matches!(class, CKO_PUBLIC_KEY | CKO_PRIVATE_KEY | CKO_SECRET_KEY)
}

/// Whether `key_type` may be held by an object of `class`.
pub(super) fn key_type_fits(class: CK_OBJECT_CLASS, key_type: CK_KEY_TYPE) -> bool {
    match family(key_type) {
        Some(Family::Rsa | Family::Ec) => matches!(class, CKO_PUBLIC_KEY | CKO_PRIVATE_KEY),
        Some(Family::Secret { .. }) => class == CKO_SECRET_KEY,
        None => false,
    }
}

/// The rule tables of one kind of object, most general first.
#[derive(Clone, Copy)]
pub(super) struct Rules {
    parts: [&'static [Rule]; 4],
}

impl Rules {
    /// The tables for an object of `class` (and `key_type` for keys).
    /// None for a class, or a class/key type pair, ProzHSM does not hold.
    /// Certificates are X.509 ones: the caller checks the certificate type.
    pub fn of(class: CK_OBJECT_CLASS, key_type: Option<CK_KEY_TYPE>) -> Option<Rules> {
        let parts: [&'static [Rule]; 4] = match class {
            CKO_DATA => [STORAGE, DATA, &[], &[]],
            CKO_CERTIFICATE => [STORAGE, CERTIFICATE, X509, &[]],
            CKO_PUBLIC_KEY | CKO_PRIVATE_KEY | CKO_SECRET_KEY => {
                let key_type = key_type?;
                if !key_type_fits(class, key_type) {
                    return None;
                }
                let (common, specific) = match (class, family(key_type)?) {
                    (CKO_PUBLIC_KEY, Family::Rsa) => (PUBLIC_KEY, RSA_PUBLIC),
                    (CKO_PUBLIC_KEY, _) => (PUBLIC_KEY, EC_PUBLIC),
                    (CKO_PRIVATE_KEY, Family::Rsa) => (PRIVATE_KEY, RSA_PRIVATE),
                    (CKO_PRIVATE_KEY, _) => (PRIVATE_KEY, EC_PRIVATE),
                    (_, Family::Secret { fixed: true, .. }) => (SECRET_KEY, SECRET_VALUE_FIXED),
                    (_, _) => (SECRET_KEY, SECRET_VALUE_LEN),
                };
                [STORAGE, KEY, common, specific]
            }
            _ => return None,
        };
        Some(Rules { parts })
    }

    /// The tables of an existing object, read from its CKA_CLASS and
    /// CKA_KEY_TYPE.
    pub fn of_object(attrs: &crate::object::Attributes) -> Option<Rules> {
        Rules::of(attrs.class(), attrs.key_type())
    }

    /// The rule for `kind`; the most specific table wins (CKA_ID of a key,
    /// CKA_VALUE of an X.509 certificate ...).
    pub fn find(&self, kind: CK_ATTRIBUTE_TYPE) -> Option<&'static Rule> {
        self.parts
            .iter()
            .rev()
            .find_map(|part| part.iter().find(|rule| rule.kind == kind))
    }

    /// Every rule, each attribute once (the most specific rule).
    pub fn all(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        let parts = self.parts;
        parts.into_iter().enumerate().flat_map(move |(i, part)| {
            part.iter().filter(move |rule| {
                !parts[i + 1..]
                    .iter()
                    .any(|p| p.iter().any(|o| o.kind == rule.kind))
            })
        })
    }
}

/// The first attribute type of ProzHSM's own vendor range
/// (`CKA_VENDOR_DEFINED | 0x505A0000`, "PZ"); see `include/prozhsm.h`.
pub const PROZ_ATTR_BASE: CK_ATTRIBUTE_TYPE = CKA_VENDOR_DEFINED | 0x505A_0000;

/// ProzHSM's own vendor attributes that a client template may give, with
/// their rules. Empty until the vendor module defines them; every other
/// attribute of the "PZ" range is the token's to write (CKR_ATTRIBUTE_READ_ONLY
/// to a client).
pub(super) const PROZ_ATTRS: &[Rule] = &[];

/// Where an attribute type outside the class tables falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outside {
    /// Another vendor's attribute: stored and returned as given.
    Vendor,
    /// ProzHSM's own vendor range, not client-writable.
    Reserved,
    /// Not an attribute of this class.
    Invalid,
}

/// Classify an attribute type the class tables do not list.
pub(super) fn outside(kind: CK_ATTRIBUTE_TYPE) -> Outside {
    if kind & 0xFFFF_0000 == PROZ_ATTR_BASE {
        Outside::Reserved
    } else if kind >= CKA_VENDOR_DEFINED {
        Outside::Vendor
    } else {
        Outside::Invalid
    }
}

/// The rule for `kind` on an object with tables `rules`, including
/// ProzHSM's own client-writable vendor attributes.
pub(super) fn find(rules: &Rules, kind: CK_ATTRIBUTE_TYPE) -> Option<&'static Rule> {
    rules
        .find(kind)
        .or_else(|| PROZ_ATTRS.iter().find(|rule| rule.kind == kind))
}

/// The C type of an attribute's value, for size checks and comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VType {
    Bool,
    Ulong,
    /// CK_DATE: 8 bytes, or empty.
    Date,
    /// An attribute array, encoded by `object::codec`.
    Template,
    /// An array of CK_MECHANISM_TYPE.
    MechList,
    Bytes,
}

/// The value type of an attribute type.
pub(super) fn vtype(kind: CK_ATTRIBUTE_TYPE) -> VType {
    match kind {
        CKA_TOKEN
        | CKA_PRIVATE
        | CKA_MODIFIABLE
        | CKA_COPYABLE
        | CKA_DESTROYABLE
        | CKA_TRUSTED
        | CKA_SENSITIVE
        | CKA_ENCRYPT
        | CKA_DECRYPT
        | CKA_WRAP
        | CKA_UNWRAP
        | CKA_SIGN
        | CKA_SIGN_RECOVER
        | CKA_VERIFY
        | CKA_VERIFY_RECOVER
        | CKA_DERIVE
        | CKA_EXTRACTABLE
        | CKA_LOCAL
        | CKA_NEVER_EXTRACTABLE
        | CKA_ALWAYS_SENSITIVE
        | CKA_ALWAYS_AUTHENTICATE
        | CKA_WRAP_WITH_TRUSTED => VType::Bool,
        CKA_CLASS
        | CKA_KEY_TYPE
        | CKA_CERTIFICATE_TYPE
        | CKA_CERTIFICATE_CATEGORY
        | CKA_JAVA_MIDP_SECURITY_DOMAIN
        | CKA_NAME_HASH_ALGORITHM
        | CKA_MODULUS_BITS
        | CKA_VALUE_LEN
        | CKA_VALUE_BITS
        | CKA_KEY_GEN_MECHANISM => VType::Ulong,
        CKA_START_DATE | CKA_END_DATE => VType::Date,
        CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE | CKA_DERIVE_TEMPLATE => VType::Template,
        CKA_ALLOWED_MECHANISMS => VType::MechList,
        _ => VType::Bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_list_each_attribute_once() {
        for part in [
            STORAGE,
            DATA,
            CERTIFICATE,
            X509,
            KEY,
            PUBLIC_KEY,
            PRIVATE_KEY,
            SECRET_KEY,
            RSA_PUBLIC,
            RSA_PRIVATE,
            EC_PUBLIC,
            EC_PRIVATE,
            SECRET_VALUE_LEN,
            SECRET_VALUE_FIXED,
        ] {
            for (i, a) in part.iter().enumerate() {
                assert!(
                    part[i + 1..].iter().all(|b| b.kind != a.kind),
                    "attribute {:#x} twice in one table",
                    a.kind
                );
            }
        }
    }

    #[test]
    fn secret_attributes_are_never_settable_and_never_defaulted() {
        for class in [CKO_PRIVATE_KEY, CKO_SECRET_KEY] {
            for kt in [CKK_RSA, CKK_EC, CKK_AES, CKK_DES3, CKK_GENERIC_SECRET] {
                let Some(rules) = Rules::of(class, Some(kt)) else {
                    continue;
                };
                for rule in rules.all() {
                    if rule.has(SECRET) {
                        assert!(!rule.has(SET | COPY | CLEAR), "{:#x}", rule.kind);
                        assert_eq!(rule.def, Def::None, "{:#x}", rule.kind);
                    }
                }
            }
        }
    }

    #[test]
    fn specific_rule_wins() {
        let cert = Rules::of(CKO_CERTIFICATE, None).expect("certificates");
        assert!(cert.find(CKA_VALUE).expect("value").has(REQ_CREATE));
        let aes = Rules::of(CKO_SECRET_KEY, Some(CKK_AES)).expect("aes");
        assert!(aes.find(CKA_VALUE).expect("value").has(SECRET));
        assert_eq!(aes.all().filter(|r| r.kind == CKA_VALUE).count(), 1);
        assert!(Rules::of(CKO_SECRET_KEY, Some(CKK_RSA)).is_none());
        assert!(Rules::of(CKO_PRIVATE_KEY, Some(CKK_AES)).is_none());
        assert!(Rules::of(CKO_HW_FEATURE, None).is_none());
    }

    #[test]
    fn vendor_ranges() {
        assert_eq!(outside(CKA_VENDOR_DEFINED + 1), Outside::Vendor);
        assert_eq!(outside(PROZ_ATTR_BASE + 3), Outside::Reserved);
        assert_eq!(outside(CKA_MODULUS), Outside::Invalid);
    }
}
