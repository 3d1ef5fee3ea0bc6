# The command line itself: help, version, global options, usage errors and
# their exit codes, the error format, Ctrl-C.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN

run "$E" --help
expect_rc "--help exits 0" 0
expect_has "--help shows the usage line" "Usage: espflash [OPTIONS] <COMMAND>" "$OUT"
expect_has "--help lists completions" "  completions " "$OUT"
expect_has "--help lists run" "  run " "$OUT"
expect_has "--help lists repl" "  repl " "$OUT"
expect_has "--help lists -S" "-S, --skip-update-check" "$OUT"
expect_has "--help lists -V" "-V, --version" "$OUT"
run "$E" -h
HELP_SHORT=$OUT
run "$E" help
expect_eq "-h, --help and help print the same" "$HELP_SHORT" "$OUT"

run "$E" --version
expect_rc "--version exits 0" 0
expect_eq "--version prints espflash <version>" "espflash $(sed -n 's/^project(espflash VERSION \([0-9.]*\).*/\1/p' "$ESPFLASH_SOURCE_DIR/CMakeLists.txt")" "$OUT"
run "$E" -V
expect_has "-V prints the version" "espflash " "$OUT"

run "$E" completions --help
expect_rc "subcommand --help exits 0" 0
expect_has "subcommand help has its usage" "Usage: espflash completions [OPTIONS] <SHELL>" "$OUT"
run "$E" help completions
expect_has "help CMD is the subcommand's help" "Usage: espflash completions [OPTIONS] <SHELL>" "$OUT"

run "$E" -S completions bash
expect_rc "-S is accepted" 0
ESPFLASH_SKIP_UPDATE_CHECK=1 run "$E" completions fish
expect_rc "ESPFLASH_SKIP_UPDATE_CHECK is accepted" 0

run "$E"
expect_rc "no command is a usage error (2)" 2
expect_has "no command says so" "espflash: error: a command is required" "$ERR"
expect_has "usage error shows the usage" "Usage: espflash [OPTIONS] <COMMAND>" "$ERR"

run "$E" frobnicate
expect_rc "unknown command exits 2" 2
expect_has "unknown command is named" "espflash: error: unknown command 'frobnicate'" "$ERR"
run "$E" complections bash
expect_has "a near miss gets a suggestion" "Did you mean 'completions'?" "$ERR"

run "$E" --bogus completions bash
expect_rc "unknown option exits 2" 2
expect_has "unknown option is named" "unknown option '--bogus'" "$ERR"

run "$E" completions tcsh
expect_rc "bad choice exits 2" 2
expect_has "bad choice lists the shells" "'bash', 'elvish', 'fish', 'powershell', 'zsh'" "$ERR"
expect_has "bad choice shows the command's usage" "Usage: espflash completions [OPTIONS] <SHELL>" "$ERR"

# errors raised by scripts: message, hint, exit 1; traceback only with --debug
mkdir -p "$WORK/s"
cat >"$WORK/s/fail.lua" <<'LUA'
return {
  summary = "Fail on purpose",
  options = {},
  run = function(args, ctx)
    require("espflash.errors").raise("espflash::demo", "the demo failed", "try again later")
  end,
}
LUA
cat >"$WORK/s/crash.lua" <<'LUA'
return {
  summary = "Crash on purpose",
  options = {},
  run = function(args, ctx)
    local t = nil
    return t.field
  end,
}
LUA
ESPFLASH_SCRIPTS="$WORK/s" run "$E" fail
expect_rc "an error object exits 1" 1
expect_eq "error object format: message, code, hint" "espflash: error: the demo failed [espflash::demo]
  hint: try again later" "$ERR"
