/* port_tcp.c: the socket://HOST:PORT transport, raw TCP (ser2net raw mode,
 * esp-link, the virtual device's TCP server). No modem lines; the baud rate
 * is only recorded, since the far end owns the UART. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"

typedef struct {
  port_transport_t base;
  int fd;
  char name[300];
} tcp_t;

static long tcp_read(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
                     port_err_t *err) {
  tcp_t *p = (tcp_t *)t;
  long n = port_fd_read(p->fd, buf, cap, deadline_us, err, p->name);
  if (n > 0) {
    /* Acknowledge at once: a peer that splits a reply (ser2net) otherwise
     * waits for our delayed ACK, ~40 ms per exchange. */
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
  return n;
}

static int tcp_write(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  tcp_t *p = (tcp_t *)t;
  return port_fd_write(p->fd, buf, n, deadline_us, err, p->name, 1);
}

static int tcp_set_baud(port_transport_t *t, uint32_t baud, port_err_t *err) {
  (void)t, (void)baud, (void)err;
  return 0;
}

static int tcp_set_lines(port_transport_t *t, int dtr, int rts, port_err_t *err) {
  (void)t, (void)dtr, (void)rts, (void)err;
  return 0;
}

static int tcp_has_lines(port_transport_t *t) {
  (void)t;
  return 0;
}

/* Discards what the peer has sent so far. */
static int tcp_flush_input(port_transport_t *t, port_err_t *err) {
  tcp_t *p = (tcp_t *)t;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    port_err_set(err, "PORT_GONE", "%s: %s", p->name,
                 n == 0 ? "the peer closed the connection" : strerror(errno));
    return -1;
  }
}

static void tcp_close(port_transport_t *t) {
  tcp_t *p = (tcp_t *)t;
  close(p->fd);
  free(p);
}

static const port_ops_t tcp_ops = {
  "socket", tcp_read, tcp_write, tcp_set_baud, tcp_set_lines, tcp_has_lines,
  tcp_flush_input, tcp_close};

/* Non-blocking connect to one address. Returns the fd, -1 (try the next
 * address, errno in *e) or -2 (interrupted or timed out; err set). */
static int try_connect(const struct addrinfo *ai, int64_t deadline_us, int *e,
                       port_err_t *err, const char *name) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  ai->ai_protocol);
  if (fd < 0) {
    *e = errno;
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    if (errno != EINPROGRESS) {
      *e = errno;
      close(fd);
      return -1;
    }
    int rc = port_fd_wait(fd, POLLOUT, deadline_us, err);
    if (rc <= 0) {
      if (rc == 0)
        port_err_set(err, "TIMEOUT", "connecting to %s timed out", name);
      close(fd);
      return -2;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr) {
      *e = soerr;
      close(fd);
      return -1;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

port_transport_t *port_tcp_open(const char *host, const char *service, int timeout_ms,
                                port_err_t *err) {
  char name[300];
  snprintf(name, sizeof name, "socket://%s:%s", host, service);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    port_err_set(err, "PORT_NOT_FOUND", "cannot resolve %s: %s", name, gai_strerror(rc));
    return NULL;
  }
  int64_t deadline = core_now_us() + (int64_t)timeout_ms * 1000;
  int fd = -1, e = ECONNREFUSED;
  for (struct addrinfo *ai = res; ai && fd == -1; ai = ai->ai_next) {
    fd = try_connect(ai, deadline, &e, err, name);
  }
  freeaddrinfo(res);
  if (fd == -2) return NULL;
  if (fd < 0) {
    port_err_set(err, e == ECONNREFUSED ? "PORT_NOT_FOUND" : "PORT_IO",
                 "cannot connect to %s: %s", name, strerror(e));
    return NULL;
  }
  tcp_t *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    port_err_set(err, "PORT_IO", "out of memory connecting to %s", name);
    return NULL;
  }
  p->base.ops = &tcp_ops;
  p->fd = fd;
  memcpy(p->name, name, sizeof name);
  return &p->base;
}
