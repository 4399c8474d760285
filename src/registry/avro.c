/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Avro binary decoding into a msgpack_object tree. avro-c allocates by the
 * lengths and counts a message announces (a string of 2^40 bytes is one
 * malloc of 2^40 + 1; an array of 2^31 nulls, 2^31 appends), so every datum
 * is first walked here against its schema without allocating: each length
 * and block count is checked against the bytes left, entries against the
 * item limit and the message's length, nesting against the depth limit.
 * Only a datum that passes reaches avro_value_read. */
#include "avro_internal.h"

#include <avro.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MAX_ITEMS 65536
#define DEFAULT_MAX_DEPTH 64

int hs_avro_schema_parse(const char *json, size_t len, const hs_avro_limits_t *limits,
                         hs_avro_schema_t **out, hs_err_t *err) {
  *out = NULL;
  avro_schema_t schema = NULL;
  if (avro_schema_from_json_length(json, len, &schema) != 0)
    return hs_err_set(err, HS_E_SCHEMA, "avro schema does not parse: %s", avro_strerror());
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  if (!iface) {
    hs_err_set(err, HS_E_SCHEMA, "avro schema not usable: %s", avro_strerror());
    avro_schema_decref(schema);
    return HS_E_SCHEMA;
  }
  hs_avro_schema_t *s = hs_calloc(1, sizeof *s);
  avro_reader_t reader = avro_reader_memory("", 0);
  if (!s || !reader) {
    hs_free(s);
    if (reader)
      avro_reader_free(reader);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  s->schema = schema;
  s->iface = iface;
  s->reader = reader;
  if (limits)
    s->lim = *limits;
  if (!s->lim.max_items)
    s->lim.max_items = DEFAULT_MAX_ITEMS;
  if (!s->lim.max_depth)
    s->lim.max_depth = DEFAULT_MAX_DEPTH;
  *out = s;
  return 0;
}

int hs_avro_schema_load(const char *path, const hs_avro_limits_t *limits, hs_avro_schema_t **out,
                        hs_err_t *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return hs_err_set(err, HS_E_IO, "%s: %s", path, strerror(errno));
  hs_buf_t b;
  hs_buf_init(&b);
  char chunk[4096];
  size_t n;
  int rc = 0;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = b.len + n > HS_AVRO_MAX_SCHEMA
             ? hs_err_set(err, HS_E_TOOBIG, "%s: larger than %d bytes", path, HS_AVRO_MAX_SCHEMA)
         : hs_buf_append(&b, chunk, n) ? hs_err_set(err, HS_E_NOMEM, "out of memory")
                                       : 0;
  if (!rc && ferror(f))
    rc = hs_err_set(err, HS_E_IO, "%s: read error", path);
  fclose(f);
  if (!rc) {
    rc = hs_avro_schema_parse(b.data ? b.data : "", b.len, limits, out, err);
    if (rc && err) {
      char msg[sizeof err->msg];
      memcpy(msg, err->msg, sizeof msg);
      hs_err_set(err, rc, "%s: %.200s", path, msg);
    }
  }
  hs_buf_free(&b);
  return rc;
}

void hs_avro_schema_free(hs_avro_schema_t *s) {
  if (!s)
    return;
  avro_reader_free(s->reader);
  avro_value_iface_decref(s->iface);
  avro_schema_decref(s->schema);
  hs_free(s);
}

/* ---- the walk: validation without allocation ---- */

typedef struct walk_s {
  const uint8_t *p;
  size_t len, pos, items;
  const hs_avro_limits_t *lim;
  hs_reject_t why;
  hs_err_t *err;
} walk_t;

__attribute__((format(printf, 3, 4))) static int fail(walk_t *w, hs_reject_t why, const char *fmt,
                                                      ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  w->why = why;
  return hs_err_set(w->err, why == HS_REJ_TOOBIG ? HS_E_TOOBIG : HS_E_PARSE,
                    "avro: at byte %zu: %s", w->pos, msg);
}

static size_t left(const walk_t *w) {
  return w->len - w->pos;
}

/* A zig-zag varint of at most `max_bytes` bytes (5 for int, 10 for long). */
static int rd_varint(walk_t *w, unsigned max_bytes, int64_t *out) {
  uint64_t v = 0;
  for (unsigned i = 0;; i++) {
    if (i == max_bytes)
      return fail(w, HS_REJ_DECODE, "varint longer than %u bytes", max_bytes);
    if (w->pos >= w->len)
      return fail(w, HS_REJ_DECODE, "truncated: varint cut short");
    uint8_t b = w->p[w->pos++];
    if (i == 9 && (b & 0xfe))
      return fail(w, HS_REJ_DECODE, "varint over 64 bits");
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80))
      break;
  }
  *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
  if (max_bytes == 5 && (*out > INT32_MAX || *out < INT32_MIN))
    return fail(w, HS_REJ_DECODE, "int out of 32-bit range");
  return 0;
}

