# `espflash repl` through a pseudo-terminal (expect): expressions, multi-line
# input, errors, Ctrl-C during a loop and at the prompt, Ctrl-D, the history
# file, Tab completion (names, module fields, a device's methods) and help();
# and the plain mode when standard input is not a terminal.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN

if command -v expect >/dev/null; then
  R=$(TERM=dumb expect -f "$(dirname "$0")/cli_repl.exp" 2>&1)
  echo "$R"
  PASSED=$((PASSED + $(grep -c '^ok - ' <<<"$R")))
  FAILED=$((FAILED + $(grep -c '^not ok - ' <<<"$R")))
  if ! grep -q '^ok - exit status 0' <<<"$R"; then not_ok "the pty session ran to the end"; fi
  H="$HOME/.local/state/espflash/history"
  if [ -f "$H" ]; then ok "the history file was created"; else not_ok "the history file was created" "no $H"; fi
  expect_has "the history holds an entered line" 'f(5)' "$(cat "$H" 2>/dev/null)"
  expect_lacks "the history lacks the discarded line" 'discarded' "$(cat "$H" 2>/dev/null)"
  mkdir -p "$WORK/state"
  XDG_STATE_HOME="$WORK/state" TERM=dumb expect -c "
    set timeout 10
    spawn -noecho $E repl
    expect \"> \"
    send \"7 * 6\r\"
    expect \"42\"
    expect \"> \"
    send \"\004\"
    expect eof" >/dev/null 2>&1
  expect_has "XDG_STATE_HOME holds the history" '7' "$(cat "$WORK/state/espflash/history" 2>/dev/null)"
else
  not_ok "expect is not installed (apt-get install expect)"
fi

# not a terminal: lines are read plainly, no prompt, values and errors printed
printf 'x = 20\nx + 1\nerror("boom")\nfor i = 1, 2 do\n  x = x + i\nend\nx\n' | "$E" repl >"$WORK/out" 2>"$WORK/err"
RC=$?
expect_eq "piped: exit 0 at end of input" "0" "$RC"
expect_eq "piped: values, no prompts" "21
23" "$(cat "$WORK/out")"
expect_eq "piped: the error goes to stderr" "stdin:1: boom" "$(cat "$WORK/err")"

# a top-level local stays for the next lines; help() prints the source's doc comment
printf 'local n = 6\nn * 7\nhelp(espflash.nvs.parse)\nhelp("nothing.here")\n' | "$E" repl >"$WORK/out" 2>"$WORK/err"
expect_eq "piped: a local is kept for the next line" "42" "$(head -1 "$WORK/out")"
doc=$(awk '/^function M.parse\(data\)/ { printf "%s", block; exit }
  /^---/ { sub(/^--- ?/, "  "); block = block $0 "\n"; next } { block = "" }' \
  "$ESPFLASH_SOURCE_DIR/lua/espflash/nvs.lua")
expect_has "piped: help(fn) prints the comment above its definition" "espflash.nvs.parse(data)
$doc" "$(cat "$WORK/out")"
expect_has "piped: help of an unknown name says so" "help: no such name 'nothing.here'" "$(cat "$WORK/out")"

finish
