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

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* The packer's output: a buffer, and whether a write failed (out of
 * memory), after which the encoding is void. */
typedef struct writer_s {
  hs_buf_t *b;
  bool failed;
} writer_t;

/* Room for n more bytes at the end of the buffer: where they go, or NULL
 * when out of memory (the encoding then fails). */
static unsigned char *room_in(writer_t *w, size_t n) {
  if (w->b->cap - w->b->len <= n && (w->failed || hs_buf_reserve(w->b, n))) {
    w->failed = true;
    return NULL;
  }
  return (unsigned char *)w->b->data + w->b->len;
}

/* The packer's writer: each item it packs, one call each. */
static int buf_write(void *data, const char *p, size_t n) {
  writer_t *w = data;
  unsigned char *at = room_in(w, n);
  if (!at)
    return -1;
  if (n)
    memcpy(at, p, n);
  w->b->len += n;
  return 0;
}

/* Room for a loop's items written in place at once (mp_put.h); wrote()
 * takes the end reached. */
static unsigned char *room(msgpack_packer *pk, size_t n) {
  return room_in(pk->data, n);
}

static void wrote(msgpack_packer *pk, const unsigned char *end) {
  writer_t *w = pk->data;
  w->b->len = (size_t)(end - (const unsigned char *)w->b->data);
}

