/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Applying a mapping to one record: the first rule whose `when` holds builds
 * an engine event, which the engine's own decoder then checks, so that what
 * comes out is exactly what healthscored and `healthscore replay` accept. */
#include "internal.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest epoch ms of the years 1970..9999. */
#define MAX_TIME_MS 253402300799999.0

typedef struct run_s {
  hs_mapping_t *m;
  const hs_map_input_t *in;
  const rule_t *r;
  hs_err_t *why;
} run_t;

/* ---- reading the document -------------------------------------------------- */

static bool is_str(const msgpack_object *o, const char *s, size_t n) {
  return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && !memcmp(o->via.str.ptr, s, n);
}

/* The text of a scalar in `tmp` (numbers as written in shortest form,
 * booleans true/false); false for nil, arrays and maps. */
bool hs_doc_scalar_text(const msgpack_object *o, char tmp[40], hs_str_t *out) {
  int n;
  switch (o->type) {
  case MSGPACK_OBJECT_STR:
    *out = (hs_str_t){o->via.str.ptr, o->via.str.size};
    return true;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    n = snprintf(tmp, 40, "%llu", (unsigned long long)o->via.u64);
    break;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    n = snprintf(tmp, 40, "%lld", (long long)o->via.i64);
    break;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    for (int prec = 15;; prec++) {
      n = snprintf(tmp, 40, "%.*g", prec, o->via.f64);
      if (prec == 17 || strtod(tmp, NULL) == o->via.f64)
        break;
    }
    break;
  case MSGPACK_OBJECT_BOOLEAN:
    n = snprintf(tmp, 40, "%s", o->via.boolean ? "true" : "false");
    break;
  default:
    return false;
  }
  *out = (hs_str_t){tmp, (uint32_t)n};
  return true;
}

static const char *kind_name(const msgpack_object *o) {
  switch (o->type) {
  case MSGPACK_OBJECT_STR:
    return "text";
  case MSGPACK_OBJECT_BOOLEAN:
    return "a boolean";
  case MSGPACK_OBJECT_ARRAY:
    return "a list";
  case MSGPACK_OBJECT_MAP:
    return "an object";
  case MSGPACK_OBJECT_BIN:
  case MSGPACK_OBJECT_EXT:
    return "binary";
  default:
    return "a number";
  }
}

static bool walk(const msgpack_object *cur, const path_t *p, const msgpack_object **out);

static bool step(const msgpack_object *cur, const seg_t *s, const msgpack_object **out) {
  if (s->kind == SEG_KEY) {
    if (cur->type != MSGPACK_OBJECT_MAP)
      return false;
    for (uint32_t i = 0; i < cur->via.map.size; i++)
      if (is_str(&cur->via.map.ptr[i].key, s->name, s->len))
        return *out = &cur->via.map.ptr[i].val, true;
    return false;
  }
  if (cur->type != MSGPACK_OBJECT_ARRAY)
    return false;
  if (s->kind == SEG_INDEX) {
    if (s->index >= cur->via.array.size)
      return false;
    return *out = &cur->via.array.ptr[s->index], true;
  }
  size_t want = strlen(s->equals);
  for (uint32_t i = 0; i < cur->via.array.size; i++) {
    const msgpack_object *v;
    char tmp[40];
    hs_str_t t;
    if (walk(&cur->via.array.ptr[i], s->where, &v) && hs_doc_scalar_text(v, tmp, &t) &&
        t.len == want && !memcmp(t.ptr, s->equals, want))
      return *out = &cur->via.array.ptr[i], true;
  }
  return false;
}

static bool walk(const msgpack_object *cur, const path_t *p, const msgpack_object **out) {
  for (size_t i = 0; i < p->n; i++)
    if (!step(cur, &p->segs[i], &cur))
      return false;
  if (cur->type == MSGPACK_OBJECT_NIL)
    return false;
  *out = cur;
  return true;
}

