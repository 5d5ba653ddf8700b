//! Token and store benchmark: ProzHSM against SoftHSMv2, same work, one run,
//! through the C ABI (the `cryptoki` crate), printed as ratios.
//!
//! Run: `cargo bench --bench token` (needs Debian's softhsm2; BENCH_OBJECTS
//! sets the object count, default 10000).
//!
//! Rows (issue #2's targets): durable token-object creations per second,
//! C_FindObjects by label per second over all those objects, cold start
//! (a new process: C_Initialize to a first ECDSA P-256 signature), and
//! session open/close per second with one and two threads.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

struct Target {
    name: &'static str,
    module: PathBuf,
    /// (variable, config path) the module reads.
    env: (&'static str, PathBuf),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("cold-start") {
        cold_start_child(&args[2], &args[3], &args[4]);
        return;
    }
    let objects: usize = std::env::var("BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // BENCH_KEEP_DIR=path keeps the tokens (for profiling the cold start).
    let root = std::env::var_os("BENCH_KEEP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    let targets = targets(&root);
    println!("token benchmark: {objects} token objects per token (BENCH_OBJECTS)");
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "row", "ProzHSM", "SoftHSMv2", "ratio"
    );
    let mut results: Vec<Vec<(String, f64, bool)>> = Vec::new();
    for t in &targets {
        std::env::set_var(t.env.0, &t.env.1);
        results.push(run(t, objects));
    }
    for (i, (row, prozhsm, higher_is_better)) in results[0].iter().enumerate() {
        let soft = results.get(1).map(|r| r[i].1);
        let ratio = soft.map(|s| {
            if *higher_is_better {
                prozhsm / s
            } else {
                s / prozhsm
            }
        });
        println!(
            "{:<44} {:>14.1} {:>14} {:>7}",
            row,
            prozhsm,
            soft.map_or("-".into(), |s| format!("{s:.1}")),
            ratio.map_or("-".into(), |r| format!("{r:.1}x"))
        );
    }
    println!("(ratio: how many times better ProzHSM is; for times, SoftHSMv2/ProzHSM)");
}

fn targets(dir: &Path) -> Vec<Target> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prozhsm = root.join("target/release/libprozhsm.so");
    assert!(
        prozhsm.exists(),
        "build the module first: cargo build --release"
    );
    let pz = dir.join("prozhsm");
    std::fs::create_dir_all(&pz).expect("dir");
    std::fs::write(
        pz.join("prozhsm.conf"),
        format!(
            "token_dir = \"{0}/tokens\"\ndevice_key = \"{0}/device.key\"\nlog_level = \"error\"\n[kdf]\nprofile = \"fast\"\n",
            pz.display()
        ),
    )
    .expect("config");
    let mut out = vec![Target {
        name: "ProzHSM",
        module: prozhsm,
        env: ("PROZHSM_CONF", pz.join("prozhsm.conf")),
    }];
    if std::env::var_os("BENCH_PROZHSM_ONLY").is_some() {
        println!("(BENCH_PROZHSM_ONLY: ProzHSM only)");
    } else if Path::new(SOFTHSM).exists() {
        let sh = dir.join("softhsm");
        std::fs::create_dir_all(sh.join("tokens")).expect("dir");
        std::fs::write(
            sh.join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
                sh.display()
            ),
        )
        .expect("config");
        out.push(Target {
            name: "SoftHSMv2",
            module: SOFTHSM.into(),
            env: ("SOFTHSM2_CONF", sh.join("softhsm2.conf")),
        });
    } else {
        println!("({SOFTHSM} not found: ProzHSM only)");
    }
    out
}

fn load(module: &Path) -> Pkcs11 {
    let p = Pkcs11::new(module).expect("load module");
    p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .expect("C_Initialize");
    p
}

fn pin(s: &str) -> AuthPin {
    AuthPin::new(s.into())
}

