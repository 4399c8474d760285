/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The account table: open addressing with linear probing over 64-bit id
 * hashes, the ids themselves kept by the table's owner. */
#include "healthscore/core.h"
#include "healthscore/hash.h"

#include <string.h>

uint64_t hs_idmap_hash(hs_str_t id) {
  return hs_hash64(id.ptr, id.len, HS_HASH_SEED);
}

int hs_idmap_init(hs_idmap_t *t, size_t cap, unsigned load_pct, hs_idmap_id_fn id_of,
                  const void *ctx) {
  size_t c = 16;
  while (c < cap)
    c *= 2;
  *t = (hs_idmap_t){.cap = c, .load_pct = load_pct, .id_of = id_of, .ctx = ctx};
  t->hashes = hs_calloc(c, sizeof *t->hashes);
  t->refs = hs_calloc(c, sizeof *t->refs);
  if (!t->hashes || !t->refs) {
    hs_idmap_free(t);
    return HS_E_NOMEM;
  }
  return 0;
}

void hs_idmap_free(hs_idmap_t *t) {
  hs_free(t->hashes);
  hs_free(t->refs);
  t->hashes = NULL;
  t->refs = NULL;
  t->cap = t->n = 0;
}

size_t hs_idmap_slot(const hs_idmap_t *t, hs_str_t id, uint64_t hash) {
  size_t mask = t->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t r = t->refs[i];
    if (!r)
      return i;
    if (t->hashes[i] == hash) {
      hs_str_t k = t->id_of(t->ctx, r - 1);
      if (k.len == id.len && memcmp(k.ptr, id.ptr, id.len) == 0)
        return i;
    }
  }
}

long hs_idmap_find(const hs_idmap_t *t, hs_str_t id) {
  uint32_t r = t->refs[hs_idmap_slot(t, id, hs_idmap_hash(id))];
  return r ? (long)r - 1 : -1;
}

/* Doubles the table; on failure it stays as it was. */
static int grow(hs_idmap_t *t) {
  hs_idmap_t n = *t;
  n.cap = t->cap * 2;
  n.hashes = hs_calloc(n.cap, sizeof *n.hashes);
  n.refs = hs_calloc(n.cap, sizeof *n.refs);
  if (!n.hashes || !n.refs) {
    hs_free(n.hashes);
    hs_free(n.refs);
    return HS_E_NOMEM;
  }
  size_t mask = n.cap - 1;
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->refs[i])
      continue;
    size_t j = t->hashes[i] & mask;
    while (n.refs[j])
      j = (j + 1) & mask;
    n.hashes[j] = t->hashes[i];
    n.refs[j] = t->refs[i];
  }
  hs_free(t->hashes);
  hs_free(t->refs);
  *t = n;
  return 0;
}

int hs_idmap_reserve(hs_idmap_t *t, size_t *slot, hs_str_t id, uint64_t hash) {
  if ((t->n + 1) * 100 <= t->cap * t->load_pct)
    return 0;
  if (grow(t))
    return HS_E_NOMEM;
  *slot = hs_idmap_slot(t, id, hash);
  return 0;
}

void hs_idmap_put(hs_idmap_t *t, size_t slot, uint64_t hash, uint32_t ref) {
  t->hashes[slot] = hash;
  t->refs[slot] = ref + 1;
  t->n++;
}

void hs_idmap_remove(hs_idmap_t *t, size_t slot) {
  /* backward-shift deletion: every entry after the hole that would not be
     found past it any more moves into it, so no tombstone is left */
  size_t mask = t->cap - 1, hole = slot;
  t->refs[hole] = 0;
  t->n--;
  for (size_t i = (hole + 1) & mask; t->refs[i]; i = (i + 1) & mask) {
    size_t home = t->hashes[i] & mask;
    /* the entry at i may fill the hole when its home is not in (hole, i] */
    bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays)
      continue;
    t->hashes[hole] = t->hashes[i];
    t->refs[hole] = t->refs[i];
    t->refs[i] = 0;
    hole = i;
  }
}

void hs_idmap_clear(hs_idmap_t *t) {
  if (t->refs)
    memset(t->refs, 0, t->cap * sizeof *t->refs);
  t->n = 0;
}
