/* fuzz_lua.h: the Lua side of the fuzz targets that drive lua/espflash/.
 *
 * One Lua state per process (libFuzzer calls the target millions of times):
 * standard libraries, espflash.core preloaded from the linked core objects,
 * LUA_PATH pointing at the source tree's lua/ directory, and a line hook
 * that reports Lua line-to-line edges to libFuzzer as extra coverage
 * counters (the system Lua interpreter is not instrumented). The setup chunk
 * returns the function called for each input. An input passes when that
 * function returns or raises an espflash error object (espflash.errors)
 * that is not a Lua runtime error in disguise; anything else (a raw
 * "attempt to index a nil value", an error object wrapping such an error
 * that a library pcall caught, a memory error) prints the error and its
 * traceback and aborts, which libFuzzer reports as a finding. */
#ifndef ESPFLASH_FUZZ_LUA_H
#define ESPFLASH_FUZZ_LUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/* Creates the state on the first call, runs `setup` (chunk name `name`,
 * with the source tree's path as its argument `...`) and keeps the function
 * it returns; later calls return the same state. */
lua_State *fuzz_lua_init(const char *name, const char *setup);

/* Calls the per-input function with the bytes as a Lua string, plus the
 * values the caller pushed (nextra of them, on top of the stack). */
void fuzz_lua_call(lua_State *L, const uint8_t *data, size_t n, int nextra);

/* An empty directory under /tmp, made once per process (the targets whose
 * inputs name or write files work there); aborts when it cannot be made. */
const char *fuzz_tmpdir(void);

#endif
