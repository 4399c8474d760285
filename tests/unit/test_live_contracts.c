/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine's contracts, in process against a real redis-server and
 * librdkafka's mock cluster: a state written by a newer build is never
 * overwritten (its partition group is refused, counted, and /readyz says
 * why) while the other groups go on; a state that does not decode otherwise
 * starts over from empty, counted; marking an account changed cannot fail;
 * no allocation failure on the way of an event loses it; a failed creation
 * leaves nothing to stop; a second stop keeps the first callback; a refused
 * assignment is counted and resolved by a resync. */
#include "livetest.h"

#include "healthscore/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two accounts whose home partitions differ. */
static void two_accounts(const char *stem, char *a, char *b, size_t n) {
  snprintf(a, n, "%s-a", stem);
  for (int i = 0; i < 1000; i++) {
    snprintf(b, n, "%s-b%d", stem, i);
    if (lt_home(b) != lt_home(a))
      return;
  }
  fail_msg("no account of the other partition");
}

static void set_key(lt_t *t, const char *account, const char *suffix, const char *v, size_t n) {
  hs_buf_t key;
  hs_buf_init(&key);
  assert_int_equal(
      hs_store_account_key(&key, t->prefix, (hs_str_t){account, (uint32_t)strlen(account)}, suffix),
      0);
  freeReplyObject(lt_redis("SET %b %b", key.data, key.len, v, n));
  hs_buf_free(&key);
}

typedef struct want_s {
  const char *series;
  double at_least;
} want_t;

static bool metric_reaches(lt_t *t, void *arg) {
  want_t *w = arg;
  return lt_metric(t, w->series) >= w->at_least;
}

/* A state of format version 2 (a newer build) stays as it is: the
 * engine refuses its partition group, counts it, and is not ready with
 * the reason; the other partition group goes on. */
static void test_newer_version_state_is_never_overwritten(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  char x[64], y[64];
  two_accounts("newer", x, y, sizeof x);
  int64_t now = lt_now_ms();
  /* a real state, its version set to 2: "v" then 1 -> 2 */
  char ev[512];
  snprintf(ev, sizeof ev, "%s", lt_login(x, "n0", now - LT_DAY_MS));
  const char *evs[] = {ev};
  size_t len;
  char *newer = lt_reference_state(t.model, x, evs, 1, &len);
  char *v = NULL;
  for (size_t i = 0; i + 3 <= len && !v; i++)
    if (!memcmp(newer + i, "\xa1v\x01", 3))
      v = newer + i;
  assert_non_null(v);
  v[2] = 2;
  set_key(&t, x, "state", newer, len);
  hs_err_t err = {0};
  hs_account_t *probe = NULL;
  assert_int_equal(hs_account_decode(t.model, newer, len, &probe, &err), HS_E_VERSION);

  lt_produce(LT_TOPIC_A, x, -1, lt_login(x, "n1", now - 1000));
  lt_produce(LT_TOPIC_A, y, -1, lt_login(y, "n2", now - 1000));
  want_t w = {"healthscore_state_refused_total{reason=\"newer_version\"}", 1};
  bool refused = lt_run_until(&t, metric_reaches, &w, 10000);
  assert_true(lt_run_until(&t, lt_has_state, y, 10000)); /* the other group goes on */
  lt_run_for(&t, 300);                                   /* several flush intervals */
  size_t after_len;
  char *after = lt_state(&t, x, &after_len);
  assert_non_null(after);
  assert_int_equal(after_len, len);
  assert_memory_equal(after, newer, len); /* not overwritten */
  assert_true(refused);
  char why[256];
  assert_false(hs_live_ready(t.live, why, sizeof why));
  assert_non_null(strstr(why, x));
  assert_non_null(strstr(why, "newer than this build reads"));
  /* an event after it, for the refused group, is not applied either */
  lt_produce(LT_TOPIC_B, x, -1, lt_login(x, "n3", now - 500));
  lt_run_for(&t, 300);
  hs_free(after);
  after = lt_state(&t, x, &after_len);
  assert_memory_equal(after, newer, len);
  hs_free(after);
  hs_free(newer);
  lt_finish(&t);
}

