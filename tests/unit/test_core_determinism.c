/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Determinism: the same events give the same evaluations whatever the
 * interleaving of accounts and however time is advanced between them. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"
#include "healthscore/state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ACCOUNTS 30
#define N_DAYS 60
#define DAY HS_MS_PER_DAY
static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01 */

static const char *yaml =
    "metrics:\n"
    "  logins_14d: {kind: count, events: [login], window: 14d}\n"
    "  session_14d: {kind: sum, events: [login], field: session_seconds, window: 14d}\n"
    "  longest_14d: {kind: max, events: [login], field: session_seconds, window: 14d}\n"
    "  users_14d: {kind: distinct, events: [login], window: 14d}\n"
    "  logins_per_user: {kind: count, events: [login], window: 14d, per: users_14d}\n"
    "  logins_trend: {kind: trend, of: logins_14d}\n"
    "  logins_slope: {kind: slope, of: logins_14d}\n"
    "  since_meeting: {kind: days_since, events: [meeting]}\n"
    "  nps: {kind: latest, events: [nps], field: score, max_age: 30d}\n"
    "profiles:\n"
    "  - name: default\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: logins_per_user, worst: 0, best: 6}\n"
    "          - {metric: session_14d, worst: 0, best: 20000}\n"
    "          - {metric: longest_14d, worst: 0, best: 3000}\n"
    "          - {metric: logins_trend, worst: -50, best: 20}\n"
    "          - {metric: logins_slope, worst: -1, best: 0.5}\n"
    "      - name: Relationship\n"
    "        weight: 25\n"
    "        metrics:\n"
    "          - {metric: since_meeting, worst: 30, best: 0, missing: worst}\n"
    "      - name: Sentiment\n"
    "        weight: 25\n"
    "        metrics:\n"
    "          - {metric: nps, worst: 0, best: 10, missing: {value: 5}}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 40, hysteresis: 5, pending: 1d}\n"
    "  - {id: red, kind: band, band: red, cooldown: 3d}\n"
    "  - {id: drop, kind: trend, lookback: 7d, drop: 15}\n"
    "  - {id: sliding, kind: slope, window: 10d, below: -2}\n";

typedef struct gen_event_s {
  hs_event_t ev;
  char account[16], user[8], id[24];
} gen_event_t;

static uint64_t rng_state;
static uint64_t rnd(void) {
  return hs_test_splitmix(&rng_state);
}

/* Per account, a running hash of every evaluation it produced. */
typedef struct trace_s {
  uint64_t h[N_ACCOUNTS];
  int n[N_ACCOUNTS];
  int alerts;
} trace_t;

/* The model the traced accounts run under, for their explanations. */
static const hs_model_t *trace_model;

static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  trace_t *t = ud;
  hs_score_t s;
  hs_eval_explain(trace_model, a, ev, &s);
  int idx = atoi(hs_account_id(a).ptr + 1);
  uint64_t h = t->h[idx];
  h = hs_hash64(&ev->at_ms, sizeof ev->at_ms, h);
  h = hs_hash64(&ev->score.has_score, sizeof ev->score.has_score, h);
  if (ev->score.has_score)
    h = hs_hash64(&ev->score.score, sizeof ev->score.score, h);
  h = hs_hash64(&ev->score.band, sizeof ev->score.band, h);
  for (uint32_t i = 0; i < s.n_metrics; i++) {
    double raw = s.metrics[i].raw;
    if (!isnan(raw))
      h = hs_hash64(&raw, sizeof raw, h);
  }
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    h = hs_hash64(&ev->alerts[i].alert_id, sizeof ev->alerts[i].alert_id, h);
    h = hs_hash64(&ev->alerts[i].state, sizeof ev->alerts[i].state, h);
    t->alerts++;
  }
  t->h[idx] = h;
  t->n[idx]++;
}

