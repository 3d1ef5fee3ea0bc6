/* port_rfc2217.c: the rfc2217://HOST:PORT[?options] transport, a Telnet
 * COM-PORT-OPTION client (RFC 854/856/858/2217) over the raw TCP transport,
 * for ser2net, esptool's esp_rfc2217_server and other serial servers.
 *
 * Open: negotiates BINARY both ways, SGA and COM-PORT-OPTION (44), then sends
 * SET-BAUDRATE, SET-DATASIZE 8, SET-PARITY none and SET-STOPSIZE 1. DTR/RTS
 * go out as SET-CONTROL, flush_input as PURGE-DATA (receive buffer).
 * Data: 0xFF is sent as IAC IAC; received Telnet commands and subnegotiations
 * are stripped by a byte-at-a-time state machine, so commands split across
 * reads are fine and the SLIP decoder above sees only payload bytes.
 * Acknowledgements: each command waits at most `timeout` ms (default 150)
 * for the server's reply. Servers that never answer SET-CONTROL or PURGE-DATA
 * (ser2net on a pty: the modem-line ioctls fail) cost that once: after the
 * first missing reply the transport stops waiting for that command.
 * Payload bytes that arrive while waiting are kept for the next read.
 *
 * URL options, '&'-separated: timeout=MS (0..10000; 0 = never wait for
 * replies) and ign_set_control (never wait for SET-CONTROL replies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

enum { SE = 240, SB = 250, WILL = 251, WONT = 252, DO = 253, DONT = 254, IAC = 255 };
enum { OPT_BINARY = 0, OPT_ECHO = 1, OPT_SGA = 3, OPT_COMPORT = 44 };
enum { CPO_SET_BAUDRATE = 1, CPO_SET_DATASIZE = 2, CPO_SET_PARITY = 3, CPO_SET_STOPSIZE = 4,
       CPO_SET_CONTROL = 5, CPO_PURGE_DATA = 12, CPO_COUNT = 13, CPO_REPLY = 100 };
enum { CTL_DTR_ON = 8, CTL_DTR_OFF = 9, CTL_RTS_ON = 11, CTL_RTS_OFF = 12 };
enum { PARITY_NONE = 1, STOPSIZE_1 = 1, PURGE_RX = 1 };
/* Telnet parser states */
enum { S_DATA, S_IAC, S_VERB, S_SB_OPT, S_SB, S_SB_IAC };
/* per-option negotiation state (RFC 1143, simplified) */
enum { Q_NO, Q_YES, Q_WANT };

#define DEFAULT_ACK_MS 150
#define SB_MAX 64
#define PEND_MAX (256u * 1024u) /* payload kept while waiting for a reply */

typedef struct {
  port_transport_t base;
  port_transport_t *tcp;
  char name[300], tcp_name[300];
  int ack_ms, ign_control;
  int control_silent, purge_silent; /* the server did not answer once: stop waiting */
  int purging;                      /* payload before the PURGE-DATA reply is stale */
  /* Telnet state */
  int state, verb, sb_opt;
  uint8_t sb[SB_MAX];
  size_t sb_len;
  uint8_t us[256], him[256];      /* our / their side of each option: Q_* */
  uint8_t refused_us[256], refused_him[256];
  uint8_t tx[256];                /* negotiation replies to send */
  size_t tx_len;
  /* COM-PORT-OPTION replies from the server, per client command */
  uint32_t replies[CPO_COUNT];
  uint32_t reply_value[CPO_COUNT];
  /* payload received while waiting for a reply */
  uint8_t *pend;
  size_t pend_len, pend_cap;
  uint8_t *wbuf;                  /* escaped outgoing data */
  size_t wcap;
} rfc_t;

/* The TCP transport names itself socket://HOST:PORT in its messages. */
static void own_name(const rfc_t *r, port_err_t *err) {
  char *s = strstr(err->msg, r->tcp_name);
  if (!s) return;
  char tail[sizeof err->msg];
  snprintf(tail, sizeof tail, "%s", s + strlen(r->tcp_name));
  snprintf(s, sizeof err->msg - (size_t)(s - err->msg), "%s%s", r->name, tail);
}

