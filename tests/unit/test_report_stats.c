/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Backtest statistics against hand-computed cases. */
#include "testutil.h"

#include "healthscore/report.h"
#include "healthscore/time.h"

#include <stdio.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
static const int64_t T0 = INT64_C(1767225600000);
static const char *const bands[] = {"red", "yellow", "green"};
static const char *const profiles[] = {"default"};
static const char *const rules[] = {"low", "drop"};

static hs_report_t *new_report(int horizon) {
  hs_report_t *r;
  hs_report_conf_t c = {horizon, bands, 3, profiles, 1, rules, 2, NULL, 0};
  assert_int_equal(hs_report_new(&r, &c), 0);
  return r;
}

static int band_of(double s) {
  return s < 40 ? 0 : s < 70 ? 1 : 2;
}

/* One account scored `score` every day from day 0 to `days`, then an outcome. */
static void account(hs_report_t *r, const char *id, const double *scores, int days,
                    const char *outcome) {
  hs_str_t a = {id, (uint32_t)strlen(id)};
  for (int d = 0; d < days; d++)
    assert_int_equal(hs_report_score(r, a, T0 + d * DAY + 3600000, true, scores[d],
                                     band_of(scores[d]), 0, (hs_str_t){"smb", 3}),
                     0);
  if (outcome)
    assert_int_equal(
        hs_report_outcome(r, a, T0 + days * DAY, (hs_str_t){outcome, (uint32_t)strlen(outcome)}),
        0);
}

static void flat(double *v, int n, double x) {
  for (int i = 0; i < n; i++)
    v[i] = x;
}

static void test_confusion_auc_and_lead_time(void **state) {
  (void)state;
  hs_report_t *r = new_report(10);
  double s[40];
  /* churned: red (30) at the horizon, red for the last 15 days -> lead 15 */
  flat(s, 40, 80);
  for (int d = 25; d < 40; d++)
    s[d] = 30;
  account(r, "c1", s, 40, "churned");
  /* churned: yellow (50) at the horizon, never red -> FN for red, TP for red+yellow */
  flat(s, 40, 50);
  account(r, "c2", s, 40, "churned");
  /* renewed: red (35) at the horizon -> FP for red */
  flat(s, 40, 35);
  account(r, "r1", s, 40, "renewed");
  /* renewed and expanded: green */
  flat(s, 40, 90);
  account(r, "r2", s, 40, "renewed");
  flat(s, 40, 50);
  account(r, "r3", s, 40, "expanded"); /* ties c2 at 50 */
  /* no outcome */
  account(r, "n1", s, 40, NULL);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_report_json(r, &b), 0);
  /* red: TP c1; FP r1; FN c2; TN r2 r3. red+yellow: TP c1 c2; FP r1 r3; TN r2.
     AUC: churned {30, 50} vs retained {35, 90, 50}: pairs below = (30<35,30<90,30<50) 3,
     (50<90) 1, (50=50) 0.5, (50>35) 0 -> 4.5 / 6 = 0.75 */
  assert_non_null(strstr(b.data, "\"red\":{\"tp\":1,\"fp\":1,\"fn\":1,\"tn\":2,\"precision\":0.5,"
                                 "\"recall\":0.5}"));
  assert_non_null(strstr(b.data, "\"red_or_yellow\":{\"tp\":2,\"fp\":2,\"fn\":0,\"tn\":1,"
                                 "\"precision\":0.5,\"recall\":1}"));
  assert_non_null(strstr(b.data, "\"roc_auc\":0.75"));
  assert_non_null(strstr(b.data, "\"median_lead_days\":15"));
  assert_non_null(strstr(b.data, "\"churned_not_red\":1"));
  assert_non_null(strstr(b.data, "\"with_outcome\":5,\"churned\":2,\"excluded\":0"));
  b.len = 0;
  assert_int_equal(hs_report_text(r, &b), 0);
  assert_non_null(strstr(b.data, "ROC AUC (lower score = churn) 0.750"));
  hs_buf_free(&b);
  hs_report_free(r);
}

static void test_perfect_and_inverted_predictors(void **state) {
  (void)state;
  double s[20];
  for (int inverted = 0; inverted < 2; inverted++) {
    hs_report_t *r = new_report(5);
    for (int i = 0; i < 6; i++) {
      char id[8];
      snprintf(id, sizeof id, "a%d", i);
      bool churn = i < 3;
      flat(s, 20, (churn != (inverted == 1)) ? 20 + i : 80 + i);
      account(r, id, s, 20, churn ? "churned" : "renewed");
    }
    hs_buf_t b;
    hs_buf_init(&b);
    assert_int_equal(hs_report_json(r, &b), 0);
    assert_non_null(strstr(b.data, inverted ? "\"roc_auc\":0," : "\"roc_auc\":1,"));
    hs_buf_free(&b);
    hs_report_free(r);
  }
}

static void test_no_outcomes_no_nan(void **state) {
  (void)state;
  hs_report_t *r = new_report(30);
  double s[10];
  flat(s, 10, 55);
  account(r, "x", s, 10, NULL);
  assert_int_equal(hs_report_alert(r, 1, true), 0);
  assert_int_equal(hs_report_alert(r, 5, true), HS_E_INVAL);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_report_text(r, &b), 0);
  assert_null(strstr(b.data, "nan"));
  assert_non_null(strstr(b.data, "outcomes: none"));
  b.len = 0;
  assert_int_equal(hs_report_json(r, &b), 0);
  assert_null(strstr(b.data, "nan"));
  assert_non_null(strstr(b.data, "\"roc_auc\":null"));
  assert_non_null(strstr(b.data, "\"drop\":{\"fired\":1,\"resolved\":0}"));
  assert_non_null(strstr(b.data, "\"yellow\":1"));
  hs_buf_free(&b);
  hs_report_free(r);
}

static void test_interleaving_gives_the_same_report(void **state) {
  (void)state;
  hs_buf_t out[2];
  for (int order = 0; order < 2; order++) {
    hs_report_t *r = new_report(7);
    for (int d = 0; d < 30; d++) {
      for (int k = 0; k < 50; k++) {
        int i = order ? 49 - k : k;
        char id[8];
        snprintf(id, sizeof id, "a%02d", i);
        double sc = (i * 7 + d * 3) % 100;
        hs_report_score(r, (hs_str_t){id, (uint32_t)strlen(id)}, T0 + d * DAY, true, sc,
                        band_of(sc), 0, (hs_str_t){i % 2 ? "smb" : "enterprise", i % 2 ? 3 : 10});
      }
    }
    for (int k = 0; k < 50; k++) {
      char id[8];
      snprintf(id, sizeof id, "a%02d", k);
      hs_report_outcome(r, (hs_str_t){id, (uint32_t)strlen(id)}, T0 + 30 * DAY,
                        (hs_str_t){k % 3 ? "renewed" : "churned", 7});
    }
    hs_buf_init(&out[order]);
    assert_int_equal(hs_report_text(r, &out[order]), 0);
    hs_report_free(r);
  }
  assert_string_equal(out[0].data, out[1].data);
  hs_buf_free(&out[0]);
  hs_buf_free(&out[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_confusion_auc_and_lead_time),
      cmocka_unit_test(test_perfect_and_inverted_predictors),
      cmocka_unit_test(test_no_outcomes_no_nan),
      cmocka_unit_test(test_interleaving_gives_the_same_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
