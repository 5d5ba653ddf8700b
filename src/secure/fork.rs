//! Fork safety for secret memory and the master key.
//!
//! A forked child inherits a copy of the parent's memory but only the
//! forking thread. Two things would then go wrong, and this module prevents
//! both:
//!
//! - a lock (the arena's, the master key's) held by another parent thread
//!   would stay held forever in the child. `pthread_atfork` handlers take
//!   both locks before the fork (master key first, then arena: the order the
//!   rest of the module uses) and release them on both sides afterwards;
//! - the child would keep using the parent's master key (or, with
//!   `MADV_WIPEONFORK`, an all-zero one). The child handler bumps a
//!   generation counter; the master key and the arena notice the change on
//!   their next use and start afresh (a new master key; pages locked again,
//!   as locks are not inherited). [`super::seal::reset_after_fork`] does the
//!   same on request, for platforms without `pthread_atfork` here and for a
//!   core that detects the fork itself.
//!
//! The child handler itself only touches atomics and unlocks, so it is safe
//! in the async-signal-safe-only window after a multi-threaded fork.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::secure::{arena, seal};

/// Bumped in every forked child (and by `reset_after_fork`).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current fork generation.
pub(super) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Start a new generation: the next use of the master key makes a new one.
pub(super) fn bump() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Register the fork handlers, once per process. Called when the arena or
/// the master key is first created.
pub(super) fn install_handlers() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            // SAFETY: the three handlers are plain `extern "C" fn()`s that
            // live as long as this library; glibc unregisters them if the
            // library is unloaded (they are registered with its DSO handle).
            let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
            if rc != 0 {
                log::warn!(
                    "secure memory: pthread_atfork failed ({rc}); after fork() the core \
                     must call reset_after_fork in the child"
                );
            }
        });
    }
}

/// Before fork: take the master key lock, then the arena lock, so no other
/// thread is inside either when the address space is copied.
extern "C" fn prepare() {
    seal::fork_prepare();
    arena::fork_prepare();
}

/// After fork, in the parent: release in reverse order.
extern "C" fn parent() {
    arena::fork_release();
    seal::fork_release();
}

/// After fork, in the child: a new generation, then release.
extern "C" fn child() {
    bump();
    arena::fork_release();
    seal::fork_release();
}
