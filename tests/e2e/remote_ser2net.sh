#!/usr/bin/env bash
# Remote ports through a real serial server: Debian's ser2net serves a virtual
# ESP32-C3 (`espflash sim --pty`) with the configuration docs/remote.md shows
# (taken from that file; device and ports replaced by the pty and two free
# local ports). board-info, erase-flash, write-bin, read-flash, erase-region,
# checksum-md5, reset and hold-in-reset, with the stub and with the ROM, run
# through its RFC 2217 port as rfc2217://127.0.0.1:PORT and then through its
# raw TCP port as socket://127.0.0.1:PORT, checked against the virtual
# device's flash file; then the monitor through both ports. Acceptance: a test ELF flashed through the RFC 2217
# port reads back equal to the merged image, through both ports, and the
# flash file holds the same bytes.
# ser2net and the virtual device are direct children of this script, polled
# for readiness, stopped and reaped at the end. The pty has no modem lines:
# ser2net ignores (and never answers) SET-CONTROL there, so the resets are
# sent but do nothing, and every restart() gives a fresh chip in its ROM
# loader instead; tests/c/test_port_rfc2217_reset.c checks the resets.
set -euo pipefail
: "${ESPFLASH_BIN:?set by ctest}"
: "${ESPFLASH_SOURCE_DIR:?set by ctest}"
SER2NET=/usr/sbin/ser2net
[ -x "$SER2NET" ] || { echo "FAIL: $SER2NET is missing (apt-get install ser2net)"; exit 1; }
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: flasher stubs not installed in \$ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi

work=$(mktemp -d)
sim= s2n= sim2=
# stop PID: SIGTERM, then SIGKILL after 2 s (ser2net ignores SIGTERM while an
# accepter cannot bind); always reaped
stop() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
trap 'stop "$s2n"; stop "$sim"; rm -rf "$work"' EXIT
FLASH=$work/flash.bin

# The ser2net configuration block of docs/remote.md.
CONFIG=$(sed -n '/<!-- ser2net-config:/,/^```$/p' "$ESPFLASH_SOURCE_DIR/docs/remote.md" | sed '1,2d;$d')
case $CONFIG in *"telnet(rfc2217),tcp,4000"*"tcp,4001"*) ;; *)
  echo "FAIL: no ser2net configuration block found in docs/remote.md"; exit 1 ;;
esac

start_sim() {
  "$ESPFLASH_BIN" sim --chip esp32c3 --pty --flash "$FLASH" >"$work/sim.log" 2>&1 &
  sim=$!
  for _ in $(seq 100); do grep -q "Pseudo-terminal:" "$work/sim.log" && break; sleep 0.05; done
  PTY=$(sed -n 's/^Pseudo-terminal: //p' "$work/sim.log")
  [ -e "$PTY" ] || { echo "FAIL: espflash sim --pty did not start"; cat "$work/sim.log"; exit 1; }
}

# A local TCP port nobody uses (any state), away from ser2net's defaults.
free_port() {
  local used p
  used=" $(while read -r _ local _; do echo $((16#${local##*:})); done < <(tail -qn +2 /proc/net/tcp /proc/net/tcp6) | tr '\n' ' ') "
  while :; do
    p=$((20000 + RANDOM % 25000))
    case $used in *" $p "*) ;; *) [ "$p" != "${1:-}" ] && { echo "$p"; return; } ;; esac
  done
}

# listens PID PORT: PID has a socket listening on 127.0.0.1:PORT
listens() {
  local inode
  inode=$(awk -v a="$(printf '0100007F:%04X' "$2")" '$2 == a && $4 == "0A" { print $10; exit }' /proc/net/tcp)
  [ -n "$inode" ] && ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$inode\]"
}

