/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapper under allocation failures (hs_alloc_fail_after): a source
 * message is mapped, dead-lettered for a reason of its own, or kept (its
 * partition paused or read again), never skipped; no offset after it is
 * passed before it is mapped. The mapper runs in process (src/mapper's
 * callbacks) against librdkafka's mock cluster, fed real messages that a
 * plain consumer read from it. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/log.h"
#include "healthscore/mapper.h"
#include "healthscore/metrics.h"

#include "internal.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_MSGS 64
#define SRC_TOPIC "nomem.src"

static rd_kafka_t *cluster_rk;
static rd_kafka_mock_cluster_t *cluster;
static char bootstrap[256], mapping_path[256];
static rd_kafka_message_t *msgs[N_MSGS]; /* offsets 0 .. N_MSGS-1 */

static rd_kafka_conf_t *conf_of(const char *const *kv) {
  char e[256];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  for (; *kv; kv += 2)
    assert_int_equal(rd_kafka_conf_set(c, kv[0], kv[1], e, sizeof e), RD_KAFKA_CONF_OK);
  return c;
}

/* The source messages: logins of one account, produced and read back. */
static rd_kafka_t *read_messages(void) {
  char e[256];
  const char *pk[] = {"bootstrap.servers", bootstrap, "log_level", "2", NULL};
  rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf_of(pk), e, sizeof e);
  assert_non_null(prod);
  for (int i = 0; i < N_MSGS; i++) {
    char v[200];
    int n = snprintf(v, sizeof v,
                     "{\"type\":\"login\",\"id\":\"e%d\",\"account\":\"acme\",\"ts\":%lld}", i,
                     1700000000000LL + i);
    assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(SRC_TOPIC), RD_KAFKA_V_PARTITION(0),
                                       RD_KAFKA_V_VALUE(v, (size_t)n),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     0);
  }
  assert_int_equal(rd_kafka_flush(prod, 10000), 0);
  rd_kafka_destroy(prod);
  const char *ck[] = {
      "bootstrap.servers", bootstrap, "group.id", "nomem-reader", "enable.auto.commit", "false",
      "log_level",         "2",       NULL};
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf_of(ck), e, sizeof e);
  assert_non_null(c);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, SRC_TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  assert_int_equal(rd_kafka_assign(c, l), 0);
  rd_kafka_topic_partition_list_destroy(l);
  int got = 0;
  for (int tries = 0; got < N_MSGS && tries < 200; tries++) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (m && !m->err && m->offset == got)
      msgs[got++] = m;
    else if (m)
      rd_kafka_message_destroy(m);
  }
  assert_int_equal(got, N_MSGS);
  return c; /* the messages belong to it */
}

static int setup(void **state) {
  (void)state;
  hs_log_setup(HS_LOG_ERROR, false);
  char e[256];
  const char *kv[] = {"log_level", "2", NULL};
  cluster_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_of(kv), e, sizeof e);
  cluster = cluster_rk ? rd_kafka_mock_cluster_new(cluster_rk, 1) : NULL;
  if (!cluster)
    return -1;
  snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(cluster));
  if (rd_kafka_mock_topic_create(cluster, SRC_TOPIC, 1, 1) ||
      rd_kafka_mock_topic_create(cluster, "nomem.in", 1, 1) ||
      rd_kafka_mock_topic_create(cluster, "nomem.dead", 1, 1))
    return -1;
  snprintf(mapping_path, sizeof mapping_path, "/tmp/hs-nomem-%d.yaml", (int)getpid());
  FILE *f = fopen(mapping_path, "w");
  if (!f)
    return -1;
  fputs("source: logins\nrules:\n  - name: login\n    when: {type: login}\n    emit: login\n"
        "    set:\n      event_id: id\n      account_id: account\n"
        "      ts: {path: ts, time: ms}\n",
        f);
  return fclose(f);
}

static int teardown(void **state) {
  (void)state;
  unlink(mapping_path);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(cluster_rk);
  return 0;
}

