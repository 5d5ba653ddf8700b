//! Key protection in memory, proven by looking (issue 4).
//!
//! A *holder* process (this test binary run again for the ignored
//! `holder_child_part`) gets key material with known random values over its
//! stdin, imports it through the raw C ABI from buffers it controls,
//! generates keys, reads what is not secret, signs, restarts the library
//! (C_Finalize, C_Initialize, login: keys reloaded from disk), wipes every
//! copy of the key bytes and the PIN it held, and says it is ready. The
//! parent then reads the holder's whole memory (/proc/PID/maps and
//! /proc/PID/mem) or makes it dump core, and searches for the key bytes,
//! the PIN, and ProzHSM's own secrets: the token key, the PIN-derived key,
//! the device key, and whatever its dump-excluded secret memory holds (the
//! per-process master key).
//!
//! The same holder run on SoftHSMv2 is reported for comparison, never
//! asserted.

mod common;
#[path = "holder/mod.rs"]
mod holder;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::inspect::{self, Hits, Needle, Searcher, Snapshot};
use common::{module_path, pin, Fixture, SoftHsm};
use cryptoki::session::UserType;
use holder::{Field, Holder, Material};

/// The holder process: see `holder/mod.rs`.
#[test]
#[ignore = "a key-holding process that the key protection tests start"]
fn holder_child_part() {
    holder::run();
}

/// A ProzHSM token with random PINs in a fresh fixture, the module in this
/// process finalized; returns the fixture, the material (with the user
/// PIN) and the SO PIN.
fn prozhsm_token(label: &str) -> (Fixture, Material, String) {
    let mut f = Fixture::new();
    let material = Material::random();
    let so = inspect::random_text(24);
    let slot = f.free_slot();
    f.p11()
        .init_token(slot, &pin(&so), label)
        .expect("C_InitToken");
    let s = f.p11().open_rw_session(slot).expect("open");
    s.login(UserType::So, Some(&pin(&so))).expect("SO login");
    s.init_pin(&pin(&material.pin())).expect("C_InitPIN");
    s.logout().expect("logout");
    drop(s);
    // The token file is read with this process's own SQLite later
    // (common::token_keys), which must not happen while the module here
    // has it open; the holder is another process.
    f.stop();
    (f, material, so)
}

/// Start a holder on a ProzHSM fixture.
fn prozhsm_holder(f: &Fixture, m: &Material, label: &str, cwd: Option<&Path>) -> Holder {
    let conf = f.dir.path().join("prozhsm.conf").into_os_string();
    Holder::start(
        &module_path(),
        label,
        &[("PROZHSM_CONF", conf)],
        cwd,
        cwd.is_some(),
        m,
    )
}

/// Everything to look for in a ProzHSM holder: the material, the SO PIN,
/// the generated keys, and the token's own secrets.
fn prozhsm_needles(f: &Fixture, m: &Material, so: &str, holder: &Holder) -> Vec<Needle> {
    let mut needles = m.secrets();
    needles.push(Needle::new("SO PIN", so.as_bytes()));
    needles.extend(holder.generated.iter().cloned());
    let file = common::token_file(f);
    let (pin_key, token_key) =
        common::token_keys(&file, "user", m.pin().as_bytes()).expect("the user PIN opens");
    needles.push(Needle::new("token key", &token_key));
    needles.push(Needle::new("user PIN-derived key", &pin_key));
    let device = std::fs::read(f.dir.path().join("device.key")).expect("device key made");
    needles.push(Needle::new("device key", &device));
    needles
}

/// A core of `pid` made by gdb's gcore, or None (with the reason) when gdb
/// is not installed or cannot attach.
fn gcore(pid: u32, dir: &Path) -> Result<Vec<u8>, String> {
    let prefix = dir.join("gcore");
    let out = Command::new("gcore")
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .output()
        .map_err(|e| format!("gcore not available ({e}); install gdb"))?;
    let file = PathBuf::from(format!("{}.{pid}", prefix.display()));
    let core = std::fs::read(&file).map_err(|e| {
        format!(
            "gcore made no core ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let _ = std::fs::remove_file(&file);
    Ok(core)
}

/// Whether the kernel writes core files into the dumping process's working
/// directory (core_pattern a plain name, not a pipe to a crash collector
/// nor an absolute path this test must not fill).
fn kernel_cores_land_in_cwd() -> Result<(), String> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern")
        .map_err(|e| format!("core_pattern unreadable: {e}"))?;
    let pattern = pattern.trim();
    if pattern.starts_with('|') || pattern.contains('/') {
        return Err(format!("core_pattern is {pattern:?}"));
    }
    Ok(())
}

/// Abort `holder` and read the kernel's core file from `dir`.
fn kernel_core(holder: Holder, dir: &Path) -> Result<Vec<u8>, String> {
    let status = holder.abort();
    use std::os::unix::process::ExitStatusExt;
    if !status.core_dumped() {
        return Err(format!(
            "no core dumped ({status}; RLIMIT_CORE hard limit 0?)"
        ));
    }
    let file = inspect::files_under(dir)
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("core"))
        })
        .ok_or("core dumped but no core file in the working directory")?;
    let core = std::fs::read(&file).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&file);
    Ok(core)
}

