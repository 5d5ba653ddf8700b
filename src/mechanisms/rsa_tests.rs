//! RSA tests: known answers from OpenSSL (PKCS#1 v1.5 signatures must match
//! byte for byte; PSS signatures and OAEP ciphertexts must verify and
//! decrypt), round trips for every mechanism, the PSS and OAEP parameter
//! rules, key generation and the key acceptance rules.

use super::*;

use crate::backend::Attr;
use crate::mechanisms::test_util::hex;
use crate::mechanisms::KeyPolicy;
use crate::object::AttrValue;

#[path = "rsa_vectors.rs"]
mod vectors;

use vectors as v;

/// The OpenSSL test key as token objects: (public, private).
fn openssl_key() -> (Attributes, Attributes) {
    let mut public = Attributes::new();
    public.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    public.set_ulong(CKA_KEY_TYPE, CKK_RSA);
    public.set_bytes(CKA_MODULUS, &hex(v::N));
    public.set_bytes(CKA_PUBLIC_EXPONENT, &hex(v::E));
    let mut private = Attributes::new();
    private.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    private.set_ulong(CKA_KEY_TYPE, CKK_RSA);
    private.set_bytes(CKA_MODULUS, &hex(v::N));
    private.set_bytes(CKA_PUBLIC_EXPONENT, &hex(v::E));
    for (kind, value) in [
        (CKA_PRIVATE_EXPONENT, v::D),
        (CKA_PRIME_1, v::P),
        (CKA_PRIME_2, v::Q),
        (CKA_EXPONENT_1, v::DP),
        (CKA_EXPONENT_2, v::DQ),
        (CKA_COEFFICIENT, v::QINV),
    ] {
        private.set_secret(kind, &hex(value));
    }
    (public, private)
}

/// A freshly generated pair of `bits` bits.
fn generated(bits: CK_ULONG) -> (Attributes, Attributes) {
    let public = [Attr::ulong(CKA_MODULUS_BITS, bits)];
    RSA_PKCS_KEY_PAIR_GEN
        .generate(&MechParam::None, &public, &[], Actor::default())
        .expect("generates")
}

fn pss(hash: CK_MECHANISM_TYPE, mgf: CK_RSA_PKCS_MGF_TYPE, salt_len: CK_ULONG) -> MechParam {
    MechParam::RsaPss {
        hash,
        mgf,
        salt_len,
    }
}

fn oaep(hash: CK_MECHANISM_TYPE, mgf: CK_RSA_PKCS_MGF_TYPE, label: &[u8]) -> MechParam {
    MechParam::RsaOaep {
        hash,
        mgf,
        source: CKZ_DATA_SPECIFIED,
        label: label.to_vec(),
    }
}

fn sign(mech: &RsaSig, param: &MechParam, key: &Attributes, parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut op = Sign::start(mech, param, key)?;
    let mut sig = vec![0u8; op.signature_len()];
    for p in parts {
        op.update(p)?;
    }
    let n = op.finish(&mut sig)?;
    sig.truncate(n);
    Ok(sig)
}

fn verify(
    mech: &RsaSig,
    param: &MechParam,
    key: &Attributes,
    data: &[u8],
    sig: &[u8],
) -> Result<()> {
    let mut op = Verify::start(mech, param, key)?;
    op.update(data)?;
    op.finish(sig)
}

fn encrypt(
    mech: &dyn Encrypt,
    param: &MechParam,
    key: &Attributes,
    data: &[u8],
) -> Result<Vec<u8>> {
    let op = mech.start(param, key)?;
    let mut out = vec![0u8; op.oneshot_len(data.len())];
    let n = op.oneshot(data, &mut out)?;
    out.truncate(n);
    Ok(out)
}

fn decrypt(param: &MechParam, key: &Attributes, data: &[u8]) -> Result<Vec<u8>> {
    decrypt_with(&RSA_PKCS_OAEP, param, key, data)
}

fn decrypt_with(
    mech: &dyn Decrypt,
    param: &MechParam,
    key: &Attributes,
    data: &[u8],
) -> Result<Vec<u8>> {
    let op = mech.start(param, key)?;
    let mut out = vec![0u8; op.oneshot_len(data.len())];
    let n = op.oneshot(data, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// DigestInfo of SHA-256("abc").
fn digest_info_sha256_abc() -> Vec<u8> {
    let mut di = digest_info_prefix(Hash::Sha256).expect("prefix").to_vec();
    di.extend_from_slice(Hash::Sha256.digest(b"abc").as_ref());
    di
}

#[test]
fn pkcs1_signature_matches_openssl() {
    let (public, private) = openssl_key();
    let want = hex(v::SIG_PKCS1_SHA256);
    let none = MechParam::None;
    assert_eq!(
        sign(&SHA256_RSA_PKCS, &none, &private, &[b"abc"]),
        Ok(want.clone())
    );
    assert_eq!(
        sign(&SHA256_RSA_PKCS, &none, &private, &[b"a", b"", b"bc"]),
        Ok(want.clone())
    );
    // CKM_RSA_PKCS over the DigestInfo gives the same signature.
    let di = digest_info_sha256_abc();
    assert_eq!(sign(&RSA_PKCS, &none, &private, &[&di]), Ok(want.clone()));
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &none, &public, b"abc", &want),
        Ok(())
    );
    assert_eq!(verify(&RSA_PKCS, &none, &public, &di, &want), Ok(()));
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &none, &public, b"abd", &want),
        Err(Rv::SIGNATURE_INVALID)
    );
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &none, &public, b"abc", &want[1..]),
        Err(Rv::SIGNATURE_LEN_RANGE)
    );
}

