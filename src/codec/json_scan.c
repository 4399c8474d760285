/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A JSON scanner for the common case of event messages (json_scan.h). Each
 * token is checked before its callback is made, and as yajl makes its
 * callbacks in the order of the tokens, before it looks at the next one,
 * the callbacks made before a text is found to be outside the subset are
 * the ones yajl makes too: a callback that stops the scan stops yajl at the
 * same place. */
#include "json_scan.h"

#include "healthscore/base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NUMBER_CHARS = 63, MAX_INT_DIGITS = 18 };

/* Printable ASCII that may stand in a string as itself. */
static inline bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

typedef struct scan_s {
  const unsigned char *p, *end;
} scan_t;

static inline void skip_ws(scan_t *s) {
  while (s->p < s->end && *s->p <= ' ' &&
         (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
    s->p++;
}

/* What may follow a number or a literal for the scanner to be sure the
 * token ended: whitespace, a comma or a closing bracket. */
static inline bool ends_token(const scan_t *s) {
  if (s->p == s->end)
    return false;
  unsigned char c = *s->p;
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Nonzero when one of the 8 bytes of w is not plain: below 0x20, 0x7f or
 * above, '"' or '\\' (exact about whether, not about which). */
static inline uint64_t not_plain8(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
  uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
  return ((w - ones * 0x20) | (w + ones) | w | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/* A string at s->p (its opening quote): its bytes in place. */
static bool string(scan_t *s, const unsigned char **str, size_t *n) {
  const unsigned char *p = s->p + 1, *end = s->end;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* 8 bytes at a time; the lowest byte flagged is the first not plain */
  for (uint64_t w, hit; end - p >= 8; p += 8) {
    memcpy(&w, p, 8);
    if ((hit = not_plain8(w))) {
      p += __builtin_ctzll(hit) >> 3;
      goto found;
    }
  }
#endif
  while (p < end && plain(*p))
    p++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
found:
#endif
  if (p == end || *p != '"')
    return false; /* an escape, a byte outside printable ASCII, or the end */
  *str = s->p + 1;
  *n = (size_t)(p - *str);
  s->p = p + 1;
  return true;
}

typedef enum { NUM_NONE, NUM_INT, NUM_DBL } num_kind_t;

/* A number at s->p, in JSON's grammar. */
static num_kind_t number(scan_t *s, long long *i, double *x) {
  const unsigned char *p = s->p, *end = s->end, *start = p;
  bool neg = p < end && *p == '-';
  p += neg;
  if (p == end || *p < '0' || *p > '9')
    return NUM_NONE;
  const unsigned char *digits = p;
  if (*p == '0')
    p++;
  else
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  size_t n_int = (size_t)(p - digits);
  bool dbl = false;
  if (p < end && *p == '.') {
    p++;
    if (p == end || *p < '0' || *p > '9')
      return NUM_NONE;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
    dbl = true;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p == end || *p < '0' || *p > '9')
      return NUM_NONE;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
    dbl = true;
  }
  s->p = p;
  if (!ends_token(s))
    return NUM_NONE;
  if (!dbl) {
    if (n_int > MAX_INT_DIGITS)
      return NUM_NONE; /* yajl tells an overflow */
    long long v = 0;
    for (const unsigned char *q = digits; q < p; q++)
      v = v * 10 + (*q - '0');
    *i = neg ? -v : v;
    return NUM_INT;
  }
  size_t len = (size_t)(p - start);
  if (len > MAX_NUMBER_CHARS)
    return NUM_NONE;
  char buf[MAX_NUMBER_CHARS + 1];
  memcpy(buf, start, len);
  buf[len] = 0;
  errno = 0;
  *x = strtod(buf, NULL); /* as yajl does, on the same characters */
  if (errno)
    return NUM_NONE; /* out of range: yajl's own answer */
  return NUM_DBL;
}

/* A literal: true, false or null. */
static bool literal(scan_t *s, const char *word, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
    return false;
  s->p += n;
  return ends_token(s);
}

hs__jscan_t hs__json_scan(const yajl_callbacks *cb, void *ctx, const unsigned char *text,
                          size_t len) {
  scan_t s = {text, text + len};
  /* per open container: 1 an object, 0 an array; the depth is unbounded
     (as in yajl), the stack grows by doubling */
  uint8_t stack0[64], *stack = stack0;
  size_t depth = 0, cap = sizeof stack0;
  hs__jscan_t rc = HS__JSCAN_UNSURE;
  skip_ws(&s);
  if (s.p == s.end || *s.p != '{')
    return HS__JSCAN_UNSURE;
  for (;;) {
    /* a value at s.p */
    skip_ws(&s);
    if (s.p == s.end)
      goto out;
    unsigned char c = *s.p;
    if (c == '{' || c == '[') {
      if (depth == cap) {
        uint8_t *n = hs_malloc(cap * 2);
        if (!n)
          goto out;
        memcpy(n, stack, cap);
        if (stack != stack0)
          hs_free(stack);
        stack = n;
        cap *= 2;
      }
      stack[depth++] = c == '{';
      s.p++;
      if (!(c == '{' ? cb->yajl_start_map(ctx) : cb->yajl_start_array(ctx))) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
      skip_ws(&s);
      if (s.p == s.end)
        goto out;
      if (*s.p == (c == '{' ? '}' : ']')) { /* empty */
        s.p++;
        depth--;
        if (!(c == '{' ? cb->yajl_end_map(ctx) : cb->yajl_end_array(ctx))) {
          rc = HS__JSCAN_STOPPED;
          goto out;
        }
        goto after_value;
      }
      if (c == '{')
        goto key;
      continue; /* the array's first value */
    }
    if (c == '"') {
      const unsigned char *str;
      size_t n;
      if (!string(&s, &str, &n))
        goto out;
      if (!cb->yajl_string(ctx, str, n)) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    } else if (c == 't' || c == 'f') {
      bool b = c == 't';
      if (!literal(&s, b ? "true" : "false", b ? 4 : 5))
        goto out;
      if (!cb->yajl_boolean(ctx, b)) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    } else if (c == 'n') {
      if (!literal(&s, "null", 4))
        goto out;
      if (!cb->yajl_null(ctx)) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    } else {
      long long i;
      double x;
      num_kind_t k = number(&s, &i, &x);
      if (k == NUM_NONE)
        goto out;
      if (!(k == NUM_INT ? cb->yajl_integer(ctx, i) : cb->yajl_double(ctx, x))) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    }
  after_value:
    /* after a value: a comma, or the end of its container */
    for (;;) {
      if (depth == 0) { /* the top-level object closed: only whitespace may follow */
        skip_ws(&s);
        rc = s.p == s.end ? HS__JSCAN_DONE : HS__JSCAN_UNSURE;
        goto out;
      }
      skip_ws(&s);
      if (s.p == s.end)
        goto out;
      c = *s.p++;
      bool obj = stack[depth - 1];
      if (c == ',') {
        if (obj)
          goto key;
        break; /* the array's next value */
      }
      if (c != (obj ? '}' : ']'))
        goto out;
      depth--;
      if (!(obj ? cb->yajl_end_map(ctx) : cb->yajl_end_array(ctx))) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    }
    continue;
  key:
    /* a key at s.p (after whitespace), then a colon */
    skip_ws(&s);
    if (s.p == s.end || *s.p != '"')
      goto out;
    {
      const unsigned char *k;
      size_t n;
      if (!string(&s, &k, &n))
        goto out;
      if (!cb->yajl_map_key(ctx, k, n)) {
        rc = HS__JSCAN_STOPPED;
        goto out;
      }
    }
    skip_ws(&s);
    if (s.p == s.end || *s.p != ':')
      goto out;
    s.p++;
  }
out:
  if (stack != stack0)
    hs_free(stack);
  return rc;
}
