/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore tune` through the real binary on `gen` data: a profile whose
 * churn signal carries almost no weight gets it back (held-out ROC AUC
 * within 0.02 of the good profile's, replayed here independently of the
 * tool); the file changes only in its weights and the leading comment; the
 * same seed gives the same bytes; an overfitted suggestion is refused. The
 * in-place rewrite is checked on hand-made YAML (flow and block mappings,
 * a weight the text leaves out, comments). */
#include "testutil.h"
#include "toolutil.h"

#include "healthscore/codec.h"
#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];

/* The profile: the signal (logins per user) at weight 0.01 when `bad`. */
static const char *const PROFILE =
    "profiles:\n"
    "  - name: usage-and-touch\n"
    "    version: \"1\"\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage   # most of the score\n"
    "        weight: 80\n"
    "        metrics:\n"
    "          - {metric: logins_per_user_30d, %sworst: 2, best: 12}\n"
    "          - {metric: roles_engaged_90d, worst: 0, best: 4}\n"
    "      - name: Touch\n"
    "        weight: 20\n"
    "        metrics:\n"
    "          - metric: engagements_90d\n"
    "            worst: 0\n"
    "            best: 10\n";

static void write_profile(const char *name, bool bad) {
  size_t len;
  char *ex = hs_test_read_file("examples/customer-behavior.yaml", &len);
  char *cut = strstr(ex, "\nprofiles:");
  assert_non_null(cut);
  cut[1] = 0;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(ex, f);
  fprintf(f, PROFILE, bad ? "weight: 0.01, " : "");
  fclose(f);
  hs_free(ex);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s/tool-tune.XXXXXX", HS_BINARY_DIR);
  if (!mkdtemp(dir))
    return -1;
  return hs_test_run("%s gen --accounts 1500 --days 120 --seed 3 --quiet > %s/events.jsonl && "
                     "%s gen --accounts 120 --days 90 --seed 4 --quiet > %s/small.jsonl",
                     hs_test_bin(), dir, hs_test_bin(), dir);
}

static int teardown(void **state) {
  (void)state;
  return hs_test_run("rm -rf %s", dir);
}

static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  (void)a;
  hs_report_score(ud, ev->account_id, ev->at_ms, ev->score.has_score, ev->score.score,
                  ev->score.band, ev->score.profile, HS_STR_NULL);
}

static bool held(void *ud, hs_str_t account) {
  (void)ud;
  return hs_tune_is_holdout(account, 5, 0.3);
}

/* Replays the events under `config` with the libraries (not the tool) and
 * returns the ROC AUC over the held-out accounts of seed 5, --holdout 0.3. */
static double heldout_auc(const char *config) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, config);
  hs_config_t *cfg;
  hs_model_t *m;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_file(path, &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  const char *bands[] = {"red", "yellow", "green"}, *profiles[] = {"p"};
  hs_report_conf_t rc = {30, bands, 3, profiles, 1, NULL, 0, NULL, 0};
  hs_report_t *r;
  hs_engine_t *e;
  hs_decoder_t *d;
  assert_int_equal(hs_report_new(&r, &rc), 0);
  assert_int_equal(hs_engine_new(&e, m, on_eval, r), 0);
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  snprintf(path, sizeof path, "%s/events.jsonl", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char line[1 << 16];
  while (fgets(line, sizeof line, f)) {
    hs_event_t ev;
    size_t n = strlen(line);
    assert_int_equal(hs_event_decode(d, line, n - (line[n - 1] == '\n'), HS_FMT_JSON, &ev, &err),
                     0);
    if (ev.type == HS_EV_OUTCOME)
      hs_report_outcome(r, ev.account_id, ev.ts_ms, ev.outcome);
    assert_true(hs_engine_apply(e, &ev) >= 0);
  }
  fclose(f);
  assert_int_equal(hs_engine_advance(e, hs_engine_watermark(e)), 0);
  hs_report_summary_t s;
  assert_int_equal(hs_report_summary(r, held, NULL, &s), 0);
  hs_decoder_free(d);
  hs_engine_free(e);
  hs_report_free(r);
  hs_model_free(m);
  hs_config_free(cfg);
  return s.auc;
}

/* The text without its weights ("weight: N", ", weight: N", lines holding
 * only a weight) and without a leading "# healthscore tune" comment. */
static void strip_weights(char *s) {
  for (bool first = true; first ? !strncmp(s, "# healthscore tune", 18) : !strncmp(s, "#   ", 4);
       first = false) {
    char *nl = strchr(s, '\n');
    memmove(s, nl + 1, strlen(nl + 1) + 1);
  }
  char *o = s;
  for (char *p = s; *p;) {
    if (!strncmp(p, "weight: ", 8) && (p[8] == '.' || (p[8] >= '0' && p[8] <= '9'))) {
      p += 8;
      while (*p == '.' || (*p >= '0' && *p <= '9'))
        p++;
      if (o - s >= 2 && o[-2] == ',' && o[-1] == ' ' && *p == '}')
        o -= 2;
      if (*p == ',' && p[1] == ' ')
        p += 2;
      continue;
    }
    *o++ = *p++;
  }
  *o = 0;
  /* drop lines left blank */
  o = s;
  for (char *p = s; *p;) {
    char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
    bool blank = strspn(p, " ") == n - (nl ? 1 : 0) && n > 1;
    if (!blank) {
      memmove(o, p, n);
      o += n;
    }
    p += n;
  }
  *o = 0;
}

static void test_tune_recovers_a_signal_weighted_near_zero(void **state) {
  (void)state;
  write_profile("bad.yaml", true);
  write_profile("good.yaml", false);
  assert_int_equal(hs_test_run("%s tune --config %s/bad.yaml --seed 5 --holdout 0.3 -o "
                               "%s/tuned.yaml %s/events.jsonl 2> %s/tune.log",
                               hs_test_bin(), dir, dir, dir, dir),
                   0);
  double bad = heldout_auc("bad.yaml"), good = heldout_auc("good.yaml"),
         tuned = heldout_auc("tuned.yaml");
  print_message("held-out ROC AUC: bad %.4f, good %.4f, tuned from bad %.4f\n", bad, good, tuned);
  assert_true(bad < good - 0.02); /* the bad profile is measurably bad */
  assert_true(tuned >= good - 0.02);
  char path[512];
  snprintf(path, sizeof path, "%s/tune.log", dir);
  char *log = hs_test_slurp(path, NULL);
  char want[64];
  snprintf(want, sizeof want, "%.3f   %.3f", bad, tuned); /* the tool's own held-out figures */
  assert_non_null(strstr(log, want));
  hs_free(log);
  /* only weights and the comment changed */
  snprintf(path, sizeof path, "%s/bad.yaml", dir);
  char *before = hs_test_slurp(path, NULL);
  snprintf(path, sizeof path, "%s/tuned.yaml", dir);
  char *after = hs_test_slurp(path, NULL);
  assert_non_null(strstr(after, "# healthscore tune: weights of profile \"usage-and-touch\""));
  assert_non_null(strstr(after, "- name: Usage   # most of the score\n"));
  assert_string_not_equal(before, after);
  strip_weights(before);
  strip_weights(after);
  assert_string_equal(before, after);
  hs_free(before);
  hs_free(after);
  /* deterministic for a seed */
  assert_int_equal(hs_test_run("%s tune -q --config %s/bad.yaml --seed 5 %s/events.jsonl > "
                               "%s/again.yaml && cmp -s %s/again.yaml %s/tuned.yaml",
                               hs_test_bin(), dir, dir, dir, dir, dir),
                   0);
}

/* Few training accounts: the fit improves on them but not on the held-out
 * ones, so nothing is recommended. */
static void test_tune_refuses_a_worse_held_out_profile(void **state) {
  (void)state;
  write_profile("good.yaml", false);
  int rc = hs_test_run("%s tune --config %s/good.yaml --holdout 0.85 --seed 1 -o %s/over.yaml "
                       "%s/small.jsonl 2> %s/refuse.log",
                       hs_test_bin(), dir, dir, dir, dir);
  assert_int_equal(rc, 1);
  char path[512];
  snprintf(path, sizeof path, "%s/over.yaml", dir);
  struct stat st;
  assert_int_not_equal(stat(path, &st), 0); /* nothing written */
  snprintf(path, sizeof path, "%s/refuse.log", dir);
  char *log = hs_test_slurp(path, NULL);
  double tb, ta, hb, ha;
  const char *p = strstr(log, "training ROC AUC");
  assert_non_null(p);
  assert_int_equal(sscanf(p, "training ROC AUC %lf -> %lf", &tb, &ta), 2);
  p = strstr(log, "would go from");
  assert_non_null(p);
  assert_int_equal(sscanf(p, "would go from %lf to %lf", &hb, &ha), 2);
  assert_true(ta > tb); /* better on the training accounts ... */
  assert_true(ha < hb); /* ... worse on the held-out ones */
  hs_free(log);
}

/* tune reads its events as replay does: a file mixing JSON lines and
 * msgpack gives the weights of the JSON-only file; implausible times and
 * bytes that are no record are rejected, shown with where they are, and
 * make the exit status 3 (0 with --keep-going). */
static void test_tune_reads_events_as_replay_does(void **state) {
  (void)state;
  /* before: the format was chosen once per file, so the msgpack records of
     a mixed file were dropped silently (other weights, exit 0), and an
     event dated 2999 was taken as the latest time of the replay */
  write_profile("bad.yaml", true);
  assert_int_equal(hs_test_run("%s gen --accounts 300 --days 120 --seed 3 --quiet > %s/mid.jsonl "
                               "&& %s gen --accounts 300 --days 120 --seed 3 --quiet --format "
                               "msgpack > %s/mid.msgpack",
                               hs_test_bin(), dir, hs_test_bin(), dir),
                   0);
  char js[512], mp[512], path[512];
  snprintf(js, sizeof js, "%s/mid.jsonl", dir);
  snprintf(mp, sizeof mp, "%s/mid.msgpack", dir);
  snprintf(path, sizeof path, "%s/mid.mixed", dir);
  /* in the middle: a future event and a byte that starts no record */
  hs_test_write_mixed(js, mp,
                      "{\"event_id\":\"f1\",\"account_id\":\"acct-000001\",\"type\":\"login\","
                      "\"ts\":\"2999-01-01T00:00:00Z\"}\n\xc1garbage\n",
                      20000, path);
  const char *cmd = "%s tune -q --config %s/bad.yaml --seed 5 %s -o %s/%s.yaml %s/%s 2> %s/%s.err";
  assert_int_equal(
      hs_test_run(cmd, hs_test_bin(), dir, "", dir, "pure", dir, "mid.jsonl", dir, "pure"), 0);
  assert_int_equal(
      hs_test_run(cmd, hs_test_bin(), dir, "", dir, "mixed", dir, "mid.mixed", dir, "mixed"), 3);
  /* the same weights and held-out figures; only the file named differs */
  assert_int_equal(
      hs_test_run("cd %s && sed 2d pure.yaml > pure.cut && sed 2d mixed.yaml > "
                  "mixed.cut && cmp -s pure.cut mixed.cut && grep -q 'of %s/mid.mixed,' "
                  "mixed.yaml",
                  dir, dir),
      0);
  snprintf(path, sizeof path, "%s/mixed.err", dir);
  char *err = hs_test_slurp(path, NULL);
  print_message("%s", err);
  char want[600];
  snprintf(want, sizeof want, "tune: %s/mid.mixed:", dir);
  const char *p = strstr(err, want);
  assert_non_null(p);
  assert_non_null(strstr(p, ": rejected: future timestamp: 2999-01-01T00:00:00.000Z"));
  snprintf(want, sizeof want, "tune: %s/mid.mixed: byte ", dir);
  p = strstr(err, want);
  assert_non_null(p);
  assert_non_null(strstr(p, ": rejected: neither a JSON object nor a msgpack map; 9 bytes"));
  assert_int_equal(hs_test_run("test $(grep -c ': rejected: ' %s/mixed.err) -eq 2", dir), 0);
  hs_free(err);
  assert_int_equal(hs_test_run(cmd, hs_test_bin(), dir, "--keep-going", dir, "kept", dir,
                               "mid.mixed", dir, "kept"),
                   0);
  assert_int_equal(hs_test_run("cmp -s %s/mixed.yaml %s/kept.yaml", dir, dir), 0);
  /* the input options are replay's */
  assert_int_equal(hs_test_run(cmd, hs_test_bin(), dir, "--max-future soon", dir, "x", dir,
                               "mid.mixed", dir, "x"),
                   2);
  assert_int_equal(
      hs_test_run(cmd, hs_test_bin(), dir, "--format xml", dir, "x", dir, "mid.mixed", dir, "x"),
      2);
}

static const char *const YAML =
    "# my profile\n"
    "metrics:\n"
    "  a: {kind: count, events: [login], window: 30d}\n"
    "  b: {kind: count, events: [login], window: 7d}\n"
    "  c: {kind: count, events: [login], window: 90d}\n"
    "profiles:\n"
    "  - name: p\n"
    "    default: true\n"
    "    groups:\n"
    "      - {name: G1, weight: 60, metrics: [{metric: a, worst: 0, best: 10},\n"
    "                                          {metric: b, weight: 2, worst: 0, best: 5}]}\n"
    "      - name: G2\n"
    "        weight: 40   # keep this comment\n"
    "        metrics:\n"
    "          - metric: c\n"
    "            worst: 0\n"
    "            best: 9\n";

static void test_rewrite_edits_numbers_in_place(void **state) {
  (void)state;
  hs_config_t *cfg;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(YAML, strlen(YAML), "p.yaml", &cfg, &err), 0);
  double mw[3] = {0.5, 2, 0.25};
  hs_tune_result_t res = {
      .n_groups = 2, .n_refs = 3, .group_weight = {75, 25}, .metric_weight = mw};
  hs_buf_t out;
  hs_buf_init(&out);
  assert_int_equal(
      hs_tune_rewrite(YAML, strlen(YAML), cfg, 0, &res, "# healthscore tune: x\n", &out, &err), 0);
  assert_int_equal(hs_buf_append(&out, "", 1), 0);
  const char *want =
      "# healthscore tune: x\n"
      "# my profile\n"
      "metrics:\n"
      "  a: {kind: count, events: [login], window: 30d}\n"
      "  b: {kind: count, events: [login], window: 7d}\n"
      "  c: {kind: count, events: [login], window: 90d}\n"
      "profiles:\n"
      "  - name: p\n"
      "    default: true\n"
      "    groups:\n"
      "      - {name: G1, weight: 75, metrics: [{metric: a, worst: 0, best: 10, weight: 0.5},\n"
      "                                          {metric: b, weight: 2, worst: 0, best: 5}]}\n"
      "      - name: G2\n"
      "        weight: 25   # keep this comment\n"
      "        metrics:\n"
      "          - metric: c\n"
      "            weight: 0.25\n"
      "            worst: 0\n"
      "            best: 9\n";
  assert_string_equal(out.data, want);
  /* a second run replaces the first one's comment, and the result loads */
  hs_buf_t again;
  hs_buf_init(&again);
  hs_config_t *cfg1; /* positions are those of the text rewritten */
  assert_int_equal(hs_config_load_string(out.data, out.len - 1, "p.yaml", &cfg1, &err), 0);
  assert_int_equal(hs_tune_rewrite(out.data, out.len - 1, cfg1, 0, &res, "# healthscore tune: y\n",
                                   &again, &err),
                   0);
  assert_int_equal(hs_buf_append(&again, "", 1), 0);
  assert_int_equal(strncmp(again.data, "# healthscore tune: y\n# my profile\n", 35), 0);
  assert_string_equal(again.data + 22, out.data + 22);
  hs_config_t *cfg2;
  assert_int_equal(hs_config_load_string(again.data, again.len - 1, "q.yaml", &cfg2, &err), 0);
  assert_float_equal(cfg2->profiles[0].groups[1].metrics[0].weight, 0.25, 1e-12);
  assert_float_equal(cfg2->profiles[0].groups[0].weight, 75, 0);
  hs_config_free(cfg2);
  hs_config_free(cfg1);
  hs_buf_free(&again);
  hs_buf_free(&out);
  hs_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rewrite_edits_numbers_in_place),
      cmocka_unit_test(test_tune_recovers_a_signal_weighted_near_zero),
      cmocka_unit_test(test_tune_refuses_a_worse_held_out_profile),
      cmocka_unit_test(test_tune_reads_events_as_replay_does),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
