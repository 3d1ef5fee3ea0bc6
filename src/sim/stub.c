/* stub.c: the flasher stub personality, modelled on esp-flasher-stub ("stub 2",
 * the one esptool-js 0.7.0 uploads).
 *
 * Replies carry 2 status bytes (`00 00`, or `code 00`) and value 0 except
 * READ_REG. Lengths are checked exactly. FLASH_DATA / FLASH_DEFL_DATA and
 * READ_FLASH reply first and do the work afterwards; an error from that work
 * is the answer to the next command, whatever it is, and that command is
 * not run. Writes erase lazily, sector by sector, ahead of the data. */
#include "sim/sim_int.h"

#include <string.h>

enum {
  OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA, OP_FLASH_END, OP_MEM_BEGIN, OP_MEM_END, OP_MEM_DATA,
  OP_SYNC, OP_WRITE_REG, OP_READ_REG, OP_SPI_SET_PARAMS, OP_SPI_ATTACH = 0x0D,
  OP_CHANGE_BAUD = 0x0F, OP_DEFL_BEGIN, OP_DEFL_DATA, OP_DEFL_END, OP_MD5, OP_SECURITY_INFO,
  OP_ERASE_FLASH = 0xD0, OP_ERASE_REGION, OP_READ_FLASH, OP_RUN_USER_CODE,
};

#define E_BAD_DATA_LEN 0xC0
#define E_BAD_CHECKSUM 0xC1
#define E_INVALID_COMMAND 0xC3
#define E_FAILED_SPI_OP 0xC4
#define E_NOT_IN_FLASH_MODE 0xC6
#define E_INFLATE 0xC7
#define E_NOT_ENOUGH_DATA 0xC8
#define E_TOO_MUCH_DATA 0xC9
#define E_NOT_IMPLEMENTED 0xFF

static void reply(sim_t *s, uint8_t op, uint32_t value, const uint8_t *data, size_t dlen, int code) {
  uint8_t buf[8 + 32 + 2];
  if (dlen > 32) dlen = 32;
  buf[0] = 0x01;
  buf[1] = op;
  buf[2] = (uint8_t)(dlen + 2);
  buf[3] = 0;
  sim_wr32(buf + 4, value);
  if (dlen) memcpy(buf + 8, data, dlen);
  buf[8 + dlen] = (uint8_t)code;
  buf[9 + dlen] = 0;
  sim_out_frame(s, buf, 10 + dlen);
}

/* Erase (lazily) and program at the session's write pointer. */
static int write_flash(sim_t *s, const uint8_t *d, uint32_t n) {
  if (n > s->w.size) n = s->w.size;   /* trim padding beyond the announced size */
  if (n == 0) return 0;
  uint64_t end = (uint64_t)s->w.pos + n;
  if (end > s->cfg_flash_size || end > s->flash.size) return E_FAILED_SPI_OP;
  while (s->w.erased_to < end) {
    sim_flash_erase(&s->flash, s->w.erased_to, SIM_SECTOR);
    s->w.erased_to += SIM_SECTOR;
  }
  sim_flash_program(&s->flash, s->w.pos, d, n);
  s->w.pos += n;
  s->w.size -= n;
  return 0;
}

static int flash_begin(sim_t *s, const uint8_t *d, uint32_t n, int defl) {
  if (n != 16 && n != 20) return E_BAD_DATA_LEN;
  sim_session_clear(s);
  s->w.active = 1;
  s->w.defl = defl;
  s->w.size = sim_rd32(d);
  s->w.num_blocks = sim_rd32(d + 4);
  s->w.block_size = sim_rd32(d + 8);
  s->w.offset = s->w.pos = sim_rd32(d + 12);
  s->w.erased_to = s->w.offset / SIM_SECTOR * SIM_SECTOR;
  if (defl && sim_inflate_begin(&s->w.inf) < 0) return E_INFLATE;
  if (s->w.size && s->w.erased_to < s->cfg_flash_size && s->w.erased_to < s->flash.size) {
    /* The stub starts erasing the first sector right away. */
    sim_flash_erase(&s->flash, s->w.erased_to, SIM_SECTOR);
    s->w.erased_to += SIM_SECTOR;
  }
  return 0;
}

static int flash_data(sim_t *s, const uint8_t *d, uint32_t n, uint32_t chk, int *post) {
  if (n < 16) return E_NOT_ENOUGH_DATA;
  if (!s->w.active) return E_NOT_IN_FLASH_MODE;
  if (sim_rd32(d) != n - 16) return E_TOO_MUCH_DATA;
  if (sim_xor_checksum(d + 16, n - 16) != chk) return E_BAD_CHECKSUM;
  *post = 1;
  return 0;
}

