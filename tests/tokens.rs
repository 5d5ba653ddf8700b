//! Slot and token management through the C ABI (PKCS#11 3.0 §5.5): the slot
//! list with its free slot, C_InitToken, C_InitPIN, C_SetPIN, PIN counters
//! and locking, token info flags.

mod common;

use common::{code, pin, Fixture, Raw, SO_PIN, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::session::UserType;
use cryptoki_sys::*;

#[test]
fn a_fresh_directory_has_one_free_slot() {
    let f = Fixture::new();
    let all = f.p11().get_all_slots().expect("slots");
    assert_eq!(all.len(), 1);
    assert_eq!(f.p11().get_slots_with_token().expect("present").len(), 1);
    assert!(f
        .p11()
        .get_slots_with_initialized_token()
        .expect("initialized")
        .is_empty());
    let info = f.p11().get_token_info(all[0]).expect("token info");
    assert!(!info.token_initialized());
    assert!(info.rng() && info.login_required());
    let slot = f.p11().get_slot_info(all[0]).expect("slot info");
    assert!(slot.token_present());
    // A session on an uninitialized token is refused.
    assert_eq!(
        code(f.p11().open_ro_session(all[0])),
        RvError::TokenNotRecognized
    );
}

#[test]
fn slot_list_two_call_convention_and_bad_slot() {
    let f = Fixture::new();
    f.init_token("one");
    let raw = Raw::load();
    let mut count: CK_ULONG = 0;
    // SAFETY: NULL list asks for the count.
    assert_eq!(
        unsafe { raw.f().C_GetSlotList.unwrap()(CK_FALSE, std::ptr::null_mut(), &mut count) },
        CKR_OK
    );
    assert_eq!(count, 2);
    let mut slots = [0 as CK_SLOT_ID; 2];
    let mut short: CK_ULONG = 1;
    // SAFETY: buffer of 2 declared as 1.
    assert_eq!(
        unsafe { raw.f().C_GetSlotList.unwrap()(CK_FALSE, slots.as_mut_ptr(), &mut short) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(short, 2);
    // SAFETY: NULL count.
    assert_eq!(
        unsafe {
            raw.f().C_GetSlotList.unwrap()(CK_FALSE, slots.as_mut_ptr(), std::ptr::null_mut())
        },
        CKR_ARGUMENTS_BAD
    );
    let mut info = CK_SLOT_INFO::default();
    // SAFETY: valid out pointer, unknown slot.
    assert_eq!(
        unsafe { raw.f().C_GetSlotInfo.unwrap()(4242, &mut info) },
        CKR_SLOT_ID_INVALID
    );
    let mut tinfo = CK_TOKEN_INFO::default();
    // SAFETY: valid out pointer, unknown slot.
    assert_eq!(
        unsafe { raw.f().C_GetTokenInfo.unwrap()(4242, &mut tinfo) },
        CKR_SLOT_ID_INVALID
    );
}

#[test]
fn init_token_makes_a_token_and_a_new_free_slot() {
    let mut f = Fixture::new();
    let slot = f.init_token("demo");
    let info = f.p11().get_token_info(slot).expect("info");
    assert_eq!(info.label(), "demo");
    assert!(info.token_initialized() && info.user_pin_initialized());
    assert_eq!(info.min_pin_length(), 4);
    assert_eq!(f.p11().get_all_slots().expect("slots").len(), 2);
    // It persists: a new start of the library finds it.
    f.restart();
    let slot = f.slot_by_label("demo");
    let s = f.user_session(slot);
    s.logout().expect("logout");
}

#[test]
fn init_token_checks_pin_length_and_sessions() {
    let f = Fixture::new();
    let free = f.free_slot();
    assert_eq!(
        code(f.p11().init_token(free, &pin("123"), "short")),
        RvError::PinLenRange
    );
    let slot = f.init_token("demo");
    let _s = f.p11().open_ro_session(slot).expect("open");
    assert_eq!(
        code(f.p11().init_token(slot, &pin(SO_PIN), "again")),
        RvError::SessionExists
    );
}

#[test]
fn reinit_needs_the_so_pin_and_erases_objects() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    {
        let s = f.user_session(slot);
        s.create_object(&common::data_object("kept?", b"x", true, false))
            .expect("create");
    }
    assert_eq!(
        code(f.p11().init_token(slot, &pin("87654321"), "again")),
        RvError::PinIncorrect
    );
    f.p11()
        .init_token(slot, &pin(SO_PIN), "again")
        .expect("re-init");
    let info = f.p11().get_token_info(slot).expect("info");
    assert_eq!(info.label(), "again");
    assert!(!info.user_pin_initialized());
    let s = f.p11().open_ro_session(slot).expect("open");
    assert!(s.find_objects(&[]).expect("find").is_empty());
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::UserPinNotInitialized
    );
}

#[test]
fn init_pin_needs_the_so_and_a_rw_session() {
    let f = Fixture::new();
    let slot = f.free_slot();
    f.p11()
        .init_token(slot, &pin(SO_PIN), "demo")
        .expect("init");
    let s = f.p11().open_rw_session(slot).expect("open");
    assert_eq!(code(s.init_pin(&pin(USER_PIN))), RvError::UserNotLoggedIn);
    s.login(UserType::So, Some(&pin(SO_PIN))).expect("SO login");
    assert_eq!(code(s.init_pin(&pin("12"))), RvError::PinLenRange);
    s.init_pin(&pin(USER_PIN)).expect("init pin");
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_initialized());
}

