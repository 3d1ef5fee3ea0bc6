/* test_port_pty.c: the Port's waits against a real pty driven from another
 * process: reads wake when bytes arrive, a command gets its reply in pieces,
 * SIGALRM (standing in for Ctrl-C) ends a blocking read, read_frame and
 * command with INTERRUPTED at once, 74880 baud really reaches the tty, a pty
 * has no modem lines, and a vanished device reads as PORT_GONE.
 * The Port is used through the Lua API, as the library uses it. This file
 * includes <asm/termbits.h> (to read the baud back), so not <termios.h>. */
#include <asm/termbits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lualib.h>

#include "core.h"

#include "check_lua.h"

static void on_alarm(int sig) {
  (void)sig;
  espflash_interrupted = 1;
}

static void alarm_in_ms(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static double now_s(void) { return (double)core_now_us() / 1e6; }

/* Child: sleeps, then writes `data` to the master in two pieces. */
static pid_t write_later(int master, int delay_ms, const char *data, size_t n) {
  pid_t pid = fork();
  if (pid == 0) {
    usleep((useconds_t)delay_ms * 1000);
    size_t half = n / 2;
    if (write(master, data, half) < 0) _exit(1);
    usleep(50000);
    if (write(master, data + half, n - half) < 0) _exit(1);
    _exit(0);
  }
  return pid;
}

static void test_wake(lua_State *L, int master) {
  pid_t pid = write_later(master, 150, "hello", 5);
  double t0 = now_s();
  int n = check_lua(L, "local s = assert(port:read(10, 5000)) "
                       "while #s < 5 do s = s .. assert(port:read(10, 1000)) end return s");
  double dt = now_s() - t0;
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "hello") == 0, "read %s", lua_tostring(L, 1));
  CHECK(dt > 0.12 && dt < 1.0, "woke after %.3f s", dt);
  waitpid(pid, NULL, 0);
}

static void test_command_reply(lua_State *L, int master) {
  /* reply to READ_REG: 01 0a 04 00 | value 83 1d f0 00 | status 00 00 00 00 */
  static const char reply[] = "noise\xC0\x01\x0a\x04\x00\x83\x1d\xf0\x00\x00\x00\x00\x00\xC0";
  pid_t pid = write_later(master, 100, reply, sizeof reply - 1);
  int n = check_lua(L, "return port:command(0x0a, string.pack('<I4', 0x40001000), 0, 3000)");
  CHECK(n == 3 && lua_tointeger(L, 1) == 0x0a && lua_tointeger(L, 2) == 0x00f01d83,
        "command gave %d results: %s %s", n, lua_tostring(L, 1), lua_tostring(L, 2));
  waitpid(pid, NULL, 0);
  /* the request as the device saw it */
  uint8_t buf[64];
  ssize_t got = read(master, buf, sizeof buf);
  CHECK(got == 14 && memcmp(buf, "\xC0\x00\x0a\x04\x00\x00\x00\x00\x00\x00\x10\x00\x40\xC0", 14) == 0,
        "request of %zd bytes", got);
  n = check_lua(L, "return port:take_noise()");
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "noise") == 0, "noise %s", lua_tostring(L, 1));
}

static void test_interrupt(lua_State *L, const char *what, const char *code) {
  alarm_in_ms(100);
  double t0 = now_s();
  int n = check_lua(L, code);
  double dt = now_s() - t0;
  CHECK(n == 3 && lua_isnil(L, 1) && strcmp(lua_tostring(L, 3), "INTERRUPTED") == 0,
        "%s: %d results, %s", what, n, n >= 2 ? lua_tostring(L, 2) : "-");
  CHECK(dt > 0.08 && dt < 0.4, "%s returned after %.3f s", what, dt);
  check_lua(L, "core.clear_interrupt()");
  CHECK(!espflash_interrupted, "flag cleared");
}

static void test_baud(lua_State *L, const char *slave) {
  int n = check_lua(L, "return port:set_baud(74880), port:baud()");
  CHECK(n == 2 && lua_toboolean(L, 1) && lua_tointeger(L, 2) == 74880, "set_baud");
  int fd = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  struct termios2 t;
  CHECK(fd >= 0 && ioctl(fd, TCGETS2, &t) == 0, "TCGETS2");
  if (fd >= 0) {
    CHECK(t.c_ospeed == 74880 && t.c_ispeed == 74880 && (t.c_cflag & CBAUD) == BOTHER,
          "tty speed %u/%u", t.c_ospeed, t.c_ispeed);
    CHECK((t.c_cflag & CSIZE) == CS8 && !(t.c_cflag & (PARENB | CSTOPB | CRTSCTS)), "8N1");
    CHECK(!(t.c_iflag & (IXON | IXOFF | ICRNL)) && !(t.c_lflag & (ICANON | ECHO)), "raw");
    close(fd);
  }
  n = check_lua(L, "return port:set_lines(true, false), port:has_lines()");
  CHECK(n == 2 && lua_isboolean(L, 1) && !lua_toboolean(L, 1) && !lua_toboolean(L, 2),
        "pty has no modem lines");
}

static void test_gone(lua_State *L, int master) {
  close(master);
  double t0 = now_s();
  int n = check_lua(L, "return port:read(10, 2000)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_GONE") == 0, "read after hang-up: %s",
        n >= 2 ? lua_tostring(L, 2) : lua_tostring(L, 1));
  CHECK(now_s() - t0 < 0.5, "noticed at once");
}

int main(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
    perror("posix_openpt");
    return 1;
  }
  char slave[128];
  snprintf(slave, sizeof slave, "%s", ptsname(master));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "espflash.core", luaopen_espflash_core, 0);
  lua_setglobal(L, "core");
  lua_pushstring(L, slave);
  lua_setglobal(L, "path");
  int n = check_lua(L, "port = assert(core.open(path)) return port:info().kind");
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "serial") == 0, "opened %s", slave);

  test_wake(L, master);
  test_command_reply(L, master);
  test_interrupt(L, "read", "return port:read(10, 5000)");
  test_interrupt(L, "read_frame", "return port:read_frame(5000)");
  test_interrupt(L, "command", "return port:command(0x08, '', 0, 5000)");
  test_interrupt(L, "sleep", "return core.sleep(5000)");
  test_baud(L, slave);
  test_gone(L, master);
  check_lua(L, "port:close()");
  lua_close(L);
  return check_finish("test_port_pty");
}
