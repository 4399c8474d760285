/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore gen`: deterministic synthetic customer events with known
 * archetypes and outcomes, for demos, backtests and benchmarks. Each account
 * draws from its own random stream seeded by (seed, account index), so adding
 * accounts never changes the existing ones. */
#include "cmds.h"

#include "healthscore/codec.h"
#include "healthscore/producer.h"
#include "healthscore/time.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define DAY HS_MS_PER_DAY

enum {
  A_HEALTHY,
  A_DECLINING,
  A_SUDDEN_DROP,
  A_CHURNING,
  A_ONBOARDING,
  A_SEASONAL_DIP,
  A_SILENT_SURVEYS,
  A__COUNT
};
static const char *const archetype_names[A__COUNT] = {"healthy",       "declining",  "sudden_drop",
                                                      "churning",      "onboarding", "seasonal_dip",
                                                      "silent_surveys"};
static const double default_mix[A__COUNT] = {45, 12, 8, 10, 10, 10, 5};

static const char *const features[] = {"dashboards", "reports", "integrations",
                                       "automation", "api",     "mobile"};
static const char *const roles[] = {"executive", "champion", "admin", "end_user"};
static const char *const segments[] = {"smb", "mid_market", "enterprise"};
static const char *const verticals[] = {"saas", "fintech", "healthcare", "retail", "manufacturing"};
static const char *const priorities[] = {"low", "normal", "high", "urgent"};

typedef struct rng_s {
  uint64_t s;
} rng_t;

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

typedef struct account_s {
  rng_t rng;
  int archetype;
  char id[24];
  int segment, vertical, licenses, users;
  int start_day; /* first active day */
  int event_day; /* sudden drop day, or start of the seasonal dip */
  int dip_days;
  int bill_day; /* day of month for invoices */
  int64_t contract_start_ms;
  int seq;
  int open_ticket_close_day; /* -1: none open */
  int open_ticket_no, invoice_no;
  int unpaid_invoice_day; /* day the last invoice is paid, -1 none */
  int last_stage;
} account_t;

/* One generated event, with room for its strings. */
typedef struct gev_s {
  hs_event_t ev;
  uint32_t account;
  uint32_t seq;
  char event_id[40], ref[48], user[16];
  char attr_val[2][24];
} gev_t;

typedef struct gen_s {
  int n_accounts, days;
  int64_t start_ms;
  account_t *acc;
  gev_t *evs;
  size_t n_evs, cap_evs;
} gen_t;

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

static void set_str(hs_str_t *dst, const char *s) {
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
  set_str(&e->ev.stage, stages[stage]);
  PRESENT(e, HS_F_STAGE);
  if (full) {
    set_str(&e->ev.segment, segments[a->segment]);
    set_str(&e->ev.vertical, verticals[a->vertical]);
    e->ev.licenses = a->licenses;
    e->ev.contract_start_ms = a->contract_start_ms;
    e->ev.renewal_ms = a->contract_start_ms + 365 * DAY;
    e->ev.present |= HS_FIELD_BIT(HS_F_SEGMENT) | HS_FIELD_BIT(HS_F_VERTICAL) |
                     HS_FIELD_BIT(HS_F_LICENSES) | HS_FIELD_BIT(HS_F_CONTRACT_START) |
                     HS_FIELD_BIT(HS_F_RENEWAL_DATE);
    e->ev.n_attrs = 2;
    set_str(&e->ev.attr_key[0], "archetype");
    snprintf(e->attr_val[0], sizeof e->attr_val[0], "%s", archetype_names[a->archetype]);
    set_str(&e->ev.attr_key[1], "csm");
    snprintf(e->attr_val[1], sizeof e->attr_val[1], "csm-%d", (int)(ai % 17) + 1);
  }
  a->last_stage = stage;
  return 0;
}

/* Generates one account's events of day d into g->evs. */
static int gen_day(gen_t *g, uint32_t ai, int d) {
  account_t *a = &g->acc[ai];
  rng_t *r = &a->rng;
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
  double act = activity(g, a, d);
  int wday = (int)((hs_day_of(day0) + 4) % 7); /* 0 = Sunday */
  double week = wday == 0 || wday == 6 ? 0.3 : 1.0;
  bool surveys = a->archetype != A_SILENT_SURVEYS;
  /* usage: the active share of the user pool logs in */
  int active_users = (int)ceil(a->users * fmin(1.0, act));
  for (int u = 0; u < active_users; u++) {
    if (!chance(r, 0.5 * week * (0.5 + 0.5 * act)))
      continue;
    int64_t ts = day0 + 7 * 3600000 + (int64_t)below(r, 12 * 3600000);
    gev_t *e = add(g, a, ai, HS_EV_LOGIN, ts);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->user, sizeof e->user, "u%d", u + 1);
    e->ev.session_seconds = (double)(300 + below(r, 2100)) * (0.5 + 0.5 * act);
    e->ev.session_seconds = floor(e->ev.session_seconds);
    e->ev.present |= HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SESSION_SECONDS);
    if (chance(r, 0.3)) {
      size_t login = (size_t)(e - g->evs); /* add() may move the array */
      gev_t *f = add(g, a, ai, HS_EV_FEATURE_USED, ts + 60000 + below(r, 600000));
      if (!f)
        return HS_E_NOMEM;
      memcpy(f->user, g->evs[login].user, sizeof f->user);
      int fi = chance(r, 0.3 + 0.6 * act) ? below(r, 3) : 3 + below(r, 3);
      set_str(&f->ev.feature, features[fi]);
      f->ev.count = 1 + below(r, 3);
      f->ev.present |=
          HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_FEATURE) | HS_FIELD_BIT(HS_F_COUNT);
    }
  }
  /* engagement with the customer: about weekly when healthy */
  if (act > 0 && chance(r, week * (act >= 0.9 ? 0.3 : act * 0.25))) {
    static const hs_event_type_t kinds[] = {HS_EV_MEETING, HS_EV_CALL, HS_EV_EMAIL_IN,
                                            HS_EV_EMAIL_OUT, HS_EV_NOTE};
    gev_t *e = add(g, a, ai, kinds[below(r, 5)], day0 + 9 * 3600000 + below(r, 8 * 3600000));
    if (!e)
      return HS_E_NOMEM;
    int role = below(r, 4);
    if (a->archetype == A_SUDDEN_DROP && d >= a->event_day && role == 1)
      role = 2; /* the champion left */
    if (act < 0.5 && role == 0)
      role = 3; /* executives stop taking calls */
    set_str(&e->ev.role, roles[role]);
    PRESENT(e, HS_F_ROLE);
  }
  /* surveys */
  if (surveys && act > 0 && chance(r, 1.0 / 45)) {
    gev_t *e = add(g, a, ai, HS_EV_NPS, day0 + 15 * 3600000 + below(r, 3600000));
    if (!e)
      return HS_E_NOMEM;
    double base = a->archetype == A_CHURNING ? 1 + 3 * act : 10 * act - 0.5;
    e->ev.score = fmax(0, fmin(10, round(base + unif(r) * 1.5)));
    snprintf(e->user, sizeof e->user, "u%d", 1 + below(r, a->users));
    e->ev.present |= HS_FIELD_BIT(HS_F_SCORE) | HS_FIELD_BIT(HS_F_USER_ID);
  }
  if (act > 0 && (d - a->start_day) % 30 == 15) {
    gev_t *e = add(g, a, ai, HS_EV_CSM_RATING, day0 + 17 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    e->ev.score = fmax(1, fmin(10, round(2 + 7.5 * act)));
    PRESENT(e, HS_F_SCORE);
  }
  /* support tickets */
  if (a->open_ticket_close_day == d) {
    gev_t *e = add(g, a, ai, HS_EV_TICKET_CLOSED, day0 + 11 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->ref, sizeof e->ref, "T-%s-%d", a->id + 5, a->open_ticket_no);
    set_str(&e->ev.priority, a->archetype == A_CHURNING ? "urgent" : "normal");
    e->ev.present |= HS_FIELD_BIT(HS_F_TICKET_ID) | HS_FIELD_BIT(HS_F_PRIORITY);
    a->open_ticket_close_day = -1;
    if (surveys && chance(r, 0.5)) {
      gev_t *c = add(g, a, ai, HS_EV_CSAT, day0 + 12 * 3600000);
      if (!c)
        return HS_E_NOMEM;
      c->ev.score = a->archetype == A_CHURNING ? 1 + below(r, 2)
                    : act >= 0.9               ? 4 + below(r, 2)
                                               : 2 + below(r, 3);
      PRESENT(c, HS_F_SCORE);
    }
  } else if (a->open_ticket_close_day < 0 && act > 0 &&
             chance(r, a->archetype == A_CHURNING ? 0.08 : 0.03)) {
    gev_t *e = add(g, a, ai, HS_EV_TICKET_OPENED, day0 + 10 * 3600000 + below(r, 3600000));
    if (!e)
      return HS_E_NOMEM;
    a->open_ticket_no++;
    snprintf(e->ref, sizeof e->ref, "T-%s-%d", a->id + 5, a->open_ticket_no);
    set_str(&e->ev.priority, a->archetype == A_CHURNING ? "urgent" : priorities[below(r, 3)]);
    e->ev.present |= HS_FIELD_BIT(HS_F_TICKET_ID) | HS_FIELD_BIT(HS_F_PRIORITY);
    a->open_ticket_close_day = d + 1 + below(r, 5);
  }
  /* billing: monthly invoices, paid on time unless the account is churning */
  if ((d - a->start_day) % 30 == a->bill_day) {
    gev_t *e = add(g, a, ai, HS_EV_INVOICE_ISSUED, day0 + 6 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    a->invoice_no++;
    snprintf(e->ref, sizeof e->ref, "INV-%s-%d", a->id + 5, a->invoice_no);
    e->ev.amount = a->licenses * 20.0;
    e->ev.due_ms = day0 + 30 * DAY;
    e->ev.present |=
        HS_FIELD_BIT(HS_F_INVOICE_ID) | HS_FIELD_BIT(HS_F_AMOUNT) | HS_FIELD_BIT(HS_F_DUE);
    bool pays = !(a->archetype == A_CHURNING && d > g->days * 0.3);
    a->unpaid_invoice_day = pays ? d + 3 + below(r, 15) : d + 31;
  }
  if (a->unpaid_invoice_day == d) {
    bool overdue = a->archetype == A_CHURNING && d > g->days * 0.3;
    gev_t *e =
        add(g, a, ai, overdue ? HS_EV_INVOICE_OVERDUE : HS_EV_INVOICE_PAID, day0 + 8 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    snprintf(e->ref, sizeof e->ref, "INV-%s-%d", a->id + 5, a->invoice_no);
    e->ev.amount = a->licenses * 20.0;
    e->ev.present |= HS_FIELD_BIT(HS_F_INVOICE_ID) | HS_FIELD_BIT(HS_F_AMOUNT);
    a->unpaid_invoice_day = -1;
  }
  /* advocacy from happy customers */
  if (act >= 0.9 && chance(r, 1.0 / 90)) {
    static const hs_event_type_t kinds[] = {HS_EV_REFERENCE, HS_EV_REVIEW, HS_EV_REFERRAL};
    hs_event_type_t k = kinds[below(r, 3)];
    gev_t *e = add(g, a, ai, k, day0 + 14 * 3600000);
    if (!e)
      return HS_E_NOMEM;
    if (k == HS_EV_REVIEW) {
      e->ev.rating = 4 + below(r, 2);
      PRESENT(e, HS_F_RATING);
    }
  }
  /* the outcome closes the period */
  if (d == g->days - 1 && g->days >= 60) {
    double p_churn = a->archetype == A_CHURNING      ? 1.0
                     : a->archetype == A_DECLINING   ? 0.8
                     : a->archetype == A_SUDDEN_DROP ? 0.7
                                                     : 0.0;
    const char *o = chance(r, p_churn) ? "churned" : chance(r, 0.25) ? "expanded" : "renewed";
    gev_t *e = add(g, a, ai, HS_EV_OUTCOME, day0 + DAY - 1000);
    if (!e)
      return HS_E_NOMEM;
    set_str(&e->ev.outcome, o);
    PRESENT(e, HS_F_OUTCOME);
  }
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

static void init_account(gen_t *g, uint32_t i, uint64_t seed, const double *cum) {
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

static int parse_mix(const char *s, double *mix) {
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

/* The input topic of an event type: usage, engagement, billing, surveys or
 * accounts, after `prefix`. */
static const char *topic_suffix(hs_event_type_t t) {
  switch (t) {
  case HS_EV_LOGIN:
  case HS_EV_FEATURE_USED:
    return "usage";
  case HS_EV_INVOICE_ISSUED:
  case HS_EV_INVOICE_PAID:
  case HS_EV_INVOICE_OVERDUE:
    return "billing";
  case HS_EV_NPS:
  case HS_EV_CSAT:
  case HS_EV_CSM_RATING:
  case HS_EV_REFERENCE:
  case HS_EV_REVIEW:
  case HS_EV_REFERRAL:
    return "surveys";
  case HS_EV_ACCOUNT:
  case HS_EV_OUTCOME:
  case HS_EV_OVERRIDE:
    return "accounts";
  default:
    return "engagement";
  }
}

/* Producing to Kafka: the producer, its loop and the delivery counts. */
typedef struct kafka_out_s {
  uv_loop_t loop;
  hs_producer_t *producer;
  const char *prefix;
  uint64_t delivered, failed;
  char first_error[200];
  bool closed;
} kafka_out_t;

static void on_report(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                      const char *reason) {
  kafka_out_t *k = ud;
  (void)opaque;
  (void)partition;
  (void)offset;
  if (status) {
    if (!k->failed++)
      snprintf(k->first_error, sizeof k->first_error, "%s", reason ? reason : "");
  } else {
    k->delivered++;
  }
}

static void on_producer_closed(void *ud) {
  ((kafka_out_t *)ud)->closed = true;
}

/* Sends one encoded event; waits for room when the local queue is full. */
static int kafka_send(kafka_out_t *k, const hs_event_t *ev, const char *data, size_t len) {
  char topic[256];
  snprintf(topic, sizeof topic, "%s%s", k->prefix, topic_suffix(ev->type));
  for (;;) {
    hs_err_t err = {0};
    int rc = hs_producer_send(k->producer, topic, ev->account_id.ptr, ev->account_id.len, data, len,
                              NULL, 0, NULL, &err);
    if (rc != HS_E_TOOBIG) {
      if (rc)
        fprintf(stderr, "healthscore gen: %s\n", err.msg);
      return rc;
    }
    uv_run(&k->loop, UV_RUN_ONCE); /* the queue is full: let deliveries drain it */
  }
}

static void gen_usage(FILE *f) {
  fprintf(f, "usage: healthscore gen [options]\n\n"
             "Writes deterministic synthetic customer events, sorted by time: JSON lines or\n"
             "concatenated msgpack maps. Each account follows an archetype and ends with an\n"
             "outcome event (when the period covers at least 60 days).\n\n"
             "  -n, --accounts N     accounts (default 1000)\n"
             "  -d, --days D         days (default 90)\n"
             "  -s, --seed S         random seed (default 1)\n"
             "      --start DATE     first day, YYYY-MM-DD (default 2026-01-01)\n"
             "  -f, --format FMT     json (default) or msgpack\n"
             "  -o, --output FILE    write to FILE (default: standard output)\n"
             "  -k, --kafka BOOTSTRAP  produce to Kafka instead: each event to PREFIX + usage,\n"
             "                       engagement, billing, surveys or accounts, keyed by account\n"
             "                       id (murmur2 partitioner)\n"
             "      --topic-prefix P topic prefix with --kafka (default \"healthscore.\")\n"
             "  -r, --rate N         with --kafka: at most N events per second (default: as\n"
             "                       fast as possible)\n"
             "  -X NAME=VALUE        with --kafka: a librdkafka producer setting, e.g.\n"
             "                       linger.ms=0 (repeatable)\n"
             "      --mix LIST       archetype percentages, e.g. healthy=45,declining=12\n"
             "  -q, --quiet          no progress or summary on stderr\n"
             "  -h, --help           this text\n\n"
             "archetypes (default mix): healthy 45, declining 12, sudden_drop 8, churning 10,\n"
             "onboarding 10, seasonal_dip 10, silent_surveys 5. The account event of each\n"
             "account carries attributes.archetype.\n");
}

int hs_cmd_gen(int argc, char **argv) {
  static const struct option opts[] = {{"accounts", required_argument, NULL, 'n'},
                                       {"days", required_argument, NULL, 'd'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"start", required_argument, NULL, 'S'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"mix", required_argument, NULL, 'm'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"kafka", required_argument, NULL, 'k'},
                                       {"topic-prefix", required_argument, NULL, 'P'},
                                       {"rate", required_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  long accounts = 1000, days = 90;
  unsigned long long seed = 1;
  const char *start = "2026-01-01", *output = NULL, *kafka = NULL, *prefix = "healthscore.";
  double rate = 0;
  bool msgpack = false, quiet = false;
  enum { MAX_SET = 32 };
  const char *set[2 * MAX_SET];
  size_t n_set = 0;
  double mix[A__COUNT];
  memcpy(mix, default_mix, sizeof mix);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "n:d:s:f:o:k:r:X:qh", opts, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
    case 'n':
      accounts = strtol(optarg, &end, 10);
      if (*end || accounts < 1 || accounts > 10000000) {
        fprintf(stderr, "healthscore gen: --accounts takes 1..10000000\n");
        return 2;
      }
      break;
    case 'd':
      days = strtol(optarg, &end, 10);
      if (*end || days < 1 || days > 3650) {
        fprintf(stderr, "healthscore gen: --days takes 1..3650\n");
        return 2;
      }
      break;
    case 's':
      seed = strtoull(optarg, &end, 10);
      if (*end) {
        fprintf(stderr, "healthscore gen: --seed takes a non-negative integer\n");
        return 2;
      }
      break;
    case 'S':
      start = optarg;
      break;
    case 'f':
      if (strcmp(optarg, "json") && strcmp(optarg, "msgpack")) {
        fprintf(stderr, "healthscore gen: --format is json or msgpack\n");
        return 2;
      }
      msgpack = !strcmp(optarg, "msgpack");
      break;
    case 'o':
      output = optarg;
      break;
    case 'm':
      if (parse_mix(optarg, mix)) {
        fprintf(stderr, "healthscore gen: --mix takes name=percent pairs of: healthy, "
                        "declining, sudden_drop, churning, onboarding, seasonal_dip, "
                        "silent_surveys\n");
        return 2;
      }
      break;
    case 'q':
      quiet = true;
      break;
    case 'k':
      kafka = optarg;
      break;
    case 'P':
      prefix = optarg;
      break;
    case 'r':
      rate = strtod(optarg, &end);
      if (*end || !(rate > 0) || rate > 1e7) {
        fprintf(stderr, "healthscore gen: --rate takes a number of events per second\n");
        return 2;
      }
      break;
    case 'X': {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || n_set == MAX_SET) {
        fprintf(stderr, "healthscore gen: -X takes NAME=VALUE (at most %d)\n", MAX_SET);
        return 2;
      }
      set[2 * n_set] = optarg;
      set[2 * n_set + 1] = eq + 1;
      *eq = 0; /* argv's own memory: NAME ends here */
      n_set++;
      break;
    }
    case 'h':
      gen_usage(stdout);
      return 0;
    default:
      gen_usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "healthscore gen: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  char startbuf[40];
  snprintf(startbuf, sizeof startbuf, "%sT00:00:00Z", start);
  gen_t g = {.n_accounts = (int)accounts, .days = (int)days};
  if (strlen(start) != 10 || hs_time_parse_rfc3339(startbuf, strlen(startbuf), &g.start_ms)) {
    fprintf(stderr, "healthscore gen: --start takes a date YYYY-MM-DD\n");
    return 2;
  }
  if (n_set && !kafka) {
    fprintf(stderr, "healthscore gen: -X needs --kafka\n");
    return 2;
  }
  if (kafka && output) {
    fprintf(stderr, "healthscore gen: --kafka and --output exclude each other\n");
    return 2;
  }
  kafka_out_t ko = {.prefix = prefix};
  if (kafka) {
    hs_err_t err = {0};
    hs_producer_conf_t pc = {.bootstrap = kafka, .settings = set, .n_settings = n_set};
    uv_loop_init(&ko.loop);
    char names[5][256];
    const char *topics[5];
    static const char *const suffixes[5] = {"usage", "engagement", "billing", "surveys",
                                            "accounts"};
    for (int i = 0; i < 5; i++) {
      snprintf(names[i], sizeof names[i], "%s%s", prefix, suffixes[i]);
      topics[i] = names[i];
    }
    /* every topic learnt before the first event, so that none stalls the rest */
    if (hs_producer_new(&ko.producer, &ko.loop, &pc, on_report, &ko, &err) ||
        hs_producer_warm(ko.producer, topics, 5, 10000, &err)) {
      fprintf(stderr, "healthscore gen: %s\n", err.msg);
      if (ko.producer) {
        hs_producer_close(ko.producer, 0, NULL, NULL);
        uv_run(&ko.loop, UV_RUN_DEFAULT);
      }
      uv_loop_close(&ko.loop);
      return 1;
    }
  }
  FILE *out = kafka ? NULL : output ? fopen(output, "wb") : stdout;
  if (!kafka && !out) {
    fprintf(stderr, "healthscore gen: cannot write %s: %s\n", output, strerror(errno));
    return 1;
  }
  double cum[A__COUNT], total = 0;
  for (int i = 0; i < A__COUNT; i++)
    cum[i] = (total += mix[i]);
  g.acc = hs_calloc((size_t)accounts, sizeof *g.acc);
  hs_buf_t buf;
  hs_buf_init(&buf);
  int status = 1;
  if (!g.acc)
    goto oom;
  for (uint32_t i = 0; i < (uint32_t)accounts; i++)
    init_account(&g, i, seed, cum);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double last_report = 0;
  uint64_t written = 0, bytes = 0;
  for (int d = 0; d < days; d++) {
    g.n_evs = 0;
    for (uint32_t i = 0; i < (uint32_t)accounts; i++)
      if (gen_day(&g, i, d))
        goto oom;
    /* one account's events get distinct times, so that their order is the
       time order whichever topics they travel on */
    for (bool again = true; again;) {
      qsort(g.evs, g.n_evs, sizeof *g.evs, by_time);
      again = false;
      for (size_t k = 1; k < g.n_evs; k++)
        if (g.evs[k].account == g.evs[k - 1].account &&
            g.evs[k].ev.ts_ms == g.evs[k - 1].ev.ts_ms) {
          g.evs[k].ev.ts_ms++;
          again = true;
        }
    }
    for (size_t k = 0; k < g.n_evs; k++) {
      gev_t *e = &g.evs[k];
      set_str(&e->ev.event_id, e->event_id);
      set_str(&e->ev.account_id, g.acc[e->account].id);
      if (e->ev.present & HS_FIELD_BIT(HS_F_USER_ID))
        set_str(&e->ev.user_id, e->user);
      set_str(&e->ev.ticket_id, e->ref);
      set_str(&e->ev.invoice_id, e->ref);
      for (uint32_t a = 0; a < e->ev.n_attrs; a++)
        set_str(&e->ev.attr_val[a], e->attr_val[a]);
      size_t at = buf.len;
      int rc = msgpack ? hs_event_encode_msgpack(&e->ev, &buf) : hs_event_encode_json(&e->ev, &buf);
      if (rc || (!kafka && !msgpack && hs_buf_append(&buf, "\n", 1)))
        goto oom;
      if (kafka) {
        if (kafka_send(&ko, &e->ev, buf.data + at, buf.len - at))
          goto done;
        bytes += buf.len - at;
        buf.len = 0;
        if (rate > 0) { /* pace: event n is due at n / rate seconds */
          clock_gettime(CLOCK_MONOTONIC, &t1);
          double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
          double due = (double)(written + k + 1) / rate; /* k: this day's index */
          if (due > el) {
            struct timespec ts = {(time_t)(due - el),
                                  (long)((due - el - (double)(time_t)(due - el)) * 1e9)};
            nanosleep(&ts, NULL);
          }
        }
        if ((written + k) % 1024 == 0) /* serve delivery reports now and then */
          uv_run(&ko.loop, UV_RUN_NOWAIT);
        continue;
      }
      if (buf.len > (1 << 20)) {
        if (fwrite(buf.data, 1, buf.len, out) != buf.len)
          goto write_error;
        bytes += buf.len;
        buf.len = 0;
      }
    }
    written += g.n_evs;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!quiet && el - last_report >= 1.0) {
      last_report = el;
      fprintf(stderr, "gen: day %d/%ld, %llu events, %.0f events/s\n", d + 1, days,
              (unsigned long long)written, written / el);
    }
  }
  if (kafka) {
    hs_producer_close(ko.producer, 30000, on_producer_closed, &ko);
    ko.producer = NULL;
    uv_run(&ko.loop, UV_RUN_DEFAULT);
  } else {
    if (buf.len && fwrite(buf.data, 1, buf.len, out) != buf.len)
      goto write_error;
    bytes += buf.len;
    if (fflush(out) != 0)
      goto write_error;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (!quiet)
    fprintf(stderr, "gen: %llu events for %ld accounts over %ld days (%.1f MB) in %.2f s\n",
            (unsigned long long)written, accounts, days, bytes / 1e6, el);
  if (kafka && (!quiet || ko.failed))
    fprintf(stderr, "gen: produced to %s: %llu delivered, %llu failed%s%s\n", kafka,
            (unsigned long long)ko.delivered, (unsigned long long)ko.failed,
            ko.failed ? "; first error: " : "", ko.first_error);
  status = kafka && (ko.failed || ko.delivered != written) ? 1 : 0;
  goto done;
oom:
  fprintf(stderr, "healthscore gen: out of memory\n");
  goto done;
write_error:
  fprintf(stderr, "healthscore gen: write error: %s\n", strerror(errno));
done:
  if (ko.producer) { /* stopped early: release what was queued */
    hs_producer_close(ko.producer, 1000, on_producer_closed, &ko);
    uv_run(&ko.loop, UV_RUN_DEFAULT);
  }
  if (kafka)
    uv_loop_close(&ko.loop);
  if (out && out != stdout)
    fclose(out);
  hs_buf_free(&buf);
  hs_free(g.evs);
  hs_free(g.acc);
  return status;
}
