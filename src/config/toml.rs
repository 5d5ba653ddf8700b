//! ProzHSM's own config file (TOML), named by `PROZHSM_CONF`.
//!
//! ```toml
//! token_dir = "tokens"            # required; relative to this file's folder
//! log_level = "info"              # error | warning (default) | info | debug
//! log_target = "stderr"           # stderr (default) | syslog
//! device_key = "/etc/prozhsm/device.key"
//! max_pin_attempts = 10
//! reset_on_fork = false
//!
//! [kdf]
//! profile = "production"          # production (default) | fast
//! m_cost_kib = 65536              # each overrides the profile's value
//! t_cost = 3
//! lanes = 1
//!
//! [policy]
//! profile = "strict"              # strict (default) | softhsm
//! allow_rsa_1024 = true           # any rule switch, see config::Rule
//!
//! [slots]
//! removable = false
//! mechanisms = "ALL"              # or ["CKM_SHA256", ...] or ["-CKM_MD5", ...]
//!
//! [[forward]]
//! module = "/usr/lib/vendor/libpkcs11.so"
//! token_label = "prod"            # at most one of token_label, slot_id, serial
//! ```
//!
//! Every key not listed is an error, so a typo never silently falls back to
//! a default.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ::toml::Spanned;
use serde::Deserialize;

use super::{
    config_dir, Config, Env, ForwardSlot, LogLevel, LogTarget, PolicyOverrides, Profile, Source,
};
use crate::secure::pin::KdfCost;

/// Parse ProzHSM's TOML config `text`, read from `path` (relative paths in it
/// are taken from `path`'s folder). Defaults that depend on the environment
/// (the device key's folder) are read from the process environment.
///
/// # Errors
/// `"<path>:<line>:<column>: <reason>"` for malformed TOML, an unknown key, a
/// missing `token_dir` or a bad value.
pub fn parse_toml(text: &str, path: &Path) -> Result<Config, String> {
    parse_toml_in(text, path, &Env::from_process())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    token_dir: Spanned<PathBuf>,
    log_level: Option<Spanned<String>>,
    log_target: Option<Spanned<String>>,
    device_key: Option<Spanned<PathBuf>>,
    max_pin_attempts: Option<Spanned<u32>>,
    reset_on_fork: Option<bool>,
    kdf: Option<Kdf>,
    policy: Option<Policy>,
    slots: Option<Slots>,
    #[serde(default)]
    forward: Vec<Forward>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    profile: Option<Spanned<String>>,
    m_cost_kib: Option<u32>,
    t_cost: Option<u32>,
    lanes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    profile: Option<Spanned<String>>,
    allow_rsa_1024: Option<bool>,
    allow_pkcs1v15_unwrap: Option<bool>,
    allow_cbc_pad_unwrap: Option<bool>,
    allow_wrap_with_decrypt_keys: Option<bool>,
    allow_weak_wrapping: Option<bool>,
    allow_untrusted_wrapping_keys: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Slots {
    removable: Option<bool>,
    mechanisms: Option<Spanned<::toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forward {
    module: Spanned<PathBuf>,
    token_label: Option<Spanned<String>>,
    slot_id: Option<u64>,
    serial: Option<Spanned<String>>,
}

/// Where an error is: the file, and the line and column of a span in it.
struct At<'a> {
    text: &'a str,
    path: &'a Path,
}

impl At<'_> {
    fn err(&self, span: Range<usize>, reason: impl std::fmt::Display) -> String {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{column}: {reason}", self.path.display())
    }

    /// toml's own message, on one line for the log.
    fn toml_err(&self, e: &::toml::de::Error) -> String {
        let message: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let message = message.join("; ");
        match e.span() {
            Some(span) => self.err(span, message),
            None => format!("{}: {message}", self.path.display()),
        }
    }
}

