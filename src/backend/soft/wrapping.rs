//! C_WrapKey and C_UnwrapKey on the software token (PKCS#11 3.0 §5.18.6,
//! §5.18.7), the key-management rules around them, and what C_DeriveKey
//! adds to every derivation (the base key's CKA_DERIVE_TEMPLATE, the HKDF
//! salt key). The mechanisms only encrypt and decrypt the encoded key
//! (`mechanisms::wrap`); everything about which key may be wrapped under
//! which is decided here, once for every mechanism.
//!
//! # The spec's rules (every profile)
//!
//! C_WrapKey, in this order: the mechanism not in the table or not a
//! wrapping one → CKR_MECHANISM_INVALID; the wrapping key unknown →
//! CKR_WRAPPING_KEY_HANDLE_INVALID, of a class or type the mechanism does
//! not take → CKR_WRAPPING_KEY_TYPE_INCONSISTENT, without CKA_WRAP →
//! CKR_KEY_FUNCTION_NOT_PERMITTED, CKA_ALLOWED_MECHANISMS without the
//! mechanism → CKR_MECHANISM_INVALID; the key to be wrapped unknown or not
//! a key → CKR_KEY_HANDLE_INVALID, a public key → CKR_KEY_NOT_WRAPPABLE,
//! CKA_EXTRACTABLE false → CKR_KEY_UNEXTRACTABLE, CKA_WRAP_WITH_TRUSTED under
//! a wrapping key without CKA_TRUSTED → CKR_KEY_NOT_WRAPPABLE, not matching
//! the wrapping key's CKA_WRAP_TEMPLATE (C_FindObjects matching) →
//! CKR_KEY_HANDLE_INVALID (the spec's "SHALL"); then the hardening rules
//! below; then the mechanism (CKR_KEY_SIZE_RANGE for a key length it cannot
//! wrap ...).
//!
//! C_UnwrapKey: the mechanism, then the unwrapping key as above with the
//! CKR_UNWRAPPING_KEY_* codes and CKA_UNWRAP; the hardening rules; the
//! template with the unwrapping key's CKA_UNWRAP_TEMPLATE added (a conflict
//! → CKR_TEMPLATE_INCONSISTENT; CKA_CLASS and CKA_KEY_TYPE are required,
//! CKR_TEMPLATE_INCOMPLETE) goes through the attribute policy, which computes
//! CKA_LOCAL, CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE (all FALSE)
//! whatever the template says; then the blob is unwrapped
//! (CKR_WRAPPED_KEY_INVALID, CKR_WRAPPED_KEY_LEN_RANGE), and a key of a
//! length its type cannot have, or other than a CKA_VALUE_LEN the template
//! gives, is CKR_WRAPPED_KEY_LEN_RANGE.
//!
//! Secret keys are wrapped as their CKA_VALUE; private keys as PKCS #8
//! PrivateKeyInfo (`mechanisms::pkcs8`: EC, Ed25519 and RSA keys; others
//! are CKR_KEY_NOT_WRAPPABLE), so they need a mechanism that takes any
//! length (CKM_AES_KEY_WRAP_PAD). An unwrapped private key's CKA_KEY_TYPE
//! must be the blob's (CKR_TEMPLATE_INCONSISTENT); its domain and public
//! attributes (CKA_EC_PARAMS, CKA_MODULUS ...) come from the blob, and a
//! malformed blob or invalid key material is CKR_WRAPPED_KEY_INVALID. No
//! public key object is made.
//!
//! # The hardening rules (`strict`; each off under its `[policy]` switch)
//!
//! - `allow_wrap_with_decrypt_keys` (WrapWithDecryptKeys) — no bridge from
//!   "wrapped" to "readable": a sensitive key is not wrapped under a key
//!   that can also decrypt (a secret key with CKA_DECRYPT; a public key
//!   whose private half in the token has CKA_DECRYPT, or whose private half
//!   cannot be looked up), CKR_KEY_FUNCTION_NOT_PERMITTED; a sensitive key
//!   that is itself a key-wrapping key (CKA_WRAP or CKA_UNWRAP) is not
//!   wrapped at all, since unwrapping it again under other usage attributes
//!   would make a decrypting copy of a wrapping key, CKR_KEY_NOT_WRAPPABLE;
//!   no unwrapping with a key that can also encrypt (CKA_ENCRYPT: it could
//!   forge blobs of chosen keys), CKR_KEY_FUNCTION_NOT_PERMITTED; and an
//!   unwrapped key is never readable — unwrapping is a decryption, so a
//!   template asking for CKA_SENSITIVE=FALSE with CKA_EXTRACTABLE=TRUE is
//!   CKR_TEMPLATE_INCONSISTENT, and one silent about CKA_SENSITIVE gets
//!   TRUE (otherwise wrapping a sensitive key and unwrapping it as a
//!   readable one would reveal it). CKA_SENSITIVE=FALSE with
//!   CKA_EXTRACTABLE=FALSE, pkcs11-tool's `--unwrap` template, is accepted:
//!   that key can never be read.
//! - `allow_untrusted_wrapping_keys` (UntrustedWrappingKeys) — a sensitive
//!   key is only wrapped under a key the token generated (CKA_LOCAL) or one
//!   the SO marked CKA_TRUSTED; a key the user supplied in clear (created,
//!   unwrapped, derived — all CKA_LOCAL=FALSE) would let its owner decrypt
//!   the blob. CKR_KEY_NOT_WRAPPABLE: the code of the spec's own
//!   trusted-wrapping rule (CKA_WRAP_WITH_TRUSTED), which this extends to
//!   every sensitive key.
//! - `allow_weak_wrapping` (WeakWrapping) — no key is wrapped under a weaker
//!   one (security strength in bits: AES its length, generic and HMAC
//!   secrets their length up to 256, DES 56, two-key 3DES 80, three-key
//!   112, EC keys half the curve size, RSA after NIST SP 800-57):
//!   CKR_WRAPPING_KEY_SIZE_RANGE, and unwrapping a key stronger than the
//!   unwrapping key, CKR_UNWRAPPING_KEY_SIZE_RANGE. The same switch allows
//!   SoftHSMv2's CKM_AES_CBC wrap, which has no integrity check
//!   (CKR_MECHANISM_INVALID under `strict`).
//! - `allow_pkcs1v15_unwrap`, `allow_cbc_pad_unwrap` — no unwrapping with
//!   CKM_RSA_PKCS or a CBC_PAD mechanism (padding oracles):
//!   CKR_MECHANISM_INVALID. No such row unwraps yet (SoftHSMv2 2.6 has no
//!   CBC_PAD unwrap either); the check is here for the rows that will.
//!
//! A mechanism row that wraps (RSA OAEP ...) gets every rule above by
//! offering the `Wrap`/`Unwrap` capabilities: nothing here names it.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::soft::crypto::{is_secret_type, key_usable, Usage};
use crate::backend::soft::session::SoftSession;
use crate::backend::soft::token::Login;
use crate::backend::{Attr, HkdfSalt, MechParam, Mechanism, Output, ParamSecret, Template};
use crate::config::{Config, Rule};
use crate::error::{Result, Rv};
use crate::mechanisms::{self, ec::CurveId, pkcs8};
use crate::object::policy::{self, KeyOrigin};
use crate::object::{codec, Attributes};
use crate::secure::SecretBytes;