ESPFLASH_SCRIPTS="$WORK/s" run "$E" crash
expect_rc "a Lua error exits 1" 1
expect_has "a Lua error names file and line" "espflash: error: $WORK/s/crash.lua:6: attempt to index a nil value (local 't')" "$ERR"
expect_lacks "no traceback without --debug" "stack traceback" "$ERR"
ESPFLASH_SCRIPTS="$WORK/s" run "$E" --debug crash
expect_has "--debug adds the traceback" "stack traceback" "$ERR"
ESPFLASH_SCRIPTS="$WORK/s" ESPFLASH_DEBUG=1 run "$E" crash
expect_has "ESPFLASH_DEBUG=1 adds the traceback" "stack traceback" "$ERR"

# the context a script gets
cat >"$WORK/s/ctx.lua" <<'LUA'
return {
  summary = "Show the context",
  uses = { "connect" },
  options = { { "address", help = "Address", convert = "u32" } },
  run = function(args, ctx)
    ctx.ui:info("info line")
    ctx.ui:print(("address=%d baud=%s port=%s before=%s debug=%s config=%s connect=%s"):format(
      args.address, tostring(args.baud), tostring(args.port), args.before, tostring(ctx.debug),
      type(ctx.config), type(ctx.connect)))
  end,
}
LUA
ESPFLASH_SCRIPTS="$WORK/s" ESPFLASH_BAUD=0x1C200 ESPFLASH_PORT=/dev/ttyX run "$E" ctx 0x10
expect_rc "ctx command runs" 0
expect_eq "args from CLI, env and defaults reach run" \
  "address=16 baud=115200 port=/dev/ttyX before=default-reset debug=false config=table connect=function" "$OUT"
expect_eq "ui:info goes to stderr" "[INFO ] info line" "$ERR"
ESPFLASH_SCRIPTS="$WORK/s" ESPFLASH_BAUD=115200 run "$E" ctx 16 -B 9600 --port /dev/ttyY -b no-reset
expect_has "the command line beats the environment" "baud=9600 port=/dev/ttyY before=no-reset" "$OUT"
ESPFLASH_SCRIPTS="$WORK/s" run "$E" -q ctx 1
expect_eq "--quiet hides info lines" "" "$ERR"
ESPFLASH_SCRIPTS="$WORK/s" ESPFLASH_BAUD=fast run "$E" ctx 1
expect_rc "a bad environment value is a usage error" 2
expect_has "a bad environment value is named" "invalid value 'fast' for '--baud <BAUD>' (from ESPFLASH_BAUD)" "$ERR"

# Ctrl-C: the first interrupts (exit 130), the Lua loop is broken by the hook
cat >"$WORK/loop.lua" <<'LUA'
io.stdout:write("started\n") io.stdout:flush()
while true do end
LUA
"$E" run "$WORK/loop.lua" >"$WORK/loop.out" 2>"$WORK/loop.err" &
PID=$!
for _ in $(seq 50); do grep -q started "$WORK/loop.out" 2>/dev/null && break; sleep 0.1; done
kill -INT "$PID"
RC=0; wait "$PID" || RC=$?
OUT=$(cat "$WORK/loop.out"); ERR=$(cat "$WORK/loop.err")
expect_rc "Ctrl-C exits 130" 130
expect_has "Ctrl-C is reported" "espflash: error: interrupted" "$ERR"

# a second Ctrl-C kills at once, even when the script swallows the first one
cat >"$WORK/stuck.lua" <<'LUA'
io.stdout:write("started\n") io.stdout:flush()
local deadline = os.time() + 5
while os.time() < deadline do pcall(function() while os.time() < deadline do end end) end
LUA
"$E" run "$WORK/stuck.lua" >"$WORK/stuck.out" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q started "$WORK/stuck.out" 2>/dev/null && break; sleep 0.1; done
START=$(date +%s%N)
kill -INT "$PID"; sleep 0.2; kill -INT "$PID"
RC=0; wait "$PID" || RC=$?
ELAPSED_MS=$(( ($(date +%s%N) - START) / 1000000 ))
expect_rc "a second Ctrl-C kills (signal exit)" 130
if [ "$ELAPSED_MS" -lt 3000 ]; then ok "the second Ctrl-C does not wait for the sleep"; else not_ok "second Ctrl-C" "took ${ELAPSED_MS} ms"; fi

finish
