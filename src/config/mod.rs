//! Configuration: where tokens live, logging, policy profile, PIN KDF cost,
//! forwarded slots.
//!
//! Sources, first found wins (DESIGN.md, Configuration):
//! 1. `PROZHSM_CONF` names ProzHSM's TOML file ([`parse_toml`]);
//! 2. `SOFTHSM2_CONF` names a SoftHSMv2 config (`key = value`,
//!    [`parse_softhsm`]), read so a SoftHSM user only swaps the library path.
//!    ProzHSM keeps its tokens in a sibling folder (`<tokendir>.prozhsm`),
//!    never in SoftHSM's;
//! 3. a per-user default (`$XDG_DATA_HOME/prozhsm/tokens`, else
//!    `~/.local/share/prozhsm/tokens`).
//!
//! An empty environment variable counts as unset. Parsing never logs: the
//! logger is configured from the result, so what a parser has to say goes
//! into [`Config::warnings`], and [`Config::log_summary`] logs it once the
//! logger is up. Nothing here reads or stores a secret.

mod softhsm;
mod toml;

use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::secure::pin::KdfCost;

pub use self::softhsm::parse_softhsm;
pub use self::toml::parse_toml;

/// Where the configuration came from (the path is absolute).
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

impl LogLevel {
    /// Parse a level name: `error`, `warning`, `info` or `debug`, in any
    /// case (so SoftHSM's `ERROR` ... `DEBUG` too).
    pub fn parse(name: &str) -> Option<LogLevel> {
        match name.to_ascii_lowercase().as_str() {
            "error" => Some(LogLevel::Error),
            "warning" => Some(LogLevel::Warning),
            "info" => Some(LogLevel::Info),
            "debug" => Some(LogLevel::Debug),
            _ => None,
        }
    }

    /// SoftHSM's name of the level: `ERROR`, `WARNING`, `INFO`, `DEBUG`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Warning => "WARNING",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
        }
    }
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

impl Profile {
    /// The profile's name in the config file and the log: `strict`,
    /// `softhsm`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Strict => "strict",
            Profile::SoftHsm => "softhsm",
        }
    }

    /// What the profile alone says about `rule`: `strict` allows none of
    /// the relaxations, `softhsm` allows all of them.
    pub fn allows(self, rule: Rule) -> bool {
        // Today a profile treats every rule alike; a rule that one day
        // differs gets its own arm here.
        let _ = rule;
        match self {
            Profile::Strict => false,
            Profile::SoftHsm => true,
        }
    }
}

/// A key-management hardening rule that a profile may relax. Each is named
/// as the relaxation it grants: [`Config::allows`] answers `true` when the
/// relaxed behavior is permitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Generate, import and use RSA keys of 1024 bits.
    Rsa1024,
    /// Unwrap with CKM_RSA_PKCS (PKCS#1 v1.5, padding-oracle prone).
    Pkcs1v15Unwrap,
    /// Unwrap with the CBC_PAD mechanisms (padding-oracle prone).
    CbcPadUnwrap,
    /// Wrap with a key that may also CKA_DECRYPT (lets a caller decrypt a
    /// wrapped blob and so extract a key).
    WrapWithDecryptKeys,
    /// Wrap a key under a weaker one (e.g. AES-256 under AES-128).
    WeakWrapping,
    /// Wrap with a key that is not CKA_TRUSTED (the spec demands a trusted
    /// one only for keys with CKA_WRAP_WITH_TRUSTED, and that always holds).
    UntrustedWrappingKeys,
}

impl Rule {
    /// Every rule, in the order of the `[policy]` keys.
    pub const ALL: [Rule; 6] = [
        Rule::Rsa1024,
        Rule::Pkcs1v15Unwrap,
        Rule::CbcPadUnwrap,
        Rule::WrapWithDecryptKeys,
        Rule::WeakWrapping,
        Rule::UntrustedWrappingKeys,
    ];

    /// The rule's switch in the `[policy]` table, e.g. `allow_rsa_1024`.
    pub fn key(self) -> &'static str {
        match self {
            Rule::Rsa1024 => "allow_rsa_1024",
            Rule::Pkcs1v15Unwrap => "allow_pkcs1v15_unwrap",
            Rule::CbcPadUnwrap => "allow_cbc_pad_unwrap",
            Rule::WrapWithDecryptKeys => "allow_wrap_with_decrypt_keys",
            Rule::WeakWrapping => "allow_weak_wrapping",
            Rule::UntrustedWrappingKeys => "allow_untrusted_wrapping_keys",
        }
    }
}

