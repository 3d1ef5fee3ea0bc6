# save-image, image-info and partition-table from the command line, offline,
# with the real test ELFs and bootloaders (ESPFLASH_RESOURCES=$ESPFLASH_TESTDATA).
. "$(dirname "$0")/check_helpers.bash"
E=$ESPFLASH_BIN
need_testdata
cd "$WORK" || exit 1
hexat() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
size() { stat -c %s "$1"; }
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# every test ELF: save-image, then image-info validates it
for elf in "$TD"/elf/*.elf; do
  name=$(basename "$elf" .elf)
  chip=${name%%_*}
  run "$E" save-image --chip "$chip" "$elf" "$WORK/$name.bin"
  expect_rc "save-image $name" 0
  expect_has "save-image $name prints the chip" "Chip type:         $chip" "$OUT"
  expect_has "save-image $name prints the size line" "App/part. size:    " "$OUT"
  expect_has "save-image $name logs success" "[INFO ] Image successfully saved!" "$ERR"
  run "$E" image-info "$WORK/$name.bin"
  expect_rc "image-info $name exits 0" 0
  expect_has "image-info $name: checksum valid" "Checksum: 0x" "$OUT"
  expect_has "image-info $name: checksum valid" "(valid)" "$(echo "$OUT" | grep '^Checksum')"
  expect_has "image-info $name: digest valid" "(valid)" "$(echo "$OUT" | grep '^Validation hash')"
  expect_has "image-info $name: segments aligned" "flash-mapped segments aligned" "$OUT"
  expect_has "image-info $name: app descriptor" "Project name: " "$OUT"
done

# the exact output lines of save-image
run "$E" save-image --chip esp32c3 "$TD/elf/esp32c3.elf" "$WORK/c3.bin"
expect_eq "save-image stdout" "Chip type:         esp32c3
Merge:             false
Skip padding:      false
App/part. size:    $(commas "$(size "$WORK/c3.bin")")/4,128,768 bytes, $(awk -v a="$(size "$WORK/c3.bin")" 'BEGIN{printf "%.2f", a/4128768*100}')%" "$OUT"

# --merge: bootloader at the chip's offset, table at 0x8000, app at 0x10000
for chip in esp32 esp32c3; do
  run "$E" save-image --chip $chip --merge "$TD/elf/$chip.elf" "$WORK/$chip-merged.bin"
  expect_rc "save-image --merge $chip" 0
  expect_has "--merge is reported" "Merge:             true" "$OUT"
  expect_eq "--merge pads to 4 MB ($chip)" 4194304 "$(size "$WORK/$chip-merged.bin")"
  expect_eq "app descriptor magic at 0x10020 ($chip)" 3254cdab "$(hexat "$WORK/$chip-merged.bin" $((0x10020)) 4)"
  expect_eq "table entry magic at 0x8000 ($chip)" aa50 "$(hexat "$WORK/$chip-merged.bin" $((0x8000)) 2)"
  cmp -s <(tail -c +$((0x10001)) "$WORK/$chip-merged.bin" | head -c "$(size "$WORK/$chip.bin")") "$WORK/$chip.bin" \
    && ok "the app image sits at 0x10000 ($chip)" || not_ok "the app image sits at 0x10000 ($chip)"
done
expect_eq "ESP32 bootloader at 0x1000" e9 "$(hexat "$WORK/esp32-merged.bin" $((0x1000)) 1)"
expect_eq "0xFF before the ESP32 bootloader" "$(printf 'ff%.0s' $(seq 16))" "$(hexat "$WORK/esp32-merged.bin" 0 16)"
expect_eq "ESP32-C3 bootloader at 0x0" e9 "$(hexat "$WORK/esp32c3-merged.bin" 0 1)"
run "$E" image-info --offset 0x10000 "$WORK/esp32c3-merged.bin"
expect_rc "image-info --offset reads the app inside a merged image" 0
run "$E" image-info --offset 0 "$WORK/esp32c3-merged.bin"
expect_has "image-info reads the bootloader of a merged image" "Chip ID: 5 (ESP32-C3)" "$OUT"

run "$E" save-image --chip esp32c3 --merge --skip-padding "$TD/elf/esp32c3.elf" "$WORK/short.bin"
expect_eq "--skip-padding ends with the app" $((0x10000 + $(size "$WORK/c3.bin"))) "$(size "$WORK/short.bin")"
run "$E" save-image --chip esp32c3 --skip-padding "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_rc "--skip-padding without --merge is a usage error" 2

# flash parameters and image options reach the header
run "$E" save-image --chip esp32c6 -s 16mb -f 80mhz -m qio --min-chip-rev 0.1 "$TD/elf/esp32c6.elf" "$WORK/c6.bin"
run "$E" image-info "$WORK/c6.bin"
expect_has "flash size in the header" "Flash size: 16MB" "$OUT"
expect_has "flash frequency in the header" "Flash freq: 80MHz" "$OUT"
expect_has "flash mode in the header" "Flash mode: QIO" "$OUT"
expect_has "minimum revision in the header" "Minimal chip revision: v0.1" "$OUT"
run "$E" save-image --chip esp32c2 -f 80mhz "$TD/elf/esp32c2.elf" "$WORK/x.bin"
expect_rc "unsupported frequency fails" 1
expect_has "unsupported frequency is named" "The specified flash frequency '80mhz' is not supported by the esp32c2" "$ERR"
run "$E" save-image --chip esp32c3 --min-chip-rev 3 "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_rc "a malformed --min-chip-rev is a usage error" 2
run "$E" save-image --chip esp32 -x 26mhz "$TD/elf/esp32.elf" "$WORK/x26.bin"
expect_rc "-x 26mhz picks the 26 MHz ESP32 bootloader" 0
run "$E" save-image --chip esp32c3 -x 26mhz "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_has "-x 26mhz is refused for the C3" "The esp32c3 does not support the selected crystal frequency" "$ERR"
run "$E" save-image "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_rc "--chip is required" 2

# without bootloaders: an error naming the chip and the ways to give one
ESPFLASH_RESOURCES="$WORK/none" run "$E" save-image --chip esp32h2 "$TD/elf/esp32h2.elf" "$WORK/x.bin"
expect_rc "no bootloader fails" 1
expect_has "no bootloader names the chip" "No second-stage bootloader found for the esp32h2" "$ERR"
expect_has "no bootloader lists --bootloader" "--bootloader FILE" "$ERR"
ESPFLASH_RESOURCES="$WORK/none" run "$E" save-image --chip esp32h2 --bootloader "$TD/bootloaders/esp32h2-bootloader.bin" "$TD/elf/esp32h2.elf" "$WORK/x.bin"
expect_rc "--bootloader works without a resource directory" 0
run "$E" save-image --chip esp32c3 --bootloader "$TD/elf/esp32c3.elf" "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_has "a bootloader that is not an image is refused" "The provided bootloader binary is invalid" "$ERR"

# image-info on a damaged image
cp "$WORK/c3.bin" "$WORK/bad.bin"
printf 'X' | dd of="$WORK/bad.bin" bs=1 seek=$((0x200)) conv=notrunc 2>/dev/null
run "$E" image-info "$WORK/bad.bin"
expect_rc "image-info exits 1 for a damaged image" 1
expect_has "the checksum is reported invalid" "(invalid - calculated 0x" "$OUT"
run "$E" image-info "$TD/elf/esp32c3.elf"
expect_has "image-info refuses an ELF" "Not a valid ESP image" "$ERR"

# partition tables
PT=$TD/partitions/partitions.csv
run "$E" partition-table "$PT"
expect_rc "partition-table shows a CSV table" 0
expect_has "the table lists factory" "│ factory  ┆ app  ┆ factory ┆ 0x10000 ┆ 0x400000 (4096KiB) ┆" "$OUT"
run "$E" partition-table --to-binary -o "$WORK/pt.bin" "$PT"
expect_eq "--to-binary writes 0xC00 bytes" 3072 "$(size "$WORK/pt.bin")"
run "$E" partition-table --to-csv "$WORK/pt.bin"
expect_has "--to-csv prints CSV" "factory,app,factory,0x10000,0x400000," "$OUT"
"$E" partition-table --to-csv "$WORK/pt.bin" >"$WORK/pt.csv"
"$E" partition-table --to-binary "$WORK/pt.csv" >"$WORK/pt2.bin"
cmp -s "$WORK/pt.bin" "$WORK/pt2.bin" && ok "binary -> CSV -> binary is byte for byte" || not_ok "binary -> CSV -> binary"
"$E" partition-table --to-binary "$WORK/pt.bin" >"$WORK/pt3.bin"
cmp -s "$WORK/pt.bin" "$WORK/pt3.bin" && ok "--to-binary accepts binary input" || not_ok "--to-binary of binary"
run "$E" partition-table "$WORK/pt.bin"
expect_has "partition-table shows a binary table" "│ nvs      ┆ data ┆ nvs     ┆ 0x9000  ┆ 0x6000 (24KiB)     ┆" "$OUT"
run "$E" partition-table --to-csv "$PT"
expect_rc "--to-csv needs a binary table" 1
run "$E" partition-table --to-csv --to-binary "$PT"
expect_rc "--to-csv with --to-binary is a usage error" 2
printf 'a, app, factory, 0x10000, 1M\nb, app, factory, 0x110000, 1M\n' >"$WORK/two.csv"
run "$E" partition-table "$WORK/two.csv"
expect_rc "an invalid table fails" 1
expect_has "the rule broken is named with the file" "Failed to parse partition table $WORK/two.csv: Multiple partitions with type 'app' and subtype 'factory' were found" "$ERR"

# a custom table, its offset and the target app partition land in the merged image
printf 'nvs,data,nvs,0x9000,0x4000\notadata,data,ota,0xd000,0x2000\nota_0,app,ota_0,0x10000,1M\nota_1,app,ota_1,0x110000,1M\n' >"$WORK/ota.csv"
run "$E" save-image --chip esp32c3 --merge --skip-padding --partition-table "$WORK/ota.csv" \
  --partition-table-offset 0x7000 --target-app-partition ota_1 "$TD/elf/esp32c3.elf" "$WORK/ota.bin"
expect_rc "save-image with a custom table" 0
expect_has "the app partition's size is reported" "/1,048,576 bytes" "$OUT"
expect_eq "the table sits at --partition-table-offset" aa50 "$(hexat "$WORK/ota.bin" $((0x7000)) 2)"
expect_eq "nothing at the default table offset" ffff "$(hexat "$WORK/ota.bin" $((0x8000)) 2)"
expect_eq "the app sits in ota_1" e9 "$(hexat "$WORK/ota.bin" $((0x110000)) 1)"
expect_eq "ota_0 stays empty" ff "$(hexat "$WORK/ota.bin" $((0x10000)) 1)"
run "$E" save-image --chip esp32c3 --partition-table "$WORK/ota.csv" --target-app-partition nvs "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_has "a data partition is no app partition" "App partition not found: no app partition called 'nvs'" "$ERR"
run "$E" save-image --chip esp32c3 --partition-table-offset 0x9000 "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_has "a table over a partition is refused" "overlaps the partition table at 0x9000" "$ERR"

# a table that does not fit the flash
run "$E" save-image --chip esp32c3 -s 2mb --partition-table "$PT" "$TD/elf/esp32c3.elf" "$WORK/x.bin"
expect_rc "save-image with a table larger than the flash fails" 1
expect_has "does_not_fit message" "The partition table does not fit into the flash (2MB)" "$ERR"

# espflash 4.1's spelling of --ignore-app-descriptor still works
"$E" run "$ESPFLASH_SOURCE_DIR/tests/fixtures/make_firmware.lua" "$WORK" >/dev/null
run "$E" save-image --chip esp32c3 --ignore_app_descriptor --bootloader "$WORK/bootloader.bin" \
  "$WORK/app.elf" "$WORK/alias.bin"
expect_rc "--ignore_app_descriptor is accepted as an alias" 0

finish
