#!/usr/bin/env bash
# OpenSC's own self-tests against the module on a fresh token (issue #3,
# "How it is checked"): `pkcs11-tool --test` (random, digests, and with keys
# in the token its RSA verify and decrypt parts), `--test-ec` on every curve,
# `--test-fork` and `--test-threads`.
#
# "Pass" is what the tool reports for a module that works: --test ends with
# "No errors" and exits 0; --test-ec prints "==> OK" and exits 0; --test-fork
# exits 0 (the child's C_Initialize succeeds); --test-threads has no call
# fail in any thread. For comparison, SoftHSMv2 2.6.1 fails --test once it
# holds an RSA key (OAEP with SHA-256 and a label: CKR_ARGUMENTS_BAD),
# --test-ec (it has no CKM_ECDSA_SHA1) and --test-fork
# (CKR_CRYPTOKI_ALREADY_INITIALIZED in the child).
#
# Usage: conformance/pkcs11-tool-test.sh [path/to/libprozhsm.so]
here=$(cd "$(dirname "$0")" && pwd)
# An absolute path: p11-kit (GnuTLS) and the engine refuse relative ones.
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
trap 'rm -rf "$WORK"' EXIT

p11() { pkcs11-tool --module "$MODULE" "$@"; }
tok() { p11 --token-label selftest --login --pin 1234 "$@"; }

# --test passes: exit 0, "No errors", and no line reporting a failure.
self_test() { # extra pkcs11-tool arguments...
    local out status
    out=$(p11 --token-label selftest --test "$@" 2>&1) && status=0 || status=$?
    echo "$out"
    [ "$status" -eq 0 ] &&
        grep -q '^No errors' <<<"$out" &&
        ! grep -qiE 'ERR[: ]|failed|error:' <<<"$out"
}
# --test did exercise MECH on a key and it passed (its "MECH:" line, or the
# line after it, says OK).
self_test_covers() { # MECH-NAME
    local out
    out=$(p11 --token-label selftest --test --login --pin 1234 2>&1)
    echo "$out"
    grep -A1 -E "^ +$1: " <<<"$out" | grep -qE "(: |^)OK$"
}
test_ec() { # CURVE
    local out status
    out=$(tok --test-ec --session-rw --id ec01 --key-type "EC:$1" 2>&1) && status=0 || status=$?
    echo "$out"
    [ "$status" -eq 0 ] && grep -q '==> OK' <<<"$out"
}
# Two threads race through C_Initialize, C_GetInfo, C_GetSlotList and
# C_GetTokenInfo while the main thread initializes too: exactly one
# C_Initialize wins, the others see CKR_CRYPTOKI_ALREADY_INITIALIZED, both
# threads finish, and every other call returns CKR_OK. (pkcs11-tool sleeps
# 30 s when its main thread is done before the others, which happens on a
# busy machine; hence the generous timeout. SoftHSMv2 2.6.1 often crashes
# in this race.)
test_threads() {
    local out
    out=$(timeout 90 pkcs11-tool --module "$MODULE" --test-threads ILGISLT0 \
        --test-threads ILGISLT0 -L 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    # The threads write to stdout unsynchronized, so lines can run into each
    # other: count tokens, not lines.
    [ "$(grep -oE 'C_Initialize[^C]*CKR_OK' <<<"$out" | wc -l)" -eq 1 ] &&
        [ "$(grep -oE 'C_GetInfo returned CKR_OK' <<<"$out" | wc -l)" -eq 2 ] &&
        [ "$(grep -oE 'Test thread [01] returning rv = 0' <<<"$out" | wc -l)" -eq 2 ] &&
        ! grep -oE 'CKR_[A-Z_]+' <<<"$out" | grep -vxqE 'CKR_OK|CKR_CRYPTOKI_ALREADY_INITIALIZED'
}

check "init a fresh token" init_token selftest
load_mechanisms
check "--test without login on the fresh token" self_test
check "--test with login on the fresh token" self_test --login --pin 1234

# With keys in the token, --test runs its per-key parts (RSA only, in OpenSC
# 0.23: EC keys are listed and skipped).
ec_and_aes_keys() {
    tok --keypairgen --key-type EC:prime256v1 --id 01 --label p256 &&
        tok --keygen --key-type AES:32 --id 02 --label aes
}
check "an EC P-256 key pair and an AES-256 key in the token" ec_and_aes_keys
check "--test with login, EC and AES keys present" self_test --login --pin 1234
if has_mechanism RSA-PKCS-KEY-PAIR-GEN; then
    check "an RSA-2048 key pair in the token" \
        tok --keypairgen --key-type rsa:2048 --id 03 --label rsa --usage-sign --usage-decrypt
    # Signs with every RSA mechanism the token lists (CKM_RSA_PKCS over a
    # SHA-1 DigestInfo, CKM_RSA_X_509, the SHA*_RSA_PKCS and PSS ones),
    # verifies, and decrypts what OpenSSL encrypted.
    check "--test with login, RSA key present" self_test --login --pin 1234
    check_if RSA-PKCS:decrypt -- "--test decrypted with RSA-PKCS" self_test_covers RSA-PKCS
    check_if RSA-PKCS-OAEP:decrypt -- "--test decrypted with RSA-PKCS-OAEP" self_test_covers RSA-PKCS-OAEP
else
    skip "--test's RSA sign, verify and decrypt parts" "CKM_RSA_PKCS_KEY_PAIR_GEN not offered"
fi

for curve in prime256v1 secp384r1 secp521r1 secp256k1; do
    check_if ECDSA-KEY-PAIR-GEN ECDSA-SHA1 -- "--test-ec on $curve (generate, sign, change ID, delete)" \
        test_ec "$curve"
done
check "--test-fork: C_Initialize in a forked child succeeds" p11 --test-fork
check "--test-threads: two threads and main race C_Initialize, every call succeeds" test_threads

finish