#[test]
fn sha1_and_sha224_signatures() {
    let (public, private) = openssl_key();
    let none = MechParam::None;
    let sig = hex(v::SIG_PKCS1_SHA1);
    assert_eq!(verify(&SHA1_RSA_PKCS, &none, &public, b"abc", &sig), Ok(()));
    assert_eq!(
        sign(&SHA1_RSA_PKCS, &none, &private, &[b"abc"]),
        Ok(sig.clone())
    );
    let mut di = hex("3021300906052b0e03021a05000414");
    di.extend_from_slice(Hash::Sha1.digest(b"abc").as_ref());
    assert_eq!(verify(&RSA_PKCS, &none, &public, &di, &sig), Ok(()));
    assert_eq!(sign(&RSA_PKCS, &none, &private, &[&di]), Ok(sig));
    let sig = sign(&SHA224_RSA_PKCS, &none, &private, &[b"ab", b"c"]).expect("sign");
    assert_eq!(
        verify(&SHA224_RSA_PKCS, &none, &public, b"abc", &sig),
        Ok(())
    );
    let mut di = digest_info_prefix(Hash::Sha224).expect("prefix").to_vec();
    di.extend_from_slice(Hash::Sha224.digest(b"abc").as_ref());
    assert_eq!(verify(&RSA_PKCS, &none, &public, &di, &sig), Ok(()));
}

