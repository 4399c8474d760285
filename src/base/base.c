/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Errors, invariants, the allocator, byte buffers and strings. */
#include "healthscore/base.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void hs_invariant_failed(const char *file, int line, const char *expr) {
  fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
  fflush(stderr);
  abort();
}

int hs_err_set(hs_err_t *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *hs_strerror(int code) {
  switch (code) {
  case HS_OK:
    return "ok";
  case HS_E_NOMEM:
    return "out of memory";
  case HS_E_INVAL:
    return "invalid argument";
  case HS_E_PARSE:
    return "parse error";
  case HS_E_SCHEMA:
    return "schema error";
  case HS_E_RANGE:
    return "value out of range";
  case HS_E_TOOBIG:
    return "message too large";
  case HS_E_UNKNOWN:
    return "unknown event type";
  case HS_E_IO:
    return "i/o error";
  case HS_E_VERSION:
    return "unsupported version";
  case HS_E_CONFIG:
    return "configuration error";
  default:
    return "error";
  }
}

bool hs_str_eq(hs_str_t s, const char *z) {
  size_t n = strlen(z);
  return s.len == n && (n == 0 || memcmp(s.ptr, z, n) == 0);
}

bool hs_utf8_valid(const void *p, size_t n) {
  const unsigned char *s = p;
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : 3;
    if ((c >= 0x80 && c < 0xc2) || c > 0xf4 || k >= n - i)
      return false;
    uint32_t cp = c & (0x7f >> k);
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80)
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

/* The allocator keeps a size header in front of each block so that freed
 * bytes can be subtracted; 16 bytes keep the user pointer aligned. */
#define HDR 16
static atomic_size_t g_bytes;
static atomic_uint_fast64_t g_fail_after;

static bool should_fail(void) {
  uint_fast64_t n = atomic_load_explicit(&g_fail_after, memory_order_relaxed);
  if (n == 0)
    return false;
  if (n == 1) {
    atomic_store(&g_fail_after, 0);
    return true;
  }
  atomic_store(&g_fail_after, n - 1);
  return false;
}

void hs_alloc_fail_after(uint64_t n) {
  atomic_store(&g_fail_after, n);
}

uint64_t hs_alloc_fail_pending(void) {
  return atomic_load(&g_fail_after);
}

size_t hs_alloc_bytes(void) {
  return atomic_load(&g_bytes);
}

void *hs_malloc(size_t n) {
  if (should_fail() || n > SIZE_MAX - HDR)
    return NULL;
  char *p = malloc(n + HDR);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  atomic_fetch_add_explicit(&g_bytes, n, memory_order_relaxed);
  return p + HDR;
}

void *hs_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size)
    return NULL;
  void *p = hs_malloc(n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void hs_free(void *p) {
  if (!p)
    return;
  char *b = (char *)p - HDR;
  size_t n;
  memcpy(&n, b, sizeof n);
  atomic_fetch_sub_explicit(&g_bytes, n, memory_order_relaxed);
  free(b);
}

void *hs_realloc(void *p, size_t n) {
  if (!p)
    return hs_malloc(n);
  if (should_fail() || n > SIZE_MAX - HDR)
    return NULL;
  char *b = (char *)p - HDR;
  size_t old;
  memcpy(&old, b, sizeof old);
  char *nb = realloc(b, n + HDR);
  if (!nb)
    return NULL;
  memcpy(nb, &n, sizeof n);
  if (n >= old)
    atomic_fetch_add_explicit(&g_bytes, n - old, memory_order_relaxed);
  else
    atomic_fetch_sub_explicit(&g_bytes, old - n, memory_order_relaxed);
  return nb + HDR;
}

char *hs_strndup(const char *s, size_t n) {
  char *d = hs_malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

char *hs_strdup(const char *s) {
  return s ? hs_strndup(s, strlen(s)) : NULL;
}

void *hs_array_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first) {
  if (n < *cap)
    return items;
  size_t c = *cap ? *cap * 2 : first;
  void *p = c > SIZE_MAX / elem ? NULL : hs_realloc(items, c * elem);
  if (p)
    *cap = c;
  return p;
}

void hs_buf_init(hs_buf_t *b) {
  b->data = NULL;
  b->len = b->cap = 0;
}

void hs_buf_free(hs_buf_t *b) {
  hs_free(b->data);
  hs_buf_init(b);
}

int hs_buf_reserve(hs_buf_t *b, size_t n) {
  if (b->cap - b->len > n)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len <= n)
    cap *= 2;
  char *d = hs_realloc(b->data, cap);
  if (!d)
    return HS_E_NOMEM;
  b->data = d;
  b->cap = cap;
  return 0;
}

int hs_buf_append(hs_buf_t *b, const void *p, size_t n) {
  if (hs_buf_reserve(b, n))
    return HS_E_NOMEM;
  if (n) /* memcpy from NULL is undefined even for 0 bytes */
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return 0;
}

int hs_buf_printf(hs_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return HS_E_INVAL;
  if ((size_t)n < sizeof small)
    return hs_buf_append(b, small, (size_t)n);
  if (hs_buf_reserve(b, (size_t)n + 1))
    return HS_E_NOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

/* Nonzero when a byte of w is below 0x20, '"' or '\\' (exact about whether,
 * not about which): the bytes a JSON string escapes. */
static inline uint64_t escaped8(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
  const uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
  return ((w - ones * 0x20) & ~w & highs) | ((q - ones) & ~q & highs) | ((bs - ones) & ~bs & highs);
}

static inline uint64_t word8(const char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}

static inline uint64_t word4(const char *s) {
  uint32_t w;
  memcpy(&w, s, 4);
  return w;
}

/* True when no byte of s[0..n) is escaped in JSON: eight at a time, the
 * last (partial) word read overlapping the one before it. */
static bool nothing_escaped(const char *s, size_t n) {
  uint64_t hit;
  if (n >= 8) {
    hit = escaped8(word8(s + n - 8));
    for (size_t i = 0; i + 8 < n && !hit; i += 8)
      hit = escaped8(word8(s + i));
  } else if (n >= 4) {
    hit = escaped8(word4(s) | word4(s + n - 4) << 32);
  } else {
    hit = 0;
    for (size_t i = 0; i < n; i++)
      hit |= (unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\';
  }
  return !hit;
}

/* s[0..n) at o, each byte JSON needs escaped written as its escape;
 * returns the end. */
static char *escape_each(char *o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c == '\n') {
      *o++ = '\\';
      *o++ = 'n';
    } else if (c == '\t') {
      *o++ = '\\';
      *o++ = 't';
    } else if (c == '\r') {
      *o++ = '\\';
      *o++ = 'r';
    } else if (c < 0x20) {
      memcpy(o, "\\u00", 4);
      o[4] = hex[c >> 4];
      o[5] = hex[c & 15];
      o += 6;
    } else {
      *o++ = (char)c;
    }
  }
  return o;
}

int hs_buf_json_str(hs_buf_t *b, const char *s, size_t n) {
  if (hs_buf_reserve(b, n * 6 + 2))
    return HS_E_NOMEM;
  char *o = b->data + b->len;
  *o++ = '"';
  if (n && nothing_escaped(s, n)) { /* most strings: copied as they are */
    memcpy(o, s, n);
    o += n;
  } else {
    o = escape_each(o, s, n);
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  b->data[b->len] = 0;
  return 0;
}
