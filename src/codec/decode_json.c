/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* JSON events through yajl's SAX parser: each scalar goes to the field
 * layer; containers, keys and escapes are checked here. */
#include "fields.h"
#include "json_scan.h"

static int hex4(const unsigned char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = p[i], x = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (x < 0)
      return -1;
    v = v << 4 | x;
  }
  return v;
}

/* yajl decodes a high UTF-16 surrogate escape not followed by an escaped
 * low one into "?", a lone low one into bytes that are not UTF-8, and a high
 * one followed by any other \u escape into some unrelated character, so
 * that different strings would become equal. The string token just read
 * (yajl hands over a decoded copy only when it had escapes) ends before the
 * parser's offset; its escapes are checked here. Returns false with the
 * reason. */
static bool check_surrogates(hs_decoder_t *d, bool key) {
  size_t end = yajl_get_bytes_consumed(d->yh), len = (size_t)(d->msg_end - d->msg);
  const unsigned char *m = d->msg;
  if (end < 2 || end > len || m[end - 1] != '"')
    return true; /* not where the token should be: nothing to check */
  size_t close = end - 1, open = close;
  /* the opening quote: the first one before that no backslash escapes */
  while (open-- > 0) {
    if (m[open] != '"')
      continue;
    size_t bs = 0;
    while (bs < open && m[open - bs - 1] == '\\')
      bs++;
    if (bs % 2 == 0)
      break;
  }
  for (size_t k = open + 1; k < close; k++) {
    if (m[k] != '\\')
      continue;
    if (m[++k] != 'u' || k + 4 >= close)
      continue;
    int u = hex4(m + k + 1);
    k += 4;
    bool high = u >= 0xd800 && u <= 0xdbff, low = u >= 0xdc00 && u <= 0xdfff;
    if (high && k + 6 < close && m[k + 1] == '\\' && m[k + 2] == 'u') {
      int v = hex4(m + k + 3);
      if (v >= 0xdc00 && v <= 0xdfff) {
        k += 6;
        continue;
      }
    }
    if (high || low) {
      int fi = d->key_field;
      if (!key && !d->skip_depth && !d->in_attrs && d->depth == 1 && fi >= 0)
        return fail(d, HS_E_PARSE,
                    "field \"%s\": \\u%04x is an unpaired UTF-16 surrogate, not a character",
                    hs__fields[fi].name, (unsigned)u),
               false;
      return fail(d, HS_E_PARSE,
                  "malformed JSON at byte %zu: \\u%04x is an unpaired UTF-16 surrogate, not a "
                  "character",
                  k - 5, (unsigned)u),
             false;
    }
  }
  return true;
}

/* Routes one scalar JSON value: a top-level field, an attribute, or skipped. */
__attribute__((always_inline)) static inline int on_value(hs_decoder_t *d, const value_t *v) {
  if (d->skip_depth)
    return 1;
  if (d->in_attrs && d->depth == d->in_attrs)
    return hs__set_attr(d, v);
  if (d->depth != 1)
    return fail(d, HS_E_PARSE, "the message must be a JSON object");
  int fi = d->key_field;
  return fi < 0 || set_field(d, fi, v);
}

static int j_null(void *ctx) {
  value_t v = {.kind = V_NIL};
  return on_value(ctx, &v);
}
static int j_bool(void *ctx, int b) {
  value_t v = {.kind = V_BOOL, .b = b != 0};
  return on_value(ctx, &v);
}
static int j_int(void *ctx, long long i) {
  value_t v = {.kind = V_INT, .i = i};
  return on_value(ctx, &v);
}
static int j_double(void *ctx, double x) {
  value_t v = {.kind = V_DBL, .d = x};
  return on_value(ctx, &v);
}
static int j_string(void *ctx, const unsigned char *s, size_t n) {
  hs_decoder_t *d = ctx;
  /* yajl hands over a string without escapes in place, else a decoded copy
     that lives only during this call */
  bool in_msg = (uintptr_t)s >= (uintptr_t)d->msg && (uintptr_t)s < (uintptr_t)d->msg_end;
  if (!in_msg && !check_surrogates(d, false))
    return 0;
  value_t v = {
      .kind = V_STR, .s = (const char *)s, .n = n, .borrowable = in_msg, .ascii = d->scanning};
  return on_value(d, &v);
}

static int open_container(hs_decoder_t *d, bool map) {
  d->depth++;
  if (d->depth > MAX_DEPTH)
    return fail(d, HS_E_SCHEMA, "nesting deeper than %d", MAX_DEPTH);
  if (d->skip_depth)
    return 1;
  if (d->depth == 1)
    return map ? 1 : fail(d, HS_E_PARSE, "the message must be a JSON object");
  if (d->depth == 2) {
    int fi = d->key_field;
    if (fi >= 0 && hs__fields[fi].kind == K_OBJ && map) {
      if (d->seen & (UINT64_C(1) << fi))
        return fail(d, HS_E_SCHEMA, "field \"attributes\": duplicate");
      d->seen |= UINT64_C(1) << fi;
      d->in_attrs = 2;
      return 1;
    }
    if (fi >= 0 && hs__fields[fi].kind != K_IGNORE)
      return fail(d, HS_E_SCHEMA, "field \"%s\": expected %s", hs__fields[fi].name,
                  hs__fields[fi].kind == K_OBJ ? "an object" : "a scalar");
  } else if (d->in_attrs) {
    return fail(d, HS_E_SCHEMA,
                "field \"attributes\": values must be strings, numbers or "
                "booleans");
  }
  d->skip_depth = d->depth;
  return 1;
}

