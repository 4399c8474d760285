/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `metrics` section of a configuration. */
#include "loader.h"

#include "healthscore/time.h"

#include <string.h>

static const char *const metric_keys[] = {"label", "category", "kind",    "events",    "where",
                                          "field", "window",   "max_age", "of",        "mode",
                                          "num",   "den",      "per",     "attribute", NULL};

static int where_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_def_t *d = ctx;
  hs_field_t f = hs_field_from((hs_str_t){key, (uint32_t)strlen(key)});
  if (f == HS_F_NONE || hs_field_is_number(f))
    return lerr(l, k,
                "\"%s\" is not a string field of events (where: takes feature, role, "
                "priority, user_id, ...)",
                key);
  if (d->n_where == HS_MAX_WHERE)
    return lerr(l, k, "at most %d fields in where", HS_MAX_WHERE);
  hs_where_t *w = &d->where[d->n_where++];
  w->field = f;
  return hs__cfg_get_strs(l, v, "a where value list", &w->values, &w->n_values);
}

static int metric_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_def_t *d = ctx;
  (void)k;
  if (!strcmp(key, "label"))
    return hs__cfg_get_str(l, v, "label", &d->label);
  if (!strcmp(key, "category"))
    return hs__cfg_get_str(l, v, "category", &d->category);
  if (!strcmp(key, "kind")) {
    int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "kind");
    if (rc)
      return rc;
    for (int i = 0; i < HS_MK__COUNT; i++) {
      if (!strcmp(sval(v), hs_metric_kind_name((hs_metric_kind_t)i))) {
        d->kind = (hs_metric_kind_t)i;
        return 0;
      }
    }
    return lerr(l, v,
                "unknown metric kind \"%s\" (count, sum, avg, min, max, distinct, "
                "days_since, latest, ratio, trend, slope, attribute)",
                sval(v));
  }
  if (!strcmp(key, "events")) {
    char **names = NULL;
    size_t n = 0;
    int rc = hs__cfg_get_strs(l, v, "events", &names, &n);
    for (size_t i = 0; !rc && i < n; i++) {
      hs_event_type_t t = hs_event_type_from((hs_str_t){names[i], (uint32_t)strlen(names[i])});
      if (t == HS_EV_UNKNOWN)
        rc = lerr(l, v, "unknown event type \"%s\"", names[i]);
      d->events |= UINT64_C(1) << t;
    }
    hs__cfg_free_strs(names, n);
    return rc;
  }
  if (!strcmp(key, "where"))
    return hs__cfg_each_pair(l, v, "where", NULL, where_pair, d);
  if (!strcmp(key, "field")) {
    int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "field");
    if (rc)
      return rc;
    d->field = hs_field_from((hs_str_t){sval(v), (uint32_t)v->data.scalar.length});
    return d->field == HS_F_NONE ? lerr(l, v, "unknown event field \"%s\"", sval(v)) : 0;
  }
  if (!strcmp(key, "window"))
    return hs__cfg_get_days(l, v, "window", &d->window_days);
  if (!strcmp(key, "max_age")) {
    int64_t ms;
    int rc = hs__cfg_get_duration(l, v, "max_age", &ms);
    d->max_age_days = (double)ms / (double)HS_MS_PER_DAY;
    return rc;
  }
  if (!strcmp(key, "of"))
    return hs__cfg_get_str(l, v, "of", &d->of);
  if (!strcmp(key, "mode")) {
    if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "percent"))
      d->trend_mode = HS_TREND_PERCENT;
    else if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "delta"))
      d->trend_mode = HS_TREND_DELTA;
    else
      return lerr(l, v, "mode must be percent or delta");
    return 0;
  }
  if (!strcmp(key, "num"))
    return hs__cfg_get_str(l, v, "num", &d->num);
  if (!strcmp(key, "den"))
    return hs__cfg_get_str(l, v, "den", &d->den);
  if (!strcmp(key, "per"))
    return hs__cfg_get_str(l, v, "per", &d->per);
  return hs__cfg_get_str(l, v, "attribute", &d->attribute);
}

static int check_metric(loader_t *l, node_t *n, hs_metric_def_t *d) {
  static const char *const need[HS_MK__COUNT] = {
      [HS_MK_COUNT] = "window",       [HS_MK_SUM] = "window", [HS_MK_AVG] = "window",
      [HS_MK_MIN] = "window",         [HS_MK_MAX] = "window", [HS_MK_DISTINCT] = "window",
      [HS_MK_RATIO] = "num",          [HS_MK_TREND] = "of",   [HS_MK_SLOPE] = "of",
      [HS_MK_ATTRIBUTE] = "attribute"};
  if (!hs__cfg_has_key(l, n, "kind"))
    return lerr(l, n, "metric \"%s\": missing key \"kind\"", d->id);
  if (need[d->kind] && !hs__cfg_has_key(l, n, need[d->kind]))
    return lerr(l, n, "metric \"%s\": kind %s needs \"%s\"", d->id, hs_metric_kind_name(d->kind),
                need[d->kind]);
  if (d->kind == HS_MK_RATIO && !d->den)
    return lerr(l, n, "metric \"%s\": ratio needs \"den\"", d->id);
  bool needs_num = d->kind == HS_MK_SUM || d->kind == HS_MK_AVG || d->kind == HS_MK_MIN ||
                   d->kind == HS_MK_MAX || d->kind == HS_MK_LATEST;
  if (needs_num && !hs_field_is_number(d->field))
    return lerr(l, n,
                "metric \"%s\": kind %s needs a numeric \"field\" (session_seconds, "
                "count, amount, score, rating, value, licenses)",
                d->id, hs_metric_kind_name(d->kind));
  if (d->kind == HS_MK_DISTINCT && d->field != HS_F_NONE && hs_field_is_number(d->field))
    return lerr(l, n,
                "metric \"%s\": distinct needs a string \"field\" (user_id, feature, role, "
                "...)",
                d->id);
  for (const char *p = d->id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return lerr(l, n, "metric id \"%s\": use lowercase letters, digits and _", d->id);
  return 0;
}

int hs__cfg_metrics_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)ctx;
  hs_config_t *cfg = l->cfg;
  if (cfg->n_metrics == HS_MAX_METRICS_CFG)
    return lerr(l, k, "more than %d metrics", HS_MAX_METRICS_CFG);
  hs_metric_def_t *d = &cfg->metrics[cfg->n_metrics++];
  d->pos = pos_of(k);
  if (!(d->id = hs_strdup(key)))
    return HS_E_NOMEM;
  int rc = hs__cfg_each_pair(l, v, "a metric", metric_keys, metric_pair, d);
  return rc ? rc : check_metric(l, v, d);
}
