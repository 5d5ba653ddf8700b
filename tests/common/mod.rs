//! Shared test fixture: a throw-away token directory and config, the built
//! cdylib loaded through the `cryptoki` crate exactly as a client loads it,
//! and the raw function list for the ABI's edge cases.
//!
//! The module is one per process (dlopen returns the same library), so the
//! tests of a binary take turns through a global lock: each initializes the
//! library with its own PROZHSM_CONF and finalizes it at the end.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use cryptoki_sys::*;

pub const SO_PIN: &str = "12345678";
pub const USER_PIN: &str = "1234";

static TURN: Mutex<()> = Mutex::new(());

/// Path of the built module. `cargo test` builds it into deps/, beside this
/// test binary, and does not always copy it up to target/<profile>/ — so the
/// deps/ one is the module of this very build; the other may be stale.
pub fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    let fresh = deps.join("libprozhsm.so");
    if fresh.exists() {
        return fresh;
    }
    deps.parent().expect("target dir").join("libprozhsm.so")
}

/// A temporary token directory, its config, and the initialized module.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub pkcs11: Option<Pkcs11>,
    _turn: MutexGuard<'static, ()>,
}

impl Fixture {
    /// A fresh, empty token directory with the fast KDF profile.
    pub fn new() -> Fixture {
        Fixture::with_config("")
    }

    /// As [`Fixture::new`], with extra TOML lines in the config.
    pub fn with_config(extra: &str) -> Fixture {
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().expect("temp dir");
        write_config(dir.path(), extra);
        std::env::set_var("PROZHSM_CONF", dir.path().join("prozhsm.conf"));
        let mut f = Fixture {
            dir,
            pkcs11: None,
            _turn: turn,
        };
        f.start();
        f
    }

    /// Load and initialize the module.
    pub fn start(&mut self) {
        let p = Pkcs11::new(module_path()).expect("load module");
        p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        self.pkcs11 = Some(p);
    }

    /// Finalize the module (as a client exiting would).
    pub fn stop(&mut self) {
        if let Some(p) = self.pkcs11.take() {
            p.finalize().expect("C_Finalize");
        }
    }

    /// Finalize and initialize again: what a new process sees.
    pub fn restart(&mut self) {
        self.stop();
        self.start();
    }

    pub fn p11(&self) -> &Pkcs11 {
        self.pkcs11.as_ref().expect("module initialized")
    }

    /// The free (uninitialized) slot: the last one.
    pub fn free_slot(&self) -> Slot {
        *self
            .p11()
            .get_all_slots()
            .expect("slots")
            .last()
            .expect("a free slot")
    }

    /// Initialize a token on the free slot with SO_PIN and set USER_PIN.
    pub fn init_token(&self, label: &str) -> Slot {
        let slot = self.free_slot();
        self.p11()
            .init_token(slot, &AuthPin::new(SO_PIN.into()), label)
            .expect("C_InitToken");
        let s = self.p11().open_rw_session(slot).expect("open");
        s.login(UserType::So, Some(&AuthPin::new(SO_PIN.into())))
            .expect("SO login");
        s.init_pin(&AuthPin::new(USER_PIN.into()))
            .expect("C_InitPIN");
        s.logout().expect("logout");
        slot
    }

    /// A read/write session with the user logged in.
    pub fn user_session(&self, slot: Slot) -> Session {
        let s = self.p11().open_rw_session(slot).expect("open");
        s.login(UserType::User, Some(&AuthPin::new(USER_PIN.into())))
            .expect("user login");
        s
    }

    /// The slot whose token has `label`.
    pub fn slot_by_label(&self, label: &str) -> Slot {
        self.p11()
            .get_slots_with_initialized_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                self.p11()
                    .get_token_info(*s)
                    .map(|i| i.label() == label)
                    .unwrap_or(false)
            })
            .expect("token by label")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(p) = self.pkcs11.take() {
            let _ = p.finalize();
        }
    }
}

