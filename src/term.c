/* term.c: the serial monitor's terminal: raw mode with the original settings
 * restored on every way out, and interruptible, non-blocking reads of the
 * keyboard.
 *
 * Raw mode is cfmakeraw() except that output post-processing (OPOST, ONLCR)
 * stays on, so log lines printed while monitoring keep their line starts.
 * The settings are restored by term:restore(), term:close(), the garbage
 * collector and `<close>`; by an atexit() handler (os.exit without closing
 * the state); and by handlers for SIGTERM, SIGHUP, SIGQUIT and SIGPIPE, which
 * restore and then die of the signal as before. A SIGINT while the interrupt
 * flag is already set (the host's handler then kills the process) restores
 * first too; the first SIGINT only sets the flag, as everywhere else.
 *
 * A signal handler gets no user pointer, so the settings to restore live in
 * one file-scope record (`guard`), set while a terminal is raw and cleared
 * when it is restored. Only one terminal can be raw at a time. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>
#include <lauxlib.h>

#include "core.h"
#include "mon.h"

#define TERM_CLASS "espflash.Term"
#define SLICE_MS 20

static const int guarded_signals[] = {SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGINT};
#define NGUARDED (sizeof guarded_signals / sizeof guarded_signals[0])

/* What the signal handlers and the atexit handler restore. */
static struct {
  volatile sig_atomic_t active; /* a terminal is raw: fd and attrs are valid */
  int fd;
  struct termios attrs;
  int installed;                /* handlers below are in place */
  int atexit_done;
  struct sigaction old[NGUARDED];
} guard;

typedef struct {
  int fd;               /* -1 once closed */
  int raw;              /* raw mode set by this object */
  int eof;              /* input ended */
  struct termios orig;  /* settings before raw() */
} term_t;

static void guard_restore(void) {
  if (guard.active) {
    tcsetattr(guard.fd, TCSANOW, &guard.attrs);
    guard.active = 0;
  }
}

static int guard_index(int sig) {
  for (size_t i = 0; i < NGUARDED; i++)
    if (guarded_signals[i] == sig) return (int)i;
  return -1;
}

static void on_signal(int sig) {
  int i = guard_index(sig);
  if (sig == SIGINT) {
    /* the host's handler kills the process on a second Ctrl-C */
    if (espflash_interrupted) guard_restore();
    const struct sigaction *o = &guard.old[i];
    if (!(o->sa_flags & SA_SIGINFO) && o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN) {
      o->sa_handler(sig);
      return;
    }
  }
  guard_restore();
  sigaction(sig, &guard.old[i], NULL);
  raise(sig);
}

static void install_handlers(void) {
  if (guard.installed) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < NGUARDED; i++) {
    sigaction(guarded_signals[i], NULL, &guard.old[i]);
    /* an ignored signal stays ignored */
    if (!(guard.old[i].sa_flags & SA_SIGINFO) && guard.old[i].sa_handler == SIG_IGN) continue;
    sigaction(guarded_signals[i], &sa, NULL);
  }
  if (!guard.atexit_done) {
    atexit(guard_restore);
    guard.atexit_done = 1;
  }
  guard.installed = 1;
}

static void remove_handlers(void) {
  if (!guard.installed) return;
  for (size_t i = 0; i < NGUARDED; i++) {
    struct sigaction cur;
    sigaction(guarded_signals[i], NULL, &cur);
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == on_signal)
      sigaction(guarded_signals[i], &guard.old[i], NULL);
  }
  guard.installed = 0;
}

static term_t *check_term(lua_State *L) {
  term_t *t = luaL_checkudata(L, 1, TERM_CLASS);
  if (t->fd < 0) luaL_error(L, "attempt to use a closed terminal");
  return t;
}

static void term_restore(term_t *t) {
  if (!t->raw) return;
  tcsetattr(t->fd, TCSANOW, &t->orig);
  t->raw = 0;
  if (guard.fd == t->fd) {
    guard.active = 0;
    remove_handlers();
  }
}

/* core.term_open([fd = 0]) -> Term; the fd is not closed by the Term */
static int l_term_open(lua_State *L) {
  lua_Integer fd = luaL_optinteger(L, 1, 0);
  luaL_argcheck(L, fd >= 0 && fd < 65536, 1, "bad file descriptor");
  term_t *t = lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  t->fd = (int)fd;
  luaL_setmetatable(L, TERM_CLASS);
  return 1;
}

/* term:isatty() -> boolean */
static int l_isatty(lua_State *L) {
  term_t *t = check_term(L);
  lua_pushboolean(L, isatty(t->fd));
  return 1;
}

