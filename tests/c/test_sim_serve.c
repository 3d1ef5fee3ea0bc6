/* test_sim_serve.c: core.sim_serve over TCP and over a pty, run in a forked
 * child through the Lua binding (core.sim_new + core.sim_serve), talked to
 * with a real socket and a real pty. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <lualib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "test_sim.h"

static const char *CHUNK =
  "local core, mode, report = ...\n"
  "local s = assert(core.sim_new({name = 'esp32c3', magic = 0x1B31506F, chip_id = 5,\n"
  "  secinfo_len = 20, flash_begin_len = 20, max_rom_opcode = 0x14,\n"
  "  regs = {[0x60008844] = 0xF97E7BC0}, spi_base = 0x60002000, spi_usr = 0x18,\n"
  "  spi_usr1 = 0x1C, spi_usr2 = 0x20, spi_mosi_dlen = 0x24, spi_miso_dlen = 0x28,\n"
  "  spi_w0 = 0x58, jedec_id = 0x1640C8, uart_clkdiv_addr = 0x60000014, xtal_mhz = 40,\n"
  "  stub_entries = {0x40380E9A},\n"
  "  banner_download = 'ESP-ROM:esp32c3\\r\\nrst:0x1 (POWERON),boot:0x8 (DOWNLOAD)\\r\\nwaiting for download\\r\\n',\n"
  "  banner_boot = 'ESP-ROM:esp32c3\\r\\nboot:0xc (SPI_FAST_FLASH_BOOT)\\r\\n'},\n"
  "  {app_output = 'app running\\r\\n'}))\n"
  "local opts = mode == 'pty' and {pty = true} or {listen = '127.0.0.1:0'}\n"
  "local ok, err = core.sim_serve(s, opts, report)\n"
  "s:close()\n"
  "if ok ~= true then io.stderr:write(tostring(err), '\\n') return 3 end\n"
  "return 0\n";

static int report_fd = -1;   /* child only */

static int l_report(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (write(report_fd, s, n) < 0) return luaL_error(L, "report failed");
  close(report_fd);
  return 0;
}

static void on_term(int sig) {
  (void)sig;
  espflash_interrupted = 1;
}

static void child(const char *mode) {
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  int rc = 4;
  if (luaL_loadstring(L, CHUNK) == LUA_OK) {
    luaopen_espflash_core(L);
    lua_pushstring(L, mode);
    lua_pushcfunction(L, l_report);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK) rc = (int)lua_tointeger(L, -1);
    else fprintf(stderr, "child: %s\n", lua_tostring(L, -1));
  }
  lua_close(L);
  _exit(rc);
}

static pid_t start(const char *mode, char *where, size_t cap) {
  int p[2];
  if (pipe(p) < 0) exit(2);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    report_fd = p[1];
    child(mode);
  }
  close(p[1]);
  struct pollfd pf = {p[0], POLLIN, 0};
  ssize_t n = poll(&pf, 1, 5000) == 1 ? read(p[0], where, cap - 1) : -1;
  where[n > 0 ? n : 0] = 0;
  close(p[0]);
  return pid;
}

static int stop(pid_t pid) {
  int st = 0;
  kill(pid, SIGTERM);
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads from fd until `frames` SLIP frames decoded or ms passed; returns the bytes. */
static size_t collect(int fd, uint8_t *buf, size_t cap, int frames, int ms, t_frames_t *f) {
  size_t k = 0;
  int64_t end = core_now_us() + (int64_t)ms * 1000;
  memset(f, 0, sizeof *f);
  for (;;) {
    int64_t left = (end - core_now_us()) / 1000;
    if (left <= 0) break;
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, (int)left) != 1) break;
    ssize_t n = read(fd, buf + k, cap - k - 1);
    if (n <= 0) break;
    k += (size_t)n;
    t_frames_free(f);
    t_decode(buf, k, f);
    if (f->n >= frames) break;
  }
  buf[k] = 0;
  return k;
}

static void send_frame(int fd, uint8_t op, const uint8_t *d, size_t n) {
  uint8_t buf[128];
  size_t k = 0;
  buf[k++] = 0xC0;
  uint8_t hdr[8] = {0, op, (uint8_t)n, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < 8 + n; i++) {
    uint8_t b = i < 8 ? hdr[i] : d[i - 8];
    if (b == 0xC0) { buf[k++] = 0xDB; buf[k++] = 0xDC; }
    else if (b == 0xDB) { buf[k++] = 0xDB; buf[k++] = 0xDD; }
    else buf[k++] = b;
  }
  buf[k++] = 0xC0;
  CHECK(write(fd, buf, k) == (ssize_t)k, "short write");
}

