//! Keys and helpers shared by the wrapping tests (`tests/wrap.rs`,
//! `tests/wrap_interop.rs`), included with `#[path]`.
#![allow(dead_code)]

use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::Session;
use cryptoki_sys::*;

use crate::common::Fixture;
use crate::raw::{b, oh, u, v, Client, Mech, A, H};

pub const STRICT: &str = "";
pub const SOFTHSM: &str = "[policy]\nprofile = \"softhsm\"";

/// A fresh token under `config` and a user session on it.
pub fn token(config: &str) -> (Fixture, Session) {
    let f = Fixture::with_config(config);
    let slot = f.init_token("wrap");
    let s = f.user_session(slot);
    (f, s)
}

pub fn aes_gen() -> Mech {
    Mech::none(CKM_AES_KEY_GEN)
}

/// A generated AES key of `len` bytes; `extra` says the rest.
pub fn aes(c: &Client, len: CK_ULONG, extra: Vec<A>) -> H {
    let mut t = vec![b(CKA_TOKEN, false), u(CKA_VALUE_LEN, len)];
    t.extend(extra);
    c.generate(aes_gen(), &t).expect("C_GenerateKey")
}

/// A key-encryption key: wraps and unwraps, and nothing else.
pub fn kek(c: &Client, len: CK_ULONG) -> H {
    aes(
        c,
        len,
        vec![
            b(CKA_WRAP, true),
            b(CKA_UNWRAP, true),
            b(CKA_ENCRYPT, false),
            b(CKA_DECRYPT, false),
            b(CKA_SENSITIVE, true),
        ],
    )
}

/// A data key that may be wrapped.
pub fn target(c: &Client, len: CK_ULONG, sensitive: bool) -> H {
    aes(
        c,
        len,
        vec![
            b(CKA_ENCRYPT, true),
            b(CKA_DECRYPT, true),
            b(CKA_SENSITIVE, sensitive),
            b(CKA_EXTRACTABLE, true),
        ],
    )
}

/// An AES key object created from a known value.
pub fn created_aes(c: &Client, value: &[u8], extra: Vec<A>) -> H {
    let mut t = vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        b(CKA_TOKEN, false),
        v(CKA_VALUE, value),
    ];
    t.extend(extra);
    c.create(&t).expect("C_CreateObject")
}

pub fn aes_template(extra: Vec<A>) -> Vec<A> {
    let mut t = vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        b(CKA_TOKEN, false),
        b(CKA_ENCRYPT, true),
        b(CKA_DECRYPT, true),
    ];
    t.extend(extra);
    t
}

/// Whether two AES keys hold the same value: one encrypts, the other
/// decrypts.
pub fn same_key(s: &Session, a: H, b: H) -> bool {
    let block = [0x5au8; 16];
    let ct = s
        .encrypt(&Mechanism::AesEcb, oh(a), &block)
        .expect("encrypt");
    s.decrypt(&Mechanism::AesEcb, oh(b), &ct).expect("decrypt") == block
}

pub const KW: CK_MECHANISM_TYPE = CKM_AES_KEY_WRAP;
pub const KWP: CK_MECHANISM_TYPE = CKM_AES_KEY_WRAP_PAD;

/// A wrappable AES-128 data key with `extra` attributes.
pub fn target_with(c: &Client, extra: Vec<A>) -> H {
    let mut t = vec![
        b(CKA_ENCRYPT, true),
        b(CKA_DECRYPT, true),
        b(CKA_SENSITIVE, true),
    ];
    t.extend(extra);
    aes(c, 16, t)
}

pub const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

pub fn openssl(args: &[&str], input: &std::path::Path) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .arg(input)
        .output()
        .expect("runs openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
pub const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// A session key pair on `params`, the private key extractable and
/// sensitive as asked.
pub fn key_pair(s: &Session, params: &[u8], sensitive: bool) -> (H, H) {
    let mech = if params == ED25519 {
        Mechanism::EccEdwardsKeyPairGen
    } else {
        Mechanism::EccKeyPairGen
    };
    let (public, private) = s
        .generate_key_pair(
            &mech,
            &[
                Attribute::Token(false),
                Attribute::EcParams(params.to_vec()),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(false),
                Attribute::Sign(true),
                Attribute::Sensitive(sensitive),
                Attribute::Extractable(true),
            ],
        )
        .expect("key pair");
    (public.handle(), private.handle())
}

pub fn sign_mech(params: &[u8]) -> Mechanism<'static> {
    if params == ED25519 {
        Mechanism::Eddsa(cryptoki::mechanism::eddsa::EddsaParams::new(
            cryptoki::mechanism::eddsa::EddsaSignatureScheme::Pure,
        ))
    } else {
        Mechanism::EcdsaSha256
    }
}

pub fn private_template(key_type: CK_KEY_TYPE, extra: Vec<A>) -> Vec<A> {
    let mut t = vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, key_type),
        b(CKA_TOKEN, false),
        b(CKA_SIGN, true),
    ];
    t.extend(extra);
    t
}
