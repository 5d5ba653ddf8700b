#!/usr/bin/env bash
# Interoperability with OpenSSL (issue #3, "How it is checked"): keys made in
# ProzHSM sign through pkcs11-tool and the `openssl` command line verifies
# with the exported public key; OpenSSL signs and encrypts, the token
# verifies and decrypts; digests, HMACs, AES and AES key wrap give OpenSSL's
# bytes; OpenSSL's pkcs11 engine (libp11) signs with a token key.
#
# Checks whose mechanism the module does not list (pkcs11-tool -M) print
# "skip - ..." and are counted neither way, so RSA and key wrap turn on by
# themselves when they land. AES-GCM and AES-CTR cannot be driven from these
# command-line tools (OpenSC 0.23's pkcs11-tool passes no GCM or CTR
# parameters, `openssl enc` refuses AEAD ciphers): they are checked in
# tests/interop_gcm.rs and tests/differential.rs.
#
# Usage: conformance/openssl-interop.sh [path/to/libprozhsm.so]
# (runs unchanged against libsofthsm2.so, which checks the checks.)
here=$(cd "$(dirname "$0")" && pwd)
# An absolute path: p11-kit (GnuTLS) and the engine refuse relative ones.
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
trap 'rm -rf "$WORK"' EXIT

D=$WORK/data
mkdir -p "$D"
tok() { pkcs11-tool --module "$MODULE" --token-label interop --login --pin 1234 "$@"; }
# The public key object ID as a DER SubjectPublicKeyInfo, converted to PEM
# by openssl (which fails on anything it cannot parse). pkcs11-tool 0.23
# cannot export a P-384 key ("cannot create EVP_PKEY", with SoftHSMv2 too):
# then the SubjectPublicKeyInfo is built here from the object's
# CKA_EC_PARAMS and CKA_EC_POINT as pkcs11-tool lists them.
export_pub() {
    if ! tok --read-object --type pubkey --id "$1" -o "$D/$1.pub.raw" 2>"$D/$1.export.err"; then
        grep -q 'cannot create EVP_PKEY' "$D/$1.export.err" || { cat "$D/$1.export.err"; return 1; }
        ec_spki "$1" > "$D/$1.pub.raw" || return 1
    fi
    openssl pkey -pubin -in "$D/$1.pub.raw" -out "$D/$1.pub.pem"
}
der_len() { # N: a DER length
    if [ "$1" -lt 128 ]; then printf '%02x' "$1"
    elif [ "$1" -lt 256 ]; then printf '81%02x' "$1"
    else printf '82%04x' "$1"; fi
}
ec_spki() { # ID: SubjectPublicKeyInfo (binary) of an EC public key object
    local listing point params alg bits
    # (-O lists every object whatever --id says: find the one with ID.)
    listing=$(tok -O --type pubkey 2>/dev/null | awk -v id="$1" '
        /^[A-Z].* Object/ {point = ""; params = ""}
        $1 == "EC_POINT:" {point = $2}
        $1 == "EC_PARAMS:" {params = $2}
        $1 == "ID:" && $2 == id {print point, params; exit}')
    read -r point params <<<"$listing"
    [ -n "$point" ] && [ -n "$params" ] || return 1
    # Unwrap the DER OCTET STRING around the point.
    case ${point:2:2} in
    81) point=${point:6} ;;
    82) point=${point:8} ;;
    *) point=${point:4} ;;
    esac
    alg="06072a8648ce3d0201$params"
    alg="30$(der_len $((${#alg} / 2)))$alg"
    bits="00$point"
    bits="03$(der_len $((${#bits} / 2)))$bits"
    echo "30$(der_len $(((${#alg} + ${#bits}) / 2)))$alg$bits" | xxd -r -p
}
# pkcs11-tool --verify exits 0 on a bad signature too: read its verdict.
tok_verifies() { tok --verify "$@" 2>&1 | grep -q '^Signature is valid'; }
not() { ! "$@"; }
hex() { xxd -p "$1" | tr -d '\n'; }

check "init the token" init_token interop
load_mechanisms
head -c 4099 /dev/urandom > "$D/msg"
cp "$D/msg" "$D/msg.altered"
printf 'x' >> "$D/msg.altered"

