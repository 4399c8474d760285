/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An evaluation recomputes only the metrics whose inputs changed since the
 * previous one; it must give, bit for bit, what evaluating every metric
 * gives. Every evaluation of a seeded stream of mixed events (every event
 * type, late events, stage and segment changes, overrides set, lifted and
 * expiring, quiet gaps of days and weeks) is compared with a full
 * evaluation of the account at the same time (hs_account_score), field by
 * field and bit by bit; the deltas with the contributions of the account's
 * previous evaluation. The explanation is built only where it is asked for
 * (hs_eval_explain, or by the core for an alert): it is asked for at random
 * evaluations, after a profile switch and after the account was stored and
 * loaded (a state round trip), and must then equal the full one's, deltas
 * included (against the evaluation before, explained or not). */
#include "testutil.h"

#include "healthscore/codec.h"
#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/state.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ACCOUNTS 12
#define N_EVENTS 20000
static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01 */

static uint64_t rng_state;
static uint64_t rnd(void) {
  return hs_test_splitmix(&rng_state);
}
static uint32_t pick(uint32_t n) {
  return (uint32_t)(rnd() % n);
}

typedef struct prev_s {
  int profile; /* -1: no evaluation yet */
  float contrib[HS_MAX_PROFILE_METRICS];
  bool explained; /* the previous evaluation's explanation was asked for */
  bool loaded;    /* the account was decoded from its state since */
} prev_t;

typedef struct check_s {
  const hs_model_t *m;
  prev_t prev[N_ACCOUNTS];
  uint64_t evaluations, compared_metrics, explained;
  /* explanations asked for after one that was not, under a profile other
     than the previous evaluation's, and first after a state round trip */
  uint64_t after_skip, after_switch, after_load;
} check_t;

/* Which evaluations ask for their explanation: a stream of its own, so
 * that the events are the same whichever are asked for. */
static uint64_t ask_state;
static bool ask(void) {
  uint64_t z = (ask_state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  return ((z ^ (z >> 27)) >> 32) % 4 == 0;
}

static void same_double(double a, double b, const char *what) {
  if (memcmp(&a, &b, sizeof a) != 0)
    fail_msg("%s: incremental %.17g, full %.17g", what, a, b);
}

static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *e) {
  check_t *c = ud;
  int idx = atoi(e->account_id.ptr + 5); /* "acct-N" */
  assert_true(idx >= 0 && idx < N_ACCOUNTS);
  prev_t *pv = &c->prev[idx];
  hs_score_t *full = malloc(sizeof *full);
  assert_non_null(full);
  hs_account_score(c->m, a, e->at_ms, full);
  const hs_score_t *s = &e->score;
  assert_int_equal(s->profile, full->profile);
  assert_int_equal(s->has_score, full->has_score);
  assert_int_equal(s->band, full->band);
  assert_int_equal(s->n_groups, full->n_groups);
  same_double(s->score, full->score, "score");
  same_double(s->coverage, full->coverage, "coverage");
  for (uint32_t g = 0; g < s->n_groups; g++) {
    same_double(s->group_score[g], full->group_score[g], "group score");
    same_double(s->group_weight[g], full->group_weight[g], "group weight");
  }
  /* explained where an alert reads it, else on demand */
  assert_int_equal(s->explained, e->n_alerts > 0);
  assert_int_equal(s->n_metrics, s->explained ? full->n_metrics : 0);
  assert_true(full->explained);
  bool switched = pv->profile >= 0 && pv->profile != s->profile;
  if (s->explained || ask() || pv->loaded || switched) {
    hs_score_t *x = malloc(sizeof *x);
    assert_non_null(x);
    hs_eval_explain(c->m, a, e, x);
    assert_true(x->explained);
    assert_int_equal(x->n_metrics, full->n_metrics);
    assert_int_equal(x->profile, s->profile);
    same_double(x->score, s->score, "explained score");
    for (uint32_t r = 0; r < x->n_metrics; r++) {
      const hs_metric_result_t *mx = &x->metrics[r], *y = &full->metrics[r];
      assert_int_equal(mx->metric, y->metric);
      assert_int_equal(mx->group, y->group);
      if (mx->source != y->source)
        fail_msg("metric %s: source %d, full evaluation %d", hs_model_metric_id(c->m, mx->metric),
                 mx->source, y->source);
      same_double(mx->raw, y->raw, hs_model_metric_id(c->m, mx->metric));
      same_double(mx->norm, y->norm, hs_model_metric_id(c->m, mx->metric));
      same_double(mx->weight, y->weight, "weight");
      same_double(mx->contribution, y->contribution, "contribution");
      /* against the full evaluation's contributions of the evaluation
         before, explained or not */
      double delta = pv->profile == s->profile ? y->contribution - (double)pv->contrib[r] : 0;
      same_double(mx->delta, delta, "delta");
      if (s->explained) { /* field by field: the padding is never written */
        const hs_metric_result_t *sx = &s->metrics[r];
        assert_true(sx->metric == mx->metric && sx->group == mx->group && sx->source == mx->source);
        same_double(sx->raw, mx->raw, "the evaluation's raw value");
        same_double(sx->norm, mx->norm, "the evaluation's normalised value");
        same_double(sx->weight, mx->weight, "the evaluation's weight");
        same_double(sx->contribution, mx->contribution, "the evaluation's contribution");
        same_double(sx->delta, mx->delta, "the evaluation's delta");
      }
      c->compared_metrics++;
    }
    c->explained++;
    c->after_skip += pv->profile >= 0 && !pv->explained;
    c->after_switch += switched;
    c->after_load += pv->loaded;
    pv->explained = true;
    free(x);
  } else {
    pv->explained = false;
  }
  /* the full score's deltas are against this evaluation, the account's last */
  for (uint32_t r = 0; r < full->n_metrics; r++) {
    double y = full->metrics[r].contribution;
    same_double(full->metrics[r].delta, y - (double)(float)y, "delta of the account's score");
    pv->contrib[r] = (float)y;
  }
  pv->profile = s->profile;
  pv->loaded = false;
  c->evaluations++;
  free(full);
}

