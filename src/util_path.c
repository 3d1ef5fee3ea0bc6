/* util_path.c: file-system path helpers for the Lua library: resolving
 * symbolic links and relative parts (config file locations, `--port`
 * names given as /dev/serial/by-id links, which process holds a port). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* core.realpath(path) -> absolute path without symlinks, "." or ".."
 *   | nil, "PATH: message", "PATH" */
static int l_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  if (!realpath(path, buf)) return core_fail(L, "PATH", "%s: %s", path, strerror(errno));
  lua_pushstring(L, buf);
  return 1;
}

void core_open_path(lua_State *L) {
  static const luaL_Reg fns[] = {{"realpath", l_realpath}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
