//! The C ABI: the only door between a PKCS#11 client and the library.
//!
//! Every exported function is written with [`pkcs11_fn!`] (the only place
//! with `#[no_mangle]`), which routes its body through [`guard::guard`]:
//! a panic becomes CKR_GENERAL_ERROR and poisons the library until
//! C_Finalize; `Err(rv)` becomes the CK_RV. Bodies only convert pointers
//! (`convert`) and call the core; there is no logic here.
//!
//! Entry points are grouped by spec chapter (PKCS#11 3.0 §5.4–5.21); the
//! function lists and interfaces are built from one name list in
//! `function_list`.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)]

#[macro_use]
mod guard;
mod convert;
mod crypto;
mod fork;
mod function_list;
mod general;
mod keys;
mod mechanism_params;
mod message;
mod objects;
mod sessions;
mod slots;
