//! A software token: its metadata, PINs and login state, and its session
//! counts. Objects are in `objects.rs`; record sealing in `records.rs`.
//!
//! PIN scheme (DESIGN.md, Storage): a random 256-bit token key encrypts the
//! private records. It is stored twice, wrapped (AES-256-GCM) under a key
//! derived from the SO PIN and under one derived from the user PIN
//! (Argon2id, cost stored beside each). A PIN is right exactly when its
//! wrapped copy opens, so no PIN hash is kept. Wrong PINs are counted in the
//! store, so the count survives restarts and is shared by processes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::RwLock;

use crate::backend::soft::device_key::DeviceKey;
use crate::backend::soft::objects::ObjectIndex;
use crate::backend::soft::records::TagKey;
use crate::config::Config;
use crate::core::{padded, version};
use crate::error::{Result, Rv};
use crate::secure::pin::{derive_key, KdfCost};
use crate::secure::{aead, Sealed, SecretBytes};
use crate::store::TokenStore;

/// Shortest and longest PIN accepted (SoftHSMv2's bounds).
pub const MIN_PIN_LEN: usize = 4;
pub const MAX_PIN_LEN: usize = 255;

/// Who is logged in to the token, for this application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    Public,
    User,
    So,
}

/// The two PIN roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    So,
    User,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::So => "so",
            Role::User => "user",
        }
    }
}

/// The token key wrapped under one PIN.
#[derive(Clone)]
struct WrappedKey {
    salt: Vec<u8>,
    cost: KdfCost,
    blob: Vec<u8>,
}

/// The token's metadata as stored.
#[derive(Clone)]
struct Meta {
    label: [u8; 32],
    serial: [u8; 16],
    so: WrappedKey,
    user: Option<WrappedKey>,
    so_fails: u32,
    user_fails: u32,
}

struct State {
    meta: Meta,
    login: Login,
    /// The token key while someone is logged in, sealed in memory.
    token_key: Option<Sealed>,
}

/// An initialized software token.
pub struct Token {
    store: TokenStore,
    config: Arc<Config>,
    uuid: [u8; 16],
    state: RwLock<State>,
    device_key: Arc<DeviceKey>,
    pub(super) objects: ObjectIndex,
    /// The token file has search tags for every object (made by this
    /// version); else finds load the whole token.
    tagged: AtomicBool,
    public_tags: TagKey,
    ro_sessions: AtomicUsize,
    rw_sessions: AtomicUsize,
}

impl Token {
    /// Open an existing token file.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the file is not a readable ProzHSM token.
    pub fn open(
        store: TokenStore,
        config: Arc<Config>,
        device_key: Arc<DeviceKey>,
    ) -> Result<Token> {
        let entries = store.meta()?;
        let uuid: [u8; 16] = entries
            .get("uuid")
            .and_then(|v| v.as_slice().try_into().ok())
            .ok_or_else(|| {
                log::error!("{}: no token identity", store.path().display());
                Rv::DEVICE_ERROR
            })?;
        let meta = Meta::decode(&entries).ok_or_else(|| {
            log::error!("{}: token metadata unreadable", store.path().display());
            Rv::DEVICE_ERROR
        })?;
        let tagged = entries.get("index").is_some_and(|v| v.as_slice() == b"1");
        Ok(Token {
            store,
            config,
            tagged: AtomicBool::new(tagged),
            public_tags: TagKey::public(&uuid),
            uuid,
            state: RwLock::new(State {
                meta,
                login: Login::Public,
                token_key: None,
            }),
            device_key,
            objects: ObjectIndex::new(),
            ro_sessions: AtomicUsize::new(0),
            rw_sessions: AtomicUsize::new(0),
        })
    }

    /// Create a new token file at `path` (C_InitToken on the free slot).
    ///
    /// # Errors
    /// CKR_PIN_LEN_RANGE; CKR_DEVICE_ERROR when the file cannot be made.
    pub fn create(
        path: &std::path::Path,
        so_pin: &[u8],
        label: &[u8; 32],
        uuid: [u8; 16],
        config: Arc<Config>,
        device_key: Arc<DeviceKey>,
    ) -> Result<Token> {
        check_pin_len(so_pin)?;
        let serial = serial_of(&uuid);
        let meta = Meta::fresh(&uuid, so_pin, label, serial, config.kdf)?;
        let store = TokenStore::open(path, true)?;
        meta.write_fresh(&store, &uuid)?;
        Token::open(store, config, device_key)
    }

