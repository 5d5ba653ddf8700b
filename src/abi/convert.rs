//! Conversions from the client's raw pointers to Rust types, and back.
//!
//! Every function here checks what the spec lets it check (NULL where NULL is
//! not allowed, NULL with a non-zero length) and trusts the rest: a pointer
//! the client passed with a length is valid for that length, as the PKCS#11
//! contract says. That trust is the only `unsafe` assumption of the ABI.

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::abi::mechanism_params;
use crate::backend::{Attr, AttrQuery, MechParam, Mechanism, Output};
use crate::core::InitArgs;
use crate::error::{Result, Rv};
use crate::object::codec;

/// The bytes at `p`, `len` long. NULL is allowed only with length 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes for `'a`.
pub unsafe fn bytes<'a>(p: *const u8, len: CK_ULONG) -> Result<&'a [u8]> {
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Rv::ARGUMENTS_BAD)
        };
    }
    let len = usize::try_from(len).map_err(|_| Rv::ARGUMENTS_BAD)?;
    // SAFETY: non-NULL and valid for `len` bytes by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Like [`bytes`], but a NULL pointer is always refused (PINs, labels).
///
/// # Safety
/// As [`bytes`].
pub unsafe fn required_bytes<'a>(p: *const u8, len: CK_ULONG) -> Result<&'a [u8]> {
    if p.is_null() {
        return Err(Rv::ARGUMENTS_BAD);
    }
    // SAFETY: forwarded contract.
    unsafe { bytes(p, len) }
}

/// A writable buffer at `p`, `len` long (NULL → None).
///
/// # Safety
/// `p` must be NULL or valid for writes of `len` bytes for `'a`.
pub unsafe fn buffer<'a>(p: *mut u8, len: CK_ULONG) -> Result<Option<&'a mut [u8]>> {
    if p.is_null() {
        return Ok(None);
    }
    let len = usize::try_from(len).map_err(|_| Rv::ARGUMENTS_BAD)?;
    // SAFETY: non-NULL and valid for `len` bytes by the caller's contract.
    Ok(Some(unsafe { std::slice::from_raw_parts_mut(p, len) }))
}

/// The object at `p`, for writing a result. NULL is CKR_ARGUMENTS_BAD.
///
/// # Safety
/// `p` must be NULL or valid for writes of a `T` for `'a`.
pub unsafe fn out<'a, T>(p: *mut T) -> Result<&'a mut T> {
    // SAFETY: checked for NULL; otherwise valid by the caller's contract.
    unsafe { p.as_mut() }.ok_or(Rv::ARGUMENTS_BAD)
}

/// Run `f` on an [`Output`] over the client's (`p`, `*pul`) buffer, then
/// report the length through `pul` — also when the buffer was too small, as
/// the two-call convention requires.
///
/// # Safety
/// `pul` must be NULL or valid; `p` NULL or valid for `*pul` bytes.
pub unsafe fn with_output(
    p: *mut u8,
    pul: *mut CK_ULONG,
    f: impl FnOnce(&mut Output) -> Result<()>,
) -> Result<()> {
    // SAFETY: forwarded contract.
    let pul = unsafe { out(pul) }?;
    // SAFETY: forwarded contract.
    let mut output = Output::new(unsafe { buffer(p, *pul) }?);
    let result = f(&mut output);
    if matches!(result, Ok(()) | Err(Rv::BUFFER_TOO_SMALL)) {
        *pul = output.len() as CK_ULONG;
    }
    result
}

/// Write `list` under the two-call convention for arrays of handles, ids or
/// mechanism types (count in `*pul`).
///
/// # Safety
/// `pul` must be NULL or valid; `p` NULL or valid for `*pul` elements.
pub unsafe fn put_list<T: Copy>(list: &[T], p: *mut T, pul: *mut CK_ULONG) -> Result<()> {
    // SAFETY: forwarded contract.
    let pul = unsafe { out(pul) }?;
    let capacity = *pul as usize;
    *pul = list.len() as CK_ULONG;
    if p.is_null() {
        return Ok(());
    }
    if capacity < list.len() {
        return Err(Rv::BUFFER_TOO_SMALL);
    }
    // SAFETY: `p` is valid for `capacity` >= list.len() elements.
    unsafe { std::ptr::copy_nonoverlapping(list.as_ptr(), p, list.len()) };
    Ok(())
}

