/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Compiling a configuration into a model: cross-reference checks, sharing of
 * series between metrics that count the same thing, dependency order. */
#include "internal.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct compiler_s {
  const hs_config_t *cfg;
  hs_model_t *m;
  hs_err_t *err;
} compiler_t;

__attribute__((format(printf, 3, 4))) static int cerr(compiler_t *c, hs_pos_t pos, const char *fmt,
                                                      ...) {
  char reason[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hs_err_set(c->err, HS_E_CONFIG, "%s:%d:%d: %s", c->cfg->path ? c->cfg->path : "config",
                    pos.line, pos.col, reason);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  return hs_hash64(&v, sizeof v, h);
}

static uint64_t str_hash(const char *s) {
  return hs_hash64(s, strlen(s), HS_HASH_SEED);
}

static int filter_copy(hs__filter_t *dst, const hs_metric_def_t *d) {
  memset(dst, 0, sizeof *dst);
  dst->events = d->events;
  for (size_t i = 0; i < d->n_where && i < HS_MAX_WHERE; i++) {
    const hs_where_t *w = &d->where[i];
    dst->where_field[i] = w->field;
    dst->where_values[i] = hs_calloc(w->n_values ? w->n_values : 1, sizeof(char *));
    dst->where_lens[i] = hs_calloc(w->n_values ? w->n_values : 1, sizeof(uint32_t));
    if (!dst->where_values[i] || !dst->where_lens[i])
      return HS_E_NOMEM;
    dst->n_where = (uint32_t)i + 1;
    for (size_t j = 0; j < w->n_values; j++) {
      if (!(dst->where_values[i][j] = hs_strdup(w->values[j])))
        return HS_E_NOMEM;
      dst->where_lens[i][j] = (uint32_t)strlen(w->values[j]);
      dst->where_n[i] = (uint32_t)j + 1;
    }
  }
  return 0;
}

/* Order-independent hash of what a filter selects. */
static uint64_t filter_hash(const hs_metric_def_t *d) {
  uint64_t h = mix(HS_HASH_SEED, d->events);
  uint64_t acc = 0;
  for (size_t i = 0; i < d->n_where; i++) {
    uint64_t vh = 0;
    for (size_t j = 0; j < d->where[i].n_values; j++)
      vh += str_hash(d->where[i].values[j]);
    acc += mix(mix(HS_HASH_SEED, (uint64_t)d->where[i].field), vh);
  }
  return mix(h, acc);
}

static int find_metric(const hs_config_t *cfg, const char *id) {
  for (size_t i = 0; id && i < cfg->n_metrics; i++)
    if (strcmp(cfg->metrics[i].id, id) == 0)
      return (int)i;
  return -1;
}

static int series_for(compiler_t *c, const hs_metric_def_t *d, uint8_t op, uint32_t days) {
  hs_model_t *m = c->m;
  hs_field_t field = d->field;
  if (op == HS__OP_COUNT)
    field = HS_F_NONE;
  if (op == HS__OP_DISTINCT && field == HS_F_NONE)
    field = HS_F_USER_ID;
  uint64_t key = mix(mix(filter_hash(d), op), (uint64_t)field);
  for (uint32_t i = 0; i < m->n_series; i++) {
    if (m->series[i].key == key) {
      if (m->series[i].days < days)
        m->series[i].days = days;
      return (int)i;
    }
  }
  hs__series_t *s = &m->series[m->n_series];
  memset(s, 0, sizeof *s);
  s->key = key;
  s->op = op;
  s->field = field;
  s->days = days;
  if (filter_copy(&s->filter, d))
    return HS_E_NOMEM;
  return (int)m->n_series++;
}

static int view_for(hs_model_t *m, int series, uint32_t days, bool slope) {
  for (uint32_t i = 0; i < m->n_views; i++) {
    if (m->views[i].series == series && m->views[i].days == days) {
      m->views[i].slope |= slope;
      return (int)i;
    }
  }
  if (m->series[series].days < days)
    m->series[series].days = days;
  m->views[m->n_views] = (hs__view_t){.series = (uint16_t)series, .days = days, .slope = slope};
  return (int)m->n_views++;
}

static int scalar_for(compiler_t *c, const hs_metric_def_t *d, uint8_t kind) {
  hs_model_t *m = c->m;
  uint64_t key = mix(mix(filter_hash(d), 100 + kind), (uint64_t)d->field);
  for (uint32_t i = 0; i < m->n_scalars; i++)
    if (m->scalars[i].key == key)
      return (int)i;
  hs__scalar_t *s = &m->scalars[m->n_scalars];
  memset(s, 0, sizeof *s);
  s->key = key;
  s->kind = kind;
  s->field = d->field;
  if (filter_copy(&s->filter, d))
    return HS_E_NOMEM;
  return (int)m->n_scalars++;
}

static bool is_windowed(hs_metric_kind_t k) {
  return k == HS_MK_COUNT || k == HS_MK_SUM || k == HS_MK_AVG || k == HS_MK_MIN || k == HS_MK_MAX ||
         k == HS_MK_DISTINCT;
}

/* First pass: metrics over events and attributes. */
static int compile_base_metric(compiler_t *c, size_t i) {
  const hs_metric_def_t *d = &c->cfg->metrics[i];
  hs__metric_t *mt = &c->m->metrics[i];
  if (is_windowed(d->kind)) {
    if (d->window_days < 1 || d->window_days > HS_MAX_WINDOW_DAYS)
      return cerr(c, d->pos, "metric \"%s\": window must be 1..%d days", d->id, HS_MAX_WINDOW_DAYS);
    static const uint8_t ops[] = {
        [HS_MK_COUNT] = HS__OP_COUNT, [HS_MK_SUM] = HS__OP_SUM, [HS_MK_AVG] = HS__OP_SUM,
        [HS_MK_MIN] = HS__OP_MIN,     [HS_MK_MAX] = HS__OP_MAX, [HS_MK_DISTINCT] = HS__OP_DISTINCT};
    uint8_t op = ops[d->kind];
    if (op != HS__OP_COUNT && op != HS__OP_DISTINCT && !hs_field_is_number(d->field))
      return cerr(c, d->pos, "metric \"%s\": kind %s needs a numeric `field`", d->id,
                  hs_metric_kind_name(d->kind));
    if (op == HS__OP_DISTINCT && d->field != HS_F_NONE && hs_field_is_number(d->field))
      return cerr(c, d->pos, "metric \"%s\": distinct needs a string `field`", d->id);
    int s = series_for(c, d, op, d->window_days);
    if (s < 0)
      return s;
    mt->view = view_for(c->m, s, d->window_days, false);
  } else if (d->kind == HS_MK_DAYS_SINCE || d->kind == HS_MK_LATEST) {
    if (d->kind == HS_MK_LATEST && !hs_field_is_number(d->field))
      return cerr(c, d->pos, "metric \"%s\": latest needs a numeric `field`", d->id);
    int sc = scalar_for(c, d, d->kind == HS_MK_LATEST ? HS__SCALAR_LATEST : HS__SCALAR_LAST);
    if (sc < 0)
      return HS_E_NOMEM;
    mt->scalar = sc;
    mt->max_age_ms = (int64_t)(d->max_age_days * (double)HS_MS_PER_DAY);
  } else if (d->kind == HS_MK_ATTRIBUTE) {
    const char *a = d->attribute ? d->attribute : "";
    if (!*a)
      return cerr(c, d->pos, "metric \"%s\": attribute needs `attribute`", d->id);
    mt->attr = strcmp(a, "licenses") == 0          ? HS__ATTR_LICENSES
               : strcmp(a, "tenure_days") == 0     ? HS__ATTR_TENURE
               : strcmp(a, "days_to_renewal") == 0 ? HS__ATTR_RENEWAL
                                                   : HS__ATTR_CUSTOM;
    if (!(mt->attr_name = hs_strdup(a)))
      return HS_E_NOMEM;
  }
  return 0;
}

/* Second pass: metrics over metrics. */
static int compile_derived_metric(compiler_t *c, size_t i) {
  const hs_metric_def_t *d = &c->cfg->metrics[i];
  hs__metric_t *mt = &c->m->metrics[i];
  if (d->per) {
    if (strcmp(d->per, "licenses") == 0) {
      mt->per = -2;
    } else if ((mt->per = find_metric(c->cfg, d->per)) < 0) {
      return cerr(c, d->pos, "metric \"%s\": `per` names unknown metric \"%s\"", d->id, d->per);
    }
  }
  if (d->kind == HS_MK_RATIO) {
    mt->num = find_metric(c->cfg, d->num);
    mt->den = find_metric(c->cfg, d->den);
    if (mt->num < 0 || mt->den < 0)
      return cerr(c, d->pos, "metric \"%s\": ratio needs `num` and `den` naming defined metrics",
                  d->id);
  } else if (d->kind == HS_MK_TREND || d->kind == HS_MK_SLOPE) {
    mt->of = find_metric(c->cfg, d->of);
    if (mt->of < 0)
      return cerr(c, d->pos, "metric \"%s\": `of` must name a defined metric", d->id);
    const hs_metric_def_t *od = &c->cfg->metrics[mt->of];
    bool ok = od->kind == HS_MK_COUNT || od->kind == HS_MK_SUM ||
              (d->kind == HS_MK_TREND && od->kind == HS_MK_AVG);
    if (!ok || od->per)
      return cerr(c, d->pos, "metric \"%s\": `of` must name a count or sum metric%s without `per`",
                  d->id, d->kind == HS_MK_TREND ? " (or avg)" : "");
    const hs__view_t *ov = &c->m->views[c->m->metrics[mt->of].view];
    if (d->kind == HS_MK_TREND) {
      if (ov->days * 2 > HS_MAX_WINDOW_DAYS)
        return cerr(c, d->pos, "metric \"%s\": trend needs twice the window of \"%s\" (max %d)",
                    d->id, od->id, HS_MAX_WINDOW_DAYS);
      mt->view = c->m->metrics[mt->of].view;
      mt->view2 = view_for(c->m, ov->series, ov->days * 2, false);
      mt->trend_mode = d->trend_mode;
    } else {
      uint32_t w = d->window_days ? d->window_days : ov->days;
      if (w < 2 || w > HS_MAX_WINDOW_DAYS)
        return cerr(c, d->pos, "metric \"%s\": slope window must be 2..%d days", d->id,
                    HS_MAX_WINDOW_DAYS);
      mt->view = view_for(c->m, ov->series, w, true);
    }
  }
  return 0;
}

/* Depth-first topological order of metric dependencies; detects cycles. */
static int visit(compiler_t *c, int i, uint8_t *mark, uint32_t *n) {
  if (mark[i] == 2)
    return 0;
  if (mark[i] == 1)
    return cerr(c, c->cfg->metrics[i].pos, "metric \"%s\": circular reference",
                c->cfg->metrics[i].id);
  mark[i] = 1;
  const hs__metric_t *mt = &c->m->metrics[i];
  int deps[] = {mt->of, mt->num, mt->den, mt->per};
  for (size_t k = 0; k < sizeof deps / sizeof *deps; k++) {
    if (deps[k] >= 0) {
      int rc = visit(c, deps[k], mark, n);
      if (rc)
        return rc;
    }
  }
  mark[i] = 2;
  c->m->order[(*n)++] = (uint16_t)i;
  return 0;
}

static int compile_metrics(compiler_t *c) {
  const hs_config_t *cfg = c->cfg;
  hs_model_t *m = c->m;
  if (cfg->n_metrics > HS_MAX_METRICS)
    return hs_err_set(c->err, HS_E_CONFIG, "%s: more than %d metrics", cfg->path, HS_MAX_METRICS);
  size_t n = cfg->n_metrics;
  m->metrics = hs_calloc(n ? n : 1, sizeof *m->metrics);
  m->series = hs_calloc(n ? n : 1, sizeof *m->series);
  m->views = hs_calloc(n ? 2 * n : 1, sizeof *m->views);
  m->scalars = hs_calloc(n ? n : 1, sizeof *m->scalars);
  m->order = hs_calloc(n ? n : 1, sizeof *m->order);
  if (!m->metrics || !m->series || !m->views || !m->scalars || !m->order)
    return HS_E_NOMEM;
  m->n_metrics = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    const hs_metric_def_t *d = &cfg->metrics[i];
    hs__metric_t *mt = &m->metrics[i];
    mt->view = mt->view2 = mt->scalar = mt->of = mt->num = mt->den = mt->per = -1;
    mt->kind = d->kind;
    if (find_metric(cfg, d->id) != (int)i)
      return cerr(c, d->pos, "metric \"%s\" is defined twice", d->id);
    if (!(mt->id = hs_strdup(d->id)) || !(mt->label = hs_strdup(d->label ? d->label : d->id)) ||
        !(mt->category = hs_strdup(d->category ? d->category : "")))
      return HS_E_NOMEM;
    int rc = compile_base_metric(c, i);
    if (rc)
      return rc;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = compile_derived_metric(c, i);
    if (rc)
      return rc;
  }
  uint8_t mark[HS_MAX_METRICS] = {0};
  uint32_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = visit(c, (int)i, mark, &k);
    if (rc)
      return rc;
  }
  for (uint32_t i = 0; i < m->n_series; i++)
    if (m->series[i].days > m->horizon_days)
      m->horizon_days = m->series[i].days;
  return 0;
}