/// The hardening rules of the configured profile that concern wrapping:
/// `true` where the relaxation is allowed.
#[derive(Clone, Copy, Debug)]
pub(super) struct WrapRules {
    decrypt_keys: bool,
    untrusted: bool,
    weak: bool,
    pkcs1v15_unwrap: bool,
    cbc_pad_unwrap: bool,
}

impl WrapRules {
    pub(super) fn of(config: &Config) -> WrapRules {
        WrapRules {
            decrypt_keys: config.allows(Rule::WrapWithDecryptKeys),
            untrusted: config.allows(Rule::UntrustedWrappingKeys),
            weak: config.allows(Rule::WeakWrapping),
            pkcs1v15_unwrap: config.allows(Rule::Pkcs1v15Unwrap),
            cbc_pad_unwrap: config.allows(Rule::CbcPadUnwrap),
        }
    }

    /// Whether the profile refuses to unwrap with a padding-oracle-prone
    /// mechanism: PKCS#1 v1.5 (`allow_pkcs1v15_unwrap`) or a CBC_PAD one
    /// (`allow_cbc_pad_unwrap`). No such mechanism unwraps yet; a row that
    /// adds one is covered from the start.
    fn refuses_unwrap_with(&self, kind: CK_MECHANISM_TYPE) -> bool {
        match kind {
            CKM_RSA_PKCS => !self.pkcs1v15_unwrap,
            CKM_AES_CBC_PAD | CKM_DES3_CBC_PAD | CKM_DES_CBC_PAD => !self.cbc_pad_unwrap,
            _ => false,
        }
    }
}

