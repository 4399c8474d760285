/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A compiled model's release, and what it tells about itself: names, ids
 * and counts. */
#include "internal.h"

static void filter_free(hs__filter_t *f) {
  for (uint32_t i = 0; i < f->n_where; i++) {
    for (uint32_t j = 0; j < f->where_n[i]; j++)
      hs_free(f->where_values[i][j]);
    hs_free(f->where_values[i]);
    hs_free(f->where_lens[i]);
  }
  f->n_where = 0;
}

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    hs_free(v[i]);
  hs_free(v);
}

void hs_model_free(hs_model_t *m) {
  if (!m)
    return;
  for (uint32_t i = 0; m->series && i < m->n_series; i++)
    filter_free(&m->series[i].filter);
  for (uint32_t i = 0; m->scalars && i < m->n_scalars; i++)
    filter_free(&m->scalars[i].filter);
  for (uint32_t i = 0; m->metrics && i < m->n_metrics; i++) {
    hs_free(m->metrics[i].id);
    hs_free(m->metrics[i].label);
    hs_free(m->metrics[i].category);
    hs_free(m->metrics[i].attr_name);
  }
  for (uint32_t p = 0; m->profiles && p < m->n_profiles; p++) {
    hs__profile_t *pr = &m->profiles[p];
    hs_free(pr->name);
    hs_free(pr->version);
    for (uint32_t i = 0; pr->select && i < pr->n_select; i++) {
      hs_free(pr->select[i].attr);
      free_strs(pr->select[i].values, pr->select[i].n_values);
    }
    hs_free(pr->select);
    for (uint32_t g = 0; g < HS_MAX_GROUPS; g++)
      hs_free(pr->group_name[g]);
    for (uint32_t r = 0; pr->refs && r < pr->n_refs; r++) {
      free_strs(pr->refs[r].stage_names, pr->refs[r].n_stages);
      hs_free(pr->refs[r].stage_worst);
      hs_free(pr->refs[r].stage_best);
    }
    hs_free(pr->refs);
    hs_free(pr->needed);
    hs_free(pr->series_refs);
    hs_free(pr->aged_refs);
    hs_free(pr->scalar_refs);
    hs_free(pr->needed_refs);
    hs_free(pr->ref_needed);
  }
  for (uint32_t i = 0; m->rules && i < m->n_rules; i++) {
    hs_free(m->rules[i].id);
    hs_free(m->rules[i].severity);
  }
  for (uint32_t b = 0; b < HS_MAX_BANDS; b++)
    hs_free(m->band_name[b]);
  for (int t = 0; t < HS_EV__COUNT; t++) {
    hs_free(m->by_type_series[t]);
    hs_free(m->by_type_scalars[t]);
  }
  for (uint32_t si = 0; m->series_views && si < m->n_series; si++)
    hs_free(m->series_views[si]);
  hs_free(m->series_views);
  hs_free(m->n_series_views);
  hs_free(m->series);
  hs_free(m->views);
  hs_free(m->scalars);
  hs_free(m->metrics);
  hs_free(m->order);
  hs_free(m->profiles);
  hs_free(m->rules);
  hs_free(m);
}

uint32_t hs_model_horizon_days(const hs_model_t *m) {
  return m->horizon_days;
}
uint32_t hs_model_dedup_days(const hs_model_t *m) {
  return m->dedup_days;
}
size_t hs_model_n_metrics(const hs_model_t *m) {
  return m->n_metrics;
}
const char *hs_model_metric_id(const hs_model_t *m, size_t i) {
  return i < m->n_metrics ? m->metrics[i].id : NULL;
}
const char *hs_model_metric_label(const hs_model_t *m, size_t i) {
  return i < m->n_metrics ? m->metrics[i].label : NULL;
}
size_t hs_model_n_profiles(const hs_model_t *m) {
  return m->n_profiles;
}
const char *hs_model_profile_name(const hs_model_t *m, size_t i) {
  return i < m->n_profiles ? m->profiles[i].name : NULL;
}
const char *hs_model_profile_version(const hs_model_t *m, size_t i) {
  return i < m->n_profiles ? m->profiles[i].version : NULL;
}
const char *hs_model_group_name(const hs_model_t *m, size_t profile, size_t group) {
  if (profile >= m->n_profiles || group >= m->profiles[profile].n_groups)
    return NULL;
  return m->profiles[profile].group_name[group];
}
size_t hs_model_n_bands(const hs_model_t *m) {
  return m->n_bands;
}
const char *hs_model_band_name(const hs_model_t *m, int band) {
  return band >= 0 && (uint32_t)band < m->n_bands ? m->band_name[band] : "unknown";
}
size_t hs_model_n_rules(const hs_model_t *m) {
  return m->n_rules;
}
const char *hs_model_rule_id(const hs_model_t *m, size_t i) {
  return i < m->n_rules ? m->rules[i].id : NULL;
}
hs_rule_kind_t hs_model_rule_kind(const hs_model_t *m, size_t i) {
  return m->rules[i].kind;
}
const char *hs_model_rule_severity(const hs_model_t *m, size_t i) {
  return i < m->n_rules ? m->rules[i].severity : NULL;
}
