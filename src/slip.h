/* slip.h: SLIP framing (RFC 1055 with the ESP ROM's conventions).
 *
 * Frames travel as C0 <escaped payload> C0, with C0 -> DB DC and DB -> DB DD.
 * The decoder is incremental: feed it any slice of the byte stream and it
 * stops right after each complete frame, so one decoder serves a port (which
 * reads in arbitrary chunks) and core.slip_decode alike. Bytes outside frames
 * are kept as "noise" (the last SLIP_NOISE_KEEP bytes), empty frames are
 * skipped, and a frame with an invalid escape or longer than SLIP_MAX_FRAME
 * is dropped and counted. */
#ifndef ESPFLASH_SLIP_H
#define ESPFLASH_SLIP_H

#include <stddef.h>
#include <stdint.h>

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

#define SLIP_NOISE_KEEP 4096
#define SLIP_MAX_FRAME (256 * 1024)

typedef struct {
  int state;              /* outside a frame, inside, after an escape byte */
  int bad;                /* the current frame had an invalid escape or overflowed */
  uint8_t *frame;         /* the frame being assembled, then the complete one */
  size_t len, cap;
  uint8_t noise[2 * SLIP_NOISE_KEEP];
  size_t noise_len;
  unsigned long dropped;  /* frames dropped for invalid escapes or overflow */
} slip_decoder_t;

void slip_decoder_init(slip_decoder_t *d);
void slip_decoder_free(slip_decoder_t *d);
/* Forgets any partial frame (keeps noise and counters). */
void slip_decoder_reset(slip_decoder_t *d);

/* Consumes bytes from data until a frame completes or the input ends.
 * Stores the count consumed in *used. Returns 1 when a frame is complete
 * (d->frame, d->len; valid until the next call), 0 otherwise. */
int slip_decoder_feed(slip_decoder_t *d, const uint8_t *data, size_t n, size_t *used);

/* Moves the noise out: copies up to cap bytes into buf, returns the count and
 * empties the noise buffer. */
size_t slip_take_noise(slip_decoder_t *d, uint8_t *buf, size_t cap);

/* Escapes n bytes into out (no delimiters); out needs room for 2 * n bytes.
 * Returns the bytes written. */
size_t slip_escape(uint8_t *out, const uint8_t *in, size_t n);

/* Worst-case encoded size of a frame with an n-byte payload, delimiters included. */
static inline size_t slip_encoded_max(size_t n) { return 2 * n + 2; }

#endif
