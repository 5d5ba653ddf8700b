//! ProzHSM's main job, end to end, as a client does it: load the built
//! module, make a throw-away token, generate Ed25519, P-256 and secp256k1
//! keys, sign, and verify — all through the PKCS#11 C ABI.
//!
//! Run: `cargo run --release --example demo`

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

/// DER OIDs / names for CKA_EC_PARAMS.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let module = module_path();
    let dir = tempfile::tempdir()?;
    let conf = dir.path().join("prozhsm.conf");
    std::fs::write(
        &conf,
        format!(
            "token_dir = \"{0}/tokens\"\ndevice_key = \"{0}/device.key\"\n[kdf]\nprofile = \"fast\"\n",
            dir.path().display()
        ),
    )?;
    std::env::set_var("PROZHSM_CONF", &conf);
    println!("module:      {}", module.display());
    println!("token dir:   {}/tokens (throw-away)", dir.path().display());

    let p11 = Pkcs11::new(&module)?;
    p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    let info = p11.get_library_info()?;
    println!(
        "library:     {} {}",
        info.manufacturer_id(),
        info.library_description()
    );

    let slot = *p11.get_all_slots()?.last().ok_or("no free slot")?;
    let so_pin = AuthPin::new("12345678".into());
    let user_pin = AuthPin::new("1234".into());
    p11.init_token(slot, &so_pin, "demo")?;
    let session = p11.open_rw_session(slot)?;
    session.login(UserType::So, Some(&so_pin))?;
    session.init_pin(&user_pin)?;
    session.logout()?;
    session.login(UserType::User, Some(&user_pin))?;
    println!("token:       'demo' initialized, user logged in\n");

    let message = b"ProzHSM demo: sign me";
    let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    // (name, key pair generation, curve, signature mechanism)
    let cases = [
        ("Ed25519", Mechanism::EccEdwardsKeyPairGen, ED25519, eddsa),
        (
            "ECDSA P-256",
            Mechanism::EccKeyPairGen,
            P256,
            Mechanism::EcdsaSha256,
        ),
        (
            "ECDSA secp256k1",
            Mechanism::EccKeyPairGen,
            SECP256K1,
            Mechanism::EcdsaSha256,
        ),
    ];
    for (name, keygen, params, sign) in cases {
        let data = &message[..];
        let (public, private) = session.generate_key_pair(
            &keygen,
            &[
                Attribute::Token(true),
                Attribute::EcParams(params.to_vec()),
                Attribute::Verify(true),
                Attribute::Label(name.into()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Sign(true),
                Attribute::Sensitive(true),
                Attribute::Label(name.into()),
            ],
        )?;
        let signature = session.sign(&sign, private, data)?;
        session.verify(&sign, public, data, &signature)?;
        let mut tampered = signature.clone();
        tampered[0] ^= 1;
        let refused = session.verify(&sign, public, data, &tampered).is_err();
        let point = session.get_attributes(public, &[AttributeType::EcPoint])?;
        let point_len = match point.first() {
            Some(Attribute::EcPoint(p)) => p.len(),
            _ => 0,
        };
        println!(
            "{name:<16} key pair generated (EC point {point_len} bytes), signature {} bytes: verified; tampered signature refused: {refused}",
            signature.len()
        );
        if !refused {
            return Err("a tampered signature verified".into());
        }
    }

    // The private keys never leave the token.
    let private =
        session.find_objects(&[Attribute::Class(cryptoki::object::ObjectClass::PRIVATE_KEY)])?;
    let readable = session.get_attributes(private[0], &[AttributeType::Value])?;
    println!(
        "\nprivate keys on the token: {}; value readable: {}",
        private.len(),
        !readable.is_empty()
    );
    session.logout()?;
    drop(session);
    p11.finalize()?;
    println!("done.");
    Ok(())
}

/// The module built with this example: target/<profile>/deps/libprozhsm.so
/// (what cargo just built), else target/<profile>/libprozhsm.so.
fn module_path() -> PathBuf {
    let exe = std::env::current_exe().expect("example path");
    let profile = exe.parent().and_then(Path::parent).expect("target dir");
    let fresh = profile.join("deps").join("libprozhsm.so");
    if fresh.exists() {
        fresh
    } else {
        profile.join("libprozhsm.so")
    }
}
