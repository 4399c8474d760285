/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The figures behind the HTML report's charts and metric table. Definitions:
 * docs/backtest.md. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void hs_report_charts_free(hs_report_charts_t *c) {
  if (!c)
    return;
  hs_free(c->roc_fpr);
  hs_free(c->roc_tpr);
  hs_free(c->week_bands);
  hs_free(c->week_alerts);
  hs_free(c->metrics);
  memset(c, 0, sizeof *c);
}

static void roc(hs_report_charts_t *c, const pred_t *p, size_t n) {
  size_t pos = c->n_churned, neg = n - pos, tp = 0, fp = 0, k = 0;
  c->roc_fpr[k] = 0;
  c->roc_tpr[k++] = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && p[j].score == p[i].score) {
      tp += p[j].churned;
      fp += !p[j].churned;
      j++;
    }
    c->roc_fpr[k] = neg ? (double)fp / (double)neg : 0;
    c->roc_tpr[k++] = pos ? (double)tp / (double)pos : 0;
    i = j;
  }
  c->n_roc = k;
}

static int bin_of(double score) {
  int b = (int)floor(score / 10.0);
  return b < 0 ? 0 : b >= HS_REPORT_BINS ? HS_REPORT_BINS - 1 : b;
}

static void distribution(hs_report_charts_t *c, const pred_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    (p[i].churned ? c->hist_churned : c->hist_retained)[bin_of(p[i].score)]++;
  for (int d = 0; d < HS_REPORT_BINS; d++) {
    size_t lo = (size_t)d * n / HS_REPORT_BINS, hi = (size_t)(d + 1) * n / HS_REPORT_BINS;
    c->dec_n[d] = hi - lo;
    c->dec_lo[d] = hi > lo ? p[lo].score : NAN;
    c->dec_hi[d] = hi > lo ? p[hi - 1].score : NAN;
    for (size_t i = lo; i < hi; i++)
      c->dec_churned[d] += p[i].churned;
  }
  for (int t = 0; t < HS_REPORT_PR_STEPS; t++) {
    double th = 5.0 * t;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n && p[i].score < th; i++)
      p[i].churned ? tp++ : fp++;
    c->pr_threshold[t] = th;
    c->precision[t] = tp + fp ? (double)tp / (double)(tp + fp) : NAN;
    c->recall[t] = c->n_churned ? (double)tp / (double)c->n_churned : NAN;
  }
}

static int weeks(const hs_report_t *r, hs_report_charts_t *c) {
  int32_t first = INT32_MAX, last = INT32_MIN;
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    if (!a->n_days)
      continue;
    first = a->days[0].day < first ? a->days[0].day : first;
    last = a->days[a->n_days - 1].day > last ? a->days[a->n_days - 1].day : last;
  }
  c->n_bands = r->n_bands;
  c->n_rules = r->n_rules;
  if (first > last)
    return 0;
  c->first_day = first;
  c->n_weeks = (size_t)(last - first) / 7 + 1;
  size_t nb = r->n_bands + 1;
  c->week_bands = hs_calloc(c->n_weeks * nb, sizeof *c->week_bands);
  c->week_alerts = hs_calloc(c->n_weeks * (r->n_rules + 1), sizeof *c->week_alerts);
  if (!c->week_bands || !c->week_alerts)
    return HS_E_NOMEM;
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    size_t k = 0;
    for (size_t w = 0; w < c->n_weeks && a->n_days; w++) {
      int32_t end = first + (int32_t)(7 * w + 6);
      while (k < a->n_days && a->days[k].day <= end)
        k++;
      if (!k)
        continue;
      int b = a->days[k - 1].band;
      c->week_bands[w * nb + (b >= 0 && (size_t)b < r->n_bands ? (size_t)b : r->n_bands)]++;
    }
  }
  for (size_t i = 0; i < r->n_alerts; i++) {
    int32_t d = r->alerts[i].day - first;
    size_t w = d < 0 ? 0 : (size_t)d / 7 < c->n_weeks ? (size_t)d / 7 : c->n_weeks - 1;
    c->week_alerts[w * r->n_rules + r->alerts[i].rule]++;
  }
  return 0;
}