# ---------------------------------------------------------------------------
# ECDSA on the NIST curves and secp256k1.

# Each curve signs with its CKM_ECDSA_SHA* when offered, else with CKM_ECDSA
# on openssl's digest (SoftHSMv2 has only CKM_ECDSA); openssl verifies the
# same way either way.
ec_input() { # HASH MECH: the file to sign for MECH
    if [ "$2" = ECDSA ]; then echo "$D/msg.$1"; else echo "$D/msg"; fi
}
ec_sign_verify() { # ID HASH MECH
    tok --sign --id "$1" -m "$3" --signature-format openssl -i "$(ec_input "$2" "$3")" -o "$D/$1.sig" &&
        openssl dgst "-$2" -verify "$D/$1.pub.pem" -signature "$D/$1.sig" "$D/msg"
}
ec_rejects_altered() { # ID HASH
    not openssl dgst "-$2" -verify "$D/$1.pub.pem" -signature "$D/$1.sig" "$D/msg.altered"
}
ec_raw_on_openssl_digest() { # ID HASH
    tok --sign --id "$1" -m ECDSA --signature-format openssl -i "$D/msg.$2" -o "$D/$1.rawsig" &&
        openssl pkeyutl -verify -pubin -inkey "$D/$1.pub.pem" -in "$D/msg.$2" -sigfile "$D/$1.rawsig"
}
ec_curve_is() { # ID OPENSSL-CURVE-NAME
    openssl pkey -pubin -in "$D/$1.pub.pem" -text -noout | grep -q "ASN1 OID: $2\$"
}
ec_token_verifies_openssl() { # ID CURVE HASH MECH
    local in
    in=$(ec_input "$3" "$4")
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$D/o$1.key" &&
        openssl pkey -in "$D/o$1.key" -pubout -outform DER -out "$D/o$1.pub.der" &&
        openssl dgst "-$3" -sign "$D/o$1.key" -out "$D/o$1.sig" "$D/msg" &&
        tok --write-object "$D/o$1.pub.der" --type pubkey --id "a0$1" --label "openssl-$2" &&
        tok_verifies --id "a0$1" -m "$4" --signature-format openssl -i "$in" --signature-file "$D/o$1.sig" &&
        not tok_verifies --id "a0$1" -m "$4" --signature-format openssl -i "$D/msg.altered.$3" \
            --signature-file "$D/o$1.sig"
}
ec_imported_private_key_signs() { # ID CURVE HASH MECH
    tok --write-object "$D/o$1.key" --type privkey --id "b0$1" --label "imported-$2" &&
        tok --sign --id "b0$1" -m "$4" --signature-format openssl -i "$(ec_input "$3" "$4")" \
            -o "$D/b0$1.sig" &&
        openssl pkey -in "$D/o$1.key" -pubout -out "$D/b0$1.pub.pem" &&
        openssl dgst "-$3" -verify "$D/b0$1.pub.pem" -signature "$D/b0$1.sig" "$D/msg"
}
# Sixteen signatures, each S at most n/2 (a signer that does not normalize
# passes by chance once in 65,536 runs).
SECP256K1_HALF_N=7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
k1_low_s() { # ID MECH
    local i s
    for i in $(seq 16); do
        printf '%s' "$i" >> "$D/k1msg"
        openssl dgst -sha256 -binary -out "$D/k1msg.sha256" "$D/k1msg"
        if [ "$2" = ECDSA ]; then
            tok --sign --id "$1" -m ECDSA --signature-format openssl -i "$D/k1msg.sha256" \
                -o "$D/k1.sig" 2>/dev/null || return 1
        else
            tok --sign --id "$1" -m "$2" --signature-format openssl -i "$D/k1msg" \
                -o "$D/k1.sig" 2>/dev/null || return 1
        fi
        openssl dgst -sha256 -verify "$D/$1.pub.pem" -signature "$D/k1.sig" "$D/k1msg" >/dev/null ||
            return 1
        s=$(openssl asn1parse -inform DER -in "$D/k1.sig" | awk -F: '/INTEGER/ {v=$NF} END {print v}')
        s=$(printf '%64s' "$s" | tr ' ' 0)
        if [[ "$s" > "$SECP256K1_HALF_N" ]]; then
            echo "high S: $s"
            return 1
        fi
    done
}

