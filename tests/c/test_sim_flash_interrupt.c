/* test_sim_flash_interrupt.c: the virtual device's work over the whole flash
 * stops at Ctrl-C (src/sim/flash.c). With sim:// the model runs in the CLI's
 * own thread, so an MD5 whose size wraps around the flash (seconds of CPU),
 * an erase of all of it or sizing a new flash file must poll
 * espflash_interrupted, stop early and say so (-1: the caller then sends no
 * reply) rather than return a digest of part of the region. */
#include <fcntl.h>
#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core.h"
#include "sim/sim_int.h"

#define FLASH (16u << 20)

static void md5_of_ff(uint32_t n, uint8_t out[16]) {
  static uint8_t ff[65536];
  memset(ff, 0xFF, sizeof ff);
  MD5_CTX c;
  MD5Init(&c);
  while (n) {
    uint32_t k = n < sizeof ff ? n : (uint32_t)sizeof ff;
    MD5Update(&c, ff, k);
    n -= k;
  }
  MD5Final(out, &c);
}

static int all_bytes(const sim_flash_t *f, uint32_t from, uint32_t to, uint8_t v) {
  for (uint32_t i = from; i < to; i++)
    if (f->mem[i] != v) return 0;
  return 1;
}

static void test_md5(void) {
  sim_flash_t f;
  char err[256];
  CHECK(sim_flash_open(&f, NULL, FLASH, err, sizeof err) == 0, "%s", err);
  uint8_t got[16], want[16];

  /* uninterrupted: a region that wraps around the flash, in several steps */
  espflash_interrupted = 0;
  CHECK(sim_flash_md5(&f, 0x1000, FLASH + 0x500000, got) == 0, "md5 not interrupted");
  md5_of_ff(FLASH + 0x500000, want);
  CHECK(memcmp(got, want, 16) == 0, "digest of a wrapping region");

  /* interrupted: 4 GiB of MD5 stops after one step, and leaves no digest */
  espflash_interrupted = 1;
  memset(got, 0xAA, sizeof got);
  int64_t t0 = core_now_us();
  int rc = sim_flash_md5(&f, 0, 0xFFFFF000u, got);
  int64_t us = core_now_us() - t0;
  CHECK(rc == -1, "interrupted md5 returns -1, got %d", rc);
  CHECK(us < 200000, "interrupted md5 stops at once (%lld us)", (long long)us);
  uint8_t untouched[16];
  memset(untouched, 0xAA, sizeof untouched);
  CHECK(memcmp(got, untouched, 16) == 0, "no digest written for part of the region");
  /* small work (within one step) still completes */
  CHECK(sim_flash_md5(&f, 0, 0x1000, got) == 0, "a 4 KiB md5 is done in one step");
  md5_of_ff(0x1000, want);
  CHECK(memcmp(got, want, 16) == 0, "and is right");
  espflash_interrupted = 0;
  sim_flash_close(&f);
}

static void test_erase(void) {
  sim_flash_t f;
  char err[256];
  CHECK(sim_flash_open(&f, NULL, FLASH, err, sizeof err) == 0, "%s", err);
  memset(f.mem, 0x00, FLASH);

  espflash_interrupted = 1;
  CHECK(sim_flash_erase(&f, 0, FLASH) == -1, "interrupted erase-all returns -1");
  CHECK(all_bytes(&f, 0, SIM_POLL_BYTES, 0xFF), "the first step was erased");
  CHECK(all_bytes(&f, SIM_POLL_BYTES, FLASH, 0x00), "nothing past the first step");
  CHECK(sim_flash_erase(&f, 0x8000, 0x2000) == 0, "a sector erase completes");
  espflash_interrupted = 0;

  CHECK(sim_flash_erase(&f, 0, FLASH) == 0, "erase-all");
  CHECK(all_bytes(&f, 0, FLASH, 0xFF), "all erased");
  /* a region that wraps: the end of the flash and its start */
  memset(f.mem, 0x00, FLASH);
  CHECK(sim_flash_erase(&f, FLASH - 0x1000, 0x3000) == 0, "wrapping erase");
  CHECK(all_bytes(&f, FLASH - 0x1000, FLASH, 0xFF) && all_bytes(&f, 0, 0x2000, 0xFF), "both ends erased");
  CHECK(all_bytes(&f, 0x2000, FLASH - 0x1000, 0x00), "nothing else");
  sim_flash_close(&f);
}

static void test_file(void) {
  char path[] = "/tmp/espflash-simflash-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  if (fd < 0) return;
  close(fd);
  sim_flash_t f;
  char err[256] = "";
  struct stat st;

  espflash_interrupted = 1;
  CHECK(sim_flash_open(&f, path, FLASH, err, sizeof err) == -1, "sizing a new file is interrupted");
  CHECK(strstr(err, "interrupted") != NULL, "and says so: %s", err);
  CHECK(stat(path, &st) == 0 && st.st_size < (off_t)FLASH, "the file is left short (%lld)", (long long)st.st_size);
  espflash_interrupted = 0;

  CHECK(sim_flash_open(&f, path, FLASH, err, sizeof err) == 0, "the next open grows it: %s", err);
  CHECK(stat(path, &st) == 0 && st.st_size == (off_t)FLASH, "to the flash size (%lld)", (long long)st.st_size);
  CHECK(all_bytes(&f, 0, FLASH, 0xFF), "erased throughout");
  sim_flash_close(&f);
  unlink(path);
}

int main(void) {
  test_md5();
  test_erase();
  test_file();
  printf("test_sim_flash_interrupt: %d checks, %d failed\n", checks, failed);
  return failed ? 1 : 0;
}
