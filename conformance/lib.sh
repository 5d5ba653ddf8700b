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
