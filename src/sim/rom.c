/* rom.c: the ROM download-mode personality (ESP32 and later ROMs).
 *
 * Replies carry 4 status bytes (`00 00 00 00`, or `01 code 00 00`). The reply
 * buffer model: the value field is whatever SYNC or READ_REG last stored, the
 * opcode is the last supported command's, and a reply whose opcode byte is
 * 0x08 goes out 8 times. An unsupported opcode (outside 0x02..max, 0x0C,
 * GET_SECURITY_INFO without security info, anything Secure Download Mode
 * forbids) or a direction byte other than 0 leaves the opcode stale and
 * answers `01 05`. Flash writes are synchronous and checked like the real
 * loader: sequence, size, checksum (after the sequence counter advanced),
 * read-back verify. */
#include "sim/sim_int.h"

#include <stdio.h>
#include <string.h>

enum {
  OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA, OP_FLASH_END, OP_MEM_BEGIN, OP_MEM_END, OP_MEM_DATA,
  OP_SYNC, OP_WRITE_REG, OP_READ_REG, OP_SPI_SET_PARAMS, OP_SPI_ATTACH = 0x0D,
  OP_READ_FLASH_SLOW, OP_CHANGE_BAUD, OP_DEFL_BEGIN, OP_DEFL_DATA, OP_DEFL_END, OP_MD5,
  OP_SECURITY_INFO,
};

#define ERR_MSG 0x05
#define ERR_RESULT 0x06
#define ERR_CHECKSUM 0x07
#define ERR_WRITE 0x08
#define ERR_READ_LEN 0x0A
#define ERR_DEFLATE 0x0B
#define ERR_ADLER 0x0C
#define ERR_DEFL_PARAM 0x0D
#define ERR_PARAM 0x64

void sim_security_info(sim_t *s, uint8_t *out, int len) {
  memset(out, 0, (size_t)len);
  sim_wr32(out, s->secure ? 1u << 2 : 0);   /* SECURE_DOWNLOAD_ENABLE */
  out[11] = 12;                              /* key purposes 0,0,0,0,0,0,12 */
  if (len >= 20) sim_wr32(out + 12, s->p.chip_id);
}

void sim_session_clear(sim_t *s) {
  sim_inflate_end(&s->w.inf);
  memset(&s->w, 0, sizeof s->w);
  memset(&s->m, 0, sizeof s->m);
  memset(&s->rd, 0, sizeof s->rd);
}

void sim_rom_enter(sim_t *s) {
  s->state = SIM_ROM;
  s->presync = 1;
  s->last_op = 0;
  s->last_value = 0;
}

static int op_supported(sim_t *s, uint8_t op) {
  if (op < OP_FLASH_BEGIN || op > s->p.max_rom_opcode || op == 0x0C) return 0;
  if (op == OP_SECURITY_INFO && s->p.secinfo_len <= 0) return 0;
  if (!s->secure) return 1;
  return op <= OP_FLASH_END || op == OP_SYNC || op == OP_SPI_SET_PARAMS ||
         op == OP_SPI_ATTACH || op == OP_CHANGE_BAUD || op == OP_SECURITY_INFO;
}

static void reply(sim_t *s, const uint8_t *data, size_t dlen, int code) {
  uint8_t buf[8 + 64 + 4];
  if (dlen > 64) dlen = 64;
  buf[0] = 0x01;
  buf[1] = s->last_op;
  buf[2] = (uint8_t)(dlen + 4);
  buf[3] = 0;
  sim_wr32(buf + 4, s->last_value);
  if (dlen) memcpy(buf + 8, data, dlen);
  uint8_t *st = buf + 8 + dlen;
  st[0] = code ? 0x01 : 0x00;
  st[1] = (uint8_t)code;
  st[2] = st[3] = 0;
  int reps = s->last_op == OP_SYNC ? 8 : 1;
  for (int i = 0; i < reps; i++) sim_out_frame(s, buf, 8 + dlen + 4);
}