for h in sha256 sha384 sha512; do
    openssl dgst "-$h" -binary -out "$D/msg.$h" "$D/msg"
    openssl dgst "-$h" -binary -out "$D/msg.altered.$h" "$D/msg.altered"
done
id=10
for spec in prime256v1:P-256:sha256:ECDSA-SHA256 secp384r1:P-384:sha384:ECDSA-SHA384 \
    secp521r1:P-521:sha512:ECDSA-SHA512 secp256k1:secp256k1:sha256:ECDSA-SHA256; do
    IFS=: read -r curve ossl hash mech <<<"$spec"
    id=$((id + 1))
    if ! has_mechanism ECDSA-KEY-PAIR-GEN ECDSA; then
        skip "EC $curve" "CKM_EC_KEY_PAIR_GEN or CKM_ECDSA not offered"
        continue
    fi
    if ! has_mechanism "$mech"; then
        skip "EC $curve: sign and verify with $(ckm_name "$mech")" \
            "$(ckm_name "$mech") not offered; CKM_ECDSA on openssl's digest instead"
        mech=ECDSA
    fi
    check "EC $curve: generate a key pair in the token" \
        tok --keypairgen --key-type "EC:$curve" --id "$id" --label "ec-$curve"
    check "EC $curve: openssl reads the exported public key" export_pub "$id"
    check "EC $curve: the exported key is on $curve" ec_curve_is "$id" "$curve"
    check "EC $curve: token signs ($mech), openssl dgst -$hash verifies" \
        ec_sign_verify "$id" "$hash" "$mech"
    check "EC $curve: openssl rejects that signature over altered data" \
        ec_rejects_altered "$id" "$hash"
    check "EC $curve: CKM_ECDSA on openssl's $hash digest, openssl pkeyutl verifies" \
        ec_raw_on_openssl_digest "$id" "$hash"
    check "EC $curve: openssl signs, the token verifies ($mech) with the imported public key" \
        ec_token_verifies_openssl "$id" "$ossl" "$hash" "$mech"
    check "EC $curve: an imported openssl private key signs ($mech), openssl verifies" \
        ec_imported_private_key_signs "$id" "$ossl" "$hash" "$mech"
    if [ "$curve" = secp256k1 ]; then
        check "EC secp256k1: 16 signatures, every one low-S" k1_low_s "$id" "$mech"
    fi
done

# ---------------------------------------------------------------------------
# Ed25519. (pkcs11-tool 0.23 cannot import an Ed25519 public key, so the
# openssl-signs direction is in tests/differential.rs, SoftHSMv2 <-> ProzHSM.)

# pkcs11-tool signs up to 1024 bytes with C_Sign, longer input with
# C_SignUpdate (which SoftHSMv2 refuses for EdDSA; ProzHSM accepts it).
head -c 1000 /dev/urandom > "$D/short"
ed_sign_verify() { # FILE
    tok --sign --id 20 -m EDDSA -i "$1" -o "$D/20.sig" &&
        openssl pkeyutl -verify -pubin -inkey "$D/20.pub.pem" -rawin -in "$1" -sigfile "$D/20.sig"
}
ed_rejects_altered() {
    not openssl pkeyutl -verify -pubin -inkey "$D/20.pub.pem" -rawin -in "$D/msg.altered" \
        -sigfile "$D/20.sig"
}
ed_is_ed25519() { openssl pkey -pubin -in "$D/20.pub.pem" -text -noout | grep -q '^ED25519 Public-Key'; }
if has_mechanism EC-EDWARDS-KEY-PAIR-GEN EDDSA; then
    check "Ed25519: generate a key pair in the token" \
        tok --keypairgen --key-type EC:edwards25519 --id 20 --label ed25519
    check "Ed25519: openssl reads the exported public key" export_pub 20
    check "Ed25519: the exported key is an ED25519 key" ed_is_ed25519
    check "Ed25519: token signs 1000 B (C_Sign), openssl pkeyutl -rawin verifies" ed_sign_verify "$D/short"
    check "Ed25519: token signs 4 KiB (C_SignUpdate), openssl verifies" ed_sign_verify "$D/msg"
    check "Ed25519: openssl rejects that signature over altered data" ed_rejects_altered