/* The value at `p`, nil counted as missing; `box` holds a key or header. */
static bool get(const run_t *x, const path_t *p, msgpack_object *box, const msgpack_object **out) {
  const hs_map_input_t *in = x->in;
  if (p->root == ROOT_KEY) {
    if (!in->key)
      return false;
    *box =
        (msgpack_object){.type = MSGPACK_OBJECT_STR, .via.str = {(uint32_t)in->key_len, in->key}};
    return *out = box, true;
  }
  if (p->root == ROOT_HEADER) {
    bool found = false;
    for (size_t i = 0; i < in->n_headers; i++)
      if (!strcmp(in->headers[i].name, p->header) && in->headers[i].value) {
        *box =
            (msgpack_object){.type = MSGPACK_OBJECT_STR,
                             .via.str = {(uint32_t)in->headers[i].value_len, in->headers[i].value}};
        found = true;
      }
    return found && (*out = box, true);
  }
  return in->doc && walk(in->doc, p, out);
}

static bool holds(const run_t *x, const cond_t *c) {
  msgpack_object box;
  const msgpack_object *v;
  bool found = get(x, &c->path, &box, &v);
  if (c->op == C_EXISTS)
    return found == c->exists;
  char tmp[40];
  hs_str_t t;
  if (!found || !hs_doc_scalar_text(v, tmp, &t))
    return false;
  for (size_t i = 0; i < c->n_vals; i++) {
    size_t n = strlen(c->vals[i]);
    if (c->op == C_PREFIX ? t.len >= n && !memcmp(t.ptr, c->vals[i], n)
                          : t.len == n && !memcmp(t.ptr, c->vals[i], n))
      return true;
  }
  return false;
}

/* ---- rejects ---------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int reject(const run_t *x, const char *fmt, ...) {
  char reason[180];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  bool named = x->r->name[0] != '#';
  hs_err_set(x->why, HS_E_SCHEMA, "%s: rule %s%s%s (%s): %s", x->m->source, named ? "\"" : "",
             x->r->name, named ? "\"" : "", x->r->where, reason);
  return HS_MAP_REJECT;
}

static char *scratch(run_t *x, size_t n) {
  hs_mapping_t *m = x->m;
  if (m->scratch_len + n > HS_MAP_SCRATCH)
    return NULL;
  char *p = m->scratch + m->scratch_len;
  m->scratch_len += n;
  return p;
}

static int keep(run_t *x, const spec_t *s, const char *p, size_t n, hs_str_t *out) {
  char *c = scratch(x, n);
  if (!c)
    return reject(x, "%s: the mapped values are over %d bytes", s->target, HS_MAP_SCRATCH);
  memcpy(c, p, n);
  *out = (hs_str_t){c, (uint32_t)n};
  return 0;
}

/* ---- one field ---------------------------------------------------------------- */

/* The value a spec reads: its constant, the first path present (coalesce),
 * or the paths' text joined by ":". 1: missing. */
static int source(run_t *x, const spec_t *s, msgpack_object *box, const msgpack_object **v,
                  const char **path) {
  *path = s->n_paths ? s->paths[0].text : "const";
  if (s->constant) {
    /* a number where a number or time goes, else text */
    char *end;
    double d = strtod(s->constant, &end);
    bool numeric = s->kind == T_ENV_TS || (s->kind == T_FIELD && hs_field_is_number(s->field));
    if (numeric && end != s->constant && !*end)
      *box = (msgpack_object){.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = d};
    else
      *box = (msgpack_object){.type = MSGPACK_OBJECT_STR,
                              .via.str = {(uint32_t)strlen(s->constant), s->constant}};
    *v = box;
    return 0;
  }
  if (!s->join) {
    for (size_t i = 0; i < s->n_paths; i++)
      if (get(x, &s->paths[i], box, v))
        return *path = s->paths[i].text, 0;
    return 1;
  }
  size_t start = x->m->scratch_len;
  for (size_t i = 0; i < s->n_paths; i++) {
    msgpack_object b;
    const msgpack_object *o;
    char tmp[40];
    hs_str_t t;
    *path = s->paths[i].text;
    if (!get(x, &s->paths[i], &b, &o))
      return 1;
    if (!hs_doc_scalar_text(o, tmp, &t))
      return reject(x, "%s: path \"%s\" is %s, not text", s->target, *path, kind_name(o));
    char *c = scratch(x, t.len + (i > 0));
    if (!c)
      return reject(x, "%s: the mapped values are over %d bytes", s->target, HS_MAP_SCRATCH);
    if (i)
      *c++ = ':';
    memcpy(c, t.ptr, t.len);
  }
  *box =
      (msgpack_object){.type = MSGPACK_OBJECT_STR,
                       .via.str = {(uint32_t)(x->m->scratch_len - start), x->m->scratch + start}};
  *v = box;
  return 0;
}

