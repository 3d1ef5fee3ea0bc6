/* port.c: the espflash.Port userdata: core.open, raw reads and writes, baud
 * rate, modem lines, and the read buffer that port_cmd.c decodes frames from.
 * A Port is created closed, then its transport is opened (like Lua's liolib),
 * so a failed open leaves nothing behind; one idempotent closer serves
 * close(), __gc and __close. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "sim/sim.h"

void port_err_set(port_err_t *e, const char *code, const char *fmt, ...) {
  va_list ap;
  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

int port_push_err(lua_State *L, const port_err_t *err) {
  return core_fail(L, err->code, "%s", err->msg);
}

int64_t port_deadline(lua_Integer timeout_ms) {
  if (timeout_ms < 0 || timeout_ms > (lua_Integer)1e9) timeout_ms = (lua_Integer)1e9;
  return core_now_us() + (int64_t)timeout_ms * 1000;
}

port_t *port_check_open(lua_State *L, int idx) {
  port_t *p = luaL_checkudata(L, idx, PORT_CLASS);
  if (!p->t) luaL_error(L, "attempt to use a closed port");
  if (p->is_sim) {
    lua_getiuservalue(L, idx, 1);
    sim_t *s = sim_check(L, -1);
    lua_pop(L, 1);
    if (!s) luaL_error(L, "the virtual device behind %s was closed", p->name);
    port_sim_rebind(p->t, s);
  }
  return p;
}

uint8_t *port_scratch(lua_State *L, port_t *p, size_t n) {
  if (n > p->out_cap) {
    uint8_t *o = realloc(p->out, n);
    if (!o) luaL_error(L, "out of memory (%d bytes for a frame)", (int)n);
    p->out = o;
    p->out_cap = n;
  }
  return p->out;
}

long port_fill(port_t *p, int64_t deadline_us, port_err_t *err) {
  /* checked even when bytes are there, so a device that always answers at
   * once (sim://, a fast peer) cannot make a loop deaf to Ctrl-C */
  if (espflash_interrupted) {
    port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
    return -1;
  }
  if (p->in_pos < p->in_len) return (long)(p->in_len - p->in_pos);
  p->in_pos = p->in_len = 0;
  long n = p->t->ops->read(p->t, p->in, PORT_INBUF, deadline_us, err);
  if (n > 0) p->in_len = (size_t)n;
  return n;
}

/* Time allowed for writing n bytes: twice the wire time plus two seconds. */
static int64_t write_deadline(const port_t *p, size_t n) {
  uint32_t baud = p->baud ? p->baud : 115200;
  return core_now_us() + 2000000 + (int64_t)n * 20 * 1000000 / baud;
}

/* port:write(s [, timeout_ms]) -> true | nil, err, code; without a timeout,
 * the deadline allows for the bytes at the current baud plus 2 s */
static int l_write(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  size_t n;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 2, &n);
  lua_Integer tmo = luaL_optinteger(L, 3, -1);
  int64_t deadline = tmo >= 0 ? core_now_us() + tmo * 1000 : write_deadline(p, n);
  port_err_t err;
  if (p->t->ops->write(p->t, s, n, deadline, &err) < 0)
    return port_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

int port_write_all(port_t *p, const uint8_t *s, size_t n, int64_t deadline_us,
                   port_err_t *err) {
  int64_t d = write_deadline(p, n);
  return p->t->ops->write(p->t, s, n, d > deadline_us ? d : deadline_us, err);
}

/* port:read(max, timeout_ms=0) -> string ("" on timeout) | nil, err, code;
 * returns as soon as any bytes are there */
static int l_read(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_Integer max = luaL_checkinteger(L, 2);
  luaL_argcheck(L, max > 0, 2, "must be positive");
  port_err_t err;
  long n = port_fill(p, port_deadline(luaL_optinteger(L, 3, 0)), &err);
  if (n < 0) return port_push_err(L, &err);
  size_t take = p->in_len - p->in_pos;
  if ((lua_Integer)take > max) take = (size_t)max;
  lua_pushlstring(L, (const char *)p->in + p->in_pos, take);
  p->in_pos += take;
  return 1;
}

/* port:flush_input() -> true | nil, err, code: drops buffered input and any
 * partial frame */
