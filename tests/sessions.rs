//! Session management through the C ABI (PKCS#11 3.0 §5.6): opening and
//! closing, session states, login and logout rules, and the saved state of
//! a digest (C_GetOperationState / C_SetOperationState).

mod common;
#[path = "common/raw.rs"]
mod raw;

use common::{code, pin, Fixture, Raw, SO_PIN, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki_sys::*;
use raw::{oh, rv, Client, Mech};

#[test]
fn sessions_report_their_state() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let ro = f.p11().open_ro_session(slot).expect("ro");
    let rw = f.p11().open_rw_session(slot).expect("rw");
    assert_eq!(
        ro.get_session_info().expect("info").session_state(),
        SessionState::RoPublic
    );
    assert_eq!(
        rw.get_session_info().expect("info").session_state(),
        SessionState::RwPublic
    );
    assert_eq!(rw.get_session_info().expect("info").slot_id(), slot);
    assert!(rw.get_session_info().expect("info").read_write());
    rw.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    // Login is per token: every session of the application sees it.
    assert_eq!(
        ro.get_session_info().expect("info").session_state(),
        SessionState::RoUser
    );
    assert_eq!(
        rw.get_session_info().expect("info").session_state(),
        SessionState::RwUser
    );
    let info = f.p11().get_token_info(slot).expect("token");
    assert_eq!(info.session_count(), Some(2));
    assert_eq!(info.rw_session_count(), Some(1));
    ro.logout().expect("logout from any session");
    assert_eq!(
        rw.get_session_info().expect("info").session_state(),
        SessionState::RwPublic
    );
}

#[test]
fn login_rules() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let rw = f.p11().open_rw_session(slot).expect("rw");
    assert_eq!(code(rw.logout()), RvError::UserNotLoggedIn);
    assert_eq!(
        code(rw.login(UserType::User, Some(&pin("9999")))),
        RvError::PinIncorrect
    );
    rw.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    assert_eq!(
        code(rw.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::UserAlreadyLoggedIn
    );
    assert_eq!(
        code(rw.login(UserType::So, Some(&pin(SO_PIN)))),
        RvError::UserAnotherAlreadyLoggedIn
    );
    rw.logout().expect("logout");

    // The SO cannot log in while a read-only session exists ...
    let ro = f.p11().open_ro_session(slot).expect("ro");
    assert_eq!(
        code(rw.login(UserType::So, Some(&pin(SO_PIN)))),
        RvError::SessionReadOnlyExists
    );
    drop(ro);
    rw.login(UserType::So, Some(&pin(SO_PIN)))
        .expect("so login");
    assert_eq!(
        rw.get_session_info().expect("info").session_state(),
        SessionState::RwSecurityOfficer
    );
    // ... and no read-only session opens while the SO is logged in.
    assert_eq!(
        code(f.p11().open_ro_session(slot)),
        RvError::SessionReadWriteSoExists
    );
    assert_eq!(
        code(rw.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::UserAnotherAlreadyLoggedIn
    );
}

#[test]
fn closing_the_last_session_logs_out() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    drop(s);
    let s = f.p11().open_ro_session(slot).expect("ro");
    assert_eq!(
        s.get_session_info().expect("info").session_state(),
        SessionState::RoPublic
    );
}

#[test]
fn close_all_sessions_and_invalid_handles() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let raw = Raw::load();
    let mut h1: CK_SESSION_HANDLE = 0;
    let mut h2: CK_SESSION_HANDLE = 0;
    // SAFETY: valid out pointers.
    unsafe {
        let open = raw.f().C_OpenSession.unwrap();
        assert_eq!(
            open(
                slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h1
            ),
            CKR_OK
        );
        assert_eq!(
            open(
                slot.id(),
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h2
            ),
            CKR_OK
        );
        assert_ne!(h1, h2);
        // Parallel sessions are not a thing (CKF_SERIAL_SESSION is required).
        let mut h3: CK_SESSION_HANDLE = 0;
        assert_eq!(
            open(slot.id(), 0, std::ptr::null_mut(), None, &mut h3),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED
        );
        assert_eq!(
            open(
                slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut()
            ),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            open(
                9999,
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h3
            ),
            CKR_SLOT_ID_INVALID
        );

        assert_eq!(raw.f().C_CloseAllSessions.unwrap()(slot.id()), CKR_OK);
        let mut info = CK_SESSION_INFO::default();
        assert_eq!(
            raw.f().C_GetSessionInfo.unwrap()(h1, &mut info),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(
            raw.f().C_CloseSession.unwrap()(h2),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(
            raw.f().C_CloseAllSessions.unwrap()(9999),
            CKR_SLOT_ID_INVALID
        );
        // The legacy parallel functions.
        assert_eq!(
            open(
                slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h1
            ),
            CKR_OK
        );
        assert_eq!(
            raw.f().C_GetFunctionStatus.unwrap()(h1),
            CKR_FUNCTION_NOT_PARALLEL
        );
        assert_eq!(
            raw.f().C_CancelFunction.unwrap()(h1),
            CKR_FUNCTION_NOT_PARALLEL
        );
        // Login with a NULL PIN (protected path) is refused, not a crash.
        assert_eq!(
            raw.f().C_Login.unwrap()(h1, CKU_USER, std::ptr::null_mut(), 4),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            raw.f().C_Login.unwrap()(h1, 77, b"1234".as_ptr() as *mut u8, 4),
            CKR_USER_TYPE_INVALID
        );
        assert_eq!(raw.f().C_CloseSession.unwrap()(h1), CKR_OK);
    }
}

#[test]
fn sessions_open_and_close_from_many_threads() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..200 {
                    let s = f.p11().open_ro_session(slot).expect("open");
                    s.get_session_info().expect("info");
                }
            });
        }
    });
    assert_eq!(
        f.p11().get_token_info(slot).expect("info").session_count(),
        Some(0)
    );
}

