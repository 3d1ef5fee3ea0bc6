/* core.h: shared helpers of the espflash.core Lua module.
 *
 * The core is one set of object files linked into the espflash host and built
 * as build/lua/espflash/core.so for the system lua5.4. Each area (ports, SLIP,
 * codecs, the virtual device, ...) lives in its own file and adds its
 * functions to the module table through core_open_<area>(). */
#ifndef ESPFLASH_CORE_H
#define ESPFLASH_CORE_H

#include <signal.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>

/* The one global: set by the host's SIGINT handler (or core.interrupt()),
 * polled by every wait in the core, cleared only by core.clear_interrupt(). */
extern volatile sig_atomic_t espflash_interrupted;

/* Pushes the fail triple nil, "CODE: message", "CODE" and returns 3. */
int core_fail(lua_State *L, const char *code, const char *fmt, ...);

/* Monotonic clock in microseconds. */
int64_t core_now_us(void);

/* Sleeps up to ms milliseconds in short slices; returns -1 when interrupted. */
int core_sleep_ms(int ms);

/* Registers a metatable `name` whose methods are `methods`, with __index set
 * to itself, plus __gc/__close = `closer` when given. Leaves nothing on the stack. */
void core_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                    lua_CFunction closer);

/* Area registration: each adds its functions to the table on top of the stack. */
void core_open_util(lua_State *L);   /* core.c: sleep, now, interrupt flag */
void core_open_codec(lua_State *L);  /* codec.c: md5, sha256, deflate, inflate, base64 */
void core_open_slip(lua_State *L);   /* slip.c: slip_encode, slip_decode */
void core_open_port(lua_State *L);   /* port.c: open, list_ports, Port methods */
void core_open_sim(lua_State *L);    /* sim/lua_sim.c: sim_new, sim_serve, Sim methods */
void core_open_term(lua_State *L);   /* term.c: term_open, isatty, wallclock; dwarf_open (dwarf.c), spawn (proc.c) */
void core_open_elf(lua_State *L);    /* elf.c: elf_read */
void core_open_crc(lua_State *L);    /* crc.c: crc32 (zlib) */
void core_open_path(lua_State *L);   /* util_path.c: realpath */

int luaopen_espflash_core(lua_State *L);

#endif