#[test]
fn raw_pkcs1_input_rules() {
    let (public, private) = openssl_key();
    let none = MechParam::None;
    // Any data up to k - 11 bytes, a DigestInfo or not (TLS 1.1's
    // MD5+SHA-1 pair is 36 bytes of raw digests).
    let sig = sign(&RSA_PKCS, &none, &private, &[b"raw data"]).expect("sign");
    assert_eq!(verify(&RSA_PKCS, &none, &public, b"raw data", &sig), Ok(()));
    assert_eq!(
        verify(&RSA_PKCS, &none, &public, b"raw dat4", &sig),
        Err(Rv::SIGNATURE_INVALID)
    );
    let longest = [0x42u8; 245];
    let sig = sign(&RSA_PKCS, &none, &private, &[&longest]).expect("sign");
    assert_eq!(verify(&RSA_PKCS, &none, &public, &longest, &sig), Ok(()));
    // Longer than k - 11.
    assert_eq!(
        sign(&RSA_PKCS, &none, &private, &[&[0u8; 246]]),
        Err(Rv::DATA_LEN_RANGE)
    );
    // Single-part only.
    let op = Sign::start(&RSA_PKCS, &none, &private).expect("init");
    assert!(!op.multipart());
    assert!(Sign::start(&SHA256_RSA_PKCS, &none, &private)
        .expect("init")
        .multipart());
    // No parameter allowed.
    assert!(matches!(
        Sign::start(&RSA_PKCS, &MechParam::Bytes(vec![0]), &private),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
}

#[test]
fn pss_verifies_openssl_and_round_trips() {
    let (public, private) = openssl_key();
    let sig = hex(v::SIG_PSS_SHA256);
    let p32 = pss(CKM_SHA256, CKG_MGF1_SHA256, 32);
    assert_eq!(
        verify(&SHA256_RSA_PKCS_PSS, &p32, &public, b"abc", &sig),
        Ok(())
    );
    let digest = Hash::Sha256.digest(b"abc");
    assert_eq!(
        verify(&RSA_PKCS_PSS, &p32, &public, digest.as_ref(), &sig),
        Ok(())
    );
    // The salt length is checked exactly.
    let p20 = pss(CKM_SHA256, CKG_MGF1_SHA256, 20);
    assert_eq!(
        verify(&SHA256_RSA_PKCS_PSS, &p20, &public, b"abc", &sig),
        Err(Rv::SIGNATURE_INVALID)
    );
    // Every hash, salt 0, the digest length and the maximum.
    let cases = [
        (&SHA1_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, 20),
        (&SHA224_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA224, 28),
        (&SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32),
        // The MGF1 hash may differ from the message hash.
        (&SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA1, 32),
        (&SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48),
        (&SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 64),
    ];
    for (mech, hash, mgf, hlen) in cases {
        for salt in [0, hlen, 256 - hlen - 2] {
            let p = pss(hash, mgf, salt);
            let s1 = sign(mech, &p, &private, &[b"message ", b"in parts"]).expect("sign");
            let s2 = sign(mech, &p, &private, &[b"message in parts"]).expect("sign");
            if salt > 0 {
                assert_ne!(s1, s2, "salted signatures differ");
            }
            assert_eq!(verify(mech, &p, &public, b"message in parts", &s1), Ok(()));
            assert_eq!(verify(mech, &p, &public, b"message in parts", &s2), Ok(()));
            let h = hash_of(hash).expect("hash").digest(b"message in parts");
            assert_eq!(verify(&RSA_PKCS_PSS, &p, &public, h.as_ref(), &s1), Ok(()));
            let raw = sign(&RSA_PKCS_PSS, &p, &private, &[h.as_ref()]).expect("raw");
            assert_eq!(verify(mech, &p, &public, b"message in parts", &raw), Ok(()));
        }
    }
}

#[test]
fn pss_parameters_are_checked() {
    let (public, private) = openssl_key();
    let bad = |mech: &RsaSig, p: MechParam| {
        let s = Sign::start(mech, &p, &private).err();
        let v = Verify::start(mech, &p, &public).err();
        assert_eq!(s, v, "sign and verify agree");
        s
    };
    let invalid = Some(Rv::MECHANISM_PARAM_INVALID);
    assert_eq!(bad(&RSA_PKCS_PSS, MechParam::None), invalid);
    assert_eq!(bad(&RSA_PKCS_PSS, MechParam::Bytes(vec![0; 24])), invalid);
    // hashAlg must be the mechanism's hash.
    assert_eq!(
        bad(&SHA256_RSA_PKCS_PSS, pss(CKM_SHA384, CKG_MGF1_SHA384, 48)),
        invalid
    );
    // Any MGF1 hash; an unknown MGF is refused.
    assert_eq!(
        bad(&SHA256_RSA_PKCS_PSS, pss(CKM_SHA256, CKG_MGF1_SHA1, 32)),
        None
    );
    assert_eq!(bad(&RSA_PKCS_PSS, pss(CKM_SHA256, 0x99, 32)), invalid);
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA224, CKG_MGF1_SHA224, 28)),
        None
    );
    assert_eq!(bad(&RSA_PKCS_PSS, pss(CKM_MD5, CKG_MGF1_SHA1, 16)), invalid);
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA3_256, CKG_MGF1_SHA256, 16)),
        invalid
    );
    // Salt: up to the maximum (222 for RSA-2048 with SHA-256).
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA256, CKG_MGF1_SHA256, 65)),
        None
    );
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA256, CKG_MGF1_SHA256, 223)),
        invalid
    );
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA256, CKG_MGF1_SHA256, 222)),
        None
    );
    assert_eq!(
        bad(&RSA_PKCS_PSS, pss(CKM_SHA256, CKG_MGF1_SHA256, 64)),
        None
    );
    // CKM_RSA_PKCS_PSS takes a digest of hashAlg's length, in one part.
    let p = pss(CKM_SHA256, CKG_MGF1_SHA256, 32);
    assert_eq!(
        sign(&RSA_PKCS_PSS, &p, &private, &[&[1; 31]]),
        Err(Rv::DATA_LEN_RANGE)
    );
    assert_eq!(
        verify(&RSA_PKCS_PSS, &p, &public, &[1; 33], &[0; 256]),
        Err(Rv::DATA_LEN_RANGE)
    );
    assert!(!Sign::start(&RSA_PKCS_PSS, &p, &private)
        .expect("init")
        .multipart());
}

#[test]
fn every_pkcs1_hash_round_trips_on_a_generated_key() {
    let (public, private) = generated(2048);
    let none = MechParam::None;
    for mech in [
        &SHA1_RSA_PKCS,
        &SHA224_RSA_PKCS,
        &SHA256_RSA_PKCS,
        &SHA384_RSA_PKCS,
        &SHA512_RSA_PKCS,
    ] {
        let sig = sign(mech, &none, &private, &[b"hello"]).expect("sign");
        assert_eq!(sig.len(), 256);
        assert_eq!(verify(mech, &none, &public, b"hello", &sig), Ok(()));
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert_eq!(
            verify(mech, &none, &public, b"hello", &bad),
            Err(Rv::SIGNATURE_INVALID)
        );
        // Deterministic.
        assert_eq!(sign(mech, &none, &private, &[b"hel", b"lo"]), Ok(sig));
    }
}

