/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Backtest statistics over a replay: band mix, alerts per rule, and how well
 * the score foretold outcomes (precision/recall of red, ROC AUC, lead time).
 * Pure: the report is written into a buffer. Definitions: docs/backtest.md. */
#ifndef HEALTHSCORE_REPORT_H
#define HEALTHSCORE_REPORT_H

#include "healthscore/common.h"

typedef struct hs_report_s hs_report_t;

typedef struct hs_report_conf_s {
  int horizon_days;         /* predict outcomes this many days ahead (default 30) */
  const char *const *bands; /* band names, worst first */
  size_t n_bands;
  const char *const *profiles;
  size_t n_profiles;
  const char *const *rules;
  size_t n_rules;
} hs_report_conf_t;

/* Creates a report; the names in `conf` are copied. Returns 0 or HS_E_NOMEM. */
int hs_report_new(hs_report_t **out, const hs_report_conf_t *conf);
void hs_report_free(hs_report_t *r);

/* Records one evaluation of `account` (copied on first sight). Per account,
 * evaluations must come in time order; accounts may interleave. The report
 * keeps the last score of each UTC day (about 8 bytes per account-day).
 * band: -1 when there is no score. Returns 0 or HS_E_NOMEM. */
int hs_report_score(hs_report_t *r, hs_str_t account, int64_t at_ms, bool has_score, double score,
                    int band, int profile, hs_str_t segment);
/* Counts an alert transition of rule `rule`. */
int hs_report_alert(hs_report_t *r, int rule, bool firing);
/* Records an outcome (churned, renewed or expanded); the last one counts. */
int hs_report_outcome(hs_report_t *r, hs_str_t account, int64_t at_ms, hs_str_t outcome);

/* Appends the report, human-readable or as one JSON object. */
int hs_report_text(const hs_report_t *r, hs_buf_t *out);
int hs_report_json(const hs_report_t *r, hs_buf_t *out);

#endif
