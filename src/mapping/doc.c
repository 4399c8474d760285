/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Records into msgpack_object trees: JSON through yajl's SAX parser, msgpack
 * through msgpack-c once its size has been checked without allocating. Both
 * refuse what the event decoder refuses, so that a mapped field never holds
 * text the engine would not accept as written. */
#include "healthscore/mapping.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

struct hs_doc_parser_s {
  size_t max_message;
  msgpack_zone zone;
  /* JSON: values of the containers being built, in order (keys and values
     alternate in a map); frames say where each open container starts */
  msgpack_object *items;
  size_t n_items, cap_items;
  size_t frame[HS_DOC_MAX_DEPTH + 1];
  bool frame_map[HS_DOC_MAX_DEPTH + 1];
  int depth;
  hs_err_t *err;
  int rc;
  yajl_handle yh;
};

__attribute__((format(printf, 3, 4))) static int fail(hs_doc_parser_t *p, int code, const char *fmt,
                                                      ...) {
  if (p->rc)
    return 0;
  p->rc = code;
  va_list ap;
  va_start(ap, fmt);
  if (p->err) {
    p->err->code = code;
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
  }
  va_end(ap);
  return 0;
}

int hs_doc_parser_new(hs_doc_parser_t **out, size_t max_message) {
  *out = NULL;
  hs_doc_parser_t *p = hs_calloc(1, sizeof *p);
  if (!p)
    return HS_E_NOMEM;
  p->max_message = max_message ? max_message : HS_DOC_DEFAULT_MAX_MESSAGE;
  if (!msgpack_zone_init(&p->zone, 8192)) {
    hs_free(p);
    return HS_E_NOMEM;
  }
  *out = p;
  return 0;
}

void hs_doc_parser_free(hs_doc_parser_t *p) {
  if (!p)
    return;
  msgpack_zone_destroy(&p->zone);
  hs_free(p->items);
  hs_free(p);
}

static size_t at(hs_doc_parser_t *p) {
  size_t n = yajl_get_bytes_consumed(p->yh);
  return n ? n - 1 : 0;
}

static bool push(hs_doc_parser_t *p, msgpack_object o) {
  if (p->n_items == p->cap_items) {
    msgpack_object *g = hs_array_grow(p->items, &p->cap_items, p->n_items, sizeof *g, 64);
    if (!g)
      return fail(p, HS_E_NOMEM, "out of memory"), false;
    p->items = g;
  }
  p->items[p->n_items++] = o;
  return true;
}

/* The value just completed goes into its container (or is the root). */
static int value(hs_doc_parser_t *p, msgpack_object o) {
  return push(p, o) ? 1 : 0;
}

static int j_null(void *ctx) {
  return value(ctx, (msgpack_object){.type = MSGPACK_OBJECT_NIL});
}

static int j_bool(void *ctx, int b) {
  return value(ctx, (msgpack_object){.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = b != 0});
}

static int j_int(void *ctx, long long i) {
  msgpack_object o;
  if (i >= 0)
    o = (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t)i};
  else
    o = (msgpack_object){.type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = i};
  return value(ctx, o);
}

static int j_double(void *ctx, double d) {
  return value(ctx, (msgpack_object){.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = d});
}

static bool str_obj(hs_doc_parser_t *p, const unsigned char *s, size_t n, msgpack_object *o) {
  static char empty[1];
  /* never NULL, so that an empty string is never (NULL, 0) for memcpy */
  char *c = n ? msgpack_zone_malloc_no_align(&p->zone, n) : empty;
  if (!c)
    return fail(p, HS_E_NOMEM, "out of memory"), false;
  memcpy(c, s, n);
  *o = (msgpack_object){.type = MSGPACK_OBJECT_STR, .via.str = {(uint32_t)n, c}};
  return true;
}

static int j_string(void *ctx, const unsigned char *s, size_t n) {
  msgpack_object o;
  return str_obj(ctx, s, n, &o) && value(ctx, o);
}

static int j_key(void *ctx, const unsigned char *s, size_t n) {
  hs_doc_parser_t *p = ctx;
  size_t start = p->frame[p->depth];
  size_t keys = (p->n_items - start) / 2;
  if (keys >= HS_DOC_MAX_KEYS)
    return fail(p, HS_E_RANGE, "malformed JSON at byte %zu: an object of more than %d keys", at(p),
                HS_DOC_MAX_KEYS);
  for (size_t i = start; i < p->n_items; i += 2)
    if (p->items[i].via.str.size == n && !memcmp(p->items[i].via.str.ptr, s, n))
      return fail(p, HS_E_SCHEMA, "malformed JSON at byte %zu: duplicate key \"%.*s\"", at(p),
                  (int)(n > 64 ? 64 : n), (const char *)s);
  msgpack_object o;
  return str_obj(p, s, n, &o) && value(p, o);
}

