/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `bands`, `alerts` and `dedup` sections of a configuration. */
#include "loader.h"

#include <string.h>

int hs__cfg_band_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  hs_band_def_t *b = ctx;
  (void)k;
  if (!strcmp(key, "name"))
    return hs__cfg_get_str(l, v, "band name", &b->name);
  return hs__cfg_get_num(l, v, "band min", 0, 100, &b->min);
}

int hs__cfg_rule_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  rule_ctx_t *rc_ = ctx;
  hs_rule_def_t *r = rc_->r;
  (void)k;
  if (!strcmp(key, "id"))
    return hs__cfg_get_str(l, v, "id", &r->id);
  if (!strcmp(key, "kind")) {
    int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "kind");
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
    int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "severity");
    for (size_t i = 0; !rc && i < sizeof levels / sizeof *levels; i++)
      if (!strcmp(sval(v), levels[i]))
        return hs__cfg_get_str(l, v, "severity", &r->severity);
    return rc ? rc
              : lerr(l, v, "severity must be critical, error, warning or info, not \"%s\"",
                     sval(v));
  }
  if (!strcmp(key, "below")) /* threshold level, or slope in points per day */
    return hs__cfg_get_num(l, v, "below", -100, 100,
                           r->kind == HS_RULE_SLOPE ? &r->slope : &r->level);
  if (!strcmp(key, "band"))
    return hs__cfg_get_str(l, v, "band", &r->band);
  if (!strcmp(key, "hysteresis")) {
    rc_->has_hysteresis = true;
    return hs__cfg_get_num(l, v, "hysteresis", 0, 100, &r->hysteresis);
  }
  if (!strcmp(key, "pending"))
    return hs__cfg_get_duration(l, v, "pending", &r->pending_ms);
  if (!strcmp(key, "cooldown"))
    return hs__cfg_get_duration(l, v, "cooldown", &r->cooldown_ms);
  if (!strcmp(key, "warmup"))
    return hs__cfg_get_duration(l, v, "warmup", &r->warmup_ms);
  if (!strcmp(key, "lookback"))
    return hs__cfg_get_days(l, v, "lookback", &r->lookback_days);
  if (!strcmp(key, "drop"))
    return hs__cfg_get_num(l, v, "drop", 0, 100, &r->drop);
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
    return hs__cfg_get_days(l, v, "window", &r->window_days);
  return hs__cfg_get_strs(l, v, "profiles", &r->profiles, &r->n_profiles);
}

int hs__cfg_check_rule(loader_t *l, node_t *n, rule_ctx_t *c) {
  hs_rule_def_t *r = c->r;
  static const char *const need[HS_RULE__COUNT][2] = {[HS_RULE_THRESHOLD] = {"below", NULL},
                                                      [HS_RULE_BAND] = {"band", NULL},
                                                      [HS_RULE_TREND] = {"lookback", "drop"},
                                                      [HS_RULE_SLOPE] = {"window", "below"}};
  if (!r->id || !hs__cfg_has_key(l, n, "kind"))
    return lerr(l, n, "an alert rule needs id and kind");
  for (int i = 0; i < 2; i++)
    if (need[r->kind][i] && !hs__cfg_has_key(l, n, need[r->kind][i]))
      return lerr(l, n, "alert rule \"%s\": kind %s needs \"%s\"", r->id,
                  hs_rule_kind_name(r->kind), need[r->kind][i]);
  if (!c->has_hysteresis)
    r->hysteresis = r->kind == HS_RULE_THRESHOLD || r->kind == HS_RULE_BAND ? 5 : 0;
  return 0;
}

int hs__cfg_dedup_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx) {
  (void)k;
  (void)ctx;
  (void)key; /* only "window" gets here */
  int rc = hs__cfg_want(l, v, YAML_SCALAR_NODE, "dedup window");
  if (rc)
    return rc;
  int64_t d = 0;
  if (hs__cfg_days_of(sval(v), &d) || d < 0 || d > HS_MAX_WINDOW_DAYS)
    return lerr(l, v,
                "dedup window must be whole days like 7d (0: off), up to the horizon, not \"%s\"",
                sval(v));
  l->cfg->dedup_days = (int32_t)d;
  l->cfg->dedup_pos = pos_of(v);
  return 0;
}
