//! Session management through the C ABI (PKCS#11 3.0 §5.6): opening and
//! closing, session states, login and logout rules.

mod common;

use common::{code, pin, Fixture, Raw, SO_PIN, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::session::{SessionState, UserType};
use cryptoki_sys::*;

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
