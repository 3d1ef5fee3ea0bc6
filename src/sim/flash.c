/* flash.c: the simulated NOR flash, in memory or mapped from a backing file.
 *
 * Erase sets bytes to 0xFF, programming ANDs bits in (it can only clear
 * them). Addresses wrap at the chip size like a real SPI flash's address
 * counter. A backing file is created and filled with 0xFF when new, grown
 * with 0xFF when shorter than the flash, and refused when longer; it is
 * mapped shared, so every change is in the file (msync'ed on close).
 *
 * Work over the whole flash (an erase of all of it, an MD5 whose size wraps
 * around a 256 MiB flash 16 times: seconds of CPU) runs in the caller's
 * thread when the sim is in-process (sim://), so it goes in SIM_POLL_BYTES
 * steps and stops early once espflash_interrupted is set; the caller then
 * sends no reply, and the host's wait for it ends on the same flag. */
#include "sim/sim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

uint32_t sim_jedec_size(uint32_t jedec) {
  uint32_t cap = (jedec >> 16) & 0xFF;
  if (cap >= 0x12 && cap <= 0x19) return 1u << cap;
  if (cap >= 0x32 && cap <= 0x39) return 1u << (cap - 0x20);
  if (cap == 0x1A || cap == 0x20 || cap == 0x3A) return 64u << 20;
  if (cap == 0x1B || cap == 0x21) return 128u << 20;
  if (cap == 0x1C || cap == 0x22) return 256u << 20;
  return 0;
}

/* 0, -1 with errno set, or -2 when interrupted (the file stays shorter:
 * the next open grows it further). */
static int fill_ff(int fd, off_t from, off_t to) {
  enum { CHUNK = 65536 };
  uint8_t *ff = malloc(CHUNK);
  if (!ff) return -1;
  memset(ff, 0xFF, CHUNK);
  int rc = 0;
  off_t polled = from;
  while (from < to) {
    if (from - polled >= (off_t)SIM_POLL_BYTES) {
      polled = from;
      if (espflash_interrupted) {
        rc = -2;
        break;
      }
    }
    size_t n = (size_t)(to - from) < CHUNK ? (size_t)(to - from) : CHUNK;
    ssize_t w = pwrite(fd, ff, n, from);
    if (w < 0) {
      if (errno == EINTR) continue;
      rc = -1;
      break;
    }
    from += w;
  }
  free(ff);
  return rc;
}

int sim_flash_open(sim_flash_t *f, const char *path, uint32_t size, char *err, size_t errlen) {
  f->size = size;
  f->fd = -1;
  if (!path) {
    f->mem = malloc(size);
    if (!f->mem) {
      snprintf(err, errlen, "cannot allocate %u bytes of flash", size);
      return -1;
    }
    memset(f->mem, 0xFF, size);
    return 0;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open flash file %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "flash file %s is not a regular file", path);
    close(fd);
    return -1;
  }
  if (st.st_size > (off_t)size) {
    snprintf(err, errlen,
             "flash file %s is %lld bytes, larger than the %u-byte flash; "
             "pass a matching flash size or use another file",
             path, (long long)st.st_size, size);
    close(fd);
    return -1;
  }
  int filled = st.st_size < (off_t)size ? fill_ff(fd, st.st_size, size) : 0;
  if (filled < 0) {
    if (filled == -2) snprintf(err, errlen, "interrupted by Ctrl-C while sizing flash file %s", path);
    else snprintf(err, errlen, "cannot size flash file %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    snprintf(err, errlen, "cannot map flash file %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  f->mem = m;
  f->fd = fd;
  return 0;
}

void sim_flash_sync(sim_flash_t *f) {
  if (f->fd >= 0 && f->mem) msync(f->mem, f->size, MS_SYNC);
}

void sim_flash_close(sim_flash_t *f) {
  if (!f->mem) return;
  if (f->fd >= 0) {
    msync(f->mem, f->size, MS_SYNC);
    munmap(f->mem, f->size);
    close(f->fd);
  } else {
    free(f->mem);
  }
  f->mem = NULL;
  f->fd = -1;
}

int sim_flash_erase(sim_flash_t *f, uint32_t addr, uint32_t len) {
  if (len > f->size) len = f->size;
  addr %= f->size;
  while (len) {
    uint32_t n = f->size - addr < len ? f->size - addr : len;
    if (n > SIM_POLL_BYTES) n = SIM_POLL_BYTES;
    memset(f->mem + addr, 0xFF, n);
    len -= n;
    addr += n;
    if (addr == f->size) addr = 0;
    if (len && espflash_interrupted) return -1;
  }
  return 0;
}

void sim_flash_program(sim_flash_t *f, uint32_t addr, const uint8_t *d, uint32_t n) {
  addr %= f->size;
  for (uint32_t i = 0; i < n; i++) {
    f->mem[addr] &= d[i];
    if (++addr == f->size) addr = 0;
  }
}

void sim_flash_get(const sim_flash_t *f, uint32_t addr, uint8_t *buf, uint32_t n) {
  addr %= f->size;
  while (n) {
    uint32_t k = f->size - addr < n ? f->size - addr : n;
    memcpy(buf, f->mem + addr, k);
    buf += k;
    n -= k;
    addr = 0;
  }
}

int sim_flash_md5(const sim_flash_t *f, uint32_t addr, uint32_t n, uint8_t digest[16]) {
  MD5_CTX c;
  MD5Init(&c);
  addr %= f->size;
  while (n) {
    uint32_t k = f->size - addr < n ? f->size - addr : n;
    if (k > SIM_POLL_BYTES) k = SIM_POLL_BYTES;
    MD5Update(&c, f->mem + addr, k);
    n -= k;
    addr += k;
    if (addr == f->size) addr = 0;
    if (n && espflash_interrupted) return -1;   /* no digest of part of the region */
  }
  MD5Final(digest, &c);
  return 0;
}
