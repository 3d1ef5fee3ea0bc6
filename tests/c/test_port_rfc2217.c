/* test_port_rfc2217.c: the rfc2217:// transport against a scripted fake
 * RFC 2217 server (a forked child on a free 127.0.0.1 port): the Telnet
 * negotiation and serial parameters on the wire, 0xFF escaping both ways
 * with Telnet commands and subnegotiations split across reads and mixed into
 * the payload, SET-CONTROL and PURGE-DATA with and without replies (a silent
 * server costs one short timeout, then none), payload kept while waiting for
 * a reply, URL options, servers that refuse or never negotiate, Ctrl-C
 * during a wait and a server that hangs up. The Port is used through the
 * Lua API, as the library uses it. The child records every byte the client
 * sends in a file; the parent decodes it into a trace and checks it. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lualib.h>

#include "core.h"

enum { SE = 240, NOP = 241, SB = 250, WILL = 251, WONT = 252, DO = 253, DONT = 254, IAC = 255 };

#include "check_lua.h"

/* What the fake server does. */
typedef struct {
  const char *greet;        /* bytes sent on connect (Telnet options) */
  size_t greet_len;
  int silent_control;       /* never reply to SET-CONTROL (ser2net on a pty) */
  int silent_purge;         /* never reply to PURGE-DATA */
  uint32_t baud_reply;      /* reply to SET-BAUDRATE with this (0: the value asked) */
  int echo;                 /* send received payload back */
  int trickle;              /* ... one byte a write, with Telnet commands between */
  const char *on_control;   /* payload sent on each SET-CONTROL, before any reply */
  const char *on_purge;     /* payload sent on PURGE-DATA, before the reply */
  const char *after_purge;  /* payload sent after the PURGE-DATA reply */
  int hang_up_after_ms;     /* close the connection this long after connecting */
} script_t;

/* ser2net 4.3.11's opening, as captured (stack-notes.md §5). */
static const char SER2NET_GREET[] = {
  (char)IAC, (char)WILL, 3, (char)IAC, (char)DO, 3, (char)IAC, (char)WILL, 1,
  (char)IAC, (char)DONT, 1, (char)IAC, (char)DO, 0, (char)IAC, (char)WILL, 0,
  (char)IAC, (char)DO, 44, (char)IAC, (char)SB, 44, 107, 0, (char)IAC, (char)SE};

#define GREET .greet = SER2NET_GREET, .greet_len = sizeof SER2NET_GREET

static void on_alarm(int sig) {
  (void)sig;
  espflash_interrupted = 1;
}

static double now_s(void) { return (double)core_now_us() / 1e6; }

static void ms_sleep(int ms) { usleep((useconds_t)ms * 1000); }

static void put(int fd, const void *b, size_t n) {
  if (write(fd, b, n) < 0) _exit(3);
}

/* Child: writes payload escaped, in one write or trickled, one byte a write,
 * with complete Telnet commands between bytes, each split over several
 * writes: a NOTIFY-MODEMSTATE subnegotiation, NOP, an escaped 0xFF inside a
 * subnegotiation split between its two IACs, WILL for an option already
 * agreed (no reply expected), an IAC split from SE. 0xFF payload bytes go
 * out as IAC and IAC in separate writes. */
static void send_payload(int fd, const uint8_t *p, size_t n, int trickle) {
  static const struct { uint8_t b[6]; uint8_t cut[4]; } noise[] = {
    {{IAC, SB, 44, 107, 0x30, 0}, {3, 5, 0, 0}},
    {{IAC, NOP}, {1, 2, 0, 0}},
    {{IAC, SB, 44, 107, IAC, IAC}, {5, 6, 0, 0}},
    {{IAC, WILL, 3}, {1, 3, 0, 0}},
    {{IAC, SB, 44, 106, 0, IAC}, {2, 3, 6, 0}},
  };
  static const uint8_t se[2] = {IAC, SE};
  for (size_t i = 0; i < n; i++) {
    if (!trickle) {
      uint8_t b[2] = {p[i], IAC};
      put(fd, b, p[i] == IAC ? 2 : 1);
      continue;
    }
    if (i < sizeof noise / sizeof *noise) {
      size_t from = 0;
      for (int c = 0; c < 4 && noise[i].cut[c]; c++) {
        put(fd, noise[i].b + from, noise[i].cut[c] - from);
        from = noise[i].cut[c];
        ms_sleep(2);
      }
      /* subnegotiations end with IAC SE (the last one's IAC is already out) */
      if (noise[i].b[1] == SB) put(fd, se + (i == 4), i == 4 ? 1 : 2);
      ms_sleep(2);
    }
    put(fd, p + i, 1);
    if (p[i] == IAC) {
      ms_sleep(2);
      put(fd, p + i, 1);
    }
    ms_sleep(2);
  }
}

