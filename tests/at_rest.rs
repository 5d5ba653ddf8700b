//! Key protection at rest (issue 4), proven by looking at the token files:
//! they hold no key, no private attribute and no PIN; an altered record
//! fails to load on its own while the rest of the token works; PIN changes
//! re-wrap the token key and touch no record; wrong PINs are counted even
//! when tried in parallel.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Barrier};

use common::inspect::{self, Needle, Searcher};
use common::{code, pin, token_file, token_keys, Fixture, SO_PIN, USER_PIN};
use cryptoki::context::Pkcs11;
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;

const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// A stored object row: (generation, public, sealed).
type Row = (i64, Vec<u8>, Vec<u8>);

// The helpers below open the token file with this test's own SQLite. They
// run only while this process's module is finalized: the module bundles
// another copy of SQLite, and two copies in one process do not see each
// other's POSIX locks, so one would checkpoint and delete the WAL under the
// other (https://www.sqlite.org/howtocorrupt.html, 2.2.1). Other processes
// are no problem.

/// Every object row of a token file, by id.
fn rows(file: &Path) -> BTreeMap<i64, Row> {
    let conn = rusqlite::Connection::open(file).expect("open token file");
    let mut stmt = conn
        .prepare("SELECT id, generation, public, sealed FROM objects")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

/// Overwrite one part ("public" or "sealed") of a stored row.
fn write_part(file: &Path, id: i64, part: &str, bytes: &[u8]) {
    let conn = rusqlite::Connection::open(file).expect("open token file");
    let n = conn
        .execute(
            &format!("UPDATE objects SET {part} = ?2 WHERE id = ?1"),
            rusqlite::params![id, bytes],
        )
        .expect("update");
    assert_eq!(n, 1);
}

/// One metadata value of a token file.
fn meta(file: &Path, name: &str) -> Vec<u8> {
    let conn = rusqlite::Connection::open(file).expect("open token file");
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .expect("meta value")
}

/// The store id of an object: its CKA_UNIQUE_ID is the id in hex.
fn row_id(s: &Session, h: ObjectHandle) -> i64 {
    match s
        .get_attributes(h, &[AttributeType::UniqueId])
        .expect("CKA_UNIQUE_ID")
        .first()
    {
        Some(Attribute::UniqueId(v)) => {
            i64::from_str_radix(std::str::from_utf8(v).expect("hex"), 16).expect("hex id")
        }
        other => panic!("no CKA_UNIQUE_ID: {other:?}"),
    }
}

/// Initialize a token with random PINs; returns (slot, SO PIN, user PIN).
fn token_with_random_pins(f: &Fixture, label: &str) -> (Slot, String, String) {
    let (so, user) = (inspect::random_text(24), inspect::random_text(24));
    let slot = f.free_slot();
    f.p11().init_token(slot, &pin(&so), label).expect("init");
    let s = f.p11().open_rw_session(slot).expect("open");
    s.login(UserType::So, Some(&pin(&so))).expect("SO login");
    s.init_pin(&pin(&user)).expect("C_InitPIN");
    s.logout().expect("logout");
    (slot, so, user)
}

fn secret_key(label: &str, key_type: KeyType, private: bool, value: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(key_type),
        Attribute::Token(true),
        Attribute::Private(private),
        Attribute::Sensitive(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Value(value.to_vec()),
    ]
}

fn ec_private_key(label: &str, scalar: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::EC),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::EcParams(P256.to_vec()),
        Attribute::Value(scalar.to_vec()),
    ]
}

/// A random P-256 scalar (below the order, never zero).
fn random_scalar() -> Vec<u8> {
    let mut s = inspect::random_bytes(32);
    s[0] = (s[0] & 0x7F) | 1;
    s
}

