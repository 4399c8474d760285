/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The report's data, shared by the text/JSON writer, the charts, the HTML
 * page, the comparison of two profiles and the weight fitting. */
#ifndef HS_REPORT_INTERNAL_H
#define HS_REPORT_INTERNAL_H

#include "healthscore/core.h"
#include "healthscore/report.h"

#include <math.h>

typedef struct day_s {
  int32_t day;
  float score; /* NAN: no score that day */
  int8_t band;
} day_t;

enum { OUT_NONE = 0, OUT_CHURNED, OUT_RENEWED, OUT_EXPANDED };

/* Per metric and day: the normalised value in half points (0..200) and the
 * effective weight in 1/250ths; MV_MISSING where the metric had no data. */
#define MV_MISSING 255
#define MV_NORM(v) ((v) == MV_MISSING ? NAN : (double)(v) / 2.0)
#define MV_WEIGHT(v) ((double)(v) / 250.0)

typedef struct acct_s {
  char *id;
  uint32_t id_len;
  char *segment;
  int band, profile;
  int outcome;
  int32_t outcome_day;
  day_t *days;
  size_t n_days, cap_days;
  uint8_t *mv; /* cap_days rows of 2 * n_metrics bytes (norm, weight) */
} acct_t;

typedef struct alert_ev_s {
  int32_t day;
  uint16_t rule;
} alert_ev_t;

struct hs_report_s {
  int horizon;
  char **bands, **profiles, **rules, **metrics;
  size_t n_bands, n_profiles, n_rules, n_metrics;
  uint64_t *fired, *resolved;
  acct_t *acc;
  size_t n_acc, cap_acc;
  hs_idmap_t map; /* account id -> index into acc (the core's account table) */
  uint64_t evaluations;
  bool *metric_seen;  /* metric was part of some evaluation */
  alert_ev_t *alerts; /* firing transitions with a time */
  size_t n_alerts, cap_alerts;
};

/* One account with an outcome and a score at the horizon. */
typedef struct pred_s {
  float score;
  bool churned;
  uint32_t acct; /* index into acc */
  uint32_t day;  /* index into the account's days */
} pred_t;

/* The index of account `id` in acc, or -1. */
long hs__find(const hs_report_t *r, hs_str_t id);
/* The index of the last scored day at or before `day`, or -1. */
long hs__score_at(const acct_t *a, int32_t day);
/* Fills `out` (room for n_acc) with the accounts that have an outcome and a
 * score at the horizon, those for which keep(ud, index) is true (keep NULL:
 * all). Returns how many; *with_outcome counts those with an outcome. */
size_t hs__predictions(const hs_report_t *r, bool (*keep)(void *ud, size_t acct), void *ud,
                       pred_t *out, size_t *with_outcome);
/* ROC AUC of "lower value means churn" (Mann-Whitney, ties count one half);
 * sorts p by score. NAN when either class is empty. */
double hs__auc(pred_t *p, size_t n);
/* Sorts by score, then churned first, then account index (deterministic). */
void hs__sort_preds(pred_t *p, size_t n);
/* Lead time of a churned account: days from the start of the last unbroken
 * red run reaching the churn; -1 if not red before churn (within a year). */
int hs__lead_days(const acct_t *a);
/* Row of metric values of day `i` of account `a`. */
static inline const uint8_t *hs__mv_row(const hs_report_t *r, const acct_t *a, size_t i) {
  return a->mv ? a->mv + i * 2 * r->n_metrics : NULL;
}

#define HS_MAX_BANDS_REPORT 15
#define HS_MAX_RULES_REPORT 32

/* HTML helpers (html.c) and the comparison section (compare.c). */
int hs__html_esc(hs_buf_t *out, const char *s);
const char *hs__band_color(const char *name, size_t i, size_t n);
int hs__compare_html(hs_buf_t *out, const hs_report_t *a, const hs_report_t *b, const char *name_a,
                     const char *name_b);

#endif