static void send_sb(int fd, int cmd, uint32_t value, int vlen) {
  uint8_t b[16];
  int n = 0;
  b[n++] = IAC, b[n++] = SB, b[n++] = 44, b[n++] = (uint8_t)cmd;
  for (int i = vlen - 1; i >= 0; i--) {
    b[n++] = (uint8_t)(value >> (8 * i));
    if (b[n - 1] == IAC) b[n++] = IAC;
  }
  b[n++] = IAC, b[n++] = SE;
  put(fd, b, (size_t)n);
}

/* Child: one client, answering as the script says, recording its bytes. */
static void serve(int lfd, const script_t *sc, FILE *rec) {
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) _exit(2);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (sc->greet_len) put(fd, sc->greet, sc->greet_len);
  int64_t start = core_now_us();
  int state = 0;
  uint8_t sb[32], data[4096];
  size_t sbn = 0;
  for (;;) {
    if (sc->hang_up_after_ms && core_now_us() - start > sc->hang_up_after_ms * 1000LL) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    fwrite(buf, 1, (size_t)n, rec);
    fflush(rec);
    size_t dn = 0;
    for (ssize_t i = 0; i < n; i++) {
      uint8_t c = buf[i];
      switch (state) {
      case 0: if (c == IAC) state = 1; else data[dn++] = c; break;
      case 1: state = c == IAC ? (data[dn++] = c, 0) : c == SB ? (sbn = 0, 3) : c >= WILL ? 2 : 0; break;
      case 2: state = 0; break;
      case 3: if (c == IAC) state = 4; else if (sbn < sizeof sb) sb[sbn++] = c; break;
      case 4:
        if (c == IAC) {
          if (sbn < sizeof sb) sb[sbn++] = c;
          state = 3;
          break;
        }
        state = 0;
        if (sbn < 2 || sb[0] != 44) break;
        int cmd = sb[1];
        uint32_t v = 0;
        for (size_t k = 2; k < sbn; k++) v = v << 8 | sb[k];
        if (cmd == 5 && sc->on_control) put(fd, sc->on_control, strlen(sc->on_control));
        if (cmd == 12 && sc->on_purge) put(fd, sc->on_purge, strlen(sc->on_purge));
        if (cmd == 1 && sc->baud_reply) v = sc->baud_reply;
        if (!(cmd == 5 && sc->silent_control) && !(cmd == 12 && sc->silent_purge))
          send_sb(fd, cmd + 100, v, (int)sbn - 2);
        if (cmd == 12 && sc->after_purge) put(fd, sc->after_purge, strlen(sc->after_purge));
        break;
      }
    }
    if (sc->echo && dn) send_payload(fd, data, dn, sc->trickle);
  }
  close(fd);
}

typedef struct {
  pid_t pid;
  FILE *rec;
  int port;
} server_t;

static server_t start(const script_t *sc) {
  server_t s = {0};
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
    perror("listen");
    exit(1);
  }
  s.port = ntohs(a.sin_port);
  s.rec = tmpfile();
  s.pid = fork();
  if (s.pid == 0) {
    signal(SIGALRM, SIG_DFL);
    serve(lfd, sc, s.rec);
    _exit(0);
  }
  close(lfd);
  return s;
}

/* Waits for the child; returns the client's bytes decoded into a trace:
 * "WILL 0", "DO 3", "SB 1 0001c200", "D 41ff42" (payload, hex), space-separated. */