#[test]
fn oaep_decrypts_openssl_and_round_trips() {
    let (public, private) = openssl_key();
    let p256 = oaep(CKM_SHA256, CKG_MGF1_SHA256, b"label");
    let ct = hex(v::CT_OAEP_SHA256_LABEL);
    assert_eq!(
        decrypt(&p256, &private, &ct),
        Ok(b"a wrapped secret".to_vec())
    );
    let p1 = oaep(CKM_SHA_1, CKG_MGF1_SHA1, b"");
    assert_eq!(
        decrypt(&p1, &private, &hex(v::CT_OAEP_SHA1)),
        Ok(b"a wrapped secret".to_vec())
    );
    // Source 0 with no label is taken as "no label".
    let p0 = MechParam::RsaOaep {
        hash: CKM_SHA_1,
        mgf: CKG_MGF1_SHA1,
        source: 0,
        label: Vec::new(),
    };
    assert_eq!(
        decrypt(&p0, &private, &hex(v::CT_OAEP_SHA1)),
        Ok(b"a wrapped secret".to_vec())
    );
    for (hash, mgf, max) in [
        (CKM_SHA_1, CKG_MGF1_SHA1, 214),
        (CKM_SHA224, CKG_MGF1_SHA224, 198),
        (CKM_SHA256, CKG_MGF1_SHA1, 190),
        (CKM_SHA256, CKG_MGF1_SHA256, 190),
        (CKM_SHA384, CKG_MGF1_SHA384, 158),
        (CKM_SHA512, CKG_MGF1_SHA512, 126),
    ] {
        for label in [&b""[..], b"some label"] {
            let p = oaep(hash, mgf, label);
            for data in [&b""[..], b"x", &[7u8; 300][..max]] {
                let ct = encrypt(&RSA_PKCS_OAEP, &p, &public, data).expect("encrypt");
                assert_eq!(ct.len(), 256);
                assert_eq!(decrypt(&p, &private, &ct), Ok(data.to_vec()));
            }
            let long = vec![7u8; max + 1];
            assert_eq!(
                encrypt(&RSA_PKCS_OAEP, &p, &public, &long),
                Err(Rv::DATA_LEN_RANGE)
            );
        }
    }
}

#[test]
fn oaep_failures_are_uniform() {
    let (_, private) = openssl_key();
    let p = oaep(CKM_SHA256, CKG_MGF1_SHA256, b"label");
    let ct = hex(v::CT_OAEP_SHA256_LABEL);
    let wrong_label = oaep(CKM_SHA256, CKG_MGF1_SHA256, b"lab3l");
    assert_eq!(
        decrypt(&wrong_label, &private, &ct),
        Err(Rv::ENCRYPTED_DATA_INVALID)
    );
    let wrong_hash = oaep(CKM_SHA384, CKG_MGF1_SHA384, b"label");
    assert_eq!(
        decrypt(&wrong_hash, &private, &ct),
        Err(Rv::ENCRYPTED_DATA_INVALID)
    );
    for i in [0, 1, 100, 255] {
        let mut bad = ct.clone();
        bad[i] ^= 0x40;
        assert_eq!(
            decrypt(&p, &private, &bad),
            Err(Rv::ENCRYPTED_DATA_INVALID),
            "byte {i}"
        );
    }
    // A ciphertext >= n.
    assert_eq!(
        decrypt(&p, &private, &[0xff; 256]),
        Err(Rv::ENCRYPTED_DATA_INVALID)
    );
    assert_eq!(
        decrypt(&p, &private, &ct[1..]),
        Err(Rv::ENCRYPTED_DATA_LEN_RANGE)
    );
    // Single-part only.
    let mut op = Decrypt::start(&RSA_PKCS_OAEP, &p, &private).expect("init");
    assert_eq!(
        op.update(&ct, &mut [0; 256]),
        Err(Rv::FUNCTION_NOT_SUPPORTED)
    );
}

#[test]
fn oaep_parameters_are_checked() {
    let (public, private) = openssl_key();
    let check = |p: MechParam| {
        let e = Encrypt::start(&RSA_PKCS_OAEP, &p, &public).err();
        let d = Decrypt::start(&RSA_PKCS_OAEP, &p, &private).err();
        assert_eq!(e, d, "encrypt and decrypt agree");
        e
    };
    let invalid = Some(Rv::MECHANISM_PARAM_INVALID);
    assert_eq!(check(MechParam::None), invalid);
    assert_eq!(check(oaep(CKM_SHA224, CKG_MGF1_SHA224, b"")), None);
    assert_eq!(check(oaep(CKM_SHA256, CKG_MGF1_SHA1, b"")), None);
    assert_eq!(check(oaep(CKM_MD5, CKG_MGF1_SHA1, b"")), invalid);
    assert_eq!(check(oaep(CKM_SHA256, 0x99, b"")), invalid);
    let source = |source, label: &[u8]| MechParam::RsaOaep {
        hash: CKM_SHA_1,
        mgf: CKG_MGF1_SHA1,
        source,
        label: label.to_vec(),
    };
    assert_eq!(check(source(2, b"")), invalid);
    assert_eq!(check(source(0, b"label")), invalid);
    assert_eq!(check(source(0, b"")), None);
    assert_eq!(check(oaep(CKM_SHA512, CKG_MGF1_SHA512, b"l")), None);
}

#[test]
fn pkcs1_encryption_round_trips() {
    let (public, private) = openssl_key();
    let none = MechParam::None;
    let a = encrypt(&RSA_PKCS_CIPHER, &none, &public, b"secret").expect("encrypt");
    let b = encrypt(&RSA_PKCS_CIPHER, &none, &public, b"secret").expect("encrypt");
    assert_eq!(a.len(), 256);
    assert_ne!(a, b, "randomized padding");
    assert_eq!(
        decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &a),
        Ok(b"secret".to_vec())
    );
    assert_eq!(
        decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &b),
        Ok(b"secret".to_vec())
    );
    assert_eq!(
        encrypt(&RSA_PKCS_CIPHER, &none, &public, &[1; 246]),
        Err(Rv::DATA_LEN_RANGE)
    );
    let longest = encrypt(&RSA_PKCS_CIPHER, &none, &public, &[1; 245]).expect("encrypt");
    assert_eq!(
        decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &longest),
        Ok(vec![1; 245])
    );
    let empty = encrypt(&RSA_PKCS_CIPHER, &none, &public, b"").expect("encrypt");
    assert_eq!(
        decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &empty),
        Ok(Vec::new())
    );
}

