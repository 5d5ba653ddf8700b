//! AES-256-GCM for store records: `nonce || ciphertext || tag`.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, Rv};
use crate::secure::SecretBytes;

/// Length of a token key or record key.
pub const KEY_LEN: usize = 32;

/// Encrypt `plaintext` under `key` (32 bytes), binding `aad`.
///
/// # Errors
/// CKR_GENERAL_ERROR when the key has the wrong length or the RNG fails.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let k = less_safe_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Rv::GENERAL_ERROR)?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Rv::GENERAL_ERROR)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypt a record made by [`seal`] with the same `key` and `aad`.
///
/// # Errors
/// CKR_ENCRYPTED_DATA_INVALID when the record was altered, truncated, moved
/// to another identity, or the key is wrong.
pub fn open(key: &[u8], aad: &[u8], record: &[u8]) -> Result<SecretBytes> {
    let k = less_safe_key(key)?;
    if record.len() < NONCE_LEN + 16 {
        return Err(Rv::ENCRYPTED_DATA_INVALID);
    }
    let nonce: [u8; NONCE_LEN] = record[..NONCE_LEN]
        .try_into()
        .map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?;
    let mut buf = SecretBytes::from_slice(&record[NONCE_LEN..]);
    let plain_len = k
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            buf.as_mut_slice(),
        )
        .map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?
        .len();
    Ok(SecretBytes::from_slice(&buf.as_slice()[..plain_len]))
}

fn less_safe_key(key: &[u8]) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| Rv::GENERAL_ERROR)?;
    Ok(LessSafeKey::new(unbound))
}

/// Fill `buf` from the OS CSPRNG.
///
/// # Errors
/// CKR_GENERAL_ERROR when the RNG fails.
pub fn random(buf: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(buf).map_err(|_| Rv::GENERAL_ERROR)
}
