/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The producer on a libuv loop against the mock cluster: every message gets
 * one report, keys keep their partition, headers arrive; with no broker,
 * every message is reported failed — none disappears silently. */
#include "testutil.h"

#include "healthscore/producer.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 300

static rd_kafka_t *cluster_rk;
static rd_kafka_mock_cluster_t *cluster;

static int setup(void **state) {
  (void)state;
  char errstr[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
  cluster_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  cluster = cluster_rk ? rd_kafka_mock_cluster_new(cluster_rk, 1) : NULL;
  return cluster && !rd_kafka_mock_topic_create(cluster, "alerts", 4, 1) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(cluster_rk);
  return 0;
}

typedef struct reports_s {
  int ok, failed;
  int32_t partition_of[N];
  char reason[256];
} reports_t;

static void on_report(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                      const char *reason) {
  reports_t *r = ud;
  int i = (int)(intptr_t)opaque;
  if (status == 0 && offset >= 0) {
    r->ok++;
    r->partition_of[i] = partition;
  } else {
    r->failed++;
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
  }
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static void run_for(uv_loop_t *loop, reports_t *r, int want, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (r->ok + r->failed < want && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
}

static void test_delivers_with_keys_and_headers(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_producer_t *p;
  hs_err_t err = {0};
  const char *settings[] = {"log_level", "2"};
  hs_producer_conf_t conf = {.bootstrap = rd_kafka_mock_cluster_bootstraps(cluster),
                             .settings = settings,
                             .n_settings = 1};
  reports_t r;
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_producer_new(&p, &loop, &conf, on_report, &r, &err), 0);
  for (int i = 0; i < N; i++) {
    char key[16], val[32];
    snprintf(key, sizeof key, "acct-%d", i % 7);
    snprintf(val, sizeof val, "{\"i\":%d}", i);
    hs_producer_header_t h[] = {{"hs-reason", "test", 4}};
    assert_int_equal(hs_producer_send(p, "alerts", key, strlen(key), val, strlen(val), h, 1,
                                      (void *)(intptr_t)i, &err),
                     0);
  }
  assert_int_equal(hs_producer_pending(p), N);
  run_for(&loop, &r, N, 10000);
  assert_int_equal(r.ok, N);
  assert_int_equal(hs_producer_pending(p), 0);
  for (int i = 7; i < N; i++) /* one key, one partition */
    assert_int_equal(r.partition_of[i], r.partition_of[i % 7]);
  bool closed = false;
  hs_producer_close(p, 1000, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);

  /* read one back: the header is there */
  char errstr[256];
  rd_kafka_conf_t *cc = rd_kafka_conf_new();
  rd_kafka_conf_set(cc, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cluster), errstr,
                    sizeof errstr);
  rd_kafka_conf_set(cc, "group.id", "reader", errstr, sizeof errstr);
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof errstr);
  rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(a, "alerts", r.partition_of[0])->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(c, a);
  rd_kafka_topic_partition_list_destroy(a);
  rd_kafka_message_t *m = NULL;
  for (int tries = 0; tries < 50 && !m; tries++) {
    m = rd_kafka_consumer_poll(c, 200);
    if (m && m->err) {
      rd_kafka_message_destroy(m);
      m = NULL;
    }
  }
  assert_non_null(m);
  rd_kafka_headers_t *hdrs = NULL;
  const void *v = NULL;
  size_t vl = 0;
  assert_int_equal(rd_kafka_message_headers(m, &hdrs), 0);
  assert_int_equal(rd_kafka_header_get_last(hdrs, "hs-reason", &v, &vl), 0);
  assert_true(vl == 4 && !memcmp(v, "test", 4));
  rd_kafka_message_destroy(m);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
}

static void test_unreachable_broker_reports_failures(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_producer_t *p;
  hs_err_t err = {0};
  const char *settings[] = {"message.timeout.ms", "700", "log_level", "0"};
  hs_producer_conf_t conf = {.bootstrap = "127.0.0.1:1", .settings = settings, .n_settings = 2};
  reports_t r;
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_producer_new(&p, &loop, &conf, on_report, &r, &err), 0);
  for (int i = 0; i < 20; i++)
    assert_int_equal(
        hs_producer_send(p, "alerts", "k", 1, "v", 1, NULL, 0, (void *)(intptr_t)i, &err), 0);
  run_for(&loop, &r, 20, 10000);
  assert_int_equal(r.failed, 20);
  assert_int_equal(r.ok, 0);
  assert_true(strlen(r.reason) > 0);
  bool closed = false;
  hs_producer_close(p, 100, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delivers_with_keys_and_headers),
      cmocka_unit_test(test_unreachable_broker_reports_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
