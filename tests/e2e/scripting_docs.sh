#!/usr/bin/env bash
# docs/scripting.md: every ```lua block marked <!-- test: run --> runs, as
# written, with `espflash run` and with the system's plain lua5.4 (the
# library from the source tree and build/lua/espflash/core.so), against the
# virtual device. The examples assert what they show, so a wrong example
# fails. Every ```lua block of the library API section must be marked.
# The ```lua examples of docs/device-api.md and docs/nvs.md run with
# `espflash run` too (their busted specs run them in-process).
. "$(dirname "$0")/check_helpers.bash"
: "${ESPFLASH_SOURCE_DIR:?set ESPFLASH_SOURCE_DIR (ctest does)}"
FINISH_LABEL=scripting_docs
DOC=$ESPFLASH_SOURCE_DIR/docs/scripting.md
need_stubs

# the marked blocks, one file each: ex1.lua, ex2.lua, ...
awk -v dir="$WORK" '
  /^<!-- test: run -->$/ { marked = 1; next }
  /^```lua$/ { if (marked) { n++; out = dir "/ex" n ".lua"; inside = 1 } ; marked = 0; next }
  /^```$/ && inside { inside = 0; close(out); next }
  inside { print > out }
  { if ($0 != "") marked = 0 }
' "$DOC"
count=$(ls "$WORK"/ex*.lua 2>/dev/null | wc -l)
if [ "$count" -ge 6 ]; then ok "found $count marked examples"; else not_ok "found $count marked examples" "wanted at least 6"; fi

# every lua block after the API heading is marked
unmarked=$(awk '/^## The library API/ { api = 1 } api && /^```lua$/ { if (prev != "<!-- test: run -->") n++ }
  { if ($0 != "") prev = $0 } END { print n + 0 }' "$DOC")
if [ "$unmarked" -eq 0 ]; then ok "every lua block of the API section is tested"; else not_ok "every lua block of the API section is tested" "$unmarked unmarked"; fi

cd "$WORK" || exit 1
export LUA_PATH="$ESPFLASH_SOURCE_DIR/lua/?.lua;$ESPFLASH_SOURCE_DIR/lua/?/init.lua;;"
export LUA_CPATH="${ESPFLASH_BUILD_DIR:-$ESPFLASH_SOURCE_DIR/build}/lua/?.so;;"
for i in $(seq 1 "$count"); do
  f=ex$i.lua
  rc=0; "$ESPFLASH_BIN" run "$f" >"out$i" 2>"err$i" </dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then ok "example $i with espflash run"; else not_ok "example $i with espflash run" "exit $rc" "$(cat "err$i")"; fi
  if [ -s "out$i" ]; then ok "example $i prints"; else not_ok "example $i prints" "no output"; fi
  rc=0; lua5.4 "$f" >"lout$i" 2>"lerr$i" </dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then ok "example $i with lua5.4"; else not_ok "example $i with lua5.4" "exit $rc" "$(cat "lerr$i")"; fi
done

# the other API docs' examples, with espflash run
for doc in device-api nvs; do
  rm -f "$WORK"/$doc-*.lua
  awk -v pre="$WORK/$doc-" '/^```lua$/ { n++; out = pre n ".lua"; inside = 1; next }
    /^```$/ && inside { inside = 0; close(out); next } inside { print > out }' "$ESPFLASH_SOURCE_DIR/docs/$doc.md"
  n=$(ls "$WORK"/$doc-*.lua 2>/dev/null | wc -l)
  if [ "$n" -ge 2 ]; then ok "docs/$doc.md has $n examples"; else not_ok "docs/$doc.md has examples" "found $n"; fi
  for i in $(seq 1 "$n"); do
    rc=0; "$ESPFLASH_BIN" run "$doc-$i.lua" >/dev/null 2>"err-$doc-$i" </dev/null || rc=$?
    if [ "$rc" -eq 0 ]; then ok "docs/$doc.md example $i with espflash run"; else
      not_ok "docs/$doc.md example $i with espflash run" "exit $rc" "$(cat "err-$doc-$i")"; fi
  done
done

# what the examples print, as the doc says
grep -q "^esp32c3	ok$" out1 && ok "example 1 output" || not_ok "example 1 output" "$(cat out1)"
grep -q 'serial  string  "SN-0001"' out2 && ok "example 2 lists the NVS entries" || not_ok "example 2 lists the NVS entries" "$(cat out2)"
grep -q '^\[sim://esp32s3#2\] failed after .*\[espflash::timeout\]$' out3 && ok "example 3 reports the failure with its cause" \
  || not_ok "example 3 reports the failure with its cause" "$(cat out3)"
grep -q '^\[sim://esp32h2#3\] done in ' out3 && ok "example 3 reports the others done" || not_ok "example 3 reports the others done" "$(cat out3)"

finish
