//! Opening a token file: creating it (mode 0600), recognising it, setting
//! the connection up (WAL, synchronous=FULL, busy timeout) and bringing its
//! schema up to date through the migration list.
//!
//! Everything here runs before the connection is shared, so it takes the
//! connection by value or `&mut`, with no lock.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Result, Rv};

/// `PRAGMA application_id` of a token file: "PZHS". A file at schema
/// version 1 or later without it is not ours.
pub(super) const APPLICATION_ID: i32 = 0x505A_4853;

/// The schema migrations. `MIGRATIONS[i]` takes a file from schema version
/// `i` to `i + 1`; version 0 is an empty file. Append only: a released
/// migration is never edited, a change is a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE meta (
         name  TEXT PRIMARY KEY,
         value BLOB NOT NULL
     );
     CREATE TABLE objects (
         id         INTEGER PRIMARY KEY,
         generation INTEGER NOT NULL,
         public     BLOB NOT NULL,
         sealed     BLOB NOT NULL
     );
     -- Covers object_versions(): a scan of small index pages instead of
     -- every record.
     CREATE INDEX objects_versions ON objects (id, generation);",
    // 2: search tags, so a find reads only the rows that can match. A tag is
    // a keyed hash of one attribute (the token computes it; the store cannot
    // read it), so a private object's label is not revealed by its tag.
    "CREATE TABLE tags (
         tag BLOB NOT NULL,
         id  INTEGER NOT NULL
     );
     CREATE INDEX tags_by_tag ON tags (tag);
     CREATE INDEX tags_by_id ON tags (id);",
];

/// The schema version this build writes (`PRAGMA user_version`).
pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another process's lock before failing.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// The page cache of each connection, in KiB (negative: SQLite's unit).
const CACHE_SIZE_KIB: i64 = -32 * 1024;

/// Above this size the WAL file is truncated after a checkpoint, so it does
/// not keep a large tail of old pages (and old records) around.
const JOURNAL_SIZE_LIMIT: i64 = 1 << 20;

/// Open (and when `create`, create) the token file at `path` and return a
/// connection ready for use: recognised as a token file, in WAL mode,
/// synchronous=FULL, at the current schema version.
///
/// # Errors
/// CKR_DEVICE_ERROR, logged with the reason.
pub(super) fn open(path: &Path, create: bool) -> Result<Connection> {
    let created = if create {
        create_file(path)?
    } else {
        if let Err(e) = std::fs::metadata(path) {
            log::error!("store {}: cannot open token file: {e}", path.display());
            return Err(Rv::DEVICE_ERROR);
        }
        false
    };
    warn_if_readable_by_others(path);

    // No SQLITE_OPEN_CREATE: the file exists by now, and if it vanished in
    // between, SQLite must not silently make an empty one. NO_MUTEX: the
    // connection is only ever used under the store's own lock.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn =
        Connection::open_with_flags(path, flags).map_err(|e| super::db_error(path, "open", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| super::db_error(path, "set busy timeout", e))?;

    // Recognise the file before changing anything in it. Reading the header
    // is also what fails (SQLITE_NOTADB) on a file that is not SQLite.
    let (app_id, version) = identity(&conn, path)?;
    check_identity(path, app_id, version)?;
    if version == 0 {
        if table_count(&conn, path)? != 0 {
            log::error!(
                "store {}: not a token file (an SQLite database with foreign tables)",
                path.display()
            );
            return Err(Rv::DEVICE_ERROR);
        }
        if !create {
            log::error!(
                "store {}: not a token file (empty, never initialised)",
                path.display()
            );
            return Err(Rv::DEVICE_ERROR);
        }
    }

    configure(&conn, path)?;
    if version < SCHEMA_VERSION {
        migrate(&mut conn, path)?;
    }
    if created {
        sync_parent_dir(path);
    }
    Ok(conn)
}

/// Open a read-only connection to a token file the store has already
/// opened (and so checked and migrated): for the pool of readers that lets
/// finds on several threads run in parallel (WAL readers do not block).
///
/// # Errors
/// CKR_DEVICE_ERROR, logged with the reason.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| super::db_error(path, "open reader", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| super::db_error(path, "set busy timeout", e))?;
    conn.pragma_update(None, "cache_size", CACHE_SIZE_KIB)
        .map_err(|e| super::db_error(path, "configure reader", e))?;
    Ok(conn)
}

/// Create the file with mode 0600 if it does not exist. Returns whether it
/// was created here.
fn create_file(path: &Path) -> Result<bool> {
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(file) => {
            // The mode above is filtered through the umask, which can only
            // remove bits; set it exactly anyway so the file never depends on
            // the caller's umask.
            if let Err(e) = file.set_permissions(std::fs::Permissions::from_mode(0o600)) {
                log::error!("store {}: cannot set mode 0600: {e}", path.display());
                return Err(Rv::DEVICE_ERROR);
            }
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => {
            log::error!("store {}: cannot create token file: {e}", path.display());
            Err(Rv::DEVICE_ERROR)
        }
    }
}