static gen_event_t *make_events(size_t *n_out) {
  size_t cap = N_ACCOUNTS * N_DAYS * 8, n = 0;
  gen_event_t *v = hs_calloc(cap, sizeof *v);
  assert_non_null(v);
  rng_state = 42;
  for (int d = 0; d < N_DAYS; d++) {
    for (int acc = 0; acc < N_ACCOUNTS; acc++) {
      /* accounts with a higher index fade away after day 20 */
      int per_day = (int)(rnd() % 6);
      if (d > 20 && acc % 3 == 0)
        per_day = (int)(rnd() % 2);
      if (d > 30 && acc % 3 == 1)
        per_day = 0;
      for (int k = 0; k < per_day && n < cap; k++) {
        gen_event_t *g = &v[n++];
        snprintf(g->account, sizeof g->account, "a%d", acc);
        snprintf(g->user, sizeof g->user, "u%d", (int)(rnd() % 5));
        hs_event_t *ev = &g->ev;
        ev->ts_ms = T0 + d * DAY + (int64_t)(rnd() % (uint64_t)DAY);
        uint64_t r = rnd() % 10;
        ev->type = r < 7 ? HS_EV_LOGIN : r < 9 ? HS_EV_MEETING : HS_EV_NPS;
        ev->session_seconds = (double)(rnd() % 3600);
        ev->score = (double)(rnd() % 11);
        ev->present = HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SESSION_SECONDS) |
                      HS_FIELD_BIT(HS_F_SCORE);
      }
    }
  }
  /* fix up string pointers now that the array no longer moves */
  for (size_t i = 0; i < n; i++) {
    v[i].ev.account_id = (hs_str_t){v[i].account, (uint32_t)strlen(v[i].account)};
    v[i].ev.user_id = (hs_str_t){v[i].user, (uint32_t)strlen(v[i].user)};
    snprintf(v[i].id, sizeof v[i].id, "e%zu", i);
    v[i].ev.event_id = (hs_str_t){v[i].id, (uint32_t)strlen(v[i].id)};
  }
  *n_out = n;
  return v;
}

/* Whether run() passes every other event's account id hash
 * (hs_engine_apply_hashed), the others going through hs_engine_apply: both
 * must find the same account. */
static bool with_hash;

static void run(const hs_model_t *m, gen_event_t *v, const size_t *order, size_t n, int64_t end,
                trace_t *t) {
  hs_engine_t *e;
  memset(t, 0, sizeof *t);
  assert_int_equal(hs_engine_new(&e, m, on_eval, t), 0);
  for (size_t i = 0; i < n; i++) {
    const hs_event_t *ev = &v[order[i]].ev;
    assert_true((with_hash && i % 2 ? hs_engine_apply_hashed(e, hs_engine_hash(ev->account_id), ev)
                                    : hs_engine_apply(e, ev)) >= 0);
  }
  assert_int_equal(hs_engine_advance(e, end), 0);
  hs_engine_free(e);
}

static void test_interleaving_does_not_matter(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_model_t *m;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(yaml, strlen(yaml), "t.yaml", &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  trace_model = m;
  size_t n;
  gen_event_t *v = make_events(&n);
  /* each account's events in time order (within a day they are random: sort
     per account by an insertion sort on timestamps) */
  size_t *by_time = hs_calloc(n, sizeof *by_time);
  for (size_t i = 0; i < n; i++) {
    size_t j = i;
    while (j > 0 && v[by_time[j - 1]].ev.ts_ms > v[i].ev.ts_ms) {
      by_time[j] = by_time[j - 1];
      j--;
    }
    by_time[j] = i;
  }
  trace_t a, b, c;
  int64_t end = T0 + (N_DAYS + 5) * DAY;
  run(m, v, by_time, n, end, &a);
  assert_true(a.alerts > 0);
  /* one account after another: the most extreme interleaving */
  size_t *grouped = hs_calloc(n, sizeof *grouped), k = 0;
  for (int acc = N_ACCOUNTS - 1; acc >= 0; acc--) {
    char id[16];
    snprintf(id, sizeof id, "a%d", acc);
    for (size_t i = 0; i < n; i++)
      if (strcmp(v[by_time[i]].account, id) == 0)
        grouped[k++] = by_time[i];
  }
  assert_int_equal(k, n);
  run(m, v, grouped, n, end, &b);
  /* a random merge of the per-account sequences */
  size_t *merged = hs_calloc(n, sizeof *merged), pos[N_ACCOUNTS] = {0}, cnt[N_ACCOUNTS] = {0};
  size_t *lists[N_ACCOUNTS];
  for (int acc = 0; acc < N_ACCOUNTS; acc++)
    lists[acc] = hs_calloc(n, sizeof(size_t));
  for (size_t i = 0; i < n; i++) {
    int acc = atoi(v[by_time[i]].account + 1);
    lists[acc][cnt[acc]++] = by_time[i];
  }
  for (size_t i = 0; i < n;) {
    int acc = (int)(rnd() % N_ACCOUNTS);
    if (pos[acc] < cnt[acc])
      merged[i++] = lists[acc][pos[acc]++];
  }
  run(m, v, merged, n, end, &c);
  /* the same events, every other one with its id's hash passed in */
  trace_t d;
  with_hash = true;
  run(m, v, merged, n, end, &d);
  with_hash = false;
  for (int acc = 0; acc < N_ACCOUNTS; acc++) {
    assert_int_equal(a.n[acc], b.n[acc]);
    assert_true(a.h[acc] == b.h[acc]);
    assert_true(a.h[acc] == c.h[acc]);
    assert_int_equal(c.n[acc], d.n[acc]);
    assert_true(c.h[acc] == d.h[acc]);
    hs_free(lists[acc]);
  }
  assert_int_equal(a.alerts, b.alerts);
  hs_free(merged);
  hs_free(grouped);
  hs_free(by_time);
  hs_free(v);
  hs_model_free(m);
  hs_config_free(cfg);
}

/* Advancing the clock to t before an event at t or later changes nothing. */
static void test_advance_then_apply_equals_apply(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_model_t *m;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(yaml, strlen(yaml), "t.yaml", &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  trace_model = m;
  size_t n;
  gen_event_t *v = make_events(&n);
  trace_t plain, ticked;
  memset(&plain, 0, sizeof plain);
  memset(&ticked, 0, sizeof ticked);
  hs_account_t *a1, *a2;
  assert_int_equal(hs_account_new(m, (hs_str_t){"a3", 2}, &a1), 0);
  assert_int_equal(hs_account_new(m, (hs_str_t){"a3", 2}, &a2), 0);
  int64_t last = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].account, "a3") != 0 || v[i].ev.ts_ms < last)
      continue;
    assert_true(hs_account_apply(m, a1, &v[i].ev, on_eval, &plain) >= 0);
    if (last != INT64_MIN)
      assert_int_equal(hs_account_advance(m, a2, v[i].ev.ts_ms, on_eval, &ticked), 0);
    assert_true(hs_account_apply(m, a2, &v[i].ev, on_eval, &ticked) >= 0);
    last = v[i].ev.ts_ms;
  }
  assert_true(plain.n[3] > 0);
  assert_int_equal(plain.n[3], ticked.n[3]);
  assert_true(plain.h[3] == ticked.h[3]);
  hs_account_free(a1);
  hs_account_free(a2);
  hs_free(v);
  hs_model_free(m);
  hs_config_free(cfg);
}

