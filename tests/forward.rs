//! Forwarded slots (PKCS#11 3.0 throughout, through ProzHSM's C ABI):
//! SoftHSMv2 stands in for the real HSM behind a `[[forward]]` slot. Each
//! test makes its own SoftHSM token directory and SOFTHSM2_CONF.
//!
//! One copy of libsofthsm2.so is one library instance in a process, shared
//! by ProzHSM and any direct load; so the direct checks ("the keys are in
//! SoftHSM's store") run after ProzHSM is finalized, which finalizes
//! SoftHSM too. For two HSMs at once, a copy of libsofthsm2.so (a new inode,
//! so glibc loads it as a second instance) is patched to read SOFTHSMB_CONF
//! instead of SOFTHSM2_CONF, giving it its own token directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki_sys::*;

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// DER of the P-256 curve's OID, for CKA_EC_PARAMS.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A SoftHSM token directory and config under `root`; returns the config.
fn softhsm_conf(root: &Path, name: &str) -> PathBuf {
    let tokens = root.join(format!("{name}-tokens"));
    std::fs::create_dir_all(&tokens).expect("softhsm token dir");
    let conf = root.join(format!("{name}-softhsm2.conf"));
    let text = format!(
        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
        tokens.display()
    );
    std::fs::write(&conf, text).expect("softhsm conf");
    conf
}

/// Initialize a token on SoftHSM's free slot with softhsm2-util (SO_PIN,
/// USER_PIN); returns the slot id SoftHSM gives it.
fn softhsm_init_token(conf: &Path, label: &str) -> u64 {
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", conf)
        .args(["--init-token", "--free", "--label", label])
        .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
        .output()
        .expect("run softhsm2-util");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "softhsm2-util: {text}");
    text.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .expect("the slot the token was reassigned to")
}

/// A copy of libsofthsm2.so in `dir` that reads SOFTHSMB_CONF.
fn second_softhsm(dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(SOFTHSM).expect("read libsofthsm2.so");
    let (from, to) = (b"SOFTHSM2_CONF", b"SOFTHSMB_CONF");
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "one SOFTHSM2_CONF string in the library");
    bytes[at[0]..at[0] + to.len()].copy_from_slice(to);
    let path = dir.join("libsofthsm2-b.so");
    std::fs::write(&path, bytes).expect("write the copy");
    path
}

fn forward_entry(module: &Path, selector: &str) -> String {
    format!(
        "[[forward]]\nmodule = \"{}\"\n{selector}\n",
        module.display()
    )
}

/// The slots whose slot info says SoftHSM made them (the forwarded ones).
fn forwarded_slots(p11: &Pkcs11) -> Vec<Slot> {
    p11.get_all_slots()
        .expect("slots")
        .into_iter()
        .filter(|s| {
            p11.get_slot_info(*s)
                .expect("slot info")
                .manufacturer_id()
                .starts_with("SoftHSM")
        })
        .collect()
}

fn ec_key_pair(s: &Session, label: &str) -> (ObjectHandle, ObjectHandle) {
    let public = [
        Attribute::Token(true),
        Attribute::EcParams(P256.to_vec()),
        Attribute::Verify(true),
        Attribute::Label(label.into()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
        Attribute::Label(label.into()),
    ];
    s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        .expect("EC key pair in the HSM")
}

fn aes_key(s: &Session, label: &str, extractable: bool) -> ObjectHandle {
    s.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(extractable),
            Attribute::ValueLen(32.into()),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Label(label.into()),
        ],
    )
    .expect("AES key in the HSM")
}

fn labels(s: &Session, class: ObjectClass) -> Vec<String> {
    let mut out: Vec<String> = s
        .find_objects(&[Attribute::Class(class)])
        .expect("find")
        .into_iter()
        .map(|o| match s.get_attributes(o, &[AttributeType::Label]) {
            Ok(a) => match a.as_slice() {
                [Attribute::Label(l)] => String::from_utf8_lossy(l).into_owned(),
                other => panic!("label: {other:?}"),
            },
            Err(e) => panic!("label: {e}"),
        })
        .collect();
    out.sort();
    out
}