static int open_container(hs_doc_parser_t *p, bool map) {
  if (p->depth == HS_DOC_MAX_DEPTH)
    return fail(p, HS_E_RANGE, "malformed JSON at byte %zu: nested deeper than %d", at(p),
                HS_DOC_MAX_DEPTH);
  p->depth++;
  p->frame[p->depth] = p->n_items;
  p->frame_map[p->depth] = map;
  return 1;
}

static int close_container(hs_doc_parser_t *p) {
  size_t start = p->frame[p->depth], n = p->n_items - start;
  bool map = p->frame_map[p->depth];
  msgpack_object o;
  if (map) {
    msgpack_object_kv *kv = n ? msgpack_zone_malloc(&p->zone, n / 2 * sizeof *kv) : NULL;
    if (n && !kv)
      return fail(p, HS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n / 2; i++)
      kv[i] = (msgpack_object_kv){p->items[start + 2 * i], p->items[start + 2 * i + 1]};
    o = (msgpack_object){.type = MSGPACK_OBJECT_MAP, .via.map = {(uint32_t)(n / 2), kv}};
  } else {
    msgpack_object *a = n ? msgpack_zone_malloc(&p->zone, n * sizeof *a) : NULL;
    if (n && !a)
      return fail(p, HS_E_NOMEM, "out of memory");
    if (n)
      memcpy(a, p->items + start, n * sizeof *a);
    o = (msgpack_object){.type = MSGPACK_OBJECT_ARRAY, .via.array = {(uint32_t)n, a}};
  }
  p->n_items = start;
  p->depth--;
  return value(p, o);
}

static int j_start_map(void *ctx) {
  return open_container(ctx, true);
}
static int j_start_array(void *ctx) {
  return open_container(ctx, false);
}
static int j_end(void *ctx) {
  return close_container(ctx);
}

static const yajl_callbacks callbacks = {j_null,      j_bool, j_int, j_double,      NULL, j_string,
                                         j_start_map, j_key,  j_end, j_start_array, j_end};

static int hexval(const unsigned char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = s[i];
    int x = c >= '0' && c <= '9'                 ? c - '0'
            : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
                                                 : -1;
    if (x < 0)
      return -1;
    v = v << 4 | x;
  }
  return v;
}

/* yajl turns an unpaired UTF-16 surrogate escape into "?" or into bytes that
 * are not UTF-8, so distinct strings would become equal: every `\u` escape
 * of the raw text is checked before parsing (a backslash outside a string
 * is a syntax error yajl reports anyway). Malformed escapes are left to
 * yajl. Returns the byte of the first bad escape, or len. */
static size_t bad_surrogate(const unsigned char *s, size_t len, int *code) {
  for (const unsigned char *b = memchr(s, '\\', len); b;
       b = memchr(b, '\\', len - (size_t)(b - s))) {
    size_t i = (size_t)(b - s) + 1; /* the escaped character */
    if (i >= len)
      break;
    b = s + i + 1;
    if (s[i] != 'u' || i + 4 >= len)
      continue;
    int u = hexval(s + i + 1);
    bool high = u >= 0xd800 && u <= 0xdbff, low = u >= 0xdc00 && u <= 0xdfff;
    if (high && i + 10 < len && s[i + 5] == '\\' && s[i + 6] == 'u') {
      int v = hexval(s + i + 7);
      if (v >= 0xdc00 && v <= 0xdfff) {
        b = s + i + 11;
        continue;
      }
    }
    if (high || low) {
      *code = u;
      return i - 1;
    }
    b = s + i + 5;
  }
  return len;
}

/* Starts a record: the previous tree is released; 0, or HS_E_TOOBIG. */
static int start(hs_doc_parser_t *p, size_t len, hs_err_t *err) {
  msgpack_zone_clear(&p->zone);
  p->n_items = 0;
  p->depth = 0;
  p->rc = 0;
  p->err = err;
  if (len > p->max_message)
    fail(p, HS_E_TOOBIG, "record of %zu bytes is over the limit of %zu", len, p->max_message);
  return p->rc;
}

