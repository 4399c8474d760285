/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Loading a mapping file (docs/sources.md): YAML through the project's
 * bounded reader, every error as FILE:LINE:COLUMN: reason. */
#include "internal.h"
#include "yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ld_s {
  yaml_document_t *doc;
  const char *name;
  const char *dir;
  hs_err_t *err;
  hs_mapping_t *m;
} ld_t;

__attribute__((format(printf, 3, 4))) static int at(ld_t *l, const yaml_node_t *n, const char *fmt,
                                                    ...) {
  char reason[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hs_err_set(l->err, HS_E_CONFIG, "%s:%zu:%zu: %s", l->name, n->start_mark.line + 1,
                    n->start_mark.column + 1, reason);
}

static int nomem(ld_t *l) {
  return hs_err_set(l->err, HS_E_NOMEM, "out of memory");
}

static yaml_node_t *node(ld_t *l, int id) {
  return yaml_document_get_node(l->doc, id);
}

static const char *text(const yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}

static bool is_scalar(const yaml_node_t *n) {
  return n->type == YAML_SCALAR_NODE;
}

/* Calls `fn` on each pair of mapping `n`, whose keys must be among `keys`
 * (NULL-terminated; NULL: any). */
typedef int (*pair_fn)(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx);
static int each_pair(ld_t *l, yaml_node_t *n, const char *what, const char *const *keys, pair_fn fn,
                     void *ctx) {
  if (n->type != YAML_MAPPING_NODE)
    return at(l, n, "%s must be a mapping", what);
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
    if (!is_scalar(k))
      return at(l, k, "a key of %s must be text", what);
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
      if (!strcmp(text(node(l, q->key)), text(k)))
        return at(l, k, "%s: duplicate key \"%s\"", what, text(k));
    bool known = !keys;
    for (const char *const *kk = keys; kk && *kk && !known; kk++)
      known = !strcmp(*kk, text(k));
    if (!known)
      return at(l, k, "%s: unknown key \"%s\"", what, text(k));
    int rc = fn(l, k, v, ctx);
    if (rc)
      return rc;
  }
  return 0;
}

static int want_text(ld_t *l, yaml_node_t *v, const char *key) {
  if (!is_scalar(v) || !v->data.scalar.length)
    return at(l, v, "%s must be non-empty text", key);
  return 0;
}

static int want_bool(ld_t *l, yaml_node_t *v, const char *key, bool *out) {
  if (is_scalar(v) && (!strcmp(text(v), "true") || !strcmp(text(v), "false"))) {
    *out = text(v)[0] == 't';
    return 0;
  }
  return at(l, v, "%s must be true or false", key);
}

static int path_at(ld_t *l, yaml_node_t *v, const char *key, path_t *out) {
  int rc = want_text(l, v, key);
  if (rc)
    return rc;
  char why[200];
  rc = hs__path_parse(text(v), out, why, sizeof why);
  return rc == HS_E_NOMEM ? nomem(l) : rc ? at(l, v, "%s", why) : 0;
}

static int find_lookup(ld_t *l, yaml_node_t *v, const char *key) {
  if (want_text(l, v, key))
    return -1;
  for (size_t i = 0; i < l->m->n_lookups; i++)
    if (!strcmp(l->m->lookups[i].name, text(v)))
      return (int)i;
  at(l, v, "%s: no lookup \"%s\" under lookups:", key, text(v));
  return -1;
}

/* ---- lookups -------------------------------------------------------------- */

static int lookup_key(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  lookup_t *lk = ctx;
  if (!strcmp(text(k), "learned"))
    return want_bool(l, v, "learned", &lk->learned);
  int rc = want_text(l, v, "file");
  if (rc)
    return rc;
  char path[4096];
  if (text(v)[0] == '/' || !l->dir)
    snprintf(path, sizeof path, "%s", text(v));
  else
    snprintf(path, sizeof path, "%s/%s", l->dir, text(v));
  if (!(lk->file = hs_strdup(path)))
    return nomem(l);
  rc = hs__lookup_read(lk->file, &lk->table, l->err);
  if (rc && rc != HS_E_NOMEM) {
    char inner[256];
    snprintf(inner, sizeof inner, "%s", l->err->msg);
    return at(l, v, "lookup file: %s", inner);
  }
  return rc ? nomem(l) : 0;
}