    /// The token's store.
    pub(super) fn store(&self) -> &TokenStore {
        &self.store
    }

    /// The token's identity, bound into every record's associated data.
    pub(super) fn uuid(&self) -> &[u8; 16] {
        &self.uuid
    }

    /// The per-installation device key (public objects' secrets).
    pub(super) fn device_key(&self) -> &DeviceKey {
        &self.device_key
    }

    /// Whether every object of the token file carries search tags.
    pub(super) fn tagged(&self) -> bool {
        self.tagged.load(Ordering::Relaxed)
    }

    /// The tag key of public objects.
    pub(super) fn public_tags(&self) -> &TagKey {
        &self.public_tags
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Who is logged in.
    pub fn login_state(&self) -> Login {
        self.state.read().login
    }

    /// The token key, unsealed for one operation.
    ///
    /// # Errors
    /// CKR_USER_NOT_LOGGED_IN when nobody is logged in.
    pub(super) fn token_key(&self) -> Result<SecretBytes> {
        match &self.state.read().token_key {
            Some(k) => k.unseal(),
            None => Err(Rv::USER_NOT_LOGGED_IN),
        }
    }

    /// C_GetTokenInfo.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn info(&self) -> Result<CK_TOKEN_INFO> {
        self.reload_meta()?;
        let state = self.state.read();
        let meta = &state.meta;
        let max = self.config.max_pin_attempts;
        let mut flags =
            CKF_RNG | CKF_LOGIN_REQUIRED | CKF_RESTORE_KEY_NOT_NEEDED | CKF_TOKEN_INITIALIZED;
        if meta.user.is_some() {
            flags |= CKF_USER_PIN_INITIALIZED;
        }
        flags |= pin_flags(
            meta.user_fails,
            max,
            CKF_USER_PIN_COUNT_LOW,
            CKF_USER_PIN_FINAL_TRY,
            CKF_USER_PIN_LOCKED,
        );
        flags |= pin_flags(
            meta.so_fails,
            max,
            CKF_SO_PIN_COUNT_LOW,
            CKF_SO_PIN_FINAL_TRY,
            CKF_SO_PIN_LOCKED,
        );
        let ro = self.ro_sessions.load(Ordering::Relaxed);
        let rw = self.rw_sessions.load(Ordering::Relaxed);
        Ok(CK_TOKEN_INFO {
            label: meta.label,
            manufacturerID: padded(b"ProzHSM"),
            model: padded(b"ProzHSM soft"),
            serialNumber: meta.serial,
            flags,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: (ro + rw) as CK_ULONG,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: rw as CK_ULONG,
            ulMaxPinLen: MAX_PIN_LEN as CK_ULONG,
            ulMinPinLen: MIN_PIN_LEN as CK_ULONG,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: version(),
            firmwareVersion: version(),
            utcTime: [b' '; 16],
        })
    }

    /// Re-read metadata another process may have changed (PIN counters, a
    /// user PIN set elsewhere).
    fn reload_meta(&self) -> Result<()> {
        let entries = self.store.meta()?;
        let meta = Meta::decode(&entries).ok_or(Rv::DEVICE_ERROR)?;
        self.state.write().meta = meta;
        Ok(())
    }

