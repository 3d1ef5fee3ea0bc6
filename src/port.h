/* port.h: the transport interface behind the espflash.Port userdata.
 *
 * A transport moves raw bytes: termios (port_tty.c), raw TCP (port_tcp.c) or
 * the in-process virtual device (port_sim.c). Buffering, SLIP decoding and
 * the command exchange live above it, in port.c and port_cmd.c. Every wait
 * ends at an absolute deadline on the core_now_us() clock, polls in slices of
 * at most PORT_SLICE_MS and fails with INTERRUPTED when espflash_interrupted
 * is set. */
#ifndef ESPFLASH_PORT_H
#define ESPFLASH_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "slip.h"

#define PORT_SLICE_MS 20
#define PORT_INBUF 65536

/* A failure: code is one of PORT_PERMISSION, PORT_NOT_FOUND, PORT_BUSY,
 * PORT_IO, PORT_GONE, PORT_CONFIG, TIMEOUT, INTERRUPTED. */
typedef struct {
  const char *code;
  char msg[384];
} port_err_t;

void port_err_set(port_err_t *e, const char *code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

typedef struct port_transport port_transport_t;

typedef struct {
  const char *kind; /* "serial", "socket", "sim" */
  /* Reads up to cap bytes, waiting until deadline_us for the first one.
   * Returns the count, 0 when the deadline passed, -1 on failure. */
  long (*read)(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
               port_err_t *err);
  /* Writes all n bytes before deadline_us. Returns 0 or -1. */
  int (*write)(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
               port_err_t *err);
  /* Returns 0 or -1. */
  int (*set_baud)(port_transport_t *t, uint32_t baud, port_err_t *err);
  /* dtr/rts: 1 assert, 0 release, -1 leave as is; both in one operation where
   * the transport allows. Returns 1 done, 0 no modem lines, -1 failure. */
  int (*set_lines)(port_transport_t *t, int dtr, int rts, port_err_t *err);
  int (*has_lines)(port_transport_t *t);
  /* Discards input already received by the OS / device model. 0 or -1. */
  int (*flush_input)(port_transport_t *t, port_err_t *err);
  void (*close)(port_transport_t *t);
} port_ops_t;

/* Backends embed this as their first member. */
struct port_transport {
  const port_ops_t *ops;
};

/* Backends; each returns NULL with err set on failure. */
port_transport_t *port_tty_open(const char *path, uint32_t baud, port_err_t *err);
port_transport_t *port_tcp_open(const char *host, const char *service, int timeout_ms,
                                port_err_t *err);
/* rfc2217://HOST:PORT[?options]; timeout_ms covers connecting and the Telnet negotiation. */
port_transport_t *port_rfc2217_open(const char *url, uint32_t baud, int timeout_ms,
                                    port_err_t *err);
struct sim;
port_transport_t *port_sim_open(struct sim *sim, uint32_t baud, port_err_t *err);
/* Points a sim transport at the model again (checked on every Port call, so
 * a Sim closed behind the Port's back raises rather than dangles). */
void port_sim_rebind(port_transport_t *t, struct sim *sim);

/* port_tty_baud.c (termios2, its own translation unit): sets any baud rate
 * with BOTHER. Returns 0 or -1 with errno set. */
int port_tty_set_baud2(int fd, uint32_t baud);

/* port_fd.c: poll()-based helpers shared by the tty and TCP backends.
 * port_fd_wait returns 1 ready, 0 deadline passed, -1 interrupted/failed. */
int port_fd_wait(int fd, short events, int64_t deadline_us, port_err_t *err);
long port_fd_read(int fd, uint8_t *buf, size_t cap, int64_t deadline_us, port_err_t *err,
                  const char *what);
int port_fd_write(int fd, const uint8_t *buf, size_t n, int64_t deadline_us,
                  port_err_t *err, const char *what, int sock);

/* The Port userdata (port.c). */
typedef struct {
  port_transport_t *t;      /* NULL when closed */
  int is_sim;               /* sim transport: the Sim userdata is uservalue 1 */
  char name[256];
  uint32_t baud;
  uint8_t *in;              /* raw bytes received but not yet consumed */
  size_t in_pos, in_len;
  uint8_t *out;             /* scratch for encoded frames */
  size_t out_cap;
  slip_decoder_t dec;
} port_t;

#define PORT_CLASS "espflash.Port"

port_t *port_check_open(lua_State *L, int idx);
/* Returns the bytes still buffered; reads more from the transport when the
 * buffer is empty. Result like the transport read. */
long port_fill(port_t *p, int64_t deadline_us, port_err_t *err);
/* Writes all n bytes, allowing at least the wire time of n bytes past deadline_us. */
int port_write_all(port_t *p, const uint8_t *s, size_t n, int64_t deadline_us,
                   port_err_t *err);
/* Ensures p->out holds at least n bytes; raises on memory exhaustion. */
uint8_t *port_scratch(lua_State *L, port_t *p, size_t n);
/* Pushes the fail triple for err; returns 3. */
int port_push_err(lua_State *L, const port_err_t *err);
/* Deadline from a timeout in ms (negative: effectively none). */
int64_t port_deadline(lua_Integer timeout_ms);

/* port_cmd.c: read_frame, write_frame, take_noise, command */
extern const luaL_Reg port_frame_methods[];
/* port_list.c: core.list_ports */
int port_list_ports(lua_State *L);

#endif