impl SoftSession {
    /// C_WrapKey.
    pub(super) fn crypto_wrap_key(
        &self,
        mechanism: &Mechanism,
        wrapping: CK_OBJECT_HANDLE,
        key: CK_OBJECT_HANDLE,
        out: &mut Output,
    ) -> Result<()> {
        let wrap = self.capability(mechanism, |o| o.wrap)?;
        let rules = WrapRules::of(self.token().config());
        let wrapping_key = self.key_copy(wrapping, Rv::WRAPPING_KEY_HANDLE_INVALID)?;
        key_usable(
            &wrapping_key,
            mechanism,
            Usage::Wrap,
            wrap.key_types(),
            self.token().config(),
        )
        .map_err(|rv| match rv {
            Rv::KEY_TYPE_INCONSISTENT => Rv::WRAPPING_KEY_TYPE_INCONSISTENT,
            other => other,
        })?;
        if mechanism.kind == CKM_AES_CBC && !rules.weak {
            return Err(Rv::MECHANISM_INVALID);
        }
        let target = self.key_copy(key, Rv::KEY_HANDLE_INVALID)?;
        check_wrappable(&target, &wrapping_key)?;
        self.check_wrap_hardening(&rules, &target, &wrapping_key)?;
        let plain = encode_key(&target)?;
        let blob = wrap.wrap(&mechanism.param, &wrapping_key, plain.as_slice())?;
        out.put(&blob).map(drop)
    }

    /// C_UnwrapKey.
    pub(super) fn crypto_unwrap_key(
        &self,
        mechanism: &Mechanism,
        unwrapping: CK_OBJECT_HANDLE,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let unwrap = self.capability(mechanism, |o| o.unwrap)?;
        let rules = WrapRules::of(self.token().config());
        if rules.refuses_unwrap_with(mechanism.kind) {
            return Err(Rv::MECHANISM_INVALID);
        }
        let unwrapping_key = self.key_copy(unwrapping, Rv::UNWRAPPING_KEY_HANDLE_INVALID)?;
        key_usable(
            &unwrapping_key,
            mechanism,
            Usage::Unwrap,
            unwrap.key_types(),
            self.token().config(),
        )
        .map_err(|rv| match rv {
            Rv::KEY_TYPE_INCONSISTENT => Rv::UNWRAPPING_KEY_TYPE_INCONSISTENT,
            other => other,
        })?;
        if !rules.decrypt_keys && unwrapping_key.flag(CKA_ENCRYPT, false) {
            return Err(Rv::KEY_FUNCTION_NOT_PERMITTED);
        }

        let mut full: Vec<Attr> = template.to_vec();
        full.extend(template_attribute(&unwrapping_key, CKA_UNWRAP_TEMPLATE)?);
        let class = single_ulong(&full, CKA_CLASS)?.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
        let key_type = single_ulong(&full, CKA_KEY_TYPE)?.ok_or(Rv::TEMPLATE_INCOMPLETE)?;
        if !rules.decrypt_keys {
            unwrapped_unreadable(&mut full)?;
        }
        let mut attrs = policy::for_new_key_with(
            class,
            key_type,
            &full,
            KeyOrigin::Unwrapped,
            self.actor(),
            &self.hardening(),
        )?;

        let plain = unwrap.unwrap(&mechanism.param, &unwrapping_key, wrapped)?;
        decode_key(&mut attrs, plain)?;
        if !rules.weak && weaker(&unwrapping_key, &attrs) {
            return Err(Rv::UNWRAPPING_KEY_SIZE_RANGE);
        }
        mechanisms::check_key(&attrs).map_err(|_| Rv::WRAPPED_KEY_INVALID)?;
        self.token().add_object(self.caller(), attrs)
    }