/* A state that does not decode for another reason (corrupt) starts over
 * from empty, as documented, and is counted. */
static void test_undecodable_state_starts_over_counted(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  const char *x = "corrupt-1";
  set_key(&t, x, "state", "not msgpack at all", 18);
  char ev[512];
  snprintf(ev, sizeof ev, "%s", lt_login(x, "c1", lt_now_ms() - 1000));
  lt_produce(LT_TOPIC_A, x, -1, ev);
  want_t w = {"healthscore_state_reset_total", 1};
  assert_true(lt_run_until(&t, metric_reaches, &w, 10000));
  assert_true(lt_run_until(&t, lt_settled, NULL, 10000));
  const char *evs[] = {ev};
  size_t len, want_len;
  char *want = lt_reference_state(t.model, x, evs, 1, &want_len);
  char *got = lt_state(&t, x, &len);
  assert_non_null(got);
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, len);
  hs_free(got);
  hs_free(want);
  lt_finish(&t);
}

/* Marking an account changed allocates nothing: with every allocation
 * failing, the account is still written by the next flush. */
static void test_mark_dirty_cannot_fail(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  hs_live_t *l = t.live;
  const char *x = "dirty-1";
  uint64_t h = hs_hash64(x, strlen(x), HS_HASH_SEED);
  acct_t *a = hs__acct_add(l, x, strlen(x), h, lt_home(x));
  assert_non_null(a);
  assert_int_equal(hs_account_new(l->model, (hs_str_t){x, (uint32_t)strlen(x)}, &a->a), 0);
  hs_alloc_fail_after(1);
  hs__mark_dirty(l, a);
  hs_alloc_fail_after(0);
  assert_true(a->dirty);
  assert_int_equal(l->n_dirty, 1);
  assert_true(lt_run_until(&t, lt_has_state, (void *)x, 10000));
  lt_finish(&t);
}

typedef struct written_s {
  int partition;
  int64_t messages; /* produced to the partition, over both topics */
} written_t;

/* Settled, ready, and the positions written cover every message produced
 * to the partition. */
static bool written(lt_t *t, void *arg) {
  written_t *w = arg;
  if (!lt_settled(t, NULL) || !lt_ready(t, NULL) || !t->live->groups[w->partition])
    return false;
  int64_t sum = 0;
  for (size_t k = 0; k < t->live->n_topics; k++)
    sum += t->live->groups[w->partition]->tp[k].committed;
  return sum == w->messages;
}

/* The engine's log lines of a test go to a file, so that a failure shows
 * the last of them next to its message rather than among hundreds. */
typedef struct quiet_s {
  char path[32];
  int fd, saved;
} quiet_t;

static void quiet_start(quiet_t *q) {
  snprintf(q->path, sizeof q->path, "/tmp/hs-lt-log-XXXXXX");
  q->fd = mkstemp(q->path);
  q->saved = dup(2);
  assert_true(q->fd >= 0 && q->saved >= 0);
  fflush(stderr);
  dup2(q->fd, 2);
}

/* Gives stderr back; with `tail`, copies the last lines of the log to it. */
static void quiet_end(quiet_t *q, int tail) {
  fflush(stderr);
  dup2(q->saved, 2);
  close(q->saved);
  FILE *f = fdopen(q->fd, "r");
  if (f && tail) {
    rewind(f);
    enum { KEEP = 40 };
    static char lines[KEEP][512];
    size_t n = 0;
    while (fgets(lines[n % KEEP], sizeof lines[0], f))
      n++;
    fprintf(stderr, "the last %zu of %zu log lines:\n", n < KEEP ? n : (size_t)KEEP, n);
    for (size_t i = n > KEEP ? n - KEEP : 0; i < n; i++)
      fputs(lines[i % KEEP], stderr);
  }
  if (f)
    fclose(f);
  else
    close(q->fd);
  unlink(q->path);
}

/* Says why `written` did not come: the engine's log, mode, readiness and
 * positions; then fails the test. */
