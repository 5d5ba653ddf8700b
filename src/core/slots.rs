//! The slot table: slot id → backend, over two providers — the software
//! token's slots, then the forwarded modules' slots. Ids are handed out in
//! the order slots are first seen and never reused, so a slot's id never
//! changes under a client and cannot collide with another provider's (the
//! software token's free slot keeps its id when it is initialized; a new
//! free slot gets the next id).
//!
//! Listing order: the software slots first (the free one last among them,
//! as SoftHSMv2 lists it), then the forwarded slots, each group by id.

use std::sync::Arc;

use cryptoki_sys::CK_SLOT_ID;
use parking_lot::RwLock;

use crate::backend::forward::{Event, ForwardProvider};
use crate::backend::soft::SoftProvider;
use crate::backend::SlotBackend;
use crate::error::{Result, Rv};

pub struct SlotTable {
    soft: SoftProvider,
    forward: ForwardProvider,
    entries: RwLock<Entries>,
}

struct Entries {
    list: Vec<(CK_SLOT_ID, Arc<dyn SlotBackend>)>,
    /// The next id to hand out.
    next: CK_SLOT_ID,
}

/// What [`SlotTable::poll_event`] found.
pub enum SlotEvent {
    /// An event on this slot.
    Slot(CK_SLOT_ID),
    /// None now; some slot can report events.
    None,
    /// No slot reports events.
    Unsupported,
}

impl SlotTable {
    pub fn new(soft: SoftProvider, forward: ForwardProvider) -> Result<SlotTable> {
        let table = SlotTable {
            soft,
            forward,
            entries: RwLock::new(Entries {
                list: Vec::new(),
                next: 0,
            }),
        };
        table.refresh()?;
        Ok(table)
    }

    /// Ask the providers for their current slots; keep known ones' ids, give
    /// new ones the next ids, drop vanished ones.
    pub fn refresh(&self) -> Result<()> {
        let groups = [self.soft.slots()?, self.forward.slots()];
        let mut entries = self.entries.write();
        let mut kept: Vec<(CK_SLOT_ID, Arc<dyn SlotBackend>)> = Vec::new();
        for group in groups {
            let start = kept.len();
            for backend in group {
                let id = match entries.list.iter().find(|(_, b)| same(b, &backend)) {
                    Some((id, _)) => *id,
                    None => {
                        entries.next += 1;
                        entries.next - 1
                    }
                };
                kept.push((id, backend));
            }
            kept[start..].sort_by_key(|(id, _)| *id);
        }
        entries.list = kept;
        Ok(())
    }

    /// The slot ids, optionally only those with a token present.
    pub fn ids(&self, token_present: bool) -> Vec<CK_SLOT_ID> {
        self.entries
            .read()
            .list
            .iter()
            .filter(|(_, b)| !token_present || b.token_present())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The backend of slot `id`.
    pub fn get(&self, id: CK_SLOT_ID) -> Result<Arc<dyn SlotBackend>> {
        self.entries
            .read()
            .list
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, b)| b.clone())
            .ok_or(Rv::SLOT_ID_INVALID)
    }

    /// Look once, without blocking, for a slot event. Only forwarded slots
    /// have events (a software slot never changes by itself).
    pub fn poll_event(&self) -> Result<SlotEvent> {
        match self.forward.poll_event() {
            Event::Slot(backend) => {
                self.refresh()?;
                let entries = self.entries.read();
                match entries.list.iter().find(|(_, b)| same(b, &backend)) {
                    Some((id, _)) => Ok(SlotEvent::Slot(*id)),
                    None => Ok(SlotEvent::None),
                }
            }
            Event::None => Ok(SlotEvent::None),
            Event::Unsupported => Ok(SlotEvent::Unsupported),
        }
    }

    /// Finalize the forwarded modules (ProzHSM's C_Finalize, after the
    /// sessions are closed).
    pub fn finalize(&self) {
        self.forward.finalize();
    }
}

/// Whether two handles are the same backend object (by address alone: a
/// trait object's vtable pointer may differ between codegen units).
fn same(a: &Arc<dyn SlotBackend>, b: &Arc<dyn SlotBackend>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}