/// [`parse_toml`] over a captured environment.
pub(crate) fn parse_toml_in(text: &str, path: &Path, env: &Env) -> Result<Config, String> {
    let at = At { text, path };
    let file: File = ::toml::from_str(text).map_err(|e| at.toml_err(&e))?;
    let base = config_dir(path)?;

    let token_dir = resolve(&base, &at, &file.token_dir, "token_dir")?;
    let device_key = match &file.device_key {
        Some(p) => resolve(&base, &at, p, "device_key")?,
        None => env
            .default_device_key()
            .map_err(|e| format!("{}: {e}", path.display()))?,
    };
    let mut config = Config::new(token_dir, device_key);
    config.source = Source::ProzHsm(super::absolute(path)?);

    if let Some(level) = &file.log_level {
        config.log_level = LogLevel::parse(level.get_ref()).ok_or_else(|| {
            at.err(
                level.span(),
                format!(
                    "log_level `{}`: expected error, warning, info or debug",
                    level.get_ref()
                ),
            )
        })?;
    }
    if let Some(target) = &file.log_target {
        config.log_target = match target.get_ref().to_ascii_lowercase().as_str() {
            "stderr" => LogTarget::Stderr,
            "syslog" => LogTarget::Syslog,
            other => {
                return Err(at.err(
                    target.span(),
                    format!("log_target `{other}`: expected stderr or syslog"),
                ))
            }
        };
    }
    if let Some(attempts) = &file.max_pin_attempts {
        if *attempts.get_ref() < 1 {
            return Err(at.err(attempts.span(), "max_pin_attempts must be at least 1"));
        }
        config.max_pin_attempts = *attempts.get_ref();
    }
    config.reset_on_fork = file.reset_on_fork.unwrap_or(false);
    if let Some(kdf) = &file.kdf {
        config.kdf = kdf_cost(kdf, &at)?;
    }
    if let Some(policy) = &file.policy {
        apply_policy(&mut config, policy, &at)?;
    }
    if let Some(slots) = &file.slots {
        config.slots_removable = slots.removable.unwrap_or(false);
        if let Some(mechs) = &slots.mechanisms {
            config.mechanisms = mechanisms(mechs, &at)?;
        }
    }
    for (i, fwd) in file.forward.iter().enumerate() {
        config.forward.push(forward_slot(fwd, i, &base, &at)?);
    }
    Ok(config)
}

/// A path from the file: relative ones are taken from the file's folder.
fn resolve(base: &Path, at: &At, p: &Spanned<PathBuf>, key: &str) -> Result<PathBuf, String> {
    let value = p.get_ref();
    if value.as_os_str().is_empty() {
        return Err(at.err(p.span(), format!("{key} is empty")));
    }
    Ok(base.join(value))
}

fn kdf_cost(kdf: &Kdf, at: &At) -> Result<KdfCost, String> {
    let mut cost = match &kdf.profile {
        None => KdfCost::PRODUCTION,
        Some(p) => match p.get_ref().to_ascii_lowercase().as_str() {
            "production" => KdfCost::PRODUCTION,
            "fast" => KdfCost::FAST,
            other => {
                return Err(at.err(
                    p.span(),
                    format!("kdf profile `{other}`: expected production or fast"),
                ))
            }
        },
    };
    cost.m_cost_kib = kdf.m_cost_kib.unwrap_or(cost.m_cost_kib);
    cost.t_cost = kdf.t_cost.unwrap_or(cost.t_cost);
    cost.lanes = kdf.lanes.unwrap_or(cost.lanes);
    // Refuse now what Argon2id would refuse at the first C_InitToken.
    argon2::Params::new(cost.m_cost_kib, cost.t_cost, cost.lanes, Some(32)).map_err(|e| {
        format!(
            "{}: [kdf] m_cost_kib = {}, t_cost = {}, lanes = {}: {e}",
            at.path.display(),
            cost.m_cost_kib,
            cost.t_cost,
            cost.lanes
        )
    })?;
    Ok(cost)
}

fn apply_policy(config: &mut Config, policy: &Policy, at: &At) -> Result<(), String> {
    if let Some(p) = &policy.profile {
        config.profile = match p.get_ref().to_ascii_lowercase().as_str() {
            "strict" => Profile::Strict,
            "softhsm" => Profile::SoftHsm,
            other => {
                return Err(at.err(
                    p.span(),
                    format!("policy profile `{other}`: expected strict or softhsm"),
                ))
            }
        };
    }
    config.policy = PolicyOverrides {
        allow_rsa_1024: policy.allow_rsa_1024,
        allow_pkcs1v15_unwrap: policy.allow_pkcs1v15_unwrap,
        allow_cbc_pad_unwrap: policy.allow_cbc_pad_unwrap,
        allow_wrap_with_decrypt_keys: policy.allow_wrap_with_decrypt_keys,
        allow_weak_wrapping: policy.allow_weak_wrapping,
        allow_untrusted_wrapping_keys: policy.allow_untrusted_wrapping_keys,
    };
    Ok(())
}

/// `"ALL"`, or a non-empty list of names, either all plain (offer only
/// these) or all with a leading '-' (withhold these).
fn mechanisms(value: &Spanned<::toml::Value>, at: &At) -> Result<Option<Vec<String>>, String> {
    let bad = |reason: &str| at.err(value.span(), format!("slots.mechanisms: {reason}"));
    match value.get_ref() {
        ::toml::Value::String(s) if s.eq_ignore_ascii_case("ALL") => Ok(None),
        ::toml::Value::Array(items) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str().map(str::trim) {
                    Some(name) if !name.is_empty() && name != "-" => names.push(name.to_string()),
                    _ => return Err(bad("each entry must be a mechanism name")),
                }
            }
            let excluding = names.iter().filter(|n| n.starts_with('-')).count();
            if names.is_empty() {
                Err(bad(
                    "an empty list offers nothing; write \"ALL\" for every mechanism",
                ))
            } else if excluding != 0 && excluding != names.len() {
                Err(bad(
                    "mixes names to offer and names to withhold ('-'); use one kind",
                ))
            } else {
                Ok(Some(names))
            }
        }
        _ => Err(bad("expected \"ALL\" or a list of names")),
    }
}

