/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Daily aggregate series and the windows (views) over them. An event costs
 * O(views of its series); a day of clock advance costs O(views) per series,
 * whatever the window lengths. */
#include "internal.h"

#include <string.h>

static inline uint32_t slot_of(int32_t day, uint32_t days) {
  int64_t r = (int64_t)day % (int64_t)days;
  return (uint32_t)(r < 0 ? r + days : r);
}

static inline bool better(uint8_t op, double a, double b) {
  return op == HS__OP_MIN ? a < b : a > b;
}

/* Milli-units: sums are kept as integers so that adding and later
 * subtracting the same day is exact, whatever the order of operations. */
static inline int64_t to_milli(double v) {
  return (int64_t)llround(v * 1000.0);
}

void hs__view_recompute_ext(const hs_model_t *m, hs_account_t *a, uint32_t vi) {
  const hs__view_t *v = &m->views[vi];
  const hs__series_t *s = &m->series[v->series];
  const hs__series_state_t *st = &a->series[v->series];
  hs__view_state_t *vs = &a->views[vi];
  vs->ext = NAN;
  vs->ext_valid = true;
  if (!st->ext || st->head == INT32_MIN)
    return;
  for (uint32_t k = 0; k < v->days; k++) {
    double e = st->ext[slot_of(st->head - (int32_t)k, s->days)];
    if (!isnan(e) && (isnan(vs->ext) || better(s->op, e, vs->ext)))
      vs->ext = e;
  }
}

static void views_add(const hs_model_t *m, hs_account_t *a, uint32_t si, int32_t day, int64_t cnt,
                      int64_t sum, double ext) {
  const hs__series_state_t *st = &a->series[si];
  uint8_t op = m->series[si].op;
  for (uint32_t k = 0; k < m->n_series_views[si]; k++) {
    uint32_t vi = m->series_views[si][k];
    const hs__view_t *v = &m->views[vi];
    if (day <= st->head - (int32_t)v->days)
      continue;
    hs__view_state_t *vs = &a->views[vi];
    vs->cnt += cnt;
    vs->sum += sum;
    if (v->slope) {
      int64_t age = st->head - day;
      vs->s1_cnt += age * cnt;
      vs->s1_sum += age * sum;
    }
    if (!isnan(ext) && vs->ext_valid && (isnan(vs->ext) || better(op, ext, vs->ext)))
      vs->ext = ext;
  }
}

void hs__series_put(const hs__series_t *s, hs__series_state_t *st, int32_t day, int32_t cnt,
                    int64_t sum, double ext) {
  if (st->head == INT32_MIN || day > st->head || day <= st->head - (int32_t)s->days)
    return;
  uint32_t slot = slot_of(day, s->days);
  if (day > st->max_day)
    st->max_day = day;
  st->cnt[slot] += cnt;
  if (st->sum)
    st->sum[slot] += sum;
  if (st->ext && !isnan(ext) && (isnan(st->ext[slot]) || better(s->op, ext, st->ext[slot])))
    st->ext[slot] = ext;
}

static hs__dkey_t *key_find(hs__series_state_t *st, uint32_t hash) {
  if (!st->keys_cap)
    return NULL;
  uint32_t mask = st->keys_cap - 1;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    if (st->keys[i].hash == hash || st->keys[i].hash == 0)
      return &st->keys[i];
  }
}

/* Rebuilds the key table at `cap`, dropping keys last seen before `min_day`. */
static int keys_rehash(hs__series_state_t *st, uint32_t cap, int32_t min_day) {
  hs__dkey_t *old = st->keys;
  uint32_t old_cap = st->keys_cap;
  hs__dkey_t *nk = hs_calloc(cap, sizeof *nk);
  if (!nk)
    return HS_E_NOMEM;
  st->keys = nk;
  st->keys_cap = cap;
  st->n_keys = 0;
  for (uint32_t i = 0; i < old_cap; i++) {
    if (old[i].hash && old[i].day >= min_day) {
      *key_find(st, old[i].hash) = old[i];
      st->n_keys++;
    }
  }
  hs_free(old);
  return 0;
}

int hs__series_put_key(const hs__series_t *s, hs__series_state_t *st, uint32_t hash, int32_t day) {
  if (hash == 0)
    hash = 1;
  int32_t min_day = st->head == INT32_MIN ? INT32_MIN : st->head - (int32_t)s->days + 1;
  if (st->n_keys + 1 > st->keys_cap / 2) {
    uint32_t cap = st->keys_cap ? st->keys_cap : 8;
    if (st->n_keys + 1 > cap / 2)
      cap *= 2;
    if (cap > 2 * HS_MAX_DISTINCT) {
      cap = 2 * HS_MAX_DISTINCT; /* full: make room by forgetting expired keys */
    }
    int rc = keys_rehash(st, cap, min_day);
    if (rc)
      return rc;
    if (st->n_keys + 1 > st->keys_cap / 2)
      return 1; /* saturated: the key is not tracked */
  }
  hs__dkey_t *k = key_find(st, hash);
  if (!k->hash) {
    k->hash = hash;
    k->day = day;
    st->n_keys++;
  } else if (day > k->day) {
    k->day = day;
  }
  return 0;
}