typedef struct {
  uv_loop_t loop;
  hs_settings_t s;
  hs_metrics_t *metrics;
  hs_mapper_t *mp;
  rd_kafka_t *reader;
  part_t *p;
  bool stopped;
} fx_t;

/* A mapper whose consumer and producer reach no broker (the test hands it
 * the messages; what it produces stays queued), with partition 0 assigned. */
static void start_mapper(fx_t *t) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "kafka:\n  bootstrap: \"%s\"\n  group_id: nomem-%d\n  topics: [nomem.in]\n"
           "  deadletter_topic: nomem.dead\n"
           "sources:\n  - topic: " SRC_TOPIC "\n    format: json\n    mapping: %s\n",
           "127.0.0.1:1", (int)getpid(), mapping_path);
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&t->s), 0);
  if (hs_settings_load_string(yaml, strlen(yaml), "t.yaml", &t->s, &err))
    fail_msg("settings: %s", err.msg);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  assert_non_null(t->metrics = hs_metrics_new());
  if (hs_mapper_new(&t->mp, &t->loop, &t->s, t->metrics, &err))
    fail_msg("mapper: %s", err.msg);
  /* the partition is the mapper's, as the group would assign it */
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, SRC_TOPIC, 0);
  hs__mapper_assigned(t->mp, l);
  rd_kafka_topic_partition_list_destroy(l);
  t->p = t->mp->sources[0].parts[0];
  assert_non_null(t->p);
}

static void stop_mapper(fx_t *t);

static void start(fx_t *t) {
  memset(t, 0, sizeof *t);
  t->reader = read_messages();
  start_mapper(t);
}

static void on_stopped(void *ud, int status) {
  (void)status;
  ((fx_t *)ud)->stopped = true;
}

static void stop_mapper(fx_t *t) {
  hs_alloc_fail_after(0);
  t->stopped = false;
  hs_mapper_stop(t->mp, 0, on_stopped, t);
  while (!t->stopped)
    uv_run(&t->loop, UV_RUN_ONCE);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&t->loop), 0);
  hs_metrics_free(t->metrics);
  hs_settings_free(&t->s);
}

static void finish(fx_t *t) {
  stop_mapper(t);
  for (int i = 0; i < N_MSGS; i++)
    if (msgs[i])
      rd_kafka_message_destroy(msgs[i]);
  memset(msgs, 0, sizeof msgs);
  rd_kafka_consumer_close(t->reader);
  rd_kafka_destroy(t->reader);
}

static double series(fx_t *t, hs_series_t *s) {
  (void)t;
  return s ? hs_series_value(s) : 0;
}

/* Hands message `i` to the mapper as the consumer does: true when the
 * mapper kept it (it destroys it later). */
static bool take(fx_t *t, int i) {
  bool kept = hs__mapper_take(t->mp, msgs[i]);
  if (kept)
    msgs[i] = NULL;
  return kept;
}

/* A message arriving when the turn's budget is spent is held; when holding
 * it fails, it used to be dropped and the next message mapped, its offset
 * then committed past the lost one. */
static void test_mapper_message_not_held_is_read_again(void **state) {
  (void)state;
  fx_t t;
  start(&t);
  source_t *src = &t.mp->sources[0];
  char why[300];
  assert_true(hs_mapper_ready(t.mp, why, sizeof why));
  t.mp->mapped_turn = TURN_BUDGET; /* a large fetch: message 0 waits for its turn */
  hs_alloc_fail_after(1);          /* and holding it fails */
  assert_false(take(&t, 0));
  hs_alloc_fail_after(0);
  t.mp->mapped_turn = 0;
  /* message 1 (fetched before the partition paused) is not mapped before 0 */
  assert_false(take(&t, 1));
  assert_int_equal(t.p->tail, 0); /* nothing in flight: no offset can be stored */
  assert_true(series(&t, src->m_messages) == 0);
  assert_true(series(&t, src->m_nomem) >= 1);
  assert_false(hs_mapper_ready(t.mp, why, sizeof why));
  assert_non_null(strstr(why, "out of memory"));
  /* the partition is read again from message 0, and the rest follows */
  hs__mapper_retry(&t.mp->retry_timer);
  assert_false(t.p->paused);
  for (int i = 0; i < 4; i++)
    take(&t, i);
  assert_true(series(&t, src->m_messages) == 4);
  assert_true(series(&t, src->m_events) == 4);
  assert_int_equal(t.p->next_offset, 4);
  assert_true(hs_mapper_ready(t.mp, why, sizeof why));
  finish(&t);
}

