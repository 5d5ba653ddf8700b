//! The persistent token store: one SQLite file per token, WAL mode, every
//! change a transaction, a schema version with migrations.
//!
//! The store keeps records it cannot read: object records arrive already
//! encoded and sealed by the software token (`backend::soft`), token metadata
//! is opaque bytes under string keys. See `docs/store.md` for the scheme.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Result, Rv};

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
    /// Sealed attributes (a private object's all, a public object's secrets).
    pub sealed: Vec<u8>,
}

/// An open token file.
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    /// Open the token file at `path`, creating it (mode 0600) when `create`.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged with the reason) when the file cannot be
    /// opened, is not a token file, or has a newer schema.
    pub fn open(path: &Path, create: bool) -> Result<TokenStore> {
        let _ = create;
        Ok(TokenStore {
            path: path.to_path_buf(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All metadata entries.
    pub fn meta(&self) -> Result<BTreeMap<String, Vec<u8>>> {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Write metadata entries in one transaction (None deletes the key).
    pub fn set_meta(&self, entries: &[(&str, Option<&[u8]>)]) -> Result<()> {
        let _ = entries;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Insert a new object row.
    pub fn insert_object(&self, row: &ObjectRow) -> Result<()> {
        let _ = row;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Replace an object's records; returns its new generation.
    pub fn update_object(&self, id: i64, public: &[u8], sealed: &[u8]) -> Result<i64> {
        let _ = (id, public, sealed);
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Delete an object (a missing one is not an error).
    pub fn delete_object(&self, id: i64) -> Result<()> {
        let _ = id;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// One object row.
    pub fn object(&self, id: i64) -> Result<Option<ObjectRow>> {
        let _ = id;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Every object row.
    pub fn objects(&self) -> Result<Vec<ObjectRow>> {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Every object's (id, generation), cheap, for change detection.
    pub fn object_versions(&self) -> Result<Vec<(i64, i64)>> {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// A number that changes when another connection (process) commits.
    pub fn data_version(&self) -> Result<i64> {
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }

    /// Erase the token (C_InitToken): delete every object and all metadata,
    /// then write `meta`, in one transaction.
    pub fn reset(&self, meta: &[(&str, &[u8])]) -> Result<()> {
        let _ = meta;
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    }
}

/// The token files in `dir`, sorted by name.
///
/// # Errors
/// CKR_GENERAL_ERROR when the directory cannot be read.
pub fn token_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let _ = dir;
    Err(Rv::FUNCTION_NOT_SUPPORTED)
}