static int copy_strs(char ***dst, char *const *src, size_t n) {
  *dst = hs_calloc(n ? n : 1, sizeof(char *));
  if (!*dst)
    return HS_E_NOMEM;
  for (size_t i = 0; i < n; i++)
    if (!((*dst)[i] = hs_strdup(src[i])))
      return HS_E_NOMEM;
  return 0;
}

static int compile_profile(compiler_t *c, size_t pi) {
  const hs_profile_def_t *d = &c->cfg->profiles[pi];
  hs__profile_t *p = &c->m->profiles[pi];
  if (!(p->name = hs_strdup(d->name)) || !(p->version = hs_strdup(d->version ? d->version : "1")))
    return HS_E_NOMEM;
  for (size_t i = 0; i < pi; i++)
    if (strcmp(c->cfg->profiles[i].name, d->name) == 0)
      return cerr(c, d->pos, "profile \"%s\" is defined twice", d->name);
  if (d->is_default && d->n_select)
    return cerr(c, d->pos, "profile \"%s\": the default profile takes no `select`", d->name);
  if (!d->is_default && !d->n_select)
    return cerr(c, d->pos, "profile \"%s\": needs `select` (or `default: true`)", d->name);
  p->select = hs_calloc(d->n_select ? d->n_select : 1, sizeof *p->select);
  if (!p->select)
    return HS_E_NOMEM;
  for (size_t i = 0; i < d->n_select; i++) {
    p->n_select = (uint32_t)i + 1;
    if (!(p->select[i].attr = hs_strdup(d->select[i].attr)) ||
        copy_strs(&p->select[i].values, d->select[i].values, d->select[i].n_values))
      return HS_E_NOMEM;
    p->select[i].n_values = (uint32_t)d->select[i].n_values;
  }
  if (d->n_groups == 0 || d->n_groups > HS_MAX_GROUPS)
    return cerr(c, d->pos, "profile \"%s\": needs 1..%d groups", d->name, HS_MAX_GROUPS);
  size_t n_refs = 0;
  double total = 0;
  for (size_t g = 0; g < d->n_groups; g++) {
    n_refs += d->groups[g].n_metrics;
    total += d->groups[g].weight;
  }
  if (total < 99.999 || total > 100.001)
    return cerr(c, d->pos, "profile \"%s\": group weights sum to %g, not 100", d->name, total);
  if (n_refs == 0 || n_refs > HS_MAX_PROFILE_METRICS)
    return cerr(c, d->pos, "profile \"%s\": needs 1..%d metrics", d->name, HS_MAX_PROFILE_METRICS);
  p->refs = hs_calloc(n_refs, sizeof *p->refs);
  if (!p->refs)
    return HS_E_NOMEM;
  p->n_groups = (uint32_t)d->n_groups;
  for (size_t g = 0; g < d->n_groups; g++) {
    const hs_group_def_t *gd = &d->groups[g];
    if (gd->weight < 0)
      return cerr(c, gd->pos, "group \"%s\": negative weight", gd->name);
    if (!(p->group_name[g] = hs_strdup(gd->name)))
      return HS_E_NOMEM;
    p->group_weight[g] = gd->weight;
    double gsum = 0;
    for (size_t k = 0; k < gd->n_metrics; k++) {
      const hs_metric_ref_t *rd = &gd->metrics[k];
      hs__ref_t *r = &p->refs[p->n_refs];
      int mi = find_metric(c->cfg, rd->metric);
      if (mi < 0)
        return cerr(c, rd->pos, "profile \"%s\": unknown metric \"%s\"", d->name, rd->metric);
      if (rd->weight < 0)
        return cerr(c, rd->pos, "metric \"%s\": negative weight", rd->metric);
      if (rd->worst == rd->best)
        return cerr(c, rd->pos, "metric \"%s\": worst and best are equal", rd->metric);
      r->metric = (uint16_t)mi;
      r->group = (uint8_t)g;
      r->weight = rd->weight;
      r->worst = rd->worst;
      r->best = rd->best;
      r->missing = rd->missing;
      r->missing_value = rd->missing_value;
      r->stale_ms = (int64_t)(rd->stale_days * (double)HS_MS_PER_DAY);
      p->n_refs++;
      gsum += rd->weight;
      if (rd->n_stages) {
        r->stage_names = hs_calloc(rd->n_stages, sizeof(char *));
        r->stage_worst = hs_calloc(rd->n_stages, sizeof(double));
        r->stage_best = hs_calloc(rd->n_stages, sizeof(double));
        if (!r->stage_names || !r->stage_worst || !r->stage_best)
          return HS_E_NOMEM;
        for (size_t s = 0; s < rd->n_stages; s++) {
          if (rd->stages[s].worst == rd->stages[s].best)
            return cerr(c, rd->stages[s].pos, "stage \"%s\": worst and best are equal",
                        rd->stages[s].stage);
          if (!(r->stage_names[s] = hs_strdup(rd->stages[s].stage)))
            return HS_E_NOMEM;
          r->stage_worst[s] = rd->stages[s].worst;
          r->stage_best[s] = rd->stages[s].best;
          r->n_stages = (uint32_t)s + 1;
        }
      }
    }
    if (gd->weight > 0 && gsum <= 0)
      return cerr(c, gd->pos, "group \"%s\": has weight but no metric with weight > 0", gd->name);
  }
  if (p->n_refs > c->m->max_refs)
    c->m->max_refs = p->n_refs;
  return 0;
}

