/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Prometheus registry: families in a list, series in each family's list. */
#include "healthscore/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8

struct hs_series_s {
  hs_series_t *next;
  hs_family_t *family;
  char *values[MAX_LABELS];
  double value, sum;
  uint64_t count;
  uint64_t *buckets; /* histograms: per bucket, not cumulative */
};

struct hs_family_s {
  hs_family_t *next;
  hs_metric_type_t type;
  char *name, *help;
  size_t n_labels;
  char *labels[MAX_LABELS];
  double *bounds;
  size_t n_bounds;
  hs_series_t *series, *last;
};

struct hs_metrics_s {
  hs_family_t *families, *last;
};

hs_metrics_t *hs_metrics_new(void) {
  return hs_calloc(1, sizeof(hs_metrics_t));
}

static void free_family(hs_family_t *f) {
  for (hs_series_t *s = f->series, *n; s; s = n) {
    n = s->next;
    for (size_t i = 0; i < f->n_labels; i++)
      hs_free(s->values[i]);
    hs_free(s->buckets);
    hs_free(s);
  }
  for (size_t i = 0; i < f->n_labels; i++)
    hs_free(f->labels[i]);
  hs_free(f->name);
  hs_free(f->help);
  hs_free(f->bounds);
  hs_free(f);
}

void hs_metrics_free(hs_metrics_t *r) {
  if (!r)
    return;
  for (hs_family_t *f = r->families, *n; f; f = n) {
    n = f->next;
    free_family(f);
  }
  hs_free(r);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no colon) */
static bool valid_name(const char *s, size_t n, bool label) {
  if (!n)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

hs_family_t *hs_metrics_family(hs_metrics_t *r, hs_metric_type_t type, const char *name,
                               const char *help, const char *labels, const double *bounds,
                               size_t n_bounds) {
  if (!valid_name(name, strlen(name), false))
    return NULL;
  for (hs_family_t *f = r->families; f; f = f->next)
    if (!strcmp(f->name, name))
      return NULL;
  for (size_t i = 1; i < n_bounds; i++)
    if (!(bounds[i] > bounds[i - 1]))
      return NULL;
  hs_family_t *f = hs_calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->type = type;
  f->name = hs_strdup(name);
  f->help = hs_strdup(help ? help : "");
  bool ok = f->name && f->help;
  for (const char *p = labels; ok && p && *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    ok = f->n_labels < MAX_LABELS && valid_name(p, len, true) &&
         (f->labels[f->n_labels++] = hs_strndup(p, len)) != NULL;
    p += len + (e ? 1 : 0);
  }
  if (ok && type == HS_HISTOGRAM) {
    f->n_bounds = n_bounds;
    f->bounds = hs_calloc(n_bounds + 1, sizeof *f->bounds);
    ok = f->bounds != NULL;
    if (ok && n_bounds)
      memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
  }
  if (!ok) {
    free_family(f);
    return NULL;
  }
  if (r->last)
    r->last->next = f;
  else
    r->families = f;
  r->last = f;
  return f;
}

hs_series_t *hs_family_series(hs_family_t *f, const char *const *values) {
  for (hs_series_t *s = f->series; s; s = s->next) {
    size_t i = 0;
    while (i < f->n_labels && !strcmp(s->values[i], values[i]))
      i++;
    if (i == f->n_labels)
      return s;
  }
  hs_series_t *s = hs_calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->family = f;
  bool ok = true;
  for (size_t i = 0; ok && i < f->n_labels; i++)
    ok = (s->values[i] = hs_strdup(values[i])) != NULL;
  if (ok && f->type == HS_HISTOGRAM)
    ok = (s->buckets = hs_calloc(f->n_bounds + 1, sizeof *s->buckets)) != NULL;
  if (!ok) {
    for (size_t i = 0; i < f->n_labels; i++)
      hs_free(s->values[i]);
    hs_free(s);
    return NULL;
  }
  if (f->last)
    f->last->next = s;
  else
    f->series = s;
  f->last = s;
  return s;
}

void hs_series_add(hs_series_t *s, double v) {
  s->value += v;
}

void hs_series_set(hs_series_t *s, double v) {
  s->value = v;
}

void hs_series_observe(hs_series_t *s, double v) {
  const hs_family_t *f = s->family;
  size_t b = 0;
  while (b < f->n_bounds && v > f->bounds[b])
    b++;
  s->buckets[b]++;
  s->count++;
  s->sum += v;
}

double hs_series_value(const hs_series_t *s) {
  return s->family->type == HS_HISTOGRAM ? (double)s->count : s->value;
}

static hs_family_t *find_family(const hs_metrics_t *r, const char *name) {
  for (hs_family_t *f = r->families; f; f = f->next)
    if (!strcmp(f->name, name))
      return f;
  return NULL;
}

/* True when `a` and `b` can add up: same type, labels and buckets. */
static bool same_shape(const hs_family_t *a, const hs_family_t *b) {
  if (a->type != b->type || a->n_labels != b->n_labels || a->n_bounds != b->n_bounds)
    return false;
  for (size_t i = 0; i < a->n_labels; i++)
    if (strcmp(a->labels[i], b->labels[i]))
      return false;
  for (size_t i = 0; i < a->n_bounds; i++)
    if (a->bounds[i] != b->bounds[i])
      return false;
  return true;
}

static bool keeps_max(const hs_family_t *f) {
  size_t n = strlen(f->name);
  return f->type == HS_GAUGE && n >= 4 && !strcmp(f->name + n - 4, "_max");
}

int hs_metrics_merge(hs_metrics_t *dst, const hs_metrics_t *src) {
  int rc = 0;
  for (const hs_family_t *sf = src->families; sf; sf = sf->next) {
    hs_family_t *df = find_family(dst, sf->name);
    if (!df) {
      char names[MAX_LABELS * 64 + MAX_LABELS] = "";
      size_t at = 0;
      for (size_t i = 0; i < sf->n_labels; i++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? "," : "", sf->labels[i]);
      if (at >= sizeof names)
        return HS_E_NOMEM; /* label names are short: only a corrupt family gets here */
      df = hs_metrics_family(dst, sf->type, sf->name, sf->help, sf->n_labels ? names : NULL,
                             sf->bounds, sf->n_bounds);
      if (!df)
        return HS_E_NOMEM;
    } else if (!same_shape(df, sf)) {
      rc = HS_E_INVAL;
      continue;
    }
    for (const hs_series_t *ss = sf->series; ss; ss = ss->next) {
      hs_series_t *ds = hs_family_series(df, (const char *const *)ss->values);
      if (!ds)
        return HS_E_NOMEM;
      if (keeps_max(df)) {
        if (ss->value > ds->value)
          ds->value = ss->value;
      } else {
        ds->value += ss->value;
      }
      ds->sum += ss->sum;
      ds->count += ss->count;
      if (ds->buckets)
        for (size_t b = 0; b <= df->n_bounds; b++)
          ds->buckets[b] += ss->buckets[b];
    }
  }
  return rc;
}

/* A label value, escaped as the exposition format wants. */
static int label_value(hs_buf_t *out, const char *v) {
  int rc = hs_buf_append(out, "\"", 1);
  for (; *v && !rc; v++) {
    if (*v == '\\' || *v == '"')
      rc = hs_buf_printf(out, "\\%c", *v);
    else if (*v == '\n')
      rc = hs_buf_append(out, "\\n", 2);
    else
      rc = hs_buf_append(out, v, 1);
  }
  return rc | hs_buf_append(out, "\"", 1);
}

static int labels(hs_buf_t *out, const hs_series_t *s, const char *le) {
  const hs_family_t *f = s->family;
  if (!f->n_labels && !le)
    return 0;
  int rc = hs_buf_append(out, "{", 1);
  for (size_t i = 0; i < f->n_labels; i++) {
    rc |= hs_buf_printf(out, "%s%s=", i ? "," : "", f->labels[i]);
    rc |= label_value(out, s->values[i]);
  }
  if (le)
    rc |= hs_buf_printf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
  return rc | hs_buf_append(out, "}", 1);
}

static int number(hs_buf_t *out, double v) {
  if (isinf(v))
    return hs_buf_printf(out, v > 0 ? "+Inf" : "-Inf");
  if (isnan(v))
    return hs_buf_printf(out, "NaN");
  if (v == floor(v) && fabs(v) < 1e15)
    return hs_buf_printf(out, "%.0f", v);
  char tmp[40]; /* the shortest form that reads back as the same double */
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v)
      break;
  }
  return hs_buf_append(out, tmp, strlen(tmp));
}

