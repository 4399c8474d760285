/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The figures behind each chart of the HTML report, the metric table and the
 * comparison of two reports, against answers worked out by hand. */
#include "testutil.h"

#include "healthscore/report.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01 */
static const char *const bands[] = {"red", "yellow", "green"};
static const char *const profiles[] = {"default"};
static const char *const rules[] = {"low", "drop"};
static const char *const metrics[] = {"signal", "noise", "tracked", "unused"};

static hs_report_t *new_report(void) {
  hs_report_t *r;
  hs_report_conf_t c = {10, bands, 3, profiles, 1, rules, 2, metrics, 4};
  assert_int_equal(hs_report_new(&r, &c), 0);
  return r;
}

static int band_of(double s) {
  return s < 40 ? 0 : s < 70 ? 1 : 2;
}

/* Scores `late` from day `from` on, `early` before; 40 days, outcome on day
 * 40, so the horizon (10 days) reads day 30. Metrics: signal = the score
 * (weight 0.5), noise = 50 (weight 0.5; missing for "r1"), tracked = the
 * score (weight 0). */
static void account(hs_report_t *r, const char *id, double early, double late, int from,
                    const char *outcome) {
  hs_str_t a = {id, (uint32_t)strlen(id)};
  for (int d = 0; d < 40; d++) {
    double s = d < from ? early : late;
    int64_t at = T0 + d * DAY + 3600000;
    assert_int_equal(hs_report_score(r, a, at, true, s, band_of(s), 0, HS_STR_NULL), 0);
    uint16_t m[3] = {0, 1, 2};
    double norm[3] = {s, strcmp(id, "r1") ? 50 : NAN, s}, w[3] = {0.5, 0.5, 0};
    assert_int_equal(hs_report_metrics(r, a, at, 3, m, norm, w), 0);
  }
  assert_int_equal(
      hs_report_outcome(r, a, T0 + 40 * DAY, (hs_str_t){outcome, (uint32_t)strlen(outcome)}), 0);
}

/* At the horizon: 10c 20r 30c 55c 60r 65r 80r 90r 95r 100r (c churned). */
static hs_report_t *sample(void) {
  hs_report_t *r = new_report();
  account(r, "c1", 10, 10, 0, "churned");  /* red all along: lead 40 days */
  account(r, "c2", 80, 30, 30, "churned"); /* red from day 30: lead 10 */
  account(r, "c3", 55, 55, 0, "churned");  /* yellow: never red */
  account(r, "r1", 20, 20, 0, "renewed");
  account(r, "r2", 60, 60, 0, "renewed");
  account(r, "r3", 65, 65, 0, "expanded");
  account(r, "r4", 80, 80, 0, "renewed");
  account(r, "r5", 90, 90, 0, "renewed");
  account(r, "r6", 95, 95, 0, "renewed");
  account(r, "r7", 100, 100, 0, "renewed");
  assert_int_equal(hs_report_alert_at(r, 0, true, T0 + 3 * DAY), 0);
  assert_int_equal(hs_report_alert_at(r, 1, true, T0 + 10 * DAY), 0);
  assert_int_equal(hs_report_alert_at(r, 0, true, T0 + 10 * DAY + 5), 0);
  assert_int_equal(hs_report_alert_at(r, 0, false, T0 + 11 * DAY), 0); /* resolved: not drawn */
  return r;
}