static long tcp_read(rfc_t *r, uint8_t *buf, size_t cap, int64_t deadline_us, port_err_t *err) {
  long n = r->tcp->ops->read(r->tcp, buf, cap, deadline_us, err);
  if (n < 0) own_name(r, err);
  return n;
}

static int tcp_write(rfc_t *r, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  int rc = r->tcp->ops->write(r->tcp, buf, n, deadline_us, err);
  if (rc < 0) own_name(r, err);
  return rc;
}

static void queue(rfc_t *r, const uint8_t *b, size_t n) {
  if (r->tx_len + n <= sizeof r->tx) {
    memcpy(r->tx + r->tx_len, b, n);
    r->tx_len += n;
  }
}

static void queue_verb(rfc_t *r, int verb, int opt) {
  uint8_t b[3] = {IAC, (uint8_t)verb, (uint8_t)opt};
  queue(r, b, 3);
}

static int send_raw(rfc_t *r, const uint8_t *b, size_t n, port_err_t *err) {
  return tcp_write(r, b, n, core_now_us() + 2000000, err);
}

static int flush_tx(rfc_t *r, port_err_t *err) {
  if (!r->tx_len) return 0;
  size_t n = r->tx_len;
  r->tx_len = 0;
  return send_raw(r, r->tx, n, err);
}

static int we_support(int opt) { return opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COMPORT; }
static int they_support(int opt) { return we_support(opt) || opt == OPT_ECHO; }

/* WILL/WONT/DO/DONT from the server. */
static void negotiate(rfc_t *r, int verb, int opt) {
  int ours = verb == DO || verb == DONT;
  int yes = verb == DO || verb == WILL;
  uint8_t *q = ours ? r->us : r->him;
  uint8_t *refused = ours ? r->refused_us : r->refused_him;
  int agree = ours ? WILL : DO, decline = ours ? WONT : DONT;
  if (yes) {
    if (!(ours ? we_support(opt) : they_support(opt))) {
      queue_verb(r, decline, opt);
    } else if (q[opt] == Q_NO) {
      q[opt] = Q_YES;
      queue_verb(r, agree, opt);
    } else {
      q[opt] = Q_YES; /* Q_WANT: our request accepted */
    }
  } else {
    if (q[opt] == Q_YES) queue_verb(r, decline, opt);
    if (q[opt] == Q_WANT) refused[opt] = 1;
    q[opt] = Q_NO;
  }
}

static uint32_t be_value(const uint8_t *b, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n && i < 4; i++) v = v << 8 | b[i];
  return v;
}

/* A complete subnegotiation from the server; returns 1 for the awaited
 * PURGE-DATA reply. */
static int subnegotiation(rfc_t *r) {
  if (r->sb_opt != OPT_COMPORT || r->sb_len < 1) return 0;
  int cmd = r->sb[0];
  const uint8_t *v = r->sb + 1;
  size_t vn = r->sb_len - 1;
  if (cmd >= CPO_REPLY && cmd < CPO_REPLY + CPO_COUNT) {
    r->replies[cmd - CPO_REPLY]++;
    r->reply_value[cmd - CPO_REPLY] = be_value(v, vn);
  }
  if (cmd == CPO_REPLY + CPO_PURGE_DATA && r->purging) {
    r->purging = 0;
    return 1;
  }
  return 0;
}

/* Strips Telnet commands from n received bytes in place, acting on them;
 * returns the payload length left at the front of buf. */