int hs_metrics_render(const hs_metrics_t *r, hs_buf_t *out) {
  static const char *const types[] = {"counter", "gauge", "histogram"};
  int rc = 0;
  for (const hs_family_t *f = r->families; f && !rc; f = f->next) {
    rc |= hs_buf_printf(out, "# HELP %s ", f->name);
    for (const char *h = f->help; *h; h++) /* help text: escape \\ and newlines */
      rc |= *h == '\n'   ? hs_buf_append(out, "\\n", 2)
            : *h == '\\' ? hs_buf_append(out, "\\\\", 2)
                         : hs_buf_append(out, h, 1);
    rc |= hs_buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
    for (const hs_series_t *s = f->series; s; s = s->next) {
      if (f->type != HS_HISTOGRAM) {
        rc |= hs_buf_printf(out, "%s", f->name);
        rc |= labels(out, s, NULL);
        rc |= hs_buf_append(out, " ", 1);
        rc |= number(out, s->value);
        rc |= hs_buf_append(out, "\n", 1);
        continue;
      }
      uint64_t cum = 0;
      for (size_t b = 0; b <= f->n_bounds; b++) {
        char le[40];
        cum += s->buckets[b];
        if (b < f->n_bounds)
          snprintf(le, sizeof le, "%g", f->bounds[b]);
        else
          snprintf(le, sizeof le, "+Inf");
        rc |= hs_buf_printf(out, "%s_bucket", f->name);
        rc |= labels(out, s, le);
        rc |= hs_buf_printf(out, " %llu\n", (unsigned long long)cum);
      }
      rc |= hs_buf_printf(out, "%s_sum", f->name);
      rc |= labels(out, s, NULL);
      rc |= hs_buf_append(out, " ", 1);
      rc |= number(out, s->sum);
      rc |= hs_buf_printf(out, "\n%s_count", f->name);
      rc |= labels(out, s, NULL);
      rc |= hs_buf_printf(out, " %llu\n", (unsigned long long)s->count);
    }
  }
  return rc ? HS_E_NOMEM : 0;
}