static void test_charts_roc_distribution_deciles_and_pr(void **state) {
  (void)state;
  hs_report_t *r = sample();
  hs_report_charts_t c;
  assert_int_equal(hs_report_charts(r, &c), 0);
  assert_int_equal(c.n_pred, 10);
  assert_int_equal(c.n_churned, 3);
  /* churned above retained: 10 -> 7, 30 -> 6, 55 -> 6 of 7 = 19 / 21 */
  assert_float_equal(c.auc, 19.0 / 21.0, 1e-12);
  /* ROC: one point per distinct score plus the origin */
  static const double fpr[] = {0,      0,      1 / 7., 1 / 7., 1 / 7., 2 / 7.,
                               3 / 7., 4 / 7., 5 / 7., 6 / 7., 1};
  static const double tpr[] = {0, 1 / 3., 1 / 3., 2 / 3., 1, 1, 1, 1, 1, 1, 1};
  assert_int_equal(c.n_roc, 11);
  for (size_t i = 0; i < 11; i++) {
    assert_float_equal(c.roc_fpr[i], fpr[i], 1e-12);
    assert_float_equal(c.roc_tpr[i], tpr[i], 1e-12);
  }
  static const size_t hc[10] = {0, 1, 0, 1, 0, 1, 0, 0, 0, 0};
  static const size_t hr[10] = {0, 0, 1, 0, 0, 0, 2, 0, 1, 3}; /* 100 in the last bin */
  static const size_t dc[10] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 0};
  for (int b = 0; b < 10; b++) {
    assert_int_equal(c.hist_churned[b], hc[b]);
    assert_int_equal(c.hist_retained[b], hr[b]);
    assert_int_equal(c.dec_n[b], 1);
    assert_int_equal(c.dec_churned[b], dc[b]);
  }
  assert_float_equal(c.dec_lo[3], 55, 0);
  assert_float_equal(c.dec_hi[9], 100, 0);
  /* "score < t" flagged */
  assert_true(isnan(c.precision[0]));
  assert_float_equal(c.recall[0], 0, 0);
  assert_float_equal(c.pr_threshold[7], 35, 0);
  assert_float_equal(c.precision[7], 2 / 3., 1e-12); /* 10c 20r 30c */
  assert_float_equal(c.recall[7], 2 / 3., 1e-12);
  assert_float_equal(c.precision[12], 0.75, 1e-12); /* < 60: 10c 20r 30c 55c */
  assert_float_equal(c.recall[12], 1, 1e-12);
  assert_float_equal(c.precision[20], 1 / 3., 1e-12); /* < 100: all but r7 */
  hs_report_charts_free(&c);
  hs_report_free(r);
}

static void test_charts_weeks_leads_and_alerts(void **state) {
  (void)state;
  hs_report_t *r = sample();
  hs_report_charts_t c;
  assert_int_equal(hs_report_charts(r, &c), 0);
  assert_int_equal(c.first_day, hs_day_of(T0));
  assert_int_equal(c.n_weeks, 6); /* days 0..39 */
  /* end of week 1 (day 6): red c1 r1; yellow c3 r2 r3; green c2 r4..r7 */
  assert_int_equal(c.week_bands[0 * 4 + 0], 2);
  assert_int_equal(c.week_bands[0 * 4 + 1], 3);
  assert_int_equal(c.week_bands[0 * 4 + 2], 5);
  assert_int_equal(c.week_bands[0 * 4 + 3], 0);
  /* end of week 5 (day 34): c2 turned red on day 30 */
  assert_int_equal(c.week_bands[4 * 4 + 0], 3);
  assert_int_equal(c.week_bands[4 * 4 + 2], 4);
  /* week 6 ends after the last day: the last score counts */
  assert_int_equal(c.week_bands[5 * 4 + 0], 3);
  /* leads 40 (week 5) and 10 (week 1); c3 never red; median 25 */
  assert_int_equal(c.lead_hist[1], 1);
  assert_int_equal(c.lead_hist[5], 1);
  assert_int_equal(c.never_red, 1);
  assert_float_equal(c.median_lead, 25, 0);
  /* alerts: rule low in week 1 and 2, drop in week 2; the resolution is not drawn */
  assert_int_equal(c.week_alerts[0 * 2 + 0], 1);
  assert_int_equal(c.week_alerts[0 * 2 + 1], 0);
  assert_int_equal(c.week_alerts[1 * 2 + 0], 1);
  assert_int_equal(c.week_alerts[1 * 2 + 1], 1);
  hs_report_charts_free(&c);
  hs_report_free(r);
}