static size_t parse(rfc_t *r, uint8_t *buf, size_t n) {
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = buf[i];
    switch (r->state) {
    case S_DATA:
      if (c == IAC) r->state = S_IAC;
      else buf[out++] = c;
      break;
    case S_IAC:
      r->state = S_DATA;
      if (c == IAC) {
        buf[out++] = c;
      } else if (c >= WILL) {
        r->verb = c;
        r->state = S_VERB;
      } else if (c == SB) {
        r->state = S_SB_OPT;
      } /* NOP, GA, DM, BRK, a stray SE, ...: nothing to do */
      break;
    case S_VERB:
      negotiate(r, r->verb, c);
      r->state = S_DATA;
      break;
    case S_SB_OPT:
      r->sb_opt = c;
      r->sb_len = 0;
      r->state = S_SB;
      break;
    case S_SB:
      if (c == IAC) r->state = S_SB_IAC;
      else if (r->sb_len < SB_MAX) r->sb[r->sb_len++] = c;
      break;
    case S_SB_IAC:
      if (c == IAC) {
        if (r->sb_len < SB_MAX) r->sb[r->sb_len++] = c;
        r->state = S_SB;
      } else {
        /* SE, or a command that ends a malformed subnegotiation */
        if (subnegotiation(r)) out = 0; /* the purge reply: what came before is stale */
        r->state = S_DATA;
        if (c != SE) {
          r->state = S_IAC;
          i--;
        }
      }
      break;
    }
  }
  return out;
}

static int keep_payload(rfc_t *r, const uint8_t *b, size_t n, port_err_t *err) {
  if (!n) return 0;
  if (r->pend_len + n > r->pend_cap) {
    size_t cap = r->pend_cap ? r->pend_cap : 4096;
    while (cap < r->pend_len + n) cap *= 2;
    uint8_t *p = realloc(r->pend, cap);
    if (!p) {
      port_err_set(err, "PORT_IO", "%s: out of memory", r->name);
      return -1;
    }
    r->pend = p;
    r->pend_cap = cap;
  }
  memcpy(r->pend + r->pend_len, b, n);
  r->pend_len += n;
  return 0;
}

/* Reads once (waiting until deadline_us), handles Telnet commands and keeps
 * the payload. Returns 1 read something, 0 deadline passed, -1 failure. */
static int pump(rfc_t *r, int64_t deadline_us, port_err_t *err) {
  uint8_t buf[4096];
  if (espflash_interrupted) {
    port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
    return -1;
  }
  long n = tcp_read(r, buf, sizeof buf, deadline_us, err);
  if (n <= 0) return (int)n;
  size_t k = parse(r, buf, (size_t)n);
  if (r->purging) k = 0; /* no purge reply yet: all of it is stale */
  if (flush_tx(r, err) < 0 || keep_payload(r, buf, k, err) < 0) return -1;
  return 1;
}

/* Waits until the server has sent `target` replies to cmd. Returns 1, 0 when
 * the deadline passed (or too much payload piled up meanwhile), -1 failure. */
static int wait_replies(rfc_t *r, int cmd, uint32_t target, int64_t deadline_us,
                        port_err_t *err) {
  while (r->replies[cmd] < target) {
    if (r->pend_len >= PEND_MAX) return 0;
    int rc = pump(r, deadline_us, err);
    if (rc <= 0) return rc;
  }
  return 1;
}

/* Sends IAC SB COM-PORT-OPTION cmd value IAC SE, escaping 0xFF in the value. */
static int send_cpo(rfc_t *r, int cmd, uint32_t value, size_t vlen, port_err_t *err) {
  uint8_t b[16];
  size_t n = 0;
  b[n++] = IAC, b[n++] = SB, b[n++] = OPT_COMPORT, b[n++] = (uint8_t)cmd;
  for (size_t i = vlen; i-- > 0;) {
    b[n++] = (uint8_t)(value >> (8 * i));
    if (b[n - 1] == IAC) b[n++] = IAC;
  }
  b[n++] = IAC, b[n++] = SE;
  return send_raw(r, b, n, err);
}

static int64_t ack_deadline(rfc_t *r) { return core_now_us() + (int64_t)r->ack_ms * 1000; }

/* Sends a command and waits for its reply; a reply value other than the one
 * asked for is a PORT_CONFIG failure (0 = "not reported"). */
