/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Lookup tables (a CSV or YAML file of key -> value) and the in-memory store
 * of learned aliases. */
#include "internal.h"
#include "yaml_doc.h"
#include "healthscore/hash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static size_t slot(const table_t *t, const char *k, size_t kn) {
  size_t i = (size_t)hs_hash64(k, kn, HS_HASH_SEED) & (t->cap - 1);
  while (t->keys[i] && !(strlen(t->keys[i]) == kn && !memcmp(t->keys[i], k, kn)))
    i = (i + 1) & (t->cap - 1);
  return i;
}

const char *hs__table_get(const table_t *t, const char *k, size_t kn) {
  if (!t->cap)
    return NULL;
  size_t i = slot(t, k, kn);
  return t->keys[i] ? t->vals[i] : NULL;
}

static int grow(table_t *t) {
  table_t g = {.cap = t->cap ? t->cap * 2 : 64};
  g.keys = hs_calloc(g.cap, sizeof *g.keys);
  g.vals = hs_calloc(g.cap, sizeof *g.vals);
  if (!g.keys || !g.vals) {
    hs_free(g.keys);
    hs_free(g.vals);
    return HS_E_NOMEM;
  }
  for (size_t i = 0; i < t->cap; i++)
    if (t->keys[i]) {
      size_t j = slot(&g, t->keys[i], strlen(t->keys[i]));
      g.keys[j] = t->keys[i];
      g.vals[j] = t->vals[i];
      g.n++;
    }
  hs_free(t->keys);
  hs_free(t->vals);
  *t = g;
  return 0;
}

int hs__table_put(table_t *t, const char *k, size_t kn, const char *v, size_t vn) {
  if ((t->n + 1) * 2 > t->cap && grow(t))
    return HS_E_NOMEM;
  size_t i = slot(t, k, kn);
  char *nv = hs_strndup(v, vn);
  if (!nv)
    return HS_E_NOMEM;
  if (t->keys[i]) {
    hs_free(t->vals[i]);
    t->vals[i] = nv;
    return 0;
  }
  if (!(t->keys[i] = hs_strndup(k, kn))) {
    hs_free(nv);
    return HS_E_NOMEM;
  }
  t->vals[i] = nv;
  t->n++;
  return 0;
}

void hs__table_free(table_t *t) {
  for (size_t i = 0; i < t->cap; i++) {
    hs_free(t->keys[i]);
    hs_free(t->vals[i]);
  }
  hs_free(t->keys);
  hs_free(t->vals);
  *t = (table_t){0};
}

static char *trim(char *s, char *e) {
  while (s < e && (*s == ' ' || *s == '\t'))
    s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    e--;
  *e = 0;
  return s;
}

/* key,value lines; a value may hold commas, neither side quotes */
static int read_csv(const char *path, char *text, table_t *t, hs_err_t *err) {
  size_t line = 0;
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
    line++;
    char *comma = memchr(p, ',', (size_t)(end - p));
    char *next = nl ? nl + 1 : end;
    if (*trim(p, end) == 0 || *p == '#') {
      p = next;
      continue;
    }
    if (!comma)
      return hs_err_set(err, HS_E_CONFIG, "%s:%zu:1: expected key,value", path, line);
    char *k = trim(p, comma), *v = trim(comma + 1, end);
    if (!*k || !*v)
      return hs_err_set(err, HS_E_CONFIG, "%s:%zu:1: an empty key or value", path, line);
    if (line == 1 && !strcmp(k, "key") && !strcmp(v, "value")) {
      p = next;
      continue;
    }
    if (hs__table_put(t, k, strlen(k), v, strlen(v)))
      return HS_E_NOMEM;
    p = next;
  }
  return 0;
}