static char *finish(server_t *s) {
  int st;
  waitpid(s->pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server exit status %d", st);
  long len = ftell(s->rec);
  uint8_t *w = malloc((size_t)len + 1);
  rewind(s->rec);
  size_t n = fread(w, 1, (size_t)len, s->rec);
  fclose(s->rec);
  char *out = calloc(1, 8 * n + 16), *o = out;
  static const char *verbs[] = {"WILL", "WONT", "DO", "DONT"};
  int in_data = 0;
  for (size_t i = 0; i < n; i++) {
    if (w[i] != IAC || (i + 1 < n && w[i + 1] == IAC)) {
      o += sprintf(o, in_data ? "%02x" : " D %02x", w[i]);
      in_data = 1;
      if (w[i] == IAC) i++;
      continue;
    }
    in_data = 0;
    if (i + 2 < n && w[i + 1] >= WILL) {
      o += sprintf(o, " %s %d", verbs[w[i + 1] - WILL], w[i + 2]);
      i += 2;
    } else if (i + 3 < n && w[i + 1] == SB) {
      o += sprintf(o, " SB %d ", w[i + 3]);
      for (i += 4; i + 1 < n && !(w[i] == IAC && w[i + 1] == SE); i++) {
        o += sprintf(o, "%02x", w[i]);
        if (w[i] == IAC) i++;
      }
      i++;
    } else {
      o += sprintf(o, " IAC %d", i + 1 < n ? w[++i] : -1);
    }
  }
  free(w);
  return out;
}

static lua_State *L;

/* Runs a Lua chunk (globals core, port, url set); returns the result count. */
static int run(const char *code) { return check_lua(L, code); }

static void set_url(server_t *s, const char *opts) {
  lua_pushfstring(L, "rfc2217://127.0.0.1:%d%s", s->port, opts);
  lua_setglobal(L, "url");
}

static int count(const char *hay, const char *needle) {
  int c = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++) c++;
  return c;
}

static void test_negotiation(void) {
  script_t sc = {GREET, .echo = 1};
  server_t s = start(&sc);
  set_url(&s, "");
  double t0 = now_s();
  int n = run("port = assert(core.open(url, {baud = 115200})) "
              "return port:info().kind, port:has_lines(), port:baud()");
  double dt = now_s() - t0;
  CHECK(n == 3 && strcmp(lua_tostring(L, 1), "rfc2217") == 0 && lua_toboolean(L, 2) &&
        lua_tointeger(L, 3) == 115200, "open: %s", lua_tostring(L, 1));
  CHECK(dt < 0.5, "open took %.3f s with a server that answers", dt);
  n = run("assert(port:set_baud(921600)) return port:baud()");
  CHECK(n == 1 && lua_tointeger(L, 1) == 921600, "set_baud");
  run("port:close()");
  char *tr = finish(&s);
  CHECK(strncmp(tr, " WILL 0 DO 0 WILL 3 DO 3 WILL 44", 32) == 0, "opening: %s", tr);
  /* ser2net's offers are answered once; ours, crossing its requests, are not repeated */
  CHECK(count(tr, "WILL 0") == 1 && count(tr, "DO 0") == 1 && count(tr, "WILL 44") == 1 &&
        count(tr, "DO 3") == 1, "each option once: %s", tr);
  CHECK(strstr(tr, " DO 1") != NULL, "accepted the server's ECHO: %s", tr);
  CHECK(strstr(tr, "SB 1 0001c200 SB 2 08 SB 3 01 SB 4 01") != NULL,
        "115200 8N1 after the options: %s", tr);
  CHECK(strstr(tr, "SB 1 000e1000") != NULL, "SET-BAUDRATE 921600: %s", tr);
  CHECK(!strstr(tr, " D "), "no payload sent: %s", tr);
  free(tr);
}

static const uint8_t PAYLOAD[] = {0xC0, 0xFF, 0x01, 0xFF, 0xFF, 0xDB, 0xFF, 0x00, 0x0D, 0x0A,
                                  0xF0, 0xFA, 0xC0};

static void check_echo(int trickle) {
  script_t sc = {GREET, .echo = 1, .trickle = trickle};
  server_t s = start(&sc);
  set_url(&s, "");
  lua_pushlstring(L, (const char *)PAYLOAD, sizeof PAYLOAD);
  lua_setglobal(L, "payload");
  int n = run("port = assert(core.open(url)) assert(port:write(payload)) "
              "local got, deadline = '', core.now() + 3 "
              "while #got < #payload and core.now() < deadline do "
              "  got = got .. assert(port:read(64, 200)) end "
              "return got, port:read(64, 100)");
  CHECK(n == 2 && lua_rawlen(L, 1) == sizeof PAYLOAD &&
        memcmp(lua_tostring(L, 1), PAYLOAD, sizeof PAYLOAD) == 0 && lua_rawlen(L, 2) == 0,
        "trickle %d: echo of %zu bytes came back as %zu + %zu", trickle, sizeof PAYLOAD,
        n ? (size_t)lua_rawlen(L, 1) : 0, n > 1 ? (size_t)lua_rawlen(L, 2) : 0);
  /* a SLIP frame whose payload holds 0xFF, echoed back split at every byte */
  n = run("assert(port:write_frame('\\1\\255\\255\\2\\192')) return port:read_frame(3000)");
  CHECK(n == 1 && lua_rawlen(L, 1) == 5 && memcmp(lua_tostring(L, 1), "\1\377\377\2\300", 5) == 0,
        "trickle %d: frame came back as %zu bytes", trickle, n ? (size_t)lua_rawlen(L, 1) : 0);
  run("port:close()");
  char *tr = finish(&s);
  CHECK(strstr(tr, " D c0ff01ffffdbff000d0af0fac0") != NULL, "0xFF doubled on the wire: %s", tr);
  if (trickle)
    CHECK(count(tr, " DO ") == 3, "no reply to WILL SGA repeated inside the data: %s", tr);
  free(tr);
}

