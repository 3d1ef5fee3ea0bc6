/* test_slip.c: the incremental SLIP decoder and the escaper (src/slip.c):
 * escapes, frames split at every possible point, noise, empty frames,
 * invalid escapes, oversized frames, and a randomised round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slip.h"

#include "check.h"

/* Frames collected from a decoder run. */
typedef struct {
  uint8_t *data[64];
  size_t len[64];
  int n;
} frames_t;

static void frames_free(frames_t *f) {
  for (int i = 0; i < f->n; i++) free(f->data[i]);
  f->n = 0;
}

/* Feeds `in` in pieces of `step` bytes (0: all at once). */
static void decode(slip_decoder_t *d, const uint8_t *in, size_t n, size_t step, frames_t *f) {
  size_t off = 0;
  while (off < n) {
    size_t piece = step && n - off > step ? step : n - off;
    const uint8_t *p = in + off;
    off += piece;
    while (piece > 0) {
      size_t used;
      int done = slip_decoder_feed(d, p, piece, &used);
      if (used > piece) {
        CHECK(0, "decoder consumed %zu of %zu", used, piece);
        return;
      }
      p += used;
      piece -= used;
      if (done && f->n < 64) {
        f->data[f->n] = malloc(d->len ? d->len : 1);
        memcpy(f->data[f->n], d->frame, d->len);
        f->len[f->n++] = d->len;
      }
    }
  }
}

static size_t encode(uint8_t *out, const uint8_t *in, size_t n) {
  out[0] = SLIP_END;
  size_t len = 1 + slip_escape(out + 1, in, n);
  out[len++] = SLIP_END;
  return len;
}

static void test_escape(void) {
  uint8_t out[16];
  const uint8_t in[] = {0xC0, 0xDB, 0x01, 0x02};
  size_t n = slip_escape(out, in, sizeof in);
  CHECK(n == 6 && memcmp(out, "\xDB\xDC\xDB\xDD\x01\x02", 6) == 0, "escaped %zu bytes", n);
  CHECK(slip_escape(out, in, 0) == 0, "empty input");
  CHECK(slip_encoded_max(10) == 22, "worst case");
}

/* One wire stream, decoded at every split size, must give the same frames. */
static void test_splits(void) {
  const uint8_t wire[] = "log\r\n\xC0\x01\xDB\xDC\x02\xDB\xDD\xC0\xC0\xC0\xC0" "abc\xC0tail";
  size_t n = sizeof wire - 1;
  for (size_t step = 0; step <= n; step++) {
    slip_decoder_t d;
    frames_t f = {0};
    slip_decoder_init(&d);
    decode(&d, wire, n, step, &f);
    CHECK(f.n == 2, "step %zu: %d frames", step, f.n);
    if (f.n == 2) {
      CHECK(f.len[0] == 4 && memcmp(f.data[0], "\x01\xC0\x02\xDB", 4) == 0, "step %zu frame 0", step);
      CHECK(f.len[1] == 3 && memcmp(f.data[1], "abc", 3) == 0, "step %zu frame 1", step);
    }
    uint8_t noise[64];
    size_t nn = slip_take_noise(&d, noise, sizeof noise);
    CHECK(nn == 9 && memcmp(noise, "log\r\ntail", 9) == 0, "step %zu noise %.*s", step, (int)nn,
          (char *)noise);
    CHECK(slip_take_noise(&d, noise, sizeof noise) == 0, "noise taken once");
    CHECK(d.dropped == 0, "nothing dropped");
    frames_free(&f);
    slip_decoder_free(&d);
  }
}