static int read_yaml(const char *path, const char *text, size_t len, table_t *t, hs_err_t *err) {
  yaml_document_t doc;
  int rc = hs__yaml_load(text, len, path, &doc, err);
  if (rc)
    return rc;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && root->type != YAML_MAPPING_NODE)
    rc = hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: expected a mapping of key: value", path,
                    root->start_mark.line + 1, root->start_mark.column + 1);
  for (yaml_node_pair_t *pr = root && !rc ? root->data.mapping.pairs.start : NULL;
       pr && pr < root->data.mapping.pairs.top && !rc; pr++) {
    yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
    if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE || !v->data.scalar.length)
      rc = hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: expected key: value (text)", path,
                      v->start_mark.line + 1, v->start_mark.column + 1);
    else
      rc = hs__table_put(t, (char *)k->data.scalar.value, k->data.scalar.length,
                         (char *)v->data.scalar.value, v->data.scalar.length);
  }
  yaml_document_delete(&doc);
  return rc;
}

int hs__file_read(const char *path, size_t max, hs_buf_t *b, hs_err_t *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return hs_err_set(err, HS_E_IO, "%s: %s", path, strerror(errno));
  char chunk[8192];
  size_t n;
  int rc = 0;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = b->len + n > max ? hs_err_set(err, HS_E_TOOBIG, "%s: over %zu bytes", path, max)
                          : hs_buf_append(b, chunk, n);
  if (!rc && ferror(f))
    rc = hs_err_set(err, HS_E_IO, "%s: read error", path);
  fclose(f);
  return rc == HS_E_NOMEM ? hs_err_set(err, rc, "%s: out of memory", path) : rc;
}

/* A table file is at most this large. */
#define MAX_TABLE_FILE (64 * 1024 * 1024)

int hs__lookup_read(const char *path, table_t *t, hs_err_t *err) {
  hs_buf_t b;
  hs_buf_init(&b);
  int rc = hs__file_read(path, MAX_TABLE_FILE, &b, err);
  if (!rc)
    rc = hs_buf_append(&b, "", 1);
  table_t nt = {0};
  if (!rc) {
    size_t pl = strlen(path);
    bool csv = pl > 4 && !strcmp(path + pl - 4, ".csv");
    rc = csv ? read_csv(path, b.data, &nt, err) : read_yaml(path, b.data, b.len - 1, &nt, err);
  }
  hs_buf_free(&b);
  if (rc == HS_E_NOMEM)
    hs_err_set(err, rc, "%s: out of memory", path);
  if (rc) {
    hs__table_free(&nt);
    return rc;
  }
  hs__table_free(t);
  *t = nt;
  return 0;
}

/* ---- in-memory aliases ---------------------------------------------------- */

static int mem_get(void *ctx, const char *table, hs_str_t key, char *out, size_t cap) {
  char k[512];
  int kn = snprintf(k, sizeof k, "%s\n%.*s", table, (int)key.len, key.ptr);
  if (kn < 0 || (size_t)kn >= sizeof k)
    return -1;
  const char *v = hs__table_get(ctx, k, (size_t)kn);
  if (!v)
    return -1;
  size_t n = strlen(v);
  if (n > cap)
    return -2;
  memcpy(out, v, n);
  return (int)n;
}

static int mem_put(void *ctx, const char *table, hs_str_t key, hs_str_t value) {
  char k[512];
  int kn = snprintf(k, sizeof k, "%s\n%.*s", table, (int)key.len, key.ptr);
  if (kn < 0 || (size_t)kn >= sizeof k)
    return HS_E_RANGE;
  return hs__table_put(ctx, k, (size_t)kn, value.ptr, value.len);
}

int hs_alias_mem_new(hs_alias_store_t *store) {
  table_t *t = hs_calloc(1, sizeof *t);
  if (!t)
    return HS_E_NOMEM;
  *store = (hs_alias_store_t){t, mem_get, mem_put};
  return 0;
}

void hs_alias_mem_free(hs_alias_store_t *store) {
  if (store->ctx)
    hs__table_free(store->ctx);
  hs_free(store->ctx);
  store->ctx = NULL;
}
