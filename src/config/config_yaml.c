/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML configuration loader: libyaml's document tree walked into an
 * hs_config_t, with every error as FILE:LINE:COLUMN: reason. The top level
 * is here; the sections are in config_metrics.c, config_profiles.c and
 * config_rules.c, the typed values in loader.c. */
#include "loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (4 * 1024 * 1024)

static const char *const profile_keys[] = {"name", "version", "default", "select", "groups", NULL};
static const char *const rule_keys[] = {"id",         "kind",    "severity", "below",    "band",
                                        "hysteresis", "pending", "cooldown", "warmup",   "lookback",
                                        "drop",       "unit",    "window",   "profiles", NULL};

static int top_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)ctx;
  (void)k;
  hs_config_t *cfg = l->cfg;
  int rc;
  if (!strcmp(key, "dedup")) {
    static const char *const keys[] = {"window", NULL};
    if ((rc = hs__cfg_each_pair(l, v, "dedup", keys, hs__cfg_dedup_pair, NULL)))
      return rc;
    return hs__cfg_has_key(l, v, "window") ? 0 : lerr(l, v, "dedup needs window (days, 0: off)");
  }
  if (!strcmp(key, "metrics")) {
    cfg->metrics = hs_calloc(HS_MAX_METRICS_CFG, sizeof *cfg->metrics);
    if (!cfg->metrics)
      return HS_E_NOMEM;
    return hs__cfg_each_pair(l, v, "metrics", NULL, hs__cfg_metrics_pair, NULL);
  }
  if ((rc = hs__cfg_want(l, v, YAML_SEQUENCE_NODE, key)))
    return rc;
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  size_t cap = !strcmp(key, "profiles") ? HS_MAX_PROFILES_CFG
               : !strcmp(key, "bands")  ? HS_MAX_BANDS_CFG
                                        : HS_MAX_RULES_CFG;
  if (n > cap)
    return lerr(l, v, "more than %zu %s", cap, key);
  for (size_t i = 0; i < n; i++) {
    node_t *item = NULL;
    if ((rc = hs__cfg_visit(l, v->data.sequence.items.start[i], &item)))
      return rc;
    if (!strcmp(key, "profiles")) {
      if (!cfg->profiles && !(cfg->profiles = hs_calloc(n, sizeof *cfg->profiles)))
        return HS_E_NOMEM;
      hs_profile_def_t *p = &cfg->profiles[cfg->n_profiles++];
      p->pos = pos_of(item);
      if ((rc = hs__cfg_each_pair(l, item, "a profile", profile_keys, hs__cfg_profile_pair, p)))
        return rc;
      if (!p->name || !p->groups)
        return lerr(l, item, "a profile needs name and groups");
    } else if (!strcmp(key, "bands")) {
      static const char *const keys[] = {"name", "min", NULL};
      if (!cfg->bands && !(cfg->bands = hs_calloc(n, sizeof *cfg->bands)))
        return HS_E_NOMEM;
      hs_band_def_t *b = &cfg->bands[cfg->n_bands++];
      b->pos = pos_of(item);
      if ((rc = hs__cfg_each_pair(l, item, "a band", keys, hs__cfg_band_pair, b)))
        return rc;
      if (!b->name || !hs__cfg_has_key(l, item, "min"))
        return lerr(l, item, "a band needs name and min");
      if ((i == 0 && b->min != 0) || (i > 0 && b->min <= cfg->bands[i - 1].min))
        return lerr(l, item, "band mins must start at 0 and ascend");
    } else {
      if (!cfg->rules && !(cfg->rules = hs_calloc(n, sizeof *cfg->rules)))
        return HS_E_NOMEM;
      rule_ctx_t rc_ = {&cfg->rules[cfg->n_rules++], false};
      rc_.r->pos = pos_of(item);
      if ((rc = hs__cfg_each_pair(l, item, "an alert rule", rule_keys, hs__cfg_rule_pair, &rc_)) ||
          (rc = hs__cfg_check_rule(l, item, &rc_)))
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
    rc = hs__cfg_visit(&l, 1, &r);
    if (!rc)
      rc = hs__cfg_each_pair(&l, r, "the top level", keys, top_pair, NULL);
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
      hs__cfg_free_strs(d->where[w].values, d->where[w].n_values);
  }
  hs_free(cfg->metrics);
  for (size_t i = 0; cfg->profiles && i < cfg->n_profiles; i++) {
    hs_profile_def_t *p = &cfg->profiles[i];
    hs_free(p->name);
    hs_free(p->version);
    for (size_t s = 0; p->select && s < p->n_select; s++) {
      hs_free(p->select[s].attr);
      hs__cfg_free_strs(p->select[s].values, p->select[s].n_values);
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
    hs__cfg_free_strs(cfg->rules[i].profiles, cfg->rules[i].n_profiles);
  }
  hs_free(cfg->rules);
  hs_free(cfg->path);
  hs_free(cfg);
}
