#!/usr/bin/env bash
# Configuration files through the binary (docs/config.md): the precedence
# matrix for the port and the baud rate (flag > environment > ./ > ../ >
# user directory > default), the misplaced-key and TOML errors, the espflash 3
# migration, and espflash.toml's [idf] settings applied with paths relative
# to the file (partition table, its offset, the target app partition).
# Virtual devices (sim://CHIP) tell which setting won: each level names
# another chip.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
need_stubs
unset ESPFLASH_LUA_DIR   # the embedded sources, as installed
GLOBAL=$HOME/.config/espflash
WS=$WORK/ws
APP=$WS/app
mkdir -p "$GLOBAL" "$APP"
echo '[]' >"$WORK/no-ports.json"
export ESPFLASH_TEST_PORTS=$WORK/no-ports.json   # no enumerated ports: nothing to fall back on
cd "$APP" || exit 1

ports_file() { printf '[connection]\nserial = "%s"\n' "$2" >"$1/espflash_ports.toml"; }
chip_of() { sed -n 's/^Chip type: *\([a-z0-9]*\).*/\1/p' <<<"$OUT"; }

# --- the port ----------------------------------------------------------------
ports_file "$GLOBAL" "sim://esp32c6"
ports_file "$WS" "sim://esp32s3"
ports_file "$APP" "sim://esp32c3"
ESPFLASH_PORT=sim://esp32h2 run "$E" board-info -p sim://esp32s2
expect_eq "--port beats everything" "esp32s2" "$(chip_of)"
ESPFLASH_PORT=sim://esp32h2 run "$E" board-info
expect_eq "ESPFLASH_PORT beats the files" "esp32h2" "$(chip_of)"
run "$E" board-info
expect_eq "./espflash_ports.toml beats ../ and the user directory" "esp32c3" "$(chip_of)"
expect_has "the port used is logged" "[INFO ] Serial port: 'sim://esp32c3'" "$ERR"
rm "$APP/espflash_ports.toml"
run "$E" board-info
expect_eq "../espflash_ports.toml beats the user directory" "esp32s3" "$(chip_of)"
rm "$WS/espflash_ports.toml"
run "$E" board-info
expect_eq "the user directory's file is used last" "esp32c6" "$(chip_of)"
XDG_CONFIG_HOME=$WORK/xdg run "$E" board-info --non-interactive
expect_rc "\$XDG_CONFIG_HOME moves the user directory: no port at all" 1
expect_has "no port: espflash's error" "No serial ports could be detected [espflash::no_serial]" "$ERR"
ESPFLASH_PORT= run "$E" board-info
expect_eq "an empty ESPFLASH_PORT counts as unset" "esp32c6" "$(chip_of)"

# --- the baud rate -------------------------------------------------------------
printf 'baudrate = 230400\n' >"$GLOBAL/espflash.toml"
printf 'baudrate = 460800\n' >"$WS/espflash.toml"
printf 'baudrate = 500000\n' >"$APP/espflash.toml"
ESPFLASH_BAUD=576000 run "$E" --debug board-info -B 921600
expect_has "-B beats everything" "[DEBUG] Baud rate 921600 from --baud/ESPFLASH_BAUD" "$ERR"
ESPFLASH_BAUD=576000 run "$E" --debug board-info
expect_has "ESPFLASH_BAUD beats the files" "[DEBUG] Baud rate 576000 from --baud/ESPFLASH_BAUD" "$ERR"
run "$E" --debug board-info
expect_has "./espflash.toml's baudrate" "[DEBUG] Baud rate 500000 from $APP/espflash.toml:1:1" "$ERR"
expect_has "the baud rate is applied" "Setting baud rate higher than 115,200 can cause issues" "$ERR"
rm "$APP/espflash.toml"
run "$E" --debug board-info
expect_has "../espflash.toml's baudrate" "[DEBUG] Baud rate 460800 from $WS/espflash.toml:1:1" "$ERR"
rm "$WS/espflash.toml"
run "$E" --debug board-info
expect_has "the user directory's baudrate" "[DEBUG] Baud rate 230400 from $GLOBAL/espflash.toml:1:1" "$ERR"
rm "$GLOBAL/espflash.toml"
run "$E" --debug board-info
expect_lacks "no baudrate anywhere: none is set" "Baud rate" "$ERR"
expect_lacks "and none is changed" "Setting baud rate" "$ERR"

# --- errors in the files ---------------------------------------------------------
printf '[flash]\nsize = "4MB"\npartition_table = "p.csv"\n' >"$APP/espflash.toml"
run "$E" board-info
expect_rc "a misplaced key stops the command" 1
expect_eq "the misplaced key, espflash's message, the code and where" \
  "espflash: error: Misplaced key, check your configuration file. Key: 'partition_table' should be under [idf]! [espflash::config::misplaced_key]
  hint: $APP/espflash.toml:3:1: 'partition_table' is under [flash]; move it there" "$ERR"
printf 'baudrate = 460800\n[flash]\nsize = "4MB\n' >"$APP/espflash.toml"
run "$E" board-info
expect_rc "a TOML syntax error stops the command" 1
expect_has "the syntax error with file, line and column" \
  "espflash: error: $APP/espflash.toml:3:8: unterminated string (a string ends on its line with \") [espflash::config::syntax]" "$ERR"