static void test_no_ack(void) {
  script_t sc = {GREET, .silent_control = 1, .on_control = "abc"};
  server_t s = start(&sc);
  set_url(&s, "");
  run("port = assert(core.open(url))");
  double t0 = now_s();
  int n = run("return port:set_lines(true, false)");
  double dt1 = now_s() - t0;
  CHECK(n == 1 && lua_toboolean(L, 1), "set_lines without a reply still says done");
  CHECK(dt1 > 0.12 && dt1 < 0.4, "first unanswered SET-CONTROL waited %.3f s", dt1);
  t0 = now_s();
  n = run("port:set_lines(false, true) port:set_lines(nil, false) return true");
  double dt2 = now_s() - t0;
  CHECK(dt2 < 0.05, "later SET-CONTROLs do not wait: %.3f s", dt2);
  /* the payload sent while set_lines waited is kept, in order */
  n = run("local got, deadline = '', core.now() + 2 "
          "while #got < 15 and core.now() < deadline do got = got .. assert(port:read(64, 100)) end "
          "return got");
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "abcabcabcabcabc") == 0, "kept payload: %s",
        lua_tostring(L, 1));
  run("port:close()");
  char *tr = finish(&s);
  CHECK(strstr(tr, "SB 5 08 SB 5 0c SB 5 09 SB 5 0b SB 5 0c") != NULL,
        "DTR on, RTS off, DTR off, RTS on, RTS off: %s", tr);
  free(tr);
}

static void test_acked_control(void) {
  script_t sc = {GREET};
  server_t s = start(&sc);
  set_url(&s, "");
  run("port = assert(core.open(url))");
  double t0 = now_s();
  for (int i = 0; i < 3; i++) run("assert(port:set_lines(true, true)) assert(port:set_lines(false, false))");
  double dt = now_s() - t0;
  CHECK(dt < 0.1, "six answered SET-CONTROL pairs took %.3f s", dt);
  run("port:close()");
  char *tr = finish(&s);
  CHECK(count(tr, "SB 5 08 SB 5 0b") == 3 && count(tr, "SB 5 09 SB 5 0c") == 3, "%s", tr);
  free(tr);

  /* ign_set_control: no wait even the first time */
  script_t quiet = {GREET, .silent_control = 1};
  s = start(&quiet);
  set_url(&s, "?ign_set_control&timeout=300");
  run("port = assert(core.open(url))");
  t0 = now_s();
  run("assert(port:set_lines(true, false))");
  dt = now_s() - t0;
  CHECK(dt < 0.05, "ign_set_control: set_lines took %.3f s", dt);
  run("port:close()");
  free(finish(&s));
}

static void test_purge(void) {
  script_t sc = {GREET, .on_purge = "stale",
                 .after_purge = "fresh"};
  server_t s = start(&sc);
  set_url(&s, "");
  int n = run("port = assert(core.open(url)) assert(port:flush_input()) "
              "local got, deadline = '', core.now() + 2 "
              "while #got < 5 and core.now() < deadline do got = got .. assert(port:read(64, 100)) end "
              "return got");
  CHECK(n == 1 && strcmp(lua_tostring(L, 1), "fresh") == 0, "after the purge reply: %s",
        lua_tostring(L, 1));
  run("port:close()");
  char *tr = finish(&s);
  CHECK(strstr(tr, "SB 12 01") != NULL, "PURGE-DATA receive buffer: %s", tr);
  free(tr);

  /* a server that never answers PURGE-DATA: one wait, then none; payload
   * kept while set_lines waited is dropped by the flush too */
  script_t quiet = {GREET, .silent_purge = 1, .on_control = "x"};
  s = start(&quiet);
  set_url(&s, "?timeout=100");
  run("port = assert(core.open(url))");
  double t0 = now_s();
  run("assert(port:flush_input())");
  double dt1 = now_s() - t0;
  run("assert(port:set_lines(true, nil))"); /* "x" arrives before the reply */
  t0 = now_s();
  n = run("assert(port:flush_input()) return port:read(64, 100)");
  double dt2 = now_s() - t0;
  CHECK(dt1 > 0.08 && dt1 < 0.3, "first unanswered purge waited %.3f s (timeout=100)", dt1);
  CHECK(dt2 < 0.15, "second purge and a 100 ms read took %.3f s", dt2);
  CHECK(n == 1 && lua_rawlen(L, 1) == 0, "what arrived before the flush is gone: %s",
        lua_tostring(L, 1));
  run("port:close()");
  free(finish(&s));
}

