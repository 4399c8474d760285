/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Avro binary encoding of a document (a msgpack_object tree, as JSON records
 * are parsed): avro-c's generic value filled field by field against the
 * schema, then written. Strict: a value of the wrong type, a key the schema
 * does not have or a field missing is an error naming its path. */
#include "avro_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct enc_s {
  char path[512];
  size_t plen;
  unsigned depth;
  hs_err_t *err;
  hs_buf_t tmp; /* NUL-terminated copies of strings */
} enc_t;

static const char *where(const enc_t *e) {
  return e->plen ? e->path : "$";
}

static int fail(enc_t *e, const char *fmt, const char *a) {
  return hs_err_set(e->err, HS_E_SCHEMA, "avro: %s: %s%s", where(e), fmt, a ? a : "");
}

/* Pushes ".name" or "[i]" to the path; returns the length to restore. */
static size_t push(enc_t *e, const char *name, size_t n, long index) {
  size_t was = e->plen, room = sizeof e->path - e->plen;
  int w = index >= 0 ? snprintf(e->path + e->plen, room, "[%ld]", index)
          : e->plen  ? snprintf(e->path + e->plen, room, ".%.*s", (int)n, name)
                     : snprintf(e->path, room, "%.*s", (int)n, name);
  e->plen = w < 0 || (size_t)w >= room ? sizeof e->path - 1 : e->plen + (size_t)w;
  return was;
}

static const char *cstr(enc_t *e, const msgpack_object *o) {
  e->tmp.len = 0;
  if (hs_buf_append(&e->tmp, o->via.str.ptr, o->via.str.size) || hs_buf_append(&e->tmp, "", 1))
    return NULL;
  return e->tmp.data;
}

static bool int_of(const msgpack_object *o, int64_t *v) {
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
    return *v = o->via.i64, true;
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
    return *v = (int64_t)o->via.u64, true;
  return false;
}

/* Whether a value of msgpack type `o` fits Avro type `t` (for unions). */
static bool fits(const msgpack_object *o, avro_type_t t) {
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    return t == AVRO_NULL;
  case MSGPACK_OBJECT_BOOLEAN:
    return t == AVRO_BOOLEAN;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return t == AVRO_INT32 || t == AVRO_INT64 || t == AVRO_FLOAT || t == AVRO_DOUBLE;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return t == AVRO_FLOAT || t == AVRO_DOUBLE;
  case MSGPACK_OBJECT_STR:
    return t == AVRO_STRING || t == AVRO_BYTES || t == AVRO_ENUM || t == AVRO_FIXED;
  case MSGPACK_OBJECT_MAP:
    return t == AVRO_RECORD || t == AVRO_MAP;
  case MSGPACK_OBJECT_ARRAY:
    return t == AVRO_ARRAY;
  default:
    return false;
  }
}

/* "int", "record Invoice", "enum InvoiceStatus": the type a value lacks. */
static int wrong_type(enc_t *e, avro_schema_t sc) {
  avro_type_t t = avro_typeof(sc);
  const char *kind = t == AVRO_RECORD  ? "record "
                     : t == AVRO_ENUM  ? "enum "
                     : t == AVRO_FIXED ? "fixed "
                                       : "";
  char msg[300];
  snprintf(msg, sizeof msg, "wrong type for %s%s", kind, avro_schema_type_name(sc));
  return fail(e, msg, NULL);
}

static int fill(enc_t *e, avro_value_t *v, const msgpack_object *o);

static void pop(enc_t *e, size_t was) {
  e->plen = was;
  e->path[was] = 0;
}

static int oom(enc_t *e) {
  return hs_err_set(e->err, HS_E_NOMEM, "out of memory");
}

/* What an avro-c setter answered: nonzero is its own error. */
static int set_rc(enc_t *e, int rc) {
  return rc ? fail(e, "avro-c: ", avro_strerror()) : 0;
}

