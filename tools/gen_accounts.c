/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The accounts `healthscore gen` simulates (gen_accounts.h). Each account
 * draws from its own random stream seeded by (seed, account index), so adding
 * accounts never changes the existing ones. */
#include "gen_accounts.h"

#include "healthscore/base.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY HS_MS_PER_DAY

static const char *const archetype_names[A__COUNT] = {"healthy",       "declining",  "sudden_drop",
                                                      "churning",      "onboarding", "seasonal_dip",
                                                      "silent_surveys"};
const double gen_default_mix[A__COUNT] = {45, 12, 8, 10, 10, 10, 5};

static const char *const features[] = {"dashboards", "reports", "integrations",
                                       "automation", "api",     "mobile"};
static const char *const roles[] = {"executive", "champion", "admin", "end_user"};
static const char *const segments[] = {"smb", "mid_market", "enterprise"};
static const char *const verticals[] = {"saas", "fintech", "healthcare", "retail", "manufacturing"};
static const char *const priorities[] = {"low", "normal", "high", "urgent"};

static uint64_t next(rng_t *r) {
  uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}
static double unif(rng_t *r) {
  return (double)(next(r) >> 11) / 9007199254740992.0;
}
static int below(rng_t *r, int n) {
  return (int)(next(r) % (uint64_t)n);
}
static bool chance(rng_t *r, double p) {
  return unif(r) < p;
}

/* The account's activity level on day d, 0 (silent) .. ~1 (healthy). */
static double activity(const gen_t *g, const account_t *a, int d) {
  double D = g->days;
  switch (a->archetype) {
  case A_DECLINING:
    return d < D / 4 ? 1.0 : 1.0 - 0.9 * (d - D / 4) / (3 * D / 4);
  case A_SUDDEN_DROP:
    return d < a->event_day ? 1.0 : 0.1;
  case A_CHURNING:
    return d >= 0.75 * D ? 0.0 : 0.6 - 0.35 * d / (0.75 * D);
  case A_ONBOARDING:
    return d < a->start_day ? 0 : fmin(1.0, 0.15 + 0.85 * (d - a->start_day) / 45.0);
  case A_SEASONAL_DIP:
    return d >= a->event_day && d < a->event_day + a->dip_days ? 0.25 : 1.0;
  default:
    return 1.0;
  }
}

static gev_t *add(gen_t *g, account_t *a, uint32_t ai, hs_event_type_t type, int64_t ts) {
  gev_t *grown = hs_array_grow(g->evs, &g->cap_evs, g->n_evs, sizeof *g->evs, 4096);
  if (!grown)
    return NULL;
  g->evs = grown;
  gev_t *e = &g->evs[g->n_evs++];
  memset(&e->ev, 0, offsetof(hs_event_t, attr_key));
  e->account = ai;
  e->seq = (uint32_t)a->seq++;
  e->ev.type = type;
  e->ev.ts_ms = ts;
  snprintf(e->event_id, sizeof e->event_id, "%s-%d", a->id, a->seq);
  return e;
}

void gen_set_str(hs_str_t *dst, const char *s) {
  *dst = (hs_str_t){s, (uint32_t)strlen(s)};
}

#define PRESENT(e, f) ((e)->ev.present |= HS_FIELD_BIT(f))

static int stage_of(const gen_t *g, const account_t *a, int d) {
  (void)g;
  if (a->archetype != A_ONBOARDING)
    return a->segment == 0 ? 2 : 2; /* mature */
  int age = d - a->start_day;
  return age < 60 ? 0 : age < 180 ? 1 : 2;
}
static const char *const stages[] = {"onboarding", "adoption", "mature", "renewal"};