    /// Count a session opening; refuses a read-only session while the SO is
    /// logged in.
    ///
    /// # Errors
    /// CKR_SESSION_READ_WRITE_SO_EXISTS.
    pub fn session_opened(&self, rw: bool) -> Result<()> {
        let state = self.state.read();
        if !rw && state.login == Login::So {
            return Err(Rv::SESSION_READ_WRITE_SO_EXISTS);
        }
        let counter = if rw {
            &self.rw_sessions
        } else {
            &self.ro_sessions
        };
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Count a session closing; the application's last session logs out
    /// (PKCS#11 3.0 §5.6, C_CloseSession).
    pub fn session_closed(&self, rw: bool) {
        let counter = if rw {
            &self.rw_sessions
        } else {
            &self.ro_sessions
        };
        counter.fetch_sub(1, Ordering::SeqCst);
        if self.ro_sessions.load(Ordering::SeqCst) + self.rw_sessions.load(Ordering::SeqCst) == 0 {
            self.end_login();
        }
    }

    /// C_Login for the SO or the user.
    ///
    /// # Errors
    /// CKR_USER_TYPE_INVALID, CKR_USER_ALREADY_LOGGED_IN,
    /// CKR_USER_ANOTHER_ALREADY_LOGGED_IN, CKR_SESSION_READ_ONLY_EXISTS,
    /// CKR_USER_PIN_NOT_INITIALIZED, CKR_PIN_LOCKED, CKR_PIN_INCORRECT.
    pub fn login(&self, user: CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        let (role, wanted) = match user {
            CKU_SO => (Role::So, Login::So),
            CKU_USER => (Role::User, Login::User),
            CKU_CONTEXT_SPECIFIC => {
                // Re-authentication is for an operation on a key with
                // CKA_ALWAYS_AUTHENTICATE: the session that has one calls
                // `reauthenticate`; without one, this is all there is.
                return Err(match self.login_state() {
                    Login::Public => Rv::USER_NOT_LOGGED_IN,
                    _ => Rv::OPERATION_NOT_INITIALIZED,
                });
            }
            _ => return Err(Rv::USER_TYPE_INVALID),
        };
        match self.login_state() {
            Login::Public => {}
            now if now == wanted => return Err(Rv::USER_ALREADY_LOGGED_IN),
            _ => return Err(Rv::USER_ANOTHER_ALREADY_LOGGED_IN),
        }
        if role == Role::So && self.ro_sessions.load(Ordering::SeqCst) > 0 {
            return Err(Rv::SESSION_READ_ONLY_EXISTS);
        }
        let key = self.check_pin(role, pin)?;
        {
            let mut state = self.state.write();
            if state.login != Login::Public {
                // Another thread logged in while the PIN was being checked.
                return Err(if state.login == wanted {
                    Rv::USER_ALREADY_LOGGED_IN
                } else {
                    Rv::USER_ANOTHER_ALREADY_LOGGED_IN
                });
            }
            state.login = wanted;
            state.token_key = Some(Sealed::seal(key.as_slice()));
        }
        if wanted == Login::User {
            // Private objects load lazily, as finds reach them.
            self.objects.mark_incomplete();
        }
        log::info!("{:?} logged in to token {}", role, self.serial_str());
        Ok(())
    }

    /// Check the user's PIN again for one operation on a key with
    /// CKA_ALWAYS_AUTHENTICATE (C_Login with CKU_CONTEXT_SPECIFIC, PKCS#11
    /// 3.0 §4.9). The PIN is checked and counted exactly as a C_Login's
    /// (the same wrong-PIN counter and lock); the login state does not
    /// change, except as §4.9 says: when re-authentication finds the PIN
    /// locked, the attempt that locked it included, C_Login answers
    /// CKR_PIN_LOCKED and the user is logged out of the token.
    ///
    /// # Errors
    /// CKR_USER_NOT_LOGGED_IN when the user is not logged in;
    /// CKR_PIN_INCORRECT, CKR_PIN_LOCKED; CKR_DEVICE_ERROR when the store
    /// cannot be read or written.
    pub fn reauthenticate(&self, pin: &[u8]) -> Result<()> {
        if self.login_state() != Login::User {
            return Err(Rv::USER_NOT_LOGGED_IN);
        }
        match self.check_pin(Role::User, pin) {
            // The token key it unwrapped is wiped as it drops.
            Ok(_) => Ok(()),
            Err(rv @ (Rv::PIN_INCORRECT | Rv::PIN_LOCKED)) => {
                let locked = self.state.read().meta.user_fails >= self.config.max_pin_attempts;
                if !locked {
                    return Err(rv);
                }
                log::warn!(
                    "user PIN of token {} locked at re-authentication: user logged out",
                    self.serial_str()
                );
                self.end_login();
                Err(Rv::PIN_LOCKED)
            }
            Err(rv) => Err(rv),
        }
    }

    /// C_Logout.
    ///
    /// # Errors
    /// CKR_USER_NOT_LOGGED_IN.
    pub fn logout(&self) -> Result<()> {
        if self.login_state() == Login::Public {
            return Err(Rv::USER_NOT_LOGGED_IN);
        }
        self.end_login();
        Ok(())
    }

    /// Forget the login and the private objects' handles (PKCS#11 3.0 §5.6:
    /// after logout, handles to private objects are invalid for good).
    fn end_login(&self) {
        let was = {
            let mut state = self.state.write();
            state.token_key = None;
            std::mem::replace(&mut state.login, Login::Public)
        };
        if was == Login::User {
            self.objects.forget_private();
        }
    }

    /// C_InitPIN: set the user PIN (SO logged in, read/write session).
    ///
    /// # Errors
    /// CKR_USER_NOT_LOGGED_IN, CKR_PIN_LEN_RANGE, CKR_DEVICE_ERROR.
    pub fn init_pin(&self, pin: &[u8]) -> Result<()> {
        if self.login_state() != Login::So {
            return Err(Rv::USER_NOT_LOGGED_IN);
        }
        check_pin_len(pin)?;
        let key = self.token_key()?;
        let wrapped =
            WrappedKey::wrap(&self.uuid, Role::User, pin, key.as_slice(), self.config.kdf)?;
        self.write_wrapped(Role::User, &wrapped)
    }

    /// C_SetPIN: change the PIN of whoever is logged in, or the user's PIN
    /// in a public session. Only the wrapped token key changes; no record is
    /// re-encrypted.
    ///
    /// # Errors
    /// CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_PIN_LEN_RANGE,
    /// CKR_USER_PIN_NOT_INITIALIZED, CKR_DEVICE_ERROR.
    pub fn set_pin(&self, old: &[u8], new: &[u8]) -> Result<()> {
        let role = match self.login_state() {
            Login::So => Role::So,
            _ => Role::User,
        };
        let key = self.check_pin(role, old)?;
        check_pin_len(new)?;
        let wrapped = WrappedKey::wrap(&self.uuid, role, new, key.as_slice(), self.config.kdf)?;
        self.write_wrapped(role, &wrapped)
    }

    /// Verify the SO PIN (C_InitToken on an initialized token).
    ///
    /// # Errors
    /// As [`Token::login`]'s PIN errors.
    pub fn check_so_pin(&self, pin: &[u8]) -> Result<()> {
        self.check_pin(Role::So, pin).map(drop)
    }

    /// Erase the token and start over with a new token key (C_InitToken).
    ///
    /// # Errors
    /// CKR_PIN_LEN_RANGE, CKR_DEVICE_ERROR.
    pub fn reinitialize(&self, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        check_pin_len(so_pin)?;
        let serial = self.state.read().meta.serial;
        let meta = Meta::fresh(&self.uuid, so_pin, label, serial, self.config.kdf)?;
        meta.write_fresh(&self.store, &self.uuid)?;
        self.tagged.store(true, Ordering::SeqCst);
        self.end_login();
        self.objects.clear();
        self.state.write().meta = meta;
        log::info!("token {} re-initialized", self.serial_str());
        Ok(())
    }

    /// Check a PIN against its wrapped token key, counting failures.
    /// Returns the token key.
    ///
    /// Every attempt on an unlocked PIN runs the full derivation (Argon2id
    /// at the cost stored with the wrapped key) and one AES-GCM open, whose
    /// tag check is constant-time: no early exit depends on the PIN's
    /// bytes, and no PIN hash is compared. The outcome is then counted in
    /// one store transaction that re-reads the count, so attempts running
    /// in parallel (threads, processes) are each counted, and an attempt
    /// that finishes after the PIN locked meanwhile gets CKR_PIN_LOCKED
    /// whatever its PIN: at most `max_pin_attempts` wrong PINs are ever
    /// answered.
    fn check_pin(&self, role: Role, pin: &[u8]) -> Result<SecretBytes> {
        self.reload_meta()?;
        let (wrapped, fails) = {
            let state = self.state.read();
            match role {
                Role::So => (Some(state.meta.so.clone()), state.meta.so_fails),
                Role::User => (state.meta.user.clone(), state.meta.user_fails),
            }
        };
        let wrapped = wrapped.ok_or(Rv::USER_PIN_NOT_INITIALIZED)?;
        let max = self.config.max_pin_attempts;
        if fails >= max {
            return Err(Rv::PIN_LOCKED);
        }
        // The derivation takes ~100 ms: no lock is held meanwhile.
        let unwrapped = wrapped.unwrap(&self.uuid, role, pin);
        let right = unwrapped.is_ok();
        let name = format!("{}.fails", role.prefix());
        let (fails, locked) = self.store.update_meta(&name, |value| {
            let fails = decode_fails(value);
            if fails >= max {
                (None, (fails, true))
            } else if right {
                (
                    (fails != 0).then(|| 0u32.to_le_bytes().to_vec()),
                    (0, false),
                )
            } else {
                (Some((fails + 1).to_le_bytes().to_vec()), (fails + 1, false))
            }
        })?;
        {
            let mut state = self.state.write();
            match role {
                Role::So => state.meta.so_fails = fails,
                Role::User => state.meta.user_fails = fails,
            }
        }
        if locked {
            return Err(Rv::PIN_LOCKED);
        }
        match unwrapped {
            Ok(key) => Ok(key),
            Err(_) => {
                log::warn!(
                    "wrong {} PIN for token {}",
                    role.prefix(),
                    self.serial_str()
                );
                Err(Rv::PIN_INCORRECT)
            }
        }
    }

    fn write_wrapped(&self, role: Role, wrapped: &WrappedKey) -> Result<()> {
        let p = role.prefix();
        let (salt, kdf, key, fails) = (
            format!("{p}.salt"),
            format!("{p}.kdf"),
            format!("{p}.key"),
            format!("{p}.fails"),
        );
        self.store.set_meta(&[
            (salt.as_str(), Some(&wrapped.salt)),
            (kdf.as_str(), Some(&encode_cost(wrapped.cost))),
            (key.as_str(), Some(&wrapped.blob)),
            (fails.as_str(), Some(&0u32.to_le_bytes())),
        ])?;
        let mut state = self.state.write();
        match role {
            Role::So => {
                state.meta.so = wrapped.clone();
                state.meta.so_fails = 0;
            }
            Role::User => {
                state.meta.user = Some(wrapped.clone());
                state.meta.user_fails = 0;
            }
        }
        Ok(())
    }

    fn serial_str(&self) -> String {
        String::from_utf8_lossy(&self.state.read().meta.serial)
            .trim_end()
            .to_string()
    }
}

impl WrappedKey {
    fn aad(uuid: &[u8; 16], role: Role) -> Vec<u8> {
        let mut aad = b"prozhsm-token-key-v1:".to_vec();
        aad.extend_from_slice(uuid);
        aad.extend_from_slice(role.prefix().as_bytes());
        aad
    }