/* A string or bytes: a length, then that many bytes. */
static int walk_blob(walk_t *w, bool text) {
  int64_t n;
  if (rd_varint(w, 10, &n))
    return w->err ? w->err->code : HS_E_PARSE;
  if (n < 0)
    return fail(w, HS_REJ_DECODE, "negative length %lld", (long long)n);
  if ((uint64_t)n > left(w))
    return fail(w, HS_REJ_DECODE, "truncated: length %lld announced, %zu bytes left", (long long)n,
                left(w));
  if (text && !hs_utf8_valid(w->p + w->pos, (size_t)n))
    return fail(w, HS_REJ_DECODE, "string is not UTF-8");
  w->pos += (size_t)n;
  return 0;
}

static avro_schema_t deref(avro_schema_t s) {
  while (is_avro_link(s))
    s = avro_schema_link_target(s);
  return s;
}

/* The fewest bytes a value of `s` takes (links count 0: a lower bound). */
static size_t min_size(avro_schema_t s, unsigned depth) {
  if (depth > 8)
    return 0;
  switch (avro_typeof(s)) {
  case AVRO_NULL:
  case AVRO_LINK:
    return 0;
  case AVRO_FLOAT:
    return 4;
  case AVRO_DOUBLE:
    return 8;
  case AVRO_FIXED:
    return (size_t)avro_schema_fixed_size(s);
  case AVRO_RECORD: {
    size_t sum = 0, n = avro_schema_record_size(s);
    for (size_t i = 0; i < n && sum < SIZE_MAX / 2; i++)
      sum += min_size(avro_schema_record_field_get_by_index(s, (int)i), depth + 1);
    return sum;
  }
  default: /* every other type starts with at least one varint or byte */
    return 1;
  }
}

static int walk(walk_t *w, avro_schema_t s, unsigned depth);

static int walk_blocks(walk_t *w, avro_schema_t elem, bool is_map, unsigned depth) {
  size_t min = min_size(elem, 0) + (is_map ? 1 : 0);
  for (;;) {
    int64_t count;
    if (rd_varint(w, 10, &count))
      return HS_E_PARSE;
    if (count == 0)
      return 0;
    if (count < 0) {
      if (count == INT64_MIN)
        return fail(w, HS_REJ_DECODE, "block count out of range");
      count = -count;
      int64_t bytes;
      if (rd_varint(w, 10, &bytes))
        return HS_E_PARSE;
      if (bytes < 0 || (uint64_t)bytes > left(w))
        return fail(w, HS_REJ_DECODE, "truncated: block size %lld announced, %zu bytes left",
                    (long long)bytes, left(w));
    }
    if ((uint64_t)count > w->lim->max_items - w->items)
      return fail(w, HS_REJ_TOOBIG, "%lld entries announced, over the limit of %zu per message",
                  (long long)count, w->lim->max_items);
    if (min && (uint64_t)count > left(w) / min)
      return fail(w, HS_REJ_DECODE, "truncated: %lld entries announced, %zu bytes left",
                  (long long)count, left(w));
    /* entries that take no bytes (null, empty records) still cost memory:
     * no more entries in a message than it has bytes */
    if ((uint64_t)count > w->len - w->items)
      return fail(w, HS_REJ_TOOBIG,
                  "%lld entries announced, more than the %zu bytes of the message",
                  (long long)count, w->len);
    w->items += (size_t)count;
    for (int64_t i = 0; i < count; i++) {
      if ((is_map && walk_blob(w, true)) || walk(w, elem, depth + 1))
        return HS_E_PARSE;
    }
  }
}