static int account_event(gen_t *g, account_t *a, uint32_t ai, int64_t ts, int stage, bool full) {
  gev_t *e = add(g, a, ai, HS_EV_ACCOUNT, ts);
  if (!e)
    return HS_E_NOMEM;
  gen_set_str(&e->ev.stage, stages[stage]);
  PRESENT(e, HS_F_STAGE);
  if (full) {
    gen_set_str(&e->ev.segment, segments[a->segment]);
    gen_set_str(&e->ev.vertical, verticals[a->vertical]);
    e->ev.licenses = a->licenses;
    e->ev.contract_start_ms = a->contract_start_ms;
    e->ev.renewal_ms = a->contract_start_ms + 365 * DAY;
    e->ev.present |= HS_FIELD_BIT(HS_F_SEGMENT) | HS_FIELD_BIT(HS_F_VERTICAL) |
                     HS_FIELD_BIT(HS_F_LICENSES) | HS_FIELD_BIT(HS_F_CONTRACT_START) |
                     HS_FIELD_BIT(HS_F_RENEWAL_DATE);
    e->ev.n_attrs = 2;
    gen_set_str(&e->ev.attr_key[0], "archetype");
    snprintf(e->attr_val[0], sizeof e->attr_val[0], "%s", archetype_names[a->archetype]);
    gen_set_str(&e->ev.attr_key[1], "csm");
    snprintf(e->attr_val[1], sizeof e->attr_val[1], "csm-%d", (int)(ai % 17) + 1);
  }
  a->last_stage = stage;
  return 0;
}

/* What the steps of one account's day share. */
typedef struct day_s {
  gen_t *g;
  account_t *a;
  uint32_t ai;
  int d;
  int64_t day0; /* the day's first millisecond */
  double act;   /* activity(), 0 .. ~1 */
  double week;  /* 0.3 on weekends, else 1 */
  bool surveys; /* the account answers surveys */
  rng_t *r;
} day_t;

/* Logins of the active share of the user pool, some followed by a feature use. */
static int day_logins(const day_t *x) {
  /* usage: the active share of the user pool logs in */
  int active_users = (int)ceil(x->a->users * fmin(1.0, x->act));
  for (int u = 0; u < active_users; u++) {
    if (!chance(x->r, 0.5 * x->week * (0.5 + 0.5 * x->act)))
      continue;
    int64_t ts = x->day0 + 7 * 3600000 + (int64_t)below(x->r, 12 * 3600000);
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_LOGIN, ts);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->user, sizeof e->user, "u%d", u + 1);
    e->ev.session_seconds = (double)(300 + below(x->r, 2100)) * (0.5 + 0.5 * x->act);
    e->ev.session_seconds = floor(e->ev.session_seconds);
    e->ev.present |= HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SESSION_SECONDS);
    if (chance(x->r, 0.3)) {
      size_t login = (size_t)(e - x->g->evs); /* add() may move the array */
      gev_t *f = add(x->g, x->a, x->ai, HS_EV_FEATURE_USED, ts + 60000 + below(x->r, 600000));
      if (!f)
        return HS_E_NOMEM;
      memcpy(f->user, x->g->evs[login].user, sizeof f->user);
      int fi = chance(x->r, 0.3 + 0.6 * x->act) ? below(x->r, 3) : 3 + below(x->r, 3);
      gen_set_str(&f->ev.feature, features[fi]);
      f->ev.count = 1 + below(x->r, 3);
      f->ev.present |=
          HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_FEATURE) | HS_FIELD_BIT(HS_F_COUNT);
    }
  }
  return 0;
}

/* A meeting, call, email or note with the customer: about weekly when healthy. */
static int day_engagement(const day_t *x) {
  /* engagement with the customer: about weekly when healthy */
  if (x->act > 0 && chance(x->r, x->week * (x->act >= 0.9 ? 0.3 : x->act * 0.25))) {
    static const hs_event_type_t kinds[] = {HS_EV_MEETING, HS_EV_CALL, HS_EV_EMAIL_IN,
                                            HS_EV_EMAIL_OUT, HS_EV_NOTE};
    gev_t *e = add(x->g, x->a, x->ai, kinds[below(x->r, 5)],
                   x->day0 + 9 * 3600000 + below(x->r, 8 * 3600000));
    if (!e)
      return HS_E_NOMEM;
    int role = below(x->r, 4);
    if (x->a->archetype == A_SUDDEN_DROP && x->d >= x->a->event_day && role == 1)
      role = 2; /* the champion left */
    if (x->act < 0.5 && role == 0)
      role = 3; /* executives stop taking calls */
    gen_set_str(&e->ev.role, roles[role]);
    PRESENT(e, HS_F_ROLE);
  }
  return 0;
}

