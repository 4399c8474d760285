/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Engine settings: defaults, a full file, environment secrets, every error
 * with file:line:col, and the generated reference kept in docs/. */
#include "testutil.h"

#include "healthscore/config.h"

#include <stdio.h>
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
  assert_int_equal(s.threads, 1);
  hs_settings_free(&s);
}

static void test_engine_threads(void **state) {
  (void)state;
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  const char *y = "engine:\n  threads: 4\n";
  assert_int_equal(hs_settings_load_string(y, strlen(y), "e.yaml", &s, &err), 0);
  assert_int_equal(s.threads, 4);
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
  expect("engine:\n  threads: 0\n", "e.yaml:2:12: engine.threads must be an integer 1..64");
  expect("engine:\n  threads: 65\n", "e.yaml:2:12: engine.threads must be an integer 1..64");
}

/* Everything the engine would refuse at start is refused by the load that
 * `healthscore check --settings` and `healthscored --check` run, where it is
 * written. */
static void test_settings_the_engine_refuses_fail_the_check(void **state) {
  (void)state;
  expect("http:\n  host: localhost\n",
         "e.yaml:2:9: http.host must be an IP address the admin endpoints listen on");
  expect("http:\n  host: \"\"\n", "e.yaml:2:9: http.host must not be empty");
  expect("redis:\n  prefix: \"a{b}\"\n", "e.yaml:2:11: redis.prefix must not contain '{' or '}'");
  expect("redis:\n  prefix: \"}\"\n", "e.yaml:2:11: redis.prefix must not contain");
  expect("redis:\n  prefix: \"\"\n", "e.yaml:2:11: redis.prefix must not be empty");
  expect("redis:\n  host: \"r1 r2\"\n", "e.yaml:2:9: redis.host must be a host name");
  expect("redis:\n  host: \"[::1]\"\n", "redis.host must be a host name or an IP address");
  expect("redis:\n  host: \"a:b\"\n", "redis.host must be a host name or an IP address");
  expect("kafka:\n  topics: \"a,a\"\n", "e.yaml:2:11: kafka.topics lists \"a\" twice");
  expect("kafka:\n  topics: [a, b, a]\n", "e.yaml:2:18: kafka.topics lists \"a\" twice");
  expect("kafka:\n  topics: [a, \"b c\"]\n", "e.yaml:2:15: kafka.topics takes Kafka topic names");
  expect("kafka:\n  topics: \"a, b\"\n", "not \" b\"");
  expect("kafka:\n  topics: \"..\"\n", "kafka.topics takes Kafka topic names");
  expect("kafka:\n  topics: [a, .]\n", "e.yaml:2:15: kafka.topics takes Kafka topic names");
  expect("kafka:\n  topics: a/b\n", "not \"a/b\"");
  char long_topic[300] = "kafka:\n  topics: ";
  memset(long_topic + strlen(long_topic), 't', 250);
  expect(long_topic, "kafka.topics takes Kafka topic names");
  expect("kafka:\n  topics: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", "lists 17 topics, more than 16");
  expect("kafka:\n  alerts_topic: \"a b\"\n", "e.yaml:2:17: kafka.alerts_topic takes Kafka topic");
  expect("kafka:\n  deadletter_topic: \"\"\n", "kafka.deadletter_topic takes Kafka topic names");
  /* one topic in two roles, reported where the later of the two is written */
  expect("kafka:\n  alerts_topic: healthscore.usage\n",
         "e.yaml:2:17: kafka.alerts_topic \"healthscore.usage\" is also named by kafka.topics");
  expect("kafka:\n  alerts_topic: x\n  deadletter_topic: x\n",
         "e.yaml:3:21: kafka.deadletter_topic \"x\" is also named by kafka.alerts_topic");
  expect("kafka:\n  deadletter_topic: x\n  topics: [x, y]\n",
         "e.yaml:3:11: kafka.topics \"x\" is also named by kafka.deadletter_topic");
  expect("kafka:\n  bootstrap: \"\"\n", "kafka.bootstrap must not be empty");
  expect("kafka:\n  group_id: \"\"\n", "kafka.group_id must not be empty");
  expect("engine:\n  profiles: \"\"\n", "engine.profiles must not be empty");
  /* librdkafka's own checks, at the line of the property */
  expect("kafka:\n  consumer:\n    fetch.wait.max.ms: soon\n",
         "e.yaml:3:24: kafka.consumer.fetch.wait.max.ms: Invalid value for configuration property "
         "\"fetch.wait.max.ms\"");
  expect("kafka:\n  producer:\n    linger.msec: 5\n",
         "e.yaml:3:5: kafka.producer.linger.msec: No such configuration property: \"linger.msec\"");
  /* refused after two good pairs: what was read is freed, nothing more */
  expect("kafka:\n  producer:\n    linger.ms: 1\n    acks: all\n    bogus.x: 1\n",
         "e.yaml:5:5: kafka.producer.bogus.x: No such configuration property: \"bogus.x\"");
  expect("kafka:\n  producer:\n    linger.ms: soon\n",
         "e.yaml:3:16: kafka.producer.linger.ms: Invalid value for configuration property "
         "\"queue.buffering.max.ms\"");
  expect("kafka:\n  client:\n    security.protocol: TLS\n",
         "e.yaml:3:24: kafka.client.security.protocol: Invalid value \"TLS\" for configuration "
         "property "
         "\"security.protocol\"");
  /* what the engine's guarantees rest on cannot be changed through a passthrough */
  expect("kafka:\n  consumer:\n    enable.auto.offset.store: \"true\"\n",
         "e.yaml:3:5: kafka.consumer.enable.auto.offset.store is set by the engine and cannot be "
         "changed (positions are kept in Redis");
  expect("kafka:\n  client:\n    partition.assignment.strategy: roundrobin\n",
         "e.yaml:3:5: kafka.client.partition.assignment.strategy is set by the engine");
  expect("kafka:\n  producer:\n    enable.idempotence: \"false\"\n",
         "kafka.producer.enable.idempotence is set by the engine");
  expect("kafka:\n  client:\n    bootstrap.servers: 127.0.0.1:9092\n",
         "kafka.client.bootstrap.servers is set by the engine and cannot be changed (use "
         "kafka.bootstrap)");
  expect("kafka:\n  consumer:\n    group.id: g\n", "(use kafka.group_id)");
}