static int walk(walk_t *w, avro_schema_t s, unsigned depth) {
  if (depth > w->lim->max_depth)
    return fail(w, HS_REJ_TOOBIG, "nested deeper than %u", w->lim->max_depth);
  s = deref(s);
  int64_t v;
  switch (avro_typeof(s)) {
  case AVRO_NULL:
    return 0;
  case AVRO_BOOLEAN:
    if (!left(w))
      return fail(w, HS_REJ_DECODE, "truncated: boolean missing");
    if (w->p[w->pos] > 1)
      return fail(w, HS_REJ_DECODE, "boolean byte %u", w->p[w->pos]);
    w->pos++;
    return 0;
  case AVRO_INT32:
    return rd_varint(w, 5, &v);
  case AVRO_INT64:
    return rd_varint(w, 10, &v);
  case AVRO_FLOAT:
  case AVRO_DOUBLE: {
    size_t n = avro_typeof(s) == AVRO_FLOAT ? 4 : 8;
    if (left(w) < n)
      return fail(w, HS_REJ_DECODE, "truncated: %zu-byte number, %zu bytes left", n, left(w));
    w->pos += n;
    return 0;
  }
  case AVRO_STRING:
  case AVRO_BYTES:
    return walk_blob(w, avro_typeof(s) == AVRO_STRING);
  case AVRO_FIXED: {
    size_t n = (size_t)avro_schema_fixed_size(s);
    if (left(w) < n)
      return fail(w, HS_REJ_DECODE, "truncated: fixed of %zu bytes, %zu left", n, left(w));
    w->pos += n;
    return 0;
  }
  case AVRO_ENUM:
    if (rd_varint(w, 5, &v))
      return HS_E_PARSE;
    if (v < 0 || v >= avro_schema_enum_number_of_symbols(s))
      return fail(w, HS_REJ_DECODE, "enum index %lld out of range", (long long)v);
    return 0;
  case AVRO_UNION:
    if (rd_varint(w, 10, &v))
      return HS_E_PARSE;
    if (v < 0 || (uint64_t)v >= avro_schema_union_size(s))
      return fail(w, HS_REJ_DECODE, "union branch %lld out of range", (long long)v);
    return walk(w, avro_schema_union_branch(s, (int)v), depth + 1);
  case AVRO_RECORD: {
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++)
      if (walk(w, avro_schema_record_field_get_by_index(s, (int)i), depth + 1))
        return HS_E_PARSE;
    return 0;
  }
  case AVRO_ARRAY:
    return walk_blocks(w, avro_schema_array_items(s), false, depth);
  case AVRO_MAP:
    return walk_blocks(w, avro_schema_map_values(s), true, depth);
  default:
    return fail(w, HS_REJ_DECODE, "unsupported schema type %d", (int)avro_typeof(s));
  }
}

/* ---- conversion of avro-c's value into msgpack objects ---- */

static int conv(avro_value_t *v, msgpack_zone *z, msgpack_object *o);

static int copy_raw(msgpack_zone *z, const void *p, size_t n, const char **out) {
  char *d = msgpack_zone_malloc(z, n ? n : 1);
  if (!d)
    return HS_E_NOMEM;
  if (n)
    memcpy(d, p, n);
  *out = d;
  return 0;
}

static void set_int(msgpack_object *o, int64_t i) {
  if (i >= 0) {
    o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    o->via.u64 = (uint64_t)i;
  } else {
    o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
    o->via.i64 = i;
  }
}

static int conv_children(avro_value_t *v, msgpack_zone *z, msgpack_object *o, int kind) {
  size_t n = 0;
  if (avro_value_get_size(v, &n))
    return HS_E_PARSE;
  void *arr = NULL;
  if (n) {
    size_t each = kind == AVRO_ARRAY ? sizeof(msgpack_object) : sizeof(msgpack_object_kv);
    if (!(arr = msgpack_zone_malloc(z, n * each)))
      return HS_E_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    avro_value_t child;
    const char *name = NULL;
    if (avro_value_get_by_index(v, i, &child, &name))
      return HS_E_PARSE;
    if (kind == AVRO_ARRAY) {
      if (conv(&child, z, (msgpack_object *)arr + i))
        return HS_E_PARSE;
      continue;
    }
    msgpack_object_kv *kv = (msgpack_object_kv *)arr + i;
    size_t klen = name ? strlen(name) : 0;
    kv->key.type = MSGPACK_OBJECT_STR;
    kv->key.via.str.size = (uint32_t)klen;
    if (copy_raw(z, name, klen, &kv->key.via.str.ptr) || conv(&child, z, &kv->val))
      return HS_E_NOMEM;
  }
  if (kind == AVRO_ARRAY) {
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)n;
    o->via.array.ptr = arr;
  } else {
    o->type = MSGPACK_OBJECT_MAP;
    o->via.map.size = (uint32_t)n;
    o->via.map.ptr = arr;
  }
  return 0;
}