/* NPS answers and the monthly CSM rating. */
static int day_surveys(const day_t *x) {
  /* x->surveys */
  if (x->surveys && x->act > 0 && chance(x->r, 1.0 / 45)) {
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_NPS, x->day0 + 15 * 3600000 + below(x->r, 3600000));
    if (!e)
      return HS_E_NOMEM;
    double base = x->a->archetype == A_CHURNING ? 1 + 3 * x->act : 10 * x->act - 0.5;
    e->ev.score = fmax(0, fmin(10, round(base + unif(x->r) * 1.5)));
    snprintf(e->user, sizeof e->user, "u%d", 1 + below(x->r, x->a->users));
    e->ev.present |= HS_FIELD_BIT(HS_F_SCORE) | HS_FIELD_BIT(HS_F_USER_ID);
  }
  if (x->act > 0 && (x->d - x->a->start_day) % 30 == 15) {
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_CSM_RATING, x->day0 + 17 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    e->ev.score = fmax(1, fmin(10, round(2 + 7.5 * x->act)));
    PRESENT(e, HS_F_SCORE);
  }
  return 0;
}

/* Closes the open support ticket (perhaps with a CSAT answer) or opens one. */
static int day_tickets(const day_t *x) {
  /* support tickets */
  if (x->a->open_ticket_close_day == x->d) {
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_TICKET_CLOSED, x->day0 + 11 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->ref, sizeof e->ref, "T-%s-%d", x->a->id + 5, x->a->open_ticket_no);
    gen_set_str(&e->ev.priority, x->a->archetype == A_CHURNING ? "urgent" : "normal");
    e->ev.present |= HS_FIELD_BIT(HS_F_TICKET_ID) | HS_FIELD_BIT(HS_F_PRIORITY);
    x->a->open_ticket_close_day = -1;
    if (x->surveys && chance(x->r, 0.5)) {
      gev_t *c = add(x->g, x->a, x->ai, HS_EV_CSAT, x->day0 + 12 * 3600000);
      if (!c)
        return HS_E_NOMEM;
      c->ev.score = x->a->archetype == A_CHURNING ? 1 + below(x->r, 2)
                    : x->act >= 0.9               ? 4 + below(x->r, 2)
                                                  : 2 + below(x->r, 3);
      PRESENT(c, HS_F_SCORE);
    }
  } else if (x->a->open_ticket_close_day < 0 && x->act > 0 &&
             chance(x->r, x->a->archetype == A_CHURNING ? 0.08 : 0.03)) {
    gev_t *e =
        add(x->g, x->a, x->ai, HS_EV_TICKET_OPENED, x->day0 + 10 * 3600000 + below(x->r, 3600000));
    if (!e)
      return HS_E_NOMEM;
    x->a->open_ticket_no++;
    snprintf(e->ref, sizeof e->ref, "T-%s-%d", x->a->id + 5, x->a->open_ticket_no);
    gen_set_str(&e->ev.priority,
                x->a->archetype == A_CHURNING ? "urgent" : priorities[below(x->r, 3)]);
    e->ev.present |= HS_FIELD_BIT(HS_F_TICKET_ID) | HS_FIELD_BIT(HS_F_PRIORITY);
    x->a->open_ticket_close_day = x->d + 1 + below(x->r, 5);
  }
  return 0;
}

