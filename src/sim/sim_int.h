/* sim_int.h: the virtual device's internal state, shared by its files.
 *
 *   sim.c    lifecycle, clock and event loop, modem lines, boot and reset
 *   link.c   host<->device byte queues, UART pacing, baud mismatch, reply faults
 *   frame.c  SLIP receiver (ROM-tolerant / stub-strict) and reply framing
 *   flash.c  NOR flash in memory or a backing file
 *   regs.c   register file, SPI user-command engine, UART divider
 *   defl.c   streaming zlib inflate shared by ROM and stub
 *   rom.c    ROM download-mode personality
 *   stub.c   flasher stub personality (esptool-js "stub 2")
 * Nothing here is visible outside src/sim/. */
#ifndef ESPFLASH_SIM_INT_H
#define ESPFLASH_SIM_INT_H

#include <md5.h>
#include <zlib.h>

#include "sim/sim.h"

#define SIM_ROM_BAUD 115200u
#define SIM_SECTOR 4096u
#define SIM_SAMPLE_US 5000     /* IO0 is sampled this long after EN rises */
#define SIM_ROM_MAX_DATA 0x1810u
#define SIM_STUB_MAX_FRAME (0x4000u + 64u)
#define SIM_MAX_MEM_REGIONS 8
#define SIM_POLL_BYTES (4u << 20)   /* flash work checks espflash_interrupted this often */

enum sim_state {
  SIM_OFF,      /* EN held low */
  SIM_BOOTING,  /* EN rose; IO0 not sampled yet */
  SIM_ROM,      /* ROM download loader */
  SIM_STUB,     /* flasher stub running */
  SIM_RUNNING,  /* flash application or RAM program: ignores the host */
};

typedef struct {
  int64_t t;      /* readable / processed from this time (us) */
  uint32_t baud;  /* baud the byte was sent at; 0 = unknown (matches any) */
  uint8_t b;
} sim_byte_t;

typedef struct {
  sim_byte_t *v;
  size_t head, len, cap;
} sim_queue_t;

typedef struct {
  uint8_t *mem;
  uint32_t size;
  int fd;         /* -1 for a memory flash */
} sim_flash_t;

typedef struct {
  z_stream z;
  uint8_t *out;   /* 32 KiB output window */
  int live, done;
} sim_inflate_t;

/* A flash write session (FLASH_BEGIN / FLASH_DEFL_BEGIN), ROM or stub. */
typedef struct {
  int active, defl;
  uint32_t size;        /* ROM: erase size; stub: bytes still expected */
  uint32_t num_blocks, block_size, offset;
  uint32_t pos;         /* next flash address written */
  uint32_t seq, bytes;     /* ROM: seq = blocks received */
  uint32_t erased_to;   /* stub lazy erase: erased up to here */
  sim_inflate_t inf;
} sim_wsess_t;

typedef struct {
  int active;
  uint32_t total, num_blocks, block_size, addr, seq, remaining;
} sim_msess_t;

typedef struct {
  int active;
  uint32_t addr, remaining, total, packet, acked;
  MD5_CTX md5;
} sim_rdflash_t;

struct sim {
  sim_profile_t p;
  char *flash_path, *app_output;
  int secure, link, latency_us, fault_kind, fault_at;

  sim_flash_t flash;
  uint32_t cfg_flash_size;   /* SPI_SET_PARAMS total size */

  sim_reg_t *regs;
  size_t nregs, regs_cap;

  /* clock, lines, state */
  int64_t t;                 /* time of the event being processed */
  int dtr, rts, en, io0;
  int64_t sample_at;         /* 0: no IO0 sample pending */
  int latch_download;        /* USB-JTAG style: DTR asserted as EN fell */
  int state;
  uint32_t dev_baud, host_baud;

  /* link */
  sim_queue_t in, out;
  double in_last, out_last;  /* arrival time of the last byte queued (us) */
  int burst_open;

  /* SLIP receiver */
  int rx_state;              /* 0 outside a frame, 1 in frame, 2 after DB, 3 dropping */
  uint8_t *rx_buf;
  size_t rx_len, rx_cap;
  uint32_t rx_baud;

