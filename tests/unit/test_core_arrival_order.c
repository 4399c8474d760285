/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Arrival order (docs/scoring.md, "Arrival order"): the same events, in any
 * order within the allowed lateness, leave the same state, score and
 * explanation, and the evaluations after the last of them give the same
 * scores and alerts. Seeded random permutations over every metric kind,
 * with ties in time, partial account events, overrides and outcomes; and
 * with 5 % of the events delivered again at random places, which must
 * change nothing but the count of duplicates (docs/scoring.md,
 * "Duplicates"); with a dedup window shorter than the horizon, the same for
 * redeliveries that arrive inside the window. A failure prints its seed: HS_TEST_SEED=N reruns that
 * one; HS_TEST_SEEDS=N runs seeds 1..N (200 by default). */
#include "testutil.h"

#include "../../src/core/internal.h"
#include "healthscore/config.h"
#include "healthscore/state.h"
#include "healthscore/core.h"
#include "healthscore/time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY HS_MS_PER_DAY
#define HOUR (DAY / 24)
#define MAX_EVENTS 400
#define MAX_COPIES (MAX_EVENTS / 20 + 1)
#define SPAN_DAYS 59 /* the horizon is 60 days (a 30-day trend): none is late */
static const int64_t T0 = INT64_C(1767225600000); /* 2026-01-01 */

