/* test_sim_stub.c: the flasher stub personality (esptool-js "stub 2"): stub
 * start by MEM_END, compressed writes, READ_FLASH streaming, erase commands,
 * deferred errors. */
#include <md5.h>
#include <zlib.h>

#include "test_sim.h"

static sim_t *stub_sim(const sim_profile_t *p) {
  sim_t *s = t_new_download(p);
  t_sync_rom(s);
  int ohai = 0;
  int n = t_upload_stub(s, C3_STUB_ENTRY, &ohai);
  CHECK(n == 2 && ohai, "MEM_END: %d frames, OHAI %d", n, ohai);
  CHECK(strcmp(sim_state_name(s), "stub") == 0, "state %s", sim_state_name(s));
  return s;
}

static int cmd_status(sim_t *s, uint8_t op, const uint8_t *d, size_t n, uint32_t chk) {
  size_t len = 0;
  uint8_t *r = t_cmd(s, op, d, n, chk, &len);
  int st = r && len == 10 && r[1] == op ? t_stub_status(r, len) : -1;
  free(r);
  return st;
}

static void test_stub_start(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = stub_sim(&p);
  t_frames_t f;
  t_send_sync(s);
  t_frames(s, &f, 50);
  int zero = 0;
  for (int i = 0; i < f.n; i++) zero += f.len[i] == 10 && t_get32(f.data[i] + 4) == 0 && f.data[i][8] == 0;
  CHECK(f.n == 8 && zero == 8, "stub SYNC: %d replies, %d with value 0", f.n, zero);
  t_frames_free(&f);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "stub READ_REG magic");
  CHECK(cmd_status(s, 0x0D, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8, 0) == 0xC0, "SPI_ATTACH 8 bytes accepted");
  CHECK(cmd_status(s, 0x0D, (const uint8_t *)"\0\0\0\0", 4, 0) == 0, "SPI_ATTACH 4 bytes refused");
  CHECK(cmd_status(s, 0x55, NULL, 0, 0) == 0xC3, "unknown opcode not C3");
  /* Strict framing: an invalid escape drops the frame; a size field that does not
   * match the frame is C0; direction 1 is C3. */
  uint8_t esc[] = {0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0xDB, 0x44, 0x88, 0x00, 0x60, 0xC0};
  sim_host_write(s, esc, sizeof esc);
  t_frames(s, &f, 30);
  CHECK(f.n == 0, "stub answered a frame with an invalid escape");
  t_frames_free(&f);
  uint8_t mism[] = {0x00, 0x0A, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40};
  t_send_raw_frame(s, mism, sizeof mism);
  t_frames(s, &f, 30);
  CHECK(f.n == 1 && f.len[0] == 10 && f.data[0][8] == 0xC0, "size mismatch not C0");
  t_frames_free(&f);
  mism[0] = 1;
  mism[2] = 4;
  t_send_raw_frame(s, mism, sizeof mism);
  t_frames(s, &f, 30);
  CHECK(f.n == 1 && f.len[0] == 10 && f.data[0][8] == 0xC3, "direction 1 not C3");
  t_frames_free(&f);
  /* Plain replies are 10 bytes with value 0; READ_REG of the C3 MAC works. */
  CHECK(t_read_reg(s, 0x60008848) == 0x6055, "stub READ_REG MAC1");
  size_t len;
  uint8_t *r = t_cmd(s, 0x14, NULL, 0, 0, &len);
  CHECK(r && len == 8 + 20 + 2 && t_get32(r + 20) == 5, "stub security info");
  free(r);
  sim_destroy(s);

  /* An entry that is not a known stub: a user RAM program, quiet afterwards. */
  s = t_new_download(&p);
  t_sync_rom(s);
  int ohai = 1;
  int n = t_upload_stub(s, C3_STUB_TEXT + 4, &ohai);
  CHECK(n == 1 && !ohai, "user RAM program: %d frames", n);
  CHECK(strcmp(sim_state_name(s), "running") == 0, "state %s", sim_state_name(s));
  t_send_sync(s);
  t_frames(s, &f, 30);
  CHECK(f.n == 0, "RAM program answered SYNC");
  t_frames_free(&f);
  sim_destroy(s);

  /* A listed entry never uploaded: also not the stub. */
  s = t_new_download(&p);
  t_sync_rom(s);
  uint8_t d[8];
  t_put32(d, 0);
  t_put32(d + 4, C3_STUB_ENTRY);
  t_send(s, 0x06, d, 8, 0);
  t_frames(s, &f, 30);
  CHECK(f.n == 1, "MEM_END to a never-loaded entry: %d frames", f.n);
  t_frames_free(&f);
  sim_destroy(s);
}

static int begin(sim_t *s, uint8_t op, uint32_t size, uint32_t blocks, uint32_t bs, uint32_t off) {
  uint8_t d[16];
  t_put32(d, size); t_put32(d + 4, blocks); t_put32(d + 8, bs); t_put32(d + 12, off);
  return cmd_status(s, op, d, 16, 0);
}

