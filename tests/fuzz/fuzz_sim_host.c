/* fuzz_sim_host.c: the virtual device (src/sim/) on arbitrary host input.
 * It must never crash, whatever reaches it, in ROM download mode, Secure
 * Download Mode or with the flasher stub running, with any fault armed.
 *
 * Input: byte 0 picks the setup (bits 0-1: ROM, stub, Secure Download Mode,
 * ROM then a reset into normal boot; bit 2: ESP32 instead of ESP32-C3;
 * bits 3-5: fault kind; bit 6: structured records instead of raw bytes),
 * byte 1 the fault index. Raw mode writes the rest in slices. Structured
 * mode reads records `tag len payload`: tags 0-3 send the payload as one
 * SLIP frame (encoded here), 4 raw bytes; 5 sets DTR/RTS, 6 the host baud,
 * 7 power-cycles (their `len` byte is the argument, no payload). The
 * device's output is drained after every slice.
 *
 * One thing is bounded: the model hashes an SPI_FLASH_MD5 size near 4 GB
 * over its wrapped flash for some 6 s (reported), which would take most of
 * the fuzzing time. This target is linked with -Wl,--wrap=MD5Update and
 * hashes at most MD5_BUDGET bytes per input; beyond that the digests are
 * wrong, which nothing here looks at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <md5.h>

#include "core.h"
#include "sim/sim.h"

#define STUB_TEXT 0x40380000u
#define STUB_ENTRY 0x40380E9Au

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void regs(sim_profile_t *p, uint32_t addr, uint32_t value) {
  p->regs[p->nregs].addr = addr;
  p->regs[p->nregs++].value = value;
}

/* The ESP32-C3 and ESP32 profiles of tests/c/test_sim.h (protocol.md §4.3). */
static sim_profile_t profile(int esp32) {
  sim_profile_t p;
  memset(&p, 0, sizeof p);
  if (esp32) {
    snprintf(p.name, sizeof p.name, "esp32");
    p.magic = 0x00F01D83, p.chip_id = 0, p.secinfo_len = 0, p.flash_begin_len = 16;
    p.max_rom_opcode = 0x13;
    regs(&p, 0x3FF5A004, 0x287AD884);
    regs(&p, 0x3FF5A008, 0x003E246F);
    p.spi_base = 0x3FF42000, p.spi_usr = 0x1C, p.spi_usr1 = 0x20, p.spi_usr2 = 0x24;
    p.spi_mosi_dlen = 0x28, p.spi_miso_dlen = 0x2C, p.spi_w0 = 0x80;
    p.jedec_id = 0x001240EF, p.uart_clkdiv_addr = 0x3FF40014;
  } else {
    snprintf(p.name, sizeof p.name, "esp32c3");
    p.magic = 0x1B31506F, p.chip_id = 5, p.secinfo_len = 20, p.flash_begin_len = 20;
    p.max_rom_opcode = 0x14;
    regs(&p, 0x60008844, 0xF97E7BC0);
    regs(&p, 0x60008848, 0x00006055);
    p.spi_base = 0x60002000, p.spi_usr = 0x18, p.spi_usr1 = 0x1C, p.spi_usr2 = 0x20;
    p.spi_mosi_dlen = 0x24, p.spi_miso_dlen = 0x28, p.spi_w0 = 0x58;
    p.jedec_id = 0x001240C8, p.uart_clkdiv_addr = 0x60000014;
  }
  regs(&p, p.uart_clkdiv_addr, 0x0030015B);
  p.xtal_mhz = 40;
  p.stub_entries[0] = STUB_ENTRY;
  p.nstub_entries = 1;
  snprintf(p.banner_download, sizeof p.banner_download, "boot:0x8 waiting for download\r\n");
  snprintf(p.banner_boot, sizeof p.banner_boot, "boot:0xc\r\n");
  return p;
}

static void drain(sim_t *s) {
  uint8_t buf[8192];
  while (sim_host_read(s, buf, sizeof buf) > 0) {
  }
  (void)sim_wait_hint_us(s);
}

#define MD5_BUDGET (4u << 20)

/* The budget left for the current input (see the header comment). */
static size_t md5_left;

void __real_MD5Update(MD5_CTX *c, const uint8_t *data, size_t n);
void __wrap_MD5Update(MD5_CTX *c, const uint8_t *data, size_t n);

void __wrap_MD5Update(MD5_CTX *c, const uint8_t *data, size_t n) {
  if (n > md5_left) n = md5_left;
  md5_left -= n;
  __real_MD5Update(c, data, n);
}

