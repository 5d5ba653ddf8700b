//! The software token backend. Like SoftHSMv2: one slot per initialized
//! token in the token directory, plus always one free slot whose token is
//! not yet initialized (C_InitToken there makes a new token file, and a new
//! free slot appears).

mod crypto;
mod device_key;
mod keygen;
mod objects;
mod records;
mod session;
mod token;
mod wrapping;

use std::path::PathBuf;
use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::{Mutex, RwLock};

use crate::backend::{Session, SlotBackend};
use crate::config::Config;
use crate::core::{padded, version};
use crate::error::{Result, Rv};
use crate::mechanisms;
use crate::secure::aead;
use crate::store::{self, TokenStore};
use device_key::DeviceKey;
use session::SoftSession;
use token::Token;

/// Finds the token files and hands out one slot per token plus a free slot.
pub struct SoftProvider {
    config: Arc<Config>,
    device_key: Arc<DeviceKey>,
    slots: Mutex<Vec<Arc<SoftSlot>>>,
}

impl SoftProvider {
    /// A provider over the configured token directory.
    pub fn new(config: Arc<Config>) -> SoftProvider {
        SoftProvider {
            device_key: Arc::new(DeviceKey::new(config.device_key.clone())),
            config,
            slots: Mutex::new(Vec::new()),
        }
    }

    /// The current slots: known ones first (same objects, so their ids stay),
    /// then tokens that appeared in the directory, then one free slot.
    ///
    /// # Errors
    /// CKR_GENERAL_ERROR when the token directory cannot be read.
    pub fn slots(&self) -> Result<Vec<Arc<dyn SlotBackend>>> {
        let files = store::token_files(&self.config.token_dir)?;
        let mut slots = self.slots.lock();
        for file in files {
            if slots.iter().any(|s| s.path.read().as_ref() == Some(&file)) {
                continue;
            }
            match TokenStore::open(&file, false)
                .and_then(|st| Token::open(st, self.config.clone(), self.device_key.clone()))
            {
                Ok(token) => slots.push(Arc::new(SoftSlot::new(self, Some((file, token))))),
                Err(rv) => log::error!("{}: not loaded ({rv:?})", file.display()),
            }
        }
        slots.retain(|s| s.path.read().as_ref().is_none_or(|p| p.exists()));
        if !slots.iter().any(|s| s.token.read().is_none()) {
            slots.push(Arc::new(SoftSlot::new(self, None)));
        }
        // The free slot goes last, as SoftHSMv2 lists it.
        slots.sort_by_key(|s| s.token.read().is_none());
        Ok(slots
            .iter()
            .map(|s| s.clone() as Arc<dyn SlotBackend>)
            .collect())
    }
}

/// One software slot: an initialized token, or the free slot.
pub struct SoftSlot {
    config: Arc<Config>,
    device_key: Arc<DeviceKey>,
    path: RwLock<Option<PathBuf>>,
    token: RwLock<Option<Arc<Token>>>,
}

impl SoftSlot {
    fn new(provider: &SoftProvider, token: Option<(PathBuf, Token)>) -> SoftSlot {
        let (path, token) = match token {
            Some((p, t)) => (Some(p), Some(Arc::new(t))),
            None => (None, None),
        };
        SoftSlot {
            config: provider.config.clone(),
            device_key: provider.device_key.clone(),
            path: RwLock::new(path),
            token: RwLock::new(token),
        }
    }

    fn token(&self) -> Option<Arc<Token>> {
        self.token.read().clone()
    }
}

impl SlotBackend for SoftSlot {
    fn slot_info(&self) -> Result<CK_SLOT_INFO> {
        let mut flags = CKF_TOKEN_PRESENT;
        if self.config.slots_removable {
            flags |= CKF_REMOVABLE_DEVICE;
        }
        Ok(CK_SLOT_INFO {
            slotDescription: padded(b"ProzHSM software slot"),
            manufacturerID: padded(b"ProzHSM"),
            flags,
            hardwareVersion: version(),
            firmwareVersion: version(),
        })
    }

