//! AES-GCM and AES-CTR against OpenSSL's own libcrypto (issue #3: "AES-GCM
//! ... interoperate with OpenSSL's"). The `openssl enc` command refuses AEAD
//! ciphers and OpenSC 0.23's pkcs11-tool passes no GCM or CTR parameters, so
//! the conformance scripts cannot drive these modes; here the token is driven
//! through the C ABI (`cryptoki`) and the other side is the system's
//! libcrypto.so.3 (Debian's OpenSSL 3, present wherever the `openssl`
//! command is), called through its EVP interface. Not aws-lc-rs: ProzHSM's
//! AES is aws-lc-rs, and a check against the same code proves nothing.
//!
//! GCM with a 96-bit IV and 128-bit tag (aws-lc-rs's AEAD) is checked in
//! both directions, empty to 1 MiB, single- and multi-part, AES-128 and
//! AES-256, and a forged tag is refused. Other IV lengths (1 to 60 bytes
//! here; the spec allows up to 2^32 - 1) and tags of 96 to 120 bits (the
//! `awslc::gcm` path) are checked against OpenSSL and against SoftHSMv2
//! (Debian's softhsm2, which scripts/test.sh installs), both ways; tags
//! under 96 bits are refused in both policy profiles.

mod common;

use std::ffi::{c_int, c_void};
use std::ptr;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use cryptoki_sys::CK_AES_CTR_PARAMS;
use libloading::{Library, Symbol};

use common::{Fixture, SoftHsm, SOFTHSM_MODULE, SO_PIN, USER_PIN};

const KEY_128: [u8; 16] = *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c";
const KEY_256: [u8; 32] = [
    0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
    0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
];
const SIZES: [usize; 8] = [0, 1, 15, 16, 17, 64, 4099, 1 << 20];

#[test]
fn gcm_token_encrypts_openssl_decrypts() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    for key in [&KEY_128[..], &KEY_256[..]] {
        let h = import_aes(&s, key);
        for (i, len) in SIZES.into_iter().enumerate() {
            let data = pattern(len, i as u8);
            let iv = nonce(i as u8);
            let aad = pattern(i * 7, 0xa5);
            let sealed = gcm_encrypt(&s, h, &iv, &aad, &data);
            assert_eq!(sealed.len(), len + 16, "ciphertext || 128-bit tag");
            let (ct, tag) = sealed.split_at(len);
            let plain = ossl
                .gcm_decrypt(key, &iv, &aad, ct, tag)
                .unwrap_or_else(|| panic!("OpenSSL refused the token's GCM output ({len} B)"));
            assert_eq!(plain, data, "{len} B, AES-{}", key.len() * 8);
        }
    }
}

#[test]
fn gcm_openssl_encrypts_token_decrypts() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    for key in [&KEY_128[..], &KEY_256[..]] {
        let h = import_aes(&s, key);
        for (i, len) in SIZES.into_iter().enumerate() {
            let data = pattern(len, 0x40 + i as u8);
            let iv = nonce(0x80 + i as u8);
            let aad = pattern(i * 3, 0x5a);
            let (mut ct, tag) = ossl.gcm_encrypt(key, &iv, &aad, &data);
            ct.extend_from_slice(&tag);
            let plain = s
                .decrypt(&gcm(&iv, &aad), h, &ct)
                .unwrap_or_else(|e| panic!("token refused OpenSSL's GCM output ({len} B): {e}"));
            assert_eq!(plain, data, "{len} B, AES-{}", key.len() * 8);
        }
    }
}

