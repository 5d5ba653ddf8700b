//! Object management through the C ABI (PKCS#11 3.0 §5.7): create, copy,
//! destroy, size, get and set attributes with their per-attribute results,
//! find; session versus token objects; private objects and login; and the
//! store shared by processes.

mod common;

use common::{code, data_object, pin, Fixture, Raw, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki_sys::*;

fn aes_key(label: &str, sensitive: bool, token: bool) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(token),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Value(vec![0x42; 32]),
        Attribute::Sensitive(sensitive),
        Attribute::Extractable(true),
    ]
}

#[test]
fn create_find_read_and_destroy_a_data_object() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let h = s
        .create_object(&data_object("blob", b"hello", true, false))
        .expect("create");
    let found = s
        .find_objects(&[Attribute::Label(b"blob".to_vec())])
        .expect("find");
    assert_eq!(found, vec![h]);
    let attrs = s
        .get_attributes(
            h,
            &[
                AttributeType::Value,
                AttributeType::Class,
                AttributeType::Token,
            ],
        )
        .expect("get");
    assert!(attrs.contains(&Attribute::Value(b"hello".to_vec())));
    assert!(attrs.contains(&Attribute::Class(ObjectClass::DATA)));
    assert!(attrs.contains(&Attribute::Token(true)));
    s.destroy_object(h).expect("destroy");
    assert!(s
        .find_objects(&[Attribute::Label(b"blob".to_vec())])
        .expect("find")
        .is_empty());
    assert_eq!(code(s.destroy_object(h)), RvError::ObjectHandleInvalid);
}

#[test]
fn token_objects_persist_and_session_objects_vanish() {
    let mut f = Fixture::new();
    let slot = f.init_token("demo");
    {
        let s = f.user_session(slot);
        s.create_object(&data_object("kept", b"1", true, false))
            .expect("token object");
        s.create_object(&data_object("gone", b"2", false, false))
            .expect("session object");
        let other = f.p11().open_ro_session(slot).expect("second session");
        // A session object is visible to the application's other sessions.
        assert_eq!(
            other
                .find_objects(&[Attribute::Label(b"gone".to_vec())])
                .expect("find")
                .len(),
            1
        );
    }
    let s = f.p11().open_ro_session(slot).expect("open");
    assert!(s
        .find_objects(&[Attribute::Label(b"gone".to_vec())])
        .expect("find")
        .is_empty());
    drop(s);
    f.restart();
    let slot = f.slot_by_label("demo");
    let s = f.p11().open_ro_session(slot).expect("open");
    assert_eq!(
        s.find_objects(&[Attribute::Label(b"kept".to_vec())])
            .expect("find")
            .len(),
        1
    );
}

#[test]
fn private_objects_need_the_user() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let rw = f.p11().open_rw_session(slot).expect("rw");
    assert_eq!(
        code(rw.create_object(&data_object("p", b"x", true, true))),
        RvError::UserNotLoggedIn
    );
    rw.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    let h = rw
        .create_object(&data_object("p", b"x", true, true))
        .expect("create private");
    let sh = rw
        .create_object(&data_object("ps", b"y", false, true))
        .expect("private session object");
    rw.logout().expect("logout");
    // Invisible now, and the old handles are dead for good.
    assert!(rw.find_objects(&[]).expect("find").is_empty());
    assert_eq!(
        code(rw.get_attributes(h, &[AttributeType::Value])),
        RvError::ObjectHandleInvalid
    );
    rw.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    assert_eq!(
        code(rw.get_attributes(h, &[AttributeType::Value])),
        RvError::ObjectHandleInvalid
    );
    assert_eq!(
        code(rw.get_attributes(sh, &[AttributeType::Value])),
        RvError::ObjectHandleInvalid
    );
    let found = rw
        .find_objects(&[Attribute::Label(b"p".to_vec())])
        .expect("find");
    assert_eq!(found.len(), 1);
    // The private session object was destroyed at logout.
    assert!(rw
        .find_objects(&[Attribute::Label(b"ps".to_vec())])
        .expect("find")
        .is_empty());
}

