//! The backend layer: one implementation of [`SlotBackend`] per kind of slot.
//!
//! The core routes every slot-level call to a `SlotBackend` and every
//! session-level call to the [`Session`] object the backend returned from
//! `open_session`. Arguments arrive as Rust types (the ABI layer converted
//! them); nothing here sees a raw pointer.
//!
//! Session methods that a backend does not implement keep their default body,
//! which answers CKR_FUNCTION_NOT_SUPPORTED as the spec asks.

#[allow(unsafe_code)]
pub mod forward;
pub mod soft;

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{Result, Rv};

/// One attribute of a client's template (C_CreateObject, C_FindObjectsInit,
/// C_GenerateKey ...). The value may be key material, so it is wiped on drop.
/// An attribute array (CKF_ARRAY_ATTRIBUTE, e.g. CKA_WRAP_TEMPLATE) arrives
/// encoded with [`crate::object::codec::encode_template`].
#[derive(Clone)]
pub struct Attr {
    pub kind: CK_ATTRIBUTE_TYPE,
    pub value: Zeroizing<Vec<u8>>,
}

impl Attr {
    /// An attribute with the given raw value.
    pub fn new(kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> Attr {
        Attr {
            kind,
            value: Zeroizing::new(value.to_vec()),
        }
    }

    /// A CK_BBOOL attribute.
    pub fn bool(kind: CK_ATTRIBUTE_TYPE, value: bool) -> Attr {
        Attr::new(kind, &[value as u8])
    }

    /// A CK_ULONG attribute, in the platform's native layout.
    pub fn ulong(kind: CK_ATTRIBUTE_TYPE, value: CK_ULONG) -> Attr {
        Attr::new(kind, &value.to_ne_bytes())
    }

    /// The value read as a CK_BBOOL; a value of the wrong size is invalid.
    ///
    /// # Errors
    /// CKR_ATTRIBUTE_VALUE_INVALID when the value is not one byte.
    pub fn as_bool(&self) -> Result<bool> {
        match self.value.as_slice() {
            [b] => Ok(*b != 0),
            _ => Err(Rv::ATTRIBUTE_VALUE_INVALID),
        }
    }

    /// The value read as a CK_ULONG.
    ///
    /// # Errors
    /// CKR_ATTRIBUTE_VALUE_INVALID when the value is not a CK_ULONG's size.
    pub fn as_ulong(&self) -> Result<CK_ULONG> {
        let bytes: [u8; std::mem::size_of::<CK_ULONG>()] = self
            .value
            .as_slice()
            .try_into()
            .map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID)?;
        Ok(CK_ULONG::from_ne_bytes(bytes))
    }
}

/// A client's template: the attributes in the order given.
pub type Template = [Attr];

/// One entry of a C_GetAttributeValue request. `buf` is the client's buffer
/// (None when it passed NULL, asking for the length); the backend sets `len`
/// to the value's length, or to CK_UNAVAILABLE_INFORMATION.
pub struct AttrQuery<'a> {
    pub kind: CK_ATTRIBUTE_TYPE,
    pub buf: Option<&'a mut [u8]>,
    pub len: CK_ULONG,
}

/// A mechanism with its parameter decoded at the ABI boundary.
#[derive(Clone, Debug)]
pub struct Mechanism {
    pub kind: CK_MECHANISM_TYPE,
    pub param: MechParam,
    /// The parameter exactly as the client passed it: a C structure whose
    /// pointers refer to the client's memory, valid for this call only.
    /// What a forwarded slot hands on unchanged (so any mechanism of the
    /// HSM works, vendor ones included); the software token reads `param`.
    pub raw: Vec<u8>,
}

/// Mechanism parameters, decoded once from the client's C structure.
/// Parameters without pointers inside arrive as `Bytes`.
#[derive(Clone, Debug)]
pub enum MechParam {
    /// No parameter (NULL, length 0).
    None,
    /// A flat parameter: an IV, a CK_ULONG, a plain struct's bytes.
    Bytes(Vec<u8>),
    /// CK_EDDSA_PARAMS (CKM_EDDSA): Ed25519ph when `prehash`, and the
    /// context data (empty when none was given).
    Eddsa { prehash: bool, context: Vec<u8> },
    /// CK_ECDH1_DERIVE_PARAMS (CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE).
    Ecdh {
        kdf: CK_EC_KDF_TYPE,
        shared_data: Vec<u8>,
        public_data: Vec<u8>,
    },
    /// CK_GCM_PARAMS (CKM_AES_GCM: the 3.0 layout with ulIvBits, or
    /// 2.40's without). The IV is ulIvLen bytes; ulIvBits is not used.
    Gcm {
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_bits: CK_ULONG,
    },
    /// CK_RSA_PKCS_PSS_PARAMS (CKM_RSA_PKCS_PSS, CKM_SHA*_RSA_PKCS_PSS).
    RsaPss {
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        salt_len: CK_ULONG,
    },
    /// CK_RSA_PKCS_OAEP_PARAMS (CKM_RSA_PKCS_OAEP); `label` is the
    /// encoding parameter at pSourceData (empty when none was given).
    RsaOaep {
        hash: CK_MECHANISM_TYPE,
        mgf: CK_RSA_PKCS_MGF_TYPE,
        source: CK_RSA_PKCS_OAEP_SOURCE_TYPE,
        label: Vec<u8>,
    },
    /// CK_HKDF_PARAMS (CKM_HKDF_DERIVE, CKM_HKDF_DATA).
    Hkdf {
        extract: bool,
        expand: bool,
        prf: CK_MECHANISM_TYPE,
        salt: HkdfSalt,
        info: Vec<u8>,
    },
    /// CK_PKCS5_PBKD2_PARAMS2, or PKCS#11 2.40's CK_PKCS5_PBKD2_PARAMS
    /// (CKM_PKCS5_PBKD2).
    Pbkdf2 {
        salt_source: CK_ULONG,
        salt: Vec<u8>,
        iterations: CK_ULONG,
        prf: CK_ULONG,
        prf_data: Vec<u8>,
        password: ParamSecret,
    },
    /// CK_AES_CBC_ENCRYPT_DATA_PARAMS (CKM_AES_CBC_ENCRYPT_DATA).
    /// CKM_AES_ECB_ENCRYPT_DATA's CK_KEY_DERIVATION_STRING_DATA arrives as
    /// `Bytes`: the data.
    AesCbcEncryptData { iv: [u8; 16], data: Vec<u8> },
}

