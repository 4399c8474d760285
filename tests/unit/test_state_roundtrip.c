/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Account state through msgpack: bit-for-bit round trips, identical behaviour
 * after decoding, other models and versions, corrupt input. */
#include "testutil.h"

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/state.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
static const int64_t T0 = INT64_C(1767225600000);

static hs_model_t *load_model(const char *rel) {
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  if (hs_config_load_file(hs_test_path(rel), &cfg, &err) || hs_model_compile(cfg, &m, &err))
    fail_msg("%s", err.msg);
  hs_config_free(cfg);
  return m;
}

static uint64_t rng = 7;
static uint64_t rnd(void) {
  return hs_test_splitmix(&rng);
}

/* A day of varied events for account "acme". */
static void day_events(hs_account_t *a, const hs_model_t *m, int d, hs_eval_cb cb, void *ud) {
  static const char *users[] = {"u1", "u2", "u3", "u4"};
  static const char *feats[] = {"dashboards", "reports", "integrations", "api"};
  static const char *roles[] = {"executive", "champion", "admin", "end_user"};
  hs_event_t ev;
  if (d == 0) {
    memset(&ev, 0, sizeof ev);
    ev.type = HS_EV_ACCOUNT;
    ev.ts_ms = T0;
    ev.segment = (hs_str_t){"enterprise", 10};
    ev.stage = (hs_str_t){"mature", 6};
    ev.licenses = 300;
    ev.contract_start_ms = T0 - 100 * DAY;
    ev.renewal_ms = T0 + 265 * DAY;
    ev.present = HS_FIELD_BIT(HS_F_SEGMENT) | HS_FIELD_BIT(HS_F_STAGE) |
                 HS_FIELD_BIT(HS_F_LICENSES) | HS_FIELD_BIT(HS_F_CONTRACT_START) |
                 HS_FIELD_BIT(HS_F_RENEWAL_DATE);
    ev.n_attrs = 1;
    ev.attr_key[0] = (hs_str_t){"csm", 3};
    ev.attr_val[0] = (hs_str_t){"ann", 3};
    assert_true(hs_account_apply(m, a, &ev, cb, ud) >= 0);
  }
  int n = (int)(rnd() % 8);
  for (int k = 0; k < n; k++) {
    memset(&ev, 0, sizeof ev);
    ev.ts_ms = T0 + d * DAY + (int64_t)(k + 1) * 3600000;
    ev.account_id = (hs_str_t){"acme", 4};
    char id[32]; /* the state holds the ids of the horizon */
    snprintf(id, sizeof id, "d%d-%d", d, k);
    ev.event_id = (hs_str_t){id, (uint32_t)strlen(id)};
    uint64_t r = rnd() % 12;
    ev.user_id = (hs_str_t){users[rnd() % 4], 2};
    ev.present = HS_FIELD_BIT(HS_F_USER_ID);
    if (r < 5) {
      ev.type = HS_EV_LOGIN;
      ev.session_seconds = (double)(rnd() % 3000);
      ev.present |= HS_FIELD_BIT(HS_F_SESSION_SECONDS);
    } else if (r < 7) {
      ev.type = HS_EV_FEATURE_USED;
      ev.feature = (hs_str_t){feats[rnd() % 4], 0};
      ev.feature.len = (uint32_t)strlen(ev.feature.ptr);
      ev.count = 1;
      ev.present |= HS_FIELD_BIT(HS_F_FEATURE) | HS_FIELD_BIT(HS_F_COUNT);
    } else if (r < 9) {
      ev.type = r == 7 ? HS_EV_MEETING : HS_EV_CALL;
      ev.role = (hs_str_t){roles[rnd() % 4], 0};
      ev.role.len = (uint32_t)strlen(ev.role.ptr);
      ev.present |= HS_FIELD_BIT(HS_F_ROLE);
    } else if (r == 9) {
      ev.type = HS_EV_NPS;
      ev.score = (double)(rnd() % 11);
      ev.present |= HS_FIELD_BIT(HS_F_SCORE);
    } else if (r == 10) {
      ev.type = HS_EV_INVOICE_ISSUED;
      ev.amount = 1200.5;
      ev.invoice_id = (hs_str_t){"i", 1};
      ev.present |= HS_FIELD_BIT(HS_F_AMOUNT) | HS_FIELD_BIT(HS_F_INVOICE_ID);
    } else {
      ev.type = HS_EV_OVERRIDE;
      ev.target = (hs_str_t){"csm_rating", 10};
      ev.value = 3;
      ev.expires_ms = ev.ts_ms + 5 * DAY;
      ev.reason = (hs_str_t){"escalation", 10};
      ev.author = (hs_str_t){"jo", 2};
      ev.present |= HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) |
                    HS_FIELD_BIT(HS_F_EXPIRES) | HS_FIELD_BIT(HS_F_REASON) |
                    HS_FIELD_BIT(HS_F_AUTHOR);
    }
    assert_true(hs_account_apply(m, a, &ev, cb, ud) >= 0);
  }
}