/// Write `prozhsm.conf` into `dir` (tokens in dir/tokens, fast KDF).
pub fn write_config(dir: &Path, extra: &str) {
    let text = format!(
        "token_dir = \"{}\"\ndevice_key = \"{}\"\nlog_level = \"error\"\n{extra}\n[kdf]\nprofile = \"fast\"\n",
        dir.join("tokens").display(),
        dir.join("device.key").display(),
    );
    std::fs::write(dir.join("prozhsm.conf"), text).expect("write config");
}

/// A data object template.
pub fn data_object(label: &str, value: &[u8], token: bool, private: bool) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::DATA),
        Attribute::Token(token),
        Attribute::Private(private),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Value(value.to_vec()),
    ]
}

/// The module's raw 3.0 function list, for calls the `cryptoki` crate cannot
/// make (NULL pointers, short buffers, bad lengths).
pub struct Raw {
    _lib: libloading::Library,
    list: *const CK_FUNCTION_LIST_3_0,
}

impl Raw {
    pub fn load() -> Raw {
        // SAFETY: loading our own module, whose initializers are trivial.
        let lib = unsafe { libloading::Library::new(module_path()) }.expect("dlopen");
        let mut iface: *mut CK_INTERFACE = std::ptr::null_mut();
        // SAFETY: the symbol has the PKCS#11 3.0 C_GetInterface signature.
        unsafe {
            let get: libloading::Symbol<
                unsafe extern "C" fn(
                    *mut CK_UTF8CHAR,
                    *mut CK_VERSION,
                    *mut *mut CK_INTERFACE,
                    CK_FLAGS,
                ) -> CK_RV,
            > = lib.get(b"C_GetInterface\0").expect("C_GetInterface");
            assert_eq!(
                get(std::ptr::null_mut(), std::ptr::null_mut(), &mut iface, 0),
                CKR_OK
            );
        }
        // SAFETY: C_GetInterface returned a valid interface.
        let list = unsafe { (*iface).pFunctionList } as *const CK_FUNCTION_LIST_3_0;
        Raw { _lib: lib, list }
    }

    pub fn f(&self) -> &CK_FUNCTION_LIST_3_0 {
        // SAFETY: a static of the module, valid while the library is loaded.
        unsafe { &*self.list }
    }
}

/// Blank-padded 32-byte label.
pub fn label32(s: &str) -> [u8; 32] {
    let mut l = [b' '; 32];
    l[..s.len()].copy_from_slice(s.as_bytes());
    l
}

