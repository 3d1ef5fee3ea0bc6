/* proc.c: external processes the serial monitor pipes device output through
 * (`--processors`): spawned with their stdin and stdout on non-blocking
 * pipes and stderr inherited; written and read without ever waiting, so a
 * processor that stops reading cannot stall the monitor; killed when closed.
 *
 *   local p = core.spawn({"./upper", "app.elf"})   -- or nil, "SPAWN: ...", "SPAWN"
 *   p:write(bytes); local out = p:read(4096); p:kill()
 *
 * Writes keep what the pipe does not take in a pending buffer (at most
 * PROC_PENDING_MAX bytes; beyond that bytes are dropped and counted). A write
 * to a processor that exited gives EPIPE, never SIGPIPE: the signal is
 * blocked around the write and a pending one is consumed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>

#include "core.h"
#include "mon.h"

#define PROC_CLASS "espflash.Proc"
#define PROC_PENDING_MAX (1 << 20)
#define MAX_ARGS 64

typedef struct {
  pid_t pid;        /* 0 once reaped */
  int in_fd;        /* the child's stdin (we write), -1 when closed */
  int out_fd;       /* the child's stdout (we read), -1 when closed */
  char *pending;
  size_t npending;
  long dropped;     /* bytes dropped because the child did not read */
  int status;       /* wait status once reaped */
} proc_t;

static proc_t *check_proc(lua_State *L) {
  return luaL_checkudata(L, 1, PROC_CLASS);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void reap(proc_t *p, int block) {
  if (p->pid <= 0) return;
  int st;
  pid_t r;
  do r = waitpid(p->pid, &st, block ? 0 : WNOHANG); while (r < 0 && errno == EINTR);
  if (r == p->pid || (r < 0 && errno == ECHILD)) {
    p->status = r == p->pid ? st : 0;
    p->pid = 0;
  }
}

/* Writes as much of buf as the pipe takes now; returns the count or -1 (EPIPE...). */
static ssize_t write_nosigpipe(int fd, const char *buf, size_t n) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  ssize_t w;
  do w = write(fd, buf, n); while (w < 0 && errno == EINTR);
  int e = errno;
  if (w < 0 && e == EPIPE) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&block, NULL, &zero) > 0) {}
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  if (w < 0 && (e == EAGAIN || e == EWOULDBLOCK)) return 0;
  return w;
}

/* Pushes pending bytes into the pipe; returns 0, or -1 when the child is gone. */
static int flush_pending(proc_t *p) {
  if (p->in_fd < 0) return -1;
  while (p->npending > 0) {
    ssize_t w = write_nosigpipe(p->in_fd, p->pending, p->npending);
    if (w < 0) {
      close_fd(&p->in_fd);
      p->npending = 0;
      return -1;
    }
    if (w == 0) break;
    memmove(p->pending, p->pending + w, p->npending - (size_t)w);
    p->npending -= (size_t)w;
  }
  return 0;
}

/* core.spawn(argv) -> Proc | nil, "SPAWN: Failed to launch '<exe>': why", "SPAWN";
 * argv[1] is looked up in PATH */
