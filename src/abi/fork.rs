//! Fork detection: a pthread_atfork child handler tells the core that this
//! process is a child, so it behaves as an uninitialized library there and
//! never touches the parent's sessions, keys or store connections.

use std::sync::Once;

/// Register the child handler once per process.
pub fn watch() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only bumps an atomic, which is
        // async-signal-safe and so allowed in a child after fork.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        if rc != 0 {
            log::warn!("pthread_atfork failed ({rc}); fork detection off");
        }
    });
}

extern "C" fn in_child() {
    crate::core::note_fork();
}