/// Load `module` directly (ProzHSM finalized), log in to `label`'s token
/// and run `check` on a session there.
fn direct(module: &Path, label: &str, check: impl FnOnce(&Session)) {
    let p11 = Pkcs11::new(module).expect("load the HSM directly");
    p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .expect("C_Initialize directly");
    let slot = p11
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| p11.get_token_info(*s).is_ok_and(|t| t.label() == label))
        .expect("the token in the HSM's own store");
    let s = p11.open_ro_session(slot).expect("open");
    s.login(UserType::User, Some(&pin(USER_PIN)))
        .expect("login");
    check(&s);
    drop(s);
    p11.finalize().expect("C_Finalize directly");
}

/// No ProzHSM token file was made.
fn no_prozhsm_tokens(f: &Fixture) {
    let tokens = f.dir.path().join("tokens");
    let files: Vec<_> = std::fs::read_dir(&tokens)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !files
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".token.sqlite")),
        "ProzHSM's token dir holds {files:?}"
    );
}

#[test]
fn keys_made_through_a_forwarded_slot_live_in_the_hsm() {
    let mut f = Fixture::with_setup(|dir| {
        std::env::set_var("SOFTHSM2_CONF", softhsm_conf(dir, "hsm"));
        forward_entry(Path::new(SOFTHSM), "")
    });
    let p11 = f.p11().clone();

    // SoftHSM's free slot appears next to the software slot, with its own
    // id, and its token is initialized through ProzHSM.
    let all = p11.get_all_slots().expect("slots");
    let fwd = forwarded_slots(&p11);
    assert_eq!(fwd.len(), 1, "SoftHSM's free slot: {all:?}");
    assert_eq!(all.len(), 2, "one software slot and one forwarded");
    let slot = fwd[0];
    assert_eq!(all.last(), Some(&slot), "forwarded slots are listed last");
    p11.init_token(slot, &pin(SO_PIN), "hsm")
        .expect("C_InitToken through the forwarded slot");
    let token = p11.get_token_info(slot).expect("token info");
    assert_eq!(token.label(), "hsm");
    assert!(token.manufacturer_id().starts_with("SoftHSM"));
    let mechs = p11.get_mechanism_list(slot).expect("mechanisms");
    assert!(mechs.contains(&cryptoki::mechanism::MechanismType::ECDSA));
    assert_eq!(
        forwarded_slots(&p11).len(),
        2,
        "SoftHSM's new free slot is forwarded too"
    );
    {
        let so = p11.open_rw_session(slot).expect("open");
        so.login(UserType::So, Some(&pin(SO_PIN)))
            .expect("SO login");
        so.init_pin(&pin(USER_PIN)).expect("C_InitPIN");
    }
    let s = f.user_session(slot);
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::UserAlreadyLoggedIn,
        "the HSM's login state and error code"
    );

    // EC: sign and verify.
    let (ec_pub, ec_priv) = ec_key_pair(&s, "ec");
    let digest = [7u8; 32];
    let sig = s.sign(&Mechanism::Ecdsa, ec_priv, &digest).expect("sign");
    assert_eq!(sig.len(), 64);
    s.verify(&Mechanism::Ecdsa, ec_pub, &digest, &sig)
        .expect("verify");
    let mut bad = sig.clone();
    bad[0] ^= 1;
    assert_eq!(
        code(s.verify(&Mechanism::Ecdsa, ec_pub, &digest, &bad)),
        RvError::SignatureInvalid
    );

    // RSA: sign, verify, encrypt, decrypt.
    let (rsa_pub, rsa_priv) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::ModulusBits(2048.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
                Attribute::Verify(true),
                Attribute::Encrypt(true),
                Attribute::Label(b"rsa".to_vec()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sign(true),
                Attribute::Decrypt(true),
                Attribute::Label(b"rsa".to_vec()),
            ],
        )
        .expect("RSA key pair in the HSM");
    let sig = s
        .sign(&Mechanism::Sha256RsaPkcs, rsa_priv, b"message")
        .expect("RSA sign");
    assert_eq!(sig.len(), 256);
    s.verify(&Mechanism::Sha256RsaPkcs, rsa_pub, b"message", &sig)
        .expect("RSA verify");
    let ct = s
        .encrypt(&Mechanism::RsaPkcs, rsa_pub, b"secret")
        .expect("RSA encrypt");
    assert_eq!(
        s.decrypt(&Mechanism::RsaPkcs, rsa_priv, &ct)
            .expect("RSA decrypt"),
        b"secret"
    );

    // AES: encrypt, decrypt (a mechanism parameter passes through), wrap,
    // unwrap.
    let aes = aes_key(&s, "aes", false);
    let iv = [3u8; 16];
    let ct = s
        .encrypt(&Mechanism::AesCbcPad(iv), aes, b"seventeen bytes!!")
        .expect("AES encrypt");
    assert_eq!(ct.len(), 32);
    assert_eq!(
        s.decrypt(&Mechanism::AesCbcPad(iv), aes, &ct)
            .expect("AES decrypt"),
        b"seventeen bytes!!"
    );
    // Structured parameters (pointers inside) pass through as the client
    // gave them: AES-GCM and RSA-OAEP, decrypted by the HSM.
    let mut gcm_iv = [9u8; 12];
    let aad = b"header";
    let params = cryptoki::mechanism::aead::GcmParams::new(&mut gcm_iv, aad, 128.into())
        .expect("GCM params");
    let sealed = s
        .encrypt(&Mechanism::AesGcm(params), aes, b"through the HSM")
        .expect("GCM encrypt");
    assert_eq!(sealed.len(), 15 + 16);
    let params = cryptoki::mechanism::aead::GcmParams::new(&mut gcm_iv, aad, 128.into())
        .expect("GCM params");
    assert_eq!(
        s.decrypt(&Mechanism::AesGcm(params), aes, &sealed)
            .expect("GCM decrypt"),
        b"through the HSM"
    );
    let oaep = Mechanism::RsaPkcsOaep(cryptoki::mechanism::rsa::PkcsOaepParams::new(
        cryptoki::mechanism::MechanismType::SHA1,
        cryptoki::mechanism::rsa::PkcsMgfType::MGF1_SHA1,
        cryptoki::mechanism::rsa::PkcsOaepSource::empty(),
    ));
    let ct = s
        .encrypt(&oaep, rsa_pub, b"oaep secret")
        .expect("OAEP encrypt");
    assert_eq!(
        s.decrypt(&oaep, rsa_priv, &ct).expect("OAEP decrypt"),
        b"oaep secret"
    );

    let data_key = aes_key(&s, "data", true);
    let wrapped = s
        .wrap_key(&Mechanism::AesKeyWrap, aes, data_key)
        .expect("wrap");
    assert_eq!(wrapped.len(), 40);
    let unwrapped = s
        .unwrap_key(
            &Mechanism::AesKeyWrap,
            aes,
            &wrapped,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Token(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Label(b"unwrapped".to_vec()),
            ],
        )
        .expect("unwrap");
    let a = s
        .encrypt(&Mechanism::AesCbcPad(iv), data_key, b"x")
        .expect("encrypt");
    let b = s
        .encrypt(&Mechanism::AesCbcPad(iv), unwrapped, b"x")
        .expect("encrypt");
    assert_eq!(a, b, "the unwrapped key is the wrapped one");

    // Attributes: a sensitive value is refused by the HSM, and the code
    // passes through.
    let raw = Raw::load();
    let mut buf = [0u8; 32];
    let mut attr = [CK_ATTRIBUTE {
        type_: CKA_VALUE,
        pValue: buf.as_mut_ptr().cast(),
        ulValueLen: 32,
    }];
    // SAFETY: a live session and a template of one attribute with its
    // buffer.
    let rv = unsafe {
        raw.f().C_GetAttributeValue.expect("fn")(s.handle(), aes.handle(), attr.as_mut_ptr(), 1)
    };
    assert_eq!(rv, CKR_ATTRIBUTE_SENSITIVE);
    assert_eq!(attr[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);

    two_call_convention(&raw, &s, ec_priv);

    // Find and destroy.
    assert_eq!(
        labels(&s, ObjectClass::SECRET_KEY),
        ["aes", "data", "unwrapped"]
    );
    s.destroy_object(data_key).expect("destroy");
    assert_eq!(labels(&s, ObjectClass::SECRET_KEY), ["aes", "unwrapped"]);
    assert_eq!(labels(&s, ObjectClass::PRIVATE_KEY), ["ec", "rsa"]);
    drop(s);

    // In SoftHSM's own store, and nothing in ProzHSM's.
    f.stop();
    no_prozhsm_tokens(&f);
    direct(Path::new(SOFTHSM), "hsm", |s| {
        assert_eq!(labels(s, ObjectClass::PRIVATE_KEY), ["ec", "rsa"]);
        assert_eq!(labels(s, ObjectClass::PUBLIC_KEY), ["ec", "rsa"]);
        assert_eq!(
            labels(s, ObjectClass::SECRET_KEY),
            ["aes"],
            "the destroyed key is gone, the session key was the session's"
        );
    });
}