static int compile_profiles(compiler_t *c) {
  const hs_config_t *cfg = c->cfg;
  hs_model_t *m = c->m;
  if (cfg->n_profiles == 0 || cfg->n_profiles > HS_MAX_PROFILES)
    return hs_err_set(c->err, HS_E_CONFIG, "%s: needs 1..%d profiles", cfg->path, HS_MAX_PROFILES);
  m->profiles = hs_calloc(cfg->n_profiles, sizeof *m->profiles);
  if (!m->profiles)
    return HS_E_NOMEM;
  m->default_profile = -1;
  for (size_t i = 0; i < cfg->n_profiles; i++) {
    m->n_profiles = (uint32_t)i + 1;
    int rc = compile_profile(c, i);
    if (rc)
      return rc;
    if (cfg->profiles[i].is_default) {
      if (m->default_profile >= 0)
        return cerr(c, cfg->profiles[i].pos, "profile \"%s\": a second default profile",
                    cfg->profiles[i].name);
      m->default_profile = (int)i;
    }
  }
  if (m->default_profile < 0)
    return hs_err_set(c->err, HS_E_CONFIG, "%s: no profile has `default: true`", cfg->path);
  return 0;
}

static int compile_bands(compiler_t *c) {
  const hs_config_t *cfg = c->cfg;
  hs_model_t *m = c->m;
  static const char *const dn[] = {"red", "yellow", "green"};
  static const double dm[] = {0, 40, 70};
  size_t n = cfg->n_bands ? cfg->n_bands : 3;
  if (n > HS_MAX_BANDS)
    return hs_err_set(c->err, HS_E_CONFIG, "%s: more than %d bands", cfg->path, HS_MAX_BANDS);
  for (size_t i = 0; i < n; i++) {
    const char *name = cfg->n_bands ? cfg->bands[i].name : dn[i];
    double min = cfg->n_bands ? cfg->bands[i].min : dm[i];
    if (cfg->n_bands && ((i == 0 && min != 0) || (i > 0 && min <= m->band_min[i - 1]) || min > 100))
      return cerr(c, cfg->bands[i].pos, "band \"%s\": mins must start at 0 and ascend to <= 100",
                  name);
    if (!(m->band_name[i] = hs_strdup(name)))
      return HS_E_NOMEM;
    m->band_min[i] = min;
    m->n_bands = (uint32_t)i + 1;
  }
  return 0;
}

