/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Backtest statistics. Per account: a compact series of daily scores (the
 * last score of each UTC day), the last band, profile and segment, and the
 * outcome. Everything else is computed when the report is written. */
#include "internal.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **copy_names(const char *const *v, size_t n) {
  char **c = hs_calloc(n + 1, sizeof *c);
  for (size_t i = 0; c && i < n; i++)
    if (!(c[i] = hs_strdup(v[i])))
      return c; /* caller notices the NULL entry */
  return c;
}

static void free_names(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    hs_free(v[i]);
  hs_free(v);
}

static hs_str_t id_of(const void *ctx, uint32_t index) {
  const hs_report_t *r = ctx;
  return (hs_str_t){r->acc[index].id, r->acc[index].id_len};
}

int hs_report_new(hs_report_t **out, const hs_report_conf_t *conf) {
  hs_report_t *r = hs_calloc(1, sizeof *r);
  *out = NULL;
  if (!r)
    return HS_E_NOMEM;
  r->horizon = conf->horizon_days > 0 ? conf->horizon_days : 30;
  r->n_bands = conf->n_bands;
  r->n_profiles = conf->n_profiles;
  r->n_rules = conf->n_rules;
  r->bands = copy_names(conf->bands, conf->n_bands);
  r->profiles = copy_names(conf->profiles, conf->n_profiles);
  r->rules = copy_names(conf->rules, conf->n_rules);
  r->n_metrics = conf->metrics ? conf->n_metrics : 0;
  r->metrics = copy_names(conf->metrics, r->n_metrics);
  r->metric_seen = hs_calloc(r->n_metrics + 1, sizeof *r->metric_seen);
  r->fired = hs_calloc(conf->n_rules + 1, sizeof *r->fired);
  r->resolved = hs_calloc(conf->n_rules + 1, sizeof *r->resolved);
  bool ok = r->bands && r->profiles && r->rules && r->metrics && r->metric_seen && r->fired &&
            r->resolved && !hs_idmap_init(&r->map, 1024, 50, id_of, r);
  for (size_t i = 0; ok && i < conf->n_bands; i++)
    ok = r->bands[i] != NULL;
  for (size_t i = 0; ok && i < conf->n_profiles; i++)
    ok = r->profiles[i] != NULL;
  for (size_t i = 0; ok && i < conf->n_rules; i++)
    ok = r->rules[i] != NULL;
  for (size_t i = 0; ok && i < r->n_metrics; i++)
    ok = r->metrics[i] != NULL;
  if (!ok) {
    hs_report_free(r);
    return HS_E_NOMEM;
  }
  *out = r;
  return 0;
}

void hs_report_free(hs_report_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->n_acc; i++) {
    hs_free(r->acc[i].id);
    hs_free(r->acc[i].segment);
    hs_free(r->acc[i].days);
    hs_free(r->acc[i].mv);
  }
  hs_free(r->alerts);
  hs_free(r->metric_seen);
  free_names(r->metrics, r->n_metrics);
  hs_free(r->acc);
  hs_idmap_free(&r->map);
  free_names(r->bands, r->n_bands);
  free_names(r->profiles, r->n_profiles);
  free_names(r->rules, r->n_rules);
  hs_free(r->fired);
  hs_free(r->resolved);
  hs_free(r);
}

long hs__find(const hs_report_t *r, hs_str_t id) {
  return hs_idmap_find(&r->map, id);
}

static acct_t *find_or_add(hs_report_t *r, hs_str_t id) {
  uint64_t h = hs_idmap_hash(id);
  size_t s = hs_idmap_slot(&r->map, id, h);
  if (r->map.refs[s])
    return &r->acc[r->map.refs[s] - 1];
  if (hs_idmap_reserve(&r->map, &s, id, h))
    return NULL;
  acct_t *grown = hs_array_grow(r->acc, &r->cap_acc, r->n_acc, sizeof *r->acc, 256);
  if (!grown)
    return NULL;
  r->acc = grown;
  acct_t *a = &r->acc[r->n_acc];
  memset(a, 0, sizeof *a);
  if (!(a->id = hs_strndup(id.ptr, id.len)))
    return NULL;
  a->id_len = id.len;
  a->band = -1;
  a->profile = -1;
  hs_idmap_put(&r->map, s, h, (uint32_t)r->n_acc++);
  return a;
}

