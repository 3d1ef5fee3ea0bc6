# `espflash monitor --non-interactive` on a pseudo-terminal whose other end
# this script plays as the device: address decoding with the firmware and
# ROM ELFs, defmt frames (chosen explicitly and from the ELF's metadata),
# exit when the port closes, reconnection when it comes back, --timeout,
# and the options' errors.
. "$(dirname "$0")/monitor_helpers.bash"
NOSYNC=(--before no-reset-no-sync --non-interactive)

run "$E" monitor --help
expect_rc "monitor --help" 0
for opt in --monitor-baud --elf --rom-elf --no-reset --log-format --output-format --processors \
    --no-addresses --all-addresses --timestamps --log-file --timeout --reconnect --no-reconnect; do
  expect_has "help lists $opt" "$opt" "$OUT"
done

run "$E" monitor -p /dev/null --non-interactive --reconnect --no-reconnect
expect_rc "--reconnect with --no-reconnect is a usage error" 2
MONITOR_BAUD=12x run "$E" monitor -p /dev/null --non-interactive
expect_rc "a bad MONITOR_BAUD is a usage error" 2
expect_has "the error names MONITOR_BAUD" "MONITOR_BAUD" "$ERR"
run "$E" monitor -p sim://esp32c3 --before no-reset-no-sync -c esp32c3
expect_rc "interactive without a terminal fails" 1
expect_has "and says why" "needs a terminal on standard input" "$ERR"

if ! command -v socat >/dev/null; then
  skip "socat is not installed (apt-get install socat): no pseudo-terminal tests"
  finish
  exit
fi

# --- address decoding -------------------------------------------------------
if have_testdata elf/esp32c6_backtrace.elf && have_testdata roms/esp32c6_rev0_rom.elf; then
  pty_pair dec
  ESPFLASH_RESOURCES=$TESTDATA MONITOR_BAUD=115_200 monitor_bg dec -p "$WORK/dec.dev" "${NOSYNC[@]}" -c esp32c6 \
    --elf "$TESTDATA/elf/esp32c6_backtrace.elf" --timeout 5
  sleep 1
  printf 'Saved PC:0x420012c8\r\n0x420012c8\r\nat 0x42001280 rom 0x400017f0\npartial ' >"$WORK/dec.peer"
  sleep 0.3
  printf 'line\n' >"$WORK/dec.peer"
  wait_for "$WORK/dec.out" "partial line" 5
  kill "$PTY_PID"
  wait_gone "$MON_PID" 5 && ok "the monitor ends when the port closes" || not_ok "the monitor ends when the port closes"
  OUT=$(tr -d '\r' <"$WORK/dec.out")
  expect_has "0x420012c8 decodes to main" "$(printf '0x420012c8\nmain\n    at ')" "$OUT"
  expect_has "main's file" "esp32c6_backtrace/src/bin/main.rs:25" "$OUT"
  expect_has "0x42001280 decodes to hal_main" "0x42001280 - hal_main" "$OUT"
  expect_has "a ROM address decodes through the ROM ELF" "$(printf '0x400017f0 - lldesc_build_chain\n    at ??:??')" "$OUT"
  expect_has "Saved PC lines are left alone" "$(printf 'Saved PC:0x420012c8\n0x420012c8\nmain')" "$OUT"
  expect_has "a line split across writes is decoded once complete" "partial line" "$OUT"
  expect_eq "exit status 0 when the port closes" "0" "$(cat "$WORK/dec.rc")"
  expect_has "the closing is reported" "The serial port closed" "$(cat "$WORK/dec.err")"

  pty_pair rom
  monitor_bg rom -p "$WORK/rom.dev" "${NOSYNC[@]}" -c esp32c3 --rom-elf "$TESTDATA/roms/esp32c6_rev0_rom.elf" \
    --all-addresses --timeout 3
  sleep 1
  printf 'entry 0x400017f0\n' >"$WORK/rom.peer"
  wait_gone "$MON_PID" 6
  expect_has "--rom-elf and --all-addresses" "lldesc_build_chain" "$(cat "$WORK/rom.out")"
