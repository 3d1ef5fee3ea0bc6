/* frame.c: the device's SLIP receiver and little-endian helpers.
 *
 * ROM receiver (tolerant): skips to a C0, stores an invalid escape's byte
 * literally, silently drops bytes beyond its buffer until the closing C0.
 * Stub receiver (strict, like esp-flasher-stub): an invalid escape or an
 * overflow drops the whole frame. Empty frames (C0 C0) are ignored by both.
 * Bytes sent at a baud the device is not listening at are lost, except that
 * the ROM's connection check autobauds on the SYNC frame. */
#include "sim/sim_int.h"

#include <stdlib.h>

uint32_t sim_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void sim_wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

uint8_t sim_xor_checksum(const uint8_t *d, size_t n) {
  uint8_t c = 0xEF;
  for (size_t i = 0; i < n; i++) c ^= d[i];
  return c;
}

int sim_rx_init(sim_t *s) {
  s->rx_cap = SIM_STUB_MAX_FRAME;
  s->rx_buf = malloc(s->rx_cap);
  return s->rx_buf ? 0 : -1;
}

void sim_rx_reset(sim_t *s) {
  s->rx_state = 0;
  s->rx_len = 0;
}

static void deliver(sim_t *s) {
  size_t n = s->rx_len;
  s->rx_len = 0;
  if (n == 0) return;
  if (s->state == SIM_ROM) sim_rom_frame(s, s->rx_buf, n);
  else if (s->state == SIM_STUB) sim_stub_frame(s, s->rx_buf, n);
}

static void put(sim_t *s, uint8_t b, int strict) {
  size_t limit = strict ? s->rx_cap : 8 + SIM_ROM_MAX_DATA;
  if (s->rx_len < limit) {
    s->rx_buf[s->rx_len++] = b;
  } else if (strict) {
    s->rx_state = 3;   /* overflow: drop the frame */
  }
}

void sim_rx_byte(sim_t *s, uint8_t b, uint32_t baud) {
  int rom = s->state == SIM_ROM;
  int autobaud = rom && s->presync;
  if (!autobaud && !sim_baud_match(baud, s->dev_baud)) {
    /* Framing errors: the byte is lost and the frame with it. */
    if (s->rx_state == 1 || s->rx_state == 2) s->rx_state = 3;
    return;
  }
  switch (s->rx_state) {
  case 0:
    if (b == 0xC0) {
      s->rx_state = 1;
      s->rx_len = 0;
    }
    break;
  case 1:
    if (b == 0xC0) {
      s->rx_baud = baud;
      s->rx_state = 0;
      if (s->rx_len == 0) {
        s->rx_state = 1;   /* C0 C0: the second C0 opens the next frame */
      } else {
        deliver(s);
      }
    } else if (b == 0xDB) {
      s->rx_state = 2;
    } else {
      put(s, b, !rom);
    }
    break;
  case 2:
    s->rx_state = 1;
    if (b == 0xDC) put(s, 0xC0, !rom);
    else if (b == 0xDD) put(s, 0xDB, !rom);
    else if (rom) put(s, b, 0);
    else s->rx_state = 3;
    break;
  default:   /* dropping a bad frame until its closing C0 */
    if (b == 0xC0) {
      s->rx_state = 0;
      s->rx_len = 0;
    }
    break;
  }
}
