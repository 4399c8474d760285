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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_from_every_name),
      cmocka_unit_test(test_type_from_near_misses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
