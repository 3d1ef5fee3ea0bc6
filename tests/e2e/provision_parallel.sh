#!/usr/bin/env bash
# `espflash provision` end to end, through the binary, against `espflash sim`
# servers with link emulation (issue 7's acceptance):
# - eight devices provisioned in parallel take at most 1.5x the wall time of one;
# - every device gets its own record: the JSON log (parsed) has its MAC, chip,
#   revision, serial and image hashes, and the NVS partition read back from
#   its flash holds the template filled with its record;
# - re-running on provisioned devices consumes no new record;
# - one device made to fail (a server whose virtual chip stalls while the
#   app is written) leaves the other seven provisioned, and the failure is
#   reported with its cause, in the summary and in the log;
# - a bad template stops the run before any device is touched;
# - on a terminal each device has one line, redrawn in place.
. "$(dirname "$0")/scripting_helpers.bash"
need_stubs
need_testdata
APP=$TD/elf/esp32c3.elf
cd "$WORK" || exit 1

{ echo "serial,batch,hw_rev"; for i in $(seq -w 1 40); do echo "SN-00$i,B7,$((10#$i % 7))"; done; } >records.csv
cat >nvs.csv <<'EOF'
key,type,encoding,value
# per-device factory data
factory,namespace,,
serial,data,string,${serial}
mac,data,string,${mac}
batch,data,string,"batch ${batch}"
hw_rev,data,u8,${hw_rev}
chip,data,string,${chip}
EOF

# A server like `espflash sim --listen --link-emulation`, whose virtual chip
# stalls (stops answering) at command FAULT_AT: the sim's fault options,
# which `espflash sim` has no flags for, given through the library.
cat >fault_server.lua <<'EOF'
local espflash = require "espflash"
local mac, flash, fault, fault_at = ...
local device = espflash.sim.new("esp32c3", { link_emulation = true, mac = mac, flash = flash,
  fault = fault, fault_at = tonumber(fault_at) })
assert(espflash.core.sim_serve(device, { listen = "127.0.0.1:0" }, function(address)
  print("Listening on " .. address)
  io.stdout:flush()
end))
EOF
start_fault_server() { start_process "the fault server" "$ESPFLASH_BIN" run fault_server.lua "$@"; }

# Checks a log against the records and the devices' flash: prints one line
# per device, "MAC SERIAL RESULT ok|mismatch: ...", and "lines N".
cat >check.lua <<'EOF'
local espflash = require "espflash"
local cjson = require "cjson"
local log_path, flash_dir = ...
local rows = {}
for line in io.lines("records.csv") do
  local serial, batch, hw = line:match("^([^,]+),([^,]+),([^,]+)$")
  if serial and serial ~= "serial" then rows[serial] = { batch = batch, hw_rev = tonumber(hw) } end
end
local n = 0
for line in io.lines(log_path) do
  n = n + 1
  local rec = cjson.decode(line)
  local verdict = "-"
  if rec.result == "ok" then
    local f = assert(io.open(("%s/flash-%s.bin"):format(flash_dir, rec.mac:gsub(":", "")), "rb"))
    local data = f:read("a")
    f:close()
    local got = {}
    for _, e in ipairs(espflash.nvs.parse(data:sub(0x9001, 0x9000 + 0x6000))) do
      got[e.namespace .. "." .. e.key] = e.value
    end
    local row, want = rows[rec.serial], {}
    want["factory.serial"], want["factory.mac"], want["factory.chip"] = rec.serial, rec.mac, rec.chip
    want["factory.batch"], want["factory.hw_rev"] = row and "batch " .. row.batch, row and row.hw_rev
    verdict = "ok"
    for k, v in pairs(want) do
      if got[k] ~= v then verdict = ("mismatch: %s is %s, not %s"):format(k, tostring(got[k]), tostring(v)) end
    end
    local hashes = #rec.app_sha256 == 64 and #rec.nvs_sha256 == 64 and rec.nvs_sha256 ==
      espflash.core.sha256(data:sub(0x9001, 0x9000 + 0x6000)):gsub(".", function(c) return ("%02x"):format(c:byte()) end)
    if not hashes then verdict = "mismatch: the image hashes" end
    if rec.chip ~= "esp32c3" or rec.revision ~= "0.4" or not rec.time:match("^%d+%-%d+%-%d+T") then
      verdict = "mismatch: chip, revision or time"
    end
  end
  print(("%s %s %s %s %s"):format(rec.mac, rec.serial, rec.result, rec.error_code or "-", verdict))