static void test_options_and_refusals(void) {
  int n = run("return core.open('rfc2217://127.0.0.1:1?bogus=1')");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_CONFIG") == 0 &&
        strstr(lua_tostring(L, 2), "unknown option 'bogus=1'"), "%s", lua_tostring(L, 2));
  n = run("return core.open('rfc2217://127.0.0.1:1?timeout=fast')");
  CHECK(n == 3 && strstr(lua_tostring(L, 2), "bad timeout 'fast'"), "%s", lua_tostring(L, 2));
  n = run("return core.open('rfc2217://localhost')");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_NOT_FOUND") == 0 &&
        strstr(lua_tostring(L, 2), "rfc2217://HOST:PORT"), "%s", lua_tostring(L, 2));

  /* a raw TCP server: nothing to negotiate with */
  script_t raw = {.hang_up_after_ms = 1000};
  server_t s = start(&raw);
  set_url(&s, "");
  double t0 = now_s();
  n = run("return core.open(url, {timeout = 300})");
  double dt = now_s() - t0;
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "TIMEOUT") == 0 &&
        strstr(lua_tostring(L, 2), "socket://HOST:PORT") && strstr(lua_tostring(L, 2), "rfc2217://"),
        "%s", lua_tostring(L, 2));
  CHECK(dt > 0.25 && dt < 0.6, "gave up after %.3f s (timeout 300)", dt);
  free(finish(&s));

  /* a Telnet server without RFC 2217 */
  static const char refuse[] = {(char)IAC, (char)DO, 0, (char)IAC, (char)WILL, 0,
                                (char)IAC, (char)DONT, 44};
  script_t tel = {.greet = refuse, .greet_len = sizeof refuse, .hang_up_after_ms = 500};
  s = start(&tel);
  set_url(&s, "");
  n = run("return core.open(url)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_CONFIG") == 0 &&
        strstr(lua_tostring(L, 2), "refused the COM-PORT option"), "%s", lua_tostring(L, 2));
  free(finish(&s));

  /* a server that applies another baud rate than asked */
  script_t other = {GREET, .baud_reply = 9600};
  s = start(&other);
  set_url(&s, "");
  n = run("return core.open(url, {baud = 115200})");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_CONFIG") == 0 &&
        strstr(lua_tostring(L, 2), "baud rate 9600 instead of 115200"), "%s", lua_tostring(L, 2));
  free(finish(&s));
}

static void test_interrupt_and_gone(void) {
  script_t sc = {GREET, .silent_control = 1,
                 .hang_up_after_ms = 1500};
  server_t s = start(&sc);
  set_url(&s, "?timeout=5000");
  run("port = assert(core.open(url))");
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  double t0 = now_s();
  int n = run("return port:set_lines(true, true)");
  double dt = now_s() - t0;
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "INTERRUPTED") == 0, "set_lines: %s",
        n > 1 ? lua_tostring(L, 2) : "-");
  CHECK(dt > 0.08 && dt < 0.3, "Ctrl-C ended the 5 s wait after %.3f s", dt);
  run("core.clear_interrupt()");
  setitimer(ITIMER_REAL, &it, NULL);
  n = run("return port:read(10, 5000)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "INTERRUPTED") == 0, "read interrupted");
  run("core.clear_interrupt()");
  t0 = now_s();
  n = run("return port:read(10, 5000)");
  CHECK(n == 3 && strcmp(lua_tostring(L, 3), "PORT_GONE") == 0 &&
        strstr(lua_tostring(L, 2), "rfc2217://127.0.0.1:") && !strstr(lua_tostring(L, 2), "socket:"),
        "hang-up: %s", n > 1 ? lua_tostring(L, 2) : "-");
  CHECK(now_s() - t0 < 2.0, "noticed the hang-up");
  run("port:close()");
  free(finish(&s));
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "espflash.core", luaopen_espflash_core, 0);
  lua_setglobal(L, "core");

  test_negotiation();
  check_echo(0);
  check_echo(1);
  test_no_ack();
  test_acked_control();
  test_purge();
  test_options_and_refusals();
  test_interrupt_and_gone();
  lua_close(L);
  return check_finish("test_port_rfc2217");
}
