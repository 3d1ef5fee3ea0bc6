/* test_sim_rom.c: the virtual device's ROM download-mode personality, driven
 * through the C API with ESP32-C3 and ESP32 profiles (docs/protocol.md). */
#include <md5.h>
#include <zlib.h>

#include "test_sim.h"

static void test_presync_and_sync(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  t_frames_t f;
  uint8_t d[4];
  t_put32(d, 0x40001000);
  t_send(s, 0x0A, d, 4, 0);   /* READ_REG before SYNC: ignored */
  t_frames(s, &f, 30);
  CHECK(f.n == 0 && f.noise == 0, "pre-sync READ_REG got %d frames", f.n);
  t_frames_free(&f);

  t_send_sync(s);
  t_frames(s, &f, 50);
  CHECK(f.n == 8, "SYNC gave %d replies", f.n);
  int good = 0;
  for (int i = 0; i < f.n; i++) {
    static const uint8_t want[12] = {0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0, 0, 0, 0};
    good += f.len[i] == 12 && memcmp(f.data[i], want, 12) == 0;
  }
  CHECK(good == 8, "only %d SYNC replies are 01 08 04 00 07 07 12 20 00 00 00 00", good);
  t_frames_free(&f);

  /* A second SYNC inside the loader: 8 replies again. */
  t_send_sync(s);
  t_frames(s, &f, 50);
  CHECK(f.n == 8, "second SYNC gave %d replies", f.n);
  t_frames_free(&f);
  sim_destroy(s);
}

static void test_stale_opcode(void) {
  sim_profile_t p = t_profile_esp32();
  sim_t *s = t_new_download(&p);
  t_sync_rom(s);
  t_frames_t f;
  t_send(s, 0x14, NULL, 0, 0);   /* GET_SECURITY_INFO: not in the ESP32 ROM */
  t_frames(s, &f, 50);
  CHECK(f.n == 8, "unsupported after SYNC gave %d frames (want 8)", f.n);
  static const uint8_t want[12] = {0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x01, 0x05, 0, 0};
  CHECK(f.n > 0 && f.len[0] == 12 && memcmp(f.data[0], want, 12) == 0, "stale reply bytes differ");
  t_frames_free(&f);

  /* After READ_REG, an unsupported opcode carries 0x0A, value = the register, once. */
  uint32_t magic = t_read_reg(s, 0x40001000);
  CHECK(magic == 0x00F01D83, "ESP32 magic 0x%08x", magic);
  size_t len;
  uint8_t *r = t_cmd(s, 0x0C, NULL, 0, 0, &len);
  CHECK(r && len == 12 && r[1] == 0x0A && t_get32(r + 4) == 0x00F01D83 && r[8] == 1 && r[9] == 5,
        "0x0C after READ_REG: stale op/value/status wrong");
  free(r);

  /* Direction byte 1 is refused the same way. */
  uint8_t pkt[8] = {0x01, 0x0A, 0, 0, 0, 0, 0, 0};
  t_send_raw_frame(s, pkt, 8);
  t_frames(s, &f, 50);
  CHECK(f.n == 1 && f.data[0][1] == 0x0A && f.data[0][8] == 1 && f.data[0][9] == 5,
        "direction 1: %d frames", f.n);
  t_frames_free(&f);

  /* Values: unmapped READ_REG reads 0; MEM_BEGIN's reply keeps the stale value. */
  CHECK(t_read_reg(s, 0x3FF5A004) == 0x287AD884, "eFuse MAC word");
  CHECK(t_read_reg(s, 0x12345678) == 0, "unmapped register not 0");
  sim_destroy(s);
}

static uint32_t spi_rdid(sim_t *s, const sim_profile_t *p, int stub) {
  uint32_t b = p->spi_base;
  t_write_reg(s, b + p->spi_miso_dlen, 23, stub);
  t_write_reg(s, b + p->spi_usr, 1u << 31 | 1u << 28, stub);
  t_write_reg(s, b + p->spi_usr2, 7u << 28 | 0x9F, stub);
  t_write_reg(s, b + p->spi_w0, 0, stub);
  t_write_reg(s, b, 1u << 18, stub);
  uint32_t cmd = t_read_reg(s, b);
  CHECK((cmd & (1u << 18)) == 0, "SPI CMD USR bit still set: 0x%08x", cmd);
  return t_read_reg(s, b + p->spi_w0);
}