#[test]
fn read_only_sessions_cannot_write_token_objects() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let rw = f.user_session(slot);
    let h = rw
        .create_object(&data_object("t", b"x", true, false))
        .expect("create");
    let ro = f.p11().open_ro_session(slot).expect("ro");
    assert_eq!(
        code(ro.create_object(&data_object("t2", b"x", true, false))),
        RvError::SessionReadOnly
    );
    assert_eq!(code(ro.destroy_object(h)), RvError::SessionReadOnly);
    assert_eq!(
        code(ro.update_attributes(h, &[Attribute::Label(b"new".to_vec())])),
        RvError::SessionReadOnly
    );
    // Session objects are fine in a read-only session.
    ro.create_object(&data_object("s", b"x", false, false))
        .expect("session object");
}

#[test]
fn sensitive_values_are_never_read() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let open = s
        .create_object(&aes_key("open", false, false))
        .expect("create");
    let closed = s
        .create_object(&aes_key("closed", true, false))
        .expect("create");
    let v = s
        .get_attributes(open, &[AttributeType::Value])
        .expect("readable");
    assert_eq!(v, vec![Attribute::Value(vec![0x42; 32])]);
    assert!(matches!(
        s.get_attribute_info(closed, &[AttributeType::Value])
            .expect("info")[..],
        [AttributeInfo::Sensitive]
    ));
    // Sensitive is one-way; extractable too.
    assert_eq!(
        code(s.update_attributes(closed, &[Attribute::Sensitive(false)])),
        RvError::AttributeReadOnly
    );
    s.update_attributes(open, &[Attribute::Sensitive(true)])
        .expect("false -> true");
    assert!(matches!(
        s.get_attribute_info(open, &[AttributeType::Value])
            .expect("info")[..],
        [AttributeInfo::Sensitive]
    ));
    s.update_attributes(open, &[Attribute::Extractable(false)])
        .expect("true -> false");
    assert_eq!(
        code(s.update_attributes(open, &[Attribute::Extractable(true)])),
        RvError::AttributeReadOnly
    );
    // A find cannot test a secret value.
    assert!(s
        .find_objects(&[Attribute::Value(vec![0x42; 32])])
        .expect("find")
        .is_empty());
}

