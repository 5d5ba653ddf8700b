//! The mechanism table and one file per family (digest, hmac, aes, rsa, ec,
//! eddsa, kdf, random, vendor). C_GetMechanismList / C_GetMechanismInfo read
//! the table; nothing else keeps a second list.
//!
//! Design (rustls's CryptoProvider as data, RustCrypto's small traits):
//! - [`TABLE`] lists every mechanism once: its CKM_ code, name, honest
//!   CK_MECHANISM_INFO and [`Ops`], a struct of `&'static dyn` capability
//!   objects ([`Digest`], [`Sign`], [`Verify`], [`Encrypt`], [`Decrypt`],
//!   [`KeyGen`], [`KeyPairGen`], [`Derive`], [`Wrap`], [`Unwrap`]). A
//!   capability the row lacks is `None`, and a unit test keeps the CKF_
//!   flags and the capabilities equal.
//! - Wrapping is its own pair of capabilities rather than Encrypt/Decrypt
//!   with a flag: the usage attributes differ (CKA_WRAP, not CKA_ENCRYPT),
//!   a mechanism may wrap without encrypting (CKM_AES_KEY_WRAP) or the
//!   other way round, and the input is a key, not data. A [`Wrap`] gets the
//!   encoded key from the session (a secret key's CKA_VALUE, a private
//!   key's PKCS#8) and returns the blob; an [`Unwrap`] returns the encoded
//!   key, and the session builds the object. What a wrap may wrap, and
//!   under which key, is decided once for every mechanism in
//!   `backend::soft::wrapping`. A mechanism that also encrypts (RSA OAEP)
//!   implements both families on one object.
//! - A capability's `start` builds one operation object (`SignOp`,
//!   `DigestOp` ...) from the parameter and the key's attributes: the key is
//!   parsed there, once, into the crate's own key type, and lives (zeroized
//!   on drop) only as long as the operation.
//! - What is common to every mechanism — the key's usage flags,
//!   CKA_ALLOWED_MECHANISMS, the two-call convention, operation state — is in
//!   `backend::soft::crypto`, not here.
//!
//! Backend per family (issue 3 measured them); each family file uses one
//! crate, and the EC curves name theirs in one table, [`ec::CURVES`]:
//! - digests MD5 (digest only), SHA-1 and SHA-2: AWS-LC's hash contexts
//!   through `crate::awslc::digest` (their state can be saved); SHA3, HMAC,
//!   AES (ECB, CBC, CBC_PAD, CTR, GCM, CMAC): `aws-lc-rs` (GCM with other IV
//!   or tag sizes: `awslc::gcm`);
//! - ECDSA and ECDH on P-256/P-384/P-521: `aws-lc-rs`, ECDSA signing through
//!   AWS-LC's C API (`awslc::ec`, a key of the scalar alone); on secp256k1:
//!   `k256`;
//! - Ed25519: `aws-lc-rs`, Ed25519ph: `ed25519-dalek` (the measurement is
//!   written down in [`eddsa`]);
//! - RSA: AWS-LC through `awslc::rsa` (constant-time, blinded private
//!   operations; see [`rsa`] for why, and why not aws-lc-rs's safe API).

pub mod aes;
pub mod cmac;
pub mod der;
pub mod digest;
pub mod ec;
pub mod ecdh;
pub mod eddsa;
pub mod hmac;
pub mod kdf;
pub mod pkcs8;
pub mod rsa;
pub mod wrap;

mod table;

use cryptoki_sys::*;

use crate::backend::{MechParam, Template};
use crate::config::{Config, Rule};
use crate::error::{Result, Rv};
use crate::object::policy::Actor;
use crate::object::{AttrValue, Attributes};
use crate::secure::SecretBytes;

pub use table::TABLE;

/// One row of the mechanism table.
pub struct MechanismEntry {
    pub kind: CK_MECHANISM_TYPE,
    pub name: &'static str,
    pub info: CK_MECHANISM_INFO,
    pub ops: Ops,
}

