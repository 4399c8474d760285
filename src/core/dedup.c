/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The event ids an account applied, so that an event delivered again is
 * dropped (docs/scoring.md, "Duplicates"). What is held is a function of the
 * ids applied and of the account's clock, never of the table's history, so
 * that a state decoded from its encoding drops and forgets exactly what the
 * state it was encoded from would. */
#include "internal.h"

#define EID_SEED UINT64_C(0x6a09e667f3bcc909) /* not the account ids' seed */
#define EID_MIN_CAP 16

static inline uint64_t hash_of(const hs__eid_t *e) {
  return (uint64_t)e->hi << 32 | e->lo;
}

static inline uint32_t find(const hs__eid_t *t, uint32_t cap, uint64_t hash) {
  return hs__eid_find(t, cap, hs__eid_key(hash));
}

/* Bytes from p, little-endian whatever the host (one load where it is). */
static inline uint64_t le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}
static inline uint64_t le32(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static inline uint64_t step(uint64_t h, uint64_t w) {
  h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
  return h ^ (h >> 32);
}

/* A word at a time (ids are 1..128 bytes; the last word overlaps the one
 * before it), starting from the length, then murmur3's finaliser. Each step
 * is a bijection of the state. The same on every host: the hashes are
 * stored. */
uint64_t hs__eid_hash(hs_str_t event_id) {
  const unsigned char *p = (const unsigned char *)event_id.ptr;
  size_t n = event_id.len;
  uint64_t h = EID_SEED ^ (n * UINT64_C(0xc2b2ae3d27d4eb4f));
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8)
      h = step(h, le64(p + i));
    h = step(h, le64(p + n - 8));
  } else if (n >= 4) {
    h = step(h, le32(p) | le32(p + n - 4) << 32);
  } else if (n) {
    h = step(h, (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16);
  }
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h ? h : 1;
}

/* The order ids are written and forgotten in: by day, then by hash. */
static inline bool before(const hs__eid_t *a, const hs__eid_t *b) {
  return a->day != b->day ? a->day < b->day : hash_of(a) < hash_of(b);
}

/* The same order among ids of one day. */
static inline bool before_same_day(const hs__eid_t *a, const hs__eid_t *b) {
  return hash_of(a) < hash_of(b);
}

/* Sorts a few ids, v[0..n), by insertion in the order `less` gives (inlined
 * with it, a constant at each call). */
