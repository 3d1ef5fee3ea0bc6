/* fuzz_nvs_csv.c: NVS CSV files (espflash.nvs.from_csv, what nvs-gen reads):
 * quoting, comments, the header row, namespaces, every type and encoding,
 * then building the image. `file` rows resolve under an empty temporary
 * directory. A CSV that builds must parse back (nvs.parse) without
 * problems and with as many entries as it built. (A key given twice in one
 * namespace used to build an image that failed this check; nvs-gen now
 * refuses it: corpus/fuzz_nvs_csv/regress-duplicate-key.) */
#include "fuzz_lua.h"

static const char SETUP[] =
  "local nvs = require('espflash.nvs')\n"
  "return function(bytes, dir)\n"
  "  local image, stats = nvs.from_csv(bytes, { size = 0x6000, base_dir = dir, name = 'fuzz.csv' })\n"
  "  local entries, problems = nvs.parse(image)\n"
  "  if #problems > 0 then\n"
  "    error('a built image has problems: ' .. nvs.problem_text(problems[1]))\n"
  "  end\n"
  "  if stats.entries and #entries ~= stats.entries then\n"
  "    error(('built %d entries, read back %d'):format(stats.entries, #entries))\n"
  "  end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_nvs_csv", SETUP);
  lua_pushstring(L, fuzz_tmpdir());
  fuzz_lua_call(L, data, size, 1);
  return 0;
}
