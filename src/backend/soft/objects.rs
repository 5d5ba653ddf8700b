//! The token's objects: an in-memory index of session objects and the token
//! objects this process can see, kept in step with the store.
//!
//! Token objects are loaded when the token is first used (public ones) and
//! at user login (private ones, decrypted with the token key); after that a
//! lookup is a hash-map read. When another process commits to the token
//! file (SQLite's data_version changes), [`Token::sync`] reloads just the
//! rows whose generation changed.
//!
//! Handles come from one process-wide counter and are never reused, so a
//! stale handle cannot reach a different object.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cryptoki_sys::*;
use parking_lot::RwLock;

use crate::backend::soft::records;
use crate::backend::soft::token::{Login, Token};
use crate::backend::Template;
use crate::error::{Result, Rv};
use crate::object::{policy, Attributes};
use crate::secure::aead;
use crate::store::ObjectRow;

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn next_handle() -> CK_OBJECT_HANDLE {
    NEXT_HANDLE.fetch_add(1, Ordering::Relaxed) as CK_OBJECT_HANDLE
}

/// One object.
pub struct Object {
    pub handle: CK_OBJECT_HANDLE,
    /// The store id of a token object.
    pub store_id: Option<i64>,
    /// The session that owns a session object.
    pub session: Option<CK_SESSION_HANDLE>,
    generation: AtomicU64,
    attrs: RwLock<Attributes>,
}

impl Object {
    /// The object's attributes, for reading.
    pub fn attrs(&self) -> parking_lot::RwLockReadGuard<'_, Attributes> {
        self.attrs.read()
    }

    /// Whether this is a private object.
    pub fn is_private(&self) -> bool {
        self.attrs.read().is_private()
    }
}

#[derive(Default)]
struct Index {
    by_handle: HashMap<CK_OBJECT_HANDLE, Arc<Object>>,
    by_store_id: HashMap<i64, CK_OBJECT_HANDLE>,
    /// The store's data_version when the index last matched it; None before
    /// the first load.
    data_version: Option<i64>,
}

/// The index of a token's objects.
pub struct ObjectIndex {
    inner: RwLock<Index>,
}

impl ObjectIndex {
    pub fn new() -> ObjectIndex {
        ObjectIndex {
            inner: RwLock::new(Index::default()),
        }
    }

    /// Drop every private object (logout): their handles die with them.
    pub fn forget_private(&self) {
        let mut index = self.inner.write();
        let private: Vec<_> = index
            .by_handle
            .values()
            .filter(|o| o.is_private())
            .map(|o| (o.handle, o.store_id))
            .collect();
        for (handle, store_id) in private {
            index.by_handle.remove(&handle);
            if let Some(id) = store_id {
                index.by_store_id.remove(&id);
            }
        }
    }

    /// Drop everything (the token was re-initialized).
    pub fn clear(&self) {
        *self.inner.write() = Index::default();
    }

    fn insert(&self, object: Object) -> CK_OBJECT_HANDLE {
        let handle = object.handle;
        let mut index = self.inner.write();
        if let Some(id) = object.store_id {
            index.by_store_id.insert(id, handle);
        }
        index.by_handle.insert(handle, Arc::new(object));
        handle
    }

    fn remove(&self, handle: CK_OBJECT_HANDLE) {
        let mut index = self.inner.write();
        if let Some(o) = index.by_handle.remove(&handle) {
            if let Some(id) = o.store_id {
                index.by_store_id.remove(&id);
            }
        }
    }
}

/// What an object operation needs to know about the calling session.
#[derive(Clone, Copy)]
pub struct Caller {
    pub session: CK_SESSION_HANDLE,
    pub rw: bool,
}

