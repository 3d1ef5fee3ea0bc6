/* port_tty.c: the termios transport for any tty path: USB serial adapters,
 * /dev/serial/by-id links (resolved with realpath) and pseudo-terminals.
 * Raw 8N1, no flow control, non-blocking with poll(). Baud rates go through
 * termios2 (port_tty_baud.c) so 74880 or 921600 work like standard rates.
 * DTR/RTS with TIOCMGET/TIOCMSET; ptys answer ENOTTY: "no modem lines". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "port.h"

typedef struct {
  port_transport_t base;
  int fd;
  int lines;      /* 1: TIOCMGET works */
  char path[PATH_MAX];
} tty_t;

static long tty_read(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
                     port_err_t *err) {
  tty_t *p = (tty_t *)t;
  return port_fd_read(p->fd, buf, cap, deadline_us, err, p->path);
}

static int tty_write(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  tty_t *p = (tty_t *)t;
  return port_fd_write(p->fd, buf, n, deadline_us, err, p->path, 0);
}

static int tty_set_baud(port_transport_t *t, uint32_t baud, port_err_t *err) {
  tty_t *p = (tty_t *)t;
  if (port_tty_set_baud2(p->fd, baud) < 0) {
    port_err_set(err, errno == EIO ? "PORT_GONE" : "PORT_CONFIG",
                 "%s: cannot set %u baud: %s", p->path, (unsigned)baud, strerror(errno));
    return -1;
  }
  return 0;
}

static int no_lines_errno(int e) { return e == ENOTTY || e == EINVAL || e == ENOSYS; }

static int tty_set_lines(port_transport_t *t, int dtr, int rts, port_err_t *err) {
  tty_t *p = (tty_t *)t;
  if (!p->lines) return 0;
  int bits;
  if (ioctl(p->fd, TIOCMGET, &bits) == 0) {
    if (dtr >= 0) bits = dtr ? (bits | TIOCM_DTR) : (bits & ~TIOCM_DTR);
    if (rts >= 0) bits = rts ? (bits | TIOCM_RTS) : (bits & ~TIOCM_RTS);
    if (ioctl(p->fd, TIOCMSET, &bits) == 0) return 1;
  }
  if (no_lines_errno(errno)) {
    /* some drivers lack TIOCMGET/TIOCMSET but have TIOCMBIS/TIOCMBIC */
    int ok = 1;
    int d = TIOCM_DTR, r = TIOCM_RTS;
    if (dtr >= 0) ok = ok && ioctl(p->fd, dtr ? TIOCMBIS : TIOCMBIC, &d) == 0;
    if (rts >= 0) ok = ok && ioctl(p->fd, rts ? TIOCMBIS : TIOCMBIC, &r) == 0;
    if (ok) return 1;
    if (no_lines_errno(errno)) {
      p->lines = 0;
      return 0;
    }
  }
  int e = errno;
  port_err_set(err, e == EIO || e == ENXIO ? "PORT_GONE" : "PORT_IO",
               "%s: cannot set DTR/RTS: %s", p->path, strerror(e));
  return -1;
}

static int tty_has_lines(port_transport_t *t) { return ((tty_t *)t)->lines; }

static int tty_flush_input(port_transport_t *t, port_err_t *err) {
  tty_t *p = (tty_t *)t;
  if (tcflush(p->fd, TCIFLUSH) < 0) {
    port_err_set(err, errno == EIO ? "PORT_GONE" : "PORT_IO", "%s: cannot flush input: %s",
                 p->path, strerror(errno));
    return -1;
  }
  return 0;
}

static void tty_close(port_transport_t *t) {
  tty_t *p = (tty_t *)t;
  ioctl(p->fd, TIOCNXCL);
  close(p->fd);
  free(p);
}

static const port_ops_t tty_ops = {
  "serial", tty_read, tty_write, tty_set_baud, tty_set_lines, tty_has_lines,
  tty_flush_input, tty_close};

static void open_error(port_err_t *err, const char *path, int e) {
  if (e == EACCES || e == EPERM)
    port_err_set(err, "PORT_PERMISSION",
                 "permission denied opening %s: add your user to the dialout group "
                 "(sudo usermod -aG dialout $USER), then log in again", path);
  else if (e == ENOENT || e == ENODEV || e == ENXIO || e == ENOTDIR)
    port_err_set(err, "PORT_NOT_FOUND", "no such serial port %s: check the cable and "
                 "the name (espflash list-ports shows the ports found)", path);
  else if (e == EBUSY)
    port_err_set(err, "PORT_BUSY", "serial port %s is busy: close the program using it "
                 "(a serial monitor?) and try again", path);
  else if (e == ENOTTY)
    port_err_set(err, "PORT_NOT_FOUND", "%s is not a serial port", path);
  else
    port_err_set(err, "PORT_IO", "cannot open %s: %s", path, strerror(e));
}

/* Raw 8N1, no flow control, no modem-status dependence. */
static int configure_raw(int fd) {
  struct termios tio;
  if (tcgetattr(fd, &tio) < 0) return -1;
  cfmakeraw(&tio);
  tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY | INPCK | ISTRIP);
  tio.c_iflag |= IGNBRK;
  tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  tio.c_cc[VMIN] = 1; /* with O_NONBLOCK: EAGAIN when empty (MIN 0 would read 0, like EOF) */
  tio.c_cc[VTIME] = 0;
  return tcsetattr(fd, TCSANOW, &tio);
}

port_transport_t *port_tty_open(const char *path, uint32_t baud, port_err_t *err) {
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    open_error(err, path, errno);
    return NULL;
  }
  int fd = open(real, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    open_error(err, path, errno);
    return NULL;
  }
  if (!isatty(fd)) {
    close(fd);
    open_error(err, path, ENOTTY);
    return NULL;
  }
  ioctl(fd, TIOCEXCL); /* other opens now fail with EBUSY (root excepted) */
  tty_t *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    port_err_set(err, "PORT_IO", "out of memory opening %s", path);
    return NULL;
  }
  p->base.ops = &tty_ops;
  p->fd = fd;
  snprintf(p->path, sizeof p->path, "%s", path);
  int bits;
  p->lines = ioctl(fd, TIOCMGET, &bits) == 0;
  if (configure_raw(fd) < 0) {
    port_err_set(err, "PORT_CONFIG", "cannot configure %s: %s", path, strerror(errno));
    tty_close(&p->base);
    return NULL;
  }
  if (tty_set_baud(&p->base, baud, err) < 0) {
    tty_close(&p->base);
    return NULL;
  }
  tcflush(fd, TCIOFLUSH);
  return &p->base;
}
