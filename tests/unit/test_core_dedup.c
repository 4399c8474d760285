/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Duplicates (docs/scoring.md, "Duplicates"): an event whose event_id the
 * account applied is dropped and counted while its day is within the
 * dedup window (by default the horizon, after which a redelivery is late;
 * a shorter window lets a later redelivery count again; 0: off); of two events with one id the
 * first applied wins; past the cap the oldest days are forgotten; the ids
 * survive a state round trip, and a state without them knows none. */
#include "testutil.h"

#include "../../src/core/internal.h"
#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/time.h"
#include "healthscore/state.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
#define HOUR (DAY / 24)
static const int64_t T0 = INT64_C(1780272000000); /* 2026-06-01T00:00:00Z */

/* The horizon is the windows' days: 10 unless said. */
static const char *yaml = "metrics:\n"
                          "  logins_10d: {kind: count, events: [login], window: %dd}\n"
                          "  session_10d: {kind: sum, events: [login], field: session_seconds,\n"
                          "                window: %dd}\n"
                          "profiles:\n"
                          "  - name: p\n"
                          "    default: true\n"
                          "    groups:\n"
                          "      - name: g\n"
                          "        weight: 100\n"
                          "        metrics:\n"
                          "          - {metric: logins_10d, worst: 0, best: 10}\n"
                          "          - {metric: session_10d, worst: 0, best: 6000}\n";

/* `yaml` with windows of `days`, followed by `more` (a top-level key). */
static void yaml_text(char *text, size_t cap, int days, const char *more) {
  int n = snprintf(text, cap, yaml, days, days);
  snprintf(text + n, cap - (size_t)n, "%s", more);
}

/* The model of yaml_text. */
static hs_model_t *model_over(int days, const char *more) {
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  char text[2048];
  yaml_text(text, sizeof text, days, more);
  if (hs_config_load_string(text, strlen(text), "dedup.yaml", &cfg, &err))
    fail_msg("config: %s", err.msg);
  if (hs_model_compile(cfg, &m, &err))
    fail_msg("compile: %s", err.msg);
  hs_config_free(cfg);
  assert_int_equal(hs_model_horizon_days(m), (uint32_t)days);
  return m;
}

static hs_model_t *model_with(const char *more) {
  return model_over(10, more);
}

static hs_model_t *model(void) {
  hs_model_t *m = model_with("");
  assert_int_equal(hs_model_dedup_days(m), 10); /* the default: the horizon */
  return m;
}

static hs_str_t S(const char *s) {
  return (hs_str_t){s, (uint32_t)strlen(s)};
}

static char id_pool[8192][16];

/* A login of account "A" with id "e<k>" (kept in id_pool[k]). */
static hs_event_t login(int k, int64_t ts, double seconds) {
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  snprintf(id_pool[k], sizeof id_pool[k], "e%d", k);
  ev.type = HS_EV_LOGIN;
  ev.ts_ms = ts;
  ev.account_id = S("A");
  ev.event_id = S(id_pool[k]);
  ev.session_seconds = seconds;
  ev.present = HS_FIELD_BIT(HS_F_SESSION_SECONDS);
  return ev;
}

static void count_evals(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  (void)a;
  (void)ev;
  (*(int *)ud)++;
}

static void encode(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out) {
  out->len = 0;
  assert_int_equal(hs_account_encode(m, a, out), 0);
}

static void assert_same_bytes(const hs_buf_t *x, const hs_buf_t *y) {
  assert_int_equal(x->len, y->len);
  assert_memory_equal(x->data, y->data, x->len);
}

/* The account read back from its state: it encodes to the same bytes. */
static hs_account_t *round_trip(const hs_model_t *m, const hs_account_t *a, hs_buf_t *b1) {
  hs_buf_t b2 = {0};
  encode(m, a, b1);
  hs_account_t *d;
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b1->data, b1->len, &d, &err), 0);
  encode(m, d, &b2);
  assert_same_bytes(b1, &b2);
  hs_buf_free(&b2);
  return d;
}

