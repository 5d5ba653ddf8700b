//! The forwarding backend: a real HSM's PKCS#11 library behind ProzHSM
//! slots (DESIGN.md, "backend/forward").
//!
//! For each `[[forward]]` table of the config, the module is loaded and
//! initialized (once, however many tables name it), and its slots with a
//! token — all of them, or those whose token matches the table's
//! `token_label`, `serial` or `slot_id` — become ProzHSM slots. The core's
//! slot table gives them ProzHSM ids like any other slot, so they never
//! collide with the software token's or another module's; a [`ForwardSlot`]
//! remembers which module and which of its slot ids it stands for, and a
//! [`ForwardSession`](session::ForwardSession) the HSM's session handle.
//! Everything else — objects, login state, operation state, mechanisms and
//! their parameters, error codes — is the HSM's and passes through.
//!
//! A module that is missing, is not a PKCS#11 module or fails C_Initialize
//! is logged (path and CKR code) and contributes no slots; the software
//! slots work as before. Calls go to the module from whichever thread makes
//! them, without a lock of ProzHSM's around them: the module was
//! initialized with CKF_OS_LOCKING_OK and does its own locking.
//!
//! The policy layer (rotation, usage accounting, audit) will run around
//! these calls like around the software token's; until it lands every
//! forwarded call's outcome passes through one place,
//! [`module::Remote::outcome`], which logs failures with the slot they came
//! from.

mod module;
mod raw;
mod session;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::Mutex;

use crate::backend::{Session, SlotBackend};
use crate::config;
use crate::error::{Result, Rv};
use module::{call, Module, Remote};
use session::ForwardSession;

/// Events taken from one module in one [`ForwardProvider::poll_event`].
const EVENTS_PER_POLL: usize = 16;

/// The forwarded modules of the configuration and the slots they offer.
pub struct ForwardProvider {
    modules: Vec<Initialized>,
    /// Each `[[forward]]` table: the index of its module, and which slots.
    wanted: Vec<(usize, Selector)>,
    /// The slots handed out so far, so a slot keeps its ProzHSM id.
    slots: Mutex<Vec<Arc<ForwardSlot>>>,
    finalized: AtomicBool,
}

/// A module ProzHSM initialized (or found initialized) for this run.
struct Initialized {
    module: &'static Module,
    /// Whether ProzHSM's C_Initialize initialized it, and so its C_Finalize
    /// finalizes it.
    owned: bool,
}

/// Which of a module's slots a `[[forward]]` table takes.
enum Selector {
    All,
    Label(String),
    Serial(String),
    SlotId(CK_SLOT_ID),
}

/// What a non-blocking look for slot events found.
pub enum Event {
    /// A slot of ProzHSM's had an event.
    Slot(Arc<dyn SlotBackend>),
    /// No event now; some module can report them.
    None,
    /// No forwarded module reports slot events.
    Unsupported,
}

impl ForwardProvider {
    /// Load and initialize the modules of `wanted` (the config's
    /// `[[forward]]` tables). A module that fails is logged and skipped.
    pub fn new(wanted: &[config::ForwardSlot]) -> ForwardProvider {
        let mut modules: Vec<Initialized> = Vec::new();
        let mut selectors = Vec::new();
        for w in wanted {
            if let Some(index) = open(&mut modules, &w.module) {
                selectors.push((index, Selector::of(w)));
            }
        }
        ForwardProvider {
            modules,
            wanted: selectors,
            slots: Mutex::new(Vec::new()),
            finalized: AtomicBool::new(false),
        }
    }

