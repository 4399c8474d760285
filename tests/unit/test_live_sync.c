/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Resync, eviction and the engine's modes, in process against the mock
 * cluster and a real redis-server: flushes failing (Redis out of memory)
 * make the engine resume from Redis and lose nothing; clean accounts beyond
 * engine.max_accounts are evicted and read back when needed; a second member
 * joining and leaving moves the engine through revoking, syncing and
 * running, and every state stays equal to its events applied once; an
 * answer the engine waits for that never comes ends in a resync; a resync
 * resumes its partitions before assigning them, never after. */
#include "livetest.h"

#include "healthscore/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Redis refuses writes (maxmemory reached) for a while: each flush fails,
 * the engine resumes from Redis; once writes pass, the states hold every
 * event once. */
static void test_failed_flushes_resync_and_lose_nothing(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(0, "resync-x", 0, x, sizeof x);
  static char ev[3][512];
  const char *evs[3] = {ev[0], ev[1], ev[2]};
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "r%d", i);
    snprintf(ev[i], sizeof ev[i], "%s", lt_login(x, id, lt_now_ms() - 3000 + i));
  }
  lt_produce(LT_TOPIC_A, x, -1, ev[0]);
  assert_true(lt_run_until(&t, lt_has_state, x, 10000));
  freeReplyObject(lt_redis("CONFIG SET maxmemory 1"));
  lt_produce(LT_TOPIC_A, x, -1, ev[1]);
  lt_produce(LT_TOPIC_B, x, -1, ev[2]);
  lt_want_t w = {"healthscore_resyncs_total{cause=\"flush_failed\"}", 2};
  bool resynced = lt_run_until(&t, lt_metric_reaches, &w, 10000);
  char why[256];
  bool ready = hs_live_ready(t.live, why, sizeof why);
  freeReplyObject(lt_redis("CONFIG SET maxmemory 0"));
  assert_true(resynced);
  assert_false(ready);
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_true(lt_run_until(&t, lt_ready, NULL, 10000));
  lt_assert_state(&t, x, evs, 3);
  assert_true(lt_metric(&t, "healthscore_events_reapplied_total") >= 2);
  assert_true(lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"resync\"}") >= 2);
  lt_finish(&t);
}

/* Beyond engine.max_accounts, clean accounts are dropped, least recently
 * used first; one needed again is read back from Redis. */
