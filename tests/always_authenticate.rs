//! Per-use authentication (PKCS#11 3.0 §4.9, CKA_ALWAYS_AUTHENTICATE, and
//! §5.6, C_Login with CKU_CONTEXT_SPECIFIC) through the C ABI: a private key
//! that asks for the user's PIN on each use signs and decrypts only after
//! C_Login(CKU_CONTEXT_SPECIFIC), once per operation; a wrong PIN is counted
//! like any wrong user PIN; other keys are unaffected; a forwarded slot
//! passes the user type on unchanged.
//!
//! The `cryptoki` crate's `sign` and `decrypt` run the Init and the
//! operation in one call, so the operations here are raw calls.

mod common;

use std::ffi::c_void;
use std::path::Path;
use std::ptr;

use common::{code, pin, Fixture, Raw, SO_PIN, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki_sys::*;

/// DER of the P-256 curve's OID, for CKA_EC_PARAMS.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const WRONG_PIN: &str = "0000";

/// Raw calls on one session.
struct Ops {
    raw: Raw,
    h: CK_SESSION_HANDLE,
}

impl Ops {
    fn of(s: &Session) -> Ops {
        Ops {
            raw: Raw::load(),
            h: s.handle(),
        }
    }

    fn f(&self) -> &CK_FUNCTION_LIST_3_0 {
        self.raw.f()
    }

    fn login(&self, user: CK_USER_TYPE, pin: &str) -> CK_RV {
        let mut pin = pin.as_bytes().to_vec();
        // SAFETY: the PIN buffer lives through the call.
        unsafe { self.f().C_Login.unwrap()(self.h, user, pin.as_mut_ptr(), pin.len() as CK_ULONG) }
    }

    /// C_Login(CKU_CONTEXT_SPECIFIC).
    fn again(&self, pin: &str) -> CK_RV {
        self.login(CKU_CONTEXT_SPECIFIC, pin)
    }

    fn sign_init(&self, mechanism: CK_MECHANISM_TYPE, key: ObjectHandle) -> CK_RV {
        let mut m = CK_MECHANISM {
            mechanism,
            pParameter: ptr::null_mut(),
            ulParameterLen: 0,
        };
        // SAFETY: the mechanism lives through the call.
        unsafe { self.f().C_SignInit.unwrap()(self.h, &mut m, key.handle()) }
    }

    /// C_Sign, asking for the length first.
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let mut data = data.to_vec();
        let mut len: CK_ULONG = 0;
        let f = self.f().C_Sign.unwrap();
        // SAFETY: a length query with valid pointers.
        let rv = unsafe {
            f(
                self.h,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                ptr::null_mut(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        let mut sig = vec![0u8; len as usize];
        // SAFETY: `sig` holds `len` bytes.
        let rv = unsafe {
            f(
                self.h,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                sig.as_mut_ptr(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        sig.truncate(len as usize);
        Ok(sig)
    }

    fn sign_update(&self, data: &[u8]) -> CK_RV {
        let mut data = data.to_vec();
        // SAFETY: the data lives through the call.
        unsafe { self.f().C_SignUpdate.unwrap()(self.h, data.as_mut_ptr(), data.len() as CK_ULONG) }
    }

    fn sign_final(&self) -> Result<Vec<u8>, CK_RV> {
        let mut sig = vec![0u8; 512];
        let mut len = sig.len() as CK_ULONG;
        // SAFETY: `sig` holds `len` bytes.
        let rv = unsafe { self.f().C_SignFinal.unwrap()(self.h, sig.as_mut_ptr(), &mut len) };
        if rv != CKR_OK {
            return Err(rv);
        }
        sig.truncate(len as usize);
        Ok(sig)
    }

    /// C_DecryptInit with RSA-OAEP (SHA-256, no label).
    fn decrypt_init_oaep(&self, key: ObjectHandle) -> CK_RV {
        let mut params = CK_RSA_PKCS_OAEP_PARAMS {
            hashAlg: CKM_SHA256,
            mgf: CKG_MGF1_SHA256,
            source: CKZ_DATA_SPECIFIED,
            pSourceData: ptr::null_mut(),
            ulSourceDataLen: 0,
        };
        let mut m = CK_MECHANISM {
            mechanism: CKM_RSA_PKCS_OAEP,
            pParameter: &mut params as *mut _ as *mut c_void,
            ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_OAEP_PARAMS>() as CK_ULONG,
        };
        // SAFETY: the mechanism and its parameter live through the call.
        unsafe { self.f().C_DecryptInit.unwrap()(self.h, &mut m, key.handle()) }
    }

    fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, CK_RV> {
        let mut data = data.to_vec();
        let mut out = vec![0u8; 512];
        let mut len = out.len() as CK_ULONG;
        // SAFETY: `out` holds `len` bytes.
        let rv = unsafe {
            self.f().C_Decrypt.unwrap()(
                self.h,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                out.as_mut_ptr(),
                &mut len,
            )
        };
        if rv != CKR_OK {
            return Err(rv);
        }
        out.truncate(len as usize);
        Ok(out)
    }
}

/// A P-256 session key pair; the private key asks for the PIN on each use
/// when `always` is set.
fn ec_pair(s: &Session, always: bool) -> (ObjectHandle, ObjectHandle) {
    let mut private = vec![
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ];
    if always {
        private.push(Attribute::AlwaysAuthenticate(true));
    }
    s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[
            Attribute::Token(false),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Verify(true),
        ],
        &private,
    )
    .expect("EC key pair")
}

/// An RSA-2048 session key pair that signs and decrypts, and asks for the
/// PIN on each use.
fn rsa_pair(s: &Session) -> (ObjectHandle, ObjectHandle) {
    s.generate_key_pair(
        &Mechanism::RsaPkcsKeyPairGen,
        &[
            Attribute::Token(false),
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
        ],
        &[
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::Decrypt(true),
            Attribute::AlwaysAuthenticate(true),
        ],
    )
    .expect("RSA key pair")
}

fn state(s: &Session) -> SessionState {
    s.get_session_info().expect("session info").session_state()
}

#[test]
fn an_ec_key_signs_once_per_context_specific_login() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let ops = Ops::of(&s);
    let (public, private) = ec_pair(&s, true);
    let attrs = s
        .get_attributes(private, &[AttributeType::AlwaysAuthenticate])
        .expect("attributes");
    assert_eq!(attrs, vec![Attribute::AlwaysAuthenticate(true)]);
    let digest = [7u8; 32];

    // Without the login, the operation is refused, and ends.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.sign(&digest), Err(CKR_USER_NOT_LOGGED_IN));
    assert_eq!(ops.sign(&digest), Err(CKR_OPERATION_NOT_INITIALIZED));

    // With it, one signature; the session state does not change.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    assert_eq!(state(&s), SessionState::RwUser);
    let sig = ops.sign(&digest).expect("sign after the context login");
    s.verify(&Mechanism::Ecdsa, public, &digest, &sig)
        .expect("the signature verifies");

    // The next signature needs the PIN again.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.sign(&digest), Err(CKR_USER_NOT_LOGGED_IN));

    // A second context login for the same operation has nothing to do,
    // and leaves the operation as it was.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OPERATION_NOT_INITIALIZED);
    ops.sign(&digest).expect("still authenticated");

    // Multi-part: every part waits for the login too.
    assert_eq!(ops.sign_init(CKM_ECDSA_SHA256, private), CKR_OK);
    assert_eq!(ops.sign_update(b"part"), CKR_USER_NOT_LOGGED_IN);
    assert_eq!(ops.sign_final(), Err(CKR_OPERATION_NOT_INITIALIZED));
    assert_eq!(ops.sign_init(CKM_ECDSA_SHA256, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    assert_eq!(ops.sign_update(b"one "), CKR_OK);
    assert_eq!(ops.sign_update(b"two"), CKR_OK);
    let sig = ops.sign_final().expect("multi-part signature");
    s.verify(&Mechanism::EcdsaSha256, public, b"one two", &sig)
        .expect("the multi-part signature verifies");

    // Verifying with the public key asks for nothing.
    s.verify(&Mechanism::EcdsaSha256, public, b"one two", &sig)
        .expect("verify needs no context login");
}

#[test]
fn keys_without_the_attribute_and_logins_without_an_operation() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.p11().open_rw_session(slot).expect("open");
    let ops = Ops::of(&s);

    // Nobody logged in.
    assert_eq!(ops.again(USER_PIN), CKR_USER_NOT_LOGGED_IN);

    // The user, and no operation.
    s.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("user login");
    assert_eq!(ops.again(USER_PIN), CKR_OPERATION_NOT_INITIALIZED);
    assert_eq!(
        code(s.login(UserType::ContextSpecific, Some(&pin(USER_PIN)))),
        RvError::OperationNotInitialized
    );

    // A key without the attribute signs as before; a context login
    // during its operation changes nothing.
    let (public, private) = ec_pair(&s, false);
    let attrs = s
        .get_attributes(private, &[AttributeType::AlwaysAuthenticate])
        .expect("attributes");
    assert_eq!(attrs, vec![Attribute::AlwaysAuthenticate(false)]);
    let digest = [9u8; 32];
    let sig = s.sign(&Mechanism::Ecdsa, private, &digest).expect("sign");
    s.verify(&Mechanism::Ecdsa, public, &digest, &sig)
        .expect("verify");
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OPERATION_NOT_INITIALIZED);
    ops.sign(&digest).expect("the operation was not affected");

    // The SO sees no private key, so nothing of the SO's can wait.
    s.logout().expect("logout");
    s.login(UserType::So, Some(&pin(SO_PIN))).expect("SO login");
    assert_eq!(ops.again(SO_PIN), CKR_OPERATION_NOT_INITIALIZED);
    s.logout().expect("logout");

    // A key usable without login cannot ask for a login per use.
    s.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("user login");
    let public_key = s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[Attribute::Token(false), Attribute::EcParams(P256.to_vec())],
        &[
            Attribute::Token(false),
            Attribute::Private(false),
            Attribute::Sign(true),
            Attribute::AlwaysAuthenticate(true),
        ],
    );
    assert_eq!(code(public_key), RvError::TemplateInconsistent);
}

#[test]
fn a_wrong_context_pin_is_counted_and_locking_logs_out() {
    let f = Fixture::with_config("max_pin_attempts = 3");
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let ops = Ops::of(&s);
    let (_, private) = ec_pair(&s, true);
    let digest = [1u8; 32];

    // A wrong PIN: counted, the session state unchanged, and the operation
    // goes on as if no login had been tried.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(WRONG_PIN), CKR_PIN_INCORRECT);
    let info = f.p11().get_token_info(slot).expect("token info");
    assert!(info.user_pin_count_low() && !info.user_pin_final_try());
    assert_eq!(state(&s), SessionState::RwUser);
    assert_eq!(ops.sign(&digest), Err(CKR_USER_NOT_LOGGED_IN));

    // The right PIN after a wrong one: the count is cleared.
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(WRONG_PIN), CKR_PIN_INCORRECT);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    ops.sign(&digest).expect("sign");
    let info = f.p11().get_token_info(slot).expect("token info");
    assert!(!info.user_pin_count_low());

    // Wrong until the PIN locks: that attempt answers CKR_PIN_LOCKED and
    // logs the user out of the token (§4.9).
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(WRONG_PIN), CKR_PIN_INCORRECT);
    assert_eq!(ops.again(WRONG_PIN), CKR_PIN_INCORRECT);
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("token info")
        .user_pin_final_try());
    assert_eq!(state(&s), SessionState::RwUser);
    assert_eq!(ops.again(WRONG_PIN), CKR_PIN_LOCKED);
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("token info")
        .user_pin_locked());
    assert_eq!(state(&s), SessionState::RwPublic);
    assert_eq!(ops.sign(&digest), Err(CKR_USER_NOT_LOGGED_IN));
    assert_eq!(ops.again(USER_PIN), CKR_USER_NOT_LOGGED_IN);
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::PinLocked
    );
}