static void test_noise_cap(void) {
  slip_decoder_t d;
  frames_t f = {0};
  slip_decoder_init(&d);
  uint8_t text[10000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)('a' + i % 26);
  decode(&d, text, sizeof text, 777, &f);
  static uint8_t noise[SLIP_NOISE_KEEP * 2];
  size_t nn = slip_take_noise(&d, noise, sizeof noise);
  CHECK(nn == SLIP_NOISE_KEEP, "kept %zu", nn);
  CHECK(memcmp(noise, text + sizeof text - SLIP_NOISE_KEEP, SLIP_NOISE_KEEP) == 0, "last bytes");
  decode(&d, text, 100, 0, &f);
  nn = slip_take_noise(&d, noise, 10);
  CHECK(nn == 10 && memcmp(noise, text + 90, 10) == 0, "small buffer gets the newest bytes");
  CHECK(f.n == 0, "no frames from text");
  slip_decoder_free(&d);
}

static void test_bad_frames(void) {
  /* invalid escape; escape then end; oversized; then a good frame */
  size_t big = SLIP_MAX_FRAME + 10;
  uint8_t *wire = malloc(big + 64);
  size_t n = 0;
  memcpy(wire + n, "\xC0" "ab\xDB\x01" "cd\xC0", 8);
  n += 8;
  memcpy(wire + n, "\xC0x\xDB\xC0", 4);
  n += 4;
  wire[n++] = SLIP_END;
  memset(wire + n, 0x55, big);
  n += big;
  wire[n++] = SLIP_END;
  n += encode(wire + n, (const uint8_t *)"good", 4);
  for (size_t step = 0; step < 3; step++) {
    slip_decoder_t d;
    frames_t f = {0};
    slip_decoder_init(&d);
    decode(&d, wire, n, step * 5, &f);
    CHECK(f.n == 1 && f.len[0] == 4 && memcmp(f.data[0], "good", 4) == 0, "step %zu: %d frames",
          step * 5, f.n);
    CHECK(d.dropped == 3, "step %zu: dropped %lu", step * 5, d.dropped);
    frames_free(&f);
    slip_decoder_free(&d);
  }
  free(wire);
}

static void test_reset(void) {
  slip_decoder_t d;
  frames_t f = {0};
  slip_decoder_init(&d);
  decode(&d, (const uint8_t *)"\xC0partial", 8, 0, &f);
  slip_decoder_reset(&d);
  decode(&d, (const uint8_t *)"rest\xC0ok\xC0", 8, 0, &f);
  CHECK(f.n == 1 && f.len[0] == 2 && memcmp(f.data[0], "ok", 2) == 0, "%d frames after reset", f.n);
  frames_free(&f);
  slip_decoder_free(&d);
}

/* Random frames, heavy in C0/DB, with noise between them, split randomly. */
static void test_random(void) {
  srand(12345);
  for (int round = 0; round < 200; round++) {
    uint8_t payload[8][300], wire[8 * 700];
    size_t plen[8], n = 0;
    int count = 1 + rand() % 8;
    for (int i = 0; i < count; i++) {
      plen[i] = 1 + (size_t)(rand() % 300);
      for (size_t k = 0; k < plen[i]; k++) {
        int r = rand() % 8;
        payload[i][k] = r == 0 ? 0xC0 : r == 1 ? 0xDB : (uint8_t)rand();
      }
      int gap = rand() % 4;
      for (int g = 0; g < gap; g++) wire[n++] = (uint8_t)('A' + g);
      n += encode(wire + n, payload[i], plen[i]);
    }
    slip_decoder_t d;
    frames_t f = {0};
    slip_decoder_init(&d);
    decode(&d, wire, n, 1 + (size_t)(rand() % 64), &f);
    int same = f.n == count;
    for (int i = 0; same && i < count; i++)
      same = f.len[i] == plen[i] && memcmp(f.data[i], payload[i], plen[i]) == 0;
    CHECK(same, "round %d: %d of %d frames", round, f.n, count);
    frames_free(&f);
    slip_decoder_free(&d);
  }
}

int main(void) {
  test_escape();
  test_splits();
  test_noise_cap();
  test_bad_frames();
  test_reset();
  test_random();
  return check_finish("test_slip");
}
