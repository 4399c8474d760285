/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML configuration loader: libyaml's document tree walked into an
 * hs_config_t, with every error as FILE:LINE:COLUMN: reason. */
#include "healthscore/config.h"
#include "healthscore/time.h"
#include "healthscore/core.h"
#include "yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (4 * 1024 * 1024)
#define HS_MAX_METRICS_CFG HS_MAX_METRICS
#define HS_MAX_PROFILES_CFG HS_MAX_PROFILES
#define HS_MAX_GROUPS_CFG HS_MAX_GROUPS
#define HS_MAX_PROFILE_METRICS_CFG HS_MAX_PROFILE_METRICS
#define HS_MAX_BANDS_CFG HS_MAX_BANDS
#define HS_MAX_RULES_CFG HS_MAX_RULES

typedef struct loader_s {
  yaml_document_t doc;
  const char *name;
  hs_err_t *err;
  hs_config_t *cfg;
  uint8_t *visited; /* per node: walked once (aliases are refused) */
  size_t n_nodes;
} loader_t;

typedef yaml_node_t node_t;

__attribute__((format(printf, 3, 4))) static int lerr(loader_t *l, const node_t *n, const char *fmt,
                                                      ...) {
  char reason[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hs_err_set(l->err, HS_E_CONFIG, "%s:%zu:%zu: %s", l->name, n ? n->start_mark.line + 1 : 1,
                    n ? n->start_mark.column + 1 : 1, reason);
}

static hs_pos_t pos_of(const node_t *n) {
  return (hs_pos_t){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
}

static node_t *get(loader_t *l, int id) {
  return yaml_document_get_node(&l->doc, id);
}

/* Marks a node as walked; a node reached twice came through an alias. */
static int visit(loader_t *l, int id, node_t **out) {
  node_t *n = get(l, id);
  size_t idx = (size_t)(id - 1);
  if (!n || idx >= l->n_nodes)
    return lerr(l, NULL, "internal: bad node");
  if (l->visited[idx])
    return lerr(l, n, "anchors and aliases are not supported");
  l->visited[idx] = 1;
  *out = n;
  return 0;
}

static const char *kind_word(const node_t *n) {
  return n->type == YAML_MAPPING_NODE    ? "a mapping"
         : n->type == YAML_SEQUENCE_NODE ? "a list"
                                         : "a scalar";
}

static int want(loader_t *l, const node_t *n, yaml_node_type_t t, const char *what) {
  if (n->type == t)
    return 0;
  return lerr(l, n, "%s must be %s, not %s", what,
              t == YAML_MAPPING_NODE    ? "a mapping"
              : t == YAML_SEQUENCE_NODE ? "a list"
                                        : "a scalar",
              kind_word(n));
}

static const char *sval(const node_t *n) {
  return (const char *)n->data.scalar.value;
}

static int get_str(loader_t *l, const node_t *n, const char *what, char **out) {
  int rc = want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  if (n->data.scalar.length == 0)
    return lerr(l, n, "%s must not be empty", what);
  if (n->data.scalar.length > 256)
    return lerr(l, n, "%s is longer than 256 bytes", what);
  hs_free(*out);
  *out = hs_strndup(sval(n), n->data.scalar.length);
  return *out ? 0 : HS_E_NOMEM;
}

static int get_num(loader_t *l, const node_t *n, const char *what, double lo, double hi,
                   double *out) {
  int rc = want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  char *end;
  errno = 0;
  double v = strtod(sval(n), &end);
  if (!n->data.scalar.length || *end || errno || !isfinite(v))
    return lerr(l, n, "%s must be a number, not \"%s\"", what, sval(n));
  if (v < lo || v > hi)
    return lerr(l, n, "%s must be between %g and %g", what, lo, hi);
  *out = v;
  return 0;
}

static int get_bool(loader_t *l, const node_t *n, const char *what, bool *out) {
  int rc = want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  const char *v = sval(n);
  if (!strcmp(v, "true") || !strcmp(v, "yes"))
    *out = true;
  else if (!strcmp(v, "false") || !strcmp(v, "no"))
    *out = false;
  else
    return lerr(l, n, "%s must be true or false", what);
  return 0;
}

static int get_duration(loader_t *l, const node_t *n, const char *what, int64_t *out) {
  int rc = want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  if (hs_duration_parse(sval(n), out) || *out < 0)
    return lerr(l, n, "%s must be a duration like 90d, 12h, 30m, 45s, 250ms or 0, not \"%s\"", what,
                sval(n));
  return 0;
}

/* Days written as "30d", "4w", or a plain integer meaning days: returns 0
 * with *days, 1 when `v` is no duration, 2 when it is not whole days. */
static int days_of(const char *v, int64_t *days) {
  int64_t ms;
  char *end;
  long plain = strtol(v, &end, 10);
  if (*v && !*end)
    ms = (int64_t)plain * HS_MS_PER_DAY;
  else if (hs_duration_parse(v, &ms))
    return 1;
  if (ms % HS_MS_PER_DAY)
    return 2;
  *days = ms / HS_MS_PER_DAY;
  return 0;
}

/* Whole days, 1..HS_MAX_WINDOW_DAYS. */
static int get_days(loader_t *l, const node_t *n, const char *what, uint32_t *out) {
  int rc = want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  const char *v = sval(n);
  int64_t d = 0;
  if ((rc = days_of(v, &d)) == 1)
    return lerr(l, n, "%s must be a number of days like 30d, not \"%s\"", what, v);
  if (rc)
    return lerr(l, n, "%s must be whole days", what);
  if (d < 1 || d > HS_MAX_WINDOW_DAYS)
    return lerr(l, n, "%s must be 1..%d days", what, HS_MAX_WINDOW_DAYS);
  *out = (uint32_t)d;
  return 0;
}

/* Iterates a mapping's pairs, checking keys against `allowed` (NULL-ended;
 * NULL allowed = any key) and refusing duplicates. */
typedef int (*pair_fn)(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);

static int each_pair(loader_t *l, node_t *map, const char *what, const char *const *allowed,
                     pair_fn fn, void *ctx) {
  int rc = want(l, map, YAML_MAPPING_NODE, what);
  if (rc)
    return rc;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    node_t *k = NULL, *v = NULL;
    if ((rc = visit(l, p->key, &k)))
      return rc;
    if (k->type != YAML_SCALAR_NODE)
      return lerr(l, k, "keys of %s must be scalars", what);
    if (allowed) {
      bool ok = false;
      for (const char *const *a = allowed; *a && !ok; a++)
        ok = !strcmp(*a, sval(k));
      if (!ok) {
        char list[160] = "";
        for (const char *const *a = allowed; *a; a++)
          snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                   a == allowed ? "" : ", ", *a);
        return lerr(l, k, "unknown key \"%s\" in %s (expected one of: %s)", sval(k), what, list);
      }
    }
    /* after the key is known: the pairs compared are bounded by the allowed
       keys, or by the cap of the pair function for free-form keys */
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
      if (!strcmp(sval(get(l, q->key)), sval(k)))
        return lerr(l, k, "duplicate key \"%s\" in %s", sval(k), what);
    if ((rc = visit(l, p->value, &v)))
      return rc;
    if ((rc = fn(l, sval(k), k, v, ctx)))
      return rc;
  }
  return 0;
}