end
print("lines " .. n)
EOF

start_fleet 16 || exit 1
provision() {
  run "$ESPFLASH_BIN" provision --app "$APP" --records records.csv --nvs-template nvs.csv "$@"
}

# --- one device, then eight -----------------------------------------------
t0=$(now)
provision --log run.jsonl --port "$(socket_ports 0)"
t1=$(seconds_since "$t0")
expect_rc "one device provisioned" 0
expect_has "one device: the summary" "provisioned 1 of 1 devices" "$OUT"

t0=$(now)
provision --log run.jsonl --port "$(socket_ports 1 2 3 4 5 6 7 8)"
t8=$(seconds_since "$t0")
expect_rc "eight devices provisioned" 0
expect_has "eight devices: the summary" "provisioned 8 of 8 devices" "$OUT"
expect_scales "$t1" "$t8"
expect_has "a progress line per device and segment" "[socket://${ADDR[4]}] 0x10000: 100% (72400/72400 bytes)" "$ERR"
expect_has "the record a device gets is logged" "[socket://${ADDR[6]}] [INFO ] esp32c3 $(mac_of 6) gets SN-00" "$ERR"
expect_has "a result line per device" "[socket://${ADDR[8]}] done in " "$ERR"
expect_has "the summary names each device's record" "socket://${ADDR[2]} $(mac_of 2) SN-00" "$OUT"

run "$ESPFLASH_BIN" run check.lua run.jsonl "$WORK"
CHECK=$(grep -v "^lines\|$(mac_of 0)" <<<"$OUT")
expect_eq "the log has nine lines" "lines 9" "$(tail -1 <<<"$OUT")"
expect_eq "nine ok lines whose NVS partition holds the device's record" 9 "$(grep -c ' ok - ok$' <<<"$OUT")"
expect_eq "nine different serials" 9 "$(grep -v '^lines' <<<"$OUT" | cut -d' ' -f2 | sort -u | wc -l)"
expect_eq "nine different MACs" 9 "$(grep -v '^lines' <<<"$OUT" | cut -d' ' -f1 | sort -u | wc -l)"

# --- re-running on provisioned devices --------------------------------------
before=$(cut -d' ' -f1,2 <<<"$CHECK" | sort)
provision --log run.jsonl --port "$(socket_ports 1 2 3 4 5 6 7 8)"
expect_rc "re-running on provisioned devices succeeds" 0
expect_eq "every device recognised: (again) in the summary" 8 "$(grep -c ' (again)$' <<<"$OUT")"
expect_has "a recognised device's progress line says so" \
  "[socket://${ADDR[3]}] [INFO ] esp32c3 $(mac_of 3) keeps SN-00" "$ERR"
expect_has "unchanged flash is skipped" "Skipped! (checksum matches)" "$ERR"
run "$ESPFLASH_BIN" run check.lua run.jsonl "$WORK"
expect_eq "seventeen ok log lines" 17 "$(grep -c ' ok - ok$' <<<"$OUT")"
expect_eq "no new record consumed: each device has the serial it had" "$before" \
  "$(grep -v "^lines\|$(mac_of 0)" <<<"$OUT" | cut -d' ' -f1,2 | sort -u)"

# --- seven devices and one that stalls while the app is written ---------------
# (command 65 is a FLASH_DEFL_DATA of the app on a fresh chip)
start_fault_server "$(mac_of 99)" "$WORK/flash-aa0000000099.bin" stall 65 || exit 1
FAULTY=socket://$SERVER_ADDR
provision --log mixed.jsonl --port "$(socket_ports 9 10 11),$FAULTY,$(socket_ports 12 13 14 15)"
expect_rc "one failure: exit status 1" 1
expect_has "the seven others are provisioned" "provisioned 7 of 8 devices" "$OUT"
expect_has "the failure is reported with its cause" "$FAULTY failed: Timeout while running" "$OUT"
expect_has "the failure's code" "[espflash::timeout]" "$OUT"
expect_has "the failure's progress line" "[$FAULTY] failed after" "$ERR"
run "$ESPFLASH_BIN" run check.lua mixed.jsonl "$WORK"
expect_eq "seven ok lines whose NVS partition holds the device's record" 7 "$(grep -c ' ok - ok$' <<<"$OUT")"
fail_line=$(grep ' failed ' <<<"$OUT")
expect_has "the failed device's log line: its MAC, its record, the code" \
  "$(mac_of 99) SN-00" "$fail_line"