else
    skip "Ed25519" "CKM_EC_EDWARDS_KEY_PAIR_GEN or CKM_EDDSA not offered"
fi

# ---------------------------------------------------------------------------
# RSA-2048: PKCS#1 v1.5 and PSS signatures, OAEP and v1.5 decryption of
# OpenSSL's ciphertexts.

rsa_bits_2048() { openssl pkey -pubin -in "$D/30.pub.pem" -text -noout | grep -q 'Public-Key: (2048 bit)'; }
rsa_pkcs1_sign() {
    tok --sign --id 30 -m SHA256-RSA-PKCS -i "$D/msg" -o "$D/30.pkcs1.sig" &&
        openssl dgst -sha256 -verify "$D/30.pub.pem" -signature "$D/30.pkcs1.sig" "$D/msg" &&
        not openssl dgst -sha256 -verify "$D/30.pub.pem" -signature "$D/30.pkcs1.sig" "$D/msg.altered"
}
rsa_raw_pkcs1_sign() {
    # CKM_RSA_PKCS over a DigestInfo made by openssl: the classic TLS path.
    openssl dgst -sha256 -binary -out "$D/30.dgst" "$D/msg" &&
        { printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' &&
            cat "$D/30.dgst"; } > "$D/30.di" &&
        tok --sign --id 30 -m RSA-PKCS -i "$D/30.di" -o "$D/30.raw.sig" &&
        openssl pkeyutl -verify -pubin -inkey "$D/30.pub.pem" -pkeyopt digest:sha256 \
            -in "$D/30.dgst" -sigfile "$D/30.raw.sig"
}
rsa_pss_sign() {
    tok --sign --id 30 -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 32 \
        -i "$D/msg" -o "$D/30.pss.sig" &&
        openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
            -sigopt rsa_mgf1_md:sha256 -verify "$D/30.pub.pem" -signature "$D/30.pss.sig" "$D/msg"
}
rsa_oaep_decrypt() { # HASH (sha1 | sha256) PKCS11-HASH MGF
    head -c 64 /dev/urandom > "$D/30.secret" &&
        openssl pkeyutl -encrypt -pubin -inkey "$D/30.pub.pem" -pkeyopt rsa_padding_mode:oaep \
            -pkeyopt "rsa_oaep_md:$1" -pkeyopt "rsa_mgf1_md:$1" \
            -in "$D/30.secret" -out "$D/30.oaep" &&
        tok --decrypt --id 30 -m RSA-PKCS-OAEP --hash-algorithm "$2" --mgf "$3" \
            -i "$D/30.oaep" -o "$D/30.oaep.out" &&
        cmp "$D/30.secret" "$D/30.oaep.out"
}
rsa_pkcs1_decrypt() {
    head -c 48 /dev/urandom > "$D/30.secret15" &&
        openssl pkeyutl -encrypt -pubin -inkey "$D/30.pub.pem" -pkeyopt rsa_padding_mode:pkcs1 \
            -in "$D/30.secret15" -out "$D/30.pkcs1.ct" &&
        tok --decrypt --id 30 -m RSA-PKCS -i "$D/30.pkcs1.ct" -o "$D/30.pkcs1.out" &&
        cmp "$D/30.secret15" "$D/30.pkcs1.out"
}
rsa_token_verifies_openssl() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/o30.key" 2>/dev/null &&
        openssl pkey -in "$D/o30.key" -pubout -outform DER -out "$D/o30.pub.der" &&
        openssl dgst -sha256 -sign "$D/o30.key" -out "$D/o30.sig" "$D/msg" &&
        tok --write-object "$D/o30.pub.der" --type pubkey --id a030 --label openssl-rsa &&
        tok_verifies --id a030 -m SHA256-RSA-PKCS -i "$D/msg" --signature-file "$D/o30.sig" &&
        not tok_verifies --id a030 -m SHA256-RSA-PKCS -i "$D/msg.altered" --signature-file "$D/o30.sig"
}
if has_mechanism RSA-PKCS-KEY-PAIR-GEN; then
    check "RSA-2048: generate a key pair in the token" \
        tok --keypairgen --key-type rsa:2048 --id 30 --label rsa2048 --usage-sign --usage-decrypt
    check "RSA-2048: openssl reads the exported public key" export_pub 30
    check "RSA-2048: the exported key has 2048 bits" rsa_bits_2048
    check_if SHA256-RSA-PKCS -- "RSA-2048: token signs (SHA256-RSA-PKCS), openssl verifies" rsa_pkcs1_sign
    check_if RSA-PKCS:sign -- "RSA-2048: token signs a DigestInfo (RSA-PKCS), openssl pkeyutl verifies" \
        rsa_raw_pkcs1_sign
    check_if SHA256-RSA-PKCS-PSS -- "RSA-2048: token signs (SHA256-RSA-PKCS-PSS), openssl verifies" \
        rsa_pss_sign
    check_if RSA-PKCS-OAEP:decrypt -- "RSA-2048: openssl encrypts (OAEP SHA-1), the token decrypts" \
        rsa_oaep_decrypt sha1 SHA-1 MGF1-SHA1
    check_if RSA-PKCS-OAEP:decrypt -- "RSA-2048: openssl encrypts (OAEP SHA-256), the token decrypts" \
        rsa_oaep_decrypt sha256 SHA256 MGF1-SHA256
    check_if RSA-PKCS:decrypt -- "RSA-2048: openssl encrypts (PKCS#1 v1.5), the token decrypts" \
        rsa_pkcs1_decrypt
    check_if SHA256-RSA-PKCS -- "RSA-2048: openssl signs, the token verifies with the imported public key" \
        rsa_token_verifies_openssl