static int defl_data(sim_t *s, const uint8_t *d, uint32_t n, uint32_t chk, int *post) {
  if (n < 16) return E_BAD_DATA_LEN;
  if (!s->w.active || !s->w.defl) return E_NOT_IN_FLASH_MODE;
  if (s->w.size == 0 && n > 4) return E_TOO_MUCH_DATA;
  uint32_t len = sim_rd32(d);
  if (len > n - 16) return E_BAD_DATA_LEN;
  if (sim_xor_checksum(d + 16, len) != chk) return E_BAD_CHECKSUM;
  *post = 1;
  return 0;
}

static int defl_post(sim_t *s, const uint8_t *d) {
  int serr;
  int r = sim_inflate_feed(&s->w.inf, s, d + 16, sim_rd32(d), write_flash, &serr);
  if (r == 10) return serr;
  return r < 0 ? E_INFLATE : 0;
}

static int flash_end(sim_t *s, uint32_t n) {
  if (n != 4) return E_BAD_DATA_LEN;
  if (!s->w.active) return E_NOT_IN_FLASH_MODE;
  if (s->w.size != 0) return E_BAD_DATA_LEN;
  sim_session_clear(s);   /* stub 2 ignores the reboot flag */
  return 0;
}

static void read_flash_send(sim_t *s) {
  uint8_t buf[4096];
  uint32_t k = s->rd.remaining < s->rd.packet ? s->rd.remaining : s->rd.packet;
  sim_flash_get(&s->flash, s->rd.addr, buf, k);
  MD5Update(&s->rd.md5, buf, k);
  sim_out_frame(s, buf, k);
  s->rd.addr += k;
  s->rd.remaining -= k;
}

static void read_flash_finish(sim_t *s) {
  uint8_t dg[16];
  MD5Final(dg, &s->rd.md5);
  s->rd.active = 0;
  sim_out_frame(s, dg, sizeof dg);
}

static int read_flash_start(sim_t *s, const uint8_t *d) {
  uint32_t packet = sim_rd32(d + 8);
  if (packet > 4096 || packet == 0) return E_BAD_DATA_LEN;
  s->rd.active = 1;
  s->rd.addr = sim_rd32(d);
  s->rd.total = s->rd.remaining = sim_rd32(d + 4);
  s->rd.packet = packet;
  s->rd.acked = 0;
  MD5Init(&s->rd.md5);
  if (s->rd.remaining) read_flash_send(s);
  else read_flash_finish(s);
  return 0;
}

/* One un-acknowledged packet at a time; any frame but a 4-byte ack ends the read. */
static void read_flash_ack(sim_t *s, const uint8_t *f, size_t n) {
  if (n != 4) {
    read_flash_finish(s);
    return;
  }
  s->rd.acked = sim_rd32(f);
  if (s->rd.remaining) read_flash_send(s);
  else if (s->rd.acked >= s->rd.total) read_flash_finish(s);
}

static int erase_region(sim_t *s, const uint8_t *d, uint32_t n) {
  if (n != 8) return E_BAD_DATA_LEN;
  uint32_t addr = sim_rd32(d), size = sim_rd32(d + 4);
  if (addr % SIM_SECTOR || size % SIM_SECTOR) return E_BAD_DATA_LEN;
  if ((uint64_t)addr + size > s->flash.size) return E_FAILED_SPI_OP;
  return sim_flash_erase(&s->flash, addr, size);   /* -1: interrupted */
}

static void mem_end_post(sim_t *s, const uint8_t *d) {
  uint32_t flag = sim_rd32(d), entry = sim_rd32(d + 4);
  if (flag != 0) return;
  for (int i = 0; i < s->p.nstub_entries; i++)
    if (s->p.stub_entries[i] == entry) {
      sim_start_stub(s);   /* a fresh copy of the stub: OHAI again */
      return;
    }
  sim_session_clear(s);
  s->state = SIM_RUNNING;
}