/* `t` through lookup `li`, the file's table first, then learned aliases:
 * 0 with *t replaced, 1 unknown, or HS_E_IO (the store failed). */
static int resolve(run_t *x, int li, hs_str_t *t) {
  const lookup_t *lk = &x->m->lookups[li];
  const char *hit = hs__table_get(&lk->table, t->ptr, t->len);
  if (hit) {
    *t = (hs_str_t){hit, (uint32_t)strlen(hit)};
    return 0;
  }
  if (!lk->learned || !x->m->store.get)
    return 1;
  char *val = scratch(x, HS_MAX_ID_LEN);
  if (!val)
    return 1;
  int n = x->m->store.get(x->m->store.ctx, lk->name, *t, val, HS_MAX_ID_LEN);
  x->m->scratch_len -= HS_MAX_ID_LEN - (n > 0 ? (size_t)n : 0);
  if (n >= 0) {
    *t = (hs_str_t){val, (uint32_t)n};
    return 0;
  }
  if (n < -1)
    return hs_err_set(x->why, HS_E_IO, "%s: lookup \"%s\": the alias store failed", x->m->source,
                      lk->name);
  return 1;
}

static int lookup(run_t *x, const spec_t *s, const char *path, hs_str_t *t) {
  hs_str_t key = *t;
  int rc = resolve(x, s->lookup, t);
  if (rc != 1)
    return rc;
  return reject(x, "%s: path \"%s\": unknown alias \"%.*s\" in lookup \"%s\"", s->target, path,
                (int)(key.len > 64 ? 64 : key.len), key.ptr, x->m->lookups[s->lookup].name);
}

static int text_of(run_t *x, const spec_t *s, const msgpack_object *v, const char *path,
                   hs_str_t *out) {
  char tmp[40];
  bool integer =
      v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
  bool attr = s->kind == T_ATTR || s->kind == T_ATTRS;
  if (!(v->type == MSGPACK_OBJECT_STR || integer || (attr && hs_doc_scalar_text(v, tmp, out))) ||
      !hs_doc_scalar_text(v, tmp, out))
    return reject(x, "%s: path \"%s\" is %s, not text", s->target, path, kind_name(v));
  int rc = out->ptr == tmp ? keep(x, s, tmp, out->len, out) : 0;
  if (!rc && s->str_case) {
    rc = keep(x, s, out->ptr, out->len, out);
    for (uint32_t i = 0; !rc && i < out->len; i++) {
      char *c = (char *)out->ptr + i;
      if (s->str_case == CASE_LOWER && *c >= 'A' && *c <= 'Z')
        *c = (char)(*c + 32);
      else if (s->str_case == CASE_UPPER && *c >= 'a' && *c <= 'z')
        *c = (char)(*c - 32);
    }
  }
  if (!rc && s->lookup >= 0)
    rc = lookup(x, s, path, out);
  return rc;
}

static bool number_of(const msgpack_object *v, double *out) {
  switch (v->type) {
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    return *out = (double)v->via.u64, true;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return *out = (double)v->via.i64, true;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return *out = v->via.f64, true;
  default:
    return false;
  }
}

