//! The few DER forms the key attributes use: CKA_EC_PARAMS (an OBJECT
//! IDENTIFIER or a PrintableString curve name) and CKA_EC_POINT (an OCTET
//! STRING around the point); and for RSA the unsigned INTEGERs of PKCS#1
//! keys (RFC 8017 A.1) wrapped in PKCS#8 (RFC 5208). Short, definite lengths
//! only, plus the long forms needed for values up to 64 KiB.

use crate::error::{Result, Rv};

/// DER tag of an INTEGER.
pub const INTEGER: u8 = 0x02;
/// DER tag of an OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// DER tag of NULL.
pub const NULL: u8 = 0x05;
/// DER tag of an OBJECT IDENTIFIER.
pub const OID: u8 = 0x06;
/// DER tag of a PrintableString.
pub const PRINTABLE_STRING: u8 = 0x13;
/// DER tag of a SEQUENCE.
pub const SEQUENCE: u8 = 0x30;

/// Append a DER length.
fn put_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
}

/// Encode one TLV. Values longer than 64 KiB are not used by any key
/// attribute here.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    tlv_into(&mut out, tag, value);
    out
}

/// Append one TLV to `out`.
pub fn tlv_into(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    debug_assert!(value.len() <= 0xffff);
    out.push(tag);
    put_len(out, value.len());
    out.extend_from_slice(value);
}

/// Append the tag and length of a TLV whose `len`-byte value the caller
/// appends next (for values built in place, without a second buffer).
pub fn header_into(out: &mut Vec<u8>, tag: u8, len: usize) {
    debug_assert!(len <= 0xffff);
    out.push(tag);
    put_len(out, len);
}

/// Split one TLV off the front of `input`: (tag, value, rest).
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID when the encoding is malformed.
pub fn split(input: &[u8]) -> Result<(u8, &[u8], &[u8])> {
    let bad = Rv::ATTRIBUTE_VALUE_INVALID;
    let (&tag, rest) = input.split_first().ok_or(bad)?;
    let (&first, rest) = rest.split_first().ok_or(bad)?;
    let (len, rest) = match first {
        0..=0x7f => (first as usize, rest),
        0x81 => {
            let (&b, rest) = rest.split_first().ok_or(bad)?;
            if b < 0x80 {
                return Err(bad);
            }
            (b as usize, rest)
        }
        0x82 => {
            let b = rest.get(..2).ok_or(bad)?;
            let len = (b[0] as usize) << 8 | b[1] as usize;
            if len < 0x100 {
                return Err(bad);
            }
            (len, &rest[2..])
        }
        _ => return Err(bad),
    };
    if rest.len() < len {
        return Err(bad);
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// The value of a single TLV with tag `tag` that spans all of `input`.
pub fn exact(input: &[u8], tag: u8) -> Option<&[u8]> {
    match split(input) {
        Ok((t, value, [])) if t == tag => Some(value),
        _ => None,
    }
}

/// The length of one TLV whose value is `value_len` bytes long.
pub fn tlv_len(value_len: usize) -> usize {
    let len_len = match value_len {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        _ => 3,
    };
    1 + len_len + value_len
}

/// `value` without its leading zero bytes: the unsigned big-endian integer
/// in its shortest form (empty for zero).
pub fn strip_zeros(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    &value[start..]
}

/// The length of the DER INTEGER [`uint_into`] writes for `value`.
pub fn uint_len(value: &[u8]) -> usize {
    let v = strip_zeros(value);
    let pad = usize::from(v.first().is_none_or(|b| b & 0x80 != 0));
    tlv_len(v.len() + pad)
}

/// Append the unsigned big-endian integer `value` (leading zeros allowed)
/// as a DER INTEGER: minimal, with a zero byte in front when the top bit is
/// set. Writes no more than [`uint_len`] bytes, so a buffer reserved with
/// that length never reallocates (and leaves no copy of a secret behind).
pub fn uint_into(out: &mut Vec<u8>, value: &[u8]) {
    let v = strip_zeros(value);
    let pad = v.first().is_none_or(|b| b & 0x80 != 0);
    out.push(INTEGER);
    put_len(out, v.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

/// Split one non-negative DER INTEGER off the front of `input`: (its value
/// without leading zeros, rest).
///
/// # Errors
/// CKR_ATTRIBUTE_VALUE_INVALID when the input does not start with one.
pub fn split_uint(input: &[u8]) -> Result<(&[u8], &[u8])> {
    match split(input)? {
        (INTEGER, value, rest) if value.first().is_some_and(|b| b & 0x80 == 0) => {
            Ok((strip_zeros(value), rest))
        }
        _ => Err(Rv::ATTRIBUTE_VALUE_INVALID),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for n in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234] {
            let v = vec![7u8; n];
            let enc = tlv(OCTET_STRING, &v);
            assert_eq!(exact(&enc, OCTET_STRING), Some(v.as_slice()), "{n}");
        }
    }

    #[test]
    fn unsigned_integers() {
        let cases: [(&[u8], &[u8]); 5] = [
            (&[], &[0x02, 0x01, 0x00]),
            (&[0, 0], &[0x02, 0x01, 0x00]),
            (&[0x01, 0x00, 0x01], &[0x02, 0x03, 0x01, 0x00, 0x01]),
            (&[0x00, 0x7f], &[0x02, 0x01, 0x7f]),
            (&[0x80], &[0x02, 0x02, 0x00, 0x80]),
        ];
        for (value, enc) in cases {
            let mut out = Vec::new();
            uint_into(&mut out, value);
            assert_eq!(out, enc, "{value:?}");
            assert_eq!(uint_len(value), enc.len());
            let (back, rest) = split_uint(&out).expect("reads");
            assert_eq!(back, strip_zeros(value));
            assert!(rest.is_empty());
        }
        let big = vec![0xffu8; 300];
        let mut out = Vec::new();
        uint_into(&mut out, &big);
        assert_eq!(out.len(), uint_len(&big));
        assert_eq!(split_uint(&out).expect("reads").0, big.as_slice());
        // Negative integers are not key components.
        assert!(split_uint(&[0x02, 0x01, 0x80]).is_err());
        assert!(split_uint(&[0x04, 0x01, 0x01]).is_err());
    }

    #[test]
    fn rejects_malformed() {
        assert!(split(&[]).is_err());
        assert!(split(&[0x04, 0x05, 1, 2]).is_err());
        // Non-minimal long form.
        assert!(split(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).is_err());
        assert_eq!(exact(&[0x04, 0x01, 9, 9], OCTET_STRING), None);
        assert_eq!(exact(&[0x06, 0x01, 9], OCTET_STRING), None);
    }
}
