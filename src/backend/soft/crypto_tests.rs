//! Unit tests of the operation state: the two-call convention, errors
//! ending operations, logout ending private-key operations, one operation
//! of a kind, and per-use authentication.

use super::*;

fn with_allowed(list: &[CK_MECHANISM_TYPE]) -> Attributes {
    let mut a = Attributes::new();
    let bytes: Vec<u8> = list.iter().flat_map(|m| m.to_ne_bytes()).collect();
    a.set_bytes(CKA_ALLOWED_MECHANISMS, &bytes);
    a
}

#[test]
fn allowed_mechanisms() {
    assert!(mechanism_allowed(&Attributes::new(), CKM_ECDSA));
    assert!(mechanism_allowed(&with_allowed(&[]), CKM_ECDSA));
    let a = with_allowed(&[CKM_SHA256, CKM_ECDSA]);
    assert!(mechanism_allowed(&a, CKM_ECDSA));
    assert!(!mechanism_allowed(&a, CKM_ECDSA_SHA256));
    let mut bad = Attributes::new();
    bad.set_bytes(CKA_ALLOWED_MECHANISMS, &[1, 2, 3]);
    assert!(!mechanism_allowed(&bad, CKM_ECDSA));
}

/// A signing operation that writes `len` bytes of 0xaa, or fails.
struct Fake {
    len: usize,
    fail: bool,
    multipart: bool,
}

impl SignOp for Fake {
    fn signature_len(&self) -> usize {
        self.len
    }
    fn multipart(&self) -> bool {
        self.multipart
    }
    fn update(&mut self, _data: &[u8]) -> Result<()> {
        if self.fail {
            Err(Rv::DATA_LEN_RANGE)
        } else {
            Ok(())
        }
    }
    fn finish(self: Box<Self>, out: &mut [u8]) -> Result<usize> {
        out[..self.len].fill(0xaa);
        Ok(self.len)
    }
}

fn slot(fail: bool, multipart: bool, private: bool) -> Option<Active<dyn SignOp>> {
    Some(Active {
        private,
        awaiting_login: false,
        op: Box::new(Fake {
            len: 8,
            fail,
            multipart,
        }),
    })
}

fn sign(slot: &mut Option<Active<dyn SignOp>>, logged_in: bool, out: &mut Output) -> Result<()> {
    finish_into(
        slot,
        logged_in,
        |op| op.signature_len(),
        out,
        |mut op, buf| {
            op.update(b"data")?;
            op.finish(buf)
        },
    )
}

#[test]
fn two_call_convention_keeps_the_operation() {
    let mut s = slot(false, true, false);
    // Length query.
    let mut out = Output::new(None);
    assert_eq!(sign(&mut s, true, &mut out), Ok(()));
    assert_eq!(out.len(), 8);
    assert!(s.is_some());
    // Short buffer.
    let mut short = [0u8; 7];
    let mut out = Output::new(Some(&mut short));
    assert_eq!(sign(&mut s, true, &mut out), Err(Rv::BUFFER_TOO_SMALL));
    assert_eq!(out.len(), 8);
    assert!(s.is_some());
    // Done: the operation ends.
    let mut buf = [0u8; 10];
    let mut out = Output::new(Some(&mut buf));
    assert_eq!(sign(&mut s, true, &mut out), Ok(()));
    assert_eq!(out.len(), 8);
    assert!(s.is_none());
    assert_eq!(buf[..8], [0xaa; 8]);
    let mut out = Output::new(None);
    assert_eq!(
        sign(&mut s, true, &mut out),
        Err(Rv::OPERATION_NOT_INITIALIZED)
    );
}

