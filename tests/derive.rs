//! Key derivation through the C ABI (PKCS#11 3.0 §5.18.8 and the KDF
//! mechanisms): HKDF (derive, data, key gen, salt keys), PBKDF2 in both
//! parameter layouts, derivation by AES encryption, ECDH with the X9.63
//! KDFs, the base key's CKA_DERIVE_TEMPLATE, and the attributes the token
//! computes for derived keys.

mod common;
#[path = "common/raw.rs"]
mod raw;

use std::ffi::c_void;

use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::Attribute;
use cryptoki::session::Session;
use cryptoki_sys::*;

use common::Fixture;
use raw::{b, merge, rv, u, v, Client, Mech, A, H};

fn token(config: &str) -> (Fixture, Session) {
    let f = Fixture::with_config(config);
    let slot = f.init_token("derive");
    let s = f.user_session(slot);
    (f, s)
}

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// A secret key object from a known value, usable for derivation.
fn base(c: &Client, key_type: CK_KEY_TYPE, value: &[u8], extra: Vec<A>) -> H {
    let t = vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, key_type),
        b(CKA_TOKEN, false),
        b(CKA_DERIVE, true),
        v(CKA_VALUE, value),
    ];
    c.create(&merge(t, extra)).expect("C_CreateObject")
}

/// A template for a derived key whose value can be read back.
fn readable(key_type: CK_KEY_TYPE, len: Option<CK_ULONG>) -> Vec<A> {
    let mut t = vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, key_type),
        b(CKA_TOKEN, false),
        b(CKA_SENSITIVE, false),
        b(CKA_EXTRACTABLE, true),
    ];
    t.extend(len.map(|n| u(CKA_VALUE_LEN, n)));
    t
}

/// CK_HKDF_PARAMS; the buffers must outlive the call.
fn hkdf(
    extract: bool,
    expand: bool,
    salt: Option<&[u8]>,
    salt_key: H,
    info: &[u8],
) -> CK_HKDF_PARAMS {
    CK_HKDF_PARAMS {
        bExtract: extract as u8,
        bExpand: expand as u8,
        prfHashMechanism: CKM_SHA256,
        ulSaltType: match (salt, salt_key) {
            (Some(_), _) => CKF_HKDF_SALT_DATA,
            (None, 0) => CKF_HKDF_SALT_NULL,
            (None, _) => CKF_HKDF_SALT_KEY,
        },
        pSalt: salt.map_or(std::ptr::null_mut(), |s| s.as_ptr() as *mut u8),
        ulSaltLen: salt.map_or(0, |s| s.len() as CK_ULONG),
        hSaltKey: salt_key,
        pInfo: info.as_ptr() as *mut u8,
        ulInfoLen: info.len() as CK_ULONG,
    }
}

// RFC 5869 test case 1.
const IKM: &str = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
const SALT: &str = "000102030405060708090a0b0c";
const INFO: &str = "f0f1f2f3f4f5f6f7f8f9";
const OKM: &str =
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";

