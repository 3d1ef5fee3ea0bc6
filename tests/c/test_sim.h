/* test_sim.h: helpers shared by the virtual-device tests (tests/c/test_sim_*.c):
 * chip profiles from docs/protocol.md §4.3, a SLIP command writer, a frame
 * reader that waits on the device's clock, and CHECK counting (check.h). */
#ifndef TEST_SIM_H
#define TEST_SIM_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core.h"
#include "sim/sim.h"

#define C3_STUB_ENTRY 0x40380E9Au
#define C3_STUB_TEXT 0x40380000u

static inline void t_regs(sim_profile_t *p, uint32_t addr, uint32_t value) {
  p->regs[p->nregs].addr = addr;
  p->regs[p->nregs].value = value;
  p->nregs++;
}

/* A profile with the ROM's facts: its name, the magic word at 0x40001000,
 * the chip id, the GET_SECURITY_INFO and FLASH_BEGIN payload lengths, and the
 * highest ROM opcode; a 40 MHz crystal. */
static inline sim_profile_t t_profile(const char *name, uint32_t magic, uint32_t chip_id, int secinfo_len,
                                      int flash_begin_len, int max_rom_opcode) {
  sim_profile_t p;
  memset(&p, 0, sizeof p);
  snprintf(p.name, sizeof p.name, "%s", name);
  p.magic = magic;
  p.chip_id = chip_id;
  p.secinfo_len = secinfo_len;
  p.flash_begin_len = flash_begin_len;
  p.max_rom_opcode = max_rom_opcode;
  p.xtal_mhz = 40;
  return p;
}

/* The SPI1 controller at `base`: the offsets of its USR, USR1, USR2,
 * MOSI_DLEN, MISO_DLEN and W0 registers. */
static inline void t_spi(sim_profile_t *p, uint32_t base, uint32_t usr, uint32_t usr1, uint32_t usr2,
                         uint32_t mosi_dlen, uint32_t miso_dlen, uint32_t w0) {
  p->spi_base = base;
  p->spi_usr = usr;
  p->spi_usr1 = usr1;
  p->spi_usr2 = usr2;
  p->spi_mosi_dlen = mosi_dlen;
  p->spi_miso_dlen = miso_dlen;
  p->spi_w0 = w0;
}

static inline sim_profile_t t_profile_c3(void) {
  sim_profile_t p = t_profile("esp32c3", 0x1B31506F, 5, 20, 20, 0x14);
  t_regs(&p, 0x60008844, 0xF97E7BC0);
  t_regs(&p, 0x60008848, 0x00006055);
  t_regs(&p, 0x60008850, 0x00100000);
  t_regs(&p, 0x60000014, 0x0030015B);
  t_spi(&p, 0x60002000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58);
  p.jedec_id = 0x001640C8;
  p.uart_clkdiv_addr = 0x60000014;
  p.stub_entries[0] = C3_STUB_ENTRY;
  p.nstub_entries = 1;
  snprintf(p.banner_download, sizeof p.banner_download,
           "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
           "rst:0x1 (POWERON),boot:0x8 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n");
  snprintf(p.banner_boot, sizeof p.banner_boot,
           "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
           "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n");
  return p;
}

static inline sim_profile_t t_profile_esp32(void) {
  sim_profile_t p = t_profile("esp32", 0x00F01D83, 0, 0, 16, 0x13);
  t_regs(&p, 0x3FF5A004, 0x287AD884);
  t_regs(&p, 0x3FF5A008, 0x003E246F);
  t_regs(&p, 0x3FF40014, 0x0030015B);
  t_spi(&p, 0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80);
  p.jedec_id = 0x001640EF;
  p.uart_clkdiv_addr = 0x3FF40014;
  snprintf(p.banner_download, sizeof p.banner_download,
           "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
           "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n");
  snprintf(p.banner_boot, sizeof p.banner_boot,
           "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
  return p;
}

static inline sim_t *t_new(const sim_profile_t *p, const sim_options_t *o) {
  char err[256];
  sim_t *s = sim_create(p, o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "sim_create: %s\n", err);
    exit(2);
  }
  return s;
}

