/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Cases that once went wrong: a late event that did not count as data, ties
 * decided by arrival, a late account event lost as a whole, one distinct
 * metric's cap cutting another's, and a band that disagreed with the
 * printed score. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/state.h"
#include "healthscore/core.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
#define HOUR (DAY / 24)
static const int64_t JUNE1 = INT64_C(1780272000000); /* 2026-06-01T00:00:00Z */

static hs_model_t *model_from(const char *yaml) {
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  if (hs_config_load_string(yaml, strlen(yaml), "test.yaml", &cfg, &err))
    fail_msg("config: %s", err.msg);
  if (hs_model_compile(cfg, &m, &err))
    fail_msg("compile: %s", err.msg);
  hs_config_free(cfg);
  return m;
}

static hs_str_t S(const char *s) {
  return (hs_str_t){s, (uint32_t)strlen(s)};
}

static hs_event_t ev_make(hs_event_type_t type, int64_t ts, const char *id) {
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.ts_ms = ts;
  ev.account_id = S("B");
  ev.event_id = S(id);
  return ev;
}

static void apply_all(const hs_model_t *m, hs_account_t *a, const hs_event_t *evs, const int *order,
                      int n) {
  for (int i = 0; i < n; i++)
    assert_int_equal(hs_account_apply(m, a, &evs[order[i]], NULL, NULL), HS_APPLIED);
}

static double raw_of(const hs_model_t *m, const hs_account_t *a, const char *id, int64_t at) {
  hs_score_t s;
  hs_account_score(m, a, at, &s);
  for (uint32_t i = 0; i < s.n_metrics; i++)
    if (strcmp(hs_model_metric_id(m, s.metrics[i].metric), id) == 0)
      return s.metrics[i].raw;
  fail_msg("metric %s not in the profile", id);
  return NAN;
}

/* The reproduction of the defect: a 90-day metric makes a 41-day-old
 * feature_used event acceptable, but the 30-day series had already moved
 * past its day when it came after the newer events. */
static const char *late_yaml =
    "metrics:\n"
    "  core_uses_30d: {kind: count, events: [feature_used], window: 30d}\n"
    "  session_avg_30d: {kind: avg, events: [login], field: session_seconds, window: 30d}\n"
    "  logins_90d: {kind: count, events: [login], window: 90d}\n"
    "profiles:\n"
    "  - name: p\n"
    "    default: true\n"
    "    groups:\n"
    "      - {name: adoption, weight: 50, metrics: [{metric: core_uses_30d, worst: 0, best: 60}]}\n"
    "      - name: usage\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: session_avg_30d, worst: 60, best: 1800}\n"
    "          - {metric: logins_90d, weight: 0, worst: 0, best: 10}\n";

static void test_late_accepted_event_counts_as_data(void **state) {
  (void)state;
  hs_model_t *m = model_from(late_yaml);
  hs_event_t evs[3];
  evs[0] = ev_make(HS_EV_ACCOUNT, JUNE1 + 9 * HOUR, "1");
  evs[0].licenses = 10;
  evs[0].present = HS_FIELD_BIT(HS_F_LICENSES);
  evs[1] = ev_make(HS_EV_LOGIN, JUNE1 + 10 * HOUR, "2");
  evs[1].user_id = S("u1");
  evs[1].session_seconds = 600;
  evs[1].present = HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SESSION_SECONDS);
  evs[2] = ev_make(HS_EV_FEATURE_USED, JUNE1 - 42 * DAY + 10 * HOUR, "3"); /* 2026-04-20 */
  evs[2].user_id = S("u1");
  evs[2].feature = S("pulse");
  evs[2].present = HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_FEATURE);
  static const int orders[2][3] = {{0, 1, 2}, {2, 0, 1}};
  double score[2];
  for (int o = 0; o < 2; o++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(m, S("B"), &a), 0);
    apply_all(m, a, evs, orders[o], 3);
    assert_int_equal(hs_account_late(a), 0);
    /* sent, so a real zero in the window, not missing */
    assert_true(raw_of(m, a, "core_uses_30d", JUNE1 + 12 * HOUR) == 0);
    hs_score_t s;
    hs_account_score(m, a, JUNE1 + 12 * HOUR, &s);
    score[o] = s.score;
    hs_account_free(a);
  }
  assert_true(score[0] == 15.5); /* adoption 0, usage 31 */
  assert_true(score[1] == score[0]);
  hs_model_free(m);
}

