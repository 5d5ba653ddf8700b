#!/usr/bin/env bash
# OpenSC's pkcs11-tool against a forwarded slot: SoftHSMv2 (with its own
# SOFTHSM2_CONF and token directory) stands in for the HSM behind a
# [[forward]] table of ProzHSM's config. The walk-through of
# conformance/pkcs11-tool.sh, plus keys, each step a new process; then
# SoftHSM is asked directly whether everything landed in its store, and
# ProzHSM's token directory must have no token at all.
#
# Usage: conformance/forward-pkcs11-tool.sh [path/to/libprozhsm.so]
here=$(cd "$(dirname "$0")" && pwd)
MODULE=${1:-$here/../target/release/libprozhsm.so}
SOFTHSM=${SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
. "$here/lib.sh"
new_token_dir

mkdir -p "$WORK/softhsm-tokens"
cat > "$WORK/softhsm2.conf" <<CONF
directories.tokendir = $WORK/softhsm-tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
cat >> "$PROZHSM_CONF" <<CONF

[[forward]]
module = "$SOFTHSM"
CONF

p11() { pkcs11-tool --module "$MODULE" "$@"; }
hsm() { pkcs11-tool --module "$SOFTHSM" "$@"; }
not() { ! "$@"; }
user() { p11 --token-label demo --login --pin "$PIN" "$@"; }

# ProzHSM's id of the forwarded SoftHSM slot whose token is uninitialized.
forwarded_free_slot() {
    p11 -L | awk '/^Slot [0-9]+ \(0x[0-9a-f]+\): SoftHSM slot/ { id = $3; gsub(/[()]/, "", id) }
                  /token state: *uninitialized/ && id != "" { print id; exit }'
}
SLOT=$(forwarded_free_slot)
forwarded_slot_listed() { [ -n "$SLOT" ]; }
slots_show_both_kinds() {
    local out
    out=$(p11 -L) && grep -q 'ProzHSM software slot' <<<"$out" && grep -q 'SoftHSM slot' <<<"$out" &&
        grep -q 'token label *: demo' <<<"$out"
}
lists_label() { p11 --token-label demo -O --login --pin "$1" | grep -q "label: *'$2'"; }
lists_public_label() { p11 --token-label demo -O | grep -q "label: *'$1'"; }
read_back_equal() {
    user --read-object --type data --label blob -o "$WORK/back.der" && cmp "$WORK/some.der" "$WORK/back.der"
}
aes_round_trip() {
    user --encrypt --mechanism AES-CBC-PAD --iv 000102030405060708090a0b0c0d0e0f --id 02 \
        -i "$WORK/msg" -o "$WORK/msg.enc" &&
        user --decrypt --mechanism AES-CBC-PAD --iv 000102030405060708090a0b0c0d0e0f --id 02 \
            -i "$WORK/msg.enc" -o "$WORK/msg.dec" &&
        cmp "$WORK/msg" "$WORK/msg.dec" && not cmp -s "$WORK/msg" "$WORK/msg.enc"
}
in_softhsm_store() {
    local out
    out=$(hsm --token-label demo -O --login --pin "$PIN") &&
        grep -q "label: *eck" <<<"$out" && grep -q "label: *aesk" <<<"$out" &&
        grep -q "label: *'open'" <<<"$out" && grep -q "label: *'hidden'" <<<"$out" &&
        not grep -q "label: *'blob'" <<<"$out"
}
no_prozhsm_token() { [ -z "$(find "$WORK/tokens" -name '*.token.sqlite' 2>/dev/null)" ]; }

check "SoftHSM's free slot is listed as a ProzHSM slot" forwarded_slot_listed
check "init token on the forwarded free slot" p11 --init-token --slot "$SLOT" --label demo --so-pin 12345678
check "SO sets the user PIN" p11 --token-label demo --login --login-type so --so-pin 12345678 --init-pin --pin 1234
PIN=1234
head -c 300 /dev/urandom > "$WORK/some.der"
check "write a data object" user --write-object "$WORK/some.der" --type data --label blob
check "list slots shows the software slot and the HSM's token" slots_show_both_kinds
check "list objects shows the object (new process)" lists_label 1234 blob
check "read the object back, byte for byte" read_back_equal
check "wrong PIN is refused (the HSM's answer)" not p11 --token-label demo --login --pin 9999 -O
check "change the user PIN" user --change-pin --new-pin 5678
check "old PIN no longer works" not p11 --token-label demo --login --pin 1234 -O
PIN=5678
check "new PIN works" user -O
check "write a public data object" user --write-object "$WORK/some.der" --type data --label open
check "write a private data object" user --write-object "$WORK/some.der" --type data --label hidden --private
check "a public object is listed without login" lists_public_label open
check "a private object is not listed without login" not lists_public_label hidden
check "delete the object" user --delete-object --type data --label blob
check "deleted object is gone" not lists_label 5678 blob
check "generate an EC P-256 key pair in the HSM" user --keypairgen --key-type EC:prime256v1 --label eck --id 01
# SoftHSMv2 2.6 offers raw ECDSA only: sign a SHA-256-sized message.
head -c 32 /dev/urandom > "$WORK/msg"
check "sign with it" user --sign --mechanism ECDSA --id 01 -i "$WORK/msg" -o "$WORK/msg.sig"
check "verify the signature" user --verify --mechanism ECDSA --id 01 -i "$WORK/msg" --signature-file "$WORK/msg.sig"
check "generate an AES key in the HSM" user --keygen --key-type AES:32 --label aesk --id 02
check "AES-CBC-PAD encrypt and decrypt (IV passed through)" aes_round_trip
check "module info names ProzHSM" bash -c "pkcs11-tool --module '$MODULE' -I | grep -q ProzHSM"
check "the objects are in SoftHSM's own store" in_softhsm_store
check "and ProzHSM's token directory has no token" no_prozhsm_token

rm -rf "$WORK"
finish
