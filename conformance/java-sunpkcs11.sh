#!/usr/bin/env bash
# Java's SunPKCS11 provider against the module (conformance/java/
# SunPkcs11Check.java, run by the JDK's single-file launcher): key pairs and
# AES keys generated in the token, RSA (PKCS#1 v1.5, PSS) and ECDSA
# signatures verified by the JDK's own providers, PKCS#1 v1.5 decryption of
# SunJCE's ciphertext, AES-GCM (a tampered tag must surface as
# AEADBadTagException), AES-CBC and HMAC equal to SunJCE, digests, random.
#
# Usage: conformance/java-sunpkcs11.sh [path/to/libprozhsm.so]
# (runs unchanged against libsofthsm2.so, which checks the checks.)
here=$(cd "$(dirname "$0")" && pwd)
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
trap 'rm -rf "$WORK"' EXIT

if ! command -v java >/dev/null; then
    skip "every SunPKCS11 check" "no java (openjdk-17-jdk-headless)"
    finish
    exit $?
fi

check "a token for Java" init_token java
# SunPKCS11 names the slot by its ID, which pkcs11-tool -L prints.
slot=$(pkcs11-tool --module "$MODULE" -L 2>/dev/null |
    awk '/^Slot [0-9]+ \(0x[0-9a-f]+\)/ { id = $3 } /token label *: *java *$/ { gsub(/[():]/, "", id); print id; exit }')
cat > "$WORK/sunpkcs11.cfg" <<CFG
name = ProzHSM
library = $MODULE
slot = $((slot))
CFG

check_program "the Java check program" java "$here/java/SunPkcs11Check.java" "$WORK/sunpkcs11.cfg" 1234
finish
