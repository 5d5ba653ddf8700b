//! Loading another PKCS#11 module and calling into it: the only `unsafe`
//! of the forwarding backend lives here (the loader and the one calling
//! macro, [`call!`]).
//!
//! A module is loaded once per process and never unloaded. A PKCS#11 module
//! may leave threads, thread-local destructors or atexit handlers behind
//! (the reason ProzHSM itself links with `-z nodelete`), so unmapping it is a
//! known way to crash the host later; keeping it also lets a re-initialized
//! ProzHSM reuse it, and makes its function list `'static`. What ProzHSM's
//! C_Initialize and C_Finalize do is initialize and finalize the module.

use std::ffi::c_void;
use std::fmt;
use std::path::{Path, PathBuf};

use cryptoki_sys::*;
use parking_lot::Mutex;

use crate::error::{Result, Rv};

/// Call one function of a module's list and pass the outcome through
/// `outcome` (logging, the policy hook). `$to` is a [`Remote`] or a
/// [`Module`]; `v3` before the name reaches a 3.0-only function (answering
/// CKR_FUNCTION_NOT_SUPPORTED for a 2.x module). The arguments are
/// evaluated before the unsafe call, one by one.
macro_rules! call {
    ($to:expr, v3 $f:ident($($arg:expr),* $(,)?)) => {{
        let to = $to;
        let f = to.v3().and_then(|l| l.$f);
        call!(@bind to, f, stringify!($f), []; $($arg),*)
    }};
    ($to:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        let to = $to;
        let f = to.list().$f;
        call!(@bind to, f, stringify!($f), []; $($arg),*)
    }};
    (@bind $to:ident, $f:ident, $name:expr, [$($done:ident)*]; $head:expr $(, $tail:expr)*) => {{
        let a = $head;
        call!(@bind $to, $f, $name, [$($done)* a]; $($tail),*)
    }};
    (@bind $to:ident, $f:ident, $name:expr, [$($done:ident)*];) => {{
        let rv = match $f {
            // SAFETY: the function list is the module's static, loaded for
            // the life of the process; the module was initialized with
            // CKF_OS_LOCKING_OK, so calls may come from any thread; every
            // pointer argument was made by the caller from a live Rust value
            // (or is NULL), valid — and writable where the function writes —
            // for the length passed, for the duration of the call.
            Some(f) => unsafe { f($($done),*) },
            None => cryptoki_sys::CKR_FUNCTION_NOT_SUPPORTED,
        };
        $to.outcome($name, rv)
    }};
}
pub(super) use call;

type GetInterfaceFn = unsafe extern "C" fn(
    *mut CK_UTF8CHAR,
    *mut CK_VERSION,
    *mut *mut CK_INTERFACE,
    CK_FLAGS,
) -> CK_RV;
type GetFunctionListFn = unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV;

/// Every module this process loaded, by configured path.
static LOADED: Mutex<Vec<&'static Module>> = Mutex::new(Vec::new());

/// A loaded PKCS#11 module: its function list, and the 3.0 one when the
/// module offers the "PKCS 11" 3.0 interface.
pub struct Module {
    path: PathBuf,
    list: &'static CK_FUNCTION_LIST,
    v3: Option<&'static CK_FUNCTION_LIST_3_0>,
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())
    }
}

