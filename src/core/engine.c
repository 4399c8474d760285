/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An in-memory set of accounts: the accounts in an array, found by id
 * through the account table (idmap.c). */
#include "healthscore/core.h"
#include "healthscore/hash.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct hs_engine_s {
  const hs_model_t *model;
  hs_eval_cb cb;
  void *ud;
  hs_idmap_t map;       /* account id -> index into accts */
  hs_account_t **accts; /* in order of arrival */
  size_t cap_accts;
  int64_t watermark;
  hs_engine_stats_t stats;
};

/* Counts evaluations and alerts on their way to the user's callback. */
static void count_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  hs_engine_t *e = ud;
  e->stats.evaluations++;
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    if (ev->alerts[i].state == HS_ALERT_FIRING)
      e->stats.alerts_firing++;
    else
      e->stats.alerts_resolved++;
  }
  if (e->cb)
    e->cb(e->ud, a, ev);
}

static hs_str_t id_of(const void *ctx, uint32_t index) {
  const hs_engine_t *e = ctx;
  return hs_account_id(e->accts[index]);
}

int hs_engine_new(hs_engine_t **out, const hs_model_t *m, hs_eval_cb cb, void *ud) {
  hs_engine_t *e = hs_calloc(1, sizeof *e);
  *out = NULL;
  if (!e)
    return HS_E_NOMEM;
  e->model = m;
  e->cb = cb;
  e->ud = ud;
  e->watermark = INT64_MIN;
  if (hs_idmap_init(&e->map, 1024, 75, id_of, e)) {
    hs_engine_free(e);
    return HS_E_NOMEM;
  }
  *out = e;
  return 0;
}

void hs_engine_free(hs_engine_t *e) {
  if (!e)
    return;
  for (size_t i = 0; i < e->map.n; i++)
    hs_account_free(e->accts[i]);
  hs_free(e->accts);
  hs_idmap_free(&e->map);
  hs_free(e);
}

uint64_t hs_engine_hash(hs_str_t id) {
  return hs_idmap_hash(id);
}

void hs_engine_prefetch(const hs_engine_t *e, uint64_t hash, const hs_event_t *ev, int stage) {
  size_t i = hash & (e->map.cap - 1);
  if (stage == 0) {
    __builtin_prefetch(&e->map.hashes[i]);
    __builtin_prefetch(&e->map.refs[i]);
  } else if (e->map.refs[i]) {
    const hs_account_t *a = e->accts[e->map.refs[i] - 1];
    if (stage == 1)
      hs_account_prefetch(e->model, a);
    else
      hs_account_prefetch_days(e->model, a, ev);
  }
}

hs_account_t *hs_engine_find(hs_engine_t *e, hs_str_t id) {
  long k = hs_idmap_find(&e->map, id);
  return k < 0 ? NULL : e->accts[k];
}

/* The account of `id`, created on first sight; NULL when out of memory. */
static hs_account_t *find_or_add(hs_engine_t *e, hs_str_t id, uint64_t h) {
  size_t i = hs_idmap_slot(&e->map, id, h);
  if (e->map.refs[i])
    return e->accts[e->map.refs[i] - 1];
  if (hs_idmap_reserve(&e->map, &i, id, h))
    return NULL;
  hs_account_t **grown = hs_array_grow(e->accts, &e->cap_accts, e->map.n, sizeof *e->accts, 1024);
  if (!grown)
    return NULL;
  e->accts = grown;
  hs_account_t *a;
  if (hs_account_new(e->model, id, &a))
    return NULL;
  e->accts[e->map.n] = a;
  hs_idmap_put(&e->map, i, h, (uint32_t)e->map.n);
  e->stats.accounts++;
  return a;
}

int hs_engine_apply(hs_engine_t *e, const hs_event_t *ev) {
  return hs_engine_apply_hashed(e, hs_idmap_hash(ev->account_id), ev);
}

int hs_engine_apply_hashed(hs_engine_t *e, uint64_t hash, const hs_event_t *ev) {
  e->stats.events++;
  hs_account_t *a = find_or_add(e, ev->account_id, hash);
  if (!a)
    return HS_E_NOMEM;
  if (ev->ts_ms > e->watermark)
    e->watermark = ev->ts_ms;
  int rc = hs_account_apply(e->model, a, ev, count_eval, e);
  if (rc == HS_APPLIED)
    e->stats.applied++;
  else if (rc == HS_LATE)
    e->stats.late++;
  else if (rc == HS_DUPLICATE)
    e->stats.duplicates++;
  else if (rc == HS_IGNORED)
    e->stats.ignored++;
  return rc;
}

static int by_id(const void *x, const void *y) {
  const hs_account_t *a = *(hs_account_t *const *)x, *b = *(hs_account_t *const *)y;
  uint32_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
  int c = memcmp(a->id, b->id, n);
  return c ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

/* The accounts sorted by id, in a new array (hs_free it), or NULL. */
static hs_account_t **sorted(hs_engine_t *e) {
  hs_account_t **v = hs_malloc((e->map.n + 1) * sizeof *v);
  if (!v)
    return NULL;
  if (e->map.n)
    memcpy(v, e->accts, e->map.n * sizeof *v);
  qsort(v, e->map.n, sizeof *v, by_id);
  return v;
}

int hs_engine_advance(hs_engine_t *e, int64_t now_ms) {
  hs_account_t **v = sorted(e);
  if (!v)
    return HS_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < e->map.n && !rc; i++)
    rc = hs_account_advance(e->model, v[i], now_ms, count_eval, e);
  hs_free(v);
  return rc;
}

void hs_engine_foreach(hs_engine_t *e, void (*fn)(void *ud, hs_account_t *a), void *ud) {
  hs_account_t **v = sorted(e);
  if (!v)
    return;
  for (size_t i = 0; i < e->map.n; i++)
    fn(ud, v[i]);
  hs_free(v);
}

void hs_engine_stats(const hs_engine_t *e, hs_engine_stats_t *out) {
  *out = e->stats;
}

int64_t hs_engine_watermark(const hs_engine_t *e) {
  return e->watermark;
}