static const char *ties_yaml = "metrics:\n"
                               "  nps: {kind: latest, events: [nps], field: score}\n"
                               "  tenure: {kind: attribute, attribute: tenure_days}\n"
                               "  seats: {kind: attribute, attribute: licenses}\n"
                               "  tier: {kind: attribute, attribute: tier}\n"
                               "profiles:\n"
                               "  - name: p\n"
                               "    default: true\n"
                               "    groups:\n"
                               "      - name: g\n"
                               "        weight: 100\n"
                               "        metrics:\n"
                               "          - {metric: nps, worst: 0, best: 10}\n"
                               "          - {metric: tenure, worst: 0, best: 365}\n"
                               "          - {metric: seats, worst: 0, best: 100}\n"
                               "          - {metric: tier, worst: 0, best: 3}\n";

static void test_latest_ties_do_not_depend_on_arrival(void **state) {
  (void)state;
  hs_model_t *m = model_from(ties_yaml);
  hs_event_t evs[2];
  for (int i = 0; i < 2; i++) {
    evs[i] = ev_make(HS_EV_NPS, JUNE1 + HOUR, i ? "b" : "a");
    evs[i].score = i ? 3 : 9;
    evs[i].present = HS_FIELD_BIT(HS_F_SCORE);
  }
  static const int orders[2][2] = {{0, 1}, {1, 0}};
  for (int o = 0; o < 2; o++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(m, S("B"), &a), 0);
    apply_all(m, a, evs, orders[o], 2);
    assert_true(raw_of(m, a, "nps", JUNE1 + 2 * HOUR) == 9); /* the greater of one time */
    hs_account_free(a);
  }
  hs_model_free(m);
}

static void test_late_account_event_keeps_the_fields_no_newer_one_set(void **state) {
  (void)state;
  hs_model_t *m = model_from(ties_yaml);
  hs_event_t evs[2];
  evs[0] = ev_make(HS_EV_ACCOUNT, JUNE1 + HOUR, "old"); /* contract, seats, tier */
  evs[0].contract_start_ms = JUNE1 - 100 * DAY;
  evs[0].licenses = 20;
  evs[0].present = HS_FIELD_BIT(HS_F_CONTRACT_START) | HS_FIELD_BIT(HS_F_LICENSES);
  evs[0].n_attrs = 1;
  evs[0].attr_key[0] = S("tier");
  evs[0].attr_val[0] = S("1");
  evs[1] = ev_make(HS_EV_ACCOUNT, JUNE1 + 5 * HOUR, "new"); /* seats only */
  evs[1].licenses = 50;
  evs[1].present = HS_FIELD_BIT(HS_F_LICENSES);
  static const int orders[2][2] = {{0, 1}, {1, 0}};
  for (int o = 0; o < 2; o++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(m, S("B"), &a), 0);
    apply_all(m, a, evs, orders[o], 2);
    int64_t at = JUNE1 + 6 * HOUR;
    assert_true(raw_of(m, a, "seats", at) == 50);                        /* the newer event's */
    assert_true(fabs(raw_of(m, a, "tenure", at) - (100 + 0.25)) < 1e-9); /* the older's */
    assert_true(raw_of(m, a, "tier", at) == 1);
    hs_account_free(a);
  }
  hs_model_free(m);
}

/* Two distinct metrics over one series: 5,500 users over 30 days, of whom
 * 3,000 in the last 7; the 30-day metric reaches its cap, the 7-day one
 * still counts every user. */
static const char *distinct_yaml = "metrics:\n"
                                   "  users_7d: {kind: distinct, events: [login], window: 7d}\n"
                                   "  users_30d: {kind: distinct, events: [login], window: 30d}\n"
                                   "profiles:\n"
                                   "  - name: p\n"
                                   "    default: true\n"
                                   "    groups:\n"
                                   "      - name: g\n"
                                   "        weight: 100\n"
                                   "        metrics:\n"
                                   "          - {metric: users_7d, worst: 0, best: 10}\n"
                                   "          - {metric: users_30d, worst: 0, best: 10}\n";

static void test_distinct_cap_is_per_metric(void **state) {
  (void)state;
  hs_model_t *m = model_from(distinct_yaml);
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("B"), &a), 0);
  char user[16];
  for (int u = 0; u < 5500; u++) { /* users 0..2499 20 days ago, the rest this week */
    snprintf(user, sizeof user, "user%d", u);
    hs_event_t ev = ev_make(HS_EV_LOGIN, JUNE1 - (u < 2500 ? 20 : 6 - u % 7) * DAY + HOUR, user);
    ev.user_id = S(user);
    ev.present = HS_FIELD_BIT(HS_F_USER_ID);
    assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
  }
  int64_t at = JUNE1 + 2 * HOUR;
  assert_true(raw_of(m, a, "users_7d", at) == 3000);
  assert_true(raw_of(m, a, "users_30d", at) == HS_MAX_DISTINCT);
  /* a week on, the 30-day metric still holds its cap: the 3,000 of that
     week and the older ones it kept */
  assert_int_equal(hs_account_advance(m, a, JUNE1 + 8 * DAY, NULL, NULL), 0);
  assert_true(raw_of(m, a, "users_7d", JUNE1 + 8 * DAY) == 0);
  assert_true(raw_of(m, a, "users_30d", JUNE1 + 8 * DAY) == HS_MAX_DISTINCT);
  /* four weeks on, only the 3,000 of that week are left in it */
  assert_int_equal(hs_account_advance(m, a, JUNE1 + 22 * DAY, NULL, NULL), 0);
  assert_true(raw_of(m, a, "users_30d", JUNE1 + 22 * DAY) == 3000);
  hs_account_free(a);
  hs_model_free(m);
}