static int one_lookup(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  (void)ctx;
  hs_mapping_t *m = l->m;
  size_t cap = m->n_lookups;
  lookup_t *g = hs_array_grow(m->lookups, &cap, m->n_lookups, sizeof *g, m->n_lookups + 1);
  if (!g)
    return nomem(l);
  m->lookups = g;
  lookup_t *lk = &m->lookups[m->n_lookups++];
  *lk = (lookup_t){.name = hs_strdup(text(k))};
  if (!lk->name)
    return nomem(l);
  static const char *const keys[] = {"file", "learned", NULL};
  int rc = each_pair(l, v, "a lookup", keys, lookup_key, lk);
  if (!rc && !lk->file && !lk->learned)
    rc = at(l, v, "lookup \"%s\": give file: or learned: true (or both)", lk->name);
  return rc;
}

/* ---- when ----------------------------------------------------------------- */

static int add_val(ld_t *l, cond_t *c, yaml_node_t *v) {
  if (!is_scalar(v))
    return at(l, v, "a value to compare must be a scalar");
  size_t cap = c->n_vals;
  char **g = hs_array_grow(c->vals, &cap, c->n_vals, sizeof *g, c->n_vals + 1);
  if (!g)
    return nomem(l);
  c->vals = g;
  return (c->vals[c->n_vals++] = hs_strdup(text(v))) ? 0 : nomem(l);
}

static int cond_op(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  cond_t *c = ctx;
  if (c->n_vals || c->op == C_EXISTS)
    return at(l, k, "one test per path: equals, one_of, exists or prefix");
  const char *op = text(k);
  if (!strcmp(op, "exists")) {
    c->op = C_EXISTS;
    return want_bool(l, v, "exists", &c->exists);
  }
  if (!strcmp(op, "one_of")) {
    c->op = C_ONE_OF;
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top)
      return at(l, v, "one_of must be a non-empty list");
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
      int rc = add_val(l, c, node(l, *i));
      if (rc)
        return rc;
    }
    return 0;
  }
  c->op = !strcmp(op, "prefix") ? C_PREFIX : C_EQUALS;
  if (c->op == C_PREFIX && want_text(l, v, "prefix"))
    return HS_E_CONFIG;
  return add_val(l, c, v);
}

static int one_cond(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  rule_t *r = ctx;
  size_t cap = r->n_conds;
  cond_t *g = hs_array_grow(r->conds, &cap, r->n_conds, sizeof *g, r->n_conds + 1);
  if (!g)
    return nomem(l);
  r->conds = g;
  cond_t *c = &r->conds[r->n_conds++];
  *c = (cond_t){0};
  int rc = path_at(l, k, "a path", &c->path);
  if (rc)
    return rc;
  if (is_scalar(v)) /* path: value is equals */
    return add_val(l, c, v);
  static const char *const ops[] = {"equals", "one_of", "exists", "prefix", NULL};
  rc = each_pair(l, v, "a test", ops, cond_op, c);
  if (!rc && !c->n_vals && c->op != C_EXISTS)
    rc = at(l, v, "give equals, one_of, exists or prefix");
  return rc;
}

/* ---- set ------------------------------------------------------------------ */

static int add_path(ld_t *l, spec_t *s, yaml_node_t *v, const char *key) {
  size_t cap = s->n_paths;
  path_t *g = hs_array_grow(s->paths, &cap, s->n_paths, sizeof *g, s->n_paths + 1);
  if (!g)
    return nomem(l);
  s->paths = g;
  int rc = path_at(l, v, key, &s->paths[s->n_paths]);
  if (!rc)
    s->n_paths++;
  return rc;
}