static void send_sync(int fd) {
  uint8_t d[36] = {0x07, 0x07, 0x12, 0x20};
  memset(d + 4, 0x55, 32);
  send_frame(fd, 0x08, d, sizeof d);
}

static int connect_to(const char *addr) {
  char host[64];
  int port = 0;
  if (sscanf(addr, "%63[^:]:%d", host, &port) != 2) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void test_tcp(void) {
  char addr[128];
  pid_t pid = start("listen", addr, sizeof addr);
  CHECK(strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0, "on_ready address '%s'", addr);
  uint8_t buf[4096];
  t_frames_t f;
  for (int round = 0; round < 2; round++) {
    int fd = connect_to(addr);
    CHECK(fd >= 0, "connect to %s", addr);
    if (fd < 0) break;
    collect(fd, buf, sizeof buf, 1, 150, &f);
    CHECK(strstr((char *)buf, "waiting for download") && !strstr((char *)buf, "app running"),
          "client %d: banner '%s'", round, (char *)buf);
    t_frames_free(&f);
    uint8_t rr[4] = {0x00, 0x10, 0x00, 0x40};
    send_frame(fd, 0x0A, rr, 4);   /* before SYNC: silence, also on the second client */
    collect(fd, buf, sizeof buf, 1, 100, &f);
    CHECK(f.n == 0, "client %d: READ_REG before SYNC answered", round);
    t_frames_free(&f);
    send_sync(fd);
    collect(fd, buf, sizeof buf, 8, 1000, &f);
    CHECK(f.n == 8 && f.len[0] == 12 && t_get32(f.data[0] + 4) == 0x20120707, "client %d: %d SYNC replies",
          round, f.n);
    t_frames_free(&f);
    send_frame(fd, 0x0A, rr, 4);
    collect(fd, buf, sizeof buf, 1, 1000, &f);
    CHECK(f.n == 1 && t_get32(f.data[0] + 4) == 0x1B31506F, "client %d: magic over TCP", round);
    t_frames_free(&f);
    close(fd);
  }
  CHECK(stop(pid) == 0, "TCP server did not return true on interrupt");
}

static void test_pty(void) {
  char path[128];
  pid_t pid = start("pty", path, sizeof path);
  CHECK(strncmp(path, "/dev/pts/", 9) == 0, "pty path '%s'", path);
  int fd = open(path, O_RDWR | O_NOCTTY);
  CHECK(fd >= 0, "open %s", path);
  if (fd >= 0) {
    struct termios tio;
    tcgetattr(fd, &tio);
    cfmakeraw(&tio);
    tcsetattr(fd, TCSANOW, &tio);
    uint8_t buf[4096];
    t_frames_t f;
    collect(fd, buf, sizeof buf, 1, 150, &f);   /* the banner, if it is still there */
    t_frames_free(&f);
    send_sync(fd);
    collect(fd, buf, sizeof buf, 8, 1000, &f);
    CHECK(f.n == 8 && f.noise == 0, "pty: %d SYNC replies, %zu stray bytes", f.n, f.noise);
    t_frames_free(&f);
    close(fd);
    /* The slave can be reopened: the server keeps its own end open. */
    fd = open(path, O_RDWR | O_NOCTTY);
    CHECK(fd >= 0, "reopen %s", path);
    if (fd >= 0) {
      tcgetattr(fd, &tio);
      cfmakeraw(&tio);
      tcsetattr(fd, TCSANOW, &tio);
      uint8_t rr[4] = {0x00, 0x10, 0x00, 0x40};
      send_frame(fd, 0x0A, rr, 4);
      collect(fd, buf, sizeof buf, 1, 1000, &f);
      CHECK(f.n == 1 && t_get32(f.data[0] + 4) == 0x1B31506F, "pty: magic after reopen");
      t_frames_free(&f);
      close(fd);
    }
  }
  CHECK(stop(pid) == 0, "pty server did not return true on interrupt");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  test_tcp();
  test_pty();
  return check_finish("test_sim_serve");
}
