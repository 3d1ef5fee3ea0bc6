# The README's main-job command (scripts/demo.sh) runs green against the
# built binary: flash, read back, compare, skip, partial reflash.
set -u
: "${ESPFLASH_BIN:?set ESPFLASH_BIN to the built espflash (ctest does)}"
if [ ! -f "${ESPFLASH_STUBS:-}/esp32c3.json" ]; then
  echo "SKIP: no flasher stubs in ESPFLASH_STUBS (run scripts/setup-stubs.sh)"
  exit 0
fi
out=$(bash "$ESPFLASH_SOURCE_DIR/scripts/demo.sh" --no-setup 2>&1)
rc=$?
fail=0
check() { case "$out" in *"$1"*) echo "ok - $1" ;; *) echo "not ok - missing: $1"; fail=1 ;; esac; }
[ $rc -eq 0 ] && echo "ok - demo exits 0" || { echo "not ok - demo exited $rc"; fail=1; }
check "Flashing has completed!"
check "Flash contents match the merged image"
check "Wrote 0 of 228,800 bytes (228,800 unchanged)"
check "Hello world!"
check "demo: done"
# the partial reflash writes far less than the whole app
partial=$(printf '%s\n' "$out" | sed -n 's/.*Wrote \([0-9,]*\) of 228,800 bytes.*/\1/p' | tail -1 | tr -d ,)
if [ -n "$partial" ] && [ "$partial" -gt 0 ] && [ "$partial" -lt 20000 ]; then
  echo "ok - partial reflash wrote $partial bytes"
else
  echo "not ok - partial reflash wrote '${partial}' bytes"; fail=1
fi
[ $fail -eq 0 ] || printf '%s\n' "$out" | tail -40
exit $fail