static int flash_begin(sim_t *s, const uint8_t *d, uint32_t n, int defl) {
  if (n != (uint32_t)s->p.flash_begin_len || n < 16) return ERR_MSG;
  uint32_t size = sim_rd32(d), blocks = sim_rd32(d + 4), bs = sim_rd32(d + 8);
  uint32_t off = sim_rd32(d + 12), enc = n >= 20 ? sim_rd32(d + 16) : 0;
  if (bs > 0x1800) return ERR_MSG;
  if (enc) return ERR_PARAM;   /* no flash-encryption engine modelled */
  sim_session_clear(s);
  s->w.active = 1;
  s->w.defl = defl;
  s->w.size = size;
  s->w.num_blocks = blocks;
  s->w.block_size = bs;
  s->w.offset = s->w.pos = off;
  if (defl && sim_inflate_begin(&s->w.inf) < 0) return ERR_DEFLATE;
  if (size == 0) return 0;
  if (off % SIM_SECTOR || (uint64_t)off + size > s->cfg_flash_size) return ERR_RESULT;
  uint64_t len = ((uint64_t)size + SIM_SECTOR - 1) / SIM_SECTOR * SIM_SECTOR;
  /* -1: interrupted part-way, no reply */
  return sim_flash_erase(&s->flash, off, (uint32_t)(len > s->flash.size ? s->flash.size : len));
}

/* The checks every *_DATA command shares, in the ROM's order. */
static int data_checks(const uint8_t *d, uint32_t n, uint32_t chk, uint32_t *seq,
                       uint32_t bs, int mul4, const uint8_t **payload, uint32_t *plen) {
  if (n > SIM_ROM_MAX_DATA || n < 16) return ERR_MSG;
  uint32_t len = sim_rd32(d), sq = sim_rd32(d + 4);
  if (sq != *seq) return ERR_MSG;
  if (len > bs || (mul4 && len % 4) || len > n - 16) return ERR_MSG;
  (*seq)++;
  if (sim_xor_checksum(d + 16, len) != (uint8_t)chk) return ERR_CHECKSUM;
  *payload = d + 16;
  *plen = len;
  return 0;
}

/* Program, read back, compare checksums (ROM error 0x08 on mismatch). */
static int program(sim_t *s, const uint8_t *d, uint32_t n) {
  sim_flash_program(&s->flash, s->w.pos, d, n);
  uint8_t back[256];
  uint8_t want = sim_xor_checksum(d, n), got = 0xEF;
  for (uint32_t i = 0; i < n; i += sizeof back) {
    uint32_t k = n - i < sizeof back ? n - i : (uint32_t)sizeof back;
    sim_flash_get(&s->flash, s->w.pos + i, back, k);
    for (uint32_t j = 0; j < k; j++) got ^= back[j];
  }
  if (got != want) return ERR_WRITE;
  s->w.pos += n;
  s->w.bytes += n;
  return 0;
}

static int defl_data(sim_t *s, const uint8_t *d, uint32_t n, uint32_t chk) {
  const uint8_t *pl;
  uint32_t len;
  int rc = data_checks(d, n, chk, &s->w.seq, s->w.block_size, 0, &pl, &len);
  if (rc) return rc;
  if (!s->w.defl || !s->w.inf.live) return ERR_DEFLATE;
  int serr;
  int r = sim_inflate_feed(&s->w.inf, s, pl, len, program, &serr);
  if (r == 10) return serr;
  if (r == -2) return ERR_ADLER;
  if (r < 0) return ERR_DEFLATE;
  if (r == 0 && s->w.seq == s->w.num_blocks) return ERR_DEFL_PARAM;   /* last block, stream unfinished */
  return 0;
}

