//! The byte encoding of attribute lists: for each attribute, its type
//! (u64 little-endian), its length (u32 little-endian) and its bytes. Used for
//! store records and for attribute arrays (CKA_WRAP_TEMPLATE and the like).

use cryptoki_sys::CK_ATTRIBUTE_TYPE;
use zeroize::Zeroizing;

use crate::backend::Attr;
use crate::error::{Result, Rv};

/// Append one attribute to `out`.
pub fn put(out: &mut Vec<u8>, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

/// Encode a template (an attribute array's value).
pub fn encode_template(attrs: &[Attr]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for a in attrs {
        put(&mut out, a.kind, &a.value);
    }
    out
}

/// Decode an encoding made by [`put`] into (type, value) pairs.
///
/// # Errors
/// CKR_DATA_INVALID when the encoding is truncated or malformed.
pub fn decode(mut bytes: &[u8]) -> Result<Vec<Attr>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 12 {
            return Err(Rv::DATA_INVALID);
        }
        let kind = u64::from_le_bytes(bytes[..8].try_into().map_err(|_| Rv::DATA_INVALID)?);
        let len =
            u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| Rv::DATA_INVALID)?) as usize;
        let rest = &bytes[12..];
        if rest.len() < len {
            return Err(Rv::DATA_INVALID);
        }
        out.push(Attr::new(kind as CK_ATTRIBUTE_TYPE, &rest[..len]));
        bytes = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let attrs = vec![Attr::new(3, b"label"), Attr::new(0x8000_0001, b"")];
        let enc = encode_template(&attrs);
        let dec = decode(&enc).expect("decodes");
        assert_eq!(dec.len(), 2);
        assert_eq!(dec[0].kind, 3);
        assert_eq!(dec[0].value.as_slice(), b"label");
        assert_eq!(dec[1].kind, 0x8000_0001);
        assert!(decode(&enc[..enc.len() - 1]).is_err());
    }
}
