/* lua_sim.c: core.sim_new, core.sim_serve and the espflash.Sim userdata.
 *
 * The profile table uses sim_profile_t's field names (built by espflash.sim
 * from a chip table); a missing, mistyped or unknown field is a Lua error
 * naming it. */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "sim/sim_int.h"

#define SIM_CLASS "espflash.Sim"

typedef struct {
  sim_t *s;
} lsim_t;

static const char *const PROFILE_KEYS[] = {
  "name", "magic", "chip_id", "secinfo_len", "flash_begin_len", "max_rom_opcode", "regs",
  "spi_base", "spi_usr", "spi_usr1", "spi_usr2", "spi_mosi_dlen", "spi_miso_dlen", "spi_w0",
  "jedec_id", "uart_clkdiv_addr", "xtal_mhz", "stub_entries", "banner_download",
  "banner_boot", NULL};

static const char *const OPT_KEYS[] = {
  "flash", "flash_size", "start_in_download", "secure_download", "link_emulation",
  "latency_us", "app_output", "fault", "fault_at", NULL};

static const char *const FAULTS[] = {"none", "drop", "flip", "stall", "reset", "refuse", NULL};

/* Raises on keys of table t that are not in `known`. */
static void check_keys(lua_State *L, int t, const char *what, const char *const *known) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int i = 0; known[i] && !ok; i++) ok = strcmp(lua_tostring(L, -1), known[i]) == 0;
    if (!ok)
      luaL_error(L, "sim_new: unknown %s field '%s'", what, luaL_tolstring(L, -1, NULL));
  }
}

static uint32_t to_u32(lua_State *L, int idx, const char *what, const char *key) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v < 0 || v > 0xFFFFFFFFLL)
    luaL_error(L, "sim_new: %s.%s must be an integer from 0 to 0xFFFFFFFF (got %s)", what, key,
               luaL_tolstring(L, idx, NULL));
  return (uint32_t)v;
}

/* Field `key` of table t as u32; `def` when absent, unless required. */
static uint32_t field_u32(lua_State *L, int t, const char *what, const char *key, int required,
                          uint32_t def) {
  uint32_t v = def;
  if (lua_getfield(L, t, key) == LUA_TNIL) {
    if (required) luaL_error(L, "sim_new: %s.%s is required", what, key);
  } else {
    v = to_u32(L, -1, what, key);
  }
  lua_pop(L, 1);
  return v;
}

static void field_str(lua_State *L, int t, const char *what, const char *key, char *dst,
                      size_t cap, int required) {
  int ty = lua_getfield(L, t, key);
  if (ty == LUA_TNIL) {
    if (required) luaL_error(L, "sim_new: %s.%s is required", what, key);
    dst[0] = 0;
  } else {
    size_t n = 0;
    const char *s = ty == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!s) luaL_error(L, "sim_new: %s.%s must be a string", what, key);
    if (n >= cap) luaL_error(L, "sim_new: %s.%s is longer than %d bytes", what, key, (int)cap - 1);
    memcpy(dst, s, n + 1);
  }
  lua_pop(L, 1);
}