static const char *yaml =
    "metrics:\n"
    "  logins_30d: {kind: count, events: [login], window: 30d}\n"
    "  logins_7d: {kind: count, events: [login], window: 7d}\n"
    "  features_3d: {kind: count, events: [feature_used], window: 3d}\n"
    "  session_30d: {kind: sum, events: [login], field: session_seconds, window: 30d}\n"
    "  session_avg_7d: {kind: avg, events: [login], field: session_seconds, window: 7d}\n"
    "  session_min_7d: {kind: min, events: [login], field: session_seconds, window: 7d}\n"
    "  session_max_14d: {kind: max, events: [login], field: session_seconds, window: 14d}\n"
    "  users_30d: {kind: distinct, events: [login], window: 30d}\n"
    "  users_2d: {kind: distinct, events: [login], window: 2d}\n"
    "  core_5d: {kind: distinct, events: [feature_used], field: feature, window: 5d,\n"
    "            where: {feature: [dashboards, reports]}}\n"
    "  logins_per_user: {kind: count, events: [login], window: 7d, per: users_30d}\n"
    "  logins_per_seat: {kind: count, events: [login], window: 7d, per: licenses}\n"
    "  since_meeting: {kind: days_since, events: [meeting, call]}\n"
    "  nps: {kind: latest, events: [nps], field: score, max_age: 20d}\n"
    "  csm: {kind: latest, events: [csm_rating], field: score}\n"
    "  paid_ratio: {kind: ratio, num: paid_10d, den: issued_10d}\n"
    "  paid_10d: {kind: sum, events: [invoice_paid], field: amount, window: 10d}\n"
    "  issued_10d: {kind: sum, events: [invoice_issued], field: amount, window: 10d}\n"
    "  logins_trend: {kind: trend, of: logins_7d}\n"
    "  session_trend: {kind: trend, of: session_30d, mode: delta}\n"
    "  logins_slope: {kind: slope, of: logins_7d}\n"
    "  session_slope: {kind: slope, of: session_30d, window: 10d}\n"
    "  avg_trend: {kind: trend, of: session_avg_7d, mode: delta}\n"
    "  urgent_14d: {kind: count, events: [ticket_opened], window: 14d, where: {priority: "
    "[urgent]}}\n"
    "  since_urgent: {kind: days_since, events: [ticket_opened], where: {priority: [urgent, "
    "high]}}\n"
    "  seats: {kind: attribute, attribute: licenses}\n"
    "  tenure: {kind: attribute, attribute: tenure_days}\n"
    "  renewal: {kind: attribute, attribute: days_to_renewal}\n"
    "  tier: {kind: attribute, attribute: tier}\n"
    "profiles:\n"
    "  - name: enterprise\n"
    "    select: {segment: [enterprise], tier: [gold, \"3\"]}\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 100\n"
    "        metrics:\n"
    "          - {metric: logins_30d, worst: 0, best: 40}\n"
    "          - {metric: users_30d, worst: 0, best: 8}\n"
    "          - {metric: tier, worst: 0, best: 3}\n"
    "  - name: default\n"
    "    default: true\n"
    "    groups:\n"
    "      - name: Usage\n"
    "        weight: 50\n"
    "        metrics:\n"
    "          - {metric: logins_7d, worst: 0, best: 10, stages: {onboarding: {worst: 0, best: "
    "4}}}\n"
    "          - {metric: features_3d, worst: 0, best: 5}\n"
    "          - {metric: session_30d, worst: 0, best: 20000}\n"
    "          - {metric: session_avg_7d, worst: 60, best: 1800}\n"
    "          - {metric: session_min_7d, worst: 0, best: 600}\n"
    "          - {metric: session_max_14d, worst: 0, best: 3000}\n"
    "          - {metric: users_2d, worst: 0, best: 4}\n"
    "          - {metric: core_5d, worst: 0, best: 2}\n"
    "          - {metric: logins_per_user, worst: 0, best: 5}\n"
    "          - {metric: logins_per_seat, worst: 0, best: 2}\n"
    "          - {metric: logins_trend, worst: -50, best: 20}\n"
    "          - {metric: session_trend, worst: -5000, best: 0}\n"
    "          - {metric: logins_slope, worst: -1, best: 0.5}\n"
    "          - {metric: session_slope, worst: -500, best: 500}\n"
    "          - {metric: avg_trend, worst: -600, best: 600}\n"
    "      - name: Support\n"
    "        weight: 10\n"
    "        metrics:\n"
    "          - {metric: urgent_14d, worst: 3, best: 0}\n"
    "          - {metric: since_urgent, worst: 0, best: 30, missing: {value: 30}}\n"
    "      - name: Relationship\n"
    "        weight: 20\n"
    "        metrics:\n"
    "          - {metric: since_meeting, worst: 30, best: 0, missing: worst}\n"
    "          - {metric: nps, worst: 0, best: 10, missing: {value: 5}, stale: 15d}\n"
    "          - {metric: csm, worst: 1, best: 10}\n"
    "      - name: Commercial\n"
    "        weight: 20\n"
    "        metrics:\n"
    "          - {metric: paid_ratio, worst: 0, best: 1}\n"
    "          - {metric: seats, worst: 0, best: 50}\n"
    "          - {metric: tenure, worst: 0, best: 365}\n"
    "          - {metric: renewal, worst: 0, best: 180}\n"
    "alerts:\n"
    "  - {id: low, kind: threshold, below: 50, hysteresis: 5, pending: 1d}\n"
    "  - {id: red, kind: band, band: red, cooldown: 3d}\n"
    "  - {id: drop, kind: trend, lookback: 3d, drop: 5}\n"
    "  - {id: sliding, kind: slope, window: 5d, below: -0.5}\n";

static uint64_t rng_state;
static uint64_t rnd(void) {
  return hs_test_splitmix(&rng_state);
}
static uint32_t pick(uint32_t n) {
  return (uint32_t)(rnd() % n);
}

static hs_str_t S(const char *s) {
  return (hs_str_t){s, (uint32_t)strlen(s)};
}

static const char *users[] = {"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"};
static const char *features[] = {"dashboards", "reports", "export", "api"};
static const char *segments[] = {"smb", "enterprise", "mid"};
static const char *stages[] = {"onboarding", "adopting", "mature"};
static const char *tiers[] = {"1", "2", "3", "gold", ""};
static const char *targets[] = {"score", "nps", "logins_7d"};
static const char *outcomes[] = {"renewed", "churned", "expanded"};
static char ids[MAX_EVENTS][8];

