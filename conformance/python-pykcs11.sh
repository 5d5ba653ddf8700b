#!/usr/bin/env bash
# Python's PyKCS11 against the module (conformance/python/pykcs11_check.py):
# RSA and EC key pairs, signatures checked with plain integer arithmetic,
# OAEP and PKCS#1 v1.5, AES CBC_PAD and GCM, HMAC and digests equal to the
# standard library's, finds, random, and the sensitive-read refusal.
#
# Usage: conformance/python-pykcs11.sh [path/to/libprozhsm.so]
# (runs unchanged against libsofthsm2.so, which checks the checks.)
here=$(cd "$(dirname "$0")" && pwd)
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
trap 'rm -rf "$WORK"' EXIT

# Debian's python3-pykcs11 is for the system interpreter.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if ! "$PY" -c 'import PyKCS11' 2>/dev/null; then
    skip "every PyKCS11 check" "PyKCS11 not installed (python3-pykcs11)"
    finish
    exit $?
fi

check "a token for python" init_token python
check_program "the python check program" "$PY" "$here/python/pykcs11_check.py" "$MODULE" python 1234
finish
