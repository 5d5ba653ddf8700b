//! The slot table: slot id → backend. Ids are handed out in the order slots
//! are first seen and stay fixed for the life of the library, so a slot's id
//! never changes under a client (the software token's free slot keeps its id
//! when it is initialized; a new free slot gets the next id).

use std::sync::Arc;

use cryptoki_sys::CK_SLOT_ID;
use parking_lot::RwLock;

use crate::backend::soft::SoftProvider;
use crate::backend::SlotBackend;
use crate::error::{Result, Rv};

pub struct SlotTable {
    soft: SoftProvider,
    entries: RwLock<Vec<(CK_SLOT_ID, Arc<dyn SlotBackend>)>>,
}

impl SlotTable {
    pub fn new(soft: SoftProvider) -> Result<SlotTable> {
        let table = SlotTable {
            soft,
            entries: RwLock::new(Vec::new()),
        };
        table.refresh()?;
        Ok(table)
    }

    /// Ask the providers for their current slots; keep known ones' ids, give
    /// new ones the next ids, drop vanished ones.
    pub fn refresh(&self) -> Result<()> {
        let current = self.soft.slots()?;
        let mut entries = self.entries.write();
        let mut next = entries.iter().map(|(id, _)| id + 1).max().unwrap_or(0);
        let mut kept: Vec<(CK_SLOT_ID, Arc<dyn SlotBackend>)> = Vec::with_capacity(current.len());
        for backend in current {
            let id = match entries.iter().find(|(_, b)| Arc::ptr_eq(b, &backend)) {
                Some((id, _)) => *id,
                None => {
                    next += 1;
                    next - 1
                }
            };
            kept.push((id, backend));
        }
        kept.sort_by_key(|(id, _)| *id);
        *entries = kept;
        Ok(())
    }

    /// The slot ids, optionally only those with a token present.
    pub fn ids(&self, token_present: bool) -> Vec<CK_SLOT_ID> {
        self.entries
            .read()
            .iter()
            .filter(|(_, b)| !token_present || b.token_present())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The backend of slot `id`.
    pub fn get(&self, id: CK_SLOT_ID) -> Result<Arc<dyn SlotBackend>> {
        self.entries
            .read()
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, b)| b.clone())
            .ok_or(Rv::SLOT_ID_INVALID)
    }
}
