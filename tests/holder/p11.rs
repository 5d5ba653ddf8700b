//! Raw PKCS#11 calls on any module's 2.40 function list, with templates
//! whose secret values point into the caller's buffers (never copied).

use std::ffi::c_void;
use std::marker::PhantomData;

use cryptoki_sys::*;

use super::say;

/// A raw template: plain values owned here, secret values pointing into
/// the caller's buffers (never copied).
pub struct Template<'a> {
    attrs: Vec<CK_ATTRIBUTE>,
    owned: Vec<Box<[u8]>>,
    _secrets: PhantomData<&'a [u8]>,
}

impl<'a> Template<'a> {
    pub fn new() -> Template<'a> {
        Template {
            attrs: Vec::new(),
            owned: Vec::new(),
            _secrets: PhantomData,
        }
    }

    pub fn plain(mut self, kind: CK_ATTRIBUTE_TYPE, value: &[u8]) -> Template<'a> {
        let boxed: Box<[u8]> = value.into();
        self.attrs.push(CK_ATTRIBUTE {
            type_: kind,
            pValue: boxed.as_ptr() as *mut c_void,
            ulValueLen: boxed.len() as CK_ULONG,
        });
        self.owned.push(boxed);
        self
    }

    pub fn ulong(self, kind: CK_ATTRIBUTE_TYPE, value: CK_ULONG) -> Template<'a> {
        self.plain(kind, &value.to_ne_bytes())
    }

    pub fn bool(self, kind: CK_ATTRIBUTE_TYPE, value: bool) -> Template<'a> {
        self.plain(kind, &[u8::from(value)])
    }

    pub fn secret(mut self, kind: CK_ATTRIBUTE_TYPE, value: &'a [u8]) -> Template<'a> {
        self.attrs.push(CK_ATTRIBUTE {
            type_: kind,
            pValue: value.as_ptr() as *mut c_void,
            ulValueLen: value.len() as CK_ULONG,
        });
        self
    }
}

/// Raw calls on a module's 2.40 function list.
pub struct P11<'a> {
    pub f: &'a CK_FUNCTION_LIST,
    /// ProzHSM: every step must work. SoftHSMv2: a step it refuses is
    /// reported and skipped.
    pub strict: bool,
}

