/* sim.h: the virtual device, an in-process model of an ESP chip in ROM
 * download mode and then running the flasher stub (esptool-js "stub 2"
 * behaviour), with NOR flash kept in memory or in a backing file.
 *
 * The model is byte-driven and clock-driven: the host side pushes bytes with
 * sim_host_write() and pulls the device's bytes with sim_host_read(); with
 * link emulation on, bytes only become readable when they would have arrived
 * on a real UART (10 bits a byte at the current baud, plus a turnaround
 * latency). Used by the sim:// port (port_sim.c), the TCP and pty servers
 * (sim/server.c) and the C tests. Chip constants come from the Lua chip
 * tables (lua/espflash/chips/) through the profile below. */
#ifndef ESPFLASH_SIM_H
#define ESPFLASH_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#define SIM_MAX_REGS 128
#define SIM_MAX_STUBS 4

typedef struct {
  uint32_t addr, value;
} sim_reg_t;

typedef struct {
  char name[24];              /* "esp32c3" */
  uint32_t magic;             /* word at 0x40001000 */
  uint32_t chip_id;           /* GET_SECURITY_INFO chip id */
  int secinfo_len;            /* 0: no GET_SECURITY_INFO (ESP32); 12 (S2); 20 */
  int flash_begin_len;        /* ROM FLASH_BEGIN/DEFL_BEGIN payload: 16 (ESP32) or 20 */
  int max_rom_opcode;         /* 0x13 (ESP32) or 0x14 */
  sim_reg_t regs[SIM_MAX_REGS]; /* initial register file (eFuses, CLKDIV, ...) */
  int nregs;
  /* SPI1 user-command engine: base and register offsets */
  uint32_t spi_base, spi_usr, spi_usr1, spi_usr2, spi_mosi_dlen, spi_miso_dlen, spi_w0;
  uint32_t jedec_id;          /* RDID answer: mfr | type << 8 | capacity << 16 */
  uint32_t uart_clkdiv_addr;  /* UART0 CLKDIV register, kept consistent with baud */
  uint32_t xtal_mhz;
  uint32_t stub_entries[SIM_MAX_STUBS]; /* MEM_END entries that start the stub */
  int nstub_entries;
  char banner_download[256];  /* ROM text after a reset into download mode */
  char banner_boot[256];      /* ROM text after a reset into normal boot */
} sim_profile_t;

/* Faults fire once. "Reply" n = the n-th SLIP frame the device sends since
 * sim_create (0-based; each of the 8 SYNC replies, OHAI, READ_FLASH data and
 * digest frames all count). "Command" n = the n-th command frame a
 * personality handles (frames ignored before the first SYNC and READ_FLASH
 * acks do not count). */
enum sim_fault_kind {
  SIM_FAULT_NONE = 0,
  SIM_FAULT_DROP,        /* drop one device->host byte of reply `at` (mid-frame) */
  SIM_FAULT_FLIP,        /* flip bit 0 of the middle payload byte of reply `at` */
  SIM_FAULT_STALL,       /* send nothing from reply `at` on, until the next reset */
  SIM_FAULT_RESET,       /* command `at` resets the chip into ROM download mode instead */
  SIM_FAULT_REFUSE,      /* answer command `at` with a failure: ROM 01 06, stub C4 00 */
};

typedef struct {
  const char *flash_path;   /* backing file, created and sized if missing; NULL: memory */
  uint32_t flash_size;      /* bytes; 0: from the JEDEC capacity */
  int start_in_download;    /* 1: start in ROM download mode without a reset */
  int secure_download;      /* 1: Secure Download Mode (ROM restrictions, no stub) */
  int link_emulation;       /* 1: pace bytes at the baud rate */
  int latency_us;           /* per-turnaround latency with link emulation */
  const char *app_output;   /* what the "application" prints after a normal boot */
  int fault_kind;           /* enum sim_fault_kind */
  int fault_at;             /* command/reply index the fault applies to (0-based) */
} sim_options_t;

typedef struct sim sim_t;

sim_t *sim_create(const sim_profile_t *p, const sim_options_t *o, char *err, size_t errlen);
void sim_destroy(sim_t *s);

/* Host -> device bytes. */
void sim_host_write(sim_t *s, const uint8_t *data, size_t n);
/* Device -> host bytes readable now; returns the count copied. */
size_t sim_host_read(sim_t *s, uint8_t *buf, size_t cap);
/* Microseconds until more device bytes become readable: 0 now, -1 nothing pending. */
int64_t sim_wait_hint_us(sim_t *s);
/* Modem lines as the host drives them (1 = asserted). */
void sim_set_lines(sim_t *s, int dtr, int rts);
/* The host changed its UART baud rate (a mismatch with the device garbles bytes).
 * 0 = unknown (TCP and pty clients): never a mismatch. Initially 115200. */
void sim_set_host_baud(sim_t *s, uint32_t baud);
/* Power-cycle into download mode (1) or normal boot (0), e.g. for a new client. */
void sim_reset(sim_t *s, int download);
/* Direct flash access for tests: returns bytes copied. */
size_t sim_flash_read(sim_t *s, uint32_t addr, uint8_t *buf, size_t n);
uint32_t sim_flash_size(const sim_t *s);
/* Direct flash access for tests: overwrites (no erase needed); returns bytes copied. */
size_t sim_flash_write(sim_t *s, uint32_t addr, const uint8_t *data, size_t n);
/* Writes a backing file's changes through to disk (msync). */
void sim_flush(sim_t *s);
/* "off" (EN low), "booting", "rom", "stub" or "running" (app / RAM program). */
const char *sim_state_name(const sim_t *s);

/* For port_sim.c: the sim_t behind the Sim userdata at idx (raises if not one;
 * NULL when it was closed). Keep a reference to the userdata while using it. */
sim_t *sim_check(lua_State *L, int idx);

#endif
