/* test_term.c: the monitor's terminal on a real pseudo-terminal: raw mode
 * and its restoration by restore(), close(), the garbage collector, exit()
 * without closing Lua, and SIGTERM/SIGHUP/SIGPIPE (the process dies of the
 * signal, the terminal comes back); a second SIGINT while the interrupt flag
 * is set restores too. Keyboard reads time out with "", wake when bytes
 * arrive, stop at Ctrl-C (INTERRUPTED) and report EOF when the terminal goes
 * away. Also core.spawn: a processor's output comes back without waiting, a
 * missing executable fails to launch, a processor that exits gives
 * PROC_GONE (no SIGPIPE), kill() reaps it. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <lualib.h>
#include <lauxlib.h>

#include "core.h"

#include "check_lua.h"

static lua_State *new_state(int fd) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaopen_espflash_core(L);
  lua_setglobal(L, "core");
  lua_pushinteger(L, fd);
  lua_setglobal(L, "fd");
  return L;
}

static int is_canonical(int fd) {
  struct termios t;
  return tcgetattr(fd, &t) == 0 && (t.c_lflag & ICANON) && (t.c_lflag & ECHO) && (t.c_lflag & ISIG);
}

static void test_raw_restore(int slave) {
  lua_State *L = new_state(slave);
  CHECK(is_canonical(slave), "the pty starts canonical");
  check_lua(L, "t = core.term_open(fd) assert(t:isatty()) assert(t:raw())");
  struct termios tio;
  tcgetattr(slave, &tio);
  CHECK(!(tio.c_lflag & (ICANON | ECHO | ISIG)), "raw: no ICANON/ECHO/ISIG (lflag %x)", tio.c_lflag);
  CHECK(tio.c_oflag & OPOST, "raw keeps output processing");
  check_lua(L, "assert(t:restore()) assert(t:restore())");
  CHECK(is_canonical(slave), "restore() brings the settings back");
  check_lua(L, "assert(t:raw()) t:close()");
  CHECK(is_canonical(slave), "close() restores");
  check_lua(L, "local t2 = core.term_open(fd) assert(t2:raw()) t2 = nil collectgarbage() collectgarbage()");
  CHECK(is_canonical(slave), "the garbage collector restores");
  check_lua(L, "local a = core.term_open(fd) assert(a:raw()) local b = core.term_open(fd) "
               "local ok, msg, code = b:raw() assert(ok == nil and code == 'TERM', msg) a:close()");
  int n = check_lua(L, "local t = core.term_open(0 + 100) return t:raw()");
  CHECK(n == 3 && lua_isnil(L, 1), "raw() on a non-terminal fails");
  lua_close(L);
}

/* Stands in for the host's SIGINT handler: the second Ctrl-C kills. */
static void fake_host_sigint(int sig) {
  if (espflash_interrupted) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  espflash_interrupted = 1;
}

/* Child process: puts the slave in raw mode, then does `how`. */
static void child_raw_then(const char *slave_name, const char *how) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(slave_name, O_RDWR | O_NOCTTY);
    if (strcmp(how, "sigint2") == 0) signal(SIGINT, fake_host_sigint);
    lua_State *L = new_state(fd);
    lua_pushstring(L, how);
    lua_setglobal(L, "how");
    if (luaL_dostring(L, "t = core.term_open(fd) assert(t:raw()) "
                         "if how == 'exit' then os.exit(3, false) end") != LUA_OK)
      _exit(99);
    if (strcmp(how, "sigint2") == 0) {
      raise(SIGINT);  /* the first Ctrl-C only sets the flag */
      if (!espflash_interrupted) _exit(96);
    }
    if (strcmp(how, "pipe") == 0) {
      int p[2];
      if (pipe(p) == 0) {
        close(p[0]);
        if (write(p[1], "x", 1) < 0) _exit(98);
      }
    }
    int sig = strcmp(how, "term") == 0 ? SIGTERM : strcmp(how, "hup") == 0 ? SIGHUP : SIGINT;
    if (strcmp(how, "pipe") != 0) raise(sig);
    _exit(97);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (strcmp(how, "exit") == 0)
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "%s: exit status %d", how, st);
  else
    CHECK(WIFSIGNALED(st), "%s: the child died of its signal (status %d)", how, st);
}

static void test_exit_paths(int slave, const char *slave_name) {
  const char *hows[] = {"exit", "term", "hup", "pipe", "sigint2"};
  for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
    child_raw_then(slave_name, hows[i]);
    CHECK(is_canonical(slave), "terminal restored after %s", hows[i]);
  }
}

static void test_read(lua_State *L, int master) {
  double t0 = (double)core_now_us() / 1e6;
  int n = check_lua(L, "return t:read(64, 100)");
  double dt = (double)core_now_us() / 1e6 - t0;
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "") == 0 && dt >= 0.09 && dt < 1, "timeout after %.3f s", dt);
  CHECK(write(master, "ab\x12", 3) == 3, "write");
  n = check_lua(L, "return t:read(64, 2000)");
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "ab\x12") == 0, "keys arrive raw: %s", lua_tostring(L, 1));
  espflash_interrupted = 1;
  n = check_lua(L, "return t:read(64, 2000)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "INTERRUPTED") == 0, "Ctrl-C ends a read");
  espflash_interrupted = 0;
}

static void test_spawn(lua_State *L) {
  int n = check_lua(L, "local p = assert(core.spawn({'sed', '-u', 's/l/L/g'})) "
                       "assert(p:write('hello\\n')) "
                       "local got, t0 = '', core.now() "
                       "while #got < 6 and core.now() - t0 < 5 do got = got .. assert(p:read(64)) core.sleep(5) end "
                       "local empty = p:read(64) p:kill() return got, empty, p:pid() == nil");
  CHECK(n == 3 && strcmp(lua_tostring(L, 1), "heLLo\n") == 0, "sed output: %s", lua_tostring(L, 1));
  CHECK(n == 3 && strcmp(lua_tostring(L, 2), "") == 0, "nothing more: an empty read");
  CHECK(n == 3 && lua_toboolean(L, 3), "kill reaps the child");
  n = check_lua(L, "return core.spawn({'/nonexistent/processor'})");
  CHECK(n == 3 && lua_isnil(L, 1) && strstr(lua_tostring(L, 2), "Failed to launch '/nonexistent/processor'"),
        "spawn failure: %s", lua_tostring(L, 2));
  n = check_lua(L, "local p = assert(core.spawn({'true'})) core.sleep(200) "
                   "local ok, msg, code = p:write(string.rep('x', 100000)) "
                   "if ok then ok, msg, code = p:write('more') end p:kill() return code");
  CHECK(n == 1 && lua_tostring(L, 1) && strcmp(lua_tostring(L, 1), "PROC_GONE") == 0,
        "writing to an exited processor: %s (no SIGPIPE)", lua_tostring(L, 1));
}

int main(void) {
  int master, slave;
  char name[256];
  if (openpty(&master, &slave, name, NULL, NULL) < 0) {
    perror("openpty");
    return 1;
  }
  test_raw_restore(slave);
  test_exit_paths(slave, name);
  lua_State *L = new_state(slave);
  check_lua(L, "t = core.term_open(fd) assert(t:raw())");
  test_read(L, master);
  test_spawn(L);
  close(master);
  int n = check_lua(L, "return t:read(64, 2000)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "EOF") == 0, "a vanished terminal reads as EOF: %s",
        n ? lua_tostring(L, 2) : "?");
  check_lua(L, "t:close()");
  lua_close(L);
  return check_finish("test_term");
}
