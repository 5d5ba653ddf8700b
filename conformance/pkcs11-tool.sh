#!/usr/bin/env bash
# OpenSC's pkcs11-tool against the built module: the token life cycle and
# object management walk-through of the README, each step a new process.
#
# Usage: conformance/pkcs11-tool.sh [path/to/libprozhsm.so]
here=$(cd "$(dirname "$0")" && pwd)
MODULE=${1:-$here/../target/release/libprozhsm.so}
. "$here/lib.sh"
new_token_dir

p11() { pkcs11-tool --module "$MODULE" "$@"; }
not() { ! "$@"; }
lists_label() { p11 --token-label demo -O --login --pin "$1" | grep -q "label: *'$2'"; }
lists_public_label() { p11 --token-label demo -O | grep -q "label: *'$1'"; }
slots_show_token_and_free_slot() {
    local out
    out=$(p11 -L) && grep -q 'token label *: demo' <<<"$out" && grep -q 'token state: *uninitialized' <<<"$out"
}
read_back_equal() {
    p11 --token-label demo --login --pin 1234 --read-object --type data --label blob -o "$WORK/back.der" &&
        cmp "$WORK/some.der" "$WORK/back.der"
}

check "init token on the free slot" p11 --init-token --slot-index 0 --label demo --so-pin 12345678
check "SO sets the user PIN" p11 --token-label demo --login --login-type so --so-pin 12345678 --init-pin --pin 1234
head -c 300 /dev/urandom > "$WORK/some.der"
check "write a data object" p11 --token-label demo --login --pin 1234 --write-object "$WORK/some.der" --type data --label blob
check "list slots shows the token and a free slot" slots_show_token_and_free_slot
check "list objects shows the object (new process)" lists_label 1234 blob
check "read the object back, byte for byte" read_back_equal
check "wrong PIN is refused" not p11 --token-label demo --login --pin 9999 -O
check "change the user PIN" p11 --token-label demo --login --pin 1234 --change-pin --new-pin 5678
check "old PIN no longer works" not p11 --token-label demo --login --pin 1234 -O
check "new PIN works" p11 --token-label demo --login --pin 5678 -O
check "write a public data object" p11 --token-label demo --login --pin 5678 --write-object "$WORK/some.der" --type data --label open
check "write a private data object" p11 --token-label demo --login --pin 5678 --write-object "$WORK/some.der" --type data --label hidden --private
check "a public object is listed without login" lists_public_label open
check "a private object is not listed without login" not lists_public_label hidden
check "delete the object" p11 --token-label demo --login --pin 5678 --delete-object --type data --label blob
check "deleted object is gone" not lists_label 5678 blob
check "module info names ProzHSM" bash -c "pkcs11-tool --module '$MODULE' -I | grep -q ProzHSM"

rm -rf "$WORK"
finish