static uint32_t ids_held(const hs_model_t *m, const hs_account_t *a) {
  hs__eid_t *v;
  uint32_t n;
  assert_int_equal(hs__eid_sorted(m, a, &v, &n), 0);
  hs_free(v);
  return n;
}

static void test_redelivered_event_is_dropped_and_counted(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_engine_t *once, *twice;
  int evals_once = 0, evals_twice = 0;
  assert_int_equal(hs_engine_new(&once, m, count_evals, &evals_once), 0);
  assert_int_equal(hs_engine_new(&twice, m, count_evals, &evals_twice), 0);
  hs_event_t evs[6];
  for (int k = 0; k < 6; k++)
    evs[k] = login(k, T0 + k * 9 * HOUR, 60.0 * (k + 1));
  for (int k = 0; k < 6; k++) {
    assert_int_equal(hs_engine_apply(once, &evs[k]), HS_APPLIED);
    assert_int_equal(hs_engine_apply(twice, &evs[k]), HS_APPLIED);
    /* delivered again: at once, and a few events later (days 0..2 back) */
    assert_int_equal(hs_engine_apply(twice, &evs[k]), HS_DUPLICATE);
    if (k >= 3)
      assert_int_equal(hs_engine_apply(twice, &evs[k - 3]), HS_DUPLICATE);
  }
  hs_engine_stats_t s1, s2;
  hs_engine_stats(once, &s1);
  hs_engine_stats(twice, &s2);
  assert_int_equal(s1.duplicates, 0);
  assert_int_equal(s2.duplicates, 9);
  assert_int_equal(s2.applied, 6);
  assert_int_equal(s2.events, 15);
  assert_int_equal(evals_once, evals_twice); /* a duplicate evaluates nothing */
  hs_account_t *a1 = hs_engine_find(once, S("A")), *a2 = hs_engine_find(twice, S("A"));
  assert_int_equal(hs_account_events(a2), 6);
  hs_buf_t b1 = {0}, b2 = {0};
  encode(m, a1, &b1);
  encode(m, a2, &b2);
  assert_same_bytes(&b1, &b2);
  assert_int_equal(ids_held(m, a2), 6);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_engine_free(once);
  hs_engine_free(twice);
  hs_model_free(m);
}

/* An id is remembered while its day is within the horizon; a redelivery
 * after that is late (the event could no longer change any window), and an
 * other event reusing the forgotten id is applied. */
static void test_redelivery_after_its_day_left_the_horizon_is_late(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  hs_event_t old = login(0, T0 + HOUR, 60), mid = login(1, T0 + 5 * DAY, 60);
  assert_int_equal(hs_account_apply(m, a, &old, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &mid, NULL, NULL), HS_APPLIED);
  hs_event_t day9 = login(2, T0 + 9 * DAY + HOUR, 60);
  assert_int_equal(hs_account_apply(m, a, &day9, NULL, NULL), HS_APPLIED);
  /* day 0 is the oldest day of the horizon: still a duplicate */
  assert_int_equal(hs_account_apply(m, a, &old, NULL, NULL), HS_DUPLICATE);
  hs_event_t day10 = login(3, T0 + 10 * DAY + HOUR, 60);
  assert_int_equal(hs_account_apply(m, a, &day10, NULL, NULL), HS_APPLIED);
  /* day 0 left: the redelivery is late, the id forgotten */
  assert_int_equal(hs_account_apply(m, a, &old, NULL, NULL), HS_LATE);
  assert_int_equal(hs_account_late(a), 1);
  assert_int_equal(ids_held(m, a), 3);
  assert_int_equal(hs_account_apply(m, a, &mid, NULL, NULL), HS_DUPLICATE);
  hs_event_t reuse = login(0, T0 + 10 * DAY + 2 * HOUR, 120); /* id "e0" again */
  assert_int_equal(hs_account_apply(m, a, &reuse, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &reuse, NULL, NULL), HS_DUPLICATE);
  assert_int_equal(hs_account_events(a), 5);
  hs_account_free(a);
  hs_model_free(m);
}

