#!/usr/bin/env bash
# The device scenarios (espflash-reference.md §9.3) against the in-process
# virtual device, sim://esp32c3?flash=FILE, whose backing file carries the
# flash from one command to the next; then board-info on every chip.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi
FLASH=$work/flash.bin
PORT="sim://esp32c3?flash=$FLASH"
. "$(dirname "$0")/device_scenarios.inc"
run_scenarios

for chip in esp32 esp32c2 esp32c3 esp32c5 esp32c6 esp32c61 esp32h2 esp32p4 esp32s2 esp32s3 esp32s31; do
  ok "Chip type:         $chip (revision v" board-info -p "sim://$chip"
  if [ "$chip" = esp32 ]; then
    grep -qF "Security features: None" "$OUT" || fail "board-info on esp32 lacks 'Security features: None'"
  else
    grep -qF "Security Information:" "$OUT" || fail "board-info on $chip lacks the security block"
  fi
  ok "Chip type:         $chip (revision v" board-info -p "sim://$chip" --no-stub
done

# write-bin, read-flash and checksum-md5 with the stub and the ROM, erase
# commands, hold-in-reset and reset on every other chip
head -c 20000 /dev/urandom >"$work/mid.bin"
sum="0x$(md5sum "$work/mid.bin" | cut -c1-32 | sed 's/^0*//')"
for chip in esp32 esp32c2 esp32c5 esp32c6 esp32c61 esp32h2 esp32p4 esp32s2 esp32s3 esp32s31; do
  CP="sim://$chip?flash=$work/$chip.bin"
  for ns in "" --no-stub; do
    ok "Binary successfully written to flash!" write-bin -p "$CP" $ns 0x1000 "$work/mid.bin"
    ok "Flash content successfully read" read-flash -p "$CP" $ns 0x1000 20000 "$work/back.bin"
    same_bytes "$work/back.bin" "$work/mid.bin" "read-flash $ns on $chip"
    [ "$("$ESPFLASH_BIN" checksum-md5 -p "$CP" $ns 0x1000 20000 2>"$OUT")" = "$sum" ] ||
      fail "checksum-md5 $ns on $chip"
  done
  ok "Erasing region at 0x00001000 (4096 bytes)" erase-region -p "$CP" 0x1000 0x1000
  same_bytes <(tail -c +4097 "$work/$chip.bin" | head -c 4096) <(ff 4096) "erase-region on $chip"
  ok "Flash has been erased!" erase-flash -p "$CP"
  ok "Holding target device in reset" hold-in-reset -p "$CP"
  ok "Resetting target device" reset -p "$CP"
done

# --chip must match, and a bad port names the problem
if run board-info -p sim://esp32c3 -c esp32s3; then fail "--chip esp32s3 on an esp32c3 should fail"; fi
grep -qF "does not match the detected chip (esp32c3)" "$OUT" || fail "chip mismatch message"
if run board-info -p /dev/nonexistent-serial-port; then fail "a missing port should fail"; fi
grep -qF "/dev/nonexistent-serial-port" "$OUT" || fail "missing-port message names the port"

# read-flash refuses stream packets larger than the stub's limit
if run read-flash -p "$PORT" --block-size 0x2000 0 16 "$work/x.bin"; then fail "--block-size 0x2000 should fail"; fi
grep -qF -- "--block-size must be between 1 and 0x1000" "$OUT" || fail "--block-size message"

# list-ports: known boards only by default; -n prints bare names that exist
ok "" list-ports
run list-ports -a -n || fail "list-ports -a -n exited with $?"
while read -r name; do [ -e "$name" ] || fail "list-ports -a -n printed '$name', not a path"; done <"$OUT"

# write-bin --monitor: the application's output after the write (HIL scenario 3)
ok "Hello world!" write-bin -p "sim://esp32c3?app=Hello%20world!" --monitor --non-interactive --timeout 2 \
  0x10000 "$work/pattern.bin"
grep -qF "Binary successfully written to flash!" "$OUT" || fail "write-bin --monitor lacks the success line"

# a faster link
ok "Setting baud rate higher than 115,200 can cause issues" read-flash -p "$PORT" -B 921600 0x0 32 "$work/fast.bin"
same_bytes "$work/fast.bin" "$work/pattern.bin" "read-flash at 921600 baud"
echo "device_sim: all scenarios passed"