# Starts ser2net on the current pty; picks new ports when they were taken.
start_ser2net() {
  for _ in 1 2 3; do
    RFC_PORT=${RFC_PORT:-$(free_port)}
    RAW_PORT=${RAW_PORT:-$(free_port "$RFC_PORT")}
    printf '%s\n' "$CONFIG" | sed -e "s#tcp,4000#tcp,127.0.0.1,$RFC_PORT#" -e "s#tcp,4001#tcp,127.0.0.1,$RAW_PORT#" \
      -e "s#serialdev,[^,]*,#serialdev,$PTY,#" >"$work/ser2net.yaml"
    "$SER2NET" -n -u -c "$work/ser2net.yaml" -P "$work/ser2net.pid" >"$work/ser2net.log" 2>&1 &
    s2n=$!
    for _ in $(seq 60); do
      listens "$s2n" "$RFC_PORT" && listens "$s2n" "$RAW_PORT" && return 0
      sleep 0.05
    done
    stop "$s2n"; s2n=
    RFC_PORT= RAW_PORT=
  done
  echo "FAIL: ser2net did not listen"; cat "$work/ser2net.yaml" "$work/ser2net.log"; exit 1
}

# A fresh chip in its ROM loader (the pty carries no reset): restart both.
restart() { stop "$s2n"; stop "$sim"; s2n= sim=; start_sim; start_ser2net; }

# ser2net gives the pty to its other port only once the previous client's
# connection has let go of it (until then it answers "Port's device already in
# use"): wait until ser2net holds no descriptor on the pty.
released() {
  for _ in $(seq 200); do
    ls -l "/proc/$s2n/fd" 2>/dev/null | grep -qF -- "$PTY" || return 0
    sleep 0.01
  done
  fail "ser2net kept $PTY open"
}

# scenarios URL: the device commands through one of ser2net's ports. The
# chip starts fresh in its ROM loader (restart); ROM-only reads stay small:
# each 64-byte READ_FLASH_SLOW is a network round trip.
scenarios() {
  local url=$1
  P=(-p "$url")
  restart
  local start elapsed
  start=$(date +%s%N)
  ok "Chip type:         esp32c3 (revision v0.4)" board-info "${P[@]}"
  elapsed=$((($(date +%s%N) - start) / 1000000))
  [ "$elapsed" -lt 3000 ] || fail "board-info through $url took $elapsed ms"
  for line in "MAC address:       60:55:f9:7e:7b:c0" "Security Information:" "[INFO ] Serial port: '$url'"; do
    grep -qF -- "$line" "$OUT" || fail "board-info lacks '$line'"
  done

  ok "Flash has been erased!" erase-flash "${P[@]}"
  ok "Flash content successfully read" read-flash "${P[@]}" 0 0x4000 "$work/erased.bin"
  same_bytes "$work/erased.bin" <(ff 16384) "read-flash after erase-flash"

  # erase-region between two written sectors
  head -c 8192 /dev/urandom >"$work/two-sectors.bin"
  ok "Binary successfully written to flash!" write-bin "${P[@]}" 0x1000 "$work/two-sectors.bin"
  ok "Erasing region at 0x00001000 (4096 bytes)" erase-region "${P[@]}" 0x1000 0x1000
  ok "Flash content successfully read" read-flash "${P[@]}" 0x1000 0x2000 "$work/region.bin"
  same_bytes <(head -c 4096 "$work/region.bin") <(ff 4096) "erased sector"
  same_bytes <(tail -c 4096 "$work/region.bin") <(tail -c 4096 "$work/two-sectors.bin") "the sector after it"

  # 256 KiB of random data with runs of 0xFF (Telnet's IAC) written, read back, summed
  { head -c 100000 /dev/urandom; ff 30000; head -c 100000 /dev/urandom; ff 32144; } >"$work/big.bin"
  ok "Binary successfully written to flash!" write-bin "${P[@]}" 0x100000 "$work/big.bin"
  same_bytes <(flash_bytes 0x100000 262144) "$work/big.bin" "the flash file after write-bin"
  ok "Flash content successfully read" read-flash "${P[@]}" 0x100000 262144 "$work/big-read.bin"
  same_bytes "$work/big-read.bin" "$work/big.bin" "read-flash of 256 KiB"
  local sum
  sum="0x$(md5sum "$work/big.bin" | cut -c1-32 | sed 's/^0*//')"
  [ "$("$ESPFLASH_BIN" checksum-md5 "${P[@]}" 0x100000 262144 2>"$OUT")" = "$sum" ] ||
    fail "checksum-md5 of 256 KiB through $url"

  ok "Resetting target device" reset "${P[@]}"
  ok "Holding target device in reset" hold-in-reset "${P[@]}"

  # the ROM loader (--no-stub) on a fresh chip
  restart
  [ "$("$ESPFLASH_BIN" checksum-md5 "${P[@]}" --no-stub 0x100000 262144 2>"$OUT")" = "$sum" ] ||
    fail "checksum-md5 --no-stub through $url"
  ok "Flash content successfully read" read-flash "${P[@]}" --no-stub 0x100000 1024 "$work/rom-read.bin"
  if grep -qE "Using flash stub|stub is already running" "$OUT"; then fail "read-flash --no-stub used the stub"; fi
  same_bytes "$work/rom-read.bin" <(head -c 1024 "$work/big.bin") "read-flash --no-stub of 1 KiB"
  printf '\377\001\377\377\300\333abc' >"$work/pattern.bin"
  ok "Binary successfully written to flash!" write-bin "${P[@]}" --no-stub 0x2000 "$work/pattern.bin"
  same_bytes <(flash_bytes 0x2000 12) <(cat "$work/pattern.bin"; printf '\377\377\377') "write-bin --no-stub"
  echo "ok - device commands through $url"
}

