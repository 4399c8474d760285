/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The accounts `healthscore gen` simulates: archetypes, each account's own
 * random stream, and the events of one account's day. Deterministic: the same
 * seed gives the same events. */
#ifndef HS_TOOLS_GEN_ACCOUNTS_H
#define HS_TOOLS_GEN_ACCOUNTS_H

#include "healthscore/event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* The default archetype percentages (--mix). */
extern const double gen_default_mix[A__COUNT];

typedef struct rng_s {
  uint64_t s;
} rng_t;

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

/* Sets the borrowed string *dst to the NUL-terminated s. */
void gen_set_str(hs_str_t *dst, const char *s);
/* Seeds account i from (seed, i) and draws its archetype from the cumulative
 * percentages `cum`, its attributes and its days. */
void gen_init_account(gen_t *g, uint32_t i, uint64_t seed, const double *cum);
/* Generates account ai's events of day d into g->evs. Returns 0 or
 * HS_E_NOMEM (the events added so far stay in g->evs, the caller's). */
int gen_day(gen_t *g, uint32_t ai, int d);
/* Sorts the day's events by time, giving one account's events distinct
 * times so that their order is the time order whichever topics they travel
 * on. */
void gen_order_day(gen_t *g);
/* Reads --mix "name=percent,..." into mix (A__COUNT percentages). Returns 0,
 * or -1 for an unknown name or a bad number. */
int gen_parse_mix(const char *s, double *mix);

#endif
