//! C_GenerateKey, C_GenerateKeyPair and C_DeriveKey (PKCS#11 3.0 §5.16):
//! the mechanism makes the attributes (through the attribute policy), the
//! token stores them. Both objects of a pair are stored or neither is.

use cryptoki_sys::*;

use crate::backend::soft::crypto::{use_key, Usage};
use crate::backend::soft::session::SoftSession;
use crate::backend::soft::token::Login;
use crate::backend::soft::wrapping::derive_template;
use crate::backend::{Mechanism, Template};
use crate::error::{Result, Rv};
use crate::object::Attributes;

impl SoftSession {
    pub(super) fn crypto_generate_key(
        &self,
        mechanism: &Mechanism,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let generator = self
            .mechanism_entry(mechanism.kind)?
            .ops
            .key_gen
            .ok_or(Rv::MECHANISM_INVALID)?;
        let mut attrs = generator.generate(&mechanism.param, template, self.actor())?;
        mark_generated(&mut attrs, mechanism.kind);
        self.check_storable(&attrs)?;
        self.token().add_object(self.caller(), attrs)
    }

    pub(super) fn crypto_generate_key_pair(
        &self,
        mechanism: &Mechanism,
        public: &Template,
        private: &Template,
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        let generator = self
            .mechanism_entry(mechanism.kind)?
            .ops
            .key_pair_gen
            .ok_or(Rv::MECHANISM_INVALID)?;
        let (mut pub_attrs, mut priv_attrs) =
            generator.generate(&mechanism.param, public, private, self.actor())?;
        mark_generated(&mut pub_attrs, mechanism.kind);
        mark_generated(&mut priv_attrs, mechanism.kind);
        // Refuse before storing either, so a refusal leaves nothing behind.
        self.check_storable(&pub_attrs)?;
        self.check_storable(&priv_attrs)?;
        let token = self.token();
        let pub_handle = token.add_object(self.caller(), pub_attrs)?;
        match token.add_object(self.caller(), priv_attrs) {
            Ok(priv_handle) => Ok((pub_handle, priv_handle)),
            Err(rv) => {
                if let Err(undo) = token.destroy_object(self.caller(), pub_handle) {
                    log::error!("key pair: public key left after a failed store ({undo:?})");
                }
                Err(rv)
            }
        }
    }

    /// C_DeriveKey: the base key passes the checks of C_*Init with
    /// CKA_DERIVE as its usage attribute; its CKA_DERIVE_TEMPLATE joins the
    /// template, and an HKDF salt key is replaced by its value
    /// (`wrapping.rs`).
    pub(super) fn crypto_derive_key(
        &self,
        mechanism: &Mechanism,
        base: CK_OBJECT_HANDLE,
        template: &Template,
    ) -> Result<CK_OBJECT_HANDLE> {
        let derive = self.capability(mechanism, |o| o.derive)?;
        let mechanism = &self.resolve_derive_param(mechanism)?;
        let attrs = use_key(
            self,
            mechanism,
            base,
            Usage::Derive,
            derive.key_types(),
            |k| {
                let template = derive_template(k, template)?;
                derive.derive(&mechanism.param, k, &template, self.actor())
            },
        )?;
        self.check_storable(&attrs)?;
        self.token().add_object(self.caller(), attrs)
    }

    /// The rules `Token::add_object` applies, checked ahead so that a pair
    /// is refused whole.
    fn check_storable(&self, attrs: &Attributes) -> Result<()> {
        if attrs.is_token() && !self.caller().rw {
            return Err(Rv::SESSION_READ_ONLY);
        }
        if attrs.is_private() && self.token().login_state() != Login::User {
            return Err(Rv::USER_NOT_LOGGED_IN);
        }
        Ok(())
    }
}

/// What the token sets on every key it generates (PKCS#11 3.0 §4.7.2):
/// CKA_KEY_GEN_MECHANISM. CKA_LOCAL is the attribute policy's: TRUE for
/// keys of random material, FALSE for CKM_PKCS5_PBKD2's, which come from a
/// password the caller knows.
fn mark_generated(attrs: &mut Attributes, kind: CK_MECHANISM_TYPE) {
    attrs.set_ulong(CKA_KEY_GEN_MECHANISM, kind);
}