#[test]
fn gcm_multipart_and_equal_ciphertexts() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    let h = import_aes(&s, &KEY_256);
    let data = pattern(100_000, 3);
    let iv = nonce(9);
    let aad = b"header: not secret, authenticated";
    // Multi-part encryption in the token, in uneven pieces.
    s.encrypt_init(&gcm(&iv, aad), h).expect("C_EncryptInit");
    let mut sealed = Vec::new();
    for piece in data.chunks(7_777) {
        sealed.extend(s.encrypt_update(piece).expect("C_EncryptUpdate"));
    }
    sealed.extend(s.encrypt_final().expect("C_EncryptFinal"));
    // Byte for byte what OpenSSL makes from the same key, IV and AAD.
    let (mut expected, tag) = ossl.gcm_encrypt(&KEY_256, &iv, aad, &data);
    expected.extend_from_slice(&tag);
    assert_eq!(sealed, expected);
    // Multi-part decryption of OpenSSL's output.
    s.decrypt_init(&gcm(&iv, aad), h).expect("C_DecryptInit");
    let mut plain = Vec::new();
    for piece in expected.chunks(4_096) {
        plain.extend(s.decrypt_update(piece).expect("C_DecryptUpdate"));
    }
    plain.extend(s.decrypt_final().expect("C_DecryptFinal"));
    assert_eq!(plain, data);
}

#[test]
fn gcm_forgeries_from_openssl_output_are_refused() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    let h = import_aes(&s, &KEY_256);
    let iv = nonce(1);
    let (ct, tag) = ossl.gcm_encrypt(&KEY_256, &iv, b"aad", b"attack at dawn");
    let sealed = [ct.as_slice(), tag.as_slice()].concat();
    let mut bad_tag = sealed.clone();
    *bad_tag.last_mut().expect("tag") ^= 1;
    let mut bad_ct = sealed.clone();
    bad_ct[0] ^= 0x80;
    for (what, input, aad) in [
        ("flipped tag bit", &bad_tag, &b"aad"[..]),
        ("flipped ciphertext bit", &bad_ct, &b"aad"[..]),
        ("other AAD", &sealed, &b"aaD"[..]),
    ] {
        let err = s.decrypt(&gcm(&iv, aad), h, input).unwrap_err();
        let rv = rv(err);
        assert!(
            matches!(rv, RvError::EncryptedDataInvalid),
            "{what}: {rv:?}"
        );
    }
}

/// IV lengths and tag lengths past aws-lc-rs's AEAD: (IV bytes, tag bits).
const OTHER_SIZES: [(usize, u64); 7] = [
    (16, 96),
    (1, 104),
    (8, 112),
    (60, 120),
    (16, 128),
    (12, 96),
    (128, 128),
];

#[test]
fn gcm_other_sizes_equal_openssl_both_ways() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    for key in [&KEY_128[..], &KEY_256[..]] {
        let h = import_aes(&s, key);
        for (i, (iv_len, tag_bits)) in OTHER_SIZES.into_iter().enumerate() {
            let what = format!(
                "AES-{}, {iv_len}-byte IV, {tag_bits}-bit tag",
                key.len() * 8
            );
            let tag_len = tag_bits as usize / 8;
            let iv = pattern(iv_len, 0x70 + i as u8);
            let aad = pattern(i * 5, 0x33);
            let data = pattern(1000 + i, i as u8);
            let mech = gcm_sized(&iv, &aad, tag_bits);
            let sealed = s.encrypt(&mech, h, &data).expect("C_Encrypt GCM");
            let (mut expected, tag) = ossl.gcm_encrypt(key, &iv, &aad, &data);
            expected.extend_from_slice(&tag[..tag_len]);
            assert_eq!(sealed, expected, "{what}");
            let (ct, tag) = sealed.split_at(data.len());
            let plain = ossl
                .gcm_decrypt(key, &iv, &aad, ct, tag)
                .unwrap_or_else(|| panic!("OpenSSL refused the token's output, {what}"));
            assert_eq!(plain, data, "{what}");
            // Multi-part decryption of OpenSSL's output in the token.
            s.decrypt_init(&mech, h).expect("C_DecryptInit");
            let mut plain = Vec::new();
            for piece in expected.chunks(333) {
                plain.extend(s.decrypt_update(piece).expect("C_DecryptUpdate"));
            }
            plain.extend(s.decrypt_final().expect("C_DecryptFinal"));
            assert_eq!(plain, data, "{what}");
            let mut forged = expected.clone();
            *forged.last_mut().expect("tag") ^= 1;
            assert_eq!(
                rv(s.decrypt(&mech, h, &forged).unwrap_err()),
                RvError::EncryptedDataInvalid,
                "{what}"
            );
        }
    }
}