static int spec_key(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  spec_t *s = ctx;
  const char *key = text(k);
  if (!strcmp(key, "path"))
    return add_path(l, s, v, "path");
  if (!strcmp(key, "coalesce") || !strcmp(key, "join")) {
    s->join = key[0] == 'j';
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top)
      return at(l, v, "%s must be a non-empty list of paths", key);
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
      int rc = add_path(l, s, node(l, *i), key);
      if (rc)
        return rc;
    }
    return 0;
  }
  if (!strcmp(key, "const")) {
    if (!is_scalar(v))
      return at(l, v, "const must be a scalar");
    return (s->constant = hs_strdup(text(v))) ? 0 : nomem(l);
  }
  if (!strcmp(key, "scale")) {
    char *e;
    s->scale = is_scalar(v) ? strtod(text(v), &e) : 0;
    if (!is_scalar(v) || e == text(v) || *e || !isfinite(s->scale) || s->scale == 0)
      return at(l, v, "scale must be a non-zero number");
    s->has_scale = true;
    return 0;
  }
  if (!strcmp(key, "time")) {
    static const char *const units[] = {"auto", "s", "ms", "us", "rfc3339"};
    for (size_t i = 0; i < 5; i++)
      if (is_scalar(v) && !strcmp(text(v), units[i])) {
        s->unit = (time_unit_t)i;
        return 0;
      }
    return at(l, v, "time must be auto, s, ms, us or rfc3339");
  }
  if (!strcmp(key, "case")) {
    if (is_scalar(v) && (!strcmp(text(v), "lower") || !strcmp(text(v), "upper"))) {
      s->str_case = text(v)[0] == 'l' ? CASE_LOWER : CASE_UPPER;
      return 0;
    }
    return at(l, v, "case must be lower or upper");
  }
  if (!strcmp(key, "lookup"))
    return (s->lookup = find_lookup(l, v, "lookup")) < 0 ? HS_E_CONFIG : 0;
  return want_bool(l, v, "optional", &s->optional);
}

static int target_of(ld_t *l, yaml_node_t *k, spec_t *s) {
  const char *t = text(k);
  if (!(s->target = hs_strdup(t)))
    return nomem(l);
  if (!strcmp(t, "event_id"))
    s->kind = T_ENV_ID;
  else if (!strcmp(t, "account_id"))
    s->kind = T_ENV_ACCOUNT;
  else if (!strcmp(t, "ts"))
    s->kind = T_ENV_TS;
  else if (!strcmp(t, "attributes"))
    s->kind = T_ATTRS;
  else if (!strncmp(t, "attributes.", 11) && t[11])
    s->kind = T_ATTR;
  else if ((s->field = hs_field_from((hs_str_t){t, (uint32_t)strlen(t)})) != HS_F_NONE)
    s->kind = T_FIELD;
  else
    return at(l, k, "set: \"%s\" is not an engine event field (docs/events.md)", t);
  return 0;
}

static int one_spec(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  rule_t *r = ctx;
  size_t cap = r->n_specs;
  spec_t *g = hs_array_grow(r->specs, &cap, r->n_specs, sizeof *g, r->n_specs + 1);
  if (!g)
    return nomem(l);
  r->specs = g;
  spec_t *s = &r->specs[r->n_specs++];
  *s = (spec_t){.lookup = -1, .scale = 1};
  int rc = target_of(l, k, s);
  if (rc)
    return rc;
  if (is_scalar(v))
    return add_path(l, s, v, "a path");
  static const char *const keys[] = {"path", "coalesce", "join",   "const",    "scale",
                                     "time", "case",     "lookup", "optional", NULL};
  rc = each_pair(l, v, "a field", keys, spec_key, s);
  if (rc)
    return rc;
  if ((s->n_paths > 0) == (s->constant != NULL))
    return at(l, v, "set \"%s\": give one of path, coalesce, join or const", s->target);
  if (s->kind == T_ATTRS && (s->n_paths != 1 || s->join))
    return at(l, v, "set \"attributes\": give the path of an object");
  return 0;
}

/* ---- rules ---------------------------------------------------------------- */

