//! A *holder*: a process that imports key material with known random
//! values, generates keys, uses and signs with them, restarts the library
//! and wipes every copy of the key bytes and the PIN it held itself — so
//! that whatever copy is left in its memory or core is the module's.
//!
//! The holder is the test binary run again for one ignored test that calls
//! [`run`]. It gets the key material over stdin (read with read(2), so no
//! std buffer keeps a copy), builds every raw CK_ATTRIBUTE itself with the
//! values pointing into that buffer (the `cryptoki` crate would copy them
//! into Vecs of its own), and talks to any module through its 2.40 function
//! list, so the same holder runs on ProzHSM and on SoftHSMv2. [`Holder`] is
//! the parent's side.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

use cryptoki_sys::*;
use zeroize::Zeroize;

use crate::common::inspect::{self, Needle};
use crate::common::{module_path, Module};

mod p11;
use p11::{Template, P11};

/// The name of the ignored test that calls [`run`] in the test binary.
pub const CHILD_TEST: &str = "holder_child_part";

/// One field of the frame a holder reads from its stdin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Field {
    Pin,
    Aes,
    PublicSecret,
    P256,
    K256,
    Ed25519,
    RsaModulus,
    RsaD,
    RsaP,
    RsaQ,
    RsaDp,
    RsaDq,
    RsaQinv,
    Canary,
}

/// The frame's fields in order: (field, name in reports, length).
const FIELDS: [(Field, &str, usize); 14] = [
    (Field::Pin, "user PIN", 24),
    (Field::Aes, "AES-256 key", 32),
    (Field::PublicSecret, "generic secret, CKA_PRIVATE=FALSE", 32),
    (Field::P256, "P-256 private scalar", 32),
    (Field::K256, "secp256k1 private scalar", 32),
    (Field::Ed25519, "Ed25519 private seed", 32),
    (Field::RsaModulus, "RSA modulus (public)", 256),
    (Field::RsaD, "RSA private exponent", 256),
    (Field::RsaP, "RSA prime 1", 128),
    (Field::RsaQ, "RSA prime 2", 128),
    (Field::RsaDp, "RSA exponent 1", 128),
    (Field::RsaDq, "RSA exponent 2", 128),
    (Field::RsaQinv, "RSA coefficient", 128),
    (Field::Canary, "canary (ordinary memory)", 32),
];

const FRAME_LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        n += FIELDS[i].2;
        i += 1;
    }
    n
};

fn span(field: Field) -> Range<usize> {
    let mut at = 0;
    for (f, _, len) in FIELDS {
        if f == field {
            return at..at + len;
        }
        at += len;
    }
    unreachable!("every field is in FIELDS")
}

/// Random key values: 32-byte secrets, curve scalars, and a fresh RSA-2048
/// key (the token checks an imported RSA key's consistency).
pub struct Material {
    frame: Vec<u8>,
}

impl Material {
    pub fn random() -> Material {
        let mut frame = inspect::random_bytes(FRAME_LEN);
        frame[span(Field::Pin)].copy_from_slice(inspect::random_text(24).as_bytes());
        // Scalars below both curves' orders, and never zero.
        for f in [Field::P256, Field::K256] {
            let r = span(f);
            frame[r.start] = (frame[r.start] & 0x7F) | 0x01;
        }
        let rsa = rsa_components();
        let fields = [
            Field::RsaModulus,
            Field::RsaD,
            Field::RsaP,
            Field::RsaQ,
            Field::RsaDp,
            Field::RsaDq,
            Field::RsaQinv,
        ];
        for (f, value) in fields.into_iter().zip(rsa) {
            frame[span(f)].copy_from_slice(&value);
        }
        Material { frame }
    }

    pub fn get(&self, field: Field) -> &[u8] {
        &self.frame[span(field)]
    }

    pub fn pin(&self) -> String {
        String::from_utf8(self.get(Field::Pin).to_vec()).expect("alphanumeric PIN")
    }

