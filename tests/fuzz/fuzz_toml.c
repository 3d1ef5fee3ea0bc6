/* fuzz_toml.c: espflash.toml and espflash_ports.toml (espflash.toml's
 * parser and writer, then espflash.config's loader on the same text).
 *
 * The first input byte picks the file the rest is written to (even: the
 * project's espflash.toml, odd: espflash_ports.toml), in an empty temporary
 * project directory whose parent holds nothing and with no user directory.
 * Checks: a text that parses encodes (toml.encode) to a text that parses
 * back to the same document; config.load returns or raises an espflash
 * error (an espflash 3 file is migrated, writing espflash_ports.toml beside
 * it: the directory is emptied before every input). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz_lua.h"

static const char SETUP[] =
  "local toml = require('espflash.toml')\n"
  "local config = require('espflash.config')\n"
  "local function same(a, b, path)\n"
  "  if type(a) ~= type(b) then error(path .. ': ' .. type(a) .. ' became ' .. type(b)) end\n"
  "  if type(a) ~= 'table' then\n"
  "    if a ~= b or math.type(a) ~= math.type(b) then\n"
  "      error(('%s: %q became %q'):format(path, tostring(a), tostring(b)))\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  for k, v in pairs(a) do same(v, b[k], path .. '.' .. tostring(k)) end\n"
  "  for k in pairs(b) do if a[k] == nil then error(path .. '.' .. tostring(k) .. ' appeared') end end\n"
  "end\n"
  "return function(bytes, dir)\n"
  "  local which = #bytes > 0 and bytes:byte(1) % 2 == 1 and 'espflash_ports.toml' or 'espflash.toml'\n"
  "  local text = bytes:sub(2)\n"
  "  local doc = toml.parse(text, which)\n"
  "  if doc then\n"
  "    local again, err = toml.parse(toml.encode(doc), 'encoded')\n"
  "    if not again then error('toml.encode wrote what toml.parse refuses: ' .. err) end\n"
  "    same(doc, again, 'doc')\n"
  "  end\n"
  "  os.remove(dir .. '/espflash.toml')\n"
  "  os.remove(dir .. '/espflash_ports.toml')\n"
  "  local f = assert(io.open(dir .. '/' .. which, 'wb'))\n"
  "  f:write(text)\n"
  "  f:close()\n"
  "  config.load({ cwd = dir, getenv = function() return nil end })\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_toml", SETUP);
  static char dir[256];
  if (!dir[0]) {  /* a project directory whose parent holds nothing */
    snprintf(dir, sizeof dir, "%s/proj", fuzz_tmpdir());
    if (mkdir(dir, 0700) != 0) {
      perror("mkdir");
      abort();
    }
  }
  lua_pushstring(L, dir);
  fuzz_lua_call(L, data, size, 1);
  return 0;
}
