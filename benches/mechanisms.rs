//! Mechanism benchmark (issue #3, "Speed to reach"): the same cryptographic
//! work on ProzHSM and on SoftHSMv2 in one run, through the C ABI (the
//! `cryptoki` crate, as a client calls it), beside the raw speed of the crate
//! ProzHSM uses for that operation, called in-process with a prepared key.
//!
//! Run: `cargo bench --bench mechanisms`
//! (needs Debian's softhsm2; BENCH_SECS sets the time per measurement,
//! default 0.5 s; the whole run takes about two minutes).
//!
//! Each row is operations per second, measured in a time-bounded loop after
//! one warm-up call, the best of two rounds in which ProzHSM, SoftHSMv2 and
//! the raw crate take turns. Keys are token objects (CKA_TOKEN = TRUE, private,
//! sensitive), made once per token before the rows run; signatures are made
//! with CKM_ECDSA on a SHA-256 digest (SoftHSMv2 has no CKM_ECDSA_SHA*), over
//! 64-byte messages for EdDSA and RSA. A row a token cannot run (RSA before
//! ProzHSM has it) prints "-". Columns:
//! - ratio: ProzHSM / SoftHSMv2 (higher is better for ProzHSM), with the
//!   issue's target where it sets one;
//! - raw: the crate's own speed (aws-lc-rs; k256 for secp256k1), the ceiling;
//! - +us/op: what one ProzHSM operation costs beyond the raw crate call, in
//!   microseconds (the PKCS#11 layer, unsealing and parsing the key).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, AsDer, Pkcs8V1Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{self as lc_rand, SystemRandom};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self as sig, KeyPair as _};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// What each row measures. The same list drives the tokens and the raw crates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Sign(Alg),
    Verify(Alg),
    KeyGen(Alg),
    Gcm(usize),
    Sha256(usize),
    Hmac(usize),
    SignThreads(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alg {
    Ed25519,
    P256,
    Secp256k1,
    RsaPkcs1,
    RsaPss,
}

struct Row {
    name: String,
    op: Op,
    /// The target ratio ProzHSM / SoftHSMv2, if it sets one.
    target: Option<f64>,
}

fn rows() -> Vec<Row> {
    use Alg::*;
    let mut rows = Vec::new();
    let mut add = |name: &str, op: Op, target: Option<f64>| {
        rows.push(Row {
            name: name.to_string(),
            op,
            target,
        })
    };
    add("Ed25519 sign (64 B)", Op::Sign(Ed25519), Some(8.0));
    add("Ed25519 verify", Op::Verify(Ed25519), None);
    add("ECDSA P-256 sign (CKM_ECDSA)", Op::Sign(P256), Some(2.0));
    add("ECDSA P-256 verify", Op::Verify(P256), None);
    add(
        "ECDSA secp256k1 sign (CKM_ECDSA)",
        Op::Sign(Secp256k1),
        Some(4.0),
    );
    add("ECDSA secp256k1 verify", Op::Verify(Secp256k1), None);
    add(
        "RSA-2048 PKCS#1 v1.5 sign (SHA-256)",
        Op::Sign(RsaPkcs1),
        Some(1.5),
    );
    add("RSA-2048 PKCS#1 v1.5 verify", Op::Verify(RsaPkcs1), None);
    add("RSA-2048 PSS sign (SHA-256)", Op::Sign(RsaPss), Some(1.5));
    add("RSA-2048 PSS verify", Op::Verify(RsaPss), None);
    add("key gen Ed25519", Op::KeyGen(Ed25519), None);
    add("key gen P-256", Op::KeyGen(P256), None);
    add("key gen secp256k1", Op::KeyGen(Secp256k1), None);
    add("key gen RSA-2048", Op::KeyGen(RsaPkcs1), None);
    add("AES-256-GCM encrypt 64 B", Op::Gcm(64), Some(30.0));
    add("AES-256-GCM encrypt 4 KiB", Op::Gcm(4 * KIB), None);
    add("AES-256-GCM encrypt 1 MiB", Op::Gcm(MIB), None);
    add("SHA-256 1 MiB", Op::Sha256(MIB), None);
    add("HMAC-SHA256 64 B", Op::Hmac(64), Some(20.0));
    add("P-256 sign, 1 thread", Op::SignThreads(1), None);
    add(
        "P-256 sign, 2 threads (one session each)",
        Op::SignThreads(2),
        None,
    );
    rows
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.5);
    let budget = Duration::from_secs_f64(secs);
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = rows();
    let started = Instant::now();

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "mechanism benchmark: best of {ROUNDS} rounds of {secs} s, ops/s (higher is better); \
         {} CPUs, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut tokens = Vec::new();
    tokens.push(Token::prozhsm(dir.path()));
    match Token::softhsm(dir.path()) {
        Some(t) => tokens.push(t),
        None => println!("({SOFTHSM} not found: ProzHSM only)"),
    }
    // Row by row, each round measuring ProzHSM, SoftHSMv2 and the raw crate
    // one after the other, keeping each one's best round: on a shared
    // machine, load that comes and goes then touches all three alike.
    let raw = Raw::new();
    let mut results: Vec<Vec<Option<f64>>> = vec![Vec::new(); tokens.len()];
    let mut raw_results: Vec<Option<f64>> = Vec::new();
    for row in &rows {
        eprintln!("measuring {} ...", row.name);
        let mut best = vec![None; tokens.len() + 1];
        for _ in 0..ROUNDS {
            for (i, t) in tokens.iter().enumerate() {
                best[i] = max(best[i], t.measure(row.op, budget));
            }
            best[tokens.len()] = max(best[tokens.len()], raw.measure(row.op, budget));
        }
        raw_results.push(best.pop().flatten());
        for (i, b) in best.into_iter().enumerate() {
            results[i].push(b);
        }
    }

    println!(
        "{:<42} {:>11} {:>11} {:>7} {:>7} {:>11} {:<10} {:>8}",
        "row", "ProzHSM", "SoftHSMv2", "ratio", "target", "raw", "raw crate", "+us/op"
    );
    for (i, row) in rows.iter().enumerate() {
        let pz = results[0][i];
        let sh = results.get(1).and_then(|r| r[i]);
        let ratio = pz.zip(sh).map(|(p, s)| p / s);
        let target = row.target.map(|t| {
            let met = ratio.map_or("", |r| if r >= t { " ok" } else { " NO" });
            format!("{t}x{met}")
        });
        let overhead = pz
            .zip(raw_results[i])
            .map(|(p, r)| format!("{:.2}", (1.0 / p - 1.0 / r) * 1e6));
        println!(
            "{:<42} {:>11} {:>11} {:>7} {:>7} {:>11} {:<10} {:>8}",
            row.name,
            fmt_rate(pz),
            fmt_rate(sh),
            ratio.map_or("-".into(), |r| format!("{r:.2}x")),
            target.unwrap_or_default(),
            fmt_rate(raw_results[i]),
            raw_crate(row.op),
            overhead.unwrap_or_else(|| "-".into()),
        );
    }
    // Thread scaling, the "2 threads give >= 1.8x one thread".
    let n = rows.len();
    for (t, r) in tokens.iter().zip(&results) {
        if let (Some(one), Some(two)) = (r[n - 2], r[n - 1]) {
            println!(
                "{}: 2 threads / 1 thread = {:.2}x (target for ProzHSM: 1.8x)",
                t.name,
                two / one
            );
        }
    }
    if let (Some(one), Some(two)) = (raw_results[n - 2], raw_results[n - 1]) {
        println!("raw aws-lc-rs: 2 threads / 1 thread = {:.2}x", two / one);
    }
    raw.diagnostics(budget);
    println!(
        "(GCM, SHA-256: MB/s = ops/s x size; ran {:.0} s)",
        started.elapsed().as_secs_f64()
    );
}

