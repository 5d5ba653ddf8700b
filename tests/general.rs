//! General-purpose functions through the C ABI (PKCS#11 3.0 §5.4):
//! C_Initialize's argument rules, C_Finalize, C_GetInfo, function lists and
//! interfaces.

mod common;

use std::ptr;

use common::{Fixture, Raw};
use cryptoki_sys::*;

/// Initialize through the raw list with the given args.
fn initialize(raw: &Raw, args: Option<&mut CK_C_INITIALIZE_ARGS>) -> CK_RV {
    let p = args.map_or(ptr::null_mut(), |a| a as *mut _ as *mut std::ffi::c_void);
    // SAFETY: a valid or NULL argument, as C_Initialize takes.
    unsafe { raw.f().C_Initialize.expect("C_Initialize")(p) }
}

fn finalize(raw: &Raw) -> CK_RV {
    // SAFETY: NULL is the only valid pReserved.
    unsafe { raw.f().C_Finalize.expect("C_Finalize")(ptr::null_mut()) }
}

fn args(flags: CK_FLAGS) -> CK_C_INITIALIZE_ARGS {
    CK_C_INITIALIZE_ARGS {
        CreateMutex: None,
        DestroyMutex: None,
        LockMutex: None,
        UnlockMutex: None,
        flags,
        pReserved: ptr::null_mut(),
    }
}

unsafe extern "C" fn create_mutex(_: *mut *mut std::ffi::c_void) -> CK_RV {
    CKR_OK
}
unsafe extern "C" fn mutex_op(_: *mut std::ffi::c_void) -> CK_RV {
    CKR_OK
}