    /// Every secret of the frame (not the modulus, not the canary).
    pub fn secrets(&self) -> Vec<Needle> {
        FIELDS
            .iter()
            .filter(|(f, _, _)| !matches!(f, Field::RsaModulus | Field::Canary))
            .map(|(f, name, _)| Needle::new(*name, self.get(*f)))
            .collect()
    }
}

/// A new RSA-2048 key's n, d, p, q, dP, dQ, qInv, each at its field's full
/// length (keys with a shorter component are drawn again, so every value is
/// searched for exactly as any copy of it would be laid out).
fn rsa_components() -> [Vec<u8>; 7] {
    use aws_lc_rs::encoding::AsDer;
    let lens = [256, 256, 128, 128, 128, 128, 128];
    loop {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("generate RSA");
        let pkcs8 = pair.as_der().expect("PKCS#8");
        // PrivateKeyInfo: version, algorithm, OCTET STRING { RSAPrivateKey }.
        let info = der_items(der_item(pkcs8.as_ref()).1);
        let rsa = der_items(der_item(info[2].1).1);
        // RSAPrivateKey: version, n, e, d, p, q, dP, dQ, qInv.
        assert_eq!(rsa[2].1, [1, 0, 1], "e = 65537");
        let ints: Vec<Vec<u8>> = [1, 3, 4, 5, 6, 7, 8]
            .iter()
            .map(|&i| {
                let v = rsa[i].1;
                v.strip_prefix(&[0]).unwrap_or(v).to_vec()
            })
            .collect();
        if ints.iter().zip(lens).all(|(v, len)| v.len() == len) {
            return ints.try_into().expect("seven components");
        }
    }
}

/// The first DER item of `bytes`: (tag, contents).
fn der_item(bytes: &[u8]) -> (u8, &[u8], usize) {
    let tag = bytes[0];
    let (len, head) = match bytes[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(bytes[2]), 3),
        0x82 => (usize::from(bytes[2]) << 8 | usize::from(bytes[3]), 4),
        n => panic!("DER length form {n:#x}"),
    };
    (tag, &bytes[head..head + len], head + len)
}

/// The items inside a constructed DER value's contents.
fn der_items(mut bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (tag, contents, used) = der_item(bytes);
        out.push((tag, contents));
        bytes = &bytes[used..];
    }
    out
}

// ---------------------------------------------------------------------------
// The holder process

const ENV_MODULE: &str = "PROZHSM_TEST_HOLDER_MODULE";
const ENV_LABEL: &str = "PROZHSM_TEST_HOLDER_LABEL";
const ENV_CORE: &str = "PROZHSM_TEST_HOLDER_CORE";

const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const K256_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// The keys a holder signs with: (label, mechanism, input length).
const SIGNERS: [(&str, CK_MECHANISM_TYPE, usize); 8] = [
    ("held-aes", CKM_AES_CMAC, 32),
    ("held-public-secret", CKM_SHA256_HMAC, 32),
    ("held-p256", CKM_ECDSA, 32),
    ("held-k256", CKM_ECDSA, 32),
    ("held-ed25519", CKM_EDDSA, 64),
    ("held-rsa", CKM_SHA256_RSA_PKCS, 64),
    ("made-p256", CKM_ECDSA, 32),
    ("made-ed25519", CKM_EDDSA, 64),
];