/// A ciphertext with bad padding decrypts (implicit rejection): no error
/// to tell it apart, the same answer each time, another for another
/// ciphertext; an OAEP ciphertext is such a ciphertext for PKCS#1 v1.5.
#[test]
fn pkcs1_decryption_rejects_implicitly() {
    let (public, private) = openssl_key();
    let none = MechParam::None;
    let oaep_ct = encrypt(
        &RSA_PKCS_OAEP,
        &oaep(CKM_SHA256, CKG_MGF1_SHA256, b""),
        &public,
        b"secret",
    )
    .expect("encrypt");
    let first = decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &oaep_ct).expect("no error");
    let again = decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &oaep_ct).expect("no error");
    assert_eq!(first, again);
    assert!(first.len() <= 245);
    let mut other = oaep_ct.clone();
    other[200] ^= 1;
    let second = decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &other).expect("no error");
    assert_ne!(first, second);
    // Length errors are still errors: the length is public.
    assert_eq!(
        decrypt_with(&RSA_PKCS_CIPHER, &none, &private, &oaep_ct[1..]),
        Err(Rv::ENCRYPTED_DATA_LEN_RANGE)
    );
    let row = crate::mechanisms::lookup(CKM_RSA_PKCS).expect("row");
    assert!(row.ops.decrypt.is_some());
}

/// The synthetic messages are OpenSSL's (the same algorithm, so a client
/// moving between the two sees the same answers), and a real ciphertext
/// still decrypts.
#[test]
fn implicit_rejection_matches_openssl() {
    let (_, private) = openssl_key();
    for (ct, want) in v::IMPLICIT_REJECTION {
        assert_eq!(
            decrypt_with(&RSA_PKCS_CIPHER, &MechParam::None, &private, &hex(ct)),
            Ok(hex(want)),
            "{ct}"
        );
    }
}

/// The ciphertexts 0 and 1 (Wycheproof's rsa_pkcs1 tcId 27 and 28) are
/// bad paddings like any other: no error, OpenSSL's synthetic messages
/// (OpenSSL 4.0 through pyca/cryptography 48). AWS-LC's raw operation
/// refuses 0, which once made it the one bad padding with an error.
#[test]
fn implicit_rejection_of_zero_and_one() {
    let (_, private) = openssl_key();
    let k = 256;
    let zero = "a0fde3f2f6a054286e60ac544185c642ea6f2af71eda53b8e34c6a033a060747\
        6e9b87959332a03e1d34866811e035305c0c25da060031893f450741dc06d2d0\
        4aa857c7566166afd412c8f95ca60692cdd6115853c8cef528cb2263d983878c\
        8844252f10275ccfa78abc0becaf3ad2b605bec232a5137649d5a317efe53077\
        04a4800b5f57c19f555018808cbfd88be4c16ed3f1de85e9ffc189a1f54e1b24\
        acaf360c0015c465dd9524fbbc975bc44fc1c0d7ad7bd1c530f70ebe9e93d2dd\
        fe816a719a26254212";
    let one = "62c1aee9ff4b8fdba090ff7bd1ddabd9b2a8cd3e062222d11f9f3a8e0ddf5ea9\
        21529f04b2849a6a8e92a458beee2fe5aa5d703ac8605fe1b8ff08111dae8b9a\
        2cead66684c79564df191bd63efe64aa434217558d8b7679e77903bb3b6b9085\
        1fba95d663641599c604e194e2697800924aaf79cd78da40fc52cc7a09075ca4\
        5c36ed17974e12b8e39ef491deb26bb7e13ef38f5512a2b49be84f28aed333ac\
        3829db22ed7131ee3f6f723f10b91dca9749ceeb6a49b1fdf1ff9ba8c3722511\
        32c37314e9ec0ba333e99807f20eab0c";
    for (last, want) in [(0u8, zero), (1, one)] {
        let mut ct = vec![0u8; k];
        ct[k - 1] = last;
        assert_eq!(
            decrypt_with(&RSA_PKCS_CIPHER, &MechParam::None, &private, &ct),
            Ok(hex(want)),
            "c = {last}"
        );
    }
}

