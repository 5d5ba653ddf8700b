#!/usr/bin/env bash
# GnuTLS's PKCS#11 client against the module: p11tool lists tokens,
# mechanisms and objects, generates keys, imports keys and certificates,
# signs and verifies (--test-sign), resets the user PIN and deletes; certtool
# makes certificates with token keys that OpenSSL then verifies.
#
# What GnuTLS 3.7 cannot do with any module (SoftHSMv2 alike) is not
# checked: generate an Ed25519 key on a token ("unsupported feature"), use
# secp256k1 ("The curve is unsupported"), address an uninitialized token
# (p11tool lists only initialized ones, so the token is made by pkcs11-tool).
#
# Usage: conformance/p11tool.sh [path/to/libprozhsm.so]
here=$(cd "$(dirname "$0")" && pwd)
# An absolute path: p11-kit (GnuTLS) and the engine refuse relative ones.
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
trap 'rm -rf "$WORK"' EXIT

export GNUTLS_PIN=1234 GNUTLS_SO_PIN=12345678
TOKEN="pkcs11:token=gnutls"
D=$WORK/data
mkdir -p "$D"
p11t() { p11tool --provider "$MODULE" "$@" </dev/null; }
not() { ! "$@"; }
has() { grep -qE "$1"; }

lists_token() { p11t --list-tokens | has '^	Label: gnutls$'; }
lists_token_url() { p11t --list-token-urls | has '^pkcs11:.*token=gnutls'; }
lists_mechanisms() {
    local out
    out=$(p11t --list-mechanisms "$TOKEN")
    has 'CKM_SHA256 ' <<<"$out" && has 'CKM_ECDSA ' <<<"$out" && has 'CKM_ECDSA_KEY_PAIR_GEN ' <<<"$out"
}
generate_ec() { # CURVE LABEL OPENSSL-CURVE
    p11t --generate-privkey ECDSA --curve "$1" --label "$2" --login "$TOKEN" --outfile "$D/$2.pub" &&
        openssl pkey -pubin -in "$D/$2.pub" -text -noout | has "ASN1 OID: $3\$"
}
# --test-sign: signs with the private key, verifies with the private key's
# parameters and with the public key object in the token.
test_sign() { # LABEL [p11tool options]
    local label=$1 out
    shift
    out=$(p11t --test-sign "$@" --login "$TOKEN;object=$label" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    has 'Verifying against public key in the token... ok' <<<"$out"
}
privkey_listed() { # LABEL TYPE
    local out
    out=$(p11t --list-privkeys --login "$TOKEN;object=$1")
    has "^	Type: Private key \\(EC/$2\\)\$" <<<"$out" && has "^	Label: $1\$" <<<"$out"
}
private_hidden_without_login() { # LABEL
    local out
    out=$(p11t --list-all "$TOKEN;object=$1")
    has 'type=public' <<<"$out" && not has 'type=private' <<<"$out"
}
export_pubkey_equal() { # LABEL FILE
    p11t --export-pubkey --login "$TOKEN;object=$1;type=public" --outfile "$D/$1.exported" &&
        cmp <(openssl pkey -pubin -in "$D/$1.exported" -outform DER) \
            <(openssl pkey -pubin -in "$2" -outform DER)
}
printf 'cn = ProzHSM p11tool check\nexpiration_days = 1\nsigning_key\n' > "$D/template"
certtool_self_signed() { # LABEL [certtool options]
    local label=$1
    shift
    certtool --provider "$MODULE" --generate-self-signed "$@" \
        --load-privkey "$TOKEN;object=$label;type=private" --template "$D/template" \
        --outfile "$D/$label.crt" </dev/null &&
        openssl verify -CAfile "$D/$label.crt" "$D/$label.crt"
}
write_and_read_certificate() { # LABEL
    p11t --write --load-certificate "$D/$1.crt" --label "$1-cert" --login "$TOKEN" &&
        p11t --list-all-certs "$TOKEN" | has "^	Label: $1-cert\$" &&
        p11t --export "$TOKEN;object=$1-cert;type=cert" --outfile "$D/$1.back.crt" &&
        cmp <(openssl x509 -in "$D/$1.crt" -outform DER) <(openssl x509 -in "$D/$1.back.crt" -outform DER)
}
import_ec_pair() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/imp.key" &&
        openssl pkey -in "$D/imp.key" -pubout -out "$D/imp.pub" &&
        p11t --write --load-privkey "$D/imp.key" --label imported --id 77 --login "$TOKEN" &&
        p11t --write --load-pubkey "$D/imp.pub" --label imported --id 77 --login "$TOKEN"
}
import_secret_key() {
    p11t --write --secret-key 603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4 \
        --label secret --login "$TOKEN" &&
        p11t --list-all --login "$TOKEN;object=secret" | has '^	Type: Secret key$'
}
ed25519_key() {
    pkcs11-tool --module "$MODULE" --token-label gnutls --login --pin 1234 \
        --keypairgen --key-type EC:edwards25519 --id 20 --label ed25519
}
reset_user_pin() {
    p11t --initialize-pin --set-pin 4321 "$TOKEN" &&
        GNUTLS_PIN=4321 p11t --list-privkeys --login "$TOKEN" | has 'type=private' &&
        not bash -c "GNUTLS_PIN=1234 p11tool --provider '$MODULE' --list-privkeys --login '$TOKEN' </dev/null |
            grep -q type=private" &&
        p11t --initialize-pin --set-pin 1234 "$TOKEN"
}
delete_object() { # LABEL
    p11t --batch --delete --login "$TOKEN;object=$1" &&
        not bash -c "p11tool --provider '$MODULE' --list-all --login '$TOKEN;object=$1' </dev/null | grep -q URL"
}

