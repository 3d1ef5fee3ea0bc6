/* port_fd.c: poll()-based, interruptible reads and writes on a non-blocking
 * file descriptor, shared by the termios and TCP transports. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port.h"

static int fd_wait(int fd, short events, int64_t deadline_us, port_err_t *err,
                   short *revents) {
  for (;;) {
    if (espflash_interrupted) {
      port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
      return -1;
    }
    int64_t left = deadline_us - core_now_us();
    int ms = left <= 0 ? 0 : (int)((left + 999) / 1000);
    if (ms > PORT_SLICE_MS) ms = PORT_SLICE_MS;
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc = poll(&pfd, 1, ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      port_err_set(err, "PORT_IO", "poll failed: %s", strerror(errno));
      return -1;
    }
    /* POLLHUP/POLLERR: let the read or write report what happened */
    if (rc > 0) {
      *revents = pfd.revents;
      return 1;
    }
    if (left <= 0 || core_now_us() >= deadline_us) return 0;
  }
}

int port_fd_wait(int fd, short events, int64_t deadline_us, port_err_t *err) {
  short rev;
  return fd_wait(fd, events, deadline_us, err, &rev);
}

static int gone_errno(int e) {
  return e == EIO || e == ENXIO || e == ENODEV || e == ECONNRESET || e == EPIPE ||
         e == ENOTCONN || e == ESHUTDOWN;
}

long port_fd_read(int fd, uint8_t *buf, size_t cap, int64_t deadline_us, port_err_t *err,
                  const char *what) {
  short rev = 0;
  for (;;) {
    ssize_t n = read(fd, buf, cap);
    if (n > 0) return (long)n;
    if (n == 0) {
      port_err_set(err, "PORT_GONE", "%s: the device or peer closed the connection", what);
      return -1;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      port_err_set(err, gone_errno(e) ? "PORT_GONE" : "PORT_IO", "%s: read failed: %s%s",
                   what, strerror(e), gone_errno(e) ? " (device disconnected?)" : "");
      return -1;
    }
    if (rev & (POLLHUP | POLLERR | POLLNVAL)) {
      port_err_set(err, "PORT_GONE", "%s: the device hung up", what);
      return -1;
    }
    int rc = fd_wait(fd, POLLIN, deadline_us, err, &rev);
    if (rc <= 0) return rc;
  }
}

int port_fd_write(int fd, const uint8_t *buf, size_t n, int64_t deadline_us,
                  port_err_t *err, const char *what, int sock) {
  size_t done = 0;
  short rev = 0;
  while (done < n) {
    /* MSG_NOSIGNAL: a closed peer gives EPIPE rather than SIGPIPE */
    ssize_t w = sock ? send(fd, buf + done, n - done, MSG_NOSIGNAL)
                     : write(fd, buf + done, n - done);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      port_err_set(err, gone_errno(e) ? "PORT_GONE" : "PORT_IO", "%s: write failed: %s%s",
                   what, strerror(e), gone_errno(e) ? " (device disconnected?)" : "");
      return -1;
    }
    if (rev & (POLLHUP | POLLERR | POLLNVAL)) {
      port_err_set(err, "PORT_GONE", "%s: the device hung up", what);
      return -1;
    }
    int rc = fd_wait(fd, POLLOUT, deadline_us, err, &rev);
    if (rc < 0) return -1;
    if (rc == 0) {
      port_err_set(err, "TIMEOUT", "%s: write timed out with %zu of %zu bytes sent", what,
                   done, n);
      return -1;
    }
  }
  return 0;
}
