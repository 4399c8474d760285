/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Evaluating an account at a time: metric values, the score (from group
 * sums kept per account, taken again only for the groups whose metrics
 * changed) and the daily score history, then the alert rules (rules.c);
 * the explanation (per metric weight, contribution and delta) only where
 * it is read. */
#include "internal.h"
#include "healthscore/time.h"

#include <stdlib.h>
#include <string.h>

static inline double view_value(const hs__series_t *s, const hs__view_state_t *vs,
                                hs_metric_kind_t k) {
  switch (k) {
  case HS_MK_SUM:
    return (double)vs->sum / 1000.0;
  case HS_MK_AVG:
    return vs->cnt ? (double)vs->sum / 1000.0 / (double)vs->cnt : NAN;
  case HS_MK_MIN:
  case HS_MK_MAX:
    return vs->ext;
  case HS_MK_DISTINCT: /* a series may hold more keys than one metric counts */
    return (double)(vs->cnt < HS_MAX_DISTINCT ? vs->cnt : HS_MAX_DISTINCT);
  default:
    (void)s;
    return (double)vs->cnt;
  }
}

/* view_value of view `vw` of `a`, read in place: only the parts it needs. */
static inline double view_value_at(const hs__view_t *vw, const hs_account_t *a,
                                   hs_metric_kind_t k) {
  const int64_t *p = a->views + vw->slot;
  const uint8_t parts = vw->parts;
  const int64_t cnt = p[0];
  switch (k) {
  case HS_MK_SUM:
    return (double)(parts & HS__VP_SUM ? p[1] : 0) / 1000.0;
  case HS_MK_AVG:
    return cnt ? (double)(parts & HS__VP_SUM ? p[1] : 0) / 1000.0 / (double)cnt : NAN;
  case HS_MK_MIN:
  case HS_MK_MAX: {
    if (!(parts & HS__VP_EXT))
      return NAN;
    const uint32_t sums = !!(parts & HS__VP_SUM);
    double e;
    memcpy(&e, p + 1 + sums + (parts & HS__VP_SLOPE ? 1 + sums : 0), sizeof e);
    return e;
  }
  case HS_MK_DISTINCT: /* a series may hold more keys than one metric counts */
    return (double)(cnt < HS_MAX_DISTINCT ? cnt : HS_MAX_DISTINCT);
  default:
    return (double)cnt;
  }
}

static double attribute_value(const hs__metric_t *mt, const hs_account_t *a, int64_t t) {
  switch (mt->attr) {
  case HS__ATTR_LICENSES:
    return a->licenses;
  case HS__ATTR_TENURE:
    return a->contract_start_ms == INT64_MIN
               ? NAN
               : (double)(t - a->contract_start_ms) / (double)HS_MS_PER_DAY;
  case HS__ATTR_RENEWAL:
    return a->renewal_ms == INT64_MIN ? NAN : (double)(a->renewal_ms - t) / (double)HS_MS_PER_DAY;
  default:
    for (uint32_t i = 0; i < a->n_custom; i++) {
      if (strcmp(a->custom_key[i], mt->attr_name) == 0) {
        if (!a->custom_val[i])
          return NAN; /* cleared by an empty value */
        char *end;
        double v = strtod(a->custom_val[i], &end);
        return *a->custom_val[i] && !*end && isfinite(v) ? v : NAN;
      }
    }
    return NAN;
  }
}

/* Least-squares slope per day of the daily values in a view of n days
 * (zeros included), from the running sums: ages a = 0..n-1. */
static double view_slope(const hs__view_state_t *vs, uint32_t days, bool sums) {
  double n = days;
  double sx = sums ? (double)vs->sum / 1000.0 : (double)vs->cnt;
  double sax = sums ? (double)vs->s1_sum / 1000.0 : (double)vs->s1_cnt;
  double sa = n * (n - 1) / 2, saa = (n - 1) * n * (2 * n - 1) / 6;
  double den = n * saa - sa * sa;
  return den > 0 ? -(n * sax - sa * sx) / den : NAN; /* older is larger age */
}