static bool has_key(loader_t *l, node_t *map, const char *key) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    if (!strcmp(sval(get(l, p->key)), key))
      return true;
  return false;
}

/* A list of strings (a scalar counts as a list of one). */
static int get_strs(loader_t *l, node_t *n, const char *what, char ***out, size_t *n_out) {
  int rc;
  if (n->type == YAML_SCALAR_NODE) {
    *out = hs_calloc(1, sizeof(char *));
    if (!*out)
      return HS_E_NOMEM;
    *n_out = 1;
    return get_str(l, n, what, &(*out)[0]);
  }
  if ((rc = want(l, n, YAML_SEQUENCE_NODE, what)))
    return rc;
  size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (cnt == 0 || cnt > 256)
    return lerr(l, n, "%s must list 1..256 values", what);
  *out = hs_calloc(cnt, sizeof(char *));
  if (!*out)
    return HS_E_NOMEM;
  for (size_t i = 0; i < cnt; i++) {
    node_t *item = NULL;
    if ((rc = visit(l, n->data.sequence.items.start[i], &item)) ||
        (rc = get_str(l, item, what, &(*out)[i])))
      return rc;
    *n_out = i + 1;
  }
  return 0;
}

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    hs_free(v[i]);
  hs_free(v);
}

/* ---- metrics ---------------------------------------------------------- */

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
  return get_strs(l, v, "a where value list", &w->values, &w->n_values);
}