/// The holder's work, in the holder process (`holder_child_part` in the
/// test binary, started by [`Holder::start`]). Does nothing when the
/// holder's environment is not set.
pub fn run() {
    let (Ok(module), Ok(label)) = (std::env::var(ENV_MODULE), std::env::var(ENV_LABEL)) else {
        return;
    };
    allow_dumps(std::env::var_os(ENV_CORE).is_some());
    let strict = Path::new(&module) == module_path();
    let mut frame = vec![0u8; FRAME_LEN];
    read_stdin(&mut frame);

    let m = Module::load(Path::new(&module));
    let p = P11 { f: m.f(), strict };
    p.initialize();
    let s = p.open(p.slot_by_label(&label));
    p.login(s, &frame[span(Field::Pin)]);
    import_keys(&p, s, &frame);
    // The key values are in the token now; wipe ours (PIN and canary stay).
    frame[span(Field::Aes).start..span(Field::Canary).start].zeroize();
    generate_keys(&p, s);
    use_keys(&p, s);
    sign_with_held_keys(&p, s);

    // What a new process sees: every key reloaded from the token file.
    p.finalize();
    p.initialize();
    let s = p.open(p.slot_by_label(&label));
    p.login(s, &frame[span(Field::Pin)]);
    frame[span(Field::Pin)].zeroize();
    use_keys(&p, s);
    sign_with_held_keys(&p, s);

    say("HOLDER READY");
    wait_stdin();
    p.finalize();
    std::hint::black_box(&frame);
}

fn secret_key<'a>(
    label: &str,
    key_type: CK_KEY_TYPE,
    private: bool,
    value: &'a [u8],
) -> Template<'a> {
    Template::new()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, key_type)
        .bool(CKA_TOKEN, true)
        .bool(CKA_PRIVATE, private)
        .bool(CKA_SENSITIVE, true)
        .bool(CKA_EXTRACTABLE, false)
        .bool(CKA_SIGN, true)
        .plain(CKA_LABEL, label.as_bytes())
        .secret(CKA_VALUE, value)
}

fn ec_key<'a>(label: &str, key_type: CK_KEY_TYPE, params: &[u8], value: &'a [u8]) -> Template<'a> {
    Template::new()
        .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
        .ulong(CKA_KEY_TYPE, key_type)
        .bool(CKA_TOKEN, true)
        .bool(CKA_PRIVATE, true)
        .bool(CKA_SENSITIVE, true)
        .bool(CKA_SIGN, true)
        .plain(CKA_LABEL, label.as_bytes())
        .plain(CKA_EC_PARAMS, params)
        .secret(CKA_VALUE, value)
}

/// Import every key of the frame, each from the frame's own bytes.
fn import_keys(p: &P11, s: CK_SESSION_HANDLE, frame: &[u8]) {
    let v = |f: Field| &frame[span(f)];
    let rsa = Template::new()
        .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
        .ulong(CKA_KEY_TYPE, CKK_RSA)
        .bool(CKA_TOKEN, true)
        .bool(CKA_PRIVATE, true)
        .bool(CKA_SENSITIVE, true)
        .bool(CKA_SIGN, true)
        .plain(CKA_LABEL, b"held-rsa")
        .plain(CKA_MODULUS, v(Field::RsaModulus))
        .plain(CKA_PUBLIC_EXPONENT, &[1, 0, 1])
        .secret(CKA_PRIVATE_EXPONENT, v(Field::RsaD))
        .secret(CKA_PRIME_1, v(Field::RsaP))
        .secret(CKA_PRIME_2, v(Field::RsaQ))
        .secret(CKA_EXPONENT_1, v(Field::RsaDp))
        .secret(CKA_EXPONENT_2, v(Field::RsaDq))
        .secret(CKA_COEFFICIENT, v(Field::RsaQinv));
    let templates = [
        (
            "held-aes",
            secret_key("held-aes", CKK_AES, true, v(Field::Aes)),
        ),
        (
            "held-public-secret",
            secret_key(
                "held-public-secret",
                CKK_GENERIC_SECRET,
                false,
                v(Field::PublicSecret),
            ),
        ),
        (
            "held-p256",
            ec_key("held-p256", CKK_EC, P256_PARAMS, v(Field::P256)),
        ),
        (
            "held-k256",
            ec_key("held-k256", CKK_EC, K256_PARAMS, v(Field::K256)),
        ),
        (
            "held-ed25519",
            ec_key(
                "held-ed25519",
                CKK_EC_EDWARDS,
                ED25519_PARAMS,
                v(Field::Ed25519),
            ),
        ),
        ("held-rsa", rsa),
    ];
    for (label, mut t) in templates {
        if let Err(rv) = p.create(s, &mut t) {
            p.soft_fail(&format!("import {label}"), rv);
        }
    }
}

