# Shared helpers for the tests/e2e/scripting_*.sh scripts (sourced, not a
# test itself): the checks of check_helpers.bash, `espflash sim` servers and
# other background processes, timing, and the final tally under the
# script's name.
. "$(dirname "${BASH_SOURCE[0]}")/check_helpers.bash"
: "${ESPFLASH_SOURCE_DIR:?set ESPFLASH_SOURCE_DIR to the source tree (ctest does)}"
BUILD=${ESPFLASH_BUILD_DIR:-$ESPFLASH_SOURCE_DIR/build}
FINISH_LABEL=$(basename "$0" .sh)

SERVERS=()
cleanup() {
  local p
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_process WHAT CMD...: CMD in the background (killed at exit); sets
# SERVER_ADDR to the address it prints ("Listening on ADDR" or
# "Pseudo-terminal: PATH") once it has. Not in a $(...) subshell: the
# process must be recorded here.
start_process() {
  local what=$1 log _
  shift
  log=$(mktemp "$WORK/server.XXXXXX")
  "$@" >"$log" 2>&1 &
  SERVERS+=("$!")
  SERVER_ADDR=
  for _ in $(seq 200); do
    SERVER_ADDR=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p; s/^Pseudo-terminal: \([^ ]*\).*/\1/p' "$log")
    [ -n "$SERVER_ADDR" ] && return 0
    sleep 0.05
  done
  echo "$what did not start: $(cat "$log")" >&2
  return 1
}

# start_server ARGS...: `espflash sim ARGS...` through start_process.
start_server() { start_process "espflash sim $*" "$ESPFLASH_BIN" sim "$@"; }

# mac_of I: the MAC of server I of start_fleet.
mac_of() { printf 'aa:00:00:00:00:%02x' "$1"; }

# start_fleet N: N `espflash sim` ESP32-C3 servers with link emulation on
# free TCP ports, server I with MAC `mac_of I` and flash file
# $WORK/flash-MAC.bin (MAC without colons); ADDR[I] is its address.
declare -a ADDR
start_fleet() {
  local i m
  for ((i = 0; i < $1; i++)); do
    m=$(mac_of "$i")
    start_server --chip esp32c3 --listen 127.0.0.1:0 --link-emulation \
      --flash "$WORK/flash-${m//:/}.bin" --mac "$m" || return 1
    ADDR[$i]=$SERVER_ADDR
  done
}

# socket_ports I...: the socket:// URLs of servers ${ADDR[I]}, joined by commas.
socket_ports() { local out="" i; for i in "$@"; do out="$out${out:+,}socket://${ADDR[$i]}"; done; echo "$out"; }

now() { date +%s.%N; }
# seconds_since T0: the seconds since T0 (a `now`), to two decimals.
seconds_since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }

# expect_scales T1 T8: eight devices (T8 seconds) take at most 1.5x the time of one (T1).
expect_scales() {
  if awk -v a="$2" -v b="$1" 'BEGIN { exit !(a <= 1.5 * b) }'; then
    ok "eight devices take at most 1.5x the time of one (one ${1}s, eight ${2}s)"
  else
    not_ok "eight devices take at most 1.5x the time of one" "one ${1}s, eight ${2}s"
  fi
}
