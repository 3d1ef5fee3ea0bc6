/* fuzz_nvs_parse.c: reading an NVS partition image (espflash.nvs.parse, what
 * nvs-dump shows): page headers, entry state bitmaps, CRCs, namespaces,
 * strings, multi-page blobs. Corruption must come back as problem records
 * or an espflash error object; the entries found must format (nvs.format)
 * and turn into CSV (nvs.to_csv) without errors. */
#include "fuzz_lua.h"

static const char SETUP[] =
  "local nvs = require('espflash.nvs')\n"
  "return function(bytes)\n"
  "  -- short inputs are padded with erased pages, so the page logic runs\n"
  "  if #bytes < 4096 then bytes = bytes .. ('\\xFF'):rep(4096 - #bytes) end\n"
  "  local entries, problems = nvs.parse(bytes)\n"
  "  nvs.format(entries, problems)\n"
  "  nvs.to_csv(entries)\n"
  "  for _, p in ipairs(problems) do nvs.problem_text(p) end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_nvs_parse", SETUP);
  fuzz_lua_call(L, data, size, 0);
  return 0;
}
