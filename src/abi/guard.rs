//! The guard every exported function passes through, and the macro that
//! writes exported functions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use cryptoki_sys::{CKR_GENERAL_ERROR, CKR_OK, CK_RV};

use crate::error::Result;

/// Set when a call panicked: the library's state may be half-updated, so
/// every later call fails closed until C_Finalize (rustls-ffi's lesson).
static POISONED: AtomicBool = AtomicBool::new(false);

/// Run one entry point's body: refuse when poisoned, catch panics, turn the
/// result into a CK_RV.
pub fn guard(name: &'static str, body: impl FnOnce() -> Result<()>) -> CK_RV {
    let finalizing = name == "C_Finalize";
    if POISONED.load(Ordering::Acquire) && !finalizing {
        return CKR_GENERAL_ERROR;
    }
    let result = catch_unwind(AssertUnwindSafe(body));
    // Crypto code (aws-lc's SHA-512 in Ed25519, AES) leaves key-derived
    // values in vector registers; wipe them before returning to the client,
    // whose core dump or debugger would otherwise see them. ~17 ns.
    crate::secure::clear_registers();
    // C_Finalize ends the poisoned state whatever it returns: the state it
    // would protect is gone.
    POISONED.store(result.is_err() && !finalizing, Ordering::Release);
    match result {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(rv)) => {
            log::debug!("{name} -> {rv:?}");
            rv.0
        }
        Err(_) => {
            log::error!("{name} panicked; failing closed until C_Finalize");
            CKR_GENERAL_ERROR
        }
    }
}

/// Write exported PKCS#11 functions. Each body is an expression of type
/// `Result<()>` that may use the client's pointers through `convert`.
macro_rules! pkcs11_fn {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block
    )*) => {
        $(
            $(#[$doc])*
            #[no_mangle]
            pub unsafe extern "C" fn $name($($arg: $ty),*) -> cryptoki_sys::CK_RV {
                $crate::abi::guard::guard(stringify!($name), || {
                    // SAFETY: the pointers are the client's, valid for the
                    // lengths it passed as the PKCS#11 contract requires;
                    // `convert` checks the NULLs the spec forbids.
                    #[allow(unused_unsafe)]
                    unsafe { $body }
                })
            }
        )*
    };
}