/// Generate a P-256 and an Ed25519 key pair, readable (CKA_SENSITIVE false)
/// so the parent can learn their values: each value is read into a buffer
/// of ours, written to stdout in hex without any buffering, and wiped.
fn generate_keys(p: &P11, s: CK_SESSION_HANDLE) {
    let pairs = [
        ("made-p256", CKM_EC_KEY_PAIR_GEN, P256_PARAMS),
        ("made-ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_PARAMS),
    ];
    for (label, mech, params) in pairs {
        let public_label = format!("{label}-public");
        let mut public = Template::new()
            .bool(CKA_TOKEN, true)
            .bool(CKA_VERIFY, true)
            .plain(CKA_LABEL, public_label.as_bytes())
            .plain(CKA_EC_PARAMS, params);
        let mut private = Template::new()
            .bool(CKA_TOKEN, true)
            .bool(CKA_PRIVATE, true)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true)
            .bool(CKA_SIGN, true)
            .plain(CKA_LABEL, label.as_bytes());
        let key = match p.generate_pair(s, mech, &mut public, &mut private) {
            Ok(k) => k,
            Err(rv) => {
                p.soft_fail(&format!("generate {label}"), rv);
                continue;
            }
        };
        let mut value = p.get(s, key, CKA_VALUE).expect("read a generated value");
        let mut line: String = value.iter().map(|b| format!("{b:02x}")).collect();
        line.insert_str(0, &format!("HOLDER GENERATED {label} "));
        say(&line);
        line.zeroize();
        value.zeroize();
    }
}

/// Find every key and read what may be read; sensitive values stay out.
fn use_keys(p: &P11, s: CK_SESSION_HANDLE) {
    let labels = [
        "held-aes",
        "held-public-secret",
        "held-p256",
        "held-k256",
        "held-ed25519",
        "held-rsa",
    ];
    for label in labels {
        let found = p.find(s, label);
        if found.len() != 1 {
            p.soft_fail(&format!("find {label} ({} found)", found.len()), CKR_OK);
            continue;
        }
        for kind in [CKA_LABEL, CKA_KEY_TYPE, CKA_SENSITIVE, CKA_CLASS] {
            if let Err(rv) = p.get(s, found[0], kind) {
                p.soft_fail(&format!("read attribute {kind:#x} of {label}"), rv);
            }
        }
        let secret = if label == "held-rsa" {
            CKA_PRIVATE_EXPONENT
        } else {
            CKA_VALUE
        };
        if p.strict {
            assert_eq!(
                p.get(s, found[0], secret).err(),
                Some(CKR_ATTRIBUTE_SENSITIVE),
                "{label}: a sensitive value must not be readable"
            );
        }
    }
}

/// Sign once with every key that can sign: imported and generated keys,
/// each unsealed for the operation only. A mechanism the module lacks is
/// reported, not failed; for ProzHSM any other error fails the holder.
fn sign_with_held_keys(p: &P11, s: CK_SESSION_HANDLE) {
    for (label, mech, len) in SIGNERS {
        let Some(&key) = p.find(s, label).first() else {
            say(&format!("HOLDER NOSIGN {label} (no such key)"));
            continue;
        };
        let data = vec![0x5Au8; len];
        match p.sign(s, mech, key, &data) {
            Ok(sig) if !sig.is_empty() => say(&format!("HOLDER SIGNED {label}")),
            Ok(_) => panic!("{label}: empty signature"),
            Err(rv) if rv == CKR_MECHANISM_INVALID || rv == CKR_FUNCTION_NOT_SUPPORTED => {
                say(&format!("HOLDER NOSIGN {label} (rv {rv:#x})"))
            }
            Err(rv) => {
                p.soft_fail(&format!("sign with {label}"), rv);
                say(&format!("HOLDER NOSIGN {label} (rv {rv:#x})"));
            }
        }
    }
}