static int data(sim_t *s, uint8_t op, const uint8_t *b, uint32_t n, uint32_t seq) {
  uint8_t *d = malloc(16 + n);
  t_put32(d, n); t_put32(d + 4, seq); t_put32(d + 8, 0); t_put32(d + 12, 0);
  memcpy(d + 16, b, n);
  int st = cmd_status(s, op, d, 16 + n, t_xor(b, n));
  free(d);
  return st;
}

static int end(sim_t *s, uint8_t op, uint32_t flag) {
  uint8_t d[4];
  t_put32(d, flag);
  return cmd_status(s, op, d, 4, 0);
}

static void test_stub_write(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = stub_sim(&p);
  enum { RAW = 40000 };
  uint8_t *raw = malloc(RAW), *got = malloc(RAW + 8192), comp[65536];
  for (int i = 0; i < RAW; i++) raw[i] = (uint8_t)(i % 251);
  /* Old contents around the target: the sector before stays, the tail sector is erased. */
  memset(got, 0x11, 8192);
  sim_flash_write(s, 0x0F000, got, 8192);
  sim_flash_write(s, 0x10000 + RAW, got, 100);
  uLongf clen = sizeof comp;
  compress2(comp, &clen, raw, RAW, 9);
  uint32_t bs = 0x4000, blocks = (uint32_t)((clen + bs - 1) / bs);
  CHECK(begin(s, 0x10, RAW, blocks, bs, 0x10000) == 0, "DEFL_BEGIN (16 bytes)");
  /* Compressed data cut in two uneven blocks to exercise streaming. */
  uint32_t cut = (uint32_t)clen / 3;
  CHECK(data(s, 0x11, comp, cut, 0) == 0, "DEFL_DATA 0");
  CHECK(data(s, 0x11, comp + cut, (uint32_t)clen - cut, 7) == 0, "DEFL_DATA 1 (seq ignored)");
  CHECK(end(s, 0x12, 1) == 0, "DEFL_END");
  CHECK(strcmp(sim_state_name(s), "stub") == 0, "stub left after DEFL_END(1)");
  sim_flash_read(s, 0x10000, got, RAW + 100);
  CHECK(memcmp(got, raw, RAW) == 0, "inflated data differs");
  CHECK(got[RAW] == 0xFF && got[RAW + 99] == 0xFF, "lazy erase missed the tail of the last sector");
  sim_flash_read(s, 0x0F000, got, 4);
  CHECK(got[0] == 0x11, "sector before the write was erased");
  /* MD5: 16 raw bytes, 26-byte reply. */
  uint8_t m[16], dg[16];
  size_t len;
  t_put32(m, 0x10000); t_put32(m + 4, RAW); t_put32(m + 8, 0); t_put32(m + 12, 0);
  uint8_t *r = t_cmd(s, 0x13, m, 16, 0, &len);
  MD5_CTX c;
  MD5Init(&c);
  MD5Update(&c, raw, RAW);
  MD5Final(dg, &c);
  CHECK(r && len == 26 && memcmp(r + 8, dg, 16) == 0 && r[24] == 0, "stub MD5 reply");
  free(r);
  /* FLASH_END with bytes still expected: C0. */
  uint8_t blk[1024];
  memset(blk, 0x42, sizeof blk);
  CHECK(begin(s, 0x02, 2048, 2, 1024, 0x30000) == 0, "FLASH_BEGIN");
  CHECK(data(s, 0x03, blk, 1024, 0) == 0, "FLASH_DATA");
  CHECK(end(s, 0x04, 0) == 0xC0, "FLASH_END with data missing not C0");
  /* FLASH_END(0) after a complete write: no reboot. */
  CHECK(begin(s, 0x02, 1000, 1, 1024, 0x30000) == 0, "FLASH_BEGIN 1000");
  CHECK(data(s, 0x03, blk, 1024, 0) == 0, "FLASH_DATA padded block");
  CHECK(end(s, 0x04, 0) == 0, "FLASH_END(0)");
  CHECK(strcmp(sim_state_name(s), "stub") == 0, "stub rebooted on FLASH_END(0)");
  sim_flash_read(s, 0x30000 + 998, got, 4);
  CHECK(got[0] == 0x42 && got[1] == 0x42 && got[2] == 0xFF, "padding beyond the size was written");
  /* Bad checksum: C1. Deferred inflate error: reported on the next command, which is skipped. */
  uint8_t d[16 + 8] = {8, 0, 0, 0};
  memcpy(d + 16, "\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
  CHECK(begin(s, 0x10, 4096, 1, 0x4000, 0x40000) == 0, "DEFL_BEGIN 2");
  CHECK(cmd_status(s, 0x11, d, sizeof d, 0x12) == 0xC1, "bad checksum not C1");
  CHECK(cmd_status(s, 0x11, d, sizeof d, t_xor(d + 16, 8)) == 0, "corrupt block not acked first");
  uint32_t before = t_read_reg(s, 0x40001000);
  CHECK(before == 0, "deferred C7 not reported on the next command (value 0x%08x)", before);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "error reported twice");
  free(raw);
  free(got);
  sim_destroy(s);
}

