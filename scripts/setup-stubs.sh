#!/usr/bin/env bash
# Fetches the flasher stubs: esptool-js, pinned by version and integrity hash in
# cmake/stubs/package-lock.json, from the npm registry; copies its
# lib/targets/stub_flasher/*.json into BUILD_DIR/stubs (default: build/stubs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mkdir -p "$build/stubs"
build=$(cd "$build" && pwd)  # absolute: node's require() below resolves relative paths from its own module
work=$build/stubs-npm
mkdir -p "$work"
cp "$root/cmake/stubs/package.json" "$root/cmake/stubs/package-lock.json" "$work/"
if [ ! -f "$work/node_modules/esptool-js/package.json" ] ||
   ! cmp -s "$root/cmake/stubs/package-lock.json" "$work/node_modules/.package-lock.json.pinned" 2>/dev/null; then
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$root/cmake/stubs/package-lock.json" "$work/node_modules/.package-lock.json.pinned"
fi
src=$work/node_modules/esptool-js/lib/targets/stub_flasher
cp "$src"/*.json "$build/stubs/"
echo "stubs: $(ls "$build/stubs" | wc -l) files from esptool-js $(node -p "require('$work/node_modules/esptool-js/package.json').version") in $build/stubs"
