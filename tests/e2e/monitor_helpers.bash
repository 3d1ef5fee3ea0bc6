# Shared helpers for the tests/e2e/monitor_*.sh scripts (sourced, not a test):
# a pseudo-terminal pair (socat) whose far end the test plays as the device,
# and a background monitor whose output is collected in files.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
TESTDATA=${ESPFLASH_TESTDATA:-}
PIDS=()
cleanup_monitor() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup_monitor EXIT

skip() { echo "SKIP: $1"; }

have_testdata() { [ -n "$TESTDATA" ] && [ -f "$TESTDATA/$1" ]; }

# pty_pair NAME: $WORK/NAME.dev (the port the monitor opens) and
# $WORK/NAME.peer (the device side); the socat pid in $PTY_PID.
pty_pair() {
  socat "pty,raw,echo=0,link=$WORK/$1.dev" "pty,raw,echo=0,link=$WORK/$1.peer" 2>/dev/null &
  PTY_PID=$!
  PIDS+=("$PTY_PID")
  local i
  for i in $(seq 50); do
    [ -e "$WORK/$1.dev" ] && [ -e "$WORK/$1.peer" ] && return 0
    sleep 0.1
  done
  return 1
}

# monitor_bg NAME ARGS...: runs `espflash monitor ARGS` in the background,
# stdout in $WORK/NAME.out, stderr in $WORK/NAME.err, status in $WORK/NAME.rc.
monitor_bg() {
  local name=$1
  shift
  ( "$E" monitor "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null; echo $? >"$WORK/$name.rc" ) &
  MON_PID=$!
  PIDS+=("$MON_PID")
}

# wait_for FILE TEXT [SECONDS]: waits until FILE contains TEXT.
wait_for() {
  local i
  for i in $(seq $((${3:-10} * 10))); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_gone PID [SECONDS]: waits for a process to end.
wait_gone() {
  local i
  for i in $(seq $((${2:-10} * 10))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