static int set_param(rfc_t *r, int cmd, uint32_t value, size_t vlen, const char *what,
                     port_err_t *err) {
  uint32_t target = r->replies[cmd] + 1;
  if (send_cpo(r, cmd, value, vlen, err) < 0) return -1;
  int rc = r->ack_ms ? wait_replies(r, cmd, target, ack_deadline(r), err) : 0;
  if (rc < 0) return -1;
  uint32_t got = r->reply_value[cmd];
  if (rc == 1 && got != 0 && got != value) {
    port_err_set(err, "PORT_CONFIG", "%s: the server set %s %u instead of %u", r->name, what,
                 (unsigned)got, (unsigned)value);
    return -1;
  }
  return 0;
}

static long rfc_read(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
                     port_err_t *err) {
  rfc_t *r = (rfc_t *)t;
  if (r->pend_len) {
    size_t n = r->pend_len < cap ? r->pend_len : cap;
    memcpy(buf, r->pend, n);
    memmove(r->pend, r->pend + n, r->pend_len - n);
    r->pend_len -= n;
    return (long)n;
  }
  for (;;) {
    long n = tcp_read(r, buf, cap, deadline_us, err);
    if (n <= 0) return n;
    size_t k = parse(r, buf, (size_t)n); /* in place: payload only shrinks */
    if (flush_tx(r, err) < 0) return -1;
    if (k) return (long)k;
    if (espflash_interrupted) {
      port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
      return -1;
    }
  }
}

static int rfc_write(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  rfc_t *r = (rfc_t *)t;
  if (2 * n > r->wcap) {
    uint8_t *w = realloc(r->wbuf, 2 * n);
    if (!w) {
      port_err_set(err, "PORT_IO", "%s: out of memory writing %zu bytes", r->name, n);
      return -1;
    }
    r->wbuf = w;
    r->wcap = 2 * n;
  }
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    r->wbuf[len++] = buf[i];
    if (buf[i] == IAC) r->wbuf[len++] = IAC;
  }
  return tcp_write(r, r->wbuf, len, deadline_us, err);
}

static int rfc_set_baud(port_transport_t *t, uint32_t baud, port_err_t *err) {
  return set_param((rfc_t *)t, CPO_SET_BAUDRATE, baud, 4, "baud rate", err);
}

/* SET-CONTROL for DTR then RTS, in one write; waits for both replies unless
 * the server has been silent before. Always "done": whether the far side can
 * move the lines is its business (ser2net on a pty cannot). */
static int rfc_set_lines(port_transport_t *t, int dtr, int rts, port_err_t *err) {
  rfc_t *r = (rfc_t *)t;
  uint8_t b[14];
  size_t n = 0;
  uint32_t target = r->replies[CPO_SET_CONTROL];
  int vals[2] = {dtr < 0 ? -1 : dtr ? CTL_DTR_ON : CTL_DTR_OFF,
                 rts < 0 ? -1 : rts ? CTL_RTS_ON : CTL_RTS_OFF};
  for (int i = 0; i < 2; i++) {
    if (vals[i] < 0) continue;
    uint8_t c[7] = {IAC, SB, OPT_COMPORT, CPO_SET_CONTROL, (uint8_t)vals[i], IAC, SE};
    memcpy(b + n, c, sizeof c);
    n += sizeof c;
    target++;
  }
  if (!n) return 1;
  if (send_raw(r, b, n, err) < 0) return -1;
  if (r->ign_control || r->control_silent || !r->ack_ms) return 1;
  int rc = wait_replies(r, CPO_SET_CONTROL, target, ack_deadline(r), err);
  if (rc < 0) return -1;
  if (rc == 0) r->control_silent = 1;
  return 1;
}

static int rfc_has_lines(port_transport_t *t) {
  (void)t;
  return 1;
}

/* Drops kept payload, asks the server to purge its receive buffer and
 * discards everything that arrives up to its reply, or, when it does not
 * reply, what is here already. */