fn forward_slot(fwd: &Forward, index: usize, base: &Path, at: &At) -> Result<ForwardSlot, String> {
    let module = fwd.module.get_ref();
    let here = |reason: String| {
        at.err(
            fwd.module.span(),
            format!("[[forward]] #{}: {reason}", index + 1),
        )
    };
    if module.as_os_str().is_empty() {
        return Err(here("module is empty".into()));
    }
    let selectors = [
        fwd.token_label.as_ref().map(|_| "token_label"),
        fwd.slot_id.map(|_| "slot_id"),
        fwd.serial.as_ref().map(|_| "serial"),
    ];
    let set: Vec<&str> = selectors.into_iter().flatten().collect();
    if set.len() > 1 {
        return Err(here(format!(
            "{} are both set; choose at most one to select the token",
            set.join(" and ")
        )));
    }
    // A bare file name is left to the dynamic loader's search path.
    let module = if module.is_relative() && module.components().count() > 1 {
        base.join(module)
    } else {
        module.clone()
    };
    // CK_TOKEN_INFO holds 32 bytes of label and 16 of serial: a longer value
    // can never match.
    for (value, key, max) in [
        (&fwd.token_label, "token_label", 32),
        (&fwd.serial, "serial", 16),
    ] {
        if let Some(v) = value {
            if v.get_ref().is_empty() || v.get_ref().len() > max {
                return Err(at.err(
                    v.span(),
                    format!("{key} must be 1 to {max} bytes, as in CK_TOKEN_INFO"),
                ));
            }
        }
    }
    Ok(ForwardSlot {
        module,
        token_label: fwd.token_label.as_ref().map(|s| s.get_ref().clone()),
        slot_id: fwd.slot_id,
        serial: fwd.serial.as_ref().map(|s| s.get_ref().clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            home: Some("/home/u".into()),
            ..Env::default()
        }
    }

    fn parse(text: &str) -> Result<Config, String> {
        parse_toml_in(text, Path::new("/etc/prozhsm/prozhsm.toml"), &env())
    }

    #[test]
    fn minimal_file_takes_defaults() {
        let c = parse("token_dir = \"/srv/tokens\"\n").unwrap();
        assert_eq!(
            c.source,
            Source::ProzHsm("/etc/prozhsm/prozhsm.toml".into())
        );
        assert_eq!(c.token_dir, Path::new("/srv/tokens"));
        assert_eq!(c.log_level, LogLevel::Warning);
        assert_eq!(c.log_target, LogTarget::Stderr);
        assert_eq!(
            c.device_key,
            Path::new("/home/u/.config/prozhsm/device.key")
        );
        assert_eq!(c.max_pin_attempts, 10);
        assert_eq!(c.kdf, KdfCost::PRODUCTION);
        assert_eq!(c.profile, Profile::Strict);
        assert_eq!(c.policy, PolicyOverrides::default());
        assert!(!c.slots_removable);
        assert_eq!(c.mechanisms, None);
        assert!(!c.reset_on_fork);
        assert!(c.forward.is_empty());
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn every_key() {
        let c = parse(
            r#"
token_dir = "tokens"
log_level = "DEBUG"
log_target = "Syslog"
device_key = "keys/device.key"
max_pin_attempts = 3
reset_on_fork = true

[kdf]
profile = "fast"
t_cost = 2

[policy]
profile = "softhsm"
allow_rsa_1024 = false
allow_untrusted_wrapping_keys = true

[slots]
removable = true
mechanisms = ["-CKM_MD5", "-CKM_SHA_1"]

[[forward]]
module = "/usr/lib/hsm.so"
token_label = "prod"

[[forward]]
module = "libother.so"
slot_id = 4

[[forward]]
module = "lib/third.so"
serial = "0123"
"#,
        )
        .unwrap();
        assert_eq!(c.token_dir, Path::new("/etc/prozhsm/tokens"));
        assert_eq!(c.log_level, LogLevel::Debug);
        assert_eq!(c.log_target, LogTarget::Syslog);
        assert_eq!(c.device_key, Path::new("/etc/prozhsm/keys/device.key"));
        assert_eq!(c.max_pin_attempts, 3);
        assert!(c.reset_on_fork);
        assert_eq!(
            c.kdf,
            KdfCost {
                t_cost: 2,
                ..KdfCost::FAST
            }
        );
        assert_eq!(c.profile, Profile::SoftHsm);
        assert_eq!(c.policy.allow_rsa_1024, Some(false));
        assert_eq!(c.policy.allow_untrusted_wrapping_keys, Some(true));
        assert_eq!(c.policy.allow_weak_wrapping, None);
        assert!(c.slots_removable);
        assert_eq!(
            c.mechanisms,
            Some(vec!["-CKM_MD5".to_string(), "-CKM_SHA_1".to_string()])
        );
        assert_eq!(
            c.forward,
            vec![
                ForwardSlot {
                    module: "/usr/lib/hsm.so".into(),
                    token_label: Some("prod".into()),
                    slot_id: None,
                    serial: None,
                },
                ForwardSlot {
                    module: "libother.so".into(),
                    token_label: None,
                    slot_id: Some(4),
                    serial: None,
                },
                ForwardSlot {
                    module: "/etc/prozhsm/lib/third.so".into(),
                    token_label: None,
                    slot_id: None,
                    serial: Some("0123".into()),
                },
            ]
        );
    }

    #[test]
    fn explicit_kdf_and_mechanism_forms() {
        let c = parse(
            "token_dir = \"t\"\n[kdf]\nm_cost_kib = 1024\nt_cost = 1\nlanes = 2\n\
             [slots]\nmechanisms = \"all\"\n",
        )
        .unwrap();
        assert_eq!(
            c.kdf,
            KdfCost {
                m_cost_kib: 1024,
                t_cost: 1,
                lanes: 2
            }
        );
        assert_eq!(c.mechanisms, None);
        let c = parse("token_dir = \"t\"\n[slots]\nmechanisms = [\"CKM_SHA256\"]\n").unwrap();
        assert_eq!(c.mechanisms, Some(vec!["CKM_SHA256".to_string()]));
    }

    fn err(text: &str) -> String {
        let e = parse(text).unwrap_err();
        assert!(e.starts_with("/etc/prozhsm/prozhsm.toml"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        e
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err("token_dir = \"t\"\nlog_levle = \"info\"\n");
        assert!(e.contains(":2:1:"), "{e}");
        assert!(e.contains("log_levle"), "{e}");
        let e = err("token_dir = \"t\"\n[policy]\nallow_rsa1024 = true\n");
        assert!(e.contains("allow_rsa1024"), "{e}");
        let e = err("token_dir = \"t\"\n[polcy]\n");
        assert!(e.contains("polcy"), "{e}");
    }

    #[test]
    fn two_forward_selectors_are_an_error() {
        let e = err(
            "token_dir = \"t\"\n[[forward]]\nmodule = \"m.so\"\ntoken_label = \"a\"\nslot_id = 1\n",
        );
        assert!(e.contains("token_label and slot_id"), "{e}");
        assert!(e.contains("#1"), "{e}");
        let e = err("token_dir = \"t\"\n[[forward]]\ntoken_label = \"a\"\n");
        assert!(e.contains("module"), "{e}");
    }

    #[test]
    fn bad_values_are_errors() {
        let e = err("token_dir = \"t\"\nlog_level = \"verbose\"\n");
        assert!(e.contains(":2:13:") && e.contains("verbose"), "{e}");
        assert!(err("token_dir = \"t\"\nlog_target = \"file\"\n").contains("log_target"));
        assert!(err("token_dir = \"t\"\nmax_pin_attempts = 0\n").contains("at least 1"));
        assert!(err("token_dir = \"t\"\nmax_pin_attempts = -1\n").contains(":2:"));
        assert!(err("token_dir = \"t\"\n[kdf]\nprofile = \"slow\"\n").contains("slow"));
        assert!(err("token_dir = \"t\"\n[kdf]\nt_cost = 0\n").contains("[kdf]"));
        assert!(err("token_dir = \"t\"\n[policy]\nprofile = \"lax\"\n").contains("lax"));
        assert!(err("token_dir = \"t\"\n[slots]\nmechanisms = \"CKM_MD5\"\n").contains("ALL"));
        assert!(err("token_dir = \"t\"\n[slots]\nmechanisms = []\n").contains("empty"));
        assert!(
            err("token_dir = \"t\"\n[slots]\nmechanisms = [\"CKM_A\", \"-CKM_B\"]\n")
                .contains("mixes")
        );
        assert!(err("token_dir = \"\"\n").contains("empty"));
        assert!(err("log_level = \"info\"\n").contains("token_dir"));
        assert!(err(
            "token_dir = \"t\"\n[[forward]]\nmodule = \"m\"\nserial = \"01234567890123456\"\n"
        )
        .contains("serial"));
        assert!(err("token_dir = [\n").contains(':'));
    }
}