static int l_spawn(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer argc = luaL_len(L, 1);
  luaL_argcheck(L, argc >= 1 && argc < MAX_ARGS, 1, "needs 1 to 63 strings");
  const char *argv[MAX_ARGS];
  for (lua_Integer i = 1; i <= argc; i++) {
    if (lua_geti(L, 1, i) != LUA_TSTRING) return luaL_argerror(L, 1, "must be a list of strings");
    argv[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1);  /* the table keeps the string alive */
  }
  argv[argc] = NULL;
  proc_t *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  p->in_fd = p->out_fd = -1;
  luaL_setmetatable(L, PROC_CLASS);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0) return core_fail(L, "SPAWN", "Failed to launch '%s': %s", argv[0], strerror(errno));
  if (pipe2(out, O_CLOEXEC) < 0) {
    close(in[0]), close(in[1]);
    return core_fail(L, "SPAWN", "Failed to launch '%s': %s", argv[0], strerror(errno));
  }
  if (pipe2(err, O_CLOEXEC) < 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return core_fail(L, "SPAWN", "Failed to launch '%s': %s", argv[0], strerror(errno));
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execvp(argv[0], (char *const *)argv);
    int e = errno;
    if (write(err[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  int fork_errno = errno;
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(in[1]), close(out[0]), close(err[0]);
    return core_fail(L, "SPAWN", "Failed to launch '%s': %s", argv[0], strerror(fork_errno));
  }
  p->pid = pid;
  p->in_fd = in[1];
  p->out_fd = out[0];
  int e = 0;
  ssize_t n;
  do n = read(err[0], &e, sizeof e); while (n < 0 && errno == EINTR);
  close(err[0]);
  if (n == (ssize_t)sizeof e) {
    reap(p, 1);
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    return core_fail(L, "SPAWN", "Failed to launch '%s': %s", argv[0], strerror(e));
  }
  fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
  fcntl(p->out_fd, F_SETFL, fcntl(p->out_fd, F_GETFL) | O_NONBLOCK);
  return 1;
}

/* proc:write(s) -> true | nil, "PROC_GONE: ...", "PROC_GONE"; never waits:
 * what the pipe does not take now is kept for later writes (and flush) */
static int l_write(lua_State *L) {
  proc_t *p = check_proc(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  if (p->in_fd < 0) return core_fail(L, "PROC_GONE", "the processor no longer reads its input");
  if (flush_pending(p) < 0) return core_fail(L, "PROC_GONE", "the processor closed its input");
  size_t off = 0;
  if (p->npending == 0 && n > 0) {
    ssize_t w = write_nosigpipe(p->in_fd, s, n);
    if (w < 0) {
      close_fd(&p->in_fd);
      return core_fail(L, "PROC_GONE", "the processor closed its input");
    }
    off = (size_t)w;
  }
  size_t rest = n - off;
  if (rest > PROC_PENDING_MAX - p->npending) {
    p->dropped += (long)(rest - (PROC_PENDING_MAX - p->npending));
    rest = PROC_PENDING_MAX - p->npending;
  }
  if (rest > 0) {
    char *g = realloc(p->pending, p->npending + rest);
    if (!g) return luaL_error(L, "out of memory buffering processor input");
    p->pending = g;
    memcpy(p->pending + p->npending, s + off, rest);
    p->npending += rest;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* proc:flush() -> pending byte count | nil, "PROC_GONE: ...", "PROC_GONE" */
static int l_flush(lua_State *L) {
  proc_t *p = check_proc(L);
  if (flush_pending(p) < 0) return core_fail(L, "PROC_GONE", "the processor closed its input");
  lua_pushinteger(L, (lua_Integer)p->npending);
  return 1;
}

/* proc:read(max) -> string ("" when nothing is there) | nil, "EOF: ...", "EOF" */
static int l_read(lua_State *L) {
  proc_t *p = check_proc(L);
  lua_Integer max = luaL_checkinteger(L, 2);
  luaL_argcheck(L, max > 0 && max <= 65536, 2, "must be between 1 and 65536");
  if (p->out_fd < 0) return core_fail(L, "EOF", "the processor closed its output");
  char buf[65536];
  ssize_t n;
  do n = read(p->out_fd, buf, (size_t)max); while (n < 0 && errno == EINTR);
  if (n > 0) {
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    lua_pushliteral(L, "");
    return 1;
  }
  close_fd(&p->out_fd);
  return core_fail(L, "EOF", "the processor closed its output");
}

/* proc:dropped() -> bytes dropped because the processor did not keep up */
static int l_dropped(lua_State *L) {
  lua_pushinteger(L, check_proc(L)->dropped);
  return 1;
}

/* proc:pid() -> integer | nil once it has exited and been reaped */
static int l_pid(lua_State *L) {
  proc_t *p = check_proc(L);
  reap(p, 0);
  if (p->pid <= 0) return 0;
  lua_pushinteger(L, p->pid);
  return 1;
}

/* proc:kill() -> true: SIGKILL, reap, close the pipes; idempotent, also __gc and __close */
static int l_kill(lua_State *L) {
  proc_t *p = check_proc(L);
  if (p->pid > 0) {
    kill(p->pid, SIGKILL);
    reap(p, 1);
  }
  close_fd(&p->in_fd);
  close_fd(&p->out_fd);
  free(p->pending);
  p->pending = NULL;
  p->npending = 0;
  lua_pushboolean(L, 1);
  return 1;
}

void mon_open_proc(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"write", l_write}, {"flush", l_flush}, {"read", l_read}, {"dropped", l_dropped},
    {"pid", l_pid}, {"kill", l_kill}, {"close", l_kill}, {NULL, NULL}};
  core_new_class(L, PROC_CLASS, methods, l_kill);
  lua_pushcfunction(L, l_spawn);
  lua_setfield(L, -2, "spawn");
}