/* Two different events with one id: the same event, as far as the engine
 * knows; the first applied wins and the other is dropped whole. */
static void test_two_events_with_one_id_the_first_applied_wins(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_event_t x = login(0, T0 + HOUR, 100), y = login(0, T0 + 2 * DAY, 900);
  const hs_event_t *orders[2][2] = {{&x, &y}, {&y, &x}};
  for (int o = 0; o < 2; o++) {
    hs_account_t *a, *alone;
    assert_int_equal(hs_account_new(m, S("A"), &a), 0);
    assert_int_equal(hs_account_new(m, S("A"), &alone), 0);
    assert_int_equal(hs_account_apply(m, a, orders[o][0], NULL, NULL), HS_APPLIED);
    assert_int_equal(hs_account_apply(m, a, orders[o][1], NULL, NULL), HS_DUPLICATE);
    assert_int_equal(hs_account_apply(m, alone, orders[o][0], NULL, NULL), HS_APPLIED);
    hs_buf_t b1 = {0}, b2 = {0};
    encode(m, a, &b1);
    encode(m, alone, &b2);
    assert_same_bytes(&b1, &b2);
    hs_score_t sc;
    hs_account_score(m, a, hs_account_clock(a), &sc);
    assert_true(sc.metrics[1].raw == orders[o][0]->session_seconds);
    hs_buf_free(&b1);
    hs_buf_free(&b2);
    hs_account_free(a);
    hs_account_free(alone);
  }
  hs_model_free(m);
}

/* Past HS__MAX_EVENT_IDS, the ids of the oldest days are forgotten first
 * (down to 7/8 of the cap), so a redelivery of one of those is applied
 * again; memory stays within HS__EID_MAX_CAP slots; and what is held is a
 * function of the ids and the clock: a state decoded at the cap goes on
 * exactly as the account it was encoded from. */
static void test_past_the_cap_the_oldest_days_are_forgotten(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  const int n = HS__MAX_EVENT_IDS + 100, per_day = (n + 9) / 10;
  for (int k = 0; k < n; k++) {
    hs_event_t ev = login(k, T0 + (int64_t)(k / per_day) * DAY + k % per_day * 1000, 1);
    assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
    if (k % 64 == 0 || k >= HS__MAX_EVENT_IDS - 2)
      assert_true(ids_held(m, a) <= HS__MAX_EVENT_IDS);
  }
  /* at the 4,097th: 4,096 held, 512 of the oldest forgotten, then the rest */
  assert_int_equal(ids_held(m, a), HS__MAX_EVENT_IDS - HS__MAX_EVENT_IDS / 8 + 100);
  assert_true(a->eid_cap <= HS__EID_MAX_CAP);
  assert_true(a->eid_cap * sizeof(hs__eid_t) <= 98304);
  hs_buf_t b1 = {0}, b2 = {0};
  encode(m, a, &b1);
  hs_account_t *d;
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &d, &err), 0);
  /* the day-0 events (410 of them) were forgotten; the last day's are held */
  hs_event_t first = login(0, T0, 1), last = login(n - 1, T0 + 9 * DAY + 1000, 1);
  for (int k = 0; k < 2; k++) {
    hs_account_t *x = k ? d : a;
    assert_int_equal(hs_account_apply(m, x, &last, NULL, NULL), HS_DUPLICATE);
    assert_int_equal(hs_account_apply(m, x, &first, NULL, NULL), HS_APPLIED);
    assert_int_equal(hs_account_apply(m, x, &first, NULL, NULL), HS_DUPLICATE);
  }
  /* both go on alike through the next eviction */
  for (int k = n; k < n + 600; k++) {
    hs_event_t ev = login(k, T0 + 9 * DAY + HOUR + k, 1);
    assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
    assert_int_equal(hs_account_apply(m, d, &ev, NULL, NULL), HS_APPLIED);
  }
  for (int k = 0; k < n + 600; k += 7) {
    hs_event_t ev = login(k, T0 + 9 * DAY + HOUR, 1); /* a day every id may have */
    int r1 = hs_account_apply(m, a, &ev, NULL, NULL), r2 = hs_account_apply(m, d, &ev, NULL, NULL);
    assert_int_equal(r1, r2);
  }
  encode(m, a, &b1);
  encode(m, d, &b2);
  assert_same_bytes(&b1, &b2);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_account_free(a);
  hs_account_free(d);
  hs_model_free(m);
}