/// The salt of CK_HKDF_PARAMS.
#[derive(Clone, Debug)]
pub enum HkdfSalt {
    /// CKF_HKDF_SALT_NULL.
    Null,
    /// CKF_HKDF_SALT_DATA.
    Data(Vec<u8>),
    /// CKF_HKDF_SALT_KEY: the salt key's handle, as the client gave it.
    Key(CK_OBJECT_HANDLE),
    /// The salt key's value, put in place of `Key` by the token once the
    /// key passed its checks, before the mechanism runs.
    KeyValue(ParamSecret),
}

/// A secret inside a mechanism parameter (a password, a salt key's value):
/// wiped on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct ParamSecret(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for ParamSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParamSecret({} bytes)", self.0.len())
    }
}

/// An output buffer under the spec's two-call convention (PKCS#11 3.0 §5.2):
/// a NULL buffer asks for the length only; a short buffer gets
/// CKR_BUFFER_TOO_SMALL with the needed length; in both cases the operation
/// stays active.
pub struct Output<'a> {
    buf: Option<&'a mut [u8]>,
    len: usize,
}

impl<'a> Output<'a> {
    /// Wrap the client's buffer (None when it passed NULL).
    pub fn new(buf: Option<&'a mut [u8]>) -> Output<'a> {
        Output { buf, len: 0 }
    }

    /// Ask for room for `needed` bytes (an upper bound of the output).
    /// Returns the buffer to write into, or None when the client asked only
    /// for the length; either way the length reported is `needed` until
    /// [`Output::written`] says otherwise.
    ///
    /// # Errors
    /// CKR_BUFFER_TOO_SMALL when the client's buffer is shorter.
    pub fn room(&mut self, needed: usize) -> Result<Option<&mut [u8]>> {
        self.len = needed;
        match self.buf.as_deref_mut() {
            None => Ok(None),
            Some(b) if b.len() < needed => Err(Rv::BUFFER_TOO_SMALL),
            Some(b) => Ok(Some(&mut b[..needed])),
        }
    }

    /// Record how many bytes were actually written.
    pub fn written(&mut self, len: usize) {
        self.len = len;
    }

    /// Copy `data` out under the two-call convention. Returns true when it was
    /// written, false when the client only asked for the length.
    ///
    /// # Errors
    /// CKR_BUFFER_TOO_SMALL when the client's buffer is shorter.
    pub fn put(&mut self, data: &[u8]) -> Result<bool> {
        match self.room(data.len())? {
            Some(b) => {
                b.copy_from_slice(data);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The length to report to the client.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the length to report is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A slot: what C_GetSlotInfo, C_GetTokenInfo, C_InitToken and
/// C_OpenSession reach. Implementations are shared between threads.
pub trait SlotBackend: Send + Sync {
    /// C_GetSlotInfo.
    fn slot_info(&self) -> Result<CK_SLOT_INFO>;

    /// C_GetTokenInfo.
    ///
    /// # Errors
    /// CKR_TOKEN_NOT_PRESENT when the slot has no token.
    fn token_info(&self) -> Result<CK_TOKEN_INFO>;

    /// Whether a token is present (C_GetSlotList with tokenPresent).
    fn token_present(&self) -> bool {
        true
    }

    /// C_GetMechanismList.
    fn mechanism_list(&self) -> Result<Vec<CK_MECHANISM_TYPE>>;

    /// C_GetMechanismInfo.
    ///
    /// # Errors
    /// CKR_MECHANISM_INVALID for a mechanism the slot lacks.
    fn mechanism_info(&self, mechanism: CK_MECHANISM_TYPE) -> Result<CK_MECHANISM_INFO>;

    /// C_InitToken: initialize or re-initialize (erasing) the token.
    fn init_token(&self, so_pin: &[u8], label: &[u8; 32]) -> Result<()>;

    /// C_OpenSession. `handle` is the handle the core assigned.
    fn open_session(
        &self,
        handle: CK_SESSION_HANDLE,
        flags: CK_FLAGS,
    ) -> Result<std::sync::Arc<dyn Session>>;

    /// C_WaitForSlotEvent for this backend (non-blocking poll).
    fn poll_event(&self) -> Result<bool> {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }
}

macro_rules! not_supported {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> Result<$ret:ty>;)*) => {
        $(
            #[allow(unused_variables)]
            fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                Err(Rv::FUNCTION_NOT_SUPPORTED)
            }
        )*
    };
}

/// An open session: every session-level PKCS#11 function. The core looks the
/// session up by handle and calls these; the default bodies answer
/// CKR_FUNCTION_NOT_SUPPORTED.
pub trait Session: Send + Sync {
    /// C_GetSessionInfo (slotID is filled in by the core).
    fn info(&self) -> Result<CK_SESSION_INFO>;

    /// Called once when the session is closed (C_CloseSession,
    /// C_CloseAllSessions, C_Finalize): drop its session objects and, for the
    /// token's last session, the login state.
    fn close(&self) -> Result<()>;

    not_supported! {
        fn login(&self, user: CK_USER_TYPE, pin: &[u8]) -> Result<()>;
        fn login_user(&self, user: CK_USER_TYPE, pin: &[u8], username: &[u8]) -> Result<()>;
        fn logout(&self) -> Result<()>;
        fn init_pin(&self, pin: &[u8]) -> Result<()>;
        fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()>;
        fn session_cancel(&self, flags: CK_FLAGS) -> Result<()>;
        fn operation_state(&self, out: &mut Output) -> Result<()>;
        fn set_operation_state(&self, state: &[u8], enc_key: CK_OBJECT_HANDLE, auth_key: CK_OBJECT_HANDLE) -> Result<()>;

        fn create_object(&self, template: &Template) -> Result<CK_OBJECT_HANDLE>;
        fn copy_object(&self, object: CK_OBJECT_HANDLE, template: &Template) -> Result<CK_OBJECT_HANDLE>;
        fn destroy_object(&self, object: CK_OBJECT_HANDLE) -> Result<()>;
        fn object_size(&self, object: CK_OBJECT_HANDLE) -> Result<CK_ULONG>;
        fn get_attributes(&self, object: CK_OBJECT_HANDLE, query: &mut [AttrQuery]) -> Result<()>;
        fn set_attributes(&self, object: CK_OBJECT_HANDLE, template: &Template) -> Result<()>;
        fn find_init(&self, template: &Template) -> Result<()>;
        fn find(&self, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>>;
        fn find_final(&self) -> Result<()>;

        fn encrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn encrypt(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn encrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn encrypt_final(&self, out: &mut Output) -> Result<()>;
        fn decrypt_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn decrypt(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn decrypt_update(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn decrypt_final(&self, out: &mut Output) -> Result<()>;

        fn digest_init(&self, mechanism: &Mechanism) -> Result<()>;
        fn digest(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn digest_update(&self, data: &[u8]) -> Result<()>;
        fn digest_key(&self, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn digest_final(&self, out: &mut Output) -> Result<()>;

        fn sign_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn sign(&self, data: &[u8], out: &mut Output) -> Result<()>;
        fn sign_update(&self, data: &[u8]) -> Result<()>;
        fn sign_final(&self, out: &mut Output) -> Result<()>;
        fn sign_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn sign_recover(&self, data: &[u8], out: &mut Output) -> Result<()>;

        fn verify_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn verify(&self, data: &[u8], signature: &[u8]) -> Result<()>;
        fn verify_update(&self, data: &[u8]) -> Result<()>;
        fn verify_final(&self, signature: &[u8]) -> Result<()>;
        fn verify_recover_init(&self, mechanism: &Mechanism, key: CK_OBJECT_HANDLE) -> Result<()>;
        fn verify_recover(&self, signature: &[u8], out: &mut Output) -> Result<()>;

        fn generate_key(&self, mechanism: &Mechanism, template: &Template) -> Result<CK_OBJECT_HANDLE>;
        fn generate_key_pair(&self, mechanism: &Mechanism, public: &Template, private: &Template) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)>;
        fn wrap_key(&self, mechanism: &Mechanism, wrapping_key: CK_OBJECT_HANDLE, key: CK_OBJECT_HANDLE, out: &mut Output) -> Result<()>;
        fn unwrap_key(&self, mechanism: &Mechanism, unwrapping_key: CK_OBJECT_HANDLE, wrapped: &[u8], template: &Template) -> Result<CK_OBJECT_HANDLE>;
        fn derive_key(&self, mechanism: &Mechanism, base_key: CK_OBJECT_HANDLE, template: &Template) -> Result<CK_OBJECT_HANDLE>;

        fn seed_random(&self, seed: &[u8]) -> Result<()>;
        fn generate_random(&self, out: &mut [u8]) -> Result<()>;
    }
}