#[test]
fn hkdf_derive_data_and_salt_keys() {
    let (_f, s) = token("");
    let c = Client::of(&s);
    let (salt, info, okm) = (hex(SALT), hex(INFO), hex(OKM));
    let ikm = base(&c, CKK_GENERIC_SECRET, &hex(IKM), vec![]);
    let p = hkdf(true, true, Some(&salt), 0, &info);
    let k = c
        .derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            ikm,
            &readable(CKK_GENERIC_SECRET, Some(42)),
        )
        .expect("C_DeriveKey");
    assert_eq!(c.get(k, CKA_VALUE), Ok(okm.clone()));
    assert!(!c.get_bool(k, CKA_LOCAL));

    // CKM_HKDF_DATA: a data object.
    let d = c
        .derive(
            Mech::with(CKM_HKDF_DATA, &p),
            ikm,
            &[b(CKA_TOKEN, false), u(CKA_VALUE_LEN, 42)],
        )
        .expect("C_DeriveKey (data)");
    assert_eq!(c.get_ulong(d, CKA_CLASS), CKO_DATA);
    assert_eq!(c.get(d, CKA_VALUE), Ok(okm.clone()));

    // The salt as a key: it must allow derivation.
    let salt_key = base(&c, CKK_GENERIC_SECRET, &salt, vec![]);
    let p = hkdf(true, true, None, salt_key, &info);
    let k = c
        .derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            ikm,
            &readable(CKK_GENERIC_SECRET, Some(42)),
        )
        .expect("salt key");
    assert_eq!(c.get(k, CKA_VALUE), Ok(okm));
    let no_derive = base(&c, CKK_GENERIC_SECRET, &salt, vec![b(CKA_DERIVE, false)]);
    let p = hkdf(true, true, None, no_derive, &info);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            ikm,
            &readable(CKK_GENERIC_SECRET, Some(42))
        )),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    let p = hkdf(true, true, None, 0xdead, &info);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            ikm,
            &readable(CKK_GENERIC_SECRET, Some(42))
        )),
        CKR_MECHANISM_PARAM_INVALID
    );
    // Neither extract nor expand.
    let p = hkdf(false, false, None, 0, &info);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            ikm,
            &readable(CKK_GENERIC_SECRET, None)
        )),
        CKR_MECHANISM_PARAM_INVALID
    );
    // The base key needs CKA_DERIVE, and the right type.
    let not_base = base(&c, CKK_GENERIC_SECRET, &[1; 32], vec![b(CKA_DERIVE, false)]);
    let p = hkdf(true, true, None, 0, &info);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            not_base,
            &readable(CKK_AES, Some(16))
        )),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    let aes = base(&c, CKK_AES, &[1; 32], vec![]);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            aes,
            &readable(CKK_AES, Some(16))
        )),
        CKR_KEY_TYPE_INCONSISTENT
    );

    // CKM_HKDF_KEY_GEN, then expand from it.
    let hk = c
        .generate(
            Mech::none(CKM_HKDF_KEY_GEN),
            &[
                b(CKA_TOKEN, false),
                u(CKA_VALUE_LEN, 32),
                b(CKA_DERIVE, true),
            ],
        )
        .expect("HKDF key gen");
    assert_eq!(c.get_ulong(hk, CKA_KEY_TYPE), CKK_HKDF);
    assert!(c.get_bool(hk, CKA_LOCAL));
    let p = hkdf(false, true, None, 0, &info);
    let k = c
        .derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            hk,
            &readable(CKK_AES, Some(32)),
        )
        .expect("expand");
    assert_eq!(c.get_ulong(k, CKA_VALUE_LEN), 32);
}

/// Derived keys: CKA_LOCAL false, CKA_ALWAYS_SENSITIVE and
/// CKA_NEVER_EXTRACTABLE from the base key; the base key's
/// CKA_DERIVE_TEMPLATE joins the template.
#[test]
fn derived_key_attributes_and_derive_template() {
    let (_f, s) = token("");
    let c = Client::of(&s);
    let gen = |extra: Vec<A>| {
        let t = vec![
            b(CKA_TOKEN, false),
            u(CKA_VALUE_LEN, 32),
            b(CKA_DERIVE, true),
            b(CKA_SENSITIVE, true),
        ];
        c.generate(Mech::none(CKM_GENERIC_SECRET_KEY_GEN), &merge(t, extra))
            .expect("base")
    };
    let strong = gen(vec![b(CKA_EXTRACTABLE, false)]);
    assert!(c.get_bool(strong, CKA_ALWAYS_SENSITIVE));
    let p = hkdf(true, true, None, 0, b"ctx");
    let t = [
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        u(CKA_VALUE_LEN, 16),
        b(CKA_TOKEN, false),
        b(CKA_SENSITIVE, true),
        b(CKA_EXTRACTABLE, false),
    ];
    let k = c
        .derive(Mech::with(CKM_HKDF_DERIVE, &p), strong, &t)
        .expect("derives");
    assert!(!c.get_bool(k, CKA_LOCAL));
    assert!(c.get_bool(k, CKA_ALWAYS_SENSITIVE));
    assert!(c.get_bool(k, CKA_NEVER_EXTRACTABLE));
    assert_eq!(rv(c.get(k, CKA_VALUE)), CKR_ATTRIBUTE_SENSITIVE);
    // A base key that was once readable gives keys that were too.
    let weak = gen(vec![b(CKA_SENSITIVE, false), b(CKA_EXTRACTABLE, true)]);
    let k = c
        .derive(Mech::with(CKM_HKDF_DERIVE, &p), weak, &t)
        .expect("derives");
    assert!(!c.get_bool(k, CKA_ALWAYS_SENSITIVE));

    let fenced = gen(vec![A::T(
        CKA_DERIVE_TEMPLATE,
        vec![b(CKA_EXTRACTABLE, false), u(CKA_KEY_TYPE, CKK_AES)],
    )]);
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            fenced,
            &readable(CKK_AES, Some(16))
        )),
        CKR_TEMPLATE_INCONSISTENT
    );
    let k = c
        .derive(
            Mech::with(CKM_HKDF_DERIVE, &p),
            fenced,
            &[b(CKA_TOKEN, false), u(CKA_VALUE_LEN, 16)],
        )
        .expect("derives");
    assert_eq!(c.get_ulong(k, CKA_KEY_TYPE), CKK_AES);
    assert!(!c.get_bool(k, CKA_EXTRACTABLE));
}