/* A random event of account "A": times fall on a few hours of a few days,
 * so that many share a time exactly. */
static hs_event_t random_event(int k) {
  hs_event_t ev;
  memset(&ev, 0, sizeof ev);
  snprintf(ids[k], sizeof ids[k], "e%d", k);
  ev.event_id = S(ids[k]);
  ev.account_id = S("A");
  ev.ts_ms = T0 + (int64_t)pick(SPAN_DAYS) * DAY + (int64_t)(pick(3) * 8) * HOUR;
  uint32_t r = pick(100);
  if (r < 30) {
    ev.type = HS_EV_LOGIN;
    ev.user_id = S(users[pick(9)]);
    ev.present = HS_FIELD_BIT(HS_F_USER_ID);
    if (pick(5)) {
      ev.session_seconds = 60.0 * (1 + pick(40)) + 0.5 * pick(2);
      ev.present |= HS_FIELD_BIT(HS_F_SESSION_SECONDS);
    }
  } else if (r < 42) {
    ev.type = HS_EV_FEATURE_USED;
    ev.feature = S(features[pick(4)]);
    ev.user_id = S(users[pick(9)]);
    ev.present = HS_FIELD_BIT(HS_F_FEATURE) | HS_FIELD_BIT(HS_F_USER_ID);
  } else if (r < 48) {
    ev.type = pick(2) ? HS_EV_MEETING : HS_EV_CALL;
    if (pick(2)) {
      static const char *prio[] = {"urgent", "high", "low"};
      ev.type = HS_EV_TICKET_OPENED;
      ev.priority = S(prio[pick(3)]);
      ev.present = HS_FIELD_BIT(HS_F_PRIORITY);
    }
  } else if (r < 56) {
    ev.type = pick(2) ? HS_EV_NPS : HS_EV_CSM_RATING;
    ev.score = (double)(1 + pick(10));
    ev.present = HS_FIELD_BIT(HS_F_SCORE);
  } else if (r < 66) {
    ev.type = pick(2) ? HS_EV_INVOICE_PAID : HS_EV_INVOICE_ISSUED;
    ev.amount = 100.0 * (1 + pick(9)) + 0.25 * pick(4);
    ev.present = HS_FIELD_BIT(HS_F_AMOUNT);
  } else if (r < 84) {
    ev.type = HS_EV_ACCOUNT; /* each field or not: they must merge per field */
    if (pick(3) == 0) {
      ev.segment = S(segments[pick(3)]);
      ev.present |= HS_FIELD_BIT(HS_F_SEGMENT);
    }
    if (pick(3) == 0) {
      ev.stage = S(stages[pick(3)]);
      ev.present |= HS_FIELD_BIT(HS_F_STAGE);
    }
    if (pick(4) == 0) {
      ev.vertical = S(pick(2) ? "retail" : "");
      ev.present |= HS_FIELD_BIT(HS_F_VERTICAL);
    }
    if (pick(2) == 0) {
      ev.licenses = (double)(5 * (1 + pick(10)));
      ev.present |= HS_FIELD_BIT(HS_F_LICENSES);
    }
    if (pick(3) == 0) {
      ev.contract_start_ms = T0 - (int64_t)pick(400) * DAY;
      ev.present |= HS_FIELD_BIT(HS_F_CONTRACT_START);
    }
    if (pick(3) == 0) {
      ev.renewal_ms = T0 + (int64_t)pick(400) * DAY;
      ev.present |= HS_FIELD_BIT(HS_F_RENEWAL_DATE);
    }
    if (pick(3) == 0) {
      ev.attr_key[ev.n_attrs] = S("tier");
      ev.attr_val[ev.n_attrs++] = S(tiers[pick(5)]);
    }
    if (pick(4) == 0) {
      ev.attr_key[ev.n_attrs] = S("region");
      ev.attr_val[ev.n_attrs++] = S(pick(2) ? "emea" : "amer");
    }
  } else if (r < 94) {
    ev.type = HS_EV_OVERRIDE;
    ev.target = S(targets[pick(3)]);
    ev.value = (double)(10 * pick(10));
    ev.expires_ms = ev.ts_ms + ((int64_t)pick(20) - 4) * DAY; /* some lift the pin */
    ev.reason = S(pick(2) ? "escalation" : "manual");
    ev.author = S(pick(2) ? "ann" : "bob");
    ev.present = HS_FIELD_BIT(HS_F_TARGET) | HS_FIELD_BIT(HS_F_VALUE) | HS_FIELD_BIT(HS_F_EXPIRES) |
                 HS_FIELD_BIT(HS_F_REASON) | HS_FIELD_BIT(HS_F_AUTHOR);
  } else {
    ev.type = HS_EV_OUTCOME;
    ev.outcome = S(outcomes[pick(3)]);
    ev.present = HS_FIELD_BIT(HS_F_OUTCOME);
  }
  return ev;
}

