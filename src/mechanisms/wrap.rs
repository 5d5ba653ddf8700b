//! Key wrapping with AES (PKCS#11 3.0 Current Mechanisms §2.14, §2.10):
//! CKM_AES_KEY_WRAP (RFC 3394), CKM_AES_KEY_WRAP_PAD and CKM_AES_KEY_WRAP_KWP
//! (both RFC 5649: SoftHSMv2 calls the padded mode _PAD, PKCS#11 3.0 names
//! it _KWP), and SoftHSMv2's CKM_AES_CBC wrap.
//!
//! What is wrapped is the encoded key the session hands over (a secret key's
//! CKA_VALUE, a private key's PKCS#8); the checks on the keys and the
//! key-management rules are in `backend::soft::wrapping`.
//!
//! - KEY_WRAP takes a key of at least 16 bytes, a multiple of 8
//!   (CKR_KEY_SIZE_RANGE otherwise); _PAD and _KWP take any non-empty key.
//!   Their parameter is empty, or the 8-byte (RFC 3394) or 4-byte
//!   (RFC 5649) initial value of the RFC — the only one accepted, since
//!   PKCS#11 lets a caller name it (CKR_MECHANISM_PARAM_INVALID for any
//!   other). A blob whose integrity check fails, or whose padding is wrong,
//!   is CKR_WRAPPED_KEY_INVALID — one code for every failure, so an unwrap
//!   tells an attacker nothing more; a blob of an impossible length is
//!   CKR_WRAPPED_KEY_LEN_RANGE.
//! - AES-128 and AES-256 key-encryption keys use `aws_lc_rs::key_wrap`;
//!   aws-lc-rs offers no AES-192 one, which SoftHSMv2 accepts and RFC
//!   5649's own test vectors use, so for AES-192 the RFCs' algorithms run
//!   here over aws-lc-rs's AES block cipher ([`kw_wrap`], [`kwp_wrap`];
//!   their unit tests check them against `aws_lc_rs::key_wrap` for the two
//!   other sizes and against the RFC vectors).
//! - CKM_AES_CBC wraps as SoftHSMv2 does: a 16-byte IV as parameter, the key
//!   a whole number of blocks, no padding, no integrity — wrap only (there is
//!   no unauthenticated unwrap), and under the `strict` profile not at all
//!   (`backend::soft::wrapping`).

