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
lists_always_auth() { p11 --token-label demo --login --pin 5678 -O --type privkey --id a1 | grep -q 'Access: *always authenticate'; }
# pkcs11-tool sees CKA_ALWAYS_AUTHENTICATE and logs in with
# CKU_CONTEXT_SPECIFIC after C_SignInit (tests/always_authenticate.rs checks
# that the token refuses C_Sign without it).
check "generate a key that asks for the PIN on each use" p11 --token-label demo --login --pin 5678 --keypairgen --key-type EC:prime256v1 --id a1 --label each-use --always-auth
check "the key lists as always authenticate" lists_always_auth
echo "signed with a per-use PIN" > "$WORK/msg"
check "sign with it (context-specific login)" p11 --token-label demo --login --pin 5678 --sign -m ECDSA-SHA256 --id a1 -i "$WORK/msg" -o "$WORK/msg.sig"
check "the signature verifies" p11 --token-label demo --login --pin 5678 --verify -m ECDSA-SHA256 --id a1 -i "$WORK/msg" --signature-file "$WORK/msg.sig"
check "module info names ProzHSM" bash -c "pkcs11-tool --module '$MODULE' -I | grep -q ProzHSM"

rm -rf "$WORK"
finish
