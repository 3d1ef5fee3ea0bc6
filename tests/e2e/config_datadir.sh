#!/usr/bin/env bash
# The install's data directory reaches Lua: espflash.host.datadir is the
# build's ${CMAKE_INSTALL_FULL_DATADIR}/espflash, and the bootloader and stub
# searches include it.
. "$(dirname "$0")/cli_helpers.bash"
: "${ESPFLASH_BUILD_DIR:?set by ctest}"
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$ESPFLASH_BUILD_DIR/CMakeCache.txt")
DATAROOT=$(sed -n 's/^CMAKE_INSTALL_DATAROOTDIR:PATH=//p' "$ESPFLASH_BUILD_DIR/CMakeCache.txt")
case $DATAROOT in /*) ;; *) DATAROOT=$PREFIX/${DATAROOT:-share} ;; esac
cat >"$WORK/dirs.lua" <<'LUA'
local host = require("espflash.host")
print(host.datadir)
print(table.concat(require("espflash.bootloader").DATA_DIRS, "\n"))
print(table.concat(require("espflash.stubs").search_dirs(), "\n"))
LUA
run "$ESPFLASH_BIN" run "$WORK/dirs.lua"
expect_rc "the script runs" 0
expect_eq "host.datadir is the install's data directory" "$DATAROOT/espflash" "$(head -1 <<<"$OUT")"
expect_eq "the bootloader search has it once" "1" "$(tail -n +2 <<<"$OUT" | grep -cxF "$DATAROOT/espflash")"
expect_eq "the stub search has its stubs/ once" "1" "$(grep -cxF "$DATAROOT/espflash/stubs" <<<"$OUT")"
finish