static void test_registers(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  t_sync_rom(s);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "C3 magic");
  CHECK(t_read_reg(s, 0x60008844) == 0xF97E7BC0, "C3 MAC0");
  uint32_t id = spi_rdid(s, &p, 0);
  CHECK(id == 0x1640C8, "RDID through SPI registers: 0x%06x", id);
  /* RDSR reads 0. */
  t_write_reg(s, p.spi_base + p.spi_usr2, 7u << 28 | 0x05, 0);
  t_write_reg(s, p.spi_base + p.spi_w0, 0xFFFFFFFF, 0);
  t_write_reg(s, p.spi_base, 1u << 18, 0);
  CHECK(t_read_reg(s, p.spi_base + p.spi_w0) == 0, "RDSR not 0");
  /* Masked read-modify-write, two records in one command. */
  uint8_t d[32];
  size_t len;
  t_put32(d, 0x600000A0); t_put32(d + 4, 0x12345678); t_put32(d + 8, 0xFFFFFFFF); t_put32(d + 12, 0);
  t_put32(d + 16, 0x600000A0); t_put32(d + 20, 0x0000AB00); t_put32(d + 24, 0x0000FF00); t_put32(d + 28, 0);
  uint8_t *r = t_cmd(s, 0x09, d, 32, 0, &len);
  CHECK(t_rom_status(r, len) == 0, "WRITE_REG status");
  free(r);
  CHECK(t_read_reg(s, 0x600000A0) == 0x1234AB78, "masked write gave 0x%08x", t_read_reg(s, 0x600000A0));
  /* GET_SECURITY_INFO: 20 bytes, chip id 5, key purposes ...,12. */
  r = t_cmd(s, 0x14, NULL, 0, 0, &len);
  CHECK(r && len == 8 + 20 + 4 && r[2] == 24 && r[8 + 11] == 12 && t_get32(r + 8 + 12) == 5 &&
        t_get32(r + 8) == 0 && t_rom_status(r, len) == 0, "security info reply");
  free(r);
  sim_destroy(s);
}

static int flash_begin(sim_t *s, uint32_t size, uint32_t blocks, uint32_t bs, uint32_t off, int len20) {
  uint8_t d[20] = {0};
  size_t len;
  t_put32(d, size); t_put32(d + 4, blocks); t_put32(d + 8, bs); t_put32(d + 12, off);
  uint8_t *r = t_cmd(s, 0x02, d, len20 ? 20 : 16, 0, &len);
  int st = t_rom_status(r, len);
  free(r);
  return st;
}

static int flash_data(sim_t *s, uint8_t op, const uint8_t *data, uint32_t n, uint32_t seq, int bad_chk) {
  uint8_t *d = malloc(16 + n);
  size_t len;
  t_put32(d, n); t_put32(d + 4, seq); t_put32(d + 8, 0); t_put32(d + 12, 0);
  memcpy(d + 16, data, n);
  uint8_t *r = t_cmd(s, op, d, 16 + n, t_xor(data, n) ^ (bad_chk ? 0x5A : 0), &len);
  int st = t_rom_status(r, len);
  free(r);
  free(d);
  return st;
}

