#!/usr/bin/env bash
# Many devices at once, end to end, with docs/examples/provision.lua:
# - eight `espflash sim --listen --link-emulation` servers provisioned in
#   parallel take at most 1.5x the wall time of one (issue 7's acceptance);
# - every device gets its own serial from the CSV, in its NVS partition, and
#   a JSON line in the log; re-running gives each the same serial again;
# - with one device failing mid-flash (a sim:// device with a fault), the
#   seven others are provisioned and the failure is reported with its cause;
# - a glob over ttys (symlinks to `espflash sim --pty` servers) works.
. "$(dirname "$0")/scripting_helpers.bash"
need_stubs
need_testdata
PROVISION=$ESPFLASH_SOURCE_DIR/docs/examples/provision.lua
APP=$TD/elf/esp32c3.elf
cd "$WORK" || exit 1

{ echo "serial,batch"; for i in $(seq -w 1 40); do echo "SN-00$i,B7"; done; } >records.csv

# servers 0..15 with link emulation, each with its own flash file and MAC
start_fleet 16 || exit 1
provision() { run "$ESPFLASH_BIN" run "$PROVISION" --app "$APP" --records records.csv "$@"; }

t0=$(now)
provision --log one.jsonl "$(socket_ports 0)"
t1=$(seconds_since "$t0")
expect_rc "one device provisioned" 0
expect_has "one device: the summary" "provisioned 1 of 1 devices" "$OUT"

t0=$(now)
provision --log eight.jsonl "$(socket_ports 1 2 3 4 5 6 7 8)"
t8=$(seconds_since "$t0")
expect_rc "eight devices provisioned" 0
expect_has "eight devices: the summary" "provisioned 8 of 8 devices" "$OUT"
expect_scales "$t1" "$t8"
expect_has "per-device progress lines" "[socket://${ADDR[5]}] 0x10000: 100% (72400/72400 bytes)" "$ERR"
expect_has "per-device result lines" "[socket://${ADDR[8]}] done in " "$ERR"

serials() { grep -o '"serial":"[^"]*"' "$1" | sort | uniq | wc -l; }
oks() { grep -c '"result":"ok"' "$1"; }
expect_eq "eight log lines, all ok" 8 "$(oks eight.jsonl)"
expect_eq "eight different serials" 8 "$(serials eight.jsonl)"
line=$(grep '"mac":"aa:00:00:00:00:03"' eight.jsonl)
expect_has "a log line has the chip" '"chip":"esp32c3","revision":"0.4"' "$line"
expect_has "a log line has the image hash" '"app_sha256":"' "$line"
serial3=$(echo "$line" | sed 's/.*"serial":"\([^"]*\)".*/\1/')

# the device's NVS partition holds its serial and MAC
dd if=flash-aa0000000003.bin of=nvs3.bin bs=4096 skip=9 count=6 2>/dev/null
run "$ESPFLASH_BIN" nvs-dump nvs3.bin
expect_has "device 3's NVS partition holds its serial" "factory    serial  string  \"$serial3\"" "$OUT"
expect_has "device 3's NVS partition holds its MAC" "factory    mac     string  \"aa:00:00:00:00:03\"" "$OUT"
expect_has "device 3's NVS partition holds the CSV's other columns" "factory    batch   string  \"B7\"" "$OUT"

# re-running (here with plain lua5.4) gives every device its serial again
before=$(sort -u <(grep -o '"mac":"[^"]*","chip":"[^"]*","revision":"[^"]*","serial":"[^"]*"' eight.jsonl))
run env LUA_PATH="$ESPFLASH_SOURCE_DIR/lua/?.lua;$ESPFLASH_SOURCE_DIR/lua/?/init.lua;;" \
  LUA_CPATH="$BUILD/lua/?.so;;" lua5.4 "$PROVISION" --app "$APP" --records records.csv \
  --log eight.jsonl "$(socket_ports 1 2 3 4 5 6 7 8)"
expect_rc "re-running on provisioned devices succeeds" 0
expect_eq "sixteen log lines" 16 "$(oks eight.jsonl)"
expect_eq "no new serial consumed" 8 "$(serials eight.jsonl)"
after=$(sort -u <(grep -o '"mac":"[^"]*","chip":"[^"]*","revision":"[^"]*","serial":"[^"]*"' eight.jsonl))
expect_eq "each device got the same serial again" "$before" "$after"
expect_has "unchanged flash is skipped" "Skipped! (checksum matches)" "$ERR"

# seven fresh devices and one that goes silent while flashing
failing="sim://esp32c3?link=1&mac=aa:00:00:00:01:00&fault=stall&fault_at=40"
provision --log mixed.jsonl "$(socket_ports 9 10 11),$failing,$(socket_ports 12 13 14 15)"
expect_rc "one failure: exit status 1" 1
expect_has "the others are provisioned" "provisioned 7 of 8 devices" "$OUT"
expect_has "the failure is reported with its cause" "sim://esp32c3#4 failed: Timeout while running" "$OUT"
expect_has "the failure's code" "[espflash::timeout]" "$OUT"
expect_eq "seven ok lines in the log" 7 "$(oks mixed.jsonl)"
fail_line=$(grep '"result":"failed"' mixed.jsonl)
expect_has "the failed device's log line has its MAC" '"mac":"aa:00:00:00:01:00"' "$fail_line"
expect_has "the failed device's log line has the code" '"error_code":"espflash::timeout"' "$fail_line"
expect_eq "eight serials handed out, none twice" 8 "$(serials mixed.jsonl)"

# a glob over ttys
mkdir -p tty
start_server --chip esp32c3 --pty --mac aa:00:00:00:02:00 || exit 1
ln -s "$SERVER_ADDR" tty/ttySIM0
start_server --chip esp32c3 --pty --mac aa:00:00:00:02:01 || exit 1
ln -s "$SERVER_ADDR" tty/ttySIM1
provision --log tty.jsonl "$WORK/tty/ttySIM*"
expect_rc "a glob of two ttys: both provisioned" 0
expect_has "a glob of two ttys: the summary" "provisioned 2 of 2 devices" "$OUT"
expect_has "the glob expands in order" "[$WORK/tty/ttySIM1] done in" "$ERR"

finish
