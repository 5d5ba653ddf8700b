//! The library core: whether the library is initialized (and in which
//! process), its configuration, the slot table and the session table. Every
//! call from the ABI reaches a backend through here.
//!
//! The library state is one `Arc<Library>` behind a lock taken for reading on
//! each call (shared, never serializing threads) and for writing only by
//! C_Initialize and C_Finalize.

mod sessions;
mod slots;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::RwLock;

use crate::backend::forward::ForwardProvider;
use crate::backend::soft::SoftProvider;
use crate::backend::{Session, SlotBackend};
use crate::config::{Config, Profile};
use crate::error::{Result, Rv};
use sessions::SessionTable;
use slots::{SlotEvent, SlotTable};

/// C_Initialize's arguments, checked at the boundary.
#[derive(Clone, Copy, Debug, Default)]
pub struct InitArgs {
    pub flags: CK_FLAGS,
    /// The application supplied all four mutex callbacks.
    pub mutex_callbacks: bool,
}

/// Bumped in a child process right after fork(): state made under an older
/// generation belongs to the parent.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

static LIBRARY: RwLock<Option<Arc<Library>>> = RwLock::new(None);

/// Record that this process is a fork()ed child. Async-signal-safe.
pub fn note_fork() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The initialized library state.
pub struct Library {
    generation: u64,
    config: Arc<Config>,
    slots: SlotTable,
    sessions: SessionTable,
}

/// C_Initialize (PKCS#11 3.0 §5.4).
///
/// Locking: ProzHSM always uses its own native locks, which is what
/// CKF_OS_LOCKING_OK asks for. When the application supplies mutex callbacks
/// *without* that flag, the spec requires the library to use them; ProzHSM
/// cannot route its locks through them and answers CKR_CANT_LOCK, as the spec
/// says a library that cannot use them must. ProzHSM never creates threads, so
/// CKF_LIBRARY_CANT_CREATE_OS_THREADS needs nothing.
///
/// # Errors
/// CKR_CRYPTOKI_ALREADY_INITIALIZED; CKR_CANT_LOCK; CKR_GENERAL_ERROR when the
/// configuration or token directory is unusable (the log says why).
pub fn initialize(args: InitArgs) -> Result<()> {
    if args.mutex_callbacks && args.flags & CKF_OS_LOCKING_OK == 0 {
        return Err(Rv::CANT_LOCK);
    }
    let generation = FORK_GENERATION.load(Ordering::SeqCst);
    let mut state = LIBRARY.write();
    if let Some(lib) = state.take() {
        if lib.generation == generation {
            *state = Some(lib);
            return Err(Rv::CRYPTOKI_ALREADY_INITIALIZED);
        }
        // The parent's state, inherited through fork(): its SQLite handles
        // and sessions must not be touched (not even closed) in the child.
        std::mem::forget(lib);
        crate::secure::reset_after_fork();
    }
    let config = Config::load().map_err(|e| {
        eprintln!("prozhsm: configuration: {e}");
        Rv::GENERAL_ERROR
    })?;
    crate::logging::init(config.log_level, config.log_target);
    config.log_summary();
    config.ensure_token_dir().map_err(|e| {
        log::error!("token directory: {e}");
        Rv::GENERAL_ERROR
    })?;
    let config = Arc::new(config);
    let soft = SoftProvider::new(config.clone());
    let forward = ForwardProvider::new(&config.forward);
    *state = Some(Arc::new(Library {
        generation,
        slots: SlotTable::new(soft, forward)?,
        sessions: SessionTable::new(),
        config,
    }));
    Ok(())
}

/// C_Finalize: close every session, finalize the forwarded modules, and
/// drop the library state.
///
/// # Errors
/// CKR_CRYPTOKI_NOT_INITIALIZED.
pub fn finalize() -> Result<()> {
    let lib = {
        let mut state = LIBRARY.write();
        match state.take() {
            Some(lib) if lib.generation == FORK_GENERATION.load(Ordering::SeqCst) => lib,
            Some(parents) => {
                std::mem::forget(parents);
                return Err(Rv::CRYPTOKI_NOT_INITIALIZED);
            }
            None => return Err(Rv::CRYPTOKI_NOT_INITIALIZED),
        }
    };
    lib.sessions.close_all(|_| true);
    lib.slots.finalize();
    Ok(())
}

/// The initialized library, for one call.
///
/// # Errors
/// CKR_CRYPTOKI_NOT_INITIALIZED, also in a fork()ed child that has not
/// called C_Initialize itself.
pub fn library() -> Result<Arc<Library>> {
    match &*LIBRARY.read() {
        Some(lib) if lib.generation == FORK_GENERATION.load(Ordering::Relaxed) => Ok(lib.clone()),
        _ => Err(Rv::CRYPTOKI_NOT_INITIALIZED),
    }
}

/// C_GetInfo. The library description names the active policy profile.
///
/// # Errors
/// CKR_CRYPTOKI_NOT_INITIALIZED.
pub fn info() -> Result<CK_INFO> {
    let lib = library()?;
    let description = match lib.config.profile {
        Profile::Strict => "ProzHSM (policy: strict)",
        Profile::SoftHsm => "ProzHSM (policy: softhsm)",
    };
    Ok(CK_INFO {
        cryptokiVersion: CK_VERSION { major: 3, minor: 0 },
        manufacturerID: padded(b"ProzHSM"),
        flags: 0,
        libraryDescription: padded(description.as_bytes()),
        libraryVersion: version(),
    })
}