/* An advance done a few midnights at a time gives the evaluations of one
 * advance: over a month, and over the 20,000 days from an account whose
 * clock is in 1970 (of which the last 3,660 are evaluated). */
static void test_advance_in_steps_equals_one_advance(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_model_t *m;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(yaml, strlen(yaml), "t.yaml", &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  trace_model = m;
  size_t n;
  gen_event_t *v = make_events(&n);
  static const int64_t starts[] = {0, INT64_C(20000) * DAY}; /* 1970 and 2024 */
  static const int64_t gaps[] = {INT64_C(20000) * DAY + DAY / 3, 31 * DAY};
  for (int c = 0; c < 2; c++) {
    trace_t once, steps;
    memset(&once, 0, sizeof once);
    memset(&steps, 0, sizeof steps);
    hs_account_t *a1, *a2;
    assert_int_equal(hs_account_new(m, (hs_str_t){"a3", 2}, &a1), 0);
    assert_int_equal(hs_account_new(m, (hs_str_t){"a3", 2}, &a2), 0);
    for (size_t i = 0; i < n; i++) { /* a3's events, moved to start at starts[c] */
      if (strcmp(v[i].account, "a3") != 0)
        continue;
      hs_event_t ev = v[i].ev;
      ev.ts_ms = ev.ts_ms - T0 + starts[c];
      assert_true(hs_account_apply(m, a1, &ev, on_eval, &once) >= 0);
      assert_true(hs_account_apply(m, a2, &ev, on_eval, &steps) >= 0);
    }
    int64_t now = hs_account_clock(a1) + gaps[c];
    int before = once.n[3];
    assert_int_equal(hs_account_advance(m, a1, now, on_eval, &once), 0);
    int64_t left, calls = 0;
    while ((left = hs_account_advance_some(m, a2, now, 7, on_eval, &steps)) > 0)
      calls++;
    assert_int_equal(left, 0);
    print_message("advance by %lld days: %d evaluations, in %lld steps of 7\n",
                  (long long)(gaps[c] / DAY), once.n[3] - before, (long long)calls + 1);
    assert_int_equal(once.n[3] - before, c ? 31 : 3660);
    assert_int_equal(once.n[3], steps.n[3]);
    assert_true(once.h[3] == steps.h[3]);
    assert_true(calls >= (once.n[3] - before) / 7);
    hs_buf_t b1 = {0}, b2 = {0};
    assert_int_equal(hs_account_encode(m, a1, &b1), 0);
    assert_int_equal(hs_account_encode(m, a2, &b2), 0);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    hs_buf_free(&b1);
    hs_buf_free(&b2);
    hs_account_free(a1);
    hs_account_free(a2);
  }
  hs_free(v);
  hs_model_free(m);
  hs_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interleaving_does_not_matter),
      cmocka_unit_test(test_advance_then_apply_equals_apply),
      cmocka_unit_test(test_advance_in_steps_equals_one_advance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
