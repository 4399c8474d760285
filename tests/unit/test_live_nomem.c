/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine under one allocation failure at every point of an
 * event's way, in process against a real redis-server and librdkafka's mock
 * cluster. For each arrival shape (one held account; a new and a held
 * account in one fetch; events on both input topics; the two separated by
 * turns of the loop; a flush due at the same time; an event that fires an
 * alert), the allocations the way takes are counted first, then the k-th
 * fails for every k: the write of every message must come, without help,
 * and the states in Redis equal the ones of the events applied once. */
#include "livetest.h"

#include "healthscore/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { S_ONE, S_NEW_AND_HELD, S_BOTH_TOPICS, S_SEPARATED, S_FLUSH_DUE, S_ALERT, S__COUNT };
static const char *const shape_names[S__COUNT] = {
    "one held account",   "a new and a held account in one fetch", "both input topics",
    "separated by turns", "a flush due at the same time",          "an alert firing"};

#define MAX_X 2048 /* events of the held account, over the whole run */
#define COUNT_ARM (1ull << 40)

typedef struct sweep_s {
  lt_t t;
  int p;        /* the partition every account of the sweep lives in */
  int64_t sent; /* messages produced to it, over both topics */
  char x[64];   /* the held account */
  char xev[MAX_X][256];
  const char *xptr[MAX_X];
  size_t nx;
  int64_t xbase;
  unsigned serial;
} sweep_t;

/* Settled, ready, and the positions written cover every message produced
 * to the partition. */
static bool written(lt_t *t, void *arg) {
  sweep_t *s = arg;
  if (!lt_settled(t, NULL) || !lt_ready(t, NULL) || !t->live->groups[s->p])
    return false;
  int64_t sum = 0;
  for (size_t k = 0; k < t->live->n_topics; k++)
    sum += t->live->groups[s->p]->tp[k].committed;
  return sum == s->sent;
}

static void produce(sweep_t *s, const char *topic, const char *account, const char *json) {
  assert_int_equal(lt_home(account), s->p);
  lt_produce_nowait(topic, account, -1, json);
  s->sent++;
}

/* The next event of the held account, kept for its reference state. */
static const char *next_x(sweep_t *s) {
  assert_true(s->nx < MAX_X);
  char id[24];
  snprintf(id, sizeof id, "x%zu", s->nx);
  snprintf(s->xev[s->nx], sizeof s->xev[0], "%s",
           lt_login(s->x, id, s->xbase + (int64_t)s->nx * 600000));
  s->xptr[s->nx] = s->xev[s->nx];
  return s->xev[s->nx++];
}

static acct_t *held(sweep_t *s) {
  hs_live_t *l = s->t.live;
  acct_t *a = hs__acct_find(l, s->x, strlen(s->x), hs_hash64(s->x, strlen(s->x), HS_HASH_SEED));
  return a && a->a && !a->loading ? a : NULL;
}

/* Fails the test with what the engine is doing. */
static void stalled(sweep_t *s, int shape, uint64_t k, const char *what) {
  char why[256] = "";
  hs_live_t *l = s->t.live;
  bool ready = l && hs_live_ready(l, why, sizeof why);
  int64_t sum = -1;
  if (l && l->groups[s->p]) {
    sum = 0;
    for (size_t i = 0; i < l->n_topics; i++)
      sum += l->groups[s->p]->tp[i].committed;
  }
  for (size_t p = 0; l && p < l->n_groups; p++)
    for (size_t i = 0; l->groups[p] && i < l->n_topics; i++) {
      const tp_t *tp = &l->groups[p]->tp[i];
      const entry_t *e = tp->len ? &tp->q[tp->head] : NULL;
      print_message("partition %zu topic %zu: state %d, %zu queued (head: account %s), eof %d, "
                    "next %lld, applied %lld, written %lld\n",
                    p, i, l->groups[p]->state, tp->len,
                    !e                ? "-"
                    : !e->acc         ? "unknown"
                    : e->acc->loading ? "loading"
                    : e->acc->a       ? "held"
                                      : "not read",
                    tp->eof, (long long)tp->next, (long long)tp->applied, (long long)tp->committed);
    }
  fail_msg("%s, allocation %llu failing: %s: mode %d, ready %d (%s), positions written %lld of "
           "%lld, committing %d, held %d, pending_pos %d, retry %d, dirty %zu, out %llu..%llu, "
           "resyncs %.0f",
           shape_names[shape], (unsigned long long)k, what, l ? (int)l->mode : -1, ready, why,
           (long long)sum, (long long)s->sent, l ? l->committing : -1, l ? l->held != NULL : -1,
           l ? l->pending_pos : -1, l ? l->retry != NULL : -1, l ? l->n_dirty : 0,
           l ? (unsigned long long)l->out_low : 0, l ? (unsigned long long)l->out_next : 0,
           lt_metric(&s->t, "healthscore_resyncs_total"));
}

