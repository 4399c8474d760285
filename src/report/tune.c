/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Suggested weights: a coordinate search over a profile's group and metric
 * weights that maximises the ROC AUC on the training accounts, scoring them
 * from the normalised metric values the report kept at the horizon (the
 * core's formula: weighted mean within a group over the metrics with data,
 * then weighted mean over the groups with data). The caller judges the
 * result on held-out accounts with the real engine. */
#include "internal.h"

#include "healthscore/config.h"
#include "healthscore/hash.h"

#include <stdio.h>
#include <string.h>

bool hs_tune_is_holdout(hs_str_t account, uint64_t seed, double holdout) {
  uint64_t h = hs_hash64(account.ptr, account.len, seed ^ UINT64_C(0x7475e65eed));
  return (double)(h % 1000000) < holdout * 1000000.0;
}

void hs_tune_result_free(hs_tune_result_t *res) {
  if (res) {
    hs_free(res->metric_weight);
    res->metric_weight = NULL;
  }
}

typedef struct fit_s {
  size_t n_groups, n_refs;
  size_t group_of[HS_TUNE_MAX_REFS];
  long col[HS_TUNE_MAX_REFS]; /* report metric index, -1: none */
  /* per account: n_refs normalised values (NAN: no data) */
  float *x;
  pred_t *train, *hold;
  size_t n_train, n_hold;
  pred_t *tmp;
} fit_t;

/* The surrogate score of account row `x`; NAN without data. */
static double score(const fit_t *f, const float *x, const double *gw, const double *mw) {
  double num = 0, den = 0;
  for (size_t g = 0; g < f->n_groups; g++) {
    double s = 0, w = 0;
    for (size_t j = 0; j < f->n_refs; j++)
      if (f->group_of[j] == g && mw[j] > 0 && !isnan(x[j])) {
        s += mw[j] * x[j];
        w += mw[j];
      }
    if (w > 0 && gw[g] > 0) {
      num += gw[g] * s / w;
      den += gw[g];
    }
  }
  return den > 0 ? num / den : NAN;
}

static double auc_of(fit_t *f, const pred_t *set, size_t n, const double *gw, const double *mw) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    double s = score(f, f->x + (size_t)set[i].day * f->n_refs, gw, mw);
    if (!isnan(s))
      f->tmp[k++] = (pred_t){(float)s, set[i].churned, set[i].acct, 0};
  }
  return hs__auc(f->tmp, k);
}

/* Coordinate search: each weight in turn takes the candidate value that
 * raises the training AUC most, until a round changes nothing. */
static void search(fit_t *f, double *gw, double *mw, const bool *free_m) {
  double base[HS_TUNE_MAX_GROUPS] = {0};
  for (size_t j = 0; j < f->n_refs; j++)
    base[f->group_of[j]] = fmax(base[f->group_of[j]], mw[j]);
  static const double gcand[] = {0, 5, 10, 15, 20, 25, 30, 40, 50, 60};
  static const double mcand[] = {0, 0.1, 0.25, 0.5, 1, 2, 4};
  double best = auc_of(f, f->train, f->n_train, gw, mw);
  for (int round = 0; round < 12; round++) {
    bool moved = false;
    for (size_t g = 0; g < f->n_groups; g++) {
      double keep = gw[g], pick = keep;
      for (size_t c = 0; c < sizeof gcand / sizeof *gcand; c++) {
        gw[g] = gcand[c];
        double a = auc_of(f, f->train, f->n_train, gw, mw);
        if (!isnan(a) && a > best + 1e-4) {
          best = a;
          pick = gcand[c];
        }
      }
      gw[g] = pick;
      moved |= pick != keep;
    }
    for (size_t j = 0; j < f->n_refs; j++) {
      if (!free_m[j])
        continue;
      double keep = mw[j], pick = keep;
      for (size_t c = 0; c < sizeof mcand / sizeof *mcand; c++) {
        mw[j] = mcand[c] * (base[f->group_of[j]] > 0 ? base[f->group_of[j]] : 1);
        double a = auc_of(f, f->train, f->n_train, gw, mw);
        if (!isnan(a) && a > best + 1e-4) {
          best = a;
          pick = mw[j];
        }
      }
      mw[j] = pick;
      moved |= pick != keep;
    }
    if (!moved)
      break;
  }
}

/* Interpretable numbers: group weights as integers summing to 100 (largest
 * remainder), metric weights relative to the largest of their group, in
 * steps of 0.05. Groups left without a weighted metric weigh 0. */
static void round_weights(const fit_t *f, double *gw, double *mw, const double *orig) {
  for (size_t g = 0; g < f->n_groups; g++) {
    double top = 0;
    bool same = true;
    for (size_t j = 0; j < f->n_refs; j++)
      if (f->group_of[j] == g) {
        top = fmax(top, mw[j]);
        same &= mw[j] == orig[j];
      }
    for (size_t j = 0; j < f->n_refs && !same; j++)
      if (f->group_of[j] == g && top > 0)
        mw[j] = mw[j] > 0 ? fmax(0.05, round(mw[j] / top * 20) / 20) : 0;
    if (top == 0)
      gw[g] = 0;
  }
  double sum = 0;
  for (size_t g = 0; g < f->n_groups; g++)
    sum += gw[g];
  if (sum <= 0)
    return;
  int total = 0;
  double rem[HS_TUNE_MAX_GROUPS];
  for (size_t g = 0; g < f->n_groups; g++) {
    double v = gw[g] * 100 / sum;
    gw[g] = floor(v);
    rem[g] = v - gw[g];
    total += (int)gw[g];
  }
  while (total < 100) {
    size_t k = 0;
    for (size_t g = 1; g < f->n_groups; g++)
      if (rem[g] > rem[k])
        k = g;
    gw[k] += 1;
    rem[k] = -1;
    total++;
  }
}

