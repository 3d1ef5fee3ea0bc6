# flash and erase-parts against the virtual device (sim://CHIP?flash=FILE):
# each test ELF lands exactly as save-image --merge lays it out, a second
# flash writes nothing, a changed function rewrites only its blocks, and the
# fit, chip and partition checks stop bad flashes.
. "$(dirname "$0")/check_helpers.bash"
E=$ESPFLASH_BIN
need_testdata
need_stubs
cd "$WORK" || exit 1
size() { stat -c %s "$1"; }
same() { if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$(cmp "$2" "$3" 2>&1)"; fi; }
written() { echo "$1" | sed -n 's/.*Wrote \([0-9,]*\) of .*/\1/p' | tr -d ,; }

# flash FILE CHIP ELF [ARGS...]: flash to a sim backed by FILE
flash() { local f=$1 chip=$2 elf=$3; shift 3; run "$E" flash --port "sim://$chip?flash=$f" "$@" "$elf"; }

# every test ELF: flash, read back, compare with the merged image
for elf in "$TD"/elf/esp32*.elf; do
  name=$(basename "$elf" .elf)
  case $name in *_*) continue ;; esac
  chip=$name
  img="$WORK/$chip.flash"
  flash "$img" "$chip" "$elf"
  expect_rc "flash $chip" 0
  expect_has "flash $chip prints the board" "Chip type:         $chip" "$OUT"
  expect_has "flash $chip prints the size line" "App/part. size:    " "$OUT"
  expect_has "flash $chip completes" "[INFO ] Flashing has completed!" "$ERR"
  "$E" save-image --chip "$chip" --merge --skip-padding "$elf" "$WORK/$chip.merged" >/dev/null 2>&1
  run "$E" read-flash --port "sim://$chip?flash=$img" 0 "$(size "$WORK/$chip.merged")" "$WORK/$chip.read"
  expect_rc "read-flash $chip" 0
  same "$chip: bootloader, table and app read back equal the merged image" "$WORK/$chip.merged" "$WORK/$chip.read"
done

# a second flash writes nothing
C3=$TD/elf/esp32c3.elf
flash "$WORK/esp32c3.flash" esp32c3 "$C3"
expect_rc "second flash succeeds" 0
expect_has "second flash skips the bootloader" "0x0 Skipped! (checksum matches)" "$ERR"
expect_has "second flash skips the table" "0x8000 Skipped! (checksum matches)" "$ERR"
expect_has "second flash skips the app" "0x10000 Skipped! (checksum matches)" "$ERR"
if [ "$(written "$ERR")" = 0 ]; then ok "second flash writes 0 bytes"; else not_ok "second flash writes 0 bytes" "$ERR"; fi

# a changed function: only its blocks (plus descriptor digest and checksum) are written
cat >"$WORK/patch.lua" <<'LUA'
local core = require("espflash.core")
local src, dst = ...
local e = assert(core.elf_read(src))
local text
for _, s in ipairs(e.sections) do if s.name == ".text" then text = s end end
for _, s in ipairs(e.symbols) do
  if s.type == "FUNC" and s.size >= 32 and s.value > text.addr + 0x100 and s.value < text.addr + text.size then
    local f = assert(io.open(src, "rb")); local d = f:read("a"); f:close()
    local off = text.offset + (s.value - text.addr) + 8
    f = assert(io.open(dst, "wb")); f:write(d:sub(1, off) .. "\1\0\1\0" .. d:sub(off + 5)); f:close()
    print(s.name)
    return 0
  end
end
return 1
LUA
run "$E" run "$WORK/patch.lua" "$C3" "$WORK/changed.elf"
expect_rc "made an ELF with one function changed" 0
flash "$WORK/esp32c3.flash" esp32c3 "$WORK/changed.elf"
expect_rc "flash of the changed ELF" 0
n=$(written "$ERR")
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -le 12288 ]; then
  ok "the changed function costs at most three 4 KiB blocks ($n bytes)"
else
  not_ok "the changed function costs at most three 4 KiB blocks" "$ERR"
