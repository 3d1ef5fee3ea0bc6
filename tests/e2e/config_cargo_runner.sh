#!/usr/bin/env bash
# espflash as a cargo runner (espflash-reference.md §7.3): the runner line of
# a .cargo/config.toml, run as cargo runs it — the words of the line, then
# the ELF — on a terminal, with the port from espflash_ports.toml and the
# baud rate from the runner. It flashes the virtual device and opens the
# monitor, which shows the application until Ctrl-C.
. "$(dirname "$0")/cli_helpers.bash"
TD=${ESPFLASH_TESTDATA:-}
if [ -z "$TD" ] || [ ! -f "$TD/elf/esp32c3.elf" ]; then
  echo "SKIP: ESPFLASH_TESTDATA is not set or has no elf/esp32c3.elf"
  exit 0
fi
need_stubs
command -v expect >/dev/null || { not_ok "expect is not installed (apt-get install expect)"; finish; exit; }
unset ESPFLASH_LUA_DIR
export ESPFLASH_RESOURCES=$TD
mkdir -p "$WORK/bin" "$WORK/proj/.cargo" "$WORK/proj/target/riscv32imc-unknown-none-elf/release"
ln -s "$ESPFLASH_BIN" "$WORK/bin/espflash"
export PATH="$WORK/bin:$PATH"
ELF=$WORK/proj/target/riscv32imc-unknown-none-elf/release/hello
cp "$TD/elf/esp32c3.elf" "$ELF"
cat >"$WORK/proj/.cargo/config.toml" <<'TOML'
[target.'cfg(any(target_arch = "riscv32", target_arch = "xtensa"))']
runner = "espflash flash --baud=921600 --monitor"
TOML
printf '[connection]\nserial = "sim://esp32c3?flash=%s&app=Hello%%20world!%%0D%%0A"\n' "$WORK/flash.bin" \
  >"$WORK/proj/espflash_ports.toml"
RUNNER=$(sed -n 's/^runner = "\(.*\)"$/\1/p' "$WORK/proj/.cargo/config.toml")

cd "$WORK/proj" || exit 1
RC=0
OUT=$(expect -c "
  set timeout 60
  spawn -noecho $RUNNER $ELF
  expect {
    \"Hello world!\" {}
    timeout { exit 201 }
    eof { exit 202 }
  }
  sleep 0.3
  send \"\\003\"
  expect {
    eof {}
    timeout { exit 203 }
  }
  lassign [wait] pid spawnid os_error value
  exit \$value" 2>&1) || RC=$?
OUT=$(tr -d '\r' <<<"$OUT")
expect_rc "the runner line flashes, monitors and exits on Ctrl-C" 0
expect_has "the port comes from espflash_ports.toml" "Serial port: 'sim://esp32c3?flash=" "$OUT"
expect_has "the runner's --baud is used" "Setting baud rate higher than 115,200 can cause issues" "$OUT"
expect_has "the ELF cargo appended is flashed" "Flashing has completed!" "$OUT"
expect_has "each segment is verified" "Verifying... OK!" "$OUT"
expect_has "the monitor shows the application" "Hello world!" "$OUT"
"$ESPFLASH_BIN" save-image --chip esp32c3 --merge --skip-padding "$ELF" "$WORK/merged.bin" >/dev/null 2>&1
SIZE=$(stat -c %s "$WORK/merged.bin")
if cmp -s -n "$SIZE" "$WORK/merged.bin" "$WORK/flash.bin"; then
  ok "the device holds the image"
else
  not_ok "the device holds the image" "$(cmp -n "$SIZE" "$WORK/merged.bin" "$WORK/flash.bin" 2>&1)"
fi
finish