/* Fills val[i] (NAN when missing) and upd[i] (time of the data) for metric i. */
static inline __attribute__((always_inline)) void eval_metric(const hs_model_t *m,
                                                              const hs_account_t *a, int64_t t,
                                                              uint32_t i, double *val,
                                                              int64_t *upd) {
  const hs__metric_t *mt = &m->metrics[i];
  double v = NAN;
  int64_t u = INT64_MIN;
  if (mt->view >= 0 && mt->kind != HS_MK_RATIO) {
    const hs__view_t *vw = &m->views[mt->view];
    const hs__series_t *s = &m->series[vw->series];
    u = a->series[vw->series].last_ms;
    if (u != INT64_MIN && mt->kind != HS_MK_TREND && mt->kind != HS_MK_SLOPE) {
      v = view_value_at(vw, a, mt->kind); /* counts are 0, not missing, once data has flowed */
    } else if (u != INT64_MIN) {
      hs__view_state_t view;
      const hs__view_state_t *vs = &view;
      hs__view_load(m, a, (uint32_t)mt->view, &view);
      if (mt->kind == HS_MK_TREND) {
        hs_metric_kind_t ok = m->metrics[mt->of].kind;
        hs__view_state_t prev;
        hs__view_load(m, a, (uint32_t)mt->view2, &prev);
        prev.cnt -= vs->cnt;
        prev.sum -= vs->sum;
        double cur = view_value(s, vs, ok), old = view_value(s, &prev, ok);
        if (mt->trend_mode == HS_TREND_DELTA)
          v = cur - old;
        else if (old != 0 && !isnan(old) && !isnan(cur))
          v = (cur - old) / fabs(old) * 100.0;
      } else {
        v = view_slope(vs, vw->days, m->metrics[mt->of].kind == HS_MK_SUM);
      }
    }
  } else if (mt->kind == HS_MK_DAYS_SINCE || mt->kind == HS_MK_LATEST) {
    const hs__scalar_state_t *sc = &a->scalars[mt->scalar];
    u = sc->ts;
    if (sc->ts != INT64_MIN) {
      if (mt->kind == HS_MK_DAYS_SINCE)
        v = (double)(t - sc->ts) / (double)HS_MS_PER_DAY;
      else if (mt->max_age_ms == 0 || t - sc->ts <= mt->max_age_ms)
        v = sc->value;
    }
  } else if (mt->kind == HS_MK_RATIO) {
    double n = val[mt->num], d = val[mt->den];
    v = d != 0 && !isnan(n) && !isnan(d) ? n / d : NAN;
    u = upd[mt->num] > upd[mt->den] ? upd[mt->num] : upd[mt->den];
  } else if (mt->kind == HS_MK_ATTRIBUTE) {
    v = attribute_value(mt, a, t);
    u = a->attrs_ms;
  }
  if (mt->per == -2)
    v = a->licenses > 0 ? v / a->licenses : NAN;
  else if (mt->per >= 0)
    v = val[mt->per] > 0 ? v / val[mt->per] : NAN;
  val[i] = isfinite(v) ? v : NAN;
  upd[i] = u;
}

/* Fills val and upd for the metrics profile `pr` needs for the refs in
 * `refs`, in dependency order. */
static void eval_metrics(const hs_model_t *m, const hs__profile_t *pr, const hs_account_t *a,
                         int64_t t, uint64_t refs, double *val, int64_t *upd) {
  if (pr->ref_needed) { /* the entries those refs need, in order */
    uint64_t ks = 0;
    for (uint64_t d = refs; d; d &= d - 1)
      ks |= pr->ref_needed[__builtin_ctzll(d)];
    for (; ks; ks &= ks - 1)
      eval_metric(m, a, t, pr->needed[__builtin_ctzll(ks)], val, upd);
    return;
  }
  for (uint32_t k = 0; k < pr->n_needed; k++)
    if (pr->needed_refs[k] & refs)
      eval_metric(m, a, t, pr->needed[k], val, upd);
}

static const hs__override_t *find_override(const hs_account_t *a, int metric, int64_t t) {
  for (uint32_t i = 0; i < a->n_overrides; i++)
    if (a->overrides[i].metric == metric && a->overrides[i].expires_ms > t)
      return &a->overrides[i];
  return NULL;
}