// ---------------------------------------------------------------------------
// The tests

/// Memory: after importing, generating, using, signing, restarting and
/// wiping its own copies, the holder's memory holds no byte string of any
/// key, no PIN, not the token key, the PIN-derived key or the device key;
/// and what its secret (dump-excluded) memory holds appears nowhere else.
#[test]
fn memory_of_a_process_holding_keys_shows_no_key_bytes() {
    let (f, m, so) = prozhsm_token("memory");
    let holder = prozhsm_holder(&f, &m, "memory", None);
    let needles = prozhsm_needles(&f, &m, &so, &holder);
    let snap = Snapshot::take(holder.pid());
    let searcher = Searcher::new(&needles);
    let hits = snap.search(&searcher, |_| true);
    let located = snap.locate(&searcher);

    let pieces = snap.secret_memory_pieces();
    let pieces_searcher = Searcher::new(&pieces);
    let outside = snap.search(&pieces_searcher, |m| !m.dont_dump());
    let canary = Searcher::new(&[Needle::new("canary", m.get(Field::Canary))]);
    let canary_hits = snap.search(&canary, |_| true)[0];
    let (dd, locked, wiped, dd_bytes) = snap.secret_mappings();
    let said = holder.said.clone();
    holder.finish();

    println!(
        "{}",
        searcher.table(
            &format!(
                "ProzHSM holder memory ({} MiB read; the holder said {said:?}):",
                snap.size() >> 20
            ),
            &hits
        )
    );
    println!(
        "    secret memory: {dd} dump-excluded mappings ({dd_bytes} bytes), {locked} locked, \
         {wiped} wiped on fork; {} random-looking 16-byte pieces in them",
        pieces.len()
    );
    assert!(
        said.iter().any(|s| s.starts_with("SIGNED held-p256")),
        "the holder signed: {said:?}"
    );
    assert!(
        canary_hits.whole >= 1,
        "the scan must see the holder's ordinary memory"
    );
    assert!(
        pieces.len() >= 2,
        "the master key lives in dump-excluded memory"
    );
    assert!(
        searcher.found(&hits).is_empty(),
        "key material in the holder's memory: {located:#?}"
    );
    let leaked = pieces_searcher.found(&outside);
    assert!(
        leaked.is_empty(),
        "secret memory copied to ordinary memory: {leaked:?}"
    );
}

/// Core dumps: a core of the holder made by gdb's gcore, and one the kernel
/// writes when the holder is aborted, hold no key, no PIN, none of
/// ProzHSM's own secrets, and nothing of its secret memory — while they do
/// hold the holder's ordinary memory (the canary).
///
/// gdb (13 here) honours MADV_DONTDUMP like the kernel: `gcore` skips
/// mappings whose smaps VmFlags show `dd` unless `set dump-excluded-mappings
/// on` is given. The kernel core checks the same thing without trusting gdb.
#[test]
fn core_dumps_of_a_process_holding_keys_show_no_key_bytes() {
    let (f, m, so) = prozhsm_token("core");
    let cwd = tempfile::tempdir().expect("core dir");
    let holder = prozhsm_holder(&f, &m, "core", Some(cwd.path()));
    let needles = prozhsm_needles(&f, &m, &so, &holder);
    let live = Snapshot::take(holder.pid());
    let pieces = live.secret_memory_pieces();
    assert!(
        pieces.len() >= 2,
        "the master key lives in dump-excluded memory"
    );
    let searcher = Searcher::new(&needles);
    let pieces_searcher = Searcher::new(&pieces);
    let canary = Searcher::new(&[Needle::new("canary", m.get(Field::Canary))]);
    let live_hits = live.locate(&searcher);

    let mut cores = Vec::new();
    match gcore(holder.pid(), cwd.path()) {
        Ok(core) => cores.push(("gcore", core)),
        Err(why) => println!("NOTE: no gcore core: {why}"),
    }
    match kernel_cores_land_in_cwd() {
        Ok(()) => match kernel_core(holder, cwd.path()) {
            Ok(core) => cores.push(("kernel", core)),
            Err(why) => println!("NOTE: no kernel core: {why}"),
        },
        Err(why) => {
            println!("NOTE: kernel core not tried: {why}");
            drop(holder);
        }
    }
    assert!(live_hits.is_empty(), "secrets in memory: {live_hits:#?}");
    assert!(
        !cores.is_empty(),
        "no core could be made: install gdb (scripts/test.sh does) or allow core files"
    );
    for (how, core) in &cores {
        let parts = inspect::core_parts(core);
        let hits = parts.search_memory(&searcher);
        let piece_hits = parts.search_memory(&pieces_searcher);
        let in_registers = [
            searcher.found(&parts.search_notes(&searcher)),
            pieces_searcher.found(&parts.search_notes(&pieces_searcher)),
        ]
        .concat();
        println!(
            "{}    {} pieces of secret memory: {} found",
            searcher.table(
                &format!(
                    "ProzHSM holder, {how} core ({} MiB of memory):",
                    parts.memory_size() >> 20
                ),
                &hits
            ),
            pieces.len(),
            piece_hits.iter().filter(|h| !h.none()).count()
        );
        // Every C_ call ends by clearing the vector registers
        // (secure::clear_registers in abi/guard.rs): otherwise a register
        // keeps the last key bytes an operation loaded into it (aws-lc's
        // SHA-512 over an Ed25519 seed, AES round keys ...) and a core saves
        // every thread's registers in its notes.
        println!("    in the saved registers (core notes): {in_registers:?}");
        assert!(
            in_registers.is_empty(),
            "key bytes in the {how} core's saved registers: {in_registers:?}"
        );
        assert!(
            parts.search_memory(&canary)[0].whole >= 1,
            "the {how} core must hold the holder's ordinary memory"
        );
        assert!(
            searcher.found(&hits).is_empty(),
            "secrets in the {how} core's memory: {:?}",
            searcher.found(&hits)
        );
        assert!(
            pieces_searcher.found(&piece_hits).is_empty(),
            "secret memory in the {how} core: {:?}",
            pieces_searcher.found(&piece_hits)
        );
    }
}