#[test]
fn pbkdf2_in_both_layouts() {
    for config in ["", "[policy]\nprofile = \"softhsm\""] {
        let strict = config.is_empty();
        let (_f, s) = token(config);
        let c = Client::of(&s);
        let salt = *b"salt";
        let password = *b"password";
        let mut len: CK_ULONG = password.len() as CK_ULONG;
        let mut p = CK_PKCS5_PBKD2_PARAMS2 {
            saltSource: CKZ_SALT_SPECIFIED,
            pSaltSourceData: salt.as_ptr() as *mut c_void,
            ulSaltSourceDataLen: salt.len() as CK_ULONG,
            iterations: 2,
            prf: CKP_PKCS5_PBKD2_HMAC_SHA1,
            pPrfData: std::ptr::null_mut(),
            ulPrfDataLen: 0,
            pPassword: password.as_ptr() as *mut u8,
            ulPasswordLen: len,
        };
        let template = [
            b(CKA_TOKEN, false),
            u(CKA_VALUE_LEN, 20),
            b(CKA_SENSITIVE, false),
            b(CKA_EXTRACTABLE, true),
        ];
        let want = hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
        let k = c
            .generate(Mech::with(CKM_PKCS5_PBKD2, &p), &template)
            .expect("PARAMS2");
        assert_eq!(c.get(k, CKA_VALUE), Ok(want.clone()));
        // PKCS#11 2.40's layout: a pointer to the length.
        p.ulPasswordLen = &mut len as *mut CK_ULONG as usize as CK_ULONG;
        let old = c
            .generate(Mech::with(CKM_PKCS5_PBKD2, &p), &template)
            .expect("PARAMS");
        assert_eq!(c.get(old, CKA_VALUE), Ok(want));
        // Known material: never the token's own key.
        assert!(!c.get_bool(k, CKA_LOCAL));
        assert!(!c.get_bool(k, CKA_ALWAYS_SENSITIVE));
        assert_eq!(c.get_ulong(k, CKA_KEY_GEN_MECHANISM), CKM_PKCS5_PBKD2);
        // So under `strict` it wraps no sensitive key.
        let secret = c
            .generate(
                Mech::none(CKM_GENERIC_SECRET_KEY_GEN),
                &[
                    b(CKA_TOKEN, false),
                    u(CKA_VALUE_LEN, 16),
                    b(CKA_SENSITIVE, true),
                    b(CKA_EXTRACTABLE, true),
                ],
            )
            .expect("secret");
        let aes_kek = c
            .generate(
                Mech::with(CKM_PKCS5_PBKD2, &p),
                &[
                    u(CKA_KEY_TYPE, CKK_AES),
                    b(CKA_TOKEN, false),
                    u(CKA_VALUE_LEN, 32),
                    b(CKA_WRAP, true),
                ],
            )
            .expect("AES from a password");
        let r = c.wrap(Mech::none(CKM_AES_KEY_WRAP), aes_kek, secret);
        assert_eq!(
            rv(r),
            if strict {
                CKR_KEY_NOT_WRAPPABLE
            } else {
                CKR_OK
            }
        );
        // Parameters.
        p.ulPasswordLen = len;
        p.iterations = 0;
        assert_eq!(
            rv(c.generate(Mech::with(CKM_PKCS5_PBKD2, &p), &template)),
            CKR_MECHANISM_PARAM_INVALID
        );
        p.iterations = 1;
        assert_eq!(
            rv(c.generate(Mech::with(CKM_PKCS5_PBKD2, &p), &template[..1])),
            CKR_TEMPLATE_INCOMPLETE
        );
    }
}

/// FIPS-197 Appendix C.1 through CKM_AES_ECB_ENCRYPT_DATA and (zero IV)
/// CKM_AES_CBC_ENCRYPT_DATA.
#[test]
fn derivation_by_encryption() {
    let (_f, s) = token("");
    let c = Client::of(&s);
    let key = base(
        &c,
        CKK_AES,
        &hex("000102030405060708090a0b0c0d0e0f"),
        vec![],
    );
    let data = hex("00112233445566778899aabbccddeeff");
    let want = hex("69c4e0d86a7b0430d8cdb78070b4c55a");
    let ecb = CK_KEY_DERIVATION_STRING_DATA {
        pData: data.as_ptr() as *mut u8,
        ulLen: data.len() as CK_ULONG,
    };
    let k = c
        .derive(
            Mech::with(CKM_AES_ECB_ENCRYPT_DATA, &ecb),
            key,
            &readable(CKK_AES, None),
        )
        .expect("ECB");
    assert_eq!(c.get(k, CKA_VALUE), Ok(want.clone()));
    let cbc = CK_AES_CBC_ENCRYPT_DATA_PARAMS {
        iv: [0; 16],
        pData: data.as_ptr() as *mut u8,
        length: data.len() as CK_ULONG,
    };
    let k = c
        .derive(
            Mech::with(CKM_AES_CBC_ENCRYPT_DATA, &cbc),
            key,
            &readable(CKK_GENERIC_SECRET, Some(8)),
        )
        .expect("CBC");
    assert_eq!(c.get(k, CKA_VALUE), Ok(want[..8].to_vec()));
    let short = CK_KEY_DERIVATION_STRING_DATA {
        pData: data.as_ptr() as *mut u8,
        ulLen: 15,
    };
    assert_eq!(
        rv(c.derive(
            Mech::with(CKM_AES_ECB_ENCRYPT_DATA, &short),
            key,
            &readable(CKK_AES, None)
        )),
        CKR_MECHANISM_PARAM_INVALID
    );
}