static int rfc_flush_input(port_transport_t *t, port_err_t *err) {
  rfc_t *r = (rfc_t *)t;
  uint32_t target = r->replies[CPO_PURGE_DATA] + 1;
  r->pend_len = 0;
  if (send_cpo(r, CPO_PURGE_DATA, PURGE_RX, 1, err) < 0) return -1;
  int rc;
  if (!r->purge_silent && r->ack_ms) {
    r->purging = 1;
    rc = wait_replies(r, CPO_PURGE_DATA, target, ack_deadline(r), err);
    r->purging = 0;
    if (rc != 0) return rc < 0 ? -1 : 0; /* kept: only what followed the reply */
    r->purge_silent = 1;
  }
  do {
    r->pend_len = 0;
    rc = pump(r, core_now_us(), err);
  } while (rc > 0);
  r->pend_len = 0;
  return rc < 0 ? -1 : 0;
}

static void rfc_close(port_transport_t *t) {
  rfc_t *r = (rfc_t *)t;
  if (r->tcp) r->tcp->ops->close(r->tcp);
  free(r->pend);
  free(r->wbuf);
  free(r);
}

static const port_ops_t rfc_ops = {
  "rfc2217", rfc_read, rfc_write, rfc_set_baud, rfc_set_lines, rfc_has_lines,
  rfc_flush_input, rfc_close};

/* Parses "HOST:PORT[?opts]" into host and service and applies the options. */
static int parse_url(rfc_t *r, const char *rest, char *host, size_t hcap, char *serv,
                     size_t scap, port_err_t *err) {
  const char *q = strchr(rest, '?');
  size_t len = q ? (size_t)(q - rest) : strlen(rest);
  const char *colon = memrchr(rest, ':', len);
  size_t hl = colon ? (size_t)(colon - rest) : 0, sl = colon ? len - hl - 1 : 0;
  if (!colon || !hl || !sl || hl >= hcap || sl >= scap) {
    port_err_set(err, "PORT_NOT_FOUND", "bad URL %s: expected rfc2217://HOST:PORT[?options]",
                 r->name);
    return -1;
  }
  if (rest[0] == '[' && hl >= 2 && rest[hl - 1] == ']') rest++, hl -= 2; /* [::1]:port */
  memcpy(host, rest, hl);
  host[hl] = 0;
  memcpy(serv, colon + 1, sl);
  serv[sl] = 0;
  for (const char *o = q ? q + 1 : NULL; o && *o;) {
    const char *end = strchr(o, '&');
    size_t ol = end ? (size_t)(end - o) : strlen(o);
    char val[16];
    if (ol == 15 && strncmp(o, "ign_set_control", 15) == 0) {
      r->ign_control = 1;
    } else if (ol > 8 && ol < 8 + sizeof val && strncmp(o, "timeout=", 8) == 0) {
      memcpy(val, o + 8, ol - 8);
      val[ol - 8] = 0;
      char *e;
      long ms = strtol(val, &e, 10);
      if (*e || ms < 0 || ms > 10000) {
        port_err_set(err, "PORT_CONFIG", "bad timeout '%s' in %s: give milliseconds, "
                     "0 to 10000", val, r->name);
        return -1;
      }
      r->ack_ms = (int)ms;
    } else if (ol) {
      port_err_set(err, "PORT_CONFIG", "unknown option '%.*s' in %s: supported are "
                   "timeout=MS and ign_set_control", (int)ol, o, r->name);
      return -1;
    }
    o = end ? end + 1 : NULL;
  }
  return 0;
}

static int negotiated(const rfc_t *r) {
  return r->us[OPT_COMPORT] != Q_WANT && r->us[OPT_BINARY] != Q_WANT &&
         r->him[OPT_BINARY] != Q_WANT;
}