    fn wrap(
        uuid: &[u8; 16],
        role: Role,
        pin: &[u8],
        token_key: &[u8],
        cost: KdfCost,
    ) -> Result<WrappedKey> {
        let mut salt = vec![0u8; 16];
        aead::random(&mut salt)?;
        let pin_key = derive_key(pin, &salt, cost)?;
        let blob = aead::seal(pin_key.as_slice(), &WrappedKey::aad(uuid, role), token_key)?;
        Ok(WrappedKey { salt, cost, blob })
    }

    fn unwrap(&self, uuid: &[u8; 16], role: Role, pin: &[u8]) -> Result<SecretBytes> {
        let pin_key = derive_key(pin, &self.salt, self.cost)?;
        aead::open(pin_key.as_slice(), &WrappedKey::aad(uuid, role), &self.blob)
    }
}

impl Meta {
    /// New metadata with a new random token key wrapped under the SO PIN.
    fn fresh(
        uuid: &[u8; 16],
        so_pin: &[u8],
        label: &[u8; 32],
        serial: [u8; 16],
        cost: KdfCost,
    ) -> Result<Meta> {
        let mut token_key = SecretBytes::zeroed(aead::KEY_LEN);
        aead::random(token_key.as_mut_slice())?;
        Ok(Meta {
            label: *label,
            serial,
            so: WrappedKey::wrap(uuid, Role::So, so_pin, token_key.as_slice(), cost)?,
            user: None,
            so_fails: 0,
            user_fails: 0,
        })
    }