/* A value normalised to 0..100 between its worst and best. */
static inline double normalised(double v, double worst, double best) {
  double x = (v - worst) / (best - worst);
  return 100.0 * (x < 0 ? 0 : x > 1 ? 1 : x);
}

/* Ref r's value, normalised value and source from the metric values. */
static void ref_result(const hs__ref_t *rf, const hs_account_t *a, int64_t t, const double *val,
                       const int64_t *upd, double *raw, double *normed, uint8_t *src) {
  double v = val[rf->metric];
  uint8_t source = HS_SRC_DATA;
  if (!isnan(v) && rf->stale_ms > 0 && t - upd[rf->metric] > rf->stale_ms)
    v = NAN;
  const hs__override_t *o = find_override(a, rf->metric, t);
  if (o) {
    v = o->value;
    source = HS_SRC_OVERRIDE;
  }
  double worst = rf->worst, best = rf->best;
  for (uint32_t k = 0; k < rf->n_stages; k++) {
    if (a->stage && strcmp(a->stage, rf->stage_names[k]) == 0) {
      worst = rf->stage_worst[k];
      best = rf->stage_best[k];
    }
  }
  double norm;
  if (!isnan(v)) {
    norm = normalised(v, worst, best);
  } else if (rf->missing == HS_MISSING_WORST) {
    source = HS_SRC_MISSING_WORST;
    norm = 0;
  } else if (rf->missing == HS_MISSING_VALUE) {
    source = HS_SRC_MISSING_VALUE;
    v = rf->missing_value;
    norm = normalised(v, worst, best);
  } else {
    source = HS_SRC_MISSING;
    norm = NAN;
  }
  *raw = v;
  *normed = norm;
  *src = source;
}

/* Ref rf of days_refs (a count of days from one time, read alone, no
 * stages) at t, no pin in place: its value and normalised value as
 * eval_metric and ref_result take them, when it has data (true; else the
 * general way gives its missing value). */
static inline bool days_ref(const hs_model_t *m, const hs_account_t *a, const hs__ref_t *rf,
                            int64_t t, double *raw, double *norm) {
  const hs__metric_t *mt = &m->metrics[rf->metric];
  int64_t from, upd;
  bool until = false;
  if (mt->kind == HS_MK_DAYS_SINCE) {
    from = upd = a->scalars[mt->scalar].ts;
  } else {
    until = mt->attr == HS__ATTR_RENEWAL;
    from = until ? a->renewal_ms : a->contract_start_ms;
    upd = a->attrs_ms;
  }
  if (from == INT64_MIN)
    return false;
  double v = (double)(until ? from - t : t - from) / (double)HS_MS_PER_DAY;
  if (!isfinite(v) || (rf->stale_ms > 0 && t - upd > rf->stale_ms))
    return false;
  *raw = v;
  *norm = normalised(v, rf->worst, rf->best);
  return true;
}

/* Evaluates the refs of profile `pr` in `dirty` into raw, norm and src (per
 * ref); the others keep theirs. Returns the groups of those refs (bit g).
 * `direct`: the counts of days with data taken directly (days_ref), as an
 * evaluation does; a full evaluation (hs_account_score) takes every ref
 * the general way, which the tests compare them with. */
static uint32_t eval_refs(const hs_model_t *m, const hs__profile_t *pr, const hs_account_t *a,
                          int64_t t, uint64_t dirty, bool direct, double *raw, double *norm,
                          uint8_t *src) {
  double val[HS_MAX_METRICS];
  int64_t upd[HS_MAX_METRICS];
  uint32_t groups = 0;
  if (!dirty)
    return 0;
  if (direct && !a->n_overrides)
    for (uint64_t d = dirty & pr->days_refs; d; d &= d - 1) {
      const uint32_t r = (uint32_t)__builtin_ctzll(d);
      if (days_ref(m, a, &pr->refs[r], t, &raw[r], &norm[r])) {
        src[r] = HS_SRC_DATA;
        groups |= 1u << pr->refs[r].group;
        dirty &= ~((uint64_t)1 << r);
      }
    }
  if (!dirty)
    return groups;
  eval_metrics(m, pr, a, t, dirty, val, upd);
  for (uint64_t d = dirty; d; d &= d - 1) {
    uint32_t r = (uint32_t)__builtin_ctzll(d);
    ref_result(&pr->refs[r], a, t, val, upd, &raw[r], &norm[r], &src[r]);
    groups |= 1u << pr->refs[r].group;
  }
  return groups;
}

