/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The accounts held in memory: the hash table, the LRU list (most recently
 * used first), the dirty set written by the next flush, the band counts, and
 * eviction of clean accounts beyond engine.max_accounts. */
#include "internal.h"

acct_t *hs__acct_find(hs_live_t *l, const char *id, size_t len, uint64_t h) {
  for (acct_t *a = l->buckets[h & (l->n_buckets - 1)]; a; a = a->next_hash)
    if (a->hash == h && a->id_len == len && !memcmp(a->id, id, len))
      return a;
  return NULL;
}

static void lru_unlink(hs_live_t *l, acct_t *a) {
  if (!a->lru_prev && !a->lru_next && l->lru_head != a)
    return; /* not in the list */
  /* the idle pass goes on after it */
  if (l->idle_next == a)
    l->idle_next = a->lru_next;
  if (a->lru_prev)
    a->lru_prev->lru_next = a->lru_next;
  else
    l->lru_head = a->lru_next;
  if (a->lru_next)
    a->lru_next->lru_prev = a->lru_prev;
  else
    l->lru_tail = a->lru_prev;
  a->lru_prev = a->lru_next = NULL;
}

void hs__lru_touch(hs_live_t *l, acct_t *a) {
  if (l->lru_head == a)
    return;
  lru_unlink(l, a);
  a->lru_next = l->lru_head;
  if (l->lru_head)
    l->lru_head->lru_prev = a;
  l->lru_head = a;
  if (!l->lru_tail)
    l->lru_tail = a;
}

static int grow_buckets(hs_live_t *l) {
  size_t n = l->n_buckets * 2;
  acct_t **b = hs_calloc(n, sizeof *b);
  if (!b)
    return HS_E_NOMEM;
  for (size_t i = 0; i < l->n_buckets; i++)
    for (acct_t *a = l->buckets[i], *next; a; a = next) {
      next = a->next_hash;
      a->next_hash = b[a->hash & (n - 1)];
      b[a->hash & (n - 1)] = a;
    }
  hs_free(l->buckets);
  l->buckets = b;
  l->n_buckets = n;
  return 0;
}

acct_t *hs__acct_add(hs_live_t *l, const char *id, size_t len, uint64_t h, int32_t partition) {
  if (l->n_accounts >= l->n_buckets && grow_buckets(l))
    return NULL;
  size_t cover_at = (sizeof(acct_t) + len + 1 + 7) & ~(size_t)7;
  acct_t *a = hs_calloc(1, cover_at + l->n_topics * sizeof(int64_t));
  if (!a)
    return NULL;
  a->cover = (int64_t *)(void *)((char *)a + cover_at);
  a->cover_part = -1;
  memcpy(a->id, id, len);
  a->id_len = (uint32_t)len;
  a->hash = h;
  a->partition = partition;
  a->cur_day = INT32_MIN;
  a->profile = a->band = -2;
  a->next_hash = l->buckets[h & (l->n_buckets - 1)];
  l->buckets[h & (l->n_buckets - 1)] = a;
  l->n_accounts++;
  hs__lru_touch(l, a);
  return a;
}

void hs__band_move(hs_live_t *l, acct_t *a, int profile, int band) {
  if (a->profile == profile && a->band == band)
    return;
  size_t nb = hs_model_n_bands(l->model) + 1;
  if (a->profile >= 0 && (size_t)a->profile < hs_model_n_profiles(l->model))
    l->band_count[(size_t)a->profile * nb + (size_t)(a->band + 1)]--;
  a->profile = (int16_t)profile;
  a->band = (int16_t)band;
  if (profile >= 0)
    l->band_count[(size_t)profile * nb + (size_t)(band + 1)]++;
}

void hs__acct_free(hs_live_t *l, acct_t *a) {
  hs__band_move(l, a, -2, -2);
  hs_free(a->days);
  hs_account_free(a->a);
  hs_free(a);
}

void hs__acct_remove(hs_live_t *l, acct_t *a) {
  acct_t **pp = &l->buckets[a->hash & (l->n_buckets - 1)];
  while (*pp != a)
    pp = &(*pp)->next_hash;
  *pp = a->next_hash;
  lru_unlink(l, a);
  l->n_accounts--;
  hs__acct_free(l, a);
}

void hs__mark_dirty(hs_live_t *l, acct_t *a) {
  if (a->dirty)
    return;
  a->dirty_next = NULL;
  if (l->dirty_tail)
    l->dirty_tail->dirty_next = a;
  else
    l->dirty_head = a;
  l->dirty_tail = a;
  a->dirty = true;
  l->n_dirty++;
}

void hs__evict(hs_live_t *l) {
  size_t max = (size_t)l->s->max_accounts;
  for (acct_t *a = l->lru_tail, *prev; a && l->n_accounts > max; a = prev) {
    prev = a->lru_prev;
    if (a->dirty || a->loading || a->refs || a->commit_seq > l->done_seq)
      continue;
    hs__acct_remove(l, a);
    hs__count(l->m_evicted, 1);
  }
}

int hs__band_arrays(hs_live_t *l, const hs_model_t *m) {
  size_t n = hs_model_n_profiles(m) * (hs_model_n_bands(m) + 1);
  hs_free(l->band_series);
  hs_free(l->band_count);
  l->band_series = hs_calloc(n, sizeof *l->band_series);
  l->band_count = hs_calloc(n, sizeof *l->band_count);
  return l->band_series && l->band_count ? 0 : HS_E_NOMEM;
}
