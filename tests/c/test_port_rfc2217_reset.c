/* test_port_rfc2217_reset.c: the reset sequences over RFC 2217, end to end.
 *
 * The virtual device behind ser2net on a pty cannot see DTR/RTS (ptys have
 * no modem lines, and ser2net does not even answer SET-CONTROL there), so
 * this test plays the part of ser2net on a real UART instead: a small RFC
 * 2217 server in this process, in front of an in-process virtual ESP32-C3
 * that starts running its application (not in download mode). It applies
 * every SET-CONTROL the client sends to the device's modem lines, answers it
 * like ser2net on a UART does, and records it with a timestamp. The built
 * `espflash` runs as a child against rfc2217://127.0.0.1:PORT:
 *  - board-info (default reset) must succeed, which it can only do if the
 *    DTR/RTS sequence reset the chip into download mode; the recorded
 *    SET-CONTROLs must be espflash's UnixTight sequence with its 100/50 ms
 *    pauses, and the hard reset afterwards must boot the application;
 *  - reset must end with the application running;
 *  - hold-in-reset must leave the chip in its loader;
 *  - monitor (non-interactive) must show the application's boot output after
 *    its reset.
 * Needs $ESPFLASH_BIN and the flasher stub in $ESPFLASH_STUBS (skips without). */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_sim.h"

enum { SE = 240, SB = 250, WILL = 251, DO = 253, DONT = 254, IAC = 255 };

static const uint8_t GREET[] = {IAC, WILL, 3, IAC, DO, 3, IAC, WILL, 1, IAC, DONT, 1,
                                IAC, DO, 0, IAC, WILL, 0, IAC, DO, 44};

#define MAX_EVENTS 256

typedef struct {
  sim_t *s;
  int fd;
  int dtr, rts;
  int64_t t0;
  int n;                       /* SET-CONTROL events */
  int code[MAX_EVENTS];        /* 8 DTR on, 9 DTR off, 11 RTS on, 12 RTS off */
  int64_t at_ms[MAX_EVENTS];
  int purges, bauds;
  char text[8192];             /* device text sent to the client (boot banners) */
  size_t text_len;
  int state, sbn;
  uint8_t sb[32];
} server_t;

static void send_all(server_t *v, const uint8_t *b, size_t n) {
  while (n && v->fd >= 0) {
    ssize_t w = send(v->fd, b, n, MSG_NOSIGNAL);
    if (w < 0) {
      struct pollfd p = {v->fd, POLLOUT, 0};
      if (poll(&p, 1, 1000) <= 0) return;
      continue;
    }
    b += w;
    n -= (size_t)w;
  }
}

static void reply(server_t *v, int cmd, const uint8_t *val, int vn) {
  uint8_t b[16] = {IAC, SB, 44, (uint8_t)cmd};
  int n = 4;
  for (int i = 0; i < vn; i++) {
    b[n++] = val[i];
    if (val[i] == IAC) b[n++] = IAC;
  }
  b[n++] = IAC, b[n++] = SE;
  send_all(v, b, (size_t)n);
}

/* A COM-PORT-OPTION command from the client, as ser2net on a UART handles it. */
static void command(server_t *v) {
  if (v->sbn < 2 || v->sb[0] != 44) return;
  int cmd = v->sb[1];
  uint32_t val = 0;
  for (int i = 2; i < v->sbn; i++) val = val << 8 | v->sb[i];
  if (cmd == 5 && v->n < MAX_EVENTS && (val == 8 || val == 9 || val == 11 || val == 12)) {
    if (val == 8 || val == 9) v->dtr = val == 8;
    else v->rts = val == 11;
    sim_set_lines(v->s, v->dtr, v->rts);
    v->code[v->n] = (int)val;
    v->at_ms[v->n++] = (core_now_us() - v->t0) / 1000;
  }
  if (cmd == 1 && val) {
    sim_set_host_baud(v->s, val);
    v->bauds++;
  }
  if (cmd == 12) {
    uint8_t junk[4096]; /* the server's receive buffer: what the device sent */
    while (sim_host_read(v->s, junk, sizeof junk) > 0) {
    }
    v->purges++;
  }
  reply(v, cmd + 100, v->sb + 2, v->sbn - 2);
}

/* Client bytes: payload to the device, commands acted on. */
#define CLIENT_CHUNK 8192