#[test]
fn an_rsa_key_decrypts_and_signs_once_per_context_specific_login() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let ops = Ops::of(&s);
    let (public, private) = rsa_pair(&s);
    let oaep = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    ));
    let ct = s.encrypt(&oaep, public, b"key material").expect("encrypt");

    assert_eq!(ops.decrypt_init_oaep(private), CKR_OK);
    assert_eq!(ops.decrypt(&ct), Err(CKR_USER_NOT_LOGGED_IN));
    assert_eq!(ops.decrypt(&ct), Err(CKR_OPERATION_NOT_INITIALIZED));
    assert_eq!(ops.decrypt_init_oaep(private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    assert_eq!(ops.decrypt(&ct).expect("decrypt"), b"key material");
    assert_eq!(ops.decrypt_init_oaep(private), CKR_OK);
    assert_eq!(ops.decrypt(&ct), Err(CKR_USER_NOT_LOGGED_IN));

    assert_eq!(ops.sign_init(CKM_SHA256_RSA_PKCS, private), CKR_OK);
    assert_eq!(ops.sign(b"message"), Err(CKR_USER_NOT_LOGGED_IN));
    assert_eq!(ops.sign_init(CKM_SHA256_RSA_PKCS, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    let sig = ops.sign(b"message").expect("sign");
    s.verify(&Mechanism::Sha256RsaPkcs, public, b"message", &sig)
        .expect("the signature verifies");

    // A signature and a decryption waiting in one session: one context
    // login lets both go on.
    assert_eq!(ops.sign_init(CKM_SHA256_RSA_PKCS, private), CKR_OK);
    assert_eq!(ops.decrypt_init_oaep(private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OPERATION_NOT_INITIALIZED);
    ops.sign(b"message").expect("sign");
    assert_eq!(ops.decrypt(&ct).expect("decrypt"), b"key material");
}

#[test]
fn a_forwarded_slot_passes_context_specific_logins_on() {
    if !common::softhsm_available() {
        eprintln!("SoftHSMv2 not installed: skipped");
        return;
    }
    let f = Fixture::with_setup(|dir| {
        let tokens = dir.join("hsm-tokens");
        std::fs::create_dir_all(&tokens).expect("softhsm token dir");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm conf");
        std::env::set_var("SOFTHSM2_CONF", &conf);
        format!(
            "[[forward]]\nmodule = \"{}\"\n",
            Path::new(common::SOFTHSM_MODULE).display()
        )
    });
    // SoftHSM's free slot is the last one.
    let slot = f.free_slot();
    assert!(f
        .p11()
        .get_slot_info(slot)
        .expect("slot info")
        .manufacturer_id()
        .starts_with("SoftHSM"));
    f.init_token("hsm");
    let s = f.user_session(slot);
    let ops = Ops::of(&s);
    let (public, private) = ec_pair(&s, true);
    let digest = [3u8; 32];

    assert_eq!(ops.again(USER_PIN), CKR_OPERATION_NOT_INITIALIZED);
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.sign(&digest), Err(CKR_USER_NOT_LOGGED_IN));
    assert_eq!(ops.sign_init(CKM_ECDSA, private), CKR_OK);
    assert_eq!(ops.again(USER_PIN), CKR_OK);
    let sig = ops.sign(&digest).expect("sign through the forwarded slot");
    s.verify(&Mechanism::Ecdsa, public, &digest, &sig)
        .expect("the signature verifies");
}