static void test_metric_table_flags_noise_and_unweighted_signal(void **state) {
  (void)state;
  hs_report_t *r = sample();
  hs_report_charts_t c;
  assert_int_equal(hs_report_charts(r, &c), 0);
  assert_int_equal(c.n_metrics, 4);
  const hs_report_metric_stats_t *sig = &c.metrics[0], *noise = &c.metrics[1],
                                 *tracked = &c.metrics[2];
  assert_string_equal(sig->id, "signal");
  assert_float_equal(sig->coverage, 1, 0);
  assert_float_equal(sig->auc, 19.0 / 21.0, 1e-12);
  assert_float_equal(sig->mean_churned, 95 / 3., 1e-9);
  assert_float_equal(sig->mean_retained, 510 / 7., 1e-9);
  assert_float_equal(sig->share, 0.5, 1e-9); /* 0.5 * sum(score) / sum(score) */
  assert_null(sig->note);
  /* noise: 50 everywhere but r1 (missing) -> ties only, AUC 0.5 */
  assert_float_equal(noise->coverage, 0.9, 1e-12);
  assert_float_equal(noise->auc, 0.5, 1e-12);
  assert_float_equal(noise->share, 9 * 0.5 * 50 / 605.0, 1e-9);
  assert_non_null(noise->note);
  assert_non_null(strstr(noise->note, "predicts nothing"));
  assert_false(tracked->weighted);
  assert_float_equal(tracked->share, 0, 0);
  assert_non_null(tracked->note);
  assert_non_null(strstr(tracked->note, "weighs 0"));
  assert_null(c.metrics[3].id); /* never evaluated: left out of the table */
  hs_report_charts_free(&c);
  hs_report_free(r);
}

static void test_html_has_every_chart_and_no_nan(void **state) {
  (void)state;
  hs_report_t *r = sample();
  hs_buf_t b;
  hs_buf_init(&b);
  hs_report_meta_t meta = {"default v3", "p.yaml", "ev.jsonl", 1234, "healthscore replay <x>"};
  assert_int_equal(hs_report_html(r, &meta, NULL, NULL, &b), 0);
  assert_int_equal(hs_buf_append(&b, "", 1), 0);
  static const char *const ids[] = {"roc",      "distribution", "calibration", "precision",
                                    "leadtime", "bands",        "alerts"};
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    char want[64];
    snprintf(want, sizeof want, "id=\"chart-%s\"", ids[i]);
    assert_non_null(strstr(b.data, want));
  }
  assert_non_null(strstr(b.data, "AUC 0.905"));
  assert_non_null(strstr(b.data, "default v3"));
  assert_non_null(strstr(b.data, "healthscore replay &lt;x&gt;")); /* escaped */
  assert_non_null(strstr(b.data, "1234 events, 10 accounts"));
  assert_null(strstr(b.data, "nan"));
  assert_null(strstr(b.data, "src=")); /* self-contained: nothing to fetch */
  assert_null(strstr(b.data, "href="));
  hs_buf_free(&b);
  hs_report_free(r);
}

/* B: c1 and r1 swap scores (c1 80 green, r1 10 red), the rest as in A. */
static void test_compare_transitions_and_movers(void **state) {
  (void)state;
  hs_report_t *a = sample();
  hs_report_t *b = new_report();
  account(b, "c1", 80, 80, 0, "churned");
  account(b, "c2", 80, 30, 30, "churned");
  account(b, "c3", 55, 55, 0, "churned");
  account(b, "r1", 10, 10, 0, "renewed");
  account(b, "r2", 60, 60, 0, "renewed");
  account(b, "r3", 65, 65, 0, "expanded");
  account(b, "r4", 80, 80, 0, "renewed");
  account(b, "r5", 90, 90, 0, "renewed");
  account(b, "r6", 95, 95, 0, "renewed");
  account(b, "r7", 100, 100, 0, "renewed");
  account(b, "x9", 50, 50, 0, "renewed"); /* only in B: not compared */
  hs_report_compare_t c;
  assert_int_equal(hs_report_compare(a, b, &c), 0);
  assert_int_equal(c.common, 10);
  /* red: c1 -> green, r1 red -> red, c2 red -> red; yellow 3 stay; green 4 stay */
  assert_int_equal(c.n_bands_a, 3);
  assert_int_equal(c.n_bands_b, 3);
  size_t *t = c.transitions;
  assert_int_equal(t[0 * 4 + 0], 2);
  assert_int_equal(t[0 * 4 + 2], 1);
  assert_int_equal(t[1 * 4 + 1], 3);
  assert_int_equal(t[2 * 4 + 2], 4);
  /* movers: c1 by 70, r1 by 10 */
  assert_int_equal(c.n_movers, 2);
  assert_string_equal(c.movers[0].account, "c1");
  assert_float_equal(c.movers[0].score_a, 10, 0);
  assert_float_equal(c.movers[0].score_b, 80, 0);
  assert_string_equal(c.movers[0].metric[0], "signal"); /* 0.5 * (80 - 10) */
  assert_float_equal(c.movers[0].delta[0], 35, 1e-9);
  assert_null(c.movers[0].metric[1]); /* noise and tracked contribute the same */
  assert_string_equal(c.movers[1].account, "r1");
  /* B: churned {80, 30, 55} vs retained {10, 60, 65, 80, 90, 95, 100, 50}:
     below-retained counts 80 -> 3 + 0.5 (tie with 80), 30 -> 7, 55 -> 6 = 16.5 / 24 */
  assert_float_equal(c.a.auc, 19.0 / 21.0, 1e-12);
  assert_float_equal(c.b.auc, 16.5 / 24.0, 1e-12);
  hs_report_compare_free(&c);
  hs_buf_t out;
  hs_buf_init(&out);
  assert_int_equal(hs_report_compare_json(a, b, "A v1", "B v2", &out), 0);
  assert_int_equal(hs_buf_append(&out, "", 1), 0);
  assert_non_null(strstr(out.data, "{\"from\":\"red\",\"to\":\"green\",\"accounts\":1}"));
  assert_non_null(strstr(out.data, "\"account\":\"c1\",\"score_a\":10,\"score_b\":80"));
  out.len = 0;
  assert_int_equal(hs_report_compare_text(a, b, "A v1", "B v2", &out), 0);
  assert_int_equal(hs_buf_append(&out, "", 1), 0);
  assert_non_null(strstr(out.data, "c1"));
  assert_non_null(strstr(out.data, "signal +35.0"));
  out.len = 0;
  assert_int_equal(hs_report_html(a, NULL, b, NULL, &out), 0);
  assert_int_equal(hs_buf_append(&out, "", 1), 0);
  assert_non_null(strstr(out.data, "id=\"transitions\""));
  assert_non_null(strstr(out.data, "id=\"movers\""));
  hs_buf_free(&out);
  hs_report_free(a);
  hs_report_free(b);
}