/// ECDH with the X9.63 KDF: both sides derive the same key; a derived key
/// (CKA_LOCAL false) wraps no sensitive key under `strict`.
#[test]
fn ecdh_with_sha_kdf() {
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let (_f, s) = token("");
    let c = Client::of(&s);
    let pair = || {
        s.generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[Attribute::Token(false), Attribute::EcParams(P256.to_vec())],
            &[Attribute::Token(false), Attribute::Derive(true)],
        )
        .expect("EC pair")
    };
    let (pa, sa) = pair();
    let (pb, sb) = pair();
    let point = |h: cryptoki::object::ObjectHandle| c.get(h.handle(), CKA_EC_POINT).expect("point");
    let info = *b"shared info";
    let derive = |private: cryptoki::object::ObjectHandle, peer: &[u8], extra: Vec<A>| {
        let p = CK_ECDH1_DERIVE_PARAMS {
            kdf: CKD_SHA256_KDF,
            ulSharedDataLen: info.len() as CK_ULONG,
            pSharedData: info.as_ptr() as *mut u8,
            ulPublicDataLen: peer.len() as CK_ULONG,
            pPublicData: peer.as_ptr() as *mut u8,
        };
        let mut t = readable(CKK_AES, Some(32));
        // What `extra` says wins over the readable defaults.
        t.retain(|a| !extra.iter().any(|e| e.kind() == a.kind()));
        t.extend(extra);
        c.derive(Mech::with(CKM_ECDH1_DERIVE, &p), private.handle(), &t)
    };
    let ka = derive(sa, &point(pb), vec![]).expect("a derives");
    let kb = derive(sb, &point(pa), vec![]).expect("b derives");
    assert_eq!(
        c.get(ka, CKA_VALUE).expect("value"),
        c.get(kb, CKA_VALUE).expect("value")
    );
    let wrapper = derive(
        sa,
        &point(pb),
        vec![b(CKA_WRAP, true), b(CKA_EXTRACTABLE, false)],
    )
    .expect("derives");
    let secret = c
        .generate(
            Mech::none(CKM_AES_KEY_GEN),
            &[
                b(CKA_TOKEN, false),
                u(CKA_VALUE_LEN, 16),
                b(CKA_SENSITIVE, true),
                b(CKA_EXTRACTABLE, true),
            ],
        )
        .expect("secret");
    assert_eq!(
        rv(c.wrap(Mech::none(CKM_AES_KEY_WRAP), wrapper, secret)),
        CKR_KEY_NOT_WRAPPABLE
    );
}

/// The table's new rows, as C_GetMechanismInfo reports them.
#[test]
fn mechanism_info() {
    let f = Fixture::new();
    let slot = f.init_token("info");
    let p11 = f.p11();
    let info = |m: CK_MECHANISM_TYPE| {
        p11.get_mechanism_info(
            slot,
            MechanismType::try_from(m).unwrap_or(MechanismType::AES_KEY_WRAP),
        )
        .expect("info")
    };
    let kw = info(CKM_AES_KEY_WRAP);
    assert!(kw.wrap() && kw.unwrap() && !kw.encrypt());
    let cbc = info(CKM_AES_CBC);
    assert!(cbc.wrap() && !cbc.unwrap() && cbc.encrypt());
    let hkdf = p11
        .get_mechanism_info(slot, MechanismType::HKDF_DERIVE)
        .expect("HKDF");
    assert!(hkdf.derive());
    let list = p11.get_mechanism_list(slot).expect("list");
    for m in [
        MechanismType::AES_KEY_WRAP_PAD,
        MechanismType::HKDF_DATA,
        MechanismType::HKDF_KEY_GEN,
        MechanismType::AES_CBC_ENCRYPT_DATA,
    ] {
        assert!(list.contains(&m), "{m}");
    }
}
