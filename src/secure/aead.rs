//! AES-256-GCM for store records: `nonce || ciphertext || tag`.
//!
//! Plaintext never passes through ordinary memory here: [`seal`] encrypts
//! from the caller's slice straight into the output record, and [`open`]
//! decrypts straight into a [`SecretBytes`]. The AES key schedule exists only
//! for the call (aws-lc zeroizes it when freed).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, Rv};
use crate::secure::SecretBytes;

/// Length of a token key or record key.
pub const KEY_LEN: usize = 32;

/// GCM tag length.
const TAG_LEN: usize = 16;

/// Encrypt `plaintext` under `key` (32 bytes), binding `aad`.
///
/// # Errors
/// CKR_GENERAL_ERROR when the key has the wrong length or the RNG fails.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let k = less_safe_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    random(&mut nonce)?;
    let mut out = vec![0u8; NONCE_LEN + plaintext.len() + TAG_LEN];
    out[..NONCE_LEN].copy_from_slice(&nonce);
    let (ct, tag) = out[NONCE_LEN..].split_at_mut(plaintext.len());
    k.seal_out_of_place_scatter(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        plaintext,
        ct,
        &[],
        tag,
    )
    .map_err(|_| Rv::GENERAL_ERROR)?;
    Ok(out)
}

/// Decrypt a record made by [`seal`] with the same `key` and `aad`.
///
/// # Errors
/// CKR_ENCRYPTED_DATA_INVALID when the record was altered, truncated, moved
/// to another identity, or the key is wrong; CKR_GENERAL_ERROR when the key
/// has the wrong length; CKR_HOST_MEMORY when secret memory cannot be mapped.
pub fn open(key: &[u8], aad: &[u8], record: &[u8]) -> Result<SecretBytes> {
    let k = less_safe_key(key)?;
    if record.len() < NONCE_LEN + TAG_LEN {
        return Err(Rv::ENCRYPTED_DATA_INVALID);
    }
    let (nonce, rest) = record.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?;
    let mut plain = SecretBytes::try_zeroed(ct.len())?;
    // On failure `plain` may hold unauthenticated plaintext; it is wiped as
    // it drops.
    k.open_separate_gather(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        ct,
        tag,
        plain.as_mut_slice(),
    )
    .map_err(|_| Rv::ENCRYPTED_DATA_INVALID)?;
    Ok(plain)
}

fn less_safe_key(key: &[u8]) -> Result<LessSafeKey> {
    if key.len() != KEY_LEN {
        return Err(Rv::GENERAL_ERROR);
    }
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

/// `len` random bytes generated straight into secret memory (a new token
/// key, a salt-independent secret): never in ordinary memory.
///
/// # Errors
/// CKR_GENERAL_ERROR when the RNG fails; CKR_HOST_MEMORY when secret memory
/// cannot be mapped.
pub fn random_secret(len: usize) -> Result<SecretBytes> {
    let mut s = SecretBytes::try_zeroed(len)?;
    random(s.as_mut_slice())?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = random_secret(KEY_LEN).expect("key");
        let record = seal(key.as_slice(), b"object 7/CKA_VALUE", b"the value").expect("seal");
        assert_eq!(record.len(), NONCE_LEN + 9 + TAG_LEN);
        let plain = open(key.as_slice(), b"object 7/CKA_VALUE", &record).expect("open");
        assert_eq!(plain.as_slice(), b"the value");
        assert_eq!(
            open(key.as_slice(), b"object 8/CKA_VALUE", &record).err(),
            Some(Rv::ENCRYPTED_DATA_INVALID)
        );
        let other = random_secret(KEY_LEN).expect("key");
        assert!(open(other.as_slice(), b"object 7/CKA_VALUE", &record).is_err());
    }

    #[test]
    fn tampering_and_truncation_fail() {
        let key = [3u8; KEY_LEN];
        let record = seal(&key, b"id", b"payload bytes").expect("seal");
        for i in 0..record.len() {
            let mut bad = record.clone();
            bad[i] ^= 0x80;
            assert_eq!(
                open(&key, b"id", &bad).err(),
                Some(Rv::ENCRYPTED_DATA_INVALID)
            );
        }
        for n in 0..record.len() {
            assert!(open(&key, b"id", &record[..n]).is_err(), "truncated to {n}");
        }
    }

    #[test]
    fn empty_plaintext_and_bad_key() {
        let key = [1u8; KEY_LEN];
        let record = seal(&key, b"", b"").expect("seal");
        assert!(open(&key, b"", &record).expect("open").is_empty());
        assert_eq!(seal(&key[..16], b"", b"x").err(), Some(Rv::GENERAL_ERROR));
        assert_eq!(
            open(&key[..16], b"", &record).err(),
            Some(Rv::GENERAL_ERROR)
        );
    }

    #[test]
    fn two_seals_differ() {
        let key = [9u8; KEY_LEN];
        assert_ne!(
            seal(&key, b"a", b"same").expect("seal"),
            seal(&key, b"a", b"same").expect("seal")
        );
    }
}
