#!/usr/bin/env bash
# checksum-md5 against the virtual device when things go wrong.
#
# A flipped bit: SPI_FLASH_MD5 replies carry no checksum. A device script
# finds the device reply whose flip turns an unconfirmed dev:md5 into a wrong
# digest (so the fault lands where it matters); checksum-md5 with that same
# fault, through the stub and through the ROM, must still print the true
# digest — it asks twice and prints only a digest both answers agree on.
#
# Ctrl-C: with sim:// the virtual device runs inside the CLI, and an MD5
# whose size wraps around the flash is seconds of its CPU; SIGINT 300 ms in
# must end the command with status 130 within a second, printing no digest.
source "$(dirname "$0")/cli_helpers.bash"
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi

FF256=0x827f263ef9fb63d05499d14fcef32f60   # MD5 of 256 bytes of 0xFF (erased flash)

# ---- a flipped bit ---------------------------------------------------------------
cat >"$WORK/find.lua" <<'LUA'
-- Prints the reply indices (from..to) at which a flipped bit gives a wrong
-- unconfirmed digest of 0x100 erased bytes at 0x1000.
local espflash = require("espflash")
local want = require("espflash.core").md5_hex(("\xFF"):rep(0x100))
local mode, from, to = ...
local stub = mode == "stub"
from, to = tonumber(from), tonumber(to)
local hits = {}
for i = from, to do
  local ok, got = pcall(function()
    local dev <close> = espflash.connect{ stub = stub,
      port = ("sim://esp32c3?fault=flip&fault_at=%d"):format(i) }
    return dev:md5(0x1000, 0x100)
  end)
  if ok and got ~= want then hits[#hits + 1] = i end
end
print(table.concat(hits, " "))
LUA

for mode in stub rom; do
  flags=()
  [ "$mode" = rom ] && flags=(--no-stub)
  # the stub's MD5 reply is the 27th the device sends, the ROM's about the 21st
  run "$ESPFLASH_BIN" run "$WORK/find.lua" "$mode" 14 34
  hits=$OUT
  if [ -n "$hits" ] && [ "$RC" -eq 0 ]; then ok "$mode: a flip at reply $hits makes an unconfirmed digest wrong"
  else not_ok "$mode: a flip in the MD5 reply is found" "rc $RC, hits '$hits'" "$ERR"; fi
  for at in $hits; do
    run "$ESPFLASH_BIN" checksum-md5 "${flags[@]}" --port "sim://esp32c3?fault=flip&fault_at=$at" 0x1000 0x100
    expect_rc "$mode: checksum-md5 with a flip at reply $at succeeds" 0
    expect_eq "$mode: and prints the true digest" "$FF256" "$OUT"
    run "$ESPFLASH_BIN" checksum-md5 --json "${flags[@]}" --port "sim://esp32c3?fault=flip&fault_at=$at" 0x1000 0x100
    expect_has "$mode: --json too" '"md5":"827f263ef9fb63d05499d14fcef32f60"' "$OUT"
  done
done

# ---- Ctrl-C during a long MD5 ----------------------------------------------------
for mode in stub rom; do
  flags=()
  [ "$mode" = rom ] && flags=(--no-stub)
  # 0xFFFFF000 bytes: 1023 turns around the 4 MB flash, about 10 s of MD5
  "$ESPFLASH_BIN" checksum-md5 "${flags[@]}" --port sim://esp32c3 0 0xFFFFF000 \
    >"$WORK/md5.out" 2>"$WORK/md5.err" </dev/null &
  pid=$!
  # interrupt once connected: the MD5 is running
  for _ in $(seq 250); do grep -q "Connecting" "$WORK/md5.err" 2>/dev/null && break; sleep 0.02; done
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null; then ok "$mode: the MD5 of 4 GiB is running"
  else not_ok "$mode: the MD5 of 4 GiB is running" "$(cat "$WORK/md5.out" "$WORK/md5.err")"; fi
  t0=$(date +%s%N)
  kill -INT "$pid"
  wait_for "$pid" 10
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  expect_eq "$mode: checksum-md5 exits 130 on SIGINT" 130 "$RC"
  if [ "$RC" != timeout ] && [ "$ms" -le 1000 ]; then ok "$mode: within 1 s of SIGINT (${ms} ms)"
  else not_ok "$mode: it exits within 1 s of SIGINT" "took ${ms} ms (RC $RC)"; fi
  expect_eq "$mode: one error line: interrupted" "espflash: error: interrupted (Ctrl-C)" \
    "$(grep '^espflash: error:' "$WORK/md5.err")"
  expect_eq "$mode: no digest printed" "" "$(grep '^0x' "$WORK/md5.out")"
done
finish
