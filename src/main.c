/* main.c: the espflash executable.
 *
 * Creates the Lua state (ignoring LUA_PATH/LUA_INIT, like `lua -E`), installs
 * the two-stage Ctrl-C handler, makes espflash.core and espflash.host
 * requirable, loads the Lua sources (embedded, or from ESPFLASH_LUA_DIR), sets
 * the global `arg` as lua.c does and returns require("espflash.cli").main(arg).
 * Exit codes: 0 ok, 1 error, 2 usage, 130 interrupted. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#include "core.h"
#include "host.h"

#define EXIT_INTERRUPTED 130

/* Message handler for failures outside the CLI's own handling (the CLI
 * failing to load): the message plus a traceback, as lua.c's msghandler. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void preload(lua_State *L, const char *name, lua_CFunction open) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, open);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
}

/* pmain(argc, argv, lua_dir) -> exit code */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  const char *lua_dir = lua_tostring(L, 3);
  luaL_checkversion(L);
  luaL_openlibs(L);
  host_loader_install(L, lua_dir);
  preload(L, "espflash.core", luaopen_espflash_core);
  preload(L, "espflash.host", luaopen_espflash_host);

  lua_createtable(L, argc, 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_setglobal(L, "arg");

  lua_pushcfunction(L, msghandler);
  int msgh = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "espflash.cli");
  if (lua_pcall(L, 1, 1, msgh) != LUA_OK) return lua_error(L);
  lua_getfield(L, -1, "main");
  lua_getglobal(L, "arg");
  if (lua_pcall(L, 1, 1, msgh) != LUA_OK) return lua_error(L);
  lua_Integer code = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
  lua_pushinteger(L, code);
  return 1;
}

static int debug_requested(int argc, char **argv) {
  const char *env = getenv("ESPFLASH_DEBUG");
  if (env && *env && strcmp(env, "0") != 0) return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--debug") == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  char lua_dir[PATH_MAX];
  const char *dev = getenv("ESPFLASH_LUA_DIR");
  if (dev && *dev) {
    if (!realpath(dev, lua_dir)) {
      fprintf(stderr, "espflash: error: ESPFLASH_LUA_DIR=%s: %s\n"
              "  hint: point it at a source tree with lua/ and scripts/, or unset it\n",
              dev, strerror(errno));
      return 1;
    }
    dev = lua_dir;
  } else {
    dev = NULL;
  }

  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "espflash: error: cannot create the Lua state: not enough memory\n");
    return 1;
  }
  lua_pushboolean(L, 1);  /* like `lua -E`: ignore LUA_PATH, LUA_CPATH, LUA_INIT */
  lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  host_signals_install(L);

  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  lua_pushstring(L, dev);
  int status = lua_pcall(L, 3, 1, 0);
  int code;
  if (status == LUA_OK) {
    code = (int)lua_tointeger(L, -1);
  } else {
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "(no error message)";
    if (!debug_requested(argc, argv)) {
      const char *tb = strstr(msg, "\nstack traceback:");
      if (tb) {
        lua_pushlstring(L, msg, (size_t)(tb - msg));
        msg = lua_tostring(L, -1);
      }
    }
    fprintf(stderr, "espflash: error: %s\n", msg);
    code = 1;
  }
  if (espflash_interrupted) code = EXIT_INTERRUPTED;
  fflush(stdout);
  lua_close(L);
  return code;
}