/// Rounds per row; each measurement lasts BENCH_SECS.
const ROUNDS: usize = 2;

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn fmt_rate(r: Option<f64>) -> String {
    match r {
        None => "-".into(),
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) => format!("{r:.1}"),
    }
}

fn raw_crate(op: Op) -> &'static str {
    match op {
        Op::Sign(Alg::Secp256k1) | Op::Verify(Alg::Secp256k1) | Op::KeyGen(Alg::Secp256k1) => {
            "k256"
        }
        _ => "aws-lc-rs",
    }
}

/// Calls `f` once, then as often as fits in `budget` (at least `min` times).
fn rate(budget: Duration, min: u64, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0u64;
    while n < min || start.elapsed() < budget {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------------------
// A token: a fresh one in each module, a user session, keys made once.

struct Token {
    name: &'static str,
    p11: Pkcs11,
    slot: Slot,
    session: Session,
    mechanisms: Vec<MechanismType>,
    keys: Keys,
}

#[derive(Default)]
struct Keys {
    ed25519: Option<(ObjectHandle, ObjectHandle)>,
    p256: Option<(ObjectHandle, ObjectHandle)>,
    k1: Option<(ObjectHandle, ObjectHandle)>,
    rsa: Option<(ObjectHandle, ObjectHandle)>,
    aes: Option<ObjectHandle>,
    hmac: Option<ObjectHandle>,
}

impl Token {
    fn prozhsm(dir: &Path) -> Token {
        let module = module_path();
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
        std::env::set_var("PROZHSM_CONF", pz.join("prozhsm.conf"));
        Token::open("ProzHSM", &module)
    }

    fn softhsm(dir: &Path) -> Option<Token> {
        if !Path::new(SOFTHSM).exists() || std::env::var_os("BENCH_PROZHSM_ONLY").is_some() {
            return None;
        }
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
        // ProzHSM reads PROZHSM_CONF first; this is SoftHSMv2's alone.
        std::env::set_var("SOFTHSM2_CONF", sh.join("softhsm2.conf"));
        Some(Token::open("SoftHSMv2", Path::new(SOFTHSM)))
    }

    fn open(name: &'static str, module: &Path) -> Token {
        let p11 = Pkcs11::new(module).expect("load module");
        p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        let free = *p11
            .get_all_slots()
            .expect("slots")
            .last()
            .expect("free slot");
        p11.init_token(free, &pin("12345678"), "bench")
            .expect("C_InitToken");
        let slot = p11
            .get_slots_with_initialized_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                p11.get_token_info(*s)
                    .map(|i| i.label() == "bench")
                    .unwrap_or(false)
            })
            .expect("bench token");
        {
            let s = p11.open_rw_session(slot).expect("open");
            s.login(UserType::So, Some(&pin("12345678")))
                .expect("SO login");
            s.init_pin(&pin("1234")).expect("C_InitPIN");
        }
        let session = p11.open_rw_session(slot).expect("open");
        session
            .login(UserType::User, Some(&pin("1234")))
            .expect("login");
        let mechanisms = p11.get_mechanism_list(slot).expect("mechanisms");
        let mut t = Token {
            name,
            p11,
            slot,
            session,
            mechanisms,
            keys: Keys::default(),
        };
        t.keys = t.make_keys();
        t
    }

    fn offers(&self, m: MechanismType) -> bool {
        self.mechanisms.contains(&m)
    }

    fn make_keys(&self) -> Keys {
        let s = &self.session;
        let ec = |gen: &Mechanism, params: &[u8]| {
            s.generate_key_pair(gen, &public(Some(params)), &private())
                .ok()
        };
        let rsa = if self.offers(MechanismType::RSA_PKCS_KEY_PAIR_GEN) {
            s.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &rsa_public(), &private())
                .ok()
        } else {
            None
        };
        let secret = |kt: KeyType, len: usize, usage: [Attribute; 2]| {
            let mut v = vec![0u8; len];
            lc_rand::fill(&mut v).expect("random");
            let mut t = vec![
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(kt),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Value(v),
            ];
            t.extend(usage);
            s.create_object(&t).ok()
        };
        Keys {
            ed25519: ec(&Mechanism::EccEdwardsKeyPairGen, ED25519),
            p256: ec(&Mechanism::EccKeyPairGen, P256),
            k1: ec(&Mechanism::EccKeyPairGen, SECP256K1),
            rsa,
            aes: secret(
                KeyType::AES,
                32,
                [Attribute::Encrypt(true), Attribute::Decrypt(true)],
            ),
            hmac: secret(
                KeyType::GENERIC_SECRET,
                32,
                [Attribute::Sign(true), Attribute::Verify(true)],
            ),
        }
    }

    fn pair(&self, alg: Alg) -> Option<(ObjectHandle, ObjectHandle)> {
        match alg {
            Alg::Ed25519 => self.keys.ed25519,
            Alg::P256 => self.keys.p256,
            Alg::Secp256k1 => self.keys.k1,
            Alg::RsaPkcs1 | Alg::RsaPss => self.keys.rsa,
        }
    }

    /// ops/s of `op`, or None when this token cannot do it.
    fn measure(&self, op: Op, budget: Duration) -> Option<f64> {
        let s = &self.session;
        let msg = [0x5au8; 64];
        let digest32 = digest::digest(&digest::SHA256, &msg);
        match op {
            Op::Sign(alg) => {
                let (_, private) = self.pair(alg)?;
                let (mech, input) = sign_mechanism(alg, &msg, digest32.as_ref());
                s.sign(&mech, private, input).ok()?;
                Some(rate(budget, 1, || {
                    s.sign(&mech, private, input).expect("C_Sign");
                }))
            }
            Op::Verify(alg) => {
                let (public, private) = self.pair(alg)?;
                let (mech, input) = sign_mechanism(alg, &msg, digest32.as_ref());
                let signature = s.sign(&mech, private, input).ok()?;
                Some(rate(budget, 1, || {
                    s.verify(&mech, public, input, &signature)
                        .expect("C_Verify");
                }))
            }
            Op::KeyGen(alg) => {
                let (gen, pub_t) = match alg {
                    Alg::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, public(Some(ED25519))),
                    Alg::P256 => (Mechanism::EccKeyPairGen, public(Some(P256))),
                    Alg::Secp256k1 => (Mechanism::EccKeyPairGen, public(Some(SECP256K1))),
                    Alg::RsaPkcs1 | Alg::RsaPss => {
                        if !self.offers(MechanismType::RSA_PKCS_KEY_PAIR_GEN) {
                            return None;
                        }
                        (Mechanism::RsaPkcsKeyPairGen, rsa_public())
                    }
                };
                // Session objects, destroyed after the timing.
                let session_only = |t: Vec<Attribute>| -> Vec<Attribute> {
                    t.into_iter()
                        .map(|a| match a {
                            Attribute::Token(_) => Attribute::Token(false),
                            a => a,
                        })
                        .collect()
                };
                let pub_t = session_only(pub_t);
                let priv_t = session_only(private());
                let mut made = Vec::new();
                s.generate_key_pair(&gen, &pub_t, &priv_t).ok()?;
                let r = rate(budget, 2, || {
                    made.push(s.generate_key_pair(&gen, &pub_t, &priv_t).expect("keygen"));
                });
                for (a, b) in made {
                    let _ = s.destroy_object(a);
                    let _ = s.destroy_object(b);
                }
                Some(r)
            }
            Op::Gcm(len) => {
                let key = self.keys.aes?;
                let data = vec![7u8; len];
                let mut iv = [1u8; 12];
                Some(rate(budget, 3, || {
                    // A new IV per message, as a real client must.
                    iv[0] = iv[0].wrapping_add(1);
                    let mut iv_buf = iv;
                    let mech = Mechanism::AesGcm(
                        GcmParams::new(&mut iv_buf, b"", 128.into()).expect("params"),
                    );
                    s.encrypt(&mech, key, &data).expect("C_Encrypt");
                }))
            }
            Op::Sha256(len) => {
                let data = vec![3u8; len];
                Some(rate(budget, 3, || {
                    s.digest(&Mechanism::Sha256, &data).expect("C_Digest");
                }))
            }
            Op::Hmac(len) => {
                let key = self.keys.hmac?;
                let data = vec![9u8; len];
                Some(rate(budget, 1, || {
                    s.sign(&Mechanism::Sha256Hmac, key, &data)
                        .expect("C_Sign HMAC");
                }))
            }
            Op::SignThreads(threads) => {
                let (_, private) = self.keys.p256?;
                let digest = digest32.as_ref();
                let (p11, slot) = (&self.p11, self.slot);
                let counts: Vec<u64> = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..threads)
                        .map(|_| {
                            scope.spawn(|| {
                                let s = p11.open_ro_session(slot).expect("open");
                                s.sign(&Mechanism::Ecdsa, private, digest).expect("sign");
                                let start = Instant::now();
                                let mut n = 0u64;
                                while start.elapsed() < budget * 2 {
                                    s.sign(&Mechanism::Ecdsa, private, digest).expect("sign");
                                    n += 1;
                                }
                                n
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("thread"))
                        .collect()
                });
                Some(counts.iter().sum::<u64>() as f64 / (budget * 2).as_secs_f64())
            }
        }
    }
}

