//! Configuration: where tokens live, logging, policy profile, PIN KDF cost,
//! forwarded slots.
//!
//! Sources, first found wins (DESIGN.md, Configuration):
//! 1. `PROZHSM_CONF` names ProzHSM's TOML file;
//! 2. `SOFTHSM2_CONF` names a SoftHSMv2 config (`key = value`), read so a
//!    SoftHSM user only swaps the library path. ProzHSM keeps its tokens in a
//!    sibling folder (`<tokendir>.prozhsm`), never in SoftHSM's;
//! 3. a per-user default (`$XDG_DATA_HOME/prozhsm/tokens`, else
//!    `~/.local/share/prozhsm/tokens`).

use std::path::PathBuf;

use crate::secure::pin::KdfCost;

/// Where the configuration came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    ProzHsm(PathBuf),
    SoftHsm(PathBuf),
    Default,
}

/// Log verbosity, SoftHSM's names (ERROR, WARNING, INFO, DEBUG).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warning,
    Info,
    Debug,
}

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    Syslog,
}

/// The policy profile (DESIGN.md, Policy profiles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Every key-management hardening rule on (ProzHSM's own config).
    Strict,
    /// The spec's rules plus memory and at-rest protection, with the
    /// hardening rules that SoftHSMv2 clients rely on relaxed (drop-in).
    SoftHsm,
}

/// A forwarded slot: a real HSM's PKCS#11 library behind ProzHSM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardSlot {
    pub module: PathBuf,
    pub token_label: Option<String>,
    pub slot_id: Option<u64>,
    pub serial: Option<String>,
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub source: Source,
    pub token_dir: PathBuf,
    pub log_level: LogLevel,
    pub log_target: LogTarget,
    pub profile: Profile,
    /// Argon2id cost for new PIN-wrapped token keys.
    pub kdf: KdfCost,
    /// The per-installation device key that seals public objects' secrets.
    pub device_key: PathBuf,
    /// Wrong PINs before a PIN locks.
    pub max_pin_attempts: u32,
    /// SoftHSM's slots.removable.
    pub slots_removable: bool,
    /// SoftHSM's slots.mechanisms: None for all, else the names given
    /// (a leading '-' on the list excludes them instead).
    pub mechanisms: Option<Vec<String>>,
    /// SoftHSM's library.reset_on_fork.
    pub reset_on_fork: bool,
    pub forward: Vec<ForwardSlot>,
}

impl Config {
    /// Read the configuration from the environment's sources.
    ///
    /// # Errors
    /// A message for the log when a named file is missing, unreadable or
    /// malformed; C_Initialize then answers CKR_GENERAL_ERROR.
    pub fn load() -> Result<Config, String> {
        Err("configuration loading is not written yet".into())
    }
}

impl Config {
    /// Create the token directory (0700) when missing.
    ///
    /// # Errors
    /// A message when it cannot be made or is not a directory.
    pub fn ensure_token_dir(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.token_dir).map_err(|e| e.to_string())
    }
}
