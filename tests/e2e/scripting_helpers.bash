# Shared helpers for the tests/e2e/scripting_*.sh scripts (sourced, not a
# test itself): checks that print "ok - name" / "not ok - name" with the
# evidence, `espflash sim` servers, and the final tally.
set -u
: "${ESPFLASH_BIN:?set ESPFLASH_BIN to the built espflash (ctest does)}"
: "${ESPFLASH_SOURCE_DIR:?set ESPFLASH_SOURCE_DIR to the source tree (ctest does)}"
BUILD=${ESPFLASH_BUILD_DIR:-$ESPFLASH_SOURCE_DIR/build}

PASSED=0
FAILED=0
WORK=$(mktemp -d)
SERVERS=()
cleanup() {
  local p
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME="$WORK/home"
mkdir -p "$HOME"
unset ESPFLASH_SCRIPTS ESPFLASH_DEBUG ESPFLASH_PORT ESPFLASH_BAUD

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $1"; shift; printf '    %s\n' "$@"; }

# run CMD...: stdout in $OUT, stderr in $ERR, status in $RC
run() {
  RC=0
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}
expect_rc() {
  if [ "$RC" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit $RC, wanted $2" "stdout: $OUT" "stderr: $ERR"; fi
}
expect_has() {
  case "$3" in *"$2"*) ok "$1" ;; *) not_ok "$1" "missing: $2" "in: $3" ;; esac
}
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "wanted: $2" "got:    $3"; fi
}

need_stubs() {
  if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
    echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
    exit 0
  fi
}

# start_server ARGS...: `espflash sim ARGS...` in the background (killed at
# exit); sets SERVER_ADDR to the address it listens on (or its pty path) once
# it is ready. Not in a $(...) subshell: the server must be recorded here.
start_server() {
  local log _
  log=$(mktemp "$WORK/server.XXXXXX")
  "$ESPFLASH_BIN" sim "$@" >"$log" 2>&1 &
  SERVERS+=("$!")
  SERVER_ADDR=
  for _ in $(seq 200); do
    if grep -q "^Listening on \|^Pseudo-terminal: " "$log"; then
      SERVER_ADDR=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p; s/^Pseudo-terminal: \([^ ]*\).*/\1/p' "$log")
      return 0
    fi
    sleep 0.05
  done
  echo "espflash sim $* did not start: $(cat "$log")" >&2
  return 1
}

now() { date +%s.%N; }

finish() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
