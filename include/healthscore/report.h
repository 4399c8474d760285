/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Backtest statistics over a replay: band mix, alerts per rule, and how well
 * the score foretold outcomes (precision/recall of red, ROC AUC, lead time).
 * Pure: the report is written into a buffer. Definitions: docs/backtest.md. */
#ifndef HEALTHSCORE_REPORT_H
#define HEALTHSCORE_REPORT_H

#include "healthscore/base.h"

typedef struct hs_report_s hs_report_t;

typedef struct hs_report_conf_s {
  int horizon_days;         /* predict outcomes this many days ahead (default 30) */
  const char *const *bands; /* band names, worst first */
  size_t n_bands;
  const char *const *profiles;
  size_t n_profiles;
  const char *const *rules;
  size_t n_rules;
  const char *const *metrics; /* the model's metric ids, for the per-metric
                                 diagnostics; NULL: none recorded */
  size_t n_metrics;
} hs_report_conf_t;

/* Creates a report; the names in `conf` are copied. Returns 0 and the report
 * in *out, the caller's (hs_report_free), or HS_E_NOMEM with *out NULL. */
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
/* The same, remembering when a firing happened (for alerts per week). */
int hs_report_alert_at(hs_report_t *r, int rule, bool firing, int64_t at_ms);
/* The metrics of the evaluation just given to hs_report_score() (same account
 * and day): model metric index, normalised value 0..100 (NAN: no data) and
 * effective weight 0..1 of each. Kept per account-day at 2 bytes per metric
 * (half-point and 1/250 resolution). Does nothing without conf.metrics. */
int hs_report_metrics(hs_report_t *r, hs_str_t account, int64_t at_ms, size_t n,
                      const uint16_t *metric, const double *norm, const double *weight);
/* Records an outcome (churned, renewed or expanded); the last one counts. */
int hs_report_outcome(hs_report_t *r, hs_str_t account, int64_t at_ms, hs_str_t outcome);

/* Appends the report, human-readable or as one JSON object. */
int hs_report_text(const hs_report_t *r, hs_buf_t *out);
int hs_report_json(const hs_report_t *r, hs_buf_t *out);

/* The prediction figures, over the accounts for which keep() is true (keep
 * NULL: all). Index [0] is red, [1] red or yellow; auc and median_lead are
 * NAN when undefined. */
typedef struct hs_report_summary_s {
  size_t with_outcome, excluded, churned;
  size_t tp[2], fp[2], fn[2], tn[2];
  double auc;
  bool auc_ok;
  double median_lead;
  size_t lead_n, never_red;
  uint64_t alerts_fired; /* all accounts, whatever keep() says */
} hs_report_summary_t;
int hs_report_summary(const hs_report_t *r, bool (*keep)(void *ud, hs_str_t account), void *ud,
                      hs_report_summary_t *out);

/* The figures behind the charts of the HTML report (docs/backtest.md). */
#define HS_REPORT_BINS 10     /* score histogram: 0-10, 10-20, ... 90-100 */
#define HS_REPORT_LEAD_BINS 9 /* lead time: weeks 0..7, then 8 weeks or more */
#define HS_REPORT_PR_STEPS 21 /* red threshold 0, 5, ... 100 */

typedef struct hs_report_metric_stats_s {
  const char *id;      /* NULL: the metric was in no evaluation (left out) */
  size_t n;            /* accounts with a prediction score */
  double coverage;     /* share of them with data for the metric */
  double auc;          /* univariate, lower value = churn; NAN if undefined */
  double mean_churned; /* mean normalised value (0..100), NAN if none */
  double mean_retained;
  double share;     /* share of the score it carries (sum weight*norm / sum score) */
  bool weighted;    /* carried weight in some account's score */
  const char *note; /* NULL, or why the metric deserves a look */
} hs_report_metric_stats_t;

typedef struct hs_report_charts_s {
  size_t n_pred, n_churned; /* accounts with an outcome and a score at the horizon */
  double auc;
  /* ROC: the red threshold swept over the distinct scores, from (0,0) to (1,1) */
  double *roc_fpr, *roc_tpr;
  size_t n_roc;
  /* scores at the horizon, 10-point bins (100 falls in the last) */
  size_t hist_churned[HS_REPORT_BINS], hist_retained[HS_REPORT_BINS];
  /* calibration: accounts sorted by score (ties: churned first, then by first
     sight), cut in ten parts of floor(i*n/10) .. floor((i+1)*n/10) */
  size_t dec_n[HS_REPORT_BINS], dec_churned[HS_REPORT_BINS];
  double dec_lo[HS_REPORT_BINS], dec_hi[HS_REPORT_BINS];
  /* weeks from the first scored day: accounts by band at each week's last
     day (their last daily score at or before it; index n_bands = unknown),
     and firing alerts per rule */
  int32_t first_day;
  size_t n_weeks, n_bands, n_rules;
  size_t *week_bands;    /* n_weeks x (n_bands + 1) */
  uint64_t *week_alerts; /* n_weeks x n_rules */
  /* lead time of churned accounts, by week; never_red: not red before churn */
  size_t lead_hist[HS_REPORT_LEAD_BINS], never_red;
  double median_lead;
  /* flagging "score < t" at the horizon: precision (NAN: nothing flagged), recall */
  double pr_threshold[HS_REPORT_PR_STEPS], precision[HS_REPORT_PR_STEPS],
      recall[HS_REPORT_PR_STEPS];
  size_t n_metrics;
  hs_report_metric_stats_t *metrics;
} hs_report_charts_t;