/* term:raw() -> true | nil, "TERM: message", "TERM": raw input, output
 * post-processing kept; the previous settings come back on restore */
static int l_raw(lua_State *L) {
  term_t *t = check_term(L);
  if (t->raw) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (guard.active) return core_fail(L, "TERM", "another terminal is already in raw mode");
  if (tcgetattr(t->fd, &t->orig) < 0)
    return core_fail(L, "TERM", "standard input is not a terminal (%s)", strerror(errno));
  struct termios raw = t->orig;
  cfmakeraw(&raw);
  raw.c_oflag |= t->orig.c_oflag & (OPOST | ONLCR);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  guard.fd = t->fd;
  guard.attrs = t->orig;
  install_handlers();
  guard.active = 1;
  if (tcsetattr(t->fd, TCSANOW, &raw) < 0) {
    int e = errno;
    guard.active = 0;
    remove_handlers();
    return core_fail(L, "TERM", "cannot set raw mode: %s", strerror(e));
  }
  t->raw = 1;
  lua_pushboolean(L, 1);
  return 1;
}

/* term:restore() -> true: the settings from before raw(); idempotent */
static int l_restore(lua_State *L) {
  term_t *t = luaL_checkudata(L, 1, TERM_CLASS);
  if (t->fd >= 0) term_restore(t);
  lua_pushboolean(L, 1);
  return 1;
}

/* term:read(max, timeout_ms = 0) -> string ("" when nothing came in time)
 *   | nil, "EOF: ...", "EOF" | nil, "INTERRUPTED: ...", "INTERRUPTED" */
static int l_read(lua_State *L) {
  term_t *t = check_term(L);
  lua_Integer max = luaL_checkinteger(L, 2);
  lua_Integer timeout = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, max > 0 && max <= 65536, 2, "must be between 1 and 65536");
  if (t->eof) return core_fail(L, "EOF", "the input has ended");
  int64_t deadline = core_now_us() + (timeout > 0 ? (int64_t)timeout * 1000 : 0);
  for (;;) {
    if (espflash_interrupted) return core_fail(L, "INTERRUPTED", "interrupted by Ctrl-C");
    int64_t left = deadline - core_now_us();
    int ms = left <= 0 ? 0 : (int)((left + 999) / 1000);
    if (ms > SLICE_MS) ms = SLICE_MS;
    struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
    int rc = poll(&pfd, 1, ms);
    if (rc < 0 && errno != EINTR) return core_fail(L, "TERM", "poll failed: %s", strerror(errno));
    if (rc > 0) {
      char buf[4096];
      size_t cap = (size_t)max < sizeof buf ? (size_t)max : sizeof buf;
      ssize_t n = read(t->fd, buf, cap);
      if (n > 0) {
        lua_pushlstring(L, buf, (size_t)n);
        return 1;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        t->eof = 1;
        return core_fail(L, "EOF", "the input has ended%s%s", n ? ": " : "",
                         n ? strerror(errno) : "");
      }
    }
    if (core_now_us() >= deadline) {
      lua_pushliteral(L, "");
      return 1;
    }
  }
}

/* term:size() -> columns, rows | nil when unknown */
static int l_size(lua_State *L) {
  term_t *t = check_term(L);
  struct winsize ws;
  if (ioctl(t->fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0) return 0;
  lua_pushinteger(L, ws.ws_col);
  lua_pushinteger(L, ws.ws_row);
  return 2;
}

/* term:close() -> true: restores the settings; also __gc and __close */
static int l_close(lua_State *L) {
  term_t *t = luaL_checkudata(L, 1, TERM_CLASS);
  if (t->fd >= 0) {
    term_restore(t);
    t->fd = -1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* core.isatty(fd) -> boolean */
static int l_core_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  lua_pushboolean(L, fd >= 0 && fd < 65536 && isatty((int)fd));
  return 1;
}

/* core.wallclock() -> seconds since the epoch (float, with microseconds) */
static int l_wallclock(lua_State *L) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  lua_pushnumber(L, (lua_Number)tv.tv_sec + (lua_Number)tv.tv_usec / 1e6);
  return 1;
}

void core_open_term(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"isatty", l_isatty}, {"raw", l_raw}, {"restore", l_restore}, {"read", l_read},
    {"size", l_size}, {"close", l_close}, {NULL, NULL}};
  core_new_class(L, TERM_CLASS, methods, l_close);
  static const luaL_Reg fns[] = {
    {"term_open", l_term_open}, {"isatty", l_core_isatty}, {"wallclock", l_wallclock},
    {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  mon_open_dwarf(L);
  mon_open_proc(L);
}
