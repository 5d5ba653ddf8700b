//! The mechanism table: every mechanism the software token offers, once.
//! C_GetMechanismList lists it in this order.
//!
//! Key sizes follow the spec's unit per family: bits for EC, EdDSA and
//! CKM_GENERIC_SECRET_KEY_GEN; bytes for AES and for the HMAC mechanisms (as
//! SoftHSMv2 reports them).

use cryptoki_sys::*;

use crate::mechanisms::{
    aes, cmac, digest, ec, ecdh, eddsa, hmac, info, kdf, rsa, wrap, MechanismEntry, Ops,
};

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

macro_rules! cipher_row {
    ($kind:ident, $name:literal, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info(16, 32, CKF_ENCRYPT | CKF_DECRYPT),
            ops: Ops {
                encrypt: Some(&$imp),
                decrypt: Some(&$imp),
                ..Ops::NONE
            },
        }
    };
}

macro_rules! key_gen_row {
    ($kind:ident, $name:literal, $min:expr, $max:expr, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info($min, $max, CKF_GENERATE),
            ops: Ops {
                key_gen: Some(&$imp),
                ..Ops::NONE
            },
        }
    };
}

macro_rules! wrap_row {
    ($kind:ident, $name:literal, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info(16, 32, CKF_WRAP | CKF_UNWRAP),
            ops: Ops {
                wrap: Some(&$imp),
                unwrap: Some(&$imp),
                ..Ops::NONE
            },
        }
    };
}

