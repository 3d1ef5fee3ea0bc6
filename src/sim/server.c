/* server.c: core.sim_serve, the virtual device behind a TCP socket or a pty.
 *
 * TCP: one client at a time (a new connection replaces the old one); each
 * new client finds the device freshly reset into download mode, flash kept.
 * pty: a master in raw mode whose slave we keep open (so the master never
 * sees EIO between clients); the device is reset into download mode once,
 * when serving starts, since a pty carries no modem lines to do it.
 * Neither transport tells us the client's baud, so the sim treats it as
 * always matching. Device output with no client attached is discarded.
 * Every wait is a ppoll() of at most 20 ms that checks espflash_interrupted. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core.h"
#include "sim/sim_int.h"

#define PENDING_CAP (256u * 1024u)
#define SLICE_MS 20

typedef struct {
  sim_t *s;
  int listen_fd, client_fd;  /* TCP; client_fd doubles as the pty master */
  int slave_fd;              /* pty only */
  int is_sock;
  uint8_t *pending;          /* device output not yet taken by the client */
  size_t npending;
} server_t;

static void server_close(server_t *v) {
  if (v->client_fd >= 0) close(v->client_fd);
  if (v->listen_fd >= 0) close(v->listen_fd);
  if (v->slave_fd >= 0) close(v->slave_fd);
  free(v->pending);
  v->client_fd = v->listen_fd = v->slave_fd = -1;
  v->pending = NULL;
}

static void drain_device(server_t *v) {
  uint8_t tmp[4096];
  while (sim_host_read(v->s, tmp, sizeof tmp) > 0) {
  }
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Splits "HOST:PORT" / "[V6]:PORT" in place. */
static int split_addr(char *a, char **host, char **port) {
  char *c = strrchr(a, ':');
  if (!c || c == a || !c[1]) return -1;
  *c = 0;
  *port = c + 1;
  *host = a;
  size_t n = strlen(a);
  if (a[0] == '[' && n > 2 && a[n - 1] == ']') {
    a[n - 1] = 0;
    *host = a + 1;
  }
  return 0;
}

static int open_listen(lua_State *L, server_t *v, const char *addr, char *shown, size_t cap) {
  char buf[256], *host, *port;
  snprintf(buf, sizeof buf, "%s", addr);
  if (split_addr(buf, &host, &port) < 0)
    return core_fail(L, "PORT_CONFIG", "listen address '%s' is not HOST:PORT (e.g. 127.0.0.1:0)", addr);
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) return core_fail(L, "PORT_CONFIG", "cannot resolve %s: %s", addr, gai_strerror(rc));
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0), one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return core_fail(L, e == EADDRINUSE ? "PORT_BUSY" : "PORT_IO", "cannot listen on %s: %s", addr,
                     strerror(e));
  }
  freeaddrinfo(res);
  set_nonblock(fd);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
  getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof hbuf, pbuf, sizeof pbuf,
              NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(shown, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", hbuf, pbuf);
  v->listen_fd = fd;
  v->is_sock = 1;
  return 0;
}

static int open_pty(lua_State *L, server_t *v, char *shown, size_t cap) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, shown, cap) != 0) {
    int e = errno;
    if (m >= 0) close(m);
    return core_fail(L, "PORT_IO", "cannot create a pty: %s", strerror(e));
  }
  int sl = open(shown, O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios tio;
  if (sl < 0 || tcgetattr(sl, &tio) < 0) {
    int e = errno;
    close(m);
    if (sl >= 0) close(sl);
    return core_fail(L, "PORT_IO", "cannot open pty slave %s: %s", shown, strerror(e));
  }
  cfmakeraw(&tio);   /* no echo, no line discipline: hosts see only device bytes */
  tcsetattr(sl, TCSANOW, &tio);
  set_nonblock(m);
  v->client_fd = m;
  v->slave_fd = sl;
  return 0;
}

static void accept_client(server_t *v) {
  int c = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0) return;
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (v->client_fd >= 0) close(v->client_fd);
  v->client_fd = c;
  v->npending = 0;
  drain_device(v);
  sim_reset(v->s, 1);
}

static void drop_client(server_t *v) {
  if (v->is_sock && v->client_fd >= 0) {
    close(v->client_fd);
    v->client_fd = -1;
    v->npending = 0;
  }
}

