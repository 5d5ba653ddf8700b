//! The forwarding overhead: the same operations on the same SoftHSMv2 key,
//! once called directly and once through ProzHSM's forwarded slot, in one
//! run, reported as ratios (target: forwarded sign/s within 5% of direct).
//!
//! Both paths share one SoftHSMv2 instance (one library per process): the
//! bench initializes it directly first, and ProzHSM's C_Initialize then
//! finds it initialized and uses it as it is. Rates are operations per
//! second of the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID; the
//! HSM works in the caller's thread), so a busy machine that deschedules
//! the bench does not count against either path; each round runs both
//! paths back to back, and the ratio is the median of the rounds' ratios.
//!
//! Run: `cargo bench --bench forward` (needs softhsm2 and softhsm2-util).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const ROUNDS: usize = 15;
const ROUND: Duration = Duration::from_millis(200);

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (direct, forwarded) = setup(dir.path());
    let d = login(&direct, slot_by_label(&direct, "bench"));
    let f = forwarded
        .open_ro_session(slot_by_label(&forwarded, "bench"))
        .expect("session on the forwarded slot");
    keys(&d);

    println!("forwarding overhead: ProzHSM's forwarded slot vs SoftHSMv2 directly, same key");
    println!("per second of the caller's CPU time; medians of {ROUNDS} paired rounds of {ROUND:?}");
    println!(
        "{:<28} {:>14} {:>14} {:>8}",
        "operation", "direct /s", "forwarded /s", "ratio"
    );
    let mut worst: f64 = 1.0;
    for (name, label, mechanism) in [
        ("sign ECDSA P-256", "ec", Mechanism::Ecdsa),
        ("sign RSA-2048 SHA256-PKCS", "rsa", Mechanism::Sha256RsaPkcs),
    ] {
        let kd = private_key(&d, label);
        let kf = private_key(&f, label);
        let data = [0x5au8; 32];
        let r = compare(
            || d.sign(&mechanism, kd, &data).map(drop),
            || f.sign(&mechanism, kf, &data).map(drop),
        );
        worst = worst.min(r.ratio);
        report(name, &r);
    }

    let mut buf = [0u8; 32];
    let mut buf2 = [0u8; 32];
    let r = compare(
        || d.generate_random_slice(&mut buf),
        || f.generate_random_slice(&mut buf2),
    );
    report("C_GenerateRandom 32 bytes", &r);
    println!(
        "  ProzHSM's cost per forwarded call: {:+.0} ns of CPU",
        (1.0 / r.ratio - 1.0) / r.direct * 1e9
    );

    let r = threaded(&direct, &forwarded);
    worst = worst.min(r.ratio);
    report("sign ECDSA P-256, 2 threads", &r);

    println!(
        "slowest forwarded sign: {:.1}% of direct ({})",
        worst * 100.0,
        if worst >= 0.95 {
            "within the 5% target"
        } else {
            "OUTSIDE the 5% target"
        }
    );
    drop((d, f));
    forwarded.finalize().expect("C_Finalize ProzHSM");
    direct.finalize().expect("C_Finalize SoftHSMv2");
}

/// A SoftHSM token "bench" and a ProzHSM config forwarding it; both
/// libraries initialized, SoftHSMv2 first.
fn setup(dir: &Path) -> (Pkcs11, Pkcs11) {
    let tokens = dir.join("softhsm-tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm conf");
    let ok = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "bench"])
        .args(["--so-pin", "12345678", "--pin", "1234"])
        .output()
        .expect("softhsm2-util")
        .status
        .success();
    assert!(ok, "softhsm2-util --init-token");
    std::fs::write(
        dir.join("prozhsm.conf"),
        format!(
            "token_dir = \"{}\"\ndevice_key = \"{}\"\nlog_level = \"error\"\n\
             [[forward]]\nmodule = \"{SOFTHSM}\"\ntoken_label = \"bench\"\n",
            dir.join("tokens").display(),
            dir.join("device.key").display(),
        ),
    )
    .expect("prozhsm conf");
    std::env::set_var("SOFTHSM2_CONF", &conf);
    std::env::set_var("PROZHSM_CONF", dir.join("prozhsm.conf"));
    let args = || CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK);
    let direct = Pkcs11::new(SOFTHSM).expect("load SoftHSMv2");
    direct.initialize(args()).expect("C_Initialize SoftHSMv2");
    let prozhsm = Pkcs11::new(module_path()).expect("load ProzHSM");
    prozhsm.initialize(args()).expect("C_Initialize ProzHSM");
    (direct, prozhsm)
}

