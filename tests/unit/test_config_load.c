/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML configuration: the examples load as written; every file in
 * examples/bad fails with the file:line:col message its first line expects. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/time.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static void test_examples_load_as_written(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_file(hs_test_path("examples/customer-behavior.yaml"), &cfg, &err),
                   0);
  assert_int_equal(cfg->n_profiles, 1);
  const hs_profile_def_t *p = &cfg->profiles[0];
  assert_string_equal(p->name, "customer-behavior");
  assert_true(p->is_default);
  assert_int_equal(p->n_groups, 5);
  static const char *const names[] = {"Adoption", "Usage", "Relationship", "Engagement",
                                      "Sentiment"};
  static const double weights[] = {25, 20, 15, 25, 15};
  for (int g = 0; g < 5; g++) {
    assert_string_equal(p->groups[g].name, names[g]);
    assert_true(p->groups[g].weight == weights[g]);
  }
  const hs_metric_def_t *core = &cfg->metrics[0];
  assert_string_equal(core->id, "core_features_30d");
  assert_int_equal(core->kind, HS_MK_DISTINCT);
  assert_int_equal(core->field, HS_F_FEATURE);
  assert_int_equal(core->window_days, 30);
  assert_int_equal(core->n_where, 1);
  assert_int_equal(core->where[0].n_values, 3);
  assert_true(core->events == (UINT64_C(1) << HS_EV_FEATURE_USED));
  assert_int_equal(cfg->n_rules, 2);
  assert_int_equal(cfg->rules[0].kind, HS_RULE_THRESHOLD);
  assert_true(cfg->rules[0].level == 40 && cfg->rules[0].hysteresis == 5);
  assert_int_equal(cfg->rules[1].lookback_days, 14);
  assert_true(cfg->rules[1].warmup_ms == 60 * HS_MS_PER_DAY);
  assert_true(cfg->rules[1].hysteresis == 5);
  hs_model_t *m;
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  hs_model_free(m);
  hs_config_free(cfg);

  assert_int_equal(hs_config_load_file(hs_test_path("examples/eight-categories.yaml"), &cfg, &err),
                   0);
  assert_int_equal(cfg->n_profiles, 4);
  assert_string_equal(cfg->profiles[0].select[0].attr, "stage");
  /* every category is covered */
  static const char *const cats[] = {"engagement",   "usage",     "adoption", "billing",
                                     "relationship", "sentiment", "advocacy", "journey"};
  for (size_t c = 0; c < 8; c++) {
    bool seen = false;
    for (size_t i = 0; i < cfg->n_metrics; i++)
      seen |= cfg->metrics[i].category && !strcmp(cfg->metrics[i].category, cats[c]);
    assert_true(seen);
  }
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  hs_model_free(m);
  hs_config_free(cfg);
}

static void test_bad_files_say_where(void **state) {
  (void)state;
  DIR *d = opendir(hs_test_path("examples/bad"));
  assert_non_null(d);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d))) {
    if (!strstr(de->d_name, ".yaml"))
      continue;
    char rel[300];
    snprintf(rel, sizeof rel, "examples/bad/%s", de->d_name);
    char *text = hs_test_read_file(rel, NULL);
    const char *want = strstr(text, "expect: ");
    assert_non_null(want);
    want += 8;
    char expect[200];
    size_t k = 0;
    while (want[k] && want[k] != '\n' && k + 1 < sizeof expect)
      k++;
    memcpy(expect, want, k);
    expect[k] = 0;
    hs_config_t *cfg = NULL;
    hs_model_t *m = NULL;
    hs_err_t err = {0};
    int rc = hs_config_load_string(text, strlen(text), de->d_name, &cfg, &err);
    if (rc == 0)
      rc = hs_model_compile(cfg, &m, &err);
    if (rc == 0 || !strstr(err.msg, expect))
      fail_msg("%s: got \"%s\", expected \"%s\"", de->d_name, err.msg, expect);
    hs_model_free(m);
    hs_config_free(cfg);
    hs_free(text);
    n++;
  }
  closedir(d);
  assert_true(n >= 10);
}