/* The ids come out of the table (for the state, and for forgetting past the
 * cap) in one order, by day then hash, whatever their shape: a few, many in
 * one day, over a few days, and over more days than are spread by day (a
 * 120-day horizon). Each is checked pair by pair, and the count against
 * the ids applied. */
static void test_ids_come_sorted_by_day_then_hash(void **state) {
  (void)state;
  hs_model_t *lm = model_over(120, "");
  hs_model_t *m = model();
  const struct {
    hs_model_t *m;
    int n, days; /* n ids over `days` days, the last day first */
  } shapes[] = {{m, 5, 3},  {m, 15, 1},     {m, 300, 1},  {m, 200, 9},
                {m, 40, 9}, {lm, 500, 110}, {lm, 30, 100}};
  for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(shapes[c].m, S("A"), &a), 0);
    for (int k = 0; k < shapes[c].n; k++) {
      int day = shapes[c].days - 1 - (k * 7919) % shapes[c].days; /* days in a scrambled order */
      hs_event_t ev = login(k, T0 + (int64_t)day * DAY + k, 1);
      assert_int_equal(hs_account_apply(shapes[c].m, a, &ev, NULL, NULL), HS_APPLIED);
    }
    hs__eid_t *v;
    uint32_t n;
    assert_int_equal(hs__eid_sorted(shapes[c].m, a, &v, &n), 0);
    assert_int_equal(n, shapes[c].n);
    for (uint32_t i = 1; i < n; i++) {
      uint64_t h0 = (uint64_t)v[i - 1].hi << 32 | v[i - 1].lo,
               h1 = (uint64_t)v[i].hi << 32 | v[i].lo;
      if (!(v[i - 1].day < v[i].day || (v[i - 1].day == v[i].day && h0 < h1)))
        fail_msg("shape %zu: id %u (day %d) is not after id %u (day %d)", c, i, v[i].day, i - 1,
                 v[i - 1].day);
    }
    hs_free(v);
    hs_account_free(a);
  }
  hs_model_free(m);
  hs_model_free(lm);
}

/* The ids are part of the state: a decoded account drops a redelivery, and
 * encodes to the same bytes. A state written before ids were kept (no
 * "ids" entry) decodes with none known. */
static void test_state_round_trip_keeps_the_event_ids(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  hs_event_t evs[40];
  for (int k = 0; k < 40; k++) {
    evs[k] = login(k, T0 + (int64_t)k * 5 * HOUR, 60); /* 8 days */
    assert_int_equal(hs_account_apply(m, a, &evs[k], NULL, NULL), HS_APPLIED);
  }
  hs_buf_t b1 = {0};
  hs_account_t *d = round_trip(m, a, &b1);
  hs_err_t err = {0};
  assert_int_equal(ids_held(m, d), 40);
  for (int k = 0; k < 40; k++)
    assert_int_equal(hs_account_apply(m, d, &evs[k], NULL, NULL), HS_DUPLICATE);
  /* the same state without its last entry, "ids": an older build's */
  static const char key[] = "\xa3"
                            "ids";
  assert_int_equal((unsigned char)b1.data[0], 0x80 | 13);
  size_t at = b1.len - 4;
  while (at > 0 && memcmp(b1.data + at, key, 4) != 0)
    at--;
  assert_true(at > 0);
  b1.len = at;
  b1.data[0] = (char)(0x80 | 12);
  hs_account_t *o;
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &o, &err), 0);
  assert_int_equal(ids_held(m, o), 0);
  assert_int_equal(hs_account_apply(m, o, &evs[39], NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_events(o), 41);
  hs_buf_free(&b1);
  hs_account_free(a);
  hs_account_free(d);
  hs_account_free(o);
  hs_model_free(m);
}