/* Replaces *a by its stored state decoded: the same account, and the same
 * score with the same deltas (against its last evaluation). */
static void round_trip(const hs_model_t *m, hs_account_t **a) {
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_account_encode(m, *a, &b), 0);
  hs_account_t *back;
  hs_err_t err = {0};
  if (hs_account_decode(m, b.data, b.len, &back, &err))
    fail_msg("%s", err.msg);
  hs_score_t *x = malloc(sizeof *x), *y = malloc(sizeof *y);
  assert_non_null(x);
  assert_non_null(y);
  hs_account_score(m, *a, INT64_MIN, x);
  hs_account_score(m, back, INT64_MIN, y);
  assert_int_equal(x->n_metrics, y->n_metrics);
  for (uint32_t r = 0; r < x->n_metrics; r++) {
    same_double(y->metrics[r].contribution, x->metrics[r].contribution, "contribution, loaded");
    same_double(y->metrics[r].delta, x->metrics[r].delta, "delta, loaded");
  }
  free(x);
  free(y);
  hs_buf_free(&b);
  hs_account_free(*a);
  *a = back;
}

/* Set: no overrides in the stream (logins instead). Pins in place, even
 * lifted ones, make every evaluation of the account a full one: without
 * them, the evaluations stay incremental between account events. */
static bool no_pins;