static int l_flush_input(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  port_err_t err;
  p->in_pos = p->in_len = 0;
  slip_decoder_reset(&p->dec);
  if (p->t->ops->flush_input(p->t, &err) < 0) return port_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* port:set_baud(n) -> true | nil, err, code */
static int l_set_baud(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_Integer baud = luaL_checkinteger(L, 2);
  luaL_argcheck(L, baud > 0 && baud <= 20000000, 2, "baud rate out of range");
  port_err_t err;
  if (p->t->ops->set_baud(p->t, (uint32_t)baud, &err) < 0) return port_push_err(L, &err);
  p->baud = (uint32_t)baud;
  lua_pushboolean(L, 1);
  return 1;
}

/* port:baud() -> integer */
static int l_baud(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_pushinteger(L, p->baud);
  return 1;
}

static int opt_line(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return -1;
  luaL_checktype(L, idx, LUA_TBOOLEAN);
  return lua_toboolean(L, idx);
}

/* port:set_lines(dtr, rts) -> true | false (no modem lines) | nil, err, code;
 * true asserts a line, false releases it, nil leaves it; both change in one ioctl */
static int l_set_lines(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  int dtr = opt_line(L, 2), rts = opt_line(L, 3);
  port_err_t err;
  int rc = p->t->ops->set_lines(p->t, dtr, rts, &err);
  if (rc < 0) return port_push_err(L, &err);
  lua_pushboolean(L, rc);
  return 1;
}

/* port:has_lines() -> boolean */
static int l_has_lines(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_pushboolean(L, p->t->ops->has_lines(p->t));
  return 1;
}

/* port:info() -> {kind="serial"|"socket"|"sim", name=, baud=} */
static int l_info(lua_State *L) {
  port_t *p = port_check_open(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, p->t->ops->kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, p->name);
  lua_setfield(L, -2, "name");
  lua_pushinteger(L, p->baud);
  lua_setfield(L, -2, "baud");
  return 1;
}

/* port:close() -> true; idempotent, also __gc and __close */
static int l_close(lua_State *L) {
  port_t *p = luaL_checkudata(L, 1, PORT_CLASS);
  if (p->t) {
    p->t->ops->close(p->t);
    p->t = NULL;
    lua_pushnil(L);
    lua_setiuservalue(L, 1, 1); /* release the Sim */
  }
  free(p->in);
  free(p->out);
  p->in = p->out = NULL;
  p->out_cap = 0;
  slip_decoder_free(&p->dec);
  lua_pushboolean(L, 1);
  return 1;
}

/* tostring(port) -> "espflash.Port (name)" or "espflash.Port (closed)" */
static int l_tostring(lua_State *L) {
  port_t *p = luaL_checkudata(L, 1, PORT_CLASS);
  lua_pushfstring(L, "espflash.Port (%s)", p->t ? p->name : "closed");
  return 1;
}

/* Opens the transport named by url; the Port is at index `self`. */
static port_transport_t *open_transport(lua_State *L, int self, const char *url,
                                        uint32_t baud, int timeout_ms, port_err_t *err) {
  if (strncmp(url, "socket://", 9) == 0) {
    const char *hp = url + 9, *colon = strrchr(hp, ':');
    char host[256];
    if (!colon || colon == hp || !colon[1] || (size_t)(colon - hp) >= sizeof host) {
      port_err_set(err, "PORT_NOT_FOUND", "bad socket URL %s: expected socket://HOST:PORT", url);
      return NULL;
    }
    size_t hl = (size_t)(colon - hp);
    if (hp[0] == '[' && hl >= 2 && hp[hl - 1] == ']') hp++, hl -= 2; /* [::1]:port */
    memcpy(host, hp, hl);
    host[hl] = 0;
    return port_tcp_open(host, colon + 1, timeout_ms, err);
  }
  if (strncmp(url, "sim://", 6) == 0) {
    if (lua_getfield(L, 2, "sim") == LUA_TNIL) {
      port_err_set(err, "PORT_NOT_FOUND", "%s needs a virtual device: core.open(url, {sim = "
                   "core.sim_new(...)})", url);
      lua_pop(L, 1);
      return NULL;
    }
    sim_t *sim = sim_check(L, lua_gettop(L));
    if (!sim) {
      port_err_set(err, "PORT_NOT_FOUND", "the virtual device for %s is not available", url);
      lua_pop(L, 1);
      return NULL;
    }
    lua_setiuservalue(L, self, 1); /* keeps the Sim alive while the Port is open */
    port_t *p = lua_touserdata(L, self);
    p->is_sim = 1;
    return port_sim_open(sim, baud, err);
  }
  if (strncmp(url, "rfc2217://", 10) == 0) return port_rfc2217_open(url, baud, timeout_ms, err);
  if (strstr(url, "://")) {
    port_err_set(err, "PORT_NOT_FOUND", "unknown port URL %s: use a device path, "
                 "socket://HOST:PORT, rfc2217://HOST:PORT or sim://CHIP", url);
    return NULL;
  }
  return port_tty_open(url, baud, err);
}

/* core.open(url [, {baud=115200, sim=Sim, timeout=5000}]) -> Port | nil, err, code
 * url: a tty path, socket://HOST:PORT, rfc2217://HOST:PORT[?options] or sim://CHIP
 * (with opts.sim); timeout: TCP connect (and RFC 2217 negotiation) timeout in ms */
static int l_open(lua_State *L) {
  const char *url = luaL_checkstring(L, 1);
  lua_Integer baud = 115200, timeout = 5000;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "baud") != LUA_TNIL) baud = luaL_checkinteger(L, -1);
    if (lua_getfield(L, 2, "timeout") != LUA_TNIL) timeout = luaL_checkinteger(L, -1);
    lua_pop(L, 2);
  } else {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  if (baud <= 0 || baud > 20000000) return luaL_error(L, "baud rate %d out of range", (int)baud);
  port_t *p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  slip_decoder_init(&p->dec);
  luaL_setmetatable(L, PORT_CLASS);
  int self = lua_gettop(L);
  p->in = malloc(PORT_INBUF);
  if (!p->in) return luaL_error(L, "out of memory opening %s", url);
  snprintf(p->name, sizeof p->name, "%s", url);
  port_err_t err;
  port_transport_t *t = open_transport(L, self, url, (uint32_t)baud,
                                       timeout < 0 ? 0 : (int)timeout, &err);
  if (!t) return port_push_err(L, &err);
  p->t = t;
  p->baud = (uint32_t)baud;
  lua_settop(L, self);
  return 1;
}

static const luaL_Reg port_methods[] = {
  {"read", l_read}, {"write", l_write}, {"flush_input", l_flush_input},
  {"set_baud", l_set_baud}, {"baud", l_baud}, {"set_lines", l_set_lines},
  {"has_lines", l_has_lines}, {"info", l_info}, {"close", l_close},
  {"__tostring", l_tostring}, {NULL, NULL}};

void core_open_port(lua_State *L) {
  core_new_class(L, PORT_CLASS, port_methods, l_close);
  luaL_getmetatable(L, PORT_CLASS);
  luaL_setfuncs(L, port_frame_methods, 0);
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {
    {"open", l_open}, {"list_ports", port_list_ports}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
