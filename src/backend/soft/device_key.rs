//! The per-installation device key: seals the secrets of public objects
//! (CKA_PRIVATE=FALSE keys), which must be usable without a PIN yet never
//! stored in clear. It lives outside the token files (path in the config,
//! mode 0600), so a copied token file alone reveals no key.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use once_cell::sync::OnceCell;

use crate::error::{Result, Rv};
use crate::secure::{aead, Sealed, SecretBytes};

/// The device key, loaded (or made) on first use.
pub struct DeviceKey {
    path: PathBuf,
    key: OnceCell<Sealed>,
}

impl DeviceKey {
    /// A device key kept at `path`.
    pub fn new(path: PathBuf) -> DeviceKey {
        DeviceKey {
            path,
            key: OnceCell::new(),
        }
    }

    /// The key, unsealed for one operation.
    ///
    /// # Errors
    /// CKR_DEVICE_ERROR (logged) when the file cannot be read or made, or
    /// holds something other than a 32-byte key.
    pub fn get(&self) -> Result<SecretBytes> {
        let sealed = self
            .key
            .get_or_try_init(|| self.load_or_create().map(|k| Sealed::seal(k.as_slice())))?;
        sealed.unseal()
    }

    fn load_or_create(&self) -> Result<SecretBytes> {
        match fs::read(&self.path) {
            Ok(bytes) if bytes.len() == aead::KEY_LEN => {
                let key = SecretBytes::from_slice(&bytes);
                zeroize::Zeroize::zeroize(&mut { bytes });
                Ok(key)
            }
            Ok(_) => {
                log::error!("device key {}: not a 32-byte key", self.path.display());
                Err(Rv::DEVICE_ERROR)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.create(),
            Err(e) => {
                log::error!("device key {}: {e}", self.path.display());
                Err(Rv::DEVICE_ERROR)
            }
        }
    }

    fn create(&self) -> Result<SecretBytes> {
        let fail = |e: std::io::Error| {
            log::error!("device key {}: {e}", self.path.display());
            Rv::DEVICE_ERROR
        };
        if let Some(dir) = self.path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(fail)?;
        }
        let mut key = SecretBytes::zeroed(aead::KEY_LEN);
        aead::random(key.as_mut_slice())?;
        // create_new: two processes racing both end up with the winner's key.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
        {
            Ok(mut f) => {
                f.write_all(key.as_slice()).map_err(fail)?;
                f.sync_all().map_err(fail)?;
                log::info!("created device key {}", self.path.display());
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.load_or_create(),
            Err(e) => Err(fail(e)),
        }
    }
}