static inline sim_t *t_new_download(const sim_profile_t *p) {
  sim_options_t o;
  memset(&o, 0, sizeof o);
  o.start_in_download = 1;
  return t_new(p, &o);
}

static inline void t_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t t_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint8_t t_xor(const uint8_t *d, size_t n) {
  uint8_t c = 0xEF;
  for (size_t i = 0; i < n; i++) c ^= d[i];
  return c;
}

/* SLIP-encodes one raw frame to the device. */
static inline void t_send_raw_frame(sim_t *s, const uint8_t *d, size_t n) {
  uint8_t *buf = malloc(2 * n + 2);
  size_t k = 0;
  buf[k++] = 0xC0;
  for (size_t i = 0; i < n; i++) {
    if (d[i] == 0xC0) { buf[k++] = 0xDB; buf[k++] = 0xDC; }
    else if (d[i] == 0xDB) { buf[k++] = 0xDB; buf[k++] = 0xDD; }
    else buf[k++] = d[i];
  }
  buf[k++] = 0xC0;
  sim_host_write(s, buf, k);
  free(buf);
}

static inline void t_send(sim_t *s, uint8_t op, const uint8_t *data, size_t n, uint32_t chk) {
  uint8_t *pkt = malloc(8 + n);
  pkt[0] = 0;
  pkt[1] = op;
  pkt[2] = (uint8_t)n;
  pkt[3] = (uint8_t)(n >> 8);
  t_put32(pkt + 4, chk);
  if (n) memcpy(pkt + 8, data, n);
  t_send_raw_frame(s, pkt, 8 + n);
  free(pkt);
}

static inline void t_send_sync(sim_t *s) {
  uint8_t d[36] = {0x07, 0x07, 0x12, 0x20};
  memset(d + 4, 0x55, 32);
  t_send(s, 0x08, d, sizeof d, 0);
}

/* Collects raw device bytes for up to ms milliseconds of wall time, stopping
 * early once the device has nothing pending. Returns the count. */
static inline size_t t_read_raw(sim_t *s, uint8_t *buf, size_t cap, int ms) {
  int64_t end = core_now_us() + (int64_t)ms * 1000;
  size_t k = 0;
  for (;;) {
    k += sim_host_read(s, buf + k, cap - k);
    int64_t hint = sim_wait_hint_us(s);
    int64_t now = core_now_us();
    if (hint < 0 || now >= end || k == cap) break;
    if (hint > end - now) hint = end - now;
    if (hint < 100) hint = 100;
    struct timespec ts = {0, (long)hint * 1000};
    nanosleep(&ts, NULL);
  }
  return k;
}

typedef struct {
  int n;
  size_t len[64];
  uint8_t *data[64];
  size_t noise;   /* bytes seen outside frames */
} t_frames_t;

static inline void t_frames_free(t_frames_t *f) {
  for (int i = 0; i < f->n; i++) free(f->data[i]);
  f->n = 0;
}

/* Decodes every complete frame in buf (empty frames are skipped). */
static inline void t_decode(const uint8_t *buf, size_t n, t_frames_t *f) {
  memset(f, 0, sizeof *f);
  int in = 0, esc = 0;
  uint8_t *cur = malloc(n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = buf[i];
    if (!in) {
      if (b == 0xC0) { in = 1; len = 0; }
      else f->noise++;
      continue;
    }
    if (b == 0xC0) {
      if (len == 0) continue;
      if (f->n < 64) {
        f->data[f->n] = malloc(len);
        memcpy(f->data[f->n], cur, len);
        f->len[f->n++] = len;
      }
      in = 0;
    } else if (esc) {
      cur[len++] = b == 0xDC ? 0xC0 : b == 0xDD ? 0xDB : b;
      esc = 0;
    } else if (b == 0xDB) {
      esc = 1;
    } else {
      cur[len++] = b;
    }
  }
  free(cur);
}

static inline void t_frames(sim_t *s, t_frames_t *f, int ms) {
  size_t cap = 1 << 20;
  uint8_t *buf = malloc(cap);
  size_t n = t_read_raw(s, buf, cap, ms);
  t_decode(buf, n, f);
  free(buf);
}