macro_rules! derive_row {
    ($kind:ident, $name:literal, $min:expr, $max:expr, $imp:expr) => {
        MechanismEntry {
            kind: $kind,
            name: $name,
            info: info($min, $max, CKF_DERIVE),
            ops: Ops {
                derive: Some(&$imp),
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
    MechanismEntry {
        kind: CKM_ECDH1_DERIVE,
        name: "CKM_ECDH1_DERIVE",
        info: info(256, 521, CKF_DERIVE | EC_FLAGS),
        ops: Ops {
            derive: Some(&ecdh::ECDH1_DERIVE),
            ..Ops::NONE
        },
    },
    MechanismEntry {
        kind: CKM_ECDH1_COFACTOR_DERIVE,
        name: "CKM_ECDH1_COFACTOR_DERIVE",
        info: info(256, 521, CKF_DERIVE | EC_FLAGS),
        ops: Ops {
            derive: Some(&ecdh::ECDH1_COFACTOR_DERIVE),
            ..Ops::NONE
        },
    },
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
    // HMAC: key sizes in bytes, as SoftHSMv2 reports them.
    key_gen_row!(
        CKM_GENERIC_SECRET_KEY_GEN,
        "CKM_GENERIC_SECRET_KEY_GEN",
        8,
        8 * hmac::MAX_KEY_LEN as CK_ULONG,
        hmac::GENERIC_SECRET_KEY_GEN
    ),
    sign_row!(
        CKM_SHA_1_HMAC,
        "CKM_SHA_1_HMAC",
        20,
        512,
        0,
        hmac::SHA1_HMAC
    ),
    sign_row!(
        CKM_SHA224_HMAC,
        "CKM_SHA224_HMAC",
        28,
        512,
        0,
        hmac::SHA224_HMAC
    ),
    sign_row!(
        CKM_SHA256_HMAC,
        "CKM_SHA256_HMAC",
        32,
        512,
        0,
        hmac::SHA256_HMAC
    ),
    sign_row!(
        CKM_SHA384_HMAC,
        "CKM_SHA384_HMAC",
        48,
        512,
        0,
        hmac::SHA384_HMAC
    ),
    sign_row!(
        CKM_SHA512_HMAC,
        "CKM_SHA512_HMAC",
        64,
        512,
        0,
        hmac::SHA512_HMAC
    ),
    // AES: key sizes in bytes.
    key_gen_row!(
        CKM_AES_KEY_GEN,
        "CKM_AES_KEY_GEN",
        16,
        32,
        hmac::AES_KEY_GEN
    ),
    cipher_row!(CKM_AES_ECB, "CKM_AES_ECB", aes::AES_ECB),
    // Wraps too, as SoftHSMv2 (only under `allow_weak_wrapping`).
    MechanismEntry {
        kind: CKM_AES_CBC,
        name: "CKM_AES_CBC",
        info: info(16, 32, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP),
        ops: Ops {
            encrypt: Some(&aes::AES_CBC),
            decrypt: Some(&aes::AES_CBC),
            wrap: Some(&wrap::AES_CBC_WRAP),
            ..Ops::NONE
        },
    },
    cipher_row!(CKM_AES_CBC_PAD, "CKM_AES_CBC_PAD", aes::AES_CBC_PAD),
    cipher_row!(CKM_AES_CTR, "CKM_AES_CTR", aes::AES_CTR),
    cipher_row!(CKM_AES_GCM, "CKM_AES_GCM", aes::AES_GCM),
    sign_row!(CKM_AES_CMAC, "CKM_AES_CMAC", 16, 32, 0, cmac::AES_CMAC),
    sign_row!(
        CKM_AES_CMAC_GENERAL,
        "CKM_AES_CMAC_GENERAL",
        16,
        32,
        0,
        cmac::AES_CMAC_GENERAL
    ),
    // RSA (AWS-LC through crate::awslc), 1024–8192-bit keys; the policy
    // decides whether keys under 2048 bits are used at all (allow_rsa_1024).
    MechanismEntry {
        kind: CKM_RSA_PKCS_KEY_PAIR_GEN,
        name: "CKM_RSA_PKCS_KEY_PAIR_GEN",
        info: info(rsa::MIN_KEY_BITS, rsa::MAX_KEY_BITS, CKF_GENERATE_KEY_PAIR),
        ops: Ops {
            key_pair_gen: Some(&rsa::RSA_PKCS_KEY_PAIR_GEN),
            ..Ops::NONE
        },
    },
    MechanismEntry {
        kind: CKM_RSA_PKCS,
        name: "CKM_RSA_PKCS",
        info: info(
            rsa::MIN_KEY_BITS,
            rsa::MAX_KEY_BITS,
            CKF_SIGN
                | CKF_VERIFY
                | CKF_SIGN_RECOVER
                | CKF_VERIFY_RECOVER
                | CKF_ENCRYPT
                | CKF_DECRYPT
                | CKF_WRAP
                | CKF_UNWRAP,
        ),
        ops: Ops {
            sign: Some(&rsa::RSA_PKCS),
            verify: Some(&rsa::RSA_PKCS),
            sign_recover: Some(&rsa::RSA_PKCS),
            verify_recover: Some(&rsa::RSA_PKCS),
            encrypt: Some(&rsa::RSA_PKCS_CIPHER),
            decrypt: Some(&rsa::RSA_PKCS_CIPHER),
            wrap: Some(&rsa::RSA_PKCS_CIPHER),
            unwrap: Some(&rsa::RSA_PKCS_CIPHER),
            ..Ops::NONE
        },
    },
    MechanismEntry {
        kind: CKM_RSA_X_509,
        name: "CKM_RSA_X_509",
        info: info(
            rsa::MIN_KEY_BITS,
            rsa::MAX_KEY_BITS,
            CKF_SIGN
                | CKF_VERIFY
                | CKF_SIGN_RECOVER
                | CKF_VERIFY_RECOVER
                | CKF_ENCRYPT
                | CKF_DECRYPT,
        ),
        ops: Ops {
            sign: Some(&rsa::RSA_X_509),
            verify: Some(&rsa::RSA_X_509),
            sign_recover: Some(&rsa::RSA_X_509),
            verify_recover: Some(&rsa::RSA_X_509),
            encrypt: Some(&rsa::RSA_X_509_CIPHER),
            decrypt: Some(&rsa::RSA_X_509_CIPHER),
            ..Ops::NONE
        },
    },
    sign_row!(
        CKM_SHA1_RSA_PKCS,
        "CKM_SHA1_RSA_PKCS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA1_RSA_PKCS
    ),
    sign_row!(
        CKM_SHA224_RSA_PKCS,
        "CKM_SHA224_RSA_PKCS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA224_RSA_PKCS
    ),
    sign_row!(
        CKM_SHA256_RSA_PKCS,
        "CKM_SHA256_RSA_PKCS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA256_RSA_PKCS
    ),
    sign_row!(
        CKM_SHA384_RSA_PKCS,
        "CKM_SHA384_RSA_PKCS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA384_RSA_PKCS
    ),
    sign_row!(
        CKM_SHA512_RSA_PKCS,
        "CKM_SHA512_RSA_PKCS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA512_RSA_PKCS
    ),
    sign_row!(
        CKM_RSA_PKCS_PSS,
        "CKM_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::RSA_PKCS_PSS
    ),
    sign_row!(
        CKM_SHA1_RSA_PKCS_PSS,
        "CKM_SHA1_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA1_RSA_PKCS_PSS
    ),
    sign_row!(
        CKM_SHA224_RSA_PKCS_PSS,
        "CKM_SHA224_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA224_RSA_PKCS_PSS
    ),
    sign_row!(
        CKM_SHA256_RSA_PKCS_PSS,
        "CKM_SHA256_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA256_RSA_PKCS_PSS
    ),
    sign_row!(
        CKM_SHA384_RSA_PKCS_PSS,
        "CKM_SHA384_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA384_RSA_PKCS_PSS
    ),
    sign_row!(
        CKM_SHA512_RSA_PKCS_PSS,
        "CKM_SHA512_RSA_PKCS_PSS",
        rsa::MIN_KEY_BITS,
        rsa::MAX_KEY_BITS,
        0,
        rsa::SHA512_RSA_PKCS_PSS
    ),
    MechanismEntry {
        kind: CKM_RSA_PKCS_OAEP,
        name: "CKM_RSA_PKCS_OAEP",
        info: info(
            rsa::MIN_KEY_BITS,
            rsa::MAX_KEY_BITS,
            CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP,
        ),
        ops: Ops {
            encrypt: Some(&rsa::RSA_PKCS_OAEP),
            decrypt: Some(&rsa::RSA_PKCS_OAEP),
            wrap: Some(&rsa::RSA_PKCS_OAEP),
            unwrap: Some(&rsa::RSA_PKCS_OAEP),
            ..Ops::NONE
        },
    },
    // Key wrapping: key sizes of the AES key-encryption key, in bytes.
    wrap_row!(CKM_AES_KEY_WRAP, "CKM_AES_KEY_WRAP", wrap::AES_KEY_WRAP),
    wrap_row!(
        CKM_AES_KEY_WRAP_PAD,
        "CKM_AES_KEY_WRAP_PAD",
        wrap::AES_KEY_WRAP_PAD
    ),
    wrap_row!(
        CKM_AES_KEY_WRAP_KWP,
        "CKM_AES_KEY_WRAP_KWP",
        wrap::AES_KEY_WRAP_PAD
    ),
    // Key derivation.
    derive_row!(
        CKM_AES_ECB_ENCRYPT_DATA,
        "CKM_AES_ECB_ENCRYPT_DATA",
        16,
        32,
        kdf::AES_ECB_ENCRYPT_DATA
    ),
    derive_row!(
        CKM_AES_CBC_ENCRYPT_DATA,
        "CKM_AES_CBC_ENCRYPT_DATA",
        16,
        32,
        kdf::AES_CBC_ENCRYPT_DATA
    ),
    derive_row!(
        CKM_HKDF_DERIVE,
        "CKM_HKDF_DERIVE",
        1,
        hmac::MAX_KEY_LEN as CK_ULONG,
        kdf::HKDF_DERIVE
    ),
    derive_row!(
        CKM_HKDF_DATA,
        "CKM_HKDF_DATA",
        1,
        hmac::MAX_KEY_LEN as CK_ULONG,
        kdf::HKDF_DATA
    ),
    key_gen_row!(
        CKM_HKDF_KEY_GEN,
        "CKM_HKDF_KEY_GEN",
        1,
        hmac::MAX_KEY_LEN as CK_ULONG,
        hmac::HKDF_KEY_GEN
    ),
    key_gen_row!(CKM_PKCS5_PBKD2, "CKM_PKCS5_PBKD2", 0, 0, kdf::PKCS5_PBKD2),
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
                (CKF_SIGN_RECOVER, o.sign_recover.is_some()),
                (CKF_VERIFY_RECOVER, o.verify_recover.is_some()),
                (CKF_ENCRYPT, o.encrypt.is_some()),
                (CKF_DECRYPT, o.decrypt.is_some()),
                (CKF_GENERATE, o.key_gen.is_some()),
                (CKF_GENERATE_KEY_PAIR, o.key_pair_gen.is_some()),
                (CKF_DERIVE, o.derive.is_some()),
                (CKF_WRAP, o.wrap.is_some()),
                (CKF_UNWRAP, o.unwrap.is_some()),
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
