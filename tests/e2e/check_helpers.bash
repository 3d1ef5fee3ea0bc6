# The checks every end-to-end script shares (sourced, not a test itself):
# a private $WORK and $HOME, "ok - name" / "not ok - name" lines with the
# evidence, run/expect_* helpers, skips for missing test data or stubs, and
# finish, which prints "N passed, N failed" (after "$FINISH_LABEL: " when
# that is set) and sets the exit status.
set -u
: "${ESPFLASH_BIN:?set ESPFLASH_BIN to the built espflash (ctest does)}"

PASSED=0
FAILED=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# a private home so no user script or history of the machine leaks in
export HOME="$WORK/home" XDG_CONFIG_HOME="" XDG_STATE_HOME=""
mkdir -p "$HOME"
unset ESPFLASH_SCRIPTS ESPFLASH_DEBUG ESPFLASH_PORT ESPFLASH_BAUD

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $1"; shift; printf '    %s\n' "$@"; }

# run CMD...: runs with stdout in $OUT, stderr in $ERR, status in $RC
run() {
  RC=0
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

# expect_rc NAME CODE
expect_rc() {
  if [ "$RC" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit $RC, wanted $2" "stdout: $OUT" "stderr: $ERR"; fi
}

# expect_has NAME TEXT HAYSTACK
expect_has() {
  case "$3" in
    *"$2"*) ok "$1" ;;
    *) not_ok "$1" "missing: $2" "in: $3" ;;
  esac
}

# expect_lacks NAME TEXT HAYSTACK
expect_lacks() {
  case "$3" in
    *"$2"*) not_ok "$1" "unexpected: $2" "in: $3" ;;
    *) ok "$1" ;;
  esac
}

# expect_eq NAME WANTED GOT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "wanted: $2" "got:    $3"; fi
}

# need_testdata: skips the script (exit 0) without the test ELFs; else sets
# TD and ESPFLASH_RESOURCES to $ESPFLASH_TESTDATA.
need_testdata() {
  TD=${ESPFLASH_TESTDATA:-}
  if [ -z "$TD" ] || [ ! -f "$TD/elf/esp32c3.elf" ]; then
    echo "SKIP: ESPFLASH_TESTDATA is not set or has no elf/esp32c3.elf"
    exit 0
  fi
  export ESPFLASH_RESOURCES="$TD"
}

# need_stubs: skips the script (exit 0) without the flasher stubs.
need_stubs() {
  if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
    echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
    exit 0
  fi
}

# wait_for PID SECONDS: waits for background process PID to end; sets RC to
# its exit status, or to "timeout" (after killing it) when it outlives SECONDS.
wait_for() {
  local pid=$1 limit=$2 t=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.02
    t=$((t + 1))
    if [ "$t" -ge $((limit * 50)) ]; then RC=timeout; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return; fi
  done
  RC=0
  wait "$pid" || RC=$?
}

finish() {
  echo "${FINISH_LABEL:+$FINISH_LABEL: }$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