static void test_limits_and_defaults(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_err_t err = {0};
  /* a file over 4 MiB is refused before parsing */
  size_t big = 5u << 20;
  char *text = hs_malloc(big + 1);
  memset(text, '#', big);
  text[big] = 0;
  assert_int_equal(hs_config_load_string(text, big, "big.yaml", &cfg, &err), HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "larger than"));
  /* deep nesting is a clear error, not a crash */
  size_t depth = 20000;
  for (size_t i = 0; i < depth; i++)
    text[i] = '[';
  text[depth] = 0;
  assert_int_equal(hs_config_load_string(text, depth, "deep.yaml", &cfg, &err), HS_E_CONFIG);
  hs_free(text);
  const char *y = "profiles:\n  - name: p\n    default: true\n    groups:\n      - name: G\n"
                  "        weight: 100\n        metrics: [{metric: a, worst: 0, best: 1}]\n"
                  "metrics:\n  a: {kind: latest, events: [nps], field: score}\n"
                  "alerts:\n  - {id: t, kind: trend, lookback: 7d, drop: 10}\n"
                  "  - {id: l, kind: threshold, below: 30}\n";
  assert_int_equal(hs_config_load_string(y, strlen(y), "d.yaml", &cfg, &err), 0);
  assert_true(cfg->profiles[0].groups[0].metrics[0].weight == 1);
  assert_int_equal(cfg->profiles[0].groups[0].metrics[0].missing, HS_MISSING_SKIP);
  assert_int_equal(cfg->n_bands, 0); /* the model supplies red/yellow/green */
  assert_true(cfg->rules[0].hysteresis == 0 && cfg->rules[1].hysteresis == 5);
  hs_model_t *m;
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  assert_string_equal(hs_model_band_name(m, 1), "yellow");
  hs_model_free(m);
  hs_config_free(cfg);
}

static void expect_refused(const char *y, size_t len, const char *fragment) {
  hs_config_t *cfg = NULL;
  hs_err_t err = {0};
  int rc = hs_config_load_string(y, len, "h.yaml", &cfg, &err);
  if (rc != HS_E_CONFIG || !strstr(err.msg, fragment))
    fail_msg("%.80s...\n  got %d \"%s\", want \"%s\"", y, rc, err.msg, fragment);
  assert_null(cfg);
}

/* "OPEN" repeated `depth` times after `head`, closed by "CLOSE"s. */
static char *nested(const char *head, const char *open, const char *mid, const char *close,
                    size_t depth, size_t *len) {
  size_t lo = strlen(open), lc = strlen(close), lh = strlen(head), lm = strlen(mid);
  char *t = hs_malloc(lh + depth * (lo + lc) + lm + 1);
  char *w = t;
  memcpy(w, head, lh);
  w += lh;
  for (size_t i = 0; i < depth; i++, w += lo)
    memcpy(w, open, lo);
  memcpy(w, mid, lm);
  w += lm;
  for (size_t i = 0; i < depth; i++, w += lc)
    memcpy(w, close, lc);
  *w = 0;
  *len = (size_t)(w - t);
  return t;
}

/* Nesting is refused where it passes the bound, while parsing: 128 k levels
 * of flow lists or mappings, or of block lists, end at level 64. */
static void test_deep_nesting_is_refused_where_it_opens(void **state) {
  (void)state;
  size_t len;
  char *t = nested("metrics: ", "[", "", "]", 1 << 17, &len);
  expect_refused(t, len, "h.yaml:1:73: nesting deeper than 64");
  hs_free(t);
  t = nested("", "[", "", "]", 1 << 16, &len);
  expect_refused(t, len, "h.yaml:1:65: nesting deeper than 64");
  hs_free(t);
  t = nested("metrics: ", "{a: ", "1", "}", 1 << 15, &len);
  expect_refused(t, len, "h.yaml:1:262: nesting deeper than 64");
  hs_free(t);
  t = nested("", "- ", "x", "", 1 << 16, &len);
  expect_refused(t, len, "h.yaml:1:129: nesting deeper than 64");
  hs_free(t);
  /* 63 levels under the root parse (and fail on what they mean) */
  t = nested("metrics: ", "[", "", "]", 63, &len);
  expect_refused(t, len, "h.yaml:1:10: metrics must be a mapping, not a list");
  hs_free(t);
}