/// What a mechanism can do: one capability object per PKCS#11 function
/// family, `None` where the mechanism lacks it.
#[derive(Clone, Copy)]
pub struct Ops {
    pub digest: Option<&'static dyn Digest>,
    pub sign: Option<&'static dyn Sign>,
    pub verify: Option<&'static dyn Verify>,
    /// C_SignRecover: the data is carried in the signature.
    pub sign_recover: Option<&'static dyn Sign>,
    pub verify_recover: Option<&'static dyn VerifyRecover>,
    pub encrypt: Option<&'static dyn Encrypt>,
    pub decrypt: Option<&'static dyn Decrypt>,
    pub key_gen: Option<&'static dyn KeyGen>,
    pub key_pair_gen: Option<&'static dyn KeyPairGen>,
    pub derive: Option<&'static dyn Derive>,
    pub wrap: Option<&'static dyn Wrap>,
    pub unwrap: Option<&'static dyn Unwrap>,
}

impl Ops {
    /// No capability: the start of every row (`..Ops::NONE`).
    pub const NONE: Ops = Ops {
        digest: None,
        sign: None,
        verify: None,
        sign_recover: None,
        verify_recover: None,
        encrypt: None,
        decrypt: None,
        key_gen: None,
        key_pair_gen: None,
        derive: None,
        wrap: None,
        unwrap: None,
    };
}

/// The table's row for `kind`.
pub fn lookup(kind: CK_MECHANISM_TYPE) -> Option<&'static MechanismEntry> {
    TABLE.iter().find(|e| e.kind == kind)
}

/// The table's row for `kind`, or the error C_*Init answers for an unknown
/// mechanism.
///
/// # Errors
/// CKR_MECHANISM_INVALID.
pub fn entry(kind: CK_MECHANISM_TYPE) -> Result<&'static MechanismEntry> {
    lookup(kind).ok_or(Rv::MECHANISM_INVALID)
}

// ---------------------------------------------------------------------------
// Capabilities: what a table row points at.

/// C_DigestInit.
pub trait Digest: Sync {
    /// A new digest operation.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID.
    fn start(&self, param: &MechParam) -> Result<Box<dyn DigestOp>>;

    /// A digest operation going on from `state`, a state
    /// [`DigestOp::save`] gave for this mechanism (C_SetOperationState,
    /// PKCS#11 3.0 §5.6). The bytes come from a client: nothing in them is
    /// trusted.
    ///
    /// # Errors
    /// CKR_SAVED_STATE_INVALID for bytes that are not such a state, and for
    /// a mechanism whose state cannot be saved.
    fn restore(&self, state: &[u8]) -> Result<Box<dyn DigestOp>>;
}

/// C_SignInit (also C_SignRecoverInit where a mechanism allows it).
pub trait Sign: Sync {
    /// The key types this mechanism signs with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// A new signing operation with `key` (a private or secret key whose
    /// class, type, CKA_SIGN and allowed mechanisms were already checked).
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID, CKR_CURVE_NOT_SUPPORTED,
    /// CKR_KEY_SIZE_RANGE, CKR_KEY_TYPE_INCONSISTENT.
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn SignOp>>;
}

/// C_VerifyInit.
pub trait Verify: Sync {
    /// The key types this mechanism verifies with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// A new verification operation with `key`.
    ///
    /// # Errors
    /// As [`Sign::start`], and CKR_PUBLIC_KEY_INVALID.
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn VerifyOp>>;
}

/// What every keyed C_*Init asks of its capability (`Sign`, `Verify`,
/// `Encrypt`, `Decrypt`, `VerifyRecover`): the key types it takes, and an
/// operation started with a key. Lets the session run one Init for all.
pub trait KeyedStart<Op: ?Sized> {
    /// The key types the capability works with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// The operation, from the parameter and the (checked) key.
    ///
    /// # Errors
    /// As the capability's `start`.
    fn start_with(&self, param: &MechParam, key: &Attributes) -> Result<Box<Op>>;
}

macro_rules! keyed_start {
    ($cap:ident, $op:ident) => {
        impl KeyedStart<dyn $op> for dyn $cap {
            fn key_types(&self) -> &'static [CK_KEY_TYPE] {
                $cap::key_types(self)
            }

            fn start_with(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn $op>> {
                self.start(param, key)
            }
        }
    };
}
keyed_start!(Sign, SignOp);
keyed_start!(Verify, VerifyOp);
keyed_start!(Encrypt, CipherOp);
keyed_start!(Decrypt, CipherOp);
keyed_start!(VerifyRecover, RecoverOp);