/// Generate a key pair that may be read back (CKA_SENSITIVE false), so the
/// test knows its value; returns the private key's value.
fn generate_readable(s: &Session, mech: Mechanism, params: &[u8], label: &str) -> Vec<u8> {
    let (_, private) = s
        .generate_key_pair(
            &mech,
            &[
                Attribute::Token(true),
                Attribute::EcParams(params.to_vec()),
                // Public keys are public objects: their label is in clear.
                Attribute::Label(b"generated public key".to_vec()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
                Attribute::Label(label.as_bytes().to_vec()),
            ],
        )
        .expect("C_GenerateKeyPair");
    match s
        .get_attributes(private, &[AttributeType::Value])
        .expect("value")
        .first()
    {
        Some(Attribute::Value(v)) => v.clone(),
        other => panic!("no value: {other:?}"),
    }
}

/// The token directory after importing and generating keys holds none of
/// their bytes, no label of a private object, no private data, no PIN, not
/// the token key, the PIN-derived keys or the device key; a destroyed key's
/// record is gone from it too. Checked while the library runs (the WAL
/// holds the latest pages) and after C_Finalize.
#[test]
fn token_files_hold_no_key_private_label_or_pin() {
    let mut f = Fixture::new();
    let (slot, so, user) = token_with_random_pins(&f, "disk");
    let label = |_| inspect::random_text(24);
    let (aes, scalar, data, public_secret, doomed) = (
        inspect::random_bytes(32),
        random_scalar(),
        inspect::random_bytes(48),
        inspect::random_bytes(32),
        inspect::random_bytes(32),
    );
    let labels: Vec<String> = (0..6).map(label).collect();
    let s = f.p11().open_rw_session(slot).expect("open");
    s.login(UserType::User, Some(&pin(&user))).expect("login");
    s.create_object(&secret_key(&labels[0], KeyType::AES, true, &aes))
        .expect("AES key");
    s.create_object(&ec_private_key(&labels[1], &scalar))
        .expect("EC key");
    s.create_object(&common::data_object(&labels[2], &data, true, true))
        .expect("private data");
    s.create_object(&secret_key(
        "public-secret",
        KeyType::GENERIC_SECRET,
        false,
        &public_secret,
    ))
    .expect("public secret key");
    let made_p256 = generate_readable(&s, Mechanism::EccKeyPairGen, P256, &labels[3]);
    let made_ed = generate_readable(&s, Mechanism::EccEdwardsKeyPairGen, ED25519, &labels[4]);
    s.create_object(&secret_key(&labels[5], KeyType::AES, true, &doomed))
        .expect("doomed key");
    drop(s);

    f.stop();
    let file = token_file(&f);
    let before = rows(&file);
    let mut needles = vec![
        Needle::new("AES key", &aes),
        Needle::new("EC private scalar", &scalar),
        Needle::new("private data", &data),
        Needle::new("secret of a public key", &public_secret),
        Needle::new("generated P-256 key", &made_p256),
        Needle::new("generated Ed25519 key", &made_ed),
        Needle::new("destroyed key", &doomed),
        Needle::new("user PIN", user.as_bytes()),
        Needle::new("SO PIN", so.as_bytes()),
    ];
    for (i, l) in labels.iter().enumerate() {
        needles.push(Needle::new(format!("private label {i}"), l.as_bytes()));
    }
    for (role, p) in [("user", &user), ("so", &so)] {
        let (pin_key, token_key) = token_keys(&file, role, p.as_bytes()).expect("PIN opens");
        needles.push(Needle::new(format!("{role} PIN-derived key"), &pin_key));
        needles.push(Needle::new(format!("token key (via {role})"), &token_key));
    }
    let device = std::fs::read(f.dir.path().join("device.key")).expect("device key");
    needles.push(Needle::new("device key", &device));

    f.start();
    let s = f.p11().open_rw_session(slot).expect("open");
    s.login(UserType::User, Some(&pin(&user))).expect("login");
    let doomed_handle = s
        .find_objects(&[Attribute::Label(labels[5].as_bytes().to_vec())])
        .expect("find")[0];
    let doomed_record = before[&row_id(&s, doomed_handle)].2.clone();
    s.destroy_object(doomed_handle).expect("destroy");
    needles.push(Needle::new("destroyed key's sealed record", &doomed_record));
    let searcher = Searcher::new(&needles);
    let running = inspect::search_files(&searcher, &common::token_dir_files(&f));
    drop(s);
    f.stop();
    let files = common::token_dir_files(&f);
    let stopped = inspect::search_files(&searcher, &files);
    println!(
        "{}",
        searcher.table("token directory, library running:", &running)
    );
    println!(
        "{}",
        searcher.table("token directory, after C_Finalize:", &stopped)
    );
    assert!(
        searcher.found(&running).is_empty(),
        "{:?}",
        searcher.found(&running)
    );
    assert!(
        searcher.found(&stopped).is_empty(),
        "{:?}",
        searcher.found(&stopped)
    );

    use std::os::unix::fs::PermissionsExt;
    for p in files.iter().chain([&f.dir.path().join("device.key")]) {
        let mode = std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
    }
}

/// The objects of the tampering test: private and public, with and without
/// secret attributes.
fn tamper_objects() -> Vec<(&'static str, Vec<Attribute>)> {
    vec![
        ("private-ec", ec_private_key("private-ec", &random_scalar())),
        (
            "private-data",
            common::data_object("private-data", b"private value", true, true),
        ),
        (
            "public-secret",
            secret_key(
                "public-secret",
                KeyType::GENERIC_SECRET,
                false,
                &inspect::random_bytes(32),
            ),
        ),
        (
            "public-data",
            common::data_object("public-data", b"public value", true, false),
        ),
        (
            "public-ec",
            vec![
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Token(true),
                Attribute::Label(b"public-ec".to_vec()),
                Attribute::EcParams(P256.to_vec()),
                // RFC 6979 A.2.5's P-256 public key (C_CreateObject checks
                // that a point is on its curve).
                Attribute::EcPoint(
                    [
                        &[0x04, 0x41, 0x04][..],
                        &[
                            0x60, 0xFE, 0xD4, 0xBA, 0x25, 0x5A, 0x9D, 0x31, 0xC9, 0x61, 0xEB, 0x74,
                            0xC6, 0x35, 0x6D, 0x68, 0xC0, 0x49, 0xB8, 0x92, 0x3B, 0x61, 0xFA, 0x6C,
                            0xE6, 0x69, 0x62, 0x2E, 0x60, 0xF2, 0x9F, 0xB6, 0x79, 0x03, 0xFE, 0x10,
                            0x08, 0xB8, 0xBC, 0x99, 0xA4, 0x1A, 0xE9, 0xE9, 0x56, 0x28, 0xBC, 0x64,
                            0xF2, 0xF1, 0xB2, 0x0C, 0x2D, 0x7E, 0x9F, 0x51, 0x77, 0xA3, 0xC2, 0x94,
                            0xD4, 0x46, 0x22, 0x99,
                        ],
                    ]
                    .concat(),
                ),
            ],
        ),
    ]
}

/// The labels of every object the user sees, sorted.
fn visible_labels(p11: &Pkcs11, token: &str, user_pin: &str) -> Vec<String> {
    let slot = p11
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            p11.get_token_info(*s)
                .map(|i| i.label() == token)
                .unwrap_or(false)
        })
        .expect("the token");
    let s = p11.open_ro_session(slot).expect("open");
    s.login(UserType::User, Some(&pin(user_pin)))
        .expect("login");
    let mut labels: Vec<String> = s
        .find_objects(&[])
        .expect("find")
        .into_iter()
        .map(|h| {
            match s
                .get_attributes(h, &[AttributeType::Label])
                .expect("label")
                .first()
            {
                Some(Attribute::Label(l)) => String::from_utf8_lossy(l).into_owned(),
                other => format!("{other:?}"),
            }
        })
        .collect();
    labels.sort();
    labels
}