static int compile_rules(compiler_t *c) {
  const hs_config_t *cfg = c->cfg;
  hs_model_t *m = c->m;
  if (cfg->n_rules > HS_MAX_RULES)
    return hs_err_set(c->err, HS_E_CONFIG, "%s: more than %d alert rules", cfg->path, HS_MAX_RULES);
  m->rules = hs_calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof *m->rules);
  if (!m->rules)
    return HS_E_NOMEM;
  m->history_days = 1;
  for (size_t i = 0; i < cfg->n_rules; i++) {
    const hs_rule_def_t *d = &cfg->rules[i];
    hs__rule_t *r = &m->rules[i];
    m->n_rules = (uint32_t)i + 1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->rules[j].id, d->id) == 0)
        return cerr(c, d->pos, "alert rule \"%s\" is defined twice", d->id);
    if (!(r->id = hs_strdup(d->id)) ||
        !(r->severity = hs_strdup(d->severity ? d->severity : "warning")))
      return HS_E_NOMEM;
    r->key = str_hash(d->id);
    r->kind = d->kind;
    r->level = d->level;
    r->hysteresis = d->hysteresis;
    r->pending_ms = d->pending_ms;
    r->cooldown_ms = d->cooldown_ms;
    r->warmup_ms = d->warmup_ms;
    r->drop = d->drop;
    r->drop_percent = d->drop_percent;
    r->slope = d->slope;
    r->lookback_days = d->lookback_days;
    r->window_days = d->window_days;
    if (d->kind == HS_RULE_BAND) {
      int b = -1;
      for (uint32_t k = 0; k < m->n_bands; k++)
        if (d->band && strcmp(d->band, m->band_name[k]) == 0)
          b = (int)k;
      if (b < 0 || b + 1 >= (int)m->n_bands)
        return cerr(c, d->pos, "alert rule \"%s\": `band` must name a band below the best one",
                    d->id);
      r->level = m->band_min[b + 1];
    } else if (d->kind == HS_RULE_TREND) {
      if (d->lookback_days < 1 || d->lookback_days > HS_MAX_WINDOW_DAYS || d->drop <= 0)
        return cerr(c, d->pos, "alert rule \"%s\": trend needs lookback 1..%d days and drop > 0",
                    d->id, HS_MAX_WINDOW_DAYS);
      if (d->lookback_days + 1 > m->history_days)
        m->history_days = d->lookback_days + 1;
    } else if (d->kind == HS_RULE_SLOPE) {
      if (d->window_days < 3 || d->window_days > HS_MAX_WINDOW_DAYS)
        return cerr(c, d->pos, "alert rule \"%s\": slope window must be 3..%d days", d->id,
                    HS_MAX_WINDOW_DAYS);
      if (d->window_days > m->history_days)
        m->history_days = d->window_days;
    }
    for (size_t k = 0; k < d->n_profiles; k++) {
      int found = -1;
      for (uint32_t p = 0; p < m->n_profiles; p++)
        if (strcmp(m->profiles[p].name, d->profiles[k]) == 0)
          found = (int)p;
      if (found < 0)
        return cerr(c, d->pos, "alert rule \"%s\": unknown profile \"%s\"", d->id, d->profiles[k]);
      r->profiles |= UINT64_C(1) << found;
    }
  }
  return 0;
}