static inline __attribute__((always_inline)) void
insertion(hs__eid_t *v, uint32_t n, bool (*less)(const hs__eid_t *, const hs__eid_t *)) {
  for (uint32_t i = 1; i < n; i++) {
    hs__eid_t x = v[i];
    uint32_t j = i;
    for (; j > 0 && less(&x, &v[j - 1]); j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Sorts v[0..n) in that order, with room for n more at tmp: runs of 16 by
 * insertion, then merged (ids equal in both keys are equal in every byte,
 * so any correct sort gives the same array). */
static void sort_ids(hs__eid_t *v, hs__eid_t *tmp, uint32_t n) {
  enum { RUN = 16 };
  for (uint32_t lo = 0; lo < n; lo += RUN)
    insertion(v + lo, n - lo > RUN ? RUN : n - lo, before);
  hs__eid_t *src = v, *dst = tmp;
  for (uint32_t w = RUN; w < n; w *= 2) {
    for (uint32_t lo = 0; lo < n; lo += 2 * w) {
      uint32_t mid = n - lo > w ? lo + w : n, hi = n - mid > w ? mid + w : n;
      uint32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        dst[k++] = before(&src[j], &src[i]) ? src[j++] : src[i++];
      while (i < mid)
        dst[k++] = src[i++];
      while (j < hi)
        dst[k++] = src[j++];
    }
    hs__eid_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != v)
    memcpy(v, src, n * sizeof *v);
}

/* Sorts v[0..n) as sort_ids does, with the same room: when the days span
 * at most MAX_SPAN, the ids are first spread by day (counting), and each
 * day's ids then sorted by hash; insertion for a few, sort_ids for more. */
static void sort_by_day(hs__eid_t *v, hs__eid_t *tmp, uint32_t n) {
  enum { MAX_SPAN = 64, FEW = 16 };
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (uint32_t i = 0; i < n; i++) {
    lo = v[i].day < lo ? v[i].day : lo;
    hi = v[i].day > hi ? v[i].day : hi;
  }
  if (n < FEW || (int64_t)hi - lo >= MAX_SPAN) {
    sort_ids(v, tmp, n);
    return;
  }
  const uint32_t span = (uint32_t)(hi - lo) + 1;
  uint32_t at[MAX_SPAN + 1] = {0};
  for (uint32_t i = 0; i < n; i++)
    at[v[i].day - lo + 1]++;
  for (uint32_t d = 0; d < span; d++)
    at[d + 1] += at[d]; /* at[d]: where day lo + d starts */
  for (uint32_t i = 0; i < n; i++)
    tmp[at[v[i].day - lo]++] = v[i]; /* at[d] ends as where day lo + d ends */
  for (uint32_t d = 0, from = 0; d < span; from = at[d++]) {
    hs__eid_t *b = tmp + from;
    const uint32_t k = at[d] - from;
    if (k > FEW)
      sort_ids(b, v + from, k); /* v's room is free now */
    else
      insertion(b, k, before_same_day);
  }
  memcpy(v, tmp, n * sizeof *v);
}

static inline bool held(const hs__eid_t *e, int32_t cutoff) {
  return hs__eid_used(e) && e->day > cutoff;
}

/* Copies the ids with a day after `cutoff` into a new array, sorted by day
 * then hash: returns 0 with *out (NULL when there are none) and *n, or
 * HS_E_NOMEM. */
static int live_sorted(const hs_account_t *a, int32_t cutoff, hs__eid_t **out, uint32_t *n) {
  *out = NULL;
  *n = 0;
  const uint32_t used = a->eid_n; /* the slots in use: the held ids are among them */
  if (!used)
    return 0;
  /* the second half: the sort's room */
  hs__eid_t *v = hs_malloc((size_t)used * 2 * sizeof *v);
  if (!v)
    return HS_E_NOMEM;
  uint32_t k = 0;
  for (uint32_t i = 0; i < a->eid_cap; i++)
    if (held(&a->eids[i], cutoff)) {
      HS_INVARIANT(k < used);
      v[k++] = a->eids[i];
    }
  if (!k) {
    hs_free(v);
    return 0;
  }
  sort_by_day(v, v + used, k);
  *out = v;
  *n = k;
  return 0;
}

int hs__eid_sorted(const hs_model_t *m, const hs_account_t *a, hs__eid_t **out, uint32_t *n) {
  return live_sorted(a, hs__eid_cutoff(m, a), out, n);
}

/* Builds the table anew from the ids still remembered (dropping those whose
 * day passed `cutoff`) with room for one more; past the cap, forgets the
 * oldest (by day, then hash) until 7/8 of it remain. Returns 0 or
 * HS_E_NOMEM (the table unchanged). */
static int rebuild(hs_account_t *a, int32_t cutoff) {
  uint32_t n = 0, from = 0;
  for (uint32_t i = 0; i < a->eid_cap; i++)
    n += held(&a->eids[i], cutoff);
  hs__eid_t *v = NULL; /* past the cap: the ids in the order they are forgotten */
  if (n + 1 > HS__MAX_EVENT_IDS) {
    if (live_sorted(a, cutoff, &v, &n))
      return HS_E_NOMEM;
    from = n - (HS__MAX_EVENT_IDS - HS__MAX_EVENT_IDS / 8);
  }
  uint32_t keep = n - from, cap = EID_MIN_CAP;
  while (cap < HS__EID_MAX_CAP && (keep + 1) * 2 > cap)
    cap *= 2; /* at most half full: room to grow before the next rebuild */
  hs__eid_t *t = hs_calloc(cap, sizeof *t);
  if (!t) {
    hs_free(v);
    return HS_E_NOMEM;
  }
  if (v) {
    for (uint32_t i = from; i < n; i++)
      t[find(t, cap, hash_of(&v[i]))] = v[i];
  } else {
    for (uint32_t i = 0; i < a->eid_cap; i++)
      if (held(&a->eids[i], cutoff))
        t[find(t, cap, hash_of(&a->eids[i]))] = a->eids[i];
  }
  hs_free(v);
  hs_free(a->eids);
  a->eids = t;
  a->eid_cap = cap;
  a->eid_n = keep;
  return 0;
}

int hs__eid_add_slow(const hs_model_t *m, hs_account_t *a, uint64_t hash, int32_t day) {
  if (rebuild(a, hs__eid_cutoff(m, a)))
    return HS_E_NOMEM;
  uint32_t slot = find(a->eids, a->eid_cap, hash);
  if (hs__eid_used(&a->eids[slot])) {
    a->eids[slot].day = day;
    return 0;
  }
  a->eids[slot] = (hs__eid_t){(uint32_t)hash, (uint32_t)(hash >> 32), day};
  a->eid_n++;
  return 0;
}

int hs__eid_put(const hs_model_t *m, hs_account_t *a, uint64_t hash, int32_t day) {
  int32_t cutoff = hs__eid_cutoff(m, a);
  uint32_t slot;
  if (!m->dedup_days || day <= cutoff || hs__eid_known(a, hash, cutoff, &slot))
    return 0;
  return hs__eid_add(m, a, hash, day, slot);
}
