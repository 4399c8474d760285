/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* msgpack items written straight into memory, byte for byte as msgpack-c's
 * packer writes them (its smallest form for an integer, 64-bit floats as
 * doubles), for the state's loops over many items: msgpack-c calls its
 * writer once per item, and these need one reservation for a whole loop.
 * tests/unit/test_state_mp_put.c compares them with msgpack-c. */
#ifndef HS_STATE_MP_PUT_H
#define HS_STATE_MP_PUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HS_MP_INT_MAX 9 /* bytes an integer takes at most */

static inline unsigned char *hs_mp_be(unsigned char *p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--, v >>= 8)
    p[i] = (unsigned char)v;
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

#endif
