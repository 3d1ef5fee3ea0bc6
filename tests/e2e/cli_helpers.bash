# Shared helpers for the tests/e2e/cli_*.sh scripts (sourced, not a test itself).
# Each check prints "ok - name" or "not ok - name" with the evidence; finish
# prints "N passed, N failed" and sets the exit status.
set -u
: "${ESPFLASH_BIN:?set ESPFLASH_BIN to the built espflash (ctest does)}"
: "${ESPFLASH_SOURCE_DIR:?set ESPFLASH_SOURCE_DIR to the source tree (ctest does)}"

PASSED=0
FAILED=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# a private home so no user script or history of the machine leaks in
export HOME="$WORK/home" XDG_CONFIG_HOME="" XDG_STATE_HOME=""
mkdir -p "$HOME"
unset ESPFLASH_SCRIPTS ESPFLASH_DEBUG ESPFLASH_PORT ESPFLASH_BAUD
# development mode by default: sources from the tree
export ESPFLASH_LUA_DIR="$ESPFLASH_SOURCE_DIR"

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

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