static void test_eviction_reads_an_account_back(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, "  max_accounts: 1000\n");
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  enum { N = 1100 };
  int64_t at = lt_now_ms() - 60000;
  for (int i = 0; i < N; i++) {
    char acc[32], id[16];
    snprintf(acc, sizeof acc, "evict-%04d", i);
    snprintf(id, sizeof id, "v%d", i);
    lt_produce_nowait(i % 2 ? LT_TOPIC_A : LT_TOPIC_B, acc, -1, lt_login(acc, id, at));
  }
  lt_flush();
  lt_want_t w = {"healthscore_events_applied_total", N};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 30000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  lt_want_t ev = {"healthscore_accounts_evicted_total", N - 1000};
  assert_true(lt_run_until(&t, lt_metric_reaches, &ev, 10000));
  assert_true(lt_metric(&t, "healthscore_accounts") <= 1000);
  double loads = lt_metric(&t, "healthscore_state_loads_total");
  /* an account evicted is read back when it is needed again */
  char acc[32], id[16], first[512], again[512];
  int i = 0;
  for (; i < N; i++) {
    snprintf(acc, sizeof acc, "evict-%04d", i);
    if (!hs__acct_find(t.live, acc, strlen(acc), hs_hash64(acc, strlen(acc), HS_HASH_SEED)))
      break;
  }
  assert_true(i < N);
  snprintf(id, sizeof id, "v%d", i);
  snprintf(first, sizeof first, "%s", lt_login(acc, id, at));
  snprintf(again, sizeof again, "%s", lt_login(acc, "again", at + 1000));
  lt_produce(LT_TOPIC_A, acc, -1, again);
  lt_want_t more = {"healthscore_events_applied_total", N + 1};
  assert_true(lt_run_until(&t, lt_metric_reaches, &more, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_true(lt_metric(&t, "healthscore_state_loads_total") >= loads + 1);
  const char *evs[] = {first, again};
  lt_assert_state(&t, acc, evs, 2);
  lt_finish(&t);
}

typedef struct pair_s {
  hs_live_t *second;
} pair_t;

static size_t groups_held(const hs_live_t *l) {
  size_t n = 0;
  for (size_t p = 0; p < l->n_groups; p++)
    n += l->groups[p] && l->groups[p]->state == G_ACTIVE;
  return n;
}

static bool split(lt_t *t, void *arg) {
  pair_t *pp = arg;
  char why[256];
  return lt_ready(t, NULL) && hs_live_ready(pp->second, why, sizeof why) &&
         groups_held(t->live) == 1 && groups_held(pp->second) == 1;
}

static bool whole(lt_t *t, void *arg) {
  (void)arg;
  return lt_ready(t, NULL) && groups_held(t->live) == LT_PARTITIONS;
}

static void on_second_stopped(void *ud, int status) {
  (void)status;
  *(bool *)ud = true;
}

static bool flag_set(lt_t *t, void *arg) {
  (void)t;
  return *(bool *)arg;
}

/* A second member joins (each takes one partition group) and leaves (the
 * first takes both back): the first goes running -> revoking -> running ->
 * syncing -> running each time, and the states hold every event once. */
static void test_modes_through_a_rebalance(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64], y[64];
  lt_account_of(0, "modes-x", 0, x, sizeof x);
  lt_account_of(1, "modes-y", 0, y, sizeof y);
  static char ev[6][512];
  const char *ex[3], *ey[3];
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "x%d", i);
    snprintf(ev[i], sizeof ev[i], "%s", lt_login(x, id, lt_now_ms() - 10000 + i));
    snprintf(id, sizeof id, "y%d", i);
    snprintf(ev[3 + i], sizeof ev[3 + i], "%s", lt_login(y, id, lt_now_ms() - 10000 + i));
    ex[i] = ev[i];
    ey[i] = ev[3 + i];
  }
  lt_produce(LT_TOPIC_A, x, -1, ex[0]);
  lt_produce(LT_TOPIC_A, y, -1, ey[0]);
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  double revoking = lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"revoking\"}");
  double syncing = lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"syncing\"}");
  assert_int_equal(revoking, 0);

  /* a second member on the same loop, with its own registry */
  hs_metrics_t *m2 = hs_metrics_new();
  assert_non_null(m2);
  pair_t pp = {NULL};
  hs_err_t err = {0};
  assert_int_equal(hs_live_new(&pp.second, &t.loop, &t.s, t.model, m2, &err), 0);
  assert_true(lt_run_until(&t, split, &pp, 30000));
  assert_true(lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"revoking\"}") >= 1);
  assert_true(lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"syncing\"}") >=
              syncing + 1);
  lt_produce(LT_TOPIC_B, x, -1, ex[1]);
  lt_produce(LT_TOPIC_B, y, -1, ey[1]);
  /* both members settle: each event applied by the owner of its group */
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  bool stopped = false;
  assert_int_equal(hs_live_stop(pp.second, 5000, on_second_stopped, &stopped), 0);
  assert_true(lt_run_until(&t, flag_set, &stopped, 20000));
  assert_true(lt_run_until(&t, whole, NULL, 30000));
  assert_true(lt_metric(&t, "healthscore_engine_mode_changes_total{mode=\"revoking\"}") >= 2);
  lt_produce(LT_TOPIC_A, x, -1, ex[2]);
  lt_produce(LT_TOPIC_A, y, -1, ey[2]);
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  lt_run_for(&t, 200);
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  lt_assert_state(&t, x, ex, 3);
  lt_assert_state(&t, y, ey, 3);
  lt_finish(&t);
  hs_metrics_free(m2);
}

static bool account_loading(lt_t *t, void *id) {
  acct_t *a = hs__acct_find(t->live, id, strlen(id), hs_hash64(id, strlen(id), HS_HASH_SEED));
  return a && a->loading;
}

static bool written_and_settled(lt_t *t, void *id) {
  return lt_settled(t, NULL) && lt_has_state(t, id);
}

/* The answer to an account read is lost (Redis answers, but to a read the
 * engine no longer waits for: as if the answer never came). Nothing else
 * would ever end the wait: the engine resyncs by itself once it made no
 * durable progress for twice the stall window, says why, and the event is
 * written. */
static void test_lost_answer_ends_in_a_resync(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(0, "lost-x", 0, x, sizeof x);
  char ev[512];
  snprintf(ev, sizeof ev, "%s", lt_login(x, "l1", lt_now_ms() - 3000));
  lt_produce(LT_TOPIC_A, x, -1, ev);
  assert_true(lt_run_until(&t, account_loading, x, 10000));
  t.live->epoch++; /* the read's answer is for an earlier epoch: ignored */
  lt_want_t w = {"healthscore_resyncs_total{cause=\"stalled\"}", 1};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 40000));
  assert_true(lt_run_until(&t, written_and_settled, x, 20000));
  const char *evs[] = {ev};
  lt_assert_state(&t, x, evs, 1);
  assert_true(lt_run_until(&t, lt_ready, NULL, 10000));
  lt_finish(&t);
}