/// C_Sign's two-call convention through the forwarded slot, with raw
/// calls: NULL asks the length, a short buffer gets CKR_BUFFER_TOO_SMALL
/// with the HSM's length and leaves the operation active, then the
/// signature comes.
fn two_call_convention(raw: &Raw, s: &Session, key: ObjectHandle) {
    let f = raw.f();
    let h = s.handle();
    let mut mech = CK_MECHANISM {
        mechanism: CKM_ECDSA,
        pParameter: std::ptr::null_mut(),
        ulParameterLen: 0,
    };
    let mut data = [9u8; 32];
    let mut sig = [0u8; 64];
    let mut len: CK_ULONG = 0;
    // SAFETY: a live session; every pointer is a live local of the length
    // passed.
    unsafe {
        assert_eq!(
            f.C_SignInit.expect("fn")(h, &mut mech, key.handle()),
            CKR_OK
        );
        let sign = f.C_Sign.expect("fn");
        let rv = sign(h, data.as_mut_ptr(), 32, std::ptr::null_mut(), &mut len);
        assert_eq!((rv, len), (CKR_OK, 64), "length query");
        len = 10;
        let rv = sign(h, data.as_mut_ptr(), 32, sig.as_mut_ptr(), &mut len);
        assert_eq!((rv, len), (CKR_BUFFER_TOO_SMALL, 64), "short buffer");
        len = 64;
        let rv = sign(h, data.as_mut_ptr(), 32, sig.as_mut_ptr(), &mut len);
        assert_eq!((rv, len), (CKR_OK, 64), "the operation stayed active");
        let rv = sign(h, data.as_mut_ptr(), 32, sig.as_mut_ptr(), &mut len);
        assert_eq!(rv, CKR_OPERATION_NOT_INITIALIZED, "and then ended");
    }
}

