/* check.h: the C tests' assertion counting: CHECK(cond, fmt, ...) records a
 * failure with its place and message and goes on; each test ends with
 * `return check_finish("<name>")`, which prints "<name>: N checks, M failed"
 * and gives the exit status, non-zero when M > 0. */
#ifndef ESPFLASH_TEST_CHECK_H
#define ESPFLASH_TEST_CHECK_H

#include <stdio.h>

static int checks, failed;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    checks++;                                                         \
    if (!(cond)) {                                                    \
      failed++;                                                       \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
    }                                                                 \
  } while (0)

static inline int check_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, checks, failed);
  return failed ? 1 : 0;
}

#endif
