/* host_repl.c: libedit line editing, history and tab completion for
 * `espflash repl`, and the embedded sources for its help().
 *
 * libedit's own signal handling is turned off (rl_catch_signals = 0) and its
 * input comes through interruptible_getc, which waits in 20 ms poll slices and
 * gives up once the host's SIGINT handler has set espflash_interrupted; then
 * host.readline reports a cancelled line. (A plain read() would miss a Ctrl-C
 * that arrives while libedit is busy redrawing rather than blocked in read.)
 *
 * Tab completion: libedit calls complete_hook with the word before the
 * cursor (every character that cannot be part of a Lua name breaks words, so
 * the word is the name being typed: "bu" in "espflash.nvs.bu"); the hook calls
 * the Lua function given to host.set_completer with the whole line up to the
 * cursor and that word, and offers the names it returns. */
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
#include "host_embed.h"

#define HISTORY_MAX 1000
#define COMPLETER_KEY "espflash.repl.completer"
#define MATCHES_KEY "espflash.repl.matches"

/* Every character that is not part of a Lua name ends a word. */
static const char word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],.:+-*/%^#~!?";

/* The state readline() runs on. libedit's completion callbacks get no user
 * pointer, so, like host_signal.c's signal_L, one file-scope pointer is
 * unavoidable; l_readline sets it for the duration of readline() only. */
static lua_State *completion_L;

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

/* rl_completion_matches generator: the state-th name of the list the
 * completer returned (kept in the registry), malloc'd as libedit wants. */
static char *next_match(const char *text, int state) {
  (void)text;
  lua_State *L = completion_L;
  if (!L || lua_getfield(L, LUA_REGISTRYINDEX, MATCHES_KEY) != LUA_TTABLE) {
    if (L) lua_pop(L, 1);
    return NULL;
  }
  lua_rawgeti(L, -1, state + 1);
  const char *name = lua_tostring(L, -1);
  char *copy = name ? strdup(name) : NULL;
  lua_pop(L, 2);
  return copy;
}

/* Calls the completer with (line up to the cursor, word); leaves its list of
 * names in the registry. An error in the completer offers nothing. */
static int call_completer(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, COMPLETER_KEY);
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, MATCHES_KEY);
  return 0;
}

/* rl_attempted_completion_function: the names completing `text`, or NULL.
 * Never falls back to file names; appends nothing after a single match. */
static char **complete_hook(const char *text, int start, int end) {
  (void)start;
  lua_State *L = completion_L;
  rl_attempted_completion_over = 1;
  rl_completion_append_character = '\0';
  if (!L) return NULL;
  if (lua_getfield(L, LUA_REGISTRYINDEX, COMPLETER_KEY) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pop(L, 1);
  int upto = end < 0 ? 0 : end;
  if (rl_line_buffer && (size_t)upto > strlen(rl_line_buffer)) upto = (int)strlen(rl_line_buffer);
  lua_pushcfunction(L, call_completer);
  lua_pushlstring(L, rl_line_buffer ? rl_line_buffer : "", (size_t)upto);
  lua_pushstring(L, text);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    return NULL;
  }
  char **matches = rl_completion_matches(text, next_match);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, MATCHES_KEY);
  return matches;
}

/* host.set_completer(fn | nil): fn(line_before_cursor, word) -> {name, ...},
 * the names that may replace `word` (the Lua name being typed) on Tab */
static int l_set_completer(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, COMPLETER_KEY);
  return 0;
}

/* host.embedded_source(name) -> text | nil: the embedded Lua source of a
 * module ("espflash.nvs") or chunk ("@lua/espflash/nvs.lua", "lua/espflash/nvs.lua") */
static int l_embedded_source(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const char *bare = name[0] == '@' ? name + 1 : name;
  for (const embedded_file_t *f = embedded_files; f->module; f++) {
    if (strcmp(f->module, name) == 0 || strcmp(f->chunk + 1, bare) == 0) {
      lua_pushlstring(L, f->source, f->size);
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

/* host.readline(prompt) -> line | nil (end of input) | false (Ctrl-C: the line was discarded) */
static int l_readline(lua_State *L) {
  const char *prompt = luaL_optstring(L, 1, "> ");
  completion_L = L;
  char *line = readline(prompt);
  completion_L = NULL;
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
    {"set_completer", l_set_completer}, {"embedded_source", l_embedded_source},
    {NULL, NULL}
  };
  luaL_setfuncs(L, fns, 0);
  rl_catch_signals = 0;  /* takes effect when libedit initialises, at the first call */
  rl_getc_function = interruptible_getc;
  rl_attempted_completion_function = complete_hook;
  rl_basic_word_break_characters = word_breaks;
}