check "init a token (pkcs11-tool)" init_token gnutls
load_mechanisms
check "p11tool --list-tokens shows it" lists_token
check "p11tool --list-token-urls shows its URL" lists_token_url
check "p11tool --list-mechanisms shows SHA256, ECDSA, EC key pair generation" lists_mechanisms

for spec in secp256r1:p256:prime256v1:ECDSA-SECP256R1 secp384r1:p384:secp384r1:ECDSA-SECP384R1 \
    secp521r1:p521:secp521r1:ECDSA-SECP521R1; do
    IFS=: read -r curve label ossl type <<<"$spec"
    if ! has_mechanism ECDSA-KEY-PAIR-GEN ECDSA; then
        skip "p11tool EC $curve" "CKM_EC_KEY_PAIR_GEN or CKM_ECDSA not offered"
        continue
    fi
    check "EC $curve: p11tool --generate-privkey, openssl reads the public key" \
        generate_ec "$curve" "$label" "$ossl"
    check "EC $curve: listed as a $type private key after login" privkey_listed "$label" "$type"
    check "EC $curve: p11tool --test-sign signs and verifies in the token" test_sign "$label"
done
if has_mechanism ECDSA-KEY-PAIR-GEN ECDSA; then
    check "without login only the public key is listed" private_hidden_without_login p256
    check "p11tool --export-pubkey equals the generated public key" export_pubkey_equal p256 "$D/p256.pub"
    check "certtool: self-signed certificate with the token's P-256 key, openssl verify accepts it" \
        certtool_self_signed p256
    check "p11tool --write the certificate, list it, export it back byte for byte" \
        write_and_read_certificate p256
    check "p11tool --write an openssl P-256 private and public key" import_ec_pair
    check "the imported key: p11tool --test-sign" test_sign imported
    check "the imported key: p11tool --export-pubkey equals openssl's" export_pubkey_equal imported "$D/imp.pub"
fi

if has_mechanism EC-EDWARDS-KEY-PAIR-GEN EDDSA; then
    check "Ed25519: a key pair (pkcs11-tool; GnuTLS cannot generate one)" ed25519_key
    check "Ed25519: p11tool --test-sign --hash SHA512" test_sign ed25519 --hash SHA512
    check "Ed25519: certtool self-signed certificate, openssl verify accepts it" certtool_self_signed ed25519
else
    skip "Ed25519 with GnuTLS" "CKM_EC_EDWARDS_KEY_PAIR_GEN or CKM_EDDSA not offered"
fi

if has_mechanism RSA-PKCS-KEY-PAIR-GEN; then
    check "RSA-2048: p11tool --generate-privkey RSA --bits 2048" \
        p11t --generate-privkey RSA --bits 2048 --label rsa --login "$TOKEN" --outfile "$D/rsa.pub"
    check_if SHA256-RSA-PKCS -- "RSA-2048: p11tool --test-sign (PKCS#1 v1.5)" test_sign rsa
    check_if RSA-PKCS-PSS -- "RSA-2048: p11tool --test-sign --sign-params RSA-PSS" \
        test_sign rsa --sign-params RSA-PSS
    check_if SHA256-RSA-PKCS -- "RSA-2048: certtool self-signed certificate, openssl verify accepts it" \
        certtool_self_signed rsa
else
    skip "RSA-2048 with GnuTLS" "CKM_RSA_PKCS_KEY_PAIR_GEN not offered"
fi

check "p11tool --write --secret-key imports an AES-256 key" import_secret_key
check "p11tool --initialize-pin: the SO resets the user PIN, the new one works, the old one not" \
    reset_user_pin
check "p11tool --delete removes an object" delete_object secret

finish