static void stub_command(sim_t *s, uint8_t op, const uint8_t *d, uint32_t n, uint32_t chk) {
  uint32_t value = 0;
  uint8_t data[32];
  size_t dlen = 0;
  int code = 0, post = 0;
  switch (op) {
  case OP_SYNC:
    if (n != 36) { code = E_BAD_DATA_LEN; break; }
    for (int i = 0; i < 7; i++) reply(s, op, 0, NULL, 0, 0);
    break;
  case OP_FLASH_BEGIN: code = flash_begin(s, d, n, 0); break;
  case OP_DEFL_BEGIN: code = flash_begin(s, d, n, 1); break;
  case OP_FLASH_DATA: code = flash_data(s, d, n, chk, &post); break;
  case OP_DEFL_DATA: code = defl_data(s, d, n, chk, &post); break;
  case OP_FLASH_END:
  case OP_DEFL_END: code = flash_end(s, n); break;
  case OP_MEM_BEGIN:
    if (n != 16) { code = E_BAD_DATA_LEN; break; }
    memset(&s->m, 0, sizeof s->m);
    s->m.active = 1;
    s->m.remaining = sim_rd32(d);
    break;
  case OP_MEM_DATA:
    if (n < 16) code = E_NOT_ENOUGH_DATA;
    else if (!s->m.active) code = E_NOT_IN_FLASH_MODE;
    else if (sim_rd32(d) > s->m.remaining || sim_rd32(d) != n - 16) code = E_TOO_MUCH_DATA;
    else s->m.remaining -= n - 16;
    break;
  case OP_MEM_END:
    if (n != 8) code = E_BAD_DATA_LEN;
    else if (!s->m.active) code = E_NOT_IN_FLASH_MODE;
    else { memset(&s->m, 0, sizeof s->m); post = 1; }
    break;
  case OP_WRITE_REG:
    if (n == 0 || n % 16) { code = E_NOT_ENOUGH_DATA; break; }
    for (uint32_t i = 0; i < n; i += 16)
      sim_reg_write(s, sim_rd32(d + i), sim_rd32(d + i + 4), sim_rd32(d + i + 8));
    break;
  case OP_READ_REG:
    if (n != 4) code = E_BAD_DATA_LEN;
    else value = sim_reg_read(s, sim_rd32(d));
    break;
  case OP_SPI_ATTACH: if (n != 4) code = E_BAD_DATA_LEN; break;
  case OP_SPI_SET_PARAMS:
    if (n != 24) code = E_BAD_DATA_LEN;
    else s->cfg_flash_size = sim_rd32(d + 4);
    break;
  case OP_CHANGE_BAUD:
    if (n != 8) code = E_BAD_DATA_LEN;
    else post = 1;
    break;
  case OP_MD5:
    if (n != 16) { code = E_BAD_DATA_LEN; break; }
    if (sim_flash_md5(&s->flash, sim_rd32(d), sim_rd32(d + 4), data) < 0) return;
    dlen = 16;
    break;
  case OP_SECURITY_INFO:
    if (n != 0) code = E_BAD_DATA_LEN;
    else if (s->p.secinfo_len <= 0) code = E_NOT_IMPLEMENTED;
    else { sim_security_info(s, data, s->p.secinfo_len); dlen = (size_t)s->p.secinfo_len; }
    break;
  case OP_READ_FLASH:
    if (n != 16) code = E_BAD_DATA_LEN;
    else post = 1;
    break;
  case OP_ERASE_FLASH:
    if (sim_flash_erase(&s->flash, 0, s->flash.size) < 0) return;   /* interrupted: no reply */
    break;
  case OP_ERASE_REGION:
    code = erase_region(s, d, n);
    if (code < 0) return;
    break;
  case OP_RUN_USER_CODE: return;   /* no reply; stub 2 stays put */
  default: code = E_INVALID_COMMAND; break;
  }
  if (code) {
    reply(s, op, 0, NULL, 0, code);
    return;
  }
  reply(s, op, value, data, dlen, 0);
  if (!post) return;
  /* After the reply: the work whose errors surface on the next command. */
  switch (op) {
  case OP_FLASH_DATA: s->deferred = write_flash(s, d + 16, n - 16); break;
  case OP_DEFL_DATA: s->deferred = defl_post(s, d); break;
  case OP_READ_FLASH: s->deferred = read_flash_start(s, d); break;
  case OP_CHANGE_BAUD: {
    uint32_t baud = sim_rd32(d);
    if (baud == 0) break;
    sim_update_clkdiv(s, sim_div16_for(s->p.xtal_mhz * 1000000u, baud));
    sim_set_dev_baud(s, baud);
    break;
  }
  case OP_MEM_END: mem_end_post(s, d); break;
  default: break;
  }
}

void sim_stub_frame(sim_t *s, const uint8_t *f, size_t n) {
  if (s->rd.active) {
    read_flash_ack(s, f, n);
    return;
  }
  if (n < 8) return;
  uint8_t dir = f[0], op = f[1];
  uint32_t size = (uint32_t)f[2] | (uint32_t)f[3] << 8;
  int fault = sim_fault_command(s);
  if (fault == SIM_FAULT_RESET) {
    sim_reboot(s, 1);
    return;
  }
  if (dir != 0) {
    reply(s, op, 0, NULL, 0, E_INVALID_COMMAND);
    return;
  }
  if (n != 8 + (size_t)size) {
    reply(s, op, 0, NULL, 0, E_BAD_DATA_LEN);
    return;
  }
  if (s->deferred) {
    int code = s->deferred;
    s->deferred = 0;
    reply(s, op, 0, NULL, 0, code);
    return;
  }
  if (fault == SIM_FAULT_REFUSE) {
    reply(s, op, 0, NULL, 0, E_FAILED_SPI_OP);
    return;
  }
  stub_command(s, op, f + 8, size, sim_rd32(f + 4));
}
