//! Object records: how an object's attributes become the two blobs the
//! store keeps, and back.
//!
//! - A private object: `public` is empty; `sealed` is AES-256-GCM under the
//!   token key of all its attributes.
//! - A public object: `public` holds its non-secret attributes in clear
//!   (anyone may read them, as the spec says); `sealed` holds its secret
//!   attributes under the device key, or is empty when it has none.
//!
//! The associated data binds the token's identity, the object's id and the
//! record kind, so a record edited, truncated, or moved to another object or
//! token fails to open. Plaintext is `len(plain) || plain || secrets`, each
//! part in the `object::codec` encoding, so secrets are known to be secrets
//! without consulting the policy.

use aws_lc_rs::hmac;
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{Result, Rv};
use crate::object::{codec, AttrValue, Attributes};
use crate::secure::aead;
use crate::store::Tag;

/// Which key sealed a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sealer {
    Token,
    Device,
}

fn aad(uuid: &[u8; 16], id: i64, sealer: Sealer) -> Vec<u8> {
    let mut aad = b"prozhsm-object-v1:".to_vec();
    aad.extend_from_slice(uuid);
    aad.extend_from_slice(&id.to_le_bytes());
    aad.push(match sealer {
        Sealer::Token => b'T',
        Sealer::Device => b'D',
    });
    aad
}

/// Whether a stored row is a private object's.
pub fn is_private_row(public: &[u8]) -> bool {
    public.is_empty()
}

/// Encode an object for the store: (public, sealed). `key` is the token key
/// for a private object, the device key for a public one.
///
/// # Errors
/// CKR_GENERAL_ERROR when sealing fails.
pub fn encode(
    uuid: &[u8; 16],
    id: i64,
    attrs: &Attributes,
    key: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut plain = Vec::new();
    let mut secrets = Zeroizing::new(Vec::new());
    for (kind, value) in attrs.iter() {
        match value {
            AttrValue::Plain(v) => codec::put(&mut plain, kind, v),
            AttrValue::Secret(s) => codec::put(&mut secrets, kind, s.unseal()?.as_slice()),
        }
    }
    if attrs.is_private() {
        let mut all = Zeroizing::new(Vec::with_capacity(4 + plain.len() + secrets.len()));
        all.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        all.extend_from_slice(&plain);
        all.extend_from_slice(&secrets);
        Ok((
            Vec::new(),
            aead::seal(key, &aad(uuid, id, Sealer::Token), &all)?,
        ))
    } else if secrets.is_empty() {
        Ok((plain, Vec::new()))
    } else {
        let mut all = Zeroizing::new(Vec::with_capacity(4 + secrets.len()));
        all.extend_from_slice(&0u32.to_le_bytes());
        all.extend_from_slice(&secrets);
        Ok((
            plain,
            aead::seal(key, &aad(uuid, id, Sealer::Device), &all)?,
        ))
    }
}

/// Which key opens a row's sealed part (None: nothing sealed).
pub fn sealer_of(public: &[u8], sealed: &[u8]) -> Option<Sealer> {
    if is_private_row(public) {
        Some(Sealer::Token)
    } else if sealed.is_empty() {
        None
    } else {
        Some(Sealer::Device)
    }
}

/// Decode a stored row. `key` opens its sealed part (see [`sealer_of`]).
///
/// # Errors
/// CKR_ENCRYPTED_DATA_INVALID / CKR_DATA_INVALID when the record was altered.
pub fn decode(
    uuid: &[u8; 16],
    id: i64,
    public: &[u8],
    sealed: &[u8],
    key: Option<&[u8]>,
) -> Result<Attributes> {
    let mut attrs = Attributes::new();
    for a in codec::decode(public)? {
        attrs.set_bytes(a.kind, &a.value);
    }
    if let Some(sealer) = sealer_of(public, sealed) {
        let key = key.ok_or(Rv::USER_NOT_LOGGED_IN)?;
        let all = aead::open(key, &aad(uuid, id, sealer), sealed)?;
        let all = all.as_slice();
        let split = all.get(..4).ok_or(Rv::DATA_INVALID)?;
        let plain_len =
            u32::from_le_bytes(split.try_into().map_err(|_| Rv::DATA_INVALID)?) as usize;
        let plain = all.get(4..4 + plain_len).ok_or(Rv::DATA_INVALID)?;
        for a in codec::decode(plain)? {
            attrs.set_bytes(a.kind, &a.value);
        }
        for a in codec::decode(&all[4 + plain_len..])? {
            attrs.set_secret(a.kind, &a.value);
        }
    }
    Ok(attrs)
}

/// The attributes a find can look up by tag, most selective first.
pub const TAGGED: [CK_ATTRIBUTE_TYPE; 4] = [CKA_LABEL, CKA_ID, CKA_KEY_TYPE, CKA_CLASS];

/// The key that makes search tags: for private objects derived from the
/// token key (so a token file alone does not reveal what a private object's
/// label is, not even by guessing), for public objects from the token's
/// identity (their attributes are public anyway).
pub struct TagKey(hmac::Key);

impl TagKey {
    /// The tag key of private objects.
    pub fn private(uuid: &[u8; 16], token_key: &[u8]) -> TagKey {
        let k = hmac::Key::new(hmac::HMAC_SHA256, token_key);
        let mut ctx = hmac::Context::with_key(&k);
        ctx.update(b"prozhsm-private-tags-v1:");
        ctx.update(uuid);
        TagKey(hmac::Key::new(hmac::HMAC_SHA256, ctx.sign().as_ref()))
    }

    /// The tag key of public objects.
    pub fn public(uuid: &[u8; 16]) -> TagKey {
        let mut seed = b"prozhsm-public-tags-v1:".to_vec();
        seed.extend_from_slice(uuid);
        TagKey(hmac::Key::new(hmac::HMAC_SHA256, &seed))
    }

    /// The tag of one attribute value.
    pub fn tag(&self, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> Tag {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(&kind.to_le_bytes());
        ctx.update(value);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&ctx.sign().as_ref()[..16]);
        tag
    }

    /// The tags of an object's searchable attributes.
    pub fn tags(&self, attrs: &Attributes) -> Vec<Tag> {
        TAGGED
            .iter()
            .filter_map(|kind| attrs.bytes(*kind).map(|v| self.tag(*kind, v)))
            .collect()
    }
}
