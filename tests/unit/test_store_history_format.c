/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The daily history written to Redis and the times of the score record are
 * formatted without printf: days ("YYYY-MM-DD"), times
 * ("YYYY-MM-DDTHH:MM:SS.mmmZ") and scores ("%.1f" of the score rounded half
 * away from zero) must be exactly what printf wrote, so that the stored
 * history and records stay byte-identical. */
#include "testutil.h"

#include "../../src/store/internal.h"
#include "healthscore/time.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void check_tenths(double v) {
  char want[400], got[HS_TENTHS_MAX];
  int wn = snprintf(want, sizeof want, "%.1f", round(v * 10) / 10);
  int gn = hs__format_tenths(v, got);
  if (wn != gn || strcmp(want, got))
    fail_msg("%.17g: printf \"%s\", formatted \"%s\"", v, want, got);
}

static void test_tenths_as_printf(void **state) {
  (void)state;
  static const double edge[] = {0,       -0.0,     0.04,      -0.04,  0.05,   -0.05,
                                0.15,    0.25,     0.35,      99.95,  99.949, 100,
                                -100,    83.25,    83.35,     1e14,   -1e14,  1e15,
                                -1e15,   1e16,     1e300,     -1e300, 4.5e15, NAN,
                                -NAN,    INFINITY, -INFINITY, 1e-300, 5e-324, 0.9499999999999999,
                                DBL_MAX, -DBL_MAX};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
    check_tenths(edge[i]);
  /* every score in hundredths over the range scores take (and thousandths
     over a part of it), and a pseudo-random spread beyond it; sized for the
     unit tests' run under valgrind */
  for (int k = -2000; k <= 12000; k++) {
    check_tenths(k / 100.0);
    check_tenths(k / 1000.0);
  }
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    memcpy(&v, &x, sizeof v);
    check_tenths(v);
    check_tenths((double)(int64_t)(x >> 11) / 1e3);
  }
}

/* What printf wrote for `ms` (years 0000..9999), from libc's calendar. */
static void reference_time(int64_t ms, char out[96]) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  time_t t = (time_t)secs;
  struct tm tm;
  assert_non_null(gmtime_r(&t, &tm));
  snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - secs * 1000));
}

static void test_times_as_printf(void **state) {
  (void)state;
  const int64_t lo = INT64_C(-62167219200000), hi = INT64_C(253402300799999);
  static const int64_t edge[] = {
      0,  -1,     1,  999,   1000, 86399999, 86400000, -86400000, 951782400000 /* 2000-02-29 */,
      lo, lo + 1, hi, hi - 1};
  char want[96], got[32];
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
    reference_time(edge[i], want);
    hs_time_format(edge[i], got);
    assert_string_equal(got, want);
  }
  /* clamped to years 0000..9999 */
  hs_time_format(INT64_MIN, got);
  assert_string_equal(got, "0000-01-01T00:00:00.000Z");
  hs_time_format(INT64_MAX, got);
  assert_string_equal(got, "9999-12-31T23:59:59.999Z");
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
    reference_time(ms, want);
    hs_time_format(ms, got);
    if (strcmp(want, got))
      fail_msg("%lld: printf \"%s\", formatted \"%s\"", (long long)ms, want, got);
  }
}

static void test_days_as_time_format(void **state) {
  (void)state;
  /* every day of the years 1900..2199, every 97th of years 0000..9999 and
     beyond them (clamped alike) */
  for (int64_t day = -720000; day <= 2933000; day += day >= -25567 && day < 84000 ? 1 : 97) {
    char want[96], got[10];
    int64_t d = day < -719528 ? -719528 : day > 2932896 ? 2932896 : day;
    reference_time(d * HS_MS_PER_DAY, want);
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
      cmocka_unit_test(test_times_as_printf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
