/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "testutil.h"
#include "healthscore/time.h"

#include <string.h>

static int64_t parse(const char *s) {
  int64_t ms = 0;
  assert_int_equal(hs_time_parse_rfc3339(s, strlen(s), &ms), 0);
  return ms;
}

static void test_rfc3339_utc_and_offsets(void **state) {
  (void)state;
  assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
  assert_int_equal(parse("2026-11-24T12:00:00Z"), INT64_C(1795521600000));
  assert_int_equal(parse("2026-11-24T14:00:00+02:00"), INT64_C(1795521600000));
  assert_int_equal(parse("2026-11-24T07:30:00.250-04:30"), INT64_C(1795521600250));
  assert_int_equal(parse("2024-02-29T00:00:00Z") / 1000, 1709164800);
}

static void test_rfc3339_rejects_garbage(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "2026-11-24",
                       "2026-11-24T12:00:00",
                       "2026-13-01T00:00:00Z",
                       "2023-02-29T00:00:00Z",
                       "2026-11-24T24:00:00Z",
                       "2026-11-24T12:00:00Zjunk",
                       "2026-11-24T12:00:00.Z",
                       "2026-11-24T12:00:00+2:00"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t ms;
    assert_int_equal(hs_time_parse_rfc3339(bad[i], strlen(bad[i]), &ms), HS_E_PARSE);
  }
}

static void test_format_round_trip(void **state) {
  (void)state;
  char buf[32];
  hs_time_format(INT64_C(1795521600250), buf);
  assert_string_equal(buf, "2026-11-24T12:00:00.250Z");
  assert_int_equal(parse(buf), INT64_C(1795521600250));
  hs_time_format(-1, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_day_of_floors(void **state) {
  (void)state;
  assert_int_equal(hs_day_of(0), 0);
  assert_int_equal(hs_day_of(HS_MS_PER_DAY - 1), 0);
  assert_int_equal(hs_day_of(HS_MS_PER_DAY), 1);
  assert_int_equal(hs_day_of(-1), -1);
  assert_int_equal(hs_day_of(-HS_MS_PER_DAY), -1);
  assert_int_equal(hs_day_of(-HS_MS_PER_DAY - 1), -2);
  (void)hs_day_of(INT64_MIN); /* defined: no overflow (UBSan watches) */
  char t[32];
  hs_time_format(INT64_MIN, t); /* "never" is formatted without overflow */
}

static void test_durations(void **state) {
  (void)state;
  int64_t ms;
  assert_int_equal(hs_duration_parse("90d", &ms), 0);
  assert_int_equal(ms, 90 * HS_MS_PER_DAY);
  assert_int_equal(hs_duration_parse("250ms", &ms), 0);
  assert_int_equal(ms, 250);
  assert_int_equal(hs_duration_parse("0", &ms), 0);
  assert_int_equal(ms, 0);
  assert_int_not_equal(hs_duration_parse("5 days", &ms), 0);
  assert_int_not_equal(hs_duration_parse("d", &ms), 0);
}

static void test_allocator_counts_and_fails(void **state) {
  (void)state;
  size_t before = hs_alloc_bytes();
  void *p = hs_malloc(100);
  assert_int_equal(hs_alloc_bytes(), before + 100);
  p = hs_realloc(p, 300);
  assert_int_equal(hs_alloc_bytes(), before + 300);
  hs_free(p);
  assert_int_equal(hs_alloc_bytes(), before);
  hs_alloc_fail_after(2);
  void *a = hs_malloc(8);
  assert_non_null(a);
  assert_null(hs_malloc(8));
  void *b = hs_malloc(8);
  assert_non_null(b);
  hs_free(a);
  hs_free(b);
}

static void test_json_escape(void **state) {
  (void)state;
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_buf_json_str(&b, "a\"b\\c\n\x01", 7), 0);
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
  hs_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3339_utc_and_offsets),
      cmocka_unit_test(test_rfc3339_rejects_garbage),
      cmocka_unit_test(test_format_round_trip),
      cmocka_unit_test(test_day_of_floors),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_allocator_counts_and_fails),
      cmocka_unit_test(test_json_escape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