static void assert_account(sweep_t *s, int shape, uint64_t k, const char *account,
                           const char *const *events, size_t n) {
  size_t len, want_len;
  char *want = lt_reference_state(s->t.model, account, events, n, &want_len);
  char *got = lt_state(&s->t, account, &len);
  if (!got || len != want_len || memcmp(got, want, len))
    stalled(s, shape, k, "a stored state misses an event");
  hs_free(got);
  hs_free(want);
}

static unsigned alerts_seen;
static void count_alerts(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  (void)ud, (void)a;
  alerts_seen += ev->n_alerts;
}

/* Alerts fired by the last of `n` events of `account`. */
static unsigned alerts_of_last(const hs_model_t *m, const char *account, const char *const *ev,
                               size_t n) {
  hs_decoder_t *d = NULL;
  hs_account_t *a = NULL;
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  assert_int_equal(hs_account_new(m, (hs_str_t){account, (uint32_t)strlen(account)}, &a), 0);
  for (size_t i = 0; i < n; i++) {
    hs_event_t e;
    hs_err_t err = {0};
    assert_int_equal(hs_event_decode(d, ev[i], strlen(ev[i]), HS_FMT_AUTO, &e, &err), 0);
    alerts_seen = 0;
    assert_true(hs_account_apply(m, a, &e, count_alerts, NULL) >= 0);
  }
  hs_account_free(a);
  hs_decoder_free(d);
  return alerts_seen;
}

/* One arrival of `shape` with the `k`-th allocation from the arrival on
 * failing (COUNT_ARM: none, to count them); returns how many were made
 * until the write came. */
