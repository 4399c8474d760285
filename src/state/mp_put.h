/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* msgpack items written straight into memory, byte for byte as msgpack-c's
 * packer writes them (its smallest form for an integer and for a header,
 * 64-bit floats as doubles), for the state's encoding: msgpack-c calls its
 * writer once per item, and these need one reservation for one item or a
 * whole loop. tests/unit/test_state_mp_put.c compares them with msgpack-c. */
#ifndef HS_STATE_MP_PUT_H
#define HS_STATE_MP_PUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HS_MP_INT_MAX 9  /* bytes an integer (or a double) takes at most */
#define HS_MP_HEAD_MAX 5 /* bytes the header of an array, map, string or bin takes at most */

/* The n (1, 2, 4 or 8) low bytes of v, big-endian. */
static inline unsigned char *hs_mp_be(unsigned char *p, uint64_t v, int n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 1) {
    *p = (unsigned char)v;
  } else if (n == 2) {
    uint16_t x = __builtin_bswap16((uint16_t)v);
    memcpy(p, &x, 2);
  } else if (n == 4) {
    uint32_t x = __builtin_bswap32((uint32_t)v);
    memcpy(p, &x, 4);
  } else {
    uint64_t x = __builtin_bswap64(v);
    memcpy(p, &x, 8);
  }
#else
  for (int i = n - 1; i >= 0; i--, v >>= 8)
    p[i] = (unsigned char)v;
#endif
  return p + n;
}

/* As msgpack_pack_int64 (and msgpack_pack_int32, msgpack_pack_int: the same
 * form for the same value). Returns the end of what it wrote. */
static inline unsigned char *hs_mp_int(unsigned char *p, int64_t d) {
  if (d >= -32 && d < 128) {
    *p = (unsigned char)d; /* fixint, negative or positive */
    return p + 1;
  }
  if (d < 0) {
    if (d >= -128) {
      *p = 0xd0;
      return hs_mp_be(p + 1, (uint64_t)d, 1);
    }
    if (d >= -32768) {
      *p = 0xd1;
      return hs_mp_be(p + 1, (uint64_t)d, 2);
    }
    if (d >= -2147483648LL) {
      *p = 0xd2;
      return hs_mp_be(p + 1, (uint64_t)d, 4);
    }
    *p = 0xd3;
    return hs_mp_be(p + 1, (uint64_t)d, 8);
  }
  if (d < 256) {
    *p = 0xcc;
    return hs_mp_be(p + 1, (uint64_t)d, 1);
  }
  if (d < 65536) {
    *p = 0xcd;
    return hs_mp_be(p + 1, (uint64_t)d, 2);
  }
  if (d < 4294967296LL) {
    *p = 0xce;
    return hs_mp_be(p + 1, (uint64_t)d, 4);
  }
  *p = 0xcf;
  return hs_mp_be(p + 1, (uint64_t)d, 8);
}

/* As msgpack_pack_double. */
static inline unsigned char *hs_mp_double(unsigned char *p, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  *p = 0xcb;
  return hs_mp_be(p + 1, bits, 8);
}

/* As msgpack_pack_float. */
static inline unsigned char *hs_mp_float(unsigned char *p, float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  *p = 0xca;
  return hs_mp_be(p + 1, bits, 4);
}

/* As msgpack_pack_nil. */
static inline unsigned char *hs_mp_nil(unsigned char *p) {
  *p = 0xc0;
  return p + 1;
}

/* As msgpack_pack_array for n < 16. */
static inline unsigned char *hs_mp_fixarray(unsigned char *p, unsigned n) {
  *p = (unsigned char)(0x90 | n);
  return p + 1;
}

/* As msgpack_pack_uint64. */
static inline unsigned char *hs_mp_uint(unsigned char *p, uint64_t v) {
  if (v <= (uint64_t)INT64_MAX)
    return hs_mp_int(p, (int64_t)v); /* the same forms for the same value */
  *p = 0xcf;
  return hs_mp_be(p + 1, v, 8);
}

/* As msgpack_pack_true and msgpack_pack_false. */
static inline unsigned char *hs_mp_bool(unsigned char *p, int b) {
  *p = b ? 0xc3 : 0xc2;
  return p + 1;
}

/* A header of n items or bytes: `fix` (its type bits) for n < `fix_max`,
 * else the 1-, 2- or 4-byte forms whose type bytes are `t8` (0: none),
 * t16 and t32. */
static inline unsigned char *hs_mp_head(unsigned char *p, uint32_t n, unsigned fix,
                                        uint32_t fix_max, unsigned t8, unsigned t16, unsigned t32) {
  if (n < fix_max) {
    *p = (unsigned char)(fix | n);
    return p + 1;
  }
  if (t8 && n < 256) {
    *p = (unsigned char)t8;
    return hs_mp_be(p + 1, n, 1);
  }
  if (n < 65536) {
    *p = (unsigned char)t16;
    return hs_mp_be(p + 1, n, 2);
  }
  *p = (unsigned char)t32;
  return hs_mp_be(p + 1, n, 4);
}

/* As msgpack_pack_array, msgpack_pack_map, msgpack_pack_str and
 * msgpack_pack_bin (the header; the bytes follow). */
static inline unsigned char *hs_mp_array(unsigned char *p, uint32_t n) {
  return hs_mp_head(p, n, 0x90, 16, 0, 0xdc, 0xdd);
}
static inline unsigned char *hs_mp_map(unsigned char *p, uint32_t n) {
  return hs_mp_head(p, n, 0x80, 16, 0, 0xde, 0xdf);
}
static inline unsigned char *hs_mp_str(unsigned char *p, uint32_t n) {
  return hs_mp_head(p, n, 0xa0, 32, 0xd9, 0xda, 0xdb);
}
static inline unsigned char *hs_mp_bin(unsigned char *p, uint32_t n) {
  return hs_mp_head(p, n, 0, 0, 0xc4, 0xc5, 0xc6);
}

#endif
