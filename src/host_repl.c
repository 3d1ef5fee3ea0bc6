/* host_repl.c: libedit line editing and history for `espflash repl`.
 *
 * libedit's own signal handling is turned off (rl_catch_signals = 0) and its
 * input comes through interruptible_getc, which waits in 20 ms poll slices and
 * gives up once the host's SIGINT handler has set espflash_interrupted; then
 * host.readline reports a cancelled line. (A plain read() would miss a Ctrl-C
 * that arrives while libedit is busy redrawing rather than blocked in read.) */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>
#include <lua.h>
#include <lauxlib.h>
#include "core.h"
#include "host.h"

#define HISTORY_MAX 1000

static int interruptible_getc(FILE *f) {
  int fd = fileno(f);
  for (;;) {
    if (espflash_interrupted) return EOF;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 20);
    if (r < 0 && errno != EINTR) return EOF;
    if (r <= 0) continue;
    unsigned char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno != EINTR && errno != EAGAIN) return EOF;
  }
}

/* host.readline(prompt) -> line | nil (end of input) | false (Ctrl-C: the line was discarded) */
static int l_readline(lua_State *L) {
  const char *prompt = luaL_optstring(L, 1, "> ");
  char *line = readline(prompt);
  if (espflash_interrupted) {
    espflash_interrupted = 0;
    free(line);
    fputc('\n', stdout);
    fflush(stdout);
    lua_pushboolean(L, 0);
    return 1;
  }
  if (!line) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, line);
  free(line);
  return 1;
}

/* host.add_history(line) */
static int l_add_history(lua_State *L) {
  const char *line = luaL_checkstring(L, 1);
  if (*line) add_history(line);
  return 0;
}

/* host.history_load(path) -> true | nil, err (a missing file is not an error) */
static int l_history_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  stifle_history(HISTORY_MAX);
  errno = 0;
  int rc = read_history(path);
  if (rc != 0 && errno != ENOENT && errno != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot read history %s: %s", path, strerror(errno));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* host.history_save(path) -> true | nil, err */
static int l_history_save(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  errno = 0;
  if (write_history(path) != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot write history %s: %s", path,
                    strerror(errno ? errno : EIO));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

void host_repl_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"readline", l_readline}, {"add_history", l_add_history},
    {"history_load", l_history_load}, {"history_save", l_history_save},
    {NULL, NULL}
  };
  luaL_setfuncs(L, fns, 0);
  rl_catch_signals = 0;  /* takes effect when libedit initialises, at the first call */
  rl_getc_function = interruptible_getc;
}