static void send_frame(sim_t *s, const uint8_t *d, size_t n) {
  uint8_t *buf = malloc(2 * n + 2);
  if (!buf) abort();
  size_t k = 0;
  buf[k++] = 0xC0;
  for (size_t i = 0; i < n; i++) {
    if (d[i] == 0xC0) buf[k++] = 0xDB, buf[k++] = 0xDC;
    else if (d[i] == 0xDB) buf[k++] = 0xDB, buf[k++] = 0xDD;
    else buf[k++] = d[i];
  }
  buf[k++] = 0xC0;
  sim_host_write(s, buf, k);
  free(buf);
  drain(s);
}

static void command(sim_t *s, uint8_t op, const uint8_t *data, size_t n, uint32_t chk) {
  uint8_t *pkt = malloc(8 + n);
  if (!pkt) abort();
  pkt[0] = 0, pkt[1] = op, pkt[2] = (uint8_t)n, pkt[3] = (uint8_t)(n >> 8);
  put32(pkt + 4, chk);
  memcpy(pkt + 8, data, n);
  send_frame(s, pkt, 8 + n);
  free(pkt);
}

static void sync_dev(sim_t *s) {
  uint8_t d[36] = {0x07, 0x07, 0x12, 0x20};
  memset(d + 4, 0x55, 32);
  command(s, 0x08, d, sizeof d, 0);
}

/* SYNC, MEM_BEGIN/MEM_DATA of 4 KiB at the stub's text, MEM_END to its entry. */
static void start_stub(sim_t *s) {
  static uint8_t d[16 + 0x1000];
  uint8_t chk = 0xEF;
  sync_dev(s);
  put32(d, 0x1000), put32(d + 4, 1), put32(d + 8, 0x1000), put32(d + 12, STUB_TEXT);
  command(s, 0x05, d, 16, 0);
  for (int i = 0; i < 0x1000; i++) d[16 + i] = (uint8_t)(i * 7), chk ^= d[16 + i];
  put32(d, 0x1000), put32(d + 4, 0), put32(d + 8, 0), put32(d + 12, 0);
  command(s, 0x07, d, sizeof d, chk);
  put32(d, 0), put32(d + 4, STUB_ENTRY);
  command(s, 0x06, d, 8, 0);
}

static const uint32_t BAUDS[] = {0, 9600, 115200, 230400, 460800, 921600, 1500000, 2000000};

static void structured(sim_t *s, const uint8_t *p, size_t n) {
  while (n >= 2) {
    uint8_t tag = p[0] & 7, arg = p[1];
    size_t len = arg;
    if (tag < 4 && (p[0] & 0x80)) len = len * 64 + 16; /* room for data blocks */
    p += 2, n -= 2;
    switch (tag) {
    case 5: sim_set_lines(s, arg & 1, (arg >> 1) & 1); drain(s); continue;
    case 6: sim_set_host_baud(s, BAUDS[arg % 8]); drain(s); continue;
    case 7: sim_reset(s, arg & 1); drain(s); continue;
    default: break;
    }
    if (len > n) len = n;
    if (tag == 4) {
      sim_host_write(s, p, len);
      drain(s);
    } else {
      send_frame(s, p, len);
    }
    p += len, n -= len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  md5_left = MD5_BUDGET;
  int mode = data[0] & 3, esp32 = (data[0] >> 2) & 1, fault = (data[0] >> 3) & 7;
  sim_profile_t p = profile(esp32);
  sim_options_t o;
  memset(&o, 0, sizeof o);
  o.flash_size = 0x40000;
  o.start_in_download = 1;
  o.secure_download = mode == 2;
  o.fault_kind = fault <= SIM_FAULT_REFUSE ? fault : SIM_FAULT_NONE;
  o.fault_at = data[1];
  char err[256];
  sim_t *s = sim_create(&p, &o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "sim_create: %s\n", err);
    abort();
  }
  if (mode == 1) start_stub(s);
  if (mode == 3) {
    sync_dev(s);
    sim_reset(s, 0);
  }
  const uint8_t *in = data + 2;
  size_t n = size - 2;
  if (data[0] & 0x40) {
    structured(s, in, n);
  } else {
    size_t slice = 1 + data[1] % 64;
    for (size_t off = 0; off < n; off += slice) {
      sim_host_write(s, in + off, n - off < slice ? n - off : slice);
      drain(s);
    }
  }
  uint8_t probe[16];
  (void)sim_flash_read(s, (uint32_t)n * 4093u, probe, sizeof probe);
  (void)sim_state_name(s);
  sim_destroy(s);
  return 0;
}
