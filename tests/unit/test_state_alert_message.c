/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Alert messages as CloudEvents: the Kafka binary-mode headers (legal
 * attribute names, deterministic ids), the structured-mode envelope, and the
 * PagerDuty fields of the payload (summary, severity, dedup_key). */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/state.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01T00:00:00Z */

static const char *yaml = "metrics:\n"
                          "  logins_7d: {kind: count, events: [login], window: 7d}\n"
                          "profiles:\n"
                          "  - name: default\n"
                          "    default: true\n"
                          "    groups:\n"
                          "      - name: Usage\n"
                          "        weight: 100\n"
                          "        metrics:\n"
                          "          - {metric: logins_7d, worst: 0, best: 10}\n"
                          "bands:\n"
                          "  - {name: red, min: 0}\n"
                          "  - {name: green, min: 50}\n"
                          "alerts:\n"
                          "  - {id: low, kind: threshold, below: 40}\n"
                          "  - {id: red_band, kind: band, band: red, severity: critical}\n";

typedef struct fx_s {
  hs_model_t *m;
  hs_eval_t *ev;
  hs_alert_t al;
  hs_buf_t out;
} fx_t;

static int setup(void **state) {
  fx_t *f = hs_calloc(1, sizeof *f);
  hs_config_t *cfg = NULL;
  hs_err_t err = {0};
  if (hs_config_load_string(yaml, strlen(yaml), "test.yaml", &cfg, &err))
    fail_msg("config: %s", err.msg);
  if (hs_model_compile(cfg, &f->m, &err))
    fail_msg("compile: %s", err.msg);
  hs_config_free(cfg);
  f->ev = hs_calloc(1, sizeof *f->ev);
  f->ev->account_id = (hs_str_t){"acct-7", 6};
  f->ev->at_ms = T0 + 1234;
  f->ev->prev_score = NAN;
  f->al = (hs_alert_t){.rule = 0,
                       .state = HS_ALERT_FIRING,
                       .alert_id = UINT64_C(0x6e68d08f23fd3091),
                       .episode_start_ms = T0,
                       .score = 31.5,
                       .prev_score = 44.0,
                       .band = 0};
  hs_buf_init(&f->out);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  hs_buf_free(&f->out);
  hs_free(f->ev);
  hs_model_free(f->m);
  hs_free(f);
  return 0;
}

static const char *hdr(const hs_alert_headers_t *h, const char *name) {
  for (size_t i = 0; i < h->n; i++)
    if (!strcmp(h->hdr[2 * i], name))
      return h->hdr[2 * i + 1];
  return NULL;
}

static void message(fx_t *f, const hs_alert_envelope_t *env, int64_t processed, int64_t ts,
                    hs_alert_headers_t *h) {
  f->out.len = 0;
  assert_int_equal(hs_output_alert_message(f->m, f->ev, &f->al, processed, env, ts, &f->out, h), 0);
  assert_int_equal(hs_buf_append(&f->out, "", 1), 0); /* NUL for strstr */
  f->out.len--;
}

/* CloudEvents attribute names are a-z and 0-9 (at most 20 characters) */
static void test_header_names_are_legal_cloudevents_attributes(void **state) {
  fx_t *f = *state;
  hs_alert_envelope_t env = {HS_ALERT_BINARY, NULL, "healthscore"};
  hs_alert_headers_t h;
  message(f, &env, T0 + 99, T0 + 5, &h);
  int ce = 0;
  for (size_t i = 0; i < h.n; i++) {
    const char *n = h.hdr[2 * i];
    if (strncmp(n, "ce_", 3)) {
      assert_true(!strcmp(n, "content-type") || !strcmp(n, "source_timestamp"));
      continue;
    }
    ce++;
    size_t len = strlen(n + 3);
    assert_true(len >= 1 && len <= 20);
    assert_int_equal(strspn(n + 3, "abcdefghijklmnopqrstuvwxyz0123456789"), len);
  }
  assert_int_equal(ce, 7);
  assert_true(h.n <= HS_ALERT_MAX_HEADERS);
  assert_string_equal(hdr(&h, "ce_specversion"), "1.0");
  assert_string_equal(hdr(&h, "ce_id"), "6e68d08f23fd3091-firing");
  assert_string_equal(hdr(&h, "ce_source"), "healthscore/healthscore");
  assert_string_equal(hdr(&h, "ce_type"), "dev.healthscore.alert.firing");
  assert_string_equal(hdr(&h, "ce_time"), "2026-01-01T00:00:01.234Z");
  assert_string_equal(hdr(&h, "ce_subject"), "acct-7");
  assert_string_equal(hdr(&h, "ce_dataschema"), HS_ALERT_CE_DATASCHEMA);
  assert_string_equal(hdr(&h, "content-type"), "application/json");
  assert_string_equal(hdr(&h, "source_timestamp"), "1767225600005");
  /* binary mode: the value is the alert itself */
  assert_true(!strncmp(f->out.data, "{\"schema_version\":1,\"alert_id\":\"6e68d08f23fd3091\"", 49));
}