static int learn_key(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  learn_t *ln = ctx;
  if (!strcmp(text(k), "lookup"))
    return (ln->lookup = find_lookup(l, v, "lookup")) < 0 ? HS_E_CONFIG : 0;
  if (!strcmp(text(k), "through"))
    return (ln->through = find_lookup(l, v, "through")) < 0 ? HS_E_CONFIG : 0;
  return path_at(l, v, text(k), text(k)[0] == 'k' ? &ln->key : &ln->value);
}

static int one_learn(ld_t *l, rule_t *r, yaml_node_t *v) {
  size_t cap = r->n_learns;
  learn_t *g = hs_array_grow(r->learns, &cap, r->n_learns, sizeof *g, r->n_learns + 1);
  if (!g)
    return nomem(l);
  r->learns = g;
  learn_t *ln = &r->learns[r->n_learns++];
  *ln = (learn_t){.lookup = -1, .through = -1};
  static const char *const keys[] = {"lookup", "key", "value", "through", NULL};
  int rc = each_pair(l, v, "learn", keys, learn_key, ln);
  if (!rc && (ln->lookup < 0 || !ln->key.text || !ln->value.text))
    return at(l, v, "learn needs lookup, key and value");
  if (!rc && !l->m->lookups[ln->lookup].learned)
    return at(l, v, "learn: lookup \"%s\" is not learned: true", l->m->lookups[ln->lookup].name);
  return rc;
}

static int rule_key(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  rule_t *r = ctx;
  const char *key = text(k);
  if (!strcmp(key, "name")) {
    int rc = want_text(l, v, "name");
    hs_free(r->name);
    return rc ? rc : (r->name = hs_strdup(text(v))) ? 0 : nomem(l);
  }
  if (!strcmp(key, "when"))
    return each_pair(l, v, "when", NULL, one_cond, r);
  if (!strcmp(key, "set"))
    return each_pair(l, v, "set", NULL, one_spec, r);
  if (!strcmp(key, "emit")) {
    int rc = want_text(l, v, "emit");
    if (rc)
      return rc;
    r->emit = hs_event_type_from((hs_str_t){text(v), (uint32_t)v->data.scalar.length});
    return r->emit ? 0 : at(l, v, "emit: \"%s\" is not an engine event type", text(v));
  }
  if (v->type == YAML_SEQUENCE_NODE) {
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
      int rc = one_learn(l, r, node(l, *i));
      if (rc)
        return rc;
    }
    return 0;
  }
  return one_learn(l, r, v);
}

/* The fields the engine keeps on an event of type `t`: asked of its own
 * decoder with every field set to a valid value, so that the table lives in
 * one place (src/codec). */
static uint32_t fields_of(hs_decoder_t *dec, hs_event_type_t t) {
  const char *tn = hs_event_type_name(t);
  hs_event_t ev = {.type = t, .ts_ms = 0, .event_id = {"x", 1}, .account_id = {"x", 1}};
  ev.type_name = (hs_str_t){tn, (uint32_t)strlen(tn)};
  ev.session_seconds = ev.count = ev.amount = ev.score = ev.rating = ev.value = ev.licenses = 1;
  hs_str_t x = {"x", 1};
  ev.user_id = ev.feature = ev.role = ev.ticket_id = ev.invoice_id = ev.reason = ev.author = x;
  ev.segment = ev.stage = ev.vertical = x;
  ev.priority = (hs_str_t){"low", 3};
  ev.outcome = (hs_str_t){"churned", 7};
  ev.target = (hs_str_t){"score", 5};
  for (int f = 1; f < HS_F__COUNT; f++)
    ev.present |= HS_FIELD_BIT(f);
  hs_buf_t b;
  hs_buf_init(&b);
  hs_event_t back;
  hs_err_t err = {0};
  uint32_t mask = UINT32_MAX; /* when it cannot be told, nothing is refused here */
  if (!hs_event_encode_msgpack(&ev, &b) &&
      !hs_event_decode(dec, b.data, b.len, HS_FMT_MSGPACK, &back, &err))
    mask = back.present;
  hs_buf_free(&b);
  return mask;
}