/* One event as JSON at time t for account `acct`. */
static int make_event(char *buf, size_t cap, int acct, int64_t t, int serial) {
  static const char *const roles[] = {"executive", "champion", "admin", "end_user"};
  static const char *const features[] = {"dashboards", "reports", "integrations", "export"};
  static const char *const stages[] = {"onboarding", "adoption", "mature", "renewal"};
  static const char *const segments[] = {"enterprise", "smb", "mid"};
  static const char *const targets[] = {
      "score",      "nps_latest", "logins_30d", "core_features_30d", "days_since_engagement",
      "csm_rating", "tenure"};
  int n = snprintf(buf, cap, "{\"event_id\":\"e%d\",\"account_id\":\"acct-%d\",\"ts\":%lld,",
                   serial, acct, (long long)t);
  char *p = buf + n;
  size_t left = cap - (size_t)n;
  uint32_t k = pick(100);
  if (k < 35)
    n = snprintf(p, left, "\"type\":\"login\",\"user_id\":\"u%u\",\"session_seconds\":%u}", pick(9),
                 pick(4000));
  else if (k < 47)
    n = snprintf(p, left, "\"type\":\"feature_used\",\"feature\":\"%s\",\"count\":%u}",
                 features[pick(4)], 1 + pick(5));
  else if (k < 57)
    n = snprintf(p, left, "\"type\":\"%s\",\"role\":\"%s\"}",
                 (const char *[]){"meeting", "call", "email_in", "email_out", "note"}[pick(5)],
                 roles[pick(4)]);
  else if (k < 62)
    n = snprintf(p, left, "\"type\":\"ticket_opened\",\"ticket_id\":\"t%d\",\"priority\":\"%s\"}",
                 serial, (const char *[]){"low", "normal", "high", "urgent"}[pick(4)]);
  else if (k < 70)
    n = snprintf(p, left, "\"type\":\"%s\",\"invoice_id\":\"i%u\",\"amount\":%u}",
                 (const char *[]){"invoice_issued", "invoice_paid", "invoice_overdue"}[pick(3)],
                 pick(20), pick(5000));
  else if (k < 74)
    n = snprintf(p, left, "\"type\":\"nps\",\"score\":%u}", pick(11));
  else if (k < 78)
    n = snprintf(p, left, "\"type\":\"csat\",\"score\":%u}", 1 + pick(5));
  else if (k < 81)
    n = snprintf(p, left, "\"type\":\"csm_rating\",\"score\":%u}", 1 + pick(10));
  else if (k < 84)
    n = snprintf(p, left, "\"type\":\"%s\"}",
                 (const char *[]){"reference", "review", "referral"}[pick(3)]);
  else if (k < 92)
    n = snprintf(p, left,
                 "\"type\":\"account\",\"segment\":\"%s\",\"stage\":\"%s\",\"licenses\":%u,"
                 "\"contract_start\":%lld,\"renewal_date\":%lld,"
                 "\"attributes\":{\"tier\":\"%u\"}}",
                 segments[pick(3)], stages[pick(4)], pick(30),
                 (long long)(t - (int64_t)pick(400) * HS_MS_PER_DAY),
                 (long long)(t + (int64_t)pick(300) * HS_MS_PER_DAY), pick(3));
  else if (k < 97 && no_pins)
    n = snprintf(p, left, "\"type\":\"login\",\"user_id\":\"u%u\",\"session_seconds\":%u}", pick(9),
                 pick(4000));
  else if (k < 97)
    n = snprintf(p, left,
                 "\"type\":\"override\",\"target\":\"%s\",\"value\":%u,\"expires\":%lld,"
                 "\"reason\":\"r\",\"author\":\"a\"}",
                 targets[pick(7)], pick(110),
                 (long long)(pick(3) ? t + (int64_t)pick(20) * HS_MS_PER_DAY / 2 : t));
  else
    n = snprintf(p, left, "\"type\":\"outcome\",\"outcome\":\"renewed\"}");
  return n > 0 && (size_t)n < left ? 0 : -1;
}

/* Every kind of metric, read in every way: latest values with and without
 * an age limit, minimum, average, sums with filters, trends in points,
 * ratios of windows, per-licence and per-metric values, a custom
 * attribute, staleness, stage-specific ranges and missing values. */
