/* link.c: the UART between host and device.
 *
 * Both directions are queues of bytes stamped with the time they arrive and
 * the baud they were sent at. With link emulation a byte takes 10 bit times
 * at the sender's baud, after the previous byte; each burst of device output
 * (everything produced while handling one event) also waits latency_us.
 * Without it every byte arrives at once.
 *
 * Baud mismatch: when the host's baud differs from the device's by more than
 * 2.5 %, the device discards the host's bytes and the host reads garbage
 * instead of each device byte (same count, never 0xC0, so no frame ever
 * parses). A baud of 0 means unknown (TCP, pty clients) and matches anything. */
#include "sim/sim_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

void sim_queue_free(sim_queue_t *q) {
  free(q->v);
  q->v = NULL;
  q->head = q->len = q->cap = 0;
}

static int queue_push(sim_queue_t *q, int64_t t, uint32_t baud, uint8_t b) {
  if (q->head + q->len == q->cap) {
    if (q->head > 0 && q->head >= q->cap / 2) {
      memmove(q->v, q->v + q->head, q->len * sizeof *q->v);
      q->head = 0;
    } else {
      size_t cap = q->cap ? q->cap * 2 : 256;
      sim_byte_t *v = realloc(q->v, cap * sizeof *v);
      if (!v) return -1;
      q->v = v;
      q->cap = cap;
    }
  }
  sim_byte_t *e = &q->v[q->head + q->len++];
  e->t = t;
  e->baud = baud;
  e->b = b;
  return 0;
}

int sim_baud_match(uint32_t a, uint32_t b) {
  if (a == 0 || b == 0) return 1;
  uint32_t d = a > b ? a - b : b - a;
  return (uint64_t)d * 40 <= b;
}

static double byte_us(uint32_t baud) {
  return baud ? 10e6 / (double)baud : 10e6 / (double)SIM_ROM_BAUD;
}

/* Queues device output sent at the current event time s->t. */
void sim_out_raw(sim_t *s, const uint8_t *d, size_t n) {
  if (n == 0) return;
  double t = (double)s->t;
  if (s->link) {
    if (!s->burst_open) t += s->latency_us;
    if (t < s->out_last) t = s->out_last;
  }
  s->burst_open = 1;
  double bt = byte_us(s->dev_baud);
  for (size_t i = 0; i < n; i++) {
    if (s->link) t += bt;
    if (queue_push(&s->out, (int64_t)ceil(t), s->dev_baud, d[i]) < 0) return;
  }
  if (s->link) s->out_last = t;
}

/* One SLIP frame of device output: counted as a reply for the fault options. */
void sim_out_frame(sim_t *s, const uint8_t *payload, size_t n) {
  long idx = s->n_replies++;
  int hit = idx == s->fault_at;
  if (hit && s->fault_kind == SIM_FAULT_STALL) s->stalled = 1;
  if (s->stalled) return;
  size_t cap = 2 * n + 2;
  uint8_t stackbuf[256];
  uint8_t *enc = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
  if (!enc) return;
  size_t k = 0;
  enc[k++] = 0xC0;
  size_t flip_at = n / 2;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = payload[i];
    if (hit && s->fault_kind == SIM_FAULT_FLIP && i == flip_at) b ^= 0x01;
    if (b == 0xC0) {
      enc[k++] = 0xDB;
      enc[k++] = 0xDC;
    } else if (b == 0xDB) {
      enc[k++] = 0xDB;
      enc[k++] = 0xDD;
    } else {
      enc[k++] = b;
    }
  }
  enc[k++] = 0xC0;
  if (hit && s->fault_kind == SIM_FAULT_DROP && k > 2) {
    size_t at = k / 2;   /* never a delimiter */
    memmove(enc + at, enc + at + 1, k - at - 1);
    k--;
  }
  sim_out_raw(s, enc, k);
  if (enc != stackbuf) free(enc);
}

/* EN fell at `now`: bytes still in the device's transmitter are lost. */
void sim_out_drop_pending(sim_t *s, int64_t now) {
  while (s->out.len && s->out.v[s->out.head + s->out.len - 1].t > now) s->out.len--;
  if (s->out.len == 0) s->out.head = 0;
  if (s->out_last > (double)now) s->out_last = (double)now;
}

void sim_host_write(sim_t *s, const uint8_t *data, size_t n) {
  int64_t now = core_now_us();
  sim_advance(s, now);
  double t = (double)now;
  if (s->link && t < s->in_last) t = s->in_last;
  double bt = byte_us(s->host_baud ? s->host_baud : s->dev_baud);
  for (size_t i = 0; i < n; i++) {
    if (s->link) t += bt;
    if (queue_push(&s->in, (int64_t)ceil(t), s->host_baud, data[i]) < 0) break;
  }
  if (s->link) s->in_last = t;
  sim_advance(s, now);
}

static uint8_t garble(uint8_t b) {
  uint8_t g = (uint8_t)(b * 0x9D + 0x37);
  return g == 0xC0 ? 0xFE : g;
}

size_t sim_host_read(sim_t *s, uint8_t *buf, size_t cap) {
  int64_t now = core_now_us();
  sim_advance(s, now);
  size_t k = 0;
  while (k < cap && s->out.len && s->out.v[s->out.head].t <= now) {
    sim_byte_t *e = &s->out.v[s->out.head++];
    s->out.len--;
    buf[k++] = sim_baud_match(e->baud, s->host_baud) ? e->b : garble(e->b);
  }
  if (s->out.len == 0) s->out.head = 0;
  return k;
}

int64_t sim_wait_hint_us(sim_t *s) {
  int64_t now = core_now_us();
  sim_advance(s, now);
  int64_t next = INT64_MAX;
  if (s->out.len) next = s->out.v[s->out.head].t;
  if (s->in.len && s->in.v[s->in.head].t < next) next = s->in.v[s->in.head].t;
  if (s->sample_at && s->sample_at < next) next = s->sample_at;
  if (next == INT64_MAX) return -1;
  return next > now ? next - now : 0;
}

void sim_set_host_baud(sim_t *s, uint32_t baud) {
  sim_advance(s, core_now_us());
  s->host_baud = baud;
}
