/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Each message is decoded once, on arrival, and kept decoded while it waits
 * to be applied (its strings point into the message the engine holds); an
 * event with a string the decoder unescaped into its own memory, which the
 * next message's decoding reuses, is decoded again when applied. In process
 * against the mock cluster and a real redis-server. */
#include "livetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A backlog on one partition: first the events of an account seen for the
 * first time (held while its state is read from Redis), with strings the
 * decoder unescapes (JSON escapes, an attribute key), then many events of
 * other accounts whose decoding reuses the decoder's memory, with other
 * escaped strings at the same places, and plain events. The held events
 * must apply with their own strings: every account's stored state equals
 * the one of its events applied in order, and only the escaped events were
 * decoded a second time. */
static void test_held_events_apply_with_their_own_strings(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  int64_t base = lt_now_ms() - 3 * LT_DAY_MS;
  enum { N = 40 };
  char x[64], y[N][64];
  lt_account_of(0, "once-x", 0, x, sizeof x);
  static char ex[4][512], ey[N][2][512];
  snprintf(ex[0], sizeof ex[0],
           "{\"event_id\":\"x0\",\"account_id\":\"%.63s\",\"type\":\"account\",\"ts\":%lld,"
           "\"segment\":\"Ent\\u0065rprise\",\"stage\":\"onboarding\",\"licenses\":40}",
           x, (long long)base);
  snprintf(ex[1], sizeof ex[1],
           "{\"event_id\":\"x1\",\"account_id\":\"%.63s\",\"type\":\"feature_used\",\"ts\":%lld,"
           "\"feature\":\"r\\u00e9ports\",\"count\":3}",
           x, (long long)base + 1000);
  snprintf(ex[2], sizeof ex[2],
           "{\"event_id\":\"x2\",\"account_id\":\"%.63s\",\"type\":\"account\",\"ts\":%lld,"
           "\"vertical\":\"health\",\"attributes\":{\"region\":\"emea\"}}",
           x, (long long)base + 2000);
  snprintf(ex[3], sizeof ex[3], "%s", lt_login(x, "x3", base + 3000));
  const char *px[4] = {ex[0], ex[1], ex[2], ex[3]};
  for (int i = 0; i < 4; i++)
    lt_produce_nowait(LT_TOPIC_A, x, -1, ex[i]);
  for (int i = 0; i < N; i++) {
    lt_account_of(0, "once-y", i, y[i], sizeof y[i]);
    snprintf(
        ey[i][0], sizeof ey[i][0],
        "{\"event_id\":\"y0\",\"account_id\":\"%.63s\",\"type\":\"account\",\"ts\":%lld,"
        "\"segment\":\"Sm\\u0061ll-%03d\",\"stage\":\"live\",\"attributes\":{\"tier\":\"%d\"}}",
        y[i], (long long)base + 10000 + i, i, i);
    snprintf(ey[i][1], sizeof ey[i][1],
             "{\"event_id\":\"y1\",\"account_id\":\"%.63s\",\"type\":\"feature_used\",\"ts\":%lld,"
             "\"feature\":\"exp\\u006frt-%03d\"}",
             y[i], (long long)base + 20000 + i, i);
    lt_produce_nowait(LT_TOPIC_A, y[i], -1, ey[i][0]);
    lt_produce_nowait(LT_TOPIC_A, y[i], -1, ey[i][1]);
  }
  lt_flush();
  hs_err_t err = {0};
  assert_int_equal(hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err), 0);
  lt_want_t w = {"healthscore_events_applied_total", 4 + 2 * N};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  assert_int_equal(lt_metric(&t, "healthscore_events_late_total"), 0);
  lt_assert_state(&t, x, px, 4);
  for (int i = 0; i < N; i++) {
    const char *py[2] = {ey[i][0], ey[i][1]};
    lt_assert_state(&t, y[i], py, 2);
  }
  /* decoded again: the events with an unescaped string (x0, x1, x2 and
     every event of y), not the plain login */
  assert_int_equal(lt_metric(&t, "healthscore_events_decoded_again_total"), 3 + 2 * N);
  lt_finish(&t);
}

/* Plain events (no escapes: every string in the message) are decoded once:
 * none is decoded again, and their states are the ones of their events. */
static void test_plain_events_are_decoded_once(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  int64_t base = lt_now_ms() - 3 * LT_DAY_MS;
  enum { N = 20 };
  char a[N][64];
  static char ev[N][3][512];
  for (int i = 0; i < N; i++) {
    lt_account_of(i % LT_PARTITIONS, "once-p", i, a[i], sizeof a[i]);
    for (int k = 0; k < 3; k++) {
      char id[16];
      snprintf(id, sizeof id, "p%d", k);
      snprintf(ev[i][k], sizeof ev[i][k], "%s", lt_login(a[i], id, base + k * 1000 + i));
      lt_produce_nowait(LT_TOPIC_A, a[i], -1, ev[i][k]);
    }
  }
  lt_flush();
  hs_err_t err = {0};
  assert_int_equal(hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err), 0);
  lt_want_t w = {"healthscore_events_applied_total", 3 * N};
  assert_true(lt_run_until(&t, lt_metric_reaches, &w, 20000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  for (int i = 0; i < N; i++) {
    const char *p[3] = {ev[i][0], ev[i][1], ev[i][2]};
    lt_assert_state(&t, a[i], p, 3);
  }
  assert_int_equal(lt_metric(&t, "healthscore_events_decoded_again_total"), 0);
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_held_events_apply_with_their_own_strings),
      cmocka_unit_test(test_plain_events_are_decoded_once),
  };
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