impl P11<'_> {
    pub fn ok(&self, what: &str, rv: CK_RV) {
        assert_eq!(rv, CKR_OK, "{what}: rv {rv:#x}");
    }

    pub fn soft_fail(&self, what: &str, rv: CK_RV) {
        assert!(!self.strict, "{what}: rv {rv:#x}");
        say(&format!("HOLDER SKIPPED {what} (rv {rv:#x})"));
    }

    pub fn initialize(&self) {
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: CKF_OS_LOCKING_OK,
            pReserved: std::ptr::null_mut(),
        };
        // SAFETY: valid arguments.
        let rv = unsafe { self.f.C_Initialize.unwrap()(&mut args as *mut _ as *mut c_void) };
        self.ok("C_Initialize", rv);
    }

    pub fn finalize(&self) {
        // SAFETY: NULL is the required argument.
        let rv = unsafe { self.f.C_Finalize.unwrap()(std::ptr::null_mut()) };
        self.ok("C_Finalize", rv);
    }

    pub fn slot_by_label(&self, label: &str) -> CK_SLOT_ID {
        let mut n: CK_ULONG = 0;
        // SAFETY: the two-call convention with valid pointers.
        unsafe {
            self.ok(
                "C_GetSlotList",
                self.f.C_GetSlotList.unwrap()(CK_TRUE, std::ptr::null_mut(), &mut n),
            );
            let mut slots = vec![0 as CK_SLOT_ID; n as usize];
            self.ok(
                "C_GetSlotList",
                self.f.C_GetSlotList.unwrap()(CK_TRUE, slots.as_mut_ptr(), &mut n),
            );
            let want = crate::common::label32(label);
            for slot in slots {
                let mut info = CK_TOKEN_INFO::default();
                if self.f.C_GetTokenInfo.unwrap()(slot, &mut info) == CKR_OK && info.label == want {
                    return slot;
                }
            }
        }
        panic!("no token labelled {label}");
    }

    pub fn open(&self, slot: CK_SLOT_ID) -> CK_SESSION_HANDLE {
        let mut s: CK_SESSION_HANDLE = 0;
        // SAFETY: valid out pointer.
        let rv = unsafe {
            self.f.C_OpenSession.unwrap()(
                slot,
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                std::ptr::null_mut(),
                None,
                &mut s,
            )
        };
        self.ok("C_OpenSession", rv);
        s
    }

    pub fn login(&self, s: CK_SESSION_HANDLE, pin: &[u8]) {
        // SAFETY: the PIN buffer is valid for its length; the module only
        // reads it.
        let rv = unsafe {
            self.f.C_Login.unwrap()(s, CKU_USER, pin.as_ptr() as *mut u8, pin.len() as CK_ULONG)
        };
        self.ok("C_Login", rv);
    }

    pub fn create(
        &self,
        s: CK_SESSION_HANDLE,
        t: &mut Template,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut h: CK_OBJECT_HANDLE = 0;
        // SAFETY: a template of valid attributes.
        let rv = unsafe {
            self.f.C_CreateObject.unwrap()(
                s,
                t.attrs.as_mut_ptr(),
                t.attrs.len() as CK_ULONG,
                &mut h,
            )
        };
        if rv == CKR_OK {
            Ok(h)
        } else {
            Err(rv)
        }
    }

    pub fn generate_pair(
        &self,
        s: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        public: &mut Template,
        private: &mut Template,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let (mut hp, mut hk): (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) = (0, 0);
        // SAFETY: valid mechanism, templates and out pointers.
        let rv = unsafe {
            self.f.C_GenerateKeyPair.unwrap()(
                s,
                &mut m,
                public.attrs.as_mut_ptr(),
                public.attrs.len() as CK_ULONG,
                private.attrs.as_mut_ptr(),
                private.attrs.len() as CK_ULONG,
                &mut hp,
                &mut hk,
            )
        };
        if rv == CKR_OK {
            Ok(hk)
        } else {
            Err(rv)
        }
    }

    pub fn find(&self, s: CK_SESSION_HANDLE, label: &str) -> Vec<CK_OBJECT_HANDLE> {
        let mut t = Template::new().plain(CKA_LABEL, label.as_bytes());
        let mut found = [0 as CK_OBJECT_HANDLE; 8];
        let mut n: CK_ULONG = 0;
        // SAFETY: valid template and buffers.
        unsafe {
            self.ok(
                "C_FindObjectsInit",
                self.f.C_FindObjectsInit.unwrap()(s, t.attrs.as_mut_ptr(), 1),
            );
            self.ok(
                "C_FindObjects",
                self.f.C_FindObjects.unwrap()(s, found.as_mut_ptr(), 8, &mut n),
            );
            self.ok("C_FindObjectsFinal", self.f.C_FindObjectsFinal.unwrap()(s));
        }
        found[..n as usize].to_vec()
    }

    pub fn get(
        &self,
        s: CK_SESSION_HANDLE,
        h: CK_OBJECT_HANDLE,
        kind: CK_ATTRIBUTE_TYPE,
    ) -> Result<Vec<u8>, CK_RV> {
        let mut a = [CK_ATTRIBUTE {
            type_: kind,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        }];
        // SAFETY: the two-call convention with a buffer of the told length.
        unsafe {
            let rv = self.f.C_GetAttributeValue.unwrap()(s, h, a.as_mut_ptr(), 1);
            if rv != CKR_OK {
                return Err(rv);
            }
            let mut value = vec![0u8; a[0].ulValueLen as usize];
            a[0].pValue = value.as_mut_ptr().cast();
            let rv = self.f.C_GetAttributeValue.unwrap()(s, h, a.as_mut_ptr(), 1);
            if rv != CKR_OK {
                return Err(rv);
            }
            Ok(value)
        }
    }

    pub fn sign(
        &self,
        s: CK_SESSION_HANDLE,
        mech: CK_MECHANISM_TYPE,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
    ) -> Result<Vec<u8>, CK_RV> {
        let mut m = CK_MECHANISM {
            mechanism: mech,
            pParameter: std::ptr::null_mut(),
            ulParameterLen: 0,
        };
        let mut sig = vec![0u8; 512];
        let mut len = sig.len() as CK_ULONG;
        // SAFETY: valid mechanism, input and output buffers.
        unsafe {
            let rv = self.f.C_SignInit.unwrap()(s, &mut m, key);
            if rv != CKR_OK {
                return Err(rv);
            }
            let rv = self.f.C_Sign.unwrap()(
                s,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                sig.as_mut_ptr(),
                &mut len,
            );
            if rv != CKR_OK {
                return Err(rv);
            }
        }
        sig.truncate(len as usize);
        Ok(sig)
    }
}
