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

/* Every field through its accessor: the member it names, only when present,
 * and nothing for a field of the other kind or out of range. */
static void test_event_accessors_read_each_field(void **state) {
  (void)state;
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  const double *nums[] = {&ev.session_seconds, &ev.count, &ev.amount,  &ev.score,
                          &ev.rating,          &ev.value, &ev.licenses};
  const int64_t *times[] = {&ev.due_ms, &ev.expires_ms, &ev.contract_start_ms, &ev.renewal_ms};
  hs_str_t *strs[] = {&ev.user_id,    &ev.feature, &ev.role,    &ev.priority, &ev.ticket_id,
                      &ev.invoice_id, &ev.outcome, &ev.target,  &ev.reason,   &ev.author,
                      &ev.segment,    &ev.stage,   &ev.vertical};
  static const char text[] = "abcdefghijklmnopqrstuvwxyz";
  ev.session_seconds = 1.5, ev.count = 2, ev.amount = 3.25, ev.score = 4, ev.rating = 5;
  ev.value = -6.5, ev.licenses = 7;
  ev.due_ms = INT64_C(1767225600008), ev.expires_ms = 9, ev.contract_start_ms = 10;
  ev.renewal_ms = INT64_C(253402300799999);
  for (int i = 0; i < 13; i++)
    *strs[i] = (hs_str_t){text + i, (uint32_t)i + 1};
  for (int present = 0; present < 2; present++) {
    ev.present = present ? UINT32_MAX >> 1 : 0;
    for (int f = 0; f < HS_F__COUNT + 2; f++) {
      double v = -1;
      bool got = hs_event_num(&ev, (hs_field_t)f, &v);
      hs_str_t sv = hs_event_str(&ev, (hs_field_t)f);
      bool num = f >= HS_F_SESSION_SECONDS && f <= HS_F_RENEWAL_DATE;
      bool str = f >= HS_F_USER_ID && f <= HS_F_VERTICAL;
      assert_int_equal(got, present && num);
      if (got)
        assert_true(v == (f <= HS_F_LICENSES ? *nums[f - HS_F_SESSION_SECONDS]
                                             : (double)*times[f - HS_F_DUE]));
      else
        assert_true(v == -1);
      if (present && str) {
        assert_ptr_equal(sv.ptr, strs[f - HS_F_USER_ID]->ptr);
        assert_int_equal(sv.len, strs[f - HS_F_USER_ID]->len);
      } else {
        assert_null(sv.ptr);
        assert_int_equal(sv.len, 0);
      }
    }
    /* one field present: only it */
    ev.present = HS_FIELD_BIT(HS_F_AMOUNT) | HS_FIELD_BIT(HS_F_STAGE);
    double v;
    assert_false(hs_event_num(&ev, HS_F_COUNT, &v));
    assert_true(hs_event_num(&ev, HS_F_AMOUNT, &v) && v == 3.25);
    assert_null(hs_event_str(&ev, HS_F_SEGMENT).ptr);
    assert_ptr_equal(hs_event_str(&ev, HS_F_STAGE).ptr, text + 11);
  }
}

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
      cmocka_unit_test(test_event_accessors_read_each_field),
      cmocka_unit_test(test_event_time_guard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
