#!/usr/bin/env bash
# The port picker through a pseudo-terminal (expect), with several virtual
# ports: a virtual ESP32-S3 served on a pty by `espflash sim --pty` and two
# in-process ones (sim://…), listed as USB bridges through
# $ESPFLASH_TEST_PORTS (the operating system does not enumerate them).
# Picking, cancelling (Esc, q, Enter, Ctrl-C), the question for a single
# port, remembering an unknown bridge in espflash_ports.toml, --confirm-port,
# serial:/usb: selectors, and --non-interactive never waiting for input.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
if [ ! -f "${ESPFLASH_STUBS:-}/esp32s3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi
command -v expect >/dev/null || { not_ok "expect is not installed (apt-get install expect)"; finish; exit; }
unset ESPFLASH_LUA_DIR

server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
: >"$WORK/server.log"
"$E" sim --chip esp32s3 --pty >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "Pseudo-terminal:" "$WORK/server.log" && break; sleep 0.05; done
PTY=$(sed -n 's/^Pseudo-terminal: //p' "$WORK/server.log")
[ -e "$PTY" ] || { not_ok "espflash sim --pty started" "$(cat "$WORK/server.log")"; finish; exit; }

cat >"$WORK/three.json" <<JSON
[{"name":"$PTY","type":"usb","vid":"10c4","pid":"ea60","manufacturer":"Silicon Labs","product":"CP2102","serial":"0002","usb_path":"1-4.2","usb_interface":"1.0"},
 {"name":"sim://esp32c3","type":"usb","vid":"10c4","pid":"ea60","manufacturer":"Silicon Labs","product":"CP2102","serial":"0001","usb_path":"1-4.1","usb_interface":"1.0"},
 {"name":"sim://esp32c6","type":"usb","vid":"0403","pid":"6001","manufacturer":"FTDI","product":"FT232R","serial":"FT77"}]
JSON
cat >"$WORK/ftdi.json" <<'JSON'
[{"name":"sim://esp32c6","type":"usb","vid":"0403","pid":"6001","manufacturer":"FTDI","product":"FT232R"}]
JSON
cat >"$WORK/cp2102.json" <<'JSON'
[{"name":"sim://esp32c3","type":"usb","vid":"10c4","pid":"ea60","product":"CP2102"}]
JSON
export ESPFLASH_TEST_PORTS=$WORK/three.json

# pty PORTS EXPECT-BODY ARGS...: runs espflash ARGS in a pty with the port
# list PORTS; EXPECT-BODY drives it. Sets RC (the exit status, or "timeout"
# when a pattern never came) and OUT (everything the terminal showed).
pty() {
  local ports=$1 body=$2; shift 2
  cat >"$WORK/run.exp" <<EXP
set timeout 15
spawn -noecho $E $*
proc want {re} {
  expect {
    -re \$re {}
    timeout { exit 201 }
    eof { exit 202 }
  }
}
proc key {k} { sleep 0.2; send -- \$k }
$body
expect {
  eof {}
  timeout { exit 203 }
}
lassign [wait] pid spawnid os_error value
exit \$value
EXP
  RC=0
  ESPFLASH_TEST_PORTS=$ports expect -f "$WORK/run.exp" >"$WORK/transcript" 2>&1 || RC=$?
  OUT=$(tr -d '\r' <"$WORK/transcript")
}

# 1. several ports: known boards first and marked, serial numbers and locations shown
pty "$WORK/three.json" 'want "Esc cancels\\): "; key "1\r"' board-info
expect_rc "picking a port works" 0
expect_has "the list is announced" "Detected 3 serial ports" "$OUT"
expect_has "known boards come first, marked" "* 1) $PTY - CP2102  (serial 0002, usb 1-4.2:1.0)
* 2) sim://esp32c3 - CP2102  (serial 0001, usb 1-4.1:1.0)
  3) sim://esp32c6 - FT232R  (serial FT77)" "$OUT"
expect_has "the chosen pty device answers" "Chip type:         esp32s3" "$OUT"
expect_has "the selector for next time is offered" "Next time, --port serial:0002 picks this board without asking" "$OUT"

# 2. ways to cancel
for k in '\033' q '\r' '\004'; do
  pty "$WORK/three.json" "want \"Esc cancels\\\\): \"; key \"$k\"" board-info
  expect_rc "cancelled by $(printf %q "$k")" 1
  expect_has "cancelled is espflash's error ($(printf %q "$k"))" \
    "espflash: error: Operation was cancelled by the user [espflash::cancelled]" "$OUT"
  expect_lacks "nothing was connected ($(printf %q "$k"))" "Connecting..." "$OUT"
