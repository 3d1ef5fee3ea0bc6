#!/usr/bin/env bash
# The library outside the binary: `cmake --install` (into a DESTDIR, with the
# prefixes /usr/local and /usr) puts the Lua modules, core.so and the stubs
# where Debian's lua5.4 looks by default, and a plain lua5.4 program — not
# the espflash executable — does `require "espflash"` from that tree and
# flashes virtual devices, one and then several at once.
. "$(dirname "$0")/scripting_helpers.bash"
need_stubs

# lua5.4's default path with every /usr/... entry moved under $1 (the
# DESTDIR), then the default path itself for the system's own modules (cjson)
default_path() {
  local p
  p=$(env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 lua5.4 -e "io.write(package.$2)")
  printf '%s;%s' "$(printf '%s' "$p" | sed "s#\(^\|;\)/usr/#\1$1/usr/#g")" "$p"
}

cat >"$WORK/flash.lua" <<'LUA'
-- a plain Lua program using the installed library
local espflash = require "espflash"
local where = package.searchpath("espflash", package.path)
local core_so = package.searchpath("espflash.core", package.cpath)
print("espflash from " .. where)
print("core from " .. core_so)
local flash_file = arg[1]
local dev <close> = espflash.connect{ port = "sim://esp32c3?flash=" .. flash_file }
local data = ("installed library "):rep(500)
assert(dev:write(0x10000, data) == "written")
assert(dev:read(0x10000, #data) == data)
print("chip " .. dev:info().chip .. ", version " .. espflash.version)

local results = espflash.each_device({ "sim://esp32s3", "sim://esp32c6", "sim://esp32h2?fault=stall&fault_at=15" },
  function(d) d:write(0x20000, data); return d:info().chip end)
for _, r in ipairs(results) do print(r.label, r.ok and r.value or r.err.code) end
return 0
LUA

for prefix in /usr/local /usr; do
  dest=$WORK/root${prefix//\//_}
  run env DESTDIR="$dest" cmake --install "$BUILD" --prefix "$prefix"
  expect_rc "cmake --install --prefix $prefix" 0
  lmod=$dest$prefix/share/lua/5.4/espflash
  for f in init.lua parallel.lua portspec.lua connect.lua device.lua chips/esp32c3.lua; do
    if [ -f "$lmod/$f" ]; then ok "$prefix: installs $f"; else not_ok "$prefix: installs $f" "missing $lmod/$f"; fi
  done
  so=$(find "$dest$prefix/lib" -name core.so -path '*lua/5.4/espflash/*' | head -1)
  if [ -n "$so" ]; then ok "$prefix: installs core.so ($so)"; else not_ok "$prefix: installs core.so" "$(find "$dest")"; fi
  stubs=$dest$prefix/share/espflash/stubs
  if [ -f "$stubs/esp32c3.json" ]; then ok "$prefix: installs the stubs under the prefix"; else not_ok "$prefix: installs the stubs under the prefix" "no $stubs/esp32c3.json"; fi

  # only lua5.4's default paths (moved under the DESTDIR); no espflash binary anywhere
  # (the lua5.4 found on PATH: under the sanitizers, a shim preloading their runtimes)
  run env -i PATH="$(dirname "$(command -v lua5.4)"):/usr/bin:/bin" HOME="$HOME" ESPFLASH_STUBS="$stubs" \
    LUA_PATH="$(default_path "$dest" path)" LUA_CPATH="$(default_path "$dest" cpath)" \
    bash -c "cd '$WORK' && lua5.4 flash.lua '$WORK/flash$$.bin'"
  expect_rc "$prefix: a plain lua5.4 program flashes the virtual device" 0
  expect_has "$prefix: the library comes from the install tree" "espflash from $dest$prefix/share/lua/5.4/espflash/init.lua" "$OUT"
  expect_has "$prefix: core.so comes from the install tree" "core from $dest$prefix/lib" "$OUT"
  expect_has "$prefix: it reports the chip and version" "chip esp32c3, version 0.1.0" "$OUT"
  expect_has "$prefix: each_device: the healthy devices finish" "sim://esp32c6#2	esp32c6" "$OUT"
  expect_has "$prefix: each_device: the failing one has its code" "sim://esp32h2#3	espflash::timeout" "$OUT"
  if cmp -s <(head -c $((0x10000 + 9000)) "$WORK/flash$$.bin" | tail -c 9000) \
            <(for _ in $(seq 500); do printf 'installed library '; done); then
    ok "$prefix: the bytes are in the device's flash"
  else
    not_ok "$prefix: the bytes are in the device's flash"
  fi
  rm -f "$WORK/flash$$.bin"
done

finish