static int conv(avro_value_t *v, msgpack_zone *z, msgpack_object *o) {
  memset(o, 0, sizeof *o);
  const void *p = NULL;
  const char *cp = NULL;
  size_t n = 0;
  int32_t i32;
  int64_t i64;
  float f;
  double d;
  int b;
  avro_value_t branch;
  switch (avro_value_get_type(v)) {
  case AVRO_NULL:
    o->type = MSGPACK_OBJECT_NIL;
    return 0;
  case AVRO_BOOLEAN:
    if (avro_value_get_boolean(v, &b))
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_BOOLEAN;
    o->via.boolean = b != 0;
    return 0;
  case AVRO_INT32:
    if (avro_value_get_int(v, &i32))
      return HS_E_PARSE;
    set_int(o, i32);
    return 0;
  case AVRO_INT64:
    if (avro_value_get_long(v, &i64))
      return HS_E_PARSE;
    set_int(o, i64);
    return 0;
  case AVRO_FLOAT:
    if (avro_value_get_float(v, &f))
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_FLOAT64;
    o->via.f64 = f;
    return 0;
  case AVRO_DOUBLE:
    if (avro_value_get_double(v, &d))
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_FLOAT64;
    o->via.f64 = d;
    return 0;
  case AVRO_STRING: /* the size avro-c reports counts the NUL */
    if (avro_value_get_string(v, &cp, &n))
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.size = (uint32_t)(n ? n - 1 : 0);
    return copy_raw(z, cp, o->via.str.size, &o->via.str.ptr);
  case AVRO_BYTES:
  case AVRO_FIXED:
    if (avro_value_get_type(v) == AVRO_BYTES ? avro_value_get_bytes(v, &p, &n)
                                             : avro_value_get_fixed(v, &p, &n))
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_BIN;
    o->via.bin.size = (uint32_t)n;
    return copy_raw(z, p, n, &o->via.bin.ptr);
  case AVRO_ENUM: {
    if (avro_value_get_enum(v, &b))
      return HS_E_PARSE;
    const char *sym = avro_schema_enum_get(avro_value_get_schema(v), b);
    if (!sym)
      return HS_E_PARSE;
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.size = (uint32_t)strlen(sym);
    return copy_raw(z, sym, o->via.str.size, &o->via.str.ptr);
  }
  case AVRO_UNION:
    if (avro_value_get_current_branch(v, &branch))
      return HS_E_PARSE;
    return conv(&branch, z, o);
  case AVRO_RECORD:
  case AVRO_MAP:
    return conv_children(v, z, o, AVRO_MAP);
  case AVRO_ARRAY:
    return conv_children(v, z, o, AVRO_ARRAY);
  default:
    return HS_E_PARSE;
  }
}

int hs_avro_decode(hs_avro_schema_t *s, const void *buf, size_t len, msgpack_zone *zone,
                   msgpack_object *out, hs_reject_t *why, hs_err_t *err) {
  *why = HS_REJ_NONE;
  walk_t w = {.p = buf, .len = len, .lim = &s->lim, .err = err};
  hs_err_t local = {0};
  if (!err)
    w.err = &local;
  if (walk(&w, s->schema, 0)) {
    *why = w.why;
    return w.err->code;
  }
  if (w.pos != len) {
    *why = HS_REJ_TRAILING;
    return hs_err_set(err, HS_E_PARSE, "avro: %zu trailing bytes after the value (at byte %zu)",
                      len - w.pos, w.pos);
  }
  avro_value_t value;
  if (avro_generic_value_new(s->iface, &value))
    return hs_err_set(err, HS_E_NOMEM, "avro: %s", avro_strerror());
  avro_reader_memory_set_source(s->reader, len ? buf : "", (int64_t)len);
  int rc = 0;
  if (avro_value_read(s->reader, &value)) {
    *why = HS_REJ_DECODE;
    rc = hs_err_set(err, HS_E_PARSE, "avro: %s", avro_strerror());
  } else if ((rc = conv(&value, zone, out)) != 0) {
    *why = HS_REJ_DECODE;
    hs_err_set(err, rc, "avro: value not convertible (%s)", hs_strerror(rc));
  }
  avro_value_decref(&value);
  return rc;
}