static bool filter_may_match(const hs__filter_t *f, int type) {
  return f->events == 0 || (f->events & (UINT64_C(1) << type));
}

static int index_by_type(hs_model_t *m) {
  m->series_views = hs_calloc(m->n_series + 1, sizeof(uint16_t *));
  m->n_series_views = hs_calloc(m->n_series + 1, sizeof(uint16_t));
  if (!m->series_views || !m->n_series_views)
    return HS_E_NOMEM;
  m->view_slots = 0;
  for (uint32_t vi = 0; vi < m->n_views; vi++) {
    hs__view_t *v = &m->views[vi];
    uint8_t op = m->series[v->series].op;
    v->parts = (uint8_t)((op == HS__OP_SUM ? HS__VP_SUM : 0) | (v->slope ? HS__VP_SLOPE : 0) |
                         (op == HS__OP_MIN || op == HS__OP_MAX ? HS__VP_EXT : 0));
    v->slot = (uint16_t)m->view_slots;
    m->view_slots += 1 + !!(v->parts & HS__VP_SUM) +
                     (v->slope ? 1 + !!(v->parts & HS__VP_SUM) : 0) +
                     (v->parts & HS__VP_EXT ? 2 : 0);
  }
  for (uint32_t si = 0; si < m->n_series; si++) {
    if (!(m->series_views[si] = hs_calloc(m->n_views + 1, sizeof(uint16_t))))
      return HS_E_NOMEM;
    hs__series_t *sr = &m->series[si];
    sr->min_days = sr->days;
    for (uint32_t vi = 0; vi < m->n_views; vi++) {
      if (m->views[vi].series == si) {
        m->series_views[si][m->n_series_views[si]++] = (uint16_t)vi;
        if (m->views[vi].days < sr->min_days)
          sr->min_days = m->views[vi].days;
        sr->slope |= m->views[vi].slope;
      }
    }
  }
  for (int t = 0; t < HS_EV__COUNT; t++) {
    m->by_type_series[t] = hs_calloc(m->n_series + 1, sizeof(uint16_t));
    m->by_type_scalars[t] = hs_calloc(m->n_scalars + 1, sizeof(uint16_t));
    if (!m->by_type_series[t] || !m->by_type_scalars[t])
      return HS_E_NOMEM;
    for (uint32_t i = 0; i < m->n_series; i++)
      if (filter_may_match(&m->series[i].filter, t))
        m->by_type_series[t][m->n_by_type_series[t]++] = (uint16_t)i;
    for (uint32_t i = 0; i < m->n_scalars; i++)
      if (filter_may_match(&m->scalars[i].filter, t))
        m->by_type_scalars[t][m->n_by_type_scalars[t]++] = (uint16_t)i;
  }
  return 0;
}