/* Sends a command and returns the single expected reply frame (caller frees),
 * or NULL when the device did not answer with exactly one frame. */
static inline uint8_t *t_cmd(sim_t *s, uint8_t op, const uint8_t *d, size_t n, uint32_t chk, size_t *len) {
  t_frames_t f;
  t_send(s, op, d, n, chk);
  t_frames(s, &f, 50);
  uint8_t *r = NULL;
  if (f.n == 1) {
    r = f.data[0];
    *len = f.len[0];
    f.data[0] = NULL;
    f.n = 0;
  } else {
    fprintf(stderr, "  op 0x%02x: %d reply frames\n", op, f.n);
  }
  t_frames_free(&f);
  return r;
}

/* ROM status: byte after the data; returns the error code, 0 for success, -1 malformed. */
static inline int t_rom_status(const uint8_t *r, size_t len) {
  if (!r || len < 12) return -1;
  const uint8_t *st = r + len - 4;
  return st[0] ? st[1] : 0;
}

static inline int t_stub_status(const uint8_t *r, size_t len) {
  if (!r || len < 10) return -1;
  return r[len - 2];
}

static inline void t_sync_rom(sim_t *s) {
  t_frames_t f;
  t_send_sync(s);
  t_frames(s, &f, 50);
  if (f.n != 8) fprintf(stderr, "sync: %d replies\n", f.n);
  t_frames_free(&f);
}

static inline uint32_t t_read_reg(sim_t *s, uint32_t addr) {
  uint8_t d[4];
  size_t len = 0;
  t_put32(d, addr);
  uint8_t *r = t_cmd(s, 0x0A, d, 4, 0, &len);
  uint32_t v = r && len >= 8 ? t_get32(r + 4) : 0xDEADBEEF;
  free(r);
  return v;
}

static inline int t_write_reg(sim_t *s, uint32_t addr, uint32_t value, int stub) {
  uint8_t d[16];
  size_t len = 0;
  t_put32(d, addr);
  t_put32(d + 4, value);
  t_put32(d + 8, 0xFFFFFFFF);
  t_put32(d + 12, 0);
  uint8_t *r = t_cmd(s, 0x09, d, 16, 0, &len);
  int st = stub ? t_stub_status(r, len) : t_rom_status(r, len);
  free(r);
  return st;
}

/* Uploads a fake stub (text at C3_STUB_TEXT) with MEM_* and runs MEM_END(0, entry).
 * Returns the number of frames seen after MEM_END; *ohai set when "OHAI" came. */
static inline int t_upload_stub(sim_t *s, uint32_t entry, int *ohai) {
  uint8_t text[0x2000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)(i * 7);
  uint8_t d[16 + 0x1800];
  size_t len = 0;
  uint32_t blocks = (sizeof text + 0x17FF) / 0x1800;
  t_put32(d, sizeof text);
  t_put32(d + 4, blocks);
  t_put32(d + 8, 0x1800);
  t_put32(d + 12, C3_STUB_TEXT);
  free(t_cmd(s, 0x05, d, 16, 0, &len));
  for (uint32_t seq = 0; seq < blocks; seq++) {
    size_t off = seq * 0x1800, k = sizeof text - off < 0x1800 ? sizeof text - off : 0x1800;
    t_put32(d, (uint32_t)k);
    t_put32(d + 4, seq);
    t_put32(d + 8, 0);
    t_put32(d + 12, 0);
    memcpy(d + 16, text + off, k);
    free(t_cmd(s, 0x07, d, 16 + k, t_xor(text + off, k), &len));
  }
  t_put32(d, 0);
  t_put32(d + 4, entry);
  t_frames_t f;
  t_send(s, 0x06, d, 8, 0);
  t_frames(s, &f, 100);
  *ohai = f.n == 2 && f.len[1] == 4 && memcmp(f.data[1], "OHAI", 4) == 0;
  int n = f.n;
  t_frames_free(&f);
  return n;
}

#endif
