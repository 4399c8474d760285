/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML configuration: the examples load as written; every file in
 * examples/bad fails with the file:line:col message its first line expects. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/score.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_examples_load_as_written),
      cmocka_unit_test(test_bad_files_say_where),
      cmocka_unit_test(test_limits_and_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
