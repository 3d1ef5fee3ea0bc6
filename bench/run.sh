#!/usr/bin/env bash
# The speed benchmark: espflash against esptool-js 0.7.0 on the virtual
# device's emulated link (bench/bench.mjs). Writes bench/results.md.
#   bench/run.sh [BUILD_DIR]     (the `bench` build target runs it)
# Environment: BENCH_CHIPS=esp32,esp32c3  BENCH_CASES=connect,write-random,...
#   BENCH_PEER=0 (espflash only)  BENCH_OUT=FILE  ESPFLASH_TESTDATA=DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
export ESPFLASH_BIN=${ESPFLASH_BIN:-$build/espflash}
export ESPFLASH_STUBS=${ESPFLASH_STUBS:-$build/stubs}
if [ -z "${ESPFLASH_TESTDATA:-}" ] && [ -d "$here/../../shared/testdata" ]; then
  export ESPFLASH_TESTDATA=$here/../../shared/testdata
fi
if [ ! -x "$ESPFLASH_BIN" ]; then
  echo "bench: $ESPFLASH_BIN is missing: build first (cmake --build build)" >&2
  exit 2
fi
if [ ! -f "$ESPFLASH_STUBS/esp32c3.json" ]; then
  echo "bench: no flasher stubs in $ESPFLASH_STUBS: run scripts/setup-stubs.sh" >&2
  exit 2
fi
exec node "$here/bench.mjs"
