//! A raw PKCS#11 client for the calls the `cryptoki` crate cannot make:
//! templates with attribute arrays (CKA_WRAP_TEMPLATE ...), mechanisms it
//! does not know (CKM_AES_KEY_WRAP_KWP, CKM_PKCS5_PBKD2 ...), and exact
//! return codes. Included with `#[path]` by the test files that need it.
#![allow(dead_code)]

use std::ffi::c_void;
use std::mem::size_of;
use std::ptr;

use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;
use cryptoki_sys::*;

use crate::common::Raw;

/// One attribute of a raw template: a value, or an attribute array.
pub enum A {
    V(CK_ATTRIBUTE_TYPE, Vec<u8>),
    T(CK_ATTRIBUTE_TYPE, Vec<A>),
}

impl A {
    /// The attribute's type.
    pub fn kind(&self) -> CK_ATTRIBUTE_TYPE {
        match self {
            A::V(k, _) | A::T(k, _) => *k,
        }
    }
}

pub fn b(kind: CK_ATTRIBUTE_TYPE, v: bool) -> A {
    A::V(kind, vec![v as u8])
}

pub fn u(kind: CK_ATTRIBUTE_TYPE, v: CK_ULONG) -> A {
    A::V(kind, v.to_ne_bytes().to_vec())
}

