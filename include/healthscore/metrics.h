/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Prometheus metrics registry: counter, gauge and histogram families with
 * labels, rendered in the text exposition format (version 0.0.4). A series
 * (one set of label values) is looked up once and its handle kept, so the
 * per-event cost is one addition. Values are in base units (seconds, bytes).
 * Loop thread only. */
#ifndef HEALTHSCORE_METRICS_H
#define HEALTHSCORE_METRICS_H

#include "healthscore/base.h"

typedef struct hs_metrics_s hs_metrics_t;
typedef struct hs_family_s hs_family_t;
typedef struct hs_series_s hs_series_t;

typedef enum { HS_COUNTER = 0, HS_GAUGE, HS_HISTOGRAM } hs_metric_type_t;

/* Creates an empty registry, the caller's, or NULL when out of memory. */
hs_metrics_t *hs_metrics_new(void);
/* Frees the registry with every family and series in it (handles held
 * elsewhere become invalid). */
void hs_metrics_free(hs_metrics_t *r);

/* Adds a family. `labels` names its labels, comma-separated ("topic,type"),
 * or NULL; `bounds` (histograms only) are the ascending upper bounds of the
 * buckets, +Inf implied. Strings are copied. Returns the family, or NULL for
 * an invalid name or label, a duplicate name, or no memory. The family is
 * the registry's (valid until hs_metrics_free; never freed alone); a
 * failure adds nothing. */
hs_family_t *hs_metrics_family(hs_metrics_t *r, hs_metric_type_t type, const char *name,
                               const char *help, const char *labels, const double *bounds,
                               size_t n_bounds);

/* The series of `f` for the label values (as many as the family has labels;
 * copied), created at 0 on first use. The handle stays valid until the
 * registry is freed. NULL when out of memory. */
hs_series_t *hs_family_series(hs_family_t *f, const char *const *values);

void hs_series_add(hs_series_t *s, double v);     /* counters, gauges */
void hs_series_set(hs_series_t *s, double v);     /* gauges */
void hs_series_observe(hs_series_t *s, double v); /* histograms */
double hs_series_value(const hs_series_t *s);     /* the value, or a histogram's count */

/* Adds every series of `src` into `dst`, as the registries of several
 * engines add up to one process: a family or series `dst` lacks is created
 * (after its own, in `src`'s order); counters and gauges add, except gauges
 * whose family name ends in "_max", which keep the larger value; histograms
 * add bucket by bucket, with their sums and counts. `src` is read only.
 * Returns 0; HS_E_INVAL when a family of the same name differs in type,
 * labels or buckets (that family is skipped, the others merged); HS_E_NOMEM
 * (`dst` may hold a part of `src`). Both on the calling thread. */
int hs_metrics_merge(hs_metrics_t *dst, const hs_metrics_t *src);

/* Appends the whole registry, families and series in creation order, to
 * `out` (the caller's). Returns 0 or HS_E_NOMEM (`out` may hold a part of
 * the page: the caller drops it). */
int hs_metrics_render(const hs_metrics_t *r, hs_buf_t *out);

#endif