/// C_VerifyRecoverInit: signatures that carry their data (PKCS#11 3.0
/// §5.14.9; RSA PKCS#1 v1.5 and raw RSA).
pub trait VerifyRecover: Sync {
    /// The key types this mechanism verifies with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// A new recovery with `key` (a public key whose CKA_VERIFY_RECOVER was
    /// checked).
    ///
    /// # Errors
    /// As [`Verify::start`].
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn RecoverOp>>;
}

/// C_EncryptInit.
pub trait Encrypt: Sync {
    /// The key types this mechanism encrypts with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// A new encryption operation with `key`.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID, CKR_KEY_SIZE_RANGE.
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>>;
}

/// C_DecryptInit.
pub trait Decrypt: Sync {
    /// The key types this mechanism decrypts with.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// A new decryption operation with `key`.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID, CKR_KEY_SIZE_RANGE.
    fn start(&self, param: &MechParam, key: &Attributes) -> Result<Box<dyn CipherOp>>;
}

/// C_GenerateKey.
pub trait KeyGen: Sync {
    /// The attributes of a new secret key: `object::policy::for_new_key`'s
    /// answer for `template`, completed with the key value and what the
    /// mechanism contributes. The caller adds CKA_KEY_GEN_MECHANISM and
    /// stores the object.
    ///
    /// # Errors
    /// The policy's template errors; CKR_TEMPLATE_INCOMPLETE (no length);
    /// CKR_KEY_SIZE_RANGE; CKR_MECHANISM_PARAM_INVALID.
    fn generate(&self, param: &MechParam, template: &Template, actor: Actor) -> Result<Attributes>;
}

/// C_GenerateKeyPair.
pub trait KeyPairGen: Sync {
    /// The attributes of a new (public, private) key pair, as
    /// [`KeyGen::generate`].
    ///
    /// # Errors
    /// The policy's template errors; CKR_TEMPLATE_INCOMPLETE (no
    /// CKA_EC_PARAMS); CKR_CURVE_NOT_SUPPORTED; CKR_MECHANISM_PARAM_INVALID.
    fn generate(
        &self,
        param: &MechParam,
        public: &Template,
        private: &Template,
        actor: Actor,
    ) -> Result<(Attributes, Attributes)>;
}

/// C_DeriveKey.
pub trait Derive: Sync {
    /// The key types of the base key.
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// The attributes of the derived key: `object::policy::for_new_key`'s
    /// answer for `template` (origin `Derived`, from `base`'s
    /// CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE), completed with the
    /// value. `base` passed the common checks (class, type, CKA_DERIVE,
    /// allowed mechanisms).
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID; CKR_TEMPLATE_INCOMPLETE,
    /// CKR_TEMPLATE_INCONSISTENT and the policy's template errors.
    fn derive(
        &self,
        param: &MechParam,
        base: &Attributes,
        template: &Template,
        actor: Actor,
    ) -> Result<Attributes>;
}

/// C_WrapKey.
pub trait Wrap: Sync {
    /// The key types of the wrapping key (a secret key, or a public key).
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// Encrypt `plain`, the encoded key to be wrapped, under `key` (whose
    /// class, type, CKA_WRAP and allowed mechanisms were checked, as were
    /// the rules about the pair).
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID; CKR_KEY_SIZE_RANGE when `plain` has a
    /// length the mechanism cannot wrap; CKR_WRAPPING_KEY_SIZE_RANGE.
    fn wrap(&self, param: &MechParam, key: &Attributes, plain: &[u8]) -> Result<Vec<u8>>;
}

/// C_UnwrapKey.
pub trait Unwrap: Sync {
    /// The key types of the unwrapping key (a secret key, or a private key).
    fn key_types(&self) -> &'static [CK_KEY_TYPE];