#[test]
fn initialize_and_finalize_follow_the_state_rules() {
    let mut f = Fixture::new();
    f.stop();
    let raw = Raw::load();
    let mut info = CK_INFO::default();
    // SAFETY: valid out pointer.
    assert_eq!(
        unsafe { raw.f().C_GetInfo.unwrap()(&mut info) },
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    assert_eq!(finalize(&raw), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_eq!(initialize(&raw, None), CKR_OK);
    assert_eq!(initialize(&raw, None), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    // SAFETY: a non-NULL pReserved must be refused, not dereferenced.
    assert_eq!(
        unsafe { raw.f().C_Finalize.unwrap()(8 as *mut std::ffi::c_void) },
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(finalize(&raw), CKR_OK);
    assert_eq!(finalize(&raw), CKR_CRYPTOKI_NOT_INITIALIZED);
}

#[test]
fn initialize_checks_its_arguments() {
    let mut f = Fixture::new();
    f.stop();
    let raw = Raw::load();

    let mut a = args(0);
    a.pReserved = std::ptr::dangling_mut::<std::ffi::c_void>();
    assert_eq!(initialize(&raw, Some(&mut a)), CKR_ARGUMENTS_BAD);

    // Some but not all mutex callbacks.
    let mut a = args(CKF_OS_LOCKING_OK);
    a.CreateMutex = Some(create_mutex);
    assert_eq!(initialize(&raw, Some(&mut a)), CKR_ARGUMENTS_BAD);

    // All callbacks without CKF_OS_LOCKING_OK: the library would have to use
    // them, which it cannot.
    let mut a = args(0);
    a.CreateMutex = Some(create_mutex);
    a.DestroyMutex = Some(mutex_op);
    a.LockMutex = Some(mutex_op);
    a.UnlockMutex = Some(mutex_op);
    assert_eq!(initialize(&raw, Some(&mut a)), CKR_CANT_LOCK);

    // With CKF_OS_LOCKING_OK the native locks serve.
    a.flags = CKF_OS_LOCKING_OK;
    assert_eq!(initialize(&raw, Some(&mut a)), CKR_OK);
    assert_eq!(finalize(&raw), CKR_OK);

    let mut a = args(CKF_LIBRARY_CANT_CREATE_OS_THREADS);
    assert_eq!(initialize(&raw, Some(&mut a)), CKR_OK);
    assert_eq!(finalize(&raw), CKR_OK);
}

#[test]
fn info_names_the_library_and_version_3_0() {
    let f = Fixture::new();
    let info = f.p11().get_library_info().expect("C_GetInfo");
    assert_eq!(info.cryptoki_version().major(), 3);
    assert_eq!(info.cryptoki_version().minor(), 0);
    assert_eq!(info.manufacturer_id(), "ProzHSM");
    assert!(
        info.library_description().contains("strict"),
        "{}",
        info.library_description()
    );
    let raw = Raw::load();
    // SAFETY: NULL out pointer must be refused.
    assert_eq!(
        unsafe { raw.f().C_GetInfo.unwrap()(ptr::null_mut()) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn function_lists_and_interfaces() {
    let _f = Fixture::new();
    let raw = Raw::load();
    let f = raw.f();
    assert_eq!((f.version.major, f.version.minor), (3, 0));

    // The 2.40 list through C_GetFunctionList.
    let mut list: *mut CK_FUNCTION_LIST = ptr::null_mut();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { f.C_GetFunctionList.unwrap()(&mut list) }, CKR_OK);
    // SAFETY: the module returned its static list.
    let list = unsafe { &*list };
    assert_eq!((list.version.major, list.version.minor), (2, 40));
    assert!(list.C_Sign.is_some() && list.C_WaitForSlotEvent.is_some());
    // SAFETY: NULL must be refused.
    assert_eq!(
        unsafe { f.C_GetFunctionList.unwrap()(ptr::null_mut()) },
        CKR_ARGUMENTS_BAD
    );

    // Every 3.0 entry is present.
    assert!(
        f.C_GetInterfaceList.is_some()
            && f.C_LoginUser.is_some()
            && f.C_MessageVerifyFinal.is_some()
    );

    // C_GetInterfaceList: two-call convention.
    let mut count: CK_ULONG = 0;
    // SAFETY: NULL list asks for the count.
    assert_eq!(
        unsafe { f.C_GetInterfaceList.unwrap()(ptr::null_mut(), &mut count) },
        CKR_OK
    );
    assert_eq!(count, 2);
    let mut short: CK_ULONG = 1;
    let mut ifaces = [CK_INTERFACE {
        pInterfaceName: ptr::null_mut(),
        pFunctionList: ptr::null_mut(),
        flags: 0,
    }; 2];
    // SAFETY: a buffer of 2 entries, declared as 1.
    assert_eq!(
        unsafe { f.C_GetInterfaceList.unwrap()(ifaces.as_mut_ptr(), &mut short) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(short, 2);
    // SAFETY: a buffer of 2 entries.
    assert_eq!(
        unsafe { f.C_GetInterfaceList.unwrap()(ifaces.as_mut_ptr(), &mut count) },
        CKR_OK
    );
    for i in &ifaces {
        // SAFETY: names are NUL-terminated statics.
        let name = unsafe { std::ffi::CStr::from_ptr(i.pInterfaceName as *const std::ffi::c_char) };
        assert_eq!(name.to_bytes(), b"PKCS 11");
    }

    // C_GetInterface by name and version.
    let mut name = *b"PKCS 11\0";
    let mut v240 = CK_VERSION {
        major: 2,
        minor: 40,
    };
    let mut iface: *mut CK_INTERFACE = ptr::null_mut();
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { f.C_GetInterface.unwrap()(name.as_mut_ptr(), &mut v240, &mut iface, 0) },
        CKR_OK
    );
    // SAFETY: the module returned a static interface.
    let v = unsafe { (*((*iface).pFunctionList as *const CK_FUNCTION_LIST)).version };
    assert_eq!((v.major, v.minor), (2, 40));
    let mut v9 = CK_VERSION { major: 9, minor: 9 };
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { f.C_GetInterface.unwrap()(name.as_mut_ptr(), &mut v9, &mut iface, 0) },
        CKR_ARGUMENTS_BAD
    );
    let mut other = *b"Vendor\0";
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { f.C_GetInterface.unwrap()(other.as_mut_ptr(), ptr::null_mut(), &mut iface, 0) },
        CKR_ARGUMENTS_BAD
    );
    // SAFETY: NULL out pointer.
    assert_eq!(
        unsafe { f.C_GetInterface.unwrap()(ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), 0) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn every_call_before_initialize_is_refused() {
    let mut f = Fixture::new();
    f.stop();
    let raw = Raw::load();
    let mut count: CK_ULONG = 0;
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            raw.f().C_GetSlotList.unwrap()(CK_FALSE, ptr::null_mut(), &mut count),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(
            raw.f().C_CloseSession.unwrap()(1),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(
            raw.f().C_Sign.unwrap()(1, ptr::null_mut(), 0, ptr::null_mut(), &mut count),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
    }
}

#[test]
fn a_bad_config_is_a_clear_error_not_a_crash() {
    let mut f = Fixture::new();
    f.stop();
    std::fs::write(f.dir.path().join("prozhsm.conf"), "token_dir = [not toml").expect("write");
    let raw = Raw::load();
    assert_eq!(initialize(&raw, None), CKR_GENERAL_ERROR);
    std::env::set_var("PROZHSM_CONF", f.dir.path().join("missing.conf"));
    assert_eq!(initialize(&raw, None), CKR_GENERAL_ERROR);
    // A good config afterwards works: nothing was left half-initialized.
    common::write_config(f.dir.path(), "");
    std::env::set_var("PROZHSM_CONF", f.dir.path().join("prozhsm.conf"));
    assert_eq!(initialize(&raw, None), CKR_OK);
    assert_eq!(finalize(&raw), CKR_OK);
}