else
    skip "RSA-2048 sign, verify, OAEP and PKCS#1 v1.5 decrypt" "CKM_RSA_PKCS_KEY_PAIR_GEN not offered"
fi

# ---------------------------------------------------------------------------
# Digests, against coreutils and openssl.

digest_equal() { # PKCS11-NAME COMMAND...
    local mech=$1
    shift
    tok --hash -m "$mech" -i "$D/big" -o "$D/hash.$mech" &&
        [ "$(hex "$D/hash.$mech")" = "$("$@" < "$D/big" | cut -d' ' -f1)" ]
}
ossl_dgst() { openssl dgst "-$1" -r | cut -d' ' -f1; }
head -c 1048579 /dev/urandom > "$D/big"
check_if SHA256 -- "SHA-256 of 1 MiB equals sha256sum" digest_equal SHA256 sha256sum
check_if SHA-1 -- "SHA-1 equals sha1sum" digest_equal SHA-1 sha1sum
check_if SHA384 -- "SHA-384 equals sha384sum" digest_equal SHA384 sha384sum
check_if SHA512 -- "SHA-512 equals sha512sum" digest_equal SHA512 sha512sum
check_if SHA224 -- "SHA-224 equals sha224sum" digest_equal SHA224 sha224sum
check_if MD5 -- "MD5 equals md5sum" digest_equal MD5 md5sum
check_if SHA3-256 -- "SHA3-256 equals openssl dgst -sha3-256" digest_equal SHA3-256 ossl_dgst sha3-256

# ---------------------------------------------------------------------------
# HMAC: a 64-byte generic secret made in the token (extractable, not
# sensitive, so its value can be read for openssl; 64 bytes because SoftHSMv2
# and ProzHSM refuse HMAC keys shorter than the hash), MACs compared both ways.

