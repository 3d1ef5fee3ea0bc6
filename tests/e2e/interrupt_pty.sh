#!/usr/bin/env bash
# A device left in a known state after Ctrl-C (issue 9): a long read-flash is
# interrupted with SIGINT.
#
# Over a pseudo-terminal (`espflash sim --pty --link-emulation`, so reading
# 4 MB takes minutes): espflash exits 130 within a second with the one line
# "espflash: error: interrupted (Ctrl-C)" and no traceback; the port is
# released, so the next espflash opens it at once and talks to the chip.
#
# In process (`espflash run` driving the CLI on sim://, whose Sim the script
# keeps a handle on): the same interrupted read-flash, then the chip's state
# says whether the default `--after hard-reset` ran (through the modem lines:
# no command is sent on a link that just failed); likewise after a read that
# fails on a corrupted stream, and `--after no-reset` leaves the chip in the
# stub as asked. A pty carries no modem lines, so only this run can see a reset.
source "$(dirname "$0")/cli_helpers.bash"
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi

server=
stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# ---- over a pty ---------------------------------------------------------------
"$ESPFLASH_BIN" sim --chip esp32c3 --pty --link-emulation >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 200); do grep -q "Pseudo-terminal:" "$WORK/server.log" && break; sleep 0.05; done
PTY=$(sed -n 's/^Pseudo-terminal: //p' "$WORK/server.log")
[ -e "$PTY" ] || { not_ok "espflash sim --pty starts" "$(cat "$WORK/server.log")"; finish; exit 1; }

"$ESPFLASH_BIN" read-flash --port "$PTY" --before no-reset 0 0x400000 "$WORK/all.bin" \
  >"$WORK/read.out" 2>"$WORK/read.err" </dev/null &
reader=$!
# interrupt once the stream is running (board-info's lines come right before it)
for _ in $(seq 400); do grep -q "MAC address" "$WORK/read.out" 2>/dev/null && break; sleep 0.05; done
sleep 1
if kill -0 "$reader" 2>/dev/null && grep -q "MAC address" "$WORK/read.out"; then
  ok "read-flash of 4 MB over the pty is streaming"
else not_ok "read-flash of 4 MB over the pty is streaming" "$(cat "$WORK/read.out" "$WORK/read.err")"; fi
t0=$(date +%s%N)
kill -INT "$reader"
wait_for "$reader" 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ERR=$(cat "$WORK/read.err")
expect_eq "read-flash exits 130 on SIGINT" 130 "$RC"
if [ "$RC" != timeout ] && [ "$ms" -le 1500 ]; then ok "it exits within 1.5 s of SIGINT (${ms} ms)"
else not_ok "it exits within 1.5 s of SIGINT" "took ${ms} ms (RC $RC)"; fi
expect_eq "one error line: interrupted" "espflash: error: interrupted (Ctrl-C)" "$(grep '^espflash: error:' "$WORK/read.err")"
expect_lacks "no traceback" "traceback" "$ERR"
expect_lacks "no Lua error" ".lua:" "$ERR"
if [ -e "$WORK/all.bin" ]; then not_ok "no partial output file is left" "$(stat -c %s "$WORK/all.bin") bytes in all.bin"
else ok "no partial output file is left"; fi

# the port is released: the next client opens it at once and the chip answers
t0=$(date +%s%N)
run timeout 30 "$ESPFLASH_BIN" board-info --port "$PTY" --before no-reset
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_rc "board-info on the same pty right after the interrupt" 0
expect_has "the chip answers" "Chip type:         esp32c3" "$OUT"
if [ "$ms" -le 10000 ]; then ok "and connects in ${ms} ms"; else not_ok "it connects within 10 s" "${ms} ms"; fi
stop_server

# ---- in process: was the chip reset? ----------------------------------------------
cat >"$WORK/interrupted_read.lua" <<'LUA'
-- Runs `espflash read-flash` on a sim:// port through the CLI, keeping a
-- handle on the virtual device, and prints the CLI's exit status and the
-- chip's state afterwards.
local simlib = require("espflash.sim")
local open, chip_sim = simlib.open, nil
simlib.open = function(url) local s, c = open(url); chip_sim = s; return s, c end
local url, out, after = ...
local status = require("espflash.cli").main({ [0] = "espflash", "read-flash", "--port",
  url, "--after", after or "hard-reset", "0", "0x400000", out })
io.stdout:write(("status %d state %s\n"):format(status, chip_sim and chip_sim:state() or "none"))
io.stdout:flush()
return status
LUA
"$ESPFLASH_BIN" run "$WORK/interrupted_read.lua" "sim://esp32c3?link=1" "$WORK/inproc.bin" >"$WORK/inproc.out" 2>"$WORK/inproc.err" </dev/null &
proc=$!
for _ in $(seq 400); do grep -q "MAC address" "$WORK/inproc.out" 2>/dev/null && break; sleep 0.05; done
sleep 1
kill -INT "$proc"
wait_for "$proc" 10
state=$(sed -n 's/^status \([0-9]*\) state \(.*\)$/\2/p' "$WORK/inproc.out")
status=$(sed -n 's/^status \([0-9]*\) state .*$/\1/p' "$WORK/inproc.out")
expect_eq "in process: the CLI returns 130" 130 "$status"
expect_eq "in process: espflash run exits 130" 130 "$RC"
case "$state" in
  booting|running) ok "the chip was reset after the interrupt (state $state)" ;;
  *) not_ok "the chip was reset after the interrupt" "state: ${state:-unknown}" "$(cat "$WORK/inproc.err")" ;;
esac

# the same after an error: a byte dropped from the 200th frame the device
# sends (well inside the 4 MB stream) fails the read
run "$ESPFLASH_BIN" run "$WORK/interrupted_read.lua" "sim://esp32c3?fault=drop&fault_at=200" "$WORK/err.bin"
state=$(sed -n 's/^status \([0-9]*\) state \(.*\)$/\2/p' <<<"$OUT")
status=$(sed -n 's/^status \([0-9]*\) state .*$/\1/p' <<<"$OUT")
expect_eq "a corrupted stream fails read-flash with status 1" 1 "$status"
expect_has "with a clear error" "espflash: error: Corrupt data" "$ERR"
case "$state" in
  booting|running) ok "the chip was reset after the error (state $state)" ;;
  *) not_ok "the chip was reset after the error" "state: ${state:-unknown}" "$ERR" ;;
esac

# unless the user asked otherwise: --after no-reset leaves it in the stub
run "$ESPFLASH_BIN" run "$WORK/interrupted_read.lua" "sim://esp32c3?fault=drop&fault_at=200" "$WORK/err.bin" no-reset
state=$(sed -n 's/^status \([0-9]*\) state \(.*\)$/\2/p' <<<"$OUT")
expect_eq "--after no-reset: the failed read still exits 1" 1 "$(sed -n 's/^status \([0-9]*\) state .*$/\1/p' <<<"$OUT")"
expect_eq "--after no-reset: the chip stays in the stub after the error" stub "$state"
finish
