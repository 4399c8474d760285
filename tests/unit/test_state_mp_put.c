/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The state's direct msgpack writers (src/state/mp_put.h) against
 * msgpack-c's packer: the same bytes for every integer width at and around
 * each boundary, signed and unsigned, for a million integers of every
 * magnitude, for doubles and floats of every kind, for booleans, and for
 * the headers of arrays, maps, strings and bins of every length form. */
#include "testutil.h"

#include "mp_put.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>

/* The items compared. */
enum { INT64, INT32, DOUBLE, FLOAT, UINT64, BOOL, ARRAY, MAP, STR, BIN };

/* The bytes msgpack-c writes for one item of `kind` (integers and lengths
 * from v, floats from x) against ours: the same, and at most the bytes the
 * writers reserve for it. */
static void same(int kind, uint64_t v, double x) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  const int64_t d = (int64_t)v;
  const uint32_t len = (uint32_t)v;
  unsigned char ours[16], *end;
  size_t max = HS_MP_INT_MAX;
  switch (kind) {
  case INT64:
    msgpack_pack_int64(&pk, d);
    end = hs_mp_int(ours, d);
    break;
  case INT32:
    msgpack_pack_int32(&pk, (int32_t)d);
    end = hs_mp_int(ours, (int32_t)d);
    break;
  case DOUBLE:
    msgpack_pack_double(&pk, x);
    end = hs_mp_double(ours, x);
    break;
  case FLOAT:
    msgpack_pack_float(&pk, (float)x);
    end = hs_mp_float(ours, (float)x);
    break;
  case UINT64:
    msgpack_pack_uint64(&pk, v);
    end = hs_mp_uint(ours, v);
    break;
  case BOOL:
    if (v)
      msgpack_pack_true(&pk);
    else
      msgpack_pack_false(&pk);
    end = hs_mp_bool(ours, v != 0);
    break;
  case ARRAY:
    msgpack_pack_array(&pk, len);
    end = hs_mp_array(ours, len);
    max = HS_MP_HEAD_MAX;
    break;
  case MAP:
    msgpack_pack_map(&pk, len);
    end = hs_mp_map(ours, len);
    max = HS_MP_HEAD_MAX;
    break;
  case STR:
    msgpack_pack_str(&pk, len);
    end = hs_mp_str(ours, len);
    max = HS_MP_HEAD_MAX;
    break;
  default:
    msgpack_pack_bin(&pk, len);
    end = hs_mp_bin(ours, len);
    max = HS_MP_HEAD_MAX;
    break;
  }
  size_t n = (size_t)(end - ours);
  if (n != sb.size || memcmp(ours, sb.data, n))
    fail_msg("kind %d, value %llu / %g: %zu bytes (first 0x%02x) against msgpack-c's %zu (0x%02x)",
             kind, (unsigned long long)v, x, n, ours[0], sb.size, (unsigned char)sb.data[0]);
  assert_true(n <= max);
  msgpack_sbuffer_destroy(&sb);
}

static void test_integers_at_every_boundary(void **state) {
  (void)state;
  static const int64_t edges[] = {0,
                                  31,
                                  32,
                                  127,
                                  128,
                                  255,
                                  256,
                                  65535,
                                  65536,
                                  INT32_MAX,
                                  (int64_t)INT32_MAX + 1,
                                  4294967295LL,
                                  4294967296LL,
                                  INT64_MAX,
                                  -32,
                                  -33,
                                  -128,
                                  -129,
                                  -32768,
                                  -32769,
                                  INT32_MIN,
                                  (int64_t)INT32_MIN - 1,
                                  INT64_MIN};
  int n = 0;
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
    for (int64_t delta = -2; delta <= 2; delta++) {
      int64_t d = edges[i];
      if ((delta > 0 && d > INT64_MAX - delta) || (delta < 0 && d < INT64_MIN - delta))
        continue;
      d += delta;
      same(INT64, (uint64_t)d, 0);
      if (d >= INT32_MIN && d <= INT32_MAX)
        same(INT32, (uint64_t)d, 0);
      n++;
    }
  print_message("%d integers at and around the boundaries\n", n);
}

static void test_integers_of_every_magnitude(void **state) {
  (void)state;
  uint64_t s = 1; /* a fixed sequence: a million draws cover every width */
  for (int i = 0; i < 1000000; i++) {
    uint64_t r = hs_test_splitmix(&s);
    int64_t d = (int64_t)(r >> (r & 63)); /* every width about as often */
    if (r & 64)
      d = -d;
    same(INT64, (uint64_t)d, 0);
    same(INT32, (uint64_t)(int32_t)d, 0);
  }
}

static void test_floats_of_every_kind(void **state) {
  (void)state;
  static const double kinds[] = {0.0, -0.0, 1.0, -1.5, 1e-310, 1e308, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    same(DOUBLE, 0, kinds[i]);
    same(FLOAT, 0, kinds[i]);
  }
  uint64_t s = 2;
  for (int i = 0; i < 100000; i++) {
    uint64_t bits = hs_test_splitmix(&s);
    double x;
    memcpy(&x, &bits, sizeof x);
    same(DOUBLE, 0, x);
    float f;
    uint32_t low = (uint32_t)bits;
    memcpy(&f, &low, sizeof f);
    same(FLOAT, 0, f); /* every float is a double exactly */
  }
  unsigned char b[4];
  assert_int_equal(hs_mp_nil(b) - b, 1);
  assert_int_equal(b[0], 0xc0);
  for (unsigned n = 0; n < 16; n++) {
    assert_int_equal(hs_mp_fixarray(b, n) - b, 1);
    assert_int_equal(b[0], 0x90 | n);
  }
}

static void test_unsigned_integers_and_booleans(void **state) {
  (void)state;
  static const uint64_t edges[] = {0,
                                   127,
                                   128,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   UINT32_MAX,
                                   (uint64_t)UINT32_MAX + 1,
                                   INT64_MAX,
                                   (uint64_t)INT64_MAX + 1,
                                   UINT64_MAX};
  uint64_t s = 3;
  for (size_t i = 0; i < sizeof edges / sizeof *edges + 100000; i++) {
    uint64_t v;
    if (i < sizeof edges / sizeof *edges) {
      v = edges[i];
    } else {
      uint64_t r = hs_test_splitmix(&s);
      v = r >> (r & 63);
    }
    same(UINT64, v, 0);
  }
  same(BOOL, 0, 0);
  same(BOOL, 1, 0);
}

static void test_headers_of_every_length_form(void **state) {
  (void)state;
  static const uint32_t edges[] = {
      0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 1u << 20, UINT32_MAX - 1, UINT32_MAX};
  int n = 0;
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
    for (int64_t delta = -1; delta <= 1; delta++) {
      if ((delta < 0 && !edges[i]) || (delta > 0 && edges[i] == UINT32_MAX))
        continue;
      uint32_t len = (uint32_t)((int64_t)edges[i] + delta);
      for (int k = ARRAY; k <= BIN; k++, n++)
        same(k, len, 0);
    }
  print_message("%d headers at and around the boundaries\n", n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_integers_at_every_boundary),
      cmocka_unit_test(test_integers_of_every_magnitude),
      cmocka_unit_test(test_floats_of_every_kind),
      cmocka_unit_test(test_unsigned_integers_and_booleans),
      cmocka_unit_test(test_headers_of_every_length_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