/* The model the traced accounts run under, for their explanations. */
/* Account "acme" after `days` days of day_events. */
static hs_account_t *account_of_days(const hs_model_t *m, int days) {
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, (hs_str_t){"acme", 4}, &a), 0);
  for (int d = 0; d < days; d++)
    day_events(a, m, d, NULL, NULL);
  return a;
}

static const hs_model_t *trace_model;

static void trace(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  uint64_t *h = ud;
  hs_score_t s;
  hs_eval_explain(trace_model, a, ev, &s);
  *h = hs_hash64(&ev->at_ms, sizeof ev->at_ms, *h);
  *h = hs_hash64(&ev->score.score, sizeof ev->score.score, *h);
  *h = hs_hash64(&ev->score.band, sizeof ev->score.band, *h);
  for (uint32_t i = 0; i < s.n_metrics; i++) {
    double raw = s.metrics[i].raw, delta = s.metrics[i].delta;
    if (!isnan(raw))
      *h = hs_hash64(&raw, sizeof raw, *h);
    *h = hs_hash64(&delta, sizeof delta, *h);
  }
  for (uint32_t i = 0; i < ev->n_alerts; i++)
    *h = hs_hash64(&ev->alerts[i].alert_id, sizeof(uint64_t), *h);
}

static void test_round_trip_is_bit_for_bit_and_behaves_the_same(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  trace_model = m;
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, (hs_str_t){"acme", 4}, &a), 0);
  uint64_t h1 = 0, h2 = 0;
  for (int d = 0; d < 200; d++)
    day_events(a, m, d, trace, &h1);
  hs_buf_t b1, b2;
  hs_buf_init(&b1);
  hs_buf_init(&b2);
  assert_int_equal(hs_account_encode(m, a, &b1), 0);
  hs_account_t *c;
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &c, &err), 0);
  assert_int_equal(hs_account_encode(m, c, &b2), 0);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  /* both go on identically */
  uint64_t save = rng;
  h2 = h1;
  for (int d = 200; d < 300; d++)
    day_events(a, m, d, trace, &h1);
  rng = save;
  for (int d = 200; d < 300; d++)
    day_events(c, m, d, trace, &h2);
  assert_true(h1 == h2);
  b1.len = b2.len = 0;
  assert_int_equal(hs_account_encode(m, a, &b1), 0);
  assert_int_equal(hs_account_encode(m, c, &b2), 0);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  print_message("state of one account after 300 days: %zu bytes of msgpack, %zu bytes in memory\n",
                b1.len, hs_account_memory(m, a));
  hs_account_free(c);
  hs_account_free(a);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_model_free(m);
}

/* An account that never saw an event (every series and the history empty)
 * round-trips too. */
static void test_empty_account_round_trips(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  hs_account_t *a, *c;
  assert_int_equal(hs_account_new(m, (hs_str_t){"new", 3}, &a), 0);
  hs_buf_t b1, b2;
  hs_buf_init(&b1);
  hs_buf_init(&b2);
  assert_int_equal(hs_account_encode(m, a, &b1), 0);
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &c, &err), 0);
  assert_int_equal(hs_account_encode(m, c, &b2), 0);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  assert_int_equal(hs_account_clock(c), INT64_MIN);
  /* its score record: no score, band unknown */
  hs_buf_t j;
  hs_buf_init(&j);
  assert_int_equal(hs_output_account_json(m, c, INT64_MIN, true, &j), 0);
  assert_int_equal(hs_buf_append(&j, "", 1), 0);
  assert_non_null(strstr(j.data, "\"score\":null"));
  assert_non_null(strstr(j.data, "\"band\":\"unknown\""));
  hs_buf_free(&j);
  hs_account_free(a);
  hs_account_free(c);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_model_free(m);
}

