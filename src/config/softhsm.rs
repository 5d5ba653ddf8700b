//! SoftHSMv2's config file, named by `SOFTHSM2_CONF`, read so that a SoftHSM
//! user only swaps the library path.
//!
//! The format is SoftHSM's: one `key = value` a line, `#` starts a comment
//! anywhere on a line, blank lines are skipped, the last of repeated keys
//! wins. Read: `directories.tokendir` (required), `log.level`,
//! `slots.removable`, `slots.mechanisms`, `library.reset_on_fork`;
//! `objectstore.backend` is accepted and ignored (ProzHSM has one store).
//! Any other key is tolerated with a warning, as SoftHSM does.
//!
//! Where SoftHSM skips a malformed line or value with a warning, ProzHSM
//! refuses the file with the line number: a config that silently means
//! something else is worse than one that fails loudly.
//!
//! The result differs from ProzHSM's own defaults in three ways. ProzHSM
//! never uses SoftHSM's token folder: its tokens live in the sibling folder
//! `<tokendir>.prozhsm`. The policy profile is `softhsm`. Logs go to syslog,
//! where SoftHSM sends them, so a drop-in adds no output on stderr.

use std::path::{Path, PathBuf};

use super::{absolute, Config, Env, LogLevel, LogTarget, Profile, Source};

/// Parse the SoftHSMv2 config `text`, read from `path`. Defaults that depend
/// on the environment (the device key's folder) are read from the process
/// environment.
///
/// # Errors
/// `"<path>:<line>: <reason>"` for a line that is not `key = value`, a
/// known key without a value or with a bad one; `"<path>: ..."` when
/// `directories.tokendir` is missing.
pub fn parse_softhsm(text: &str, path: &Path) -> Result<Config, String> {
    parse_softhsm_in(text, path, &Env::from_process())
}

/// [`parse_softhsm`] over a captured environment.
pub(crate) fn parse_softhsm_in(text: &str, path: &Path, env: &Env) -> Result<Config, String> {
    let shown = path.display();
    let mut token_dir = None;
    let mut level = None;
    let mut removable = None;
    let mut mechanisms = None;
    let mut reset_on_fork = None;
    let mut warnings = Vec::new();

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let err = |reason: String| format!("{shown}:{line}: {reason}");
        let Some((key, value)) = content.split_once('=') else {
            return Err(err(format!("expected `key = value`, found `{content}`")));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(err("no key before '='".into()));
        }
        let known = matches!(
            key,
            "directories.tokendir"
                | "log.level"
                | "slots.removable"
                | "slots.mechanisms"
                | "library.reset_on_fork"
                | "objectstore.backend"
        );
        if known && value.is_empty() {
            return Err(err(format!("{key} has no value")));
        }
        match key {
            "directories.tokendir" => token_dir = Some(value.to_string()),
            "log.level" => {
                level = Some(LogLevel::parse(value).ok_or_else(|| {
                    err(format!(
                        "log.level `{value}`: expected ERROR, WARNING, INFO or DEBUG"
                    ))
                })?);
            }
            "slots.removable" => removable = Some(boolean(key, value).map_err(err)?),
            "library.reset_on_fork" => reset_on_fork = Some(boolean(key, value).map_err(err)?),
            "slots.mechanisms" => {
                mechanisms = Some(mechanism_list(value, |w| {
                    warnings.push(format!("{shown}:{line}: slots.mechanisms: {w}"))
                }));
            }
            "objectstore.backend" => {}
            "objectstore.umask" | "log.file" => warnings.push(format!(
                "{shown}:{line}: {key} is not supported by ProzHSM and is ignored"
            )),
            _ => warnings.push(format!("{shown}:{line}: unknown setting `{key}` ignored")),
        }
    }

    let token_dir = token_dir.ok_or_else(|| format!("{shown}: directories.tokendir is missing"))?;
    let token_dir = sibling_dir(Path::new(&token_dir))
        .map_err(|e| format!("{shown}: directories.tokendir {token_dir}: {e}"))?;
    let device_key = env
        .default_device_key()
        .map_err(|e| format!("{shown}: {e}"))?;

    let mut config = Config::new(token_dir, device_key);
    config.source = Source::SoftHsm(absolute(path)?);
    config.profile = Profile::SoftHsm;
    config.log_target = LogTarget::Syslog;
    config.log_level = level.unwrap_or(LogLevel::Warning);
    config.slots_removable = removable.unwrap_or(false);
    config.mechanisms = mechanisms.flatten();
    config.reset_on_fork = reset_on_fork.unwrap_or(false);
    config.warnings = warnings;
    Ok(config)
}

/// SoftHSM's booleans: `true` or `false`, in any case.
fn boolean(key: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{key} `{value}`: expected true or false")),
    }
}

/// SoftHSM's slots.mechanisms: `ALL`, or comma-separated names to offer, or
/// the same after a single leading '-' to withhold them. Returned in
/// [`Config::mechanisms`]' form (withheld names each carry the '-'). Empty
/// or stray entries are skipped with a warning, as SoftHSM does.
fn mechanism_list(value: &str, mut warn: impl FnMut(String)) -> Option<Vec<String>> {
    if value == "ALL" {
        return None;
    }
    let (excluding, list) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut names = Vec::new();
    for entry in list.split(',').map(str::trim) {
        // "-A,-B" plainly means to withhold both.
        let name = if excluding {
            entry.strip_prefix('-').unwrap_or(entry)
        } else {
            entry
        };
        if name.is_empty() || name.starts_with('-') {
            warn(format!("entry `{entry}` skipped"));
            continue;
        }
        names.push(if excluding {
            format!("-{name}")
        } else {
            name.to_string()
        });
    }
    if excluding && names.is_empty() {
        // Withholding nothing leaves every mechanism.
        return None;
    }
    Some(names)
}