impl Module {
    /// Load the module at `path` (or return the one loaded before) and find
    /// its function list: C_GetInterface("PKCS 11", 3.0) when the module
    /// exports it and answers, else C_GetFunctionList.
    ///
    /// # Errors
    /// A message for the log when the file cannot be loaded or is not a
    /// PKCS#11 module.
    pub fn load(path: &Path) -> std::result::Result<&'static Module, String> {
        let mut loaded = LOADED.lock();
        if let Some(m) = loaded.iter().find(|m| m.path == path) {
            return Ok(m);
        }
        // SAFETY: loading runs the module's initializers; loading the PKCS#11
        // module the operator configured is exactly what was asked for.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())?;
        // Never unloaded (see the module doc): the library lives as long as
        // the process, and so do the function lists it hands out.
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));
        let (list, v3) = match interface_3_0(lib) {
            Some(v3) => {
                // SAFETY: a CK_FUNCTION_LIST_3_0 begins with the fields of a
                // CK_FUNCTION_LIST, in the same order and layout.
                let list = unsafe { &*(v3 as *const CK_FUNCTION_LIST_3_0).cast() };
                (list, Some(v3))
            }
            None => (function_list(lib)?, None),
        };
        let module: &'static Module = Box::leak(Box::new(Module {
            path: path.to_path_buf(),
            list,
            v3,
        }));
        loaded.push(module);
        Ok(module)
    }

    /// How ProzHSM reached the module's functions, for the log.
    pub fn interface(&self) -> String {
        let v = self.list.version;
        match self.v3 {
            Some(_) => format!("C_GetInterface \"PKCS 11\" {}.{}", v.major, v.minor),
            None => format!("C_GetFunctionList {}.{}", v.major, v.minor),
        }
    }

    /// The module's function list (2.40 layout, which 3.0 extends).
    pub fn list(&self) -> &'static CK_FUNCTION_LIST {
        self.list
    }

    /// C_Initialize the module with CKF_OS_LOCKING_OK: it must lock with
    /// the OS's primitives, as calls come from many threads at once.
    /// Returns whether this call initialized it; a module someone else in
    /// the process already initialized (CKR_CRYPTOKI_ALREADY_INITIALIZED)
    /// is used as it is and left for them to finalize.
    ///
    /// # Errors
    /// The module's CKR code.
    pub fn initialize(&'static self) -> Result<bool> {
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: CKF_OS_LOCKING_OK,
            pReserved: std::ptr::null_mut(),
        };
        let args: *mut CK_C_INITIALIZE_ARGS = &mut args;
        match call!(self, C_Initialize(args.cast::<c_void>())) {
            Ok(()) => Ok(true),
            Err(Rv::CRYPTOKI_ALREADY_INITIALIZED) => {
                log::warn!(
                    "forwarded module {self}: already initialized in this process; \
                     using it, and leaving its C_Finalize to whoever initialized it"
                );
                Ok(false)
            }
            Err(rv) => Err(rv),
        }
    }

    /// C_Finalize the module.
    ///
    /// # Errors
    /// The module's CKR code.
    pub fn finalize(&'static self) -> Result<()> {
        call!(self, C_Finalize(std::ptr::null_mut()))
    }

    /// C_GetSlotList of the module.
    ///
    /// # Errors
    /// The module's CKR code.
    pub fn slot_list(&'static self, token_present: bool) -> Result<Vec<CK_SLOT_ID>> {
        let present = token_present as CK_BBOOL;
        // The list may grow between the two calls: ask again when it did.
        loop {
            let mut n: CK_ULONG = 0;
            call!(self, C_GetSlotList(present, std::ptr::null_mut(), &mut n))?;
            let mut ids: Vec<CK_SLOT_ID> = vec![0; n as usize];
            match call!(self, C_GetSlotList(present, ids.as_mut_ptr(), &mut n)) {
                Ok(()) => {
                    ids.truncate(n as usize);
                    return Ok(ids);
                }
                Err(Rv::BUFFER_TOO_SMALL) => continue,
                Err(rv) => return Err(rv),
            }
        }
    }

    /// One non-blocking C_WaitForSlotEvent: the remote slot with an event.
    ///
    /// # Errors
    /// CKR_NO_EVENT, CKR_FUNCTION_NOT_SUPPORTED and the module's codes.
    pub fn poll_event(&'static self) -> Result<CK_SLOT_ID> {
        let mut slot: CK_SLOT_ID = 0;
        call!(
            self,
            C_WaitForSlotEvent(CKF_DONT_BLOCK, &mut slot, std::ptr::null_mut())
        )?;
        Ok(slot)
    }
}

/// Where a forwarded call goes: a module and one of its slots. Every
/// forwarded call's outcome passes through [`Remote::outcome`].
#[derive(Clone, Copy)]
pub struct Remote {
    pub module: &'static Module,
    pub slot: CK_SLOT_ID,
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} slot {}", self.module, self.slot)
    }
}