done
pty "$WORK/three.json" 'want "Esc cancels\\): "; key "\003"' board-info
expect_rc "Ctrl-C at the picker exits 130" 130
expect_has "Ctrl-C is reported" "espflash: error: interrupted (Ctrl-C)" "$OUT"
pty "$WORK/three.json" 'want "Esc cancels\\): "; key "7\r"; want "No entry 7"; key "2\r"' board-info
expect_rc "a number not listed is asked again" 0
expect_has "then the valid choice is used" "Chip type:         esp32c3" "$OUT"

# 3. an unknown bridge: remembered on request, known from then on
pty "$WORK/three.json" 'want "Esc cancels\\): "; key "3\r"; want "Remember this serial port for future use\\? \\\[y/N\\\] "; key "y"' board-info
expect_rc "picking the unknown bridge works" 0
expect_has "the FTDI board answers" "Chip type:         esp32c6" "$OUT"
expect_has "the remembered device is reported" "USB device 0403:6001 added to $HOME/.config/espflash/espflash_ports.toml" "$OUT"
expect_eq "espflash_ports.toml holds the device" '[[usb_device]]
vid = "0403"
pid = "6001"' "$(cat "$HOME/.config/espflash/espflash_ports.toml")"
pty "$WORK/three.json" 'want "Esc cancels\\): "; key "q"' board-info
expect_has "now it is marked as known" "* 3) sim://esp32c6 - FT232R" "$OUT"
pty "$WORK/ftdi.json" '' board-info
expect_rc "alone, the remembered bridge is used without a question" 0
expect_lacks "no question" "Use serial port" "$OUT"
rm "$HOME/.config/espflash/espflash_ports.toml"

# 4. a single port: a yes/no question (also for a known board with --confirm-port)
pty "$WORK/ftdi.json" 'want "Use serial port .sim://esp32c6. - FT232R\\? \\\[Y/n\\\] "; key "n"' board-info
expect_rc "no to the single unknown port cancels" 1
expect_has "with espflash's error" "[espflash::cancelled]" "$OUT"
pty "$WORK/ftdi.json" 'want "\\\[Y/n\\\] "; key "\r"; want "\\\[y/N\\\] "; key "\r"' board-info
expect_rc "Enter takes the defaults: use it, do not remember" 0
expect_has "the single port answers" "Chip type:         esp32c6" "$OUT"
[ -e "$HOME/.config/espflash/espflash_ports.toml" ] && not_ok "Enter did not remember the port" || ok "Enter did not remember the port"
pty "$WORK/cp2102.json" '' board-info
expect_lacks "a single known board needs no question" "Use serial port" "$OUT"
pty "$WORK/cp2102.json" 'want "Use serial port .sim://esp32c3. - CP2102\\? \\\[Y/n\\\] "; key "y"' board-info --confirm-port
expect_rc "--confirm-port asks for the single known board" 0
expect_lacks "and does not offer to remember a known board" "Remember" "$OUT"

# 5. selectors and --non-interactive: never a question
pty "$WORK/three.json" '' board-info --port serial:0002
expect_rc "--port serial:SERIAL picks without asking" 0
expect_has "the board with that serial number" "Chip type:         esp32s3" "$OUT"
expect_lacks "no list" "Detected" "$OUT"
pty "$WORK/three.json" '' board-info --port usb:1-4.1
expect_has "--port usb:LOCATION picks by physical port" "Chip type:         esp32c3" "$OUT"
START=$(date +%s)
pty "$WORK/three.json" '' board-info --non-interactive
expect_rc "--non-interactive with several ports fails" 1
expect_has "without asking" "No serial port was provided (--non-interactive does not ask) [espflash::serial_not_selected]" "$OUT"
expect_lacks "no list is shown" "Please select" "$OUT"
[ $(($(date +%s) - START)) -lt 10 ] && ok "--non-interactive did not wait" || not_ok "--non-interactive did not wait"
pty "$WORK/ftdi.json" '' board-info --non-interactive
expect_has "not even for a single unknown port (unlike espflash)" "[espflash::serial_not_selected]" "$OUT"
run "$E" board-info
expect_has "without a terminal nothing is asked either" "No serial port was provided and there is no terminal to ask on" "$ERR"
finish
