/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An account's state as versioned, canonical msgpack (docs/state.md):
 * writing it. Aggregates are keyed by what they count, not by their
 * position in the model, so a state written under one configuration
 * decodes under another (state_decode.c). Canonical: the same state is the
 * same bytes whatever order its parts came in. */
#include "../core/layout.h"

#include "healthscore/state.h"

#include "internal.h"
#include "mp_put.h"

#include <stdlib.h>
#include <string.h>

/* The encoding's output: a buffer, and whether a reservation failed (out
 * of memory), after which the encoding is void. Each item is written in
 * place (mp_put.h) after one reservation, for one item or a whole loop. */
typedef struct writer_s {
  hs_buf_t *b;
  bool failed;
} writer_t;

/* Room for n more bytes at the end of the buffer: where they go, or NULL
 * when out of memory (the encoding then fails). wrote() takes the end
 * reached. */
static inline unsigned char *room(writer_t *w, size_t n) {
  if (w->b->cap - w->b->len <= n && (w->failed || hs_buf_reserve(w->b, n))) {
    w->failed = true;
    return NULL;
  }
  return (unsigned char *)w->b->data + w->b->len;
}

static inline void wrote(writer_t *w, const unsigned char *end) {
  w->b->len = (size_t)(end - (const unsigned char *)w->b->data);
}

/* One item each. */
static void put_int(writer_t *w, int64_t v) {
  unsigned char *p = room(w, HS_MP_INT_MAX);
  if (p)
    wrote(w, hs_mp_int(p, v));
}

static void put_uint(writer_t *w, uint64_t v) {
  unsigned char *p = room(w, HS_MP_INT_MAX);
  if (p)
    wrote(w, hs_mp_uint(p, v));
}

static void put_double(writer_t *w, double v) {
  unsigned char *p = room(w, HS_MP_INT_MAX);
  if (p)
    wrote(w, hs_mp_double(p, v));
}

static void put_nil(writer_t *w) {
  unsigned char *p = room(w, 1);
  if (p)
    wrote(w, hs_mp_nil(p));
}

static void put_bool(writer_t *w, bool b) {
  unsigned char *p = room(w, 1);
  if (p)
    wrote(w, hs_mp_bool(p, b));
}

static void put_array(writer_t *w, uint32_t n) {
  unsigned char *p = room(w, HS_MP_HEAD_MAX);
  if (p)
    wrote(w, hs_mp_array(p, n));
}

/* n bytes at s as a string. */
static void put_strn(writer_t *w, const char *s, size_t n) {
  unsigned char *p = room(w, HS_MP_HEAD_MAX + n);
  if (!p)
    return;
  p = hs_mp_str(p, (uint32_t)n);
  memcpy(p, s, n);
  wrote(w, p + n);
}

/* A C string, or nil for NULL. */
static void put_str(writer_t *w, const char *s) {
  if (s)
    put_strn(w, s, strlen(s));
  else
    put_nil(w);
}

static void put_time(writer_t *w, int64_t v) {
  if (v == INT64_MIN)
    put_nil(w);
  else
    put_int(w, v);
}

/* order[0..n) = the indexes of keys[0..n) in byte order of the keys. */
static void sort_by(uint32_t *order, uint32_t n, char *const *keys) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t j = i;
    for (; j > 0 && strcmp(keys[order[j - 1]], keys[i]) > 0; j--)
      order[j] = order[j - 1];
    order[j] = i;
  }
}

/* True when entry i of a series holds nothing (a distinct key moved on). */
static bool day_empty(const hs__series_t *s, const hs__series_state_t *st, uint32_t i) {
  const hs__dval_t *v = HS__V(st);
  if (v)
    v += st->start + i;
  return !st->d[st->start + i].cnt && (!v || (s->op == HS__OP_SUM ? !v->sum : isnan(v->ext)));
}

/* Format version, account id, its times and counts. */
static void write_header(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  put_str(w, "v");
  put_int(w, STATE_VERSION);
  put_str(w, "id");
  put_strn(w, a->id, a->id_len);
  put_str(w, "time");
  put_array(w, 3);
  put_time(w, a->first_ms);
  put_time(w, a->clock_ms);
  put_time(w, a->last_eval_ms);
  put_str(w, "counts");
  put_array(w, 2);
  put_uint(w, a->n_events);
  put_uint(w, a->n_late);
}