    /// The current forwarded slots: each `[[forward]]` table's in config
    /// order, a table's in its module's slot order, a slot taken by two
    /// tables once. Known slots come back as the same objects (so their
    /// ProzHSM ids stay); a module whose slot list fails contributes none
    /// this time (logged).
    pub fn slots(&self) -> Vec<Arc<dyn SlotBackend>> {
        let mut known = self.slots.lock();
        let mut current: Vec<Arc<ForwardSlot>> = Vec::new();
        if !self.finalized.load(Ordering::Acquire) {
            let mut lists: Vec<Option<Vec<CK_SLOT_ID>>> = vec![None; self.modules.len()];
            for (index, selector) in &self.wanted {
                let module = self.modules[*index].module;
                let ids = lists[*index].get_or_insert_with(|| {
                    module.slot_list(true).unwrap_or_else(|rv| {
                        log::warn!("forwarded module {module}: no slots listed ({rv:?})");
                        Vec::new()
                    })
                });
                for id in ids.iter() {
                    let remote = Remote { module, slot: *id };
                    if current.iter().any(|s| s.is(remote)) || !selector.takes(remote) {
                        continue;
                    }
                    let slot = match known.iter().find(|s| s.is(remote)) {
                        Some(s) => s.clone(),
                        None => Arc::new(ForwardSlot { remote }),
                    };
                    current.push(slot);
                }
            }
        }
        *known = current.clone();
        current
            .into_iter()
            .map(|s| s as Arc<dyn SlotBackend>)
            .collect()
    }

    /// Look once, without blocking, for a slot event in each module
    /// (C_WaitForSlotEvent with CKF_DONT_BLOCK). An event on a slot no
    /// `[[forward]]` table takes is dropped, and the module asked again (at
    /// most [`EVENTS_PER_POLL`] times, in case a module repeats itself).
    pub fn poll_event(&self) -> Event {
        if self.finalized.load(Ordering::Acquire) {
            return Event::Unsupported;
        }
        let mut supported = false;
        for m in &self.modules {
            for _ in 0..EVENTS_PER_POLL {
                let id = match m.module.poll_event() {
                    Ok(id) => id,
                    Err(Rv::NO_EVENT) => {
                        supported = true;
                        break;
                    }
                    Err(Rv::FUNCTION_NOT_SUPPORTED) => break,
                    Err(rv) => {
                        log::warn!(
                            "forwarded module {}: C_WaitForSlotEvent -> {rv:?}",
                            m.module
                        );
                        break;
                    }
                };
                supported = true;
                let remote = Remote {
                    module: m.module,
                    slot: id,
                };
                self.slots();
                let found = self.slots.lock().iter().find(|s| s.is(remote)).cloned();
                if let Some(s) = found {
                    return Event::Slot(s);
                }
            }
        }
        if supported {
            Event::None
        } else {
            Event::Unsupported
        }
    }

    /// C_Finalize every module ProzHSM initialized (for ProzHSM's own
    /// C_Finalize, after its sessions are closed). The modules stay loaded.
    pub fn finalize(&self) {
        if self.finalized.swap(true, Ordering::AcqRel) {
            return;
        }
        self.slots.lock().clear();
        for m in self.modules.iter().filter(|m| m.owned) {
            match m.module.finalize() {
                Ok(()) => log::info!("forwarded module {}: finalized", m.module),
                Err(rv) => log::warn!("forwarded module {}: C_Finalize -> {rv:?}", m.module),
            }
        }
    }
}

/// The index in `modules` of the module at `path`, loaded and initialized
/// on first use; None (logged) when it cannot be.
fn open(modules: &mut Vec<Initialized>, path: &Path) -> Option<usize> {
    let module = match Module::load(path) {
        Ok(m) => m,
        Err(e) => {
            log::error!(
                "forwarded module {}: not loaded ({e}); its slots are absent",
                path.display()
            );
            return None;
        }
    };
    if let Some(index) = modules.iter().position(|i| std::ptr::eq(i.module, module)) {
        return Some(index);
    }
    match module.initialize() {
        Ok(owned) => {
            log::info!(
                "forwarded module {module}: initialized ({})",
                module.interface()
            );
            modules.push(Initialized { module, owned });
            Some(modules.len() - 1)
        }
        Err(rv) => {
            log::error!("forwarded module {module}: C_Initialize -> {rv:?}; its slots are absent");
            None
        }
    }
}

impl Drop for ForwardProvider {
    /// A provider dropped without [`ForwardProvider::finalize`] (ProzHSM's
    /// C_Initialize failed after loading it) still finalizes its modules, so
    /// a later C_Initialize owns them again.
    fn drop(&mut self) {
        self.finalize();
    }
}

impl Selector {
    fn of(w: &config::ForwardSlot) -> Selector {
        if let Some(l) = &w.token_label {
            Selector::Label(l.clone())
        } else if let Some(s) = &w.serial {
            Selector::Serial(s.clone())
        } else if let Some(id) = w.slot_id {
            Selector::SlotId(id as CK_SLOT_ID)
        } else {
            Selector::All
        }
    }