use aws_lc_rs::cipher::{
    self, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use aws_lc_rs::constant_time;
use aws_lc_rs::key_wrap::{AesKek, KeyWrap, KeyWrapPadded, AES_128, AES_256};
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::backend::MechParam;
use crate::error::{Result, Rv};
use crate::mechanisms::{aes, key_value, Encrypt, Unwrap, Wrap};
use crate::object::Attributes;
use crate::secure::SecretBytes;

const AES_KEYS: &[CK_KEY_TYPE] = &[CKK_AES];
/// RFC 3394's default initial value.
const KW_IV: [u8; 8] = [0xa6; 8];
/// RFC 5649's alternative initial value (its first half; the second is the
/// message length).
const KWP_AIV: [u8; 4] = [0xa6, 0x59, 0x59, 0xa6];

/// CKM_AES_KEY_WRAP (`padded` false), CKM_AES_KEY_WRAP_PAD and
/// CKM_AES_KEY_WRAP_KWP (`padded` true).
pub struct AesKeyWrap {
    padded: bool,
}

pub static AES_KEY_WRAP: AesKeyWrap = AesKeyWrap { padded: false };
pub static AES_KEY_WRAP_PAD: AesKeyWrap = AesKeyWrap { padded: true };

/// CKM_AES_CBC as a wrapping mechanism (SoftHSMv2 compatibility).
pub struct AesCbcWrap;

pub static AES_CBC_WRAP: AesCbcWrap = AesCbcWrap;

impl AesKeyWrap {
    /// The parameter must be absent or the RFC's initial value.
    fn check_param(&self, param: &MechParam) -> Result<()> {
        let default: &[u8] = if self.padded { &KWP_AIV } else { &KW_IV };
        match param {
            MechParam::None => Ok(()),
            MechParam::Bytes(iv) if iv.as_slice() == default => Ok(()),
            _ => Err(Rv::MECHANISM_PARAM_INVALID),
        }
    }
}

/// The key-encryption key's bytes: an AES key length, else `size_error`.
fn kek(key: &Attributes, size_error: Rv) -> Result<SecretBytes> {
    let value = key_value(key, CKA_VALUE)?;
    match value.len() {
        16 | 24 | 32 => Ok(value),
        _ => Err(size_error),
    }
}

impl Wrap for AesKeyWrap {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn wrap(&self, param: &MechParam, key: &Attributes, plain: &[u8]) -> Result<Vec<u8>> {
        self.check_param(param)?;
        let kek = kek(key, Rv::WRAPPING_KEY_SIZE_RANGE)?;
        if self.padded {
            if plain.is_empty() || plain.len() > u32::MAX as usize {
                return Err(Rv::KEY_SIZE_RANGE);
            }
            kwp_wrap(kek.as_slice(), plain)
        } else {
            if plain.len() < 16 || plain.len() % 8 != 0 {
                return Err(Rv::KEY_SIZE_RANGE);
            }
            kw_wrap(kek.as_slice(), plain)
        }
    }
}

impl Unwrap for AesKeyWrap {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    fn unwrap(&self, param: &MechParam, key: &Attributes, wrapped: &[u8]) -> Result<SecretBytes> {
        self.check_param(param)?;
        let kek = kek(key, Rv::UNWRAPPING_KEY_SIZE_RANGE)?;
        let shortest = if self.padded { 16 } else { 24 };
        if wrapped.len() < shortest || wrapped.len() % 8 != 0 {
            return Err(Rv::WRAPPED_KEY_LEN_RANGE);
        }
        if self.padded {
            kwp_unwrap(kek.as_slice(), wrapped)
        } else {
            kw_unwrap(kek.as_slice(), wrapped)
        }
    }
}

impl Wrap for AesCbcWrap {
    fn key_types(&self) -> &'static [CK_KEY_TYPE] {
        AES_KEYS
    }

    /// As SoftHSMv2: the key must be a whole number of blocks.
    fn wrap(&self, param: &MechParam, key: &Attributes, plain: &[u8]) -> Result<Vec<u8>> {
        if plain.is_empty() || plain.len() % 16 != 0 {
            return Err(Rv::KEY_SIZE_RANGE);
        }
        let op = Encrypt::start(&aes::AES_CBC, param, key).map_err(|rv| match rv {
            Rv::KEY_SIZE_RANGE => Rv::WRAPPING_KEY_SIZE_RANGE,
            other => other,
        })?;
        let mut out = vec![0u8; op.oneshot_len(plain.len())];
        let n = op.oneshot(plain, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// The algorithms. AES-128 and AES-256 go to aws-lc-rs; AES-192 runs the
// RFCs' steps below over the AES block cipher.

/// RFC 3394 wrap of `plain` (at least 16 bytes, a multiple of 8).
///
/// # Errors
/// CKR_WRAPPING_KEY_SIZE_RANGE for a key that is not an AES key length;
/// CKR_FUNCTION_FAILED when the backend fails.
pub fn kw_wrap(kek: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let Some(k) = lc_kek(kek)? else {
        return rfc_kw_wrap(kek, plain);
    };
    let mut out = vec![0u8; plain.len() + 8];
    let n = k
        .wrap(plain, &mut out)
        .map_err(|_| Rv::FUNCTION_FAILED)?
        .len();
    out.truncate(n);
    Ok(out)
}

/// RFC 3394 unwrap of `wrapped` (at least 24 bytes, a multiple of 8).
///
/// # Errors
/// CKR_WRAPPED_KEY_INVALID when the integrity check fails;
/// CKR_UNWRAPPING_KEY_SIZE_RANGE.
pub fn kw_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes> {
    let Some(k) = lc_kek(kek).map_err(|_| Rv::UNWRAPPING_KEY_SIZE_RANGE)? else {
        return rfc_kw_unwrap(kek, wrapped);
    };
    let mut out = SecretBytes::try_zeroed(wrapped.len() - 8)?;
    k.unwrap(wrapped, out.as_mut_slice())
        .map_err(|_| Rv::WRAPPED_KEY_INVALID)?;
    Ok(out)
}

/// RFC 5649 wrap of `plain` (1 to 2^32 - 1 bytes).
///
/// # Errors
/// As [`kw_wrap`].
pub fn kwp_wrap(kek: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let Some(k) = lc_kek(kek)? else {
        return rfc_kwp_wrap(kek, plain);
    };
    let mut out = vec![0u8; plain.len().div_ceil(8) * 8 + 8];
    let n = k
        .wrap_with_padding(plain, &mut out)
        .map_err(|_| Rv::FUNCTION_FAILED)?
        .len();
    out.truncate(n);
    Ok(out)
}

/// RFC 5649 unwrap of `wrapped` (at least 16 bytes, a multiple of 8).
///
/// # Errors
/// As [`kw_unwrap`]; a wrong length indicator or non-zero padding is
/// CKR_WRAPPED_KEY_INVALID too.
pub fn kwp_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes> {
    let Some(k) = lc_kek(kek).map_err(|_| Rv::UNWRAPPING_KEY_SIZE_RANGE)? else {
        return rfc_kwp_unwrap(kek, wrapped);
    };
    let mut out = SecretBytes::try_zeroed(wrapped.len() - 8)?;
    let n = k
        .unwrap_with_padding(wrapped, out.as_mut_slice())
        .map_err(|_| Rv::WRAPPED_KEY_INVALID)?
        .len();
    out.truncate(n);
    Ok(out)
}

/// RFC 3394 §2.2.1 over the AES block cipher (any AES key length).
fn rfc_kw_wrap(kek: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let block = Block::new(kek, true)?;
    let mut out = vec![0u8; plain.len() + 8];
    out[8..].copy_from_slice(plain);
    let a = w(&block, KW_IV, &mut out[8..])?;
    out[..8].copy_from_slice(&a);
    Ok(out)
}

/// RFC 3394 §2.2.2 over the AES block cipher.
fn rfc_kw_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes> {
    let block = Block::new(kek, false).map_err(|_| Rv::UNWRAPPING_KEY_SIZE_RANGE)?;
    let mut out = SecretBytes::try_zeroed(wrapped.len() - 8)?;
    out.as_mut_slice().copy_from_slice(&wrapped[8..]);
    let a = w_inverse(&block, first8(wrapped), out.as_mut_slice())?;
    constant_time::verify_slices_are_equal(&a, &KW_IV).map_err(|_| Rv::WRAPPED_KEY_INVALID)?;
    Ok(out)
}

/// RFC 5649 §4.1 over the AES block cipher.
fn rfc_kwp_wrap(kek: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let block = Block::new(kek, true)?;
    let padded_len = plain.len().div_ceil(8) * 8;
    let mut out = vec![0u8; padded_len + 8];
    out[..4].copy_from_slice(&KWP_AIV);
    out[4..8].copy_from_slice(&(plain.len() as u32).to_be_bytes());
    out[8..8 + plain.len()].copy_from_slice(plain);
    if padded_len == 8 {
        // One block: AES(K, AIV | P) (step 2).
        let b: &mut [u8; 16] = (&mut out[..]).try_into().map_err(|_| Rv::GENERAL_ERROR)?;
        block.apply(b)?;
    } else {
        let a = w(&block, first8(&out), &mut out[8..])?;
        out[..8].copy_from_slice(&a);
    }
    Ok(out)
}

/// RFC 5649 §4.2 over the AES block cipher.
fn rfc_kwp_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes> {
    let block = Block::new(kek, false).map_err(|_| Rv::UNWRAPPING_KEY_SIZE_RANGE)?;
    let mut out = SecretBytes::try_zeroed(wrapped.len() - 8)?;
    let a = if wrapped.len() == 16 {
        let mut b = Zeroizing::new([0u8; 16]);
        b.copy_from_slice(wrapped);
        block.apply(&mut b)?;
        out.as_mut_slice().copy_from_slice(&b[8..]);
        first8(&b[..])
    } else {
        out.as_mut_slice().copy_from_slice(&wrapped[8..]);
        w_inverse(&block, first8(wrapped), out.as_mut_slice())?
    };
    // One verdict for the initial value, the length and the padding.
    let n = u32::from_be_bytes([a[4], a[5], a[6], a[7]]) as usize;
    let len = out.len();
    let aiv_ok = constant_time::verify_slices_are_equal(&a[..4], &KWP_AIV).is_ok();
    let len_ok = n > len.saturating_sub(8) && n <= len;
    let pad_ok = len_ok && out.as_slice()[n..].iter().fold(0u8, |acc, b| acc | b) == 0;
    if !(aiv_ok && len_ok && pad_ok) {
        return Err(Rv::WRAPPED_KEY_INVALID);
    }
    out.truncate(n);
    Ok(out)
}

/// aws-lc-rs's key-encryption key for AES-128 and AES-256; None for
/// AES-192, which the code here handles.
fn lc_kek(kek: &[u8]) -> Result<Option<AesKek>> {
    let cipher = match kek.len() {
        16 => &AES_128,
        32 => &AES_256,
        24 => return Ok(None),
        _ => return Err(Rv::WRAPPING_KEY_SIZE_RANGE),
    };
    AesKek::new(cipher, kek)
        .map(Some)
        .map_err(|_| Rv::WRAPPING_KEY_SIZE_RANGE)
}

fn first8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

/// One AES key, encrypting or decrypting single blocks.
enum Block {
    Enc(EncryptingKey),
    Dec(DecryptingKey),
}

impl Block {
    fn new(kek: &[u8], encrypt: bool) -> Result<Block> {
        let alg = match kek.len() {
            16 => &cipher::AES_128,
            24 => &cipher::AES_192,
            32 => &cipher::AES_256,
            _ => return Err(Rv::WRAPPING_KEY_SIZE_RANGE),
        };
        let key = UnboundCipherKey::new(alg, kek).map_err(|_| Rv::WRAPPING_KEY_SIZE_RANGE)?;
        let block = if encrypt {
            Block::Enc(EncryptingKey::ecb(key).map_err(|_| Rv::FUNCTION_FAILED)?)
        } else {
            Block::Dec(DecryptingKey::ecb(key).map_err(|_| Rv::FUNCTION_FAILED)?)
        };
        Ok(block)
    }

    /// Encrypt or decrypt one block in place.
    fn apply(&self, b: &mut [u8; 16]) -> Result<()> {
        match self {
            Block::Enc(k) => k
                .less_safe_encrypt(b, EncryptionContext::None)
                .map(drop)
                .map_err(|_| Rv::FUNCTION_FAILED),
            Block::Dec(k) => k
                .decrypt(b, DecryptionContext::None)
                .map(drop)
                .map_err(|_| Rv::FUNCTION_FAILED),
        }
    }
}

/// RFC 3394 §2.2.1 W (the wrapping function, index-based form): `r` holds
/// the n ≥ 2 64-bit blocks and becomes the output's last n blocks; the
/// returned value is the first one.
fn w(block: &Block, iv: [u8; 8], r: &mut [u8]) -> Result<[u8; 8]> {
    let n = r.len() / 8;
    let mut a = iv;
    let mut b = Zeroizing::new([0u8; 16]);
    for j in 0..6 {
        for i in 0..n {
            b[..8].copy_from_slice(&a);
            b[8..].copy_from_slice(&r[8 * i..8 * i + 8]);
            block.apply(&mut b)?;
            let t = (n * j + i + 1) as u64;
            for (x, y) in a.iter_mut().zip(b[..8].iter().zip(t.to_be_bytes())) {
                *x = y.0 ^ y.1;
            }
            r[8 * i..8 * i + 8].copy_from_slice(&b[8..]);
        }
    }
    Ok(a)
}

/// RFC 3394 §2.2.2 W⁻¹: `r` holds the wrapped blocks after the first
/// (`a`) and becomes the plaintext; returns the recovered initial value.
fn w_inverse(block: &Block, mut a: [u8; 8], r: &mut [u8]) -> Result<[u8; 8]> {
    let n = r.len() / 8;
    let mut b = Zeroizing::new([0u8; 16]);
    for j in (0..6).rev() {
        for i in (0..n).rev() {
            let t = (n * j + i + 1) as u64;
            for (x, y) in b[..8].iter_mut().zip(a.iter().zip(t.to_be_bytes())) {
                *x = y.0 ^ y.1;
            }
            b[8..].copy_from_slice(&r[8 * i..8 * i + 8]);
            block.apply(&mut b)?;
            a.copy_from_slice(&b[..8]);
            r[8 * i..8 * i + 8].copy_from_slice(&b[8..]);
        }
    }
    Ok(a)
}

#[cfg(test)]
#[path = "wrap_tests.rs"]
mod tests;
