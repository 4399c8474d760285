/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The state's direct msgpack writers (src/state/mp_put.h) against
 * msgpack-c's packer: the same bytes for every integer width at and around
 * each boundary, for a million integers of every magnitude, and for
 * doubles and floats of every kind. */
#include "testutil.h"

#include "mp_put.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>

/* The bytes msgpack-c writes for one item (kind 0: int64, 1: int32,
 * 2: double, 3: float) against ours. */
static void same(int kind, int64_t d, double x) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  unsigned char ours[16], *end;
  if (kind == 0) {
    msgpack_pack_int64(&pk, d);
    end = hs_mp_int(ours, d);
  } else if (kind == 1) {
    msgpack_pack_int32(&pk, (int32_t)d);
    end = hs_mp_int(ours, (int32_t)d);
  } else if (kind == 2) {
    msgpack_pack_double(&pk, x);
    end = hs_mp_double(ours, x);
  } else {
    msgpack_pack_float(&pk, (float)x);
    end = hs_mp_float(ours, (float)x);
  }
  size_t n = (size_t)(end - ours);
  if (n != sb.size || memcmp(ours, sb.data, n))
    fail_msg("kind %d, value %lld / %g: %zu bytes (first 0x%02x) against msgpack-c's %zu (0x%02x)",
             kind, (long long)d, x, n, ours[0], sb.size, (unsigned char)sb.data[0]);
  assert_true(n <= HS_MP_INT_MAX);
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
      same(0, d, 0);
      if (d >= INT32_MIN && d <= INT32_MAX)
        same(1, d, 0);
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
    same(0, d, 0);
    same(1, (int32_t)d, 0);
  }
}

static void test_floats_of_every_kind(void **state) {
  (void)state;
  static const double kinds[] = {0.0, -0.0, 1.0, -1.5, 1e-310, 1e308, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    same(2, 0, kinds[i]);
    same(3, 0, kinds[i]);
  }
  uint64_t s = 2;
  for (int i = 0; i < 100000; i++) {
    uint64_t bits = hs_test_splitmix(&s);
    double x;
    memcpy(&x, &bits, sizeof x);
    same(2, 0, x);
    float f;
    uint32_t low = (uint32_t)bits;
    memcpy(&f, &low, sizeof f);
    same(3, 0, f); /* every float is a double exactly */
  }
  unsigned char b[4];
  assert_int_equal(hs_mp_nil(b) - b, 1);
  assert_int_equal(b[0], 0xc0);
  for (unsigned n = 0; n < 16; n++) {
    assert_int_equal(hs_mp_fixarray(b, n) - b, 1);
    assert_int_equal(b[0], 0x90 | n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_integers_at_every_boundary),
      cmocka_unit_test(test_integers_of_every_magnitude),
      cmocka_unit_test(test_floats_of_every_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