/* A state whose "ids" entry is damaged decodes: what is well formed is
 * kept, the rest skipped (a day that is no integer, a bin that is no
 * multiple of 8 bytes, a zero hash, a day out of range). */
static int buf_write(void *data, const char *p, size_t n) {
  return hs_buf_append(data, p, n) ? -1 : 0;
}

static void test_damaged_ids_in_a_state_are_skipped(void **state) {
  (void)state;
  hs_model_t *m = model();
  hs_buf_t b = {0};
  msgpack_packer pk;
  msgpack_packer_init(&pk, &b, buf_write);
  int32_t day = (int32_t)(T0 / DAY);
  msgpack_pack_map(&pk, 4);
  msgpack_pack_str_with_body(&pk, "v", 1);
  msgpack_pack_int(&pk, 1);
  msgpack_pack_str_with_body(&pk, "id", 2);
  msgpack_pack_str_with_body(&pk, "A", 1);
  msgpack_pack_str_with_body(&pk, "time", 4);
  msgpack_pack_array(&pk, 3);
  for (int i = 0; i < 3; i++)
    msgpack_pack_int64(&pk, T0 + HOUR);
  msgpack_pack_str_with_body(&pk, "ids", 3);
  msgpack_pack_array(&pk, 11);
  static const char good[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0};
  msgpack_pack_str_with_body(&pk, "x", 1); /* no day */
  msgpack_pack_bin_with_body(&pk, good, 8);
  msgpack_pack_int32(&pk, day);
  msgpack_pack_bin_with_body(&pk, good, 7);  /* not whole hashes */
  msgpack_pack_int64(&pk, INT64_C(1) << 40); /* no day */
  msgpack_pack_bin_with_body(&pk, good, 8);
  msgpack_pack_int32(&pk, day);
  msgpack_pack_str_with_body(&pk, "hashes", 6); /* not a bin */
  msgpack_pack_int32(&pk, day);
  msgpack_pack_bin_with_body(&pk, good, 16); /* one hash, one zero */
  msgpack_pack_int32(&pk, day);              /* a day without its bin */
  hs_account_t *a;
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b.data, b.len, &a, &err), 0);
  assert_int_equal(ids_held(m, a), 1);
  hs_account_free(a);
  hs_buf_free(&b);
  hs_model_free(m);
}

/* A window shorter than the horizon (docs/scoring.md, "Duplicates"): an id
 * is remembered while its event's day is within the window of the
 * account's clock; a redelivery arriving later is applied again unless it
 * is late, and an event older than the window is applied but not
 * remembered. */