static void test_flash_rom(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  t_sync_rom(s);
  uint8_t blk[1024], got[2048];
  for (size_t i = 0; i < sizeof blk; i++) blk[i] = (uint8_t)(i ^ 0xA5);
  CHECK(flash_begin(s, 2048, 2, 1024, 0x10000, 0) == 5, "16-byte FLASH_BEGIN on C3 not refused");
  CHECK(flash_begin(s, 2048, 2, 0x2000, 0x10000, 1) == 5, "block size 0x2000 not refused");
  CHECK(flash_begin(s, 2048, 2, 1024, 0x10100, 1) == 6, "unaligned offset not 0x06");
  CHECK(flash_begin(s, 8192, 8, 1024, 0x3FF000, 1) == 6, "beyond 4 MB not 0x06");
  sim_flash_write(s, 0x10000, (const uint8_t *)"\x00\x00\x00\x00", 4);
  CHECK(flash_begin(s, 2048, 2, 1024, 0x10000, 1) == 0, "FLASH_BEGIN failed");
  sim_flash_read(s, 0x10000, got, 4);
  CHECK(got[0] == 0xFF, "FLASH_BEGIN did not erase synchronously");
  CHECK(flash_data(s, 0x03, blk, 1024, 1, 0) == 5, "wrong seq not 0x05");
  CHECK(flash_data(s, 0x03, blk, 1022, 0, 0) == 5, "size not multiple of 4 not 0x05");
  CHECK(flash_data(s, 0x03, blk, 1024, 0, 1) == 7, "bad checksum not 0x07");
  /* The ROM advanced seq before the checksum test: a retry of seq 0 is 0x05. */
  CHECK(flash_data(s, 0x03, blk, 1024, 0, 0) == 5, "retry after checksum error not 0x05");
  CHECK(flash_data(s, 0x03, blk, 1024, 1, 0) == 0, "seq 1 refused");
  sim_flash_read(s, 0x10000, got, 1024);
  CHECK(memcmp(got, blk, 1024) == 0, "block not programmed at the offset");
  /* FLASH_END: 1 block of 2 received -> 0x06, and the loader is left (run user code). */
  uint8_t flag[4];
  size_t len;
  t_put32(flag, 1);
  uint8_t *r = t_cmd(s, 0x04, flag, 4, 0, &len);
  CHECK(t_rom_status(r, len) == 6, "FLASH_END count mismatch not 0x06");
  free(r);
  CHECK(strcmp(sim_state_name(s), "running") == 0, "after FLASH_END(1) state %s", sim_state_name(s));
  sim_destroy(s);

  /* AND semantics: programming over unerased data fails the read-back (0x08). */
  s = t_new_download(&p);
  t_sync_rom(s);
  CHECK(flash_begin(s, 0, 1, 1024, 0x20000, 1) == 0, "FLASH_BEGIN 0 bytes");
  sim_flash_write(s, 0x20000, (const uint8_t *)"\x0F\x0F\x0F\x0F", 4);
  uint8_t ff4[4] = {0xF0, 0xFF, 0x0F, 0xFF};
  CHECK(flash_data(s, 0x03, ff4, 4, 0, 0) == 8, "write over unerased flash not 0x08");
  sim_flash_read(s, 0x20000, got, 4);
  CHECK(got[0] == 0x00 && got[1] == 0x0F && got[2] == 0x0F, "program is not AND: %02x %02x", got[0], got[1]);
  /* FLASH_END(0) with matching counts is impossible now; FLASH_BEGIN(0,0)+END(0) reboots. */
  CHECK(flash_begin(s, 0, 0, 1024, 0, 1) == 0, "FLASH_BEGIN(0,0)");
  t_put32(flag, 0);
  t_send(s, 0x04, flag, 4, 0);
  uint8_t raw[1024];
  size_t n = t_read_raw(s, raw, sizeof raw, 50);
  t_frames_t f;
  t_decode(raw, n, &f);
  CHECK(f.n == 1 && t_rom_status(f.data[0], f.len[0]) == 0, "FLASH_END(0) reply");
  raw[n < sizeof raw ? n : sizeof raw - 1] = 0;
  CHECK(n > 16 && raw[14] == 0xC0 && raw[15] == 0xC0 && strstr((char *)raw + 16, "waiting for download"),
        "FLASH_END(0): no C0 C0 + download banner");
  CHECK(strcmp(sim_state_name(s), "rom") == 0, "after reboot state %s", sim_state_name(s));
  t_frames_free(&f);
  /* The rebooted ROM wants a SYNC again. */
  t_send(s, 0x0A, flag, 4, 0);
  t_frames(s, &f, 30);
  CHECK(f.n == 0, "rebooted ROM answered before SYNC");
  t_frames_free(&f);
  sim_destroy(s);
}

