/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The event-time merge of a partition group, in process against the mock
 * cluster and a real redis-server: events of two topics are applied in
 * event-time order whatever order they were fetched in; a topic partition
 * with nothing buffered (at its end) does not hold the others; with
 * engine.max_idle an event waits for a co-partition at its end to deliver
 * an older one.
 *
 * Events are spaced more than the model's horizon apart, so that applying
 * any of them out of event-time order makes one late (dropped and counted
 * in healthscore_events_late_total): "no late event" means "in order". */
#include "livetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct want_s {
  const char *series;
  double at_least;
} want_t;

static bool metric_reaches(lt_t *t, void *arg) {
  want_t *w = arg;
  return lt_metric(t, w->series) >= w->at_least;
}

/* The stored state of `account` equals the one of `events` applied in
 * their order. */
static void assert_state(lt_t *t, const char *account, const char *const *events, size_t n) {
  size_t len, want_len;
  char *want = lt_reference_state(t->model, account, events, n, &want_len);
  char *got = lt_state(t, account, &len);
  assert_non_null(got);
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, len);
  hs_free(got);
  hs_free(want);
}

/* Start of the event times: old enough for N events spaced more than the
 * horizon apart, each after engine.min_event_time. */
static int64_t spacing(const hs_model_t *m) {
  return ((int64_t)hs_model_horizon_days(m) + 2) * LT_DAY_MS;
}

/* A backlog fetched in any order: two accounts of one partition, their
 * events alternating between the topics in event time, produced topic by
 * topic (all of A, then all of B) before the engine starts. */
static void test_merge_applies_a_backlog_in_event_time(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  int64_t step = spacing(t.model), base = lt_now_ms() - 7 * step;
  char x[64], y[64];
  lt_account_of(0, "merge-x", 0, x, sizeof x);
  lt_account_of(0, "merge-y", 0, y, sizeof y);
  static char ex[6][512], ey[6][512];
  const char *px[6], *py[6];
  for (int i = 0; i < 6; i++) {
    char id[16];
    snprintf(id, sizeof id, "e%d", i);
    snprintf(ex[i], sizeof ex[i], "%s", lt_login(x, id, base + i * step));
    snprintf(ey[i], sizeof ey[i], "%s", lt_login(y, id, base + i * step + 1));
    px[i] = ex[i];
    py[i] = ey[i];
  }
  /* x: even events on A, odd on B; y: the other way round */
  for (int i = 0; i < 6; i += 2) {
    lt_produce_nowait(LT_TOPIC_A, x, -1, ex[i]);
    lt_produce_nowait(LT_TOPIC_A, y, -1, ey[i + 1]);
  }
  lt_flush();
  for (int i = 0; i < 6; i += 2) {
    lt_produce_nowait(LT_TOPIC_B, x, -1, ex[i + 1]);
    lt_produce_nowait(LT_TOPIC_B, y, -1, ey[i]);
  }
  lt_flush();
  hs_err_t err = {0};
  assert_int_equal(hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err), 0);
  want_t w = {"healthscore_events_applied_total", 12};
  assert_true(lt_run_until(&t, metric_reaches, &w, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_int_equal(lt_metric(&t, "healthscore_events_late_total"), 0);
  assert_state(&t, x, px, 6);
  assert_state(&t, y, py, 6);
  lt_finish(&t);
}

/* A topic partition with nothing buffered, at its end, does not hold the
 * group: events of the other topic are applied. */
static void test_merge_goes_on_past_an_empty_partition(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(1, "empty-x", 0, x, sizeof x);
  int64_t step = spacing(t.model), base = lt_now_ms() - 4 * step;
  static char ex[3][512];
  const char *px[3];
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "e%d", i);
    snprintf(ex[i], sizeof ex[i], "%s", lt_login(x, id, base + i * step));
    px[i] = ex[i];
    lt_produce(LT_TOPIC_A, x, -1, ex[i]); /* B's partition 1 stays empty */
  }
  assert_true(lt_run_until(&t, lt_has_state, x, 10000));
  want_t w = {"healthscore_events_applied_total", 3};
  assert_true(lt_run_until(&t, metric_reaches, &w, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_state(&t, x, px, 3);
  lt_finish(&t);
}

/* With engine.max_idle, an event of a topic waits for the co-partition
 * at its end to deliver: an older event that arrives meanwhile goes
 * first. */
static void test_merge_waits_max_idle_for_a_partition_at_its_end(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, "  max_idle: 5s\n");
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(0, "idle-x", 0, x, sizeof x);
  int64_t step = spacing(t.model), base = lt_now_ms() - 3 * step;
  static char ex[2][512];
  const char *px[2];
  snprintf(ex[0], sizeof ex[0], "%s", lt_login(x, "old", base));
  snprintf(ex[1], sizeof ex[1], "%s", lt_login(x, "new", base + step));
  px[0] = ex[0];
  px[1] = ex[1];
  lt_produce(LT_TOPIC_A, x, -1, ex[1]); /* the newer first, alone */
  lt_produce(LT_TOPIC_B, x, -1, ex[0]);
  want_t w = {"healthscore_events_applied_total", 2};
  assert_true(lt_run_until(&t, metric_reaches, &w, 30000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_int_equal(lt_metric(&t, "healthscore_events_late_total"), 0);
  assert_state(&t, x, px, 2);
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_merge_applies_a_backlog_in_event_time),
      cmocka_unit_test(test_merge_goes_on_past_an_empty_partition),
      cmocka_unit_test(test_merge_waits_max_idle_for_a_partition_at_its_end),
  };
  if (getenv("LT_FILTER"))
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
