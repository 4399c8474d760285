/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The scoring core: windows, missing data, explanations, profiles, overrides,
 * time passing without events, and alert rules. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
#define HOUR (DAY / 24)
static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01T00:00:00Z */

static const char *base_yaml =
    "metrics:\n"
    "  logins_7d: {kind: count, events: [login], window: 7d}\n"
    "  session_7d: {kind: sum, events: [login], field: session_seconds, window: 7d}\n"
    "  session_avg_7d: {kind: avg, events: [login], field: session_seconds, window: 7d}\n"
    "  session_max_7d: {kind: max, events: [login], field: session_seconds, window: 7d}\n"
    "  session_min_7d: {kind: min, events: [login], field: session_seconds, window: 7d}\n"
    "  users_7d: {kind: distinct, events: [login], field: user_id, window: 7d}\n"
    "  logins_per_user: {kind: count, events: [login], window: 7d, per: users_7d}\n"
    "  logins_per_license: {kind: count, events: [login], window: 7d, per: licenses}\n"
    "  nps: {kind: latest, events: [nps], field: score, max_age: 180d}\n"
    "  csm: {kind: latest, events: [csm_rating], field: score}\n"
    "  since_contact: {kind: days_since, events: [meeting, call]}\n"
    "  logins_trend: {kind: trend, of: logins_7d, mode: delta}\n"
    "  logins_trend_pct: {kind: trend, of: logins_7d}\n"
    "  logins_slope: {kind: slope, of: logins_7d}\n"
    "  core_features: {kind: distinct, events: [feature_used], field: feature, window: 7d,\n"
    "                  where: {feature: [dashboards, reports, integrations]}}\n"
    "  tenure: {kind: attribute, attribute: tenure_days}\n"
    "profiles:\n"
    "  - name: csm_only\n"
    "    select: {segment: [csm]}\n"
    "    groups:\n"
    "      - name: Rating\n"
    "        weight: 100\n"
    "        metrics:\n"
    "          - {metric: csm, worst: 0, best: 10}\n"
    "  - name: default\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 60\n"
    "        metrics:\n"
    "          - {metric: logins_7d, worst: 0, best: 10,\n"
    "             stages: {onboarding: {worst: 0, best: 4}}}\n"
    "          - {metric: users_7d, weight: 0, worst: 0, best: 5}\n"
    "      - name: Sentiment\n"
    "        weight: 40\n"
    "        metrics:\n"
    "          - {metric: nps, worst: 0, best: 10}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 40, hysteresis: 5}\n"
    "  - {id: drop, kind: trend, lookback: 7d, drop: 20}\n";

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

static int metric_index(const hs_model_t *m, const char *id) {
  for (size_t i = 0; i < hs_model_n_metrics(m); i++)
    if (strcmp(hs_model_metric_id(m, i), id) == 0)
      return (int)i;
  fail_msg("no metric %s", id);
  return -1;
}

/* The last evaluation and every alert seen, for assertions. */
typedef struct capture_s {
  hs_eval_t last;
  int n_evals, n_ticks;
  int fired[HS_MAX_RULES], resolved[HS_MAX_RULES];
  uint64_t last_id[HS_MAX_RULES];
  int64_t last_alert_at[HS_MAX_RULES];
  const hs_model_t *m; /* set by apply(): the last evaluation explained */
} capture_t;

static void capture(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  capture_t *c = ud;
  (void)a;
  c->last = *ev;
  if (c->m)
    hs_eval_explain(c->m, a, ev, &c->last.score);
  c->n_evals++;
  c->n_ticks += ev->event == NULL;
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    const hs_alert_t *al = &ev->alerts[i];
    if (al->state == HS_ALERT_FIRING)
      c->fired[al->rule]++;
    else
      c->resolved[al->rule]++;
    c->last_id[al->rule] = al->alert_id;
    c->last_alert_at[al->rule] = ev->at_ms;
  }
}

static hs_event_t ev_make(hs_event_type_t type, const char *account, int64_t ts) {
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.ts_ms = ts;
  ev.account_id = (hs_str_t){account, (uint32_t)strlen(account)};
  static char ids[1 << 16][8]; /* every event its own id */
  static unsigned next;
  char *id = ids[next++ % (1 << 16)];
  snprintf(id, sizeof ids[0], "e%u", next);
  ev.event_id = (hs_str_t){id, (uint32_t)strlen(id)};
  return ev;
}