    /// Decrypt `wrapped` under `key` into the encoded key.
    ///
    /// # Errors
    /// CKR_MECHANISM_PARAM_INVALID; CKR_WRAPPED_KEY_LEN_RANGE;
    /// CKR_WRAPPED_KEY_INVALID (one code for every failed check);
    /// CKR_UNWRAPPING_KEY_SIZE_RANGE.
    fn unwrap(&self, param: &MechParam, key: &Attributes, wrapped: &[u8]) -> Result<SecretBytes>;
}

// ---------------------------------------------------------------------------
// Operations: one object per active C_*Init, dropped when it ends.

/// An active digest.
pub trait DigestOp: Send {
    /// The digest's length.
    fn output_len(&self) -> usize;

    /// Feed data (C_DigestUpdate).
    ///
    /// # Errors
    /// None for the digests so far; the signature allows a refusal.
    fn update(&mut self, data: &[u8]) -> Result<()>;

    /// Feed a key's value (C_DigestKey). As [`DigestOp::update`], but the
    /// running state now depends on a secret (the hash's buffer may hold
    /// the key bytes themselves), so it can no longer be saved.
    ///
    /// # Errors
    /// As [`DigestOp::update`].
    fn update_secret(&mut self, key: &[u8]) -> Result<()>;

    /// The mechanism and the running state, for C_GetOperationState
    /// (PKCS#11 3.0 §5.6); [`Digest::restore`] of that mechanism reads the
    /// state back. The operation goes on unchanged.
    ///
    /// # Errors
    /// CKR_STATE_UNSAVEABLE after [`DigestOp::update_secret`], and for a
    /// hash whose state is not reachable (SHA-3).
    fn save(&self) -> Result<(CK_MECHANISM_TYPE, Vec<u8>)>;

    /// Write the digest into `out` (at least [`DigestOp::output_len`] bytes);
    /// returns its length.
    ///
    /// # Errors
    /// CKR_FUNCTION_FAILED when the backend fails.
    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize>;
}

/// An active signing operation.
pub trait SignOp: Send {
    /// The signature's length (or an upper bound).
    fn signature_len(&self) -> usize;

    /// Whether C_SignUpdate is allowed (false for mechanisms the spec lists
    /// as single-part only, e.g. CKM_ECDSA on a caller's digest).
    fn multipart(&self) -> bool {
        true
    }

    /// Feed data.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE when the input is too long for the mechanism.
    fn update(&mut self, data: &[u8]) -> Result<()>;

    /// Sign what was fed into `out` (at least [`SignOp::signature_len`] bytes);
    /// returns the signature's length.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE; CKR_FUNCTION_FAILED when the backend fails.
    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize>;
}

/// An active verification.
pub trait VerifyOp: Send {
    /// Whether C_VerifyUpdate is allowed.
    fn multipart(&self) -> bool {
        true
    }

    /// Feed data.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE.
    fn update(&mut self, data: &[u8]) -> Result<()>;

    /// Check `signature` over what was fed.
    ///
    /// # Errors
    /// CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE, CKR_DATA_LEN_RANGE.
    fn finish(self: Box<Self>, signature: &[u8]) -> Result<()>;
}

/// An active C_VerifyRecover (single-part).
pub trait RecoverOp: Send {
    /// An upper bound of the recovered data's length.
    fn output_len(&self) -> usize;

    /// Check `signature` and write the data it carries into `out` (at
    /// least [`RecoverOp::output_len`] bytes); returns its length.
    ///
    /// # Errors
    /// CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE.
    fn recover(self: Box<Self>, signature: &[u8], out: &mut [u8]) -> Result<usize>;
}

/// An active encryption or decryption. Output lengths are upper bounds,
/// known before any input is consumed, so the two-call convention can keep
/// the operation untouched on a length query.
pub trait CipherOp: Send {
    /// An upper bound of the output of [`CipherOp::update`] for `input_len`
    /// more bytes.
    fn update_len(&self, input_len: usize) -> usize;

    /// Process a part; returns the bytes written to `out`.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE / CKR_ENCRYPTED_DATA_LEN_RANGE and the like.
    fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize>;

    /// An upper bound of the output of [`CipherOp::finish`].
    fn final_len(&self) -> usize;

    /// Finish; returns the bytes written to `out`.
    ///
    /// # Errors
    /// CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID (bad padding, a GCM
    /// tag that does not match) ...
    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize>;