/// The module cargo built with this bench: the newer of deps/libprozhsm.so
/// (beside this binary) and target/release/libprozhsm.so.
fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("bench binary path");
    let deps = exe.parent().expect("deps dir");
    [deps.join("libprozhsm.so"), deps.join("../libprozhsm.so")]
        .into_iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("a built libprozhsm.so (cargo build --release)")
}

fn sign_mechanism<'a>(alg: Alg, msg: &'a [u8], digest: &'a [u8]) -> (Mechanism<'static>, &'a [u8]) {
    match alg {
        Alg::Ed25519 => (
            Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
            msg,
        ),
        Alg::P256 | Alg::Secp256k1 => (Mechanism::Ecdsa, digest),
        Alg::RsaPkcs1 => (Mechanism::Sha256RsaPkcs, msg),
        Alg::RsaPss => (
            Mechanism::Sha256RsaPkcsPss(PkcsPssParams {
                hash_alg: MechanismType::SHA256,
                mgf: PkcsMgfType::MGF1_SHA256,
                s_len: 32.into(),
            }),
            msg,
        ),
    }
}

fn public(ec_params: Option<&[u8]>) -> Vec<Attribute> {
    let mut t = vec![Attribute::Token(true), Attribute::Verify(true)];
    if let Some(p) = ec_params {
        t.push(Attribute::EcParams(p.to_vec()));
    }
    t
}