static int time_of(run_t *x, const spec_t *s, const msgpack_object *v, const char *path,
                   int64_t *out) {
  static const char *const units[] = {"epoch ms", "epoch s", "epoch ms", "epoch µs", "RFC 3339"};
  double d;
  if (v->type == MSGPACK_OBJECT_STR && (s->unit == U_AUTO || s->unit == U_RFC3339)) {
    if (hs_time_parse_rfc3339(v->via.str.ptr, v->via.str.size, out))
      return reject(x, "%s: path \"%s\": \"%.*s\" is not an RFC 3339 time", s->target, path,
                    (int)(v->via.str.size > 40 ? 40 : v->via.str.size), v->via.str.ptr);
    return 0;
  }
  if (s->unit == U_RFC3339 || !number_of(v, &d))
    return reject(x, "%s: path \"%s\" is %s, not %s%s", s->target, path, kind_name(v),
                  units[s->unit], s->unit == U_AUTO ? " or RFC 3339 text" : "");
  d = s->unit == U_S ? d * 1000 : s->unit == U_US ? floor(d / 1000) : d;
  if (!(d >= 0 && d <= MAX_TIME_MS))
    return reject(x, "%s: path \"%s\": %.17g %s is outside the years 1970..9999", s->target, path,
                  number_of(v, &d) ? d : 0, units[s->unit]);
  *out = (int64_t)d;
  return 0;
}

static double *num_slot(hs_event_t *ev, hs_field_t f) {
  switch (f) {
  case HS_F_SESSION_SECONDS:
    return &ev->session_seconds;
  case HS_F_COUNT:
    return &ev->count;
  case HS_F_AMOUNT:
    return &ev->amount;
  case HS_F_SCORE:
    return &ev->score;
  case HS_F_RATING:
    return &ev->rating;
  case HS_F_VALUE:
    return &ev->value;
  case HS_F_LICENSES:
    return &ev->licenses;
  default:
    return NULL;
  }
}

static int64_t *time_slot(hs_event_t *ev, hs_field_t f) {
  return f == HS_F_DUE              ? &ev->due_ms
         : f == HS_F_EXPIRES        ? &ev->expires_ms
         : f == HS_F_CONTRACT_START ? &ev->contract_start_ms
         : f == HS_F_RENEWAL_DATE   ? &ev->renewal_ms
                                    : NULL;
}

static hs_str_t *str_slot(hs_event_t *ev, hs_field_t f) {
  hs_str_t *slots[] = {&ev->user_id,    &ev->feature, &ev->role,    &ev->priority, &ev->ticket_id,
                       &ev->invoice_id, &ev->outcome, &ev->target,  &ev->reason,   &ev->author,
                       &ev->segment,    &ev->stage,   &ev->vertical};
  return f >= HS_F_USER_ID && f <= HS_F_VERTICAL ? slots[f - HS_F_USER_ID] : NULL;
}

/* x * scale, dividing when scale is 1/N (cents: 0.01) so that the result is
 * the double nearest the decimal value: 1999 * 0.01 is 19.990000000000002,
 * 1999 / 100 is 19.99. */
static double scaled(double x, double scale) {
  double inv = 1 / scale, n = round(inv);
  return fabs(scale) < 1 && fabs(inv - n) < 1e-9 * fabs(n) ? x / n : x * scale;
}

static int add_attr(run_t *x, const spec_t *s, hs_event_t *ev, hs_str_t k, hs_str_t v) {
  if (ev->n_attrs == HS_MAX_ATTRS)
    return reject(x, "%s: more than %d attributes", s->target, HS_MAX_ATTRS);
  ev->attr_key[ev->n_attrs] = k;
  ev->attr_val[ev->n_attrs++] = v;
  return 0;
}