/* A score pinned at values around the red line (red below 40) and a
 * threshold rule at 40: the band, the rule and the printed score agree. */
static const char *band_yaml =
    "metrics:\n"
    "  nps: {kind: latest, events: [nps], field: score}\n"
    "profiles:\n"
    "  - name: p\n"
    "    default: true\n"
    "    groups:\n"
    "      - {name: g, weight: 100, metrics: [{metric: nps, worst: 0, best: 100}]}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 40, hysteresis: 0}\n";

typedef struct last_s {
  const hs_model_t *m;
  hs_buf_t rec;
  int firing, open;
} last_t;

static void keep_last(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  last_t *l = ud;
  l->rec.len = 0;
  assert_int_equal(hs_output_score_json(l->m, a, ev, &l->rec), 0);
  hs_buf_append(&l->rec, "", 1);
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    l->firing += ev->alerts[i].state == HS_ALERT_FIRING;
    l->open = ev->alerts[i].state == HS_ALERT_FIRING;
  }
}

static void test_band_and_rules_follow_the_printed_score(void **state) {
  (void)state;
  hs_model_t *m = model_from(band_yaml);
  static const double values[] = {39.9,  39.94, 39.949, 39.95, 39.951, 39.96,
                                  39.99, 40.0,  40.04,  38.0,  40.05,  39.949999};
  for (int pinned = 0; pinned < 2; pinned++) {
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      hs_account_t *a;
      assert_int_equal(hs_account_new(m, S("B"), &a), 0);
      last_t l = {m, {0}, 0, 0};
      hs_event_t ev = ev_make(HS_EV_NPS, JUNE1, "n");
      ev.score = pinned ? 80 : values[i];
      ev.present = HS_FIELD_BIT(HS_F_SCORE);
      assert_int_equal(hs_account_apply(m, a, &ev, keep_last, &l), HS_APPLIED);
      if (pinned) { /* the same through an override of the score */
        hs_event_t o = ev_make(HS_EV_OVERRIDE, JUNE1 + HOUR, "o");
        o.target = S("score");
        o.value = values[i];
        o.expires_ms = JUNE1 + DAY;
        o.present =
            HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) | HS_FIELD_BIT(HS_F_EXPIRES);
        assert_int_equal(hs_account_apply(m, a, &o, keep_last, &l), HS_APPLIED);
      }
      const char *p = strstr(l.rec.data, "\"score\":");
      assert_non_null(p);
      double printed = strtod(p + 8, NULL);
      bool red = strstr(l.rec.data, "\"band\":\"red\"") != NULL;
      print_message("%s %.6f: printed %.1f, %s, alert %s\n", pinned ? "pinned" : "metric",
                    values[i], printed, red ? "red" : "not red", l.open ? "open" : "none");
      assert_int_equal(red, printed < 40);
      assert_int_equal(l.open, printed < 40);
      hs_buf_free(&l.rec);
      hs_account_free(a);
    }
  }
  hs_model_free(m);
}

/* A trend rule (drop: 15) reads the scores as printed: 83.2 then 68.2 is a
 * drop of 15.0 and fires, 83.2 then 68.3 does not, whatever the digits
 * behind the printed ones. */
static const char *trend_yaml =
    "metrics:\n"
    "  nps: {kind: latest, events: [nps], field: score}\n"
    "profiles:\n"
    "  - name: p\n"
    "    default: true\n"
    "    groups:\n"
    "      - {name: g, weight: 100, metrics: [{metric: nps, worst: 0, best: 100}]}\n"
    "alerts:\n"
    "  - {id: drop, kind: trend, lookback: 14d, drop: 15}\n";

/* The printed score of a record, in tenths. */
static long printed_tenths(const hs_buf_t *rec) {
  const char *p = strstr(rec->data, "\"score\":");
  assert_non_null(p);
  char *end;
  long whole = strtol(p + 8, &end, 10);
  assert_true(*end == '.' && end[1] >= '0' && end[1] <= '9');
  return whole * 10 + (end[1] - '0');
}

