/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Daily aggregate series and the windows (views) over them. A series keeps
 * only the days that received data, oldest first, so a day without data
 * costs nothing whatever the window. An event costs O(views of its series);
 * a clock advance costs O(views x log(days with data)) per series, plus the
 * days leaving the windows. */
#include "internal.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"

#include <stdlib.h>
#include <string.h>

/* A distinct series keeps up to HS__KEYS_MAX keys, in a table of at most
 * 2 * HS_MAX_DISTINCT slots. When it is full, the keys seen least recently
 * are forgotten until HS_MAX_DISTINCT remain: every window over the series
 * then still holds each of its keys up to HS_MAX_DISTINCT of them (a key
 * of a window is forgotten only when the keys seen later, all in that
 * window too, are that many), and the slack makes forgetting a pass over
 * the table per HS__KEYS_MAX - HS_MAX_DISTINCT new keys. */
#define HS__KEYS_MAX (HS_MAX_DISTINCT + HS_MAX_DISTINCT / 4)
#define HS__KEYS_SLOTS (2 * HS_MAX_DISTINCT)

static inline bool better(uint8_t op, double a, double b) {
  return op == HS__OP_MIN ? a < b : a > b;
}

/* Milli-units: sums are kept as integers so that adding and later
 * subtracting the same day is exact, whatever the order of operations.
 * llround (halves away from zero) without the library call: below 2^53
 * the fraction x - trunc(x) is exact, and from 2^53 x is whole; anything
 * beyond (or NaN) goes to llround itself. */
static inline int64_t to_milli(double v) {
  double x = v * 1000.0;
  if (!(fabs(x) < 0x1p62))
    return (int64_t)llround(x);
  int64_t t = (int64_t)x; /* toward zero */
  double f = x - (double)t;
  return t + (f >= 0.5) - (f <= -0.5);
}

