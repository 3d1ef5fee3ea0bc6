# The bad-input corpus (tests/bad/cases.txt): malformed ELFs, images,
# partition tables, NVS CSVs, configuration files and command lines, each run through the built
# binary. Every case must exit with its status and print exactly its one
# `espflash: error:` line on stderr: no Lua traceback, no raw Lua error, no
# crash, no sanitizer report, no hang (60 s per case). Cases marked
# `pending` are known bugs: they only have to end without a crash (some are
# still accepted), and are listed at the end.
source "$(dirname "$0")/cli_helpers.bash"
SRC=$ESPFLASH_SOURCE_DIR
B=$WORK/inputs
export O=$WORK/scratch
mkdir -p "$B" "$O" "$WORK/home"
B_REAL=$(cd "$B" && pwd -P)

run "$ESPFLASH_BIN" run "$SRC/tests/bad/gen.lua" "$B"
expect_rc "the generator writes the malformed files" 0
[ "$RC" -eq 0 ] || { finish; exit 1; }

have_stubs=0
[ -n "${ESPFLASH_STUBS:-}" ] && [ -f "$ESPFLASH_STUBS/esp32c3.json" ] && have_stubs=1

# a crash or a memory error (valgrind's reports start with ==PID==)
CRASH_SIGNS=("AddressSanitizer" "LeakSanitizer" "runtime error:" "Segmentation fault" "==ERROR"
  "Invalid read" "Invalid write" "uninitialised")
# a Lua error that reached the user as it is
RAW_SIGNS=("stack traceback" "a Lua error in the script" "attempt to ")
PENDING=()
cases=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  name=${line%% | *}; rest=${line#* | }
  want_rc=${rest%% | *}; rest=${rest#* | }
  argv=${rest%% | *}; expected=${rest#* | }
  cases=$((cases + 1))
  if [ "${name%%/*}" = dev ] && [ "$have_stubs" -eq 0 ]; then
    echo "ok - $name # SKIP no flasher stubs in \$ESPFLASH_STUBS"
    continue
  fi
  eval "set -- $argv"
  # a case with its own directory (cfg/*: its espflash.toml) runs there, with
  # an empty home, so that file is the configuration found; `$B` in the
  # expected line stands for the inputs directory
  dir=$B
  [ -d "$B/$name" ] && dir=$B/$name
  expected=${expected//\$B/$B_REAL}
  RC=0
  (cd "$dir" && HOME=$WORK/home XDG_CONFIG_HOME= exec timeout 60 "$ESPFLASH_BIN" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null) || RC=$?
  ERR=$(cat "$WORK/err")
  got=$(grep '^espflash: error: ' "$WORK/err" || true)
  problems=()
  [ "$RC" -lt 124 ] || problems+=("exit $RC: a crash, a signal or a hang")
  for sign in "${CRASH_SIGNS[@]}"; do
    case "$ERR" in *"$sign"*) problems+=("stderr shows '$sign'") ;; esac
  done
  if [ "$want_rc" = pending ]; then
    if [ ${#problems[@]} -eq 0 ]; then
      PENDING+=("$name: $expected (now: ${got:-no error line})")
      echo "ok - $name # TODO known bug"
    else
      not_ok "$name (a pending case crashed)" "${problems[@]}" "stderr: $ERR"
    fi
    continue
  fi
  [ "$RC" -ne 0 ] || problems+=("exit 0: the bad input was accepted")
  for sign in "${RAW_SIGNS[@]}"; do
    case "$ERR" in *"$sign"*) problems+=("stderr shows '$sign'") ;; esac
  done
  [ "$RC" = "$want_rc" ] || problems+=("exit $RC, wanted $want_rc")
  [ "$(printf '%s\n' "$got" | grep -c .)" -eq 1 ] || problems+=("wanted one error line, got: ${got:-none}")
  [ "$got" = "$expected" ] || problems+=("wanted: $expected" "got:    $got")
  if [ ${#problems[@]} -eq 0 ]; then ok "$name"; else not_ok "$name" "${problems[@]}" "stderr: $ERR"; fi
done <"$SRC/tests/bad/cases.txt"

echo "# $cases cases, ${#PENDING[@]} pending (known bugs):"
for p in "${PENDING[@]}"; do echo "#   $p"; done
finish