/// Per-rule switches from `[policy]`; `None` leaves the rule to the
/// profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyOverrides {
    pub allow_rsa_1024: Option<bool>,
    pub allow_pkcs1v15_unwrap: Option<bool>,
    pub allow_cbc_pad_unwrap: Option<bool>,
    pub allow_wrap_with_decrypt_keys: Option<bool>,
    pub allow_weak_wrapping: Option<bool>,
    pub allow_untrusted_wrapping_keys: Option<bool>,
}

impl PolicyOverrides {
    /// The switch for `rule`, if the config set one.
    pub fn get(&self, rule: Rule) -> Option<bool> {
        match rule {
            Rule::Rsa1024 => self.allow_rsa_1024,
            Rule::Pkcs1v15Unwrap => self.allow_pkcs1v15_unwrap,
            Rule::CbcPadUnwrap => self.allow_cbc_pad_unwrap,
            Rule::WrapWithDecryptKeys => self.allow_wrap_with_decrypt_keys,
            Rule::WeakWrapping => self.allow_weak_wrapping,
            Rule::UntrustedWrappingKeys => self.allow_untrusted_wrapping_keys,
        }
    }
}

/// A forwarded slot: a real HSM's PKCS#11 library behind ProzHSM.
///
/// At most one of `token_label`, `slot_id`, `serial` is set; with none, the
/// forwarding backend's default applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardSlot {
    /// The module to load: an absolute path, or a bare file name left to
    /// the dynamic loader's search path.
    pub module: PathBuf,
    pub token_label: Option<String>,
    pub slot_id: Option<u64>,
    pub serial: Option<String>,
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub source: Source,
    /// Absolute. Never a SoftHSM token folder.
    pub token_dir: PathBuf,
    pub log_level: LogLevel,
    pub log_target: LogTarget,
    pub profile: Profile,
    /// Per-rule switches on top of `profile`; read through
    /// [`Config::allows`].
    pub policy: PolicyOverrides,
    /// Argon2id cost for new PIN-wrapped token keys.
    pub kdf: KdfCost,
    /// The per-installation device key that seals public objects' secrets.
    pub device_key: PathBuf,
    /// Wrong PINs before a PIN locks (at least 1).
    pub max_pin_attempts: u32,
    /// SoftHSM's slots.removable.
    pub slots_removable: bool,
    /// SoftHSM's slots.mechanisms: `None` for all; else either a list of
    /// names to offer (`CKM_SHA256`), or a list of names to withhold, each
    /// written with a leading '-' (`-CKM_MD5`) — never a mix. Names are not
    /// checked here; read through [`Config::mechanism_enabled`].
    pub mechanisms: Option<Vec<String>>,
    /// SoftHSM's library.reset_on_fork.
    pub reset_on_fork: bool,
    pub forward: Vec<ForwardSlot>,
    /// What the parser noticed but tolerated (e.g. an unknown SoftHSM key),
    /// for the log once it is up: see [`Config::log_summary`].
    pub warnings: Vec<String>,
}

/// The default number of wrong PINs before a PIN locks.
pub const DEFAULT_MAX_PIN_ATTEMPTS: u32 = 10;

impl Config {
    /// Read the configuration from the environment's sources: `PROZHSM_CONF`,
    /// else `SOFTHSM2_CONF`, else the per-user default (see the module doc).
    ///
    /// # Errors
    /// A message for the log, naming the file and the reason, when a named
    /// file is missing, unreadable or malformed, or when no default can be
    /// chosen (neither XDG_DATA_HOME nor HOME set); C_Initialize then
    /// answers CKR_GENERAL_ERROR.
    pub fn load() -> Result<Config, String> {
        load_from(&Env::from_process())
    }