  /* ROM */
  int presync;
  uint8_t last_op;
  uint32_t last_value;
  struct { uint32_t addr, size; } mem_regions[SIM_MAX_MEM_REGIONS];
  int nmem_regions;

  /* sessions (either personality) */
  sim_wsess_t w;
  sim_msess_t m;

  /* stub */
  int deferred;              /* error code reported on the next command */
  sim_rdflash_t rd;

  /* faults */
  long n_replies, n_cmds;
  int stalled;
};

/* sim.c */
void sim_advance(sim_t *s, int64_t now);
void sim_reboot(sim_t *s, int download);   /* at the current event time */
void sim_go_running(sim_t *s);              /* leave the loader: run user code */
void sim_start_stub(sim_t *s);              /* jump to the stub: OHAI */
void sim_set_dev_baud(sim_t *s, uint32_t baud);
int sim_fault_command(sim_t *s);            /* SIM_FAULT_RESET/REFUSE for this command, else 0 */

/* link.c */
void sim_queue_free(sim_queue_t *q);
void sim_out_raw(sim_t *s, const uint8_t *d, size_t n);
void sim_out_frame(sim_t *s, const uint8_t *payload, size_t n);
void sim_out_drop_pending(sim_t *s, int64_t now);
int sim_baud_match(uint32_t a, uint32_t b);

/* frame.c */
int sim_rx_init(sim_t *s);
void sim_rx_reset(sim_t *s);
void sim_rx_byte(sim_t *s, uint8_t b, uint32_t baud);
uint32_t sim_rd32(const uint8_t *p);
void sim_wr32(uint8_t *p, uint32_t v);
uint8_t sim_xor_checksum(const uint8_t *d, size_t n);

/* flash.c */
int sim_flash_open(sim_flash_t *f, const char *path, uint32_t size, char *err, size_t errlen);
void sim_flash_close(sim_flash_t *f);
void sim_flash_sync(sim_flash_t *f);
/* erase and md5 return 0, or -1 when interrupted (Ctrl-C) part-way: the
 * caller sends no reply; md5's digest is then not set. */
int sim_flash_erase(sim_flash_t *f, uint32_t addr, uint32_t len);
void sim_flash_program(sim_flash_t *f, uint32_t addr, const uint8_t *d, uint32_t n);
void sim_flash_get(const sim_flash_t *f, uint32_t addr, uint8_t *buf, uint32_t n);
int sim_flash_md5(const sim_flash_t *f, uint32_t addr, uint32_t n, uint8_t digest[16]);
uint32_t sim_jedec_size(uint32_t jedec);

/* regs.c */
int sim_regs_reset(sim_t *s);
uint32_t sim_reg_read(sim_t *s, uint32_t addr);
void sim_reg_set(sim_t *s, uint32_t addr, uint32_t value);
void sim_reg_write(sim_t *s, uint32_t addr, uint32_t value, uint32_t mask);
void sim_regs_free(sim_t *s);
void sim_update_clkdiv(sim_t *s, uint32_t div16);
uint32_t sim_div16_for(uint32_t clk_hz, uint32_t baud);

/* defl.c: feeds one block; returns 0 (more input needed), 1 (stream ended),
 * -1 (corrupt data), -2 (Adler-32 mismatch) or 10 when the sink failed, with
 * its error code in *sink_err (a sink returns 0 or an error code). */
typedef int (*sim_sink_fn)(sim_t *s, const uint8_t *d, uint32_t n);
int sim_inflate_begin(sim_inflate_t *z);
int sim_inflate_feed(sim_inflate_t *z, sim_t *s, const uint8_t *in, uint32_t n,
                     sim_sink_fn sink, int *sink_err);
void sim_inflate_end(sim_inflate_t *z);

/* rom.c / stub.c */
void sim_rom_enter(sim_t *s);
void sim_rom_frame(sim_t *s, const uint8_t *f, size_t n);
void sim_session_clear(sim_t *s);
void sim_stub_frame(sim_t *s, const uint8_t *f, size_t n);
void sim_security_info(sim_t *s, uint8_t *out, int len);

/* server.c: core.sim_serve */
int sim_l_serve(lua_State *L);

#endif