hmac_key() {
    tok --keygen --key-type GENERIC:64 --id 40 --label hmac --extractable &&
        tok --read-object --type secrkey --id 40 -o "$D/hmac.key" &&
        [ "$(stat -c %s "$D/hmac.key")" -eq 64 ]
}
hmac_equal() { # PKCS11-NAME OPENSSL-DIGEST
    tok --sign --id 40 -m "$1" -i "$D/msg" -o "$D/mac.$1" &&
        openssl dgst "-$2" -mac HMAC -macopt "hexkey:$(hex "$D/hmac.key")" -binary \
            -out "$D/omac.$1" "$D/msg" &&
        cmp "$D/mac.$1" "$D/omac.$1"
}
hmac_token_verifies() { # PKCS11-NAME
    tok_verifies --id 40 -m "$1" -i "$D/msg" --signature-file "$D/omac.$1" &&
        not tok_verifies --id 40 -m "$1" -i "$D/msg.altered" --signature-file "$D/omac.$1"
}
if has_mechanism GENERIC-SECRET-KEY-GEN; then
    check "HMAC: generate a generic secret, read its value" hmac_key
    check_if SHA256-HMAC -- "HMAC-SHA256 equals openssl dgst -mac HMAC" hmac_equal SHA256-HMAC sha256
    check_if SHA256-HMAC -- "HMAC-SHA256: the token verifies openssl's MAC" hmac_token_verifies SHA256-HMAC
    check_if SHA-1-HMAC -- "HMAC-SHA1 equals openssl" hmac_equal SHA-1-HMAC sha1
    check_if SHA384-HMAC -- "HMAC-SHA384 equals openssl" hmac_equal SHA384-HMAC sha384
    check_if SHA512-HMAC -- "HMAC-SHA512 equals openssl" hmac_equal SHA512-HMAC sha512
else
    skip "HMAC" "CKM_GENERIC_SECRET_KEY_GEN not offered"
fi

# ---------------------------------------------------------------------------
# AES with known keys: ECB, CBC, CBC_PAD against `openssl enc`.

K128=2b7e151628aed2a6abf7158809cf4f3c
K256=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
IV=000102030405060708090a0b0c0d0e0f
echo "$K128" | xxd -r -p > "$D/aes128.key"
echo "$K256" | xxd -r -p > "$D/aes256.key"
head -c 4096 /dev/urandom > "$D/blocks"
head -c 4099 /dev/urandom > "$D/odd"
aes_import() { # ID FILE BYTES
    tok --write-object "$2" --type secrkey --key-type "AES:$3" --id "$1" --label "aes$1" \
        --usage-decrypt
}
aes_import_both() { aes_import 50 "$D/aes128.key" 16 && aes_import 51 "$D/aes256.key" 32; }
aes_encrypt_equal() { # ID HEXKEY BITS PKCS11-MECH OPENSSL-MODE INPUT [openssl flags]
    local id=$1 key=$2 bits=$3 mech=$4 mode=$5 in=$6
    shift 6
    local ivs=() oivs=()
    [ "$mode" = ecb ] || { ivs=(--iv "$IV"); oivs=(-iv "$IV"); }
    tok --encrypt --id "$id" -m "$mech" "${ivs[@]}" -i "$in" -o "$D/ct.$id.$mech" &&
        openssl enc "-aes-$bits-$mode" -K "$key" "${oivs[@]}" "$@" -in "$in" -out "$D/oct.$id.$mech" &&
        cmp "$D/ct.$id.$mech" "$D/oct.$id.$mech"
}
aes_decrypt_openssl() { # ID HEXKEY BITS
    openssl enc "-aes-$3-cbc" -K "$2" -iv "$IV" -in "$D/odd" -out "$D/oct.pad.$1" &&
        tok --decrypt --id "$1" -m AES-CBC-PAD --iv "$IV" -i "$D/oct.pad.$1" -o "$D/back.$1" &&
        cmp "$D/odd" "$D/back.$1"
}
if has_mechanism AES-ECB || has_mechanism AES-CBC; then
    check "AES: import a 128-bit and a 256-bit key" aes_import_both
    for spec in 50:$K128:128 51:$K256:256; do
        IFS=: read -r id key bits <<<"$spec"
        check_if AES-ECB -- "AES-$bits-ECB of 4 KiB equals openssl" \
            aes_encrypt_equal "$id" "$key" "$bits" AES-ECB ecb "$D/blocks" -nopad
        check_if AES-CBC -- "AES-$bits-CBC of 4 KiB equals openssl" \
            aes_encrypt_equal "$id" "$key" "$bits" AES-CBC cbc "$D/blocks" -nopad
        check_if AES-CBC-PAD -- "AES-$bits-CBC-PAD of 4099 B equals openssl (PKCS#7 padding)" \
            aes_encrypt_equal "$id" "$key" "$bits" AES-CBC-PAD cbc "$D/odd"
        check_if AES-CBC-PAD -- "AES-$bits: openssl's CBC-PAD ciphertext decrypts in the token" \
            aes_decrypt_openssl "$id" "$key" "$bits"
    done
