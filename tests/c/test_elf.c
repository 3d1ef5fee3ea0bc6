/* test_elf.c: core.elf_read on good, truncated, garbage and corrupted files.
 *
 * The inputs are this test's own executable (an ELF64 file that always
 * exists) and, when $ESPFLASH_TESTDATA is set, the ESP32 test ELFs. Every
 * malformed variant must give the fail triple, never a crash (run it under
 * -DESPFLASH_SANITIZE=ON to catch memory errors too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>

#include "core.h"

static int passed, failed;

#define CHECK(cond, ...)                  \
  do {                                    \
    if (cond) {                           \
      passed++;                           \
    } else {                              \
      failed++;                           \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                \
      printf("\n");                       \
    }                                     \
  } while (0)

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void write_file(const char *path, const unsigned char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fwrite(data, 1, len, f);
  fclose(f);
}

/* Calls core.elf_read(path); returns 1 for a table, 0 for the fail triple
 * (checking its shape), -1 for anything else. */
static int elf_read(lua_State *L, const char *path, char *msg, size_t msglen) {
  int top = lua_gettop(L);
  lua_getfield(L, 1, "elf_read");
  lua_pushstring(L, path);
  if (lua_pcall(L, 1, 3, 0) != LUA_OK) {
    snprintf(msg, msglen, "raised: %s", lua_tostring(L, -1));
    lua_settop(L, top);
    return -1;
  }
  int rc = -1;
  if (lua_istable(L, -3)) {
    rc = 1;
  } else if (lua_isnil(L, -3) && lua_isstring(L, -2) && lua_isstring(L, -1)) {
    snprintf(msg, msglen, "%s", lua_tostring(L, -2));
    rc = 0;
  }
  lua_settop(L, top);
  return rc;
}

/* Number of sections and whether every PROGBITS section has its bytes. */
static void check_good(lua_State *L, const char *path) {
  char msg[600];
  int top = lua_gettop(L);
  CHECK(elf_read(L, path, msg, sizeof msg) == 1, "%s should parse", path);
  lua_getfield(L, 1, "elf_read");
  lua_pushstring(L, path);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "sections");
  int n = (int)luaL_len(L, -1);
  CHECK(n > 3, "%s: only %d sections", path, n);
  int with_data = 0;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "type");
    lua_getfield(L, -2, "size");
    lua_getfield(L, -3, "data");
    if (lua_isstring(L, -1)) {
      with_data++;
      CHECK((lua_Integer)lua_rawlen(L, -1) == lua_tointeger(L, -2), "%s: section %d data length", path, i);
    }
    lua_pop(L, 4);
  }
  CHECK(with_data > 0, "%s: no section carries data", path);
  lua_settop(L, top);
}

static void fuzz(lua_State *L, const char *path, const char *tmp, unsigned seed) {
  size_t len;
  unsigned char *orig = read_file(path, &len);
  CHECK(orig != NULL && len > 64, "cannot read %s", path);
  if (!orig) return;
  unsigned char *buf = malloc(len);
  char msg[600];
  srand(seed);
  /* truncations: the section header table is at the end, so all must fail */
  size_t cuts[] = {0, 1, 4, 16, 51, 52, 63, 64, 100, 1000, len / 3, len / 2, len - 64, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    if (cuts[i] >= len) continue;
    write_file(tmp, orig, cuts[i]);
    int rc = elf_read(L, tmp, msg, sizeof msg);
    CHECK(rc == 0, "%s cut to %zu bytes: expected the fail triple, got %d", path, cuts[i], rc);
  }
  /* garbage: random bytes, with and without the ELF magic */
  for (int i = 0; i < 50; i++) {
    size_t n = 16 + (size_t)rand() % 4096;
    for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)rand();
    if (i % 2) memcpy(buf, "\177ELF\001\001\001", 7);
    write_file(tmp, buf, n);
    int rc = elf_read(L, tmp, msg, sizeof msg);
    CHECK(rc == 0 || rc == 1, "garbage %d: %s", i, msg);
  }
  /* corruption of the headers and of random places: any answer, no crash */
  for (int i = 0; i < 400; i++) {
    memcpy(buf, orig, len);
    int flips = 1 + rand() % 8;
    for (int k = 0; k < flips; k++) {
      size_t at = (i % 2) ? (size_t)rand() % 64 : (size_t)rand() % len;
      buf[at] = (unsigned char)rand();
    }
    write_file(tmp, buf, len);
    int rc = elf_read(L, tmp, msg, sizeof msg);
    CHECK(rc == 0 || rc == 1, "corruption %d: %s", i, msg);
  }
  free(buf);
  free(orig);
}

int main(int argc, char **argv) {
  (void)argc;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "espflash.core", luaopen_espflash_core, 0);
  char tmp[] = "/tmp/test_elf_XXXXXX";
  int fd = mkstemp(tmp);
  CHECK(fd >= 0, "mkstemp");

  char msg[600];
  CHECK(elf_read(L, "/nonexistent/file.elf", msg, sizeof msg) == 0, "missing file");
  CHECK(strstr(msg, "FILE:") == msg, "missing file code: %s", msg);
  write_file(tmp, (const unsigned char *)"not an elf file at all\n", 23);
  CHECK(elf_read(L, tmp, msg, sizeof msg) == 0 && strstr(msg, "not an ELF file"), "text file: %s", msg);

  const char *self = "/proc/self/exe";
  check_good(L, self);
  fuzz(L, self, tmp, 1);

  const char *td = getenv("ESPFLASH_TESTDATA");
  char path[4096];
  if (td && *td) {
    snprintf(path, sizeof path, "%s/elf/esp32c3.elf", td);
    FILE *f = fopen(path, "rb");
    if (f) {
      fclose(f);
      check_good(L, path);
      fuzz(L, path, tmp, 2);
    } else {
      printf("SKIP: %s not found; testing with %s only\n", path, argv[0]);
    }
  } else {
    printf("SKIP: ESPFLASH_TESTDATA is not set; testing with %s only\n", argv[0]);
  }
  remove(tmp);
  lua_close(L);
  printf("test_elf: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