/* The record stored in Redis is the explained record without "metrics". */
static void test_stored_record_is_the_explained_one_without_metrics(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  hs_account_t *a = account_of_days(m, 60);
  hs_buf_t full, lean;
  hs_buf_init(&full);
  hs_buf_init(&lean);
  assert_int_equal(hs_output_account_json(m, a, INT64_MIN, true, &full), 0);
  assert_int_equal(hs_output_account_json(m, a, INT64_MIN, false, &lean), 0);
  assert_int_equal(hs_buf_append(&full, "", 1), 0);
  assert_int_equal(hs_buf_append(&lean, "", 1), 0);
  char *mk = strstr(full.data, ",\"metrics\":[");
  char *tk = strstr(full.data, ",\"top_contributors\":[");
  assert_non_null(mk);
  assert_non_null(tk);
  assert_true(mk < tk);
  assert_null(strstr(lean.data, "\"metrics\""));
  /* the same bytes before and after the explanation */
  size_t before = (size_t)(mk - full.data);
  assert_memory_equal(full.data, lean.data, before);
  assert_string_equal(lean.data + before, tk);
  assert_true(lean.len * 3 < full.len);
  hs_buf_free(&full);
  hs_buf_free(&lean);
  hs_account_free(a);
  hs_model_free(m);
}

/* The record GET /v1/accounts/{id} answers: the explained record, then the
 * daily history before its closing brace, one entry per day with a score. */
static void test_history_record_is_the_explained_one_with_its_days(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  hs_account_t *a = account_of_days(m, 60);
  hs_buf_t full, hist;
  hs_buf_init(&full);
  hs_buf_init(&hist);
  assert_int_equal(hs_output_account_json(m, a, INT64_MIN, true, &full), 0);
  assert_int_equal(hs_output_account_history_json(m, a, &hist), 0);
  assert_int_equal(hs_buf_append(&hist, "", 1), 0);
  /* the explained record, less its closing brace, then the history */
  assert_memory_equal(full.data, hist.data, full.len - 1);
  const char *h = hist.data + full.len - 1;
  assert_true(!strncmp(h, ",\"history\":{\"", 12));
  assert_string_equal(hist.data + hist.len - 3, "}}");
  int32_t last = hs_account_history_last(a);
  char day[32];
  hs_time_format((int64_t)last * HS_MS_PER_DAY, day);
  char want[48];
  snprintf(want, sizeof want, "\"%.10s\":%.1f}}", day, hs_account_history_day(m, a, last));
  assert_non_null(strstr(h, want));
  hs_buf_free(&full);
  hs_buf_free(&hist);
  hs_account_free(a);
  hs_model_free(m);
}

static void test_decodes_under_another_model(void **state) {
  (void)state;
  hs_model_t *m1 = load_model("examples/eight-categories.yaml");
  hs_model_t *m2 = load_model("examples/customer-behavior.yaml");
  hs_account_t *a = account_of_days(m1, 60);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_account_encode(m1, a, &b), 0);
  hs_account_t *c;
  hs_err_t err = {0};
  assert_int_equal(hs_account_decode(m2, b.data, b.len, &c, &err), 0);
  /* series both models share (e.g. distinct core features over 30 days) carry over */
  hs_score_t s1, s2;
  hs_account_score(m1, a, INT64_MIN, &s1);
  hs_account_score(m2, c, INT64_MIN, &s2);
  assert_true(s2.has_score);
  double core1 = NAN, core2 = NAN;
  for (uint32_t i = 0; i < s1.n_metrics; i++)
    if (!strcmp(hs_model_metric_id(m1, s1.metrics[i].metric), "core_features_30d"))
      core1 = s1.metrics[i].raw;
  for (uint32_t i = 0; i < s2.n_metrics; i++)
    if (!strcmp(hs_model_metric_id(m2, s2.metrics[i].metric), "core_features_30d"))
      core2 = s2.metrics[i].raw;
  assert_false(isnan(core1));
  assert_true(core1 == core2);
  assert_true(hs_str_eq(hs_account_attr(c, "segment"), "enterprise"));
  hs_account_free(c);
  hs_account_free(a);
  hs_buf_free(&b);
  hs_model_free(m1);
  hs_model_free(m2);
}

