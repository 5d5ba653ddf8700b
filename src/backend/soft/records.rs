//! Object records: how an object's attributes become the two blobs the
//! store keeps, and back.
//!
//! - A private object: `public` is empty; `sealed` is AES-256-GCM under the
//!   token key of all its attributes.
//! - A public object: `public` holds its non-secret attributes in clear
//!   (anyone may read them, as the spec says); `sealed` holds its secret
//!   attributes (none, for most public objects) under the device key, with
//!   the `public` bytes in the associated data: the seal authenticates the
//!   clear part too. A public row without its seal is refused.
//!
//! The associated data binds the token's identity, the object's id and the
//! record kind, so a record edited, truncated, or moved to another object or
//! token fails to open. Plaintext is `len(plain) || plain || secrets`, each
//! part in the `object::codec` encoding, so secrets are known to be secrets
//! without consulting the policy.
//!
//! Not detected: a row replaced by an older version of itself, or a deleted
//! row put back (both need a copy of the file from before; see
//! docs/threat-model.md).

use aws_lc_rs::hmac;
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{Result, Rv};
use crate::object::{codec, AttrValue, Attributes};
use crate::secure::aead;
use crate::store::Tag;

/// The bytes `codec::put` writes before a value: its type (u64) and length
/// (u32).
const CODEC_HEADER_LEN: usize = 8 + 4;

/// Which key sealed a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sealer {
    Token,
    Device,
}

/// The associated data of a record: `public` is the row's clear part (empty
/// for a private object's row).
fn aad(uuid: &[u8; 16], id: i64, sealer: Sealer, public: &[u8]) -> Vec<u8> {
    let mut aad = b"prozhsm-object-v1:".to_vec();
    aad.extend_from_slice(uuid);
    aad.extend_from_slice(&id.to_le_bytes());
    match sealer {
        Sealer::Token => aad.push(b'T'),
        Sealer::Device => {
            aad.push(b'D');
            aad.extend_from_slice(&(public.len() as u64).to_le_bytes());
            aad.extend_from_slice(public);
        }
    }
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
    // Sized up front: a Vec that grows copies what it holds into a new
    // buffer and frees the old one unwiped (Zeroizing wipes only the last),
    // which left an RSA private exponent in freed heap memory.
    let secrets_len: usize = attrs
        .iter()
        .filter_map(|(_, v)| match v {
            AttrValue::Secret(s) => Some(CODEC_HEADER_LEN + s.secret_len()),
            AttrValue::Plain(_) => None,
        })
        .sum();
    let mut secrets = Zeroizing::new(Vec::with_capacity(secrets_len));
    let capacity = secrets.capacity();
    for (kind, value) in attrs.iter() {
        match value {
            AttrValue::Plain(v) => codec::put(&mut plain, kind, v),
            AttrValue::Secret(s) => codec::put(&mut secrets, kind, s.unseal()?.as_slice()),
        }
    }
    debug_assert_eq!(secrets.capacity(), capacity, "the secrets buffer grew");
    if attrs.is_private() {
        let mut all = Zeroizing::new(Vec::with_capacity(4 + plain.len() + secrets.len()));
        all.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        all.extend_from_slice(&plain);
        all.extend_from_slice(&secrets);
        Ok((
            Vec::new(),
            aead::seal(key, &aad(uuid, id, Sealer::Token, &[]), &all)?,
        ))
    } else {
        // Sealed even without secrets: the seal authenticates `plain`.
        let mut all = Zeroizing::new(Vec::with_capacity(4 + secrets.len()));
        all.extend_from_slice(&0u32.to_le_bytes());
        all.extend_from_slice(&secrets);
        let sealed = aead::seal(key, &aad(uuid, id, Sealer::Device, &plain), &all)?;
        Ok((plain, sealed))
    }
}

/// Which key opens a row's sealed part.
pub fn sealer_of(public: &[u8]) -> Sealer {
    if is_private_row(public) {
        Sealer::Token
    } else {
        Sealer::Device
    }
}