static const char *kinds_yaml =
    "metrics:\n"
    "  logins_7d: {kind: count, events: [login], window: 7d}\n"
    "  users_7d: {kind: distinct, events: [login], field: user_id, window: 7d}\n"
    "  per_user: {kind: count, events: [login], window: 7d, per: users_7d}\n"
    "  per_licence: {kind: count, events: [login], window: 7d, per: licenses}\n"
    "  shortest_7d: {kind: min, events: [login], field: session_seconds, window: 7d}\n"
    "  avg_session_7d: {kind: avg, events: [login], field: session_seconds, window: 7d}\n"
    "  trend_pts: {kind: trend, of: logins_7d, mode: delta}\n"
    "  sessions_7d: {kind: sum, events: [login], field: session_seconds, window: 7d}\n"
    "  slope: {kind: slope, of: sessions_7d}\n"
    "  report_uses: {kind: sum, events: [feature_used], field: count, window: 14d,\n"
    "                where: {feature: [reports]}}\n"
    "  paid: {kind: count, events: [invoice_paid], window: 60d}\n"
    "  issued: {kind: count, events: [invoice_issued], window: 60d}\n"
    "  paid_share: {kind: ratio, num: paid, den: issued}\n"
    "  nps_ever: {kind: latest, events: [nps], field: score}\n"
    "  csat_ever: {kind: latest, events: [csat], field: score}\n"
    "  since_call: {kind: days_since, events: [call]}\n"
    "  tier: {kind: attribute, attribute: tier}\n"
    "  seats: {kind: attribute, attribute: licenses}\n"
    "  tenure: {kind: attribute, attribute: tenure_days}\n"
    "profiles:\n"
    "  - name: enterprise\n"
    "    select: {segment: [enterprise]}\n"
    "    groups:\n"
    "      - name: A\n"
    "        weight: 60\n"
    "        metrics:\n"
    "          - {metric: per_user, worst: 0, best: 5, stale: 3d}\n"
    "          - {metric: shortest_7d, worst: 0, best: 600}\n"
    "          - {metric: trend_pts, worst: -10, best: 5}\n"
    "          - {metric: slope, worst: -100, best: 50, missing: worst}\n"
    "          - {metric: nps_ever, worst: 0, best: 10, missing: {value: 5}}\n"
    "      - name: B\n"
    "        weight: 40\n"
    "        metrics:\n"
    "          - {metric: paid_share, worst: 0, best: 1}\n"
    "          - {metric: tier, worst: 0, best: 2}\n"
    "          - {metric: csat_ever, worst: 1, best: 5}\n"
    "  - name: default\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: per_licence, worst: 0, best: 3,\n"
    "             stages: {adoption: {worst: 0, best: 1}, mature: {worst: 1, best: 4}}}\n"
    "          - {metric: avg_session_7d, worst: 0, best: 2000}\n"
    "          - {metric: report_uses, weight: 0.5, worst: 0, best: 10}\n"
    "      - name: Other\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: nps_ever, worst: 0, best: 10}\n"
    "          - {metric: since_call, worst: 30, best: 0, stale: 20d}\n"
    "          - {metric: seats, worst: 0, best: 20}\n"
    "          - {metric: tenure, worst: 0, best: 365}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 40, hysteresis: 5, pending: 1d}\n"
    "  - {id: drop, kind: trend, lookback: 7d, drop: 15}\n"
    "  - {id: sliding, kind: slope, window: 10d, below: -2}\n";

static void run(const char *config, uint64_t seed) {
  hs_err_t err = {0};
  hs_config_t *cfg;
  hs_model_t *m;
  if ((strchr(config, '\n')
           ? hs_config_load_string(config, strlen(config), "kinds.yaml", &cfg, &err)
           : hs_config_load_file(hs_test_path(config), &cfg, &err)) ||
      hs_model_compile(cfg, &m, &err))
    fail_msg("%s", err.msg);
  check_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  c->m = m;
  hs_account_t *acct[N_ACCOUNTS];
  for (int i = 0; i < N_ACCOUNTS; i++) {
    char id[16];
    snprintf(id, sizeof id, "acct-%d", i);
    assert_int_equal(hs_account_new(m, (hs_str_t){id, (uint32_t)strlen(id)}, &acct[i]), 0);
    c->prev[i].profile = -1;
  }
  hs_decoder_t *dec;
  assert_int_equal(hs_decoder_new(&dec, 0), 0);
  rng_state = seed;
  ask_state = seed * 7919;
  int64_t t = T0;
  char buf[1024];
  uint64_t trips = 0;
  for (int i = 0; i < N_EVENTS; i++) {
    uint32_t step = pick(100);
    if (step < 2)
      t += (int64_t)(1 + pick(40)) * HS_MS_PER_DAY; /* a quiet gap: windows empty */
    else
      t += pick(3 * 3600 * 1000);
    int64_t at = t;
    if (pick(10) == 0)
      at -= (int64_t)pick(4 * 24) * 3600 * 1000; /* late, sometimes by days */
    int k = (int)pick(N_ACCOUNTS);
    assert_int_equal(make_event(buf, sizeof buf, k, at, i), 0);
    hs_event_t ev;
    if (hs_event_decode(dec, buf, strlen(buf), HS_FMT_JSON, &ev, &err) != 0)
      fail_msg("%s: %s", buf, err.msg);
    if (pick(150) == 0 && c->prev[k].profile >= 0) { /* now and then, stored and loaded */
      round_trip(m, &acct[k]);
      c->prev[k].loaded = true;
      trips++;
    }
    assert_true(hs_account_apply(m, acct[k], &ev, on_eval, c) >= 0);
  }
  for (int i = 0; i < N_ACCOUNTS; i++)
    assert_int_equal(hs_account_advance(m, acct[i], t + 45 * HS_MS_PER_DAY, on_eval, c), 0);
  print_message("%s: %llu evaluations, %llu explained (%llu after one that was not, %llu after "
                "a profile switch, %llu first after %llu round trips), %llu metric results "
                "compared\n",
                strchr(config, '\n') ? "every kind" : config, (unsigned long long)c->evaluations,
                (unsigned long long)c->explained, (unsigned long long)c->after_skip,
                (unsigned long long)c->after_switch, (unsigned long long)c->after_load,
                (unsigned long long)trips, (unsigned long long)c->compared_metrics);
  assert_true(c->evaluations > N_EVENTS / 2);
  assert_true(c->after_skip > 100);
  assert_true(c->after_load > 10);
  if (hs_model_n_profiles(m) > 1)
    assert_true(c->after_switch > 10);
  hs_decoder_free(dec);
  for (int i = 0; i < N_ACCOUNTS; i++)
    hs_account_free(acct[i]);
  free(c);
  hs_model_free(m);
  hs_config_free(cfg);
}