static void test_rejects_newer_versions_and_corrupt_bytes(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/customer-behavior.yaml");
  hs_account_t *a, *c;
  hs_err_t err = {0};
  assert_int_equal(hs_account_new(m, (hs_str_t){"acme", 4}, &a), 0);
  for (int d = 0; d < 40; d++)
    day_events(a, m, d, NULL, NULL);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_account_encode(m, a, &b), 0);
  /* "v" is the first key: 0xa1 'v' 0x01 */
  assert_true((unsigned char)b.data[1] == 0xa1 && b.data[2] == 'v' && b.data[3] == 1);
  b.data[3] = 2;
  assert_int_equal(hs_account_decode(m, b.data, b.len, &c, &err), HS_E_VERSION);
  assert_non_null(strstr(err.msg, "newer"));
  b.data[3] = 1;
  size_t before = hs_alloc_bytes();
  for (size_t i = 0; i < b.len; i++)
    assert_true(hs_account_decode(m, b.data, i, &c, &err) < 0);
  for (size_t i = 0; i < b.len; i += 7) { /* flipped bytes: an error or a state, never a crash */
    char saved = b.data[i];
    b.data[i] = (char)(b.data[i] ^ 0x5a);
    if (hs_account_decode(m, b.data, b.len, &c, &err) == 0)
      hs_account_free(c);
    b.data[i] = saved;
  }
  assert_int_equal(hs_alloc_bytes(), before);
  hs_buf_free(&b);
  hs_account_free(a);
  hs_model_free(m);
}

/* Attributes are newest per field: the state keeps the time each was set
 * at, so that a late account event after a restart sets what it would have
 * set before. A state written before those times were kept (an "attrs"
 * entry of 8 elements) still decodes: its attributes count as set at the
 * latest account event. */
static const char *attrs_yaml = "metrics:\n"
                                "  seats: {kind: attribute, attribute: licenses}\n"
                                "  tenure: {kind: attribute, attribute: tenure_days}\n"
                                "  renewal: {kind: attribute, attribute: days_to_renewal}\n"
                                "profiles:\n"
                                "  - name: p\n"
                                "    default: true\n"
                                "    groups:\n"
                                "      - name: g\n"
                                "        weight: 100\n"
                                "        metrics:\n"
                                "          - {metric: seats, worst: 0, best: 100}\n"
                                "          - {metric: tenure, worst: 0, best: 365}\n"
                                "          - {metric: renewal, worst: 0, best: 365}\n";

static hs_event_t account_event(int64_t ts, double seats, int64_t start, int64_t renewal,
                                const char *tier) {
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.type = HS_EV_ACCOUNT;
  ev.ts_ms = ts;
  ev.account_id = (hs_str_t){"acme", 4};
  static char ids[64][8]; /* every event its own id */
  static unsigned next;
  char *id = ids[next++ % 64];
  snprintf(id, sizeof ids[0], "e%u", next);
  ev.event_id = (hs_str_t){id, (uint32_t)strlen(id)};
  if (seats > 0) {
    ev.licenses = seats;
    ev.present |= HS_FIELD_BIT(HS_F_LICENSES);
  }
  if (start) {
    ev.contract_start_ms = start;
    ev.present |= HS_FIELD_BIT(HS_F_CONTRACT_START);
  }
  if (renewal) {
    ev.renewal_ms = renewal;
    ev.present |= HS_FIELD_BIT(HS_F_RENEWAL_DATE);
  }
  if (tier) {
    ev.n_attrs = 1;
    ev.attr_key[0] = (hs_str_t){"tier", 4};
    ev.attr_val[0] = (hs_str_t){tier, (uint32_t)strlen(tier)};
  }
  return ev;
}

/* The first occurrence of `needle` (n bytes) in b, or NULL. */
static const char *find_bytes(const hs_buf_t *b, const char *needle, size_t n) {
  for (size_t i = 0; i + n <= b->len; i++)
    if (memcmp(b->data + i, needle, n) == 0)
      return b->data + i;
  return NULL;
}

/* Bytes of the msgpack integer or nil at p. */
static size_t skip_time(const unsigned char *p) {
  if (*p == 0xc0 || *p < 0x80)
    return 1;
  return *p == 0xcf || *p == 0xd3 ? 9 : *p == 0xce || *p == 0xd2 ? 5 : 0;
}

