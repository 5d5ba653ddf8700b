//! prozhsm-util: the admin tool. Accepts softhsm2-util's flags for the token
//! life cycle (--show-slots, --init-token, --delete-token) and works through
//! the library's own Rust API, not a second implementation.

use std::process::ExitCode;

use cryptoki_sys::*;
use prozhsm::backend::soft;
use prozhsm::config::Config;
use prozhsm::core::{self, padded, InitArgs};
use prozhsm::Rv;

const USAGE: &str = "\
Usage: prozhsm-util COMMAND [OPTIONS]

Commands (softhsm2-util's flags):
  --show-slots                 List the slots and their tokens
  --init-token                 Initialize a token (with --slot N or --free,
                               --label L, --so-pin P, optional --pin P)
  --delete-token               Delete the token with --token LABEL
  --version                    Print the version
  --help                       This text

The configuration comes from PROZHSM_CONF, else SOFTHSM2_CONF, as for the
module itself.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("prozhsm-util: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The value following `flag`, if given.
fn option<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn has(args: &[String], flag: &str) -> bool {
    args.iter().any(|a| a == flag)
}

fn run(args: &[String]) -> Result<(), String> {
    if has(args, "--version") {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    if args.is_empty() || has(args, "--help") || has(args, "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    if has(args, "--delete-token") {
        let label = option(args, "--token").ok_or("--delete-token needs --token LABEL")?;
        let config = Config::load()?;
        let removed = soft::delete_token(&config, label).map_err(|rv| describe("delete", rv))?;
        for f in removed {
            println!("Deleted token {label} ({})", f.display());
        }
        return Ok(());
    }
    core::initialize(InitArgs::default()).map_err(|rv| describe("initialize", rv))?;
    let result = if has(args, "--show-slots") {
        show_slots()
    } else if has(args, "--init-token") {
        init_token(args)
    } else {
        Err(format!("unknown command\n\n{USAGE}"))
    };
    let _ = core::finalize();
    result
}

fn describe(what: &str, rv: Rv) -> String {
    format!("{what} failed: {rv}")
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).trim_end().to_string()
}

fn show_slots() -> Result<(), String> {
    use std::fmt::Write as _;
    let lib = core::library().map_err(|rv| describe("library", rv))?;
    let mut out = String::from("Available slots:\n");
    for id in lib
        .slot_list(false)
        .map_err(|rv| describe("C_GetSlotList", rv))?
    {
        let slot = lib.slot(id).map_err(|rv| describe("slot", rv))?;
        let info = slot
            .token_info()
            .map_err(|rv| describe("C_GetTokenInfo", rv))?;
        let initialized = info.flags & CKF_TOKEN_INITIALIZED != 0;
        let yes = |b: bool| if b { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "Slot {id}\n    Token present:    yes\n    Initialized:      {}",
            yes(initialized)
        );
        if initialized {
            let _ = writeln!(out, "    Label:            {}", text(&info.label));
            let _ = writeln!(out, "    Serial number:    {}", text(&info.serialNumber));
            let _ = writeln!(
                out,
                "    User PIN init.:   {}",
                yes(info.flags & CKF_USER_PIN_INITIALIZED != 0)
            );
        }
    }
    // A reader that stops early (`| head`, `| grep -q`) is not an error.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    Ok(())
}

fn init_token(args: &[String]) -> Result<(), String> {
    let lib = core::library().map_err(|rv| describe("library", rv))?;
    let label = option(args, "--label").ok_or("--init-token needs --label")?;
    let so_pin = option(args, "--so-pin").ok_or("--init-token needs --so-pin")?;
    let slots = lib
        .slot_list(false)
        .map_err(|rv| describe("C_GetSlotList", rv))?;
    let slot = if has(args, "--free") {
        *slots.last().ok_or("no free slot")?
    } else {
        let n = option(args, "--slot").ok_or("--init-token needs --slot N or --free")?;
        n.parse::<CK_SLOT_ID>()
            .map_err(|_| format!("bad slot number {n}"))?
    };
    if label.len() > 32 {
        return Err("the label is longer than 32 bytes".into());
    }
    lib.init_token(slot, so_pin.as_bytes(), &padded(label.as_bytes()))
        .map_err(|rv| describe("C_InitToken", rv))?;
    if let Some(pin) = option(args, "--pin") {
        let handle = lib
            .open_session(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)
            .map_err(|rv| describe("C_OpenSession", rv))?;
        let session = lib.session(handle).map_err(|rv| describe("session", rv))?;
        let result = session
            .login(CKU_SO, so_pin.as_bytes())
            .and_then(|()| session.init_pin(pin.as_bytes()));
        let _ = lib.close_session(handle);
        result.map_err(|rv| describe("C_InitPIN", rv))?;
    }
    println!("The token has been initialized on slot {slot}");
    Ok(())
}