static void test_redelivery_outside_the_dedup_window_counts_again(void **state) {
  (void)state;
  hs_model_t *m = model_with("dedup: {window: 3d}\n");
  assert_int_equal(hs_model_dedup_days(m), 3);
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  hs_event_t d0 = login(0, T0 + HOUR, 60), d2 = login(1, T0 + 2 * DAY + HOUR, 60);
  assert_int_equal(hs_account_apply(m, a, &d0, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &d2, NULL, NULL), HS_APPLIED);
  /* clock on day 2: day 0 is inside the window (days 0..2) */
  assert_int_equal(hs_account_apply(m, a, &d0, NULL, NULL), HS_DUPLICATE);
  hs_event_t d3 = login(2, T0 + 3 * DAY + HOUR, 60);
  assert_int_equal(hs_account_apply(m, a, &d3, NULL, NULL), HS_APPLIED);
  /* clock on day 3: day 0 left the window, not the horizon: counted again */
  assert_int_equal(hs_account_apply(m, a, &d0, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &d2, NULL, NULL), HS_DUPLICATE);
  assert_int_equal(hs_account_events(a), 4);
  hs_score_t sc;
  hs_account_score(m, a, hs_account_clock(a), &sc);
  assert_true(sc.metrics[0].raw == 4); /* logins_10d: day 0 twice */
  /* an event older than the window is applied, and not remembered */
  hs_event_t d1 = login(3, T0 + DAY - 1, 60);
  assert_int_equal(hs_account_apply(m, a, &d1, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &d1, NULL, NULL), HS_APPLIED);
  assert_int_equal(ids_held(m, a), 2); /* days 2 and 3 */
  assert_true(a->eid_n <= 3);
  /* the stored state holds the same: a decoded account drops and counts
     alike */
  hs_buf_t b1 = {0};
  hs_account_t *d = round_trip(m, a, &b1);
  assert_int_equal(hs_account_apply(m, d, &d2, NULL, NULL), HS_DUPLICATE);
  assert_int_equal(hs_account_apply(m, d, &d0, NULL, NULL), HS_APPLIED);
  /* the same account under the default window drops every redelivery */
  hs_model_t *hz = model();
  hs_account_t *x;
  assert_int_equal(hs_account_new(hz, S("A"), &x), 0);
  const hs_event_t *seq[] = {&d0, &d2, &d3, &d0, &d1, &d1};
  int dups = 0;
  for (size_t i = 0; i < sizeof seq / sizeof *seq; i++)
    dups += hs_account_apply(hz, x, seq[i], NULL, NULL) == HS_DUPLICATE;
  assert_int_equal(dups, 2);
  hs_buf_free(&b1);
  hs_account_free(a);
  hs_account_free(d);
  hs_account_free(x);
  hs_model_free(hz);
  hs_model_free(m);
}

/* dedup: {window: 0}: nothing is remembered, every redelivery counts, and
 * the state holds no ids. */
static void test_dedup_window_0_drops_nothing_and_keeps_no_ids(void **state) {
  (void)state;
  hs_model_t *m = model_with("dedup:\n  window: 0\n");
  assert_int_equal(hs_model_dedup_days(m), 0);
  hs_account_t *a, *plain;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  assert_int_equal(hs_account_new(m, S("A"), &plain), 0);
  hs_event_t ev = login(0, T0 + HOUR, 60);
  for (int k = 0; k < 3; k++)
    assert_int_equal(hs_account_apply(m, a, &ev, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_events(a), 3);
  assert_null(a->eids);
  assert_int_equal(ids_held(m, a), 0);
  hs_score_t sc;
  hs_account_score(m, a, hs_account_clock(a), &sc);
  assert_true(sc.metrics[0].raw == 3);
  /* its state is that of an account whose events had no id */
  hs_event_t anon = ev;
  anon.event_id = S("");
  for (int k = 0; k < 3; k++)
    assert_int_equal(hs_account_apply(m, plain, &anon, NULL, NULL), HS_APPLIED);
  hs_buf_t b1 = {0}, b2 = {0};
  encode(m, a, &b1);
  encode(m, plain, &b2);
  assert_same_bytes(&b1, &b2);
  /* a state stored under a window decodes under 0 with no ids */
  hs_model_t *hz = model();
  hs_account_t *x, *d;
  assert_int_equal(hs_account_new(hz, S("A"), &x), 0);
  assert_int_equal(hs_account_apply(hz, x, &ev, NULL, NULL), HS_APPLIED);
  encode(hz, x, &b1);
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &d, &err), 0);
  assert_int_equal(ids_held(m, d), 0);
  assert_int_equal(hs_account_apply(m, d, &ev, NULL, NULL), HS_APPLIED);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_account_free(a);
  hs_account_free(plain);
  hs_account_free(x);
  hs_account_free(d);
  hs_model_free(hz);
  hs_model_free(m);
}

