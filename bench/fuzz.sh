#!/usr/bin/env bash
# bench/fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets of
# tests/fuzz/ in build-fuzz/ (clang, -DESPFLASH_FUZZ=ON) and runs each for
# SECONDS (default 300), one after the other, with -jobs=1 under nice -n 10.
# Each run starts from the committed seeds (tests/fuzz/corpus/TARGET) and a
# working corpus kept in build-fuzz/fuzz-corpus/TARGET; findings (crash-*,
# timeout-*, oom-*, leak-*) land in build-fuzz/fuzz-findings/TARGET/. Prints
# executions and findings per target; exits 1 when anything was found.
# Targets: the fuzz_*.c names, with or without the fuzz_ prefix (default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-300}
case "$secs" in ''|*[!0-9]*) echo "usage: bench/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
shift || true
build=$root/build-fuzz

targets=()
if [ $# -eq 0 ]; then
  for f in "$root"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    [ "$t" = fuzz_lua ] || targets+=("$t")
  done
else
  for t in "$@"; do targets+=("fuzz_${t#fuzz_}"); done
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DESPFLASH_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice -n 10 cmake --build "$build" --target "${targets[@]}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ESPFLASH_STUBS=${ESPFLASH_STUBS:-$root/build/stubs}
summary=()
found=0
for t in "${targets[@]}"; do
  exe=$build/fuzz/$t
  [ -x "$exe" ] || { echo "no such fuzz target: $t" >&2; exit 2; }
  work=$build/fuzz-corpus/$t
  findings=$build/fuzz-findings/$t
  logdir=$build/fuzz-logs/$t
  mkdir -p "$work" "$findings" "$logdir"
  seeds=$root/tests/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=
  echo "== $t: ${secs}s"
  before=$(ls "$findings" | wc -l)
  # -jobs=1 runs one worker that logs to fuzz-0.log in the current directory
  (cd "$logdir" && nice -n 10 "$exe" -jobs=1 -workers=1 -max_total_time="$secs" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
    "$work" ${seeds:+"$seeds"} >/dev/null 2>&1) || true
  log=$logdir/fuzz-0.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$execs" ]; then
    execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  fi
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(ls "$work" | wc -l)
  new=$(( $(ls "$findings" | wc -l) - before ))
  found=$((found + new))
  if [ "$new" -gt 0 ]; then
    grep -E '^fuzz_lua: finding|ERROR: (AddressSanitizer|libFuzzer)|runtime error' "$log" | head -3 || true
  fi
  summary+=("$(printf '%-20s %8ss %14s %10s %8s %9s' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$corpus" "$new")")
done

printf '\n%-20s %9s %14s %10s %8s %9s\n' target time executions exec/s corpus findings
printf '%s\n' "${summary[@]}"
[ "$found" -eq 0 ] || { echo "findings in $build/fuzz-findings/" >&2; exit 1; }