/// `<tokendir>.prozhsm` beside SoftHSM's folder (trailing slashes dropped,
/// made absolute against the working directory as SoftHSM would read it).
fn sibling_dir(token_dir: &Path) -> Result<PathBuf, String> {
    let dir = absolute(token_dir)?;
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err("has no folder name to put ProzHSM's tokens beside".into());
    };
    let mut sibling = name.to_os_string();
    sibling.push(".prozhsm");
    Ok(parent.join(sibling))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/etc/softhsm2.conf";

    fn parse(text: &str) -> Result<Config, String> {
        let env = Env {
            xdg_config_home: Some("/home/u/.cfg".into()),
            ..Env::default()
        };
        parse_softhsm_in(text, Path::new(PATH), &env)
    }

    #[test]
    fn stock_file_with_comments() {
        let c = parse(
            "# SoftHSM v2 configuration file\n\
             \n\
             directories.tokendir = /var/lib/softhsm/tokens/\n\
             objectstore.backend = file   # or db\n\
             \r\n\
             # ERROR, WARNING, INFO, DEBUG\n\
             log.level = ERROR\n\
             \n\
             # If CKF_REMOVABLE_DEVICE flag should be set\n\
             slots.removable = false\n\
             \n\
             # Enable and disable PKCS#11 mechanisms using slots.mechanisms.\n\
             slots.mechanisms = ALL\n\
             \n\
             # If the library should reset the state on fork\n\
             library.reset_on_fork = false\n",
        )
        .unwrap();
        assert_eq!(c.source, Source::SoftHsm(PATH.into()));
        assert_eq!(c.token_dir, Path::new("/var/lib/softhsm/tokens.prozhsm"));
        assert_eq!(c.profile, Profile::SoftHsm);
        assert_eq!(c.kdf, crate::secure::pin::KdfCost::PRODUCTION);
        assert_eq!(c.log_level, LogLevel::Error);
        assert_eq!(c.log_target, LogTarget::Syslog);
        assert_eq!(c.device_key, Path::new("/home/u/.cfg/prozhsm/device.key"));
        assert!(!c.slots_removable);
        assert_eq!(c.mechanisms, None);
        assert!(!c.reset_on_fork);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn sibling_dir_never_softhsm_folder() {
        for (given, want) in [
            ("/var/lib/softhsm/tokens", "/var/lib/softhsm/tokens.prozhsm"),
            (
                "/var/lib/softhsm/tokens//",
                "/var/lib/softhsm/tokens.prozhsm",
            ),
            ("/tmp/t/./tok", "/tmp/t/tok.prozhsm"),
        ] {
            let c = parse(&format!("directories.tokendir = {given}\n")).unwrap();
            assert_eq!(c.token_dir, Path::new(want), "{given}");
        }
        let c = parse("directories.tokendir = rel/tokens\n").unwrap();
        assert!(c.token_dir.is_absolute());
        assert!(c.token_dir.ends_with("rel/tokens.prozhsm"));
        assert!(parse("directories.tokendir = /\n").is_err());
    }

    #[test]
    fn mechanisms_reset_on_fork_removable() {
        let c = parse(
            "directories.tokendir = /t\n\
             slots.mechanisms = CKM_RSA_PKCS, CKM_SHA256,,\n\
             library.reset_on_fork = TRUE\n\
             slots.removable = True\n",
        )
        .unwrap();
        assert_eq!(
            c.mechanisms,
            Some(vec!["CKM_RSA_PKCS".to_string(), "CKM_SHA256".to_string()])
        );
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.reset_on_fork);
        assert!(c.slots_removable);

        let c = parse(
            "directories.tokendir = /t\nslots.mechanisms = -CKM_MD5,CKM_SHA_1,-CKM_DES3_CBC\n",
        )
        .unwrap();
        assert_eq!(
            c.mechanisms,
            Some(vec![
                "-CKM_MD5".to_string(),
                "-CKM_SHA_1".to_string(),
                "-CKM_DES3_CBC".to_string()
            ])
        );
        assert!(!c.mechanism_enabled("CKM_SHA_1"));
        assert!(c.mechanism_enabled("CKM_SHA256"));
    }

    #[test]
    fn unknown_keys_are_tolerated_with_a_warning() {
        let c = parse(
            "directories.tokendir = /t\nfoo.bar = 1\nlog.file = /var/log/x\nobjectstore.umask = 0077\n",
        )
        .unwrap();
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("/etc/softhsm2.conf:2:"));
        assert!(c.warnings[0].contains("foo.bar"));
    }

    #[test]
    fn bad_lines_name_their_line() {
        for (text, line, what) in [
            (
                "directories.tokendir = /t\n\njust words\n",
                3,
                "key = value",
            ),
            ("# c\n= x\ndirectories.tokendir = /t\n", 2, "no key"),
            ("directories.tokendir =   # empty\n", 1, "no value"),
            ("directories.tokendir = /t\nlog.level = LOUD\n", 2, "LOUD"),
            (
                "directories.tokendir = /t\nslots.removable = yes\n",
                2,
                "yes",
            ),
            ("library.reset_on_fork = 1\n", 1, "true or false"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(&format!("{PATH}:{line}: ")), "{e}");
            assert!(e.contains(what), "{e}");
        }
        let e = parse("# nothing\nlog.level = INFO\n").unwrap_err();
        assert_eq!(e, format!("{PATH}: directories.tokendir is missing"));
    }
}