static int metric_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_def_t *d = ctx;
  (void)k;
  if (!strcmp(key, "label"))
    return get_str(l, v, "label", &d->label);
  if (!strcmp(key, "category"))
    return get_str(l, v, "category", &d->category);
  if (!strcmp(key, "kind")) {
    int rc = want(l, v, YAML_SCALAR_NODE, "kind");
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
    int rc = get_strs(l, v, "events", &names, &n);
    for (size_t i = 0; !rc && i < n; i++) {
      hs_event_type_t t = hs_event_type_from((hs_str_t){names[i], (uint32_t)strlen(names[i])});
      if (t == HS_EV_UNKNOWN)
        rc = lerr(l, v, "unknown event type \"%s\"", names[i]);
      d->events |= UINT64_C(1) << t;
    }
    free_strs(names, n);
    return rc;
  }
  if (!strcmp(key, "where"))
    return each_pair(l, v, "where", NULL, where_pair, d);
  if (!strcmp(key, "field")) {
    int rc = want(l, v, YAML_SCALAR_NODE, "field");
    if (rc)
      return rc;
    d->field = hs_field_from((hs_str_t){sval(v), (uint32_t)v->data.scalar.length});
    return d->field == HS_F_NONE ? lerr(l, v, "unknown event field \"%s\"", sval(v)) : 0;
  }
  if (!strcmp(key, "window"))
    return get_days(l, v, "window", &d->window_days);
  if (!strcmp(key, "max_age")) {
    int64_t ms;
    int rc = get_duration(l, v, "max_age", &ms);
    d->max_age_days = (double)ms / (double)HS_MS_PER_DAY;
    return rc;
  }
  if (!strcmp(key, "of"))
    return get_str(l, v, "of", &d->of);
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
    return get_str(l, v, "num", &d->num);
  if (!strcmp(key, "den"))
    return get_str(l, v, "den", &d->den);
  if (!strcmp(key, "per"))
    return get_str(l, v, "per", &d->per);
  return get_str(l, v, "attribute", &d->attribute);
}

static int check_metric(loader_t *l, node_t *n, hs_metric_def_t *d) {
  static const char *const need[HS_MK__COUNT] = {
      [HS_MK_COUNT] = "window",       [HS_MK_SUM] = "window", [HS_MK_AVG] = "window",
      [HS_MK_MIN] = "window",         [HS_MK_MAX] = "window", [HS_MK_DISTINCT] = "window",
      [HS_MK_RATIO] = "num",          [HS_MK_TREND] = "of",   [HS_MK_SLOPE] = "of",
      [HS_MK_ATTRIBUTE] = "attribute"};
  if (!has_key(l, n, "kind"))
    return lerr(l, n, "metric \"%s\": missing key \"kind\"", d->id);
  if (need[d->kind] && !has_key(l, n, need[d->kind]))
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

static int metrics_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)ctx;
  hs_config_t *cfg = l->cfg;
  if (cfg->n_metrics == HS_MAX_METRICS_CFG)
    return lerr(l, k, "more than %d metrics", HS_MAX_METRICS_CFG);
  hs_metric_def_t *d = &cfg->metrics[cfg->n_metrics++];
  d->pos = pos_of(k);
  if (!(d->id = hs_strdup(key)))
    return HS_E_NOMEM;
  int rc = each_pair(l, v, "a metric", metric_keys, metric_pair, d);
  return rc ? rc : check_metric(l, v, d);
}

