//! The few DER forms the key attributes use: CKA_EC_PARAMS (an OBJECT
//! IDENTIFIER or a PrintableString curve name) and CKA_EC_POINT (an OCTET
//! STRING around the point). Short, definite lengths only, plus the long
//! forms needed for values up to 64 KiB.

use crate::error::{Result, Rv};

/// DER tag of an OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
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
    fn rejects_malformed() {
        assert!(split(&[]).is_err());
        assert!(split(&[0x04, 0x05, 1, 2]).is_err());
        // Non-minimal long form.
        assert!(split(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).is_err());
        assert_eq!(exact(&[0x04, 0x01, 9, 9], OCTET_STRING), None);
        assert_eq!(exact(&[0x06, 0x01, 9], OCTET_STRING), None);
    }
}
