//! Logging to stderr or syslog at the configured level. Never a secret, a PIN
//! or a key value: callers log handles, codes and names only.
//!
//! One static logger serves the process through the `log` crate. On stderr a
//! line reads `prozhsm[PID]: LEVEL: message`; to syslog the message goes as
//! `LEVEL: message` under the ident `prozhsm`, with the pid, facility
//! LOG_USER. Levels are SoftHSM's names (ERROR, WARNING, INFO, DEBUG).

use std::ffi::{CStr, CString};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Once, OnceLock};

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::config::{LogLevel, LogTarget};

/// Install the logger (once per process) and set the level and target;
/// later calls only change the level and target, so C_Initialize after
/// C_Finalize may load a new config.
///
/// When the host program already installed a logger of its own in this
/// copy of the `log` crate (only possible when ProzHSM is linked as a Rust
/// library), that logger is left alone, its level too.
pub fn init(level: LogLevel, target: LogTarget) {
    TARGET.store(target as u8, Ordering::Relaxed);
    let ours = *INSTALLED.get_or_init(|| log::set_logger(&LOGGER).is_ok());
    if ours {
        log::set_max_level(level.into());
    }
}

impl From<LogLevel> for LevelFilter {
    fn from(level: LogLevel) -> LevelFilter {
        match level {
            LogLevel::Error => LevelFilter::Error,
            LogLevel::Warning => LevelFilter::Warn,
            LogLevel::Info => LevelFilter::Info,
            LogLevel::Debug => LevelFilter::Debug,
        }
    }
}

static LOGGER: Logger = Logger;
/// Whether `log::set_logger` took ours (decided once).
static INSTALLED: OnceLock<bool> = OnceLock::new();
/// A `LogTarget` as u8.
static TARGET: AtomicU8 = AtomicU8::new(LogTarget::Stderr as u8);
/// Guards the one `openlog`.
static SYSLOG_ONCE: Once = Once::new();

struct Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = format!("{}: {}", level_name(record.level()), record.args());
        if TARGET.load(Ordering::Relaxed) == LogTarget::Syslog as u8 {
            to_syslog(record.level(), &message);
        } else {
            // One write per line, so lines from threads and processes
            // sharing stderr do not interleave; a failed write is dropped.
            let line = format!("prozhsm[{}]: {message}\n", std::process::id());
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// SoftHSM's name of a level; TRACE never passes the filter, and reads as
/// DEBUG if it did.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DEBUG",
    }
}

fn to_syslog(level: Level, message: &str) {
    let priority = match level {
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Info => libc::LOG_INFO,
        Level::Debug | Level::Trace => libc::LOG_DEBUG,
    };
    // A NUL would end the C string early; show it instead.
    let text = CString::new(message.replace('\0', "\\0"))
        .unwrap_or_else(|_| CString::from(c"(unprintable log message)"));
    syslog(priority, &text);
}

/// Open the syslog connection on first use, then send `text` at `priority`.
///
/// `openlog` sets the ident for the whole process, the host program's own
/// syslog calls included; that is why it only happens when the config asks
/// for syslog.
#[allow(unsafe_code)]
fn syslog(priority: libc::c_int, text: &CStr) {
    const IDENT: &CStr = c"prozhsm";
    SYSLOG_ONCE.call_once(|| {
        // SAFETY: IDENT is a NUL-terminated 'static string, so the pointer
        // openlog keeps stays valid for the life of the process.
        unsafe { libc::openlog(IDENT.as_ptr(), libc::LOG_PID, libc::LOG_USER) };
    });
    // SAFETY: the format is the constant "%s" and its one argument is a
    // valid NUL-terminated C string that outlives the call; the message is
    // never used as a format.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_filters() {
        assert_eq!(LevelFilter::from(LogLevel::Error), LevelFilter::Error);
        assert_eq!(LevelFilter::from(LogLevel::Warning), LevelFilter::Warn);
        assert_eq!(LevelFilter::from(LogLevel::Info), LevelFilter::Info);
        assert_eq!(LevelFilter::from(LogLevel::Debug), LevelFilter::Debug);
        assert_eq!(level_name(Level::Warn), "WARNING");
        for l in [
            LogLevel::Error,
            LogLevel::Warning,
            LogLevel::Info,
            LogLevel::Debug,
        ] {
            assert_eq!(
                level_name(LevelFilter::from(l).to_level().unwrap()),
                l.name()
            );
        }
    }

    #[test]
    fn init_twice_updates_level_and_target() {
        init(LogLevel::Debug, LogTarget::Stderr);
        if *INSTALLED.get().unwrap() {
            assert_eq!(log::max_level(), LevelFilter::Debug);
            init(LogLevel::Error, LogTarget::Syslog);
            assert_eq!(log::max_level(), LevelFilter::Error);
            assert_eq!(TARGET.load(Ordering::Relaxed), LogTarget::Syslog as u8);
            assert!(!log::log_enabled!(log::Level::Info));
            // DEBUG priority: most syslog setups drop it.
            init(LogLevel::Debug, LogTarget::Syslog);
            log::debug!("prozhsm unit test: syslog line with a NUL \0 inside");
            assert!(SYSLOG_ONCE.is_completed());
            init(LogLevel::Warning, LogTarget::Stderr);
            log::warn!("prozhsm unit test: stderr line");
        }
    }
}