fn rsa_public() -> Vec<Attribute> {
    let mut t = public(None);
    t.push(Attribute::ModulusBits(2048.into()));
    t.push(Attribute::PublicExponent(vec![1, 0, 1]));
    t
}

fn private() -> Vec<Attribute> {
    vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ]
}

fn pin(s: &str) -> AuthPin {
    AuthPin::new(s.into())
}

// ---------------------------------------------------------------------------
// The raw crates, in-process, keys prepared once.

struct Raw {
    ed25519: sig::Ed25519KeyPair,
    p256: sig::EcdsaKeyPair,
    k1: k256::ecdsa::SigningKey,
    rsa: RsaKeyPair,
    gcm: LessSafeKey,
    hmac: hmac::Key,
}

impl Raw {
    fn new() -> Raw {
        let mut k1 = [0u8; 32];
        lc_rand::fill(&mut k1).expect("random");
        let mut aes = [0u8; 32];
        lc_rand::fill(&mut aes).expect("random");
        Raw {
            ed25519: sig::Ed25519KeyPair::generate().expect("Ed25519"),
            p256: sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("P-256"),
            k1: k256::ecdsa::SigningKey::from_slice(&k1).expect("secp256k1"),
            rsa: RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA"),
            gcm: LessSafeKey::new(UnboundKey::new(&aead::AES_256_GCM, &aes).expect("AES")),
            hmac: hmac::Key::new(hmac::HMAC_SHA256, &aes),
        }
    }