static int fill_record(enc_t *e, avro_value_t *v, avro_schema_t sc, const msgpack_object *o) {
  if (o->type != MSGPACK_OBJECT_MAP)
    return fail(e, "a record needs an object", NULL);
  size_t nf = avro_schema_record_size(sc);
  for (uint32_t k = 0; k < o->via.map.size; k++) { /* no key the schema lacks */
    const msgpack_object *key = &o->via.map.ptr[k].key;
    if (key->type != MSGPACK_OBJECT_STR)
      return fail(e, "a key that is not a string", NULL);
    const char *name = cstr(e, key);
    if (!name)
      return oom(e);
    if (avro_schema_record_field_get_index(sc, name) < 0)
      return fail(e, "no such field in the schema: ", name);
  }
  for (size_t i = 0; i < nf; i++) {
    const char *name = avro_schema_record_field_name(sc, (int)i);
    size_t n = strlen(name);
    const msgpack_object *val = NULL;
    for (uint32_t k = 0; k < o->via.map.size; k++)
      if (o->via.map.ptr[k].key.via.str.size == n &&
          !memcmp(o->via.map.ptr[k].key.via.str.ptr, name, n))
        val = &o->via.map.ptr[k].val;
    avro_value_t c;
    if (avro_value_get_by_index(v, i, &c, NULL))
      return fail(e, "avro-c: ", avro_strerror());
    size_t was = push(e, name, n, -1);
    static const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    int rc;
    if (!val && avro_value_get_type(&c) != AVRO_UNION && avro_value_get_type(&c) != AVRO_NULL)
      rc = fail(e, "missing (only a union with null may be left out)", NULL);
    else
      rc = fill(e, &c, val ? val : &nil);
    pop(e, was);
    if (rc)
      return rc;
  }
  return 0;
}

static int fill_union(enc_t *e, avro_value_t *v, avro_schema_t sc, const msgpack_object *o) {
  size_t nb = avro_schema_union_size(sc);
  for (size_t i = 0; i < nb; i++) {
    avro_schema_t b = avro_schema_union_branch(sc, (int)i);
    if (!fits(o, avro_typeof(b)))
      continue;
    avro_value_t c;
    if (avro_value_set_branch(v, (int)i, &c))
      return fail(e, "avro-c: ", avro_strerror());
    return fill(e, &c, o);
  }
  return fail(e, "no branch of the union takes this value", NULL);
}

static int fill_int(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  int64_t i;
  if (!int_of(o, &i) || i < INT32_MIN || i > INT32_MAX)
    return fail(e, "out of the range of int", NULL);
  return set_rc(e, avro_value_set_int(v, (int32_t)i));
}

static int fill_long(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  int64_t i;
  if (!int_of(o, &i))
    return fail(e, "out of the range of long", NULL);
  return set_rc(e, avro_value_set_long(v, i));
}

/* float or double, from any number */
static int fill_real(enc_t *e, avro_value_t *v, avro_type_t t, const msgpack_object *o) {
  double d = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (double)o->via.u64
             : o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)o->via.i64
                                                          : o->via.f64;
  return set_rc(e,
                t == AVRO_FLOAT ? avro_value_set_float(v, (float)d) : avro_value_set_double(v, d));
}

static int fill_string(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  const char *s = cstr(e, o);
  if (!s)
    return oom(e);
  return set_rc(e, avro_value_set_string_len(v, s, (size_t)o->via.str.size + 1));
}

static int fill_fixed(enc_t *e, avro_value_t *v, avro_schema_t sc, const msgpack_object *o) {
  if ((int64_t)o->via.str.size != avro_schema_fixed_size(sc))
    return fail(e, "not the size of fixed ", avro_schema_name(sc));
  return set_rc(e, avro_value_set_fixed(v, (void *)o->via.str.ptr, o->via.str.size));
}

static int fill_enum(enc_t *e, avro_value_t *v, avro_schema_t sc, const msgpack_object *o) {
  const char *s = cstr(e, o);
  if (!s)
    return oom(e);
  int sym = avro_schema_enum_get_by_name(sc, s);
  if (sym < 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "\"%s\" is not a symbol of %s", s, avro_schema_name(sc));
    return fail(e, msg, NULL);
  }
  return set_rc(e, avro_value_set_enum(v, sym));
}

