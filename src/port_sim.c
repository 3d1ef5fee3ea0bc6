/* port_sim.c: the sim:// transport, an in-process virtual device (src/sim/).
 * Reads sleep exactly until the device's next bytes are due (sim_wait_hint_us),
 * in slices of at most PORT_SLICE_MS so Ctrl-C stays responsive. The Port
 * keeps the Sim userdata referenced (uservalue 1) while it is open. */
#include <stdlib.h>
#include <time.h>

#include "port.h"
#include "sim/sim.h"

typedef struct {
  port_transport_t base;
  sim_t *sim;
  int dtr, rts;   /* levels last driven */
} simport_t;

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static long sim_read(port_transport_t *t, uint8_t *buf, size_t cap, int64_t deadline_us,
                     port_err_t *err) {
  sim_t *s = ((simport_t *)t)->sim;
  for (;;) {
    size_t n = sim_host_read(s, buf, cap);
    if (n > 0) return (long)n;
    if (espflash_interrupted) {
      port_err_set(err, "INTERRUPTED", "interrupted by Ctrl-C");
      return -1;
    }
    int64_t left = deadline_us - core_now_us();
    if (left <= 0) return 0;
    int64_t hint = sim_wait_hint_us(s), wait = left;
    if (hint >= 0 && hint < wait) wait = hint;
    if (wait < 20) wait = 20; /* the hint said "now" yet nothing came: yield briefly */
    if (wait > PORT_SLICE_MS * 1000) wait = PORT_SLICE_MS * 1000;
    sleep_us(wait);
  }
}

static int sim_write(port_transport_t *t, const uint8_t *buf, size_t n, int64_t deadline_us,
                     port_err_t *err) {
  (void)deadline_us, (void)err;
  sim_host_write(((simport_t *)t)->sim, buf, n);
  return 0;
}

static int sim_set_baud(port_transport_t *t, uint32_t baud, port_err_t *err) {
  (void)err;
  sim_set_host_baud(((simport_t *)t)->sim, baud);
  return 0;
}

/* The model takes both lines at once; a line left as is (-1) keeps the level
 * last driven (both start released). */
static int sim_lines(port_transport_t *t, int dtr, int rts, port_err_t *err) {
  simport_t *p = (simport_t *)t;
  (void)err;
  if (dtr >= 0) p->dtr = dtr;
  if (rts >= 0) p->rts = rts;
  sim_set_lines(p->sim, p->dtr, p->rts);
  return 1;
}

static int sim_has_lines(port_transport_t *t) {
  (void)t;
  return 1;
}

static int sim_flush_input(port_transport_t *t, port_err_t *err) {
  (void)err;
  uint8_t buf[4096];
  while (sim_host_read(((simport_t *)t)->sim, buf, sizeof buf) > 0) {
  }
  return 0;
}

static void sim_close(port_transport_t *t) { free(t); }

static const port_ops_t sim_ops = {
  "sim", sim_read, sim_write, sim_set_baud, sim_lines, sim_has_lines,
  sim_flush_input, sim_close};

void port_sim_rebind(port_transport_t *t, struct sim *sim) { ((simport_t *)t)->sim = sim; }

port_transport_t *port_sim_open(struct sim *sim, uint32_t baud, port_err_t *err) {
  simport_t *p = calloc(1, sizeof *p);
  if (!p) {
    port_err_set(err, "PORT_IO", "out of memory opening the virtual device");
    return NULL;
  }
  p->base.ops = &sim_ops;
  p->sim = sim;
  sim_set_host_baud(sim, baud);
  return &p->base;
}
