#!/usr/bin/env bash
# The test command: sets up (packages, build, stubs) and runs every test, first
# in the normal build, then the C, Lua and end-to-end tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure --no-tests=error -j 2

"$root/scripts/setup.sh" "$root/build-asan" -DESPFLASH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure --no-tests=error -j 2 -LE peer