static bool holdout_acct(const hs_report_t *r, size_t i, const hs_tune_conf_t *conf) {
  return hs_tune_is_holdout((hs_str_t){r->acc[i].id, r->acc[i].id_len}, conf->seed, conf->holdout);
}

int hs_tune_fit(const hs_report_t *r, const hs_config_t *cfg, const hs_tune_conf_t *conf,
                hs_tune_result_t *res, hs_err_t *err) {
  memset(res, 0, sizeof *res);
  if (conf->profile >= cfg->n_profiles)
    return hs_err_set(err, HS_E_INVAL, "no such profile");
  const hs_profile_def_t *p = &cfg->profiles[conf->profile];
  fit_t f;
  memset(&f, 0, sizeof f);
  double gw[HS_TUNE_MAX_GROUPS], mw[HS_TUNE_MAX_REFS], orig[HS_TUNE_MAX_REFS];
  bool free_m[HS_TUNE_MAX_REFS];
  f.n_groups = p->n_groups < HS_TUNE_MAX_GROUPS ? p->n_groups : HS_TUNE_MAX_GROUPS;
  for (size_t g = 0; g < f.n_groups; g++) {
    gw[g] = p->groups[g].weight;
    for (size_t k = 0; k < p->groups[g].n_metrics && f.n_refs < HS_TUNE_MAX_REFS; k++) {
      const hs_metric_ref_t *ref = &p->groups[g].metrics[k];
      size_t j = f.n_refs++;
      f.group_of[j] = g;
      mw[j] = orig[j] = ref->weight;
      free_m[j] = ref->weight > 0 || conf->include_tracking;
      f.col[j] = -1;
      for (size_t m = 0; m < r->n_metrics; m++)
        if (!strcmp(r->metrics[m], ref->metric))
          f.col[j] = (long)m;
    }
  }
  res->n_groups = f.n_groups;
  res->n_refs = f.n_refs;
  pred_t *all = hs_calloc(r->n_acc + 1, sizeof *all);
  f.train = hs_calloc(r->n_acc + 1, sizeof *f.train);
  f.hold = hs_calloc(r->n_acc + 1, sizeof *f.hold);
  f.tmp = hs_calloc(r->n_acc + 1, sizeof *f.tmp);
  f.x = hs_calloc((r->n_acc + 1) * (f.n_refs + 1), sizeof *f.x);
  res->metric_weight = hs_calloc(f.n_refs + 1, sizeof *res->metric_weight);
  int rc = all && f.train && f.hold && f.tmp && f.x && res->metric_weight ? 0 : HS_E_NOMEM;
  if (!rc) {
    size_t n = hs__predictions(r, NULL, NULL, all, NULL);
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
      const acct_t *a = &r->acc[all[i].acct];
      if (a->profile != (int)conf->profile)
        continue;
      const uint8_t *mv = hs__mv_row(r, a, all[i].day);
      float *x = f.x + row * f.n_refs;
      for (size_t j = 0; j < f.n_refs; j++)
        x[j] = mv && f.col[j] >= 0 ? (float)MV_NORM(mv[2 * f.col[j]]) : NAN;
      pred_t pr = {all[i].score, all[i].churned, all[i].acct, (uint32_t)row++};
      if (holdout_acct(r, all[i].acct, conf))
        f.hold[f.n_hold++] = pr;
      else
        f.train[f.n_train++] = pr;
    }
    res->n_train = f.n_train;
    res->n_holdout = f.n_hold;
    for (size_t i = 0; i < f.n_train; i++)
      res->train_churned += f.train[i].churned;
    res->train_auc_before = auc_of(&f, f.train, f.n_train, gw, mw);
    res->holdout_auc_before = auc_of(&f, f.hold, f.n_hold, gw, mw);
    if (isnan(res->train_auc_before)) {
      rc = hs_err_set(err, HS_E_INVAL,
                      "the training accounts of profile \"%s\" need both churned and retained "
                      "outcomes with a score %d days before (%zu accounts)",
                      p->name, r->horizon, f.n_train);
    } else {
      search(&f, gw, mw, free_m);
      round_weights(&f, gw, mw, orig);
      res->train_auc_after = auc_of(&f, f.train, f.n_train, gw, mw);
      res->holdout_auc_after = auc_of(&f, f.hold, f.n_hold, gw, mw);
      for (size_t g = 0; g < f.n_groups; g++) {
        res->group_weight[g] = gw[g];
        res->changed |= gw[g] != p->groups[g].weight;
      }
      size_t j = 0;
      for (size_t g = 0; g < f.n_groups; g++)
        for (size_t k = 0; k < p->groups[g].n_metrics && j < f.n_refs; k++, j++) {
          res->metric_weight[j] = mw[j];
          res->changed |= fabs(mw[j] - p->groups[g].metrics[k].weight) > 1e-9;
        }
    }
  }
  hs_free(all);
  hs_free(f.train);
  hs_free(f.hold);
  hs_free(f.tmp);
  hs_free(f.x);
  if (rc)
    hs_tune_result_free(res);
  return rc;
}