/// A 16-byte IV and a 96-bit tag (and the other sizes): ProzHSM encrypts,
/// SoftHSMv2 decrypts, and the other way round; the ciphertexts are equal.
#[test]
fn gcm_other_sizes_with_softhsm_both_ways() {
    let (_f, s) = session();
    let sh = SoftHsmToken::new();
    for key in [&KEY_128[..], &KEY_256[..]] {
        let hp = import_aes(&s, key);
        let hs = import_aes(sh.session(), key);
        for (i, (iv_len, tag_bits)) in OTHER_SIZES.into_iter().enumerate() {
            let what = format!(
                "AES-{}, {iv_len}-byte IV, {tag_bits}-bit tag",
                key.len() * 8
            );
            let iv = pattern(iv_len, 0x90 + i as u8);
            let aad = pattern(i * 11, 0x5c);
            let data = pattern(4099 + i, 0x20 + i as u8);
            let mech = gcm_sized(&iv, &aad, tag_bits);
            let ours = s.encrypt(&mech, hp, &data).expect("ProzHSM C_Encrypt");
            assert_eq!(ours.len(), data.len() + tag_bits as usize / 8, "{what}");
            let theirs = sh
                .session()
                .encrypt(&mech, hs, &data)
                .expect("SoftHSMv2 C_Encrypt");
            assert_eq!(ours, theirs, "{what}");
            let plain = sh
                .session()
                .decrypt(&mech, hs, &ours)
                .unwrap_or_else(|e| panic!("SoftHSMv2 refused ProzHSM's output, {what}: {e}"));
            assert_eq!(plain, data, "{what}");
            let plain = s
                .decrypt(&mech, hp, &theirs)
                .unwrap_or_else(|e| panic!("ProzHSM refused SoftHSMv2's output, {what}: {e}"));
            assert_eq!(plain, data, "{what}");
        }
    }
}

/// Tags under 96 bits (SP 800-38D's 32 and 64 included) are refused at
/// C_EncryptInit / C_DecryptInit under the default profile and under the
/// relaxed `softhsm` one alike: no policy rule relaxes them.
#[test]
fn gcm_short_tags_are_refused_in_every_profile() {
    for config in ["", "[policy]\nprofile = \"softhsm\""] {
        let f = Fixture::with_config(config);
        let slot = f.init_token("short-tags");
        let s = f.user_session(slot);
        let h = import_aes(&s, &KEY_128);
        for (iv_len, tag_bits) in [(16, 64), (12, 64), (16, 32), (12, 32), (12, 0), (12, 100)] {
            let iv = pattern(iv_len, 1);
            let mech = gcm_sized(&iv, b"", tag_bits);
            let what = format!("config {config:?}: {iv_len}-byte IV, {tag_bits}-bit tag");
            assert_eq!(
                common::code(s.encrypt_init(&mech, h)),
                RvError::MechanismParamInvalid,
                "{what}"
            );
            assert_eq!(
                common::code(s.decrypt_init(&mech, h)),
                RvError::MechanismParamInvalid,
                "{what}"
            );
        }
        let empty_iv = gcm_sized(&[], b"", 128);
        assert_eq!(
            common::code(s.encrypt_init(&empty_iv, h)),
            RvError::MechanismParamInvalid,
            "config {config:?}: empty IV"
        );
    }
}

