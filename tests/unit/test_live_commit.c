/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The commit builder, in process against the mock cluster and a real
 * redis-server: a flush is held until the messages produced before it
 * (a dead letter, an alert: one outbox) are acknowledged; positions another
 * owner moved fence the flush and the engine resumes from them; a write
 * behind a stored cover is refused and the stored state stays. */
#include "livetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dead-letter topic without a leader: a flush built after a dead
 * letter waits for it (its state and positions are not written), and goes
 * once the dead letter is delivered. */
static void test_flush_held_until_its_dead_letter_is_delivered(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64], y[64];
  lt_account_of(0, "held-x", 0, x, sizeof x);
  lt_account_of(0, "held-y", 0, y, sizeof y);
  rd_kafka_mock_partition_set_leader(lt_cluster, LT_DEAD, 0, -1);
  lt_produce(LT_TOPIC_A, x, -1, "not an event");
  char ev[512];
  snprintf(ev, sizeof ev, "%s", lt_login(y, "h1", lt_now_ms() - 1000));
  lt_produce(LT_TOPIC_A, y, -1, ev);
  lt_want_t applied = {"healthscore_events_applied_total", 1};
  assert_true(lt_run_until(&t, lt_metric_reaches, &applied, 10000));
  lt_run_for(&t, 500); /* ten flush intervals */
  assert_false(lt_has_state(&t, y));
  assert_non_null(t.live->held);
  redisReply *r = lt_redis("HGET %s:pos:%s:0 %s", t.prefix, t.s.group_id, LT_TOPIC_A);
  assert_true(r->type == REDIS_REPLY_NIL || !strcmp(r->str, "0")); /* not past the dead letter */
  freeReplyObject(r);
  rd_kafka_mock_partition_set_leader(lt_cluster, LT_DEAD, 0, 2);
  assert_true(lt_run_until(&t, lt_has_state, y, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  const char *evs[] = {ev};
  lt_assert_state(&t, y, evs, 1);
  assert_true(lt_metric(&t, "healthscore_deadletter_total") >= 1);
  lt_finish(&t);
}

/* The same with an alert: the alerts topic without a leader holds the flush
 * of the events that raised the alert until Kafka acknowledges it. */
static void test_flush_held_until_its_alert_is_delivered(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(1, "alert-x", 0, x, sizeof x);
  static char ev[2][512];
  const char *evs[2] = {ev[0], ev[1]};
  /* a month and more of one login: the score falls below 40 once the
     warm-up has passed (rule score_below_40) */
  snprintf(ev[0], sizeof ev[0], "%s", lt_login(x, "a1", lt_now_ms() - 40 * LT_DAY_MS));
  snprintf(ev[1], sizeof ev[1], "%s", lt_login(x, "a2", lt_now_ms() - 3600000));
  rd_kafka_mock_partition_set_leader(lt_cluster, LT_ALERTS, 0, -1);
  lt_produce(LT_TOPIC_A, x, -1, ev[0]);
  lt_produce(LT_TOPIC_A, x, -1, ev[1]);
  lt_want_t applied = {"healthscore_events_applied_total", 2};
  assert_true(lt_run_until(&t, lt_metric_reaches, &applied, 10000));
  assert_true(lt_metric(&t, "healthscore_alerts_total") >= 1);
  lt_run_for(&t, 500); /* ten flush intervals */
  assert_false(lt_has_state(&t, x));
  assert_non_null(t.live->held);
  rd_kafka_mock_partition_set_leader(lt_cluster, LT_ALERTS, 0, 2);
  assert_true(lt_run_until(&t, lt_has_state, x, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  lt_assert_state(&t, x, evs, 2);
  lt_finish(&t);
}

/* Another owner moved the positions: the next flush is fenced, the engine
 * resumes from the positions in Redis, and what it reads again is covered
 * by the stored state (skipped, not applied twice). */
static void test_moved_positions_fence_the_flush(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(1, "fence-x", 0, x, sizeof x);
  static char ev[2][512];
  const char *evs[2] = {ev[0], ev[1]};
  snprintf(ev[0], sizeof ev[0], "%s", lt_login(x, "f1", lt_now_ms() - 2000));
  snprintf(ev[1], sizeof ev[1], "%s", lt_login(x, "f2", lt_now_ms() - 1000));
  lt_produce(LT_TOPIC_A, x, -1, ev[0]);
  assert_true(lt_run_until(&t, lt_has_state, x, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  /* another owner's position */
  freeReplyObject(lt_redis("HSET %s:pos:%s:1 %s 0", t.prefix, t.s.group_id, LT_TOPIC_A));
  lt_produce(LT_TOPIC_A, x, -1, ev[1]);
  lt_want_t w = {"healthscore_resyncs_total{cause=\"fenced\"}", 1};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 10000));
  assert_true(lt_metric(&t, "healthscore_redis_flush_fenced_total") >= 1);
  lt_want_t covered = {"healthscore_events_covered_total", 2};
  assert_true(lt_run_until(&t, lt_metric_reaches, &covered, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_true(lt_run_until(&t, lt_ready, NULL, 10000));
  lt_assert_state(&t, x, evs, 2);
  redisReply *r = lt_redis("HGET %s:pos:%s:1 %s", t.prefix, t.s.group_id, LT_TOPIC_A);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  assert_string_equal(r->str, "2");
  freeReplyObject(r);
  lt_finish(&t);
}

/* A stored cover ahead of what the engine holds (a newer owner wrote the
 * account): the write is refused, the stored state stays, and the engine
 * resumes from Redis, where the event counts as covered. */
static void test_write_behind_the_stored_cover_is_refused(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64];
  lt_account_of(0, "cover-x", 0, x, sizeof x);
  static char ev[2][512];
  const char *evs[1] = {ev[0]};
  snprintf(ev[0], sizeof ev[0], "%s", lt_login(x, "c1", lt_now_ms() - 2000));
  snprintf(ev[1], sizeof ev[1], "%s", lt_login(x, "c2", lt_now_ms() - 1000));
  lt_produce(LT_TOPIC_A, x, -1, ev[0]);
  assert_true(lt_run_until(&t, lt_has_state, x, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  char cover[128];
  int n = snprintf(cover, sizeof cover, "0 %s=100 %s=100", LT_TOPIC_A, LT_TOPIC_B);
  lt_set_key(&t, x, "cover", cover, (size_t)n);
  lt_produce(LT_TOPIC_A, x, -1, ev[1]);
  lt_want_t w = {"healthscore_resyncs_total{cause=\"fenced\"}", 1};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 10000));
  assert_true(lt_metric(&t, "healthscore_redis_refused_writes_total") >= 1);
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_true(lt_run_until(&t, lt_ready, NULL, 10000));
  lt_assert_state(&t, x, evs, 1); /* the stored state stays */
  assert_true(lt_metric(&t, "healthscore_events_covered_total") >= 1);
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flush_held_until_its_dead_letter_is_delivered),
      cmocka_unit_test(test_flush_held_until_its_alert_is_delivered),
      cmocka_unit_test(test_moved_positions_fence_the_flush),
      cmocka_unit_test(test_write_behind_the_stored_cover_is_refused),
  };
  if (getenv("LT_FILTER"))
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
