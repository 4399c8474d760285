/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `sources:` settings: a full list read as written, every error with
 * file:line:col and its reason, and hs_mapper_check reading the mapping and
 * schema files as the daemon does at start. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/mapper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(const char *yaml, hs_settings_t *s, hs_err_t *err) {
  assert_int_equal(hs_settings_defaults(s), 0);
  return hs_settings_load_string(yaml, strlen(yaml), "e.yaml", s, err);
}

static void test_sources_read_as_written(void **state) {
  (void)state;
  setenv("HS_TEST_SR_PW", "s3cret", 1);
  const char *y = "kafka:\n  group_id: prod\nsources:\n"
                  "  - topic: segment.tracks\n    format: json\n    mapping: m/segment.yaml\n"
                  "  - name: billing\n    topic: stripe.events\n    format: confluent-avro\n"
                  "    mapping: m/stripe.yaml\n    on_unmatched: deadletter\n"
                  "    to: healthscore.billing\n    registry:\n      url: http://sr:8081\n"
                  "      username: hs\n      password: \"${HS_TEST_SR_PW}\"\n";
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(load(y, &s, &err), 0);
  assert_int_equal(s.n_sources, 2);
  assert_string_equal(s.sources[0].topic, "segment.tracks");
  assert_string_equal(s.sources[0].format, "json");
  assert_null(s.sources[0].to);
  assert_null(s.sources[0].on_unmatched);
  assert_int_equal(s.sources[0].line, 4);
  assert_string_equal(s.sources[1].name, "billing");
  assert_string_equal(s.sources[1].registry_url, "http://sr:8081");
  assert_string_equal(s.sources[1].registry_password, "s3cret");
  assert_string_equal(s.sources[1].to, "healthscore.billing");
  assert_string_equal(s.sources[1].on_unmatched, "deadletter");
  char group[64];
  hs_mapper_group_id(&s, group, sizeof group);
  assert_string_equal(group, "prod.mapper");
  hs_settings_free(&s);
  assert_int_equal(load("log: {level: info}\n", &s, &err), 0);
  assert_int_equal(s.n_sources, 0);
  hs_settings_free(&s);
}

static void test_sources_errors(void **state) {
  (void)state;
  unsetenv("HS_TEST_UNSET_PW");
  static const struct {
    const char *yaml, *want;
  } cases[] = {
      {"sources: {topic: a}\n", "e.yaml:1:10: sources must be a list of sources"},
      {"sources:\n  - topic: a\n    format: json\n", "e.yaml:2:5: a source needs mapping"},
      {"sources:\n  - {topic: a, format: xml, mapping: m.yaml}\n",
       "e.yaml:2:24: format must be one of json|msgpack|avro|confluent-json|confluent-avro"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml, colour: red}\n",
       "e.yaml:2:47: unknown key \"colour\" in a source"},
      {"sources:\n  - {topic: a, format: confluent-avro, mapping: m.yaml}\n",
       "e.yaml:2:5: source a (format confluent-avro) needs registry.url or registry.schema_dir"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml, registry: {url: \"http://x\"}}\n",
       "e.yaml:2:5: source a: a registry is for the confluent-* formats only"},
      {"sources:\n  - {topic: a, format: avro, mapping: m.yaml}\n",
       "e.yaml:2:5: source a: format avro needs schema"},
      {"sources:\n  - {topic: a, format: confluent-json, mapping: m.yaml,\n"
       "     registry: {url: \"https://sr\"}}\n",
       "e.yaml:3:22: url must be an http:// URL"},
      {"sources:\n  - {topic: a, format: confluent-json, mapping: m.yaml,\n"
       "     registry: {url: \"http://sr\", username: u, password: \"${HS_TEST_UNSET_PW}\"}}\n",
       "e.yaml:3:58: environment variable HS_TEST_UNSET_PW is not set"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml, on_unmatched: drop}\n",
       "e.yaml:2:61: on_unmatched must be skip or deadletter"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml}\n"
       "  - {topic: a, format: json, mapping: n.yaml}\n",
       "e.yaml:3:5: topic a is read by two sources"},
      {"sources:\n  - {topic: \"a b\", format: json, mapping: m.yaml}\n",
       "e.yaml:2:13: topic takes a Kafka topic name"},
      {"sources:\n  - {topic: healthscore.usage, format: json, mapping: m.yaml}\n",
       "e.yaml:2: source topic healthscore.usage is also named by kafka.topics"},
      {"sources:\n  - {topic: healthscore.alerts, format: json, mapping: m.yaml}\n",
       "is also named by kafka.alerts_topic"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml, to: elsewhere}\n",
       "e.yaml:2: source a: to \"elsewhere\" is not one of kafka.topics"},
      {"sources:\n  - {topic: a, format: json, mapping: m.yaml, name: \"Bad Name\"}\n",
       "name takes lowercase letters"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hs_settings_t s;
    hs_err_t err = {0};
    int rc = load(cases[i].yaml, &s, &err);
    if (rc != HS_E_CONFIG || !strstr(err.msg, cases[i].want))
      print_error("case %zu: rc %d, \"%s\", want \"%s\"\n", i, rc, err.msg, cases[i].want), bad++;
    hs_settings_free(&s);
  }
  assert_int_equal(bad, 0);
}

static void test_mapper_check_reads_mappings_and_schemas(void **state) {
  (void)state;
  char y[2048];
  const char *dir = HS_SOURCE_DIR;
  snprintf(y, sizeof y,
           "sources:\n"
           "  - {topic: seg, format: json, mapping: %s/examples/mappings/segment.yaml}\n"
           "  - {topic: str, format: confluent-avro, mapping: %s/examples/mappings/stripe.yaml,\n"
           "     registry: {schema_dir: %s/tests/fixtures/sources}}\n"
           "  - {topic: avr, format: avro, mapping: %s/examples/mappings/stripe.yaml,\n"
           "     schema: %s/tests/fixtures/sources/stripe-invoice-payment-failed.avsc}\n",
           dir, dir, dir, dir, dir);
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(load(y, &s, &err), 0);
  if (hs_mapper_check(&s, &err))
    fail_msg("%s", err.msg);
  hs_settings_free(&s);

  snprintf(y, sizeof y,
           "sources:\n  - {topic: seg, format: json, mapping: %s/examples/mappings/segment.yaml}\n"
           "  - {topic: del, format: json, mapping: %s/no/such.yaml}\n",
           dir, dir);
  assert_int_equal(load(y, &s, &err), 0);
  assert_int_not_equal(hs_mapper_check(&s, &err), 0);
  if (!strstr(err.msg, "(topic del)") || !strstr(err.msg, "no/such.yaml"))
    fail_msg("%s", err.msg);
  hs_settings_free(&s);

  snprintf(y, sizeof y,
           "sources:\n  - {topic: avr, format: avro, mapping: %s/examples/mappings/stripe.yaml,\n"
           "     schema: %s/examples/mappings/stripe.yaml}\n",
           dir, dir);
  assert_int_equal(load(y, &s, &err), 0);
  assert_int_not_equal(hs_mapper_check(&s, &err), 0);
  if (!strstr(err.msg, "source stripe (topic avr)"))
    fail_msg("%s", err.msg);
  hs_settings_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sources_read_as_written),
      cmocka_unit_test(test_sources_errors),
      cmocka_unit_test(test_mapper_check_reads_mappings_and_schemas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
