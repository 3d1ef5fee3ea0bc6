# `write-bin --monitor` and `flash --monitor --non-interactive` on the virtual
# device: write/flash, reset, show the boot log and the application output,
# decode the addresses the application prints with the flashed ELF, and exit
# on the timeout. (espflash's HIL scenarios, with sim:// in place of a board.)
. "$(dirname "$0")/monitor_helpers.bash"
export ESPFLASH_STUBS=${ESPFLASH_STUBS:-$ESPFLASH_BUILD_DIR/stubs}
HELLO='sim://esp32c3?app=Hello%20world!%0D%0A'

printf '\001\240' >"$WORK/two.bin"
START=$(date +%s)
run "$E" write-bin --monitor --non-interactive --timeout 1 -p "$HELLO" 0x0 "$WORK/two.bin"
expect_rc "write-bin --monitor exits 0 on the timeout" 0
expect_has "the binary is written first" "Binary successfully written to flash!" "$ERR"
expect_has "then the boot log" "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)" "$OUT"
expect_has "and the application output" "Hello world!" "$OUT"
[ $(($(date +%s) - START)) -lt 15 ] && ok "within the time limit" || not_ok "within the time limit"

run "$E" write-bin --timestamps -p "$HELLO" 0x0 "$WORK/two.bin"
expect_rc "write-bin without -M" 0
expect_has "monitor options without -M are warned about" "flag isn't set. These options will be ignored." "$ERR"
expect_lacks "and no monitor runs" "Hello world!" "$OUT"

if ! "$E" flash --help | grep -q -- '--monitor'; then
  skip "flash has no --monitor option yet (the hook in scripts/flash.lua is pending)"
  finish
  exit
fi

if have_testdata elf/esp32c3.elf && have_testdata bootloaders/esp32c3-bootloader.bin; then
  ESPFLASH_RESOURCES=$TESTDATA run "$E" flash --monitor --non-interactive --timeout 1 -p "$HELLO" \
    "$TESTDATA/elf/esp32c3.elf"
  expect_rc "flash --monitor exits 0 on the timeout" 0
  expect_has "Flashing has completed!" "Flashing has completed!" "$ERR"
  expect_has "flash --monitor: the boot log" "rst:0x1 (POWERON)" "$OUT"
  expect_has "flash --monitor: Hello world!" "Hello world!" "$OUT"
else
  skip "\$ESPFLASH_TESTDATA (elf/esp32c3.elf, bootloaders/) is not available"
fi

if have_testdata elf/esp32c6_backtrace.elf && have_testdata bootloaders/esp32c6-bootloader.bin; then
  ESPFLASH_RESOURCES=$TESTDATA run "$E" flash --monitor --non-interactive --timeout 1 \
    -p 'sim://esp32c6?app=0x420012c8%0D%0A0x42001280%0D%0A' "$TESTDATA/elf/esp32c6_backtrace.elf"
  expect_rc "flash --monitor esp32c6_backtrace" 0
  for want in 0x420012c8 main esp32c6_backtrace/src/bin/main.rs: 0x42001280 hal_main; do
    expect_has "the backtrace shows $want" "$want" "$OUT"
  done
else
  skip "\$ESPFLASH_TESTDATA (elf/esp32c6_backtrace.elf, bootloaders/) is not available"
fi

finish