    fn token_info(&self) -> Result<CK_TOKEN_INFO> {
        if let Some(token) = self.token() {
            return token.info();
        }
        Ok(CK_TOKEN_INFO {
            label: [b' '; 32],
            manufacturerID: padded(b"ProzHSM"),
            model: padded(b"ProzHSM soft"),
            serialNumber: [b' '; 16],
            flags: CKF_RNG | CKF_LOGIN_REQUIRED | CKF_RESTORE_KEY_NOT_NEEDED,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: 0,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: 0,
            ulMaxPinLen: token::MAX_PIN_LEN as CK_ULONG,
            ulMinPinLen: token::MIN_PIN_LEN as CK_ULONG,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: version(),
            firmwareVersion: version(),
            utcTime: [b' '; 16],
        })
    }

    /// The table's mechanisms less those the configuration switched off.
    fn mechanism_list(&self) -> Result<Vec<CK_MECHANISM_TYPE>> {
        Ok(mechanisms::TABLE
            .iter()
            .filter(|m| self.config.mechanism_enabled(m.name))
            .map(|m| m.kind)
            .collect())
    }

    fn mechanism_info(&self, mechanism: CK_MECHANISM_TYPE) -> Result<CK_MECHANISM_INFO> {
        mechanisms::lookup(mechanism)
            .filter(|m| self.config.mechanism_enabled(m.name))
            .map(|m| mechanisms::info_under(m, mechanisms::KeyPolicy::of(&self.config)))
            .ok_or(Rv::MECHANISM_INVALID)
    }

    /// Re-initializing needs the current SO PIN and erases every object; a
    /// new token gets a fresh identity and its own file.
    fn init_token(&self, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        if let Some(token) = self.token() {
            token.check_so_pin(so_pin)?;
            return token.reinitialize(so_pin, label);
        }
        let mut slot_token = self.token.write();
        if slot_token.is_some() {
            // Initialized by another thread meanwhile.
            return Err(Rv::SESSION_EXISTS);
        }
        let mut uuid = [0u8; 16];
        aead::random(&mut uuid)?;
        let name: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
        let path = self
            .config
            .token_dir
            .join(format!("{name}{}", store::TOKEN_FILE_SUFFIX));
        let token = Token::create(
            &path,
            so_pin,
            label,
            uuid,
            self.config.clone(),
            self.device_key.clone(),
        )?;
        *self.path.write() = Some(path);
        *slot_token = Some(Arc::new(token));
        Ok(())
    }

    fn open_session(&self, handle: CK_SESSION_HANDLE, flags: CK_FLAGS) -> Result<Arc<dyn Session>> {
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(Rv::SESSION_PARALLEL_NOT_SUPPORTED);
        }
        let token = self.token().ok_or(Rv::TOKEN_NOT_RECOGNIZED)?;
        let rw = flags & CKF_RW_SESSION != 0;
        token.session_opened(rw)?;
        Ok(Arc::new(SoftSession::new(handle, rw, token)))
    }
}

/// Delete the token files whose token label is `label` (softhsm2-util's
/// --delete-token). Returns the files removed.
///
/// # Errors
/// CKR_GENERAL_ERROR when the token directory cannot be read or a file
/// cannot be removed; CKR_TOKEN_NOT_PRESENT when no token has that label.
pub fn delete_token(config: &Config, label: &str) -> Result<Vec<PathBuf>> {
    let wanted: [u8; 32] = padded(label.as_bytes());
    let mut removed = Vec::new();
    for file in store::token_files(&config.token_dir)? {
        let matches = TokenStore::open(&file, false)
            .and_then(|s| s.meta())
            .map(|m| m.get("label").is_some_and(|l| l.as_slice() == wanted))
            .unwrap_or(false);
        if !matches {
            continue;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    log::error!("{}: {e}", PathBuf::from(&path).display());
                    return Err(Rv::GENERAL_ERROR);
                }
            }
        }
        removed.push(file);
    }
    if removed.is_empty() {
        return Err(Rv::TOKEN_NOT_PRESENT);
    }
    Ok(removed)
}