static void test_attribute_times_round_trip_and_older_states_decode(void **state) {
  (void)state;
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(attrs_yaml, strlen(attrs_yaml), "a.yaml", &cfg, &err), 0);
  assert_int_equal(hs_model_compile(cfg, &m, &err), 0);
  hs_config_free(cfg);
  hs_account_t *a, *c, *o;
  assert_int_equal(hs_account_new(m, (hs_str_t){"acme", 4}, &a), 0);
  hs_event_t e1 = account_event(T0 + 10 * DAY, 20, T0 - 100 * DAY, 0, "gold");
  hs_event_t e2 = account_event(T0 + 12 * DAY, 50, 0, 0, NULL);
  assert_int_equal(hs_account_apply(m, a, &e1, NULL, NULL), HS_APPLIED);
  assert_int_equal(hs_account_apply(m, a, &e2, NULL, NULL), HS_APPLIED);
  hs_buf_t b1, b2, old;
  hs_buf_init(&b1);
  hs_buf_init(&b2);
  hs_buf_init(&old);
  assert_int_equal(hs_account_encode(m, a, &b1), 0);
  assert_int_equal(hs_account_decode(m, b1.data, b1.len, &c, &err), 0);
  assert_int_equal(hs_account_encode(m, c, &b2), 0);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  /* the same state as a build that did not keep the times wrote it */
  const char *at = find_bytes(&b1,
                              "\xa5"
                              "attrs\x99",
                              7);
  const char *end = find_bytes(&b1,
                               "\xa7"
                               "outcome",
                               8);
  assert_non_null(at);
  assert_non_null(end);
  const unsigned char *times = (const unsigned char *)end;
  /* the times array: a fixarray of 7 (6 attributes and the custom one) */
  const unsigned char *t = (const unsigned char *)at + 7;
  const unsigned char *p = times;
  for (p = (const unsigned char *)at + 7; p < times; p++) {
    if (*p != 0x97)
      continue;
    const unsigned char *q = p + 1;
    int k = 0;
    for (; k < 7 && q < times; k++) {
      size_t n = skip_time(q);
      if (!n)
        break;
      q += n;
    }
    if (k == 7 && q == times) {
      t = p;
      break;
    }
  }
  assert_true(p < times);
  hs_buf_append(&old, b1.data, (size_t)((const char *)t - b1.data));
  old.data[(at - b1.data) + 6] = (char)0x98;
  hs_buf_append(&old, end, b1.len - (size_t)(end - b1.data));
  assert_int_equal(hs_account_decode(m, old.data, old.len, &o, &err), 0);
  /* a late account event: it sets what no newer event set (contract start
     and renewal here), whether the state was read back or not */
  hs_event_t late = account_event(T0 + 11 * DAY, 99, T0 - 50 * DAY, T0 + 300 * DAY, "silver");
  hs_account_t *accounts[3] = {a, c, o};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(hs_account_apply(m, accounts[i], &late, NULL, NULL), HS_APPLIED);
    hs_score_t s;
    hs_account_score(m, accounts[i], INT64_MIN, &s);
    assert_true(s.metrics[0].raw == 50);                     /* seats: from e2 */
    assert_true(fabs(s.metrics[2].raw - (300 - 12)) < 1e-9); /* renewal: set late */
    bool old_state = i == 2; /* contract start: e1's time was not kept */
    assert_true(fabs(s.metrics[1].raw - (old_state ? 112 : 62)) < 1e-9);
    assert_true(hs_str_eq(hs_account_attr(accounts[i], "tier"), old_state ? "gold" : "silver"));
  }
  b1.len = b2.len = 0;
  assert_int_equal(hs_account_encode(m, a, &b1), 0);
  assert_int_equal(hs_account_encode(m, c, &b2), 0);
  assert_int_equal(b1.len, b2.len);
  assert_memory_equal(b1.data, b2.data, b1.len);
  hs_account_free(a);
  hs_account_free(c);
  hs_account_free(o);
  hs_buf_free(&b1);
  hs_buf_free(&b2);
  hs_buf_free(&old);
  hs_model_free(m);
}

/* Out of memory at any allocation of an encoding (the buffer growing, the
 * sorted event ids) is HS_E_NOMEM with the buffer as it was: never a state
 * cut short reported as written. Each allocation fails in turn, into a
 * buffer that already holds bytes (as a flush's does). */
