/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Engine settings: defaults, a full file, environment secrets, every error
 * with file:line:col, and the generated reference kept in docs/. */
#include "testutil.h"

#include "healthscore/settings.h"

#include <stdlib.h>
#include <string.h>

static void test_defaults(void **state) {
  (void)state;
  hs_settings_t s;
  assert_int_equal(hs_settings_defaults(&s), 0);
  assert_int_equal(s.flush_interval_ms, 100);
  assert_int_equal(s.redis_port, 6379);
  assert_int_equal(s.n_topics, 5);
  assert_string_equal(s.topics[4], "healthscore.accounts");
  assert_string_equal(s.log_format, "json");
  assert_int_equal(s.lateness_ms, 5 * 60000);
  assert_int_equal(s.n_client, 0);
  assert_string_equal(s.redis_nodes, "");
  assert_int_equal(s.redis_wait_replicas, 0);
  hs_settings_free(&s);
}

static void test_full_file_and_environment(void **state) {
  (void)state;
  setenv("HS_TEST_REDIS_PW", "s3cret", 1);
  const char *y = "engine:\n  profiles: /srv/p.yaml\n  flush_interval: 250ms\n"
                  "  max_future: 2h\nkafka:\n  bootstrap: k1:9092,k2:9092\n"
                  "  topics: [a.usage, a.billing]\n  client:\n    security.protocol: SASL_SSL\n"
                  "    sasl.password: \"${HS_TEST_REDIS_PW}\"\n  consumer: {fetch.wait.max.ms: 1}\n"
                  "  producer:\n    linger.ms: 0\n    acks: all\nredis:\n  port: 7000\n"
                  "  password: \"${HS_TEST_REDIS_PW}\"\n  nodes: \"r1:7000, [::1]:7001\"\n"
                  "  wait_replicas: 1\nhttp: {port: 0}\nlog: {level: debug}\n";
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  assert_int_equal(hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err), 0);
  assert_string_equal(s.profiles, "/srv/p.yaml");
  assert_int_equal(s.flush_interval_ms, 250);
  assert_int_equal(s.max_future_ms, 2 * 3600000);
  assert_int_equal(s.n_topics, 2);
  assert_string_equal(s.topics[1], "a.billing");
  assert_int_equal(s.n_client, 2);
  assert_string_equal(s.client[0], "security.protocol");
  assert_string_equal(s.client[3], "s3cret");
  assert_int_equal(s.n_consumer_client, 1);
  assert_string_equal(s.consumer_client[0], "fetch.wait.max.ms");
  assert_int_equal(s.n_producer_client, 2);
  assert_string_equal(s.producer_client[2], "acks");
  assert_string_equal(s.producer_client[3], "all");
  assert_string_equal(s.redis_password, "s3cret");
  assert_int_equal(s.redis_port, 7000);
  assert_int_equal(s.http_port, 0);
  assert_string_equal(s.log_level, "debug");
  assert_string_equal(s.redis_host, "127.0.0.1"); /* untouched: default */
  assert_string_equal(s.redis_nodes, "r1:7000, [::1]:7001");
  assert_int_equal(s.redis_wait_replicas, 1);
  hs_settings_free(&s);
}

static void expect(const char *y, const char *fragment) {
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  int rc = hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err);
  if (rc != HS_E_CONFIG || !strstr(err.msg, fragment))
    fail_msg("%s\n  got %d \"%s\", want \"%s\"", y, rc, err.msg, fragment);
  hs_settings_free(&s);
}

static void test_errors_say_where(void **state) {
  (void)state;
  unsetenv("HS_TEST_UNSET");
  expect("engine:\n  flush_intervall: 1s\n",
         "e.yaml:2:3: unknown setting \"engine.flush_intervall\" (expected one of: profiles, "
         "flush_interval");
  expect("enigne:\n  x: 1\n", "e.yaml:1:1: unknown section \"enigne\"");
  expect("redis:\n  port: 70000\n", "e.yaml:2:9: redis.port must be an integer 1..65535");
  expect("redis:\n  port: sixty\n", "must be an integer");
  expect("engine:\n  flush_interval: 2 seconds\n", "e.yaml:2:19: engine.flush_interval must be");
  expect("log:\n  level: verbose\n", "log.level must be one of error|warn|info|debug");
  expect("log:\n  level: inf\n", "must be one of");
  expect("redis:\n  password: \"${HS_TEST_UNSET}\"\n",
         "e.yaml:2:13: environment variable HS_TEST_UNSET is not set");
  expect("kafka:\n  topics: []\n", "must list at least one topic");
  expect("kafka:\n  client: yes\n", "kafka.client must be a mapping");
  expect("kafka:\n  producer: [linger.ms]\n", "kafka.producer must be a mapping");
  expect("redis: [1, 2]\n", "section \"redis\" must be a mapping");
  expect("redis:\n  port: [1]\n", "redis.port must be a single value");
  expect("redis:\n  port: 1\n  - x\n", "e.yaml:");
  expect("redis:\n  nodes: r1:7000,r2\n",
         "e.yaml:2:10: redis.nodes takes host:port items separated by commas, not \"r2\"");
  expect("redis:\n  nodes: \"::1:7000\"\n", "not \"::1:7000\"");
  expect("redis:\n  nodes: r1:0\n", "not \"r1:0\"");
  expect("redis:\n  wait_replicas: -1\n", "redis.wait_replicas must be an integer 0..16");
}

static void test_generated_reference_is_current(void **state) {
  (void)state;
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_settings_doc(&b), 0);
  size_t len;
  char *doc = hs_test_read_file("docs/settings.md", &len);
  if (len != b.len || memcmp(doc, b.data, len))
    fail_msg("docs/settings.md is out of date: regenerate it with `healthscore check "
             "--settings-reference > docs/settings.md`");
  hs_free(doc);
  hs_buf_free(&b);
}

static void test_min_event_time(void **state) {
  (void)state;
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  assert_int_equal(s.min_event_time, INT64_C(946684800000)); /* 2000-01-01T00:00:00Z */
  const char *y = "engine:\n  min_event_time: 3650d\n";
  assert_int_equal(hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err), 0);
  assert_int_equal(s.min_event_time, -3650 * INT64_C(86400000));
  y = "engine:\n  min_event_time: \"2020-01-01T00:00:00+01:00\"\n";
  assert_int_equal(hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err), 0);
  assert_int_equal(s.min_event_time, INT64_C(1577833200000));
  y = "engine:\n  min_event_time: soon\n";
  assert_int_equal(hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err), HS_E_CONFIG);
  assert_string_equal(err.msg, "e.yaml:2:19: engine.min_event_time must be an RFC 3339 time or a "
                               "duration before now");
  hs_settings_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_full_file_and_environment),
      cmocka_unit_test(test_errors_say_where),
      cmocka_unit_test(test_generated_reference_is_current),
      cmocka_unit_test(test_min_event_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