/* Group g's sums over its refs with data and weight, in ref order: of the
 * weights into gw[g], of the weighted normalised values into gs[g]. Each
 * group's sums are separate, so taking them group by group is the same
 * operations in the same order as one pass over every ref: the same bits. */
static inline __attribute__((always_inline)) void
group_sums(const hs__profile_t *pr, uint32_t g, const double *norm, double *gw, double *gs) {
  double w = 0, ws = 0;
  for (uint64_t b = pr->group_refs[g]; b; b &= b - 1) {
    const uint32_t r = (uint32_t)__builtin_ctzll(b);
    const hs__ref_t *rf = &pr->refs[r];
    if (!isnan(norm[r]) && rf->weight > 0) {
      w += rf->weight;
      ws += rf->weight * norm[r];
    }
  }
  gw[g] = w;
  gs[g] = ws;
}

/* The score of `a` at time t under profile p from the group sums, in
 * O(groups); the explanation is left out (n_metrics 0, explained false).
 * Returns the sum of the weights of the groups with data. */
static double score_of_sums(const hs_model_t *m, const hs_account_t *a, int64_t t, int p,
                            const double *gw, const double *gs, hs_score_t *s) {
  const hs__profile_t *pr = &m->profiles[p];
  /* every field is set (group_score and group_weight up to n_groups) */
  memset(&s->override, 0, sizeof s->override);
  s->profile = (uint16_t)p;
  s->band = -1;
  s->n_groups = pr->n_groups;
  s->n_metrics = 0;
  s->explained = false;
  const double *gtot = pr->group_total;
  double wsum = 0, total = 0, covered = 0;
  for (uint32_t g = 0; g < pr->n_groups; g++) {
    s->group_score[g] = gw[g] > 0 ? gs[g] / gw[g] : NAN;
    if (gtot[g] > 0) {
      total += pr->group_weight[g];
      covered += pr->group_weight[g] * gw[g] / gtot[g];
    }
    if (gw[g] > 0)
      wsum += pr->group_weight[g];
  }
  double score = 0;
  for (uint32_t g = 0; g < pr->n_groups; g++) {
    s->group_weight[g] = gw[g] > 0 && wsum > 0 ? pr->group_weight[g] / wsum : 0;
    if (s->group_weight[g] > 0)
      score += s->group_weight[g] * s->group_score[g];
  }
  s->coverage = total > 0 ? covered / total : 0;
  s->has_score = wsum > 0;
  s->score = s->has_score ? score : NAN;
  const hs__override_t *o = find_override(a, -1, t);
  if (o) {
    s->has_score = true;
    s->score = o->value < 0 ? 0 : o->value > 100 ? 100 : o->value;
    s->override =
        (hs_override_info_t){true, o->value, o->expires_ms,
                             (hs_str_t){o->reason, o->reason ? (uint32_t)strlen(o->reason) : 0},
                             (hs_str_t){o->author, o->author ? (uint32_t)strlen(o->author) : 0}};
  }
  if (s->has_score) {
    /* the published score, rounded once here: the band, the rules, the
       history and every output read this same value */
    s->score = hs_score_round(s->score);
    s->band = 0;
    for (uint32_t b = 1; b < m->n_bands; b++)
      if (s->score >= m->band_min[b])
        s->band = (int)b;
  }
  return wsum;
}

/* A ref's effective weight in the score and its contribution, from its
 * group's weight in the score (gwt) and sum of weights (gw): the one way
 * they are taken. */
static inline double ref_weight(const hs__ref_t *rf, double nr, double gw, double gwt,
                                double *contribution) {
  if (!isnan(nr) && rf->weight > 0 && gw > 0) {
    double w = gwt * rf->weight / gw;
    *contribution = w * nr;
    return w;
  }
  *contribution = 0;
  return 0;
}

