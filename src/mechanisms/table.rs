//! The mechanism table: every mechanism the software token offers, once.
//! C_GetMechanismList lists it in this order.
//!
//! Key sizes are in bits for every family here (PKCS#11 3.0 Current
//! Mechanisms gives bits for EC/EdDSA and RSA, bytes for AES and generic
//! secrets — those rows say so).

use cryptoki_sys::*;

use crate::mechanisms::{digest, ec, eddsa, info, MechanismEntry, Ops};

/// CKF_ flags describing the EC support of the EC and EdDSA rows: prime
/// fields, named curves by OID or by name, uncompressed points.
const EC_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_OID | CKF_EC_UNCOMPRESS | CKF_EC_CURVENAME;
const EDWARDS_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_OID | CKF_EC_CURVENAME;

macro_rules! digest_row {
    ($kind:ident, $name:literal, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info(0, 0, CKF_DIGEST),
            ops: Ops {
                digest: Some(&$imp),
                ..Ops::NONE
            },
        }
    };
}

macro_rules! sign_row {
    ($kind:ident, $name:literal, $min:expr, $max:expr, $flags:expr, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info($min, $max, CKF_SIGN | CKF_VERIFY | $flags),
            ops: Ops {
                sign: Some(&$imp),
                verify: Some(&$imp),
                ..Ops::NONE
            },
        }
    };
}

/// Every mechanism the software token offers.
pub static TABLE: &[MechanismEntry] = &[
    // Digests.
    digest_row!(CKM_MD5, "CKM_MD5", digest::MD5),
    digest_row!(CKM_SHA_1, "CKM_SHA_1", digest::SHA1),
    digest_row!(CKM_SHA224, "CKM_SHA224", digest::SHA224),
    digest_row!(CKM_SHA256, "CKM_SHA256", digest::SHA256),
    digest_row!(CKM_SHA384, "CKM_SHA384", digest::SHA384),
    digest_row!(CKM_SHA512, "CKM_SHA512", digest::SHA512),
    digest_row!(CKM_SHA3_256, "CKM_SHA3_256", digest::SHA3_256),
    digest_row!(CKM_SHA3_384, "CKM_SHA3_384", digest::SHA3_384),
    digest_row!(CKM_SHA3_512, "CKM_SHA3_512", digest::SHA3_512),
    // EC: P-256, P-384, P-521, secp256k1.
    MechanismEntry {
        kind: CKM_EC_KEY_PAIR_GEN,
        name: "CKM_EC_KEY_PAIR_GEN",
        info: info(256, 521, CKF_GENERATE_KEY_PAIR | EC_FLAGS),
        ops: Ops {
            key_pair_gen: Some(&ec::EC_KEY_PAIR_GEN),
            ..Ops::NONE
        },
    },
    sign_row!(CKM_ECDSA, "CKM_ECDSA", 256, 521, EC_FLAGS, ec::ECDSA),
    sign_row!(
        CKM_ECDSA_SHA1,
        "CKM_ECDSA_SHA1",
        256,
        521,
        EC_FLAGS,
        ec::ECDSA_SHA1
    ),
    sign_row!(
        CKM_ECDSA_SHA224,
        "CKM_ECDSA_SHA224",
        256,
        521,
        EC_FLAGS,
        ec::ECDSA_SHA224
    ),
    sign_row!(
        CKM_ECDSA_SHA256,
        "CKM_ECDSA_SHA256",
        256,
        521,
        EC_FLAGS,
        ec::ECDSA_SHA256
    ),
    sign_row!(
        CKM_ECDSA_SHA384,
        "CKM_ECDSA_SHA384",
        256,
        521,
        EC_FLAGS,
        ec::ECDSA_SHA384
    ),
    sign_row!(
        CKM_ECDSA_SHA512,
        "CKM_ECDSA_SHA512",
        256,
        521,
        EC_FLAGS,
        ec::ECDSA_SHA512
    ),
    // EdDSA: Ed25519.
    MechanismEntry {
        kind: CKM_EC_EDWARDS_KEY_PAIR_GEN,
        name: "CKM_EC_EDWARDS_KEY_PAIR_GEN",
        info: info(256, 256, CKF_GENERATE_KEY_PAIR | EDWARDS_FLAGS),
        ops: Ops {
            key_pair_gen: Some(&eddsa::EC_EDWARDS_KEY_PAIR_GEN),
            ..Ops::NONE
        },
    },
    sign_row!(
        CKM_EDDSA,
        "CKM_EDDSA",
        256,
        256,
        EDWARDS_FLAGS,
        eddsa::EDDSA
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for e in TABLE {
            assert!(seen.insert(e.kind), "{} listed twice", e.name);
        }
    }

    /// The CK_MECHANISM_INFO flags say exactly what the row can do.
    #[test]
    fn info_is_honest() {
        for e in TABLE {
            let f = e.info.flags;
            let o = &e.ops;
            let pairs = [
                (CKF_DIGEST, o.digest.is_some()),
                (CKF_SIGN, o.sign.is_some()),
                (CKF_VERIFY, o.verify.is_some()),
                (CKF_ENCRYPT, o.encrypt.is_some()),
                (CKF_DECRYPT, o.decrypt.is_some()),
                (CKF_GENERATE, o.key_gen.is_some()),
                (CKF_GENERATE_KEY_PAIR, o.key_pair_gen.is_some()),
            ];
            for (flag, has) in pairs {
                assert_eq!(f & flag != 0, has, "{}: flag {flag:#x}", e.name);
            }
            assert_eq!(f & CKF_HW, 0, "{}: software token", e.name);
            assert!(e.info.ulMinKeySize <= e.info.ulMaxKeySize, "{}", e.name);
            assert!(e.name.starts_with("CKM_"), "{}", e.name);
        }
    }

    #[test]
    fn names_match_codes() {
        assert_eq!(
            crate::mechanisms::lookup(CKM_SHA256).map(|e| e.name),
            Some("CKM_SHA256")
        );
        assert!(crate::mechanisms::lookup(CKM_VENDOR_DEFINED).is_none());
    }
}
