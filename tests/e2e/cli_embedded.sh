# The Lua sources embedded in the binary: a copy of the binary, run from
# elsewhere with no source tree in reach, still works; ESPFLASH_LUA_DIR switches
# to a tree on disk (development mode); LUA_PATH/LUA_INIT and the current
# directory are ignored.
. "$(dirname "$0")/cli_helpers.bash"

mkdir -p "$WORK/bin" "$WORK/cwd/espflash"
cp "$ESPFLASH_BIN" "$WORK/bin/espflash"
E="$WORK/bin/espflash"
# a module in the current directory must never be picked up
echo 'error("loaded from the current directory")' >"$WORK/cwd/espflash/errors.lua"
echo 'error("loaded from the current directory")' >"$WORK/cwd/argparse.lua"
cd "$WORK/cwd"
unset ESPFLASH_LUA_DIR
export LUA_PATH="$WORK/cwd/?.lua" LUA_PATH_5_4="$WORK/cwd/?.lua" LUA_CPATH="/nonexistent/?.so"
export LUA_INIT='error("LUA_INIT ran")'

run "$E" --help
expect_rc "embedded: --help works without the tree" 0
expect_has "embedded: built-in commands are listed" "Generate completions for the given shell" "$OUT"
expect_has "embedded: run is listed" "Run a Lua script with the espflash library loaded" "$OUT"
run "$E" completions bash
expect_rc "embedded: completions work" 0
expect_has "embedded: completion function" "_espflash()" "$OUT"
cat >"$WORK/cwd/w.lua" <<'LUA'
local espflash = require "espflash"
local ok, err = pcall(espflash.errors.raise, "espflash::x", "from the library")
print(espflash.errors.is(err), err.message, espflash.version ~= nil)
return 3
LUA
run "$E" run w.lua
expect_rc "embedded: run passes the exit status" 3
expect_eq "embedded: the library loads from the binary" "true	from the library	true" "$OUT"
ESPFLASH_SCRIPTS=/nonexistent run "$E" --debug run "$WORK/nothere.lua"
expect_has "embedded: chunk names are the tree paths" "scripts/run.lua" "$ERR"
expect_lacks "embedded: no absolute source path in chunk names" "$ESPFLASH_SOURCE_DIR" "$ERR"
printf '1 + 1\n' | "$E" repl >"$WORK/repl.out" 2>&1
expect_eq "embedded: repl reads piped lines" "2" "$(cat "$WORK/repl.out")"

# development mode: a copy of the tree with one summary changed
mkdir -p "$WORK/tree"
cp -r "$ESPFLASH_SOURCE_DIR/lua" "$ESPFLASH_SOURCE_DIR/scripts" "$WORK/tree/"
sed -i 's/summary = "Generate completions for the given shell"/summary = "Completions from the dev tree"/' \
  "$WORK/tree/scripts/completions.lua"
ESPFLASH_LUA_DIR="$WORK/tree" run "$E" --help
expect_has "dev mode: scripts come from ESPFLASH_LUA_DIR" "Completions from the dev tree" "$OUT"
echo 'return { hello = function() return "dev module" end }' >"$WORK/tree/lua/espflash/devonly.lua"
echo 'print(require("espflash.devonly").hello())' >"$WORK/cwd/dev.lua"
ESPFLASH_LUA_DIR="$WORK/tree" run "$E" run dev.lua
expect_eq "dev mode: modules come from ESPFLASH_LUA_DIR/lua" "dev module" "$OUT"
run "$E" run dev.lua
expect_rc "embedded mode does not see the dev tree" 1
expect_has "embedded mode names the missing module" "module 'espflash.devonly' not found" "$ERR"
ESPFLASH_LUA_DIR="$WORK/none" run "$E" --help
expect_rc "a missing ESPFLASH_LUA_DIR is an error" 1
expect_has "a missing ESPFLASH_LUA_DIR is named" "espflash: error: ESPFLASH_LUA_DIR=$WORK/none: No such file or directory" "$ERR"

finish
