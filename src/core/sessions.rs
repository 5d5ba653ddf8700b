//! The session table: handle → (slot, session). Sharded so that opening,
//! closing and looking up sessions on different threads do not serialize on
//! one lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cryptoki_sys::{CK_SESSION_HANDLE, CK_SLOT_ID};
use parking_lot::RwLock;

use crate::backend::Session;
use crate::error::{Result, Rv};

const SHARDS: usize = 16;

type Entry = (CK_SLOT_ID, Arc<dyn Session>);

pub struct SessionTable {
    shards: [RwLock<HashMap<CK_SESSION_HANDLE, Entry>>; SHARDS],
    next: AtomicU64,
}

impl SessionTable {
    pub fn new() -> SessionTable {
        SessionTable {
            shards: std::array::from_fn(|_| RwLock::new(HashMap::new())),
            next: AtomicU64::new(1),
        }
    }

    fn shard(&self, handle: CK_SESSION_HANDLE) -> &RwLock<HashMap<CK_SESSION_HANDLE, Entry>> {
        &self.shards[handle as usize % SHARDS]
    }

    /// Assign a handle, let `make` create the session under it, and record it.
    pub fn open(
        &self,
        slot: CK_SLOT_ID,
        make: impl FnOnce(CK_SESSION_HANDLE) -> Result<Arc<dyn Session>>,
    ) -> Result<CK_SESSION_HANDLE> {
        let handle = self.next.fetch_add(1, Ordering::Relaxed) as CK_SESSION_HANDLE;
        let session = make(handle)?;
        self.shard(handle).write().insert(handle, (slot, session));
        Ok(handle)
    }

    /// The session behind `handle` with its slot.
    pub fn get(&self, handle: CK_SESSION_HANDLE) -> Result<Entry> {
        self.shard(handle)
            .read()
            .get(&handle)
            .cloned()
            .ok_or(Rv::SESSION_HANDLE_INVALID)
    }

    /// Remove and close one session.
    pub fn close(&self, handle: CK_SESSION_HANDLE) -> Result<()> {
        let (_, session) = self
            .shard(handle)
            .write()
            .remove(&handle)
            .ok_or(Rv::SESSION_HANDLE_INVALID)?;
        session.close()
    }

    /// Remove and close every session whose slot passes `which`.
    pub fn close_all(&self, which: impl Fn(CK_SLOT_ID) -> bool) {
        for shard in &self.shards {
            let closing: Vec<Arc<dyn Session>> = {
                let mut map = shard.write();
                let handles: Vec<_> = map
                    .iter()
                    .filter(|(_, (s, _))| which(*s))
                    .map(|(h, _)| *h)
                    .collect();
                handles
                    .iter()
                    .filter_map(|h| map.remove(h))
                    .map(|(_, s)| s)
                    .collect()
            };
            for session in closing {
                if let Err(rv) = session.close() {
                    log::warn!("closing a session: {rv:?}");
                }
            }
        }
    }

    /// Whether any session's slot passes `which`.
    pub fn any(&self, which: impl Fn(CK_SLOT_ID) -> bool) -> bool {
        self.shards
            .iter()
            .any(|s| s.read().values().any(|(slot, _)| which(*slot)))
    }
}
