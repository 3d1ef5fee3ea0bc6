/* test_sim_lua.c: the Lua binding of the virtual device (core.sim_new, the
 * espflash.Sim methods): table validation errors name the field, flash
 * access, reset, idempotent close. */
#include <lualib.h>
#include <unistd.h>

#include "test_sim.h"

static const char *PROFILE =
  "local function profile(over)\n"
  "  local p = {name = 'esp32c3', magic = 0x1B31506F, chip_id = 5, secinfo_len = 20,\n"
  "    flash_begin_len = 20, max_rom_opcode = 0x14, regs = {[0x60008844] = 0xF97E7BC0},\n"
  "    spi_base = 0x60002000, spi_usr = 0x18, spi_usr2 = 0x20, spi_miso_dlen = 0x28,\n"
  "    spi_w0 = 0x58, jedec_id = 0x1640C8, stub_entries = {0x40380E9A},\n"
  "    banner_download = 'waiting for download\\r\\n', banner_boot = 'boot\\r\\n'}\n"
  "  for k, v in pairs(over or {}) do p[k] = v end\n"
  "  if over and over.drop then p[over.drop] = nil; p.drop = nil end\n"
  "  return p\n"
  "end\n";

/* Runs `body` after the PROFILE helper with `core` in scope; returns the
 * error message (caller frees) or NULL when it ran without error. */
static char *run(lua_State *L, const char *body) {
  char *src = malloc(strlen(PROFILE) + strlen(body) + 64);
  sprintf(src, "local core = ...\n%s%s", PROFILE, body);
  char *err = NULL;
  if (luaL_loadstring(L, src) != LUA_OK) {
    err = strdup(lua_tostring(L, -1));
  } else {
    lua_getglobal(L, "CORE");
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) err = strdup(lua_tostring(L, -1));
  }
  lua_settop(L, 0);
  free(src);
  return err;
}

static void expect_error(lua_State *L, const char *body, const char *needle) {
  char *e = run(L, body);
  CHECK(e && strstr(e, needle), "%s: got %s", body, e ? e : "no error");
  free(e);
}

static void expect_ok(lua_State *L, const char *body) {
  char *e = run(L, body);
  CHECK(e == NULL, "%s", e);
  free(e);
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaopen_espflash_core(L);
  lua_setglobal(L, "CORE");

  expect_error(L, "core.sim_new(profile({magic = 'x'}))", "profile.magic must be an integer");
  expect_error(L, "core.sim_new(profile({drop = 'chip_id'}))", "profile.chip_id is required");
  expect_error(L, "core.sim_new(profile({chip = 'c3'}))", "unknown profile field 'chip'");
  expect_error(L, "core.sim_new(profile({secinfo_len = 16}))", "profile.secinfo_len must be 0, 12 or 20");
  expect_error(L, "core.sim_new(profile({flash_begin_len = 24}))", "flash_begin_len must be 16 or 20");
  expect_error(L, "core.sim_new(profile({regs = {[0x10] = -1}}))", "profile.regs.<value>");
  expect_error(L, "core.sim_new(profile({stub_entries = 5}))", "profile.stub_entries must be a list");
  expect_error(L, "core.sim_new(profile({name = string.rep('x', 40)}))", "profile.name is longer");
  expect_error(L, "core.sim_new(profile({jedec_id = 0x7740C8}))", "capacity byte 0x77 is unknown");
  expect_error(L, "core.sim_new(profile(), {flash_size = 1000})", "opts.flash_size must be a multiple of 4096");
  expect_error(L, "core.sim_new(profile(), {fault = 'melt'})", "opts.fault must be one of");
  expect_error(L, "core.sim_new(profile(), {link_emulation = 1})", "opts.link_emulation must be a boolean");
  expect_error(L, "core.sim_new(profile(), {speed = 1})", "unknown opts field 'speed'");
  expect_error(L, "core.sim_serve(core.sim_new(profile()), {})", "pass exactly one of");

  /* Environmental failure: the fail triple, not an error. */
  expect_ok(L,
    "local s, msg, code = core.sim_new(profile(), {flash = '/nonexistent/dir/flash.bin'})\n"
    "assert(s == nil and code == 'IO' and msg:find('cannot open flash file'), msg)\n");

  /* Methods: flash access, state, reset, close (idempotent, __close). */
  expect_ok(L,
    "local s = assert(core.sim_new(profile(), {flash_size = 0x10000}))\n"
    "assert(s:flash_size() == 0x10000)\n"
    "assert(s:state() == 'running', s:state())\n"
    "assert(s:flash_read(0, 4) == '\\xff\\xff\\xff\\xff')\n"
    "assert(s:flash_write(0xFFFE, 'abcd') == 2)\n"
    "assert(s:flash_read(0xFFFC, 10) == '\\xff\\xffab')\n"
    "assert(s:flash_read(0x20000, 4) == '')\n"
    "s:reset(true)\n"
    "assert(s:state() == 'rom')\n"
    "s:close(); s:close()\n"
    "assert(not pcall(s.state, s))\n"
    "do local t <close> = assert(core.sim_new(profile())) end\n"
    "collectgarbage()\n");
  expect_error(L, "local s = core.sim_new(profile()); s:close(); s:flash_read(0, 1)",
               "closed virtual device");

  /* The flash file keeps what the sim wrote after close. */
  char path[] = "/tmp/test_sim_luaXXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  char body[512];
  snprintf(body, sizeof body,
           "local s = assert(core.sim_new(profile(), {flash = '%s', flash_size = 0x8000}))\n"
           "s:flash_write(0x100, 'kept')\n"
           "s:close()\n"
           "local f = assert(io.open('%s', 'rb'))\n"
           "local data = f:read('a') f:close()\n"
           "assert(#data == 0x8000 and data:sub(0x101, 0x104) == 'kept' and data:byte(1) == 0xFF)\n",
           path, path);
  expect_ok(L, body);
  unlink(path);
  lua_close(L);
  return check_finish("test_sim_lua");
}
