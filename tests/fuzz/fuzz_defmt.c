/* fuzz_defmt.c: defmt frames as the monitor decodes them
 * (lua/espflash/monitor_defmt.lua): esp-println's framing (FF 00 <frame> 00
 * between plain text), rzCOBS, and decoding a frame against the defmt table
 * of a real ELF ($ESPFLASH_TESTDATA/elf/esp32c6_defmt.elf; without it only
 * the framing and rzCOBS are fuzzed). A frame that fails to decode must come
 * back as a problem message, not as a Lua runtime error caught and passed
 * on; rzCOBS must round-trip (decode(encode(x)) is x plus zero padding). */
#include "fuzz_lua.h"

static const char SETUP[] =
  "local defmt = require('espflash.monitor_defmt')\n"
  "local src = ...\n"
  "local td = os.getenv('ESPFLASH_TESTDATA')\n"
  "if not td or td == '' then td = src .. '/../shared/testdata' end\n"
  "local elf = td .. '/elf/esp32c6_defmt.elf'\n"
  "local f = io.open(elf, 'rb')\n"
  "local parsers = {}\n"
  "if f then\n"
  "  f:close()\n"
  "  for _, fmt in ipairs({ 'oneline', 'full', '{t} [{L}] {s} ({f}:{l} {m})' }) do\n"
  "    parsers[#parsers + 1] = defmt.new(elf, { output_format = fmt })\n"
  "  end\n"
  "else\n"
  "  io.stderr:write('fuzz_defmt: no ', elf, '; fuzzing the framing and rzCOBS only\\n')\n"
  "end\n"
  "-- a Lua runtime error caught by decode's pcall starts with a tree path\n"
  "local RAW = '^' .. src:gsub('%p', '%%%0') .. '/lua/[^:]*%.lua:%d+: '\n"
  "local function check(msg)\n"
  "  msg = tostring(msg):gsub('^Failed to decode defmt frame: ', '')\n"
  "  if msg:find(RAW) or msg:find('^attempt to %a') or msg:find('^bad argument #%d') then\n"
  "    error('a Lua runtime error reported as a decoding problem: ' .. msg)\n"
  "  end\n"
  "end\n"
  "return function(bytes)\n"
  "  local p = parsers[(bytes:byte(1) or 0) % math.max(1, #parsers) + 1]\n"
  "  local data = bytes:sub(2)\n"
  "  local dec = defmt.rzcobs_decode(data)\n"
  "  if dec and p then\n"
  "    local rec, err = defmt.decode(p.table, dec)\n"
  "    if not rec then check(err) end\n"
  "  end\n"
  "  if p then\n"
  "    p.delimiter = defmt.delimiter()\n"
  "    local _, problems = p:feed(data)\n"
  "    for _, m in ipairs(problems) do check(m) end\n"
  "  else\n"
  "    defmt.delimiter():feed(data)\n"
  "  end\n"
  "  local back = defmt.rzcobs_decode(defmt.rzcobs_encode(data))\n"
  "  if not back or back:sub(1, #data) ~= data or back:sub(#data + 1):find('[^%z]') then\n"
  "    error('rzCOBS does not round-trip ' .. #data .. ' bytes')\n"
  "  end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_defmt", SETUP);
  fuzz_lua_call(L, data, size, 0);
  return 0;
}
