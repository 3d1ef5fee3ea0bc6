#!/usr/bin/env bash
# Progress and colour as users see them: write-bin and flash against the
# virtual device, once with standard error on a pseudo-terminal (script(1))
# and once on a pipe. A terminal gets one bar per segment (bytes, rate, time
# left) ending in "Verifying... OK!" or "Skipped! (checksum matches)", in
# colour unless NO_COLOR is set; a pipe gets sparse plain lines and never an
# escape code; --quiet shows neither.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN
need_stubs
unset ESPFLASH_LUA_DIR
ESC=$(printf '\033')
CR=$(printf '\r')
head -c 300000 /dev/urandom >"$WORK/data.bin"
PORT="sim://esp32c3?flash=$WORK/flash.bin"

# on_tty ENV... -- ARGS...: espflash ARGS with its output on a pty; OUT gets it
on_tty() {
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  RC=0
  OUT=$(env "${envs[@]}" script -qec "$(printf '%q ' "$E" "$@")" /dev/null </dev/null 2>&1) || RC=$?
}

# --- a pipe --------------------------------------------------------------------
run "$E" write-bin -p "$PORT" 0x0 "$WORK/data.bin"
expect_rc "write-bin through a pipe" 0
expect_has "sparse lines: a quarter" "[INFO ] 0x0: 25% (" "$ERR"
expect_has "sparse lines: the end" "[INFO ] 0x0: 100% (300000/300000 bytes)" "$ERR"
expect_has "the segment is verified" "[INFO ] 0x0 Verifying... OK!" "$ERR"
expect_eq "at most five progress lines for the segment" "5" "$(grep -c '^\[INFO \] 0x0' <<<"$ERR")"
expect_lacks "no carriage returns on a pipe" "$CR" "$ERR"
expect_lacks "no escape codes on a pipe" "$ESC" "$ERR$OUT"
run "$E" write-bin -p "$PORT" 0x0 "$WORK/data.bin"
expect_has "unchanged data is skipped" "[INFO ] 0x0 Skipped! (checksum matches)" "$ERR"
NO_COLOR= run "$E" write-bin -p "$PORT" 0x0 "$WORK/data.bin"
expect_lacks "no colour on a pipe even without NO_COLOR" "$ESC" "$ERR$OUT"
run "$E" -q write-bin -p "$PORT" 0x0 "$WORK/data.bin"
expect_eq "--quiet on a pipe: nothing on stderr" "" "$ERR"

# --- a terminal ------------------------------------------------------------------
head -c 300000 /dev/urandom >"$WORK/data2.bin"
on_tty NO_COLOR=1 -- write-bin -p "$PORT" 0x0 "$WORK/data2.bin"
expect_rc "write-bin on a terminal" 0
expect_has "a bar with bytes and the total" " KiB/293.0 KiB " "$OUT"
expect_has "the rate and time left" "/s ETA " "$OUT"
expect_has "then verification" "] Verifying...${ESC}[K" "$OUT"
expect_has "the bar stays, full, with the outcome" "${CR}0x0 [" "$OUT"
expect_has "the outcome" "Verifying... OK!" "$OUT"
expect_lacks "no sparse lines on a terminal" "[INFO ] 0x0: 25%" "$OUT"
expect_lacks "NO_COLOR: no colour" "${ESC}[3" "$OUT"
on_tty NO_COLOR=1 -- write-bin -p "$PORT" 0x0 "$WORK/data2.bin"
expect_has "skipped, on the bar line" "${CR}0x0 [" "$OUT"
expect_has "skipped outcome" "Skipped! (checksum matches)" "$OUT"
on_tty NO_COLOR= -- write-bin -p "$PORT" 0x0 "$WORK/data2.bin"
expect_has "colour on a terminal without NO_COLOR: levels" "[${ESC}[32mINFO ${ESC}[0m]" "$OUT"
expect_has "colour on a terminal without NO_COLOR: outcome" "${ESC}[33mSkipped!${ESC}[0m ${ESC}[2m(checksum matches)${ESC}[0m" "$OUT"
on_tty NO_COLOR=1 -- -q write-bin -p "$PORT" 0x0 "$WORK/data.bin"
expect_rc "--quiet on a terminal" 0
expect_lacks "--quiet: no bar" "0x0 [" "$OUT"
expect_lacks "--quiet: no info lines" "[INFO ]" "$OUT"
expect_has "--quiet: results stay" "Chip type:         esp32c3" "$OUT"

# --- flash: one bar per segment ------------------------------------------------------
TD=${ESPFLASH_TESTDATA:-}
if [ -n "$TD" ] && [ -f "$TD/elf/esp32c3.elf" ]; then
  export ESPFLASH_RESOURCES=$TD
  FPORT="sim://esp32c3?flash=$WORK/app.bin"
  on_tty NO_COLOR=1 -- flash -p "$FPORT" "$TD/elf/esp32c3.elf"
  expect_rc "flash on a terminal" 0
  for seg in 0x0 0x8000 0x10000; do
    expect_has "a finished bar for $seg" "$(printf '\r%s [' "$seg")" "$OUT"
  done
  expect_eq "three segments verified" "3" "$(grep -o 'Verifying\.\.\. OK!' <<<"$OUT" | wc -l)"
  on_tty NO_COLOR=1 -- flash -p "$FPORT" "$TD/elf/esp32c3.elf"
  expect_eq "three segments skipped the second time" "3" "$(grep -o 'Skipped! (checksum matches)' <<<"$OUT" | wc -l)"
  on_tty NO_COLOR=1 -- flash --no-verify --no-skip -p "$FPORT" "$TD/elf/esp32c3.elf"
  expect_eq "--no-verify: Done! instead" "3" "$(grep -o 'Done!' <<<"$OUT" | wc -l)"
  run "$E" flash -p "$FPORT" --no-skip "$TD/elf/esp32c3.elf"
  expect_eq "a pipe: one outcome line per segment" "3" "$(grep -c '^\[INFO \] 0x[0-9A-F]* Verifying... OK!$' <<<"$ERR")"
else
  echo "# skipped the flash checks: ESPFLASH_TESTDATA has no elf/esp32c3.elf"
fi
finish