static hs_event_t login(const char *account, int64_t ts, const char *user, double seconds) {
  hs_event_t ev = ev_make(HS_EV_LOGIN, account, ts);
  ev.user_id = (hs_str_t){user, (uint32_t)strlen(user)};
  ev.session_seconds = seconds;
  ev.present = HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SESSION_SECONDS);
  return ev;
}

static hs_event_t scored(hs_event_type_t type, const char *account, int64_t ts, double score) {
  hs_event_t ev = ev_make(type, account, ts);
  ev.score = score;
  ev.present = HS_FIELD_BIT(HS_F_SCORE);
  return ev;
}

static hs_event_t attrs(const char *account, int64_t ts, const char *segment, const char *stage) {
  hs_event_t ev = ev_make(HS_EV_ACCOUNT, account, ts);
  if (segment) {
    ev.segment = (hs_str_t){segment, (uint32_t)strlen(segment)};
    ev.present |= HS_FIELD_BIT(HS_F_SEGMENT);
  }
  if (stage) {
    ev.stage = (hs_str_t){stage, (uint32_t)strlen(stage)};
    ev.present |= HS_FIELD_BIT(HS_F_STAGE);
  }
  return ev;
}

static double metric_value_at(const hs_model_t *m, const hs_account_t *a, const char *id,
                              int64_t at) {
  /* evaluate through a profile-independent path: score explanation lists only
     the profile's metrics, so look there first */
  hs_score_t s;
  hs_account_score(m, a, at, &s);
  int mi = metric_index(m, id);
  for (uint32_t i = 0; i < s.n_metrics; i++)
    if (s.metrics[i].metric == mi)
      return s.metrics[i].raw;
  fail_msg("metric %s not in profile", id);
  return NAN;
}

static double metric_value(const hs_model_t *m, const hs_account_t *a, const char *id) {
  return metric_value_at(m, a, id, INT64_MIN);
}

static void apply(const hs_model_t *m, hs_account_t *a, hs_event_t ev, capture_t *c) {
  c->m = m;
  int rc = hs_account_apply(m, a, &ev, capture, c);
  assert_true(rc >= 0);
}

