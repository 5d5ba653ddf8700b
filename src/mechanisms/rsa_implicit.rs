//! PKCS#1 v1.5 decryption with implicit rejection (the Marvin and
//! Bleichenbacher defence of draft-irtf-cfrg-rsa-guidance, the algorithm
//! OpenSSL 3.2 adopted).
//!
//! A PKCS#1 v1.5 decryption that tells the caller "bad padding" — by an
//! error code or by its timing — is a padding oracle: about a million
//! queries decrypt any ciphertext (Bleichenbacher 1998). Here a ciphertext
//! whose padding is wrong decrypts to a *synthetic* message instead: a
//! pseudo-random length and content derived from the private exponent and
//! the ciphertext, so the same wrong ciphertext always gives the same
//! answer and nothing about it tells the caller the padding was wrong. The
//! padding check and the choice between real and synthetic message run in
//! constant time (`subtle`).
//!
//! Derivation (SHA-256 throughout, k the modulus length):
//! - KDK = HMAC(SHA-256(I2OSP(d, k)), C), C the k-byte ciphertext;
//! - PRF(label, n) = the first n bytes of HMAC(KDK, I2OSP(i, 2) ‖ label ‖
//!   I2OSP(8n, 2)) for i = 0, 1, ...;
//! - lengths = PRF("length", 256), read as 128 big-endian 16-bit numbers,
//!   each masked to the bit width of k − 11; the synthetic length is the
//!   last one not above k − 11 (0 if none, with probability below 2^-128);
//! - the synthetic message is the last `length` bytes of PRF("message", k).
//!
//! The result equals OpenSSL's byte for byte (vectors made with OpenSSL 4.0
//! in `rsa_vectors.rs`, checked by `implicit_rejection_matches_openssl`).

use aws_lc_rs::{digest, hmac};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use zeroize::Zeroizing;

use crate::error::{Result, Rv};
use crate::secure::SecretBytes;

/// The message in `em`, the k-byte result of the raw private operation on
/// `ciphertext`, or the synthetic message if its padding is wrong; written
/// to the start of `out` (at least k − 11 bytes). `d` is the private
/// exponent (big-endian, any leading zeros).
///
/// # Errors
/// CKR_DEVICE_MEMORY; CKR_GENERAL_ERROR when the lengths disagree (a
/// caller bug: both are k bytes).
pub(super) fn decode(em: &[u8], ciphertext: &[u8], d: &[u8], out: &mut [u8]) -> Result<usize> {
    let k = em.len();
    if k < 11 || ciphertext.len() != k || out.len() < k - 11 {
        return Err(Rv::GENERAL_ERROR);
    }
    let (synthetic, synthetic_len) = synthetic_message(ciphertext, d, k)?;

    // EM = 0x00 ‖ 0x02 ‖ PS (at least 8 non-zero bytes) ‖ 0x00 ‖ M.
    let mut good = em[0].ct_eq(&0) & em[1].ct_eq(&2);
    let mut found = Choice::from(0);
    let mut separator = 0u32;
    for (i, b) in em.iter().enumerate().skip(2) {
        let zero = b.ct_eq(&0);
        separator.conditional_assign(&(i as u32), zero & !found);
        found |= zero;
    }
    good &= found & separator.ct_gt(&9);

    let real_start = separator + 1;
    let synthetic_start = (k - synthetic_len) as u32;
    let start = u32::conditional_select(&synthetic_start, &real_start, good) as usize;
    let mut chosen = SecretBytes::try_zeroed(k)?;
    for ((c, real), fake) in chosen
        .as_mut_slice()
        .iter_mut()
        .zip(em)
        .zip(synthetic.as_slice())
    {
        *c = u8::conditional_select(fake, real, good);
    }
    // The length is the output's own; only it leaves this function.
    let message = &chosen.as_slice()[start..];
    out[..message.len()].copy_from_slice(message);
    Ok(message.len())
}