impl Token {
    /// Bring the index up to date with the store: the first time, load every
    /// public token object; afterwards, only when another process committed.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn sync(&self) -> Result<()> {
        let version = self.store().data_version()?;
        if self.objects.inner.read().data_version == Some(version) {
            return Ok(());
        }
        let stored = self.store().object_versions()?;
        let user = self.login_state() == Login::User;
        let mut changed = Vec::new();
        {
            let index = self.objects.inner.read();
            let present: HashMap<i64, ()> = stored.iter().map(|(id, _)| (*id, ())).collect();
            for (id, generation) in &stored {
                match index
                    .by_store_id
                    .get(id)
                    .and_then(|h| index.by_handle.get(h))
                {
                    Some(o) if o.generation.load(Ordering::Relaxed) == *generation as u64 => {}
                    _ => changed.push(*id),
                }
            }
            let gone: Vec<CK_OBJECT_HANDLE> = index
                .by_store_id
                .iter()
                .filter(|(id, _)| !present.contains_key(id))
                .map(|(_, h)| *h)
                .collect();
            drop(index);
            for h in gone {
                self.objects.remove(h);
            }
        }
        for id in changed {
            if let Some(row) = self.store().object(id)? {
                if records::is_private_row(&row.public) && !user {
                    continue;
                }
                self.load_row(&row);
            }
        }
        self.objects.inner.write().data_version = Some(version);
        Ok(())
    }

    /// Decrypt and index every private token object (user login).
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn load_private_objects(&self) -> Result<()> {
        for row in self.store().objects()? {
            if records::is_private_row(&row.public) {
                self.load_row(&row);
            }
        }
        Ok(())
    }

    /// Index one stored row, replacing an older version of it. A row that
    /// fails to open is reported and skipped: the rest of the token works.
    fn load_row(&self, row: &ObjectRow) {
        let key = match records::sealer_of(&row.public) {
            records::Sealer::Token => self.token_key(),
            records::Sealer::Device => self.device_key().get(),
        };
        let attrs = key.and_then(|k| {
            records::decode(self.uuid(), row.id, &row.public, &row.sealed, k.as_slice())
        });
        let attrs = match attrs {
            Ok(a) => a,
            Err(rv) => {
                log::error!(
                    "{}: object record {} failed to load ({rv:?}): altered or corrupt; skipped",
                    self.store().path().display(),
                    row.id
                );
                return;
            }
        };
        let old = self.objects.inner.read().by_store_id.get(&row.id).copied();
        if let Some(h) = old {
            if let Some(o) = self.objects.inner.read().by_handle.get(&h) {
                *o.attrs.write() = attrs;
                o.generation.store(row.generation as u64, Ordering::Relaxed);
                return;
            }
        }
        self.objects.insert(Object {
            handle: next_handle(),
            store_id: Some(row.id),
            session: None,
            generation: AtomicU64::new(row.generation as u64),
            attrs: RwLock::new(attrs),
        });
    }

    /// The object behind `handle`, if this session may see it.
    ///
    /// # Errors
    /// CKR_OBJECT_HANDLE_INVALID.
    pub fn object(&self, handle: CK_OBJECT_HANDLE) -> Result<Arc<Object>> {
        if let Some(o) = self.objects.inner.read().by_handle.get(&handle) {
            return Ok(o.clone());
        }
        Err(Rv::OBJECT_HANDLE_INVALID)
    }

    /// Add a new object (C_CreateObject, C_CopyObject, generated keys ...).
    ///
    /// # Errors
    /// CKR_SESSION_READ_ONLY for a token object in a read-only session;
    /// CKR_USER_NOT_LOGGED_IN for a private object without the user logged
    /// in; CKR_DEVICE_ERROR when the store fails.
    pub fn add_object(&self, caller: Caller, mut attrs: Attributes) -> Result<CK_OBJECT_HANDLE> {
        self.check_write(caller, &attrs)?;
        // One random id names the object: its store row and its
        // CKA_UNIQUE_ID (PKCS#11 3.0 §4.4.1: unique, assigned by the token).
        let id = random_id()?;
        attrs.set_bytes(CKA_UNIQUE_ID, format!("{id:016x}").as_bytes());
        let token = attrs.is_token();
        if token {
            self.persist_new(id, &attrs)?;
        }
        Ok(self.objects.insert(Object {
            handle: next_handle(),
            store_id: token.then_some(id),
            session: (!token).then_some(caller.session),
            generation: AtomicU64::new(0),
            attrs: RwLock::new(attrs),
        }))
    }

    /// Replace an object's attributes (C_SetAttributeValue), persisting a
    /// token object's first.
    ///
    /// # Errors
    /// As [`Token::add_object`].
    pub fn replace_attributes(
        &self,
        caller: Caller,
        object: &Object,
        attrs: Attributes,
    ) -> Result<()> {
        self.check_write(caller, &attrs)?;
        if let Some(id) = object.store_id {
            let key = self.record_key(&attrs)?;
            let (public, sealed) = records::encode(self.uuid(), id, &attrs, key.as_slice())?;
            let generation = self.store().update_object(id, &public, &sealed)?;
            object
                .generation
                .store(generation as u64, Ordering::Relaxed);
        }
        *object.attrs.write() = attrs;
        Ok(())
    }

    /// C_DestroyObject.
    ///
    /// # Errors
    /// CKR_ACTION_PROHIBITED when CKA_DESTROYABLE is false; as
    /// [`Token::add_object`].
    pub fn destroy_object(&self, caller: Caller, handle: CK_OBJECT_HANDLE) -> Result<()> {
        let object = self.object(handle)?;
        {
            let attrs = object.attrs();
            if !attrs.flag(CKA_DESTROYABLE, true) {
                return Err(Rv::ACTION_PROHIBITED);
            }
            self.check_write(caller, &attrs)?;
        }
        if let Some(id) = object.store_id {
            self.store().delete_object(id)?;
        }
        self.objects.remove(handle);
        Ok(())
    }

    /// The handles of the objects matching `template` (C_FindObjectsInit).
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn find(&self, template: &Template) -> Result<Vec<CK_OBJECT_HANDLE>> {
        self.sync()?;
        let index = self.objects.inner.read();
        let mut found: Vec<CK_OBJECT_HANDLE> = index
            .by_handle
            .values()
            .filter(|o| policy::matches(&o.attrs(), template))
            .map(|o| o.handle)
            .collect();
        found.sort_unstable();
        Ok(found)
    }

    /// Drop a closing session's session objects.
    pub fn drop_session_objects(&self, session: CK_SESSION_HANDLE) {
        let mut index = self.objects.inner.write();
        index.by_handle.retain(|_, o| o.session != Some(session));
    }

    /// The rules on who may create, change or destroy an object.
    fn check_write(&self, caller: Caller, attrs: &Attributes) -> Result<()> {
        if attrs.is_token() && !caller.rw {
            return Err(Rv::SESSION_READ_ONLY);
        }
        if attrs.is_private() && self.login_state() != Login::User {
            return Err(Rv::USER_NOT_LOGGED_IN);
        }
        Ok(())
    }

    /// The key that seals a record of `attrs`.
    fn record_key(&self, attrs: &Attributes) -> Result<crate::secure::SecretBytes> {
        if attrs.is_private() {
            self.token_key()
        } else {
            self.device_key().get()
        }
    }

    /// Store a new token object under `id`.
    fn persist_new(&self, id: i64, attrs: &Attributes) -> Result<()> {
        let key = self.record_key(attrs)?;
        let (public, sealed) = records::encode(self.uuid(), id, attrs, key.as_slice())?;
        self.store().insert_object(&ObjectRow {
            id,
            generation: 0,
            public,
            sealed,
        })
    }
}

/// A random positive 63-bit object id (SQLite rowids are signed; a
/// collision, 2^-63 per pair, fails the insert rather than overwriting).
fn random_id() -> Result<i64> {
    let mut raw = [0u8; 8];
    aead::random(&mut raw)?;
    Ok((u64::from_le_bytes(raw) >> 1) as i64)
}