/* Each allocation of mapping one message fails in turn, in a fresh mapper
 * (nothing allocated yet): the message is mapped (an event produced) or kept
 * and mapped on the retry; none is dead-lettered or skipped. */
static void test_mapper_allocation_failures_keep_every_message(void **state) {
  (void)state;
  fx_t t;
  start(&t);
  int failed = 0;
  for (int i = 0; i < N_MSGS; i++) {
    if (i)
      start_mapper(&t);
    source_t *src = &t.mp->sources[0];
    hs_alloc_fail_after((uint64_t)i + 1);
    bool kept = take(&t, i);
    hs_alloc_fail_after(0);
    bool nomem = series(&t, src->m_nomem) > 0;
    if (kept || t.p->rewind >= 0) { /* kept: the retry maps it */
      hs__mapper_retry(&t.mp->retry_timer);
      if (t.p->rewind >= 0)
        assert_false(take(&t, i)); /* read again after the seek */
    }
    assert_false(t.p->paused);
    assert_null(t.p->held);
    assert_int_equal(t.p->rewind, -1);
    for (int r = 0; r < REJ__COUNT; r++)
      if (series(&t, src->m_rejects[r]))
        fail_msg("allocation %d failing: message dead-lettered (reason %d)", i + 1, r);
    if (series(&t, src->m_events) != 1)
      fail_msg("allocation %d failing: message not mapped", i + 1);
    assert_int_equal(t.p->next_offset, i + 1);
    stop_mapper(&t);
    if (!nomem && !kept)
      break; /* no allocation of the path failed: every one was tried */
    failed++;
  }
  assert_true(failed > 3);
  t.mp = NULL;
  start_mapper(&t); /* finish() stops one */
  finish(&t);
}

static void on_abandon_test(void *ud, int status) {
  (void)status;
  *(bool *)ud = true;
}

/* hs_mapper_new failing at any allocation returns with *out NULL and
 * nothing open or allocated: the caller has nothing to stop (the daemon
 * used to be left with a half-made mapper to stop). */
static void test_failed_creation_leaves_nothing(void **state) {
  (void)state;
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "kafka:\n  bootstrap: \"127.0.0.1:1\"\n  group_id: nomem-new\n  topics: [nomem.in]\n"
           "sources:\n  - topic: " SRC_TOPIC "\n    format: json\n    mapping: %s\n",
           mapping_path);
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  if (hs_settings_load_string(yaml, strlen(yaml), "t.yaml", &s, &err))
    fail_msg("settings: %s", err.msg);
  int failed = 0;
  for (uint64_t k = 1;; k++) {
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    size_t before = hs_alloc_bytes();
    hs_metrics_t *metrics = hs_metrics_new();
    assert_non_null(metrics);
    hs_mapper_t *mp = (hs_mapper_t *)&loop; /* not NULL: the call must set it */
    hs_alloc_fail_after(k);
    int rc = hs_mapper_new(&mp, &loop, &s, metrics, &err);
    hs_alloc_fail_after(0);
    if (!rc) {
      bool stopped = false;
      hs_mapper_stop(mp, 0, on_abandon_test, &stopped);
      while (!stopped)
        uv_run(&loop, UV_RUN_ONCE);
    } else {
      failed++;
      assert_null(mp);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    hs_metrics_free(metrics);
    assert_int_equal(hs_alloc_bytes(), before);
    if (!rc)
      break;
  }
  assert_true(failed > 3);
  hs_settings_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mapper_message_not_held_is_read_again),
      cmocka_unit_test(test_mapper_allocation_failures_keep_every_message),
      cmocka_unit_test(test_failed_creation_leaves_nothing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