#[test]
fn get_attribute_value_reports_each_attribute() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let key = s.create_object(&aes_key("k", true, false)).expect("create");
    let raw = Raw::load();
    let h = {
        // The session handle of `s`: find it through a fresh raw session.
        let mut h: CK_SESSION_HANDLE = 0;
        // SAFETY: valid out pointer.
        assert_eq!(
            unsafe {
                raw.f().C_OpenSession.unwrap()(
                    slot.id(),
                    CKF_SERIAL_SESSION,
                    std::ptr::null_mut(),
                    None,
                    &mut h,
                )
            },
            CKR_OK
        );
        h
    };
    let mut label = [0u8; 1];
    let mut class: CK_ULONG = 0;
    let mut template = [
        CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: &mut class as *mut _ as *mut _,
            ulValueLen: 8,
        },
        CK_ATTRIBUTE {
            type_: CKA_VALUE,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_MODULUS,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: std::ptr::null_mut(),
            ulValueLen: 0,
        },
    ];
    // SAFETY: a valid template.
    let rv =
        unsafe { raw.f().C_GetAttributeValue.unwrap()(h, key.handle(), template.as_mut_ptr(), 4) };
    assert!(
        rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID,
        "rv {rv:#x}"
    );
    assert_eq!(class, CKO_SECRET_KEY);
    assert_eq!(template[0].ulValueLen, 8);
    assert_eq!(template[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(template[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(template[3].ulValueLen, 1);
    // A short buffer: CKR_BUFFER_TOO_SMALL and that entry unavailable.
    let mut t = [CK_ATTRIBUTE {
        type_: CKA_LABEL,
        pValue: label.as_mut_ptr() as *mut _,
        ulValueLen: 0,
    }];
    let mut long_label = [0u8; 0];
    t[0].pValue = long_label.as_mut_ptr() as *mut _;
    s.update_attributes(key, &[Attribute::Label(b"longer".to_vec())])
        .expect("relabel");
    // SAFETY: a valid template with a zero-length buffer.
    let rv = unsafe { raw.f().C_GetAttributeValue.unwrap()(h, key.handle(), t.as_mut_ptr(), 1) };
    assert_eq!(rv, CKR_BUFFER_TOO_SMALL);
    assert_eq!(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    // C_GetObjectSize.
    let mut size: CK_ULONG = 0;
    // SAFETY: valid out pointer, then NULL.
    unsafe {
        assert_eq!(
            raw.f().C_GetObjectSize.unwrap()(h, key.handle(), &mut size),
            CKR_OK
        );
        assert_eq!(
            raw.f().C_GetObjectSize.unwrap()(h, key.handle(), std::ptr::null_mut()),
            CKR_ARGUMENTS_BAD
        );
    }
    assert!(size >= 32, "size {size}");
    // NULL template with a count.
    // SAFETY: NULL must be refused.
    assert_eq!(
        unsafe { raw.f().C_GetAttributeValue.unwrap()(h, key.handle(), std::ptr::null_mut(), 1) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn copy_and_modify_rules() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    let h = s
        .create_object(&data_object("orig", b"v", false, false))
        .expect("create");
    let c = s
        .copy_object(
            h,
            &[Attribute::Token(true), Attribute::Label(b"copy".to_vec())],
        )
        .expect("copy");
    assert_ne!(c, h);
    let attrs = s
        .get_attributes(c, &[AttributeType::Token, AttributeType::Value])
        .expect("get");
    assert!(
        attrs.contains(&Attribute::Token(true)) && attrs.contains(&Attribute::Value(b"v".to_vec()))
    );
    let fixed = s
        .create_object(
            &[
                data_object("fixed", b"v", false, false),
                vec![
                    Attribute::Modifiable(false),
                    Attribute::Copyable(false),
                    Attribute::Destroyable(false),
                ],
            ]
            .concat(),
        )
        .expect("create");
    assert_eq!(
        code(s.update_attributes(fixed, &[Attribute::Label(b"x".to_vec())])),
        RvError::ActionProhibited
    );
    assert_eq!(code(s.copy_object(fixed, &[])), RvError::ActionProhibited);
    assert_eq!(code(s.destroy_object(fixed)), RvError::ActionProhibited);
}

#[test]
fn create_checks_the_template() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    assert_eq!(
        code(s.create_object(&[Attribute::Label(b"no class".to_vec())])),
        RvError::TemplateIncomplete
    );
    assert_eq!(
        code(s.create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES)
        ])),
        RvError::TemplateIncomplete
    );
    let raw = Raw::load();
    let mut h: CK_SESSION_HANDLE = 0;
    let mut obj: CK_OBJECT_HANDLE = 0;
    // SAFETY: NULL template with a count, and NULL out pointer.
    unsafe {
        assert_eq!(
            raw.f().C_OpenSession.unwrap()(
                slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h
            ),
            CKR_OK
        );
        assert_eq!(
            raw.f().C_CreateObject.unwrap()(h, std::ptr::null_mut(), 2, &mut obj),
            CKR_ARGUMENTS_BAD
        );
        let mut class = CKO_DATA;
        let mut t = [CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: &mut class as *mut _ as *mut _,
            ulValueLen: 8,
        }];
        assert_eq!(
            raw.f().C_CreateObject.unwrap()(h, t.as_mut_ptr(), 1, std::ptr::null_mut()),
            CKR_ARGUMENTS_BAD
        );
        // A value pointer that is NULL with a length is refused.
        let mut t = [CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: std::ptr::null_mut(),
            ulValueLen: 8,
        }];
        assert_eq!(
            raw.f().C_CreateObject.unwrap()(h, t.as_mut_ptr(), 1, &mut obj),
            CKR_ARGUMENTS_BAD
        );
    }
}