/* Index (from start) of the first day >= `day`. */
static uint32_t lower_bound(const hs__series_state_t *st, int32_t day) {
  const hs__dent_t *d = st->d + st->start;
  uint32_t lo = 0, hi = st->n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (d[mid].day < day)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Makes room for one more entry at the end of the days (and values). */
static int reserve(hs__series_state_t *st) {
  if (st->start + st->n < st->cap)
    return 0;
  hs__dval_t *v = HS__V(st);
  if (st->start) { /* slide to the front */
    memmove(st->d, st->d + st->start, st->n * sizeof *st->d);
    if (v)
      memmove(v, v + st->start, st->n * sizeof *v);
    st->start = 0;
    return 0;
  }
  uint32_t cap = st->cap ? st->cap + (st->cap + 1) / 2 : 2; /* grows by half: little slack */
  hs__dent_t *d = hs_realloc(st->d, cap * (sizeof *d + (st->has_v ? sizeof(hs__dval_t) : 0)));
  if (!d)
    return HS_E_NOMEM;
  if (st->has_v) /* the values move up past the grown days */
    memmove(d + cap, d + st->cap, st->n * sizeof(hs__dval_t));
  st->d = d;
  st->cap = (uint16_t)cap;
  return 0;
}

/* The index (from start) of `day`'s entry, inserted empty if absent; -1
 * when out of memory. */
static int64_t entry_of(const hs__series_t *s, hs__series_state_t *st, int32_t day) {
  uint32_t i = st->n;
  if (i && st->d[st->start + i - 1].day >= day) {
    if (st->d[st->start + i - 1].day == day)
      return i - 1;
    i = lower_bound(st, day);
    if (st->d[st->start + i].day == day)
      return i;
  }
  if (reserve(st))
    return -1;
  hs__dent_t *d = st->d + st->start;
  if (i < st->n) /* else a new newest day: nothing moves */
    memmove(d + i + 1, d + i, (st->n - i) * sizeof *d);
  d[i] = (hs__dent_t){day, 0};
  hs__dval_t *v = HS__V(st);
  if (v) {
    v += st->start;
    if (i < st->n)
      memmove(v + i + 1, v + i, (st->n - i) * sizeof *v);
    if (s->op == HS__OP_SUM)
      v[i].sum = 0;
    else
      v[i].ext = NAN;
  }
  st->n++;
  return i;
}

void hs__view_recompute_ext(const hs_model_t *m, hs_account_t *a, uint32_t vi) {
  const hs__view_t *v = &m->views[vi];
  const hs__series_t *s = &m->series[v->series];
  const hs__series_state_t *st = &a->series[v->series];
  if (!(v->parts & HS__VP_EXT))
    return;
  hs__view_state_t vs;
  hs__view_load(m, a, vi, &vs);
  vs.ext = NAN;
  vs.ext_valid = true;
  const hs__dval_t *sv = HS__V(st);
  for (uint32_t i = st->head == INT32_MIN ? st->n
                                          : lower_bound(st, st->head - (int32_t)v->days + 1);
       sv && i < st->n; i++) {
    double e = sv[st->start + i].ext;
    if (!isnan(e) && (isnan(vs.ext) || better(s->op, e, vs.ext)))
      vs.ext = e;
  }
  hs__view_store(m, a, vi, &vs);
}

/* Adds a day's count, sum and extremum to every view of series `si` that
 * holds `day`, in place: only the parts each view keeps (see layout.h). */
static inline __attribute__((always_inline)) void views_add(const hs_model_t *m, hs_account_t *a,
                                                            uint32_t si, int32_t day, int64_t cnt,
                                                            int64_t sum, double ext) {
  const hs__series_state_t *st = &a->series[si];
  const uint8_t op = m->series[si].op;
  const int32_t head = st->head;
  const bool has_ext = !isnan(ext);
  const uint16_t *ids = m->series_views[si];
  const hs__view_t *views = m->views;
  int64_t *area = a->views;
  for (uint32_t k = 0, n = m->n_series_views[si]; k < n; k++) {
    const hs__view_t *v = &views[ids[k]];
    if (day <= head - (int32_t)v->days)
      continue;
    int64_t *p = area + v->slot;
    const uint8_t parts = v->parts;
    *p++ += cnt;
    if (parts & HS__VP_SUM)
      *p++ += sum;
    if (parts & HS__VP_SLOPE) {
      const int64_t age = head - day;
      *p++ += age * cnt;
      if (parts & HS__VP_SUM)
        *p++ += age * sum;
    }
    if ((parts & HS__VP_EXT) && has_ext && p[1]) {
      double e;
      memcpy(&e, p, sizeof e);
      if (isnan(e) || better(op, ext, e))
        memcpy(p, &ext, sizeof ext);
    }
  }
}

/* Adds to entry i (from start) of the days. */
static inline void put_at(const hs__series_t *s, hs__series_state_t *st, uint32_t i, int32_t cnt,
                          int64_t sum, double ext) {
  st->d[st->start + i].cnt += cnt;
  hs__dval_t *v = HS__V(st);
  if (v)
    v += st->start + i;
  if (v && s->op == HS__OP_SUM)
    v->sum += sum;
  else if (v && !isnan(ext) && (isnan(v->ext) || better(s->op, ext, v->ext)))
    v->ext = ext;
}

int hs__series_put(const hs__series_t *s, hs__series_state_t *st, int32_t day, int32_t cnt,
                   int64_t sum, double ext) {
  if (st->head == INT32_MIN || day > st->head || day <= st->head - (int32_t)s->days)
    return 0;
  int64_t i = entry_of(s, st, day);
  if (i < 0)
    return HS_E_NOMEM;
  put_at(s, st, (uint32_t)i, cnt, sum, ext);
  return 0;
}

/* hs__series_put for a day inside the series' days: in place when it is
 * the newest day held, as most events' days are. */
static inline int put_in(const hs__series_t *s, hs__series_state_t *st, int32_t day, int32_t cnt,
                         int64_t sum, double ext) {
  if (st->n && st->d[st->start + st->n - 1].day == day) {
    put_at(s, st, st->n - 1u, cnt, sum, ext);
    return 0;
  }
  return hs__series_put(s, st, day, cnt, sum, ext);
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

/* The keys a table of `cap` slots holds at most. */
static inline uint32_t keys_limit(uint32_t cap) {
  return cap >= HS__KEYS_SLOTS ? HS__KEYS_MAX : cap / 2;
}

int hs__series_put_key(const hs__series_t *s, hs__series_state_t *st, uint32_t hash, int32_t day) {
  if (hash == 0)
    hash = 1;
  int32_t min_day = st->head == INT32_MIN ? INT32_MIN : st->head - (int32_t)s->days + 1;
  if (st->n_keys + 1u > keys_limit(st->keys_cap)) {
    uint32_t cap = st->keys_cap ? st->keys_cap : 8;
    if (st->n_keys + 1u > keys_limit(cap))
      cap *= 2;
    if (cap > HS__KEYS_SLOTS) {
      cap = HS__KEYS_SLOTS; /* full: make room by forgetting expired keys */
    }
    int rc = keys_rehash(st, cap, min_day);
    if (rc)
      return rc;
    if (st->n_keys + 1u > keys_limit(st->keys_cap))
      return 1; /* saturated: the key is not tracked (see keys_forget) */
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

static int cmp_u32(const void *p, const void *q) {
  uint32_t a = *(const uint32_t *)p, b = *(const uint32_t *)q;
  return (a > b) - (a < b);
}

/* Makes room in a full distinct series: forgets the expired keys, then the
 * keys seen least recently (on their oldest day, the smallest hashes first)
 * until HS_MAX_DISTINCT remain, taking them out of the days and views. */
static int keys_forget(const hs_model_t *m, hs_account_t *a, uint32_t si) {
  const hs__series_t *s = &m->series[si];
  hs__series_state_t *st = &a->series[si];
  hs__dent_t *d = st->d + st->start;
  uint32_t held = 0;
  for (uint32_t i = 0; i < st->n; i++)
    held += (uint32_t)d[i].cnt;
  uint32_t drop = held > HS_MAX_DISTINCT ? held - HS_MAX_DISTINCT : 0;
  uint32_t whole = 0; /* days forgotten whole, oldest first */
  while (whole < st->n && (uint32_t)d[whole].cnt <= drop) {
    drop -= (uint32_t)d[whole].cnt;
    whole++;
  }
  int32_t cut = whole ? d[whole - 1].day : st->head - (int32_t)s->days;
  uint32_t part_thr = 0; /* on day `part`, keys with hash <= part_thr go */
  int32_t part = INT32_MIN;
  if (drop && whole < st->n) {
    part = d[whole].day;
    uint32_t *h = hs_malloc((size_t)d[whole].cnt * sizeof *h), k = 0;
    if (!h)
      return HS_E_NOMEM;
    for (uint32_t i = 0; i < st->keys_cap; i++)
      if (st->keys[i].hash && st->keys[i].day == part)
        h[k++] = st->keys[i].hash;
    qsort(h, k, sizeof *h, cmp_u32);
    drop = drop < k ? drop : k;
    part_thr = drop ? h[drop - 1] : 0;
    hs_free(h);
  }
  hs__dkey_t *old = st->keys;
  uint32_t cap = st->keys_cap;
  hs__dkey_t *nk = hs_calloc(cap, sizeof *nk);
  if (!nk)
    return HS_E_NOMEM;
  st->keys = nk;
  st->n_keys = 0;
  for (uint32_t i = 0; i < cap; i++) {
    const hs__dkey_t *k = &old[i];
    if (k->hash && k->day > cut && !(k->day == part && k->hash <= part_thr)) {
      *key_find(st, k->hash) = *k;
      st->n_keys++;
    }
  }
  hs_free(old);
  /* the forgotten keys leave their days and every view holding them */
  for (uint32_t i = 0; i < whole; i++)
    views_add(m, a, si, d[i].day, -d[i].cnt, 0, NAN);
  st->start = (uint16_t)(st->start + whole);
  st->n = (uint16_t)(st->n - whole);
  if (drop && st->n) {
    st->d[st->start].cnt -= (int32_t)drop;
    views_add(m, a, si, part, -(int64_t)drop, 0, NAN);
  }
  if (!st->n)
    st->start = 0;
  return 0;
}

int hs__series_add(const hs_model_t *m, hs_account_t *a, uint32_t si, const hs_event_t *ev) {
  const hs__series_t *s = &m->series[si];
  hs__series_state_t *st = &a->series[si];
  int32_t day = hs_day_of(ev->ts_ms);
  a->dirty_series |= hs__dirty_bit(si);
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
  /* "ever sent" and the data time count every accepted event, also one whose
     day has already left this series' ring: otherwise the answer would
     depend on whether it arrived before or after the events that moved the
     ring on */
  if (ev->ts_ms > st->last_ms)
    st->last_ms = ev->ts_ms;
  if (day > st->head || day <= st->head - (int32_t)s->days)
    return 0;
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
        uint32_t i = lower_bound(st, k->day);
        hs__dent_t *d = st->d + st->start;
        if (i < st->n && d[i].day == k->day && !--d[i].cnt) { /* no key's last day: dropped */
          memmove(d + i, d + i + 1, (st->n - i - 1) * sizeof *d);
          st->n--;
        }
        views_add(m, a, si, k->day, -1, 0, NAN);
      }
      k->day = day;
    } else {
      if (st->keys_cap >= HS__KEYS_SLOTS && st->n_keys + 1u > HS__KEYS_MAX) {
        int rc = keys_forget(m, a, si);
        if (rc)
          return rc;
      }
      int rc = hs__series_put_key(s, st, hash, day);
      if (rc)
        return rc < 0 ? rc : 0;
    }
    int rc = put_in(s, st, day, 1, 0, NAN);
    if (!rc)
      views_add(m, a, si, day, 1, 0, NAN);
    return rc;
  }
  int rc = put_in(s, st, day, 1, sum, ext);
  if (!rc)
    views_add(m, a, si, day, 1, sum, ext);
  return rc;
}

/* Takes the days leaving view `vi` as the head moves from `from` to `to`
 * out of its totals. Each day of advance ages every day in the window by
 * one (slopes); a day leaves when its age reaches the window. */
static void view_advance(const hs__series_t *s, const hs__series_state_t *st, const hs__view_t *v,
                         hs__view_state_t *vs, int32_t from, int32_t to) {
  int32_t pos = from;
  const hs__dval_t *sv = HS__V(st);
  uint32_t i = lower_bound(st, from - (int32_t)v->days + 1);
  for (; i < st->n; i++) {
    const hs__dent_t *e = &st->d[st->start + i];
    int32_t x = e->day + (int32_t)v->days; /* the day it leaves */
    if (x > to)
      break;
    int64_t c = e->cnt, sm = s->op == HS__OP_SUM ? sv[st->start + i].sum : 0;
    if (v->slope) {
      vs->s1_cnt += (int64_t)(x - pos) * vs->cnt - (int64_t)v->days * c;
      vs->s1_sum += (int64_t)(x - pos) * vs->sum - (int64_t)v->days * sm;
    }
    vs->cnt -= c;
    vs->sum -= sm;
    pos = x;
    if (sv && s->op != HS__OP_SUM && !isnan(sv[st->start + i].ext) &&
        sv[st->start + i].ext == vs->ext)
      vs->ext_valid = false;
  }
  if (v->slope) {
    vs->s1_cnt += (int64_t)(to - pos) * vs->cnt;
    vs->s1_sum += (int64_t)(to - pos) * vs->sum;
  }
}

/* Ages the slope sums of every view of series `si` by `days` days, no day
 * leaving: each day held is `days` older (view_advance without leavers). */
static void views_age(const hs_model_t *m, hs_account_t *a, uint32_t si, int32_t days) {
  for (uint32_t k = 0; k < m->n_series_views[si]; k++) {
    const hs__view_t *v = &m->views[m->series_views[si][k]];
    if (!(v->parts & HS__VP_SLOPE))
      continue;
    int64_t *p = a->views + v->slot;
    if (v->parts & HS__VP_SUM) {
      p[2] += (int64_t)days * p[0];
      p[3] += (int64_t)days * p[1];
    } else {
      p[1] += (int64_t)days * p[0];
    }
  }
}

/* Moves series `si` forward to `new_head` when it was never moved or some
 * of its days may leave its views (hs__series_advance). */
__attribute__((noinline)) static void series_move(const hs_model_t *m, hs_account_t *a, uint32_t si,
                                                  int32_t new_head) {
  const hs__series_t *s = &m->series[si];
  hs__series_state_t *st = &a->series[si];
  if (st->head == INT32_MIN || new_head - st->head >= (int32_t)s->days) {
    a->dirty_series |= hs__dirty_bit(si);
    st->start = st->n = 0;
    for (uint32_t k = 0; k < m->n_series_views[si]; k++)
      hs__view_clear(m, a, m->series_views[si][k]);
    st->head = new_head;
    return;
  }
  if (st->d[st->start].day + (int32_t)s->min_days > new_head) {
    /* no day leaves any view yet: only the slope sums move, each day held
       one day older (as view_advance takes it) */
    views_age(m, a, si, new_head - st->head);
    a->dirty_aged |= hs__dirty_bit(si);
    st->head = new_head;
    return;
  }
  a->dirty_series |= hs__dirty_bit(si); /* days leave, or the views age */
  bool recompute = false;
  for (uint32_t k = 0; k < m->n_series_views[si]; k++) {
    uint32_t vi = m->series_views[si][k];
    hs__view_state_t vs;
    hs__view_load(m, a, vi, &vs);
    view_advance(s, st, &m->views[vi], &vs, st->head, new_head);
    hs__view_store(m, a, vi, &vs);
    recompute |= !vs.ext_valid;
  }
  st->head = new_head;
  uint32_t gone = lower_bound(st, new_head - (int32_t)s->days + 1);
  st->start += gone;
  st->n -= gone;
  if (!st->n)
    st->start = 0;
  for (uint32_t k = 0; recompute && k < m->n_series_views[si]; k++) {
    hs__view_state_t vs;
    hs__view_load(m, a, m->series_views[si][k], &vs);
    if (!vs.ext_valid)
      hs__view_recompute_ext(m, a, m->series_views[si][k]);
  }
}

void hs__series_advance(const hs_model_t *m, hs_account_t *a, int32_t new_head) {
  /* most series of an account hold nothing, or no day that leaves a view
     yet and no slope: only their head moves */
  const hs__series_t *s = m->series;
  hs__series_state_t *st = a->series;
  for (uint32_t si = 0, n = m->n_series; si < n; si++, s++, st++) {
    if (st->head != INT32_MIN &&
        (!st->n || (!s->slope && st->d[st->start].day + (int32_t)s->min_days > new_head)))
      st->head = new_head; /* nothing held (so nothing in its views), or nothing leaves */
    else
      series_move(m, a, si, new_head);
  }
}

void hs__account_rebuild_views(const hs_model_t *m, hs_account_t *a) {
  for (uint32_t vi = 0; vi < m->n_views; vi++) {
    const hs__view_t *v = &m->views[vi];
    const hs__series_t *s = &m->series[v->series];
    const hs__series_state_t *st = &a->series[v->series];
    hs__view_state_t vs = {0};
    vs.ext = NAN;
    vs.ext_valid = true;
    for (uint32_t i = st->head == INT32_MIN ? st->n
                                            : lower_bound(st, st->head - (int32_t)v->days + 1);
         i < st->n; i++) {
      const hs__dent_t *e = &st->d[st->start + i];
      int64_t age = st->head - e->day, c = e->cnt;
      int64_t sm = s->op == HS__OP_SUM ? HS__V(st)[st->start + i].sum : 0;
      vs.cnt += c;
      vs.sum += sm;
      if (v->slope) {
        vs.s1_cnt += age * c;
        vs.s1_sum += age * sm;
      }
    }
    hs__view_store(m, a, vi, &vs);
    hs__view_recompute_ext(m, a, vi);
  }
}