#[test]
fn broken_modules_leave_the_software_slots_usable() {
    let mut f = Fixture::with_setup(|dir| {
        std::fs::write(dir.join("not-a-module.so"), "text").expect("write");
        // SoftHSM with a missing config fails its C_Initialize.
        std::env::set_var("SOFTHSM2_CONF", dir.join("missing.conf"));
        [
            forward_entry(Path::new("/nonexistent/libhsm.so"), ""),
            forward_entry(&dir.join("not-a-module.so"), ""),
            forward_entry(Path::new(SOFTHSM), "token_label = \"hsm\""),
        ]
        .concat()
    });
    let p11 = f.p11().clone();
    let slots = p11.get_all_slots().expect("slots");
    assert_eq!(slots.len(), 1, "only the software token's free slot");
    assert!(forwarded_slots(&p11).is_empty());
    let slot = f.init_token("soft");
    let s = f.user_session(slot);
    s.create_object(&data_object("kept", b"v", true, true))
        .expect("create");
    drop(s);
    f.restart();
    let slot = f.slot_by_label("soft");
    let s = f.user_session(slot);
    assert_eq!(
        s.find_objects(&[Attribute::Label(b"kept".to_vec())])
            .expect("find")
            .len(),
        1
    );
}

#[test]
fn two_hsm_modules_and_selectors() {
    let mut gamma = 0;
    let mut f = Fixture::with_setup(|dir| {
        let a = softhsm_conf(dir, "a");
        let b = softhsm_conf(dir, "b");
        softhsm_init_token(&a, "alpha");
        gamma = softhsm_init_token(&a, "gamma");
        softhsm_init_token(&a, "delta");
        softhsm_init_token(&b, "beta");
        std::env::set_var("SOFTHSM2_CONF", &a);
        std::env::set_var("SOFTHSMB_CONF", &b);
        let copy = second_softhsm(dir);
        [
            forward_entry(Path::new(SOFTHSM), "token_label = \"alpha\""),
            forward_entry(Path::new(SOFTHSM), &format!("slot_id = {gamma}")),
            forward_entry(&copy, "token_label = \"beta\""),
        ]
        .concat()
    });
    let p11 = f.p11().clone();
    let fwd = forwarded_slots(&p11);
    let names: Vec<String> = fwd
        .iter()
        .map(|s| p11.get_token_info(*s).expect("info").label().to_string())
        .collect();
    assert_eq!(
        names,
        ["alpha", "gamma", "beta"],
        "selected tokens only, in config order"
    );
    let mut ids: Vec<u64> = p11
        .get_all_slots()
        .expect("slots")
        .iter()
        .map(Slot::id)
        .collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        4,
        "distinct ids for the software and forwarded slots"
    );
    // Each token is its own: a key made in one is not in the others.
    for (slot, name) in fwd.iter().zip(&names) {
        let s = f.user_session(*slot);
        aes_key(&s, &format!("key-{name}"), false);
    }
    for (slot, name) in fwd.iter().zip(&names) {
        let s = f.user_session(*slot);
        assert_eq!(labels(&s, ObjectClass::SECRET_KEY), [format!("key-{name}")]);
    }
    let dir = f.dir.path().to_path_buf();
    f.stop();
    no_prozhsm_tokens(&f);
    direct(Path::new(SOFTHSM), "alpha", |s| {
        assert_eq!(labels(s, ObjectClass::SECRET_KEY), ["key-alpha"]);
    });
    direct(&dir.join("libsofthsm2-b.so"), "beta", |s| {
        assert_eq!(labels(s, ObjectClass::SECRET_KEY), ["key-beta"]);
    });
}

