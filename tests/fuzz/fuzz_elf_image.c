/* fuzz_elf_image.c: ELF → application image. The input is written to a
 * memfd and read back through core.elf_read (src/elf.c, libelf) and
 * espflash.elf, then built into an image with espflash.image.from_elf
 * (section merging, app descriptor, MMU padding, checksum, SHA-256) for a
 * chip of the ELF's architecture. Any failure must be an espflash error
 * object; a built image must parse back with espflash.image.parse and
 * carry the segments from_elf reported. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_lua.h"

static const char SETUP[] =
  "local elf = require('espflash.elf')\n"
  "local image = require('espflash.image')\n"
  "-- a minimal bootloader header: magic, 0 segments, DIO, 4MB/40m, entry 0\n"
  "local BOOT = '\\xE9\\x00\\x02\\x20' .. ('\\0'):rep(20)\n"
  "local CHIPS = { [94] = { 'esp32', 'esp32s3' }, [243] = { 'esp32c3', 'esp32c6', 'esp32p4', 'esp32h2' } }\n"
  "return function(bytes, path)\n"
  "  local e = elf.load(path)\n"
  "  local list = CHIPS[e.machine] or { 'esp32c3' }\n"
  "  local chip = list[#bytes % #list + 1]\n"
  "  local img = image.from_elf(e, { chip = chip, bootloader = BOOT, flash_size = '4mb' })\n"
  "  local back = image.parse(img.data, { chip = chip })\n"
  "  if #back.segments ~= #img.segments then\n"
  "    error(('image of %d segments parses back as %d'):format(#img.segments, #back.segments))\n"
  "  end\n"
  "  if not back.checksum.valid or (back.digest and not back.digest.valid) then\n"
  "    error('a freshly built image fails its own checksum or digest')\n"
  "  end\n"
  "end\n";

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua_init("=fuzz_elf_image", SETUP);
  if (fd < 0) {
    fd = memfd_create("fuzz_elf", 0);
    if (fd < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  lua_pushstring(L, path);
  fuzz_lua_call(L, data, size, 1);
  return 0;
}