/* The monthly invoice, and its payment (or its overdue notice). */
static int day_billing(const day_t *x) {
  /* billing: monthly invoices, paid on time unless the account is churning */
  if ((x->d - x->a->start_day) % 30 == x->a->bill_day) {
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_INVOICE_ISSUED, x->day0 + 6 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    x->a->invoice_no++;
    snprintf(e->ref, sizeof e->ref, "INV-%s-%d", x->a->id + 5, x->a->invoice_no);
    e->ev.amount = x->a->licenses * 20.0;
    e->ev.due_ms = x->day0 + 30 * DAY;
    e->ev.present |=
        HS_FIELD_BIT(HS_F_INVOICE_ID) | HS_FIELD_BIT(HS_F_AMOUNT) | HS_FIELD_BIT(HS_F_DUE);
    bool pays = !(x->a->archetype == A_CHURNING && x->d > x->g->days * 0.3);
    x->a->unpaid_invoice_day = pays ? x->d + 3 + below(x->r, 15) : x->d + 31;
  }
  if (x->a->unpaid_invoice_day == x->d) {
    bool overdue = x->a->archetype == A_CHURNING && x->d > x->g->days * 0.3;
    gev_t *e = add(x->g, x->a, x->ai, overdue ? HS_EV_INVOICE_OVERDUE : HS_EV_INVOICE_PAID,
                   x->day0 + 8 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->ref, sizeof e->ref, "INV-%s-%d", x->a->id + 5, x->a->invoice_no);
    e->ev.amount = x->a->licenses * 20.0;
    e->ev.present |= HS_FIELD_BIT(HS_F_INVOICE_ID) | HS_FIELD_BIT(HS_F_AMOUNT);
    x->a->unpaid_invoice_day = -1;
  }
  return 0;
}