/// A token file others can read exposes its public objects and sealed
/// records to them: say so (the file is still opened; its mode is the
/// owner's choice).
fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            log::warn!(
                "store {}: token file has mode {mode:o}, readable by others (0600 expected)",
                path.display()
            );
        }
    }
}

/// The file's (application_id, user_version).
fn identity(conn: &Connection, path: &Path) -> Result<(i32, i64)> {
    let app_id = conn
        .pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0))
        .map_err(|e| super::db_error(path, "read application_id", e))?;
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(|e| super::db_error(path, "read schema version", e))?;
    Ok((app_id, version))
}

/// Refuse files that are not ours or come from a newer ProzHSM.
fn check_identity(path: &Path, app_id: i32, version: i64) -> Result<()> {
    if app_id != APPLICATION_ID && (app_id != 0 || version != 0) {
        log::error!(
            "store {}: not a token file (application_id {app_id:#x}, version {version})",
            path.display()
        );
        return Err(Rv::DEVICE_ERROR);
    }
    if version > SCHEMA_VERSION {
        log::error!(
            "store {}: schema version {version} is newer than this build's {SCHEMA_VERSION}",
            path.display()
        );
        return Err(Rv::DEVICE_ERROR);
    }
    if version < 0 {
        log::error!(
            "store {}: not a token file (schema version {version})",
            path.display()
        );
        return Err(Rv::DEVICE_ERROR);
    }
    Ok(())
}

fn table_count(conn: &Connection, path: &Path) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| super::db_error(path, "read schema", e))
}

/// Per-connection settings. journal_mode=WAL is persistent in the file;
/// the others hold for this connection only, so every open sets them.
fn configure(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| super::db_error(path, "set WAL mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::error!(
            "store {}: WAL mode refused (journal_mode is {mode})",
            path.display()
        );
        return Err(Rv::DEVICE_ERROR);
    }
    // FULL: in WAL mode every commit syncs the WAL, so a returned Ok
    // survives a crash or power loss (NORMAL may lose the last commits).
    // secure_delete: freed space (a destroyed object's sealed record) is
    // overwritten with zeros instead of lingering in the file.
    // cache_size: object ids and tags are random, so each insert touches
    // pages all over the file; with SQLite's default 2 MB cache a 10,000
    // object token re-reads them on every commit (measured: 10x slower).
    let settings: [(&str, i64); 4] = [
        ("synchronous", 2), // FULL
        ("secure_delete", 1),
        ("journal_size_limit", JOURNAL_SIZE_LIMIT),
        ("cache_size", CACHE_SIZE_KIB),
    ];
    for (name, value) in settings {
        conn.pragma_update(None, name, value)
            .map_err(|e| super::db_error(path, "configure connection", e))?;
    }
    Ok(())
}

/// Apply the missing migrations, all in one IMMEDIATE transaction, and
/// stamp the file with the schema version and application id.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| super::db_error(path, "begin migration", e))?;
    // Read again under the write lock: another process may have created or
    // migrated the file since we looked.
    let app_id = tx
        .pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0))
        .map_err(|e| super::db_error(path, "read application_id", e))?;
    let from = tx
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(|e| super::db_error(path, "read schema version", e))?;
    check_identity(path, app_id, from)?;
    if from == SCHEMA_VERSION {
        return Ok(()); // dropping `tx` rolls the empty transaction back
    }
    if from == 0 && table_count(&tx, path)? != 0 {
        log::error!(
            "store {}: not a token file (an SQLite database with foreign tables)",
            path.display()
        );
        return Err(Rv::DEVICE_ERROR);
    }
    // `from` is in 0..SCHEMA_VERSION here (check_identity), so it fits.
    let start = usize::try_from(from).map_err(|_| Rv::DEVICE_ERROR)?;
    for sql in &MIGRATIONS[start..] {
        tx.execute_batch(sql)
            .map_err(|e| super::db_error(path, "migrate schema", e))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(|e| super::db_error(path, "write application_id", e))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| super::db_error(path, "write schema version", e))?;
    tx.commit()
        .map_err(|e| super::db_error(path, "commit migration", e))?;
    if from == 0 {
        log::info!(
            "store {}: new token file, schema version {SCHEMA_VERSION}",
            path.display()
        );
    } else {
        log::info!(
            "store {}: schema migrated from version {from} to {SCHEMA_VERSION}",
            path.display()
        );
    }
    Ok(())
}

/// Make a new file's directory entry durable. Best effort: the file's
/// contents are already synced by SQLite, and a failure here is logged only.
fn sync_parent_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        log::warn!("store {}: cannot sync directory: {e}", path.display());
    }
}