// -- C_GetOperationState / C_SetOperationState --------------------------------

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// FIPS 180-2's two-block SHA-256 vector.
const ABC_56: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const ABC_56_SHA256: &str = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
/// SHA-256 of a million 'a' (FIPS 180-2).
const MILLION_A_SHA256: &str = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

#[test]
fn digest_state_moves_to_another_session() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s1 = f.user_session(slot);
    let s2 = f.p11().open_ro_session(slot).expect("ro session");
    let (c1, c2) = (Client::of(&s1), Client::of(&s2));

    s1.digest_init(&Mechanism::Sha256).expect("init");
    s1.digest_update(&ABC_56[..20]).expect("update");
    // The two-call convention; the operation goes on after each answer.
    let (code, len) = c1.operation_state_into(None);
    assert_eq!(code, CKR_OK);
    let (code, short) = c1.operation_state_into(Some(len as usize - 1));
    assert_eq!((code, short), (CKR_BUFFER_TOO_SMALL, len));
    let saved = c1.operation_state().expect("C_GetOperationState");
    assert_eq!(saved.len(), len as usize);

    // The uninterrupted run, in the first session.
    s1.digest_update(&ABC_56[20..]).expect("update");
    let whole = s1.digest_final().expect("final");
    assert_eq!(hex(&whole), ABC_56_SHA256);

    // The saved run, in a read-only public session (state needs no login).
    c2.set_operation_state(&saved, 0, 0)
        .expect("C_SetOperationState");
    s2.digest_update(&ABC_56[20..]).expect("update");
    assert_eq!(s2.digest_final().expect("final"), whole);

    // Again after the first session closed, in a third one.
    drop(s1);
    let s3 = f.p11().open_rw_session(slot).expect("session");
    Client::of(&s3)
        .set_operation_state(&saved, 0, 0)
        .expect("restores");
    s3.digest_update(&ABC_56[20..]).expect("update");
    assert_eq!(s3.digest_final().expect("final"), whole);
}

#[test]
fn saved_states_chain_across_sessions() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let a = f.p11().open_ro_session(slot).expect("session");
    let b = f.p11().open_ro_session(slot).expect("session");
    let chunk = vec![b'a'; 10_000];
    a.digest_init(&Mechanism::Sha256).expect("init");
    // A million 'a', in odd pieces, moving between sessions every 7 pieces;
    // the restored digest replaces whatever the target session had.
    b.digest_init(&Mechanism::Sha1)
        .expect("an older digest, replaced");
    let (mut from, mut to) = (&a, &b);
    let mut fed = 0;
    let mut piece = 0;
    while fed < 1_000_000 {
        let n = (3 + piece * 977 % 9_000).min(1_000_000 - fed);
        from.digest_update(&chunk[..n]).expect("update");
        fed += n;
        piece += 1;
        if piece % 7 == 0 {
            let saved = Client::of(from).operation_state().expect("saves");
            Client::of(to)
                .set_operation_state(&saved, 0, 0)
                .expect("restores");
            std::mem::swap(&mut from, &mut to);
        }
    }
    assert_eq!(hex(&from.digest_final().expect("final")), MILLION_A_SHA256);
}

#[test]
fn each_saveable_digest_gives_the_uninterrupted_value() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.p11().open_ro_session(slot).expect("session");
    let c = Client::of(&s);
    let data: Vec<u8> = (0..300u32).map(|i| (i * 31 % 251) as u8).collect();
    for m in [
        CKM_MD5, CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512,
    ] {
        c.digest_init(Mech::none(m)).expect("init");
        s.digest_update(&data).expect("update");
        let want = s.digest_final().expect("uninterrupted");
        for cut in [0, 1, 63, 64, 65, 127, 128, 129, 300] {
            c.digest_init(Mech::none(m)).expect("init");
            s.digest_update(&data[..cut]).expect("update");
            let saved = c.operation_state().expect("saves");
            s.digest_final().expect("ends the first run");
            c.set_operation_state(&saved, 0, 0).expect("restores");
            s.digest_update(&data[cut..]).expect("update");
            assert_eq!(s.digest_final().expect("final"), want, "{m:#x} at {cut}");
        }
    }
    for m in [CKM_SHA3_256, CKM_SHA3_384, CKM_SHA3_512] {
        c.digest_init(Mech::none(m)).expect("init");
        assert_eq!(rv(c.operation_state()), CKR_STATE_UNSAVEABLE);
        s.digest_final().expect("goes on");
    }
}