int hs_report_score(hs_report_t *r, hs_str_t account, int64_t at_ms, bool has_score, double score,
                    int band, int profile, hs_str_t segment) {
  acct_t *a = find_or_add(r, account);
  if (!a)
    return HS_E_NOMEM;
  r->evaluations++;
  int32_t day = hs_day_of(at_ms);
  day_t v = {day, has_score ? (float)score : NAN, (int8_t)(has_score ? band : -1)};
  size_t row_bytes = 2 * r->n_metrics;
  if (a->n_days && a->days[a->n_days - 1].day >= day) {
    a->days[a->n_days - 1] = v;
  } else {
    size_t cap = a->cap_days;
    day_t *grown = hs_array_grow(a->days, &cap, a->n_days, sizeof *a->days, 8);
    if (!grown)
      return HS_E_NOMEM;
    a->days = grown;
    if (row_bytes && cap != a->cap_days) {
      uint8_t *mv = hs_realloc(a->mv, cap * row_bytes);
      if (!mv)
        return HS_E_NOMEM;
      a->mv = mv;
    }
    a->cap_days = cap;
    a->days[a->n_days++] = v;
  }
  if (row_bytes)
    memset(a->mv + (a->n_days - 1) * row_bytes, MV_MISSING, row_bytes);
  a->band = has_score ? band : -1;
  a->profile = profile;
  if (segment.len && !(a->segment && hs_str_eq(segment, a->segment))) {
    char *s = hs_strndup(segment.ptr, segment.len);
    if (!s)
      return HS_E_NOMEM;
    hs_free(a->segment);
    a->segment = s;
  }
  return 0;
}

int hs_report_alert(hs_report_t *r, int rule, bool firing) {
  if (rule < 0 || (size_t)rule >= r->n_rules)
    return HS_E_INVAL;
  (firing ? r->fired : r->resolved)[rule]++;
  return 0;
}

int hs_report_alert_at(hs_report_t *r, int rule, bool firing, int64_t at_ms) {
  int rc = hs_report_alert(r, rule, firing);
  if (rc || !firing)
    return rc;
  alert_ev_t *grown = hs_array_grow(r->alerts, &r->cap_alerts, r->n_alerts, sizeof *r->alerts, 256);
  if (!grown)
    return HS_E_NOMEM;
  r->alerts = grown;
  r->alerts[r->n_alerts++] = (alert_ev_t){hs_day_of(at_ms), (uint16_t)rule};
  return 0;
}

static uint8_t quantise(double v, double scale, double max) {
  if (isnan(v))
    return MV_MISSING;
  v = v < 0 ? 0 : v > max ? max : v;
  return (uint8_t)lround(v * scale);
}

int hs_report_metrics(hs_report_t *r, hs_str_t account, int64_t at_ms, size_t n,
                      const uint16_t *metric, const double *norm, const double *weight) {
  if (!r->n_metrics)
    return 0;
  acct_t *a = find_or_add(r, account);
  if (!a)
    return HS_E_NOMEM;
  if (!a->n_days || a->days[a->n_days - 1].day != hs_day_of(at_ms))
    return HS_E_INVAL; /* hs_report_score() first */
  uint8_t *row = a->mv + (a->n_days - 1) * 2 * r->n_metrics;
  memset(row, MV_MISSING, 2 * r->n_metrics);
  for (size_t i = 0; i < n; i++) {
    if (metric[i] >= r->n_metrics)
      return HS_E_INVAL;
    r->metric_seen[metric[i]] = true;
    row[2 * metric[i]] = quantise(norm[i], 2.0, 100.0);
    row[2 * metric[i] + 1] = isnan(norm[i]) ? 0 : quantise(weight[i], 250.0, 1.0);
  }
  return 0;
}

