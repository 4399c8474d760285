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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
/* A bit per byte of the 16 at p that is not plain (as not_plain8). */
static inline unsigned not_plain16(const unsigned char *p) {
  const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  /* signed: below 0x20, or 0x80 and above */
  const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i bs = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(low, del), _mm_or_si128(quote, bs)));
}
#endif

/* A string at s->p (its opening quote): its bytes in place. */
__attribute__((always_inline)) static inline bool string(scan_t *s, const unsigned char **str,
                                                         size_t *n) {
  const unsigned char *p = s->p + 1, *end = s->end;
#if defined(__SSE2__)
  /* 16 bytes at a time; the lowest bit set is the first byte not plain */
  for (unsigned hit; end - p >= 16; p += 16)
    if ((hit = not_plain16(p))) {
      p += __builtin_ctz(hit);
      goto found;
    }
#endif
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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || defined(__SSE2__)
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
__attribute__((always_inline)) static inline bool literal(scan_t *s, const char *word, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
    return false;
  s->p += n;
  return ends_token(s);
}

/* The walk through one text: the scanner, the open containers (per
 * container: 1 an object, 0 an array; the depth is unbounded, as in yajl,
 * the stack grows by doubling), the callbacks and the answer so far. */
typedef struct walk_s {
  scan_t s;
  uint8_t *stack;
  size_t depth, cap;
  bool owned; /* the stack is on the heap */
  hs__jscan_t rc;
  const yajl_callbacks *cb;
  void *ctx;
} walk_t;

/* What the walk reads next. */
typedef enum { STEP_VALUE, STEP_KEY, STEP_AFTER, STEP_END } step_t;

/* A callback's answer: on 0 the scan stops where yajl would have. */
static inline step_t made(walk_t *w, int ok, step_t next) {
  if (ok)
    return next;
  w->rc = HS__JSCAN_STOPPED;
  return STEP_END;
}

static bool grow(walk_t *w) {
  uint8_t *n = hs_malloc(w->cap * 2);
  if (!n)
    return false;
  memcpy(n, w->stack, w->cap);
  if (w->owned)
    hs_free(w->stack);
  w->stack = n;
  w->cap *= 2;
  w->owned = true;
  return true;
}

/* '{' or '[' at s.p: opened, or opened and closed when empty. */
static inline step_t open_container(walk_t *w, bool obj) {
  if (w->depth == w->cap && !grow(w))
    return STEP_END;
  w->stack[w->depth++] = obj;
  w->s.p++;
  if (!(obj ? w->cb->yajl_start_map(w->ctx) : w->cb->yajl_start_array(w->ctx)))
    return made(w, 0, STEP_END);
  skip_ws(&w->s);
  if (w->s.p == w->s.end)
    return STEP_END;
  if (*w->s.p == (obj ? '}' : ']')) { /* empty */
    w->s.p++;
    w->depth--;
    return made(w, obj ? w->cb->yajl_end_map(w->ctx) : w->cb->yajl_end_array(w->ctx), STEP_AFTER);
  }
  return obj ? STEP_KEY : STEP_VALUE; /* an object's first key, an array's first value */
}

static inline step_t string_value(walk_t *w) {
  const unsigned char *str;
  size_t n;
  if (!string(&w->s, &str, &n))
    return STEP_END;
  return made(w, w->cb->yajl_string(w->ctx, str, n), STEP_AFTER);
}

static inline step_t boolean_value(walk_t *w, bool b) {
  if (!literal(&w->s, b ? "true" : "false", b ? 4 : 5))
    return STEP_END;
  return made(w, w->cb->yajl_boolean(w->ctx, b), STEP_AFTER);
}

static inline step_t null_value(walk_t *w) {
  if (!literal(&w->s, "null", 4))
    return STEP_END;
  return made(w, w->cb->yajl_null(w->ctx), STEP_AFTER);
}

static inline step_t number_value(walk_t *w) {
  long long i;
  double x;
  num_kind_t k = number(&w->s, &i, &x);
  if (k == NUM_NONE)
    return STEP_END;
  return made(w, k == NUM_INT ? w->cb->yajl_integer(w->ctx, i) : w->cb->yajl_double(w->ctx, x),
              STEP_AFTER);
}

/* A value at s.p (after whitespace), by the kind of its first byte. */
static inline step_t value(walk_t *w) {
  skip_ws(&w->s);
  if (w->s.p == w->s.end)
    return STEP_END;
  unsigned char c = *w->s.p;
  if (c == '{' || c == '[')
    return open_container(w, c == '{');
  if (c == '"')
    return string_value(w);
  if (c == 't' || c == 'f')
    return boolean_value(w, c == 't');
  if (c == 'n')
    return null_value(w);
  return number_value(w);
}

/* After a value: a comma, or the end of its container (and of the ones
 * around it). The top-level object closed, only whitespace may follow. */
static inline step_t after_value(walk_t *w) {
  for (;;) {
    skip_ws(&w->s);
    if (w->depth == 0) {
      w->rc = w->s.p == w->s.end ? HS__JSCAN_DONE : HS__JSCAN_UNSURE;
      return STEP_END;
    }
    if (w->s.p == w->s.end)
      return STEP_END;
    unsigned char c = *w->s.p++;
    bool obj = w->stack[w->depth - 1];
    if (c == ',')
      return obj ? STEP_KEY : STEP_VALUE; /* the object's next key, the array's next value */
    if (c != (obj ? '}' : ']'))
      return STEP_END;
    w->depth--;
    if (!(obj ? w->cb->yajl_end_map(w->ctx) : w->cb->yajl_end_array(w->ctx)))
      return made(w, 0, STEP_END);
  }
}

/* A key at s.p (after whitespace), then a colon. */
static inline step_t key(walk_t *w) {
  skip_ws(&w->s);
  if (w->s.p == w->s.end || *w->s.p != '"')
    return STEP_END;
  const unsigned char *k;
  size_t n;
  if (!string(&w->s, &k, &n))
    return STEP_END;
  if (!w->cb->yajl_map_key(w->ctx, k, n))
    return made(w, 0, STEP_END);
  skip_ws(&w->s);
  if (w->s.p == w->s.end || *w->s.p != ':')
    return STEP_END;
  w->s.p++;
  return STEP_VALUE;
}

hs__jscan_t hs__json_scan(const yajl_callbacks *cb, void *ctx, const unsigned char *text,
                          size_t len) {
  uint8_t stack0[64];
  walk_t w = {.s = {text, text + len},
              .stack = stack0,
              .cap = sizeof stack0,
              .rc = HS__JSCAN_UNSURE,
              .cb = cb,
              .ctx = ctx};
  skip_ws(&w.s);
  if (w.s.p == w.s.end || *w.s.p != '{')
    return HS__JSCAN_UNSURE;
  for (;;) {
    step_t next = value(&w);
    if (next == STEP_AFTER)
      next = after_value(&w);
    if (next == STEP_KEY)
      next = key(&w);
    if (next == STEP_END)
      break;
  }
  if (w.owned)
    hs_free(w.stack);
  return w.rc;
}
