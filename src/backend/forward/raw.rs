//! Rust arguments back into the C structures a forwarded module takes:
//! templates (with nested attribute arrays), mechanisms, and the client's
//! output buffers under the two-call convention. No `unsafe` here: this
//! makes pointers, the calls in `session.rs` pass them.

use std::ffi::c_void;
use std::marker::PhantomData;

use cryptoki_sys::*;

use crate::backend::{Attr, Mechanism, Output, Template};
use crate::error::{Result, Rv};
use crate::object::codec;

/// A client's template as a CK_ATTRIBUTE array, pointing into the
/// template's values (which it borrows). An attribute array
/// (CKF_ARRAY_ATTRIBUTE: CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE,
/// CKA_DERIVE_TEMPLATE ...) arrives encoded by the ABI and is decoded and
/// rebuilt here as a nested CK_ATTRIBUTE array.
pub struct RawTemplate<'a> {
    tree: Tree,
    _values: PhantomData<&'a Template>,
}

/// One level of a template. The pointers stay valid when a `Tree` moves:
/// they point into heap buffers (attribute values, nested arrays), which
/// moving the owners does not move.
struct Tree {
    attrs: Vec<CK_ATTRIBUTE>,
    /// Decoded nested arrays and their own trees, kept for `attrs`'
    /// pointers.
    _nested: Vec<(Vec<Attr>, Tree)>,
}

impl<'a> RawTemplate<'a> {
    /// Build the C template of `template`.
    ///
    /// # Errors
    /// CKR_ATTRIBUTE_VALUE_INVALID when a nested array's encoding is
    /// malformed (it was made by the ABI layer, so never in practice).
    pub fn new(template: &'a Template) -> Result<RawTemplate<'a>> {
        Ok(RawTemplate {
            tree: Tree::new(template)?,
            _values: PhantomData,
        })
    }

    /// The array's first element, for the call. The module only reads it.
    pub fn ptr(&self) -> *mut CK_ATTRIBUTE {
        self.tree.attrs.as_ptr().cast_mut()
    }

    /// The number of attributes.
    pub fn count(&self) -> CK_ULONG {
        self.tree.attrs.len() as CK_ULONG
    }
}

impl Tree {
    fn new(template: &[Attr]) -> Result<Tree> {
        let mut attrs = Vec::with_capacity(template.len());
        let mut nested = Vec::new();
        for a in template {
            if a.kind & CKF_ARRAY_ATTRIBUTE != 0 {
                let inner = codec::decode(&a.value).map_err(|_| Rv::ATTRIBUTE_VALUE_INVALID)?;
                let tree = Tree::new(&inner)?;
                attrs.push(CK_ATTRIBUTE {
                    type_: a.kind,
                    pValue: tree.attrs.as_ptr().cast_mut().cast::<c_void>(),
                    ulValueLen: std::mem::size_of_val(tree.attrs.as_slice()) as CK_ULONG,
                });
                nested.push((inner, tree));
            } else {
                attrs.push(CK_ATTRIBUTE {
                    type_: a.kind,
                    pValue: a.value.as_ptr().cast_mut().cast::<c_void>(),
                    ulValueLen: a.value.len() as CK_ULONG,
                });
            }
        }
        Ok(Tree {
            attrs,
            _nested: nested,
        })
    }
}

/// The client's mechanism as a CK_MECHANISM pointing into `m`'s raw
/// parameter, so any mechanism the HSM knows — GCM, OAEP, PSS, its vendor
/// ones — passes through unchanged.
///
/// # Errors
/// None today; fallible so a policy check can refuse here later.
pub fn mechanism(m: &Mechanism) -> Result<CK_MECHANISM> {
    // The client's own parameter bytes: its pointers still refer to the
    // client's memory, which is valid for the whole forwarded call.
    let param = if m.raw.is_empty() {
        std::ptr::null_mut()
    } else {
        m.raw.as_ptr().cast_mut().cast::<c_void>()
    };
    Ok(CK_MECHANISM {
        mechanism: m.kind,
        pParameter: param,
        ulParameterLen: m.raw.len() as CK_ULONG,
    })
}

/// Run a remote call that writes the client's output. The client's buffer
/// (or NULL) and its length go to the module unchanged, so the module
/// writes straight into it; the module's answer comes back as it is: on
/// CKR_OK the length it wrote (or, for NULL, the length it needs), on
/// CKR_BUFFER_TOO_SMALL the length it needs — and the module keeps the
/// operation active in both of the latter cases, as the spec requires of
/// it. No second remote call and no copy.
///
/// # Errors
/// The module's code; CKR_GENERAL_ERROR when it claims to have written
/// more than the buffer holds.
pub fn output(
    out: &mut Output,
    call: impl FnOnce(*mut u8, *mut CK_ULONG) -> Result<()>,
) -> Result<()> {
    // `Output`'s buffer is private to `backend`; this module, a child of it,
    // is the pass-through that needs the whole of it.
    let (ptr, capacity) = match out.buf.as_deref_mut() {
        Some(b) => (b.as_mut_ptr(), b.len()),
        None => (std::ptr::null_mut(), 0),
    };
    let mut len = capacity as CK_ULONG;
    let result = call(ptr, &mut len);
    match result {
        Ok(()) | Err(Rv::BUFFER_TOO_SMALL) => {}
        Err(rv) => return Err(rv),
    }
    let len = usize::try_from(len).map_err(|_| Rv::GENERAL_ERROR)?;
    if result.is_ok() && !ptr.is_null() && len > capacity {
        log::error!("forwarded module wrote {len} bytes into a {capacity}-byte buffer");
        return Err(Rv::GENERAL_ERROR);
    }
    out.written(len);
    result
}