/// Let a debugger (gcore) attach despite Yama's ptrace_scope, and when
/// `core` is set allow a kernel core dump of any size.
fn allow_dumps(core: bool) {
    // SAFETY: prctl and setrlimit with valid arguments; they only change
    // this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_PTRACER, libc::PR_SET_PTRACER_ANY, 0, 0, 0);
        if core {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_CORE, &mut limit);
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
        }
    }
}

/// Fill `buf` from stdin with read(2): std's stdin would keep a copy in its
/// buffer.
fn read_stdin(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writing at most the rest of `buf`.
        let n = unsafe { libc::read(0, buf[done..].as_mut_ptr().cast(), buf.len() - done) };
        assert!(n > 0, "stdin closed after {done} bytes");
        done += n as usize;
    }
}

/// Block until the parent writes or closes stdin.
fn wait_stdin() {
    let mut b = [0u8; 1];
    // SAFETY: a one-byte read into a local.
    unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) };
}

/// One line to stdout with write(2), not through std's buffer (which would
/// keep a copy, and which libtest's own "test ... " line precedes).
pub(super) fn say(line: &str) {
    let mut out = Vec::with_capacity(line.len() + 2);
    out.push(b'\n');
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    let mut done = 0;
    while done < out.len() {
        // SAFETY: reading at most the rest of `out`.
        let n = unsafe { libc::write(1, out[done..].as_ptr().cast(), out.len() - done) };
        assert!(n > 0, "stdout closed");
        done += n as usize;
    }
    out.zeroize();
}

// ---------------------------------------------------------------------------
// The parent's side

/// A running holder process, ready: every key imported, used and wiped.
pub struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// The values of the keys it generated.
    pub generated: Vec<Needle>,
    /// Its report lines (signed, skipped ...).
    pub said: Vec<String>,
}

impl Holder {
    /// Start a holder on `module`'s token `label` and wait until it is
    /// ready. `envs` carries the module's config; `cwd` is where a kernel
    /// core dump lands.
    pub fn start(
        module: &Path,
        label: &str,
        envs: &[(&str, OsString)],
        cwd: Option<&Path>,
        core: bool,
        material: &Material,
    ) -> Holder {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
        cmd.args([
            "--exact",
            CHILD_TEST,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV_MODULE, module)
        .env(ENV_LABEL, label)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        if core {
            cmd.env(ENV_CORE, "1");
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().expect("start the holder");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&material.frame).expect("send key material");
        stdin.flush().expect("flush");
        let mut holder = Holder {
            stdout: BufReader::new(child.stdout.take().expect("stdout")),
            child,
            stdin: Some(stdin),
            generated: Vec::new(),
            said: Vec::new(),
        };
        let mut line = String::new();
        loop {
            line.clear();
            let n = holder.stdout.read_line(&mut line).expect("holder output");
            let text = line.trim();
            if n == 0 {
                let status = holder.child.wait().expect("wait");
                panic!(
                    "the holder ended before it was ready ({status}); it said {:?}",
                    holder.said
                );
            }
            if text == "HOLDER READY" {
                return holder;
            }
            if let Some(rest) = text.strip_prefix("HOLDER GENERATED ") {
                let (name, hex) = rest.split_once(' ').expect("name and value");
                let value: Vec<u8> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
                    .collect();
                holder
                    .generated
                    .push(Needle::new(format!("generated {name} private key"), &value));
            } else if let Some(rest) = text.strip_prefix("HOLDER ") {
                if !holder.said.iter().any(|s| s == rest) {
                    holder.said.push(rest.to_string());
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Let the holder finish normally.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut rest);
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "holder failed ({status}): {rest}");
    }

    /// Kill the holder with SIGABRT (a kernel core dump where allowed).
    pub fn abort(mut self) -> ExitStatus {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid() as libc::pid_t, libc::SIGABRT) };
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut rest);
        self.child.wait().expect("wait")
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