/* B with four bands: the matrix is 4 x 5, and B's band names label its columns. */
static void test_compare_profiles_with_different_bands(void **state) {
  (void)state;
  static const char *const four[] = {"red", "amber", "yellow", "green"};
  hs_report_conf_t conf = {10, four, 4, profiles, 1, rules, 2, metrics, 4};
  hs_report_t *a = new_report(), *b;
  assert_int_equal(hs_report_new(&b, &conf), 0);
  hs_str_t id = {"x", 1};
  assert_int_equal(hs_report_score(a, id, T0, true, 90, 2, 0, HS_STR_NULL), 0);
  assert_int_equal(hs_report_score(b, id, T0, true, 85, 3, 0, HS_STR_NULL), 0);
  hs_str_t id2 = {"y", 1};
  assert_int_equal(hs_report_score(a, id2, T0, true, 30, 0, 0, HS_STR_NULL), 0);
  assert_int_equal(hs_report_score(b, id2, T0, true, 45, 1, 0, HS_STR_NULL), 0);
  hs_report_compare_t c;
  assert_int_equal(hs_report_compare(a, b, &c), 0);
  assert_int_equal(c.n_bands_b, 4);
  assert_int_equal(c.transitions[2 * 5 + 3], 1); /* green -> green */
  assert_int_equal(c.transitions[0 * 5 + 1], 1); /* red -> amber */
  hs_report_compare_free(&c);
  hs_buf_t out;
  hs_buf_init(&out);
  assert_int_equal(hs_report_compare_json(a, b, "A", "B", &out), 0);
  assert_int_equal(hs_buf_append(&out, "", 1), 0);
  assert_non_null(strstr(out.data, "{\"from\":\"red\",\"to\":\"amber\",\"accounts\":1}"));
  assert_non_null(strstr(out.data, "{\"from\":\"green\",\"to\":\"green\",\"accounts\":1}"));
  hs_buf_free(&out);
  hs_report_free(a);
  hs_report_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_charts_roc_distribution_deciles_and_pr),
      cmocka_unit_test(test_charts_weeks_leads_and_alerts),
      cmocka_unit_test(test_metric_table_flags_noise_and_unweighted_signal),
      cmocka_unit_test(test_html_has_every_chart_and_no_nan),
      cmocka_unit_test(test_compare_transitions_and_movers),
      cmocka_unit_test(test_compare_profiles_with_different_bands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