#[test]
fn errors_end_the_operation() {
    let mut s = slot(true, true, false);
    let mut buf = [0u8; 8];
    let mut out = Output::new(Some(&mut buf));
    assert_eq!(sign(&mut s, true, &mut out), Err(Rv::DATA_LEN_RANGE));
    assert!(s.is_none());

    let mut s = slot(true, true, false);
    assert_eq!(
        feed(&mut s, true, |op| op.multipart(), |op| op.update(b"x")),
        Err(Rv::DATA_LEN_RANGE)
    );
    assert!(s.is_none());

    let mut s = slot(false, false, false);
    assert_eq!(
        feed(&mut s, true, |op| op.multipart(), |op| op.update(b"x")),
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    );
    assert!(s.is_none());

    let mut s = slot(false, true, false);
    assert_eq!(
        feed(&mut s, true, |op| op.multipart(), |op| op.update(b"x")),
        Ok(())
    );
    assert!(s.is_some());
}

#[test]
fn private_key_operations_end_at_logout() {
    let mut s = slot(false, true, true);
    assert!(feed(&mut s, true, |_| true, |op| op.update(b"x")).is_ok());
    let mut out = Output::new(None);
    assert_eq!(sign(&mut s, false, &mut out), Err(Rv::USER_NOT_LOGGED_IN));
    assert!(s.is_none());
    // A public key's operation does not care.
    let mut s = slot(false, true, false);
    let mut out = Output::new(None);
    assert_eq!(sign(&mut s, false, &mut out), Ok(()));
}

/// An operation whose key has CKA_ALWAYS_AUTHENTICATE, started.
fn awaiting() -> Option<Active<dyn SignOp>> {
    let mut s = slot(false, true, true);
    if let Some(a) = s.as_mut() {
        a.awaiting_login = true;
    }
    s
}

#[test]
fn per_use_authentication_gates_every_call_and_ends_the_operation() {
    // Without the context-specific login, a length query ...
    let mut s = awaiting();
    let mut out = Output::new(None);
    assert_eq!(sign(&mut s, true, &mut out), Err(Rv::USER_NOT_LOGGED_IN));
    assert!(s.is_none(), "the refusal ends the operation");
    // ... a part ...
    let mut s = awaiting();
    assert_eq!(
        feed(&mut s, true, |_| true, |op| op.update(b"x")),
        Err(Rv::USER_NOT_LOGGED_IN)
    );
    assert!(s.is_none());

    // With it, the operation goes on until it ends.
    let mut ops = Operations {
        sign: awaiting(),
        ..Operations::default()
    };
    assert!(ops.awaiting_login());
    ops.authenticated();
    assert!(!ops.awaiting_login());
    assert!(feed(&mut ops.sign, true, |_| true, |op| op.update(b"x")).is_ok());
    let mut buf = [0u8; 8];
    let mut out = Output::new(Some(&mut buf));
    assert_eq!(sign(&mut ops.sign, true, &mut out), Ok(()));
    assert!(ops.sign.is_none());
    assert!(!Operations::default().awaiting_login());
}

#[test]
fn always_authenticate_is_a_private_key_attribute() {
    let mut a = Attributes::new();
    a.set_bytes(CKA_CLASS, &CKO_PRIVATE_KEY.to_ne_bytes());
    assert!(!always_authenticate(&a));
    a.set_bool(CKA_ALWAYS_AUTHENTICATE, true);
    assert!(always_authenticate(&a));
    a.set_bytes(CKA_CLASS, &CKO_PUBLIC_KEY.to_ne_bytes());
    assert!(!always_authenticate(&a));
}

#[test]
fn one_operation_of_a_kind() {
    let mut s = slot(false, true, false);
    assert_eq!(
        begin(&mut s, || unreachable!("not started")),
        Err(Rv::OPERATION_ACTIVE)
    );
    let mut empty: Option<Active<dyn SignOp>> = None;
    assert_eq!(
        begin(&mut empty, || Err(Rv::KEY_HANDLE_INVALID)),
        Err(Rv::KEY_HANDLE_INVALID)
    );
    assert!(empty.is_none());
}

#[test]
fn secret_types() {
    assert!(is_secret_type(CKK_AES));
    assert!(is_secret_type(CKK_GENERIC_SECRET));
    assert!(!is_secret_type(CKK_EC));
    assert!(!is_secret_type(CKK_EC_EDWARDS));
}