    /// A copy of a key object's attributes (the object's lock is not held
    /// while the call goes on); `missing` when the handle is unknown or the
    /// object is not a key.
    fn key_copy(&self, handle: CK_OBJECT_HANDLE, missing: Rv) -> Result<Attributes> {
        let object = self.token().object(handle).map_err(|_| missing)?;
        let attrs = object.attrs().duplicate();
        match attrs.class() {
            CKO_SECRET_KEY | CKO_PRIVATE_KEY | CKO_PUBLIC_KEY => Ok(attrs),
            _ => Err(missing),
        }
    }

    /// The hardening rules of C_WrapKey (see the module's documentation).
    fn check_wrap_hardening(
        &self,
        rules: &WrapRules,
        target: &Attributes,
        wrapping: &Attributes,
    ) -> Result<()> {
        let sensitive = target.flag(CKA_SENSITIVE, true);
        if sensitive && !rules.decrypt_keys {
            if self.can_decrypt(wrapping)? {
                return Err(Rv::KEY_FUNCTION_NOT_PERMITTED);
            }
            if target.flag(CKA_WRAP, false) || target.flag(CKA_UNWRAP, false) {
                return Err(Rv::KEY_NOT_WRAPPABLE);
            }
        }
        let trusted = wrapping.flag(CKA_LOCAL, false) || wrapping.flag(CKA_TRUSTED, false);
        if sensitive && !rules.untrusted && !trusted {
            return Err(Rv::KEY_NOT_WRAPPABLE);
        }
        if !rules.weak && weaker(wrapping, target) {
            return Err(Rv::WRAPPING_KEY_SIZE_RANGE);
        }
        Ok(())
    }

    /// Whether whoever holds `wrapping` could decrypt what it wraps through
    /// the token: a secret key with CKA_DECRYPT, or a public key whose
    /// private half has CKA_DECRYPT. A public key's private half is looked
    /// up by modulus (RSA); when it cannot be looked up (another key type,
    /// or private objects out of sight without the user's login) the answer
    /// is yes — the rule fails closed.
    fn can_decrypt(&self, wrapping: &Attributes) -> Result<bool> {
        if wrapping.class() != CKO_PUBLIC_KEY {
            return Ok(wrapping.flag(CKA_DECRYPT, false));
        }
        let modulus = match (wrapping.key_type(), wrapping.bytes(CKA_MODULUS)) {
            (Some(CKK_RSA), Some(m)) if self.token().login_state() == Login::User => m,
            _ => return Ok(true),
        };
        let halves = [
            Attr::ulong(CKA_CLASS, CKO_PRIVATE_KEY),
            Attr::ulong(CKA_KEY_TYPE, CKK_RSA),
            Attr::new(CKA_MODULUS, modulus),
        ];
        let found = self.token().find(&halves)?;
        Ok(found.into_iter().any(|h| {
            self.token()
                .object(h)
                .map_or(true, |o| o.attrs().flag(CKA_DECRYPT, false))
        }))
    }

    /// C_DeriveKey's parameter with an HKDF salt key replaced by its value.
    /// The salt key must be a generic secret or HKDF key the caller may
    /// derive with (CKA_DERIVE, CKA_ALLOWED_MECHANISMS): its value keys an
    /// HMAC, so without the check a derivation would be a MAC oracle for a
    /// key that may not sign.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID for an unknown salt key or one of
    /// another type; CKR_KEY_FUNCTION_NOT_PERMITTED; CKR_MECHANISM_INVALID.
    pub(super) fn resolve_derive_param(&self, mechanism: &Mechanism) -> Result<Mechanism> {
        let MechParam::Hkdf {
            extract,
            expand,
            prf,
            salt: HkdfSalt::Key(handle),
            info,
        } = &mechanism.param
        else {
            return Ok(mechanism.clone());
        };
        let salt_key = self.key_copy(*handle, Rv::MECHANISM_PARAM_INVALID)?;
        key_usable(
            &salt_key,
            mechanism,
            Usage::Derive,
            &[CKK_GENERIC_SECRET, CKK_HKDF],
            self.token().config(),
        )
        .map_err(|rv| match rv {
            Rv::KEY_TYPE_INCONSISTENT => Rv::MECHANISM_PARAM_INVALID,
            other => other,
        })?;
        let value = mechanisms::key_value(&salt_key, CKA_VALUE)?;
        Ok(Mechanism {
            kind: mechanism.kind,
            param: MechParam::Hkdf {
                extract: *extract,
                expand: *expand,
                prf: *prf,
                salt: HkdfSalt::KeyValue(ParamSecret(Zeroizing::new(value.as_slice().to_vec()))),
                info: info.clone(),
            },
            raw: mechanism.raw.clone(),
        })
    }
}