/// The PKCS#11 error of a call that must fail.
pub fn code<T: std::fmt::Debug>(r: cryptoki::error::Result<T>) -> cryptoki::error::RvError {
    match r {
        Err(cryptoki::error::Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

/// An AuthPin from a string.
pub fn pin(s: &str) -> AuthPin {
    AuthPin::new(s.into())
}

impl Fixture {
    /// As [`Fixture::with_config`], but `setup` runs first, in this test's
    /// turn, with the temp dir: it may set environment variables (which the
    /// next test's setup may change) and make the files the config names,
    /// and returns the extra TOML lines.
    pub fn with_setup(setup: impl FnOnce(&Path) -> String) -> Fixture {
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().expect("temp dir");
        let extra = setup(dir.path());
        write_config(dir.path(), &extra);
        std::env::set_var("PROZHSM_CONF", dir.path().join("prozhsm.conf"));
        let mut f = Fixture {
            dir,
            pkcs11: None,
            _turn: turn,
        };
        f.start();
        f
    }
}

pub mod inspect;

/// Where Debian's SoftHSMv2 module is, for comparisons.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Whether SoftHSMv2 (module and softhsm2-util) is installed.
pub fn softhsm_available() -> bool {
    Path::new(SOFTHSM_MODULE).exists()
        && std::process::Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_ok()
}

/// A throw-away SoftHSMv2 token directory and its `softhsm2.conf`.
pub struct SoftHsm {
    pub dir: tempfile::TempDir,
}

impl SoftHsm {
    /// A fresh directory with a config using the file object store.
    pub fn new() -> SoftHsm {
        let dir = tempfile::tempdir().expect("temp dir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token dir");
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("write softhsm2.conf");
        SoftHsm { dir }
    }

    /// The config file, for SOFTHSM2_CONF.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// The token directory.
    pub fn tokens(&self) -> PathBuf {
        self.dir.path().join("tokens")
    }

    /// Initialize a token with softhsm2-util.
    pub fn init_token(&self, label: &str, so_pin: &str, user_pin: &str) {
        let out = std::process::Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                so_pin,
                "--pin",
                user_pin,
            ])
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .expect("run softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Any module's 2.40 function list through `C_GetFunctionList` (SoftHSMv2
/// has no `C_GetInterface`), for raw calls on buffers the test controls.
pub struct Module {
    _lib: libloading::Library,
    list: *const CK_FUNCTION_LIST,
}

impl Module {
    pub fn load(path: &Path) -> Module {
        // SAFETY: loading a PKCS#11 module, whose initializers are trivial.
        let lib = unsafe { libloading::Library::new(path) }.expect("dlopen");
        let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
        // SAFETY: the symbol has the C_GetFunctionList signature.
        unsafe {
            let get: libloading::Symbol<unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
                lib.get(b"C_GetFunctionList\0").expect("C_GetFunctionList");
            assert_eq!(get(&mut list), CKR_OK);
        }
        Module { _lib: lib, list }
    }

    pub fn f(&self) -> &CK_FUNCTION_LIST {
        // SAFETY: a static of the module, valid while the library is loaded.
        unsafe { &*self.list }
    }
}

/// The token files in a fixture's token directory (with SQLite's -wal and
/// -shm side files when present).
pub fn token_dir_files(f: &Fixture) -> Vec<PathBuf> {
    inspect::files_under(&f.dir.path().join("tokens"))
}

/// The one token file (`*.token.sqlite`) of a fixture with one token.
pub fn token_file(f: &Fixture) -> PathBuf {
    let files: Vec<PathBuf> = token_dir_files(f)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".token.sqlite"))
        .collect();
    assert_eq!(files.len(), 1, "one token file expected: {files:?}");
    files[0].clone()
}

/// What a PIN unlocks in a token file, derived here the way the token does
/// it (`src/backend/soft/token.rs`, `WrappedKey`): the PIN-derived key
/// (Argon2id with the stored salt and cost) and the token key it unwraps.
/// None when the PIN is not this role's. Call it only while this process's
/// module is finalized: the module bundles its own SQLite, and two copies
/// of SQLite in one process break each other's locks (one deletes the WAL
/// under the other; https://www.sqlite.org/howtocorrupt.html, 2.2.1).
/// White-box on purpose: the tests
/// that look for keys in memory, cores and files look for these two too;
/// when the wrapping format changes, change this with it.
pub fn token_keys(token_file: &Path, role: &str, pin: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    use prozhsm::secure::pin::{derive_key, KdfCost};
    let conn = rusqlite::Connection::open_with_flags(
        token_file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open token file");
    let meta = |name: &str| -> Vec<u8> {
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("meta {name}: {e}"))
    };
    let uuid = meta("uuid");
    let salt = meta(&format!("{role}.salt"));
    let kdf = meta(&format!("{role}.kdf"));
    let blob = meta(&format!("{role}.key"));
    let word = |i: usize| u32::from_le_bytes(kdf[i..i + 4].try_into().expect("4 bytes"));
    let cost = KdfCost {
        m_cost_kib: word(0),
        t_cost: word(4),
        lanes: word(8),
    };
    let pin_key = derive_key(pin, &salt, cost).expect("derive");
    let mut aad = b"prozhsm-token-key-v1:".to_vec();
    aad.extend_from_slice(&uuid);
    aad.extend_from_slice(role.as_bytes());
    let token_key = prozhsm::secure::aead::open(pin_key.as_slice(), &aad, &blob).ok()?;
    Some((pin_key.as_slice().to_vec(), token_key.as_slice().to_vec()))
}
