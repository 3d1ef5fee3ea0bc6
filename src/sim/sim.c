/* sim.c: the virtual device's lifecycle, clock, modem lines and boot.
 *
 * The model only moves when the host calls in: every entry point first runs
 * sim_advance(now), which processes the pending events (host bytes that have
 * arrived, the IO0 sample after EN rose) in time order. */
#include "sim/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static char *dup_str(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void sim_set_dev_baud(sim_t *s, uint32_t baud) {
  if (baud == 0) return;
  s->dev_baud = baud;
}

/* Drops every bit of protocol state: what an EN low pulse does. */
static void power_off(sim_t *s) {
  sim_session_clear(s);
  sim_rx_reset(s);
  s->state = SIM_OFF;
  s->presync = 1;
  s->last_op = 0;
  s->last_value = 0;
  s->nmem_regions = 0;
  s->deferred = 0;
  s->stalled = 0;
  s->dev_baud = SIM_ROM_BAUD;
  s->cfg_flash_size = s->flash.size;
  sim_regs_reset(s);
}

/* Powered and strapped: print the banner and enter the loader or the app. */
static void boot(sim_t *s, int download) {
  if (download) {
    sim_out_raw(s, (const uint8_t *)s->p.banner_download, strlen(s->p.banner_download));
    sim_rom_enter(s);
  } else {
    sim_out_raw(s, (const uint8_t *)s->p.banner_boot, strlen(s->p.banner_boot));
    sim_go_running(s);
  }
}

void sim_reboot(sim_t *s, int download) {
  power_off(s);
  s->sample_at = 0;
  s->burst_open = 0;
  boot(s, download);
}

void sim_go_running(sim_t *s) {
  sim_session_clear(s);
  s->state = SIM_RUNNING;
  if (s->app_output && *s->app_output)
    sim_out_raw(s, (const uint8_t *)s->app_output, strlen(s->app_output));
}

void sim_start_stub(sim_t *s) {
  static const uint8_t ohai[4] = {'O', 'H', 'A', 'I'};
  sim_session_clear(s);
  sim_rx_reset(s);
  s->state = SIM_STUB;
  s->deferred = 0;
  /* The stub reprograms the UART divider for the current baud from the real clock. */
  sim_update_clkdiv(s, sim_div16_for(s->p.xtal_mhz * 1000000u, s->dev_baud));
  s->burst_open = 0;   /* OHAI is its own burst, after the MEM_END reply */
  sim_out_frame(s, ohai, sizeof ohai);
}

int sim_fault_command(sim_t *s) {
  long idx = s->n_cmds++;
  if (idx != s->fault_at) return 0;
  if (s->fault_kind == SIM_FAULT_RESET || s->fault_kind == SIM_FAULT_REFUSE)
    return s->fault_kind;
  return 0;
}

void sim_advance(sim_t *s, int64_t now) {
  for (;;) {
    int64_t tin = s->in.len ? s->in.v[s->in.head].t : INT64_MAX;
    int64_t ts = s->sample_at ? s->sample_at : INT64_MAX;
    int64_t next = tin < ts ? tin : ts;
    if (next > now || next == INT64_MAX) break;
    if (next > s->t) s->t = next;
    s->burst_open = 0;
    if (ts <= tin) {
      s->sample_at = 0;
      boot(s, s->latch_download || !s->io0);
    } else {
      sim_byte_t b = s->in.v[s->in.head++];
      if (--s->in.len == 0) s->in.head = 0;
      if (s->state == SIM_ROM || s->state == SIM_STUB) sim_rx_byte(s, b.b, b.baud);
    }
  }
  if (now > s->t) s->t = now;
}