static int close_container(hs_decoder_t *d) {
  if (d->skip_depth == d->depth)
    d->skip_depth = 0;
  if (d->in_attrs == d->depth)
    d->in_attrs = 0;
  d->depth--;
  return 1;
}

static int j_start_map(void *ctx) {
  return open_container(ctx, true);
}
static int j_end_map(void *ctx) {
  return close_container(ctx);
}
static int j_start_array(void *ctx) {
  return open_container(ctx, false);
}
static int j_end_array(void *ctx) {
  return close_container(ctx);
}

static int j_key(void *ctx, const unsigned char *k, size_t n) {
  hs_decoder_t *d = ctx;
  bool in_msg = (uintptr_t)k >= (uintptr_t)d->msg && (uintptr_t)k < (uintptr_t)d->msg_end;
  if (!in_msg && !check_surrogates(d, true))
    return 0;
  if (d->skip_depth)
    return 1;
  if (d->in_attrs && d->depth == d->in_attrs) {
    if (n > HS_MAX_ID_LEN)
      return fail(d, HS_E_RANGE, "field \"attributes\": a key longer than %d bytes", HS_MAX_ID_LEN);
    memcpy(d->attr_key, k, n);
    d->attr_key_len = n;
    return 1;
  }
  /* a key takes no room, but is refused where keeping it would not fit */
  if (d->scratch_len + n > d->max_message)
    return fail(d, HS_E_TOOBIG, "message too large");
  int fi = find_field((const char *)k, n);
  d->key_field = fi;
  if (fi < 0 && !in_msg) { /* a decoded copy: kept in scratch for duplicates */
    memcpy(d->scratch + d->scratch_len, k, n);
    k = (const unsigned char *)d->scratch + d->scratch_len;
    d->scratch_len += n;
  }
  if (++d->n_keys > MAX_KEYS)
    return fail(d, HS_E_RANGE, "more than %d keys", MAX_KEYS);
  return fi >= 0 || hs__unknown_key(d, (const char *)k, n);
}

static const yajl_callbacks callbacks = {j_null,    j_bool,        j_int,       j_double,
                                         NULL,      j_string,      j_start_map, j_key,
                                         j_end_map, j_start_array, j_end_array};

static void *a_malloc(void *ctx, size_t n) {
  hs_decoder_t *d = ctx;
  n = (n + 15) & ~(size_t)15;
  if (d->arena_used + n + 16 <= ARENA_SIZE) {
    char *p = d->arena + d->arena_used;
    memcpy(p, &n, sizeof n);
    d->arena_used += n + 16;
    return p + 16;
  }
  big_t *b = hs_malloc(sizeof(big_t) + 16 + n);
  if (!b)
    return NULL;
  b->next = d->bigs;
  d->bigs = b;
  char *p = (char *)(b + 1);
  memcpy(p, &n, sizeof n);
  return p + 16;
}

static void a_free(void *ctx, void *p) {
  (void)ctx;
  (void)p; /* released at the end of the message */
}

static void *a_realloc(void *ctx, void *p, size_t n) {
  if (!p)
    return a_malloc(ctx, n);
  size_t old;
  memcpy(&old, (char *)p - 16, sizeof old);
  if (n <= old)
    return p;
  void *q = a_malloc(ctx, n);
  if (q)
    memcpy(q, p, old);
  return q;
}

void hs__decode_arena_reset(hs_decoder_t *d) {
  d->arena_used = 0;
  while (d->bigs) {
    big_t *b = d->bigs;
    d->bigs = b->next;
    hs_free(b);
  }
}

int hs__decode_json(hs_decoder_t *d, const unsigned char *buf, size_t len) {
  d->msg = buf;
  d->msg_end = buf + len;
  if (!d->yajl_only) { /* the scanner, then yajl on what it is not sure of */
    d->scanning = true;
    hs__jscan_t r = hs__json_scan(&callbacks, d, buf, len);
    d->scanning = false;
    if (r == HS__JSCAN_DONE || (r == HS__JSCAN_STOPPED && d->rc))
      return d->rc;
    hs__decode_begin(d, d->ev, d->err); /* from the start, as if the scanner had not run */
  }
  yajl_alloc_funcs af = {a_malloc, a_realloc, a_free, d};
  yajl_handle h = yajl_alloc(&callbacks, &af, d);
  if (!h)
    return fail(d, HS_E_NOMEM, "out of memory"), d->rc;
  d->yh = h;
  yajl_status st = yajl_parse(h, buf, len);
  bool ended = false; /* the text ended inside the object */
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    ended = true;
  }
  if (st != yajl_status_ok && !d->rc) {
    unsigned char *msg = yajl_get_error(h, 0, buf, len);
    char m[200];
    snprintf(m, sizeof m, "%s", msg ? (const char *)msg : "malformed JSON");
    for (char *p = m; *p; p++)
      if (*p == '\n')
        *p = ' ';
    if (msg)
      yajl_free_error(h, msg);
    /* yajl counts the bytes consumed up to the token in error, and
       yajl_complete_parse starts its count again at 0: then the error is
       the end of the message */
    size_t at = ended ? len : yajl_get_bytes_consumed(h);
    if (!ended && at) /* offsets count from 0: the last byte consumed */
      at--;
    if (ended)
      fail(d, HS_E_PARSE, "malformed JSON at byte %zu: truncated (the message ends inside it)", at);
    else
      fail(d, HS_E_PARSE, "malformed JSON at byte %zu: %s", at, m);
  }
  yajl_free(h);
  return d->rc;
}