static void test_incremental_evaluation_equals_full_eight_categories(void **state) {
  (void)state;
  run("examples/eight-categories.yaml", 1);
  run("examples/eight-categories.yaml", 2);
}

static void test_incremental_evaluation_equals_full_customer_behavior(void **state) {
  (void)state;
  run("examples/customer-behavior.yaml", 3);
}

static void test_incremental_evaluation_equals_full_every_metric_kind(void **state) {
  (void)state;
  run(kinds_yaml, 4);
  run(kinds_yaml, 5);
}

/* A profile whose references need more than 64 metrics (33 ratios, each
 * of two counts over its own window: 99), next to one needing a few: the
 * metrics an evaluation computes are found by a walk over the profile's
 * needed metrics in the first, by each reference's mask in the second. */
static void test_incremental_evaluation_equals_full_more_than_64_needed_metrics(void **state) {
  (void)state;
  enum { RATIOS = 33 };
  size_t cap = 16384, n = 0;
  char *y = malloc(cap);
  assert_non_null(y);
#define ADD(...) (n += (size_t)snprintf(y + n, cap - n, __VA_ARGS__), assert_true(n < cap))
  ADD("metrics:\n");
  for (int i = 0; i < RATIOS; i++) {
    ADD("  logins_%d: {kind: count, events: [login], window: %dd}\n", i, i + 1);
    ADD("  uses_%d: {kind: count, events: [feature_used], window: %dd}\n", i, i + 2);
    ADD("  ratio_%d: {kind: ratio, num: logins_%d, den: uses_%d}\n", i, i, i);
  }
  ADD("  tenure: {kind: attribute, attribute: tenure_days}\n"
      "profiles:\n"
      "  - name: small\n"
      "    select: {segment: [smb]}\n"
      "    groups:\n"
      "      - {name: A, weight: 70, metrics: [{metric: ratio_3, worst: 0, best: 4}]}\n"
      "      - {name: B, weight: 30, metrics: [{metric: tenure, worst: 0, best: 365}]}\n"
      "  - name: wide\n"
      "    default: true\n"
      "    groups:\n");
  for (int g = 0; g < 3; g++) {
    ADD("      - name: G%d\n        weight: %d\n        metrics:\n", g, g == 2 ? 40 : 30);
    for (int i = g; i < RATIOS; i += 3)
      ADD("          - {metric: ratio_%d, worst: 0, best: %d}\n", i, 1 + i % 5);
  }
  ADD("alerts:\n  - {id: low, kind: threshold, below: 40, hysteresis: 5}\n");
#undef ADD
  run(y, 6);
  free(y);
}

