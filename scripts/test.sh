#!/usr/bin/env bash
# Run every test of ProzHSM on a fresh Debian machine with Rust:
#   1. install the real PKCS#11 clients the conformance tests drive
#      (OpenSC's pkcs11-tool, GnuTLS's p11tool and certtool, OpenSSL and its
#      pkcs11 engine, SoftHSMv2 for comparisons) and gdb (its gcore dumps a
#      key-holding process in the key protection tests);
#   2. cargo fmt --check and cargo clippy (no warnings);
#   3. cargo test: unit tests and the C-ABI integration tests in tests/;
#   4. every conformance/*.sh against the built module.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v pkcs11-tool >/dev/null || packages+=(opensc)
command -v p11tool >/dev/null || packages+=(gnutls-bin)
[ -e /usr/lib/softhsm/libsofthsm2.so ] || packages+=(softhsm2)
command -v openssl >/dev/null || packages+=(openssl)
command -v gcore >/dev/null || packages+=(gdb)
# OpenSSL's pkcs11 engine (libp11) and xxd, for conformance/openssl-interop.sh.
openssl engine pkcs11 >/dev/null 2>&1 || packages+=(libengine-pkcs11-openssl)
command -v xxd >/dev/null || packages+=(xxd)
# OpenSSH (conformance/ssh.sh), a JDK for SunPKCS11 (conformance/
# java-sunpkcs11.sh), PyKCS11 (conformance/python-pykcs11.sh).
command -v ssh-agent >/dev/null || packages+=(openssh-client)
command -v javac >/dev/null || packages+=(default-jdk-headless)
# (Debian's PyKCS11 is for the system interpreter, as the script uses.)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" -c 'import PyKCS11' >/dev/null 2>&1 || packages+=(python3-pykcs11)
if [ ${#packages[@]} -gt 0 ]; then
    echo "== installing ${packages[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --release --all-targets --quiet -- -D warnings

echo "== cargo build --release (the module and tools the conformance scripts drive)"
cargo build --release --quiet
echo "== cargo test"
cargo test --release --quiet 2>&1 | tee /tmp/prozhsm-cargo-test.log
grep -q "test result: ok" /tmp/prozhsm-cargo-test.log

module=$PWD/target/release/libprozhsm.so
passed=0
failed=0
for script in conformance/*.sh; do
    [ "$(basename "$script")" = lib.sh ] && continue
    echo "== $script"
    out=$(bash "$script" "$module" 2>&1) && status=0 || status=$?
    echo "$out"
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    script_passed=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f1)
    script_failed=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f3)
    # A script that died without a failure of its own counts as one.
    if [ "$status" -ne 0 ] && [ "$script_failed" -eq 0 ]; then
        script_failed=1
    fi
    passed=$((passed + script_passed))
    failed=$((failed + script_failed))
done
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