impl Remote {
    /// The function list calls through this remote use.
    pub fn list(&self) -> &'static CK_FUNCTION_LIST {
        self.module.list
    }

    /// The 3.0 function list, if the module has one.
    pub fn v3(&self) -> Option<&'static CK_FUNCTION_LIST_3_0> {
        self.module.v3
    }

    /// The one place every forwarded call's result passes: the HSM's code
    /// goes back to the client as it is, and a failure is logged with the
    /// slot it came from (device-level failures at warn, the rest — wrong
    /// PIN, short buffer, bad signature — at debug). The policy layer
    /// (usage accounting, rotation, audit; DESIGN.md) hooks in here when it
    /// lands: `function` names the call, `self` the HSM slot.
    pub fn outcome(&self, function: &'static str, rv: CK_RV) -> Result<()> {
        if rv == CKR_OK {
            return Ok(());
        }
        let rv = Rv(rv);
        match rv {
            Rv::GENERAL_ERROR
            | Rv::FUNCTION_FAILED
            | Rv::DEVICE_ERROR
            | Rv::DEVICE_MEMORY
            | Rv::DEVICE_REMOVED
            | Rv::TOKEN_NOT_PRESENT
            | Rv::CRYPTOKI_NOT_INITIALIZED
            | Rv::HOST_MEMORY => log::warn!("{self}: {function} -> {rv:?}"),
            _ => log::debug!("{self}: {function} -> {rv:?}"),
        }
        Err(rv)
    }
}

impl Module {
    /// As [`Remote::outcome`], for calls that name no slot.
    pub fn outcome(&self, function: &'static str, rv: CK_RV) -> Result<()> {
        if rv == CKR_OK {
            return Ok(());
        }
        log::debug!("forwarded module {self}: {function} -> {:?}", Rv(rv));
        Err(Rv(rv))
    }
}

/// The module's 3.0 function list through C_GetInterface, if it has one.
fn interface_3_0(lib: &'static libloading::Library) -> Option<&'static CK_FUNCTION_LIST_3_0> {
    // SAFETY: C_GetInterface has this signature in PKCS#11 3.0.
    let get = unsafe { lib.get::<GetInterfaceFn>(b"C_GetInterface\0") }.ok()?;
    let mut name = *b"PKCS 11\0";
    let mut version = CK_VERSION { major: 3, minor: 0 };
    let mut iface: *mut CK_INTERFACE = std::ptr::null_mut();
    // SAFETY: the name is NUL-terminated, the version and the out pointer
    // are live locals; the module writes only the out pointer.
    let rv = unsafe { get(name.as_mut_ptr(), &mut version, &mut iface, 0) };
    if rv != CKR_OK || iface.is_null() {
        return None;
    }
    // SAFETY: on CKR_OK the module returned a pointer to its interface,
    // valid while it is loaded (forever, here).
    let list = unsafe { (*iface).pFunctionList } as *const CK_FUNCTION_LIST_3_0;
    // SAFETY: the "PKCS 11" 3.0 interface's function list is a
    // CK_FUNCTION_LIST_3_0, a static of the module.
    let list = unsafe { list.as_ref() }?;
    (list.version.major >= 3).then_some(list)
}

/// The module's function list through C_GetFunctionList.
fn function_list(
    lib: &'static libloading::Library,
) -> std::result::Result<&'static CK_FUNCTION_LIST, String> {
    // SAFETY: C_GetFunctionList has this signature in every PKCS#11 version.
    let get = unsafe { lib.get::<GetFunctionListFn>(b"C_GetFunctionList\0") }
        .map_err(|e| format!("not a PKCS#11 module: {e}"))?;
    let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
    // SAFETY: the out pointer is a live local.
    let rv = unsafe { get(&mut list) };
    if rv != CKR_OK {
        return Err(format!("C_GetFunctionList -> {:?}", Rv(rv)));
    }
    // SAFETY: on CKR_OK, a pointer to the module's static function list.
    unsafe { list.as_ref() }.ok_or_else(|| "C_GetFunctionList returned NULL".to_string())
}