/* A setting, a section or a librdkafka setting given twice is an error, not
 * "the last one wins". */
static void test_duplicates_are_refused(void **state) {
  (void)state;
  expect("redis:\n  port: 7000\n  port: 7001\n",
         "e.yaml:3:3: duplicate setting \"redis.port\" (first set at line 2)");
  expect("redis:\n  port: 7000\nhttp: {port: 0}\nredis:\n  host: r1\n",
         "e.yaml:4:1: duplicate section \"redis\" (first at line 1)");
  expect("kafka:\n  client: {acks: all}\n  client: {acks: 1}\n",
         "e.yaml:3:3: duplicate setting \"kafka.client\"");
  expect("kafka:\n  producer:\n    linger.ms: 1\n    linger.ms: 2\n",
         "e.yaml:4:5: duplicate key \"linger.ms\" in kafka.producer");
}

/* Tags, anchors and a second document are refused where they are written;
 * deep nesting is refused where it opens, without parsing the rest. */
static void test_yaml_beyond_plain_data_is_refused(void **state) {
  (void)state;
  expect("redis:\n  port: !!int 7000\n",
         "e.yaml:2:9: tags are not supported (\"!!int\"): write the value plainly");
  expect("redis: !!python/object:os.system\n  port: 1\n",
         "e.yaml:1:8: tags are not supported (\"!!python/object:os.system\")");
  expect("redis:\n  host: !foo r1\n", "e.yaml:2:9: tags are not supported (\"!foo\")");
  expect("redis:\n  port: 7000\n---\nredis:\n  port: 7001\n",
         "e.yaml:3:1: a second YAML document: the file must hold one");
  expect("redis:\n  port: 7000\n...\n---\nx: 1\n", "e.yaml:4:1: a second YAML document");
  expect("redis: &r\n  port: 7000\n", "e.yaml:1:8: anchors and aliases are not supported");
  expect("kafka:\n  topics: &t [a]\n", "anchors and aliases are not supported");
  size_t depth = 1 << 17;
  char *deep = hs_malloc(2 * depth + 16);
  size_t n = (size_t)sprintf(deep, "redis: ");
  memset(deep + n, '[', depth);
  memset(deep + n + depth, ']', depth);
  deep[n + 2 * depth] = 0;
  expect(deep, "e.yaml:1:71: nesting deeper than 64");
  hs_free(deep);
  /* a file over 1 MiB is refused before it is parsed */
  size_t big = (1u << 20) + 1;
  char *text = hs_malloc(big + 1);
  memset(text, '#', big);
  text[big] = 0;
  expect(text, "e.yaml: larger than 1 MiB");
  hs_free(text);
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
      cmocka_unit_test(test_settings_the_engine_refuses_fail_the_check),
      cmocka_unit_test(test_duplicates_are_refused),
      cmocka_unit_test(test_yaml_beyond_plain_data_is_refused),
      cmocka_unit_test(test_generated_reference_is_current),
      cmocka_unit_test(test_min_event_time),
      cmocka_unit_test(test_engine_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
