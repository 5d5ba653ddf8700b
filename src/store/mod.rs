//! The persistent token store: one SQLite file per token, WAL mode, every
//! change a transaction, a schema version with migrations.
//!
//! The store keeps records it cannot read: object records arrive already
//! encoded and sealed by the software token (`backend::soft`), token metadata
//! is opaque bytes under string keys. See `docs/store.md` for the scheme.
//!
//! Durability: every write is one IMMEDIATE transaction committed with
//! `synchronous=FULL`, so an `Ok` has reached the disk and a crash at any
//! point leaves the old or the new state. Concurrency: a `TokenStore` is one
//! connection behind a mutex (calls from threads are serialised); several
//! processes (or several `TokenStore`s) on one file see each other's commits,
//! and `data_version` tells them when to reload. A connection must not be
//! used across `fork()`: the child opens its own.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::error::{Result, Rv};

mod schema;
#[cfg(test)]
mod tests;

/// File name suffix of a token file in the token directory.
pub const TOKEN_FILE_SUFFIX: &str = ".token.sqlite";

/// One stored object. `id` is chosen by the token (random, so it can be
/// bound into the record's associated data before the row exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: i64,
    /// Bumped on every update, so another process can tell what changed.
    pub generation: i64,
    /// Attributes anyone may read (public objects' non-secret attributes).
    pub public: Vec<u8>,
    /// Sealed attributes (a private object's all; a public object's
    /// secrets, sealed with its public part as associated data).
    pub sealed: Vec<u8>,
}

/// An open token file.
///
/// `Send + Sync`: one SQLite connection behind a mutex, held only for the
/// length of one statement or one transaction.
pub struct TokenStore {
    path: PathBuf,
    /// The one writer (and the data_version watcher).
    conn: Mutex<Connection>,
    /// Idle read-only connections: reads take one, so reads on several
    /// threads neither wait for each other nor for a commit.
    readers: Mutex<Vec<Connection>>,
}