pub fn v(kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> A {
    A::V(kind, value.to_vec())
}

/// `base` with `extra` added; an attribute in both takes `extra`'s value.
pub fn merge(mut base: Vec<A>, extra: Vec<A>) -> Vec<A> {
    let kind = |a: &A| match a {
        A::V(k, _) | A::T(k, _) => *k,
    };
    base.retain(|a| !extra.iter().any(|e| kind(e) == kind(a)));
    base.extend(extra);
    base
}

/// CK_ATTRIBUTEs pointing into `attrs`; nested arrays are kept in `keep`.
fn flatten(attrs: &[A], keep: &mut Vec<Vec<CK_ATTRIBUTE>>) -> Vec<CK_ATTRIBUTE> {
    attrs
        .iter()
        .map(|a| match a {
            A::V(kind, value) => CK_ATTRIBUTE {
                type_: *kind,
                pValue: value.as_ptr() as *mut c_void,
                ulValueLen: value.len() as CK_ULONG,
            },
            A::T(kind, inner) => {
                let flat = flatten(inner, keep);
                let attr = CK_ATTRIBUTE {
                    type_: *kind,
                    pValue: flat.as_ptr() as *mut c_void,
                    ulValueLen: (flat.len() * size_of::<CK_ATTRIBUTE>()) as CK_ULONG,
                };
                keep.push(flat);
                attr
            }
        })
        .collect()
}

/// A mechanism and the bytes of its parameter.
pub struct Mech {
    pub kind: CK_MECHANISM_TYPE,
    pub param: Vec<u8>,
}

impl Mech {
    pub fn none(kind: CK_MECHANISM_TYPE) -> Mech {
        Mech {
            kind,
            param: Vec::new(),
        }
    }

    pub fn bytes(kind: CK_MECHANISM_TYPE, param: &[u8]) -> Mech {
        Mech {
            kind,
            param: param.to_vec(),
        }
    }

    /// A mechanism whose parameter is the C structure `s` (whose pointers
    /// must outlive the call).
    pub fn with<T: Copy>(kind: CK_MECHANISM_TYPE, s: &T) -> Mech {
        // SAFETY: `s` is a plain C structure of size_of::<T>() bytes.
        let bytes =
            unsafe { std::slice::from_raw_parts(s as *const T as *const u8, size_of::<T>()) };
        Mech::bytes(kind, bytes)
    }

    fn raw(&mut self) -> CK_MECHANISM {
        CK_MECHANISM {
            mechanism: self.kind,
            pParameter: if self.param.is_empty() {
                ptr::null_mut()
            } else {
                self.param.as_mut_ptr() as *mut c_void
            },
            ulParameterLen: self.param.len() as CK_ULONG,
        }
    }
}

/// A session driven through the raw function list.
pub struct Client {
    raw: Raw,
    pub h: CK_SESSION_HANDLE,
}

pub type H = CK_OBJECT_HANDLE;

fn check(rv: CK_RV) -> Result<(), CK_RV> {
    if rv == CKR_OK {
        Ok(())
    } else {
        Err(rv)
    }
}

/// The code of a result (CKR_OK for success).
pub fn rv<T>(r: Result<T, CK_RV>) -> CK_RV {
    r.err().unwrap_or(CKR_OK)
}

/// The `cryptoki` handle of a raw object handle.
pub fn oh(h: H) -> ObjectHandle {
    // SAFETY: the handle came from the module under test.
    unsafe { ObjectHandle::new_from_raw(h) }
}

impl Client {
    pub fn of(session: &Session) -> Client {
        Client {
            raw: Raw::load(),
            h: session.handle(),
        }
    }

    fn f(&self) -> &CK_FUNCTION_LIST_3_0 {
        self.raw.f()
    }

    pub fn create(&self, attrs: &[A]) -> Result<H, CK_RV> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        let mut h = 0;
        // SAFETY: the template and its arrays live through the call.
        check(unsafe {
            self.f().C_CreateObject.unwrap()(self.h, t.as_mut_ptr(), t.len() as CK_ULONG, &mut h)
        })?;
        Ok(h)
    }

    pub fn generate(&self, mut m: Mech, attrs: &[A]) -> Result<H, CK_RV> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        let mut mech = m.raw();
        let mut h = 0;
        // SAFETY: mechanism, template and arrays live through the call.
        check(unsafe {
            self.f().C_GenerateKey.unwrap()(
                self.h,
                &mut mech,
                t.as_mut_ptr(),
                t.len() as CK_ULONG,
                &mut h,
            )
        })?;
        Ok(h)
    }

    /// C_SignRecoverInit (`sign`) or C_VerifyRecoverInit.
    pub fn recover_init(&self, sign: bool, mut m: Mech, key: H) -> Result<(), CK_RV> {
        let mut mech = m.raw();
        // SAFETY: the mechanism and its parameter live through the call.
        check(unsafe {
            if sign {
                self.f().C_SignRecoverInit.unwrap()(self.h, &mut mech, key)
            } else {
                self.f().C_VerifyRecoverInit.unwrap()(self.h, &mut mech, key)
            }
        })
    }

    /// C_SignRecover (`sign`) or C_VerifyRecover on `input`, asking for
    /// the length first.
    pub fn recover(&self, sign: bool, input: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let call = |out: *mut u8, len: &mut CK_ULONG| {
            let f = if sign {
                self.f().C_SignRecover.unwrap()
            } else {
                self.f().C_VerifyRecover.unwrap()
            };
            // SAFETY: `input` is read-only for the module; `out` is NULL
            // or holds `len` bytes.
            unsafe {
                f(
                    self.h,
                    input.as_ptr() as *mut u8,
                    input.len() as CK_ULONG,
                    out,
                    len,
                )
            }
        };
        let mut len: CK_ULONG = 0;
        check(call(ptr::null_mut(), &mut len))?;
        let mut out = vec![0u8; len as usize];
        check(call(out.as_mut_ptr(), &mut len))?;
        out.truncate(len as usize);
        Ok(out)
    }

    /// C_WrapKey, asking for the length first.
    pub fn wrap(&self, mut m: Mech, wrapping: H, key: H) -> Result<Vec<u8>, CK_RV> {
        let mut mech = m.raw();
        let mut len: CK_ULONG = 0;
        // SAFETY: a length query with valid pointers.
        check(unsafe {
            self.f().C_WrapKey.unwrap()(self.h, &mut mech, wrapping, key, ptr::null_mut(), &mut len)
        })?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: `out` holds `len` bytes.
        check(unsafe {
            self.f().C_WrapKey.unwrap()(
                self.h,
                &mut mech,
                wrapping,
                key,
                out.as_mut_ptr(),
                &mut len,
            )
        })?;
        out.truncate(len as usize);
        Ok(out)
    }

    /// C_WrapKey into a buffer of `room` bytes: the code and the length
    /// reported.
    pub fn wrap_into(&self, mut m: Mech, wrapping: H, key: H, room: usize) -> (CK_RV, CK_ULONG) {
        let mut mech = m.raw();
        let mut out = vec![0u8; room];
        let mut len = room as CK_ULONG;
        // SAFETY: `out` holds `room` bytes.
        let rv = unsafe {
            self.f().C_WrapKey.unwrap()(
                self.h,
                &mut mech,
                wrapping,
                key,
                out.as_mut_ptr(),
                &mut len,
            )
        };
        (rv, len)
    }

    pub fn unwrap(&self, mut m: Mech, unwrapping: H, blob: &[u8], attrs: &[A]) -> Result<H, CK_RV> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        let mut mech = m.raw();
        let mut blob = blob.to_vec();
        let mut h = 0;
        // SAFETY: every buffer lives through the call.
        check(unsafe {
            self.f().C_UnwrapKey.unwrap()(
                self.h,
                &mut mech,
                unwrapping,
                blob.as_mut_ptr(),
                blob.len() as CK_ULONG,
                t.as_mut_ptr(),
                t.len() as CK_ULONG,
                &mut h,
            )
        })?;
        Ok(h)
    }

    pub fn derive(&self, mut m: Mech, base: H, attrs: &[A]) -> Result<H, CK_RV> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        let mut mech = m.raw();
        let mut h = 0;
        // SAFETY: every buffer lives through the call.
        check(unsafe {
            self.f().C_DeriveKey.unwrap()(
                self.h,
                &mut mech,
                base,
                t.as_mut_ptr(),
                t.len() as CK_ULONG,
                &mut h,
            )
        })?;
        Ok(h)
    }

    /// One attribute's value.
    pub fn get(&self, h: H, kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>, CK_RV> {
        let mut a = CK_ATTRIBUTE {
            type_: kind,
            pValue: ptr::null_mut(),
            ulValueLen: 0,
        };
        // SAFETY: a length query.
        check(unsafe { self.f().C_GetAttributeValue.unwrap()(self.h, h, &mut a, 1) })?;
        let mut value = vec![0u8; a.ulValueLen as usize];
        a.pValue = value.as_mut_ptr() as *mut c_void;
        // SAFETY: `value` holds ulValueLen bytes.
        check(unsafe { self.f().C_GetAttributeValue.unwrap()(self.h, h, &mut a, 1) })?;
        Ok(value)
    }

    pub fn get_bool(&self, h: H, kind: CK_ATTRIBUTE_TYPE) -> bool {
        self.get(h, kind).expect("attribute") == [1]
    }

    pub fn get_ulong(&self, h: H, kind: CK_ATTRIBUTE_TYPE) -> CK_ULONG {
        let v = self.get(h, kind).expect("attribute");
        CK_ULONG::from_ne_bytes(v.try_into().expect("a CK_ULONG"))
    }

    pub fn set(&self, h: H, attrs: &[A]) -> Result<(), CK_RV> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        // SAFETY: the template lives through the call.
        check(unsafe {
            self.f().C_SetAttributeValue.unwrap()(self.h, h, t.as_mut_ptr(), t.len() as CK_ULONG)
        })
    }

    /// C_DigestInit (for digests the `cryptoki` crate does not name: MD5,
    /// SHA-3).
    pub fn digest_init(&self, mut m: Mech) -> Result<(), CK_RV> {
        let mut mech = m.raw();
        // SAFETY: the mechanism lives through the call.
        check(unsafe { self.f().C_DigestInit.unwrap()(self.h, &mut mech) })
    }

    /// C_GetOperationState, asking for the length first.
    pub fn operation_state(&self) -> Result<Vec<u8>, CK_RV> {
        let mut len: CK_ULONG = 0;
        // SAFETY: a length query with a valid length pointer.
        check(unsafe { self.f().C_GetOperationState.unwrap()(self.h, ptr::null_mut(), &mut len) })?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: `out` holds `len` bytes.
        check(unsafe {
            self.f().C_GetOperationState.unwrap()(self.h, out.as_mut_ptr(), &mut len)
        })?;
        out.truncate(len as usize);
        Ok(out)
    }

    /// C_GetOperationState into a buffer of `room` bytes (`None`: NULL):
    /// the code and the length reported.
    pub fn operation_state_into(&self, room: Option<usize>) -> (CK_RV, CK_ULONG) {
        let mut out = vec![0u8; room.unwrap_or(0)];
        let mut len = room.unwrap_or(0) as CK_ULONG;
        let p = if room.is_some() {
            out.as_mut_ptr()
        } else {
            ptr::null_mut()
        };
        // SAFETY: `p` is NULL or holds `room` bytes.
        let rv = unsafe { self.f().C_GetOperationState.unwrap()(self.h, p, &mut len) };
        (rv, len)
    }

    /// C_SetOperationState with the given key handles.
    pub fn set_operation_state(&self, state: &[u8], enc_key: H, auth_key: H) -> Result<(), CK_RV> {
        let mut state = state.to_vec();
        // SAFETY: `state` lives through the call.
        check(unsafe {
            self.f().C_SetOperationState.unwrap()(
                self.h,
                state.as_mut_ptr(),
                state.len() as CK_ULONG,
                enc_key,
                auth_key,
            )
        })
    }

    /// The handles C_FindObjects returns for a template.
    pub fn find(&self, attrs: &[A]) -> Vec<H> {
        let mut keep = Vec::new();
        let mut t = flatten(attrs, &mut keep);
        let f = self.f();
        // SAFETY: the template lives through the call; output buffers are
        // valid.
        unsafe {
            assert_eq!(
                f.C_FindObjectsInit.unwrap()(self.h, t.as_mut_ptr(), t.len() as CK_ULONG),
                CKR_OK
            );
            let mut found = [0 as H; 64];
            let mut n: CK_ULONG = 0;
            assert_eq!(
                f.C_FindObjects.unwrap()(self.h, found.as_mut_ptr(), 64, &mut n),
                CKR_OK
            );
            assert_eq!(f.C_FindObjectsFinal.unwrap()(self.h), CKR_OK);
            found[..n as usize].to_vec()
        }
    }
}
