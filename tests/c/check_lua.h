/* check_lua.h: Lua chunks in the C tests: check_lua(L, code) runs `code`
 * in L and returns the number of results it left on the stack; a chunk
 * that fails to load or raises is a failed CHECK with the Lua error, and
 * returns 0. */
#ifndef ESPFLASH_TEST_CHECK_LUA_H
#define ESPFLASH_TEST_CHECK_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "check.h"

static inline int check_lua(lua_State *L, const char *code) {
  lua_settop(L, 0);
  if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    CHECK(0, "lua error: %s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return 0;
  }
  return lua_gettop(L);
}

#endif