start_sim
start_ser2net
. "$(dirname "$0")/device_scenarios.inc" # ok, fail, same_bytes, flash_bytes, ff

# 1. RFC 2217 (a default reset on a pty that ser2net never answers
#    SET-CONTROL for must not hang: board-info is timed)
scenarios "rfc2217://127.0.0.1:$RFC_PORT"

# 2. Acceptance: a test ELF through RFC 2217, read back = merged image = flash file
TD=${ESPFLASH_TESTDATA:-}
if [ -n "$TD" ] && [ -f "$TD/elf/esp32c3.elf" ]; then
  export ESPFLASH_RESOURCES="$TD"
  restart
  PORT=rfc2217://127.0.0.1:$RFC_PORT
  "$ESPFLASH_BIN" save-image --chip esp32c3 --merge --skip-padding "$TD/elf/esp32c3.elf" "$work/merged.bin" \
    >"$OUT" 2>&1 || fail "save-image --merge"
  size=$(stat -c %s "$work/merged.bin")
  ok "Flashing has completed!" flash -p "$PORT" "$TD/elf/esp32c3.elf"
  ok "Flash content successfully read" read-flash -p "$PORT" 0 "$size" "$work/elf-read.bin"
  same_bytes "$work/elf-read.bin" "$work/merged.bin" "the ELF read back through rfc2217://"
  same_bytes <(flash_bytes 0 "$size") "$work/merged.bin" "the virtual device's flash file after flash"
  released
  ok "Flash content successfully read" read-flash -p "socket://127.0.0.1:$RAW_PORT" 0 "$size" "$work/elf-raw.bin"
  same_bytes "$work/elf-raw.bin" "$work/merged.bin" "the ELF read back through socket://"
  echo "ok - a test ELF flashed through ser2net's RFC 2217 port reads back identical"
else
  echo "SKIP: ESPFLASH_TESTDATA has no elf/esp32c3.elf: the ELF acceptance check did not run"
fi

# 3. raw TCP through the same ser2net configuration
scenarios "socket://127.0.0.1:$RAW_PORT"