static int field_bool(lua_State *L, int t, const char *key) {
  int ty = lua_getfield(L, t, key), v = 0;
  if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
    luaL_error(L, "sim_new: opts.%s must be a boolean", key);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void read_regs(lua_State *L, int t, sim_profile_t *p) {
  int ty = lua_getfield(L, t, "regs");
  if (ty != LUA_TNIL) {
    if (ty != LUA_TTABLE) luaL_error(L, "sim_new: profile.regs must be a table {[addr] = value}");
    int r = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, r)) {
      if (p->nregs == SIM_MAX_REGS)
        luaL_error(L, "sim_new: profile.regs has more than %d entries", SIM_MAX_REGS);
      p->regs[p->nregs].addr = to_u32(L, -2, "profile.regs", "<key>");
      p->regs[p->nregs].value = to_u32(L, -1, "profile.regs", "<value>");
      p->nregs++;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void read_stub_entries(lua_State *L, int t, sim_profile_t *p) {
  int ty = lua_getfield(L, t, "stub_entries");
  if (ty != LUA_TNIL) {
    if (ty != LUA_TTABLE) luaL_error(L, "sim_new: profile.stub_entries must be a list of addresses");
    lua_Integer n = luaL_len(L, -1);
    if (n > SIM_MAX_STUBS)
      luaL_error(L, "sim_new: profile.stub_entries has more than %d entries", SIM_MAX_STUBS);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, -1, i);
      p->stub_entries[p->nstub_entries++] = to_u32(L, -1, "profile", "stub_entries[i]");
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void read_profile(lua_State *L, int t, sim_profile_t *p) {
  const char *w = "profile";
  check_keys(L, t, w, PROFILE_KEYS);
  memset(p, 0, sizeof *p);
  field_str(L, t, w, "name", p->name, sizeof p->name, 1);
  p->magic = field_u32(L, t, w, "magic", 1, 0);
  p->chip_id = field_u32(L, t, w, "chip_id", 1, 0);
  p->secinfo_len = (int)field_u32(L, t, w, "secinfo_len", 1, 0);
  if (p->secinfo_len != 0 && p->secinfo_len != 12 && p->secinfo_len != 20)
    luaL_error(L, "sim_new: profile.secinfo_len must be 0, 12 or 20 (got %d)", p->secinfo_len);
  p->flash_begin_len = (int)field_u32(L, t, w, "flash_begin_len", 1, 0);
  if (p->flash_begin_len != 16 && p->flash_begin_len != 20)
    luaL_error(L, "sim_new: profile.flash_begin_len must be 16 or 20 (got %d)", p->flash_begin_len);
  p->max_rom_opcode = (int)field_u32(L, t, w, "max_rom_opcode", 1, 0);
  if (p->max_rom_opcode < 0x0A || p->max_rom_opcode > 0xFF)
    luaL_error(L, "sim_new: profile.max_rom_opcode must be from 0x0A to 0xFF");
  read_regs(L, t, p);
  p->spi_base = field_u32(L, t, w, "spi_base", 0, 0);
  p->spi_usr = field_u32(L, t, w, "spi_usr", p->spi_base != 0, 0);
  p->spi_usr1 = field_u32(L, t, w, "spi_usr1", 0, 0);
  p->spi_usr2 = field_u32(L, t, w, "spi_usr2", p->spi_base != 0, 0);
  p->spi_mosi_dlen = field_u32(L, t, w, "spi_mosi_dlen", 0, 0);
  p->spi_miso_dlen = field_u32(L, t, w, "spi_miso_dlen", 0, 0);
  p->spi_w0 = field_u32(L, t, w, "spi_w0", p->spi_base != 0, 0);
  p->jedec_id = field_u32(L, t, w, "jedec_id", 1, 0);
  p->uart_clkdiv_addr = field_u32(L, t, w, "uart_clkdiv_addr", 0, 0);
  p->xtal_mhz = field_u32(L, t, w, "xtal_mhz", 0, 40);
  if (p->xtal_mhz == 0 || p->xtal_mhz > 1000) luaL_error(L, "sim_new: profile.xtal_mhz must be 1..1000");
  read_stub_entries(L, t, p);
  field_str(L, t, w, "banner_download", p->banner_download, sizeof p->banner_download, 0);
  field_str(L, t, w, "banner_boot", p->banner_boot, sizeof p->banner_boot, 0);
}

/* Fills o; strings point into the Lua table (valid while it is on the stack). */
static void read_opts(lua_State *L, int t, sim_options_t *o) {
  const char *w = "opts";
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, t)) return;
  luaL_checktype(L, t, LUA_TTABLE);
  check_keys(L, t, w, OPT_KEYS);
  if (lua_getfield(L, t, "flash") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "sim_new: opts.flash must be a file path");
    o->flash_path = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, t, "app_output") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "sim_new: opts.app_output must be a string");
    o->app_output = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  o->flash_size = field_u32(L, t, w, "flash_size", 0, 0);
  if (o->flash_size % SIM_SECTOR)
    luaL_error(L, "sim_new: opts.flash_size must be a multiple of 4096 (got %I)",
               (lua_Integer)o->flash_size);
  o->start_in_download = field_bool(L, t, "start_in_download");
  o->secure_download = field_bool(L, t, "secure_download");
  o->link_emulation = field_bool(L, t, "link_emulation");
  o->latency_us = (int)field_u32(L, t, w, "latency_us", 0, 0);
  if (lua_getfield(L, t, "fault") != LUA_TNIL) {
    const char *f = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    o->fault_kind = -1;
    for (int i = 0; FAULTS[i]; i++)
      if (strcmp(f, FAULTS[i]) == 0) o->fault_kind = i;
    if (o->fault_kind < 0)
      luaL_error(L, "sim_new: opts.fault must be one of drop, flip, stall, reset, refuse");
  }
  lua_pop(L, 1);
  uint32_t at = field_u32(L, t, w, "fault_at", 0, 0);
  if (at > 0x7FFFFFFF) luaL_error(L, "sim_new: opts.fault_at is too large");
  o->fault_at = (int)at;
}