#[test]
fn ctr_equals_openssl_both_ways() {
    let ossl = OpenSsl::load();
    let (_f, s) = session();
    for key in [&KEY_128[..], &KEY_256[..]] {
        let h = import_aes(&s, key);
        for (i, len) in SIZES.into_iter().enumerate() {
            let data = pattern(len, 0x11 * i as u8);
            let mut cb = [0u8; 16];
            cb[..12].copy_from_slice(&nonce(i as u8));
            cb[15] = 1;
            let expected = ossl.ctr(key, &cb, &data);
            let params = CK_AES_CTR_PARAMS {
                ulCounterBits: 32,
                cb,
            };
            let ctr = Mechanism::VendorDefined(VendorDefinedMechanism::new(
                MechanismType::AES_CTR,
                Some(&params),
            ));
            let ct = s.encrypt(&ctr, h, &data).expect("C_Encrypt CTR");
            assert_eq!(ct, expected, "{len} B, AES-{}-CTR", key.len() * 8);
            let back = s.decrypt(&ctr, h, &expected).expect("C_Decrypt CTR");
            assert_eq!(back, data);
        }
    }
}

// ---------------------------------------------------------------------------
// The token side.

fn session() -> (Fixture, Session) {
    let f = Fixture::new();
    let slot = f.init_token("interop");
    let s = f.user_session(slot);
    (f, s)
}

fn import_aes(s: &Session, value: &[u8]) -> ObjectHandle {
    s.create_object(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Value(value.to_vec()),
    ])
    .expect("C_CreateObject AES key")
}

fn gcm<'a>(iv: &'a [u8; 12], aad: &'a [u8]) -> Mechanism<'a> {
    // GcmParams wants a mutable IV (a token may write back a generated
    // one); ProzHSM does not, so a leaked copy keeps the borrow simple.
    let iv: &'a mut [u8] = Box::leak(Box::new(*iv));
    Mechanism::AesGcm(GcmParams::new(iv, aad, 128.into()).expect("GCM params"))
}

/// CKM_AES_GCM with any IV and tag length (the IV copied and leaked, as in
/// [`gcm`]).
fn gcm_sized<'a>(iv: &[u8], aad: &'a [u8], tag_bits: u64) -> Mechanism<'a> {
    let iv: &'a mut [u8] = Box::leak(iv.to_vec().into_boxed_slice());
    Mechanism::AesGcm(GcmParams::new(iv, aad, tag_bits.into()).expect("GCM params"))
}

fn gcm_encrypt(s: &Session, key: ObjectHandle, iv: &[u8; 12], aad: &[u8], data: &[u8]) -> Vec<u8> {
    s.encrypt(&gcm(iv, aad), key, data).expect("C_Encrypt GCM")
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 error: {other}"),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn nonce(seed: u8) -> [u8; 12] {
    let mut n = [0u8; 12];
    for (i, b) in n.iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8 * 17);
    }
    n
}

// ---------------------------------------------------------------------------
// The SoftHSMv2 side: a throw-away token, logged in as its user.

struct SoftHsmToken {
    session: Option<Session>,
    p11: Option<Pkcs11>,
    _dir: SoftHsm,
}

impl SoftHsmToken {
    fn new() -> SoftHsmToken {
        assert!(
            common::softhsm_available(),
            "{SOFTHSM_MODULE} missing: install Debian's softhsm2 (scripts/test.sh does)"
        );
        let dir = SoftHsm::new();
        dir.init_token("interop", SO_PIN, USER_PIN);
        // ProzHSM reads PROZHSM_CONF first, so this leaves it alone.
        std::env::set_var("SOFTHSM2_CONF", dir.conf());
        let p11 = Pkcs11::new(SOFTHSM_MODULE).expect("load SoftHSMv2");
        p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("SoftHSMv2 C_Initialize");
        let slot = p11
            .get_slots_with_initialized_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                p11.get_token_info(*s)
                    .map(|i| i.label() == "interop")
                    .unwrap_or(false)
            })
            .expect("SoftHSMv2 token");
        let session = p11.open_rw_session(slot).expect("SoftHSMv2 session");
        session
            .login(UserType::User, Some(&AuthPin::new(USER_PIN.into())))
            .expect("SoftHSMv2 login");
        SoftHsmToken {
            session: Some(session),
            p11: Some(p11),
            _dir: dir,
        }
    }

    fn session(&self) -> &Session {
        self.session.as_ref().expect("open until drop")
    }
}