/* ---- profiles --------------------------------------------------------- */

typedef struct ref_ctx_s {
  hs_metric_ref_t *r;
} ref_ctx_t;

static int stage_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);

static int missing_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)key;
  (void)k;
  hs_metric_ref_t *r = ctx;
  r->missing = HS_MISSING_VALUE;
  return get_num(l, v, "missing value", -1e12, 1e12, &r->missing_value);
}

static int ref_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_ref_t *r = ctx;
  (void)k;
  if (!strcmp(key, "metric"))
    return get_str(l, v, "metric", &r->metric);
  if (!strcmp(key, "weight"))
    return get_num(l, v, "weight", 0, 1e6, &r->weight);
  if (!strcmp(key, "worst"))
    return get_num(l, v, "worst", -1e12, 1e12, &r->worst);
  if (!strcmp(key, "best"))
    return get_num(l, v, "best", -1e12, 1e12, &r->best);
  if (!strcmp(key, "stale")) {
    int64_t ms;
    int rc = get_duration(l, v, "stale", &ms);
    r->stale_days = (double)ms / (double)HS_MS_PER_DAY;
    return rc;
  }
  if (!strcmp(key, "missing")) {
    if (v->type == YAML_MAPPING_NODE) {
      static const char *const keys[] = {"value", NULL};
      return each_pair(l, v, "missing", keys, missing_pair, r);
    }
    if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "skip"))
      r->missing = HS_MISSING_SKIP;
    else if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "worst"))
      r->missing = HS_MISSING_WORST;
    else
      return lerr(l, v, "missing must be skip, worst or {value: N}");
    return 0;
  }
  /* stages */
  int rc = want(l, v, YAML_MAPPING_NODE, "stages");
  if (rc)
    return rc;
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  r->stages = hs_calloc(n ? n : 1, sizeof *r->stages);
  if (!r->stages)
    return HS_E_NOMEM;
  return each_pair(l, v, "stages", NULL, stage_pair, r);
}

static int stage_range_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_stage_range_t *s = ctx;
  (void)k;
  return get_num(l, v, key, -1e12, 1e12, !strcmp(key, "worst") ? &s->worst : &s->best);
}

static int stage_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_ref_t *r = ctx;
  if (r->n_stages == HS_MAX_STAGES)
    return lerr(l, k, "more than %d stages", HS_MAX_STAGES);
  hs_stage_range_t *s = &r->stages[r->n_stages++];
  static const char *const keys[] = {"worst", "best", NULL};
  s->pos = pos_of(k);
  if (!(s->stage = hs_strdup(key)))
    return HS_E_NOMEM;
  int rc = each_pair(l, v, "a stage override", keys, stage_range_pair, s);
  if (!rc && (!has_key(l, v, "worst") || !has_key(l, v, "best")))
    rc = lerr(l, v, "stage \"%s\" needs worst and best", key);
  if (!rc && s->worst == s->best)
    rc = lerr(l, v, "stage \"%s\": worst and best must differ", key);
  return rc;
}

static const char *const ref_keys[] = {"metric",  "weight", "worst",  "best",
                                       "missing", "stale",  "stages", NULL};
static const char *const group_keys[] = {"name", "weight", "metrics", NULL};
static const char *const profile_keys[] = {"name", "version", "default", "select", "groups", NULL};