/// CKM_RSA_X_509 is the bare RSA function: signing the PKCS#1 v1.5
/// encoding of a DigestInfo gives the PKCS#1 signature; encrypt and
/// decrypt are inverse; short inputs are left-padded.
#[test]
fn raw_rsa() {
    let (public, private) = openssl_key();
    let none = MechParam::None;
    let di = digest_info_sha256_abc();
    let mut em = vec![0u8, 1];
    em.resize(256 - di.len() - 1, 0xff);
    em.push(0);
    em.extend_from_slice(&di);
    let sig = sign(&RSA_X_509, &none, &private, &[&em]).expect("sign");
    assert_eq!(sig, hex(v::SIG_PKCS1_SHA256));
    assert_eq!(verify(&RSA_X_509, &none, &public, &em, &sig), Ok(()));
    // Leading zeros may be left out.
    assert_eq!(verify(&RSA_X_509, &none, &public, &em[1..], &sig), Ok(()));
    assert_eq!(
        sign(&RSA_X_509, &none, &private, &[&em[1..]]),
        Ok(sig.clone())
    );
    em[255] ^= 1;
    assert_eq!(
        verify(&RSA_X_509, &none, &public, &em, &sig),
        Err(Rv::SIGNATURE_INVALID)
    );
    assert_eq!(
        sign(&RSA_X_509, &none, &private, &[&[0xff; 256]]),
        Err(Rv::DATA_INVALID),
        "not below n"
    );
    assert_eq!(
        sign(&RSA_X_509, &none, &private, &[&[1; 257]]),
        Err(Rv::DATA_LEN_RANGE)
    );
    let ct = encrypt(&RSA_X_509_CIPHER, &none, &public, b"raw").expect("encrypt");
    let mut want = vec![0u8; 253];
    want.extend_from_slice(b"raw");
    assert_eq!(
        decrypt_with(&RSA_X_509_CIPHER, &none, &private, &ct),
        Ok(want)
    );
    assert_eq!(
        encrypt(&RSA_X_509_CIPHER, &none, &public, &[0xff; 256]),
        Err(Rv::DATA_INVALID)
    );
}

/// OAEP and PKCS#1 v1.5 wrap a key under the public key and unwrap it with
/// the private one; raw RSA does not wrap.
#[test]
fn wrapping() {
    let (public, private) = openssl_key();
    let key = [0x11u8; 32];
    let p = oaep(CKM_SHA256, CKG_MGF1_SHA256, b"");
    let blob = Wrap::wrap(&RSA_PKCS_OAEP, &p, &public, &key).expect("wrap");
    assert_eq!(blob.len(), 256);
    let back = Unwrap::unwrap(&RSA_PKCS_OAEP, &p, &private, &blob).expect("unwrap");
    assert_eq!(back.as_slice(), &key);
    let mut bad = blob.clone();
    bad[7] ^= 1;
    assert!(matches!(
        Unwrap::unwrap(&RSA_PKCS_OAEP, &p, &private, &bad),
        Err(Rv::WRAPPED_KEY_INVALID)
    ));
    assert!(matches!(
        Unwrap::unwrap(&RSA_PKCS_OAEP, &p, &private, &blob[1..]),
        Err(Rv::WRAPPED_KEY_LEN_RANGE)
    ));
    assert_eq!(
        Wrap::wrap(&RSA_PKCS_OAEP, &p, &public, &[0; 191]),
        Err(Rv::KEY_SIZE_RANGE)
    );
    let none = MechParam::None;
    let blob = Wrap::wrap(&RSA_PKCS_CIPHER, &none, &public, &key).expect("wrap");
    let back = Unwrap::unwrap(&RSA_PKCS_CIPHER, &none, &private, &blob).expect("unwrap");
    assert_eq!(back.as_slice(), &key);
    assert_eq!(
        Wrap::wrap(&RSA_X_509_CIPHER, &none, &public, &key),
        Err(Rv::MECHANISM_INVALID)
    );
}

#[test]
fn generation_sets_the_attributes() {
    let (public, private) = generated(2048);
    let n = public.bytes(CKA_MODULUS).expect("modulus").to_vec();
    assert_eq!(n.len(), 256);
    assert!(n[0] & 0x80 != 0);
    assert_eq!(public.ulong(CKA_MODULUS_BITS), Some(2048));
    assert_eq!(public.bytes(CKA_PUBLIC_EXPONENT), Some(&keys::F4[..]));
    assert_eq!(private.bytes(CKA_MODULUS), Some(n.as_slice()));
    assert_eq!(private.bytes(CKA_PUBLIC_EXPONENT), Some(&keys::F4[..]));
    for kind in [
        CKA_PRIVATE_EXPONENT,
        CKA_PRIME_1,
        CKA_PRIME_2,
        CKA_EXPONENT_1,
        CKA_EXPONENT_2,
        CKA_COEFFICIENT,
    ] {
        assert!(
            matches!(private.get(kind), Some(AttrValue::Secret(_))),
            "{kind:#x} sealed"
        );
    }
    assert_eq!(private.bool(CKA_SENSITIVE), Some(true));
    let (public, private) = generated(3072);
    let sig = sign(&SHA256_RSA_PKCS, &MechParam::None, &private, &[b"x"]).expect("sign");
    assert_eq!(sig.len(), 384);
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &MechParam::None, &public, b"x", &sig),
        Ok(())
    );
}

