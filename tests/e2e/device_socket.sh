#!/usr/bin/env bash
# The device scenarios (espflash-reference.md §9.3) over raw TCP: a virtual
# device served by `espflash sim --listen`, reached as socket://HOST:PORT.
# TCP has no modem lines: resets are skipped and the server puts the chip back
# into download mode for every new client.
set -euo pipefail
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi
FLASH=$work/flash.bin
"$ESPFLASH_BIN" sim --chip esp32c3 --listen 127.0.0.1:0 --flash "$FLASH" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "Listening on" "$work/server.log" && break; sleep 0.05; done
addr=$(sed -n 's/^Listening on \([^ ]*\).*/\1/p' "$work/server.log")
[ -n "$addr" ] || { echo "FAIL: espflash sim did not start"; cat "$work/server.log"; exit 1; }
PORT=socket://$addr
. "$(dirname "$0")/device_scenarios.inc"
run_scenarios
echo "device_socket: all scenarios passed"