int hs_report_outcome(hs_report_t *r, hs_str_t account, int64_t at_ms, hs_str_t outcome) {
  acct_t *a = find_or_add(r, account);
  if (!a)
    return HS_E_NOMEM;
  a->outcome = hs_str_eq(outcome, "churned")    ? OUT_CHURNED
               : hs_str_eq(outcome, "renewed")  ? OUT_RENEWED
               : hs_str_eq(outcome, "expanded") ? OUT_EXPANDED
                                                : OUT_NONE;
  a->outcome_day = hs_day_of(at_ms);
  return 0;
}

long hs__score_at(const acct_t *a, int32_t day) {
  for (size_t i = a->n_days; i > 0; i--) {
    const day_t *d = &a->days[i - 1];
    if (d->day <= day && !isnan(d->score))
      return (long)i - 1;
  }
  return -1;
}

static int by_pred(const void *x, const void *y) {
  const pred_t *a = x, *b = y;
  if (a->score != b->score)
    return (a->score > b->score) - (a->score < b->score);
  if (a->churned != b->churned)
    return a->churned ? -1 : 1;
  return (a->acct > b->acct) - (a->acct < b->acct);
}

void hs__sort_preds(pred_t *p, size_t n) {
  qsort(p, n, sizeof *p, by_pred);
}

size_t hs__predictions(const hs_report_t *r, bool (*keep)(void *ud, size_t acct), void *ud,
                       pred_t *out, size_t *with_outcome) {
  size_t n = 0, wo = 0;
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    if (a->outcome == OUT_NONE || (keep && !keep(ud, i)))
      continue;
    wo++;
    long k = hs__score_at(a, a->outcome_day - r->horizon);
    if (k >= 0)
      out[n++] = (pred_t){a->days[k].score, a->outcome == OUT_CHURNED, (uint32_t)i, (uint32_t)k};
  }
  if (with_outcome)
    *with_outcome = wo;
  return n;
}

double hs__auc(pred_t *p, size_t n) {
  size_t pos = 0, neg = 0;
  for (size_t i = 0; i < n; i++)
    pos += p[i].churned;
  neg = n - pos;
  if (!pos || !neg)
    return NAN;
  hs__sort_preds(p, n);
  double rank_neg = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && p[j].score == p[i].score)
      j++;
    double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1..j */
    for (size_t k = i; k < j; k++)
      if (!p[k].churned)
        rank_neg += avg;
    i = j;
  }
  return (rank_neg - (double)neg * (double)(neg + 1) / 2.0) / ((double)pos * (double)neg);
}

int hs__lead_days(const acct_t *a) {
  int32_t first = INT32_MIN;
  for (size_t k = a->n_days; k > 0; k--) {
    const day_t *dd = &a->days[k - 1];
    if (dd->day > a->outcome_day)
      continue;
    if (dd->band != 0)
      break;
    first = dd->day;
  }
  return first != INT32_MIN && a->outcome_day - first <= 365 ? a->outcome_day - first : -1;
}

static int by_int(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  return (a > b) - (a < b);
}

typedef hs_report_summary_t stats_t;

typedef struct keep_ctx_s {
  const hs_report_t *r;
  bool (*keep)(void *ud, hs_str_t account);
  void *ud;
} keep_ctx_t;

static bool keep_acct(void *ud, size_t i) {
  keep_ctx_t *k = ud;
  const acct_t *a = &k->r->acc[i];
  return k->keep(k->ud, (hs_str_t){a->id, a->id_len});
}