/// The built libprozhsm.so beside this binary's folder — or in it, when
/// the build of the bench left a newer one there.
fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("bench binary path");
    let deps = exe.parent().expect("deps dir");
    let candidates = [deps.join("libprozhsm.so"), deps.join("../libprozhsm.so")];
    candidates
        .into_iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("a built libprozhsm.so")
}

fn slot_by_label(p11: &Pkcs11, label: &str) -> Slot {
    p11.get_slots_with_initialized_token()
        .expect("slots")
        .into_iter()
        .find(|s| p11.get_token_info(*s).is_ok_and(|t| t.label() == label))
        .expect("the bench token")
}

fn login(p11: &Pkcs11, slot: Slot) -> Session {
    let s = p11.open_rw_session(slot).expect("open");
    s.login(UserType::User, Some(&AuthPin::new("1234".into())))
        .expect("login");
    s
}

fn keys(s: &Session) {
    let private = |label: &str| {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sign(true),
            Attribute::Label(label.into()),
        ]
    };
    s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[Attribute::Token(true), Attribute::EcParams(P256.to_vec())],
        &private("ec"),
    )
    .expect("EC key");
    s.generate_key_pair(
        &Mechanism::RsaPkcsKeyPairGen,
        &[
            Attribute::Token(true),
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
        ],
        &private("rsa"),
    )
    .expect("RSA key");
}

fn private_key(s: &Session, label: &str) -> ObjectHandle {
    s.find_objects(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Label(label.into()),
    ])
    .expect("find")[0]
}

/// Operations per second of `direct` and `forwarded`, and the ratio: the
/// medians of rounds that pair one run of each back to back (in turns
/// first), so slow drift in the machine's load cancels out of the ratio.
fn compare<E: std::fmt::Debug>(
    mut direct: impl FnMut() -> Result<(), E>,
    mut forwarded: impl FnMut() -> Result<(), E>,
) -> Rates {
    run_for(ROUND / 4, &mut direct);
    run_for(ROUND / 4, &mut forwarded);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let (d, f) = if i % 2 == 0 {
            let d = run_for(ROUND, &mut direct);
            (d, run_for(ROUND, &mut forwarded))
        } else {
            let f = run_for(ROUND, &mut forwarded);
            (run_for(ROUND, &mut direct), f)
        };
        rounds.push((d, f));
    }
    Rates::of(&rounds)
}

/// Medians of paired rounds.
struct Rates {
    direct: f64,
    forwarded: f64,
    ratio: f64,
}

impl Rates {
    fn of(rounds: &[(f64, f64)]) -> Rates {
        Rates {
            direct: median(rounds.iter().map(|r| r.0).collect()),
            forwarded: median(rounds.iter().map(|r| r.1).collect()),
            ratio: median(rounds.iter().map(|r| r.1 / r.0).collect()),
        }
    }
}

/// Run `op` for about `time` of wall clock; operations per second of this
/// thread's CPU time.
fn run_for<E: std::fmt::Debug>(time: Duration, op: &mut impl FnMut() -> Result<(), E>) -> f64 {
    let start = Instant::now();
    let cpu = thread_cpu();
    let mut n = 0u64;
    while start.elapsed() < time {
        for _ in 0..8 {
            op().expect("operation");
        }
        n += 8;
    }
    n as f64 / (thread_cpu() - cpu).as_secs_f64()
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a live timespec the call writes.
    let rv = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rv, 0, "clock_gettime");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// ECDSA signatures per second from two threads at once, each with its own
/// session (the sum of each thread's rate per its CPU time), directly and
/// forwarded.
fn threaded(direct: &Pkcs11, forwarded: &Pkcs11) -> Rates {
    let rate = |p11: &Pkcs11| {
        let slot = slot_by_label(p11, "bench");
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(move || {
                        let s = p11.open_ro_session(slot).expect("open");
                        let key = private_key(&s, "ec");
                        run_for(ROUND, &mut || {
                            s.sign(&Mechanism::Ecdsa, key, &[1u8; 32]).map(drop)
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .sum::<f64>()
        })
    };
    let rounds: Vec<(f64, f64)> = (0..ROUNDS.div_ceil(2))
        .map(|_| (rate(direct), rate(forwarded)))
        .collect();
    Rates::of(&rounds)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(name: &str, r: &Rates) {
    println!(
        "{name:<28} {:>14.0} {:>14.0} {:>7.3}",
        r.direct, r.forwarded, r.ratio
    );
}
