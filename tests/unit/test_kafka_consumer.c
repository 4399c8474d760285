/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The consumer on a libuv loop against librdkafka's mock cluster (the Kafka
 * protocol, in process): every message once and in order per partition, the
 * assignment reported, stored offsets committed and resumed from. */
#include "testutil.h"

#include "healthscore/consumer.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARTITIONS 4

static rd_kafka_t *cluster_rk;
static rd_kafka_mock_cluster_t *cluster;
static const char *bootstrap;

static int setup(void **state) {
  (void)state;
  char errstr[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
  cluster_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!cluster_rk)
    return -1;
  cluster = rd_kafka_mock_cluster_new(cluster_rk, 1);
  if (!cluster || rd_kafka_mock_topic_create(cluster, "events", PARTITIONS, 1))
    return -1;
  bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(cluster_rk);
  return 0;
}

static void produce(int from, int n) {
  char errstr[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof errstr);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  assert_non_null(p);
  for (int i = from; i < from + n; i++) {
    char key[16], val[32];
    snprintf(key, sizeof key, "acct-%d", i % 50);
    snprintf(val, sizeof val, "%d", i);
    assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("events"),
                                       RD_KAFKA_V_KEY(key, strlen(key)),
                                       RD_KAFKA_V_VALUE(val, strlen(val)),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     0);
  }
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

typedef struct seen_s {
  hs_consumer_t *c;
  int messages, assigned_partitions, revoked;
  int64_t last_offset[PARTITIONS];
  bool in_order;
  int first_value;
} seen_t;

static void on_message(void *ud, const rd_kafka_message_t *m) {
  seen_t *s = ud;
  if (m->err)
    return;
  if (m->offset <= s->last_offset[m->partition])
    s->in_order = false;
  s->last_offset[m->partition] = m->offset;
  if (s->messages == 0)
    s->first_value = atoi((const char *)m->payload);
  s->messages++;
  /* durable at once here: store the next offset to read */
  hs_consumer_store_offset(s->c, rd_kafka_topic_name(m->rkt), m->partition, m->offset + 1);
}

static void on_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  ((seen_t *)ud)->assigned_partitions += parts->cnt;
}

static void on_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  seen_t *s = ud;
  (void)parts;
  s->revoked++;
  hs_consumer_revoke_done(s->c);
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static void consume(const char *group, int expect, seen_t *s) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  memset(s, 0, sizeof *s);
  s->in_order = true;
  for (int i = 0; i < PARTITIONS; i++)
    s->last_offset[i] = -1;
  const char *topics[] = {"events"};
  const char *settings[] = {"session.timeout.ms", "6000", "log_level", "2"};
  hs_consumer_conf_t conf = {.bootstrap = bootstrap,
                             .group_id = group,
                             .topics = topics,
                             .n_topics = 1,
                             .settings = settings,
                             .n_settings = 2};
  hs_consumer_cbs_t cbs = {.message = on_message, .assigned = on_assigned, .revoked = on_revoked};
  hs_err_t err = {0};
  assert_int_equal(hs_consumer_new(&s->c, &loop, &conf, &cbs, s, &err), 0);
  uint64_t end = uv_now(&loop) + 30000;
  while ((s->messages < expect || !s->assigned_partitions) && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  /* nothing more than expected arrives */
  uint64_t quiet = uv_now(&loop) + 500;
  while (uv_now(&loop) < quiet) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  assert_int_equal(hs_consumer_messages(s->c), (uint64_t)s->messages);
  bool closed = false;
  hs_consumer_close(s->c, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_consumes_in_order_and_resumes_from_stored_offsets(void **state) {
  (void)state;
  char group[64];
  snprintf(group, sizeof group, "test-%d", (int)getpid());
  produce(0, 2000);
  seen_t s;
  consume(group, 2000, &s);
  assert_int_equal(s.messages, 2000);
  assert_true(s.in_order);
  assert_int_equal(s.assigned_partitions, PARTITIONS);
  assert_true(s.revoked >= 1);
  /* the same group resumes after what it stored */
  produce(2000, 10);
  consume(group, 10, &s);
  assert_int_equal(s.messages, 10);
  assert_true(s.first_value >= 2000);
}

static void test_bad_settings_are_named(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  const char *topics[] = {"events"};
  const char *settings[] = {"no.such.setting", "1"};
  hs_consumer_conf_t conf = {.bootstrap = bootstrap,
                             .group_id = "g",
                             .topics = topics,
                             .n_topics = 1,
                             .settings = settings,
                             .n_settings = 1};
  hs_consumer_cbs_t cbs = {.message = on_message};
  hs_consumer_t *c;
  hs_err_t err = {0};
  assert_int_equal(hs_consumer_new(&c, &loop, &conf, &cbs, NULL, &err), HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "no.such.setting"));
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* The input topics' partition count, read before consuming: equal counts
 * give it, different counts are refused with both named. */
static void test_partition_count_requires_co_partitioned_topics(void **state) {
  (void)state;
  assert_int_equal(rd_kafka_mock_topic_create(cluster, "same", PARTITIONS, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(cluster, "fewer", 2, 1), 0);
  char errstr[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  assert_non_null(rk);
  const char *same[] = {"events", "same"}, *fewer[] = {"events", "fewer"};
  int32_t n = -1;
  hs_err_t err = {0};
  assert_int_equal(hs_kafka_partition_count(rk, same, 2, 10000, NULL, NULL, &n, &err), 0);
  assert_int_equal(n, PARTITIONS);
  assert_int_equal(hs_kafka_partition_count(rk, fewer, 2, 10000, NULL, NULL, &n, &err),
                   HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "not co-partitioned: events has 4 partitions, fewer has 2"));
  rd_kafka_destroy(rk);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_consumes_in_order_and_resumes_from_stored_offsets),
      cmocka_unit_test(test_bad_settings_are_named),
      cmocka_unit_test(test_partition_count_requires_co_partitioned_topics),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