    /// Erase `store` and write this metadata as a new token's: identity,
    /// format, and the flag saying every object will carry search tags.
    fn write_fresh(&self, store: &TokenStore, uuid: &[u8; 16]) -> Result<()> {
        let mut entries = self.encode();
        entries.push(("uuid".into(), uuid.to_vec()));
        entries.push(("format".into(), b"1".to_vec()));
        entries.push(("index".into(), b"1".to_vec()));
        let borrowed: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        store.reset(&borrowed)
    }

    fn encode(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![
            ("label".to_string(), self.label.to_vec()),
            ("serial".to_string(), self.serial.to_vec()),
            ("so.fails".to_string(), self.so_fails.to_le_bytes().to_vec()),
            (
                "user.fails".to_string(),
                self.user_fails.to_le_bytes().to_vec(),
            ),
        ];
        let mut put = |p: &str, w: &WrappedKey| {
            out.push((format!("{p}.salt"), w.salt.clone()));
            out.push((format!("{p}.kdf"), encode_cost(w.cost).to_vec()));
            out.push((format!("{p}.key"), w.blob.clone()));
        };
        put("so", &self.so);
        if let Some(u) = &self.user {
            put("user", u);
        }
        out
    }

    fn decode(entries: &std::collections::BTreeMap<String, Vec<u8>>) -> Option<Meta> {
        let wrapped = |p: &str| -> Option<WrappedKey> {
            Some(WrappedKey {
                salt: entries.get(&format!("{p}.salt"))?.clone(),
                cost: decode_cost(entries.get(&format!("{p}.kdf"))?)?,
                blob: entries.get(&format!("{p}.key"))?.clone(),
            })
        };
        let fails = |p: &str| decode_fails(entries.get(&format!("{p}.fails")).map(Vec::as_slice));
        Some(Meta {
            label: entries.get("label")?.as_slice().try_into().ok()?,
            serial: entries.get("serial")?.as_slice().try_into().ok()?,
            so: wrapped("so")?,
            user: wrapped("user"),
            so_fails: fails("so"),
            user_fails: fails("user"),
        })
    }
}

/// A stored wrong-PIN count (absent or malformed: 0).
fn decode_fails(value: Option<&[u8]>) -> u32 {
    value
        .and_then(|v| v.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

fn encode_cost(c: KdfCost) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..4].copy_from_slice(&c.m_cost_kib.to_le_bytes());
    out[4..8].copy_from_slice(&c.t_cost.to_le_bytes());
    out[8..].copy_from_slice(&c.lanes.to_le_bytes());
    out
}

fn decode_cost(b: &[u8]) -> Option<KdfCost> {
    let word =
        |i: usize| -> Option<u32> { Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?)) };
    Some(KdfCost {
        m_cost_kib: word(0)?,
        t_cost: word(4)?,
        lanes: word(8)?,
    })
}

/// PIN length rule for new PINs.
///
/// # Errors
/// CKR_PIN_LEN_RANGE.
pub fn check_pin_len(pin: &[u8]) -> Result<()> {
    if (MIN_PIN_LEN..=MAX_PIN_LEN).contains(&pin.len()) {
        Ok(())
    } else {
        Err(Rv::PIN_LEN_RANGE)
    }
}

/// The token serial number: 16 hex digits of the token's identity.
pub fn serial_of(uuid: &[u8; 16]) -> [u8; 16] {
    let hex: String = uuid[..8].iter().map(|b| format!("{b:02x}")).collect();
    padded(hex.as_bytes())
}

/// The PIN-counter flags for `fails` wrong attempts out of `max`.
fn pin_flags(
    fails: u32,
    max: u32,
    low: CK_FLAGS,
    final_try: CK_FLAGS,
    locked: CK_FLAGS,
) -> CK_FLAGS {
    if fails == 0 {
        0
    } else if fails >= max {
        locked
    } else if fails + 1 == max {
        low | final_try
    } else {
        low
    }
}