/* The window is 0 up to the horizon: past it is an error at its
 * file:line:column (an older event is late: its id need not be kept); a
 * model without windows allows 1 (the account's day, its default). */
static void test_dedup_window_past_the_horizon_is_an_error(void **state) {
  (void)state;
  static const struct {
    const char *more, *err;
  } bad[] = {
      {"dedup: {window: 11d}\n", "dedup.yaml:14:17: dedup window 11 days is longer than the "
                                 "horizon (10 days"},
      {"dedup:\n  window: 2w\n", "dedup.yaml:15:11: dedup window 14 days is longer"},
      {"dedup: {window: -1}\n", "dedup.yaml:14:17: dedup window must be whole days"},
      {"dedup: {window: 36h}\n", "dedup.yaml:14:17: dedup window must be whole days"},
      {"dedup: {window: 731}\n", "dedup.yaml:14:17: dedup window must be whole days"},
      {"dedup: {days: 3}\n", "dedup.yaml:14:9: unknown key \"days\" in dedup"},
      {"dedup: {}\n", "dedup.yaml:14:8: dedup needs window"},
      {"dedup: 3\n", "dedup.yaml:14:8: dedup must be a mapping"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char text[2048];
    yaml_text(text, sizeof text, 10, bad[i].more);
    hs_config_t *cfg = NULL;
    hs_model_t *m = NULL;
    hs_err_t err = {0};
    int rc = hs_config_load_string(text, strlen(text), "dedup.yaml", &cfg, &err);
    if (!rc)
      rc = hs_model_compile(cfg, &m, &err);
    assert_int_equal(rc, HS_E_CONFIG);
    if (strncmp(err.msg, bad[i].err, strlen(bad[i].err)))
      fail_msg("%s: got \"%s\"", bad[i].more, err.msg);
    hs_model_free(m);
    hs_config_free(cfg);
  }
  hs_model_t *m = model_with("dedup: {window: 10d}\n");
  assert_int_equal(hs_model_dedup_days(m), 10);
  hs_model_free(m);
  static const char *flat = "metrics:\n  seats: {kind: attribute, attribute: licenses}\n"
                            "profiles:\n  - name: p\n    default: true\n    groups:\n"
                            "      - {name: g, weight: 100, metrics: [{metric: seats, worst: 0, "
                            "best: 10}]}\n";
  for (int w = -1; w <= 2; w++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%s%d\n", flat, w < 0 ? "#" : "dedup:\n  window: ", w);
    hs_config_t *cfg = NULL;
    hs_err_t err = {0};
    assert_int_equal(hs_config_load_string(text, strlen(text), "flat.yaml", &cfg, &err), 0);
    int rc = hs_model_compile(cfg, &m, &err);
    assert_int_equal(rc, w == 2 ? HS_E_CONFIG : 0);
    if (!rc) {
      assert_int_equal(hs_model_horizon_days(m), 0);
      assert_int_equal(hs_model_dedup_days(m), w < 0 ? 1 : (uint32_t)w);
      hs_model_free(m);
    }
    hs_config_free(cfg);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_redelivered_event_is_dropped_and_counted),
      cmocka_unit_test(test_redelivery_after_its_day_left_the_horizon_is_late),
      cmocka_unit_test(test_two_events_with_one_id_the_first_applied_wins),
      cmocka_unit_test(test_past_the_cap_the_oldest_days_are_forgotten),
      cmocka_unit_test(test_ids_come_sorted_by_day_then_hash),
      cmocka_unit_test(test_state_round_trip_keeps_the_event_ids),
      cmocka_unit_test(test_damaged_ids_in_a_state_are_skipped),
      cmocka_unit_test(test_redelivery_outside_the_dedup_window_counts_again),
      cmocka_unit_test(test_dedup_window_0_drops_nothing_and_keeps_no_ids),
      cmocka_unit_test(test_dedup_window_past_the_horizon_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