/* the same episode and state give the same id whenever it is produced
 * (a crash and a replay included); the two states of an episode differ */
static void test_ce_id_is_deterministic_per_episode_and_state(void **state) {
  fx_t *f = *state;
  hs_alert_envelope_t env = {HS_ALERT_BINARY, NULL, "g"};
  hs_alert_headers_t a, b, c;
  message(f, &env, T0 + 1, 0, &a);
  message(f, &env, T0 + 86400000, 77, &b);
  assert_string_equal(hdr(&a, "ce_id"), hdr(&b, "ce_id"));
  assert_string_equal(hdr(&a, "ce_time"), hdr(&b, "ce_time")); /* event time, not wall clock */
  assert_null(hdr(&a, "source_timestamp"));
  f->al.state = HS_ALERT_RESOLVED;
  message(f, &env, T0 + 1, 0, &c);
  assert_string_equal(hdr(&c, "ce_id"), "6e68d08f23fd3091-resolved");
  assert_string_equal(hdr(&c, "ce_type"), "dev.healthscore.alert.resolved");
  assert_non_null(strstr(f->out.data, "\"dedup_key\":\"6e68d08f23fd3091\""));
  f->al.alert_id++;
  message(f, &env, T0 + 1, 0, &c);
  assert_string_not_equal(hdr(&c, "ce_id"), "6e68d08f23fd3091-resolved");
}

static void test_ce_source_default_and_configured(void **state) {
  (void)state;
  char s[64];
  hs_alert_ce_source(&(hs_alert_envelope_t){HS_ALERT_BINARY, "", "prod eu/1"}, s, sizeof s);
  assert_string_equal(s, "healthscore/prod%20eu%2F1");
  hs_alert_ce_source(&(hs_alert_envelope_t){HS_ALERT_BINARY, NULL, "a.b_c-d~e"}, s, sizeof s);
  assert_string_equal(s, "healthscore/a.b_c-d~e");
  hs_alert_ce_source(&(hs_alert_envelope_t){HS_ALERT_BINARY, "https://x.example/hs", "g"}, s,
                     sizeof s);
  assert_string_equal(s, "https://x.example/hs");
  char tiny[16]; /* cut, never a broken escape past the end */
  hs_alert_ce_source(&(hs_alert_envelope_t){HS_ALERT_BINARY, NULL, "%%%%%%%%"}, tiny, sizeof tiny);
  assert_true(strlen(tiny) < sizeof tiny);
}

