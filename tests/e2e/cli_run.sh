# `espflash run FILE.lua [ARGS...]`: arguments, `arg`, exit status, errors,
# and the example workflow of docs/scripting.md (extracted from the doc).
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN

cat >"$WORK/args.lua" <<'LUA'
local espflash = require "espflash"
local dots = table.concat({ ... }, ",")
print(("arg0=%s arg-1=%s n=%d args=%s dots=%s lib=%s"):format(
  arg[0], arg[-1], #arg, table.concat(arg, ","), dots, type(espflash.errors)))
return tonumber(arg[1]) or 0
LUA
cd "$WORK"
run "$E" run args.lua 7 -x --y "two words"
expect_rc "the returned integer is the exit status" 7
expect_eq "arg and ... as lua.c gives them" \
  "arg0=args.lua arg-1=run n=4 args=7,-x,--y,two words dots=7,-x,--y,two words lib=table" "$OUT"
run "$E" -q run args.lua
expect_rc "no arguments, nil return: exit 0" 0
expect_has "arg[-1] is still run after global options" "arg-1=run n=0" "$OUT"
run "$E" run args.lua -- --help
expect_has "-- and --help after FILE go to the script" "args=--,--help" "$OUT"

echo 'os.exit(5)' >"$WORK/exit.lua"
run "$E" run exit.lua
expect_rc "os.exit(n) is the exit status" 5
echo 'os.exit(false)' >"$WORK/exitf.lua"
run "$E" run exitf.lua
expect_rc "os.exit(false) is failure" 1

printf 'local x = 1\nlocal y = nil\nreturn y.z\n' >"$WORK/fail.lua"
run "$E" run fail.lua
expect_rc "a failing script exits 1" 1
expect_eq "a failing script reports file and line" "espflash: error: fail.lua:3: attempt to index a nil value (local 'y')
  hint: a Lua error in the script named above; run with --debug for the traceback" "$ERR"
run "$E" --debug run fail.lua
expect_has "--debug shows where in the script" "fail.lua:3: in" "$ERR"

printf 'x = = 1\n' >"$WORK/syntax.lua"
run "$E" run syntax.lua
expect_rc "a syntax error exits 1" 1
expect_has "a syntax error names file and line" "espflash: error: syntax.lua:1: unexpected symbol near '='" "$ERR"
run "$E" run missing.lua
expect_rc "a missing file exits 1" 1
expect_has "a missing file is named" "cannot open missing.lua" "$ERR"
run "$E" run
expect_rc "run without FILE is a usage error" 2

# the example in docs/scripting.md, taken from the doc itself
awk '/<!-- example: md5sum.lua -->/ {found=1; next} found && /^```lua/ {inside=1; next}
     inside && /^```/ {exit} inside {print}' "$ESPFLASH_SOURCE_DIR/docs/scripting.md" >"$WORK/md5sum.lua"
if [ -s "$WORK/md5sum.lua" ]; then ok "the doc example was extracted"; else not_ok "the doc example was extracted" "no block after the marker"; fi
printf 'hello' >"$WORK/firmware.bin"
head -c 70000 /dev/urandom >"$WORK/big.bin"
run "$E" run md5sum.lua firmware.bin big.bin
expect_rc "doc example: exit 0" 0
expect_eq "doc example: MD5s as md5sum prints them" "$(md5sum firmware.bin big.bin)" "$OUT"
run "$E" run md5sum.lua
expect_rc "doc example: no files is exit 2" 2
expect_has "doc example: usage message" "usage: espflash run md5sum.lua FILE..." "$ERR"
run "$E" run md5sum.lua firmware.bin nothere.bin
expect_rc "doc example: a missing file is exit 1" 1
expect_has "doc example: the missing file is named" "nothere.bin" "$ERR"

finish