/* Fills the explanation of score `s` (profile s->profile, its group
 * weights) from the refs' results and the group sums; deltas against
 * `prev` (the previous evaluation's contributions; NULL: none, 0). */
static void explain(const hs__profile_t *pr, const double *raw, const double *norm,
                    const uint8_t *src, const double *gw, const float *prev, hs_score_t *s) {
  for (uint32_t r = 0; r < pr->n_refs; r++) {
    hs_metric_result_t *mr = &s->metrics[r];
    const hs__ref_t *rf = &pr->refs[r];
    double nr = norm[r], c;
    double w = ref_weight(rf, nr, gw[rf->group], s->group_weight[rf->group], &c);
    mr->metric = rf->metric;
    mr->group = rf->group;
    mr->source = src[r];
    mr->raw = raw[r];
    mr->norm = nr;
    mr->weight = w;
    mr->contribution = c;
    mr->delta = prev ? c - (double)prev[r] : 0;
  }
  s->n_metrics = pr->n_refs;
  s->explained = true;
}

/* explain() of the account's evaluation at t under profile p (its last,
 * the account unchanged since): the refs of weight 0, which have no part in
 * the score and so are not taken at the evaluation, are taken here. */
static void explain_last(const hs_model_t *m, const hs_account_t *a, int64_t t, int p,
                         const float *prev, hs_score_t *s) {
  const hs__profile_t *pr = &m->profiles[p];
  if (!pr->unscored_refs) {
    explain(pr, a->ref_raw, a->ref_norm, a->ref_src, a->gw, prev, s);
    return;
  }
  double raw[HS_MAX_PROFILE_METRICS], norm[HS_MAX_PROFILE_METRICS];
  uint8_t src[HS_MAX_PROFILE_METRICS];
  memcpy(raw, a->ref_raw, pr->n_refs * sizeof *raw);
  memcpy(norm, a->ref_norm, pr->n_refs * sizeof *norm);
  memcpy(src, a->ref_src, pr->n_refs * sizeof *src);
  eval_refs(m, pr, a, t, pr->unscored_refs, false, raw, norm, src);
  explain(pr, raw, norm, src, a->gw, prev, s);
}

/* The contributions (floats, as kept for deltas) of the refs of profile
 * `pr` from their normalised values and the group sums. */
static void contribs_of(const hs__profile_t *pr, const double *norm, const double *gw, double wsum,
                        float *out) {
  double gwt[HS_MAX_GROUPS];
  for (uint32_t g = 0; g < pr->n_groups; g++) /* as score_of_sums takes it */
    gwt[g] = gw[g] > 0 && wsum > 0 ? pr->group_weight[g] / wsum : 0;
  for (uint32_t r = 0; r < pr->n_refs; r++) {
    const hs__ref_t *rf = &pr->refs[r];
    double c;
    ref_weight(rf, norm[r], gw[rf->group], gwt[rf->group], &c);
    out[r] = (float)c;
  }
}

void hs__contrib_last(const hs_model_t *m, const hs_account_t *a, float *out) {
  if (a->profile < 0)
    return;
  const hs__profile_t *pr = &m->profiles[a->profile];
  if (a->loaded == 2) { /* decoded, not evaluated since */
    for (uint32_t r = 0; r < pr->n_refs; r++)
      out[r] = (float)a->prev_norm[r];
    return;
  }
  contribs_of(pr, a->ref_norm, a->gw, a->wsum, out);
}

/* The contributions of the evaluation before the account's previous one,
 * if under profile p (else false: no deltas). */
static bool contrib_prev(const hs_model_t *m, const hs_account_t *a, int p, float *out) {
  if (a->prev_profile != p)
    return false;
  const hs__profile_t *pr = &m->profiles[p];
  if (a->loaded == 1) { /* the first evaluation after decoding */
    for (uint32_t r = 0; r < pr->n_refs; r++)
      out[r] = (float)a->prev_norm[r];
    return true;
  }
  contribs_of(pr, a->prev_norm, a->gw_prev, a->wsum_prev, out);
  return true;
}

static uint64_t all_refs(const hs__profile_t *pr) {
  return pr->n_refs >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << pr->n_refs) - 1;
}

