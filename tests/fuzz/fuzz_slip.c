/* fuzz_slip.c: the incremental SLIP decoder (src/slip.c) on arbitrary bytes.
 *
 * The first input byte picks the chunk sizes the stream is fed in (a port
 * reads in arbitrary slices), the rest is the stream. Checked properties:
 * every frame delivered is non-empty and at most SLIP_MAX_FRAME bytes; the
 * decoder consumes all input; feeding the same stream whole gives the same
 * frames (chunking must not matter); re-encoding each frame with
 * slip_escape and decoding it again gives the frame back; the noise kept
 * never exceeds SLIP_NOISE_KEEP and is the same however the stream
 * was sliced. Also runs core.slip_decode's loop shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slip.h"

#define MAX_FRAMES 4096

typedef struct {
  size_t count;
  uint64_t sum;   /* a digest of lengths and contents, order-sensitive */
} result_t;

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n) {
  h ^= n + 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

static void fail(const char *what) {
  fprintf(stderr, "fuzz_slip: %s\n", what);
  abort();
}

/* Re-encodes a frame and decodes it again: must give the same bytes. */
static void roundtrip(const uint8_t *f, size_t n) {
  uint8_t *enc = malloc(slip_encoded_max(n));
  if (!enc) abort();
  size_t k = 0;
  enc[k++] = SLIP_END;
  k += slip_escape(enc + k, f, n);
  enc[k++] = SLIP_END;
  slip_decoder_t d;
  slip_decoder_init(&d);
  size_t used;
  int done = slip_decoder_feed(&d, enc, k, &used);
  if (!done || d.len != n || memcmp(d.frame, f, n) != 0) fail("re-encoded frame does not decode to itself");
  if (used != k) fail("decoder stopped before the end of a single frame");
  slip_decoder_free(&d);
  free(enc);
}

static result_t decode(const uint8_t *data, size_t n, unsigned chunk_seed, int check_roundtrip) {
  result_t r = {0, 0};
  slip_decoder_t d;
  slip_decoder_init(&d);
  size_t pos = 0;
  unsigned seed = chunk_seed;
  while (pos < n) {
    size_t chunk = n - pos;
    if (chunk_seed) {
      seed = seed * 1103515245u + 12345u;
      size_t c = 1 + (seed >> 16) % 97;
      if (c < chunk) chunk = c;
    }
    size_t off = 0;
    while (off < chunk) {
      size_t used = 0;
      int done = slip_decoder_feed(&d, data + pos + off, chunk - off, &used);
      if (used > chunk - off) fail("decoder consumed more than it was given");
      if (!done && used != chunk - off) fail("decoder stopped early without a frame");
      if (done && used == 0) fail("frame completed without consuming input");
      off += used;
      if (done) {
        if (d.len == 0) fail("empty frame delivered");
        if (d.len > SLIP_MAX_FRAME) fail("frame longer than SLIP_MAX_FRAME");
        r.count++;
        r.sum = mix(r.sum, d.frame, d.len);
        if (check_roundtrip && r.count < MAX_FRAMES) roundtrip(d.frame, d.len);
      }
    }
    pos += chunk;
  }
  uint8_t noise[SLIP_NOISE_KEEP];
  size_t nn = slip_take_noise(&d, noise, sizeof noise);
  if (nn > SLIP_NOISE_KEEP) fail("noise longer than SLIP_NOISE_KEEP");
  r.sum = mix(r.sum, noise, nn);
  if (slip_take_noise(&d, noise, sizeof noise) != 0) fail("noise not emptied by take");
  slip_decoder_reset(&d);
  slip_decoder_free(&d);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned seed = data[0] | 1u;
  result_t whole = decode(data + 1, size - 1, 0, 1);
  result_t sliced = decode(data + 1, size - 1, seed, 0);
  if (whole.count != sliced.count || whole.sum != sliced.sum)
    fail("feeding the stream in slices gives other frames than feeding it whole");
  return 0;
}