static void test_structured_mode_wraps_the_alert_as_data(void **state) {
  fx_t *f = *state;
  hs_alert_envelope_t bin = {HS_ALERT_BINARY, NULL, "g"}, st = {HS_ALERT_STRUCTURED, NULL, "g"};
  hs_alert_headers_t h;
  message(f, &bin, T0, 0, &h);
  char *alert = hs_strndup(f->out.data, f->out.len);
  message(f, &st, T0, 9, &h);
  assert_int_equal(h.n, 2);
  assert_string_equal(hdr(&h, "content-type"), "application/cloudevents+json; charset=UTF-8");
  assert_string_equal(hdr(&h, "source_timestamp"), "9");
  char errbuf[128];
  yajl_val root = yajl_tree_parse(f->out.data, errbuf, sizeof errbuf);
  assert_non_null(root);
  static const char *const want[][2] = {{"specversion", "1.0"},
                                        {"id", "6e68d08f23fd3091-firing"},
                                        {"source", "healthscore/g"},
                                        {"type", "dev.healthscore.alert.firing"},
                                        {"subject", "acct-7"},
                                        {"time", "2026-01-01T00:00:01.234Z"},
                                        {"datacontenttype", "application/json"},
                                        {"dataschema", HS_ALERT_CE_DATASCHEMA}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const char *path[] = {want[i][0], NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    assert_non_null(v);
    assert_string_equal(YAJL_GET_STRING(v), want[i][1]);
  }
  yajl_tree_free(root);
  /* data is the binary-mode value, byte for byte */
  const char *data = strstr(f->out.data, ",\"data\":");
  assert_non_null(data);
  data += 8;
  assert_int_equal(strlen(data), strlen(alert) + 1);
  assert_memory_equal(data, alert, strlen(alert));
  hs_free(alert);
}

static void test_payload_summary_severity_dedup_key(void **state) {
  fx_t *f = *state;
  hs_alert_envelope_t env = {HS_ALERT_BINARY, NULL, "g"};
  hs_alert_headers_t h;
  message(f, &env, T0, 0, &h);
  assert_non_null(strstr(f->out.data, "\"severity\":\"warning\"")); /* the default */
  assert_non_null(strstr(f->out.data, "\"summary\":\"Health score alert low firing for account "
                                      "acct-7: score 31.5 (was 44.0), band red.\""));
  assert_non_null(strstr(f->out.data, "\"dedup_key\":\"6e68d08f23fd3091\""));
  f->al.rule = 1;
  f->al.prev_score = NAN;
  f->al.state = HS_ALERT_RESOLVED;
  message(f, &env, T0, 0, &h);
  assert_non_null(strstr(f->out.data, "\"severity\":\"critical\""));
  assert_non_null(strstr(f->out.data, "\"summary\":\"Health score alert red_band resolved for "
                                      "account acct-7: score 31.5, band red.\""));
  /* an account id that needs escaping stays valid JSON */
  f->ev->account_id = (hs_str_t){"a\"b\\c", 5};
  message(f, &env, T0, 0, &h);
  char errbuf[128];
  yajl_val root = yajl_tree_parse(f->out.data, errbuf, sizeof errbuf);
  assert_non_null(root);
  yajl_tree_free(root);
  assert_string_equal(hdr(&h, "ce_subject"), "a\"b\\c");
}

/* severities outside PagerDuty's Events API v2 vocabulary are refused
 * where they are written */
static void test_rule_severity_outside_pagerduty_vocabulary_is_refused(void **state) {
  (void)state;
  static const char *const ok[] = {"critical", "error", "warning", "info"};
  char y[1024];
  for (size_t i = 0; i < 5; i++) {
    snprintf(y, sizeof y, "%s", yaml);
    char *sev = strstr(y, "severity: critical");
    snprintf(sev, sizeof y - (size_t)(sev - y), "severity: %s}\n", i < 4 ? ok[i] : "high");
    hs_config_t *cfg = NULL;
    hs_err_t err = {0};
    int rc = hs_config_load_string(y, strlen(y), "t.yaml", &cfg, &err);
    if (i < 4) {
      assert_int_equal(rc, 0);
    } else {
      assert_int_not_equal(rc, 0);
      assert_non_null(strstr(err.msg, "t.yaml:16:"));
      assert_non_null(strstr(err.msg, "critical, error, warning or info, not \"high\""));
    }
    hs_config_free(cfg);
  }
}

static void test_settings_alerts_format_and_source(void **state) {
  (void)state;
  hs_settings_t s;
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&s), 0);
  assert_string_equal(s.alerts_format, "binary");
  assert_string_equal(s.alerts_source, "");
  hs_settings_free(&s);
  const char *good = "kafka:\n  alerts_format: structured\n  alerts_source: https://a.example/x\n";
  assert_int_equal(hs_settings_defaults(&s), 0);
  assert_int_equal(hs_settings_load_string(good, strlen(good), "s.yaml", &s, &err), 0);
  assert_string_equal(s.alerts_format, "structured");
  assert_string_equal(s.alerts_source, "https://a.example/x");
  hs_settings_free(&s);
  const char *bad[] = {"kafka:\n  alerts_format: avro\n", "kafka:\n  alerts_source: a b\n",
                       "kafka:\n  alerts_source: \"x{y}\"\n"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(hs_settings_defaults(&s), 0);
    assert_int_not_equal(hs_settings_load_string(bad[i], strlen(bad[i]), "s.yaml", &s, &err), 0);
    assert_non_null(strstr(err.msg, "s.yaml:2:"));
    hs_settings_free(&s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_header_names_are_legal_cloudevents_attributes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_ce_id_is_deterministic_per_episode_and_state, setup,
                                      teardown),
      cmocka_unit_test(test_ce_source_default_and_configured),
      cmocka_unit_test_setup_teardown(test_structured_mode_wraps_the_alert_as_data, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_payload_summary_severity_dedup_key, setup, teardown),
      cmocka_unit_test(test_rule_severity_outside_pagerduty_vocabulary_is_refused),
      cmocka_unit_test(test_settings_alerts_format_and_source),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