/// Decode a stored row. `key` opens its sealed part (see [`sealer_of`]).
/// Nothing of the row is used before the seal authenticated all of it.
///
/// # Errors
/// CKR_ENCRYPTED_DATA_INVALID / CKR_DATA_INVALID when the record was
/// altered (or a public row lost its seal).
pub fn decode(
    uuid: &[u8; 16],
    id: i64,
    public: &[u8],
    sealed: &[u8],
    key: &[u8],
) -> Result<Attributes> {
    let sealer = sealer_of(public);
    let all = aead::open(key, &aad(uuid, id, sealer, public), sealed)?;
    let all = all.as_slice();
    let split = all.get(..4).ok_or(Rv::DATA_INVALID)?;
    let plain_len = u32::from_le_bytes(split.try_into().map_err(|_| Rv::DATA_INVALID)?) as usize;
    let plain = all.get(4..4 + plain_len).ok_or(Rv::DATA_INVALID)?;
    let mut attrs = Attributes::new();
    for a in codec::decode(public)? {
        attrs.set_bytes(a.kind, &a.value);
    }
    for a in codec::decode(plain)? {
        attrs.set_bytes(a.kind, &a.value);
    }
    for a in codec::decode(&all[4 + plain_len..])? {
        attrs.set_secret(a.kind, &a.value);
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

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: [u8; 16] = *b"token identity!!";
    const KEY: [u8; 32] = [7; 32];

    fn object(private: bool) -> Attributes {
        let mut a = Attributes::new();
        a.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        a.set_bool(CKA_PRIVATE, private);
        a.set_bytes(CKA_LABEL, b"label");
        a.set_secret(CKA_VALUE, &[0x42; 32]);
        a
    }

    fn value(a: &Attributes) -> Vec<u8> {
        match a.get(CKA_VALUE) {
            Some(AttrValue::Secret(s)) => s.unseal().expect("unseal").as_slice().to_vec(),
            _ => panic!("no sealed value"),
        }
    }

    #[test]
    fn round_trips() {
        for private in [true, false] {
            let (public, sealed) = encode(&UUID, 9, &object(private), &KEY).expect("encode");
            assert_eq!(public.is_empty(), private);
            assert!(!public.windows(32).any(|w| w == [0x42; 32]));
            let back = decode(&UUID, 9, &public, &sealed, &KEY).expect("decode");
            assert_eq!(back.bytes(CKA_LABEL), Some(&b"label"[..]));
            assert_eq!(value(&back), [0x42; 32]);
        }
    }

    /// Every byte of both parts of a public object's record is
    /// authenticated, and a public record without its seal is refused.
    #[test]
    fn public_records_are_authenticated() {
        let mut plain = Attributes::new();
        plain.set_ulong(CKA_CLASS, CKO_DATA);
        plain.set_bool(CKA_PRIVATE, false);
        plain.set_bytes(CKA_LABEL, b"no secrets here");
        for attrs in [plain, object(false)] {
            let (public, sealed) = encode(&UUID, 9, &attrs, &KEY).expect("encode");
            assert!(!sealed.is_empty(), "public records are always sealed");
            for i in 0..public.len() {
                let mut bad = public.clone();
                bad[i] ^= 1;
                assert!(
                    decode(&UUID, 9, &bad, &sealed, &KEY).is_err(),
                    "public[{i}]"
                );
            }
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 1;
                assert!(
                    decode(&UUID, 9, &public, &bad, &KEY).is_err(),
                    "sealed[{i}]"
                );
            }
            assert!(decode(&UUID, 9, &public, &[], &KEY).is_err());
            assert!(decode(&UUID, 10, &public, &sealed, &KEY).is_err());
        }
    }

    #[test]
    fn the_secrets_buffer_never_grows() {
        // Many secrets of several sizes (an RSA private key's worth): the
        // debug assertion in `encode` checks no reallocation happened.
        let mut a = object(true);
        for (i, len) in [256usize, 128, 128, 128, 128, 128].iter().enumerate() {
            a.set_secret(
                CKA_PRIVATE_EXPONENT + i as CK_ULONG,
                &vec![i as u8 + 1; *len],
            );
        }
        let (public, sealed) = encode(&UUID, 1, &a, &KEY).expect("encode");
        decode(&UUID, 1, &public, &sealed, &KEY).expect("decode");
    }
}