expect_has "the failed device's log line has the code" "failed espflash::timeout" "$fail_line"
expect_has "the log line holds the message" '"error":"Timeout while running' "$(grep '"failed"' mixed.jsonl)"
expect_eq "eight serials handed out, none twice" 8 \
  "$(grep -v '^lines' <<<"$OUT" | cut -d' ' -f2 | sort -u | wc -l)"

# --- a mistake in the template stops everything before a device is touched ------
sed 's/${hw_rev}/${hw_revision}/' nvs.csv >bad.csv
run "$ESPFLASH_BIN" provision --app "$APP" --records records.csv --nvs-template bad.csv \
  --log bad.jsonl --port "$(socket_ports 0)"
expect_rc "a bad template: exit status 1" 1
expect_has "the error names the template line and the placeholder" \
  'bad.csv: line 7: unknown placeholder ${hw_revision}' "$ERR"
if [ ! -s bad.jsonl ]; then ok "nothing is logged"; else not_ok "nothing is logged" "$(cat bad.jsonl)"; fi
expect_eq "no device was connected" "" "$(grep 'Connecting' <<<"$ERR")"
run "$ESPFLASH_BIN" provision --app "$APP" --log x.jsonl --port "$(socket_ports 0)"
expect_rc "no --records nor --counter: a usage error" 2
expect_has "the usage error says what is missing" "--records FILE.csv or --counter" "$ERR"

# --- the same workflow from a user's program: docs/examples/provision.lua ---------
run "$ESPFLASH_BIN" run "$ESPFLASH_SOURCE_DIR/docs/examples/provision.lua" --app "$APP" --records records.csv \
  --template nvs.csv --log example.jsonl --labels labels.txt \
  "sim://esp32c3?mac=aa:00:00:00:03:01,sim://esp32c3?mac=aa:00:00:00:03:02"
expect_rc "the example provisions two devices" 0
expect_has "the example prints the summary" "provisioned 2 of 2 devices" "$OUT"
expect_eq "the example's log: two ok lines" 2 "$(grep -c '"result":"ok"' example.jsonl)"
expect_eq "the example's label file: serial and MAC of each device, as logged" \
  "$(sed 's/.*"mac":"\([^"]*\)".*"serial":"\([^"]*\)".*/\2 \1/' example.jsonl | sort)" "$(sort labels.txt)"
expect_eq "the label file has the two first records" "SN-0001 SN-0002" "$(cut -d' ' -f1 labels.txt | sort | xargs)"

# --- on a terminal: one line per device, redrawn in place ------------------------
if command -v expect >/dev/null; then
  TERM=dumb expect -c "set timeout 120
    spawn -noecho $ESPFLASH_BIN provision --app $APP --records records.csv --nvs-template nvs.csv \
      --log run.jsonl --port $(socket_ports 0 1)
    expect eof" >tty.out 2>&1
  screen=$(tr -d '\r' <tty.out)
  expect_has "the lines are redrawn in place (cursor up two lines)" $'\e[2A' "$screen"
  expect_has "device 0's line ends with its result" \
    "[socket://${ADDR[0]}]  $(mac_of 0) SN-0001  done in" "$(tail -5 <<<"$screen")"
  expect_has "device 1's line says it was provisioned before" \
    "[socket://${ADDR[1]}]  $(mac_of 1) SN-00" "$screen"
  expect_eq "no per-event lines on a terminal" "" "$(grep -F '[INFO ] Connecting' <<<"$screen")"
  expect_has "the summary follows" "provisioned 2 of 2 devices" "$screen"
else
  not_ok "expect is not installed (apt-get install expect)"
fi

finish