sim_t *sim_create(const sim_profile_t *p, const sim_options_t *o, char *err, size_t errlen) {
  sim_t *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->p = *p;
  s->p.name[sizeof s->p.name - 1] = 0;
  s->p.banner_download[sizeof s->p.banner_download - 1] = 0;
  s->p.banner_boot[sizeof s->p.banner_boot - 1] = 0;
  if (s->p.nregs < 0 || s->p.nregs > SIM_MAX_REGS) s->p.nregs = 0;
  if (s->p.nstub_entries < 0 || s->p.nstub_entries > SIM_MAX_STUBS) s->p.nstub_entries = 0;
  if (s->p.xtal_mhz == 0) s->p.xtal_mhz = 40;
  s->flash.fd = -1;
  s->flash_path = dup_str(o->flash_path);
  s->app_output = dup_str(o->app_output);
  s->secure = o->secure_download != 0;
  s->link = o->link_emulation != 0;
  s->latency_us = o->latency_us > 0 ? o->latency_us : 0;
  s->fault_kind = o->fault_kind;
  s->fault_at = o->fault_at >= 0 ? o->fault_at : 0;
  s->host_baud = SIM_ROM_BAUD;
  s->dev_baud = SIM_ROM_BAUD;
  s->t = core_now_us();
  s->in_last = s->out_last = (double)s->t;
  uint32_t size = o->flash_size ? o->flash_size : sim_jedec_size(p->jedec_id);
  if ((o->flash_path && !s->flash_path) || (o->app_output && !s->app_output) ||
      sim_rx_init(s) < 0) {
    snprintf(err, errlen, "out of memory");
    sim_destroy(s);
    return NULL;
  }
  if (size == 0 || size % SIM_SECTOR) {
    snprintf(err, errlen, "flash size %u is not a positive multiple of 4096", size);
    sim_destroy(s);
    return NULL;
  }
  if (sim_flash_open(&s->flash, s->flash_path, size, err, errlen) < 0) {
    sim_destroy(s);
    return NULL;
  }
  /* Power on with both lines released: EN high, IO0 high. */
  s->en = 1;
  s->io0 = 1;
  power_off(s);
  boot(s, o->start_in_download != 0);
  if (o->start_in_download) {
    /* "Already waiting in download mode": no banner left in the host's buffer. */
    s->out.len = s->out.head = 0;
  }
  return s;
}

void sim_destroy(sim_t *s) {
  if (!s) return;
  sim_session_clear(s);
  sim_flash_close(&s->flash);
  sim_queue_free(&s->in);
  sim_queue_free(&s->out);
  sim_regs_free(s);
  free(s->rx_buf);
  free(s->flash_path);
  free(s->app_output);
  free(s);
}

/* Auto-reset wiring: DTR drives IO0 and RTS drives EN through transistors,
 * asserted = pulled low, both asserted = neither pulled low. */
void sim_set_lines(sim_t *s, int dtr, int rts) {
  int64_t now = core_now_us();
  sim_advance(s, now);
  dtr = dtr != 0;
  rts = rts != 0;
  int en = !(rts && !dtr);
  int io0 = !(dtr && !rts);
  if (!en && s->en) {
    /* EN falls: everything stops. Bytes already on the wire still arrive. */
    s->latch_download = s->dtr;   /* USB-Serial/JTAG: DTR asserted before reset */
    power_off(s);
    s->sample_at = 0;
    sim_out_drop_pending(s, now);
  } else if (en && !s->en) {
    s->state = SIM_BOOTING;
    s->sample_at = now + SIM_SAMPLE_US;
  }
  s->dtr = dtr;
  s->rts = rts;
  s->en = en;
  s->io0 = io0;
}

void sim_reset(sim_t *s, int download) {
  int64_t now = core_now_us();
  sim_advance(s, now);
  sim_out_drop_pending(s, now);
  s->latch_download = 0;
  sim_reboot(s, download);
}

const char *sim_state_name(const sim_t *s) {
  static const char *names[] = {"off", "booting", "rom", "stub", "running"};
  return names[s->state];
}

uint32_t sim_flash_size(const sim_t *s) { return s->flash.size; }

size_t sim_flash_read(sim_t *s, uint32_t addr, uint8_t *buf, size_t n) {
  if (addr >= s->flash.size) return 0;
  if (n > s->flash.size - addr) n = s->flash.size - addr;
  sim_flash_get(&s->flash, addr, buf, (uint32_t)n);
  return n;
}

size_t sim_flash_write(sim_t *s, uint32_t addr, const uint8_t *data, size_t n) {
  if (addr >= s->flash.size) return 0;
  if (n > s->flash.size - addr) n = s->flash.size - addr;
  memcpy(s->flash.mem + addr, data, n);
  return n;
}

void sim_flush(sim_t *s) { sim_flash_sync(&s->flash); }
