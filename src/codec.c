/* codec.c: digests (MD5 from libmd, SHA-256 from nettle: it uses the CPU's
 * SHA instructions, 6x libmd's speed on an ELF's SHA-256), zlib
 * deflate/inflate and base64 for Lua. */
#include <md5.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core.h"

/* core.md5(s) -> 16-byte raw digest */
static int l_md5(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  MD5_CTX ctx;
  uint8_t dig[MD5_DIGEST_LENGTH];
  MD5Init(&ctx);
  MD5Update(&ctx, (const uint8_t *)s, n);
  MD5Final(dig, &ctx);
  lua_pushlstring(L, (const char *)dig, sizeof dig);
  return 1;
}

/* core.md5_hex(s) -> 32 lowercase hex digits */
static int l_md5_hex(lua_State *L) {
  static const char hex[] = "0123456789abcdef";
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  MD5_CTX ctx;
  uint8_t dig[MD5_DIGEST_LENGTH];
  char out[2 * MD5_DIGEST_LENGTH];
  MD5Init(&ctx);
  MD5Update(&ctx, (const uint8_t *)s, n);
  MD5Final(dig, &ctx);
  for (int i = 0; i < MD5_DIGEST_LENGTH; i++) {
    out[2 * i] = hex[dig[i] >> 4];
    out[2 * i + 1] = hex[dig[i] & 15];
  }
  lua_pushlstring(L, out, sizeof out);
  return 1;
}

/* core.sha256(s) -> 32-byte raw digest */
static int l_sha256(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  struct sha256_ctx ctx;
  uint8_t dig[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, n, (const uint8_t *)s);
  sha256_digest(&ctx, sizeof dig, dig);
  lua_pushlstring(L, (const char *)dig, sizeof dig);
  return 1;
}

/* core.deflate(s [, level=9]) -> zlib-format string */
static int l_deflate(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Integer level = luaL_optinteger(L, 2, 9);
  luaL_argcheck(L, level >= 0 && level <= 9, 2, "compression level must be 0..9");
  uLongf cap = compressBound((uLong)n);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, cap);
  int rc = compress2((Bytef *)out, &cap, (const Bytef *)s, (uLong)n, (int)level);
  if (rc != Z_OK) return luaL_error(L, "deflate failed: %s", zError(rc));
  luaL_pushresultsize(&b, cap);
  return 1;
}

/* core.inflate(s) -> string | nil, "INVALID_DATA: ...", "INVALID_DATA" */
static int l_inflate(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit(&z) != Z_OK) return luaL_error(L, "inflateInit failed");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  z.next_in = (Bytef *)s;
  z.avail_in = (uInt)n;
  int rc;
  do {
    size_t room = n * 4 + 4096;
    if (room > 1 << 22) room = 1 << 22;
    z.next_out = (Bytef *)luaL_prepbuffsize(&b, room);
    z.avail_out = (uInt)room;
    rc = inflate(&z, Z_NO_FLUSH);
    luaL_addsize(&b, room - z.avail_out);
  } while (rc == Z_OK);
  const char *msg = z.msg;
  size_t left = z.avail_in;
  inflateEnd(&z);
  if (rc == Z_STREAM_END) {
    if (left > 0)
      return core_fail(L, "INVALID_DATA", "%zu bytes of trailing data after the zlib stream", left);
    luaL_pushresult(&b);
    return 1;
  }
  if (rc == Z_BUF_ERROR)
    return core_fail(L, "INVALID_DATA", "zlib data is truncated (%zu bytes)", n);
  return core_fail(L, "INVALID_DATA", "corrupt zlib data: %s", msg ? msg : zError(rc));
}

static const char b64[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* core.base64_encode(s) -> string (standard alphabet, padded) */
static int l_base64_encode(lua_State *L) {
  size_t n;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *o = luaL_buffinitsize(L, &b, (n + 2) / 3 * 4);
  size_t k = 0, i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    o[k++] = b64[v >> 18];
    o[k++] = b64[(v >> 12) & 63];
    o[k++] = b64[(v >> 6) & 63];
    o[k++] = b64[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
    o[k++] = b64[v >> 18];
    o[k++] = b64[(v >> 12) & 63];
    o[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    o[k++] = '=';
  }
  luaL_pushresultsize(&b, k);
  return 1;
}

static int b64_value(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* core.base64_decode(s) -> string | nil, "INVALID_DATA: ...", "INVALID_DATA"
 * (standard alphabet; whitespace is ignored; padding optional) */
static int l_base64_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *o = luaL_buffinitsize(L, &b, n / 4 * 3 + 3);
  size_t k = 0, digits = 0, pad = 0;
  uint32_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      pad++;
      continue;
    }
    int v = b64_value(c);
    if (v < 0)
      return core_fail(L, "INVALID_DATA", "invalid base64 character '%c' at offset %zu",
                       c >= 32 && c < 127 ? c : '?', i);
    if (pad)
      return core_fail(L, "INVALID_DATA", "base64 data continues after '=' padding at offset %zu", i);
    acc = acc << 6 | (uint32_t)v;
    if (++digits % 4 == 0) {
      o[k++] = (char)(acc >> 16);
      o[k++] = (char)(acc >> 8);
      o[k++] = (char)acc;
      acc = 0;
    }
  }
  size_t rem = digits % 4;
  if (rem == 1 || (pad && (rem + pad) % 4 != 0) || pad > 2)
    return core_fail(L, "INVALID_DATA", "base64 data has a bad length (%zu digits, %zu '=')",
                     digits, pad);
  if (rem == 2) {
    o[k++] = (char)(acc >> 4);
  } else if (rem == 3) {
    o[k++] = (char)(acc >> 10);
    o[k++] = (char)(acc >> 2);
  }
  luaL_pushresultsize(&b, k);
  return 1;
}

void core_open_codec(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"md5", l_md5}, {"md5_hex", l_md5_hex}, {"sha256", l_sha256},
    {"deflate", l_deflate}, {"inflate", l_inflate},
    {"base64_encode", l_base64_encode}, {"base64_decode", l_base64_decode},
    {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
