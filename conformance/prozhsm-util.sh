#!/usr/bin/env bash
# prozhsm-util (softhsm2-util's flags) against the same token directory the
# module uses: a token it makes is usable through pkcs11-tool, and deleted.
#
# Usage: conformance/prozhsm-util.sh [path/to/libprozhsm.so]
here=$(cd "$(dirname "$0")" && pwd)
MODULE=${1:-$here/../target/release/libprozhsm.so}
UTIL=$(dirname "$MODULE")/prozhsm-util
. "$here/lib.sh"
new_token_dir

not() { ! "$@"; }
shows_label() { "$UTIL" --show-slots | grep -q "Label: *$1"; }

check "init a token with --free" "$UTIL" --init-token --free --label util --so-pin 12345678 --pin 1234
check "show-slots lists it" shows_label util
check "pkcs11-tool logs in with its user PIN" pkcs11-tool --module "$MODULE" --token-label util --login --pin 1234 -O
check "delete it" "$UTIL" --delete-token --token util
check "it is gone" not shows_label util
check "deleting a missing token fails" not "$UTIL" --delete-token --token util
check "a missing flag is an error, not a crash" not "$UTIL" --init-token --free --label x

rm -rf "$WORK"
finish