static int set_one(run_t *x, const spec_t *s, hs_event_t *ev) {
  msgpack_object box;
  const msgpack_object *v = NULL;
  const char *path = NULL;
  int rc = source(x, s, &box, &v, &path);
  if (rc == 1)
    return s->optional ? 0 : reject(x, "%s: path \"%s\" is missing (required)", s->target, path);
  if (rc)
    return rc;
  hs_str_t t;
  double d;
  int64_t *ts = s->kind == T_ENV_TS  ? &ev->ts_ms
                : s->kind == T_FIELD ? time_slot(ev, s->field)
                                     : NULL;
  if (ts) {
    if ((rc = time_of(x, s, v, path, ts)))
      return rc;
  } else if (s->kind == T_FIELD && num_slot(ev, s->field)) {
    if (!number_of(v, &d))
      return reject(x, "%s: path \"%s\" is %s, not a number", s->target, path, kind_name(v));
    *num_slot(ev, s->field) = scaled(d, s->scale);
  } else if (s->kind == T_ATTRS) {
    if (v->type != MSGPACK_OBJECT_MAP)
      return reject(x, "%s: path \"%s\" is %s, not an object", s->target, path, kind_name(v));
    for (uint32_t i = 0; i < v->via.map.size && !rc; i++) {
      const msgpack_object_kv *kv = &v->via.map.ptr[i];
      char tmp[40];
      hs_str_t k, val;
      if (kv->key.type != MSGPACK_OBJECT_STR || !hs_doc_scalar_text(&kv->val, tmp, &val))
        continue; /* lists, objects and nulls are not attributes */
      k = (hs_str_t){kv->key.via.str.ptr, kv->key.via.str.size};
      rc = val.ptr == tmp ? keep(x, s, tmp, val.len, &val) : 0;
      if (!rc)
        rc = add_attr(x, s, ev, k, val);
    }
    return rc;
  } else {
    if ((rc = text_of(x, s, v, path, &t)))
      return rc;
    if (s->kind == T_ENV_ID)
      ev->event_id = t;
    else if (s->kind == T_ENV_ACCOUNT)
      ev->account_id = t;
    else if (s->kind == T_ATTR)
      return add_attr(x, s, ev, (hs_str_t){s->target + 11, (uint32_t)strlen(s->target + 11)}, t);
    else
      *str_slot(ev, s->field) = t;
  }
  if (s->kind == T_FIELD)
    ev->present |= HS_FIELD_BIT(s->field);
  return 0;
}

/* ---- rules -------------------------------------------------------------------- */

static int learn(run_t *x) {
  for (size_t i = 0; i < x->r->n_learns; i++) {
    const learn_t *ln = &x->r->learns[i];
    msgpack_object kb, vb;
    const msgpack_object *k, *v;
    char kt[40], vt[40];
    hs_str_t ks, vs;
    if (!get(x, &ln->key, &kb, &k) || !get(x, &ln->value, &vb, &v) ||
        !hs_doc_scalar_text(k, kt, &ks) || !hs_doc_scalar_text(v, vt, &vs) || !ks.len || !vs.len)
      continue; /* nothing to learn from this record */
    if (ln->through >= 0) {
      int rc = resolve(x, ln->through, &vs);
      if (rc == 1)
        continue; /* what it stands for is not known yet */
      if (rc)
        return rc;
    }
    if (ks.len > HS_MAX_ID_LEN || vs.len > HS_MAX_ID_LEN)
      return reject(x, "learn: path \"%s\" or \"%s\" is longer than %d bytes", ln->key.text,
                    ln->value.text, HS_MAX_ID_LEN);
    const char *table = x->m->lookups[ln->lookup].name;
    if (x->m->store.put && x->m->store.put(x->m->store.ctx, table, ks, vs))
      return hs_err_set(x->why, HS_E_IO, "%s: lookup \"%s\": the alias store failed", x->m->source,
                        table);
  }
  return 0;
}

static int build(run_t *x, hs_format_t fmt, hs_buf_t *out) {
  hs_mapping_t *m = x->m;
  int rc = learn(x);
  if (rc || !x->r->emit)
    return rc ? rc : HS_MAP_NO_EVENT;
  hs_event_t ev = {.type = x->r->emit};
  const char *tn = hs_event_type_name(ev.type);
  ev.type_name = (hs_str_t){tn, (uint32_t)strlen(tn)};
  for (size_t i = 0; i < x->r->n_specs; i++)
    if ((rc = set_one(x, &x->r->specs[i], &ev)))
      return rc;
  m->tmp.len = 0;
  if (hs_event_encode_msgpack(&ev, &m->tmp))
    return HS_E_NOMEM;
  hs_event_t back;
  hs_err_t err = {0};
  rc = hs_event_decode(m->dec, m->tmp.data, m->tmp.len, HS_FMT_MSGPACK, &back, &err);
  if (rc == HS_E_NOMEM)
    return rc;
  if (rc)
    return reject(x, "the engine would refuse the event: %s", err.msg);
  rc = fmt == HS_FMT_MSGPACK ? hs_buf_append(out, m->tmp.data, m->tmp.len)
                             : hs_event_encode_json(&back, out);
  return rc ? HS_E_NOMEM : HS_MAP_EVENT;
}

