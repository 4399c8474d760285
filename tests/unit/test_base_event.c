/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "testutil.h"

#include <string.h>

#include "healthscore/event.h"

static hs_event_type_t from(const char *s, size_t n) {
  return hs_event_type_from((hs_str_t){s, (uint32_t)n});
}

/* The type named by the first n bytes of s, by comparing with every name. */
static hs_event_type_t from_by_scan(const char *s, size_t n) {
  for (int t = 1; t < HS_EV__COUNT; t++) {
    const char *name = hs_event_type_name((hs_event_type_t)t);
    if (strlen(name) == n && memcmp(name, s, n) == 0)
      return (hs_event_type_t)t;
  }
  return HS_EV_UNKNOWN;
}

static void test_type_from_every_name(void **state) {
  (void)state;
  for (int t = 1; t < HS_EV__COUNT; t++) {
    const char *name = hs_event_type_name((hs_event_type_t)t);
    assert_int_equal(from(name, strlen(name)), t);
  }
  assert_int_equal(from("unknown", 7), HS_EV_UNKNOWN);
  assert_int_equal(from("", 0), HS_EV_UNKNOWN);
  assert_int_equal(hs_event_type_from(HS_STR_NULL), HS_EV_UNKNOWN);
  assert_int_equal(from("Login", 5), HS_EV_UNKNOWN);
}

static void test_type_from_near_misses(void **state) {
  (void)state;
  /* every name cut short, lengthened, and with each byte changed */
  for (int t = 1; t < HS_EV__COUNT; t++) {
    const char *name = hs_event_type_name((hs_event_type_t)t);
    size_t n = strlen(name);
    char buf[32];
    memcpy(buf, name, n);
    buf[n] = 's';
    for (size_t len = 0; len <= n + 1; len++)
      assert_int_equal(from(buf, len), from_by_scan(buf, len));
    for (size_t i = 0; i < n; i++) {
      buf[i] ^= 0x20;
      assert_int_equal(from(buf, n), from_by_scan(buf, n));
      assert_int_equal(from(buf, n), HS_EV_UNKNOWN);
      buf[i] ^= 0x20;
    }
  }
}

#define T2026 INT64_C(1796083200000) /* 2026-12-01T00:00:00Z */

static void test_event_time_guard(void **state) {
  (void)state;
  char why[256];
  int64_t min;
  assert_int_equal(hs_event_min_time_parse(HS_MIN_EVENT_TIME_DEFAULT, &min), 0);
  assert_int_equal(min, INT64_C(946684800000));
  /* ts 0 */
  assert_int_equal(hs_event_check_time(0, T2026, min, 3600000, why, sizeof why), HS_E_RANGE);
  assert_string_equal(why, "implausible timestamp: 1970-01-01T00:00:00.000Z is before "
                           "min_event_time 2000-01-01T00:00:00.000Z");
  /* epoch seconds where milliseconds are expected */
  assert_int_equal(hs_event_check_time(1733500000, T2026, min, 3600000, why, sizeof why),
                   HS_E_RANGE);
  assert_string_equal(why, "implausible timestamp: 1970-01-21T01:31:40.000Z is before "
                           "min_event_time 2000-01-01T00:00:00.000Z; 1733500000 looks like "
                           "epoch seconds, not milliseconds");
  /* an early time that is not seconds either way gets no guess */
  assert_int_equal(hs_event_check_time(86400000, T2026, min, 3600000, why, sizeof why), HS_E_RANGE);
  assert_null(strstr(why, "epoch seconds"));
  /* the future, relative to now */
  assert_int_equal(hs_event_check_time(T2026 + 3600001, T2026, min, 3600000, why, sizeof why),
                   HS_E_RANGE);
  assert_string_equal(why, "future timestamp: 2026-12-01T01:00:00.001Z is more than max_future "
                           "(1h) ahead of now (2026-12-01T00:00:00.000Z)");
  assert_int_equal(hs_event_check_time(T2026 + 3600000, T2026, min, 3600000, why, sizeof why), 0);
  assert_int_equal(hs_event_check_time(min, T2026, min, 0, why, sizeof why), 0);
  assert_int_equal(hs_event_check_time(min - 1, T2026, min, 0, why, sizeof why), HS_E_RANGE);
  /* a duration before now */
  assert_int_equal(hs_event_min_time_parse("30d", &min), 0);
  assert_int_equal(min, -30 * INT64_C(86400000));
  assert_int_equal(hs_event_check_time(T2026 - 30 * INT64_C(86400000), T2026, min, 0, why, 8), 0);
  assert_int_equal(hs_event_check_time(T2026 - 31 * INT64_C(86400000), T2026, min, 0, why, 8),
                   HS_E_RANGE);
  assert_string_equal(why, "implaus"); /* truncated to the room given */
  const char *bad[] = {"", "0", "yesterday", "-5d", "1969-12-31T23:59:59Z", "2026-13-01T00:00:00Z"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(hs_event_min_time_parse(bad[i], &min), HS_E_PARSE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_from_every_name),
      cmocka_unit_test(test_type_from_near_misses),
      cmocka_unit_test(test_event_time_guard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