/* What moves with time alone, evaluated again only when it can have moved:
 * latest values with an age limit (alone, and per licence) and stale ones
 * (their value changes only as t passes the limit), slope sums that age at
 * midnight while no day leaves the windows (the counts over the same
 * series do not move), counts of days (since, tenure, to renewal, taken
 * directly, stale or not), and references of weight 0 (no part in the
 * score: taken only for an explanation) of every kind that moves with
 * time. In a stream without pins, so that evaluations stay incremental. */
static const char *time_yaml =
    "metrics:\n"
    "  logins_7d: {kind: count, events: [login], window: 7d}\n"
    "  logins_trend: {kind: trend, of: logins_7d, mode: delta}\n"
    "  logins_slope: {kind: slope, of: logins_7d}\n"
    "  session_sum_14d: {kind: sum, events: [login], field: session_seconds, window: 14d}\n"
    "  session_slope: {kind: slope, of: session_sum_14d}\n"
    "  nps_recent: {kind: latest, events: [nps], field: score, max_age: 2d}\n"
    "  nps_per_seat: {kind: latest, events: [nps], field: score, max_age: 1d, per: licenses}\n"
    "  csat_latest: {kind: latest, events: [csat], field: score}\n"
    "  csm_latest: {kind: latest, events: [csm_rating], field: score, max_age: 3d}\n"
    "  since_call: {kind: days_since, events: [call]}\n"
    "  tenure: {kind: attribute, attribute: tenure_days}\n"
    "  to_renewal: {kind: attribute, attribute: days_to_renewal}\n"
    "profiles:\n"
    "  - name: enterprise\n"
    "    select: {segment: [enterprise]}\n"
    "    groups:\n"
    "      - name: A\n"
    "        weight: 60\n"
    "        metrics:\n"
    "          - {metric: logins_7d, worst: 0, best: 20}\n"
    "          - {metric: logins_slope, worst: -2, best: 2}\n"
    "          - {metric: nps_recent, worst: 0, best: 10, missing: {value: 5}}\n"
    "          - {metric: csat_latest, worst: 1, best: 5, stale: 2d}\n"
    "          - {metric: to_renewal, weight: 0, worst: 0, best: 180}\n"
    "      - name: B\n"
    "        weight: 40\n"
    "        metrics:\n"
    "          - {metric: csm_latest, worst: 1, best: 10, stale: 1d, missing: worst}\n"
    "          - {metric: nps_per_seat, worst: 0, best: 1}\n"
    "          - {metric: session_slope, weight: 0, worst: -100, best: 100}\n"
    "          - {metric: since_call, worst: 6, best: 1, stale: 9d}\n"
    "          - {metric: tenure, worst: 0, best: 200}\n"
    "  - name: default\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: logins_trend, worst: -10, best: 10}\n"
    "          - {metric: session_slope, worst: -100, best: 100}\n"
    "          - {metric: logins_slope, weight: 0, worst: -2, best: 2}\n"
    "          - {metric: since_call, weight: 0, worst: 30, best: 0}\n"
    "      - name: Other\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: nps_recent, worst: 0, best: 10}\n"
    "          - {metric: csm_latest, worst: 1, best: 10}\n"
    "          - {metric: tenure, worst: 0, best: 365}\n"
    "          - {metric: to_renewal, worst: 200, best: 30}\n"
    "          - {metric: nps_per_seat, weight: 0, worst: 0, best: 1, stale: 2d}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 40, hysteresis: 5, pending: 1d}\n"
    "  - {id: drop, kind: trend, lookback: 7d, drop: 15}\n";

static void test_incremental_evaluation_equals_full_as_time_passes(void **state) {
  (void)state;
  no_pins = true;
  run(time_yaml, 7);
  run(time_yaml, 8);
  run("examples/eight-categories.yaml", 9);
  no_pins = false;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_incremental_evaluation_equals_full_more_than_64_needed_metrics),
      cmocka_unit_test(test_incremental_evaluation_equals_full_every_metric_kind),
      cmocka_unit_test(test_incremental_evaluation_equals_full_eight_categories),
      cmocka_unit_test(test_incremental_evaluation_equals_full_customer_behavior),
      cmocka_unit_test(test_incremental_evaluation_equals_full_as_time_passes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
