/* host_signal.c: two-stage Ctrl-C, the way lua.c does it.
 *
 * The first SIGINT sets espflash_interrupted (every wait in the core polls it
 * and fails with INTERRUPTED) and arms a hook on the main Lua thread that
 * raises "interrupted" at the next call, return, line or instruction; the
 * hook disarms itself, so error reporting afterwards runs normally. If the
 * flag has been cleared (core.clear_interrupt) before the hook runs, it only
 * disarms. A second SIGINT while the flag is still set kills the process. */
#include <signal.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "core.h"
#include "host.h"

/* The state the hook is armed on. A signal handler gets no user pointer, so,
 * like lua.c's globalL, this one file-scope pointer is unavoidable; it is set
 * once before the handler is installed and never changes. */
static lua_State *signal_L;

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (espflash_interrupted) luaL_error(L, "interrupted");
}

static void on_sigint(int sig) {
  if (espflash_interrupted) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  espflash_interrupted = 1;
  lua_sethook(signal_L, interrupt_hook,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void host_signals_install(lua_State *L) {
  struct sigaction sa;
  signal_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  /* no SA_RESTART: blocking reads (readline, io.read) return EINTR */
  sigaction(SIGINT, &sa, NULL);
}