static void from_client(server_t *v, const uint8_t *b, size_t n) {
  uint8_t data[CLIENT_CHUNK];
  size_t dn = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = b[i];
    switch (v->state) {
    case 0: if (c == IAC) v->state = 1; else data[dn++] = c; break;
    case 1:
      v->state = 0;
      if (c == IAC) data[dn++] = c;
      else if (c == SB) v->sbn = 0, v->state = 3;
      else if (c >= WILL) v->state = 2;
      break;
    case 2: v->state = 0; break; /* the client's option answers: all agreed already */
    case 3:
      if (c == IAC) v->state = 4;
      else if (v->sbn < (int)sizeof v->sb) v->sb[v->sbn++] = c;
      break;
    case 4:
      if (c == IAC) {
        if (v->sbn < (int)sizeof v->sb) v->sb[v->sbn++] = c;
        v->state = 3;
      } else {
        command(v);
        v->state = 0;
      }
      break;
    }
  }
  if (dn) sim_host_write(v->s, data, dn);
}

static void to_client(server_t *v) {
  uint8_t b[4096], e[8192];
  size_t n;
  while ((n = sim_host_read(v->s, b, sizeof b)) > 0) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      e[k++] = b[i];
      if (b[i] == IAC) e[k++] = IAC;
      if (b[i] >= 0x20 && b[i] < 0x7f && v->text_len + 1 < sizeof v->text)
        v->text[v->text_len++] = (char)b[i];
    }
    send_all(v, e, k);
  }
}

/* Runs `espflash ARGS... --port URL` against the server until it exits;
 * returns its exit status (-1: killed after 30 s), output in *out. */