static void test_read_flash(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = stub_sim(&p);
  enum { N = 10000 };
  uint8_t *pat = malloc(N), *acc = malloc(N);
  for (int i = 0; i < N; i++) pat[i] = (uint8_t)(i * 13 + (i >> 8));
  pat[5] = 0xC0;
  pat[6] = 0xDB;
  sim_flash_write(s, 0x50000, pat, N);
  uint8_t d[16];
  t_put32(d, 0x50000); t_put32(d + 4, N); t_put32(d + 8, 4096); t_put32(d + 12, 64);
  t_frames_t f;
  t_send(s, 0xD2, d, 16, 0);
  t_frames(s, &f, 50);
  CHECK(f.n == 2 && f.len[0] == 10 && f.data[0][8] == 0 && f.len[1] == 4096,
        "READ_FLASH: reply + first packet, got %d frames", f.n);
  size_t got = 0;
  if (f.n == 2) memcpy(acc, f.data[1], f.len[1]), got = f.len[1];
  t_frames_free(&f);
  int rounds = 0;
  while (got < N && rounds++ < 10) {
    uint8_t ack[4];
    t_put32(ack, (uint32_t)got);
    t_send_raw_frame(s, ack, 4);
    t_frames(s, &f, 50);
    CHECK(f.n == 1, "one packet per ack, got %d", f.n);
    if (f.n < 1) break;
    memcpy(acc + got, f.data[0], f.len[0]);
    got += f.len[0];
    t_frames_free(&f);
  }
  CHECK(got == N && memcmp(acc, pat, N) == 0, "READ_FLASH data differs (%zu bytes)", got);
  uint8_t ack[4], dg[16];
  t_put32(ack, N);
  t_send_raw_frame(s, ack, 4);
  t_frames(s, &f, 50);
  MD5_CTX c;
  MD5Init(&c);
  MD5Update(&c, pat, N);
  MD5Final(dg, &c);
  CHECK(f.n == 1 && f.len[0] == 16 && memcmp(f.data[0], dg, 16) == 0, "READ_FLASH digest frame");
  t_frames_free(&f);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "commands after READ_FLASH");
  /* packet_size > 4096: success reply, then C0 on the next command. */
  t_put32(d + 8, 8192);
  CHECK(cmd_status(s, 0xD2, d, 16, 0) == 0, "READ_FLASH 8192 reply");
  CHECK(t_read_reg(s, 0x40001000) == 0, "deferred C0 not reported");
  free(pat);
  free(acc);
  sim_destroy(s);
}

static void test_erase(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = stub_sim(&p);
  uint8_t zero[8192] = {0}, got[4];
  sim_flash_write(s, 0x1000, zero, sizeof zero);
  uint8_t d[8];
  t_put32(d, 0x1800); t_put32(d + 4, 4096);
  CHECK(cmd_status(s, 0xD1, d, 8, 0) == 0xC0, "unaligned ERASE_REGION not C0");
  t_put32(d, 0x1000); t_put32(d + 4, 4096);
  CHECK(cmd_status(s, 0xD1, d, 8, 0) == 0, "ERASE_REGION");
  sim_flash_read(s, 0x1FFC, got, 4);
  CHECK(got[3] == 0xFF, "region not erased");
  sim_flash_read(s, 0x2000, got, 4);
  CHECK(got[0] == 0x00, "erased beyond the region");
  CHECK(cmd_status(s, 0xD0, NULL, 0, 0) == 0, "ERASE_FLASH");
  sim_flash_read(s, 0x2000, got, 4);
  CHECK(got[0] == 0xFF, "chip erase missed data");
  sim_destroy(s);
}

static void test_stub_baud(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = stub_sim(&p);
  uint8_t d[8];
  t_put32(d, 460800); t_put32(d + 4, 115200);
  CHECK(cmd_status(s, 0x0F, d, 8, 0) == 0, "stub CHANGE_BAUDRATE reply at the old baud");
  sim_set_host_baud(s, 460800);
  uint32_t div = t_read_reg(s, 0x60000014), div16 = 40000000u * 16 / 460800;
  CHECK(div == ((div16 >> 4) | (div16 & 15) << 20), "stub CLKDIV 0x%08x", div);
  sim_destroy(s);
}

int main(void) {
  test_stub_start();
  test_stub_write();
  test_read_flash();
  test_erase();
  test_stub_baud();
  return check_finish("test_sim_stub");
}