/// The same holder on SoftHSMv2 and on ProzHSM, side by side: copies of
/// each secret in process memory, in a gcore core, and in the token
/// directory. A report, not a verdict (issue 4): printed with --nocapture.
#[test]
fn softhsm_comparison_report() {
    if !common::softhsm_available() {
        println!(
            "NOTE: SoftHSMv2 is not installed ({}); no comparison",
            common::SOFTHSM_MODULE
        );
        return;
    }
    let softhsm = {
        let h = SoftHsm::new();
        let m = Material::random();
        let so = inspect::random_text(24);
        h.init_token("compare", &so, &m.pin());
        let cwd = tempfile::tempdir().expect("dir");
        let holder = Holder::start(
            Path::new(common::SOFTHSM_MODULE),
            "compare",
            &[("SOFTHSM2_CONF", h.conf().into_os_string())],
            None,
            false,
            &m,
        );
        let mut needles = m.secrets();
        needles.push(Needle::new("SO PIN", so.as_bytes()));
        needles.extend(holder.generated.iter().cloned());
        let counts = measure(&holder, &needles, cwd.path(), &h.tokens());
        let said = holder.said.clone();
        holder.finish();
        (needles, counts, said)
    };
    let ours = {
        let (f, m, so) = prozhsm_token("compare");
        let cwd = tempfile::tempdir().expect("dir");
        let holder = prozhsm_holder(&f, &m, "compare", None);
        let needles = prozhsm_needles(&f, &m, &so, &holder);
        let counts = measure(&holder, &needles, cwd.path(), &f.dir.path().join("tokens"));
        let said = holder.said.clone();
        holder.finish();
        (needles, counts, said)
    };
    println!(
        "\nCopies of each secret (whole copies/16-byte pieces) after import, generation, \
         use, signing, restart; core = a gcore core's memory, regs = its saved registers:"
    );
    println!(
        "    {:<36} | {:^31} | {:^31}",
        "", "SoftHSMv2 2.6", "ProzHSM"
    );
    println!(
        "    {:<36} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7}",
        "secret", "memory", "core", "regs", "disk", "memory", "core", "regs", "disk"
    );
    let cell = |h: Option<Hits>| match h {
        Some(h) => format!("{}/{}", h.whole, h.pieces),
        None => "-".into(),
    };
    for (i, n) in ours.0.iter().enumerate() {
        let theirs = softhsm.0.iter().position(|s| s.name == n.name);
        let t = |k: usize| theirs.and_then(|j| softhsm.1[k].as_ref().map(|v| v[j]));
        let o = |k: usize| ours.1[k].as_ref().map(|v| v[i]);
        println!(
            "    {:<36} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} {:>7}",
            n.name,
            cell(t(0)),
            cell(t(1)),
            cell(t(2)),
            cell(t(3)),
            cell(o(0)),
            cell(o(1)),
            cell(o(2)),
            cell(o(3)),
        );
    }
    println!("    SoftHSMv2 holder said: {:?}", softhsm.2);
    println!("    ProzHSM holder said:   {:?}", ours.2);
}

/// [memory, gcore core's memory, its saved registers, token directory]
/// counts for one holder.
fn measure(
    holder: &Holder,
    needles: &[Needle],
    dir: &Path,
    tokens: &Path,
) -> [Option<Vec<Hits>>; 4] {
    let searcher = Searcher::new(needles);
    let memory = Snapshot::take(holder.pid()).search(&searcher, |_| true);
    let (core, regs) = match gcore(holder.pid(), dir) {
        Ok(core) => {
            let parts = inspect::core_parts(&core);
            (
                Some(parts.search_memory(&searcher)),
                Some(parts.search_notes(&searcher)),
            )
        }
        Err(why) => {
            println!("NOTE: no gcore core: {why}");
            (None, None)
        }
    };
    let disk = inspect::search_files(&searcher, &inspect::files_under(tokens));
    [Some(memory), core, regs, Some(disk)]
}