static int fill_array(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  for (uint32_t k = 0; k < o->via.array.size; k++) {
    avro_value_t c;
    if (avro_value_append(v, &c, NULL))
      return fail(e, "avro-c: ", avro_strerror());
    size_t was = push(e, NULL, 0, (long)k);
    int rc = fill(e, &c, &o->via.array.ptr[k]);
    pop(e, was);
    if (rc)
      return rc;
  }
  return 0;
}

static int fill_map(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  for (uint32_t k = 0; k < o->via.map.size; k++) {
    const msgpack_object *key = &o->via.map.ptr[k].key;
    if (key->type != MSGPACK_OBJECT_STR)
      return fail(e, "a key that is not a string", NULL);
    const char *s = cstr(e, key);
    if (!s)
      return oom(e);
    avro_value_t c;
    if (avro_value_add(v, s, &c, NULL, NULL))
      return fail(e, "avro-c: ", avro_strerror());
    size_t was = push(e, key->via.str.ptr, key->via.str.size, -1);
    int rc = fill(e, &c, &o->via.map.ptr[k].val);
    pop(e, was);
    if (rc)
      return rc;
  }
  return 0;
}

/* A value of type t, whose msgpack type fits it (but for unions). */
static int fill_as(enc_t *e, avro_value_t *v, avro_type_t t, const msgpack_object *o) {
  avro_schema_t sc = avro_value_get_schema(v);
  switch (t) {
  case AVRO_NULL:
    return set_rc(e, avro_value_set_null(v));
  case AVRO_BOOLEAN:
    return set_rc(e, avro_value_set_boolean(v, o->via.boolean));
  case AVRO_INT32:
    return fill_int(e, v, o);
  case AVRO_INT64:
    return fill_long(e, v, o);
  case AVRO_FLOAT:
  case AVRO_DOUBLE:
    return fill_real(e, v, t, o);
  case AVRO_STRING:
    return fill_string(e, v, o);
  case AVRO_BYTES:
    return set_rc(e, avro_value_set_bytes(v, (void *)o->via.str.ptr, o->via.str.size));
  case AVRO_FIXED:
    return fill_fixed(e, v, sc, o);
  case AVRO_ENUM:
    return fill_enum(e, v, sc, o);
  case AVRO_RECORD:
    return fill_record(e, v, sc, o);
  case AVRO_UNION:
    return fill_union(e, v, sc, o);
  case AVRO_ARRAY:
    return fill_array(e, v, o);
  case AVRO_MAP:
    return fill_map(e, v, o);
  default:
    return fail(e, "unsupported Avro type ", avro_schema_type_name(sc));
  }
}

/* A value at any depth: its type checked, then filled by its kind. */
static int fill(enc_t *e, avro_value_t *v, const msgpack_object *o) {
  avro_type_t t = avro_value_get_type(v);
  if (t != AVRO_UNION && !fits(o, t))
    return wrong_type(e, avro_value_get_schema(v));
  if (++e->depth > 64)
    return hs_err_set(e->err, HS_E_SCHEMA, "avro: %s: nested deeper than 64", where(e));
  int rc = fill_as(e, v, t, o);
  e->depth--;
  return rc;
}

int hs_avro_encode(hs_avro_schema_t *s, const msgpack_object *doc, hs_buf_t *out, hs_err_t *err) {
  enc_t e = {.err = err};
  hs_buf_init(&e.tmp);
  avro_value_t v;
  if (avro_generic_value_new(s->iface, &v))
    return hs_err_set(err, HS_E_NOMEM, "avro: %s", avro_strerror());
  int rc = fill(&e, &v, doc);
  size_t size = 0;
  if (!rc && avro_value_sizeof(&v, &size))
    rc = hs_err_set(err, HS_E_SCHEMA, "avro: %s", avro_strerror());
  if (!rc && (rc = hs_buf_reserve(out, size)) != 0)
    hs_err_set(err, rc, "out of memory");
  if (!rc) {
    avro_writer_t w = avro_writer_memory((char *)out->data + out->len, (int64_t)size);
    if (!w || avro_value_write(w, &v))
      rc = hs_err_set(err, HS_E_SCHEMA, "avro: %s", avro_strerror());
    else
      out->len += size;
    if (w)
      avro_writer_free(w);
  }
  avro_value_decref(&v);
  hs_buf_free(&e.tmp);
  return rc;
}