/// The synthetic message (k bytes, its last `len` bytes the message) and
/// its length.
fn synthetic_message(ciphertext: &[u8], d: &[u8], k: usize) -> Result<(SecretBytes, usize)> {
    // I2OSP(d, k): d's big-endian bytes, left-padded or stripped to k.
    let mut d_octets = SecretBytes::try_zeroed(k)?;
    let digits = d.iter().position(|b| *b != 0).map_or(&[][..], |i| &d[i..]);
    let digits = &digits[digits.len().saturating_sub(k)..];
    d_octets.as_mut_slice()[k - digits.len()..].copy_from_slice(digits);
    let d_hash = digest::digest(&digest::SHA256, d_octets.as_slice());
    let kdk = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, d_hash.as_ref()),
        ciphertext,
    );
    let kdk = hmac::Key::new(hmac::HMAC_SHA256, kdk.as_ref());

    let max = (k - 11) as u16;
    let mask = u16::MAX >> max.leading_zeros();
    let lengths = Zeroizing::new(prf(&kdk, b"length", 256)?);
    let mut len = 0u16;
    for pair in lengths.chunks_exact(2) {
        let candidate = u16::from_be_bytes([pair[0], pair[1]]) & mask;
        len.conditional_assign(&candidate, !candidate.ct_gt(&max));
    }
    let bytes = prf(&kdk, b"message", k)?;
    let mut message = SecretBytes::try_zeroed(k)?;
    message.as_mut_slice().copy_from_slice(&bytes);
    Ok((message, usize::from(len)))
}

/// The draft's PRF: `n` bytes of HMAC(KDK, I2OSP(i, 2) ‖ label ‖ I2OSP(8n, 2))
/// blocks.
fn prf(kdk: &hmac::Key, label: &[u8], n: usize) -> Result<Zeroizing<Vec<u8>>> {
    let bits = u16::try_from(n * 8).map_err(|_| Rv::GENERAL_ERROR)?;
    let mut out = Zeroizing::new(Vec::with_capacity(n.div_ceil(32) * 32));
    let mut i = 0u16;
    while out.len() < n {
        let mut ctx = hmac::Context::with_key(kdk);
        ctx.update(&i.to_be_bytes());
        ctx.update(label);
        ctx.update(&bits.to_be_bytes());
        out.extend_from_slice(ctx.sign().as_ref());
        i += 1;
    }
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn em_with(message: &[u8], k: usize) -> Vec<u8> {
        let mut em = vec![0u8; k];
        em[1] = 2;
        let ps_end = k - message.len() - 1;
        for b in &mut em[2..ps_end] {
            *b = 0x5a;
        }
        em[k - message.len()..].copy_from_slice(message);
        em
    }

    /// Good padding gives the message back.
    #[test]
    fn good_padding() {
        let k = 256;
        let em = em_with(b"the key", k);
        let mut out = vec![0u8; k - 11];
        let n = decode(&em, &[7u8; 256], &[3u8; 256], &mut out).expect("decodes");
        assert_eq!(&out[..n], b"the key");
        // The longest message (PS of exactly 8 bytes) and the empty one.
        let longest = vec![0x11u8; k - 11];
        let n = decode(&em_with(&longest, k), &[7; 256], &[3; 256], &mut out).expect("decodes");
        assert_eq!(&out[..n], &longest[..]);
        let n = decode(&em_with(b"", k), &[7; 256], &[3; 256], &mut out).expect("decodes");
        assert_eq!(n, 0);
    }

    /// Bad padding gives a synthetic message: deterministic for one
    /// ciphertext and key, different for another ciphertext, never an error.
    #[test]
    fn bad_padding_is_implicitly_rejected() {
        let k = 256;
        let mut out = vec![0u8; k - 11];
        let d = [9u8; 256];
        let bad = [
            {
                let mut em = em_with(b"msg", k);
                em[0] = 1;
                em
            },
            {
                let mut em = em_with(b"msg", k);
                em[1] = 1;
                em
            },
            {
                // PS only 7 bytes long.
                let mut em = em_with(b"", k);
                em[9] = 0;
                em
            },
            {
                // No separator at all.
                let mut em = vec![0x5au8; k];
                em[0] = 0;
                em[1] = 2;
                em
            },
        ];
        for em in &bad {
            let n1 = decode(em, &[1; 256], &d, &mut out).expect("no error");
            let first = out[..n1].to_vec();
            let n2 = decode(em, &[1; 256], &d, &mut out).expect("no error");
            assert_eq!(&out[..n2], &first[..], "deterministic");
            assert!(n1 <= k - 11);
            let n3 = decode(em, &[2; 256], &d, &mut out).expect("no error");
            assert_ne!(&out[..n3], &first[..], "depends on the ciphertext");
        }
        // The synthetic answer depends on the key too.
        let n1 = decode(&bad[0], &[1; 256], &d, &mut out).expect("no error");
        let first = out[..n1].to_vec();
        let n2 = decode(&bad[0], &[1; 256], &[8u8; 256], &mut out).expect("no error");
        assert_ne!(&out[..n2], &first[..]);
    }
}