int hs_report_summary(const hs_report_t *r, bool (*keep)(void *ud, hs_str_t account), void *ud,
                      hs_report_summary_t *st) {
  memset(st, 0, sizeof *st);
  st->auc = NAN;
  st->median_lead = NAN;
  pred_t *p = hs_calloc(r->n_acc + 1, sizeof *p);
  int *leads = hs_calloc(r->n_acc + 1, sizeof *leads);
  if (!p || !leads) {
    hs_free(p);
    hs_free(leads);
    return HS_E_NOMEM;
  }
  keep_ctx_t kc = {r, keep, ud};
  size_t n = hs__predictions(r, keep ? keep_acct : NULL, &kc, p, &st->with_outcome);
  st->excluded = st->with_outcome - n;
  for (size_t i = 0; i < n; i++) {
    const acct_t *a = &r->acc[p[i].acct];
    const day_t *d = &a->days[p[i].day];
    bool churned = p[i].churned;
    for (int k = 0; k < 2; k++) {
      bool flagged = d->band >= 0 && d->band <= k;
      if (flagged && churned)
        st->tp[k]++;
      else if (flagged)
        st->fp[k]++;
      else if (churned)
        st->fn[k]++;
      else
        st->tn[k]++;
    }
  }
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    if (a->outcome != OUT_CHURNED || (keep && !keep_acct(&kc, i)))
      continue;
    st->churned++;
    int lead = hs__lead_days(a);
    if (lead >= 0)
      leads[st->lead_n++] = lead;
    else
      st->never_red++;
  }
  st->auc = hs__auc(p, n);
  st->auc_ok = !isnan(st->auc);
  if (st->lead_n) {
    qsort(leads, st->lead_n, sizeof *leads, by_int);
    size_t m = st->lead_n;
    st->median_lead = m % 2 ? leads[m / 2] : (leads[m / 2 - 1] + leads[m / 2]) / 2.0;
  }
  for (size_t i = 0; i < r->n_rules; i++)
    st->alerts_fired += r->fired[i];
  hs_free(p);
  hs_free(leads);
  return 0;
}

static void compute(const hs_report_t *r, stats_t *st) {
  hs_report_summary(r, NULL, NULL, st);
}

static double ratio(size_t a, size_t b) {
  return b ? (double)a / (double)b : NAN;
}

/* Distinct segments, sorted. */
static int cmp_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static size_t segments(const hs_report_t *r, char ***out) {
  char **v = hs_calloc(r->n_acc + 1, sizeof *v);
  size_t n = 0;
  for (size_t i = 0; v && i < r->n_acc; i++)
    if (r->acc[i].segment)
      v[n++] = r->acc[i].segment;
  if (v)
    qsort(v, n, sizeof *v, cmp_str);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!k || strcmp(v[k - 1], v[i]))
      v[k++] = v[i];
  *out = v;
  return k;
}

/* Band counts (index n_bands = unknown) of the accounts matching a filter. */
static void band_mix(const hs_report_t *r, int profile, const char *segment, size_t *counts,
                     size_t *total) {
  memset(counts, 0, (r->n_bands + 1) * sizeof *counts);
  *total = 0;
  for (size_t i = 0; i < r->n_acc; i++) {
    const acct_t *a = &r->acc[i];
    if (!a->n_days)
      continue;
    if (profile >= 0 && a->profile != profile)
      continue;
    if (segment && (!a->segment || strcmp(a->segment, segment)))
      continue;
    counts[a->band >= 0 && (size_t)a->band < r->n_bands ? (size_t)a->band : r->n_bands]++;
    (*total)++;
  }
}

static int text_mix(const hs_report_t *r, hs_buf_t *out, const char *label, int profile,
                    const char *segment) {
  size_t counts[16], total;
  band_mix(r, profile, segment, counts, &total);
  if (!total)
    return 0;
  int rc = hs_buf_printf(out, "  %-22s %7zu", label, total);
  for (size_t b = 0; b <= r->n_bands; b++)
    rc |= hs_buf_printf(out, "  %s %5.1f%%", b < r->n_bands ? r->bands[b] : "unknown",
                        100.0 * (double)counts[b] / (double)total);
  return rc | hs_buf_printf(out, "\n");
}

