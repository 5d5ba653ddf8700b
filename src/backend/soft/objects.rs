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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The session objects' handles (few; scanned by every find).
    session_objects: HashSet<CK_OBJECT_HANDLE>,
    /// Every token object this process may see is loaded. Until then a
    /// find by a tagged attribute loads just the rows whose tags match.
    complete: bool,
    /// The store's data_version when the index last matched it; None before
    /// the first look.
    data_version: Option<i64>,
    /// When that was checked: at most once per [`SYNC_INTERVAL`], so finds
    /// on many threads do not queue on the store's writer connection.
    checked: Option<Instant>,
}

/// How stale another process's changes may be at most when a find or an
/// object function runs.
const SYNC_INTERVAL: Duration = Duration::from_millis(1);

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
            index.session_objects.remove(&handle);
            if let Some(id) = store_id {
                index.by_store_id.remove(&id);
            }
        }
    }

    /// Drop everything (the token was re-initialized).
    pub fn clear(&self) {
        *self.inner.write() = Index::default();
    }

    /// More objects became visible (user login): the index is no longer
    /// complete.
    pub fn mark_incomplete(&self) {
        self.inner.write().complete = false;
    }

    fn insert(&self, object: Object) -> CK_OBJECT_HANDLE {
        let handle = object.handle;
        let mut index = self.inner.write();
        match object.store_id {
            Some(id) => {
                index.by_store_id.insert(id, handle);
            }
            None => {
                index.session_objects.insert(handle);
            }
        }
        index.by_handle.insert(handle, Arc::new(object));
        handle
    }

    fn remove(&self, handle: CK_OBJECT_HANDLE) {
        let mut index = self.inner.write();
        index.session_objects.remove(&handle);
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
    /// Bring the index up to date with what other processes committed
    /// (SQLite's data_version changed): drop deleted objects, reload changed
    /// ones, and — when the index is complete — load new ones.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn sync(&self) -> Result<()> {
        let recent = |index: &Index| index.checked.is_some_and(|t| t.elapsed() < SYNC_INTERVAL);
        if recent(&self.objects.inner.read()) {
            return Ok(());
        }
        let version = self.store().data_version()?;
        let (seen, complete) = {
            let mut index = self.objects.inner.write();
            index.checked = Some(Instant::now());
            (index.data_version, index.complete)
        };
        if seen == Some(version) {
            return Ok(());
        }
        if seen.is_some() {
            let stored: HashMap<i64, i64> = self.store().object_versions()?.into_iter().collect();
            let (gone, changed) = {
                let index = self.objects.inner.read();
                let gone: Vec<CK_OBJECT_HANDLE> = index
                    .by_store_id
                    .iter()
                    .filter(|(id, _)| !stored.contains_key(id))
                    .map(|(_, h)| *h)
                    .collect();
                let changed: Vec<i64> = stored
                    .iter()
                    .filter(|(id, generation)| {
                        match index
                            .by_store_id
                            .get(id)
                            .and_then(|h| index.by_handle.get(h))
                        {
                            Some(o) => o.generation.load(Ordering::Relaxed) != **generation as u64,
                            None => complete,
                        }
                    })
                    .map(|(id, _)| *id)
                    .collect();
                (gone, changed)
            };
            for h in gone {
                self.objects.remove(h);
            }
            for id in changed {
                if let Some(row) = self.store().object(id)? {
                    self.load_row(&row);
                }
            }
        }
        self.objects.inner.write().data_version = Some(version);
        Ok(())
    }

    /// Load every token object this process may see (once; a find whose
    /// template has no tagged attribute needs them all).
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    fn load_all(&self) -> Result<()> {
        if self.objects.inner.read().complete {
            return Ok(());
        }
        let rows = self.store().objects()?;
        let loaded: HashSet<i64> = self
            .objects
            .inner
            .read()
            .by_store_id
            .keys()
            .copied()
            .collect();
        for row in rows.iter().filter(|r| !loaded.contains(&r.id)) {
            self.load_row(row);
        }
        self.objects.inner.write().complete = true;
        Ok(())
    }

    /// Load the rows carrying a tag of `kind` = `value` (public objects',
    /// and private objects' when the user is logged in) that are not loaded
    /// yet; returns their ids.
    fn load_tagged(&self, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> Result<Vec<i64>> {
        let mut tags = vec![self.public_tags().tag(kind, value)];
        if self.login_state() == Login::User {
            let key = self.token_key()?;
            tags.push(records::TagKey::private(self.uuid(), key.as_slice()).tag(kind, value));
        }
        let ids = self.store().ids_with_tags(&tags)?;
        for id in &ids {
            if self.objects.inner.read().by_store_id.contains_key(id) {
                continue;
            }
            if let Some(row) = self.store().object(*id)? {
                self.load_row(&row);
            }
        }
        Ok(ids)
    }

    /// Index one stored row, replacing an older version of it. A row that
    /// fails to open is reported and skipped: the rest of the token works.
    fn load_row(&self, row: &ObjectRow) {
        if records::is_private_row(&row.public) && self.login_state() != Login::User {
            return;
        }
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

    /// The object behind `handle` as the store has it now — another process
    /// may have changed or destroyed it. For the object functions; the
    /// crypto path uses [`Token::object`] and takes no store lock.
    ///
    /// # Errors
    /// CKR_OBJECT_HANDLE_INVALID; CKR_DEVICE_ERROR when the store fails.
    pub fn current_object(&self, handle: CK_OBJECT_HANDLE) -> Result<Arc<Object>> {
        self.sync()?;
        self.object(handle)
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
            let tags = self.tags_of(&attrs)?;
            let generation = self.store().update_tagged(id, &public, &sealed, &tags)?;
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
        let object = self.current_object(handle)?;
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
    /// A template naming a tagged attribute (label, id, key type, class)
    /// reads only the rows whose tag matches — an index lookup, not a scan
    /// of the token; other templates load the whole token once.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR when the store cannot be read.
    pub fn find(&self, template: &Template) -> Result<Vec<CK_OBJECT_HANDLE>> {
        self.sync()?;
        let by_tag = if self.tagged() {
            records::TAGGED
                .iter()
                .find_map(|kind| template.iter().find(|a| a.kind == *kind))
        } else {
            None
        };
        let index;
        let candidates: Vec<&Arc<Object>> = match by_tag {
            Some(attr) => {
                let ids = self.load_tagged(attr.kind, &attr.value)?;
                index = self.objects.inner.read();
                ids.iter()
                    .filter_map(|id| index.by_store_id.get(id))
                    .chain(index.session_objects.iter())
                    .filter_map(|h| index.by_handle.get(h))
                    .collect()
            }
            None => {
                self.load_all()?;
                index = self.objects.inner.read();
                index.by_handle.values().collect()
            }
        };
        let mut found: Vec<CK_OBJECT_HANDLE> = candidates
            .into_iter()
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
        let Index {
            by_handle,
            session_objects,
            ..
        } = &mut *index;
        session_objects.retain(|h| by_handle.contains_key(h));
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
        let tags = self.tags_of(attrs)?;
        self.store().insert_tagged(
            &ObjectRow {
                id,
                generation: 0,
                public,
                sealed,
            },
            &tags,
        )
    }

    /// The search tags of an object's record.
    fn tags_of(&self, attrs: &Attributes) -> Result<Vec<crate::store::Tag>> {
        Ok(if attrs.is_private() {
            let key = self.token_key()?;
            records::TagKey::private(self.uuid(), key.as_slice()).tags(attrs)
        } else {
            self.public_tags().tags(attrs)
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