else
  skip "\$ESPFLASH_TESTDATA/elf/esp32c6_backtrace.elf or roms/ is not available: no decoding tests"
fi

# --- defmt ----------------------------------------------------------------
if have_testdata elf/esp32c6_defmt.elf; then
  ELF=$TESTDATA/elf/esp32c6_defmt.elf
  # the frame for the log statement "Hello world!": its table index (the
  # symbol's value), u16 little-endian, rzCOBS-encoded in FF 00 ... 00
  IDX_HEX=$(readelf -sW "$ELF" | grep -F '"data":"Hello world!"' | awk '{print $2}')
  IDX=$((16#${IDX_HEX:-0}))
  if [ -n "$IDX" ] && [ "$IDX" -gt 0 ] && [ "$IDX" -lt 256 ]; then
    FRAME=$(printf '\\xff\\x00\\x%02x\\x7e\\x00' "$IDX")
    for mode in explicit auto; do
      pty_pair "df$mode"
      extra=()
      [ "$mode" = explicit ] && extra=(-L defmt -F full)
      monitor_bg "df$mode" -p "$WORK/df$mode.dev" "${NOSYNC[@]}" -c esp32c6 --elf "$ELF" --timeout 4 "${extra[@]}"
      sleep 1
      printf "boot text\r\n${FRAME}after\r\n" >"$WORK/df$mode.peer"
      wait_gone "$MON_PID" 8
      OUT=$(tr -d '\r' <"$WORK/df$mode.out")
      expect_has "defmt ($mode): text outside frames" "boot text" "$OUT"
      expect_has "defmt ($mode): text after the frame" "after" "$OUT"
    done
    expect_has "defmt -F full" "$(printf 'INFO  Hello world!\n└─ esp32c6_defmt::__risc_v_rt__main @ ')" \
      "$(tr -d '\r' <"$WORK/dfexplicit.out")"
    expect_has "defmt chosen from the ELF metadata, oneline" "[INFO ] Hello world! (esp32c6_defmt src/bin/main.rs:31)" \
      "$(cat "$WORK/dfauto.out")"
  else
    not_ok "the Hello world! entry of the defmt table" "index: '$IDX'"
  fi
else
  skip "\$ESPFLASH_TESTDATA/elf/esp32c6_defmt.elf is not available: no defmt tests"
fi

# --- reconnection -----------------------------------------------------------
pty_pair rc
FIRST=$PTY_PID
monitor_bg rc -p "$WORK/rc.dev" "${NOSYNC[@]}" -c esp32c3 --reconnect --timeout 8
sleep 1
printf 'before\r\n' >"$WORK/rc.peer"
wait_for "$WORK/rc.out" before 5
kill "$FIRST"
wait_for "$WORK/rc.err" "disappeared; waiting for it to come back" 5 && ok "the disappearance is reported" \
  || not_ok "the disappearance is reported" "$(cat "$WORK/rc.err")"
sleep 0.5
pty_pair rc
wait_for "$WORK/rc.err" "Reconnected to" 5 && ok "the port is reopened" || not_ok "the port is reopened" "$(cat "$WORK/rc.err")"
printf 'after\r\n' >"$WORK/rc.peer"
wait_for "$WORK/rc.out" after 5 && ok "monitoring continues after reconnecting" \
  || not_ok "monitoring continues after reconnecting" "$(cat "$WORK/rc.out")"
kill "$PTY_PID"
wait_gone "$MON_PID" 10 && ok "--timeout ends a waiting monitor" || not_ok "--timeout ends a waiting monitor"
expect_eq "exit status 0 after the timeout" "0" "$(cat "$WORK/rc.rc" 2>/dev/null)"

finish
