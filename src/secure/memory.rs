//! Secret buffers.

use std::fmt;

use zeroize::Zeroize;

/// A buffer holding key material. Wiped on drop; not `Clone`.
pub struct SecretBytes {
    data: Vec<u8>,
}

impl SecretBytes {
    /// A zero-filled secret buffer of `len` bytes.
    pub fn zeroed(len: usize) -> SecretBytes {
        SecretBytes { data: vec![0; len] }
    }

    /// A secret buffer holding a copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> SecretBytes {
        let mut s = SecretBytes::zeroed(bytes.len());
        s.as_mut_slice().copy_from_slice(bytes);
        s
    }

    /// The secret's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    /// The secret's bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.data.len())
    }
}