/* FLASH_END / FLASH_DEFL_END: reply, then leave the loader either way. */
static void flash_end(sim_t *s, const uint8_t *d, uint32_t n, int defl) {
  uint32_t flag = n >= 4 ? sim_rd32(d) : 0;
  int code = 0;
  if (s->w.seq != s->w.num_blocks || (!defl && s->w.bytes != s->w.size)) code = ERR_RESULT;
  reply(s, NULL, 0, code);
  if (flag == 0) {
    static const uint8_t two_c0[2] = {0xC0, 0xC0};
    sim_out_raw(s, two_c0, 2);
    sim_reboot(s, 1);   /* software reset; the straps stay latched: download mode */
  } else {
    sim_go_running(s);
  }
}

static int is_stub_entry(sim_t *s, uint32_t entry) {
  int listed = 0;
  for (int i = 0; i < s->p.nstub_entries; i++) listed |= s->p.stub_entries[i] == entry;
  if (!listed) return 0;
  for (int i = 0; i < s->nmem_regions; i++)
    if (entry >= s->mem_regions[i].addr && entry - s->mem_regions[i].addr < s->mem_regions[i].size)
      return 1;
  return 0;
}

static void mem_end(sim_t *s, const uint8_t *d, uint32_t n) {
  if (n > 8) {
    reply(s, NULL, 0, ERR_MSG);
    return;
  }
  uint32_t flag = n >= 4 ? sim_rd32(d) : 0, entry = n >= 8 ? sim_rd32(d + 4) : 0;
  reply(s, NULL, 0, 0);
  if (flag != 0) return;
  if (is_stub_entry(s, entry)) {
    sim_start_stub(s);
  } else {
    sim_session_clear(s);
    s->state = SIM_RUNNING;   /* a RAM program of the user's: quiet */
  }
}

static int mem_begin(sim_t *s, const uint8_t *d, uint32_t n) {
  if (n != 16 || sim_rd32(d + 8) > 0x1800) return ERR_MSG;
  memset(&s->m, 0, sizeof s->m);
  s->m.active = 1;
  s->m.total = sim_rd32(d);
  s->m.num_blocks = sim_rd32(d + 4);
  s->m.block_size = sim_rd32(d + 8);
  s->m.addr = sim_rd32(d + 12);
  if (s->nmem_regions < SIM_MAX_MEM_REGIONS) {
    s->mem_regions[s->nmem_regions].addr = s->m.addr;
    s->mem_regions[s->nmem_regions].size = s->m.total;
    s->nmem_regions++;
  }
  return 0;
}

static void change_baud(sim_t *s, const uint8_t *d, uint32_t n) {
  static const uint8_t two_c0[2] = {0xC0, 0xC0};
  if (n < 8) {
    reply(s, NULL, 0, ERR_MSG);
    return;
  }
  uint32_t baud = sim_rd32(d), second = sim_rd32(d + 4);
  /* The ROM computes the divider as if the clock were 40 MHz; a non-zero low
   * byte in the second word makes the first one a raw divider. */
  uint32_t div16 = (second & 0xFF) ? baud * 16 : sim_div16_for(40000000u, baud);
  reply(s, NULL, 0, 0);
  sim_out_raw(s, two_c0, 2);
  if (div16 == 0) return;
  sim_update_clkdiv(s, div16);
  sim_set_dev_baud(s, (uint32_t)((uint64_t)s->p.xtal_mhz * 16000000u / div16));
}

