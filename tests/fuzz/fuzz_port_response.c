/* fuzz_port_response.c: what the host makes of a device's bytes — the Port's
 * SLIP decoding and command exchange (src/port.c, src/port_cmd.c) and the
 * Lua loader, connect and device code above it (lua/espflash/loader.lua,
 * connect.lua, device.lua) — through an in-memory transport instead of a
 * device: the fuzz input is everything the "device" sends.
 *
 * Input: byte 0 picks the scenario, byte 1 the read slice sizes, byte 2 a
 * parameter (opcode, size), the rest is the device's byte stream. Writes
 * from the host are discarded; reads return the stream in slices and then
 * time out at once. Lua's core.now/core.sleep are replaced by a virtual
 * clock so retries and drains cost no wall time. Every scenario must end in
 * a result or an espflash error object (see fuzz_lua.h). */
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "fuzz_lua.h"
#include "port.h"

typedef struct {
  port_transport_t base;
  const uint8_t *data;
  size_t len, pos;
  unsigned seed;
} mem_t;

static mem_t mem;

static long mem_read(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
                     port_err_t *err) {
  mem_t *m = (mem_t *)t;
  (void)deadline_us, (void)err;
  size_t left = m->len - m->pos;
  if (left == 0) return 0;
  m->seed = m->seed * 1103515245u + 12345u;
  size_t n = 1 + (m->seed >> 16) % 600;
  if (n > left) n = left;
  if (n > cap) n = cap;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (long)n;
}

static int mem_write(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  (void)t, (void)buf, (void)n, (void)deadline_us, (void)err;
  return 0;
}

static int mem_set_baud(port_transport_t *t, uint32_t baud, port_err_t *err) {
  (void)t, (void)baud, (void)err;
  return 0;
}

static int mem_lines(port_transport_t *t, int dtr, int rts, port_err_t *err) {
  (void)t, (void)dtr, (void)rts, (void)err;
  return 0;
}

static int mem_has_lines(port_transport_t *t) {
  (void)t;
  return 0;
}

/* The stream models bytes still on their way: nothing is "already received". */
static int mem_flush(port_transport_t *t, port_err_t *err) {
  (void)t, (void)err;
  return 0;
}

static void mem_close(port_transport_t *t) { (void)t; }

static const port_ops_t mem_ops = {"socket", mem_read, mem_write, mem_set_baud, mem_lines,
                                   mem_has_lines, mem_flush, mem_close};

/* Pushes a Port userdata on the in-memory transport, built as l_open builds one. */
static void push_port(lua_State *L) {
  port_t *p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  slip_decoder_init(&p->dec);
  luaL_setmetatable(L, PORT_CLASS);
  p->in = malloc(PORT_INBUF);
  if (!p->in) abort();
  strcpy(p->name, "fuzz://device");
  p->t = &mem.base;
  p->baud = 115200;
}

/* The scenarios live in tests/fuzz/port_scenarios.lua, shared with the seed
 * generator (tests/fuzz/seeds.lua). */
static const char SETUP[] =
  "local core = require('espflash.core')\n"
  "local clock = 0\n"
  "core.now = function() clock = clock + 0.05; return clock end\n"
  "core.sleep = function() return true end\n"
  "local S = dofile(... .. '/tests/fuzz/port_scenarios.lua')\n"
  "return function(bytes, port)\n"
  "  local s, p = bytes:byte(1), bytes:byte(3)\n"
  "  S[s % #S + 1].run(port, p)\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  lua_State *L = fuzz_lua_init("=fuzz_port_response", SETUP);
  mem.base.ops = &mem_ops;
  mem.data = data + 3;
  mem.len = size - 3;
  mem.pos = 0;
  mem.seed = data[1];
  push_port(L);
  int port = lua_gettop(L);
  lua_pushvalue(L, port);
  fuzz_lua_call(L, data, 3, 1);
  lua_getfield(L, port, "close");
  lua_pushvalue(L, port);
  lua_call(L, 1, 0);
  lua_settop(L, port - 1);
  return 0;
}