static int check_fields(ld_t *l, yaml_node_t *v, const rule_t *r) {
  uint32_t have = fields_of(l->m->dec, r->emit);
  for (size_t i = 0; i < r->n_specs; i++) {
    const spec_t *s = &r->specs[i];
    bool attr = s->kind == T_ATTRS || s->kind == T_ATTR;
    if ((s->kind == T_FIELD && !(have & HS_FIELD_BIT(s->field))) ||
        (attr && r->emit != HS_EV_ACCOUNT))
      return at(l, v, "rule %s: %s is not a field of %s events (docs/events.md)", r->name,
                s->target, hs_event_type_name(r->emit));
  }
  return 0;
}

static int one_rule(ld_t *l, yaml_node_t *v, size_t index) {
  hs_mapping_t *m = l->m;
  rule_t *r = &m->rules[m->n_rules++];
  *r = (rule_t){0};
  char buf[4200];
  snprintf(buf, sizeof buf, "#%zu", index + 1);
  r->name = hs_strdup(buf);
  snprintf(buf, sizeof buf, "%s:%zu", l->name, v->start_mark.line + 1);
  r->where = hs_strdup(buf);
  if (!r->name || !r->where)
    return nomem(l);
  static const char *const keys[] = {"name", "when", "emit", "set", "learn", NULL};
  int rc = each_pair(l, v, "a rule", keys, rule_key, r);
  if (rc)
    return rc;
  if (!r->emit && !r->n_learns)
    return at(l, v, "rule %s: give emit: (an event type) or learn:", r->name);
  if (!r->emit && r->n_specs)
    return at(l, v, "rule %s: set: without emit:", r->name);
  static const target_kind_t need[] = {T_ENV_ID, T_ENV_ACCOUNT, T_ENV_TS};
  static const char *const names[] = {"event_id", "account_id", "ts"};
  for (size_t i = 0; r->emit && i < 3; i++) {
    bool found = false;
    for (size_t j = 0; j < r->n_specs && !found; j++)
      found = r->specs[j].kind == need[i] && !r->specs[j].optional;
    if (!found)
      return at(l, v, "rule %s: emit %s needs set: %s (not optional)", r->name,
                hs_event_type_name(r->emit), names[i]);
  }
  return r->emit ? check_fields(l, v, r) : 0;
}

/* Two passes over the top level, so that rules may name lookups declared
 * after them: `ctx` is non-NULL on the second, which reads only rules. */
static int top_key(ld_t *l, yaml_node_t *k, yaml_node_t *v, void *ctx) {
  hs_mapping_t *m = l->m;
  const char *key = text(k);
  if ((strcmp(key, "rules") != 0) == (ctx != NULL))
    return 0;
  if (!strcmp(key, "source")) {
    int rc = want_text(l, v, "source");
    hs_free(m->source);
    return rc ? rc : (m->source = hs_strdup(text(v))) ? 0 : nomem(l);
  }
  if (!strcmp(key, "on_unmatched")) {
    if (is_scalar(v) && (!strcmp(text(v), "skip") || !strcmp(text(v), "deadletter"))) {
      m->deadletter_unmatched = text(v)[0] == 'd';
      return 0;
    }
    return at(l, v, "on_unmatched must be skip or deadletter");
  }
  if (!strcmp(key, "lookups"))
    return each_pair(l, v, "lookups", NULL, one_lookup, NULL);
  if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top)
    return at(l, v, "rules must be a non-empty list");
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (!(m->rules = hs_calloc(n, sizeof *m->rules)))
    return nomem(l);
  for (size_t i = 0; i < n; i++) {
    int rc = one_rule(l, node(l, v->data.sequence.items.start[i]), i);
    if (rc)
      return rc;
  }
  return 0;
}

static void free_spec(spec_t *s) {
  for (size_t i = 0; i < s->n_paths; i++)
    hs__path_free(&s->paths[i]);
  hs_free(s->paths);
  hs_free(s->target);
  hs_free(s->constant);
}