/// Restart the library and check that exactly the objects of `all` but
/// `missing` load.
fn expect_loaded(f: &mut Fixture, all: &[&str], missing: &[&str], what: &str) {
    f.start();
    let got = visible_labels(f.p11(), "tamper", USER_PIN);
    f.stop();
    let mut want: Vec<String> = all
        .iter()
        .filter(|l| !missing.contains(l))
        .map(|l| l.to_string())
        .collect();
    want.sort();
    assert_eq!(got, want, "{what}");
}

/// Where to flip a byte of a record part `len` long: its start (nonce,
/// codec header), its middle, its end (GCM tag).
fn positions(len: usize) -> Vec<usize> {
    let mut at: Vec<usize> = [0, 1, 11, 12, len / 2, len.saturating_sub(17), len - 1]
        .into_iter()
        .filter(|&i| i < len)
        .collect();
    at.dedup();
    at.sort_unstable();
    at.dedup();
    at
}

/// Flipping a byte of any part of any object record, truncating it,
/// extending it, swapping two records or copying one under another id
/// makes that object (and only it) fail to load; the rest of the token
/// works, and the log says which record and why.
#[test]
fn an_altered_record_fails_to_load_and_the_rest_still_works() {
    let mut f = Fixture::new();
    let slot = f.init_token("tamper");
    let mut label_of = BTreeMap::new();
    {
        let s = f.user_session(slot);
        for (label, template) in tamper_objects() {
            let h = s.create_object(&template).expect(label);
            label_of.insert(row_id(&s, h), label);
        }
    }
    f.stop();
    let file = token_file(&f);
    let original = rows(&file);
    let all: Vec<&str> = label_of.values().copied().collect();
    assert_eq!(original.len(), all.len());

    for (id, (_, public, sealed)) in &original {
        let label = label_of[id];
        for (part, bytes) in [("public", public), ("sealed", sealed)] {
            if bytes.is_empty() {
                continue;
            }
            let mut variants: Vec<(String, Vec<u8>)> = positions(bytes.len())
                .into_iter()
                .map(|at| {
                    let mut b = bytes.clone();
                    b[at] ^= 0x01;
                    (format!("byte {at} flipped"), b)
                })
                .collect();
            variants.push(("truncated".into(), bytes[..bytes.len() - 1].to_vec()));
            variants.push(("extended".into(), [bytes.as_slice(), &[0]].concat()));
            for (how, bad) in variants {
                write_part(&file, *id, part, &bad);
                expect_loaded(&mut f, &all, &[label], &format!("{label}: {part} {how}"));
                write_part(&file, *id, part, bytes);
            }
        }
    }

    // Two private records swapped: neither opens under the other's id.
    let private: Vec<i64> = original
        .iter()
        .filter(|(_, (_, public, _))| public.is_empty())
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(private.len(), 2);
    let (a, b) = (private[0], private[1]);
    write_part(&file, a, "sealed", &original[&b].2);
    write_part(&file, b, "sealed", &original[&a].2);
    expect_loaded(
        &mut f,
        &all,
        &[label_of[&a], label_of[&b]],
        "records swapped",
    );
    write_part(&file, a, "sealed", &original[&a].2);
    write_part(&file, b, "sealed", &original[&b].2);

    // A record copied under a new id: the copy fails, the original loads.
    {
        let conn = rusqlite::Connection::open(&file).expect("open");
        for (id, (_, public, sealed)) in &original {
            conn.execute(
                "INSERT INTO objects (id, generation, public, sealed) VALUES (?1, 0, ?2, ?3)",
                rusqlite::params![id ^ 0x5555, public, sealed],
            )
            .expect("insert copy");
        }
    }
    expect_loaded(&mut f, &all, &[], "every record copied under another id");
    {
        let conn = rusqlite::Connection::open(&file).expect("open");
        for id in original.keys() {
            conn.execute("DELETE FROM objects WHERE id = ?1", [id ^ 0x5555])
                .expect("delete copy");
        }
    }

    // The log names the record and the reason: seen from another process,
    // whose stderr the test reads.
    let (victim, (_, _, sealed)) = original.iter().next().expect("a row");
    let mut bad = sealed.clone();
    bad[20] ^= 0x80;
    write_part(&file, *victim, "sealed", &bad);
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "list_labels_child_part",
            "--ignored",
            "--nocapture",
        ])
        .env("PROZHSM_CONF", f.dir.path().join("prozhsm.conf"))
        .env("PROZHSM_TEST_LIST_LABELS", "tamper")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("object record {victim} failed to load")),
        "the log should name the record: {stderr}"
    );
    assert!(
        !stdout.contains(&format!("LABEL {}\n", label_of[victim])),
        "{stdout}"
    );
    write_part(&file, *victim, "sealed", sealed);
    expect_loaded(&mut f, &all, &[], "every record restored");
}