static void test_encoding_out_of_memory_leaves_the_buffer_as_it_was(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  hs_account_t *a = account_of_days(m, 60);
  hs_buf_t whole;
  hs_buf_init(&whole);
  assert_int_equal(hs_account_encode(m, a, &whole), 0);
  int failures = 0;
  for (uint64_t k = 1;; k++) {
    hs_buf_t b;
    hs_buf_init(&b);
    assert_int_equal(hs_buf_append(&b, "prefix", 6), 0);
    hs_alloc_fail_after(k);
    int rc = hs_account_encode(m, a, &b);
    bool failed = hs_alloc_fail_pending() == 0;
    hs_alloc_fail_after(0);
    if (!failed) { /* k is past the encoding's allocations */
      assert_int_equal(rc, 0);
      hs_buf_free(&b);
      break;
    }
    failures++;
    if (rc == 0) { /* the failed allocation was not needed: the whole state */
      if (b.len != 6 + whole.len || memcmp(b.data + 6, whole.data, whole.len))
        fail_msg("allocation %llu failed: encoding returned 0 with %zu of %zu bytes",
                 (unsigned long long)k, b.len - 6, whole.len);
    } else {
      assert_int_equal(rc, HS_E_NOMEM);
      if (b.len != 6)
        fail_msg("allocation %llu failed: HS_E_NOMEM, but %zu bytes left after the prefix",
                 (unsigned long long)k, b.len - 6);
    }
    hs_buf_free(&b);
  }
  assert_true(failures >= 3); /* the buffer grew, and the ids were sorted */
  hs_buf_free(&whole);
  hs_account_free(a);
  hs_model_free(m);
}

/* A distinct series' keys are written sorted by hash, so the state is the
 * same bytes whatever order its keys came in (the table's layout follows
 * it); it round-trips. */
static void test_many_distinct_keys_encode_canonically(void **state) {
  (void)state;
  hs_model_t *m = load_model("examples/eight-categories.yaml");
  enum { USERS = 4000 }; /* under the 4,096 event ids an account remembers */
  hs_buf_t b[2];
  for (int order = 0; order < 2; order++) {
    hs_account_t *a;
    assert_int_equal(hs_account_new(m, (hs_str_t){"acme", 4}, &a), 0);
    for (int i = 0; i < USERS; i++) {
      int u = order ? USERS - 1 - i : i;
      char uid[24], eid[24];
      snprintf(uid, sizeof uid, "user-%d", u);
      snprintf(eid, sizeof eid, "login-%d", u);
      hs_event_t ev;
      memset(&ev, 0, sizeof ev);
      ev.type = HS_EV_LOGIN;
      ev.ts_ms = T0 + 3 * DAY;
      ev.account_id = (hs_str_t){"acme", 4};
      ev.event_id = (hs_str_t){eid, (uint32_t)strlen(eid)};
      ev.user_id = (hs_str_t){uid, (uint32_t)strlen(uid)};
      ev.present = HS_FIELD_BIT(HS_F_USER_ID);
      assert_true(hs_account_apply(m, a, &ev, NULL, NULL) >= 0);
    }
    hs_buf_init(&b[order]);
    assert_int_equal(hs_account_encode(m, a, &b[order]), 0);
    hs_account_free(a);
  }
  assert_int_equal(b[0].len, b[1].len);
  assert_memory_equal(b[0].data, b[1].data, b[0].len);
  hs_account_t *c;
  hs_err_t err = {0};
  hs_buf_t again;
  hs_buf_init(&again);
  assert_int_equal(hs_account_decode(m, b[0].data, b[0].len, &c, &err), 0);
  assert_int_equal(hs_account_encode(m, c, &again), 0);
  assert_int_equal(again.len, b[0].len);
  assert_memory_equal(again.data, b[0].data, again.len);
  print_message("%d distinct users, in two orders: %zu bytes of state either way\n", USERS,
                b[0].len);
  hs_account_free(c);
  hs_buf_free(&again);
  hs_buf_free(&b[0]);
  hs_buf_free(&b[1]);
  hs_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_is_bit_for_bit_and_behaves_the_same),
      cmocka_unit_test(test_history_record_is_the_explained_one_with_its_days),
      cmocka_unit_test(test_empty_account_round_trips),
      cmocka_unit_test(test_stored_record_is_the_explained_one_without_metrics),
      cmocka_unit_test(test_decodes_under_another_model),
      cmocka_unit_test(test_rejects_newer_versions_and_corrupt_bytes),
      cmocka_unit_test(test_attribute_times_round_trip_and_older_states_decode),
      cmocka_unit_test(test_encoding_out_of_memory_leaves_the_buffer_as_it_was),
      cmocka_unit_test(test_many_distinct_keys_encode_canonically),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