static void stalled(lt_t *t, quiet_t *q, const written_t *w, int nth) {
  quiet_end(q, 1);
  char why[256] = "";
  bool ready = t->live && hs_live_ready(t->live, why, sizeof why);
  int64_t sum = -1;
  if (t->live && t->live->groups[w->partition]) {
    sum = 0;
    for (size_t k = 0; k < t->live->n_topics; k++)
      sum += t->live->groups[w->partition]->tp[k].committed;
  }
  fail_msg("allocation %d failing: no write of partition %d in 60 s: mode %d, settled %d, "
           "ready %d (%s), positions written %lld of %lld, resyncs %.0f",
           nth, w->partition, t->live ? (int)t->live->mode : -1, lt_settled(t, NULL), ready, why,
           (long long)sum, (long long)w->messages, lt_metric(t, "healthscore_resyncs_total"));
}

/* Whichever allocation fails on the way of an event (taking it, reading
 * its account, applying it, writing it), no applied event is lost: after
 * each event, the states in Redis equal the ones of every event applied
 * once, both for an account held since the start and for one seen first. */
static void test_no_allocation_failure_loses_an_event(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  enum { N = 40 };
  static char evs[N][512];
  const char *ptrs[N];
  const char *x = "nomem-1";
  int p = lt_home(x);
  int64_t base = lt_now_ms() - 30 * LT_DAY_MS;
  int64_t before = 0;
  quiet_t q;
  quiet_start(&q);
  for (int k = 0; k < N; k++) {
    char id[16], y[64], ey[512];
    snprintf(id, sizeof id, "m%d", k);
    snprintf(evs[k], sizeof evs[k], "%s", lt_login(x, id, base + k * 3600000LL));
    ptrs[k] = evs[k];
    lt_account_of(p, "nomem-new", k, y, sizeof y);
    snprintf(ey, sizeof ey, "%s", lt_login(y, id, base + k * 3600000LL));
    lt_produce(k % 2 ? LT_TOPIC_B : LT_TOPIC_A, y, -1, ey);
    lt_produce(k % 2 ? LT_TOPIC_B : LT_TOPIC_A, x, -1, evs[k]);
    hs_alloc_fail_after((uint64_t)k + 1); /* the k+1-th allocation from here fails */
    written_t w = {p, before + 2 * (k + 1)};
    /* a resync rejoins and fetches again: under valgrind, with other tests
       sharing the cores, that has taken over 20 s */
    if (!lt_run_until(&t, written, &w, 60000)) {
      hs_alloc_fail_after(0);
      stalled(&t, &q, &w, k + 1);
    }
    hs_alloc_fail_after(0);
    const char *who[] = {x, y};
    const char *const *their[] = {ptrs, (const char *const[]){ey}};
    size_t n_their[] = {(size_t)k + 1, 1};
    for (int i = 0; i < 2; i++) {
      size_t len, want_len;
      char *want = lt_reference_state(t.model, who[i], their[i], n_their[i], &want_len);
      char *got = lt_state(&t, who[i], &len);
      if (!got || len != want_len || memcmp(got, want, len)) {
        quiet_end(&q, 1);
        fail_msg("allocation %d failing: the stored state of %s misses an event", k + 1, who[i]);
      }
      hs_free(got);
      hs_free(want);
    }
  }
  quiet_end(&q, 0);
  char invalid[128];
  snprintf(invalid, sizeof invalid, "healthscore_events_total{topic=\"%s\",type=\"invalid\"}",
           LT_TOPIC_A);
  assert_int_equal(lt_metric(&t, invalid), 0);
  lt_finish(&t);
}

/* A creation that fails (input topics not co-partitioned) returns no
 * engine: everything it opened is closed and freed, the loop closes. */
static void test_failed_creation_leaves_nothing(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  char odd[64];
  snprintf(odd, sizeof odd, "%s.odd", t.prefix);
  assert_int_equal(rd_kafka_mock_topic_create(lt_cluster, odd, 3, 1), 0);
  hs_free(t.s.topics[1]);
  t.s.topics[1] = hs_strdup(odd);
  hs_err_t err = {0};
  t.live = (hs_live_t *)&t; /* anything: it must be set to NULL */
  int rc = hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err);
  assert_int_equal(rc, HS_E_CONFIG);
  assert_null(t.live);
  assert_non_null(strstr(err.msg, "partition"));
  lt_finish(&t);
}