static void test_window_holds_utc_days(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  /* three logins on day 0, two on day 3 */
  for (int i = 0; i < 3; i++)
    apply(m, a, login("a1", T0 + (i + 1) * HOUR, "u1", 60), &c);
  for (int i = 0; i < 2; i++)
    apply(m, a, login("a1", T0 + 3 * DAY + (i + 1) * HOUR, "u2", 60), &c);
  assert_true(fabs(metric_value(m, a, "logins_7d") - 5) < 1e-9);
  /* day 6, 23:59: days 0..6 are in the window */
  assert_int_equal(hs_account_advance(m, a, T0 + 7 * DAY - 1, capture, &c), 0);
  assert_true(fabs(metric_value(m, a, "logins_7d") - 5) < 1e-9);
  /* midnight of day 7: day 0 leaves */
  assert_int_equal(hs_account_advance(m, a, T0 + 7 * DAY, capture, &c), 0);
  assert_true(fabs(metric_value(m, a, "logins_7d") - 2) < 1e-9);
  assert_int_equal(hs_account_advance(m, a, T0 + 10 * DAY, capture, &c), 0);
  assert_true(fabs(metric_value(m, a, "logins_7d") - 0) < 1e-9);
  /* one tick per midnight that passed since the last evaluation */
  assert_int_equal(c.n_ticks, 10);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_missing_data_never_scores_zero(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  /* attributes only: no data, no score */
  apply(m, a, attrs("a1", T0, "smb", NULL), &c);
  assert_false(c.last.score.has_score);
  assert_int_equal(c.last.score.band, -1);
  assert_true(c.last.score.coverage == 0);
  /* five logins: Usage 50; Sentiment missing -> re-normalised, not 0 */
  for (int i = 0; i < 5; i++)
    apply(m, a, login("a1", T0 + HOUR * (i + 1), "u1", 30), &c);
  assert_true(c.last.score.has_score);
  assert_true(fabs(c.last.score.score - 50.0) < 1e-9);
  assert_true(isnan(c.last.score.group_score[1]));
  assert_true(fabs(c.last.score.coverage - 0.6) < 1e-9);
  /* NPS 9 arrives: 0.6*50 + 0.4*90 */
  apply(m, a, scored(HS_EV_NPS, "a1", T0 + 6 * HOUR, 9), &c);
  assert_true(fabs(c.last.score.score - 66.0) < 1e-9);
  assert_true(fabs(c.last.score.coverage - 1.0) < 1e-9);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_explanation_adds_up(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  apply(m, a, login("a1", T0 + HOUR, "u1", 30), &c);
  apply(m, a, login("a1", T0 + 2 * HOUR, "u2", 30), &c);
  apply(m, a, scored(HS_EV_NPS, "a1", T0 + 3 * HOUR, 7), &c);
  const hs_score_t *s = &c.last.score;
  double sum = 0, wsum = 0;
  for (uint32_t i = 0; i < s->n_metrics; i++) {
    sum += s->metrics[i].contribution;
    wsum += s->metrics[i].weight;
  }
  assert_true(fabs(sum - s->score) < 1e-9);
  assert_true(fabs(wsum - 1.0) < 1e-9);
  /* zero-weight metric: computed and shown, weight 0 */
  int users = metric_index(m, "users_7d");
  bool seen = false;
  for (uint32_t i = 0; i < s->n_metrics; i++) {
    if (s->metrics[i].metric == users) {
      seen = true;
      assert_true(fabs(s->metrics[i].raw - 2) < 1e-9);
      assert_true(s->metrics[i].weight == 0 && s->metrics[i].contribution == 0);
    }
  }
  assert_true(seen);
  /* the NPS moved the score: its delta is its whole contribution */
  assert_true(fabs(s->metrics[2].delta - s->metrics[2].contribution) < 1e-6);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_profile_selection_and_stage_ranges(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  for (int i = 0; i < 2; i++)
    apply(m, a, login("a1", T0 + HOUR * (i + 1), "u1", 30), &c);
  assert_string_equal(hs_model_profile_name(m, c.last.score.profile), "default");
  assert_true(fabs(c.last.score.score - 20.0) < 1e-9);
  /* onboarding expects less: 2 of best 4 */
  apply(m, a, attrs("a1", T0 + 3 * HOUR, NULL, "onboarding"), &c);
  assert_true(fabs(c.last.score.score - 50.0) < 1e-9);
  /* segment csm selects the first profile */
  apply(m, a, attrs("a1", T0 + 4 * HOUR, "csm", NULL), &c);
  assert_string_equal(hs_model_profile_name(m, c.last.score.profile), "csm_only");
  assert_false(c.last.score.has_score);
  apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + 5 * HOUR, 8), &c);
  assert_true(fabs(c.last.score.score - 80.0) < 1e-9);
  hs_account_free(a);
  hs_model_free(m);
}

/* All metric kinds through a profile that scores each of them. */
static const char *kinds_yaml =
    "metrics:\n"
    "  logins_7d: {kind: count, events: [login], window: 7d}\n"
    "  session_7d: {kind: sum, events: [login], field: session_seconds, window: 7d}\n"
    "  session_avg_7d: {kind: avg, events: [login], field: session_seconds, window: 7d}\n"
    "  session_max_7d: {kind: max, events: [login], field: session_seconds, window: 7d}\n"
    "  session_min_7d: {kind: min, events: [login], field: session_seconds, window: 7d}\n"
    "  users_7d: {kind: distinct, events: [login], window: 7d}\n"
    "  logins_per_user: {kind: count, events: [login], window: 7d, per: users_7d}\n"
    "  logins_trend: {kind: trend, of: logins_7d, mode: delta}\n"
    "  logins_trend_pct: {kind: trend, of: logins_7d}\n"
    "  logins_slope: {kind: slope, of: logins_7d}\n"
    "  since_contact: {kind: days_since, events: [meeting, call]}\n"
    "  ratio: {kind: ratio, num: session_7d, den: logins_7d}\n"
    "profiles:\n"
    "  - name: all\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: G\n"
    "        weight: 100\n"
    "        metrics:\n"
    "          - {metric: logins_7d, worst: 0, best: 1}\n"
    "          - {metric: session_7d, worst: 0, best: 1}\n"
    "          - {metric: session_avg_7d, worst: 0, best: 1}\n"
    "          - {metric: session_max_7d, worst: 0, best: 1}\n"
    "          - {metric: session_min_7d, worst: 0, best: 1}\n"
    "          - {metric: users_7d, worst: 0, best: 1}\n"
    "          - {metric: logins_per_user, worst: 0, best: 1}\n"
    "          - {metric: logins_trend, worst: 0, best: 1}\n"
    "          - {metric: logins_trend_pct, worst: 0, best: 1}\n"
    "          - {metric: logins_slope, worst: 0, best: 1}\n"
    "          - {metric: since_contact, worst: 1, best: 0}\n"
    "          - {metric: ratio, worst: 0, best: 1}\n";

static void test_every_metric_kind(void **state) {
  (void)state;
  hs_model_t *m = model_from(kinds_yaml);
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  const char *users[] = {"u1", "u2", "u3"};
  /* previous week (days 0..6): one login a day of 100 s */
  for (int d = 0; d < 7; d++) {
    hs_event_t ev = login("a1", T0 + d * DAY + HOUR, "u9", 100);
    assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
  }
  /* this week (days 7..13): day 7+k has k+1 logins of 10, 20, 30... s */
  for (int d = 0; d < 7; d++) {
    for (int k = 0; k <= d; k++) {
      hs_event_t ev =
          login("a1", T0 + (7 + d) * DAY + HOUR * (k + 1), users[k % 3], 10.0 * (k + 1));
      assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
    }
  }
  hs_event_t call = ev_make(HS_EV_CALL, "a1", T0 + 11 * DAY);
  assert_int_equal(hs_account_apply(m, a, &call, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_advance(m, a, T0 + 13 * DAY + 12 * HOUR, NULL, NULL), 0);
  /* 28 logins; sessions: for day k, 10*(1+..+(k+1)) -> sum over k=0..6 of 5(k+1)(k+2) = 840 */
  assert_true(fabs(metric_value(m, a, "logins_7d") - 28) < 1e-9);
  assert_true(fabs(metric_value(m, a, "session_7d") - 840) < 1e-9);
  assert_true(fabs(metric_value(m, a, "session_avg_7d") - 30) < 1e-9);
  assert_true(fabs(metric_value(m, a, "session_max_7d") - 70) < 1e-9);
  assert_true(fabs(metric_value(m, a, "session_min_7d") - 10) < 1e-9);
  assert_true(fabs(metric_value(m, a, "users_7d") - 3) < 1e-9);
  assert_true(fabs(metric_value(m, a, "logins_per_user") - 28.0 / 3) < 1e-9);
  assert_true(fabs(metric_value(m, a, "logins_trend") - 21) < 1e-9);
  assert_true(fabs(metric_value(m, a, "logins_trend_pct") - 300) < 1e-9);
  assert_true(fabs(metric_value(m, a, "logins_slope") - 1.0) < 1e-9);
  assert_true(fabs(metric_value_at(m, a, "since_contact", T0 + 13 * DAY + 12 * HOUR) - 2.5) < 1e-9);
  assert_true(fabs(metric_value(m, a, "ratio") - 30) < 1e-9);
  /* a week later the max of the window is gone: min/max are recomputed */
  assert_int_equal(hs_account_advance(m, a, T0 + 20 * DAY, NULL, NULL), 0);
  assert_true(metric_value(m, a, "logins_7d") == 0);
  assert_true(isnan(metric_value(m, a, "session_max_7d")));
  assert_true(isnan(metric_value(m, a, "session_avg_7d")));
  assert_true(fabs(metric_value(m, a, "logins_trend") + 28) < 1e-9);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_oscillating_score_fires_once(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  apply(m, a, attrs("a1", T0, "csm", NULL), &c);
  for (int i = 0; i < 40; i++) /* 41, 39, 41, 39 ... around the line at 40 */
    apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + (i + 1) * 60000, i % 2 ? 3.9 : 4.1), &c);
  assert_int_equal(c.fired[0], 1);
  assert_int_equal(c.resolved[0], 0);
  uint64_t id = c.last_id[0];
  /* back above level + hysteresis (45): resolved, with the same id */
  apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + HOUR, 4.6), &c);
  assert_int_equal(c.resolved[0], 1);
  assert_true(c.last_id[0] == id);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_idle_account_turns_red(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  for (int i = 0; i < 10; i++)
    apply(m, a, login("a1", T0 + (i + 1) * HOUR, "u1", 30), &c);
  assert_true(fabs(c.last.score.score - 100) < 1e-9);
  /* the first login alone scored 10: fired, and resolved at 50 */
  assert_int_equal(c.fired[0], 1);
  assert_int_equal(c.resolved[0], 1);
  /* nothing more happens; time passes */
  assert_int_equal(hs_account_advance(m, a, T0 + 30 * DAY, capture, &c), 0);
  assert_true(c.last.event == NULL);
  assert_true(fabs(c.last.score.score - 0) < 1e-9);
  assert_int_equal(c.fired[0], 2);
  /* the window emptied at the midnight of day 7 */
  assert_true(c.last_alert_at[0] == T0 + 7 * DAY);
  /* a trend alert fired too: 100 -> 0 within 7 days */
  assert_int_equal(c.fired[1], 1);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_late_events_dropped(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  hs_event_t now = login("a1", T0 + 30 * DAY, "u1", 1);
  hs_event_t old = login("a1", T0 + 2 * DAY, "u1", 1);
  hs_event_t recent = login("a1", T0 + 27 * DAY, "u1", 1);
  assert_int_equal(hs_account_apply(m, a, &now, NULL, NULL), HS_APPLIED);
  /* the longest window is 14 days (the trend's previous week) */
  assert_int_equal(hs_model_horizon_days(m), 14);
  assert_int_equal(hs_account_apply(m, a, &old, NULL, NULL), HS_LATE);
  assert_int_equal(hs_account_apply(m, a, &recent, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_late(a), 1);
  assert_true(fabs(metric_value(m, a, "logins_7d") - 2) < 1e-9);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_override_pins_score_until_expiry(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  apply(m, a, login("a1", T0 + HOUR, "u1", 30), &c);
  hs_event_t o = ev_make(HS_EV_OVERRIDE, "a1", T0 + 2 * HOUR);
  o.target = (hs_str_t){"score", 5};
  o.value = 15;
  o.expires_ms = T0 + 2 * DAY;
  o.reason = (hs_str_t){"exec sponsor left", 17};
  o.author = (hs_str_t){"jane", 4};
  o.present = HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) | HS_FIELD_BIT(HS_F_EXPIRES) |
              HS_FIELD_BIT(HS_F_REASON) | HS_FIELD_BIT(HS_F_AUTHOR);
  apply(m, a, o, &c);
  assert_true(c.last.score.override.active);
  assert_true(fabs(c.last.score.score - 15) < 1e-9);
  assert_true(hs_str_eq(c.last.score.override.author, "jane"));
  assert_int_equal(c.last.score.band, 0);
  assert_int_equal(c.fired[0], 1);
  assert_int_equal(hs_account_advance(m, a, T0 + 3 * DAY, capture, &c), 0);
  assert_false(c.last.score.override.active);
  assert_true(fabs(c.last.score.score - 10) < 1e-9);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_trend_rule_fires_and_resolves(void **state) {
  (void)state;
  hs_model_t *m = model_from(base_yaml);
  hs_account_t *a;
  capture_t c = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"a1", 2}, &a), 0);
  apply(m, a, attrs("a1", T0, "csm", NULL), &c);
  /* 90 for ten days, then 65 (a drop of 25 within 7 days), then back to 90 */
  for (int d = 0; d < 10; d++)
    apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + d * DAY + HOUR, 9), &c);
  assert_int_equal(c.fired[1], 0);
  apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + 10 * DAY + HOUR, 6.5), &c);
  assert_int_equal(c.fired[1], 1);
  assert_int_equal(c.fired[0], 0); /* 65 is above the threshold */
  assert_true(fabs(c.last.alerts[0].prev_score - 90) < 1e-9);
  apply(m, a, scored(HS_EV_CSM_RATING, "a1", T0 + 11 * DAY + HOUR, 9), &c);
  assert_int_equal(c.resolved[1], 1);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_compile_errors_name_the_line(void **state) {
  (void)state;
  const char *bad = "metrics:\n"
                    "  a: {kind: count, events: [login], window: 7d}\n"
                    "profiles:\n"
                    "  - name: p\n"
                    "    default: true\n"
                    "    groups:\n"
                    "      - name: G\n"
                    "        weight: 90\n"
                    "        metrics:\n"
                    "          - {metric: a, worst: 0, best: 1}\n";
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(bad, strlen(bad), "bad.yaml", &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "bad.yaml:4:"));
  assert_non_null(strstr(err.msg, "sum to 90"));
  hs_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_holds_utc_days),
      cmocka_unit_test(test_missing_data_never_scores_zero),
      cmocka_unit_test(test_explanation_adds_up),
      cmocka_unit_test(test_profile_selection_and_stage_ranges),
      cmocka_unit_test(test_every_metric_kind),
      cmocka_unit_test(test_oscillating_score_fires_once),
      cmocka_unit_test(test_idle_account_turns_red),
      cmocka_unit_test(test_late_events_dropped),
      cmocka_unit_test(test_override_pins_score_until_expiry),
      cmocka_unit_test(test_trend_rule_fires_and_resolves),
      cmocka_unit_test(test_compile_errors_name_the_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