#[test]
fn generation_refuses_sizes_and_exponents() {
    let gen = |public: &[Attr]| {
        RSA_PKCS_KEY_PAIR_GEN
            .generate(&MechParam::None, public, &[], Actor::default())
            .err()
    };
    let bits = |b| Attr::ulong(CKA_MODULUS_BITS, b);
    for b in [512, 1024, 2047, 2049, 2100, 16384] {
        assert_eq!(gen(&[bits(b)]), Some(Rv::KEY_SIZE_RANGE), "{b} bits");
    }
    assert_eq!(gen(&[]), Some(Rv::TEMPLATE_INCOMPLETE));
    for e in [
        &[3u8][..],
        &[0x01, 0x00, 0x00],
        &[0x02, 0x00, 0x00, 0x00, 0x01],
        &[],
    ] {
        let t = [bits(2048), Attr::new(CKA_PUBLIC_EXPONENT, e)];
        assert_eq!(gen(&t), Some(Rv::ATTRIBUTE_VALUE_INVALID), "e = {e:?}");
    }
    let t = [bits(2048), Attr::new(CKA_PUBLIC_EXPONENT, &[0, 1, 0, 1])];
    assert_eq!(gen(&t), None);
    // Another allowed exponent is honoured.
    let t = [bits(2048), Attr::new(CKA_PUBLIC_EXPONENT, &[1, 0, 3])];
    let (public, _) = RSA_PKCS_KEY_PAIR_GEN
        .generate(&MechParam::None, &t, &[], Actor::default())
        .expect("generates");
    assert_eq!(public.bytes(CKA_PUBLIC_EXPONENT), Some(&[1u8, 0, 3][..]));
    // 1024 bits where the policy allows them.
    let legacy = Actor {
        hardening: crate::object::policy::Hardening::SOFTHSM,
        ..Actor::default()
    };
    let (public, private) = RSA_PKCS_KEY_PAIR_GEN
        .generate(&MechParam::None, &[bits(1024)], &[], legacy)
        .expect("generates");
    assert_eq!(public.bytes(CKA_MODULUS).map(<[u8]>::len), Some(128));
    let sig = sign(&SHA256_RSA_PKCS, &MechParam::None, &private, &[b"x"]).expect("sign");
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &MechParam::None, &public, b"x", &sig),
        Ok(())
    );
    assert!(matches!(
        RSA_PKCS_KEY_PAIR_GEN.generate(
            &MechParam::Bytes(vec![1]),
            &[bits(2048)],
            &[],
            Actor::default()
        ),
        Err(Rv::MECHANISM_PARAM_INVALID)
    ));
}

#[test]
fn imported_keys_need_consistent_crt_components() {
    let (_, private) = openssl_key();
    let none = MechParam::None;
    // Leading zeros on any component are accepted.
    let mut padded = private.duplicate();
    padded.set_bytes(CKA_MODULUS, &[&[0u8, 0][..], &hex(v::N)].concat());
    padded.set_secret(CKA_PRIME_1, &[&[0u8; 3][..], &hex(v::P)].concat());
    assert_eq!(
        sign(&SHA256_RSA_PKCS, &none, &padded, &[b"abc"]),
        Ok(hex(v::SIG_PKCS1_SHA256))
    );
    // Without the CRT components.
    let mut bare = private.duplicate();
    for kind in [
        CKA_PRIME_1,
        CKA_PRIME_2,
        CKA_EXPONENT_1,
        CKA_EXPONENT_2,
        CKA_COEFFICIENT,
    ] {
        bare.remove(kind);
    }
    assert_eq!(
        sign(&SHA256_RSA_PKCS, &none, &bare, &[b"abc"]),
        Ok(hex(v::SIG_PKCS1_SHA256)),
        "(n, e, d) keys sign too"
    );
    let mut partial = private.duplicate();
    partial.remove(CKA_PRIME_1);
    assert!(matches!(
        Sign::start(&SHA256_RSA_PKCS, &none, &partial),
        Err(Rv::KEY_TYPE_INCONSISTENT)
    ));
    // Inconsistent components never give a signature (AWS-LC checks each
    // CRT result with e; the import check refuses them earlier).
    let mut bad = private.duplicate();
    let mut qinv = hex(v::QINV);
    let last = qinv.len() - 1;
    qinv[last] ^= 2;
    bad.set_secret(CKA_COEFFICIENT, &qinv);
    assert!(sign(&SHA256_RSA_PKCS, &none, &bad, &[b"abc"]).is_err());
    assert!(decrypt(
        &oaep(CKM_SHA_1, CKG_MGF1_SHA1, b""),
        &bad,
        &hex(v::CT_OAEP_SHA1)
    )
    .is_err());
}

