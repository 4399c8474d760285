/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Memory given back to the system (malloc_trim), in process against the
 * mock cluster and a real redis-server: never while a backlog is being
 * drained (what is given back would be faulted in again at the next fetch or
 * flush), once the engine is idle, at most once per TRIM_INTERVAL_MS. */
#include "livetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIMS "healthscore_memory_trims_total"
#define BACKLOG 200

/* Watches every turn of the loop: while the engine is not caught up, the
 * interval since the last trim is made to have passed, so that only the
 * engine's idleness can hold a trim back; a trim in a turn that ends with
 * work pending is counted as early. */
typedef struct watch_s {
  double trims;      /* the count seen after the last turn */
  int early;         /* trims done while work was pending */
  int busy_turns;    /* turns that ended with work pending */
  double applied;    /* stop when this many events are applied and a flush is held */
  double want_trims; /* watch_until_trimmed: stop at this count */
} watch_t;

static bool watch_turn(lt_t *t, void *arg) {
  watch_t *w = arg;
  hs_live_t *l = t->live;
  bool settled = lt_settled(t, NULL);
  double trims = hs_series_value(l->m_trims);
  if (trims > w->trims && !settled)
    w->early++;
  w->trims = trims;
  if (!settled) {
    w->busy_turns++;
    l->last_trim = uv_now(&t->loop) - TRIM_INTERVAL_MS;
  }
  return w->applied > 0 && hs_series_value(l->m_applied) >= w->applied && l->held;
}

static bool watch_until_trimmed(lt_t *t, void *arg) {
  watch_t *w = arg;
  watch_turn(t, w);
  return w->trims >= w->want_trims;
}

/* The queues without a message that still hold a ring. */
static int empty_rings(const hs_live_t *l) {
  int n = 0;
  for (size_t p = 0; p < l->n_groups; p++)
    for (size_t t = 0; l->groups[p] && t < l->n_topics; t++)
      n += !l->groups[p]->tp[t].len && l->groups[p]->tp[t].q;
  return n;
}

/* A backlog whose flush is held (its dead letter waits for the dead-letter
 * topic's leader): for ten ticks and more the engine holds dirty accounts
 * and a message in flight, and trims nothing; once the dead letter is
 * delivered and the flush acknowledged, it trims once, and gives back the
 * rings of the queues the backlog emptied. */
static void test_memory_is_trimmed_only_when_idle(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  rd_kafka_mock_partition_set_leader(lt_cluster, LT_DEAD, 0, -1);
  lt_produce_nowait(LT_TOPIC_A, "trim-bad", 0, "not an event");
  int64_t ts = lt_now_ms() - 3600000;
  for (int i = 0; i < BACKLOG; i++) {
    char acct[64], id[32];
    lt_account_of(i % LT_PARTITIONS, "trim", i % 20, acct, sizeof acct);
    snprintf(id, sizeof id, "t%d", i);
    lt_produce_nowait(i % 2 ? LT_TOPIC_B : LT_TOPIC_A, acct, -1, lt_login(acct, id, ts + i));
  }
  lt_flush();
  watch_t w = {hs_series_value(t.live->m_trims), 0, 0, 0, 0};
  double base = w.trims;
  w.applied = hs_series_value(t.live->m_applied) + BACKLOG;
  assert_true(lt_run_until(&t, watch_turn, &w, 20000));
  w.applied = 0;
  lt_run_until(&t, watch_turn, &w, 500); /* ten ticks with the flush held */
  assert_true(w.busy_turns > 0);
  assert_int_equal(w.early, 0);
  assert_true(lt_metric(&t, TRIMS) == base);
  assert_true(empty_rings(t.live) > 0); /* kept while work is pending */

  rd_kafka_mock_partition_set_leader(lt_cluster, LT_DEAD, 0, 2);
  w.want_trims = base + 1;
  assert_true(lt_run_until(&t, watch_until_trimmed, &w, 20000));
  assert_int_equal(w.early, 0);
  assert_true(lt_metric(&t, TRIMS) == base + 1);
  assert_int_equal(empty_rings(t.live), 0); /* given back when idle */
  lt_run_until(&t, watch_turn, &w, 300);    /* idle: not again within the interval */
  assert_true(lt_metric(&t, TRIMS) == base + 1);
  assert_true(lt_metric(&t, "healthscore_deadletter_total") >= 1);
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memory_is_trimmed_only_when_idle),
  };
  if (getenv("LT_FILTER"))
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
