/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The accounts held in memory: the table (the core's hs_idmap over an
 * array of accounts), the LRU list (most recently
 * used first), the dirty set written by the next flush, the band counts, and
 * eviction of clean accounts beyond engine.max_accounts. */
#include "internal.h"

static hs_str_t id_of(const void *ctx, uint32_t index) {
  const hs_live_t *l = ctx;
  const acct_t *a = l->table[index];
  return (hs_str_t){a->id, a->id_len};
}

int hs__accounts_init(hs_live_t *l) {
  l->free_head = UINT32_MAX;
  return hs_idmap_init(&l->ids, 1024, 75, id_of, l);
}

void hs__accounts_drop(hs_live_t *l) {
  for (uint32_t i = 0; i < l->table_len; i++)
    if (l->table[i])
      hs__acct_free(l, l->table[i]);
  l->table_len = 0;
  l->free_head = UINT32_MAX;
  hs_idmap_clear(&l->ids);
  l->n_accounts = 0;
}

void hs__accounts_free(hs_live_t *l) {
  hs_idmap_free(&l->ids);
  hs_free(l->table);
  hs_free(l->free_next);
  l->table = NULL;
  l->free_next = NULL;
  l->table_len = l->table_cap = 0;
}

acct_t *hs__acct_find(hs_live_t *l, const char *id, size_t len, uint64_t h) {
  uint32_t r = l->ids.refs[hs_idmap_slot(&l->ids, (hs_str_t){id, (uint32_t)len}, h)];
  return r ? l->table[r - 1] : NULL;
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

/* Room for one more index in the table's arrays. */
static int grow_table(hs_live_t *l) {
  if (l->free_head != UINT32_MAX || l->table_len < l->table_cap)
    return 0;
  uint32_t cap = l->table_cap ? l->table_cap * 2 : 1024;
  acct_t **t = hs_realloc(l->table, cap * sizeof *t);
  if (!t)
    return HS_E_NOMEM;
  l->table = t;
  uint32_t *f = hs_realloc(l->free_next, cap * sizeof *f);
  if (!f)
    return HS_E_NOMEM; /* the larger table stays, unused */
  l->free_next = f;
  l->table_cap = cap;
  return 0;
}

acct_t *hs__acct_add(hs_live_t *l, const char *id, size_t len, uint64_t h, int32_t partition) {
  hs_str_t key = {id, (uint32_t)len};
  size_t slot = hs_idmap_slot(&l->ids, key, h);
  if (hs_idmap_reserve(&l->ids, &slot, key, h) || grow_table(l))
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
  if (l->free_head != UINT32_MAX) {
    a->index = l->free_head;
    l->free_head = l->free_next[a->index];
  } else {
    a->index = l->table_len++;
  }
  l->table[a->index] = a;
  hs_idmap_put(&l->ids, slot, h, a->index);
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
  HS_INVARIANT(!a->dirty); /* else the dirty set would point at freed memory */
  hs_idmap_remove(&l->ids, hs_idmap_slot(&l->ids, (hs_str_t){a->id, a->id_len}, a->hash));
  l->table[a->index] = NULL;
  l->free_next[a->index] = l->free_head;
  l->free_head = a->index;
  lru_unlink(l, a);
  l->n_accounts--;
  hs__acct_free(l, a);
}

void hs__mark_dirty(hs_live_t *l, acct_t *a) {
  if (a->dirty)
    return;
  HS_INVARIANT(a != l->dirty_tail && !l->dirty_head == !l->n_dirty);
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