static int run_espflash(server_t *v, int lfd, const char *url, const char *const args[],
                        char *out, size_t cap) {
  char path[] = "/tmp/espflash-rfc2217-XXXXXX";
  int ofd = mkstemp(path);
  unlink(path);
  const char *argv[16];
  int k = 0;
  argv[k++] = getenv("ESPFLASH_BIN");
  for (int i = 0; args[i]; i++) argv[k++] = args[i];
  argv[k++] = "--port";
  argv[k++] = url;
  argv[k] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(ofd, 1);
    dup2(ofd, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  v->n = v->purges = v->bauds = 0;
  v->text_len = 0;
  v->fd = -1;
  v->t0 = core_now_us();
  int status = -1;
  while (core_now_us() - v->t0 < 30000000) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (v->fd < 0) {
      struct pollfd p = {lfd, POLLIN, 0};
      if (poll(&p, 1, 20) == 1) {
        v->fd = accept(lfd, NULL, NULL);
        int one = 1;
        setsockopt(v->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        v->state = 0;
        send_all(v, GREET, sizeof GREET);
      }
      continue;
    }
    to_client(v);
    int64_t hint = sim_wait_hint_us(v->s);
    int ms = hint >= 0 && hint < 20000 ? (int)(hint / 1000) + 1 : 20;
    struct pollfd p = {v->fd, POLLIN, 0};
    if (poll(&p, 1, ms) == 1) {
      uint8_t b[CLIENT_CHUNK];
      ssize_t n = read(v->fd, b, sizeof b);
      if (n <= 0) {
        close(v->fd);
        v->fd = -2; /* the client is done; wait for it to exit */
        continue;
      }
      from_client(v, b, (size_t)n);
    }
  }
  if (status == -1) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  if (v->fd >= 0) close(v->fd);
  v->fd = -1;
  usleep(30000); /* let a chip whose EN just rose sample IO0 and boot */
  to_client(v);  /* nobody listens: dropped, but the boot text is recorded */
  lseek(ofd, 0, SEEK_SET);
  ssize_t got = read(ofd, out, cap - 1);
  out[got > 0 ? got : 0] = 0;
  close(ofd);
  v->text[v->text_len] = 0;
  return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The events from index `from` as "8 11 9 ...", for messages. */
static const char *events(const server_t *v, int from) {
  static char buf[1024];
  size_t k = 0;
  buf[0] = 0;
  for (int i = from; i < v->n && k + 24 < sizeof buf; i++)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%d@%lld ", v->code[i], (long long)v->at_ms[i]);
  return buf;
}

/* Checks that the events starting at `at` are `want` (count n). */
static int expect(const server_t *v, int at, const int *want, int n) {
  if (at + n > v->n) return 0;
  for (int i = 0; i < n; i++)
    if (v->code[at + i] != want[i]) return 0;
  return 1;
}

int main(void) {
  const char *bin = getenv("ESPFLASH_BIN"), *stubs = getenv("ESPFLASH_STUBS");
  char stub[1024];
  snprintf(stub, sizeof stub, "%s/esp32c3.json", stubs ? stubs : "");
  if (!bin || access(bin, X_OK) != 0 || !stubs || access(stub, R_OK) != 0) {
    printf("SKIP: needs $ESPFLASH_BIN and the flasher stubs in $ESPFLASH_STUBS "
           "(scripts/setup-stubs.sh)\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  sim_profile_t prof = t_profile_c3();
  sim_options_t o = {0};
  o.app_output = "hello from the app\r\n";
  server_t v = {0};
  v.s = t_new(&prof, &o);
  CHECK(strcmp(sim_state_name(v.s), "running") == 0, "starts running the app: %s",
        sim_state_name(v.s));

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
    perror("listen");
    return 1;
  }
  char url[64], out[16384];
  snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", ntohs(a.sin_port));

  /* board-info with the default reset: UnixTight 50 ms, then the hard reset */
  static const char *const board_info[] = {"board-info", NULL};
  int rc = run_espflash(&v, lfd, url, board_info, out, sizeof out);
  CHECK(rc == 0 && strstr(out, "Chip type:         esp32c3"), "board-info exit %d:\n%s", rc, out);
  CHECK(strstr(v.text, "waiting for download") != NULL,
        "the DTR/RTS sequence reset the chip into download mode; device said: %s", v.text);
  static const int tight[] = {9, 12, 8, 11, 9, 11, 8, 12, 9, 12, 9};
  CHECK(expect(&v, 0, tight, 11), "UnixTight as SET-CONTROLs (DTR first): %s", events(&v, 0));
  if (expect(&v, 0, tight, 11)) {
    CHECK(v.at_ms[6] - v.at_ms[5] >= 95, "EN held low %lld ms", (long long)(v.at_ms[6] - v.at_ms[5]));
    CHECK(v.at_ms[8] - v.at_ms[7] >= 45, "IO0 held low %lld ms", (long long)(v.at_ms[8] - v.at_ms[7]));
    CHECK(v.at_ms[10] - v.at_ms[0] < 1000, "the sequence took %lld ms: acks were waited for, "
          "not timed out", (long long)(v.at_ms[10] - v.at_ms[0]));
  }
  static const int hard[] = {11, 12};
  CHECK(v.n == 13 && expect(&v, 11, hard, 2) && v.at_ms[12] - v.at_ms[11] >= 95,
        "then one hard reset (RTS pulse): %s", events(&v, 11));
  CHECK(strcmp(sim_state_name(v.s), "running") == 0 && strstr(v.text, "hello from the app"),
        "the hard reset booted the app: %s", sim_state_name(v.s));
  CHECK(v.purges > 0 && v.bauds == 1, "PURGE-DATA %d, SET-BAUDRATE %d", v.purges, v.bauds);

  /* reset: ROM only, then the hard reset */
  static const char *const reset[] = {"reset", NULL};
  rc = run_espflash(&v, lfd, url, reset, out, sizeof out);
  CHECK(rc == 0 && strstr(out, "Resetting target device"), "reset exit %d:\n%s", rc, out);
  CHECK(expect(&v, 0, tight, 11) && v.n >= 13 && expect(&v, v.n - 2, hard, 2),
        "reset: UnixTight ... RTS pulse: %s", events(&v, 0));
  CHECK(strcmp(sim_state_name(v.s), "running") == 0, "after reset: %s", sim_state_name(v.s));

  /* hold-in-reset: connects (into download mode) and leaves it there */
  static const char *const hold[] = {"hold-in-reset", NULL};
  rc = run_espflash(&v, lfd, url, hold, out, sizeof out);
  CHECK(rc == 0 && strstr(out, "Holding target device in reset"), "hold-in-reset exit %d:\n%s",
        rc, out);
  CHECK(v.n == 11 && expect(&v, 0, tight, 11), "hold-in-reset: UnixTight only: %s", events(&v, 0));
  CHECK(strcmp(sim_state_name(v.s), "stub") == 0 || strcmp(sim_state_name(v.s), "rom") == 0,
        "left in the loader: %s", sim_state_name(v.s));

  /* the monitor: its reset (an RTS pulse) boots the app, whose output shows */
  static const char *const monitor[] = {"monitor", "--non-interactive", "--timeout", "2", NULL};
  rc = run_espflash(&v, lfd, url, monitor, out, sizeof out);
  CHECK(rc == 0 && strstr(out, "hello from the app"), "monitor exit %d:\n%s", rc, out);
  CHECK(v.n >= 2 && expect(&v, v.n - 2, hard, 2), "monitor: ends its reset with an RTS pulse: %s",
        events(&v, 0));

  close(lfd);
  sim_destroy(v.s);
  return check_finish("test_port_rfc2217_reset");
}
