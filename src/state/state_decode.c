/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An account's state as versioned msgpack (docs/state.md): reading it.
 * Aggregates are matched by what they count, not by their position in the
 * model, so a state written under one configuration decodes under another:
 * what the new model lacks is dropped, what it adds starts empty. Views are
 * derived and rebuilt after decoding. */
#include "../core/layout.h"

#include "healthscore/state.h"

#include "healthscore/codec.h"
#include "healthscore/time.h"

#include "internal.h"

#include <msgpack.h>
#include <string.h>

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
