/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Typed values of the configuration's YAML document, with every error as
 * FILE:LINE:COLUMN: reason. */
#include "loader.h"

#include "healthscore/time.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Marks a node as walked; a node reached twice came through an alias. */
int hs__cfg_visit(loader_t *l, int id, node_t **out) {
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

int hs__cfg_want(loader_t *l, const node_t *n, yaml_node_type_t t, const char *what) {
  if (n->type == t)
    return 0;
  return lerr(l, n, "%s must be %s, not %s", what,
              t == YAML_MAPPING_NODE    ? "a mapping"
              : t == YAML_SEQUENCE_NODE ? "a list"
                                        : "a scalar",
              kind_word(n));
}

int hs__cfg_get_str(loader_t *l, const node_t *n, const char *what, char **out) {
  int rc = hs__cfg_want(l, n, YAML_SCALAR_NODE, what);
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

int hs__cfg_get_num(loader_t *l, const node_t *n, const char *what, double lo, double hi,
                    double *out) {
  int rc = hs__cfg_want(l, n, YAML_SCALAR_NODE, what);
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

int hs__cfg_get_bool(loader_t *l, const node_t *n, const char *what, bool *out) {
  int rc = hs__cfg_want(l, n, YAML_SCALAR_NODE, what);
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

int hs__cfg_get_duration(loader_t *l, const node_t *n, const char *what, int64_t *out) {
  int rc = hs__cfg_want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  if (hs_duration_parse(sval(n), out) || *out < 0)
    return lerr(l, n, "%s must be a duration like 90d, 12h, 30m, 45s, 250ms or 0, not \"%s\"", what,
                sval(n));
  return 0;
}

/* Days written as "30d", "4w", or a plain integer meaning days: returns 0
 * with *days, 1 when `v` is no duration, 2 when it is not whole days. */
int hs__cfg_days_of(const char *v, int64_t *days) {
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
int hs__cfg_get_days(loader_t *l, const node_t *n, const char *what, uint32_t *out) {
  int rc = hs__cfg_want(l, n, YAML_SCALAR_NODE, what);
  if (rc)
    return rc;
  const char *v = sval(n);
  int64_t d = 0;
  if ((rc = hs__cfg_days_of(v, &d)) == 1)
    return lerr(l, n, "%s must be a number of days like 30d, not \"%s\"", what, v);
  if (rc)
    return lerr(l, n, "%s must be whole days", what);
  if (d < 1 || d > HS_MAX_WINDOW_DAYS)
    return lerr(l, n, "%s must be 1..%d days", what, HS_MAX_WINDOW_DAYS);
  *out = (uint32_t)d;
  return 0;
}

int hs__cfg_each_pair(loader_t *l, node_t *map, const char *what, const char *const *allowed,
                      pair_fn fn, void *ctx) {
  int rc = hs__cfg_want(l, map, YAML_MAPPING_NODE, what);
  if (rc)
    return rc;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    node_t *k = NULL, *v = NULL;
    if ((rc = hs__cfg_visit(l, p->key, &k)))
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
    if ((rc = hs__cfg_visit(l, p->value, &v)))
      return rc;
    if ((rc = fn(l, sval(k), k, v, ctx)))
      return rc;
  }
  return 0;
}

bool hs__cfg_has_key(loader_t *l, node_t *map, const char *key) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    if (!strcmp(sval(get(l, p->key)), key))
      return true;
  return false;
}

/* A list of strings (a scalar counts as a list of one). */
int hs__cfg_get_strs(loader_t *l, node_t *n, const char *what, char ***out, size_t *n_out) {
  int rc;
  if (n->type == YAML_SCALAR_NODE) {
    *out = hs_calloc(1, sizeof(char *));
    if (!*out)
      return HS_E_NOMEM;
    *n_out = 1;
    return hs__cfg_get_str(l, n, what, &(*out)[0]);
  }
  if ((rc = hs__cfg_want(l, n, YAML_SEQUENCE_NODE, what)))
    return rc;
  size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (cnt == 0 || cnt > 256)
    return lerr(l, n, "%s must list 1..256 values", what);
  *out = hs_calloc(cnt, sizeof(char *));
  if (!*out)
    return HS_E_NOMEM;
  for (size_t i = 0; i < cnt; i++) {
    node_t *item = NULL;
    if ((rc = hs__cfg_visit(l, n->data.sequence.items.start[i], &item)) ||
        (rc = hs__cfg_get_str(l, item, what, &(*out)[i])))
      return rc;
    *n_out = i + 1;
  }
  return 0;
}

void hs__cfg_free_strs(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    hs_free(v[i]);
  hs_free(v);
}