    /// A configuration with every default (strict profile, production KDF,
    /// level warning on stderr) and the given paths; for tools and tests
    /// that do not read the environment.
    pub fn new(token_dir: PathBuf, device_key: PathBuf) -> Config {
        Config {
            source: Source::Default,
            token_dir,
            log_level: LogLevel::Warning,
            log_target: LogTarget::Stderr,
            profile: Profile::Strict,
            policy: PolicyOverrides::default(),
            kdf: KdfCost::PRODUCTION,
            device_key,
            max_pin_attempts: DEFAULT_MAX_PIN_ATTEMPTS,
            slots_removable: false,
            mechanisms: None,
            reset_on_fork: false,
            forward: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether the relaxation `rule` is permitted: the `[policy]` switch if
    /// the config set one, else the profile's answer (`strict`: no,
    /// `softhsm`: yes).
    pub fn allows(&self, rule: Rule) -> bool {
        self.policy
            .get(rule)
            .unwrap_or_else(|| self.profile.allows(rule))
    }

    /// Whether slots.mechanisms lets the mechanism named `name` (e.g.
    /// `CKM_SHA256`) be offered.
    pub fn mechanism_enabled(&self, name: &str) -> bool {
        let Some(list) = &self.mechanisms else {
            return true;
        };
        let excluding = list.first().is_some_and(|n| n.starts_with('-'));
        if excluding {
            !list.iter().any(|n| n.strip_prefix('-') == Some(name))
        } else {
            list.iter().any(|n| n == name)
        }
    }

    /// Make sure the token directory exists and is usable: create it (and
    /// its parents) with mode 0700 if missing. Logs a warning when an
    /// existing directory is writable by group or others.
    ///
    /// # Errors
    /// A message naming the path when it exists but is not a directory, is
    /// not writable, or cannot be created (C_Initialize answers
    /// CKR_GENERAL_ERROR).
    pub fn ensure_token_dir(&self) -> Result<(), String> {
        let dir = &self.token_dir;
        let shown = dir.display();
        match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(format!(
                    "token directory {shown} exists but is not a directory"
                ));
            }
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o022 != 0 {
                    log::warn!(
                        "token directory {shown} is writable by other users (mode {mode:03o})"
                    );
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => create_private_dir(dir)?,
            Err(e) => return Err(format!("token directory {shown}: {e}")),
        }
        probe_writable(dir)
    }

    /// Log where the configuration came from, the profile and any rule set
    /// apart from it (DESIGN.md: the log says which profile is active),
    /// then each of [`Config::warnings`]. Call after `logging::init`.
    pub fn log_summary(&self) {
        let from = match &self.source {
            Source::ProzHsm(p) => format!("PROZHSM_CONF {}", p.display()),
            Source::SoftHsm(p) => format!("SOFTHSM2_CONF {}", p.display()),
            Source::Default => "defaults".to_string(),
        };
        log::info!(
            "configuration from {from}: token directory {}, policy profile {}",
            self.token_dir.display(),
            self.profile.name()
        );
        for rule in Rule::ALL {
            if let Some(on) = self.policy.get(rule) {
                if on != self.profile.allows(rule) {
                    log::info!("policy: {} = {on} (profile says {})", rule.key(), !on);
                }
            }
        }
        for warning in &self.warnings {
            log::warn!("{warning}");
        }
    }
}

/// The environment variables the configuration depends on, captured once so
/// the parsers can be tested without touching the process environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    pub prozhsm_conf: Option<OsString>,
    pub softhsm2_conf: Option<OsString>,
    pub xdg_data_home: Option<OsString>,
    pub xdg_config_home: Option<OsString>,
    pub home: Option<OsString>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Env {
            prozhsm_conf: var("PROZHSM_CONF"),
            softhsm2_conf: var("SOFTHSM2_CONF"),
            xdg_data_home: var("XDG_DATA_HOME"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            home: var("HOME"),
        }
    }

    /// `$XDG_DATA_HOME/prozhsm/tokens`, else `$HOME/.local/share/prozhsm/tokens`.
    pub fn default_token_dir(&self) -> Result<PathBuf, String> {
        base_dir(&self.xdg_data_home, &self.home, ".local/share")
            .map(|d| d.join("prozhsm").join("tokens"))
            .ok_or_else(|| {
                "no token directory: neither XDG_DATA_HOME nor HOME is set (set PROZHSM_CONF)"
                    .to_string()
            })
    }

    /// `$XDG_CONFIG_HOME/prozhsm/device.key`, else
    /// `$HOME/.config/prozhsm/device.key`.
    pub fn default_device_key(&self) -> Result<PathBuf, String> {
        base_dir(&self.xdg_config_home, &self.home, ".config")
            .map(|d| d.join("prozhsm").join("device.key"))
            .ok_or_else(|| {
                "no device key path: neither XDG_CONFIG_HOME nor HOME is set (set device_key)"
                    .to_string()
            })
    }
}

/// An XDG base directory: the variable if it holds an absolute path (the
/// XDG spec says to ignore a relative one), else `$HOME/<fallback>`.
fn base_dir(xdg: &Option<OsString>, home: &Option<OsString>, fallback: &str) -> Option<PathBuf> {
    xdg.as_ref()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(fallback))
        })
}