static int group_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_group_def_t *g = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return get_str(l, v, "group name", &g->name);
  if (!strcmp(key, "weight"))
    return get_num(l, v, "group weight", 0, 100, &g->weight);
  int rc = want(l, v, YAML_SEQUENCE_NODE, "metrics");
  if (rc)
    return rc;
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (n == 0 || n > HS_MAX_PROFILE_METRICS_CFG)
    return lerr(l, v, "a group needs 1..%d metrics", HS_MAX_PROFILE_METRICS_CFG);
  g->metrics = hs_calloc(n, sizeof *g->metrics);
  if (!g->metrics)
    return HS_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    node_t *item = NULL;
    if ((rc = visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    hs_metric_ref_t *r = &g->metrics[g->n_metrics++];
    r->weight = 1;
    r->pos = pos_of(item);
    if ((rc = each_pair(l, item, "a metric reference", ref_keys, ref_pair, r)))
      return rc;
    if (!r->metric || !has_key(l, item, "worst") || !has_key(l, item, "best"))
      return lerr(l, item, "a metric reference needs metric, worst and best");
    if (r->worst == r->best)
      return lerr(l, item, "metric \"%s\": worst and best must differ", r->metric);
  }
  return 0;
}

static int select_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_profile_def_t *p = ctx;
  if (p->n_select == HS_MAX_SELECT)
    return lerr(l, k, "more than %d attributes in select", HS_MAX_SELECT);
  hs_selector_t *s = &p->select[p->n_select++];
  if (!(s->attr = hs_strdup(key)))
    return HS_E_NOMEM;
  return get_strs(l, v, "select values", &s->values, &s->n_values);
}

static int profile_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_profile_def_t *p = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return get_str(l, v, "profile name", &p->name);
  if (!strcmp(key, "version")) {
    int rc = want(l, v, YAML_SCALAR_NODE, "version");
    if (!rc && !(p->version = hs_strndup(sval(v), v->data.scalar.length)))
      rc = HS_E_NOMEM;
    return rc;
  }
  if (!strcmp(key, "default"))
    return get_bool(l, v, "default", &p->is_default);
  int rc;
  if (!strcmp(key, "select")) {
    if ((rc = want(l, v, YAML_MAPPING_NODE, "select")))
      return rc;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    p->select = hs_calloc(n ? n : 1, sizeof *p->select);
    if (!p->select)
      return HS_E_NOMEM;
    return each_pair(l, v, "select", NULL, select_pair, p);
  }
  if ((rc = want(l, v, YAML_SEQUENCE_NODE, "groups")))
    return rc;
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (n == 0 || n > HS_MAX_GROUPS_CFG)
    return lerr(l, v, "a profile needs 1..%d groups", HS_MAX_GROUPS_CFG);
  p->groups = hs_calloc(n, sizeof *p->groups);
  if (!p->groups)
    return HS_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    node_t *item = NULL;
    if ((rc = visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    hs_group_def_t *g = &p->groups[p->n_groups++];
    g->pos = pos_of(item);
    if ((rc = each_pair(l, item, "a group", group_keys, group_pair, g)))
      return rc;
    if (!g->name || !has_key(l, item, "weight") || !g->metrics)
      return lerr(l, item, "a group needs name, weight and metrics");
  }
  return 0;
}

/* ---- bands and alerts ------------------------------------------------- */

static int band_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_band_def_t *b = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return get_str(l, v, "band name", &b->name);
  return get_num(l, v, "band min", 0, 100, &b->min);
}

static const char *const rule_keys[] = {"id",         "kind",    "severity", "below",    "band",
                                        "hysteresis", "pending", "cooldown", "warmup",   "lookback",
                                        "drop",       "unit",    "window",   "profiles", NULL};

typedef struct rule_ctx_s {
  hs_rule_def_t *r;
  bool has_hysteresis;
} rule_ctx_t;