static void rom_command(sim_t *s, uint8_t op, const uint8_t *d, uint32_t n, uint32_t chk) {
  uint8_t buf[64];
  const uint8_t *pl;
  uint32_t len;
  int code = 0;
  switch (op) {
  case OP_FLASH_BEGIN:
  case OP_DEFL_BEGIN:
    code = flash_begin(s, d, n, op == OP_DEFL_BEGIN);
    if (code < 0) return;   /* interrupted while erasing */
    break;
  case OP_FLASH_DATA:
    code = data_checks(d, n, chk, &s->w.seq, s->w.block_size, 1, &pl, &len);
    if (!code) code = program(s, pl, len);
    break;
  case OP_DEFL_DATA: code = defl_data(s, d, n, chk); break;
  case OP_FLASH_END: flash_end(s, d, n, 0); return;
  case OP_DEFL_END: flash_end(s, d, n, 1); return;
  case OP_MEM_BEGIN: code = mem_begin(s, d, n); break;
  case OP_MEM_DATA: code = data_checks(d, n, chk, &s->m.seq, s->m.block_size, 0, &pl, &len); break;
  case OP_MEM_END: mem_end(s, d, n); return;
  case OP_SYNC:
    if (n >= 4) s->last_value = sim_rd32(d);
    break;
  case OP_WRITE_REG:
    for (uint32_t i = 0; i + 16 <= n; i += 16)
      sim_reg_write(s, sim_rd32(d + i), sim_rd32(d + i + 4), sim_rd32(d + i + 8));
    break;
  case OP_READ_REG:
    memset(buf, 0, 4);
    memcpy(buf, d, n < 4 ? n : 4);
    s->last_value = sim_reg_read(s, sim_rd32(buf));
    break;
  case OP_SPI_SET_PARAMS:
    if (n != 24) code = ERR_MSG;
    else s->cfg_flash_size = sim_rd32(d + 4);
    break;
  case OP_SPI_ATTACH: break;
  case OP_READ_FLASH_SLOW: {
    if (n < 8) { code = ERR_MSG; break; }
    uint32_t len64 = sim_rd32(d + 4);
    memset(buf, 0, sizeof buf);
    if (len64 > 64) code = ERR_READ_LEN;
    else sim_flash_get(&s->flash, sim_rd32(d), buf, len64);
    reply(s, buf, 64, code);
    return;
  }
  case OP_CHANGE_BAUD: change_baud(s, d, n); return;
  case OP_MD5: {
    if (n < 8 || n > SIM_ROM_MAX_DATA) { code = ERR_MSG; break; }
    uint8_t dg[16];
    char hex[33];
    if (sim_flash_md5(&s->flash, sim_rd32(d), sim_rd32(d + 4), dg) < 0) return;   /* interrupted */
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", dg[i]);
    reply(s, (const uint8_t *)hex, 32, 0);
    return;
  }
  case OP_SECURITY_INFO:
    sim_security_info(s, buf, s->p.secinfo_len);
    reply(s, buf, (size_t)s->p.secinfo_len, 0);
    return;
  default: code = ERR_MSG; break;
  }
  reply(s, NULL, 0, code);
}

void sim_rom_frame(sim_t *s, const uint8_t *f, size_t n) {
  if (n < 8) return;
  uint8_t dir = f[0], op = f[1];
  uint32_t size = (uint32_t)f[2] | (uint32_t)f[3] << 8;
  if (s->presync) {
    /* Connection check: only a SYNC request gets through, and it sets the baud. */
    static const uint8_t magic[4] = {0x07, 0x07, 0x12, 0x20};
    if (dir != 0 || op != OP_SYNC || n < 12 || memcmp(f + 8, magic, 4) != 0) return;
    s->presync = 0;
    if (s->rx_baud && !sim_baud_match(s->rx_baud, s->dev_baud)) {
      sim_set_dev_baud(s, s->rx_baud);
      sim_update_clkdiv(s, sim_div16_for(s->p.xtal_mhz * 1000000u, s->rx_baud));
    }
  }
  int fault = sim_fault_command(s);
  if (fault == SIM_FAULT_RESET) {
    sim_reboot(s, 1);
    return;
  }
  if (dir != 0 || !op_supported(s, op)) {
    reply(s, NULL, 0, ERR_MSG);   /* stale opcode */
    return;
  }
  s->last_op = op;
  if (fault == SIM_FAULT_REFUSE) {
    reply(s, NULL, 0, ERR_RESULT);
    return;
  }
  if (size > n - 8) {   /* truncated, or overflowed the ROM's buffer */
    reply(s, NULL, 0, ERR_MSG);
    return;
  }
  rom_command(s, op, f + 8, size, sim_rd32(f + 4));
}