impl Drop for SoftHsmToken {
    fn drop(&mut self) {
        // The session closes before the library is finalized.
        drop(self.session.take());
        if let Some(p) = self.p11.take() {
            let _ = p.finalize();
        }
    }
}

// ---------------------------------------------------------------------------
// The OpenSSL side: libcrypto's EVP cipher interface, loaded at run time.

const EVP_CTRL_GCM_SET_IVLEN: c_int = 0x9;
const EVP_CTRL_GCM_GET_TAG: c_int = 0x10;
const EVP_CTRL_GCM_SET_TAG: c_int = 0x11;

type CtxNew = unsafe extern "C" fn() -> *mut c_void;
type CtxFree = unsafe extern "C" fn(*mut c_void);
type CipherFn = unsafe extern "C" fn() -> *const c_void;
type Init =
    unsafe extern "C" fn(*mut c_void, *const c_void, *mut c_void, *const u8, *const u8) -> c_int;
type Update = unsafe extern "C" fn(*mut c_void, *mut u8, *mut c_int, *const u8, c_int) -> c_int;
type Final = unsafe extern "C" fn(*mut c_void, *mut u8, *mut c_int) -> c_int;
type Ctrl = unsafe extern "C" fn(*mut c_void, c_int, c_int, *mut c_void) -> c_int;

struct OpenSsl {
    lib: Library,
}

/// One EVP cipher run: direction, mode ("gcm", "ctr"), key (its length
/// picks AES-128 or AES-256), IV, AAD (GCM), input.
struct Job<'a> {
    encrypt: bool,
    mode: &'a str,
    key: &'a [u8],
    iv: &'a [u8],
    aad: &'a [u8],
    data: &'a [u8],
}

impl OpenSsl {
    fn load() -> OpenSsl {
        // SAFETY: loading the system's libcrypto runs only its initializers.
        let lib = unsafe { Library::new("libcrypto.so.3") }
            .expect("OpenSSL 3's libcrypto.so.3 (Debian: libssl3, installed with openssl)");
        OpenSsl { lib }
    }

    fn sym<T>(&self, name: &str) -> Symbol<'_, T> {
        // SAFETY: each name is given the C signature OpenSSL 3 documents
        // for it (EVP_EncryptInit(3), EVP_CIPHER_CTX_ctrl(3)).
        unsafe { self.lib.get(name.as_bytes()) }.unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn cipher(&self, mode: &str, key_len: usize) -> *const c_void {
        let f: Symbol<CipherFn> = self.sym(&format!("EVP_aes_{}_{mode}", key_len * 8));
        // SAFETY: EVP_aes_*() return static cipher descriptions.
        unsafe { f() }
    }

