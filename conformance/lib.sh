# Shared helpers for the conformance scripts: a throw-away ProzHSM config,
# a pass/fail counter, and the closing "N passed, N failed" line.
# Source it; set MODULE to the built libprozhsm.so first.

set -uo pipefail

PASSED=0
FAILED=0

# A fresh token directory and config in $WORK; exports PROZHSM_CONF.
new_token_dir() {
    WORK=$(mktemp -d)
    cat > "$WORK/prozhsm.conf" <<CONF
token_dir = "$WORK/tokens"
device_key = "$WORK/device.key"
log_level = "error"
[kdf]
profile = "fast"
CONF
    export PROZHSM_CONF="$WORK/prozhsm.conf"
    unset SOFTHSM2_CONF
}

# check NAME COMMAND...: run COMMAND, count it, show its output on failure.
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        PASSED=$((PASSED + 1))
        echo "ok   - $name"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL - $name"
        echo "$out" | sed 's/^/       /' | tail -n 25
    fi
}

# finish: print the closing line and exit non-zero on any failure.
finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# new_softhsm_conf: a SoftHSMv2 config and token folder in $WORK too
# (exports SOFTHSM2_CONF), so a script also runs unchanged against
# libsofthsm2.so as $1 — how a script's own checks are checked. ProzHSM
# reads PROZHSM_CONF first, so this changes nothing for it.
new_softhsm_conf() {
    mkdir -p "$WORK/softhsm/tokens"
    cat > "$WORK/softhsm/softhsm2.conf" <<CONF
directories.tokendir = $WORK/softhsm/tokens
objectstore.backend = file
log.level = ERROR
CONF
    export SOFTHSM2_CONF="$WORK/softhsm/softhsm2.conf"
}

# init_token LABEL: initialize a token on the module's free slot (the last
# slot, in ProzHSM as in SoftHSMv2) with SO PIN 12345678 and user PIN 1234.
init_token() {
    local last
    last=$(pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -c '^Slot ')
    pkcs11-tool --module "$MODULE" --init-token --slot-index $((last - 1)) \
        --label "$1" --so-pin 12345678 &&
        pkcs11-tool --module "$MODULE" --token-label "$1" --login --login-type so \
            --so-pin 12345678 --init-pin --pin 1234
}

# load_mechanisms: remember the module's mechanism list (pkcs11-tool -M).
load_mechanisms() {
    MECHANISMS=$(pkcs11-tool --module "$MODULE" -M 2>/dev/null)
}

# has_mechanism NAME...: every NAME (pkcs11-tool's spelling, e.g.
# RSA-PKCS-KEY-PAIR-GEN, or mechtype-0x210A) is in the loaded list;
# NAME:FLAG (e.g. RSA-PKCS:decrypt) also wants that flag in its info.
has_mechanism() {
    local name line
    for name in "$@"; do
        line=$(grep "^  ${name%%:*}," <<<"$MECHANISMS") || return 1
        case $name in
        *:*) grep -qE "[ ,]${name#*:}(,|\$)" <<<"$line" || return 1 ;;
        esac
    done
}

# known_gap NAME REASON COMMAND...: a check ProzHSM is known to fail, with
# the open work named in REASON. Printed as "gap", counted neither as passed
# nor as failed; if it ever passes it counts as a failure, so the script is
# updated and the gap cannot hide a regression of the fix.
known_gap() {
    local name=$1 reason=$2
    shift 2
    if "$@" >/dev/null 2>&1; then
        FAILED=$((FAILED + 1))
        echo "FAIL - $name: a known gap now passes; make it a check ($reason)"
    else
        echo "gap  - $name (known: $reason)"
    fi
}

# skip NAME REASON: a check that cannot run against this module or with
# these tools. Printed, and counted neither as passed nor as failed.
skip() {
    echo "skip - $1 ($2)"
}

# check_if MECHANISM... -- NAME COMMAND...: check NAME when the module
# offers every MECHANISM, else skip it naming the first one missing.
check_if() {
    local mechs=()
    while [ "$1" != "--" ]; do
        mechs+=("$1")
        shift
    done
    shift
    local m
    for m in "${mechs[@]}"; do
        if ! has_mechanism "$m"; then
            skip "$1" "$(ckm_name "$m") not offered"
            return 0
        fi
    done
    check "$@"
}

# ckm_name NAME: pkcs11-tool's mechanism name as the spec spells it.
ckm_name() {
    local name=${1%%:*} flag=
    case $1 in *:*) flag=" (${1#*:})" ;; esac
    case $name in
    mechtype-*) echo "mechanism ${name#mechtype-}$flag" ;;
    *) echo "CKM_${name//-/_}$flag" ;;
    esac
}

# check_program NAME COMMAND...: run a check program that prints lib.sh's
# "ok   - ..." / "FAIL - ..." lines itself (the Java and Python clients);
# count its lines, and one failure more if it died without reporting any.
check_program() {
    local name=$1 out status
    shift
    out=$("$@" 2>&1) && status=0 || status=$?
    grep -E '^(ok  |FAIL) - ' <<<"$out"
    PASSED=$((PASSED + $(grep -c '^ok   - ' <<<"$out")))
    FAILED=$((FAILED + $(grep -c '^FAIL - ' <<<"$out")))
    if [ "$status" -ne 0 ] && ! grep -q '^FAIL - ' <<<"$out"; then
        FAILED=$((FAILED + 1))
        echo "FAIL - $name ran: $(tail -n 5 <<<"$out")"
    fi
}