/* The attributes, custom ones sorted by key, and when each was set. */
static void write_attrs(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  put_str(w, "attrs");
  put_array(w, 9);
  put_str(w, a->segment);
  put_str(w, a->stage);
  put_str(w, a->vertical);
  if (isnan(a->licenses))
    put_nil(w);
  else
    put_double(w, a->licenses);
  put_time(w, a->contract_start_ms);
  put_time(w, a->renewal_ms);
  put_time(w, a->attrs_ms);
  /* custom attributes by key: canonical whatever the order they came in */
  uint32_t corder[HS_MAX_ATTRS];
  sort_by(corder, a->n_custom, a->custom_key);
  put_array(w, a->n_custom * 2);
  for (uint32_t i = 0; i < a->n_custom; i++) {
    put_str(w, a->custom_key[corder[i]]);
    put_str(w, a->custom_val[corder[i]]);
  }
  /* since format 1 too (older builds read the first 8 and ignore this): the
     time each attribute was set at, the custom ones in the order above */
  put_array(w, HS__ATTR_FIELDS + a->n_custom);
  for (uint32_t i = 0; i < HS__ATTR_FIELDS; i++)
    put_time(w, a->attr_ms[i]);
  for (uint32_t i = 0; i < a->n_custom; i++)
    put_time(w, a->custom_ms[corder[i]]);
}

/* The last outcome and its time. */
static void write_outcome(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  put_str(w, "outcome");
  put_array(w, 2);
  put_str(w, a->outcome);
  put_time(w, a->outcome_ms);
}

/* Overrides by target (one each), the score first: canonical; a sixth
 * element (the override's own time) is ignored by older builds, which
 * also never apply a lifted pin (expiry not after its time). */
static void write_overrides(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "overrides");
  put_array(w, a->n_overrides);
  for (int target = -1; target < (int)m->n_metrics; target++) {
    for (uint32_t i = 0; i < a->n_overrides; i++) {
      const hs__override_t *o = &a->overrides[i];
      if (o->metric != target)
        continue;
      put_array(w, 6);
      put_str(w, o->metric < 0 ? "score" : m->metrics[o->metric].id);
      put_double(w, o->value);
      put_int(w, o->expires_ms);
      put_str(w, o->reason);
      put_str(w, o->author);
      put_time(w, o->ts_ms);
    }
  }
}

static int by_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/* A distinct series' keys still in its windows (n_keys of them), sorted by
 * hash: canonical whatever the table's layout. Sorted, not selected one at
 * a time: up to 5,120 keys in 8,192 slots. */
static void write_keys(writer_t *w, const hs__series_t *s, const hs__series_state_t *st,
                       uint32_t n_keys) {
  uint64_t *v = n_keys ? hs_malloc(n_keys * sizeof *v) : NULL;
  if (n_keys && !v) {
    w->failed = true;
    return;
  }
  uint32_t n = 0;
  for (uint32_t k = 0; k < st->keys_cap && n < n_keys; k++) {
    const hs__dkey_t *dk = &st->keys[k];
    if (dk->hash && dk->day > st->head - (int32_t)s->days)
      v[n++] = (uint64_t)dk->hash << 32 | (uint32_t)dk->day; /* hashes are unique */
  }
  if (n > 1)
    qsort(v, n, sizeof *v, by_u64);
  put_array(w, n * 2);
  unsigned char *p = room(w, (size_t)n * 2 * HS_MP_INT_MAX);
  for (uint32_t i = 0; p && i < n; i++) {
    p = hs_mp_int(p, (uint32_t)(v[i] >> 32));
    p = hs_mp_int(p, (int32_t)(uint32_t)v[i]);
  }
  if (p)
    wrote(w, p);
  hs_free(v);
}

/* Every series: its head, last event time, the days with data and its
 * distinct keys. */
static void write_series(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "series");
  put_array(w, m->n_series);
  for (uint32_t si = 0; si < m->n_series; si++) {
    const hs__series_t *s = &m->series[si];
    const hs__series_state_t *st = &a->series[si];
    uint32_t n_days = 0, n_keys = 0;
    for (uint32_t i = 0; i < st->n; i++)
      n_days += !day_empty(s, st, i);
    if (st->head != INT32_MIN)
      for (uint32_t k = 0; k < st->keys_cap; k++)
        n_keys += st->keys[k].hash && st->keys[k].day > st->head - (int32_t)s->days;
    put_array(w, 5);
    put_uint(w, s->key);
    if (st->head == INT32_MIN)
      put_nil(w);
    else
      put_int(w, st->head);
    put_time(w, st->last_ms);
    put_array(w, n_days);
    unsigned char *p = room(w, (size_t)n_days * (1 + 4 * HS_MP_INT_MAX));
    const hs__dval_t *v = HS__V(st);
    for (uint32_t i = 0; p && i < st->n; i++) {
      if (day_empty(s, st, i))
        continue;
      const hs__dent_t *e = &st->d[st->start + i];
      p = hs_mp_fixarray(p, 4);
      p = hs_mp_int(p, e->day);
      p = hs_mp_int(p, e->cnt);
      p = hs_mp_int(p, s->op == HS__OP_SUM ? v[st->start + i].sum : 0);
      if (s->op == HS__OP_SUM || !v || isnan(v[st->start + i].ext))
        p = hs_mp_nil(p);
      else
        p = hs_mp_double(p, v[st->start + i].ext);
    }
    if (p)
      wrote(w, p);
    write_keys(w, s, st, n_keys);
  }
}

