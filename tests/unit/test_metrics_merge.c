/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Registries of several engines add up to the exposition of one process. */
#include "testutil.h"

#include "healthscore/metrics.h"

#include <string.h>

static const double bounds[] = {0.01, 0.1};

/* One engine's registry: `events` applied, `held` accounts, a turn of
 * `turn` work, and two latencies. */
static hs_metrics_t *engine_registry(double events, double held, double turn, double lat) {
  hs_metrics_t *r = hs_metrics_new();
  assert_non_null(r);
  hs_family_t *ev =
      hs_metrics_family(r, HS_COUNTER, "hs_events_total", "Events.", "topic", NULL, 0);
  hs_family_t *acc = hs_metrics_family(r, HS_GAUGE, "hs_accounts", "Held.", NULL, NULL, 0);
  hs_family_t *mx = hs_metrics_family(r, HS_GAUGE, "hs_turn_max", "Most.", NULL, NULL, 0);
  hs_family_t *h =
      hs_metrics_family(r, HS_HISTOGRAM, "hs_latency_seconds", "Lat.", NULL, bounds, 2);
  assert_true(ev && acc && mx && h);
  const char *usage[] = {"usage"};
  hs_series_add(hs_family_series(ev, usage), events);
  hs_series_set(hs_family_series(acc, NULL), held);
  hs_series_set(hs_family_series(mx, NULL), turn);
  hs_series_observe(hs_family_series(h, NULL), lat);
  hs_series_observe(hs_family_series(h, NULL), 5);
  return r;
}

static void test_counters_gauges_and_histograms_add_up(void **state) {
  (void)state;
  hs_metrics_t *a = engine_registry(3, 10, 7, 0.005), *b = engine_registry(4, 20, 5, 0.05);
  hs_series_add(hs_family_series(
                    hs_metrics_family(b, HS_COUNTER, "hs_only_b_total", "B.", NULL, NULL, 0), NULL),
                2);
  hs_metrics_t *sum = hs_metrics_new();
  assert_non_null(sum);
  assert_int_equal(hs_metrics_merge(sum, a), 0);
  assert_int_equal(hs_metrics_merge(sum, b), 0);
  hs_buf_t out;
  hs_buf_init(&out);
  assert_int_equal(hs_metrics_render(sum, &out), 0);
  assert_string_equal(out.data, "# HELP hs_events_total Events.\n"
                                "# TYPE hs_events_total counter\n"
                                "hs_events_total{topic=\"usage\"} 7\n"
                                "# HELP hs_accounts Held.\n"
                                "# TYPE hs_accounts gauge\n"
                                "hs_accounts 30\n"
                                "# HELP hs_turn_max Most.\n"
                                "# TYPE hs_turn_max gauge\n"
                                "hs_turn_max 7\n"
                                "# HELP hs_latency_seconds Lat.\n"
                                "# TYPE hs_latency_seconds histogram\n"
                                "hs_latency_seconds_bucket{le=\"0.01\"} 1\n"
                                "hs_latency_seconds_bucket{le=\"0.1\"} 2\n"
                                "hs_latency_seconds_bucket{le=\"+Inf\"} 4\n"
                                "hs_latency_seconds_sum 10.055\n"
                                "hs_latency_seconds_count 4\n"
                                "# HELP hs_only_b_total B.\n"
                                "# TYPE hs_only_b_total counter\n"
                                "hs_only_b_total 2\n");
  /* the sources are unchanged: a scrape reads them, never moves them */
  hs_buf_t one;
  hs_buf_init(&one);
  assert_int_equal(hs_metrics_render(a, &one), 0);
  assert_non_null(strstr(one.data, "hs_events_total{topic=\"usage\"} 3\n"));
  hs_buf_free(&one);
  hs_buf_free(&out);
  hs_metrics_free(sum);
  hs_metrics_free(a);
  hs_metrics_free(b);
}

/* A merge into a copy renders exactly what the source renders. */
static void test_merge_into_empty_is_a_copy(void **state) {
  (void)state;
  hs_metrics_t *a = engine_registry(3, 10, 7, 0.005), *copy = hs_metrics_new();
  assert_non_null(copy);
  assert_int_equal(hs_metrics_merge(copy, a), 0);
  hs_buf_t x, y;
  hs_buf_init(&x);
  hs_buf_init(&y);
  assert_int_equal(hs_metrics_render(a, &x), 0);
  assert_int_equal(hs_metrics_render(copy, &y), 0);
  assert_int_equal(x.len, y.len);
  assert_memory_equal(x.data, y.data, x.len);
  hs_buf_free(&x);
  hs_buf_free(&y);
  hs_metrics_free(copy);
  hs_metrics_free(a);
}

static void test_families_of_another_shape_are_refused(void **state) {
  (void)state;
  hs_metrics_t *a = engine_registry(3, 10, 7, 0.005), *b = hs_metrics_new();
  assert_non_null(b);
  hs_family_t *f = hs_metrics_family(b, HS_GAUGE, "hs_events_total", "Wrong type.", NULL, NULL, 0);
  hs_series_set(hs_family_series(f, NULL), 100);
  assert_int_equal(hs_metrics_merge(a, b), HS_E_INVAL);
  hs_buf_t out;
  hs_buf_init(&out);
  assert_int_equal(hs_metrics_render(a, &out), 0);
  assert_non_null(strstr(out.data, "hs_events_total{topic=\"usage\"} 3\n"));
  assert_null(strstr(out.data, "100"));
  hs_buf_free(&out);
  hs_metrics_free(a);
  hs_metrics_free(b);
}

static void test_out_of_memory_fails_cleanly(void **state) {
  (void)state;
  hs_metrics_t *a = engine_registry(3, 10, 7, 0.005);
  for (uint64_t n = 1; n < 40; n++) {
    hs_metrics_t *dst = hs_metrics_new();
    assert_non_null(dst);
    hs_alloc_fail_after(n);
    int rc = hs_metrics_merge(dst, a);
    hs_alloc_fail_after(0);
    assert_true(rc == 0 || rc == HS_E_NOMEM);
    hs_metrics_free(dst);
  }
  hs_metrics_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counters_gauges_and_histograms_add_up),
      cmocka_unit_test(test_merge_into_empty_is_a_copy),
      cmocka_unit_test(test_families_of_another_shape_are_refused),
      cmocka_unit_test(test_out_of_memory_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