/// Idle readers kept per store (more are opened under load, then dropped).
const MAX_IDLE_READERS: usize = 4;

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Open the token file at `path`, creating it (mode 0600) when `create`.
    ///
    /// With `create`, an existing token file is opened as it is (its mode
    /// untouched) and a missing one is made with mode 0600 and the current
    /// schema. Without `create`, the file must exist and be an initialised
    /// token file. An older schema is migrated in one transaction.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged with the reason) when the file cannot be
    /// opened or created, is missing (without `create`), is not a token file
    /// (not SQLite, a foreign SQLite database, never initialised), or has a
    /// newer schema than this build knows.
    pub fn open(path: &Path, create: bool) -> Result<TokenStore> {
        let conn = schema::open(path, create)?;
        Ok(TokenStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All metadata entries.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn meta(&self) -> Result<BTreeMap<String, Vec<u8>>> {
        self.read("read meta", |conn| {
            let mut stmt = conn.prepare_cached("SELECT name, value FROM meta")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// Write metadata entries in one transaction (None deletes the key).
    /// Entries apply in order, so a later entry for the same key wins.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be written; nothing
    /// is changed then.
    pub fn set_meta(&self, entries: &[(&str, Option<&[u8]>)]) -> Result<()> {
        self.write("write meta", |tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM meta WHERE name = ?1")?;
            for (name, value) in entries {
                match value {
                    Some(value) => upsert.execute(params![name, value])?,
                    None => delete.execute(params![name])?,
                };
            }
            Ok(())
        })
    }

    /// Read one metadata entry and write its new value in one IMMEDIATE
    /// transaction, so no other connection (thread or process) changes it
    /// in between: `f` gets the current value (None when absent) and
    /// returns the value to write (None: leave it as it is) and a result.
    /// For counters such as the wrong-PIN counts.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read or written;
    /// nothing is changed then.
    pub fn update_meta<R>(
        &self,
        name: &str,
        f: impl FnOnce(Option<&[u8]>) -> (Option<Vec<u8>>, R),
    ) -> Result<R> {
        self.write("update meta", |tx| {
            let current: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
                .query_row(params![name], |r| r.get(0))
                .optional()?;
            let (new, out) = f(current.as_deref());
            if let Some(value) = new {
                tx.prepare_cached(
                    "INSERT INTO meta (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![name, value])?;
            }
            Ok(out)
        })
    }

    /// Insert a new object row, with the generation it carries.
    ///
    /// The id is the caller's (random): when it is already taken the row is
    /// not written and CKR_DEVICE_ERROR comes back; the caller picks another
    /// id and tries again (a second failure is then a real device error).
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the id is taken or the file cannot be
    /// written; nothing is changed then.
    pub fn insert_object(&self, row: &ObjectRow) -> Result<()> {
        self.insert_tagged(row, &[])
    }

    /// [`TokenStore::insert_object`] with the row's search tags, in the same
    /// transaction.
    ///
    /// # Errors
    /// As [`TokenStore::insert_object`].
    pub fn insert_tagged(&self, row: &ObjectRow, tags: &[Tag]) -> Result<()> {
        let mut conn = self.lock_for_write();
        let result = write_tx(&mut conn, |tx| {
            tx.prepare_cached(
                "INSERT INTO objects (id, generation, public, sealed) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![row.id, row.generation, row.public, row.sealed])?;
            put_tags(tx, row.id, tags)
        });
        match result {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                log::warn!(
                    "store {}: insert: object id already in use",
                    self.path.display()
                );
                Err(Rv::DEVICE_ERROR)
            }
            Err(e) => Err(db_error(&self.path, "insert object", e)),
        }
    }

    /// Replace an object's records; returns its new generation (the old
    /// one plus one).
    ///
    /// # Errors
    /// CKR_OBJECT_HANDLE_INVALID when no object has this id;
    /// CKR_DEVICE_ERROR (logged) when the file cannot be written. Nothing is
    /// changed in either case.
    pub fn update_object(&self, id: i64, public: &[u8], sealed: &[u8]) -> Result<i64> {
        self.update_tagged(id, public, sealed, &[])
    }

    /// [`TokenStore::update_object`], replacing the row's search tags in the
    /// same transaction.
    ///
    /// # Errors
    /// As [`TokenStore::update_object`].
    pub fn update_tagged(
        &self,
        id: i64,
        public: &[u8],
        sealed: &[u8],
        tags: &[Tag],
    ) -> Result<i64> {
        let generation: Option<i64> = self.write("update object", |tx| {
            let generation = tx
                .prepare_cached(
                    "UPDATE objects SET generation = generation + 1, public = ?2, sealed = ?3
                     WHERE id = ?1 RETURNING generation",
                )?
                .query_row(params![id, public, sealed], |r| r.get(0))
                .optional()?;
            if generation.is_some() {
                put_tags(tx, id, tags)?;
            }
            Ok(generation)
        })?;
        generation.ok_or(Rv::OBJECT_HANDLE_INVALID)
    }

    /// The ids of the objects carrying any of `tags`.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn ids_with_tags(&self, tags: &[Tag]) -> Result<Vec<i64>> {
        self.read("read tags", |conn| {
            let mut stmt = conn.prepare_cached("SELECT id FROM tags WHERE tag = ?1")?;
            let mut ids = Vec::new();
            for tag in tags {
                let rows = stmt.query_map(params![&tag[..]], |r| r.get(0))?;
                for id in rows {
                    ids.push(id?);
                }
            }
            ids.sort_unstable();
            ids.dedup();
            Ok(ids)
        })
    }

    /// Delete an object (a missing one is not an error).
    ///
    /// The row's space is overwritten in the file (secure_delete) and the
    /// WAL is checkpointed and truncated when no other process is busy on
    /// the file, so a destroyed object's sealed record does not linger.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be written; nothing
    /// is changed then.
    pub fn delete_object(&self, id: i64) -> Result<()> {
        let mut conn = self.lock_for_write();
        let deleted = write_tx(&mut conn, |tx| {
            tx.prepare_cached("DELETE FROM tags WHERE id = ?1")?
                .execute(params![id])?;
            tx.prepare_cached("DELETE FROM objects WHERE id = ?1")?
                .execute(params![id])
        })
        .map_err(|e| db_error(&self.path, "delete object", e))?;
        if deleted > 0 {
            scrub(&conn, &self.path);
        }
        Ok(())
    }

    /// One object row.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn object(&self, id: i64) -> Result<Option<ObjectRow>> {
        self.read("read object", |conn| {
            conn.prepare_cached("SELECT id, generation, public, sealed FROM objects WHERE id = ?1")?
                .query_row(params![id], object_row)
                .optional()
        })
    }

    /// Every object row, ordered by id, read as one consistent snapshot.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn objects(&self) -> Result<Vec<ObjectRow>> {
        self.read("read objects", |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, generation, public, sealed FROM objects ORDER BY id")?;
            let rows = stmt.query_map([], object_row)?;
            rows.collect()
        })
    }

    /// Every object's (id, generation), ordered by id, cheap, for change
    /// detection.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn object_versions(&self) -> Result<Vec<(i64, i64)>> {
        self.read("read object versions", |conn| {
            let mut stmt = conn.prepare_cached("SELECT id, generation FROM objects ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// A number that changes when another connection (process) commits.
    ///
    /// SQLite's `PRAGMA data_version`: it stays the same across this
    /// store's own commits, so a token compares it with the value it saw at
    /// its last load and reloads only when someone else wrote.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read.
    pub fn data_version(&self) -> Result<i64> {
        // Per connection: always the writer's, so our own commits never
        // count as someone else's.
        let conn = self.conn.lock();
        conn.prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| db_error(&self.path, "read data_version", e))
    }

    /// Erase the token (C_InitToken): delete every object and all metadata,
    /// then write `meta`, in one transaction.
    ///
    /// Afterwards the WAL is checkpointed and truncated when no other
    /// process is busy on the file (see `delete_object`).
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be written; nothing
    /// is changed then.
    pub fn reset(&self, meta: &[(&str, &[u8])]) -> Result<()> {
        let mut conn = self.lock_for_write();
        write_tx(&mut conn, |tx| {
            tx.prepare_cached("DELETE FROM tags")?.execute([])?;
            tx.prepare_cached("DELETE FROM objects")?.execute([])?;
            tx.prepare_cached("DELETE FROM meta")?.execute([])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?;
            for (name, value) in meta {
                insert.execute(params![name, value])?;
            }
            Ok(())
        })
        .map_err(|e| db_error(&self.path, "reset token", e))?;
        scrub(&conn, &self.path);
        Ok(())
    }

    /// Run `f` on the connection under the lock; map its error.
    fn read<T>(&self, op: &str, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.readers.lock().pop();
        let conn = match idle {
            Some(c) => c,
            None => schema::open_reader(&self.path)?,
        };
        let result = f(&conn).map_err(|e| db_error(&self.path, op, e));
        let mut pool = self.readers.lock();
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }

    /// Run `f` in one IMMEDIATE transaction under the lock; map its error.
    fn write<T>(
        &self,
        op: &str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock_for_write();
        write_tx(&mut conn, f).map_err(|e| db_error(&self.path, op, e))
    }

    /// Take the lock for a write. Should an earlier failure have left a
    /// transaction open (a failed rollback), roll it back first, so one
    /// failure cannot wedge every later write.
    fn lock_for_write(&self) -> parking_lot::MutexGuard<'_, Connection> {
        let conn = self.conn.lock();
        if !conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                log::warn!("store {}: stale transaction: {e}", self.path.display());
            }
        }
        conn
    }
}