else
    skip "AES" "CKM_AES_ECB and CKM_AES_CBC not offered"
fi

# ---------------------------------------------------------------------------
# AES key wrap (RFC 3394) and with padding (RFC 5649) against openssl's
# id-aes256-wrap / id-aes256-wrap-pad, both directions.

KEK=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
echo "$KEK" | xxd -r -p > "$D/kek.key"
WRAPPED_VALUE=00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f
echo "$WRAPPED_VALUE" | xxd -r -p > "$D/wrapped.value"
# openssl enc wants the default IVs spelled out: RFC 3394's and RFC 5649's.
wrap_iv() { if [ "$1" = id-aes256-wrap ]; then echo A6A6A6A6A6A6A6A6; else echo A65959A6; fi; }
# The token unwraps OpenSSL's wrapping, then shows it holds the same key:
# 4 KiB of ECB under it equal openssl's. The unwrapped key is sensitive
# (--sensitive): ProzHSM's strict profile refuses to unwrap into a readable
# key, pkcs11-tool's default.
unwrap_openssl() { # PKCS11-MECH OPENSSL-CIPHER NEW-ID
    openssl enc "-$2" -K "$KEK" -iv "$(wrap_iv "$2")" -in "$D/wrapped.value" -out "$D/owrap.$3" &&
        tok --unwrap -m "$1" --id 60 -i "$D/owrap.$3" --key-type AES: --application-id "$3" \
            --application-label "unwrapped$3" --sensitive &&
        tok --encrypt --id "$3" -m AES-ECB -i "$D/blocks" -o "$D/uct.$3" &&
        openssl enc -aes-256-ecb -K "$WRAPPED_VALUE" -nopad -in "$D/blocks" -out "$D/ouct.$3" &&
        cmp "$D/uct.$3" "$D/ouct.$3"
}
wrap_equal_openssl() { # PKCS11-MECH OPENSSL-CIPHER
    tok --wrap -m "$1" --id 60 --application-id 61 -o "$D/twrap.$1" &&
        openssl enc "-$2" -K "$KEK" -iv "$(wrap_iv "$2")" -in "$D/wrapped.value" -out "$D/owrap2.$1" &&
        cmp "$D/twrap.$1" "$D/owrap2.$1"
}
wrap_setup() {
    tok --write-object "$D/kek.key" --type secrkey --key-type AES:32 --id 60 --label kek --usage-wrap &&
        tok --write-object "$D/wrapped.value" --type secrkey --key-type AES:32 --id 61 --label to-wrap \
            --extractable
}
if has_mechanism AES-KEY-WRAP || has_mechanism mechtype-0x210A || has_mechanism AES-KEY-WRAP-PAD; then
    check "AES key wrap: import a KEK and an extractable key" wrap_setup
    check_if AES-KEY-WRAP -- "AES-KEY-WRAP (RFC 3394): the token's wrapping equals openssl's" \
        wrap_equal_openssl AES-KEY-WRAP id-aes256-wrap
    check_if AES-KEY-WRAP AES-ECB -- "AES-KEY-WRAP: the token unwraps openssl's wrapping" \
        unwrap_openssl AES-KEY-WRAP id-aes256-wrap 62
    pad=mechtype-0x210A
    has_mechanism AES-KEY-WRAP-PAD && pad=AES-KEY-WRAP-PAD
    check_if "$pad" -- "AES-KEY-WRAP-PAD (RFC 5649): the token's wrapping equals openssl's" \
        wrap_equal_openssl "${pad/mechtype-/}" id-aes256-wrap-pad
    check_if "$pad" AES-ECB -- "AES-KEY-WRAP-PAD: the token unwraps openssl's wrapping" \
        unwrap_openssl "${pad/mechtype-/}" id-aes256-wrap-pad 63