static int text_ratio(hs_buf_t *out, double v) {
  return isnan(v) ? hs_buf_printf(out, "   n/a") : hs_buf_printf(out, " %5.3f", v);
}

int hs_report_text(const hs_report_t *r, hs_buf_t *out) {
  size_t scored = 0;
  for (size_t i = 0; i < r->n_acc; i++)
    scored += r->acc[i].band >= 0;
  int rc = hs_buf_printf(out,
                         "healthscore backtest report\n\n"
                         "accounts %zu, with a score %zu, evaluations %llu\n\n"
                         "band mix at the end (accounts):\n",
                         r->n_acc, scored, (unsigned long long)r->evaluations);
  rc |= text_mix(r, out, "all", -1, NULL);
  char label[160];
  for (size_t p = 0; p < r->n_profiles; p++) {
    snprintf(label, sizeof label, "profile %s", r->profiles[p]);
    rc |= text_mix(r, out, label, (int)p, NULL);
  }
  char **segs;
  size_t ns = segments(r, &segs);
  for (size_t s = 0; segs && s < ns; s++) {
    snprintf(label, sizeof label, "segment %s", segs[s]);
    rc |= text_mix(r, out, label, -1, segs[s]);
  }
  hs_free(segs);
  rc |= hs_buf_printf(out, "\nalerts per rule:            fired  resolved\n");
  for (size_t i = 0; i < r->n_rules; i++)
    rc |= hs_buf_printf(out, "  %-24s %7llu  %8llu\n", r->rules[i], (unsigned long long)r->fired[i],
                        (unsigned long long)r->resolved[i]);
  stats_t st;
  compute(r, &st);
  if (!st.with_outcome)
    return rc | hs_buf_printf(out, "\noutcomes: none in the input, so no churn prediction "
                                   "figures\n");
  rc |= hs_buf_printf(out,
                      "\nchurn prediction, score %d days before the outcome:\n"
                      "  accounts with an outcome %zu (churned %zu, base rate %.3f); "
                      "without a score by then %zu\n",
                      r->horizon, st.with_outcome, st.churned, ratio(st.churned, st.with_outcome),
                      st.excluded);
  static const char *const names[] = {"red", "red or yellow"};
  for (int k = 0; k < 2 && (size_t)k < r->n_bands; k++) {
    rc |= hs_buf_printf(out, "  %-14s precision", names[k]);
    rc |= text_ratio(out, ratio(st.tp[k], st.tp[k] + st.fp[k]));
    rc |= hs_buf_printf(out, "  recall");
    rc |= text_ratio(out, ratio(st.tp[k], st.tp[k] + st.fn[k]));
    rc |= hs_buf_printf(out, "  (TP %zu FP %zu FN %zu TN %zu)\n", st.tp[k], st.fp[k], st.fn[k],
                        st.tn[k]);
  }
  rc |= hs_buf_printf(out, "  ROC AUC (lower score = churn)");
  rc |= st.auc_ok ? hs_buf_printf(out, " %.3f\n", st.auc) : hs_buf_printf(out, " n/a\n");
  if (st.lead_n)
    rc |= hs_buf_printf(out,
                        "  median lead time red -> churn %.1f days (%zu churned accounts; "
                        "%zu not red before churn)\n",
                        st.median_lead, st.lead_n, st.never_red);
  else
    rc |= hs_buf_printf(out,
                        "  median lead time n/a (%zu churned accounts not red before "
                        "churn)\n",
                        st.never_red);
  return rc ? HS_E_NOMEM : 0;
}

static int json_num(hs_buf_t *out, double v) {
  return isnan(v) ? hs_buf_printf(out, "null") : hs_buf_printf(out, "%.6g", v);
}