/* Every evaluation after the events, as published bytes. */
typedef struct trace_s {
  const hs_model_t *m;
  hs_buf_t out;
} trace_t;

static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  trace_t *t = ud;
  assert_int_equal(hs_output_score_json(t->m, a, ev, &t->out), 0);
  for (uint32_t i = 0; i < ev->n_alerts; i++)
    assert_int_equal(hs_output_alert_json(t->m, ev, &ev->alerts[i], ev->at_ms, &t->out), 0);
}

/* Forgets what the evaluations on the way left (the rule states, the daily
 * history, the previous score): those follow the arrival, as documented. */
static void forget_evaluations(const hs_model_t *m, hs_account_t *a) {
  for (uint32_t i = 0; i < hs_model_n_rules(m); i++)
    a->rules[i] = (hs__rule_state_t){false, INT64_MIN, INT64_MIN, INT64_MIN};
  for (uint32_t i = 0; i < m->history_days; i++)
    a->hist[i] = NAN;
  a->hist_head = INT32_MIN;
  a->has_score = false;
  a->score = 0;
  a->band = -1;
  a->profile = -1;
  a->prev_profile = -1;
  a->last_eval_ms = a->clock_ms;
}

/* Applies `n` events in `order` to a new account (indexes from `n_distinct`
 * on are copies of earlier events, delivered again: each must come back
 * HS_DUPLICATE, or be the first of its id to arrive); then what must not
 * depend on the order: the state, the score record with its explanation,
 * and 30 days of evaluations and alerts after. */
static void run(const hs_model_t *m, const hs_event_t *evs, size_t n_distinct, const size_t *order,
                size_t n, hs_buf_t *out) {
  hs_account_t *a;
  assert_int_equal(hs_account_new(m, S("A"), &a), 0);
  size_t dups = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = hs_account_apply(m, a, &evs[order[i]], NULL, NULL);
    assert_true(rc == HS_APPLIED || rc == HS_IGNORED || rc == HS_DUPLICATE);
    dups += rc == HS_DUPLICATE;
  }
  assert_int_equal(dups, n - n_distinct);
  forget_evaluations(m, a);
  assert_int_equal(hs_account_encode(m, a, out), 0);
  hs_buf_append(out, "\n", 1);
  assert_int_equal(hs_output_account_json(m, a, hs_account_clock(a), true, out), 0);
  hs_buf_append(out, "\n", 1);
  trace_t t = {m, {0}};
  for (int d = 1; d <= 30; d++)
    assert_int_equal(hs_account_advance(m, a, hs_account_clock(a) + DAY, on_eval, &t), 0);
  hs_buf_append(out, t.out.data, t.out.len);
  hs_buf_free(&t.out);
  hs_account_free(a);
}