/// A search tag: a keyed hash of one attribute, computed by the token.
pub type Tag = [u8; 16];

/// Replace the tags of object `id`.
fn put_tags(tx: &Transaction<'_>, id: i64, tags: &[Tag]) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM tags WHERE id = ?1")?
        .execute(params![id])?;
    let mut insert = tx.prepare_cached("INSERT INTO tags (tag, id) VALUES (?1, ?2)")?;
    for tag in tags {
        insert.execute(params![&tag[..], id])?;
    }
    Ok(())
}

/// The token files in `dir`, sorted by name: regular files (or links to
/// them) whose names end with `TOKEN_FILE_SUFFIX` and have something before
/// it. SQLite's `-wal` and `-shm` side files do not match.
///
/// # Errors
/// CKR_GENERAL_ERROR (logged) when the directory cannot be read.
pub fn token_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let fail = |e: std::io::Error| {
        log::error!("store: cannot read token directory {}: {e}", dir.display());
        Rv::GENERAL_ERROR
    };
    let suffix = TOKEN_FILE_SUFFIX.as_bytes();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name();
        let name = name.as_bytes();
        if name.len() > suffix.len() && name.ends_with(suffix) {
            let path = entry.path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Run `f` in one IMMEDIATE transaction: commit when it succeeds, roll back
/// (on drop) when it or the commit fails. IMMEDIATE takes the write lock at
/// BEGIN, so two processes never deadlock upgrading a read lock, and the
/// busy timeout queues them instead.
fn write_tx<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// Checkpoint the WAL into the file and truncate it, so removed records
/// (overwritten in the file by secure_delete) leave no copy in the WAL.
/// Best effort and non-blocking: if another connection is reading or
/// writing, skip it; a later checkpoint does the same work.
fn scrub(conn: &Connection, path: &Path) {
    let run = || -> rusqlite::Result<i64> {
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
        conn.busy_timeout(schema::BUSY_TIMEOUT)?;
        busy
    };
    match run() {
        Ok(0) => {}
        Ok(_) => log::debug!("store {}: checkpoint deferred (file busy)", path.display()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => {
            log::debug!("store {}: checkpoint deferred (file busy)", path.display())
        }
        Err(e) => log::warn!("store {}: checkpoint failed: {e}", path.display()),
    }
}

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        id: r.get(0)?,
        generation: r.get(1)?,
        public: r.get(2)?,
        sealed: r.get(3)?,
    })
}

/// Log a database failure with its context (never record contents: SQLite's
/// messages name tables and constraints, not values) and return the code
/// the client sees.
fn db_error(path: &Path, op: &str, e: rusqlite::Error) -> Rv {
    log::error!("store {}: {op}: {e}", path.display());
    Rv::DEVICE_ERROR
}