#[test]
fn key_acceptance_rules() {
    let (public, _) = openssl_key();
    let strict = KeyPolicy::default();
    let legacy = KeyPolicy { rsa_1024: true };
    assert_eq!(crate::mechanisms::key_permitted(&public, strict), Ok(()));
    let mut k1024 = Attributes::new();
    k1024.set_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    k1024.set_ulong(CKA_KEY_TYPE, CKK_RSA);
    k1024.set_bytes(CKA_MODULUS, &hex(v::N_1024));
    k1024.set_bytes(CKA_PUBLIC_EXPONENT, &keys::F4);
    assert_eq!(
        crate::mechanisms::key_permitted(&k1024, strict),
        Err(Rv::KEY_SIZE_RANGE)
    );
    assert_eq!(crate::mechanisms::key_permitted(&k1024, legacy), Ok(()));
    // Where allowed, a 1024-bit key does everything a larger one does.
    let none = MechParam::None;
    let sig = hex(v::SIG_1024_PKCS1_SHA256);
    assert_eq!(
        verify(&SHA256_RSA_PKCS, &none, &k1024, b"abc", &sig),
        Ok(())
    );
    let p = pss(CKM_SHA256, CKG_MGF1_SHA256, 32);
    assert!(Verify::start(&SHA256_RSA_PKCS_PSS, &p, &k1024).is_ok());
    assert!(Encrypt::start(&RSA_PKCS_CIPHER, &none, &k1024).is_ok());
    // Exponents: odd, 65537 <= e < 2^33.
    for (e, ok) in [
        (&[3u8][..], false),
        (&[0x01, 0x00, 0x00], false),
        (&[0x01, 0x00, 0x01], true),
        (&[0x00, 0x01, 0x00, 0x01], true),
        (&[0x01, 0x00, 0x00, 0x00, 0x01], true),
        (&[0x02, 0x00, 0x00, 0x00, 0x01], false),
        (&[0x01, 0x00, 0x00, 0x00, 0x00, 0x01], false),
    ] {
        let mut k = public.duplicate();
        k.set_bytes(CKA_PUBLIC_EXPONENT, e);
        let want = if ok {
            Ok(())
        } else {
            Err(Rv::PUBLIC_KEY_INVALID)
        };
        assert_eq!(
            crate::mechanisms::key_permitted(&k, strict),
            want,
            "e = {e:?}"
        );
    }
    let mut even = public.duplicate();
    let mut n = hex(v::N);
    let last = n.len() - 1;
    n[last] &= 0xfe;
    even.set_bytes(CKA_MODULUS, &n);
    assert_eq!(
        crate::mechanisms::key_permitted(&even, strict),
        Err(Rv::PUBLIC_KEY_INVALID)
    );
    let mut huge = public.duplicate();
    huge.set_bytes(CKA_MODULUS, &[0xff; 1025]);
    assert_eq!(
        crate::mechanisms::key_permitted(&huge, legacy),
        Err(Rv::KEY_SIZE_RANGE)
    );
}

#[test]
fn import_check() {
    use crate::mechanisms::check_key;
    let (public, private) = openssl_key();
    assert_eq!(check_key(&public), Ok(()));
    assert_eq!(check_key(&private), Ok(()));
    let mut bad = private.duplicate();
    bad.set_secret(CKA_EXPONENT_1, &hex(v::DQ));
    assert_eq!(check_key(&bad), Err(Rv::ATTRIBUTE_VALUE_INVALID));
    let mut bare = private.duplicate();
    bare.remove(CKA_PRIME_1);
    assert_eq!(check_key(&bare), Ok(()), "imports, refused at use");
    let mut tiny = public.duplicate();
    tiny.set_bytes(CKA_PUBLIC_EXPONENT, &[3]);
    assert_eq!(check_key(&tiny), Err(Rv::ATTRIBUTE_VALUE_INVALID));
    let mut small = public.duplicate();
    small.set_bytes(CKA_MODULUS, &hex(v::N_1024));
    assert_eq!(check_key(&small), Ok(()), "the policy decides at use");
    small.set_bytes(CKA_MODULUS, &[0xff; 64]);
    assert_eq!(check_key(&small), Err(Rv::ATTRIBUTE_VALUE_INVALID));
}

#[test]
fn salt_bounds() {
    assert_eq!(max_salt(2048, Hash::Sha256), Some(222));
    assert_eq!(max_salt(2049, Hash::Sha256), Some(222));
    assert_eq!(max_salt(2050, Hash::Sha256), Some(223));
    assert_eq!(max_salt(4096, Hash::Sha512), Some(446));
}

/// Where a C_SignInit + C_Sign's time goes: building the AWS-LC key from
/// its components, and the signature (with AWS-LC's first-use
/// precomputation). Run:
/// `cargo test --release --lib rsa::tests::sign_cost -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn sign_cost() {
    let (_, private) = openssl_key();
    let none = MechParam::None;
    let t = std::time::Instant::now();
    for _ in 0..200 {
        drop(keys::private_key(&private).expect("build"));
    }
    println!("build: {:?}/key", t.elapsed() / 200);
    let key = keys::private_key(&private).expect("build");
    let di = digest_info_sha256_abc();
    let mut sig = [0u8; 256];
    key.sign_pkcs1(&di, &mut sig).expect("first");
    let t = std::time::Instant::now();
    for _ in 0..200 {
        key.sign_pkcs1(&di, &mut sig).expect("sign");
    }
    println!("sign, key built once: {:?}/sig", t.elapsed() / 200);
    let t = std::time::Instant::now();
    for _ in 0..200 {
        sign(&SHA256_RSA_PKCS, &none, &private, &[b"x"]).expect("sign");
    }
    println!("start+sign: {:?}/sig", t.elapsed() / 200);
}