/// The spec's rules about the key to be wrapped (module documentation).
fn check_wrappable(target: &Attributes, wrapping: &Attributes) -> Result<()> {
    if target.class() == CKO_PUBLIC_KEY {
        return Err(Rv::KEY_NOT_WRAPPABLE);
    }
    if !target.flag(CKA_EXTRACTABLE, false) {
        return Err(Rv::KEY_UNEXTRACTABLE);
    }
    if target.flag(CKA_WRAP_WITH_TRUSTED, false) && !wrapping.flag(CKA_TRUSTED, false) {
        return Err(Rv::KEY_NOT_WRAPPABLE);
    }
    let wrap_template = template_attribute(wrapping, CKA_WRAP_TEMPLATE)?;
    if !policy::matches(target, &wrap_template) {
        return Err(Rv::KEY_HANDLE_INVALID);
    }
    Ok(())
}

/// The attribute array `kind` (CKA_WRAP_TEMPLATE ...) of a key, decoded;
/// empty when absent.
///
/// # Errors
/// CKR_GENERAL_ERROR when the stored value does not decode (the policy
/// checked it on the way in).
pub(super) fn template_attribute(key: &Attributes, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<Attr>> {
    match key.bytes(kind) {
        None | Some([]) => Ok(Vec::new()),
        Some(encoded) => codec::decode(encoded).map_err(|_| {
            log::error!("stored attribute array {kind:#x} does not decode");
            Rv::GENERAL_ERROR
        }),
    }
}

/// C_DeriveKey's template: the client's, with the base key's
/// CKA_DERIVE_TEMPLATE added (a conflict is the attribute policy's
/// CKR_TEMPLATE_INCONSISTENT, PKCS#11 3.0 §5.18.8).
///
/// # Errors
/// As [`template_attribute`].
pub(super) fn derive_template(base: &Attributes, template: &Template) -> Result<Vec<Attr>> {
    let mut full = template.to_vec();
    full.extend(template_attribute(base, CKA_DERIVE_TEMPLATE)?);
    Ok(full)
}

/// Under `strict`, an unwrapped key's value is never readable: a template
/// silent about CKA_SENSITIVE gets TRUE; one asking for FALSE must leave
/// the key unextractable (CKA_EXTRACTABLE FALSE, the default), as
/// pkcs11-tool's `--unwrap` does — such a key can never be read or wrapped.
///
/// # Errors
/// CKR_TEMPLATE_INCONSISTENT for a readable key (CKA_SENSITIVE FALSE and
/// CKA_EXTRACTABLE TRUE); CKR_ATTRIBUTE_VALUE_INVALID for a value that is
/// not a CK_BBOOL.
fn unwrapped_unreadable(template: &mut Vec<Attr>) -> Result<()> {
    let flag = |t: &[Attr], kind| -> Result<Option<bool>> {
        t.iter()
            .find(|a| a.kind == kind)
            .map(Attr::as_bool)
            .transpose()
    };
    match flag(template, CKA_SENSITIVE)? {
        None => template.push(Attr::bool(CKA_SENSITIVE, true)),
        Some(true) => {}
        Some(false) if flag(template, CKA_EXTRACTABLE)? == Some(true) => {
            return Err(Rv::TEMPLATE_INCONSISTENT);
        }
        Some(false) => {}
    }
    Ok(())
}

/// The CK_ULONG value of `kind` in a template; two different values are
/// CKR_TEMPLATE_INCONSISTENT.
fn single_ulong(template: &[Attr], kind: CK_ATTRIBUTE_TYPE) -> Result<Option<CK_ULONG>> {
    let mut found = None;
    for a in template.iter().filter(|a| a.kind == kind) {
        let v = a.as_ulong()?;
        if found.is_some_and(|f| f != v) {
            return Err(Rv::TEMPLATE_INCONSISTENT);
        }
        found = Some(v);
    }
    Ok(found)
}

/// The bytes a key is wrapped as: a secret key's CKA_VALUE, a private
/// key's PKCS #8 PrivateKeyInfo.
fn encode_key(key: &Attributes) -> Result<SecretBytes> {
    match key.class() {
        CKO_SECRET_KEY => mechanisms::key_value(key, CKA_VALUE),
        CKO_PRIVATE_KEY => pkcs8::encode(key),
        _ => Err(Rv::KEY_NOT_WRAPPABLE),
    }
}

/// Complete an unwrapped key's attributes with its material.
fn decode_key(attrs: &mut Attributes, plain: SecretBytes) -> Result<()> {
    let key_type = attrs.key_type().ok_or(Rv::GENERAL_ERROR)?;
    match attrs.class() {
        CKO_SECRET_KEY if is_secret_type(key_type) => {
            let len = plain.len();
            let given = attrs.ulong(CKA_VALUE_LEN);
            if !policy::secret_key_length_ok(key_type, len)
                || given.is_some_and(|n| n != len as CK_ULONG)
            {
                return Err(Rv::WRAPPED_KEY_LEN_RANGE);
            }
            attrs.set_secret(CKA_VALUE, plain.as_slice());
            if policy::attribute_known(CKO_SECRET_KEY, Some(key_type), CKA_VALUE_LEN) {
                attrs.set_ulong(CKA_VALUE_LEN, len as CK_ULONG);
            }
            Ok(())
        }
        CKO_PRIVATE_KEY => {
            let decoded = pkcs8::decode(plain.as_slice())?;
            if decoded.key_type != key_type {
                return Err(Rv::TEMPLATE_INCONSISTENT);
            }
            for (kind, value) in &decoded.plain {
                attrs.set_bytes(*kind, value);
            }
            for (kind, value) in &decoded.secret {
                attrs.set_secret(*kind, value);
            }
            Ok(())
        }
        _ => Err(Rv::TEMPLATE_INCONSISTENT),
    }
}

/// Whether `key` is stronger than `wrapping` (both strengths known).
fn weaker(wrapping: &Attributes, key: &Attributes) -> bool {
    matches!((strength(wrapping), strength(key)), (Some(w), Some(k)) if k > w)
}

/// A key's security strength in bits (NIST SP 800-57 Part 1, Table 2), if
/// the token knows it.
pub(super) fn strength(key: &Attributes) -> Option<u32> {
    let value_bits = || {
        key.get(CKA_VALUE)
            .map(|v| u32::try_from(v.len().saturating_mul(8)).unwrap_or(u32::MAX))
    };
    match key.key_type()? {
        CKK_AES => value_bits(),
        CKK_DES => Some(56),
        CKK_DES2 => Some(80),
        CKK_DES3 => Some(112),
        CKK_EC | CKK_EC_EDWARDS => {
            let curve = CurveId::from_params(key.bytes(CKA_EC_PARAMS)?).ok()?;
            Some(match curve {
                CurveId::P256 | CurveId::Secp256k1 | CurveId::Ed25519 => 128,
                CurveId::P384 => 192,
                CurveId::Ed448 => 224,
                CurveId::P521 => 256,
            })
        }
        CKK_RSA => {
            let bits = match key.ulong(CKA_MODULUS_BITS) {
                Some(b) => b,
                None => 8 * key.get(CKA_MODULUS)?.len() as CK_ULONG,
            };
            Some(match bits {
                0..=2047 => 80,
                2048..=3071 => 112,
                3072..=7679 => 128,
                7680..=15359 => 192,
                _ => 256,
            })
        }
        t if is_secret_type(t) => value_bits().map(|b| b.min(256)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(key_type: CK_KEY_TYPE, len: usize) -> Attributes {
        let mut a = Attributes::new();
        a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        a.set_ulong(CKA_KEY_TYPE, key_type);
        a.set_secret(CKA_VALUE, &vec![1u8; len]);
        a
    }

    #[test]
    fn strengths() {
        assert_eq!(strength(&secret(CKK_AES, 16)), Some(128));
        assert_eq!(strength(&secret(CKK_AES, 32)), Some(256));
        assert_eq!(strength(&secret(CKK_GENERIC_SECRET, 64)), Some(256));
        assert_eq!(strength(&secret(CKK_GENERIC_SECRET, 20)), Some(160));
        assert_eq!(strength(&secret(CKK_DES3, 24)), Some(112));
        assert!(weaker(&secret(CKK_AES, 16), &secret(CKK_AES, 32)));
        assert!(!weaker(&secret(CKK_AES, 32), &secret(CKK_AES, 16)));
        assert!(!weaker(&secret(CKK_AES, 24), &secret(CKK_AES, 24)));
        let mut ec = Attributes::new();
        ec.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
        ec.set_ulong(CKA_KEY_TYPE, CKK_EC);
        ec.set_bytes(CKA_EC_PARAMS, &CurveId::P384.oid_der());
        assert_eq!(strength(&ec), Some(192));
        assert!(weaker(&secret(CKK_AES, 16), &ec));
        let mut rsa = Attributes::new();
        rsa.set_ulong(CKA_KEY_TYPE, CKK_RSA);
        rsa.set_ulong(CKA_MODULUS_BITS, 2048);
        assert_eq!(strength(&rsa), Some(112));
    }

    #[test]
    fn unwrapped_secret_lengths() {
        let attrs = |key_type, len: Option<CK_ULONG>| {
            let mut a = Attributes::new();
            a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
            a.set_ulong(CKA_KEY_TYPE, key_type);
            if let Some(n) = len {
                a.set_ulong(CKA_VALUE_LEN, n);
            }
            a
        };
        let plain = |n: usize| SecretBytes::from_slice(&vec![7u8; n]);
        let mut a = attrs(CKK_AES, None);
        assert_eq!(decode_key(&mut a, plain(24)), Ok(()));
        assert_eq!(a.ulong(CKA_VALUE_LEN), Some(24));
        let mut a = attrs(CKK_AES, None);
        assert_eq!(
            decode_key(&mut a, plain(20)),
            Err(Rv::WRAPPED_KEY_LEN_RANGE)
        );
        let mut a = attrs(CKK_GENERIC_SECRET, Some(16));
        assert_eq!(
            decode_key(&mut a, plain(20)),
            Err(Rv::WRAPPED_KEY_LEN_RANGE)
        );
        let mut a = attrs(CKK_DES3, None);
        assert_eq!(decode_key(&mut a, plain(24)), Ok(()));
        assert!(a.ulong(CKA_VALUE_LEN).is_none());
    }

    #[test]
    fn unwrapped_keys_stay_unreadable() {
        let run = |t: &[Attr]| {
            let mut t = t.to_vec();
            unwrapped_unreadable(&mut t).map(|()| t)
        };
        let silent = run(&[]).expect("accepted");
        assert!(silent
            .iter()
            .any(|a| a.kind == CKA_SENSITIVE && a.value[..] == [1]));
        let tool = [
            Attr::bool(CKA_SENSITIVE, false),
            Attr::bool(CKA_EXTRACTABLE, false),
        ];
        assert_eq!(run(&tool).map(|t| t.len()), Ok(2));
        assert_eq!(run(&tool[..1]).map(|t| t.len()), Ok(1));
        let readable = [
            Attr::bool(CKA_SENSITIVE, false),
            Attr::bool(CKA_EXTRACTABLE, true),
        ];
        assert_eq!(run(&readable).err(), Some(Rv::TEMPLATE_INCONSISTENT));
    }

    #[test]
    fn padding_oracle_unwraps() {
        let mut config = Config::new("/t".into(), "/k".into());
        let strict = WrapRules::of(&config);
        assert!(strict.refuses_unwrap_with(CKM_RSA_PKCS));
        assert!(strict.refuses_unwrap_with(CKM_AES_CBC_PAD));
        assert!(!strict.refuses_unwrap_with(CKM_AES_KEY_WRAP_PAD));
        config.profile = crate::config::Profile::SoftHsm;
        let relaxed = WrapRules::of(&config);
        assert!(!relaxed.refuses_unwrap_with(CKM_RSA_PKCS));
        assert!(!relaxed.refuses_unwrap_with(CKM_AES_CBC_PAD));
    }

    #[test]
    fn conflicting_template_values() {
        let t = [
            Attr::ulong(CKA_CLASS, CKO_SECRET_KEY),
            Attr::ulong(CKA_CLASS, CKO_PRIVATE_KEY),
        ];
        assert_eq!(single_ulong(&t, CKA_CLASS), Err(Rv::TEMPLATE_INCONSISTENT));
        assert_eq!(single_ulong(&t[..1], CKA_CLASS), Ok(Some(CKO_SECRET_KEY)));
        assert_eq!(single_ulong(&t, CKA_KEY_TYPE), Ok(None));
    }
}