/* Client -> device. */
static void pump_in(server_t *v) {
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = read(v->client_fd, buf, sizeof buf);
    if (n > 0) {
      sim_host_write(v->s, buf, (size_t)n);
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) drop_client(v);
    return;
  }
}

/* Device -> client, through the pending buffer. */
static void pump_out(server_t *v) {
  if (v->client_fd < 0) {
    drain_device(v);
    return;
  }
  while (v->npending < PENDING_CAP) {
    size_t k = sim_host_read(v->s, v->pending + v->npending, PENDING_CAP - v->npending);
    if (k == 0) break;
    v->npending += k;
  }
  while (v->npending) {
    ssize_t w = v->is_sock ? send(v->client_fd, v->pending, v->npending, MSG_NOSIGNAL)
                           : write(v->client_fd, v->pending, v->npending);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      drop_client(v);
      return;
    }
    memmove(v->pending, v->pending + w, v->npending - (size_t)w);
    v->npending -= (size_t)w;
  }
}

static int serve_loop(server_t *v) {
  while (!espflash_interrupted) {
    pump_out(v);
    /* ppoll with the model's microsecond hint: poll()'s whole milliseconds
     * added ~0.8 ms to every emulated turnaround (bench/findings.md) */
    int64_t hint = sim_wait_hint_us(v->s);
    int64_t wait_us = SLICE_MS * 1000;
    if (hint >= 0 && hint < wait_us && v->npending < PENDING_CAP) wait_us = hint;
    struct timespec timeout = {(time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000};
    struct pollfd p[2];
    int n = 0, li = -1, ci = -1;
    if (v->listen_fd >= 0) {
      p[n] = (struct pollfd){v->listen_fd, POLLIN, 0};
      li = n++;
    }
    if (v->client_fd >= 0) {
      p[n] = (struct pollfd){v->client_fd, (short)(POLLIN | (v->npending ? POLLOUT : 0)), 0};
      ci = n++;
    }
    int rc = ppoll(p, (nfds_t)n, &timeout, NULL);
    if (rc < 0 && errno != EINTR) return -1;
    if (rc <= 0) continue;
    if (ci >= 0 && (p[ci].revents & (POLLIN | POLLHUP | POLLERR))) pump_in(v);
    if (li >= 0 && (p[li].revents & POLLIN)) accept_client(v);
  }
  return 0;
}

/* core.sim_serve(sim, {listen = "HOST:PORT"} | {pty = true}, on_ready) -> true | nil, err, code;
 * calls on_ready(address or pty path) once serving, returns true on Ctrl-C */
int sim_l_serve(lua_State *L) {
  sim_t *s = sim_check(L, 1);
  if (!s) return luaL_error(L, "sim_serve: the virtual device is closed");
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  int has_listen = lua_getfield(L, 2, "listen") != LUA_TNIL;
  const char *listen_addr = has_listen ? lua_tostring(L, -1) : NULL;
  int pty = lua_getfield(L, 2, "pty") != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 2);
  if (has_listen == pty || (has_listen && !listen_addr))
    return luaL_error(L, "sim_serve: pass exactly one of {listen = \"HOST:PORT\"} or {pty = true}");
  server_t v = {s, -1, -1, -1, 0, malloc(PENDING_CAP), 0};
  if (!v.pending) return luaL_error(L, "out of memory");
  char shown[300];
  int rc = has_listen ? open_listen(L, &v, listen_addr, shown, sizeof shown)
                      : open_pty(L, &v, shown, sizeof shown);
  if (rc) {
    server_close(&v);
    return rc;
  }
  sim_set_host_baud(s, 0);
  if (pty) {
    drain_device(&v);
    sim_reset(s, 1);
  }
  if (lua_isfunction(L, 3)) {
    lua_pushvalue(L, 3);
    lua_pushstring(L, shown);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      server_close(&v);
      return lua_error(L);
    }
  }
  int e = serve_loop(&v) < 0 ? errno : 0;
  server_close(&v);
  if (e) return core_fail(L, "PORT_IO", "serving the virtual device failed: %s", strerror(e));
  lua_pushboolean(L, 1);
  return 1;
}
