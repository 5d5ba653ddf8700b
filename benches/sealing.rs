//! What sealing keys in memory costs on the sign path (issue #4): each
//! C_SignInit unseals the key (AES-256-GCM under the per-process master key,
//! into locked memory) before parsing it. This bench signs with Ed25519 and
//! ECDSA P-256 the way the token does — parse the key, sign — once from a
//! plain buffer and once unsealing first, and prints the difference.
//!
//! Run: `cargo bench --bench sealing`

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use prozhsm::secure::Sealed;

/// Operations per second of `op`, over about one second.
fn rate(mut op: impl FnMut()) -> f64 {
    for _ in 0..100 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            op();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn row(name: &str, plain: f64, sealed: f64) {
    let cost = (plain / sealed - 1.0) * 100.0;
    println!("{name:<28} {plain:>12.0} {sealed:>12.0} {cost:>9.1}%");
}

fn main() {
    let rng = SystemRandom::new();
    let message = [7u8; 32];
    println!(
        "{:<28} {:>12} {:>12} {:>10}",
        "parse + sign, per second", "plain key", "sealed key", "cost"
    );

    let seed = [42u8; 32];
    let sealed_seed = Sealed::seal(&seed);
    let plain = rate(|| {
        let k = Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
        std::hint::black_box(k.sign(&message));
    });
    let sealed = rate(|| {
        let s = sealed_seed.unseal().expect("unseal");
        let k = Ed25519KeyPair::from_seed_unchecked(s.as_slice()).expect("seed");
        std::hint::black_box(k.sign(&message));
    });
    row("Ed25519", plain, sealed);

    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let der = pkcs8.as_ref().to_vec();
    let sealed_der = Sealed::seal(&der);
    let plain = rate(|| {
        let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).expect("key");
        std::hint::black_box(k.sign(&rng, &message).expect("sign"));
    });
    let sealed = rate(|| {
        let s = sealed_der.unseal().expect("unseal");
        let k =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, s.as_slice()).expect("key");
        std::hint::black_box(k.sign(&rng, &message).expect("sign"));
    });
    row("ECDSA P-256", plain, sealed);
    println!("(cost: how much slower signing is with the key sealed in memory)");
}