/// Run by `an_altered_record_fails_to_load_and_the_rest_still_works` in a
/// process of its own: print the labels the user sees.
#[test]
#[ignore = "run by an_altered_record_fails_to_load_and_the_rest_still_works"]
fn list_labels_child_part() {
    let Ok(token) = std::env::var("PROZHSM_TEST_LIST_LABELS") else {
        return;
    };
    let p11 = Pkcs11::new(common::module_path()).expect("load");
    p11.initialize(cryptoki::context::CInitializeArgs::new(
        cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
    ))
    .expect("init");
    for l in visible_labels(&p11, &token, USER_PIN) {
        println!("LABEL {l}");
    }
}

/// C_SetPIN (user and SO) and C_InitPIN re-wrap the token key under the new
/// PIN: the object records stay byte for byte what they were, the same
/// token key comes out of the new wrapping, the old PIN opens nothing, and
/// after a restart every object is readable with the newest PIN.
#[test]
fn pin_changes_rewrap_the_token_key_and_touch_no_record() {
    let mut f = Fixture::new();
    let slot = f.init_token("rekey");
    {
        let s = f.user_session(slot);
        s.create_object(&common::data_object("private-data", b"kept", true, true))
            .expect("private data");
        s.create_object(&ec_private_key("private-ec", &random_scalar()))
            .expect("EC key");
        s.create_object(&secret_key(
            "public-secret",
            KeyType::GENERIC_SECRET,
            false,
            &inspect::random_bytes(32),
        ))
        .expect("public secret");
    }
    // Each change is made with the library running; the file is read with
    // it stopped (see the note on the helpers).
    f.stop();
    let file = token_file(&f);
    let records = rows(&file);
    let (_, token_key) = token_keys(&file, "user", USER_PIN.as_bytes()).expect("user PIN");
    let opens = |role: &str, p: &str| token_keys(&file, role, p.as_bytes()).map(|k| k.1);
    let change = |f: &mut Fixture, what: &str, login: (UserType, &str), act: &dyn Fn(&Session)| {
        let wrapped = (meta(&file, "user.key"), meta(&file, "so.key"));
        f.start();
        let slot = f.slot_by_label("rekey");
        let s = f.p11().open_rw_session(slot).expect("open");
        s.login(login.0, Some(&pin(login.1))).expect("login");
        act(&s);
        drop(s);
        f.stop();
        assert!(rows(&file) == records, "{what} changed object records");
        assert_ne!(
            (meta(&file, "user.key"), meta(&file, "so.key")),
            wrapped,
            "{what} re-wraps the token key"
        );
    };

    change(
        &mut f,
        "the user's C_SetPIN",
        (UserType::User, USER_PIN),
        &|s| {
            s.set_pin(&pin(USER_PIN), &pin("user-pin-2"))
                .expect("user C_SetPIN")
        },
    );
    assert_eq!(opens("user", "user-pin-2").as_ref(), Some(&token_key));
    assert_eq!(
        opens("user", USER_PIN),
        None,
        "the old user PIN opens nothing"
    );

    change(&mut f, "C_InitPIN", (UserType::So, SO_PIN), &|s| {
        s.init_pin(&pin("user-pin-3")).expect("C_InitPIN")
    });
    assert_eq!(opens("user", "user-pin-3").as_ref(), Some(&token_key));
    assert_eq!(opens("user", "user-pin-2"), None);

    change(&mut f, "the SO's C_SetPIN", (UserType::So, SO_PIN), &|s| {
        s.set_pin(&pin(SO_PIN), &pin("so-pin-2222"))
            .expect("SO C_SetPIN")
    });
    assert_eq!(opens("so", "so-pin-2222").as_ref(), Some(&token_key));
    assert_eq!(opens("so", SO_PIN), None, "the old SO PIN opens nothing");

    f.start();
    let slot = f.slot_by_label("rekey");
    let s = f.p11().open_ro_session(slot).expect("open");
    for old in [USER_PIN, "user-pin-2"] {
        assert_eq!(
            code(s.login(UserType::User, Some(&pin(old)))),
            RvError::PinIncorrect
        );
    }
    s.login(UserType::User, Some(&pin("user-pin-3")))
        .expect("the newest PIN");
    let found = s.find_objects(&[]).expect("find");
    assert_eq!(found.len(), 3, "every object readable with the new PIN");
    let data = s
        .find_objects(&[Attribute::Label(b"private-data".to_vec())])
        .expect("find");
    assert_eq!(
        s.get_attributes(data[0], &[AttributeType::Value])
            .expect("value"),
        vec![Attribute::Value(b"kept".to_vec())]
    );
}