fi
"$E" save-image --chip esp32c3 --merge --skip-padding "$WORK/changed.elf" "$WORK/changed.merged" >/dev/null 2>&1
run "$E" read-flash --port "sim://esp32c3?flash=$WORK/esp32c3.flash" 0 "$(size "$WORK/changed.merged")" "$WORK/changed.read"
same "the partial flash reads back as the changed merged image" "$WORK/changed.merged" "$WORK/changed.read"

flash "$WORK/esp32c3.flash" esp32c3 "$C3" --no-skip
total=$(echo "$ERR" | sed -n 's/.*Wrote [0-9,]* of \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
if [ -n "$total" ] && [ "$(written "$ERR")" = "$total" ]; then ok "--no-skip writes everything"; else not_ok "--no-skip writes everything" "$ERR"; fi

# checks that stop a flash
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --flash-size 2mb --partition-table "$TD/partitions/partitions.csv"
expect_rc "a table larger than the flash fails" 1
expect_has "espflash's does_not_fit message" "The partition table does not fit into the flash (2MB)" "$ERR"
flash "$WORK/esp32c3.flash" esp32c3 "$TD/elf/esp32c6.elf"
expect_rc "an ELF for another chip fails" 1
expect_has "the chips are named" "The firmware was built for esp32c6, but the detected chip is esp32c3" "$ERR"
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --min-chip-rev 9.0
expect_rc "a revision below the minimum fails" 1
expect_has "the revisions are named" "Minimum supported revision is 9.0, connected device's revision is" "$ERR"
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --min-chip-rev 9.0 --force
expect_rc "--force flashes anyway" 0
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --ram
expect_has "--ram refuses flash sections" "can not be run from RAM" "$ERR"
ESPFLASH_RESOURCES="$WORK/none" flash "$WORK/esp32c3.flash" esp32c3 "$C3"
expect_rc "no bootloader fails" 1
expect_has "no bootloader names the chip" "No second-stage bootloader found for the esp32c3" "$ERR"

# erase-parts and --erase-parts
head -c $((0x6000)) /dev/zero >"$WORK/zeros"
run "$E" write-bin --port "sim://esp32c3?flash=$WORK/esp32c3.flash" 0x9000 "$WORK/zeros"
expect_rc "wrote zeros into nvs" 0
run "$E" erase-parts --port "sim://esp32c3?flash=$WORK/esp32c3.flash" --partition-table "$TD/partitions/partitions.csv" nvs,phy_init
expect_rc "erase-parts" 0
expect_has "erase-parts names the partition" "Erasing nvs (nvs)..." "$ERR"
expect_has "erase-parts completes" "Specified partitions successfully erased!" "$ERR"
run "$E" read-flash --port "sim://esp32c3?flash=$WORK/esp32c3.flash" 0x9000 0x6000 "$WORK/nvs.read"
head -c $((0x6000)) /dev/zero | tr '\0' '\377' >"$WORK/ff"
same "nvs is erased" "$WORK/ff" "$WORK/nvs.read"
run "$E" erase-parts --port "sim://esp32c3?flash=$WORK/esp32c3.flash" --partition-table "$TD/partitions/partitions.csv" nope
expect_rc "erase-parts of an unknown label fails" 1
expect_has "the label is named" "Missing partition 'nope'" "$ERR"
run "$E" erase-parts --port "sim://esp32c3?flash=$WORK/esp32c3.flash" nvs
expect_has "erase-parts needs a table" "No partition table could be found" "$ERR"
run "$E" write-bin --port "sim://esp32c3?flash=$WORK/esp32c3.flash" 0x9000 "$WORK/zeros"
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --erase-data-parts nvs
expect_has "--erase-data-parts erases nvs" "Erasing nvs (nvs)..." "$ERR"
run "$E" read-flash --port "sim://esp32c3?flash=$WORK/esp32c3.flash" 0x9000 0x6000 "$WORK/nvs2.read"
same "--erase-data-parts nvs leaves nvs erased" "$WORK/ff" "$WORK/nvs2.read"
flash "$WORK/esp32c3.flash" esp32c3 "$C3" --erase-data-parts bogus
expect_rc "an unknown data type is a usage error" 2

finish
