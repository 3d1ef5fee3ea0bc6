#!/usr/bin/env bash
# The serial-port errors users meet most, produced for real (docs/errors.md):
# the device vanishing in the middle of a write (a virtual device on a pty
# whose server is stopped), a connection that fails while other processes
# hold the port (their names in the hint), and a port this user may not open
# (a pty opened as the user nobody). Each prints one error line with its code
# and a hint.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
need_stubs
unset ESPFLASH_LUA_DIR
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT

# --- the device goes away mid-operation ---------------------------------------------
: >"$WORK/server.log"
"$E" sim --chip esp32c3 --pty --link-emulation >"$WORK/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do grep -q "Pseudo-terminal:" "$WORK/server.log" && break; sleep 0.05; done
PTY=$(sed -n 's/^Pseudo-terminal: //p' "$WORK/server.log")
head -c 1000000 /dev/urandom >"$WORK/big.bin"
"$E" write-bin -p "$PTY" 0x10000 "$WORK/big.bin" >"$WORK/out" 2>"$WORK/err" </dev/null &
writer=$!
for _ in $(seq 200); do grep -q "Chip type" "$WORK/out" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
kill "$server"
RC=0; wait "$writer" || RC=$?
ERR=$(cat "$WORK/err")
expect_rc "a vanished device fails the command" 1
expect_has "it is named as such, with its code" "espflash: error: The device went away during the operation (" "$ERR"
expect_has "the code" "[espflash::serial_disconnected]" "$ERR"
expect_has "the hint" "  hint: Check the USB cable and the board's power, then run the command again" "$ERR"
expect_eq "one error line and one hint" "2" "$(grep -c -e '^espflash: error:' -e '^  hint:' <<<"$ERR")"

# --- a silent port that another process holds ----------------------------------------
socat "pty,raw,echo=0,link=$WORK/ttyA" "pty,raw,echo=0,link=$WORK/ttyB" &
pids+=("$!")
for _ in $(seq 100); do [ -e "$WORK/ttyA" ] && break; sleep 0.05; done
sleep 60 <>"$(readlink "$WORK/ttyA")" &
holder=$!
pids+=("$holder")
run "$E" board-info -p "$WORK/ttyA"
expect_rc "nothing answers on the port" 1
expect_has "espflash's error" "espflash: error: Failed to connect to the device [espflash::connection_failed]" "$ERR"
expect_has "the hint names the other process" "sleep (pid $holder)" "$ERR"
expect_has "and says what to do" "$WORK/ttyA is also open in " "$ERR"

# --- a port this user may not open ---------------------------------------------------
PTS=$(readlink "$WORK/ttyA")
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ "$(stat -c %a "$PTS")" = 600 ]; then
  mkdir -p "$WORK/nobody" && chmod 777 "$WORK/nobody" "$WORK"
  RC=0
  ERR=$(cd "$WORK/nobody" && HOME="$WORK/nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$E" board-info -p "$PTS" 2>&1 </dev/null) || RC=$?
  expect_rc "a port without permission fails" 1
  expect_has "permission denied, with the code" \
    "espflash: error: Permission denied opening the serial port $PTS [espflash::serial_permission_denied]" "$ERR"
  expect_has "a mode-600 port: no group helps" "Only the owner of $PTS may open it (its group has no access)" "$ERR"
  expect_has "or the udev rule" "70-espflash.rules /etc/udev/rules.d/" "$ERR"
else
  echo "# skipped the permission check: needs root, setpriv and a pty of mode 600"
fi
finish