#[test]
fn set_pin_rekeys_and_the_old_pin_stops_working() {
    let mut f = Fixture::new();
    let slot = f.init_token("demo");
    {
        let s = f.user_session(slot);
        s.create_object(&common::data_object("secret", b"private data", true, true))
            .expect("create");
        assert_eq!(
            code(s.set_pin(&pin("0000"), &pin("5678"))),
            RvError::PinIncorrect
        );
        assert_eq!(
            code(s.set_pin(&pin(USER_PIN), &pin("1"))),
            RvError::PinLenRange
        );
        s.set_pin(&pin(USER_PIN), &pin("5678")).expect("set pin");
    }
    f.restart();
    let slot = f.slot_by_label("demo");
    let s = f.p11().open_rw_session(slot).expect("open");
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::PinIncorrect
    );
    s.login(UserType::User, Some(&pin("5678")))
        .expect("new pin");
    let found = s
        .find_objects(&[cryptoki::object::Attribute::Label(b"secret".to_vec())])
        .expect("find");
    assert_eq!(found.len(), 1, "private object readable with the new PIN");
    s.logout().expect("logout");
    // A read-only session cannot change a PIN.
    let ro = f.p11().open_ro_session(slot).expect("open ro");
    assert_eq!(
        code(ro.set_pin(&pin("5678"), &pin("9999"))),
        RvError::SessionReadOnly
    );
    // The SO changes the SO PIN.
    drop(ro);
    s.login(UserType::So, Some(&pin(SO_PIN))).expect("so");
    s.set_pin(&pin(SO_PIN), &pin("87654321"))
        .expect("so set pin");
    s.logout().expect("logout");
    assert_eq!(
        code(s.login(UserType::So, Some(&pin(SO_PIN)))),
        RvError::PinIncorrect
    );
    s.login(UserType::So, Some(&pin("87654321")))
        .expect("new so pin");
}

#[test]
fn wrong_pins_are_counted_lock_and_survive_restart() {
    let mut f = Fixture::with_config("max_pin_attempts = 3");
    let slot = f.init_token("demo");
    let s = f.p11().open_rw_session(slot).expect("open");
    assert_eq!(
        code(s.login(UserType::User, Some(&pin("0000")))),
        RvError::PinIncorrect
    );
    let info = f.p11().get_token_info(slot).expect("info");
    assert!(info.user_pin_count_low() && !info.user_pin_final_try() && !info.user_pin_locked());
    assert_eq!(
        code(s.login(UserType::User, Some(&pin("0000")))),
        RvError::PinIncorrect
    );
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_final_try());
    drop(s);
    f.restart();
    let slot = f.slot_by_label("demo");
    let s = f.p11().open_rw_session(slot).expect("open");
    assert!(
        f.p11()
            .get_token_info(slot)
            .expect("info")
            .user_pin_final_try(),
        "count survives restart"
    );
    assert_eq!(
        code(s.login(UserType::User, Some(&pin("0000")))),
        RvError::PinIncorrect
    );
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_locked());
    // Locked: even the right PIN is refused.
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::PinLocked
    );
    // Only the SO resets it.
    s.login(UserType::So, Some(&pin(SO_PIN))).expect("so");
    s.init_pin(&pin(USER_PIN)).expect("reset user pin");
    s.logout().expect("logout");
    assert!(!f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_locked());
    s.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("user again");
    // A right PIN clears the count.
    s.logout().expect("logout");
    assert_eq!(
        code(s.login(UserType::User, Some(&pin("0000")))),
        RvError::PinIncorrect
    );
    s.login(UserType::User, Some(&pin(USER_PIN))).expect("user");
    assert!(!f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_count_low());
}

#[test]
fn init_token_refuses_null_pin_and_label() {
    let f = Fixture::new();
    let slot = f.free_slot();
    let raw = Raw::load();
    let mut label = common::label32("x");
    // SAFETY: NULL PIN with a length must be refused.
    assert_eq!(
        unsafe {
            raw.f().C_InitToken.unwrap()(slot.id(), std::ptr::null_mut(), 8, label.as_mut_ptr())
        },
        CKR_ARGUMENTS_BAD
    );
    let mut so = *b"12345678";
    // SAFETY: NULL label must be refused.
    assert_eq!(
        unsafe {
            raw.f().C_InitToken.unwrap()(slot.id(), so.as_mut_ptr(), 8, std::ptr::null_mut())
        },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn configured_mechanisms_limit_the_list_and_the_operations() {
    let f = Fixture::with_config("[slots]\nmechanisms = [\"CKM_SHA256\", \"CKM_EC_KEY_PAIR_GEN\"]");
    let slot = f.init_token("demo");
    let list = f.p11().get_mechanism_list(slot).expect("list");
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.contains(&cryptoki::mechanism::MechanismType::SHA256));
    assert_eq!(
        code(
            f.p11()
                .get_mechanism_info(slot, cryptoki::mechanism::MechanismType::SHA1)
        ),
        RvError::MechanismInvalid
    );
    let s = f.p11().open_ro_session(slot).expect("open");
    assert_eq!(
        s.digest(&cryptoki::mechanism::Mechanism::Sha256, b"abc")
            .expect("sha256")
            .len(),
        32
    );
    assert_eq!(
        code(s.digest(&cryptoki::mechanism::Mechanism::Sha1, b"abc")),
        RvError::MechanismInvalid
    );
}