static size_t first_difference(const hs_buf_t *x, const hs_buf_t *y) {
  size_t i = 0;
  while (i < x->len && i < y->len && x->data[i] == y->data[i])
    i++;
  return i;
}

/* Sorts `order` by event time, stably. */
static void sort_by_time(const hs_event_t *evs, size_t *order, size_t n) {
  for (size_t i = 1; i < n; i++) {
    size_t x = order[i], j = i;
    for (; j > 0 && evs[order[j - 1]].ts_ms > evs[x].ts_ms; j--)
      order[j] = order[j - 1];
    order[j] = x;
  }
}

/* Appends bytes [from, from + n) of b, printable or as \xHH. */
static void show(hs_buf_t *dst, const hs_buf_t *b, size_t from, size_t n) {
  for (size_t i = from; i < b->len && i < from + n; i++) {
    unsigned char c = (unsigned char)b->data[i];
    if (c >= 32 && c < 127)
      hs_buf_append(dst, &c, 1);
    else
      hs_buf_printf(dst, "\\x%02x", c);
  }
  hs_buf_append(dst, "", 1);
}

/* Puts the copies evs[n .. n + copies) of twin[] into `order` (the n
 * events, permuted), each at a random place after its event's first
 * delivery and while the account's clock (the latest event time so far)
 * is less than `window` days past the event's day: inside the dedup
 * window, where a redelivery is dropped whatever arrived between. A copy
 * whose event arrived when its day had already left the window has no such
 * place and is left out. Returns the length of `order`. */
static size_t insert_copies(const hs_event_t *evs, size_t n, size_t copies, const size_t *twin,
                            size_t *order, uint32_t window) {
  size_t len = n;
  for (size_t c = 0; c < copies; c++) {
    int32_t day = hs_day_of(evs[twin[c]].ts_ms);
    int64_t clock = INT64_MIN;
    size_t p = 0;
    while (order[p] != twin[c]) /* before the event: the clock it arrives on */
      clock = evs[order[p]].ts_ms > clock ? evs[order[p]].ts_ms : clock, p++;
    if (clock != INT64_MIN && day <= hs_day_of(clock) - (int32_t)window)
      continue;
    clock = evs[order[p]].ts_ms > clock ? evs[order[p]].ts_ms : clock;
    size_t last = p + 1; /* the places after the event still inside the window */
    while (last < len && hs_day_of(clock) - (int32_t)window < day) {
      clock = evs[order[last]].ts_ms > clock ? evs[order[last]].ts_ms : clock;
      if (hs_day_of(clock) - (int32_t)window >= day)
        break;
      last++;
    }
    size_t at = p + 1 + pick((uint32_t)(last - p));
    memmove(order + at + 1, order + at, (len - at) * sizeof *order);
    order[at] = n + c;
    len++;
  }
  return len;
}

/* The property under the configuration `text`. With `window` 0 (a dedup
 * window at the horizon) the copies arrive anywhere; else only inside the
 * window of `window` days (insert_copies): a redelivery arriving later is
 * applied again, so whether it counts depends on what arrived before it. */
