/* host.h: the espflash executable's own parts (not in the core module).
 *
 * host_signal.c  two-stage Ctrl-C: first sets espflash_interrupted and makes
 *                Lua raise "interrupted", the second kills the process
 * host_loader.c  embedded Lua sources or a development tree (ESPFLASH_LUA_DIR),
 *                and the `espflash.host` module (script discovery, isatty, ...)
 * host_repl.c    libedit line editing and history for `espflash repl` */
#ifndef ESPFLASH_HOST_H
#define ESPFLASH_HOST_H

#include <lua.h>

/* Installs the SIGINT handler and the interrupt hook on L's main thread. */
void host_signals_install(lua_State *L);

/* Sets package.path/cpath (no relative entries) and, unless lua_dir is given,
 * a searcher for the embedded modules. lua_dir may be NULL. */
void host_loader_install(lua_State *L, const char *lua_dir);

/* Adds readline, add_history, history_load, history_save to the table on top. */
void host_repl_open(lua_State *L);

/* luaopen for `espflash.host`; the loader's mode is read from the registry. */
int luaopen_espflash_host(lua_State *L);

#endif