static void test_deflate_rom(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  t_sync_rom(s);
  enum { RAW = 5000 };
  uint8_t raw[RAW], comp[8192], got[RAW];
  for (int i = 0; i < RAW; i++) raw[i] = (uint8_t)((i * 31) >> 3);
  uLongf clen = sizeof comp;
  compress2(comp, &clen, raw, RAW, 9);
  uint32_t blocks = (uint32_t)((clen + 1023) / 1024);
  uint8_t d[20] = {0};
  size_t len;
  t_put32(d, 5 * 1024); t_put32(d + 4, blocks); t_put32(d + 8, 1024); t_put32(d + 12, 0x8000);
  uint8_t *r = t_cmd(s, 0x10, d, 20, 0, &len);
  CHECK(t_rom_status(r, len) == 0, "DEFL_BEGIN");
  free(r);
  for (uint32_t i = 0; i < blocks; i++) {
    uint32_t k = (uint32_t)(clen - i * 1024 < 1024 ? clen - i * 1024 : 1024);
    CHECK(flash_data(s, 0x11, comp + i * 1024, k, i, 0) == 0, "DEFL_DATA block %u", i);
  }
  sim_flash_read(s, 0x8000, got, RAW);
  CHECK(memcmp(got, raw, RAW) == 0, "inflated data differs");
  /* MD5 over the written data: 32 lowercase hex chars. */
  uint8_t m[16];
  t_put32(m, 0x8000); t_put32(m + 4, RAW); t_put32(m + 8, 0); t_put32(m + 12, 0);
  r = t_cmd(s, 0x13, m, 16, 0, &len);
  MD5_CTX c;
  uint8_t dg[16];
  char hex[33];
  MD5Init(&c);
  MD5Update(&c, raw, RAW);
  MD5Final(dg, &c);
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", dg[i]);
  CHECK(r && len == 44 && memcmp(r + 8, hex, 32) == 0 && t_rom_status(r, len) == 0, "ROM MD5 reply");
  free(r);
  /* READ_FLASH_SLOW: 64 data bytes, only `length` meaningful; > 64 is 0x0A. */
  t_put32(m, 0x8000); t_put32(m + 4, 16);
  r = t_cmd(s, 0x0E, m, 8, 0, &len);
  CHECK(r && len == 8 + 64 + 4 && memcmp(r + 8, raw, 16) == 0, "READ_FLASH_SLOW");
  free(r);
  t_put32(m + 4, 65);
  r = t_cmd(s, 0x0E, m, 8, 0, &len);
  CHECK(t_rom_status(r, len) == 0x0A, "READ_FLASH_SLOW 65 not 0x0A");
  free(r);
  /* Corrupt stream: 0x0B. */
  t_put32(d, 4096); t_put32(d + 4, 1); t_put32(d + 12, 0x20000);
  free(t_cmd(s, 0x10, d, 20, 0, &len));
  uint8_t junk[8] = {0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  CHECK(flash_data(s, 0x11, junk, 8, 0, 0) == 0x0B, "corrupt deflate not 0x0B");
  sim_destroy(s);
}

static void test_secure_download(void) {
  sim_profile_t p = t_profile_c3();
  sim_options_t o = {0};
  o.start_in_download = 1;
  o.secure_download = 1;
  sim_t *s = t_new(&p, &o);
  t_sync_rom(s);
  size_t len;
  uint8_t *r = t_cmd(s, 0x14, NULL, 0, 0, &len);
  CHECK(r && len == 32 && (t_get32(r + 8) & 4), "SDM flag bit 2 not set");
  free(r);
  uint8_t d[16];
  t_put32(d, 0x40001000);
  r = t_cmd(s, 0x0A, d, 4, 0, &len);
  CHECK(r && r[1] == 0x14 && t_rom_status(r, len) == 5, "READ_REG allowed in SDM");
  free(r);
  t_put32(d, 0x100); t_put32(d + 4, 1); t_put32(d + 8, 0x1800); t_put32(d + 12, C3_STUB_TEXT);
  r = t_cmd(s, 0x05, d, 16, 0, &len);
  CHECK(r && t_rom_status(r, len) == 5, "MEM_BEGIN (stub upload) allowed in SDM");
  free(r);
  CHECK(flash_begin(s, 4096, 1, 1024, 0, 1) == 0, "FLASH_BEGIN refused in SDM");
  sim_destroy(s);
}

static void test_change_baud(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  t_sync_rom(s);
  uint8_t d[8];
  size_t len;
  t_put32(d, 921600); t_put32(d + 4, 0);
  t_send(s, 0x0F, d, 8, 0);
  uint8_t raw[64];
  size_t n = t_read_raw(s, raw, sizeof raw, 50);
  CHECK(n == 16 && raw[14] == 0xC0 && raw[15] == 0xC0, "CHANGE_BAUDRATE: reply then C0 C0 (got %zu bytes)", n);
  /* Still at 115200 on the host: the device now ignores us and we read garbage. */
  t_put32(d, 0x60000014);
  t_send(s, 0x0A, d, 4, 0);
  n = t_read_raw(s, raw, sizeof raw, 30);
  CHECK(n == 0, "device answered at the old baud");
  sim_set_host_baud(s, 921600);
  uint32_t div = t_read_reg(s, 0x60000014);
  CHECK(div == ((694u >> 4) | (694u & 15) << 20), "CLKDIV after 921600: 0x%08x", div);
  /* A mismatch the other way garbles device bytes. */
  sim_set_host_baud(s, 115200);
  t_put32(d, 0x40001000);
  sim_set_host_baud(s, 921600);
  t_send(s, 0x0A, d, 4, 0);
  sim_set_host_baud(s, 115200);
  n = t_read_raw(s, raw, sizeof raw, 30);
  int c0 = 0;
  for (size_t i = 0; i < n; i++) c0 += raw[i] == 0xC0;
  CHECK(n > 0 && c0 == 0, "mismatched host read %zu bytes with %d C0s", n, c0);
  (void)len;
  sim_destroy(s);
}

static void test_framing(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  /* Autobaud: the first SYNC at 230400 sets the ROM's rate (and CLKDIV). */
  sim_set_host_baud(s, 230400);
  CHECK(t_read_reg(s, 0x40001000) == 0xDEADBEEF, "answered before SYNC");
  t_frames_t f;
  t_send_sync(s);
  t_frames(s, &f, 50);
  CHECK(f.n == 8, "SYNC at 230400: %d replies", f.n);
  t_frames_free(&f);
  uint32_t d16 = 40000000u * 16 / 230400;
  CHECK(t_read_reg(s, 0x60000014) == ((d16 >> 4) | (d16 & 15) << 20), "CLKDIV after autobaud");
  /* Noise between frames, an empty frame, and an invalid escape the ROM keeps literally. */
  uint8_t raw[] = {'x', 'y', 0xC0, 0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0,
                   0x00, 0x10, 0x00, 0x40, 0xC0};
  sim_host_write(s, raw, sizeof raw);
  t_frames(s, &f, 50);
  CHECK(f.n == 1 && f.len[0] == 12 && t_get32(f.data[0] + 4) == 0x1B31506F, "noise/empty frame broke READ_REG");
  t_frames_free(&f);
  uint8_t esc[] = {0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0xDB, 0x44, 0x88, 0x00, 0x60, 0xC0};
  sim_host_write(s, esc, sizeof esc);
  t_frames(s, &f, 50);
  CHECK(f.n == 1 && t_get32(f.data[0] + 4) == 0xF97E7BC0, "invalid escape not kept literally");
  t_frames_free(&f);
  /* Size field larger than the data: 0x05. */
  uint8_t shortf[] = {0xC0, 0x00, 0x0A, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40, 0xC0};
  sim_host_write(s, shortf, sizeof shortf);
  t_frames(s, &f, 50);
  CHECK(f.n == 1 && t_rom_status(f.data[0], f.len[0]) == 5, "truncated frame not 0x05");
  t_frames_free(&f);
  sim_destroy(s);
}

int main(void) {
  test_framing();
  test_presync_and_sync();
  test_stale_opcode();
  test_registers();
  test_flash_rom();
  test_deflate_rom();
  test_secure_download();
  test_change_baud();
  return check_finish("test_sim_rom");
}
