/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The configuration loader's walk of a YAML document, shared by its files
 * (src/config only): typed values with FILE:LINE:COLUMN errors (loader.c),
 * then the sections: metrics, profiles, bands, alerts and dedup. */
#ifndef HS_CONFIG_LOADER_H
#define HS_CONFIG_LOADER_H

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>

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

__attribute__((format(printf, 3, 4))) static inline int lerr(loader_t *l, const node_t *n,
                                                             const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = hs__yaml_verror(l->err, l->name, n ? &n->start_mark : NULL, 200, fmt, ap);
  va_end(ap);
  return rc;
}

static inline hs_pos_t pos_of(const node_t *n) {
  return (hs_pos_t){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
}

static inline node_t *get(loader_t *l, int id) {
  return yaml_document_get_node(&l->doc, id);
}

static inline const char *sval(const node_t *n) {
  return (const char *)n->data.scalar.value;
}

/* Iterates a mapping's pairs, checking keys against `allowed` (NULL-ended;
 * NULL allowed = any key) and refusing duplicates. */
typedef int (*pair_fn)(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);

typedef struct rule_ctx_s {
  hs_rule_def_t *r;
  bool has_hysteresis;
} rule_ctx_t;

/* Marks a node as walked; a node reached twice came through an alias. */
int hs__cfg_visit(loader_t *l, int id, node_t **out);

/* 0 when `n` is of type `t`, else an error naming `what`. */
int hs__cfg_want(loader_t *l, const node_t *n, yaml_node_type_t t, const char *what);

/* Scalars: a string (1..256 bytes), a number in lo..hi, a boolean, a
 * duration (ms), whole days (1..HS_MAX_WINDOW_DAYS), each named `what` in
 * errors. */
int hs__cfg_get_str(loader_t *l, const node_t *n, const char *what, char **out);
int hs__cfg_get_num(loader_t *l, const node_t *n, const char *what, double lo, double hi,
                    double *out);
int hs__cfg_get_bool(loader_t *l, const node_t *n, const char *what, bool *out);
int hs__cfg_get_duration(loader_t *l, const node_t *n, const char *what, int64_t *out);
int hs__cfg_get_days(loader_t *l, const node_t *n, const char *what, uint32_t *out);

/* 0 with *days, 1 when `v` is no duration, 2 when it is not whole days. */
int hs__cfg_days_of(const char *v, int64_t *days);

/* Iterates a mapping's pairs (pair_fn above). */
int hs__cfg_each_pair(loader_t *l, node_t *map, const char *what, const char *const *allowed,
                      pair_fn fn, void *ctx);
bool hs__cfg_has_key(loader_t *l, node_t *map, const char *key);

/* A list of strings (a scalar counts as a list of one), and its release. */
int hs__cfg_get_strs(loader_t *l, node_t *n, const char *what, char ***out, size_t *n_out);
void hs__cfg_free_strs(char **v, size_t n);

/* The sections, as pair_fn: one metric (metrics.c), one profile
 * (profiles.c), one band, one alert rule and the dedup settings (rules.c);
 * hs__cfg_check_rule checks a rule once all its keys are read. */
int hs__cfg_metrics_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);
int hs__cfg_profile_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);
int hs__cfg_band_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);
int hs__cfg_rule_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);
int hs__cfg_check_rule(loader_t *l, node_t *n, rule_ctx_t *c);
int hs__cfg_dedup_pair(loader_t *l, const char *key, node_t *k, node_t *v, void *ctx);

#endif