#[test]
fn sessions_on_many_threads_sign_at_once() {
    let f = Fixture::with_setup(|dir| {
        let conf = softhsm_conf(dir, "hsm");
        softhsm_init_token(&conf, "hsm");
        std::env::set_var("SOFTHSM2_CONF", conf);
        forward_entry(Path::new(SOFTHSM), "token_label = \"hsm\"")
    });
    let p11 = f.p11().clone();
    let slot = forwarded_slots(&p11)[0];
    let s = f.user_session(slot);
    let (public, private) = ec_key_pair(&s, "shared");
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let p11 = p11.clone();
            scope.spawn(move || {
                let s = p11.open_ro_session(slot).expect("open");
                for i in 0..50u8 {
                    let digest = [t ^ i; 32];
                    let sig = s.sign(&Mechanism::Ecdsa, private, &digest).expect("sign");
                    s.verify(&Mechanism::Ecdsa, public, &digest, &sig)
                        .expect("verify");
                }
            });
        }
    });
}

#[test]
fn close_all_sessions_and_slot_events_route_to_the_hsm() {
    let mut f = Fixture::with_setup(|dir| {
        let conf = softhsm_conf(dir, "hsm");
        softhsm_init_token(&conf, "hsm");
        std::env::set_var("SOFTHSM2_CONF", conf);
        forward_entry(Path::new(SOFTHSM), "token_label = \"hsm\"")
    });
    let p11 = f.p11().clone();
    let soft = f.free_slot_where(|d| d.starts_with("ProzHSM"));
    p11.init_token(soft, &pin(SO_PIN), "soft")
        .expect("soft token");
    let soft_session = p11.open_ro_session(soft).expect("open soft");
    let slot = forwarded_slots(&p11)[0];
    let a = p11.open_rw_session(slot).expect("open");
    let b = p11.open_ro_session(slot).expect("open");
    assert_eq!(
        code(p11.init_token(slot, &pin(SO_PIN), "hsm")),
        RvError::SessionExists
    );
    let raw = Raw::load();
    // SAFETY: C_CloseAllSessions takes only a slot id.
    let rv = unsafe { raw.f().C_CloseAllSessions.expect("fn")(slot.id() as CK_SLOT_ID) };
    assert_eq!(rv, CKR_OK, "C_CloseAllSessions");
    for s in [&a, &b] {
        assert_eq!(code(s.get_session_info()), RvError::SessionHandleInvalid);
    }
    soft_session
        .get_session_info()
        .expect("the software slot's session stays");
    // The HSM's sessions are closed too: it lets its token be
    // re-initialized now.
    p11.init_token(slot, &pin(SO_PIN), "hsm")
        .expect("C_InitToken in the HSM");
    std::mem::forget((a, b));

    // SoftHSM answers "no event" without blocking; a blocking wait polls
    // until an event or C_Finalize, which ends it as the spec asks.
    assert_eq!(p11.get_slot_event().expect("poll"), None);
    let waiter = {
        let p11 = p11.clone();
        std::thread::spawn(move || p11.wait_for_slot_event())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(soft_session);
    f.stop();
    let waited = waiter.join().expect("waiter thread");
    assert_eq!(code(waited), RvError::CryptokiNotInitialized);
}

trait FreeSlot {
    fn free_slot_where(&self, description: impl Fn(&str) -> bool) -> Slot;
}

impl FreeSlot for Fixture {
    /// The uninitialized slot whose manufacturer passes `description`.
    fn free_slot_where(&self, description: impl Fn(&str) -> bool) -> Slot {
        let p11 = self.p11();
        p11.get_all_slots()
            .expect("slots")
            .into_iter()
            .find(|s| {
                description(p11.get_slot_info(*s).expect("info").manufacturer_id())
                    && !p11.get_token_info(*s).expect("token").token_initialized()
            })
            .expect("a free slot")
    }
}

#[test]
fn attribute_arrays_pass_through_nested() {
    let f = Fixture::with_setup(|dir| {
        let conf = softhsm_conf(dir, "hsm");
        softhsm_init_token(&conf, "hsm");
        std::env::set_var("SOFTHSM2_CONF", conf);
        forward_entry(Path::new(SOFTHSM), "token_label = \"hsm\"")
    });
    let slot = forwarded_slots(f.p11())[0];
    let s = f.user_session(slot);
    let raw = Raw::load();
    let fl = raw.f();
    let (mut class, mut key_type, mut yes) = (CKO_SECRET_KEY, CKK_AES, CK_TRUE);
    let mut value = [5u8; 32];
    let mut inner = [CK_ATTRIBUTE {
        type_: CKA_KEY_TYPE,
        pValue: (&mut key_type as *mut CK_ULONG).cast(),
        ulValueLen: std::mem::size_of::<CK_ULONG>() as CK_ULONG,
    }];
    let attr = |type_, p: *mut u8, n: usize| CK_ATTRIBUTE {
        type_,
        pValue: p.cast(),
        ulValueLen: n as CK_ULONG,
    };
    let ulong = std::mem::size_of::<CK_ULONG>();
    let mut template = [
        attr(CKA_CLASS, (&mut class as *mut CK_ULONG).cast(), ulong),
        attr(CKA_KEY_TYPE, (&mut key_type as *mut CK_ULONG).cast(), ulong),
        attr(CKA_VALUE, value.as_mut_ptr(), 32),
        attr(CKA_WRAP, &mut yes, 1),
        attr(
            CKA_WRAP_TEMPLATE,
            inner.as_mut_ptr().cast(),
            std::mem::size_of_val(&inner),
        ),
    ];
    let mut key = 0;
    // SAFETY: a live session and a template of live locals, the nested one
    // an array of one attribute.
    let rv =
        unsafe { fl.C_CreateObject.expect("fn")(s.handle(), template.as_mut_ptr(), 5, &mut key) };
    assert_eq!(rv, CKR_OK, "C_CreateObject with CKA_WRAP_TEMPLATE");
    // Read it back: first the length, then the nested value into the
    // client's own nested buffer.
    let mut read_type: CK_ULONG = 0;
    let mut out = [attr(
        CKA_KEY_TYPE,
        (&mut read_type as *mut CK_ULONG).cast(),
        ulong,
    )];
    let mut query = [attr(CKA_WRAP_TEMPLATE, std::ptr::null_mut(), 0)];
    // SAFETY: as above; the second call's buffer is `out`, of its length.
    unsafe {
        let get = fl.C_GetAttributeValue.expect("fn");
        assert_eq!(get(s.handle(), key, query.as_mut_ptr(), 1), CKR_OK);
        assert_eq!(
            query[0].ulValueLen as usize,
            std::mem::size_of_val(&out),
            "one nested attribute"
        );
        query[0].pValue = out.as_mut_ptr().cast();
        assert_eq!(get(s.handle(), key, query.as_mut_ptr(), 1), CKR_OK);
    }
    assert_eq!((out[0].type_, read_type), (CKA_KEY_TYPE, CKK_AES));
}

/// SoftHSMv2 2.6 offers only C_GetFunctionList; to reach a module through
/// C_GetInterface("PKCS 11", 3.0), ProzHSM itself stands in for the HSM: a
/// copy of libprozhsm.so (a second instance) patched to read PROZHSM_CONG,
/// with its own token directory.
#[test]
fn a_3_0_module_is_reached_through_c_get_interface() {
    let mut f = Fixture::with_setup(|dir| {
        let mut bytes = std::fs::read(module_path()).expect("read libprozhsm.so");
        let (from, to) = (b"PROZHSM_CONF", b"PROZHSM_CONG");
        let mut i = 0;
        while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
            bytes[i + at..i + at + to.len()].copy_from_slice(to);
            i += at + to.len();
        }
        let copy = dir.join("libinner.so");
        std::fs::write(&copy, bytes).expect("write the copy");
        let inner = dir.join("inner");
        std::fs::create_dir_all(&inner).expect("inner dir");
        write_config(&inner, "");
        std::env::set_var("PROZHSM_CONG", inner.join("prozhsm.conf"));
        forward_entry(&copy, "")
    });
    let slot = f.free_slot();
    assert_eq!(
        f.p11().get_all_slots().expect("slots").len(),
        2,
        "our free slot, and the inner module's"
    );
    f.init_token("inner");
    let s = f.user_session(slot);
    s.create_object(&data_object("kept", b"v", true, true))
        .expect("create in the inner module");
    assert_eq!(
        s.find_objects(&[Attribute::Label(b"kept".to_vec())])
            .expect("find")
            .len(),
        1
    );
    drop(s);
    f.stop();
    no_prozhsm_tokens(&f);
    let inner: Vec<_> = std::fs::read_dir(f.dir.path().join("inner/tokens"))
        .expect("inner tokens")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".token.sqlite"))
        .collect();
    assert_eq!(inner.len(), 1, "the token is the inner module's");
}