/// [`Config::load`] over a captured environment.
pub(crate) fn load_from(env: &Env) -> Result<Config, String> {
    if let Some(path) = &env.prozhsm_conf {
        let path = absolute(Path::new(path))?;
        let text = read_config(&path, "PROZHSM_CONF")?;
        return toml::parse_toml_in(&text, &path, env);
    }
    if let Some(path) = &env.softhsm2_conf {
        let path = absolute(Path::new(path))?;
        let text = read_config(&path, "SOFTHSM2_CONF")?;
        return softhsm::parse_softhsm_in(&text, &path, env);
    }
    Ok(Config::new(
        env.default_token_dir()?,
        env.default_device_key()?,
    ))
}

fn read_config(path: &Path, var: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: cannot read the config file named by {var}: {e}",
            path.display()
        )
    })
}

/// `path` made absolute against the working directory (no symlinks
/// resolved, nothing read from disk).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The folder `path` sits in, to resolve relative paths in its file.
pub(crate) fn config_dir(path: &Path) -> Result<PathBuf, String> {
    let path = absolute(path)?;
    Ok(path.parent().map(Path::to_path_buf).unwrap_or(path))
}

/// Create `dir` with mode 0700, parents too (0700 as well, less the umask).
fn create_private_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| format!("cannot create the parents of token directory {shown}: {e}"))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        // The umask may have taken bits away; 0700 is what we mean.
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot set mode 0700 on token directory {shown}: {e}")),
        // Another process made it meanwhile: the caller checks it.
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(format!("cannot create token directory {shown}: {e}")),
    }
}