static uint64_t arrival(sweep_t *s, int shape, uint64_t k) {
  lt_t *t = &s->t;
  hs_live_t *l = t->live;
  if (!held(s)) { /* a resync dropped it: read it back, with no failure */
    produce(s, LT_TOPIC_A, s->x, next_x(s));
    lt_flush();
    if (!lt_run_until(t, written, s, 30000))
      stalled(s, shape, k, "no write of the event that reads the held account back");
  }
  assert_non_null(held(s));
  char y[64], ey[256], z[64], ez[2][256];
  const char *zptr[2] = {ez[0], ez[1]};
  s->serial++;
  lt_account_of(s->p, "sweep-new", (int)s->serial, y, sizeof y);
  snprintf(ey, sizeof ey, "%s", lt_login(y, "y", s->xbase + (int64_t)s->nx * 600000));
  const char *ex = NULL;
  if (shape == S_ALERT) {
    /* an account with a month of history whose next event fires an alert */
    lt_account_of(s->p, "sweep-alert", (int)s->serial, z, sizeof z);
    int64_t now = lt_now_ms();
    snprintf(ez[0], sizeof ez[0], "%s", lt_login(z, "z0", now - 31 * LT_DAY_MS));
    snprintf(ez[1], sizeof ez[1], "%s", lt_login(z, "z1", now - 60000));
    assert_true(alerts_of_last(t->model, z, zptr, 2) > 0);
    produce(s, LT_TOPIC_A, z, ez[0]);
    lt_flush();
    if (!lt_run_until(t, written, s, 30000))
      stalled(s, shape, k, "no write of the alert's first event");
    produce(s, LT_TOPIC_B, z, ez[1]);
  } else if (shape == S_ONE) {
    produce(s, LT_TOPIC_A, s->x, ex = next_x(s));
  } else if (shape == S_NEW_AND_HELD || shape == S_FLUSH_DUE) {
    produce(s, LT_TOPIC_A, y, ey);
    produce(s, LT_TOPIC_A, s->x, ex = next_x(s));
  } else if (shape == S_BOTH_TOPICS) {
    produce(s, LT_TOPIC_A, y, ey);
    produce(s, LT_TOPIC_B, s->x, ex = next_x(s));
  } else if (shape == S_SEPARATED) {
    produce(s, LT_TOPIC_A, y, ey);
  }
  lt_flush();
  if (shape == S_FLUSH_DUE) {
    /* the held account is written by a flush under way when they come */
    hs__mark_dirty(l, held(s));
    uv_timer_start(&l->flush_timer, hs__on_flush_timer, 0, (uint64_t)l->s->flush_interval_ms);
  }
  hs_alloc_fail_after(k);
  if (shape == S_SEPARATED) {
    lt_run_for(t, 30); /* turns of the loop: the first one is taken, and maybe applied */
    produce(s, LT_TOPIC_B, s->x, ex = next_x(s));
    lt_flush();
  }
  bool ok = lt_run_until(t, written, s, 30000);
  uint64_t left = hs_alloc_fail_pending();
  hs_alloc_fail_after(0);
  if (!ok)
    stalled(s, shape, k, "no write within 30 s");
  assert_account(s, shape, k, s->x, s->xptr, s->nx);
  if (shape != S_ONE && shape != S_ALERT) {
    const char *yev[] = {ey};
    assert_account(s, shape, k, y, yev, 1);
  }
  if (shape == S_ALERT)
    assert_account(s, shape, k, z, zptr, 2);
  return k == COUNT_ARM ? COUNT_ARM - left : k;
}

/* Counts the allocations of an arrival of `shape`, then fails each
 * `stride`-th of them in turn from the `first` (stride 1: every one). */
static void sweep(sweep_t *s, int shape, uint64_t first, uint64_t stride, uint64_t *counted,
                  uint64_t *runs) {
  uint64_t n = arrival(s, shape, COUNT_ARM);
  *counted = n;
  /* a few more than counted: another turn of the loop may take more */
  for (uint64_t k = first; k <= n + 4; k += stride, (*runs)++)
    arrival(s, shape, k);
}

/* HS_NOMEM_SWEEP=full fails every allocation of every shape (about 250
 * arrivals, a minute or more); by default every eighth, from one chosen by
 * the seed (HS_TEST_SEED, else the time; printed): over runs, each. */
static void test_no_single_allocation_failure_stalls_or_loses(void **state) {
  (void)state;
  static sweep_t s;
  memset(&s, 0, sizeof s);
  lt_start(&s.t, NULL);
  assert_true(lt_run_until(&s.t, lt_ready, NULL, 20000));
  snprintf(s.x, sizeof s.x, "sweep-held");
  s.p = lt_home(s.x);
  s.xbase = lt_now_ms() - 30 * LT_DAY_MS;
  const char *full = getenv("HS_NOMEM_SWEEP");
  uint64_t stride = full && !strcmp(full, "full") ? 1 : 8;
  uint64_t seed =
      getenv("HS_TEST_SEED") ? strtoull(getenv("HS_TEST_SEED"), NULL, 10) : (uint64_t)lt_now_ms();
  print_message("HS_TEST_SEED=%llu: allocations %llu, %llu + %llu, ... fail\n",
                (unsigned long long)seed, (unsigned long long)(1 + seed % stride),
                (unsigned long long)(1 + seed % stride), (unsigned long long)stride);
  for (int shape = 0; shape < S__COUNT; shape++) {
    uint64_t counted = 0, runs = 0;
    sweep(&s, shape, 1 + seed % stride, stride, &counted, &runs);
    print_message("%s: %llu allocations on the way, %llu of them failed in turn\n",
                  shape_names[shape], (unsigned long long)counted, (unsigned long long)runs);
  }
  lt_finish(&s.t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_single_allocation_failure_stalls_or_loses),
  };
  if (getenv("LT_FILTER"))
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