/* Width is bounded too: values in the file, keys in a mapping, attributes in
 * a select. */
static void test_wide_files_are_refused(void **state) {
  (void)state;
  hs_buf_t b;
  hs_buf_init(&b);
  hs_buf_printf(&b, "profiles:\n  - name: p\n    select:\n");
  for (int i = 0; i < 4097; i++)
    hs_buf_printf(&b, "      k%d: [v]\n", i);
  expect_refused(b.data, b.len, "h.yaml:4100:7: more than 4096 keys in one mapping");
  b.len = 0;
  hs_buf_printf(&b, "profiles:\n  - name: p\n    select:\n");
  for (int i = 0; i < 33; i++)
    hs_buf_printf(&b, "      k%d: [v]\n", i);
  expect_refused(b.data, b.len, "h.yaml:36:7: more than 32 attributes in select");
  b.len = 0;
  hs_buf_printf(&b, "metrics: {a: [");
  for (int i = 0; i < 100000; i++)
    hs_buf_printf(&b, "x,");
  hs_buf_printf(&b, "x]}\n");
  expect_refused(b.data, b.len, "more than 100000 values in one file");
  hs_buf_free(&b);
}

/* Tags, anchors and documents after the first are refused, not ignored;
 * duplicate keys too. */
static void test_yaml_beyond_plain_data_is_refused(void **state) {
  (void)state;
  const char *ok = "metrics:\n  a: {kind: count, events: [login], window: 7d}\nprofiles:\n"
                   "  - {name: p, default: true, groups: [{name: G, weight: 100, metrics: "
                   "[{metric: a, worst: 0, best: 1}]}]}\n";
  hs_buf_t b;
  hs_buf_init(&b);
  hs_buf_printf(&b, "%s---\nprofiles: []\n", ok);
  expect_refused(b.data, b.len, "h.yaml:5:1: a second YAML document");
  b.len = 0;
  hs_buf_printf(&b, "---\n%s...\n", ok);
  hs_config_t *cfg = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(b.data, b.len, "h.yaml", &cfg, &err), 0);
  hs_config_free(cfg);
  hs_buf_free(&b);
  static const char *const tagged[][2] = {
      {"metrics: !!map\n  a: {kind: count}\n", "h.yaml:1:10: tags are not supported (\"!!map\")"},
      {"metrics:\n  a: {kind: !!str count}\n", "h.yaml:2:13: tags are not supported (\"!!str\")"},
      {"metrics:\n  a: {kind: ! count}\n", "h.yaml:2:13: tags are not supported (\"!\")"},
      {"%TAG !e! tag:example.com,2000:\n---\nmetrics: !e!m {}\n",
       "h.yaml:3:10: tags are not supported (\"tag:example.com,2000:m\")"},
      {"bands: [{name: r, min: !!float 0}]\n", "h.yaml:1:24: tags are not supported"},
      {"metrics:\n  a: &x {kind: count}\n  b: *x\n",
       "h.yaml:2:6: anchors and aliases are not supported"},
      {"metrics:\n  a: {kind: count, window: 7d}\n  a: {kind: sum}\n",
       "h.yaml:3:3: duplicate key \"a\""},
      {"metrics:\n  a: {kind: count, kind: sum}\n", "h.yaml:2:20: duplicate key \"kind\""},
      {"profiles: []\nprofiles: []\n", "h.yaml:2:1: duplicate key \"profiles\""},
  };
  for (size_t i = 0; i < sizeof tagged / sizeof *tagged; i++)
    expect_refused(tagged[i][0], strlen(tagged[i][0]), tagged[i][1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_examples_load_as_written),
      cmocka_unit_test(test_bad_files_say_where),
      cmocka_unit_test(test_limits_and_defaults),
      cmocka_unit_test(test_deep_nesting_is_refused_where_it_opens),
      cmocka_unit_test(test_wide_files_are_refused),
      cmocka_unit_test(test_yaml_beyond_plain_data_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
