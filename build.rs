//! Link the cdylib with `-z nodelete`: clients dlclose() PKCS#11 modules
//! (pkcs11-tool, p11-kit, the `cryptoki` crate), but thread-local destructors
//! registered by the module (Rust's std, aws-lc) would then run after its
//! code was unmapped and crash the client at thread exit. With nodelete the
//! module stays mapped; C_Finalize has already released its state.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
