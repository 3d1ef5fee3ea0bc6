#!/usr/bin/env bash
# The device scenarios (espflash-reference.md §9.3) over a pseudo-terminal: a
# virtual device served by `espflash sim --pty`, opened by path through the
# termios backend (no modem lines: resets are skipped). The chip keeps
# running the stub between clients, so the ROM-only part restarts the server.
set -euo pipefail
work=$(mktemp -d)
server=
stop() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; server=; }
trap 'stop; rm -rf "$work"' EXIT
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi
FLASH=$work/flash.bin
start() {
  : >"$work/server.log"
  "$ESPFLASH_BIN" sim --chip esp32c3 --pty --flash "$FLASH" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "Pseudo-terminal:" "$work/server.log" && break; sleep 0.05; done
  PORT=$(sed -n 's/^Pseudo-terminal: //p' "$work/server.log")
  [ -e "$PORT" ] || { echo "FAIL: espflash sim --pty did not start"; cat "$work/server.log"; exit 1; }
}
before_rom() { stop; start; P=(-p "$PORT"); }
start
. "$(dirname "$0")/device_scenarios.inc"
run_scenarios
echo "device_pty: all scenarios passed"