/// A client's template. An attribute array (CKF_ARRAY_ATTRIBUTE) is encoded
/// with [`codec::encode_template`] so the layers below see bytes.
///
/// # Safety
/// `p` must be NULL or valid for `n` attributes whose values are valid for
/// their lengths.
pub unsafe fn template(p: *const CK_ATTRIBUTE, n: CK_ULONG) -> Result<Vec<Attr>> {
    if p.is_null() {
        return if n == 0 {
            Ok(Vec::new())
        } else {
            Err(Rv::ARGUMENTS_BAD)
        };
    }
    // SAFETY: valid for `n` attributes by the caller's contract.
    let raw = unsafe { std::slice::from_raw_parts(p, n as usize) };
    raw.iter()
        .map(|a| {
            // CKA_ALLOWED_MECHANISMS carries the array flag too, but its
            // value is an array of CK_MECHANISM_TYPE: plain bytes.
            if a.type_ & CKF_ARRAY_ATTRIBUTE != 0 && a.type_ != CKA_ALLOWED_MECHANISMS {
                let count = a.ulValueLen as usize / std::mem::size_of::<CK_ATTRIBUTE>();
                // SAFETY: an array attribute's value is an array of attributes.
                let inner =
                    unsafe { template(a.pValue as *const CK_ATTRIBUTE, count as CK_ULONG) }?;
                Ok(Attr::new(a.type_, &codec::encode_template(&inner)))
            } else {
                // SAFETY: value valid for its length by the caller's contract.
                let value = unsafe { bytes(a.pValue as *const u8, a.ulValueLen) }?;
                Ok(Attr::new(a.type_, value))
            }
        })
        .collect()
}

/// Run `f` over the queries of a C_GetAttributeValue template, then write
/// each attribute's length back into the client's template.
///
/// # Safety
/// `p` must be NULL or valid for `n` attributes whose buffers are NULL or
/// valid for their lengths.
pub unsafe fn with_attribute_queries(
    p: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    f: impl FnOnce(&mut [AttrQuery]) -> Result<()>,
) -> Result<()> {
    if p.is_null() {
        return if n == 0 {
            f(&mut [])
        } else {
            Err(Rv::ARGUMENTS_BAD)
        };
    }
    // SAFETY: valid for `n` attributes by the caller's contract.
    let raw = unsafe { std::slice::from_raw_parts_mut(p, n as usize) };
    let mut queries = Vec::with_capacity(raw.len());
    for a in raw.iter() {
        // SAFETY: the buffer is NULL or valid for its length.
        let buf = unsafe { buffer(a.pValue as *mut u8, a.ulValueLen) }?;
        queries.push(AttrQuery {
            kind: a.type_,
            buf,
            len: CK_UNAVAILABLE_INFORMATION,
        });
    }
    let result = f(&mut queries);
    let lens: Vec<CK_ULONG> = queries.iter().map(|q| q.len).collect();
    drop(queries);
    for (a, len) in raw.iter_mut().zip(lens) {
        a.ulValueLen = len;
    }
    result
}

/// The client's mechanism, its parameter copied out of client memory.
///
/// # Safety
/// `p` must be NULL or valid, its parameter valid for its length.
pub unsafe fn mechanism(p: *const CK_MECHANISM) -> Result<Mechanism> {
    // SAFETY: checked for NULL; otherwise valid by the caller's contract.
    let m = unsafe { p.as_ref() }.ok_or(Rv::ARGUMENTS_BAD)?;
    let (param, raw) = if m.pParameter.is_null() {
        if m.ulParameterLen != 0 {
            return Err(Rv::ARGUMENTS_BAD);
        }
        (MechParam::None, Vec::new())
    } else {
        // SAFETY: parameter valid for its length by the caller's contract.
        let raw = unsafe { bytes(m.pParameter as *const u8, m.ulParameterLen) }?.to_vec();
        // SAFETY: as above.
        let param = unsafe {
            mechanism_params::decode(m.mechanism, m.pParameter as *const u8, m.ulParameterLen)
        }?;
        (param, raw)
    };
    Ok(Mechanism {
        kind: m.mechanism,
        param,
        raw,
    })
}

/// C_Initialize's argument (NULL means no arguments).
///
/// # Errors
/// CKR_ARGUMENTS_BAD when pReserved is set or only some mutex callbacks are.
///
/// # Safety
/// `p` must be NULL or point to a CK_C_INITIALIZE_ARGS.
pub unsafe fn init_args(p: *mut c_void) -> Result<InitArgs> {
    // SAFETY: checked for NULL; otherwise valid by the caller's contract.
    let Some(a) = (unsafe { (p as *const CK_C_INITIALIZE_ARGS).as_ref() }) else {
        return Ok(InitArgs::default());
    };
    if !a.pReserved.is_null() {
        return Err(Rv::ARGUMENTS_BAD);
    }
    let set = [
        a.CreateMutex.is_some(),
        a.DestroyMutex.is_some(),
        a.LockMutex.is_some(),
        a.UnlockMutex.is_some(),
    ];
    let mutex_callbacks = match set.iter().filter(|s| **s).count() {
        0 => false,
        4 => true,
        _ => return Err(Rv::ARGUMENTS_BAD),
    };
    Ok(InitArgs {
        flags: a.flags,
        mutex_callbacks,
    })
}