/* Settled, with partition 1's positions written past `arg` messages. */
static bool written_past(lt_t *t, void *arg) {
  group_t *g = t->live ? t->live->groups[1] : NULL;
  return lt_settled(t, NULL) && g &&
         g->tp[0].committed + g->tp[1].committed >= (int64_t)(intptr_t)arg;
}

/* A resync pauses fetching, then assigns the partitions again from the
 * positions in Redis; they must be resumed before that assignment. A resume
 * after it races with librdkafka's thread starting the fetchers (both take
 * a version barrier; a start queued behind a newer resume is dropped as
 * outdated): about once in several hundred resyncs a partition was never
 * fetched again, no message and no end, and the engine waited. librdkafka's
 * own log (debug "cgrp,topic") shows the order: after the last assignment
 * the engine (thread "app") resumes nothing. */
static void test_resync_resumes_partitions_before_assigning(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  size_t n = t.s.n_consumer_client;
  char **kv = hs_realloc(t.s.consumer_client, (n + 1) * 2 * sizeof *kv);
  assert_non_null(kv);
  kv[n * 2] = hs_strdup("debug");
  kv[n * 2 + 1] = hs_strdup("cgrp,topic");
  t.s.consumer_client = kv;
  t.s.n_consumer_client = n + 1;
  char log_path[] = "/tmp/hs-resume-log-XXXXXX";
  int log_fd = mkstemp(log_path), saved_stderr = dup(2);
  assert_true(log_fd >= 0 && saved_stderr >= 0);
  fflush(stderr);
  dup2(log_fd, 2);
  hs_log_setup(HS_LOG_DEBUG, false); /* librdkafka's debug lines come at debug */
  hs_err_t err = {0};
  if (hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err))
    fail_msg("hs_live_new: %s", err.msg);
  bool ready = lt_run_until(&t, lt_ready, NULL, 20000);
  /* Redis refuses a flush: a resync (cause flush_failed) */
  char x[64], ev[2][512];
  lt_account_of(1, "resume-x", 0, x, sizeof x); /* partition 1: written_past */
  snprintf(ev[0], sizeof ev[0], "%s", lt_login(x, "r0", lt_now_ms() - 2000));
  snprintf(ev[1], sizeof ev[1], "%s", lt_login(x, "r1", lt_now_ms() - 1000));
  freeReplyObject(lt_redis("CONFIG SET maxmemory 1"));
  lt_produce(LT_TOPIC_A, x, -1, ev[0]);
  lt_want_t w = {"healthscore_resyncs_total{cause=\"flush_failed\"}", 1};
  bool resynced = lt_run_until(&t, lt_metric_reaches, &w, 20000);
  freeReplyObject(lt_redis("CONFIG SET maxmemory 0"));
  bool again = resynced && lt_run_until(&t, lt_settled, NULL, 20000);
  /* fetching goes on from the positions the resync read */
  lt_produce(LT_TOPIC_B, x, -1, ev[1]);
  bool fetched = again && lt_run_until(&t, written_past, (void *)(intptr_t)2, 20000);
  hs_log_setup(HS_LOG_INFO, false);
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  assert_true(ready);
  assert_true(resynced);
  assert_true(again);
  assert_true(fetched);
  const char *evs[] = {ev[0], ev[1]};
  lt_assert_state(&t, x, evs, 2);
  /* the last assignment of the partitions (the resync's), then no resume
     by the application */
  FILE *f = fdopen(log_fd, "r");
  rewind(f);
  static char line[8192];
  long assigns = 0, late_resumes = 0, resumes = 0;
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, "librdkafka: CGRPOP:") && strstr(line, "received op ASSIGN ")) {
      assigns++;
      late_resumes = 0;
    }
    bool input = strstr(line, LT_TOPIC_A) || strstr(line, LT_TOPIC_B);
    if (input && strstr(line, "[thrd:app]: Resume ")) {
      resumes++;
      late_resumes++;
    }
  }
  fclose(f);
  unlink(log_path);
  if (assigns < 3) /* at start, and the resync's unassignment and assignment */
    fail_msg("%ld assignments in librdkafka's log: no debug lines?", assigns);
  if (late_resumes)
    fail_msg("%ld partitions resumed after their assignment (of %ld resumes)", late_resumes,
             resumes);
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_failed_flushes_resync_and_lose_nothing),
      cmocka_unit_test(test_eviction_reads_an_account_back),
      cmocka_unit_test(test_modes_through_a_rebalance),
      cmocka_unit_test(test_lost_answer_ends_in_a_resync),
      cmocka_unit_test(test_resync_resumes_partitions_before_assigning),
  };
  if (getenv("LT_FILTER"))
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
