#!/usr/bin/env bash
# The main job, on the virtual device: set up (packages, build, stubs), make a
# firmware, then do what a developer does many times a day — flash an app with
# its bootloader and partition table over a port, read the flash back and check
# it against the image, reflash (everything skipped), change the app and
# reflash (only changed blocks written), then boot it and watch the monitor —
# against a virtual ESP32-C3 served on TCP by `espflash sim`, as a remote
# board would be.
#   scripts/demo.sh [--no-setup]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ "${1:-}" = "--no-setup" ] || "$root/scripts/setup.sh" "$root/build"
espflash=${ESPFLASH_BIN:-$root/build/espflash}
work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "Make a firmware (an ESP-IDF-shaped app ELF and a bootloader image, for the virtual device only)"
"$espflash" run "$root/tests/fixtures/make_firmware.lua" "$work"

step "Start a virtual ESP32-C3 on TCP, its flash kept in $work/flash.bin"
"$espflash" sim --chip esp32c3 --listen 127.0.0.1:0 --flash "$work/flash.bin" \
  --app-output $'Hello world!\r\n' >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q "Listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
address=$(sed -n 's/^Listening on //p' "$work/sim.out")
[ -n "$address" ] || { cat "$work/sim.err"; echo "demo: the virtual device did not start" >&2; exit 1; }
port="socket://$address"
echo "Listening on $address"

step "board-info"
"$espflash" board-info --port "$port"

step "flash (bootloader, partition table, app) at 921600 baud"
"$espflash" flash --port "$port" --baud 921600 --bootloader "$work/bootloader.bin" "$work/app.elf"

step "Read the flash back and compare it with the merged image"
"$espflash" save-image --chip esp32c3 --merge --skip-padding --bootloader "$work/bootloader.bin" \
  "$work/app.elf" "$work/merged.bin" >/dev/null
size=$(stat -c %s "$work/merged.bin")
"$espflash" read-flash --port "$port" --baud 921600 0 "$size" "$work/readback.bin"
cmp "$work/merged.bin" "$work/readback.bin"
echo "Flash contents match the merged image ($size bytes)."

step "Reflash the same app: every segment is skipped"
"$espflash" flash --port "$port" --bootloader "$work/bootloader.bin" "$work/app.elf"

step "Change the app and reflash: only the changed blocks are written"
"$espflash" run "$root/tests/fixtures/make_firmware.lua" "$work" hello_again >/dev/null
"$espflash" flash --port "$port" --bootloader "$work/bootloader.bin" "$work/app.elf"

step "checksum-md5 of the app region, computed by the device"
"$espflash" checksum-md5 --port "$port" 0x10000 0x1000

step "Boot the flashed chip and monitor it (in-process virtual device on the same flash file)"
kill "$sim_pid" && wait "$sim_pid" 2>/dev/null || true
sim_pid=""
# TCP carries no modem lines, so the chip is reset into the application through
# an in-process sim:// port; the virtual device prints its ROM boot log and a
# canned application line (it does not execute the firmware).
"$espflash" monitor --port "sim://esp32c3?flash=$work/flash.bin&app=Hello%20world!%0D%0A" \
  --non-interactive --timeout 1 --elf "$work/app.elf"

echo
echo "demo: done"
