/* core.c: luaopen_espflash_core and the helpers every area shares. */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

volatile sig_atomic_t espflash_interrupted = 0;

int core_fail(lua_State *L, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", code, msg);
  lua_pushstring(L, code);
  return 3;
}

int64_t core_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int core_sleep_ms(int ms) {
  int64_t end = core_now_us() + (int64_t)ms * 1000;
  for (;;) {
    if (espflash_interrupted) return -1;
    int64_t left = end - core_now_us();
    if (left <= 0) return 0;
    if (left > 20000) left = 20000;
    struct timespec ts = {0, (long)left * 1000};
    nanosleep(&ts, NULL);
  }
}

void core_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                    lua_CFunction closer) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  if (closer) {
    lua_pushcfunction(L, closer);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, closer);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
}

/* core.sleep(ms) -> true | nil, "INTERRUPTED: ...", "INTERRUPTED" */
static int l_sleep(lua_State *L) {
  if (core_sleep_ms((int)luaL_checkinteger(L, 1)) < 0)
    return core_fail(L, "INTERRUPTED", "interrupted by Ctrl-C");
  lua_pushboolean(L, 1);
  return 1;
}

/* core.now() -> seconds (float, monotonic) */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)core_now_us() / 1e6);
  return 1;
}

/* core.interrupted() -> boolean */
static int l_interrupted(lua_State *L) {
  lua_pushboolean(L, espflash_interrupted != 0);
  return 1;
}

/* core.interrupt(): sets the interrupt flag (what Ctrl-C does) */
static int l_interrupt(lua_State *L) {
  (void)L;
  espflash_interrupted = 1;
  return 0;
}

/* core.clear_interrupt() */
static int l_clear_interrupt(lua_State *L) {
  (void)L;
  espflash_interrupted = 0;
  return 0;
}

void core_open_util(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"sleep", l_sleep}, {"now", l_now}, {"interrupted", l_interrupted},
    {"interrupt", l_interrupt}, {"clear_interrupt", l_clear_interrupt},
    {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}

int luaopen_espflash_core(lua_State *L) {
  lua_newtable(L);
  core_open_util(L);
  core_open_codec(L);
  core_open_slip(L);
  core_open_port(L);
  core_open_sim(L);
  core_open_term(L);
  core_open_elf(L);
  core_open_crc(L);
  core_open_path(L);
  return 1;
}
