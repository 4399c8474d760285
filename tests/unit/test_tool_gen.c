/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore gen` through the real binary: deterministic, sorted, every
 * archetype present, every event valid, JSON and msgpack alike. */
#include "testutil.h"

#include "healthscore/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char dir[256];

static char *slurp(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return hs_test_slurp(path, len);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s/tool-gen.XXXXXX", HS_BINARY_DIR);
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return hs_test_run("rm -rf %s", dir);
}

static void test_same_seed_same_bytes(void **state) {
  (void)state;
  assert_int_equal(hs_test_run("%s gen -n 200 -d 70 -s 3 -q > %s/a.jsonl", hs_test_bin(), dir), 0);
  assert_int_equal(hs_test_run("%s gen --accounts 200 --days 70 --seed 3 --quiet -o %s/b.jsonl",
                               hs_test_bin(), dir),
                   0);
  assert_int_equal(hs_test_run("%s gen -n 200 -d 70 -s 4 -q > %s/c.jsonl", hs_test_bin(), dir), 0);
  assert_int_equal(hs_test_run("cmp -s %s/a.jsonl %s/b.jsonl", dir, dir), 0);
  assert_int_not_equal(hs_test_run("cmp -s %s/a.jsonl %s/c.jsonl", dir, dir), 0);
  /* adding accounts leaves the existing ones as they were */
  assert_int_equal(
      hs_test_run("%s gen -n 201 -d 70 -s 3 -q | grep '\"account_id\":\"acct-000007\"' > "
                  "%s/d7.jsonl && grep '\"account_id\":\"acct-000007\"' %s/a.jsonl | cmp -s - "
                  "%s/d7.jsonl",
                  hs_test_bin(), dir, dir, dir),
      0);
}

static void test_events_are_valid_sorted_and_complete(void **state) {
  (void)state;
  size_t len;
  char *text = slurp("a.jsonl", &len);
  hs_decoder_t *dec;
  assert_int_equal(hs_decoder_new(&dec, 0), 0);
  int64_t last = INT64_MIN;
  size_t n = 0;
  int archetypes = 0, churned = 0, churning_accounts = 0, first_account_events = 0;
  static const char *const names[] = {"healthy",    "declining",    "sudden_drop",   "churning",
                                      "onboarding", "seasonal_dip", "silent_surveys"};
  char seen_acct[256] = {0};
  for (char *line = text; line < text + len;) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    assert_non_null(nl);
    hs_event_t ev;
    hs_err_t err = {0};
    if (hs_event_decode(dec, line, (size_t)(nl - line), HS_FMT_JSON, &ev, &err))
      fail_msg("line %zu: %s", n + 1, err.msg);
    assert_true(ev.ts_ms >= last);
    last = ev.ts_ms;
    int idx = atoi(ev.account_id.ptr + 5);
    assert_true(idx >= 1 && idx <= 200);
    if (!seen_acct[idx]) {
      seen_acct[idx] = 1;
      first_account_events += ev.type == HS_EV_ACCOUNT;
    }
    if (ev.type == HS_EV_ACCOUNT && ev.n_attrs) {
      for (int k = 0; k < 7; k++)
        if (hs_str_eq(ev.attr_val[0], names[k]))
          archetypes |= 1 << k;
      churning_accounts += hs_str_eq(ev.attr_val[0], "churning");
    }
    if (ev.type == HS_EV_OUTCOME)
      churned += hs_str_eq(ev.outcome, "churned");
    n++;
    line = nl + 1;
  }
  assert_int_equal(first_account_events, 200);
  assert_int_equal(archetypes, 0x7f);
  assert_true(churned >= churning_accounts && churning_accounts > 0);
  print_message("%zu events, %d churned\n", n, churned);
  hs_decoder_free(dec);
  hs_free(text);
  /* msgpack: as many maps as JSON lines, decoding to the same events */
  assert_int_equal(
      hs_test_run("%s gen -n 200 -d 70 -s 3 -q -f msgpack > %s/a.mp", hs_test_bin(), dir), 0);
  size_t mlen;
  char *mp = slurp("a.mp", &mlen);
  size_t maps = 0;
  for (size_t off = 0; off < mlen; maps++) {
    size_t sz;
    assert_int_equal(hs_msgpack_object_size(mp + off, mlen - off, &sz), 0);
    off += sz;
  }
  assert_int_equal(maps, n);
  hs_free(mp);
}

static void test_usage_errors(void **state) {
  (void)state;
  assert_int_equal(hs_test_run("%s gen --accounts 0 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(hs_test_run("%s gen --days x 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(hs_test_run("%s gen --mix healthy=1,bogus=3 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(hs_test_run("%s gen --start 2026-13-01 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(hs_test_run("%s gen --format xml 2>/dev/null", hs_test_bin()), 2);
  assert_int_equal(hs_test_run("%s gen --help | grep -q archetypes", hs_test_bin()), 0);
  assert_int_equal(
      hs_test_run("%s gen -n 50 -d 10 -q --mix churning=1 | grep -c '\"archetype\":\"churning\"' "
                  "| grep -qx 50",
                  hs_test_bin()),
      0);
}

/* A usage error names the values the option takes, as the user types them. */
static void test_format_error_names_the_formats(void **state) {
  (void)state;
  assert_int_equal(hs_test_run("%s gen --format xml 2>&1 >/dev/null | grep -qx "
                               "'healthscore gen: --format is json or msgpack'",
                               hs_test_bin()),
                   0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_seed_same_bytes),
      cmocka_unit_test(test_events_are_valid_sorted_and_complete),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_format_error_names_the_formats),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
