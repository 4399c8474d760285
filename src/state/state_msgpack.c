/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An account's state as versioned, canonical msgpack (docs/state.md).
 * Aggregates are keyed by what they count, not by their position in the
 * model, so a state written under one configuration decodes under another:
 * what the new model lacks is dropped, what it adds starts empty. Views are
 * derived and rebuilt after decoding. */
#include "../core/layout.h"

#include "healthscore/state.h"

#include "healthscore/codec.h"
#include "healthscore/time.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 1

/* The packer's output: a buffer, and whether a write failed (out of
 * memory), after which the encoding is void. */
typedef struct writer_s {
  hs_buf_t *b;
  bool failed;
} writer_t;

static int buf_write(void *data, const char *p, size_t n) {
  writer_t *w = data;
  hs_buf_t *b = w->b;
  if (b->cap - b->len <= n && (w->failed || hs_buf_reserve(b, n))) {
    w->failed = true;
    return -1;
  }
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
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
  qsort(v, n, sizeof *v, by_u64);
  msgpack_pack_array(pk, n * 2);
  for (uint32_t i = 0; i < n; i++) {
    msgpack_pack_uint32(pk, (uint32_t)(v[i] >> 32));
    msgpack_pack_int32(pk, (int32_t)(uint32_t)v[i]);
  }
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
    for (uint32_t i = 0; i < st->n; i++) {
      if (day_empty(s, st, i))
        continue;
      const hs__dent_t *e = &st->d[st->start + i];
      msgpack_pack_array(pk, 4);
      msgpack_pack_int32(pk, e->day);
      msgpack_pack_int32(pk, e->cnt);
      const hs__dval_t *v = HS__V(st);
      msgpack_pack_int64(pk, s->op == HS__OP_SUM ? v[st->start + i].sum : 0);
      if (s->op == HS__OP_SUM || !v || isnan(v[st->start + i].ext))
        msgpack_pack_nil(pk);
      else
        msgpack_pack_double(pk, v[st->start + i].ext);
    }
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
  for (int32_t d = first; n_hist && d <= a->hist_head; d++) {
    float v = a->hist[hs__series_slot(d, m->history_days)];
    if (isnan(v))
      continue;
    msgpack_pack_int32(pk, d);
    msgpack_pack_float(pk, v);
  }
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
    for (uint32_t k = i; k < j; k++) {
      unsigned char b[8];
      uint64_t h = (uint64_t)ids[k].hi << 32 | ids[k].lo;
      for (int x = 7; x >= 0; x--, h >>= 8)
        b[x] = (unsigned char)h;
      msgpack_pack_bin_body(pk, b, 8);
    }
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

/* ---- decoding ---------------------------------------------------------- */

typedef struct dec_s {
  const hs_model_t *m;
  hs_account_t *a;
  hs_err_t *err;
} dec_t;

static bool is_int(const msgpack_object *o) {
  return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static int64_t as_i64(const msgpack_object *o, int64_t dflt) {
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
    return o->via.u64 > (uint64_t)INT64_MAX ? dflt : (int64_t)o->via.u64;
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
    return o->via.i64;
  return dflt;
}

static uint64_t as_u64(const msgpack_object *o) {
  return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : (uint64_t)as_i64(o, 0);
}

static double as_f64(const msgpack_object *o, double dflt) {
  if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
    return o->via.f64;
  if (is_int(o))
    return (double)as_i64(o, 0);
  return dflt;
}

static bool as_bool(const msgpack_object *o) {
  return o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

/* A copy of a string object, or NULL for nil/other (sets *nomem on failure). */
static char *as_str(const msgpack_object *o, bool *nomem) {
  if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > 4096)
    return NULL;
  char *s = hs_strndup(o->via.str.ptr, o->via.str.size);
  if (!s)
    *nomem = true;
  return s;
}

static const msgpack_object *arr(const msgpack_object *o, uint32_t min) {
  return o && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size >= min ? o : NULL;
}

#define AT(o, i) (&(o)->via.array.ptr[i])

static int decode_series(dec_t *d, const msgpack_object *list) {
  const hs_model_t *m = d->m;
  hs_account_t *a = d->a;
  for (uint32_t i = 0; i < list->via.array.size; i++) {
    const msgpack_object *e = arr(AT(list, i), 5);
    if (!e)
      continue;
    uint64_t key = as_u64(AT(e, 0));
    for (uint32_t si = 0; si < m->n_series; si++) {
      const hs__series_t *s = &m->series[si];
      hs__series_state_t *st = &a->series[si];
      if (s->key != key)
        continue;
      st->head = AT(e, 1)->type == MSGPACK_OBJECT_NIL ? INT32_MIN : (int32_t)as_i64(AT(e, 1), 0);
      st->last_ms = AT(e, 2)->type == MSGPACK_OBJECT_NIL ? INT64_MIN : as_i64(AT(e, 2), 0);
      const msgpack_object *days = arr(AT(e, 3), 0);
      for (uint32_t k = 0; days && k < days->via.array.size; k++) {
        const msgpack_object *dd = arr(AT(days, k), 4);
        if (dd &&
            hs__series_put(s, st, (int32_t)as_i64(AT(dd, 0), 0), (int32_t)as_i64(AT(dd, 1), 0),
                           as_i64(AT(dd, 2), 0), as_f64(AT(dd, 3), NAN)))
          return HS_E_NOMEM;
      }
      const msgpack_object *keys = arr(AT(e, 4), 0);
      for (uint32_t k = 0; s->op == HS__OP_DISTINCT && keys && k + 1 < keys->via.array.size;
           k += 2) {
        int32_t day = (int32_t)as_i64(AT(keys, k + 1), 0);
        if (st->head == INT32_MIN || day <= st->head - (int32_t)s->days || day > st->head)
          continue;
        if (hs__series_put_key(s, st, (uint32_t)as_u64(AT(keys, k)), day) < 0)
          return HS_E_NOMEM;
      }
    }
  }
  return 0;
}

/* The "attrs" entry: the attributes, custom ones included, and the time
 * each was set at. Sets *nomem when a string or array did not fit. */
static void decode_attrs(hs_account_t *a, const msgpack_object *e, bool *nomem) {
  a->segment = as_str(AT(e, 0), nomem);
  a->stage = as_str(AT(e, 1), nomem);
  a->vertical = as_str(AT(e, 2), nomem);
  a->licenses = as_f64(AT(e, 3), NAN);
  a->contract_start_ms = as_i64(AT(e, 4), INT64_MIN);
  a->renewal_ms = as_i64(AT(e, 5), INT64_MIN);
  a->attrs_ms = as_i64(AT(e, 6), INT64_MIN);
  /* the time each attribute was set at; a state without them (written
     before they were kept) has every set attribute at the latest
     account event */
  const msgpack_object *times = e->via.array.size > 8 ? arr(AT(e, 8), 0) : NULL;
  uint32_t n_times = times ? times->via.array.size : 0;
  bool set[HS__ATTR_FIELDS] = {a->segment,
                               a->stage,
                               a->vertical,
                               !isnan(a->licenses),
                               a->contract_start_ms != INT64_MIN,
                               a->renewal_ms != INT64_MIN};
  for (uint32_t j = 0; j < HS__ATTR_FIELDS; j++)
    a->attr_ms[j] = j < n_times ? as_i64(AT(times, j), INT64_MIN)
                    : set[j]    ? a->attrs_ms
                                : INT64_MIN;
  const msgpack_object *c = arr(AT(e, 7), 0);
  for (uint32_t j = 0; c && j + 1 < c->via.array.size && a->n_custom < HS_MAX_ATTRS; j += 2) {
    char *ck = as_str(AT(c, j), nomem), *cv = as_str(AT(c, j + 1), nomem);
    if (ck && !hs__account_custom_alloc(a)) { /* a nil value: cleared */
      uint32_t t = HS__ATTR_FIELDS + j / 2;
      a->custom_ms[a->n_custom] = t < n_times ? as_i64(AT(times, t), INT64_MIN) : a->attrs_ms;
      a->custom_key[a->n_custom] = ck;
      a->custom_val[a->n_custom++] = cv;
    } else {
      *nomem |= ck != NULL; /* no room for the arrays */
      hs_free(ck);
      hs_free(cv);
    }
  }
}

/* The "overrides" entry: those whose metric the model still has. Sets
 * *nomem when one did not fit. */
static void decode_overrides(const hs_model_t *m, hs_account_t *a, const msgpack_object *e,
                             bool *nomem) {
  for (uint32_t j = 0; j < e->via.array.size && a->n_overrides < HS__MAX_OVERRIDES; j++) {
    const msgpack_object *o = arr(AT(e, j), 5);
    if (!o || AT(o, 0)->type != MSGPACK_OBJECT_STR)
      continue;
    hs_str_t target = {AT(o, 0)->via.str.ptr, AT(o, 0)->via.str.size};
    int metric = -2;
    if (hs_str_eq(target, "score"))
      metric = -1;
    for (uint32_t mi = 0; metric == -2 && mi < m->n_metrics; mi++)
      if (hs_str_eq(target, m->metrics[mi].id))
        metric = (int)mi;
    if (metric == -2)
      continue; /* the metric is gone from the model */
    if (hs__account_overrides_alloc(a)) {
      *nomem = true;
      break;
    }
    hs__override_t *ov = &a->overrides[a->n_overrides++];
    ov->metric = metric;
    ov->value = as_f64(AT(o, 1), 0);
    ov->expires_ms = as_i64(AT(o, 2), 0);
    ov->reason = as_str(AT(o, 3), nomem);
    ov->author = as_str(AT(o, 4), nomem);
    ov->ts_ms = o->via.array.size > 5 ? as_i64(AT(o, 5), INT64_MIN) : INT64_MIN;
  }
}

static int decode_body(dec_t *d, const msgpack_object *root) {
  const hs_model_t *m = d->m;
  hs_account_t *a = d->a;
  bool nomem = false;
  for (uint32_t i = 0; i < root->via.map.size; i++) {
    const msgpack_object *k = &root->via.map.ptr[i].key, *v = &root->via.map.ptr[i].val;
    if (k->type != MSGPACK_OBJECT_STR)
      continue;
    char key[16];
    snprintf(key, sizeof key, "%.*s", (int)(k->via.str.size < 15 ? k->via.str.size : 15),
             k->via.str.ptr);
    const msgpack_object *e;
    if (!strcmp(key, "time") && (e = arr(v, 3))) {
      a->first_ms = AT(e, 0)->type == MSGPACK_OBJECT_NIL ? INT64_MIN : as_i64(AT(e, 0), INT64_MIN);
      a->clock_ms = AT(e, 1)->type == MSGPACK_OBJECT_NIL ? INT64_MIN : as_i64(AT(e, 1), INT64_MIN);
      a->last_eval_ms =
          AT(e, 2)->type == MSGPACK_OBJECT_NIL ? INT64_MIN : as_i64(AT(e, 2), INT64_MIN);
    } else if (!strcmp(key, "counts") && (e = arr(v, 2))) {
      a->n_events = as_u64(AT(e, 0));
      a->n_late = as_u64(AT(e, 1));
    } else if (!strcmp(key, "attrs") && (e = arr(v, 8))) {
      decode_attrs(a, e, &nomem);
    } else if (!strcmp(key, "outcome") && (e = arr(v, 2))) {
      a->outcome = as_str(AT(e, 0), &nomem);
      a->outcome_ms = as_i64(AT(e, 1), INT64_MIN);
    } else if (!strcmp(key, "overrides") && (e = arr(v, 0))) {
      decode_overrides(m, a, e, &nomem);
    } else if (!strcmp(key, "series") && (e = arr(v, 0))) {
      if (decode_series(d, e))
        return HS_E_NOMEM;
    } else if (!strcmp(key, "scalars") && (e = arr(v, 0))) {
      for (uint32_t j = 0; j < e->via.array.size; j++) {
        const msgpack_object *s = arr(AT(e, j), 3);
        for (uint32_t ci = 0; s && ci < m->n_scalars; ci++) {
          if (m->scalars[ci].key == as_u64(AT(s, 0))) {
            a->scalars[ci].ts = as_i64(AT(s, 1), INT64_MIN);
            a->scalars[ci].value = as_f64(AT(s, 2), 0);
          }
        }
      }
    } else if (!strcmp(key, "history") && (e = arr(v, 2))) {
      a->hist_head =
          AT(e, 0)->type == MSGPACK_OBJECT_NIL ? INT32_MIN : (int32_t)as_i64(AT(e, 0), 0);
      const msgpack_object *h = arr(AT(e, 1), 0);
      for (uint32_t j = 0; a->hist_head != INT32_MIN && h && j + 1 < h->via.array.size; j += 2) {
        int32_t day = (int32_t)as_i64(AT(h, j), 0);
        if (day <= a->hist_head && day > a->hist_head - (int32_t)m->history_days)
          a->hist[hs__series_slot(day, m->history_days)] = (float)as_f64(AT(h, j + 1), NAN);
      }
    } else if (!strcmp(key, "rules") && (e = arr(v, 0))) {
      for (uint32_t j = 0; j < e->via.array.size; j++) {
        const msgpack_object *r = arr(AT(e, j), 5);
        for (uint32_t ri = 0; r && ri < m->n_rules; ri++) {
          if (m->rules[ri].key == as_u64(AT(r, 0))) {
            a->rules[ri].open = as_bool(AT(r, 1));
            a->rules[ri].episode_start = as_i64(AT(r, 2), INT64_MIN);
            a->rules[ri].pending_since = as_i64(AT(r, 3), INT64_MIN);
            a->rules[ri].cooldown_until = as_i64(AT(r, 4), INT64_MIN);
          }
        }
      }
    } else if (!strcmp(key, "prev") && (e = arr(v, 5))) {
      a->has_score = as_bool(AT(e, 0));
      a->score = as_f64(AT(e, 1), 0);
      a->band = (int)as_i64(AT(e, 2), -1);
      if (a->band < -1 || a->band >= (int)m->n_bands)
        a->band = -1;
      const msgpack_object *pn = AT(e, 3);
      a->profile = -1;
      for (uint32_t p = 0; pn->type == MSGPACK_OBJECT_STR && p < m->n_profiles; p++)
        if (hs_str_eq((hs_str_t){pn->via.str.ptr, pn->via.str.size}, m->profiles[p].name))
          a->profile = (int)p;
      const msgpack_object *c = arr(AT(e, 4), 0);
      if (a->profile >= 0 && c && c->via.array.size == m->profiles[a->profile].n_refs)
        for (uint32_t j = 0; j < c->via.array.size; j++)
          hs__contrib_stored(a, j, (float)as_f64(AT(c, j), 0));
    }
  }
  return nomem ? HS_E_NOMEM : 0;
}

int hs_account_decode(const hs_model_t *m, const void *buf, size_t len, hs_account_t **out,
                      hs_err_t *err) {
  *out = NULL;
  size_t size;
  /* the scan bounds every announced container by the bytes present, so the
     unpacker's allocations stay proportional to the input */
  if (hs_msgpack_object_size(buf, len, &size) != 0 || size != len)
    return hs_err_set(err, HS_E_PARSE, "account state: malformed or truncated msgpack");
  msgpack_unpacked res;
  msgpack_unpacked_init(&res);
  size_t off = 0;
  int rc = 0;
  if (msgpack_unpack_next(&res, buf, len, &off) != MSGPACK_UNPACK_SUCCESS) {
    rc = hs_err_set(err, HS_E_PARSE, "account state: malformed msgpack");
    goto done;
  }
  const msgpack_object *root = &res.data;
  if (root->type != MSGPACK_OBJECT_MAP) {
    rc = hs_err_set(err, HS_E_SCHEMA, "account state: not a map");
    goto done;
  }
  int64_t version = -1;
  const msgpack_object *id = NULL;
  for (uint32_t i = 0; i < root->via.map.size; i++) {
    const msgpack_object *k = &root->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR)
      continue;
    if (hs_str_eq((hs_str_t){k->via.str.ptr, k->via.str.size}, "v"))
      version = as_i64(&root->via.map.ptr[i].val, -1);
    if (hs_str_eq((hs_str_t){k->via.str.ptr, k->via.str.size}, "id"))
      id = &root->via.map.ptr[i].val;
  }
  if (version < 1) {
    rc = hs_err_set(err, HS_E_SCHEMA, "account state: no format version");
    goto done;
  }
  if (version > STATE_VERSION) {
    rc = hs_err_set(err, HS_E_VERSION,
                    "account state: format version %lld is newer than this build reads (%d)",
                    (long long)version, STATE_VERSION);
    goto done;
  }
  if (!id || id->type != MSGPACK_OBJECT_STR || id->via.str.size == 0 ||
      id->via.str.size > HS_MAX_ID_LEN) {
    rc = hs_err_set(err, HS_E_SCHEMA, "account state: missing or invalid account id");
    goto done;
  }
  hs_account_t *a;
  if (hs_account_new(m, (hs_str_t){id->via.str.ptr, id->via.str.size}, &a)) {
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
    goto done;
  }
  dec_t d = {m, a, err};
  if (decode_body(&d, root)) {
    hs_account_free(a);
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
    goto done;
  }
  /* the event ids, once the clock is known (a state without them, written
     before they were kept, knows none) */
  for (uint32_t i = 0; i < root->via.map.size; i++) {
    const msgpack_object *k = &root->via.map.ptr[i].key;
    const msgpack_object *v = arr(&root->via.map.ptr[i].val, 0);
    if (k->type != MSGPACK_OBJECT_STR ||
        !hs_str_eq((hs_str_t){k->via.str.ptr, k->via.str.size}, "ids") || !v)
      continue;
    for (uint32_t j = 0; j + 1 < v->via.array.size; j += 2) {
      const msgpack_object *b = AT(v, j + 1);
      if (!is_int(AT(v, j)) || b->type != MSGPACK_OBJECT_BIN || b->via.bin.size % 8)
        continue;
      int64_t day = as_i64(AT(v, j), INT64_MIN);
      if (day <= INT32_MIN || day > INT32_MAX)
        continue;
      const unsigned char *p = (const unsigned char *)b->via.bin.ptr;
      for (uint32_t x = 0; x < b->via.bin.size; x += 8) {
        uint64_t h = 0;
        for (int y = 0; y < 8; y++)
          h = h << 8 | p[x + y];
        if (h && hs__eid_put(m, a, h, (int32_t)day)) {
          hs_account_free(a);
          rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
          goto done;
        }
      }
    }
  }
  /* series the state did not know start empty at the account's day */
  for (uint32_t si = 0; a->clock_ms != INT64_MIN && si < m->n_series; si++)
    if (a->series[si].head == INT32_MIN)
      a->series[si].head = hs_day_of(a->clock_ms);
  hs__account_rebuild_views(m, a);
  *out = a;
done:
  msgpack_unpacked_destroy(&res);
  return rc;
}