static void pk_str(msgpack_packer *pk, const char *s) {
  if (!s) {
    msgpack_pack_nil(pk);
    return;
  }
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static void pk_time(msgpack_packer *pk, int64_t v) {
  if (v == INT64_MIN)
    msgpack_pack_nil(pk);
  else
    msgpack_pack_int64(pk, v);
}

static void pk_key(msgpack_packer *pk, const char *k) {
  pk_str(pk, k);
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
static void pk_header(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  pk_key(pk, "v");
  msgpack_pack_int(pk, STATE_VERSION);
  pk_key(pk, "id");
  msgpack_pack_str(pk, a->id_len);
  msgpack_pack_str_body(pk, a->id, a->id_len);
  pk_key(pk, "time");
  msgpack_pack_array(pk, 3);
  pk_time(pk, a->first_ms);
  pk_time(pk, a->clock_ms);
  pk_time(pk, a->last_eval_ms);
  pk_key(pk, "counts");
  msgpack_pack_array(pk, 2);
  msgpack_pack_uint64(pk, a->n_events);
  msgpack_pack_uint64(pk, a->n_late);
}

/* The attributes, custom ones sorted by key, and when each was set. */
static void pk_attrs(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  pk_key(pk, "attrs");
  msgpack_pack_array(pk, 9);
  pk_str(pk, a->segment);
  pk_str(pk, a->stage);
  pk_str(pk, a->vertical);
  if (isnan(a->licenses))
    msgpack_pack_nil(pk);
  else
    msgpack_pack_double(pk, a->licenses);
  pk_time(pk, a->contract_start_ms);
  pk_time(pk, a->renewal_ms);
  pk_time(pk, a->attrs_ms);
  /* custom attributes by key: canonical whatever the order they came in */
  uint32_t corder[HS_MAX_ATTRS];
  sort_by(corder, a->n_custom, a->custom_key);
  msgpack_pack_array(pk, a->n_custom * 2);
  for (uint32_t i = 0; i < a->n_custom; i++) {
    pk_str(pk, a->custom_key[corder[i]]);
    pk_str(pk, a->custom_val[corder[i]]);
  }
  /* since format 1 too (older builds read the first 8 and ignore this): the
     time each attribute was set at, the custom ones in the order above */
  msgpack_pack_array(pk, HS__ATTR_FIELDS + a->n_custom);
  for (uint32_t i = 0; i < HS__ATTR_FIELDS; i++)
    pk_time(pk, a->attr_ms[i]);
  for (uint32_t i = 0; i < a->n_custom; i++)
    pk_time(pk, a->custom_ms[corder[i]]);
}

/* The last outcome and its time. */
static void pk_outcome(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  (void)m;
  pk_key(pk, "outcome");
  msgpack_pack_array(pk, 2);
  pk_str(pk, a->outcome);
  pk_time(pk, a->outcome_ms);
}

/* Overrides by target (one each), the score first: canonical; a sixth
 * element (the override's own time) is ignored by older builds, which
 * also never apply a lifted pin (expiry not after its time). */
static void pk_overrides(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "overrides");
  msgpack_pack_array(pk, a->n_overrides);
  for (int target = -1; target < (int)m->n_metrics; target++) {
    for (uint32_t i = 0; i < a->n_overrides; i++) {
      const hs__override_t *o = &a->overrides[i];
      if (o->metric != target)
        continue;
      msgpack_pack_array(pk, 6);
      pk_str(pk, o->metric < 0 ? "score" : m->metrics[o->metric].id);
      msgpack_pack_double(pk, o->value);
      msgpack_pack_int64(pk, o->expires_ms);
      pk_str(pk, o->reason);
      pk_str(pk, o->author);
      pk_time(pk, o->ts_ms);
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
static void pk_keys(msgpack_packer *pk, const hs__series_t *s, const hs__series_state_t *st,
                    uint32_t n_keys) {
  uint64_t *v = n_keys ? hs_malloc(n_keys * sizeof *v) : NULL;
  if (n_keys && !v) {
    ((writer_t *)pk->data)->failed = true;
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
  msgpack_pack_array(pk, n * 2);
  unsigned char *p = room(pk, (size_t)n * 2 * HS_MP_INT_MAX);
  for (uint32_t i = 0; p && i < n; i++) {
    p = hs_mp_int(p, (uint32_t)(v[i] >> 32));
    p = hs_mp_int(p, (int32_t)(uint32_t)v[i]);
  }
  if (p)
    wrote(pk, p);
  hs_free(v);
}

/* Every series: its head, last event time, the days with data and its
 * distinct keys. */
static void pk_series(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "series");
  msgpack_pack_array(pk, m->n_series);
  for (uint32_t si = 0; si < m->n_series; si++) {
    const hs__series_t *s = &m->series[si];
    const hs__series_state_t *st = &a->series[si];
    uint32_t n_days = 0, n_keys = 0;
    for (uint32_t i = 0; i < st->n; i++)
      n_days += !day_empty(s, st, i);
    if (st->head != INT32_MIN)
      for (uint32_t k = 0; k < st->keys_cap; k++)
        n_keys += st->keys[k].hash && st->keys[k].day > st->head - (int32_t)s->days;
    msgpack_pack_array(pk, 5);
    msgpack_pack_uint64(pk, s->key);
    if (st->head == INT32_MIN)
      msgpack_pack_nil(pk);
    else
      msgpack_pack_int32(pk, st->head);
    pk_time(pk, st->last_ms);
    msgpack_pack_array(pk, n_days);
    unsigned char *p = room(pk, (size_t)n_days * (1 + 4 * HS_MP_INT_MAX));
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
      wrote(pk, p);
    pk_keys(pk, s, st, n_keys);
  }
}

/* The scalars (days_since, latest) by key. */
static void pk_scalars(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "scalars");
  msgpack_pack_array(pk, m->n_scalars);
  for (uint32_t i = 0; i < m->n_scalars; i++) {
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint64(pk, m->scalars[i].key);
    pk_time(pk, a->scalars[i].ts);
    msgpack_pack_double(pk, a->scalars[i].value);
  }
}

/* The daily score history: the days that have a score. */
static void pk_history(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "history");
  msgpack_pack_array(pk, 2);
  if (a->hist_head == INT32_MIN)
    msgpack_pack_nil(pk);
  else
    msgpack_pack_int32(pk, a->hist_head);
  uint32_t n_hist = 0;
  for (uint32_t k = 0; a->hist_head != INT32_MIN && k < m->history_days; k++)
    n_hist += !isnan(a->hist[k]);
  msgpack_pack_array(pk, n_hist * 2);
  int32_t first = n_hist ? a->hist_head - (int32_t)m->history_days + 1 : 0; /* head is set */
  unsigned char *p = room(pk, (size_t)n_hist * (HS_MP_INT_MAX + 5));
  for (int32_t d = first; p && n_hist && d <= a->hist_head; d++) {
    float v = a->hist[hs__series_slot(d, m->history_days)];
    if (isnan(v))
      continue;
    p = hs_mp_int(p, d);
    p = hs_mp_float(p, v);
  }
  if (p)
    wrote(pk, p);
}

/* Each alert rule's state by key. */
static void pk_rules(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "rules");
  msgpack_pack_array(pk, m->n_rules);
  for (uint32_t i = 0; i < m->n_rules; i++) {
    const hs__rule_state_t *r = &a->rules[i];
    msgpack_pack_array(pk, 5);
    msgpack_pack_uint64(pk, m->rules[i].key);
    if (r->open)
      msgpack_pack_true(pk);
    else
      msgpack_pack_false(pk);
    pk_time(pk, r->episode_start);
    pk_time(pk, r->pending_since);
    pk_time(pk, r->cooldown_until);
  }
}

/* The previous evaluation: score, band, profile and contributions. */
static void pk_prev(msgpack_packer *pk, const hs_model_t *m, const hs_account_t *a) {
  pk_key(pk, "prev");
  msgpack_pack_array(pk, 5);
  if (a->has_score)
    msgpack_pack_true(pk);
  else
    msgpack_pack_false(pk);
  msgpack_pack_double(pk, a->score);
  msgpack_pack_int(pk, a->band);
  pk_str(pk, a->profile >= 0 ? m->profiles[a->profile].name : NULL);
  uint32_t n_contrib = a->profile >= 0 ? m->profiles[a->profile].n_refs : 0;
  float contrib[HS_MAX_PROFILE_METRICS];
  hs__contrib_last(m, a, contrib); /* as the evaluation's explanation gives them */
  msgpack_pack_array(pk, n_contrib);
  for (uint32_t i = 0; i < n_contrib; i++)
    msgpack_pack_float(pk, contrib[i]);
}

/* Since format 1 too (older builds skip it): the event ids remembered, by
 * day: [day, bin of their 64-bit hashes big-endian ascending, ...]. */
static void pk_ids(msgpack_packer *pk, const hs__eid_t *ids, uint32_t n_ids) {
  pk_key(pk, "ids");
  uint32_t n_days = 0;
  for (uint32_t i = 0; i < n_ids; i++)
    n_days += i == 0 || ids[i].day != ids[i - 1].day;
  msgpack_pack_array(pk, n_days * 2);
  for (uint32_t i = 0, j; i < n_ids; i = j) {
    for (j = i; j < n_ids && ids[j].day == ids[i].day; j++)
      ;
    msgpack_pack_int32(pk, ids[i].day);
    msgpack_pack_bin(pk, (size_t)(j - i) * 8);
    unsigned char *p = room(pk, (size_t)(j - i) * 8);
    for (uint32_t k = i; p && k < j; k++)
      p = hs_mp_be(p, (uint64_t)ids[k].hi << 32 | ids[k].lo, 8);
    if (p)
      wrote(pk, p);
  }
}

int hs_account_encode(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out) {
  size_t before = out->len;
  writer_t w = {out, false};
  msgpack_packer pk_, *pk = &pk_;
  msgpack_packer_init(pk, &w, buf_write);
  hs__eid_t *ids = NULL;
  uint32_t n_ids = 0;
  if (hs__eid_sorted(m, a, &ids, &n_ids))
    return HS_E_NOMEM;
  msgpack_pack_map(pk, 13);
  pk_header(pk, m, a);
  pk_attrs(pk, m, a);
  pk_outcome(pk, m, a);
  pk_overrides(pk, m, a);
  pk_series(pk, m, a);
  pk_scalars(pk, m, a);
  pk_history(pk, m, a);
  pk_rules(pk, m, a);
  pk_prev(pk, m, a);
  pk_ids(pk, ids, n_ids);
  hs_free(ids);
  if (w.failed) /* nothing of it is kept: a state cut short is no state */
    out->len = before;
  if (out->data)
    out->data[out->len] = 0; /* as hs_buf_append leaves it */
  return w.failed ? HS_E_NOMEM : 0;
}