/// This crate's version as a CK_VERSION (major.minor).
pub fn version() -> CK_VERSION {
    let part = |s: &str| s.parse::<u8>().unwrap_or(0);
    CK_VERSION {
        major: part(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: part(env!("CARGO_PKG_VERSION_MINOR")),
    }
}

/// Copy `src` into a blank-padded fixed field (labels, names, serials).
pub fn padded<const N: usize>(src: &[u8]) -> [u8; N] {
    let mut out = [b' '; N];
    let n = src.len().min(N);
    out[..n].copy_from_slice(&src[..n]);
    out
}

impl Library {
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// C_GetSlotList: rescans the token directory (as SoftHSMv2 does), so
    /// tokens made by other processes appear.
    ///
    /// # Errors
    /// CKR_GENERAL_ERROR when the token directory cannot be read.
    pub fn slot_list(&self, token_present: bool) -> Result<Vec<CK_SLOT_ID>> {
        self.slots.refresh()?;
        Ok(self.slots.ids(token_present))
    }

    /// The backend of slot `id`.
    ///
    /// # Errors
    /// CKR_SLOT_ID_INVALID.
    pub fn slot(&self, id: CK_SLOT_ID) -> Result<Arc<dyn SlotBackend>> {
        self.slots.get(id)
    }

    /// C_InitToken on slot `id`.
    ///
    /// # Errors
    /// CKR_SLOT_ID_INVALID, CKR_SESSION_EXISTS when the application has a
    /// session on the token, and the backend's codes.
    pub fn init_token(&self, id: CK_SLOT_ID, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        let slot = self.slot(id)?;
        if self.sessions.any(|s| s == id) {
            return Err(Rv::SESSION_EXISTS);
        }
        slot.init_token(so_pin, label)
    }

    /// C_OpenSession.
    ///
    /// # Errors
    /// CKR_SLOT_ID_INVALID, and the backend's codes
    /// (CKR_SESSION_PARALLEL_NOT_SUPPORTED, CKR_TOKEN_NOT_RECOGNIZED,
    /// CKR_SESSION_READ_WRITE_SO_EXISTS ...).
    pub fn open_session(&self, id: CK_SLOT_ID, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE> {
        let slot = self.slot(id)?;
        self.sessions
            .open(id, |handle| slot.open_session(handle, flags))
    }

    /// C_CloseSession.
    ///
    /// # Errors
    /// CKR_SESSION_HANDLE_INVALID.
    pub fn close_session(&self, handle: CK_SESSION_HANDLE) -> Result<()> {
        self.sessions.close(handle)
    }

    /// C_CloseAllSessions for one slot.
    ///
    /// # Errors
    /// CKR_SLOT_ID_INVALID.
    pub fn close_all_sessions(&self, id: CK_SLOT_ID) -> Result<()> {
        self.slot(id)?;
        self.sessions.close_all(|s| s == id);
        Ok(())
    }

    /// The session behind `handle`.
    ///
    /// # Errors
    /// CKR_SESSION_HANDLE_INVALID.
    pub fn session(&self, handle: CK_SESSION_HANDLE) -> Result<Arc<dyn Session>> {
        self.sessions.get(handle).map(|(_, s)| s)
    }

    /// C_GetSessionInfo.
    ///
    /// # Errors
    /// CKR_SESSION_HANDLE_INVALID.
    pub fn session_info(&self, handle: CK_SESSION_HANDLE) -> Result<CK_SESSION_INFO> {
        let (slot, session) = self.sessions.get(handle)?;
        let mut info = session.info()?;
        info.slotID = slot;
        Ok(info)
    }

    /// C_WaitForSlotEvent. Only forwarded slots have events (a software
    /// slot never changes by itself); each forwarded module is asked without
    /// blocking. With CKF_DONT_BLOCK: the slot, or CKR_NO_EVENT. Blocking:
    /// the modules are asked again every [`EVENT_POLL`] (ProzHSM creates no
    /// threads, so it cannot block in several modules at once) until an
    /// event, or until C_Finalize, which ends the wait with
    /// CKR_CRYPTOKI_NOT_INITIALIZED as the spec asks. With no forwarded
    /// module that answers the question (none configured, or all say
    /// CKR_FUNCTION_NOT_SUPPORTED) a blocking wait could never end, so it is
    /// refused.
    ///
    /// # Errors
    /// CKR_NO_EVENT, CKR_FUNCTION_NOT_SUPPORTED, CKR_CRYPTOKI_NOT_INITIALIZED.
    pub fn wait_for_slot_event(&self, flags: CK_FLAGS) -> Result<CK_SLOT_ID> {
        let block = flags & CKF_DONT_BLOCK == 0;
        loop {
            let event = self.slots.poll_event()?;
            if !library().is_ok_and(|lib| std::ptr::eq(Arc::as_ptr(&lib), self)) {
                return Err(Rv::CRYPTOKI_NOT_INITIALIZED);
            }
            match event {
                SlotEvent::Slot(id) => return Ok(id),
                SlotEvent::None if block => std::thread::sleep(EVENT_POLL),
                SlotEvent::Unsupported if block => return Err(Rv::FUNCTION_NOT_SUPPORTED),
                SlotEvent::None | SlotEvent::Unsupported => return Err(Rv::NO_EVENT),
            }
        }
    }
}

/// How often a blocking C_WaitForSlotEvent asks the forwarded modules.
pub const EVENT_POLL: std::time::Duration = std::time::Duration::from_millis(100);
