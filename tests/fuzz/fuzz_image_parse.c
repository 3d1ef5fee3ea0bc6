/* fuzz_image_parse.c: reading an application image back (espflash.image.parse,
 * what image-info shows): header, extended header, segments, checksum,
 * SHA-256 digest, app descriptor. Byte 0 picks the chip the caller names
 * (none: detected from the header), the rest is the image. Any failure must
 * be an espflash error object. */
#include "fuzz_lua.h"

static const char SETUP[] =
  "local image = require('espflash.image')\n"
  "local CHIPS = { false, 'esp32', 'esp32c3', 'esp32s3', 'esp32c6', 'esp32p4', 'esp32c2', 'esp32h2' }\n"
  "return function(bytes)\n"
  "  local chip = CHIPS[bytes:byte(1) % #CHIPS + 1]\n"
  "  image.parse(bytes:sub(2), { chip = chip or nil })\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  lua_State *L = fuzz_lua_init("=fuzz_image_parse", SETUP);
  fuzz_lua_call(L, data, size, 0);
  return 0;
}
