/* port_cmd.c: SLIP frames over a Port and the ESP command exchange:
 * write_frame, read_frame, take_noise, command (and its two halves,
 * send_command and read_response, for two commands in flight). */
#include <string.h>

#include "port.h"

#define MAX_SKIPPED 100

/* Decodes buffered bytes, reading more as needed, until a frame completes.
 * Returns 1 (frame in p->dec), 0 (deadline passed) or -1 (err set). */
static int next_frame(port_t *p, int64_t deadline_us, port_err_t *err) {
  for (;;) {
    if (espflash_interrupted) {
      port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
      return -1;
    }
    while (p->in_pos < p->in_len) {
      size_t used;
      int done = slip_decoder_feed(&p->dec, p->in + p->in_pos, p->in_len - p->in_pos, &used);
      p->in_pos += used;
      if (done) return 1;
    }
    long n = port_fill(p, deadline_us, err);
    if (n <= 0) return (int)n;
  }
}

/* port:write_frame(s) -> true | nil, err, code: SLIP-encodes s and writes it */
static int l_write_frame(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  size_t n;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 2, &n);
  uint8_t *out = port_scratch(L, p, slip_encoded_max(n));
  size_t len = 0;
  out[len++] = SLIP_END;
  len += slip_escape(out + len, s, n);
  out[len++] = SLIP_END;
  port_err_t err;
  if (port_write_all(p, out, len, core_now_us(), &err) < 0) return port_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* port:read_frame(timeout_ms=0) -> string | nil, "TIMEOUT: ...", "TIMEOUT" | nil, err, code */
static int l_read_frame(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_Integer timeout = luaL_optinteger(L, 2, 0);
  port_err_t err;
  int rc = next_frame(p, port_deadline(timeout), &err);
  if (rc < 0) return port_push_err(L, &err);
  if (rc == 0) return core_fail(L, "TIMEOUT", "no SLIP frame within %d ms", (int)timeout);
  lua_pushlstring(L, (const char *)p->dec.frame, p->dec.len);
  return 1;
}

/* port:take_noise() -> string: bytes seen outside SLIP frames since the last
 * call (the last 4 KiB) */
static int l_take_noise(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  luaL_Buffer b;
  uint8_t *buf = (uint8_t *)luaL_buffinitsize(L, &b, SLIP_NOISE_KEEP);
  luaL_pushresultsize(&b, slip_take_noise(&p->dec, buf, SLIP_NOISE_KEEP));
  return 1;
}

static uint32_t get_le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A response to op: direction 1 and the same opcode, or the ROM's
 * unsupported-command reply (status 01 05 00 00) carrying a stale opcode. */
static int is_response(const uint8_t *f, size_t len, int op) {
  if (len < 8 || f[0] != 1) return 0;
  if (f[1] == op) return 1;
  return len >= 12 && memcmp(f + len - 4, "\x01\x05\x00\x00", 4) == 0;
}

/* Writes the request packet 00 op len16 checksum32 data (arguments 2..4 of
 * the Lua call) as one SLIP frame. Returns the opcode, or -1 with err set. */
static int send_request(lua_State *L, port_t *p, int64_t deadline, port_err_t *err) {
  lua_Integer op = luaL_checkinteger(L, 2);
  luaL_argcheck(L, op >= 0 && op <= 255, 2, "opcode must be 0..255");
  size_t n = 0;
  const uint8_t *data = (const uint8_t *)luaL_optlstring(L, 3, "", &n);
  luaL_argcheck(L, n <= 0xFFFF, 3, "command data longer than 65535 bytes");
  uint32_t sum = (uint32_t)luaL_optinteger(L, 4, 0);
  uint8_t hdr[8] = {0, (uint8_t)op, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)sum,
                    (uint8_t)(sum >> 8), (uint8_t)(sum >> 16), (uint8_t)(sum >> 24)};
  uint8_t *out = port_scratch(L, p, slip_encoded_max(8 + n));
  size_t len = 0;
  out[len++] = SLIP_END;
  len += slip_escape(out + len, hdr, sizeof hdr);
  len += slip_escape(out + len, data, n);
  out[len++] = SLIP_END;
  if (espflash_interrupted) {
    port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
    return -1;
  }
  if (port_write_all(p, out, len, deadline, err) < 0) return -1;
  return (int)op;
}

/* Reads frames until the response to op (see is_response); pushes
 * resp_op, value, body or the fail triple. */
static int read_response(lua_State *L, port_t *p, int op, int64_t deadline, lua_Integer timeout) {
  port_err_t err;
  for (int skipped = 0;; skipped++) {
    int rc = next_frame(p, deadline, &err);
    if (rc < 0) return port_push_err(L, &err);
    if (rc == 0)
      return core_fail(L, "TIMEOUT", "no response to command 0x%02x within %d ms",
                       op, (int)timeout);
    const uint8_t *f = p->dec.frame;
    size_t flen = p->dec.len;
    if (is_response(f, flen, op)) {
      lua_pushinteger(L, f[1]);
      lua_pushinteger(L, get_le32(f + 4));
      lua_pushlstring(L, (const char *)f + 8, flen - 8);
      return 3;
    }
    if (skipped >= MAX_SKIPPED)
      return core_fail(L, "PROTOCOL", "no response to command 0x%02x among %d frames",
                       op, MAX_SKIPPED + 1);
  }
}

/* port:command(op, data="", checksum=0, timeout_ms=3000) -> resp_op, value, body
 *   | nil, err, code; writes 00 op len16 checksum32 data as one SLIP frame and
 * returns the first response (see is_response), skipping up to 100 others;
 * body is everything after the 8-byte header (data and status bytes) */
static int l_command(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_Integer timeout = luaL_optinteger(L, 5, 3000);
  int64_t deadline = port_deadline(timeout);
  port_err_t err;
  int op = send_request(L, p, deadline, &err);
  if (op < 0) return port_push_err(L, &err);
  return read_response(L, p, op, deadline, timeout);
}

/* port:send_command(op, data="", checksum=0) -> true | nil, err, code: only
 * writes the request, for a caller that reads the response later with
 * read_response (two commands in flight) */
static int l_send_command(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  port_err_t err;
  if (send_request(L, p, core_now_us(), &err) < 0) return port_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* port:read_response(op, timeout_ms=3000) -> resp_op, value, body | nil, err, code:
 * the response to a command sent with send_command, as port:command returns it */
static int l_read_response(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_Integer op = luaL_checkinteger(L, 2);
  luaL_argcheck(L, op >= 0 && op <= 255, 2, "opcode must be 0..255");
  lua_Integer timeout = luaL_optinteger(L, 3, 3000);
  return read_response(L, p, (int)op, port_deadline(timeout), timeout);
}

const luaL_Reg port_frame_methods[] = {
  {"write_frame", l_write_frame}, {"read_frame", l_read_frame},
  {"take_noise", l_take_noise}, {"command", l_command}, {"send_command", l_send_command},
  {"read_response", l_read_response}, {NULL, NULL}};
