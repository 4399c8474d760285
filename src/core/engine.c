/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An in-memory set of accounts: an open-addressing table keyed by account id. */
#include "healthscore/core.h"
#include "healthscore/hash.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct hs_engine_s {
  const hs_model_t *model;
  hs_eval_cb cb;
  void *ud;
  hs_account_t **slots;
  uint64_t *hashes;
  size_t cap, n;
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

int hs_engine_new(hs_engine_t **out, const hs_model_t *m, hs_eval_cb cb, void *ud) {
  hs_engine_t *e = hs_calloc(1, sizeof *e);
  *out = NULL;
  if (!e)
    return HS_E_NOMEM;
  e->model = m;
  e->cb = cb;
  e->ud = ud;
  e->cap = 1024;
  e->slots = hs_calloc(e->cap, sizeof *e->slots);
  e->hashes = hs_calloc(e->cap, sizeof *e->hashes);
  e->watermark = INT64_MIN;
  if (!e->slots || !e->hashes) {
    hs_engine_free(e);
    return HS_E_NOMEM;
  }
  *out = e;
  return 0;
}

void hs_engine_free(hs_engine_t *e) {
  if (!e)
    return;
  for (size_t i = 0; e->slots && i < e->cap; i++)
    hs_account_free(e->slots[i]);
  hs_free(e->slots);
  hs_free(e->hashes);
  hs_free(e);
}

static size_t probe(const hs_engine_t *e, hs_str_t id, uint64_t h) {
  size_t mask = e->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    hs_account_t *a = e->slots[i];
    if (!a || (e->hashes[i] == h && a->id_len == id.len && memcmp(a->id, id.ptr, id.len) == 0))
      return i;
  }
}

static int grow(hs_engine_t *e) {
  size_t old_cap = e->cap;
  hs_account_t **old = e->slots;
  uint64_t *old_h = e->hashes;
  e->cap *= 2;
  e->slots = hs_calloc(e->cap, sizeof *e->slots);
  e->hashes = hs_calloc(e->cap, sizeof *e->hashes);
  if (!e->slots || !e->hashes) {
    hs_free(e->slots);
    hs_free(e->hashes);
    e->slots = old;
    e->hashes = old_h;
    e->cap = old_cap;
    return HS_E_NOMEM;
  }
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i]) {
      size_t j = probe(e, hs_account_id(old[i]), old_h[i]);
      e->slots[j] = old[i];
      e->hashes[j] = old_h[i];
    }
  }
  hs_free(old);
  hs_free(old_h);
  return 0;
}

uint64_t hs_engine_hash(hs_str_t id) {
  return hs_hash64(id.ptr, id.len, HS_HASH_SEED);
}

void hs_engine_prefetch(const hs_engine_t *e, uint64_t hash, const hs_event_t *ev, int stage) {
  size_t i = hash & (e->cap - 1);
  if (stage == 0) {
    __builtin_prefetch(&e->hashes[i]);
    __builtin_prefetch(&e->slots[i]);
  } else if (e->slots[i]) {
    if (stage == 1)
      hs_account_prefetch(e->model, e->slots[i]);
    else
      hs_account_prefetch_days(e->model, e->slots[i], ev);
  }
}

hs_account_t *hs_engine_find(hs_engine_t *e, hs_str_t id) {
  return e->slots[probe(e, id, hs_hash64(id.ptr, id.len, HS_HASH_SEED))];
}

int hs_engine_apply(hs_engine_t *e, const hs_event_t *ev) {
  uint64_t h = hs_hash64(ev->account_id.ptr, ev->account_id.len, HS_HASH_SEED);
  size_t i = probe(e, ev->account_id, h);
  e->stats.events++;
  if (!e->slots[i]) {
    if ((e->n + 1) * 4 > e->cap * 3) {
      if (grow(e))
        return HS_E_NOMEM;
      i = probe(e, ev->account_id, h);
    }
    if (hs_account_new(e->model, ev->account_id, &e->slots[i]))
      return HS_E_NOMEM;
    e->hashes[i] = h;
    e->n++;
    e->stats.accounts++;
  }
  if (ev->ts_ms > e->watermark)
    e->watermark = ev->ts_ms;
  int rc = hs_account_apply(e->model, e->slots[i], ev, count_eval, e);
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
  hs_account_t **v = hs_malloc((e->n + 1) * sizeof *v);
  if (!v)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < e->cap; i++)
    if (e->slots[i])
      v[k++] = e->slots[i];
  qsort(v, k, sizeof *v, by_id);
  return v;
}

int hs_engine_advance(hs_engine_t *e, int64_t now_ms) {
  hs_account_t **v = sorted(e);
  if (!v)
    return HS_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < e->n && !rc; i++)
    rc = hs_account_advance(e->model, v[i], now_ms, count_eval, e);
  hs_free(v);
  return rc;
}

void hs_engine_foreach(hs_engine_t *e, void (*fn)(void *ud, hs_account_t *a), void *ud) {
  hs_account_t **v = sorted(e);
  if (!v)
    return;
  for (size_t i = 0; i < e->n; i++)
    fn(ud, v[i]);
  hs_free(v);
}

void hs_engine_stats(const hs_engine_t *e, hs_engine_stats_t *out) {
  *out = e->stats;
}

int64_t hs_engine_watermark(const hs_engine_t *e) {
  return e->watermark;
}
