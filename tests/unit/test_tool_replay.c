/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore gen | healthscore replay` end to end, through the real binary:
 * archetypes fire the alerts they should, healthy accounts none; replay is
 * deterministic and JSON and msgpack inputs give the same alerts.
 *
 * The archetypes need many accounts (archetypes.jsonl, 300); the other cases
 * replay events.jsonl several times each, and what they check (formats,
 * rejections and where they are, redeliveries, the dedup window) holds on 40
 * accounts over the same 150 days: about 17,000 events, more than the 3,000
 * records their cuts and insertions reach into. */
#include "testutil.h"
#include "toolutil.h"

#include "healthscore/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_ACCOUNTS 400
#define ARCHETYPES "--accounts 300 --days 150 --seed 11"
#define EVENTS "--accounts 40 --days 150 --seed 11"

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
  return hs_test_run("%s gen " ARCHETYPES " --quiet > %s/archetypes.jsonl && "
                     "%s gen " EVENTS " --quiet > %s/events.jsonl",
                     hs_test_bin(), dir, hs_test_bin(), dir);
}

static int teardown(void **state) {
  (void)state;
  return hs_test_run("rm -rf %s", dir);
}

static void test_archetypes_fire_expected_alerts(void **state) {
  (void)state;
  assert_int_equal(
      hs_test_run("%s replay --quiet --config %s --alerts %s/alerts.jsonl --report text "
                  "-o %s/report.txt %s/archetypes.jsonl",
                  hs_test_bin(), hs_test_path("examples/customer-behavior.yaml"), dir, dir, dir),
      0);
  /* archetypes from the account events */
  char *events = file_text("archetypes.jsonl");
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
  assert_int_equal(hs_test_run("%s gen " EVENTS " --quiet --format msgpack > %s/events.msgpack",
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
  const char *cmd = "(head -n 2000 %s/events.jsonl; printf '{\"broken\\n'; "
                    "printf '{\"event_id\":\"x\",\"account_id\":\"a\",\"type\":\"teleport\","
                    "\"ts\":\"2026-01-01T00:00:00Z\"}\\n'; tail -n +2001 %s/events.jsonl) "
                    "| %s replay -c %s --report text -o %s/r4.txt %s 2> %s/err4.txt";
  /* rejected input: every record read, exit 3; --keep-going: 0 */
  assert_int_equal(hs_test_run(cmd, dir, dir, hs_test_bin(),
                               hs_test_path("examples/customer-behavior.yaml"), dir, "", dir),
                   3);
  assert_int_equal(hs_test_run(cmd, dir, dir, hs_test_bin(),
                               hs_test_path("examples/customer-behavior.yaml"), dir, "--keep-going",
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

static void write_file(const char *name, const hs_buf_t *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
  fclose(f);
}

/* Replays `input` into scores, alerts, finals and the JSON report named
 * after `tag`; returns the exit status. */
static int replay_to(const char *input, const char *tag, const char *opts) {
  return hs_test_run("%s replay -q -c %s --alerts %s/%s.alerts --scores %s/%s.scores "
                     "--final %s/%s.final --report json -o %s/%s.report %s %s/%s 2> %s/%s.err",
                     hs_test_bin(), hs_test_path("examples/eight-categories.yaml"), dir, tag, dir,
                     tag, dir, tag, dir, tag, opts, dir, input, dir, tag);
}

static bool same_outputs(const char *a, const char *b) {
  return hs_test_run("cd %s && cmp -s %s.alerts %s.alerts && cmp -s %s.scores %s.scores && "
                     "cmp -s %s.final %s.final",
                     dir, a, b, a, b, a, b) == 0;
}

static void ensure_msgpack(void) {
  assert_int_equal(hs_test_run("[ -s %s/events.msgpack ] || %s gen " EVENTS
                               " --quiet --format msgpack > %s/events.msgpack",
                               dir, hs_test_bin(), dir),
                   0);
}

static void test_replay_reads_mixed_json_and_msgpack_per_record(void **state) {
  (void)state;
  /* before: the format was chosen once per file; a mixed file lost every
     record of the other format, reported as a few rejections, exit 0 */
  ensure_msgpack();
  char js[512], mp[512], out[512];
  snprintf(js, sizeof js, "%s/events.jsonl", dir);
  snprintf(mp, sizeof mp, "%s/events.msgpack", dir);
  snprintf(out, sizeof out, "%s/mixed.bin", dir);
  hs_test_write_mixed(js, mp, NULL, 0, out);
  assert_int_equal(replay_to("events.jsonl", "pure", ""), 0);
  assert_int_equal(replay_to("mixed.bin", "mixed", ""), 0);
  assert_true(same_outputs("pure", "mixed"));
  assert_int_equal(hs_test_run("cmp -s %s/pure.report %s/mixed.report", dir, dir), 0);
}

static void test_replay_broken_msgpack_does_not_swallow_good_records(void **state) {
  (void)state;
  /* before: a map cut short took the next records as its missing entries
     (one rejection for 8 records), and a stray byte stopped the replay */
  ensure_msgpack();
  char path[512];
  snprintf(path, sizeof path, "%s/events.msgpack", dir);
  size_t mlen;
  char *mp = hs_test_slurp(path, &mlen);
  size_t max = 3000, *off = hs_malloc((max + 1) * sizeof *off);
  size_t n = hs_test_split_msgpack(mp, mlen, off, max);
  assert_int_equal(n, max);
  /* the reference: the records without those that are broken below */
  const size_t cut[] = {100, 900, 1500, 2200};
  hs_buf_t good, bad;
  hs_buf_init(&good);
  hs_buf_init(&bad);
  size_t where[4] = {0};
  for (size_t i = 0, c = 0; i < n; i++) {
    const char *rec = mp + off[i];
    size_t len = off[i + 1] - off[i];
    if (c < 4 && i == cut[c]) {
      where[c] = bad.len;
      if (c == 0) { /* the map announces two more entries than it has */
        char h = (char)(rec[0] + 2);
        hs_buf_append(&bad, &h, 1);
        hs_buf_append(&bad, rec + 1, len - 1);
      } else if (c == 1) { /* cut inside its last value */
        hs_buf_append(&bad, rec, len - 3);
      } else if (c == 2) { /* a byte that is no msgpack type, then text */
        hs_buf_append(&bad, "\xc1garbage\n", 9);
      } else { /* cut after its first entry: the next record is read as a key */
        hs_buf_append(&bad, rec, 12);
      }
      c++;
      if (c != 3) /* the garbage replaces nothing */
        continue;
    }
    hs_buf_append(&good, rec, len);
    hs_buf_append(&bad, rec, len);
  }
  write_file("good.msgpack", &good);
  write_file("bad.msgpack", &bad);
  assert_int_equal(replay_to("good.msgpack", "good", ""), 0);
  assert_int_equal(replay_to("bad.msgpack", "bad", ""), 3);
  snprintf(path, sizeof path, "%s/bad.err", dir);
  char *err = hs_test_slurp(path, NULL);
  print_message("%s", err);
  assert_true(same_outputs("good", "bad"));
  for (int c = 0; c < 4; c++) {
    char want[128];
    snprintf(want, sizeof want, "bad.msgpack: byte %zu (line ", where[c]);
    assert_non_null(strstr(err, want));
  }
  assert_non_null(strstr(err, "a key that is not a string"));
  assert_non_null(strstr(err, "neither a JSON object nor a msgpack map; 9 bytes skipped"));
  hs_free(err);
  assert_int_equal(hs_test_run("test $(grep -c ': rejected: ' %s/bad.err) -eq 4", dir), 0);
  assert_int_equal(replay_to("bad.msgpack", "bad2", "--keep-going"), 0);
  hs_buf_free(&good);
  hs_buf_free(&bad);
  hs_free(off);
  hs_free(mp);
}

static void test_replay_says_where_each_rejection_is(void **state) {
  (void)state;
  /* before: "event N", 10 messages and nothing about the rest, and a
     truncated JSON object "at byte 1" */
  assert_int_equal(
      hs_test_run("(head -n 2 %s/events.jsonl; for i in $(seq 12); do echo '{\"x\":'$i'}'; done; "
                  "head -n 20 %s/events.jsonl | tail -n 1 | head -c 60) > %s/where.jsonl",
                  dir, dir, dir),
      0);
  assert_int_equal(hs_test_run("%s replay -c %s --report none %s/where.jsonl 2> %s/where.err",
                               hs_test_bin(), hs_test_path("examples/eight-categories.yaml"), dir,
                               dir),
                   3);
  char *err = file_text("where.err");
  print_message("%s", err);
  char want[600];
  snprintf(want, sizeof want, "replay: %s/where.jsonl:3: rejected: field \"event_id\": missing",
           dir);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof want, "%s/where.jsonl:12: rejected", dir);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof want, "%s/where.jsonl:13: rejected", dir);
  assert_null(strstr(err, want));
  assert_non_null(strstr(err, "replay: … and 3 more rejected\n"));
  assert_non_null(strstr(err, "13 rejected"));
  hs_free(err);
  assert_int_equal(hs_test_run("%s replay -c %s --report none --keep-going < %s/where.jsonl 2>&1 "
                               "| grep -q '<stdin>:15: rejected: malformed JSON at byte 60: "
                               "truncated'",
                               hs_test_bin(), hs_test_path("examples/eight-categories.yaml"), dir),
                   1); /* the 11th is not shown... */
  assert_int_equal(hs_test_run("(head -n 20 %s/events.jsonl | tail -n 1 | head -c 60) | %s replay "
                               "-c %s --report none 2>&1 | grep -q '<stdin>:1: rejected: "
                               "malformed JSON at byte 60: truncated'",
                               dir, hs_test_bin(), hs_test_path("examples/eight-categories.yaml")),
                   0); /* ...but alone it is */
}

static void test_replay_rejects_implausible_event_times(void **state) {
  (void)state;
  /* before: one event dated 2999 set the default --at to 2999 (every
     account aged to score 0, with alerts) and made later events late; ts 0
     and epoch seconds were accepted as 1970 */
  assert_int_equal(
      hs_test_run("(head -n 3000 %s/events.jsonl; "
                  "echo '{\"event_id\":\"f1\",\"account_id\":\"acct-000001\",\"type\":\"login\","
                  "\"ts\":\"2999-01-01T00:00:00Z\"}'; "
                  "echo '{\"event_id\":\"f2\",\"account_id\":\"acct-000002\",\"type\":\"login\","
                  "\"ts\":0}'; "
                  "echo '{\"event_id\":\"f3\",\"account_id\":\"acct-000003\",\"type\":\"login\","
                  "\"ts\":1733500000}'; "
                  "tail -n +3001 %s/events.jsonl) > %s/times.jsonl",
                  dir, dir, dir),
      0);
  assert_int_equal(replay_to("events.jsonl", "clean", ""), 0);
  assert_int_equal(replay_to("times.jsonl", "times", ""), 3);
  assert_true(same_outputs("clean", "times"));
  char *err = file_text("times.err");
  print_message("%s", err);
  char want[600];
  snprintf(want, sizeof want,
           "%s/times.jsonl:3001: rejected: future timestamp: 2999-01-01T00:00:00.000Z is more "
           "than max_future (1h) ahead of now",
           dir);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof want,
           "%s/times.jsonl:3002: rejected: implausible timestamp: 1970-01-01T00:00:00.000Z is "
           "before min_event_time 2000-01-01T00:00:00.000Z",
           dir);
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, "1733500000 looks like epoch seconds, not milliseconds"));
  hs_free(err);
  /* relative to --now, with the bounds given */
  assert_int_equal(replay_to("times.jsonl", "later",
                             "--now 2999-01-01T00:00:00Z --max-future 0 --min-event-time 1000d"),
                   3);
  err = file_text("later.err");
  assert_null(strstr(err, "future timestamp"));
  assert_non_null(strstr(err, "before min_event_time 2996-"));
  hs_free(err);
  assert_int_equal(replay_to("times.jsonl", "bad", "--max-future soon"), 2);
  assert_int_equal(replay_to("times.jsonl", "bad", "--now tomorrow"), 2);
  assert_int_equal(replay_to("times.jsonl", "bad", "--min-event-time 0"), 2);
}

/* again.jsonl: events.jsonl with every 20th line a second time, 400 lines
 * (about half a day) later. */
static void write_again(void) {
  assert_int_equal(hs_test_run("awk 'NR %% 20 == 0 { held[NR] = $0 } { print } "
                               "(NR - 400) in held { print held[NR - 400]; delete held[NR - 400] } "
                               "END { for (k = NR - 399; k <= NR; k++) if (k in held) "
                               "print held[k] }' %s/events.jsonl > %s/again.jsonl",
                               dir, dir),
                   0);
}

/* Events delivered again (every 20th line a second time, 400 lines later)
 * are dropped: the alerts, scores, states and report are those of the
 * input without them, and the input line counts them. */
static void test_replay_drops_redelivered_events(void **state) {
  (void)state;
  const char *cfg = hs_test_path("examples/eight-categories.yaml");
  write_again();
  size_t lines = 0;
  char *events = file_text("events.jsonl");
  for (char *p = events; *p; p++)
    lines += *p == '\n';
  hs_free(events);
  const char *tags[] = {"once", "again"}, *inputs[] = {"events.jsonl", "again.jsonl"};
  for (int i = 0; i < 2; i++)
    assert_int_equal(hs_test_run("%s replay -q -c %s --alerts %s/%s.alerts --scores %s/%s.scores "
                                 "--final %s/%s.final --states %s/%s.states --report text "
                                 "-o %s/%s.report %s/%s",
                                 hs_test_bin(), cfg, dir, tags[i], dir, tags[i], dir, tags[i], dir,
                                 tags[i], dir, tags[i], dir, inputs[i]),
                     0);
  assert_true(same_outputs("once", "again"));
  assert_int_equal(hs_test_run("cd %s && cmp -s once.states again.states && "
                               "grep -v '^input:' once.report > once.r && "
                               "grep -v '^input:' again.report > again.r && cmp -s once.r again.r",
                               dir),
                   0);
  char *once = file_text("once.report"), *again = file_text("again.report");
  assert_null(strstr(once, "duplicate"));
  char want[128];
  snprintf(want, sizeof want, "input: %zu events read, ", lines + lines / 20);
  assert_non_null(strstr(again, want));
  snprintf(want, sizeof want, " late (dropped), %zu duplicate (dropped), ", lines / 20);
  print_message("%s", strstr(again, "input:"));
  assert_non_null(strstr(again, want));
  hs_free(once);
  hs_free(again);
}

/* The dedup window comes from the configuration: with `window: 7d` the
 * redeliveries of half a day later are dropped as under the default (the
 * same alerts, scores and final records, a smaller state); with 0 they
 * count. */
static void test_replay_reads_the_dedup_window_from_the_configuration(void **state) {
  (void)state;
  const char *cfg = hs_test_path("examples/eight-categories.yaml");
  write_again();
  const char *tags[] = {"hz", "w7", "w0"},
             *more[] = {"", "dedup: {window: 7d}", "dedup: {window: 0}"};
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        hs_test_run("{ cat %s; echo '%s'; } > %s/%s.yaml && "
                    "%s replay -q -c %s/%s.yaml --alerts %s/%s.alerts --scores %s/%s.scores "
                    "--final %s/%s.final --states %s/%s.states --report text "
                    "-o %s/%s.report %s/again.jsonl",
                    cfg, more[i], dir, tags[i], hs_test_bin(), dir, tags[i], dir, tags[i], dir,
                    tags[i], dir, tags[i], dir, tags[i], dir, tags[i], dir),
        0);
  assert_true(same_outputs("hz", "w7"));
  assert_false(same_outputs("hz", "w0"));
  char *hz = file_text("hz.report"), *w7 = file_text("w7.report"), *w0 = file_text("w0.report");
  char *s_hz = file_text("hz.states"), *s_w7 = file_text("w7.states"),
       *s_w0 = file_text("w0.states");
  const char *dup = strstr(hz, " duplicate (dropped)");
  assert_non_null(dup);
  const char *in_hz = strstr(hz, "input:"), *in_w7 = strstr(w7, "input:");
  assert_non_null(in_w7);
  assert_int_equal(strcspn(in_hz, "\n"), strcspn(in_w7, "\n"));
  assert_memory_equal(in_hz, in_w7, strcspn(in_hz, "\n"));
  assert_null(strstr(w0, "duplicate"));
  /* accounts of about 430 events: a year of ids against a week's */
  assert_true(strlen(s_w0) < strlen(s_w7));
  assert_true(strlen(s_w7) * 2 < strlen(s_hz));
  hs_free(hz);
  hs_free(w7);
  hs_free(w0);
  hs_free(s_hz);
  hs_free(s_w7);
  hs_free(s_w0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_archetypes_fire_expected_alerts),
      cmocka_unit_test(test_replay_is_deterministic_across_formats),
      cmocka_unit_test(test_replay_reports_bad_input_and_goes_on),
      cmocka_unit_test(test_replay_reads_mixed_json_and_msgpack_per_record),
      cmocka_unit_test(test_replay_broken_msgpack_does_not_swallow_good_records),
      cmocka_unit_test(test_replay_says_where_each_rejection_is),
      cmocka_unit_test(test_replay_rejects_implausible_event_times),
      cmocka_unit_test(test_replay_drops_redelivered_events),
      cmocka_unit_test(test_replay_reads_the_dedup_window_from_the_configuration),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