/* References, reviews and referrals from happy customers. */
static int day_advocacy(const day_t *x) {
  /* advocacy from happy customers */
  if (x->act >= 0.9 && chance(x->r, 1.0 / 90)) {
    static const hs_event_type_t kinds[] = {HS_EV_REFERENCE, HS_EV_REVIEW, HS_EV_REFERRAL};
    hs_event_type_t k = kinds[below(x->r, 3)];
    gev_t *e = add(x->g, x->a, x->ai, k, x->day0 + 14 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    if (k == HS_EV_REVIEW) {
      e->ev.rating = 4 + below(x->r, 2);
      PRESENT(e, HS_F_RATING);
    }
  }
  return 0;
}

/* The outcome event that closes the period (periods of 60 days or more). */
static int day_outcome(const day_t *x) {
  /* the outcome closes the period */
  if (x->d == x->g->days - 1 && x->g->days >= 60) {
    double p_churn = x->a->archetype == A_CHURNING      ? 1.0
                     : x->a->archetype == A_DECLINING   ? 0.8
                     : x->a->archetype == A_SUDDEN_DROP ? 0.7
                                                        : 0.0;
    const char *o = chance(x->r, p_churn) ? "churned" : chance(x->r, 0.25) ? "expanded" : "renewed";
    gev_t *e = add(x->g, x->a, x->ai, HS_EV_OUTCOME, x->day0 + DAY - 1000);
    if (!e)
      return HS_E_NOMEM;
    gen_set_str(&e->ev.outcome, o);
    PRESENT(e, HS_F_OUTCOME);
  }
  return 0;
}

/* Generates one account's events of day d into g->evs. */
int gen_day(gen_t *g, uint32_t ai, int d) {
  account_t *a = &g->acc[ai];
  int64_t day0 = g->start_ms + (int64_t)d * DAY;
  if (d < a->start_day)
    return 0;
  int stage = stage_of(g, a, d);
  if (d == a->start_day) {
    if (account_event(g, a, ai, day0, stage, true))
      return HS_E_NOMEM;
  } else if (stage != a->last_stage) {
    if (account_event(g, a, ai, day0 + 60000, stage, false))
      return HS_E_NOMEM;
  }
  int wday = (int)((hs_day_of(day0) + 4) % 7); /* 0 = Sunday */
  day_t x = {.g = g,
             .a = a,
             .ai = ai,
             .d = d,
             .day0 = day0,
             .act = activity(g, a, d),
             .week = wday == 0 || wday == 6 ? 0.3 : 1.0,
             .surveys = a->archetype != A_SILENT_SURVEYS,
             .r = &a->rng};
  int (*const steps[])(const day_t *) = {day_logins,  day_engagement, day_surveys, day_tickets,
                                         day_billing, day_advocacy,   day_outcome};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    if (steps[i](&x))
      return HS_E_NOMEM;
  return 0;
}

static int by_time(const void *x, const void *y) {
  const gev_t *a = x, *b = y;
  if (a->ev.ts_ms != b->ev.ts_ms)
    return a->ev.ts_ms < b->ev.ts_ms ? -1 : 1;
  if (a->account != b->account)
    return a->account < b->account ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void gen_init_account(gen_t *g, uint32_t i, uint64_t seed, const double *cum) {
  account_t *a = &g->acc[i];
  memset(a, 0, sizeof *a);
  a->rng.s = seed * UINT64_C(0x100000001b3) ^ (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
  next(&a->rng);
  double x = unif(&a->rng) * cum[A__COUNT - 1];
  while (a->archetype < A__COUNT - 1 && x >= cum[a->archetype])
    a->archetype++;
  snprintf(a->id, sizeof a->id, "acct-%06u", i + 1);
  double s = unif(&a->rng);
  a->segment = s < 0.5 ? 0 : s < 0.85 ? 1 : 2;
  static const int lo[] = {5, 25, 200}, hi[] = {25, 200, 2000};
  a->licenses = lo[a->segment] + below(&a->rng, hi[a->segment] - lo[a->segment] + 1);
  a->users = a->licenses < 6 ? a->licenses : 6;
  a->vertical = below(&a->rng, 5);
  a->start_day = a->archetype == A_ONBOARDING ? below(&a->rng, g->days / 2 + 1) : 0;
  a->event_day = (int)(g->days * (0.4 + 0.2 * unif(&a->rng)));
  if (a->archetype == A_SEASONAL_DIP)
    a->event_day = (int)(g->days * (0.35 + 0.2 * unif(&a->rng)));
  a->dip_days = 14 + below(&a->rng, 8);
  a->bill_day = below(&a->rng, 30);
  a->contract_start_ms = g->start_ms + (int64_t)a->start_day * DAY -
                         (a->archetype == A_ONBOARDING ? 0 : (int64_t)below(&a->rng, 300) * DAY);
  a->open_ticket_close_day = -1;
  a->unpaid_invoice_day = -1;
  a->last_stage = -1;
}

int gen_parse_mix(const char *s, double *mix) {
  for (int i = 0; i < A__COUNT; i++)
    mix[i] = 0;
  char *copy = hs_strdup(s), *save = NULL;
  int rc = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    int k = -1;
    if (eq) {
      *eq = 0;
      for (int i = 0; i < A__COUNT; i++)
        if (!strcmp(tok, archetype_names[i]))
          k = i;
    }
    char *end;
    double v = eq ? strtod(eq + 1, &end) : -1;
    if (k < 0 || v < 0 || *end)
      rc = -1;
    else
      mix[k] = v;
  }
  hs_free(copy);
  double total = 0;
  for (int i = 0; i < A__COUNT; i++)
    total += mix[i];
  return rc || total <= 0 ? -1 : 0;
}

/* Sorts the day's events by time, giving one account's events distinct
 * times so that their order is the time order whichever topics they travel
 * on. */
void gen_order_day(gen_t *g) {
  /* one account's events get distinct times, so that their order is the
     time order whichever topics they travel on */
  for (bool again = true; again;) {
    qsort(g->evs, g->n_evs, sizeof *g->evs, by_time);
    again = false;
    for (size_t k = 1; k < g->n_evs; k++)
      if (g->evs[k].account == g->evs[k - 1].account &&
          g->evs[k].ev.ts_ms == g->evs[k - 1].ev.ts_ms) {
        g->evs[k].ev.ts_ms++;
        again = true;
      }
  }
}