int hs__series_add(const hs_model_t *m, hs_account_t *a, uint32_t si, const hs_event_t *ev) {
  const hs__series_t *s = &m->series[si];
  hs__series_state_t *st = &a->series[si];
  int32_t day = hs_day_of(ev->ts_ms);
  if (day > st->head || day <= st->head - (int32_t)s->days)
    return 0;
  double v = 0;
  int64_t sum = 0;
  double ext = NAN;
  if (s->op == HS__OP_SUM || s->op == HS__OP_MIN || s->op == HS__OP_MAX) {
    if (!hs_event_num(ev, s->field, &v))
      return 0;
    sum = to_milli(v);
    if (s->op != HS__OP_SUM)
      ext = v;
  }
  if (ev->ts_ms > st->last_ms)
    st->last_ms = ev->ts_ms;
  if (s->op == HS__OP_DISTINCT) {
    hs_str_t key = hs_event_str(ev, s->field);
    if (!key.len)
      return 0;
    uint32_t hash = (uint32_t)hs_hash64(key.ptr, key.len, HS_HASH_SEED);
    hash = hash ? hash : 1;
    hs__dkey_t *k = key_find(st, hash);
    if (k && k->hash) {
      if (day <= k->day)
        return 0;
      if (k->day > st->head - (int32_t)s->days) {
        st->cnt[slot_of(k->day, s->days)]--;
        views_add(m, a, si, k->day, -1, 0, NAN);
      }
      k->day = day;
    } else {
      int rc = hs__series_put_key(s, st, hash, day);
      if (rc)
        return rc < 0 ? rc : 0;
    }
    st->cnt[slot_of(day, s->days)]++;
    if (day > st->max_day)
      st->max_day = day;
    views_add(m, a, si, day, 1, 0, NAN);
    return 0;
  }
  hs__series_put(s, st, day, 1, sum, ext);
  views_add(m, a, si, day, 1, sum, ext);
  return 0;
}

void hs__series_advance(const hs_model_t *m, hs_account_t *a, int32_t new_head) {
  for (uint32_t si = 0; si < m->n_series; si++) {
    const hs__series_t *s = &m->series[si];
    hs__series_state_t *st = &a->series[si];
    if (st->head != INT32_MIN && st->max_day <= st->head - (int32_t)s->days) {
      st->head = new_head; /* the ring is empty, and so are its views */
      continue;
    }
    if (st->head == INT32_MIN || new_head - st->head >= (int32_t)s->days) {
      memset(st->cnt, 0, s->days * sizeof *st->cnt);
      if (st->sum)
        memset(st->sum, 0, s->days * sizeof *st->sum);
      for (uint32_t k = 0; st->ext && k < s->days; k++)
        st->ext[k] = NAN;
      for (uint32_t k = 0; k < m->n_series_views[si]; k++) {
        hs__view_state_t *vs = &a->views[m->series_views[si][k]];
        memset(vs, 0, sizeof *vs);
        vs->ext = NAN;
        vs->ext_valid = true;
      }
      st->head = new_head;
      continue;
    }
    for (int32_t x = st->head + 1; x <= new_head; x++) {
      for (uint32_t k = 0; k < m->n_series_views[si]; k++) {
        uint32_t vi = m->series_views[si][k];
        const hs__view_t *v = &m->views[vi];
        hs__view_state_t *vs = &a->views[vi];
        uint32_t leaving = slot_of(x - (int32_t)v->days, s->days);
        int64_t c = st->cnt[leaving], sm = st->sum ? st->sum[leaving] : 0;
        if (v->slope) {
          /* every day in the window ages by one; the oldest leaves at age days */
          vs->s1_cnt += vs->cnt - (int64_t)v->days * c;
          vs->s1_sum += vs->sum - (int64_t)v->days * sm;
        }
        vs->cnt -= c;
        vs->sum -= sm;
        if (st->ext && !isnan(st->ext[leaving]) && st->ext[leaving] == vs->ext)
          vs->ext_valid = false;
      }
      uint32_t slot = slot_of(x, s->days);
      st->cnt[slot] = 0;
      if (st->sum)
        st->sum[slot] = 0;
      if (st->ext)
        st->ext[slot] = NAN;
    }
    st->head = new_head;
    for (uint32_t k = 0; k < m->n_series_views[si]; k++)
      if (!a->views[m->series_views[si][k]].ext_valid)
        hs__view_recompute_ext(m, a, m->series_views[si][k]);
  }
}

void hs__account_rebuild_views(const hs_model_t *m, hs_account_t *a) {
  for (uint32_t vi = 0; vi < m->n_views; vi++) {
    const hs__view_t *v = &m->views[vi];
    const hs__series_t *s = &m->series[v->series];
    const hs__series_state_t *st = &a->series[v->series];
    hs__view_state_t *vs = &a->views[vi];
    memset(vs, 0, sizeof *vs);
    vs->ext = NAN;
    vs->ext_valid = true;
    if (st->head == INT32_MIN)
      continue;
    for (uint32_t age = 0; age < v->days; age++) {
      uint32_t slot = slot_of(st->head - (int32_t)age, s->days);
      int64_t c = st->cnt[slot], sm = st->sum ? st->sum[slot] : 0;
      vs->cnt += c;
      vs->sum += sm;
      if (v->slope) {
        vs->s1_cnt += (int64_t)age * c;
        vs->s1_sum += (int64_t)age * sm;
      }
    }
    hs__view_recompute_ext(m, a, vi);
  }
}

uint32_t hs__series_slot(int32_t day, uint32_t days) {
  return slot_of(day, days);
}
