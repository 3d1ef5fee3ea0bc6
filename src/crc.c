/* crc.c: zlib's CRC-32 for Lua (NVS pages and entries, and anything else
 * that checks data the way ESP-IDF's esp_rom_crc32_le does). */
#include <zlib.h>

#include "core.h"

/* core.crc32(s [, init=0]) -> integer 0..0xFFFFFFFF
 * zlib's crc32(init, s): init is a previous result to continue from, so
 * crc32(a .. b) == crc32(b, crc32(a)). ESP-IDF's esp_rom_crc32_le(0xFFFFFFFF,
 * buf, len) and Python's zlib.crc32(buf, 0xFFFFFFFF) are crc32(s, 0xFFFFFFFF). */
static int l_crc32(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Integer init = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, init >= 0 && init <= 0xFFFFFFFFLL, 2, "initial CRC must be 0..0xFFFFFFFF");
  uLong crc = (uLong)init;
  const Bytef *p = (const Bytef *)s;
  /* zlib takes uInt lengths: feed very long strings in slices */
  while (n > 0) {
    uInt part = n > 0x40000000u ? 0x40000000u : (uInt)n;
    crc = crc32(crc, p, part);
    p += part;
    n -= part;
  }
  lua_pushinteger(L, (lua_Integer)(crc & 0xFFFFFFFFu));
  return 1;
}

void core_open_crc(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"crc32", l_crc32},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
