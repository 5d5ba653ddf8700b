//! The mechanism table and one file per family (digest, hmac, aes, rsa, ec,
//! eddsa, kdf, random, vendor). C_GetMechanismList / C_GetMechanismInfo read
//! the table; nothing else keeps a second list.

use cryptoki_sys::*;

/// One row of the mechanism table.
pub struct MechanismEntry {
    pub kind: CK_MECHANISM_TYPE,
    pub name: &'static str,
    pub info: CK_MECHANISM_INFO,
}

/// Every mechanism the software token offers.
pub static TABLE: &[MechanismEntry] = &[];

/// The table's row for `kind`.
pub fn lookup(kind: CK_MECHANISM_TYPE) -> Option<&'static MechanismEntry> {
    TABLE.iter().find(|e| e.kind == kind)
}