    /// An upper bound of the single-part output for `input_len` bytes.
    fn oneshot_len(&self, input_len: usize) -> usize {
        self.update_len(input_len) + self.final_len()
    }

    /// Single-part C_Encrypt / C_Decrypt.
    ///
    /// # Errors
    /// As [`CipherOp::update`] and [`CipherOp::finish`].
    fn oneshot(mut self: Box<Self>, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = self.update(input, out)?;
        let rest = out.get_mut(n..).ok_or(Rv::GENERAL_ERROR)?;
        Ok(n + self.finish(rest)?)
    }
}

/// The multi-part half of a [`CipherOp`] that is single-part only (RSA
/// encryption and decryption, the spec's footnote 1): C_EncryptUpdate /
/// C_DecryptUpdate and their Final answer CKR_FUNCTION_NOT_SUPPORTED. Use
/// inside the `impl CipherOp`, beside `oneshot_len` and `oneshot`.
macro_rules! single_part_cipher {
    () => {
        fn update_len(&self, _input_len: usize) -> usize {
            0
        }

        fn update(&mut self, _input: &[u8], _out: &mut [u8]) -> $crate::error::Result<usize> {
            Err($crate::error::Rv::FUNCTION_NOT_SUPPORTED)
        }

        fn final_len(&self) -> usize {
            0
        }

        fn finish(self: Box<Self>, _out: &mut [u8]) -> $crate::error::Result<usize> {
            Err($crate::error::Rv::FUNCTION_NOT_SUPPORTED)
        }
    };
}
pub(crate) use single_part_cipher;

// ---------------------------------------------------------------------------
// Helpers for the families.

/// A key value in clear, for the duration of a C_*Init: the sealed secret
/// unsealed, or a plain value copied.
///
/// # Errors
/// CKR_GENERAL_ERROR when the key lacks the attribute (the attribute policy
/// requires it, so this is a token bug, logged).
pub fn key_value(key: &Attributes, kind: CK_ATTRIBUTE_TYPE) -> Result<SecretBytes> {
    match key.get(kind) {
        Some(AttrValue::Secret(s)) => s.unseal(),
        Some(AttrValue::Plain(v)) => Ok(SecretBytes::from_slice(v)),
        None => {
            log::error!("key without attribute {kind:#x}");
            Err(Rv::GENERAL_ERROR)
        }
    }
}

/// Check a key object's values the way the mechanisms will parse them at
/// C_*Init, so that C_CreateObject (the attribute policy) can refuse a key
/// no mechanism could use. Key types no mechanism here uses pass.
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID for a malformed value (wrong length, scalar
/// out of range, point not on the curve); CKR_CURVE_NOT_SUPPORTED;
/// CKR_DOMAIN_PARAMS_INVALID (CKA_EC_PARAMS not DER); CKR_GENERAL_ERROR
/// when a required attribute is missing.
pub fn check_key(key: &Attributes) -> Result<()> {
    let result = match (key.class(), key.key_type()) {
        (CKO_PRIVATE_KEY | CKO_PUBLIC_KEY, Some(CKK_EC)) => ec::check_key(key),
        (CKO_PRIVATE_KEY | CKO_PUBLIC_KEY, Some(CKK_EC_EDWARDS)) => eddsa::check_key(key),
        (CKO_PRIVATE_KEY | CKO_PUBLIC_KEY, Some(CKK_RSA)) => rsa::keys::check_key(key),
        (CKO_SECRET_KEY, Some(CKK_AES)) => match key_value(key, CKA_VALUE)?.len() {
            16 | 24 | 32 => Ok(()),
            _ => Err(Rv::KEY_SIZE_RANGE),
        },
        (CKO_SECRET_KEY, Some(CKK_GENERIC_SECRET)) => match key_value(key, CKA_VALUE)?.len() {
            0 => Err(Rv::KEY_SIZE_RANGE),
            _ => Ok(()),
        },
        _ => Ok(()),
    };
    result.map_err(|rv| match rv {
        Rv::KEY_SIZE_RANGE | Rv::PUBLIC_KEY_INVALID => Rv::ATTRIBUTE_VALUE_INVALID,
        other => other,
    })
}

/// The mechanism must have no parameter.
///
/// # Errors
/// CKR_MECHANISM_PARAM_INVALID.
pub fn no_param(param: &MechParam) -> Result<()> {
    match param {
        MechParam::None => Ok(()),
        _ => Err(Rv::MECHANISM_PARAM_INVALID),
    }
}

/// The value of `kind` in a template, if given.
pub fn template_value(template: &Template, kind: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
    template
        .iter()
        .rev()
        .find(|a| a.kind == kind)
        .map(|a| a.value.as_slice())
}

/// A CK_MECHANISM_INFO.
pub const fn info(min: CK_ULONG, max: CK_ULONG, flags: CK_FLAGS) -> CK_MECHANISM_INFO {
    CK_MECHANISM_INFO {
        ulMinKeySize: min,
        ulMaxKeySize: max,
        flags,
    }
}

// ---------------------------------------------------------------------------
// The configured policy's say on which keys mechanisms may use.

/// The relaxations of the configured policy that decide which key material
/// the mechanisms accept (DESIGN.md, Policy profiles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyPolicy {
    /// RSA keys of 1024 to 2047 bits ([`Rule::Rsa1024`]).
    pub rsa_1024: bool,
}

