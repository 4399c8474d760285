/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore gen | healthscore replay` end to end, through the real binary:
 * archetypes fire the alerts they should, healthy accounts none; replay is
 * deterministic and JSON and msgpack inputs give the same alerts. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_ACCOUNTS 400

static char dir[256];

static char *file_text(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return hs_test_slurp(path, NULL);
}

/* The value of "key":"..." in a JSON line, copied into out. */
static bool json_str(const char *line, const char *key, char *out, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = strstr(line, pat);
  if (!p)
    return false;
  p += strlen(pat);
  size_t n = 0;
  while (p[n] && p[n] != '"' && n + 1 < cap)
    n++;
  memcpy(out, p, n);
  out[n] = 0;
  return true;
}

typedef struct acct_s {
  char id[32], archetype[32];
  int threshold, band, trend, slope;
} acct_t;

static acct_t accounts[MAX_ACCOUNTS];
static int n_accounts;

static acct_t *find(const char *id) {
  for (int i = 0; i < n_accounts; i++)
    if (strcmp(accounts[i].id, id) == 0)
      return &accounts[i];
  return NULL;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s/tool-replay.XXXXXX", HS_BINARY_DIR);
  if (!mkdtemp(dir))
    return -1;
  return hs_test_run("%s gen --accounts 300 --days 150 --seed 11 --quiet > %s/events.jsonl",
                     hs_test_bin(), dir);
}

static int teardown(void **state) {
  (void)state;
  return hs_test_run("rm -rf %s", dir);
}

static void test_archetypes_fire_expected_alerts(void **state) {
  (void)state;
  assert_int_equal(
      hs_test_run("%s replay --quiet --config %s --alerts %s/alerts.jsonl --report text "
                  "-o %s/report.txt %s/events.jsonl",
                  hs_test_bin(), hs_test_path("examples/customer-behavior.yaml"), dir, dir, dir),
      0);
  /* archetypes from the account events */
  char *events = file_text("events.jsonl");
  for (char *line = strtok(events, "\n"); line; line = strtok(NULL, "\n")) {
    char type[32], id[32], arch[32];
    if (!json_str(line, "type", type, sizeof type) || strcmp(type, "account") != 0 ||
        !json_str(line, "archetype", arch, sizeof arch) ||
        !json_str(line, "account_id", id, sizeof id) || find(id))
      continue;
    assert_true(n_accounts < MAX_ACCOUNTS);
    acct_t *a = &accounts[n_accounts++];
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->archetype, sizeof a->archetype, "%s", arch);
  }
  hs_free(events);
  assert_int_equal(n_accounts, 300);
  char *alerts = file_text("alerts.jsonl");
  int n_alerts = 0;
  for (char *line = strtok(alerts, "\n"); line; line = strtok(NULL, "\n")) {
    char state_[16], id[32], kind[16];
    assert_true(json_str(line, "state", state_, sizeof state_));
    assert_true(json_str(line, "account_id", id, sizeof id));
    assert_true(json_str(line, "rule_kind", kind, sizeof kind));
    n_alerts++;
    if (strcmp(state_, "firing") != 0)
      continue;
    acct_t *a = find(id);
    assert_non_null(a);
    a->threshold += strcmp(kind, "threshold") == 0;
    a->band += strcmp(kind, "band") == 0;
    a->trend += strcmp(kind, "trend") == 0;
    a->slope += strcmp(kind, "slope") == 0;
  }
  hs_free(alerts);
  assert_true(n_alerts > 0);
  int healthy = 0, healthy_alerted = 0, churning = 0, churning_red = 0, declining = 0,
      declining_trend = 0;
  for (int i = 0; i < n_accounts; i++) {
    acct_t *a = &accounts[i];
    int any = a->threshold + a->band + a->trend + a->slope;
    if (strcmp(a->archetype, "healthy") == 0) {
      healthy++;
      healthy_alerted += any > 0;
      if (any)
        print_message("healthy account %s alerted: threshold %d band %d trend %d slope %d\n", a->id,
                      a->threshold, a->band, a->trend, a->slope);
    } else if (strcmp(a->archetype, "churning") == 0) {
      churning++;
      churning_red += a->threshold > 0;
    } else if (strcmp(a->archetype, "declining") == 0) {
      declining++;
      declining_trend += a->trend > 0;
    }
  }
  print_message("healthy %d (alerted %d), churning %d (threshold %d), declining %d (trend %d)\n",
                healthy, healthy_alerted, churning, churning_red, declining, declining_trend);
  assert_true(healthy > 50 && churning > 10 && declining > 10);
  assert_int_equal(healthy_alerted, 0);
  assert_int_equal(churning_red, churning);
  assert_int_equal(declining_trend, declining);
  /* the report tells how well the score foretold churn */
  char *report = file_text("report.txt");
  assert_non_null(strstr(report, "AUC"));
  hs_free(report);
}

static void test_replay_is_deterministic_across_formats(void **state) {
  (void)state;
  const char *cfg = hs_test_path("examples/eight-categories.yaml");
  assert_int_equal(hs_test_run("%s replay -q -c %s --alerts %s/a1.jsonl --scores %s/s1.jsonl "
                               "--report json -o %s/r1.json < %s/events.jsonl",
                               hs_test_bin(), cfg, dir, dir, dir, dir),
                   0);
  assert_int_equal(hs_test_run("%s replay -q -c %s --alerts %s/a2.jsonl --scores %s/s2.jsonl "
                               "--report json -o %s/r2.json %s/events.jsonl",
                               hs_test_bin(), cfg, dir, dir, dir, dir),
                   0);
  assert_int_equal(
      hs_test_run("cmp -s %s/a1.jsonl %s/a2.jsonl && cmp -s %s/s1.jsonl %s/s2.jsonl && "
                  "cmp -s %s/r1.json %s/r2.json",
                  dir, dir, dir, dir, dir, dir),
      0);
  /* the same events as msgpack */
  assert_int_equal(
      hs_test_run("%s gen --accounts 300 --days 150 --seed 11 --quiet --format msgpack "
                  "> %s/events.msgpack",
                  hs_test_bin(), dir),
      0);
  assert_int_equal(hs_test_run("%s replay -q -c %s --alerts %s/a3.jsonl --scores %s/s3.jsonl "
                               "--report json -o %s/r3.json %s/events.msgpack",
                               hs_test_bin(), cfg, dir, dir, dir, dir),
                   0);
  assert_int_equal(
      hs_test_run("cmp -s %s/a1.jsonl %s/a3.jsonl && cmp -s %s/s1.jsonl %s/s3.jsonl && "
                  "cmp -s %s/r1.json %s/r3.json",
                  dir, dir, dir, dir, dir, dir),
      0);
  struct stat st;
  char path[512];
  snprintf(path, sizeof path, "%s/a1.jsonl", dir);
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size > 0);
}

static void test_replay_reports_bad_input_and_goes_on(void **state) {
  (void)state;
  assert_int_equal(
      hs_test_run("(head -n 2000 %s/events.jsonl; printf '{\"broken\\n'; "
                  "printf '{\"event_id\":\"x\",\"account_id\":\"a\",\"type\":\"teleport\","
                  "\"ts\":\"2026-01-01T00:00:00Z\"}\\n'; tail -n +2001 %s/events.jsonl) "
                  "| %s replay -c %s --report text -o %s/r4.txt 2> %s/err4.txt",
                  dir, dir, hs_test_bin(), hs_test_path("examples/customer-behavior.yaml"), dir,
                  dir),
      0);
  char *err = file_text("err4.txt");
  assert_non_null(strstr(err, "rejected"));
  hs_free(err);
  char *rep = file_text("r4.txt");
  assert_non_null(strstr(rep, "1 unknown type"));
  assert_non_null(strstr(rep, "1 rejected"));
  hs_free(rep);
  /* usage errors exit 2, invalid configs 1 */
  assert_int_equal(hs_test_run("%s replay --bogus 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(
      hs_test_run("%s replay -c /nonexistent.yaml < /dev/null 2>/dev/null", hs_test_bin()), 1);
  assert_int_equal(hs_test_run("%s check %s > /dev/null", hs_test_bin(),
                               hs_test_path("examples/eight-categories.yaml")),
                   0);
  assert_int_equal(hs_test_run("%s --version | grep -q '^healthscore '", hs_test_bin()), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_archetypes_fire_expected_alerts),
      cmocka_unit_test(test_replay_is_deterministic_across_formats),
      cmocka_unit_test(test_replay_reports_bad_input_and_goes_on),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