/* The days an applied event id is remembered (docs/scoring.md,
 * "Duplicates"): 0 (off) up to the horizon, past which an event is late
 * anyway; a model without windows remembers the ids of the account's day. */
static int compile_dedup(compiler_t *c) {
  hs_model_t *m = c->m;
  uint32_t most = m->horizon_days ? m->horizon_days : 1;
  int32_t d = c->cfg->dedup_days;
  if (d < 0) {
    m->dedup_days = most; /* the default: exactly once within the allowed lateness */
    return 0;
  }
  if ((uint32_t)d > most)
    return cerr(c, c->cfg->dedup_pos,
                "dedup window %d days is longer than the horizon (%u days, the longest "
                "window): an older event is late, its id need not be kept",
                (int)d, most);
  m->dedup_days = (uint32_t)d;
  return 0;
}

int hs_model_compile(const hs_config_t *cfg, hs_model_t **out, hs_err_t *err) {
  *out = NULL;
  compiler_t c = {cfg, hs_calloc(1, sizeof(hs_model_t)), err};
  if (!c.m)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  int rc = compile_bands(&c);
  if (!rc)
    rc = compile_metrics(&c);
  if (!rc)
    rc = compile_profiles(&c);
  if (!rc)
    rc = compile_rules(&c);
  if (!rc)
    rc = index_by_type(c.m);
  if (!rc)
    rc = hs__compile_needed(c.m);
  if (!rc)
    rc = compile_dedup(&c);
  if (rc) {
    if (rc == HS_E_NOMEM)
      hs_err_set(err, HS_E_NOMEM, "out of memory");
    hs_model_free(c.m);
    return rc;
  }
  c.m->account_block = hs__account_block(c.m);
  *out = c.m;
  return 0;
}