void hs_account_score(const hs_model_t *m, const hs_account_t *a, int64_t at_ms, hs_score_t *out) {
  int64_t t = a->clock_ms == INT64_MIN ? 0 : a->clock_ms;
  if (at_ms > t && hs_day_of(at_ms) == hs_day_of(t))
    t = at_ms;
  int p = a->selected >= 0 ? a->selected : hs__select_profile(m, a);
  const hs__profile_t *pr = &m->profiles[p];
  double raw[HS_MAX_PROFILE_METRICS], norm[HS_MAX_PROFILE_METRICS];
  double gw[HS_MAX_GROUPS], gs[HS_MAX_GROUPS];
  uint8_t src[HS_MAX_PROFILE_METRICS];
  float prev[HS_MAX_PROFILE_METRICS];
  eval_refs(m, pr, a, t, all_refs(pr), false, raw, norm, src);
  for (uint32_t g = 0; g < pr->n_groups; g++)
    group_sums(pr, g, norm, gw, gs);
  score_of_sums(m, a, t, p, gw, gs, out);
  if (a->profile == p)
    hs__contrib_last(m, a, prev);
  explain(pr, raw, norm, src, gw, a->profile == p ? prev : NULL, out);
}

void hs__explain_eval(const hs_model_t *m, const hs_account_t *a, int64_t t, hs_score_t *s) {
  float prev[HS_MAX_PROFILE_METRICS];
  bool has_prev = contrib_prev(m, a, s->profile, prev);
  explain_last(m, a, t, s->profile, has_prev ? prev : NULL, s);
}

void hs_eval_explain(const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev,
                     hs_score_t *out) {
  const hs_score_t *s = &ev->score;
  if (out == s) /* not the evaluation's own (see core.h) */
    return;
  if (s->explained) {
    memcpy(out, s, sizeof *out);
    return;
  }
  memcpy(out, s, offsetof(hs_score_t, metrics));
  out->override = s->override;
  float prev[HS_MAX_PROFILE_METRICS];
  bool has_prev = contrib_prev(m, a, s->profile, prev);
  explain_last(m, a, ev->at_ms, s->profile, has_prev ? prev : NULL, out);
}

/* Whether a latest value read at time x (from its time ts) is past its
 * age limit (bit 0) and stale (bit 1): all that time changes of it. */
static inline unsigned step_state(const hs__ref_t *rf, const hs__metric_t *mt, int64_t ts,
                                  int64_t x) {
  return (unsigned)(mt->max_age_ms != 0 && x - ts > mt->max_age_ms) |
         (unsigned)(rf->stale_ms > 0 && x - ts > rf->stale_ms) << 1;
}

/* Whether a pin of a metric was in force at the account's previous
 * evaluation or is now (evaluations go forward in time: it ends after the
 * previous one). Pins that ended before, and lifted ones (kept to order
 * later arrivals), change no metric's value any more. */
static bool metric_pins(const hs_account_t *a) {
  for (uint32_t i = 0; i < a->n_overrides; i++)
    if (a->overrides[i].metric >= 0 && a->overrides[i].expires_ms > a->last_eval_ms)
      return true;
  return false;
}

/* The refs of profile p whose inputs changed since the previous evaluation
 * (every ref when it was under another profile, or a metric is pinned), at
 * time t; those of weight 0 left out (explain_last takes them). */
static uint64_t dirty_refs(const hs_model_t *m, const hs_account_t *a, int p, int64_t t) {
  const hs__profile_t *pr = &m->profiles[p];
  if (!m->incremental || a->cached != p || (a->n_overrides && metric_pins(a)))
    return all_refs(pr) & ~pr->unscored_refs;
  uint64_t d = pr->time_refs;
  for (uint64_t b = a->dirty_series; b; b &= b - 1)
    d |= pr->series_refs[__builtin_ctzll(b)];
  for (uint64_t b = a->dirty_aged; b; b &= b - 1)
    d |= pr->aged_refs[__builtin_ctzll(b)];
  for (uint64_t b = a->dirty_scalars; b; b &= b - 1)
    d |= pr->scalar_refs[__builtin_ctzll(b)];
  /* a latest value not updated since: moved only if t passed its age
     limit or staleness since the previous evaluation */
  for (uint64_t b = pr->step_refs & ~d; b; b &= b - 1) {
    const uint32_t r = (uint32_t)__builtin_ctzll(b);
    const hs__ref_t *rf = &pr->refs[r];
    const hs__metric_t *mt = &m->metrics[rf->metric];
    const int64_t ts = a->scalars[mt->scalar].ts;
    if (ts != INT64_MIN && step_state(rf, mt, ts, t) != step_state(rf, mt, ts, a->last_eval_ms))
      d |= (uint64_t)1 << r;
  }
  return d & ~pr->unscored_refs;
}

