/* slip.c: the SLIP codec (incremental decoder, escaper) and its Lua
 * bindings core.slip_encode / core.slip_decode. */
#include "slip.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"

enum { ST_OUTSIDE, ST_INSIDE, ST_ESCAPE };

void slip_decoder_init(slip_decoder_t *d) {
  memset(d, 0, sizeof *d);
  d->state = ST_OUTSIDE;
}

void slip_decoder_free(slip_decoder_t *d) {
  free(d->frame);
  d->frame = NULL;
  d->len = d->cap = 0;
}

void slip_decoder_reset(slip_decoder_t *d) {
  d->state = ST_OUTSIDE;
  d->bad = 0;
  d->len = 0;
}

static void noise_append(slip_decoder_t *d, const uint8_t *p, size_t n) {
  if (n >= SLIP_NOISE_KEEP) {
    memcpy(d->noise, p + n - SLIP_NOISE_KEEP, SLIP_NOISE_KEEP);
    d->noise_len = SLIP_NOISE_KEEP;
    return;
  }
  if (d->noise_len + n > sizeof d->noise) {
    memmove(d->noise, d->noise + d->noise_len - SLIP_NOISE_KEEP, SLIP_NOISE_KEEP);
    d->noise_len = SLIP_NOISE_KEEP;
  }
  memcpy(d->noise + d->noise_len, p, n);
  d->noise_len += n;
}

size_t slip_take_noise(slip_decoder_t *d, uint8_t *buf, size_t cap) {
  size_t n = d->noise_len, skip = 0;
  if (n > SLIP_NOISE_KEEP) skip = n - SLIP_NOISE_KEEP;
  n -= skip;
  if (n > cap) {
    skip += n - cap;
    n = cap;
  }
  memcpy(buf, d->noise + skip, n);
  d->noise_len = 0;
  return n;
}

/* Appends a run of payload bytes; marks the frame bad when it gets too long. */
static void frame_append(slip_decoder_t *d, const uint8_t *p, size_t n) {
  if (d->bad) return;
  if (d->len + n > SLIP_MAX_FRAME) {
    d->bad = 1;
    return;
  }
  if (d->len + n > d->cap) {
    size_t cap = d->cap ? d->cap : 512;
    while (cap < d->len + n) cap *= 2;
    uint8_t *f = realloc(d->frame, cap);
    if (!f) {
      d->bad = 1;
      return;
    }
    d->frame = f;
    d->cap = cap;
  }
  memcpy(d->frame + d->len, p, n);
  d->len += n;
}

int slip_decoder_feed(slip_decoder_t *d, const uint8_t *data, size_t n, size_t *used) {
  size_t i = 0;
  while (i < n) {
    if (d->state == ST_OUTSIDE) {
      const uint8_t *end = memchr(data + i, SLIP_END, n - i);
      size_t run = end ? (size_t)(end - (data + i)) : n - i;
      if (run) noise_append(d, data + i, run);
      i += run;
      if (!end) break;
      i++;
      d->state = ST_INSIDE;
      d->len = 0;
      d->bad = 0;
    } else if (d->state == ST_INSIDE) {
      size_t j = i;
      while (j < n && data[j] != SLIP_END && data[j] != SLIP_ESC) j++;
      if (j > i) frame_append(d, data + i, j - i);
      i = j;
      if (i == n) break;
      uint8_t c = data[i++];
      if (c == SLIP_ESC) {
        d->state = ST_ESCAPE;
      } else if (d->bad) {
        d->dropped++;
        d->state = ST_OUTSIDE;
      } else if (d->len > 0) {
        d->state = ST_OUTSIDE;
        *used = i;
        return 1;
      }
      /* else: an empty frame (C0 C0); the second C0 opens the next one */
    } else {
      uint8_t c = data[i++];
      if (c == SLIP_ESC_END || c == SLIP_ESC_ESC) {
        uint8_t b = c == SLIP_ESC_END ? SLIP_END : SLIP_ESC;
        frame_append(d, &b, 1);
        d->state = ST_INSIDE;
      } else if (c == SLIP_END) {
        d->dropped++;
        d->state = ST_OUTSIDE;
      } else {
        d->bad = 1;
        d->state = ST_INSIDE;
      }
    }
  }
  *used = i;
  return 0;
}

size_t slip_escape(uint8_t *out, const uint8_t *in, size_t n) {
  uint8_t *o = out;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = in[i];
    if (c == SLIP_END) {
      *o++ = SLIP_ESC;
      *o++ = SLIP_ESC_END;
    } else if (c == SLIP_ESC) {
      *o++ = SLIP_ESC;
      *o++ = SLIP_ESC_ESC;
    } else {
      *o++ = c;
    }
  }
  return (size_t)(o - out);
}

/* core.slip_encode(s) -> string: C0 <escaped s> C0 */
static int l_slip_encode(lua_State *L) {
  size_t n;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, slip_encoded_max(n));
  out[0] = SLIP_END;
  size_t len = 1 + slip_escape(out + 1, s, n);
  out[len++] = SLIP_END;
  luaL_pushresultsize(&b, len);
  return 1;
}

/* core.slip_decode(s) -> {frame, ...}, noise, dropped: the complete frames in
 * s, the bytes outside frames (last 4 KiB) and the count of dropped frames */
static int l_slip_decode(lua_State *L) {
  size_t n, used;
  const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
  slip_decoder_t dec, *d = &dec;
  slip_decoder_init(d);
  lua_newtable(L);
  lua_Integer k = 0;
  while (n > 0) {
    int done = slip_decoder_feed(d, s, n, &used);
    s += used;
    n -= used;
    if (done) {
      lua_pushlstring(L, (const char *)d->frame, d->len);
      lua_rawseti(L, -2, ++k);
    }
  }
  uint8_t noise[SLIP_NOISE_KEEP];
  size_t nn = slip_take_noise(d, noise, sizeof noise);
  lua_pushlstring(L, (const char *)noise, nn);
  lua_pushinteger(L, (lua_Integer)d->dropped);
  slip_decoder_free(d);
  return 3;
}

void core_open_slip(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"slip_encode", l_slip_encode}, {"slip_decode", l_slip_decode}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