static void test_trend_rule_follows_the_printed_scores(void **state) {
  (void)state;
  hs_model_t *m = model_from(trend_yaml);
  static const double pairs[][2] = {{83.16, 68.2},  {83.24, 68.16}, {83.14, 68.2},  {83.2, 68.26},
                                    {83.25, 68.25}, {50.04, 35.05}, {50.05, 35.04}, {83.2, 68.2},
                                    {70.0, 55.0},   {70.04, 54.96}, {69.96, 55.04}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(m, S("B"), &a), 0);
    last_t l = {m, {0}, 0, 0};
    hs_event_t ev = ev_make(HS_EV_NPS, JUNE1 + 10 * HOUR, "1");
    ev.score = pairs[i][0];
    ev.present = HS_FIELD_BIT(HS_F_SCORE);
    assert_int_equal(hs_account_apply(m, a, &ev, keep_last, &l), HS_APPLIED);
    long before = printed_tenths(&l.rec);
    ev.ts_ms += 14 * DAY;
    ev.score = pairs[i][1];
    ev.event_id = S("2"); /* another event */
    assert_int_equal(hs_account_apply(m, a, &ev, keep_last, &l), HS_APPLIED);
    long after = printed_tenths(&l.rec);
    print_message("%.2f -> %.2f: printed %.1f -> %.1f, %s\n", pairs[i][0], pairs[i][1],
                  (double)before / 10, (double)after / 10, l.firing ? "fired" : "quiet");
    assert_int_equal(l.firing, after - before <= -150);
    hs_buf_free(&l.rec);
    hs_account_free(a);
  }
  hs_model_free(m);
}

/* Eight pins in force and a lift of a ninth target: the lift, which ends
 * first, is not kept; it does not push out a pin in force. */
static const char *pins_yaml =
    "metrics:\n"
    "  m1: {kind: latest, events: [nps], field: score}\n"
    "  m2: {kind: latest, events: [nps], field: score}\n"
    "  m3: {kind: latest, events: [nps], field: score}\n"
    "  m4: {kind: latest, events: [nps], field: score}\n"
    "  m5: {kind: latest, events: [nps], field: score}\n"
    "  m6: {kind: latest, events: [nps], field: score}\n"
    "  m7: {kind: latest, events: [nps], field: score}\n"
    "  m8: {kind: latest, events: [nps], field: score}\n"
    "profiles:\n"
    "  - name: p\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: g\n"
    "        weight: 100\n"
    "        metrics: [{metric: m1, worst: 0, best: 10}, {metric: m2, worst: 0, best: 10},\n"
    "                  {metric: m3, worst: 0, best: 10}, {metric: m4, worst: 0, best: 10},\n"
    "                  {metric: m5, worst: 0, best: 10}, {metric: m6, worst: 0, best: 10},\n"
    "                  {metric: m7, worst: 0, best: 10}, {metric: m8, worst: 0, best: 10}]\n";

static void test_a_lift_does_not_push_out_a_pin_in_force(void **state) {
  (void)state;
  hs_model_t *m = model_from(pins_yaml);
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("B"), &a), 0);
  static const char *ids[] = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"};
  for (int i = 0; i < 8; i++) {
    hs_event_t o = ev_make(HS_EV_OVERRIDE, JUNE1 + i * HOUR, ids[i]);
    o.target = S(ids[i]);
    o.value = i;
    o.expires_ms = JUNE1 + (10 + i) * DAY;
    o.present = HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) | HS_FIELD_BIT(HS_F_EXPIRES);
    assert_int_equal(hs_account_apply(m, a, &o, NULL, NULL), HS_APPLIED);
  }
  hs_event_t lift = ev_make(HS_EV_OVERRIDE, JUNE1 + 9 * HOUR, "lift");
  lift.target = S("score");
  lift.value = 0;
  lift.expires_ms = lift.ts_ms;
  lift.present = HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) | HS_FIELD_BIT(HS_F_EXPIRES);
  assert_int_equal(hs_account_apply(m, a, &lift, NULL, NULL), HS_APPLIED);
  hs_score_t s;
  hs_account_score(m, a, JUNE1 + 10 * HOUR, &s);
  for (uint32_t i = 0; i < s.n_metrics; i++) {
    assert_int_equal(s.metrics[i].source, HS_SRC_OVERRIDE);
    assert_true(s.metrics[i].raw == i);
  }
  hs_account_free(a);
  hs_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_late_accepted_event_counts_as_data),
      cmocka_unit_test(test_latest_ties_do_not_depend_on_arrival),
      cmocka_unit_test(test_late_account_event_keeps_the_fields_no_newer_one_set),
      cmocka_unit_test(test_distinct_cap_is_per_metric),
      cmocka_unit_test(test_band_and_rules_follow_the_printed_score),
      cmocka_unit_test(test_trend_rule_follows_the_printed_scores),
      cmocka_unit_test(test_a_lift_does_not_push_out_a_pin_in_force),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
