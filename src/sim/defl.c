/* defl.c: streaming zlib inflate for FLASH_DEFL_DATA, ROM and stub alike.
 * Input arrives block by block; output goes through a 32 KiB window to a
 * sink (the personality's flash writer) whenever the window fills and at the
 * end of every block. */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW 32768u

int sim_inflate_begin(sim_inflate_t *z) {
  sim_inflate_end(z);
  memset(&z->z, 0, sizeof z->z);
  z->out = malloc(WINDOW);
  if (!z->out) return -1;
  if (inflateInit(&z->z) != Z_OK) {
    free(z->out);
    z->out = NULL;
    return -1;
  }
  z->live = 1;
  z->done = 0;
  return 0;
}

void sim_inflate_end(sim_inflate_t *z) {
  if (z->live) inflateEnd(&z->z);
  free(z->out);
  z->out = NULL;
  z->live = 0;
  z->done = 0;
}

static int flush(sim_inflate_t *z, sim_t *s, sim_sink_fn sink, int *sink_err) {
  uint32_t n = WINDOW - z->z.avail_out;
  z->z.next_out = z->out;
  z->z.avail_out = WINDOW;
  if (n == 0) return 0;
  int e = sink(s, z->out, n);
  if (e) *sink_err = e;
  return e;
}

int sim_inflate_feed(sim_inflate_t *z, sim_t *s, const uint8_t *in, uint32_t n,
                     sim_sink_fn sink, int *sink_err) {
  *sink_err = 0;
  if (!z->live) return -1;
  if (z->done) return 1;
  z->z.next_in = (Bytef *)in;
  z->z.avail_in = n;
  z->z.next_out = z->out;
  z->z.avail_out = WINDOW;
  for (;;) {
    int rc = inflate(&z->z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z->done = 1;
      return flush(z, s, sink, sink_err) ? 10 : 1;
    }
    if (rc == Z_DATA_ERROR) {
      int adler = z->z.msg && strstr(z->z.msg, "incorrect data check");
      return adler ? -2 : -1;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return -1;
    if (z->z.avail_out == 0) {
      if (flush(z, s, sink, sink_err)) return 10;
      continue;
    }
    if (z->z.avail_in == 0 || rc == Z_BUF_ERROR) break;
  }
  return flush(z, s, sink, sink_err) ? 10 : 0;
}