/// Wrong PINs tried at once from many threads are each counted: exactly
/// max_pin_attempts of them get CKR_PIN_INCORRECT, the rest CKR_PIN_LOCKED,
/// and the PIN is locked. (Counting after the key derivation by writing
/// back what was read before it would let parallel guesses share one
/// count.)
#[test]
fn wrong_pins_tried_in_parallel_are_each_counted() {
    const TRIES: usize = 12;
    let f = Fixture::with_config("max_pin_attempts = 3");
    let slot = f.init_token("parallel");
    let barrier = Arc::new(Barrier::new(TRIES));
    let threads: Vec<_> = (0..TRIES)
        .map(|_| {
            let p11 = f.p11().clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let s = p11.open_ro_session(slot).expect("open");
                barrier.wait();
                code(s.login(UserType::User, Some(&pin("0000"))))
            })
        })
        .collect();
    let results: Vec<RvError> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let incorrect = results
        .iter()
        .filter(|r| **r == RvError::PinIncorrect)
        .count();
    let locked = results.iter().filter(|r| **r == RvError::PinLocked).count();
    assert_eq!((incorrect, locked), (3, TRIES - 3), "results: {results:?}");
    assert!(f
        .p11()
        .get_token_info(slot)
        .expect("info")
        .user_pin_locked());
    let s = f.p11().open_ro_session(slot).expect("open");
    assert_eq!(
        code(s.login(UserType::User, Some(&pin(USER_PIN)))),
        RvError::PinLocked
    );
}