/* Telnet option negotiation, then the serial parameters. */
static int handshake(rfc_t *r, uint32_t baud, int64_t deadline_us, port_err_t *err) {
  static const uint8_t hello[] = {IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY, IAC, WILL, OPT_SGA,
                                  IAC, DO, OPT_SGA, IAC, WILL, OPT_COMPORT};
  r->us[OPT_BINARY] = r->him[OPT_BINARY] = r->us[OPT_SGA] = r->him[OPT_SGA] = Q_WANT;
  r->us[OPT_COMPORT] = Q_WANT;
  if (send_raw(r, hello, sizeof hello, err) < 0) return -1;
  while (!negotiated(r)) {
    int rc = pump(r, deadline_us, err);
    if (rc < 0) return -1;
    if (rc == 0) {
      port_err_set(err, "TIMEOUT", "%s: no RFC 2217 negotiation from the server: is it a raw "
                   "TCP port? Use socket://HOST:PORT for those", r->name);
      return -1;
    }
  }
  if (r->refused_us[OPT_COMPORT]) {
    port_err_set(err, "PORT_CONFIG", "%s: the server refused the COM-PORT option (RFC 2217): "
                 "it is a plain Telnet server; use socket://HOST:PORT for raw TCP", r->name);
    return -1;
  }
  if (r->refused_us[OPT_BINARY] || r->refused_him[OPT_BINARY]) {
    port_err_set(err, "PORT_CONFIG", "%s: the server refused Telnet BINARY mode, which "
                 "8-bit data needs", r->name);
    return -1;
  }
  if (set_param(r, CPO_SET_BAUDRATE, baud, 4, "baud rate", err) < 0 ||
      set_param(r, CPO_SET_DATASIZE, 8, 1, "data size", err) < 0 ||
      set_param(r, CPO_SET_PARITY, PARITY_NONE, 1, "parity", err) < 0 ||
      set_param(r, CPO_SET_STOPSIZE, STOPSIZE_1, 1, "stop size", err) < 0)
    return -1;
  return 0;
}

/* A server that drops the connection while we open it may have said why
 * (ser2net: "Port's device already in use"): adds that text to err. */
static void server_said(const rfc_t *r, port_err_t *err) {
  char text[128];
  size_t n = 0;
  for (size_t i = 0; i < r->pend_len && n + 1 < sizeof text; i++) {
    uint8_t c = r->pend[i];
    if (c >= 0x20 && c < 0x7f) text[n++] = (char)c;
    else if (n && text[n - 1] != ' ') text[n++] = ' ';
  }
  while (n && text[n - 1] == ' ') n--;
  text[n] = 0;
  size_t len = strlen(err->msg);
  if (n && len < sizeof err->msg)
    snprintf(err->msg + len, sizeof err->msg - len, "; the server said: %s", text);
}

port_transport_t *port_rfc2217_open(const char *url, uint32_t baud, int timeout_ms,
                                    port_err_t *err) {
  rfc_t *r = calloc(1, sizeof *r);
  if (!r) {
    port_err_set(err, "PORT_IO", "out of memory opening %s", url);
    return NULL;
  }
  r->base.ops = &rfc_ops;
  r->ack_ms = DEFAULT_ACK_MS;
  snprintf(r->name, sizeof r->name, "%s", url);
  char host[256], serv[32];
  int64_t deadline = core_now_us() + (int64_t)timeout_ms * 1000;
  const char *rest = strncmp(url, "rfc2217://", 10) == 0 ? url + 10 : url;
  if (parse_url(r, rest, host, sizeof host, serv, sizeof serv, err) < 0) {
    rfc_close(&r->base);
    return NULL;
  }
  snprintf(r->tcp_name, sizeof r->tcp_name, "socket://%s:%s", host, serv);
  if (!(r->tcp = port_tcp_open(host, serv, timeout_ms, err)) ||
      handshake(r, baud, deadline, err) < 0) {
    own_name(r, err);
    if (strcmp(err->code, "PORT_GONE") == 0) server_said(r, err);
    rfc_close(&r->base);
    return NULL;
  }
  return &r->base;
}