#[test]
fn find_operation_state_rules() {
    let f = Fixture::new();
    let slot = f.init_token("demo");
    let s = f.user_session(slot);
    for i in 0..25 {
        s.create_object(&data_object(&format!("o{i}"), b"x", false, false))
            .expect("create");
    }
    let raw = Raw::load();
    let mut h: CK_SESSION_HANDLE = 0;
    let mut found = [0 as CK_OBJECT_HANDLE; 10];
    let mut n: CK_ULONG = 0;
    // SAFETY: valid pointers throughout.
    unsafe {
        assert_eq!(
            raw.f().C_OpenSession.unwrap()(
                slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h
            ),
            CKR_OK
        );
        assert_eq!(
            raw.f().C_FindObjects.unwrap()(h, found.as_mut_ptr(), 10, &mut n),
            CKR_OPERATION_NOT_INITIALIZED
        );
        assert_eq!(
            raw.f().C_FindObjectsFinal.unwrap()(h),
            CKR_OPERATION_NOT_INITIALIZED
        );
        assert_eq!(
            raw.f().C_FindObjectsInit.unwrap()(h, std::ptr::null_mut(), 0),
            CKR_OK
        );
        assert_eq!(
            raw.f().C_FindObjectsInit.unwrap()(h, std::ptr::null_mut(), 0),
            CKR_OPERATION_ACTIVE
        );
        let mut total = 0;
        loop {
            assert_eq!(
                raw.f().C_FindObjects.unwrap()(h, found.as_mut_ptr(), 10, &mut n),
                CKR_OK
            );
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 25);
        assert_eq!(
            raw.f().C_FindObjects.unwrap()(h, std::ptr::null_mut(), 10, &mut n),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(raw.f().C_FindObjectsFinal.unwrap()(h), CKR_OK);
    }
}

#[test]
fn another_process_sees_our_objects_and_we_see_its() {
    let f = Fixture::new();
    let slot = f.init_token("shared");
    let s = f.user_session(slot);
    s.create_object(&data_object("from-parent", b"p", true, true))
        .expect("create");
    // Load the index before the child writes.
    assert!(s
        .find_objects(&[Attribute::Label(b"from-child".to_vec())])
        .expect("find")
        .is_empty());
    let status = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "child_process_part", "--ignored", "--nocapture"])
        .env("PROZHSM_CONF", f.dir.path().join("prozhsm.conf"))
        .status()
        .expect("spawn child");
    assert!(status.success(), "child process failed");
    let found = s
        .find_objects(&[Attribute::Label(b"from-child".to_vec())])
        .expect("find");
    assert_eq!(
        found.len(),
        1,
        "the child's object is visible without a restart"
    );
    let v = s
        .get_attributes(found[0], &[AttributeType::Value])
        .expect("get");
    assert_eq!(v, vec![Attribute::Value(b"c".to_vec())]);
}

/// Run by `another_process_sees_our_objects_and_we_see_its` in a second
/// process; not a test on its own.
#[test]
#[ignore = "run by another_process_sees_our_objects_and_we_see_its"]
fn child_process_part() {
    let p = cryptoki::context::Pkcs11::new(common::module_path()).expect("load");
    p.initialize(cryptoki::context::CInitializeArgs::new(
        cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
    ))
    .expect("init");
    let slot = p
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            p.get_token_info(*s)
                .map(|i| i.label() == "shared")
                .unwrap_or(false)
        })
        .expect("the parent's token");
    let s = p.open_rw_session(slot).expect("open");
    s.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    assert_eq!(
        s.find_objects(&[Attribute::Label(b"from-parent".to_vec())])
            .expect("find")
            .len(),
        1
    );
    s.create_object(&data_object("from-child", b"c", true, true))
        .expect("create");
}
