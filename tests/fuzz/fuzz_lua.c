/* fuzz_lua.c: one Lua state per fuzz process and the verdict on each input
 * (see fuzz_lua.h). */
#include "fuzz_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>

#include "core.h"

#ifndef ESPFLASH_SOURCE_DIR
#error "ESPFLASH_SOURCE_DIR must name the source tree"
#endif

/* Registry key of the per-input function and of the message handler. */
static const char FN_KEY[] = "espflash.fuzz.fn";
static const char HANDLER_KEY[] = "espflash.fuzz.handler";
static const char RESET_KEY[] = "espflash.fuzz.reset";

/* The message handler, in Lua: marks an acceptable error with `true` and
 * turns anything else into its message and a traceback. The chunk also
 * replaces the global pcall with one that notes every raw Lua error a
 * library function catches (a string starting with a source position in the
 * tree, or a C function's "bad argument"): an error object that carries
 * such a message was made from a runtime error by some wrapper, and counts
 * as a finding too. Checking only how messages start keeps input that
 * the library echoes into its messages from looking like a finding. It
 * returns the handler and the function that forgets what was noted. */
static const char HANDLER[] =
  "local errors = require('espflash.errors')\n"
  "local tree = (...):gsub('%p', '%%%0')\n"
  "local seen = {}\n"
  "local function raw(e)\n"
  "  return type(e) == 'string' and (e:find('^' .. tree .. '/lua/[^:]*%.lua:%d+: ')\n"
  "    or e:find('^bad argument #%d') or e:find('^attempt to %a')) ~= nil\n"
  "end\n"
  "local real_pcall = pcall\n"
  "pcall = function(f, ...)\n"
  "  local r = table.pack(real_pcall(f, ...))\n"
  "  if not r[1] and raw(r[2]) then seen[#seen + 1] = r[2] end\n"
  "  return table.unpack(r, 1, r.n)\n"
  "end\n"
  "local function handler(e)\n"
  "  if errors.is(e) then\n"
  "    local m = tostring(e.message)\n"
  "    for _, r in ipairs(seen) do\n"
  "      if m:find(r, 1, true) then\n"
  "        return debug.traceback('raw Lua error inside an error object (' .. tostring(e.code)\n"
  "          .. '): ' .. m, 2)\n"
  "      end\n"
  "    end\n"
  "    return true\n"
  "  end\n"
  "  return debug.traceback('raw Lua error: ' .. tostring(e), 2)\n"
  "end\n"
  "return handler, function() seen = {} end\n";

static lua_State *state;

/* Lua-level coverage for libFuzzer. The Lua interpreter is Debian's, not
 * instrumented, so without this the fuzzer would see none of the Lua code it
 * drives. A line hook hashes (function source, line) with the previous line
 * into libFuzzer's extra counters: edges between Lua lines count as
 * coverage, and inputs reaching new parser branches are kept. */
#define LUA_EDGES (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t lua_edges[LUA_EDGES];
static uintptr_t last_line;

static void line_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  uintptr_t here = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u + (uintptr_t)ar->currentline * 0x85EBCA6Bu;
  uint8_t *c = &lua_edges[(here ^ last_line) & (LUA_EDGES - 1)];
  if (*c < 255) (*c)++;
  last_line = here >> 1;
}

static void die(lua_State *L, const char *what) {
  fprintf(stderr, "fuzz_lua: %s: %s\n", what, lua_tostring(L, -1));
  abort();
}

static void preload_core(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_espflash_core);
  lua_setfield(L, -2, "espflash.core");
  lua_pop(L, 1);
}

lua_State *fuzz_lua_init(const char *name, const char *setup) {
  if (state) return state;
  /* the tree's sources, nothing else of ours (no installed copy, no core.so) */
  setenv("LUA_PATH", ESPFLASH_SOURCE_DIR "/lua/?.lua;" ESPFLASH_SOURCE_DIR "/lua/?/init.lua;"
         "/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua", 1);
  /* lua-cjson (the defmt table); espflash.core is preloaded */
  setenv("LUA_CPATH", "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so", 1);
  lua_State *L = luaL_newstate();
  if (!L) abort();
  luaL_openlibs(L);
  preload_core(L);
  if (luaL_loadbuffer(L, HANDLER, sizeof HANDLER - 1, "=fuzz_handler") != LUA_OK)
    die(L, "message handler");
  lua_pushstring(L, ESPFLASH_SOURCE_DIR);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) die(L, "message handler");
  lua_setfield(L, LUA_REGISTRYINDEX, RESET_KEY);
  lua_setfield(L, LUA_REGISTRYINDEX, HANDLER_KEY);
  if (luaL_loadbuffer(L, setup, strlen(setup), name) != LUA_OK) die(L, "setup");
  lua_pushstring(L, ESPFLASH_SOURCE_DIR);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) die(L, "setup");
  if (!lua_isfunction(L, -1)) {
    fprintf(stderr, "fuzz_lua: %s returned no function\n", name);
    abort();
  }
  lua_setfield(L, LUA_REGISTRYINDEX, FN_KEY);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
  state = L;
  return L;
}

const char *fuzz_tmpdir(void) {
  static char dir[] = "/tmp/espflash-fuzz-XXXXXX";
  static int made;
  if (!made) {
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      abort();
    }
    made = 1;
  }
  return dir;
}

void fuzz_lua_call(lua_State *L, const uint8_t *data, size_t n, int nextra) {
  int base = lua_gettop(L) - nextra, handler = lua_gettop(L) + 1;
  lua_getfield(L, LUA_REGISTRYINDEX, RESET_KEY);
  lua_call(L, 0, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, HANDLER_KEY);
  lua_getfield(L, LUA_REGISTRYINDEX, FN_KEY);
  lua_pushlstring(L, (const char *)data, n);
  for (int i = 1; i <= nextra; i++) lua_pushvalue(L, base + i);
  last_line = 0;
  int status = lua_pcall(L, 1 + nextra, 0, handler);
  if (status != LUA_OK && !(lua_isboolean(L, -1) && lua_toboolean(L, -1))) {
    if (status == LUA_ERRMEM) fprintf(stderr, "fuzz_lua: Lua ran out of memory\n");
    fprintf(stderr, "fuzz_lua: finding: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, base);
  espflash_interrupted = 0;
}