/* core.sim_new(profile, opts) -> Sim | nil, err, code */
static int l_sim_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  sim_profile_t *p = lua_newuserdatauv(L, sizeof *p, 0);   /* collected even if parsing raises */
  read_profile(L, 1, p);
  sim_options_t o;
  read_opts(L, 2, &o);
  if (o.flash_size == 0 && sim_jedec_size(p->jedec_id) == 0) {
    char cap[8];
    snprintf(cap, sizeof cap, "0x%02x", (unsigned)(p->jedec_id >> 16 & 0xFF));
    return luaL_error(L, "sim_new: profile.jedec_id capacity byte %s is unknown; pass opts.flash_size",
                      cap);
  }
  lsim_t *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->s = NULL;
  luaL_setmetatable(L, SIM_CLASS);
  char err[512];
  u->s = sim_create(p, &o, err, sizeof err);
  if (!u->s) return core_fail(L, "IO", "%s", err);
  return 1;
}

sim_t *sim_check(lua_State *L, int idx) {
  lsim_t *u = luaL_checkudata(L, idx, SIM_CLASS);
  return u->s;
}

static sim_t *check_open(lua_State *L) {
  sim_t *s = sim_check(L, 1);
  if (!s) luaL_error(L, "attempt to use a closed virtual device");
  return s;
}

/* sim:flash_read(addr, n) -> string (shorter at the end of the flash) */
static int l_flash_read(lua_State *L) {
  sim_t *s = check_open(L);
  uint32_t addr = to_u32(L, 2, "flash_read", "addr");
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 0, 3, "negative length");
  if (addr >= sim_flash_size(s)) n = 0;
  else if (n > (lua_Integer)(sim_flash_size(s) - addr)) n = sim_flash_size(s) - addr;
  luaL_Buffer b;
  uint8_t *buf = (uint8_t *)luaL_buffinitsize(L, &b, (size_t)n);
  luaL_pushresultsize(&b, sim_flash_read(s, addr, buf, (size_t)n));
  return 1;
}

/* sim:flash_write(addr, data) -> bytes written (overwrites, for test setup) */
static int l_flash_write(lua_State *L) {
  sim_t *s = check_open(L);
  uint32_t addr = to_u32(L, 2, "flash_write", "addr");
  size_t n;
  const char *d = luaL_checklstring(L, 3, &n);
  lua_pushinteger(L, (lua_Integer)sim_flash_write(s, addr, (const uint8_t *)d, n));
  return 1;
}

/* sim:flash_size() -> bytes */
static int l_flash_size(lua_State *L) {
  lua_pushinteger(L, sim_flash_size(check_open(L)));
  return 1;
}

/* sim:state() -> "off" | "booting" | "rom" | "stub" | "running" */
static int l_state(lua_State *L) {
  lua_pushstring(L, sim_state_name(check_open(L)));
  return 1;
}

/* sim:reset(download) -> true: power-cycle into download mode (true) or normal boot */
static int l_reset(lua_State *L) {
  sim_reset(check_open(L), lua_toboolean(L, 2));
  lua_pushboolean(L, 1);
  return 1;
}

/* sim:close(): idempotent; writes a backing file through (also __gc, __close) */
static int l_close(lua_State *L) {
  lsim_t *u = luaL_checkudata(L, 1, SIM_CLASS);
  if (u->s) {
    sim_destroy(u->s);
    u->s = NULL;
  }
  return 0;
}

void core_open_sim(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"flash_read", l_flash_read}, {"flash_write", l_flash_write},
    {"flash_size", l_flash_size}, {"state", l_state}, {"reset", l_reset},
    {"close", l_close}, {NULL, NULL}};
  core_new_class(L, SIM_CLASS, methods, l_close);
  static const luaL_Reg fns[] = {{"sim_new", l_sim_new}, {"sim_serve", sim_l_serve}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