int hs_doc_parse_json(hs_doc_parser_t *p, const void *buf, size_t len, msgpack_object *out,
                      hs_err_t *err) {
  if (start(p, len, err))
    return p->rc;
  int u = 0;
  size_t bad = bad_surrogate(buf, len, &u);
  if (bad < len)
    return fail(p, HS_E_PARSE,
                "malformed JSON at byte %zu: \\u%04x is an unpaired UTF-16 surrogate, not a "
                "character",
                bad, (unsigned)u),
           p->rc;
  yajl_handle h = yajl_alloc(&callbacks, NULL, p);
  if (!h)
    return HS_E_NOMEM;
  p->yh = h;
  yajl_status st = yajl_parse(h, buf, len);
  bool ended = false;
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    ended = true;
  }
  if (st != yajl_status_ok && !p->rc) {
    unsigned char *m = yajl_get_error(h, 0, buf, len);
    char msg[160];
    snprintf(msg, sizeof msg, "%s", m ? (const char *)m : "malformed");
    for (char *c = msg; *c; c++)
      if (*c == '\n')
        *c = ' ';
    if (m)
      yajl_free_error(h, m);
    if (ended)
      fail(p, HS_E_PARSE, "malformed JSON at byte %zu: truncated (the record ends inside it)", len);
    else
      fail(p, HS_E_PARSE, "malformed JSON at byte %zu: %s", at(p), msg);
  }
  yajl_free(h);
  if (!p->rc && p->n_items != 1)
    fail(p, HS_E_PARSE, "malformed JSON at byte 0: empty record");
  if (!p->rc)
    *out = p->items[0];
  return p->rc;
}

/* ---- msgpack --------------------------------------------------------------- */

static bool utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      k = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      k = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      k = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += k + 1;
  }
  return true;
}

static bool same_str(const msgpack_object *a, const msgpack_object *b) {
  return a->type == MSGPACK_OBJECT_STR && b->type == MSGPACK_OBJECT_STR &&
         a->via.str.size == b->via.str.size &&
         !memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size);
}

static int check_tree(hs_doc_parser_t *p, const msgpack_object *o) {
  switch (o->type) {
  case MSGPACK_OBJECT_STR:
    if (!utf8((const unsigned char *)o->via.str.ptr, o->via.str.size))
      return fail(p, HS_E_PARSE, "malformed msgpack: a string that is not UTF-8"), p->rc;
    return 0;
  case MSGPACK_OBJECT_ARRAY:
    for (uint32_t i = 0; i < o->via.array.size; i++)
      if (check_tree(p, &o->via.array.ptr[i]))
        return p->rc;
    return 0;
  case MSGPACK_OBJECT_MAP:
    if (o->via.map.size > HS_DOC_MAX_KEYS)
      return fail(p, HS_E_RANGE, "malformed msgpack: a map of more than %d keys", HS_DOC_MAX_KEYS),
             p->rc;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
      const msgpack_object *k = &o->via.map.ptr[i].key;
      if (k->type != MSGPACK_OBJECT_STR)
        return fail(p, HS_E_SCHEMA, "malformed msgpack: a map key that is not a string"), p->rc;
      for (uint32_t j = 0; j < i; j++)
        if (same_str(k, &o->via.map.ptr[j].key))
          return fail(p, HS_E_SCHEMA, "malformed msgpack: duplicate key \"%.*s\"",
                      (int)(k->via.str.size > 64 ? 64 : k->via.str.size), k->via.str.ptr),
                 p->rc;
      if (check_tree(p, k) || check_tree(p, &o->via.map.ptr[i].val))
        return p->rc;
    }
    return 0;
  default:
    return 0;
  }
}

int hs_doc_unpack_msgpack(hs_doc_parser_t *p, const void *buf, size_t len, msgpack_object *out,
                          hs_err_t *err) {
  if (start(p, len, err))
    return p->rc;
  size_t n = 0;
  /* bounds-checked first: msgpack-c allocates what a header claims */
  int rc = hs_msgpack_object_size(buf, len, &n);
  if (rc == 1)
    return fail(p, HS_E_PARSE,
                "malformed msgpack at byte %zu: truncated (the record ends inside "
                "it)",
                len),
           p->rc;
  if (rc)
    return fail(p, HS_E_PARSE, "malformed msgpack: not a msgpack object nested at most %d deep",
                HS_DOC_MAX_DEPTH),
           p->rc;
  if (n != len)
    return fail(p, HS_E_PARSE, "malformed msgpack at byte %zu: trailing bytes", n), p->rc;
  size_t off = 0;
  if (msgpack_unpack(buf, len, &off, &p->zone, out) != MSGPACK_UNPACK_SUCCESS || off != len)
    return fail(p, HS_E_PARSE, "malformed msgpack at byte %zu", off), p->rc;
  return check_tree(p, out);
}