/* Fills `out` (the caller's struct; its arrays are then the caller's, freed
 * by hs_report_charts_free). Returns 0, or HS_E_NOMEM having freed what it
 * had filled (nothing to free). */
int hs_report_charts(const hs_report_t *r, hs_report_charts_t *out);
void hs_report_charts_free(hs_report_charts_t *c);

/* What the HTML page says about where its figures came from. */
typedef struct hs_report_meta_s {
  const char *profile; /* names and versions, e.g. "customer-behavior v1" */
  const char *config;  /* configuration file */
  const char *input;   /* events file */
  uint64_t events;     /* events read */
  const char *command; /* the command line that made the report */
} hs_report_meta_t;

/* Two replays of the same events under two configurations. */
typedef struct hs_report_mover_s {
  const char *account;
  double score_a, score_b; /* final scores, NAN without one */
  int band_a, band_b;
  const char *metric[3]; /* metrics whose contribution differs most; NULL none */
  double delta[3];       /* contribution in b minus a, score points */
} hs_report_mover_t;

#define HS_REPORT_MOVERS 10
typedef struct hs_report_compare_s {
  size_t n_bands_a, n_bands_b; /* each side's bands; "unknown" comes after them */
  size_t *transitions;         /* (n_bands_a+1) x (n_bands_b+1): [band in a][band in b] */
  size_t common;               /* accounts in both */
  size_t n_movers;
  hs_report_mover_t movers[HS_REPORT_MOVERS];
  hs_report_summary_t a, b;
} hs_report_compare_t;

/* Fills `out` as hs_report_charts does: on success its arrays are the
 * caller's (hs_report_compare_free); HS_E_NOMEM leaves nothing to free. */
int hs_report_compare(const hs_report_t *a, const hs_report_t *b, hs_report_compare_t *out);
void hs_report_compare_free(hs_report_compare_t *c);
int hs_report_compare_text(const hs_report_t *a, const hs_report_t *b, const char *name_a,
                           const char *name_b, hs_buf_t *out);
int hs_report_compare_json(const hs_report_t *a, const hs_report_t *b, const char *name_a,
                           const char *name_b, hs_buf_t *out);

/* One self-contained HTML page (inline SVG and CSS, no network): the charts,
 * the metric table and, with `other`, the comparison with a second profile. */
int hs_report_html(const hs_report_t *r, const hs_report_meta_t *meta, const hs_report_t *other,
                   const hs_report_meta_t *other_meta, hs_buf_t *out);

/* Suggested weights for one profile of `cfg` (tune.c, tune_yaml.c): fitted
 * on the accounts not held out, from a report made with metrics under that
 * same configuration. Deterministic for a seed. docs/backtest.md. */
#define HS_TUNE_MAX_GROUPS 16
#define HS_TUNE_MAX_REFS 64
struct hs_config_s;

typedef struct hs_tune_conf_s {
  double holdout;        /* share of accounts held out (0 < holdout < 1) */
  uint64_t seed;         /* the split: by a hash of the account id and seed */
  bool include_tracking; /* weight-0 metrics may get a weight */
  size_t profile;        /* index into cfg->profiles */
} hs_tune_conf_t;

typedef struct hs_tune_result_s {
  size_t n_train, n_holdout, train_churned; /* accounts scored at the horizon */
  /* ROC AUC from the metric values kept at the horizon (the core's formula
     re-applied), before and after; the held-out figures are only a preview:
     judge with a replay */
  double train_auc_before, train_auc_after, holdout_auc_before, holdout_auc_after;
  size_t n_groups, n_refs;
  double group_weight[HS_TUNE_MAX_GROUPS];
  double *metric_weight; /* the profile's metric references, group by group */
  bool changed;          /* some number differs from the configuration's */
} hs_tune_result_t;

bool hs_tune_is_holdout(hs_str_t account, uint64_t seed, double holdout);
/* Fits the weights of conf->profile. On success `res` (the caller's struct)
 * holds arrays freed by hs_tune_result_free; on failure (a negative code,
 * the reason in `err`) nothing is left to free. */
int hs_tune_fit(const hs_report_t *r, const struct hs_config_s *cfg, const hs_tune_conf_t *conf,
                hs_tune_result_t *res, hs_err_t *err);
void hs_tune_result_free(hs_tune_result_t *res);
/* The configuration text `yaml` (what `cfg` was loaded from) with the
 * profile's weights replaced in place by the result's, nothing else changed
 * but for `comment` (lines starting "# ") put first, replacing such a comment
 * left by an earlier run (lines starting "# healthscore tune"). Weights the
 * text leaves out (default 1) are added. */
int hs_tune_rewrite(const char *yaml, size_t len, const struct hs_config_s *cfg, size_t profile,
                    const hs_tune_result_t *res, const char *comment, hs_buf_t *out, hs_err_t *err);

#endif