static int rule_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  rule_ctx_t *rc_ = ctx;
  hs_rule_def_t *r = rc_->r;
  (void)k;
  if (!strcmp(key, "id"))
    return get_str(l, v, "id", &r->id);
  if (!strcmp(key, "kind")) {
    int rc = want(l, v, YAML_SCALAR_NODE, "kind");
    if (rc)
      return rc;
    for (int i = 0; i < HS_RULE__COUNT; i++) {
      if (!strcmp(sval(v), hs_rule_kind_name((hs_rule_kind_t)i))) {
        r->kind = (hs_rule_kind_t)i;
        return 0;
      }
    }
    return lerr(l, v, "unknown alert kind \"%s\" (threshold, band, trend, slope)", sval(v));
  }
  if (!strcmp(key, "severity")) {
    /* the PagerDuty Events API v2 vocabulary, so that alerts page as they are */
    static const char *const levels[] = {"critical", "error", "warning", "info"};
    int rc = want(l, v, YAML_SCALAR_NODE, "severity");
    for (size_t i = 0; !rc && i < sizeof levels / sizeof *levels; i++)
      if (!strcmp(sval(v), levels[i]))
        return get_str(l, v, "severity", &r->severity);
    return rc ? rc
              : lerr(l, v, "severity must be critical, error, warning or info, not \"%s\"",
                     sval(v));
  }
  if (!strcmp(key, "below")) /* threshold level, or slope in points per day */
    return get_num(l, v, "below", -100, 100, r->kind == HS_RULE_SLOPE ? &r->slope : &r->level);
  if (!strcmp(key, "band"))
    return get_str(l, v, "band", &r->band);
  if (!strcmp(key, "hysteresis")) {
    rc_->has_hysteresis = true;
    return get_num(l, v, "hysteresis", 0, 100, &r->hysteresis);
  }
  if (!strcmp(key, "pending"))
    return get_duration(l, v, "pending", &r->pending_ms);
  if (!strcmp(key, "cooldown"))
    return get_duration(l, v, "cooldown", &r->cooldown_ms);
  if (!strcmp(key, "warmup"))
    return get_duration(l, v, "warmup", &r->warmup_ms);
  if (!strcmp(key, "lookback"))
    return get_days(l, v, "lookback", &r->lookback_days);
  if (!strcmp(key, "drop"))
    return get_num(l, v, "drop", 0, 100, &r->drop);
  if (!strcmp(key, "unit")) {
    if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "points"))
      r->drop_percent = false;
    else if (v->type == YAML_SCALAR_NODE && !strcmp(sval(v), "percent"))
      r->drop_percent = true;
    else
      return lerr(l, v, "unit must be points or percent");
    return 0;
  }
  if (!strcmp(key, "window"))
    return get_days(l, v, "window", &r->window_days);
  return get_strs(l, v, "profiles", &r->profiles, &r->n_profiles);
}

static int check_rule(loader_t *l, node_t *n, rule_ctx_t *c) {
  hs_rule_def_t *r = c->r;
  static const char *const need[HS_RULE__COUNT][2] = {[HS_RULE_THRESHOLD] = {"below", NULL},
                                                      [HS_RULE_BAND] = {"band", NULL},
                                                      [HS_RULE_TREND] = {"lookback", "drop"},
                                                      [HS_RULE_SLOPE] = {"window", "below"}};
  if (!r->id || !has_key(l, n, "kind"))
    return lerr(l, n, "an alert rule needs id and kind");
  for (int i = 0; i < 2; i++)
    if (need[r->kind][i] && !has_key(l, n, need[r->kind][i]))
      return lerr(l, n, "alert rule \"%s\": kind %s needs \"%s\"", r->id,
                  hs_rule_kind_name(r->kind), need[r->kind][i]);
  if (!c->has_hysteresis)
    r->hysteresis = r->kind == HS_RULE_THRESHOLD || r->kind == HS_RULE_BAND ? 5 : 0;
  return 0;
}

/* ---- dedup ------------------------------------------------------------ */

static int dedup_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)k;
  (void)ctx;
  (void)key; /* only "window" gets here */
  int rc = want(l, v, YAML_SCALAR_NODE, "dedup window");
  if (rc)
    return rc;
  int64_t d = 0;
  if (days_of(sval(v), &d) || d < 0 || d > HS_MAX_WINDOW_DAYS)
    return lerr(l, v,
                "dedup window must be whole days like 7d (0: off), up to the horizon, not \"%s\"",
                sval(v));
  l->cfg->dedup_days = (int32_t)d;
  l->cfg->dedup_pos = pos_of(v);
  return 0;
}