static int json_mix(const hs_report_t *r, hs_buf_t *out, int profile, const char *segment) {
  size_t counts[16], total;
  band_mix(r, profile, segment, counts, &total);
  int rc = hs_buf_printf(out, "{\"accounts\":%zu", total);
  for (size_t b = 0; b <= r->n_bands; b++) {
    rc |= hs_buf_printf(out, ",");
    const char *name = b < r->n_bands ? r->bands[b] : "unknown";
    rc |= hs_buf_json_str(out, name, strlen(name));
    rc |= hs_buf_printf(out, ":%zu", counts[b]);
  }
  return rc | hs_buf_printf(out, "}");
}

int hs_report_json(const hs_report_t *r, hs_buf_t *out) {
  int rc =
      hs_buf_printf(out, "{\"accounts\":%zu,\"evaluations\":%llu,\"band_mix\":{\"all\":", r->n_acc,
                    (unsigned long long)r->evaluations);
  rc |= json_mix(r, out, -1, NULL);
  rc |= hs_buf_printf(out, ",\"profiles\":{");
  for (size_t p = 0; p < r->n_profiles; p++) {
    rc |= hs_buf_printf(out, p ? "," : "");
    rc |= hs_buf_json_str(out, r->profiles[p], strlen(r->profiles[p]));
    rc |= hs_buf_printf(out, ":");
    rc |= json_mix(r, out, (int)p, NULL);
  }
  rc |= hs_buf_printf(out, "},\"segments\":{");
  char **segs;
  size_t ns = segments(r, &segs);
  for (size_t s = 0; segs && s < ns; s++) {
    rc |= hs_buf_printf(out, s ? "," : "");
    rc |= hs_buf_json_str(out, segs[s], strlen(segs[s]));
    rc |= hs_buf_printf(out, ":");
    rc |= json_mix(r, out, -1, segs[s]);
  }
  hs_free(segs);
  rc |= hs_buf_printf(out, "}},\"alerts\":{");
  for (size_t i = 0; i < r->n_rules; i++) {
    rc |= hs_buf_printf(out, i ? "," : "");
    rc |= hs_buf_json_str(out, r->rules[i], strlen(r->rules[i]));
    rc |= hs_buf_printf(out, ":{\"fired\":%llu,\"resolved\":%llu}", (unsigned long long)r->fired[i],
                        (unsigned long long)r->resolved[i]);
  }
  stats_t st;
  compute(r, &st);
  rc |= hs_buf_printf(out,
                      "},\"prediction\":{\"horizon_days\":%d,\"with_outcome\":%zu,"
                      "\"churned\":%zu,\"excluded\":%zu",
                      r->horizon, st.with_outcome, st.churned, st.excluded);
  static const char *const keys[] = {"red", "red_or_yellow"};
  for (int k = 0; k < 2; k++) {
    rc |= hs_buf_printf(out, ",\"%s\":{\"tp\":%zu,\"fp\":%zu,\"fn\":%zu,\"tn\":%zu,\"precision\":",
                        keys[k], st.tp[k], st.fp[k], st.fn[k], st.tn[k]);
    rc |= json_num(out, ratio(st.tp[k], st.tp[k] + st.fp[k]));
    rc |= hs_buf_printf(out, ",\"recall\":");
    rc |= json_num(out, ratio(st.tp[k], st.tp[k] + st.fn[k]));
    rc |= hs_buf_printf(out, "}");
  }
  rc |= hs_buf_printf(out, ",\"roc_auc\":");
  rc |= json_num(out, st.auc_ok ? st.auc : NAN);
  rc |= hs_buf_printf(out, ",\"median_lead_days\":");
  rc |= json_num(out, st.lead_n ? st.median_lead : NAN);
  rc |= hs_buf_printf(out, ",\"churned_not_red\":%zu}}\n", st.never_red);
  return rc ? HS_E_NOMEM : 0;
}