/* The scalars (days_since, latest) by key. */
static void write_scalars(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "scalars");
  put_array(w, m->n_scalars);
  for (uint32_t i = 0; i < m->n_scalars; i++) {
    put_array(w, 3);
    put_uint(w, m->scalars[i].key);
    put_time(w, a->scalars[i].ts);
    put_double(w, a->scalars[i].value);
  }
}

/* The daily score history: the days that have a score. */
static void write_history(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "history");
  put_array(w, 2);
  if (a->hist_head == INT32_MIN)
    put_nil(w);
  else
    put_int(w, a->hist_head);
  uint32_t n_hist = 0;
  for (uint32_t k = 0; a->hist_head != INT32_MIN && k < m->history_days; k++)
    n_hist += !isnan(a->hist[k]);
  put_array(w, n_hist * 2);
  int32_t first = n_hist ? a->hist_head - (int32_t)m->history_days + 1 : 0; /* head is set */
  unsigned char *p = room(w, (size_t)n_hist * (HS_MP_INT_MAX + 5));
  for (int32_t d = first; p && n_hist && d <= a->hist_head; d++) {
    float v = a->hist[hs__series_slot(d, m->history_days)];
    if (isnan(v))
      continue;
    p = hs_mp_int(p, d);
    p = hs_mp_float(p, v);
  }
  if (p)
    wrote(w, p);
}

/* Each alert rule's state by key. */
static void write_rules(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "rules");
  put_array(w, m->n_rules);
  for (uint32_t i = 0; i < m->n_rules; i++) {
    const hs__rule_state_t *r = &a->rules[i];
    put_array(w, 5);
    put_uint(w, m->rules[i].key);
    put_bool(w, r->open);
    put_time(w, r->episode_start);
    put_time(w, r->pending_since);
    put_time(w, r->cooldown_until);
  }
}

/* The previous evaluation: score, band, profile and contributions. */
static void write_prev(writer_t *w, const hs_model_t *m, const hs_account_t *a) {
  put_str(w, "prev");
  put_array(w, 5);
  put_bool(w, a->has_score);
  put_double(w, a->score);
  put_int(w, a->band);
  put_str(w, a->profile >= 0 ? m->profiles[a->profile].name : NULL);
  uint32_t n_contrib = a->profile >= 0 ? m->profiles[a->profile].n_refs : 0;
  float contrib[HS_MAX_PROFILE_METRICS];
  hs__contrib_last(m, a, contrib); /* as the evaluation's explanation gives them */
  put_array(w, n_contrib);
  unsigned char *p = room(w, (size_t)n_contrib * 5);
  for (uint32_t i = 0; p && i < n_contrib; i++)
    p = hs_mp_float(p, contrib[i]);
  if (p)
    wrote(w, p);
}

/* Since format 1 too (older builds skip it): the event ids remembered, by
 * day: [day, bin of their 64-bit hashes big-endian ascending, ...]. */
static void write_ids(writer_t *w, const hs__eid_t *ids, uint32_t n_ids) {
  put_str(w, "ids");
  uint32_t n_days = 0;
  for (uint32_t i = 0; i < n_ids; i++)
    n_days += i == 0 || ids[i].day != ids[i - 1].day;
  put_array(w, n_days * 2);
  for (uint32_t i = 0, j; i < n_ids; i = j) {
    for (j = i; j < n_ids && ids[j].day == ids[i].day; j++)
      ;
    put_int(w, ids[i].day);
    unsigned char *p = room(w, HS_MP_HEAD_MAX + (size_t)(j - i) * 8);
    if (p)
      p = hs_mp_bin(p, (j - i) * 8);
    for (uint32_t k = i; p && k < j; k++)
      p = hs_mp_be(p, (uint64_t)ids[k].hi << 32 | ids[k].lo, 8);
    if (p)
      wrote(w, p);
  }
}

int hs_account_encode(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out) {
  size_t before = out->len;
  writer_t w_ = {out, false}, *w = &w_;
  hs__eid_t *ids = NULL;
  uint32_t n_ids = 0;
  if (hs__eid_sorted(m, a, &ids, &n_ids))
    return HS_E_NOMEM;
  unsigned char *p = room(w, 1);
  if (p)
    wrote(w, hs_mp_map(p, 13));
  write_header(w, m, a);
  write_attrs(w, m, a);
  write_outcome(w, m, a);
  write_overrides(w, m, a);
  write_series(w, m, a);
  write_scalars(w, m, a);
  write_history(w, m, a);
  write_rules(w, m, a);
  write_prev(w, m, a);
  write_ids(w, ids, n_ids);
  hs_free(ids);
  if (w->failed) /* nothing of it is kept: a state cut short is no state */
    out->len = before;
  if (out->data)
    out->data[out->len] = 0; /* as hs_buf_append leaves it */
  return w->failed ? HS_E_NOMEM : 0;
}
