//! Tests of the AWS-LC RSA wrapper: the blinded transform against AWS-LC's
//! own, and the OAEP path's refusal of unblinded keys.

use super::*;

/// A fresh key per signature with the cached blinding, against one
/// long-lived key with AWS-LC's own. Run:
/// `cargo test --release --lib awslc::rsa::tests::first_use_cost -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn first_use_cost() {
    let key = RsaKey::generate(2048, &[1, 0, 1]).expect("generate");
    let c = key.components().expect("components");
    let parts = PrivateComponents {
        d: c[2].as_slice(),
        crt: Some([
            c[3].as_slice(),
            c[4].as_slice(),
            c[5].as_slice(),
            c[6].as_slice(),
            c[7].as_slice(),
        ]),
    };
    let msg = [7u8; 51];
    let mut sig = [0u8; 256];
    let t = std::time::Instant::now();
    for _ in 0..200 {
        let k = RsaKey::private(c[0].as_slice(), c[1].as_slice(), &parts).expect("key");
        k.sign_pkcs1(&msg, &mut sig).expect("sign");
    }
    println!(
        "fresh key per signature, cached blinding: {:?}/sig",
        t.elapsed() / 200
    );
    let k = RsaKey::private(c[0].as_slice(), c[1].as_slice(), &parts).expect("key");
    let mut em = [0u8; 256];
    em[255] = 7;
    let t = std::time::Instant::now();
    for _ in 0..100 {
        // SAFETY: the key is ours; AWS-LC's own path, with its blinding.
        let ok = unsafe {
            let mut written = 0;
            sys::RSA_sign_raw(
                k.rsa.as_ptr(),
                &mut written,
                sig.as_mut_ptr(),
                256,
                em.as_ptr(),
                256,
                sys::RSA_NO_PADDING,
            )
        };
        assert_eq!(ok, 1);
    }
    println!("one key, AWS-LC's blinding: {:?}/sig", t.elapsed() / 100);
}

/// The externally blinded transform equals AWS-LC's own, over many uses
/// (pairs squared, then replaced), and its inverse is the public
/// operation.
#[test]
fn blinded_transform_is_the_rsa_function() {
    let key = RsaKey::generate(2048, &[1, 0, 1]).expect("generate");
    let c = key.components().expect("components");
    let parts = PrivateComponents {
        d: c[2].as_slice(),
        crt: Some([
            c[3].as_slice(),
            c[4].as_slice(),
            c[5].as_slice(),
            c[6].as_slice(),
            c[7].as_slice(),
        ]),
    };
    let public = RsaKey::public(c[0].as_slice(), c[1].as_slice()).expect("public");
    for i in 0..(2 * BLINDING_USES + 3) {
        let k = RsaKey::private(c[0].as_slice(), c[1].as_slice(), &parts).expect("key");
        let mut m = [0u8; 256];
        m[200] = i as u8;
        m[10] = 0x42;
        let mut s = [0u8; 256];
        k.private_raw(&m, &mut s).expect("private");
        let mut back = [0u8; 256];
        public.public_raw(&s, &mut back).expect("public");
        assert_eq!(back, m, "use {i}");
        let mut t = [0u8; 256];
        let mut written = 0;
        let fresh = RsaKey::private(c[0].as_slice(), c[1].as_slice(), &parts).expect("key");
        // SAFETY: the key is ours; AWS-LC's own blinded path.
        let ok = unsafe {
            sys::RSA_sign_raw(
                fresh.rsa.as_ptr(),
                &mut written,
                t.as_mut_ptr(),
                256,
                m.as_ptr(),
                256,
                sys::RSA_NO_PADDING,
            )
        };
        assert_eq!(ok, 1);
        assert_eq!(s, t);
    }
    // An input not below n is refused, not reduced.
    let k = RsaKey::private(c[0].as_slice(), c[1].as_slice(), &parts).expect("key");
    let mut s = [0u8; 256];
    assert_eq!(k.private_raw(&[0xff; 256], &mut s), Err(Rv::DATA_INVALID));
    let mut n = c[0].as_slice().to_vec();
    assert_eq!(n.len(), 256);
    assert_eq!(k.private_raw(&n, &mut s), Err(Rv::DATA_INVALID));
    // n − 1 is −1, its own image (d is odd).
    n[255] -= 1;
    k.private_raw(&n, &mut s).expect("n - 1");
    assert_eq!(&s[..], &n[..]);
}

/// After a raw operation switched AWS-LC's blinding off for a key, OAEP
/// decryption (which needs it) refuses that key.
#[test]
fn oaep_never_runs_unblinded() {
    let key = RsaKey::generate(2048, &[1, 0, 1]).expect("generate");
    let mut s = [0u8; 256];
    let mut m = [0u8; 256];
    m[255] = 2;
    key.private_raw(&m, &mut s).expect("raw");
    let mut out = [0u8; 256];
    assert_eq!(
        key.decrypt_oaep(&s, Hash::Sha256, Hash::Sha256, b"", &mut out),
        Err(Rv::GENERAL_ERROR)
    );
}