/* librdkafka refuses rd_kafka_assign() when the group's protocol is
 * cooperative (only incremental changes are allowed): every assignment of
 * the engine fails for real. Each failure is counted, resolved by a resync
 * of cause assign_failed, and the engine never claims to be ready. */
static void test_assign_failure_is_counted_and_resyncs(void **state) {
  (void)state;
  lt_t t;
  lt_prepare(&t, NULL);
  size_t n = t.s.n_consumer_client;
  char **kv = hs_realloc(t.s.consumer_client, (n + 1) * 2 * sizeof *kv);
  assert_non_null(kv);
  kv[n * 2] = hs_strdup("partition.assignment.strategy");
  kv[n * 2 + 1] = hs_strdup("cooperative-sticky");
  t.s.consumer_client = kv;
  t.s.n_consumer_client = n + 1;
  hs_err_t err = {0};
  char log_path[] = "/tmp/hs-assign-log-XXXXXX";
  int log_fd = mkstemp(log_path), saved_stderr = dup(2);
  assert_true(log_fd >= 0 && saved_stderr >= 0);
  fflush(stderr);
  dup2(log_fd, 2); /* the engine's log lines, counted below */
  if (hs_live_new(&t.live, &t.loop, &t.s, t.model, t.metrics, &err))
    fail_msg("hs_live_new: %s", err.msg);
  want_t w = {"healthscore_resyncs_total{cause=\"assign_failed\"}", 5};
  bool reached = lt_run_until(&t, metric_reaches, &w, 20000);
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  assert_true(reached);
  double failures = lt_metric(&t, "healthscore_kafka_assign_failures_total");
  assert_true(failures >= 5);
  assert_false(lt_ready(&t, NULL));
  /* a refusal that repeats is logged once a while, not at every resync */
  FILE *f = fdopen(log_fd, "r");
  rewind(f);
  char line[4096];
  int lines = 0;
  while (fgets(line, sizeof line, f))
    lines += strstr(line, "kafka: librdkafka refused to") != NULL;
  fclose(f);
  unlink(log_path);
  if (lines < 1 || lines > 2)
    fail_msg("%d lines for %.0f refused assignments", lines, failures);
  lt_finish(&t);
}

static void on_done(void *ud, int status) {
  (void)status;
  (*(int *)ud)++;
}

static bool both_done(lt_t *t, void *arg) {
  (void)t;
  return ((int *)arg)[0] + ((int *)arg)[1] > 0 && ((int *)arg)[2];
}

/* A second hs_live_stop is refused and changes nothing: the first
 * callback runs, once; the second never. */
static void test_second_stop_keeps_the_first_callback(void **state) {
  (void)state;
  lt_t t;
  lt_start(&t, NULL);
  assert_true(lt_run_until(&t, lt_ready, NULL, 20000));
  int calls[3] = {0, 0, 1};
  assert_int_equal(hs_live_stop(t.live, 5000, on_done, &calls[0]), 0);
  assert_int_equal(hs_live_stop(t.live, 5000, on_done, &calls[1]), HS_E_INVAL);
  assert_true(lt_run_until(&t, both_done, calls, 15000));
  lt_run_for(&t, 100);
  assert_int_equal(calls[0], 1);
  assert_int_equal(calls[1], 0);
  t.live = NULL;
  t.stopped = true;
  lt_finish(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_newer_version_state_is_never_overwritten),
      cmocka_unit_test(test_undecodable_state_starts_over_counted),
      cmocka_unit_test(test_mark_dirty_cannot_fail),
      cmocka_unit_test(test_no_allocation_failure_loses_an_event),
      cmocka_unit_test(test_failed_creation_leaves_nothing),
      cmocka_unit_test(test_second_stop_keeps_the_first_callback),
      cmocka_unit_test(test_assign_failure_is_counted_and_resyncs),
  };
  if (getenv("LT_FILTER")) /* one test by name while working on it */
    cmocka_set_test_filter(getenv("LT_FILTER"));
  return cmocka_run_group_tests(tests, lt_setup, lt_teardown);
}