fn secret(s: &Session, value: &[u8]) -> CK_OBJECT_HANDLE {
    s.create_object(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Sign(true),
        Attribute::Value(value.to_vec()),
    ])
    .expect("secret key")
    .handle()
}

#[test]
fn state_with_a_key_in_it_is_unsaveable() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let c = Client::of(&s);
    assert_eq!(rv(c.operation_state()), CKR_OPERATION_NOT_INITIALIZED);

    // A digest fed a key with C_DigestKey: its buffer holds key bytes.
    let key = secret(&s, &[0x5a; 32]);
    s.digest_init(&Mechanism::Sha256).expect("init");
    s.digest_update(b"data").expect("update");
    c.operation_state().expect("saveable before the key");
    s.digest_key(oh(key)).expect("C_DigestKey");
    assert_eq!(c.operation_state_into(None).0, CKR_STATE_UNSAVEABLE);
    s.digest_update(&[0u8; 200]).expect("more data");
    assert_eq!(rv(c.operation_state()), CKR_STATE_UNSAVEABLE);
    // The refusal leaves the digest going.
    let mut want = b"data".to_vec();
    want.extend_from_slice(&[0x5a; 32]);
    want.extend_from_slice(&[0u8; 200]);
    assert_eq!(
        s.digest_final().expect("final"),
        s.digest(&Mechanism::Sha256, &want).expect("C_Digest")
    );

    // A signing operation (HMAC), alone or beside a digest.
    s.sign_init(&Mechanism::Sha256Hmac, oh(key))
        .expect("C_SignInit");
    assert_eq!(rv(c.operation_state()), CKR_STATE_UNSAVEABLE);
    s.digest_init(&Mechanism::Sha256).expect("init");
    assert_eq!(rv(c.operation_state()), CKR_STATE_UNSAVEABLE);
    // Both still go on.
    s.sign_update(b"msg").expect("sign update");
    assert_eq!(s.sign_final().expect("sign final").len(), 32);
    c.operation_state().expect("the digest alone is saveable");
}

#[test]
fn bad_states_and_key_handles_are_refused() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let c = Client::of(&s);
    s.digest_init(&Mechanism::Sha256).expect("init");
    s.digest_update(&ABC_56[..20]).expect("update");
    let saved = c.operation_state().expect("saves");

    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("one byte".into(), vec![0]),
        (
            "foreign".into(),
            b"not a ProzHSM state, just some bytes".to_vec(),
        ),
        ("longer".into(), [saved.as_slice(), &[0]].concat()),
    ];
    for len in [4, 10, saved.len() / 2, saved.len() - 1] {
        cases.push((format!("first {len} bytes"), saved[..len].to_vec()));
    }
    for at in [0, 4, 5, 9, 12, saved.len() - 30, saved.len() - 1] {
        let mut bad = saved.clone();
        bad[at] ^= 0x40;
        cases.push((format!("byte {at} changed"), bad));
    }
    // A second session whose own digest must survive every refusal.
    let other = f.p11().open_ro_session(slot).expect("session");
    let oc = Client::of(&other);
    other.digest_init(&Mechanism::Sha256).expect("init");
    other.digest_update(b"ab").expect("update");
    for (what, blob) in &cases {
        assert_eq!(
            rv(oc.set_operation_state(blob, 0, 0)),
            CKR_SAVED_STATE_INVALID,
            "{what}"
        );
    }
    // A saved digest needs no key: any handle is refused, and nothing
    // changes.
    let key = secret(&s, b"k");
    for (enc, auth) in [(key, 0), (0, key), (key, key), (12345, 0)] {
        assert_eq!(
            rv(oc.set_operation_state(&saved, enc, auth)),
            CKR_KEY_NOT_NEEDED,
            "{enc} {auth}"
        );
    }
    other.digest_update(b"c").expect("update");
    assert_eq!(
        hex(&other.digest_final().expect("final")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // A NULL state pointer is refused, not a crash.
    let raw = Raw::load();
    // SAFETY: a NULL state with a length; the module must refuse it.
    let code = unsafe {
        raw.f().C_SetOperationState.unwrap()(other.handle(), std::ptr::null_mut(), 16, 0, 0)
    };
    assert_eq!(code, CKR_ARGUMENTS_BAD);
    // SAFETY: a NULL length pointer; the module must refuse it.
    let code = unsafe {
        raw.f().C_GetOperationState.unwrap()(s.handle(), std::ptr::null_mut(), std::ptr::null_mut())
    };
    assert_eq!(code, CKR_ARGUMENTS_BAD);
}
