/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The daily history written to Redis is formatted without printf: its days
 * ("YYYY-MM-DD") and scores ("%.1f" of the score rounded half away from
 * zero) must be exactly what printf wrote, so that the stored history stays
 * byte-identical. */
#include "testutil.h"

#include "../../src/store/internal.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void check_tenths(double v) {
  char want[32], got[32];
  int wn = snprintf(want, sizeof want, "%.1f", round(v * 10) / 10);
  int gn = hs__format_tenths(v, got);
  if (wn != gn || strcmp(want, got))
    fail_msg("%.17g: printf \"%s\", formatted \"%s\"", v, want, got);
}

static void test_tenths_as_printf(void **state) {
  (void)state;
  static const double edge[] = {0,     -0.0,     0.04,      -0.04,  0.05,   -0.05,
                                0.15,  0.25,     0.35,      99.95,  99.949, 100,
                                -100,  83.25,    83.35,     1e14,   -1e14,  1e15,
                                -1e15, 1e16,     1e300,     -1e300, 4.5e15, NAN,
                                -NAN,  INFINITY, -INFINITY, 1e-300, 5e-324, 0.9499999999999999};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
    check_tenths(edge[i]);
  /* every score in tenths and hundredths over the range scores take, and a
     pseudo-random spread beyond it */
  for (int k = -20000; k <= 200000; k++) {
    check_tenths(k / 100.0);
    check_tenths(k / 1000.0);
  }
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    memcpy(&v, &x, sizeof v);
    check_tenths(v);
    check_tenths((double)(int64_t)(x >> 11) / 1e3);
  }
}

static void test_days_as_time_format(void **state) {
  (void)state;
  /* every day of years 0000..9999, and beyond them (clamped alike) */
  for (int64_t day = -720000; day <= 2933000; day++) {
    char want[32], got[10];
    hs_time_format(day * HS_MS_PER_DAY, want);
    hs_day_format(day, got);
    if (memcmp(want, got, 10))
      fail_msg("day %lld: \"%.10s\", formatted \"%.10s\"", (long long)day, want, got);
  }
  char got[10];
  hs_day_format(INT32_MIN, got);
  assert_memory_equal(got, "0000-01-01", 10);
  hs_day_format(INT32_MAX, got);
  assert_memory_equal(got, "9999-12-31", 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tenths_as_printf),
      cmocka_unit_test(test_days_as_time_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