void hs_mapping_free(hs_mapping_t *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n_rules; i++) {
    rule_t *r = &m->rules[i];
    for (size_t j = 0; j < r->n_conds; j++) {
      hs__path_free(&r->conds[j].path);
      for (size_t k = 0; k < r->conds[j].n_vals; k++)
        hs_free(r->conds[j].vals[k]);
      hs_free(r->conds[j].vals);
    }
    for (size_t j = 0; j < r->n_specs; j++)
      free_spec(&r->specs[j]);
    for (size_t j = 0; j < r->n_learns; j++) {
      hs__path_free(&r->learns[j].key);
      hs__path_free(&r->learns[j].value);
    }
    hs_free(r->conds);
    hs_free(r->specs);
    hs_free(r->learns);
    hs_free(r->name);
    hs_free(r->where);
  }
  for (size_t i = 0; i < m->n_lookups; i++) {
    hs_free(m->lookups[i].name);
    hs_free(m->lookups[i].file);
    hs__table_free(&m->lookups[i].table);
  }
  if (m->own)
    hs_alias_mem_free(&m->own_store);
  hs_decoder_free(m->dec);
  hs_buf_free(&m->tmp);
  hs_free(m->lookups);
  hs_free(m->rules);
  hs_free(m->source);
  hs_free(m);
}

static char *basename_of(const char *name) {
  const char *b = strrchr(name, '/');
  b = b ? b + 1 : name;
  const char *dot = strrchr(b, '.');
  return hs_strndup(b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

int hs_mapping_load(const char *text_, size_t len, const char *name, const char *dir,
                    hs_mapping_t **out, hs_err_t *err) {
  *out = NULL;
  hs_mapping_t *m = hs_calloc(1, sizeof *m);
  if (!m || hs_decoder_new(&m->dec, 0) || hs_alias_mem_new(&m->own_store)) {
    hs_mapping_free(m);
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  m->own = true;
  m->store = m->own_store;
  hs_buf_init(&m->tmp);
  yaml_document_t doc;
  int rc = hs__yaml_load(text_, len, name, &doc, err);
  if (rc) {
    hs_mapping_free(m);
    return rc;
  }
  ld_t l = {&doc, name, dir, err, m};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  static const char *const keys[] = {"source", "on_unmatched", "lookups", "rules", NULL};
  if (!root)
    rc = hs_err_set(err, HS_E_CONFIG, "%s:1:1: empty mapping: give rules:", name);
  else if (!(rc = each_pair(&l, root, "the mapping", keys, top_key, NULL)))
    rc = each_pair(&l, root, "the mapping", keys, top_key, &l);
  if (!rc && !m->n_rules)
    rc = at(&l, root, "the mapping has no rules:");
  if (!rc && !m->source && !(m->source = basename_of(name)))
    rc = nomem(&l);
  yaml_document_delete(&doc);
  if (rc) {
    hs_mapping_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

int hs_mapping_load_file(const char *path, hs_mapping_t **out, hs_err_t *err) {
  *out = NULL;
  hs_buf_t b;
  hs_buf_init(&b);
  int rc = hs__file_read(path, 4 * 1024 * 1024, &b, err);
  char *dir = rc ? NULL : hs_strdup(path);
  if (!rc && !dir)
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (!rc) {
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = 0;
    rc = hs_mapping_load(b.data ? b.data : "", b.len, path, slash ? dir : NULL, out, err);
  }
  hs_free(dir);
  hs_buf_free(&b);
  return rc;
}

int hs_mapping_reload_lookups(hs_mapping_t *m, hs_err_t *err) {
  table_t *fresh = hs_calloc(m->n_lookups ? m->n_lookups : 1, sizeof *fresh);
  if (!fresh)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  int rc = 0;
  for (size_t i = 0; i < m->n_lookups && !rc; i++)
    if (m->lookups[i].file)
      rc = hs__lookup_read(m->lookups[i].file, &fresh[i], err);
  for (size_t i = 0; i < m->n_lookups; i++) {
    if (!rc && m->lookups[i].file) {
      hs__table_free(&m->lookups[i].table);
      m->lookups[i].table = fresh[i];
    } else {
      hs__table_free(&fresh[i]);
    }
  }
  hs_free(fresh);
  return rc;
}