int hs_mapping_apply(hs_mapping_t *m, const hs_map_input_t *in, hs_format_t fmt, hs_buf_t *out,
                     int *rule, hs_err_t *why) {
  run_t x = {m, in, NULL, why};
  if (rule)
    *rule = -1;
  m->scratch_len = 0;
  for (size_t i = 0; i < m->n_rules; i++) {
    const rule_t *r = &m->rules[i];
    bool all = true;
    for (size_t c = 0; c < r->n_conds && all; c++)
      all = holds(&x, &r->conds[c]);
    if (!all)
      continue;
    if (rule)
      *rule = (int)i;
    x.r = r;
    size_t before = out->len;
    int rc = build(&x, fmt, out);
    if (rc == HS_MAP_REJECT)
      m->rules[i].stats.rejected++;
    else if (rc >= 0)
      m->rules[i].stats.matched++;
    if (rc != HS_MAP_EVENT)
      out->len = before;
    return rc;
  }
  m->unmatched++;
  if (!m->deadletter_unmatched)
    return HS_MAP_UNMATCHED;
  hs_err_set(why, HS_E_SCHEMA, "%s: no rule matches (on_unmatched: deadletter)", m->source);
  return HS_MAP_REJECT;
}

void hs_mapping_set_alias_store(hs_mapping_t *m, const hs_alias_store_t *store) {
  if (m->own)
    hs_alias_mem_free(&m->own_store);
  m->own = false;
  m->store = *store;
}

const char *hs_mapping_source(const hs_mapping_t *m) {
  return m->source;
}
size_t hs_mapping_n_rules(const hs_mapping_t *m) {
  return m->n_rules;
}
const char *hs_mapping_rule_name(const hs_mapping_t *m, size_t i) {
  return m->rules[i].name;
}
const char *hs_mapping_rule_where(const hs_mapping_t *m, size_t i) {
  return m->rules[i].where;
}
const hs_map_stats_t *hs_mapping_rule_stats(const hs_mapping_t *m, size_t i) {
  return &m->rules[i].stats;
}
uint64_t hs_mapping_unmatched(const hs_mapping_t *m) {
  return m->unmatched;
}

/* ---- paths for other tools ------------------------------------------------- */

struct hs_doc_path_s {
  path_t path;
};

int hs_doc_path_new(const char *text, hs_doc_path_t **out, hs_err_t *err) {
  *out = NULL;
  hs_doc_path_t *p = hs_calloc(1, sizeof *p);
  if (!p)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  char why[200];
  int rc = hs__path_parse(text, &p->path, why, sizeof why);
  if (rc) {
    hs_free(p);
    return rc == HS_E_NOMEM ? hs_err_set(err, rc, "out of memory")
                            : hs_err_set(err, HS_E_CONFIG, "%s", why);
  }
  if (p->path.root != ROOT_DOC) {
    hs_doc_path_free(p);
    return hs_err_set(err, HS_E_CONFIG, "path \"%s\": $key and $headers name no place in a record",
                      text);
  }
  *out = p;
  return 0;
}

void hs_doc_path_free(hs_doc_path_t *p) {
  if (!p)
    return;
  hs__path_free(&p->path);
  hs_free(p);
}

const msgpack_object *hs_doc_path_get(const hs_doc_path_t *p, const msgpack_object *doc) {
  const msgpack_object *v;
  return doc && walk(doc, &p->path, &v) ? v : NULL;
}