    /// Whether this selector takes the slot `remote`.
    fn takes(&self, remote: Remote) -> bool {
        match self {
            Selector::All => true,
            Selector::SlotId(id) => *id == remote.slot,
            Selector::Label(l) => token_info(remote).is_ok_and(|t| field_is(&t.label, l)),
            Selector::Serial(s) => token_info(remote).is_ok_and(|t| field_is(&t.serialNumber, s)),
        }
    }
}

/// Whether a blank-padded CK_TOKEN_INFO field holds `want`.
fn field_is(field: &[u8], want: &str) -> bool {
    let end = field
        .iter()
        .rposition(|b| *b != b' ' && *b != 0)
        .map_or(0, |i| i + 1);
    &field[..end] == want.as_bytes()
}

/// A ProzHSM slot that is a slot of a forwarded module.
pub struct ForwardSlot {
    remote: Remote,
}

impl ForwardSlot {
    fn is(&self, remote: Remote) -> bool {
        std::ptr::eq(self.remote.module, remote.module) && self.remote.slot == remote.slot
    }
}

fn token_info(remote: Remote) -> Result<CK_TOKEN_INFO> {
    let mut info = CK_TOKEN_INFO::default();
    call!(&remote, C_GetTokenInfo(remote.slot, &mut info))?;
    Ok(info)
}

/// Every method is the same call on the module's slot; the answers are
/// the HSM's (its slot description, token info, mechanisms).
impl SlotBackend for ForwardSlot {
    fn slot_info(&self) -> Result<CK_SLOT_INFO> {
        let mut info = CK_SLOT_INFO {
            slotDescription: [0; 64],
            manufacturerID: [0; 32],
            flags: 0,
            hardwareVersion: CK_VERSION::default(),
            firmwareVersion: CK_VERSION::default(),
        };
        call!(&self.remote, C_GetSlotInfo(self.remote.slot, &mut info))?;
        Ok(info)
    }

    fn token_info(&self) -> Result<CK_TOKEN_INFO> {
        token_info(self.remote)
    }

    fn token_present(&self) -> bool {
        self.slot_info()
            .is_ok_and(|i| i.flags & CKF_TOKEN_PRESENT != 0)
    }

    fn mechanism_list(&self) -> Result<Vec<CK_MECHANISM_TYPE>> {
        let slot = self.remote.slot;
        loop {
            let mut n: CK_ULONG = 0;
            call!(
                &self.remote,
                C_GetMechanismList(slot, std::ptr::null_mut(), &mut n)
            )?;
            let mut list: Vec<CK_MECHANISM_TYPE> = vec![0; n as usize];
            let p = list.as_mut_ptr();
            match call!(&self.remote, C_GetMechanismList(slot, p, &mut n)) {
                Ok(()) => {
                    list.truncate(n as usize);
                    return Ok(list);
                }
                Err(Rv::BUFFER_TOO_SMALL) => continue,
                Err(rv) => return Err(rv),
            }
        }
    }

    fn mechanism_info(&self, mechanism: CK_MECHANISM_TYPE) -> Result<CK_MECHANISM_INFO> {
        let mut info = CK_MECHANISM_INFO::default();
        call!(
            &self.remote,
            C_GetMechanismInfo(self.remote.slot, mechanism, &mut info)
        )?;
        Ok(info)
    }

    fn init_token(&self, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        let (p, n) = (so_pin.as_ptr().cast_mut(), so_pin.len() as CK_ULONG);
        let l = label.as_ptr().cast_mut();
        call!(&self.remote, C_InitToken(self.remote.slot, p, n, l))
    }

    /// Opens the HSM's session with the client's flags; no notification
    /// callback is passed on (ProzHSM offers none either).
    fn open_session(
        &self,
        _handle: CK_SESSION_HANDLE,
        flags: CK_FLAGS,
    ) -> Result<Arc<dyn Session>> {
        let mut handle = CK_INVALID_HANDLE;
        let (app, notify) = (std::ptr::null_mut(), None);
        call!(
            &self.remote,
            C_OpenSession(self.remote.slot, flags, app, notify, &mut handle)
        )?;
        Ok(Arc::new(ForwardSession::new(self.remote, handle)))
    }
}
