/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `profiles` section of a configuration: groups, metric references,
 * selection by segment and stage. */
#include "loader.h"

#include "healthscore/time.h"

#include <string.h>

typedef struct ref_ctx_s {
  hs_metric_ref_t *r;
} ref_ctx_t;

static int stage_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);

static int missing_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)key;
  (void)k;
  hs_metric_ref_t *r = ctx;
  r->missing = HS_MISSING_VALUE;
  return hs__cfg_get_num(l, v, "missing value", -1e12, 1e12, &r->missing_value);
}

static int ref_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_metric_ref_t *r = ctx;
  (void)k;
  if (!strcmp(key, "metric"))
    return hs__cfg_get_str(l, v, "metric", &r->metric);
  if (!strcmp(key, "weight"))
    return hs__cfg_get_num(l, v, "weight", 0, 1e6, &r->weight);
  if (!strcmp(key, "worst"))
    return hs__cfg_get_num(l, v, "worst", -1e12, 1e12, &r->worst);
  if (!strcmp(key, "best"))
    return hs__cfg_get_num(l, v, "best", -1e12, 1e12, &r->best);
  if (!strcmp(key, "stale")) {
    int64_t ms;
    int rc = hs__cfg_get_duration(l, v, "stale", &ms);
    r->stale_days = (double)ms / (double)HS_MS_PER_DAY;
    return rc;
  }
  if (!strcmp(key, "missing")) {
    if (v->type == YAML_MAPPING_NODE) {
      static const char *const keys[] = {"value", NULL};
      return hs__cfg_each_pair(l, v, "missing", keys, missing_pair, r);
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
  int rc = hs__cfg_want(l, v, YAML_MAPPING_NODE, "stages");
  if (rc)
    return rc;
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  r->stages = hs_calloc(n ? n : 1, sizeof *r->stages);
  if (!r->stages)
    return HS_E_NOMEM;
  return hs__cfg_each_pair(l, v, "stages", NULL, stage_pair, r);
}

static int stage_range_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_stage_range_t *s = ctx;
  (void)k;
  return hs__cfg_get_num(l, v, key, -1e12, 1e12, !strcmp(key, "worst") ? &s->worst : &s->best);
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
  int rc = hs__cfg_each_pair(l, v, "a stage override", keys, stage_range_pair, s);
  if (!rc && (!hs__cfg_has_key(l, v, "worst") || !hs__cfg_has_key(l, v, "best")))
    rc = lerr(l, v, "stage \"%s\" needs worst and best", key);
  if (!rc && s->worst == s->best)
    rc = lerr(l, v, "stage \"%s\": worst and best must differ", key);
  return rc;
}

static const char *const ref_keys[] = {"metric",  "weight", "worst",  "best",
                                       "missing", "stale",  "stages", NULL};
static const char *const group_keys[] = {"name", "weight", "metrics", NULL};

static int group_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_group_def_t *g = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return hs__cfg_get_str(l, v, "group name", &g->name);
  if (!strcmp(key, "weight"))
    return hs__cfg_get_num(l, v, "group weight", 0, 100, &g->weight);
  int rc = hs__cfg_want(l, v, YAML_SEQUENCE_NODE, "metrics");
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
    if ((rc = hs__cfg_visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    hs_metric_ref_t *r = &g->metrics[g->n_metrics++];
    r->weight = 1;
    r->pos = pos_of(item);
    if ((rc = hs__cfg_each_pair(l, item, "a metric reference", ref_keys, ref_pair, r)))
      return rc;
    if (!r->metric || !hs__cfg_has_key(l, item, "worst") || !hs__cfg_has_key(l, item, "best"))
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
  return hs__cfg_get_strs(l, v, "select values", &s->values, &s->n_values);
}

int hs__cfg_profile_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_profile_def_t *p = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return hs__cfg_get_str(l, v, "profile name", &p->name);
  if (!strcmp(key, "version")) {
    int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "version");
    if (!rc && !(p->version = hs_strndup(sval(v), v->data.scalar.length)))
      rc = HS_E_NOMEM;
    return rc;
  }
  if (!strcmp(key, "default"))
    return hs__cfg_get_bool(l, v, "default", &p->is_default);
  int rc;
  if (!strcmp(key, "select")) {
    if ((rc = hs__cfg_want(l, v, YAML_MAPPING_NODE, "select")))
      return rc;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    p->select = hs_calloc(n ? n : 1, sizeof *p->select);
    if (!p->select)
      return HS_E_NOMEM;
    return hs__cfg_each_pair(l, v, "select", NULL, select_pair, p);
  }
  if ((rc = hs__cfg_want(l, v, YAML_SEQUENCE_NODE, "groups")))
    return rc;
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (n == 0 || n > HS_MAX_GROUPS_CFG)
    return lerr(l, v, "a profile needs 1..%d groups", HS_MAX_GROUPS_CFG);
  p->groups = hs_calloc(n, sizeof *p->groups);
  if (!p->groups)
    return HS_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    node_t *item = NULL;
    if ((rc = hs__cfg_visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    hs_group_def_t *g = &p->groups[p->n_groups++];
    g->pos = pos_of(item);
    if ((rc = hs__cfg_each_pair(l, item, "a group", group_keys, group_pair, g)))
      return rc;
    if (!g->name || !hs__cfg_has_key(l, item, "weight") || !g->metrics)
      return lerr(l, item, "a group needs name, weight and metrics");
  }
  return 0;
}