static void record_history(const hs_model_t *m, hs_account_t *a, int32_t day, double score) {
  uint32_t n = m->history_days;
  if (a->hist_head == INT32_MIN || day - a->hist_head >= (int32_t)n) {
    for (uint32_t i = 0; i < n; i++)
      a->hist[i] = NAN;
  } else {
    for (int32_t d = a->hist_head + 1; d <= day; d++)
      a->hist[hs__series_slot(d, n)] = NAN;
  }
  if (a->hist_head == INT32_MIN || day > a->hist_head)
    a->hist_head = day;
  if (day > a->hist_head - (int32_t)n)
    a->hist[hs__series_slot(day, n)] = (float)score;
}

void hs__evaluate(const hs_model_t *m, hs_account_t *a, int64_t t, const hs_event_t *ev,
                  hs_eval_t *e) {
  e->account_id = (hs_str_t){a->id, a->id_len};
  e->at_ms = t;
  e->event = ev;
  e->n_alerts = 0;
  if (a->selected < 0)
    a->selected = hs__select_profile(m, a);
  const int p = a->selected;
  const hs__profile_t *pr = &m->profiles[p];
  const uint64_t dirty = dirty_refs(m, a, p, t);
  /* what the previous evaluation's contributions follow from, for this
     one's deltas: its normalised values and group sums, of the refs and
     groups this one changes or the previous one changed (the others are
     the same still); after decoding, first the stored contributions */
  const bool keep = a->loaded != 2;
  if (keep)
    for (uint64_t b = dirty | a->last_dirty; b; b &= b - 1) {
      const uint32_t r = (uint32_t)__builtin_ctzll(b);
      a->prev_norm[r] = a->ref_norm[r];
    }
  uint32_t touched = eval_refs(m, pr, a, t, dirty, true, a->ref_raw, a->ref_norm, a->ref_src);
  /* the groups whose sums are taken again: those with a ref evaluated
     (every group when the sums are another profile's) */
  if (a->cached != p)
    touched = (uint32_t)((1u << pr->n_groups) - 1);
  if (keep) {
    for (uint32_t b = touched | a->last_touched; b; b &= b - 1) {
      const uint32_t g = (uint32_t)__builtin_ctz(b);
      a->gw_prev[g] = a->gw[g];
    }
    a->wsum_prev = a->wsum;
  }
  a->loaded -= a->loaded > 0;
  a->prev_profile = a->profile;
  a->last_dirty = dirty;
  a->last_touched = touched;
  for (uint32_t b = touched; b; b &= b - 1)
    group_sums(pr, (uint32_t)__builtin_ctz(b), a->ref_norm, a->gw, a->gs);
  a->wsum = score_of_sums(m, a, t, p, a->gw, a->gs, &e->score);
  a->cached = p;
  a->dirty_series = a->dirty_scalars = a->dirty_aged = 0;
  e->had_prev = a->last_eval_ms != INT64_MIN;
  e->prev_score = a->has_score ? a->score : NAN;
  e->prev_band = a->band;
  e->changed = !e->had_prev || a->has_score != e->score.has_score || a->band != e->score.band ||
               a->profile != e->score.profile || (e->score.has_score && e->score.score != a->score);
  record_history(m, a, hs_day_of(t), e->score.has_score ? e->score.score : NAN);
  hs__eval_rules(m, a, t, e);
  a->has_score = e->score.has_score;
  a->score = e->score.has_score ? e->score.score : 0;
  a->band = e->score.band;
  a->profile = e->score.profile;
  a->last_eval_ms = t;
}