    fn measure(&self, op: Op, budget: Duration) -> Option<f64> {
        let msg = [0x5au8; 64];
        let d = digest::digest(&digest::SHA256, &msg);
        let rng = SystemRandom::new();
        Some(match op {
            Op::Sign(Alg::Ed25519) => rate(budget, 1, || {
                black_box(self.ed25519.sign(&msg));
            }),
            Op::Verify(Alg::Ed25519) => {
                let s = self.ed25519.sign(&msg);
                let pk = sig::UnparsedPublicKey::new(
                    &sig::ED25519,
                    self.ed25519.public_key().as_ref().to_vec(),
                );
                rate(budget, 1, || pk.verify(&msg, s.as_ref()).expect("verify"))
            }
            Op::Sign(Alg::P256) => rate(budget, 1, || {
                self.p256.sign_digest(&d).expect("sign");
            }),
            Op::Verify(Alg::P256) => {
                let s = self.p256.sign_digest(&d).expect("sign");
                let pk = sig::ParsedPublicKey::new(
                    &sig::ECDSA_P256_SHA256_FIXED,
                    self.p256.public_key().as_ref(),
                )
                .expect("public key");
                rate(budget, 1, || {
                    pk.verify_digest_sig(&d, s.as_ref()).expect("verify")
                })
            }
            Op::Sign(Alg::Secp256k1) => rate(budget, 1, || {
                let _: k256::ecdsa::Signature = self.k1.sign_prehash(d.as_ref()).expect("sign");
            }),
            Op::Verify(Alg::Secp256k1) => {
                let s: k256::ecdsa::Signature = self.k1.sign_prehash(d.as_ref()).expect("sign");
                let vk = *self.k1.verifying_key();
                rate(budget, 1, || {
                    vk.verify_prehash(d.as_ref(), &s).expect("verify")
                })
            }
            Op::Sign(alg @ (Alg::RsaPkcs1 | Alg::RsaPss)) => {
                let enc = rsa_encoding(alg);
                let mut out = vec![0u8; self.rsa.public_modulus_len()];
                rate(budget, 1, || {
                    self.rsa.sign(enc, &rng, &msg, &mut out).expect("sign")
                })
            }
            Op::Verify(alg @ (Alg::RsaPkcs1 | Alg::RsaPss)) => {
                let mut out = vec![0u8; self.rsa.public_modulus_len()];
                self.rsa
                    .sign(rsa_encoding(alg), &rng, &msg, &mut out)
                    .expect("sign");
                let params: &'static sig::RsaParameters = match alg {
                    Alg::RsaPkcs1 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    _ => &sig::RSA_PSS_2048_8192_SHA256,
                };
                let pk =
                    sig::UnparsedPublicKey::new(params, self.rsa.public_key().as_ref().to_vec());
                rate(budget, 1, || pk.verify(&msg, &out).expect("verify"))
            }
            Op::KeyGen(Alg::Ed25519) => rate(budget, 2, || {
                sig::Ed25519KeyPair::generate().expect("keygen");
            }),
            Op::KeyGen(Alg::P256) => rate(budget, 2, || {
                sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING).expect("keygen");
            }),
            Op::KeyGen(Alg::Secp256k1) => rate(budget, 2, || {
                let mut k = [0u8; 32];
                lc_rand::fill(&mut k).expect("random");
                let key = k256::ecdsa::SigningKey::from_slice(&k).expect("key");
                let _ = key.verifying_key().to_encoded_point(false);
            }),
            Op::KeyGen(Alg::RsaPkcs1 | Alg::RsaPss) => rate(budget, 2, || {
                RsaKeyPair::generate(KeySize::Rsa2048).expect("keygen");
            }),
            Op::Gcm(len) => {
                let mut data = vec![7u8; len];
                let mut n = 0u64;
                rate(budget, 3, || {
                    n += 1;
                    let mut iv = [0u8; 12];
                    iv[..8].copy_from_slice(&n.to_be_bytes());
                    let _ = black_box(
                        self.gcm
                            .seal_in_place_separate_tag(
                                Nonce::assume_unique_for_key(iv),
                                Aad::empty(),
                                &mut data,
                            )
                            .expect("seal"),
                    );
                })
            }
            Op::Sha256(len) => {
                let data = vec![3u8; len];
                rate(budget, 3, || {
                    black_box(digest::digest(&digest::SHA256, &data));
                })
            }
            Op::Hmac(len) => {
                let data = vec![9u8; len];
                rate(budget, 1, || {
                    black_box(hmac::sign(&self.hmac, &data));
                })
            }
            Op::SignThreads(threads) => {
                let counts: Vec<u64> = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..threads)
                        .map(|_| {
                            scope.spawn(|| {
                                let start = Instant::now();
                                let mut n = 0u64;
                                while start.elapsed() < budget * 2 {
                                    self.p256.sign_digest(&d).expect("sign");
                                    n += 1;
                                }
                                n
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("thread"))
                        .collect()
                });
                counts.iter().sum::<u64>() as f64 / (budget * 2).as_secs_f64()
            }
        })
    }

    /// What a token pays per operation if it rebuilds the key object from
    /// its stored value each time (as ProzHSM does at C_SignInit).
    fn diagnostics(&self, budget: Duration) {
        let msg = [0x5au8; 64];
        let d = digest::digest(&digest::SHA256, &msg);
        let seed = [0x11u8; 32];
        let ed = rate(budget, 1, || {
            let k = sig::Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
            black_box(k.sign(&msg));
        });
        let scalar = self.p256.private_key().as_be_bytes().expect("scalar");
        let der = p256_private_der(scalar.as_ref());
        let p = rate(budget, 1, || {
            let k = sig::EcdsaKeyPair::from_private_key_der(
                &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .expect("der");
            k.sign_digest(&d).expect("sign");
        });
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&self.rsa).expect("PKCS#8");
        let mut out = vec![0u8; self.rsa.public_modulus_len()];
        let rng = SystemRandom::new();
        let r = rate(budget, 1, || {
            let k = RsaKeyPair::from_pkcs8(pkcs8.as_ref()).expect("pkcs8");
            k.sign(&sig::RSA_PKCS1_SHA256, &rng, &msg, &mut out)
                .expect("sign");
        });
        // What a token pays per 1 MiB it copies, or wipes as it must wipe
        // plaintext it buffered (zeroize writes byte by byte).
        let src = vec![1u8; MIB];
        let copy = rate(budget, 3, || {
            black_box(src.clone());
        });
        let wipe = rate(budget, 3, || {
            let mut v = src.clone();
            zeroize::Zeroize::zeroize(&mut v);
            black_box(v);
        });
        println!(
            "raw, per 1 MiB: a copy (alloc + memcpy) {:.0} us; a copy then zeroize {:.0} us",
            1e6 / copy,
            1e6 / wipe
        );
        println!(
            "raw, key rebuilt per call: Ed25519 from_seed_unchecked + sign {ed:.0}/s; \
             P-256 from_private_key_der + sign_digest {p:.0}/s; \
             RSA-2048 from_pkcs8 + sign {r:.0}/s"
        );
    }
}

fn rsa_encoding(alg: Alg) -> &'static dyn sig::RsaEncoding {
    match alg {
        Alg::RsaPkcs1 => &sig::RSA_PKCS1_SHA256,
        _ => &sig::RSA_PSS_SHA256,
    }
}

/// RFC 5915 ECPrivateKey for P-256 without the public key (what ProzHSM
/// builds from CKA_VALUE).
fn p256_private_der(scalar: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x01, 0x04, scalar.len() as u8];
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[0xa0, P256.len() as u8]);
    body.extend_from_slice(P256);
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    der
}
