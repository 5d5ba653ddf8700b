#!/usr/bin/env bash
# OpenSSH as a PKCS#11 client: `ssh-keygen -D` lists the token's keys in
# OpenSSH's format, ssh-agent loads them with `ssh-add -s` (the PIN through
# SSH_ASKPASS), and `ssh-keygen -Y sign` signs with them through the agent,
# which drives the module: RSA keys sign rsa-sha2-512 (CKM_RSA_PKCS over a
# SHA-512 DigestInfo) and EC keys CKM_ECDSA. `ssh-keygen -Y verify` checks
# each signature against the listed public key, without the token.
#
# Usage: conformance/ssh.sh [path/to/libprozhsm.so]
# (runs unchanged against libsofthsm2.so, which checks the checks.)
here=$(cd "$(dirname "$0")" && pwd)
MODULE=$(realpath "${1:-$here/../target/release/libprozhsm.so}")
. "$here/lib.sh"
new_token_dir
new_softhsm_conf
agent_pid=
trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; rm -rf "$WORK"' EXIT

if ! command -v ssh-keygen >/dev/null || ! command -v ssh-agent >/dev/null; then
    skip "every OpenSSH check" "ssh-keygen / ssh-agent not installed (openssh-client)"
    finish
    exit $?
fi

D=$WORK/ssh
mkdir -p "$D"
tok() { pkcs11-tool --module "$MODULE" --token-label ssh --login --pin 1234 "$@"; }

check "a token for ssh" init_token ssh
load_mechanisms
check_if RSA-PKCS-KEY-PAIR-GEN -- "an RSA-3072 key pair in the token" \
    tok --keypairgen --key-type rsa:3072 --id 01 --label ssh-rsa
check_if ECDSA-KEY-PAIR-GEN -- "a P-256 key pair in the token" \
    tok --keypairgen --key-type EC:prime256v1 --id 02 --label ssh-ecdsa
check_if ECDSA-KEY-PAIR-GEN -- "a P-384 key pair in the token" \
    tok --keypairgen --key-type EC:secp384r1 --id 03 --label ssh-ecdsa384

# ssh-keygen -D: the public keys, one per line ("ssh-rsa AAAA... label").
list_keys() {
    ssh-keygen -D "$MODULE" > "$D/keys.pub" 2>"$D/keys.err" || { cat "$D/keys.err"; return 1; }
    cat "$D/keys.pub"
    [ "$(grep -c '^ssh-rsa \|^ecdsa-sha2-nistp256 \|^ecdsa-sha2-nistp384 ' "$D/keys.pub")" -eq 3 ]
}
check "ssh-keygen -D lists the three public keys" list_keys

# The PIN for ssh-add comes from SSH_ASKPASS.
printf '#!/bin/sh\necho 1234\n' > "$D/askpass"
chmod +x "$D/askpass"
# The agent runs in this shell (check runs its command in a subshell, and
# the signing checks need SSH_AUTH_SOCK).
eval "$(ssh-agent -s -P "$MODULE")" >/dev/null
agent_pid=${SSH_AGENT_PID:-}
load_agent() {
    [ -n "$agent_pid" ] || return 1
    SSH_ASKPASS="$D/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none \
        ssh-add -s "$MODULE" </dev/null
    ssh-add -L
    [ "$(ssh-add -L | wc -l)" -eq 3 ]
}
check "ssh-agent loads the token's keys (ssh-add -s, PIN by askpass)" load_agent

echo "signed through the agent by the token" > "$D/message"
# sign_verify KIND: sign the message with the agent's key of that kind and
# verify the signature with the public key alone.
sign_verify() {
    local kind=$1
    grep "^$kind " "$D/keys.pub" | head -n 1 > "$D/$kind.pub" || return 1
    [ -s "$D/$kind.pub" ] || return 1
    rm -f "$D/message.sig"
    ssh-keygen -Y sign -f "$D/$kind.pub" -n file "$D/message" </dev/null || return 1
    printf 'tester %s\n' "$(cut -d' ' -f1,2 "$D/$kind.pub")" > "$D/allowed"
    ssh-keygen -Y verify -f "$D/allowed" -I tester -n file -s "$D/message.sig" < "$D/message"
}
check "an RSA signature (rsa-sha2-512) made through the agent verifies" sign_verify ssh-rsa
check "a P-256 signature made through the agent verifies" sign_verify ecdsa-sha2-nistp256
check "a P-384 signature made through the agent verifies" sign_verify ecdsa-sha2-nistp384

# A tampered message is refused (the verification is real).
tampered() {
    grep "^ssh-rsa " "$D/keys.pub" | head -n 1 > "$D/rsa.pub"
    rm -f "$D/message.sig"
    ssh-keygen -Y sign -f "$D/rsa.pub" -n file "$D/message" </dev/null || return 1
    printf 'tester %s\n' "$(cut -d' ' -f1,2 "$D/rsa.pub")" > "$D/allowed"
    echo "another message" > "$D/other"
    cp "$D/message.sig" "$D/other.sig"
    ! ssh-keygen -Y verify -f "$D/allowed" -I tester -n file -s "$D/other.sig" < "$D/other"
}
check "a signature does not verify for another message" tampered

finish