    /// (ciphertext, 16-byte tag).
    fn gcm_encrypt(&self, key: &[u8], iv: &[u8], aad: &[u8], data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut tag = vec![0u8; 16];
        let job = Job {
            encrypt: true,
            mode: "gcm",
            key,
            iv,
            aad,
            data,
        };
        let ct = self.evp(
            job,
            |_, _| {},
            |ctrl, ctx| {
                // SAFETY: tag has the 16 bytes GET_TAG writes.
                let ok = unsafe { ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.as_mut_ptr().cast()) };
                assert_eq!(ok, 1, "EVP_CTRL_GCM_GET_TAG");
            },
        );
        (ct.expect("OpenSSL GCM encryption"), tag)
    }

    /// The plaintext, or None when OpenSSL rejects the tag.
    fn gcm_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
    ) -> Option<Vec<u8>> {
        let mut tag = tag.to_vec();
        let job = Job {
            encrypt: false,
            mode: "gcm",
            key,
            iv,
            aad,
            data: ct,
        };
        let set_tag = |ctrl: Ctrl, ctx| {
            // SAFETY: SET_TAG reads tag.len() bytes.
            let ok = unsafe {
                ctrl(
                    ctx,
                    EVP_CTRL_GCM_SET_TAG,
                    tag.len() as c_int,
                    tag.as_mut_ptr().cast(),
                )
            };
            assert_eq!(ok, 1, "EVP_CTRL_GCM_SET_TAG");
        };
        self.evp(job, set_tag, |_, _| {})
    }

    fn ctr(&self, key: &[u8], counter_block: &[u8; 16], data: &[u8]) -> Vec<u8> {
        let job = Job {
            encrypt: true,
            mode: "ctr",
            key,
            iv: counter_block,
            aad: &[],
            data,
        };
        self.evp(job, |_, _| {}, |_, _| {}).expect("OpenSSL CTR")
    }

    /// One EVP encryption or decryption; `before_final` and `after_final`
    /// run around EVP_*Final_ex (GCM: set or read the tag). None when
    /// EVP_*Final_ex fails (a GCM tag that does not match).
    fn evp(
        &self,
        job: Job,
        before_final: impl FnOnce(Ctrl, *mut c_void),
        after_final: impl FnOnce(Ctrl, *mut c_void),
    ) -> Option<Vec<u8>> {
        let Job {
            encrypt,
            mode,
            key,
            iv,
            aad,
            data,
        } = job;
        let dir = if encrypt { "Encrypt" } else { "Decrypt" };
        let new: Symbol<CtxNew> = self.sym("EVP_CIPHER_CTX_new");
        let free: Symbol<CtxFree> = self.sym("EVP_CIPHER_CTX_free");
        let init: Symbol<Init> = self.sym(&format!("EVP_{dir}Init_ex"));
        let update: Symbol<Update> = self.sym(&format!("EVP_{dir}Update"));
        let fin: Symbol<Final> = self.sym(&format!("EVP_{dir}Final_ex"));
        let ctrl: Symbol<Ctrl> = self.sym("EVP_CIPHER_CTX_ctrl");
        let cipher = self.cipher(mode, key.len());
        // SAFETY: the context is created, used and freed here; every buffer
        // passed is live and as long as the length given with it (output:
        // input length plus one block, EVP's documented bound).
        unsafe {
            let ctx = new();
            assert!(!ctx.is_null(), "EVP_CIPHER_CTX_new");
            assert_eq!(
                init(ctx, cipher, ptr::null_mut(), ptr::null(), ptr::null()),
                1
            );
            if mode == "gcm" {
                assert_eq!(
                    ctrl(
                        ctx,
                        EVP_CTRL_GCM_SET_IVLEN,
                        iv.len() as c_int,
                        ptr::null_mut()
                    ),
                    1
                );
            }
            assert_eq!(
                init(ctx, ptr::null(), ptr::null_mut(), key.as_ptr(), iv.as_ptr()),
                1
            );
            let mut n: c_int = 0;
            if !aad.is_empty() {
                assert_eq!(
                    update(
                        ctx,
                        ptr::null_mut(),
                        &mut n,
                        aad.as_ptr(),
                        aad.len() as c_int
                    ),
                    1
                );
            }
            let mut out = vec![0u8; data.len() + 32];
            let mut total = 0usize;
            for piece in data.chunks(1 << 16) {
                assert_eq!(
                    update(
                        ctx,
                        out[total..].as_mut_ptr(),
                        &mut n,
                        piece.as_ptr(),
                        piece.len() as c_int
                    ),
                    1
                );
                total += n as usize;
            }
            before_final(*ctrl, ctx);
            let ok = fin(ctx, out[total..].as_mut_ptr(), &mut n) == 1;
            if ok {
                total += n as usize;
                after_final(*ctrl, ctx);
            }
            free(ctx);
            ok.then(|| {
                out.truncate(total);
                out
            })
        }
    }
}
