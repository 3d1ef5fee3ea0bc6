#!/usr/bin/env bash
# NVS images end to end: nvs-gen from a CSV (every encoding, a file row, a
# multi-page blob), nvs-dump of the file, write-bin of the image and a
# partition table to the virtual device (sim://esp32c3?flash=FILE, whose
# backing file keeps the flash between commands), then nvs-dump from the
# device: found through the device's own table, a table file, or an offset.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
need_stubs
cd "$WORK" || exit 1
PORT="sim://esp32c3?flash=$WORK/flash.bin"

# a 5000-byte certificate-like file: a blob spanning two pages
mkdir -p certs
head -c 5000 /dev/urandom >certs/device.der
cat >factory.csv <<'EOF'
key,type,encoding,value
# factory data, one device
factory,namespace,,
serial,data,string,SN-0042
hw_rev,data,u8,3
offset,data,i16,-300
boot_count,data,u32,4000000000
uid,data,u64,18446744073709551615
delta,data,i64,-5
key_hex,data,hex2bin,00112233445566778899aabbccddeeff
token,data,base64,c2VjcmV0
note,data,string,"commas, ""quotes"""
cert,file,binary,certs/device.der
wifi,namespace,,
ssid,data,string,factory-net
channel,data,i8,-1
EOF

run "$E" nvs-gen factory.csv nvs.bin --size 0x6000
expect_rc "nvs-gen succeeds" 0
expect_has "nvs-gen reports what it built" "Created NVS image 'nvs.bin': 12 entries in 2 namespaces, 2 of 6 pages used (0x6000 bytes)" "$ERR"
expect_eq "the image is the partition size" 24576 "$(stat -c %s nvs.bin)"

run "$E" nvs-dump nvs.bin
expect_rc "nvs-dump of the file succeeds" 0
FILE_DUMP=$OUT
expect_has "string entry listed" 'factory    serial      string  "SN-0042"' "$OUT"
expect_has "u64 listed unsigned" "factory    uid         u64     18446744073709551615" "$OUT"
expect_has "i16 listed" "factory    offset      i16     -300" "$OUT"
expect_has "multi-page blob listed whole" "factory    cert        blob    (5000 bytes)" "$OUT"
expect_has "second namespace" "wifi       channel     i8      -1" "$OUT"
expect_lacks "no problems in a fresh image" "WARN" "$ERR"
expect_has "nvs-dump sums up" "[INFO ] 12 entries in 2 namespaces; 2 of 6 pages in use" "$ERR"

# --csv gives back a CSV that builds the very same image
run "$E" nvs-dump --csv nvs.bin
printf '%s\n' "$OUT" >back.csv
run "$E" nvs-gen back.csv back.bin
if cmp -s nvs.bin back.bin; then ok "nvs-dump --csv | nvs-gen rebuilds identical bytes"
else not_ok "nvs-dump --csv | nvs-gen rebuilds identical bytes" "$(cmp nvs.bin back.bin)"; fi

# to the device: the partition table at 0x8000, the image at the nvs partition
cat >parts.csv <<'EOF'
# Name,   Type, SubType, Offset,  Size,   Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 1M,
EOF
run "$E" partition-table --to-binary -o parts.bin parts.csv
expect_rc "partition table converted" 0
run "$E" write-bin -p "$PORT" 0x8000 parts.bin
expect_rc "write-bin of the table" 0
run "$E" write-bin -p "$PORT" 0x9000 nvs.bin
expect_rc "write-bin of the NVS image" 0

run "$E" nvs-dump -p "$PORT"
expect_rc "nvs-dump from the device (table read from flash)" 0
expect_has "reads the partition the table names" "Reading the NVS partition at 0x9000 (0x6000 bytes)" "$ERR"
expect_eq "device listing equals the file listing" "$FILE_DUMP" "$(printf '%s\n' "$OUT" | sed -n '/^Namespace /,$p')"

run "$E" nvs-dump -p "$PORT" --partition-table parts.csv --label nvs --csv
expect_rc "nvs-dump with a table file and a label" 0
printf '%s\n' "$OUT" | sed -n '/^key,type,encoding,value$/,$p' >dev.csv
run "$E" nvs-gen dev.csv dev.bin
if cmp -s nvs.bin dev.bin; then ok "the device's entries rebuild the image"; else not_ok "the device's entries rebuild the image"; fi

run "$E" nvs-dump -p "$PORT" --offset 0x9000 --size 0x6000
expect_rc "nvs-dump by offset" 0
expect_has "offset read lists the entries" 'wifi       ssid        string  "factory-net"' "$OUT"

# a whole-flash file works too, sliced by the table
run "$E" nvs-dump "$WORK/flash.bin" --partition-table parts.csv
expect_rc "nvs-dump of a flash dump with a table" 0
expect_eq "flash-dump listing equals the file listing" "$FILE_DUMP" "$OUT"

# damage: one flipped byte in an entry is reported and skipped
cp nvs.bin bad.bin
printf '\x07' | dd of=bad.bin bs=1 seek=$((64 + 32 * 3 + 24)) conv=notrunc status=none
run "$E" nvs-dump bad.bin
expect_rc "a corrupt entry still lists the rest" 0
expect_has "corrupt entry reported" "[WARN ] page 0 entry 3: entry CRC mismatch (key 'hw_rev'); skipped" "$ERR"
expect_lacks "corrupt entry not listed" "hw_rev" "$OUT"

# mistakes
printf 'key,type,encoding,value\nns,namespace,,\nx,data,u8,300\n' >bad.csv
run "$E" nvs-gen bad.csv out.bin
expect_rc "bad CSV exits 1" 1
expect_has "bad CSV names the line" "error: bad.csv: line 3: key 'x': 300 is out of range for u8 (0..255)" "$ERR"
[ -e out.bin ] && not_ok "no image written for a bad CSV" || ok "no image written for a bad CSV"
run "$E" nvs-gen factory.csv out.bin --size 0x2000
expect_rc "too small a size exits 1" 1
expect_has "size error" "at least 0x3000" "$ERR"
head -c 10000 /dev/urandom >certs/big.der
printf 'key,type,encoding,value\nns,namespace,,\nbig,file,binary,certs/big.der\n' >big.csv
run "$E" nvs-gen big.csv out.bin --size 0x3000
expect_rc "data that does not fit exits 1" 1
expect_has "overflow names the entry" "error: big.csv: line 3: key 'big' does not fit in a 0x3000-byte NVS partition" "$ERR"
run "$E" nvs-gen big.csv out.bin --size 0x4000
expect_rc "the same data fits a page more" 0
run "$E" nvs-dump nvs.bin --offset 0x9000
expect_rc "--offset without --size is a usage error" 2
run "$E" nvs-dump -p "sim://esp32c3?flash=$WORK/blank.bin"
expect_rc "a device without a partition table" 1
expect_has "says there is no table" "No partition table found at 0x8000 on the device" "$ERR"

finish