else
    skip "AES key wrap, both directions" "CKM_AES_KEY_WRAP and CKM_AES_KEY_WRAP_PAD not offered"
fi

# ---------------------------------------------------------------------------
# OpenSSL's pkcs11 engine (libp11, Debian's libengine-pkcs11-openssl) signing
# with a token key. Its own token: libp11 0.4.12 cannot enumerate a token
# holding an Ed25519 key (with SoftHSMv2 too: "Unable to enumerate private
# keys", then a crash), so that token holds only the keys it understands.

etok() { pkcs11-tool --module "$MODULE" --token-label engine --login --pin 1234 "$@"; }
ENGINE_URI="pkcs11:token=engine;type=private;pin-value=1234"
engine_setup() {
    init_token engine && etok --keypairgen --key-type EC:prime256v1 --id 70 --label engine-p256
}
engine_ec_sign() {
    openssl dgst -sha256 -binary -out "$D/e.dgst" "$D/msg" &&
        PKCS11_MODULE_PATH=$MODULE openssl pkeyutl -engine pkcs11 -keyform engine \
            -inkey "$ENGINE_URI;object=engine-p256" -sign -in "$D/e.dgst" -out "$D/e.sig" &&
        etok --read-object --type pubkey --id 70 -o "$D/e.pub.raw" &&
        openssl pkeyutl -verify -pubin -inkey "$D/e.pub.raw" -in "$D/e.dgst" -sigfile "$D/e.sig"
}
engine_self_signed() { # OBJECT
    PKCS11_MODULE_PATH=$MODULE openssl req -new -x509 -engine pkcs11 -keyform engine \
        -key "$ENGINE_URI;object=$1" -subj "/CN=ProzHSM $1" -days 1 -sha256 -out "$D/$1.crt" &&
        openssl verify -CAfile "$D/$1.crt" "$D/$1.crt"
}
engine_rsa_decrypt() {
    etok --read-object --type pubkey --id 71 -o "$D/e71.raw" &&
        openssl pkey -pubin -in "$D/e71.raw" -out "$D/e71.pem" &&
        head -c 32 /dev/urandom > "$D/e71.secret" &&
        openssl pkeyutl -encrypt -pubin -inkey "$D/e71.pem" -pkeyopt rsa_padding_mode:oaep \
            -in "$D/e71.secret" -out "$D/e71.ct" &&
        PKCS11_MODULE_PATH=$MODULE openssl pkeyutl -engine pkcs11 -keyform engine \
            -inkey "$ENGINE_URI;object=engine-rsa" -decrypt -pkeyopt rsa_padding_mode:oaep \
            -in "$D/e71.ct" -out "$D/e71.out" &&
        cmp "$D/e71.secret" "$D/e71.out"
}
if ! openssl engine pkcs11 >/dev/null 2>&1; then
    skip "OpenSSL pkcs11 engine" "libengine-pkcs11-openssl not installed"
elif ! has_mechanism ECDSA-KEY-PAIR-GEN ECDSA; then
    skip "OpenSSL pkcs11 engine" "CKM_EC_KEY_PAIR_GEN or CKM_ECDSA not offered"
else
    check "engine: a second token with a P-256 key" engine_setup
    check "engine: openssl pkeyutl -engine pkcs11 signs (P-256), openssl verifies" engine_ec_sign
    check "engine: openssl req -x509 with the token's P-256 key, openssl verify accepts it" \
        engine_self_signed engine-p256
    if has_mechanism RSA-PKCS-KEY-PAIR-GEN; then
        check "engine: an RSA-2048 key in that token" \
            etok --keypairgen --key-type rsa:2048 --id 71 --label engine-rsa --usage-sign --usage-decrypt
        check_if SHA256-RSA-PKCS -- "engine: openssl req -x509 with the token's RSA key, openssl verify accepts it" \
            engine_self_signed engine-rsa
        check_if RSA-PKCS-OAEP:decrypt -- "engine: openssl pkeyutl -engine pkcs11 decrypts OAEP in the token" \
            engine_rsa_decrypt
    else
        skip "engine: RSA self-signed certificate and OAEP decryption" "CKM_RSA_PKCS_KEY_PAIR_GEN not offered"
    fi
fi

finish
