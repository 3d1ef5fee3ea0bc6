/* fuzz_partitions.c: partition tables, CSV and binary (espflash.partitions:
 * parse with and without validation). A table that parses and validates
 * must survive the round trips binary → CSV → table and CSV → binary →
 * table with the same partitions, and be accepted by the checks the
 * flasher runs (layout in a 16 MB flash, the table offset, the app
 * partition: a result or an error object). A binary table may hold names
 * no CSV can carry (leading or trailing whitespace, a line break, bytes that
 * are not UTF-8): to_csv must refuse exactly those, with an error object,
 * and the binary round trip still holds. */
#include "fuzz_lua.h"

/* The property lives in tests/fuzz/partitions_check.lua, shared with the
 * corpus replay of tests/spec/partitions_roundtrip_spec.lua. */
static const char SETUP[] = "return dofile(... .. '/tests/fuzz/partitions_check.lua')\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_partitions", SETUP);
  fuzz_lua_call(L, data, size, 0);
  return 0;
}