static void leads(const hs_report_t *r, hs_report_charts_t *c) {
  hs_report_summary_t s;
  hs_report_summary(r, NULL, NULL, &s);
  c->median_lead = s.median_lead;
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    if (a->outcome != OUT_CHURNED)
      continue;
    int lead = hs__lead_days(a);
    if (lead < 0)
      c->never_red++;
    else
      c->lead_hist[lead / 7 < HS_REPORT_LEAD_BINS ? lead / 7 : HS_REPORT_LEAD_BINS - 1]++;
  }
}

static void metric_stats(const hs_report_t *r, hs_report_charts_t *c, const pred_t *p, size_t n,
                         pred_t *tmp) {
  for (size_t m = 0; m < r->n_metrics; m++) {
    hs_report_metric_stats_t *ms = &c->metrics[m];
    if (!r->metric_seen[m])
      continue; /* in no profile: id stays NULL */
    ms->id = r->metrics[m];
    ms->n = n;
    size_t k = 0, nc = 0, nr = 0;
    double sc = 0, sr = 0, contrib = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
      const acct_t *a = &r->acc[p[i].acct];
      const uint8_t *row = hs__mv_row(r, a, p[i].day);
      total += p[i].score;
      if (!row || row[2 * m] == MV_MISSING)
        continue;
      double v = MV_NORM(row[2 * m]), w = MV_WEIGHT(row[2 * m + 1]);
      tmp[k++] = (pred_t){(float)v, p[i].churned, p[i].acct, p[i].day};
      if (p[i].churned) {
        sc += v;
        nc++;
      } else {
        sr += v;
        nr++;
      }
      contrib += w * v;
      ms->weighted |= w > 0;
    }
    ms->coverage = n ? (double)k / (double)n : NAN;
    ms->mean_churned = nc ? sc / (double)nc : NAN;
    ms->mean_retained = nr ? sr / (double)nr : NAN;
    ms->share = total > 0 ? contrib / total : NAN;
    ms->auc = hs__auc(tmp, k);
    if (!k)
      ms->note = n ? "no data at the horizon" : NULL;
    else if (ms->weighted && !isnan(ms->auc) && fabs(ms->auc - 0.5) < 0.05)
      ms->note = "weighted but predicts nothing (AUC near 0.5)";
    else if (!ms->weighted && !isnan(ms->auc) && ms->auc >= 0.65)
      ms->note = "predicts churn but weighs 0";
    else if (ms->weighted && !isnan(ms->auc) && ms->auc <= 0.4)
      ms->note = "weighted, but higher values go with churn";
  }
}

int hs_report_charts(const hs_report_t *r, hs_report_charts_t *c) {
  memset(c, 0, sizeof *c);
  c->auc = NAN;
  c->median_lead = NAN;
  pred_t *p = hs_calloc(r->n_acc + 1, sizeof *p);
  pred_t *tmp = hs_calloc(r->n_acc + 1, sizeof *tmp);
  c->roc_fpr = hs_calloc(r->n_acc + 2, sizeof *c->roc_fpr);
  c->roc_tpr = hs_calloc(r->n_acc + 2, sizeof *c->roc_tpr);
  c->n_metrics = r->n_metrics;
  c->metrics = hs_calloc(r->n_metrics + 1, sizeof *c->metrics);
  int rc = p && tmp && c->roc_fpr && c->roc_tpr && c->metrics ? 0 : HS_E_NOMEM;
  if (!rc) {
    size_t n = hs__predictions(r, NULL, NULL, p, NULL);
    c->n_pred = n;
    for (size_t i = 0; i < n; i++)
      c->n_churned += p[i].churned;
    c->auc = hs__auc(p, n); /* sorts */
    hs__sort_preds(p, n);
    roc(c, p, n);
    distribution(c, p, n);
    leads(r, c);
    metric_stats(r, c, p, n, tmp);
    rc = weeks(r, c);
  }
  hs_free(p);
  hs_free(tmp);
  if (rc)
    hs_report_charts_free(c);
  return rc;
}