static void check_any_order(const char *text, uint32_t window) {
  hs_config_t *cfg = NULL;
  hs_model_t *m = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_config_load_string(text, strlen(text), "order.yaml", &cfg, &err), 0);
  if (hs_model_compile(cfg, &m, &err))
    fail_msg("compile: %s", err.msg);
  assert_int_equal(hs_model_horizon_days(m), SPAN_DAYS + 1);
  assert_int_equal(hs_model_dedup_days(m), window ? window : SPAN_DAYS + 1);
  const char *fixed = getenv("HS_TEST_SEED");
  const char *many = getenv("HS_TEST_SEEDS"); /* how many seeds, for longer runs */
  uint64_t first = fixed ? strtoull(fixed, NULL, 10) : 1;
  uint64_t last = fixed ? first : many ? strtoull(many, NULL, 10) : 200;
  static hs_event_t evs[MAX_EVENTS + MAX_COPIES];
  static size_t order[MAX_EVENTS + MAX_COPIES], twin[MAX_COPIES];
  size_t late_copies = 0, all_copies = 0;
  for (uint64_t seed = first; seed <= last; seed++) {
    rng_state = seed;
    size_t n = 20 + pick(MAX_EVENTS - 20);
    for (size_t i = 0; i < n; i++) {
      evs[i] = random_event((int)i);
      order[i] = i;
    }
    /* the reference: in time order (stable), then permutations */
    sort_by_time(evs, order, n);
    hs_buf_t ref = {0};
    run(m, evs, n, order, n, &ref);
    /* redelivered: 5 % of the events (at least one) a second time */
    size_t copies = n / 20 + 1;
    for (size_t i = 0; i < copies; i++) {
      twin[i] = pick((uint32_t)n);
      evs[n + i] = evs[twin[i]];
      order[n + i] = n + i;
    }
    for (int p = 0; p < 8; p++) {
      /* even permutations: the events once; odd: with the copies */
      size_t len = p % 2 && !window ? n + copies : n;
      for (size_t i = 0; i < len; i++)
        order[i] = i;
      for (size_t i = len - 1; i > 0; i--) {
        size_t j = pick((uint32_t)i + 1), x = order[i];
        order[i] = order[j];
        order[j] = x;
      }
      if (p % 2 && window) {
        /* sources deliver roughly in time: each event up to 12 days behind
           (some past the window), then the copies inside it */
        static int64_t key[MAX_EVENTS];
        for (size_t i = 0; i < n; i++)
          key[i] = evs[i].ts_ms + (int64_t)pick(12 * 24) * HOUR;
        for (size_t i = 1; i < n; i++) {
          size_t x = order[i], j = i;
          for (; j > 0 && key[order[j - 1]] > key[x]; j--)
            order[j] = order[j - 1];
          order[j] = x;
        }
        len = insert_copies(evs, n, copies, twin, order, window);
        all_copies += copies;
        late_copies += n + copies - len;
      }
      hs_buf_t got = {0};
      run(m, evs, n, order, len, &got);
      if (got.len != ref.len || memcmp(got.data, ref.data, ref.len) != 0) {
        size_t at = first_difference(&ref, &got);
        size_t from = at > 60 ? at - 60 : 0;
        hs_buf_t x = {0}, y = {0};
        show(&x, &ref, from, 200);
        show(&y, &got, from, 200);
        print_message("seed %" PRIu64 " permutation %d: %zu events, %zu delivered again; first "
                      "difference at byte %zu\n"
                      "  in time order: ...%s\n  permuted:      ...%s\n",
                      seed, p, n, len - n, at, x.data, y.data);
        hs_buf_free(&x);
        hs_buf_free(&y);
        fail_msg("arrival order changed the result (HS_TEST_SEED=%" PRIu64 " reruns it)", seed);
      }
      hs_buf_free(&got);
    }
    hs_buf_free(&ref);
  }
  /* most copies found a place inside the window: the property was tested */
  if (window)
    print_message("%zu of %zu copies delivered inside the window\n", all_copies - late_copies,
                  all_copies);
  assert_true(late_copies * 2 <= all_copies);
  hs_model_free(m);
  hs_config_free(cfg);
}

static void test_any_arrival_order_gives_the_same_state_score_and_alerts(void **state) {
  (void)state;
  check_any_order(yaml, 0);
}

/* With a dedup window shorter than the horizon, the same holds for
 * redeliveries that arrive inside the window. */
static void test_any_order_with_redeliveries_inside_a_shorter_dedup_window(void **state) {
  (void)state;
  static char text[8192];
  snprintf(text, sizeof text, "%sdedup: {window: 7d}\n", yaml);
  check_any_order(text, 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_arrival_order_gives_the_same_state_score_and_alerts),
      cmocka_unit_test(test_any_order_with_redeliveries_inside_a_shorter_dedup_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