/// Check that files can be made in `dir` by making one. Permission bits
/// alone would miss read-only mounts, ACLs and root.
fn probe_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".prozhsm-write-probe-{}", std::process::id()));
    let made = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe);
    match made {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        // A probe left by a crashed process with our pid: still writable.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!(
            "token directory {} is not writable: {e}",
            dir.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_env(root: &Path) -> Env {
        Env {
            home: Some(root.join("home").into()),
            ..Env::default()
        }
    }

    #[test]
    fn rules_follow_profile_then_overrides() {
        let mut c = Config::new("/t".into(), "/k".into());
        for rule in Rule::ALL {
            assert!(!c.allows(rule), "strict allows {rule:?}");
        }
        c.profile = Profile::SoftHsm;
        for rule in Rule::ALL {
            assert!(c.allows(rule), "softhsm forbids {rule:?}");
        }
        c.policy.allow_rsa_1024 = Some(false);
        assert!(!c.allows(Rule::Rsa1024));
        assert!(c.allows(Rule::Pkcs1v15Unwrap));
        c.profile = Profile::Strict;
        c.policy.allow_weak_wrapping = Some(true);
        assert!(c.allows(Rule::WeakWrapping));
        assert!(!c.allows(Rule::CbcPadUnwrap));
    }

    #[test]
    fn rule_keys_are_distinct() {
        let mut keys: Vec<_> = Rule::ALL.iter().map(|r| r.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Rule::ALL.len());
    }

    #[test]
    fn mechanism_lists() {
        let mut c = Config::new("/t".into(), "/k".into());
        assert!(c.mechanism_enabled("CKM_MD5"));
        c.mechanisms = Some(vec!["CKM_SHA256".into()]);
        assert!(c.mechanism_enabled("CKM_SHA256"));
        assert!(!c.mechanism_enabled("CKM_MD5"));
        c.mechanisms = Some(vec!["-CKM_MD5".into(), "-CKM_SHA_1".into()]);
        assert!(c.mechanism_enabled("CKM_SHA256"));
        assert!(!c.mechanism_enabled("CKM_MD5"));
        assert!(!c.mechanism_enabled("CKM_SHA_1"));
    }

    #[test]
    fn log_level_names() {
        assert_eq!(LogLevel::parse("WARNING"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("Debug"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse("warn"), None);
        for l in [
            LogLevel::Error,
            LogLevel::Warning,
            LogLevel::Info,
            LogLevel::Debug,
        ] {
            assert_eq!(LogLevel::parse(l.name()), Some(l));
        }
    }

    #[test]
    fn ensure_token_dir_creates_private_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/tokens");
        let c = Config::new(dir.clone(), tmp.path().join("k"));
        c.ensure_token_dir().unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(fs::metadata(tmp.path().join("a/b")).unwrap().is_dir());
        // Idempotent, and the probe leaves nothing behind.
        c.ensure_token_dir().unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn ensure_token_dir_rejects_file_and_readonly_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tokens");
        fs::write(&file, b"x").unwrap();
        let err = Config::new(file.clone(), "/k".into())
            .ensure_token_dir()
            .unwrap_err();
        assert!(err.contains("not a directory"), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");

        let below_file = file.join("sub");
        assert!(Config::new(below_file, "/k".into())
            .ensure_token_dir()
            .is_err());

        let ro = tmp.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
        let result = Config::new(ro.clone(), "/k".into()).ensure_token_dir();
        // Root writes anyway; everyone else must be refused.
        if fs::File::create(ro.join("x")).is_err() {
            let err = result.unwrap_err();
            assert!(err.contains("not writable"), "{err}");
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn defaults_follow_xdg_then_home() {
        let tmp = tempfile::tempdir().unwrap();
        let mut env = fake_env(tmp.path());
        let c = load_from(&env).unwrap();
        assert_eq!(c.source, Source::Default);
        assert_eq!(c.profile, Profile::Strict);
        assert_eq!(
            c.token_dir,
            tmp.path().join("home/.local/share/prozhsm/tokens")
        );
        assert_eq!(
            c.device_key,
            tmp.path().join("home/.config/prozhsm/device.key")
        );
        env.xdg_data_home = Some(tmp.path().join("data").into());
        env.xdg_config_home = Some("relative/ignored".into());
        let c = load_from(&env).unwrap();
        assert_eq!(c.token_dir, tmp.path().join("data/prozhsm/tokens"));
        assert_eq!(
            c.device_key,
            tmp.path().join("home/.config/prozhsm/device.key")
        );
        assert!(load_from(&Env::default()).is_err());
    }

    #[test]
    fn sources_in_order_and_missing_file() {
        let tmp = tempfile::tempdir().unwrap();
        let prozhsm = tmp.path().join("prozhsm.toml");
        let softhsm = tmp.path().join("softhsm2.conf");
        fs::write(&prozhsm, "token_dir = \"tok\"\n").unwrap();
        fs::write(
            &softhsm,
            "directories.tokendir = /var/lib/softhsm/tokens/\n",
        )
        .unwrap();
        let mut env = fake_env(tmp.path());
        env.softhsm2_conf = Some(softhsm.clone().into());
        let c = load_from(&env).unwrap();
        assert_eq!(c.source, Source::SoftHsm(softhsm));
        assert_eq!(c.token_dir, Path::new("/var/lib/softhsm/tokens.prozhsm"));
        env.prozhsm_conf = Some(prozhsm.clone().into());
        let c = load_from(&env).unwrap();
        assert_eq!(c.source, Source::ProzHsm(prozhsm));
        assert_eq!(c.token_dir, tmp.path().join("tok"));

        let missing = tmp.path().join("missing.toml");
        env.prozhsm_conf = Some(missing.clone().into());
        let err = load_from(&env).unwrap_err();
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(err.contains("PROZHSM_CONF"), "{err}");
    }

    /// The only test that touches the process environment.
    #[test]
    fn load_reads_process_environment() {
        let names = [
            "PROZHSM_CONF",
            "SOFTHSM2_CONF",
            "XDG_DATA_HOME",
            "XDG_CONFIG_HOME",
            "HOME",
        ];
        let saved: Vec<_> = names.iter().map(std::env::var_os).collect();
        let tmp = tempfile::tempdir().unwrap();
        let conf = tmp.path().join("p.toml");
        fs::write(
            &conf,
            "token_dir = \"/srv/tokens\"\nlog_level = \"debug\"\n",
        )
        .unwrap();
        std::env::set_var("PROZHSM_CONF", &conf);
        std::env::set_var("SOFTHSM2_CONF", "");
        std::env::set_var("XDG_CONFIG_HOME", tmp.path());
        let loaded = Config::load();
        std::env::set_var("PROZHSM_CONF", "");
        std::env::remove_var("XDG_DATA_HOME");
        std::env::set_var("HOME", tmp.path());
        let default = Config::load();
        for (name, value) in names.iter().zip(saved) {
            match value {
                Some(v) => std::env::set_var(name, v),
                None => std::env::remove_var(name),
            }
        }
        let loaded = loaded.unwrap();
        assert_eq!(loaded.source, Source::ProzHsm(conf));
        assert_eq!(loaded.token_dir, Path::new("/srv/tokens"));
        assert_eq!(loaded.log_level, LogLevel::Debug);
        assert_eq!(loaded.device_key, tmp.path().join("prozhsm/device.key"));
        let default = default.unwrap();
        assert_eq!(default.source, Source::Default);
        assert_eq!(
            default.token_dir,
            tmp.path().join(".local/share/prozhsm/tokens")
        );
    }
}