/* ---- top level -------------------------------------------------------- */

static int top_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)ctx;
  (void)k;
  hs_config_t *cfg = l->cfg;
  int rc;
  if (!strcmp(key, "dedup")) {
    static const char *const keys[] = {"window", NULL};
    if ((rc = each_pair(l, v, "dedup", keys, dedup_pair, NULL)))
      return rc;
    return has_key(l, v, "window") ? 0 : lerr(l, v, "dedup needs window (days, 0: off)");
  }
  if (!strcmp(key, "metrics")) {
    cfg->metrics = hs_calloc(HS_MAX_METRICS_CFG, sizeof *cfg->metrics);
    if (!cfg->metrics)
      return HS_E_NOMEM;
    return each_pair(l, v, "metrics", NULL, metrics_pair, NULL);
  }
  if ((rc = want(l, v, YAML_SEQUENCE_NODE, key)))
    return rc;
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  size_t cap = !strcmp(key, "profiles") ? HS_MAX_PROFILES_CFG
               : !strcmp(key, "bands")  ? HS_MAX_BANDS_CFG
                                        : HS_MAX_RULES_CFG;
  if (n > cap)
    return lerr(l, v, "more than %zu %s", cap, key);
  for (size_t i = 0; i < n; i++) {
    node_t *item = NULL;
    if ((rc = visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    if (!strcmp(key, "profiles")) {
      if (!cfg->profiles && !(cfg->profiles = hs_calloc(n, sizeof *cfg->profiles)))
        return HS_E_NOMEM;
      hs_profile_def_t *p = &cfg->profiles[cfg->n_profiles++];
      p->pos = pos_of(item);
      if ((rc = each_pair(l, item, "a profile", profile_keys, profile_pair, p)))
        return rc;
      if (!p->name || !p->groups)
        return lerr(l, item, "a profile needs name and groups");
    } else if (!strcmp(key, "bands")) {
      static const char *const keys[] = {"name", "min", NULL};
      if (!cfg->bands && !(cfg->bands = hs_calloc(n, sizeof *cfg->bands)))
        return HS_E_NOMEM;
      hs_band_def_t *b = &cfg->bands[cfg->n_bands++];
      b->pos = pos_of(item);
      if ((rc = each_pair(l, item, "a band", keys, band_pair, b)))
        return rc;
      if (!b->name || !has_key(l, item, "min"))
        return lerr(l, item, "a band needs name and min");
      if ((i == 0 && b->min != 0) || (i > 0 && b->min <= cfg->bands[i - 1].min))
        return lerr(l, item, "band mins must start at 0 and ascend");
    } else {
      if (!cfg->rules && !(cfg->rules = hs_calloc(n, sizeof *cfg->rules)))
        return HS_E_NOMEM;
      rule_ctx_t rc_ = {&cfg->rules[cfg->n_rules++], false};
      rc_.r->pos = pos_of(item);
      if ((rc = each_pair(l, item, "an alert rule", rule_keys, rule_pair, &rc_)) ||
          (rc = check_rule(l, item, &rc_)))
        return rc;
    }
  }
  return 0;
}

int hs_config_load_string(const char *yaml, size_t len, const char *name, hs_config_t **out,
                          hs_err_t *err) {
  *out = NULL;
  if (len > MAX_FILE)
    return hs_err_set(err, HS_E_CONFIG, "%s: larger than %d bytes", name, MAX_FILE);
  loader_t l;
  memset(&l, 0, sizeof l);
  l.name = name;
  l.err = err;
  int rc = hs__yaml_load(yaml, len, name, &l.doc, err);
  if (rc)
    return rc;
  node_t *root = yaml_document_get_root_node(&l.doc);
  l.cfg = hs_calloc(1, sizeof *l.cfg);
  l.n_nodes = (size_t)(l.doc.nodes.top - l.doc.nodes.start);
  l.visited = hs_calloc(l.n_nodes + 1, 1);
  if (!l.cfg || !l.visited || !(l.cfg->path = hs_strdup(name))) {
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  } else if (!root) {
    rc = hs_err_set(err, HS_E_CONFIG, "%s:1:1: the file is empty", name);
  } else {
    static const char *const keys[] = {"bands", "metrics", "profiles", "alerts", "dedup", NULL};
    node_t *r = NULL;
    l.cfg->dedup_days = -1;
    rc = visit(&l, 1, &r);
    if (!rc)
      rc = each_pair(&l, r, "the top level", keys, top_pair, NULL);
    if (!rc && !l.cfg->n_profiles)
      rc = lerr(&l, r, "no profiles: the configuration needs at least one");
    if (rc == HS_E_NOMEM)
      hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  hs_free(l.visited);
  yaml_document_delete(&l.doc);
  if (rc) {
    hs_config_free(l.cfg);
    return rc < 0 ? rc : HS_E_CONFIG;
  }
  *out = l.cfg;
  return 0;
}

int hs_config_load_file(const char *path, hs_config_t **out, hs_err_t *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return hs_err_set(err, HS_E_IO, "%s: %s", path, strerror(errno));
  char *buf = hs_malloc(MAX_FILE + 1);
  if (!buf) {
    fclose(f);
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  size_t n = fread(buf, 1, MAX_FILE + 1, f);
  bool bad = ferror(f);
  fclose(f);
  int rc;
  if (bad)
    rc = hs_err_set(err, HS_E_IO, "%s: read error", path);
  else if (n > MAX_FILE)
    rc = hs_err_set(err, HS_E_CONFIG, "%s: larger than %d bytes", path, MAX_FILE);
  else
    rc = hs_config_load_string(buf, n, path, out, err);
  hs_free(buf);
  return rc;
}

void hs_config_free(hs_config_t *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->n_metrics; i++) {
    hs_metric_def_t *d = &cfg->metrics[i];
    hs_free(d->id);
    hs_free(d->label);
    hs_free(d->category);
    hs_free(d->of);
    hs_free(d->num);
    hs_free(d->den);
    hs_free(d->per);
    hs_free(d->attribute);
    for (size_t w = 0; w < d->n_where; w++)
      free_strs(d->where[w].values, d->where[w].n_values);
  }
  hs_free(cfg->metrics);
  for (size_t i = 0; cfg->profiles && i < cfg->n_profiles; i++) {
    hs_profile_def_t *p = &cfg->profiles[i];
    hs_free(p->name);
    hs_free(p->version);
    for (size_t s = 0; p->select && s < p->n_select; s++) {
      hs_free(p->select[s].attr);
      free_strs(p->select[s].values, p->select[s].n_values);
    }
    hs_free(p->select);
    for (size_t g = 0; p->groups && g < p->n_groups; g++) {
      hs_group_def_t *gr = &p->groups[g];
      hs_free(gr->name);
      for (size_t r = 0; gr->metrics && r < gr->n_metrics; r++) {
        hs_metric_ref_t *rf = &gr->metrics[r];
        hs_free(rf->metric);
        for (size_t s = 0; rf->stages && s < rf->n_stages; s++)
          hs_free(rf->stages[s].stage);
        hs_free(rf->stages);
      }
      hs_free(gr->metrics);
    }
    hs_free(p->groups);
  }
  hs_free(cfg->profiles);
  for (size_t i = 0; cfg->bands && i < cfg->n_bands; i++)
    hs_free(cfg->bands[i].name);
  hs_free(cfg->bands);
  for (size_t i = 0; cfg->rules && i < cfg->n_rules; i++) {
    hs_free(cfg->rules[i].id);
    hs_free(cfg->rules[i].severity);
    hs_free(cfg->rules[i].band);
    free_strs(cfg->rules[i].profiles, cfg->rules[i].n_profiles);
  }
  hs_free(cfg->rules);
  hs_free(cfg->path);
  hs_free(cfg);
}
