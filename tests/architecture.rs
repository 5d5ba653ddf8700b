//! The architecture rules of DESIGN.md and STYLE.md that a grep can keep:
//! `#[no_mangle]` only in the ABI's one export macro, and `unsafe` only in
//! the modules allowed to have it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            (rel, std::fs::read_to_string(&p).expect("read"))
        })
        .collect()
}

#[test]
fn no_mangle_only_in_the_export_macro() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, text)| {
            text.lines()
                .any(|l| l.trim_start().starts_with("#[no_mangle]"))
                && path != "src/abi/guard.rs"
        })
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "#[no_mangle] outside the export macro: {offenders:?}"
    );
}

#[test]
fn unsafe_only_where_allowed() {
    // The C boundary, secret memory, the forwarding loader, the AWS-LC calls
    // aws-lc-rs does not expose, and the one syslog call.
    let allowed = [
        "src/abi/",
        "src/awslc/",
        "src/secure/",
        "src/backend/forward/",
        "src/logging.rs",
        "src/lib.rs",
    ];
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, text)| {
            !allowed.iter().any(|a| path.starts_with(a))
                && text.lines().any(|l| {
                    let code = l.split("//").next().unwrap_or("");
                    code.contains("unsafe ") || code.contains("unsafe{")
                })
        })
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "unsafe outside its modules: {offenders:?}"
    );
}
