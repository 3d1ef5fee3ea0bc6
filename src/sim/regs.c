/* regs.c: the register file behind READ_REG / WRITE_REG.
 *
 * Every written word is remembered; unknown addresses read 0. A reset loads
 * the profile's words, the chip magic at 0x40001000 (unless the profile sets
 * it) and the UART divider for 115200 baud. Writing the SPI1 CMD register
 * with bit 18 (USR) runs the user command at once: the reply lands in W0 and
 * the bit clears, so hosts that poll CMD and hosts that poll nothing both
 * see the result. RDID (0x9F) answers the JEDEC ID; every other read command
 * (status registers, SFDP) answers 0. */
#include "sim/sim_int.h"

#include <stdlib.h>

#define MAGIC_ADDR 0x40001000u
#define SPI_CMD_USR (1u << 18)
#define SPI_USR_MISO (1u << 28)

static sim_reg_t *find(sim_t *s, uint32_t addr) {
  for (size_t i = 0; i < s->nregs; i++)
    if (s->regs[i].addr == addr) return &s->regs[i];
  return NULL;
}

void sim_reg_set(sim_t *s, uint32_t addr, uint32_t value) {
  sim_reg_t *r = find(s, addr);
  if (r) {
    r->value = value;
    return;
  }
  if (s->nregs == s->regs_cap) {
    size_t cap = s->regs_cap ? s->regs_cap * 2 : 64;
    sim_reg_t *v = realloc(s->regs, cap * sizeof *v);
    if (!v) return;
    s->regs = v;
    s->regs_cap = cap;
  }
  s->regs[s->nregs].addr = addr;
  s->regs[s->nregs].value = value;
  s->nregs++;
}

uint32_t sim_reg_read(sim_t *s, uint32_t addr) {
  sim_reg_t *r = find(s, addr);
  return r ? r->value : 0;
}

uint32_t sim_div16_for(uint32_t clk_hz, uint32_t baud) {
  if (baud == 0) baud = SIM_ROM_BAUD;
  return (uint32_t)(((uint64_t)clk_hz * 16) / baud);
}

/* UART CLKDIV: integer divider in bits 0..19, sixteenths in bits 20..23. */
void sim_update_clkdiv(sim_t *s, uint32_t div16) {
  if (s->p.uart_clkdiv_addr == 0) return;
  sim_reg_set(s, s->p.uart_clkdiv_addr, (div16 >> 4 & 0xFFFFF) | (div16 & 15) << 20);
}

int sim_regs_reset(sim_t *s) {
  s->nregs = 0;
  sim_reg_set(s, MAGIC_ADDR, s->p.magic);
  for (int i = 0; i < s->p.nregs; i++) sim_reg_set(s, s->p.regs[i].addr, s->p.regs[i].value);
  sim_update_clkdiv(s, sim_div16_for(s->p.xtal_mhz * 1000000u, SIM_ROM_BAUD));
  return 0;
}

void sim_regs_free(sim_t *s) {
  free(s->regs);
  s->regs = NULL;
  s->nregs = s->regs_cap = 0;
}

static void spi_user_command(sim_t *s) {
  uint32_t base = s->p.spi_base;
  uint32_t usr = sim_reg_read(s, base + s->p.spi_usr);
  uint32_t cmd = sim_reg_read(s, base + s->p.spi_usr2) & 0xFF;
  if (usr & SPI_USR_MISO) {
    uint32_t bits = s->p.spi_miso_dlen ? (sim_reg_read(s, base + s->p.spi_miso_dlen) & 0x3FF) + 1 : 32;
    uint32_t v = cmd == 0x9F ? s->p.jedec_id : 0;
    if (bits < 32) v &= (1u << bits) - 1;
    sim_reg_set(s, base + s->p.spi_w0, v);
  }
  sim_reg_set(s, base, sim_reg_read(s, base) & ~SPI_CMD_USR);
}

void sim_reg_write(sim_t *s, uint32_t addr, uint32_t value, uint32_t mask) {
  uint32_t v = (sim_reg_read(s, addr) & ~mask) | (value & mask);
  sim_reg_set(s, addr, v);
  if (s->p.spi_base && addr == s->p.spi_base && (v & SPI_CMD_USR)) spi_user_command(s);
}
