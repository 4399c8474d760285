/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Prometheus registry renders the text exposition format exactly. */
#include "testutil.h"

#include "healthscore/metrics.h"

#include <string.h>

static void test_exposition_text(void **state) {
  (void)state;
  hs_metrics_t *r = hs_metrics_new();
  assert_non_null(r);
  hs_family_t *ev = hs_metrics_family(r, HS_COUNTER, "healthscore_events_total",
                                      "Events read, by topic and type.", "topic,type", NULL, 0);
  hs_family_t *up =
      hs_metrics_family(r, HS_GAUGE, "healthscore_up", "1 when ready.", NULL, NULL, 0);
  static const double bounds[] = {0.001, 0.01, 0.1};
  hs_family_t *lat = hs_metrics_family(r, HS_HISTOGRAM, "healthscore_latency_seconds",
                                       "Event to score.", "stage", bounds, 3);
  assert_true(ev && up && lat);
  const char *v1[] = {"healthscore.usage", "login"}, *v2[] = {"weird\"\\\ntopic", "nps"};
  hs_series_t *a = hs_family_series(ev, v1);
  assert_true(hs_family_series(ev, v1) == a); /* looked up once, same handle */
  hs_series_add(a, 2);
  hs_series_add(a, 3);
  hs_series_add(hs_family_series(ev, v2), 1);
  hs_series_set(hs_family_series(up, NULL), 1);
  const char *stage[] = {"score"};
  hs_series_t *h = hs_family_series(lat, stage);
  hs_series_observe(h, 0.0005);
  hs_series_observe(h, 0.005);
  hs_series_observe(h, 0.005);
  hs_series_observe(h, 7);
  assert_true(hs_series_value(h) == 4);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_metrics_render(r, &b), 0);
  assert_string_equal(b.data,
                      "# HELP healthscore_events_total Events read, by topic and type.\n"
                      "# TYPE healthscore_events_total counter\n"
                      "healthscore_events_total{topic=\"healthscore.usage\",type=\"login\"} 5\n"
                      "healthscore_events_total{topic=\"weird\\\"\\\\\\ntopic\",type=\"nps\"} 1\n"
                      "# HELP healthscore_up 1 when ready.\n"
                      "# TYPE healthscore_up gauge\n"
                      "healthscore_up 1\n"
                      "# HELP healthscore_latency_seconds Event to score.\n"
                      "# TYPE healthscore_latency_seconds histogram\n"
                      "healthscore_latency_seconds_bucket{stage=\"score\",le=\"0.001\"} 1\n"
                      "healthscore_latency_seconds_bucket{stage=\"score\",le=\"0.01\"} 3\n"
                      "healthscore_latency_seconds_bucket{stage=\"score\",le=\"0.1\"} 3\n"
                      "healthscore_latency_seconds_bucket{stage=\"score\",le=\"+Inf\"} 4\n"
                      "healthscore_latency_seconds_sum{stage=\"score\"} 7.0105\n"
                      "healthscore_latency_seconds_count{stage=\"score\"} 4\n");
  hs_buf_free(&b);
  hs_metrics_free(r);
}

static void test_invalid_families_are_refused(void **state) {
  (void)state;
  hs_metrics_t *r = hs_metrics_new();
  assert_null(hs_metrics_family(r, HS_COUNTER, "9starts_with_digit", "", NULL, NULL, 0));
  assert_null(hs_metrics_family(r, HS_COUNTER, "has-dash", "", NULL, NULL, 0));
  assert_null(hs_metrics_family(r, HS_COUNTER, "ok_name", "", "bad:label", NULL, 0));
  static const double desc[] = {1, 0.5};
  assert_null(hs_metrics_family(r, HS_HISTOGRAM, "h", "", NULL, desc, 2));
  assert_non_null(hs_metrics_family(r, HS_COUNTER, "ok_name", "", "a,b", NULL, 0));
  assert_null(hs_metrics_family(r, HS_GAUGE, "ok_name", "", NULL, NULL, 0)); /* duplicate */
  hs_metrics_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exposition_text),
      cmocka_unit_test(test_invalid_families_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