fn run(t: &Target, objects: usize) -> Vec<(String, f64, bool)> {
    let p = load(&t.module);
    let slot = *p.get_all_slots().expect("slots").last().expect("free slot");
    p.init_token(slot, &pin("12345678"), "bench")
        .expect("init token");
    let slot: Slot = p
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            p.get_token_info(*s)
                .map(|i| i.label() == "bench")
                .unwrap_or(false)
        })
        .expect("bench token");
    {
        let s = p.open_rw_session(slot).expect("open");
        s.login(UserType::So, Some(&pin("12345678"))).expect("so");
        s.init_pin(&pin("1234")).expect("init pin");
    }
    let s = p.open_rw_session(slot).expect("open");
    s.login(UserType::User, Some(&pin("1234"))).expect("login");
    let mut rows = Vec::new();

    // Durable creations.
    let start = Instant::now();
    for i in 0..objects {
        s.create_object(&[
            Attribute::Class(ObjectClass::DATA),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Label(format!("obj-{i}").into_bytes()),
            Attribute::Value(vec![i as u8; 64]),
        ])
        .expect("create");
    }
    let rate = objects as f64 / start.elapsed().as_secs_f64();
    eprintln!("{}: created {objects} objects at {rate:.0}/s", t.name);
    rows.push(("token-object creations/s".to_string(), rate, true));

    // Finds by label, one and two threads (a session each).
    for threads in [1usize, 2] {
        let total = std::sync::atomic::AtomicU64::new(0);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let total = &total;
                let p = &p;
                scope.spawn(move || {
                    let s = p.open_ro_session(slot).expect("open");
                    let mut n = 0u64;
                    while start.elapsed() < Duration::from_secs(2) {
                        let label = format!("obj-{}", ((n as usize + t * 4999) * 7919) % objects);
                        let found = s
                            .find_objects(&[Attribute::Label(label.into_bytes())])
                            .expect("find");
                        assert_eq!(found.len(), 1);
                        n += 1;
                    }
                    total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                });
            }
        });
        let rate = total.into_inner() as f64 / start.elapsed().as_secs_f64();
        rows.push((
            format!("C_FindObjects by label/s, {threads} thread(s)"),
            rate,
            true,
        ));
    }

    // A key for the cold start.
    p_keypair(&s);
    drop(s);

    // Sessions, one and two threads.
    for threads in [1, 2] {
        let start = Instant::now();
        let per_thread = 20_000;
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..per_thread {
                        drop(p.open_ro_session(slot).expect("open"));
                    }
                });
            }
        });
        let rate = (threads * per_thread) as f64 / start.elapsed().as_secs_f64();
        rows.push((
            format!("session open+close/s, {threads} thread(s)"),
            rate,
            true,
        ));
    }
    p.finalize().expect("finalize");

    // Cold start in a fresh process (median of 5).
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let out = Command::new(std::env::current_exe().expect("exe"))
                .args([
                    "cold-start",
                    t.module.to_str().expect("path"),
                    t.env.0,
                    t.env.1.to_str().expect("path"),
                ])
                .output()
                .expect("spawn");
            let text = String::from_utf8_lossy(&out.stdout);
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            text.trim().parse::<f64>().unwrap_or_else(|_| {
                panic!(
                    "cold start child: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    rows.push((
        "cold start to first signature, ms (lower)".to_string(),
        times[2],
        false,
    ));
    rows
}

fn p_keypair(s: &cryptoki::session::Session) {
    s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[
            Attribute::Token(true),
            Attribute::EcParams(P256_OID.to_vec()),
            Attribute::Verify(true),
        ],
        &[
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::Label(b"cold-key".to_vec()),
        ],
    )
    .expect("EC key pair");
}

/// The child side of the cold-start row: prints milliseconds from loading
/// the module to the first signature.
fn cold_start_child(module: &str, var: &str, conf: &str) {
    std::env::set_var(var, conf);
    let start = Instant::now();
    let p = load(Path::new(module));
    let slot = p
        .get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            p.get_token_info(*s)
                .map(|i| i.label() == "bench")
                .unwrap_or(false)
        })
        .expect("bench token");
    let s = p.open_ro_session(slot).expect("open");
    let t_init = start.elapsed();
    s.login(UserType::User, Some(&pin("1234"))).expect("login");
    let t_login = start.elapsed();
    let key = s
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(b"cold-key".to_vec()),
        ])
        .expect("find")[0];
    let t_find = start.elapsed();
    let sig = s.sign(&Mechanism::Ecdsa, key, &[7u8; 32]).expect("sign");
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    eprintln!(
        "cold start: init+open {t_init:?}, login {t_login:?}, find {t_find:?}, sign {ms:.1} ms"
    );
    assert_eq!(sig.len(), 64);
    println!("{ms:.2}");
}