impl KeyPolicy {
    /// The policy of a configuration.
    pub fn of(config: &Config) -> KeyPolicy {
        KeyPolicy {
            rsa_1024: config.allows(Rule::Rsa1024),
        }
    }
}

/// The C_CreateObject check of a key object: material the token
/// understands must be well formed (an EC or Ed25519 point on its curve, a
/// scalar in range, RSA components that agree, an AES key of a valid
/// length). What only the policy refuses (RSA sizes and exponents, see
/// [`rsa::keys::check_material`]) and curves the token has no arithmetic for
/// are stored as given and refused at use, as SoftHSMv2 stores them.
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID.
pub fn check_material(key: &Attributes) -> Result<()> {
    if matches!(key.class(), CKO_PRIVATE_KEY | CKO_PUBLIC_KEY) && key.key_type() == Some(CKK_RSA) {
        return rsa::keys::check_material(key);
    }
    match check_key(key) {
        Err(Rv::CURVE_NOT_SUPPORTED) => Ok(()),
        other => other,
    }
}

/// A row's CK_MECHANISM_INFO under the configured policy: the RSA rows'
/// ulMinKeySize is 1024 bits where `allow_rsa_1024` admits such keys.
pub fn info_under(entry: &MechanismEntry, policy: KeyPolicy) -> CK_MECHANISM_INFO {
    let mut info = entry.info;
    if policy.rsa_1024 && entry.name.contains("_RSA") {
        info.ulMinKeySize = info.ulMinKeySize.min(rsa::LEGACY_MIN_KEY_BITS);
    }
    info
}

/// Whether the policy lets `key` be used at all: checked at every C_*Init
/// before the mechanism's own checks (today: RSA key sizes and exponents,
/// see [`rsa::keys::key_permitted`]).
///
/// # Errors
/// CKR_KEY_SIZE_RANGE, CKR_PUBLIC_KEY_INVALID.
pub fn key_permitted(key: &Attributes, policy: KeyPolicy) -> Result<()> {
    match key.key_type() {
        Some(CKK_RSA) => rsa::keys::key_permitted(key, policy),
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use cryptoki_sys::*;

    use crate::object::Attributes;

    /// Bytes from hex (test vectors); panics on bad input, tests only.
    pub fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
            .collect()
    }

    /// A key object's attributes: private (with `value` sealed) when a
    /// value is given, public otherwise.
    pub fn key(
        key_type: CK_KEY_TYPE,
        plain: &[(CK_ATTRIBUTE_TYPE, &[u8])],
        value: Option<&[u8]>,
    ) -> Attributes {
        let mut a = Attributes::new();
        a.set_ulong(CKA_KEY_TYPE, key_type);
        for (kind, v) in plain {
            a.set_bytes(*kind, v);
        }
        match value {
            Some(v) => {
                a.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
                a.set_secret(CKA_VALUE, v);
            }
            None => a.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY),
        }
        a
    }
}