# 3b. Parallel flashing across a mix of remote and local ports: one
#     espflash.each_device workflow writes, reads back and checksums the same
#     data on the board behind ser2net (rfc2217://), a second virtual chip on
#     a local pseudo-terminal, and an in-process sim:// chip, all at once.
restart
released
"$ESPFLASH_BIN" sim --chip esp32c3 --pty --flash "$work/local.bin" >"$work/sim2.log" 2>&1 &
sim2=$!
trap 'stop "$s2n"; stop "$sim"; stop "$sim2"; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "Pseudo-terminal:" "$work/sim2.log" && break; sleep 0.05; done
PTY2=$(sed -n 's/^Pseudo-terminal: //p' "$work/sim2.log")
[ -e "$PTY2" ] || fail "the second virtual chip did not start"
cat >"$work/parallel.lua" <<'LUA'
local espflash = require("espflash")
local bytes = {}
for i = 1, 48 * 1024 do bytes[i] = string.char((i * 7 + i // 251) % 256) end
local data = table.concat(bytes)
local results = espflash.each_device({ arg[1], arg[2], arg[3] }, function(dev)
  dev:write(0x30000, data, { verify = true })
  assert(dev:read(0x30000, #data) == data, "read back differs")
  return dev:md5(0x30000, #data)
end)
for _, r in ipairs(results) do print(r.port, r.ok and "ok " .. r.value or "failed: " .. tostring(r.err)) end
io.open(arg[4], "wb"):write(data):close()
return results.all_ok and 0 or 1
LUA
"$ESPFLASH_BIN" run "$work/parallel.lua" "rfc2217://127.0.0.1:$RFC_PORT" "$PTY2" \
  "sim://esp32c3?flash=$work/inproc.bin" "$work/parallel.want" >"$work/parallel.out" 2>&1 \
  || { cat "$work/parallel.out"; fail "each_device across rfc2217://, a local pty and sim:// failed"; }
[ "$(grep -c $'\tok ' "$work/parallel.out")" -eq 3 ] || { cat "$work/parallel.out"; fail "each_device did not report three devices ok"; }
stop "$sim2"; sim2=
for f in "$FLASH" "$work/local.bin" "$work/inproc.bin"; do
  cmp -s <(dd if="$f" bs=4096 skip=48 count=12 2>/dev/null) "$work/parallel.want" \
    || fail "the flash file $f does not hold the data written in parallel"
done
echo "ok - parallel flashing across rfc2217://, a local pty and sim://"

# 4. The monitor through both ports. A socat pty pair stands in for the
#    board: ser2net serves one end, this script prints into the other, bytes
#    that look like Telnet commands (IAC IAC, IAC WILL ECHO) included; they
#    must reach the screen as data (invalid UTF-8 shows as U+FFFD).
if command -v socat >/dev/null; then
  stop "$s2n"; stop "$sim"; s2n= sim=
  socat "pty,raw,echo=0,link=$work/mon.dev" "pty,raw,echo=0,link=$work/mon.peer" 2>/dev/null &
  sim=$!
  for _ in $(seq 100); do [ -e "$work/mon.dev" ] && [ -e "$work/mon.peer" ] && break; sleep 0.05; done
  PTY=$(readlink -f "$work/mon.dev")
  start_ser2net
  printf 'hello \357\277\275\357\277\275 world\r\nIAC \357\277\275\357\277\275\001 done\r\n' >"$work/mon.want"
  for url in "rfc2217://127.0.0.1:$RFC_PORT" "socket://127.0.0.1:$RAW_PORT"; do
    released
    "$ESPFLASH_BIN" monitor -p "$url" --before no-reset-no-sync --non-interactive --no-reset -c esp32c3 \
      --timeout 2 >"$work/mon.out" 2>"$work/mon.err" </dev/null &
    mon=$!
    for _ in $(seq 100); do grep -qF "Connecting..." "$work/mon.err" && break; sleep 0.02; done
    printf 'hello \377\377 world\r\nIAC \377\373\001 done\r\n' >"$work/mon.peer"
    wait "$mon" || { cp "$work/mon.err" "$OUT"; fail "monitor through $url exited with $?"; }
    cp "$work/mon.err" "$OUT"
    same_bytes "$work/mon.out" "$work/mon.want" "what the monitor showed through $url"
  done
  echo "ok - the monitor through rfc2217:// and socket://"
else
  echo "SKIP: socat is not installed: the monitor checks did not run"
fi
echo "remote_ser2net: all checks passed"