run "$E" completions bash
expect_rc "commands that read no configuration are not stopped by it" 0
printf 'baudrate = 460800\nbaud_rate = 1\n' >"$APP/espflash.toml"
run "$E" board-info
expect_has "an unknown key is a warning" "[WARN ] $APP/espflash.toml:2:1: unknown key 'baud_rate' (ignored)" "$ERR"
expect_eq "and the command goes on" "esp32c6" "$(chip_of)"
rm "$APP/espflash.toml"

# --- espflash 3 migration ---------------------------------------------------------
rm "$GLOBAL/espflash_ports.toml"
printf '# my project\nbaudrate = 460800\n\n[connection]\nserial = "sim://esp32s3"\n\n[[usb_device]]\nvid = "303a"\npid = "1001"\n' \
  >"$APP/espflash.toml"
run "$E" board-info
expect_rc "an espflash 3 file works" 0
expect_eq "its port is used" "esp32s3" "$(chip_of)"
expect_has "the move is reported" "[WARN ] Moved [connection] and [[usb_device]] from $APP/espflash.toml to $APP/espflash_ports.toml" "$ERR"
expect_eq "espflash.toml keeps the rest" "# my project
baudrate = 460800" "$(cat "$APP/espflash.toml")"
expect_eq "espflash_ports.toml gets the ports" '[connection]
serial = "sim://esp32s3"

[[usb_device]]
pid = "1001"
vid = "303a"' "$(cat "$APP/espflash_ports.toml")"
run "$E" board-info
expect_lacks "the second run has nothing to move" "Moved" "$ERR"
expect_eq "and the same port" "esp32s3" "$(chip_of)"
rm -f "$APP"/espflash*.toml

# --- [idf] settings applied, relative to the file -----------------------------------
TD=${ESPFLASH_TESTDATA:-}
if [ -n "$TD" ] && [ -f "$TD/elf/esp32c3.elf" ]; then
  export ESPFLASH_RESOURCES=$TD
  mkdir -p "$WS/tables"
  cat >"$WS/tables/ota.csv" <<'CSV'
# Name,   Type, SubType, Offset,   Size
nvs,      data, nvs,     0xa000,   0x4000,
otadata,  data, ota,     0xe000,   0x2000,
phy_init, data, phy,     0x10000,  0x1000,
factory,  app,  factory, 0x20000,  1M,
ota_0,    app,  ota_0,   0x120000, 1M,
CSV
  printf '[idf]\npartition_table = "tables/ota.csv"\npartition_table_offset = 0x9000\ntarget_app_partition = "ota_0"\n' \
    >"$WS/espflash.toml"
  run "$E" --debug save-image --chip esp32c3 --merge --skip-padding "$TD/elf/esp32c3.elf" "$WORK/merged.bin"
  expect_rc "save-image with ../espflash.toml's [idf]" 0
  expect_has "the offset comes from the file" "[DEBUG] --partition-table-offset from $WS/espflash.toml:3:1" "$ERR"
  expect_eq "the table is at partition_table_offset" "aa50" "$(od -An -tx1 -j $((0x9000)) -N2 "$WORK/merged.bin" | tr -d ' ')"
  expect_eq "the app is in target_app_partition (ota_0)" "e9" "$(od -An -tx1 -j $((0x120000)) -N1 "$WORK/merged.bin" | tr -d ' ')"
  expect_eq "not in factory" "ff" "$(od -An -tx1 -j $((0x20000)) -N1 "$WORK/merged.bin" | tr -d ' ')"
  run "$E" save-image --chip esp32c3 --merge --skip-padding --partition-table-offset 0x8000 \
    --target-app-partition factory --partition-table "$WS/tables/ota.csv" "$TD/elf/esp32c3.elf" "$WORK/cli.bin"
  expect_eq "the command line beats the file: offset" "aa50" "$(od -An -tx1 -j $((0x8000)) -N2 "$WORK/cli.bin" | tr -d ' ')"
  expect_eq "the command line beats the file: app partition" "e9" "$(od -An -tx1 -j $((0x20000)) -N1 "$WORK/cli.bin" | tr -d ' ')"
  printf '[flash]\nmode = "DIO"\nsize = "8MB"\nfrequency = "80MHz"\n' >"$APP/espflash.toml"
  run "$E" save-image --chip esp32c3 "$TD/elf/esp32c3.elf" "$WORK/f.bin"
  expect_eq "[flash] sets the image header: dio, 8MB, 80MHz" "e9 05 02 3f" "$(od -An -tx1 -N4 "$WORK/f.bin" | sed 's/^ //')"
  expect_has "the app partition follows the 8MB size" "App/part. size:    " "$OUT"
  run "$E" save-image --chip esp32c3 -m qio -s 2mb -f 40mhz "$TD/elf/esp32c3.elf" "$WORK/f.bin"
  expect_eq "the command line beats [flash]" "e9 05 00 10" "$(od -An -tx1 -N4 "$WORK/f.bin" | sed 's/^ //')"
  rm "$APP/espflash.toml"
  printf '[idf]\npartition_table = "tables/missing.csv"\n' >"$WS/espflash.toml"
  run "$E" save-image --chip esp32c3 "$TD/elf/esp32c3.elf" "$WORK/x.bin"
  expect_has "a relative path is resolved against the file's directory" "$WS/tables/missing.csv" "$ERR"
else
  echo "# skipped the [idf] checks: ESPFLASH_TESTDATA has no elf/esp32c3.elf"
fi
finish
