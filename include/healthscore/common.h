/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Shared vocabulary of every module: error codes and the caller's error buffer,
 * borrowed strings, the single allocator entry point, UTC time helpers, and
 * hashing. Pure: no I/O. */
#ifndef HEALTHSCORE_COMMON_H
#define HEALTHSCORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_VERSION "0.1.0"

/* Error codes. Functions return 0 or one of these (negative). */
enum {
  HS_OK = 0,
  HS_E_NOMEM = -1,   /* allocation failed */
  HS_E_INVAL = -2,   /* invalid argument or input */
  HS_E_PARSE = -3,   /* malformed input (JSON, msgpack, YAML) */
  HS_E_SCHEMA = -4,  /* well-formed input that breaks the schema */
  HS_E_RANGE = -5,   /* a value outside its bounds */
  HS_E_TOOBIG = -6,  /* input larger than a configured bound */
  HS_E_UNKNOWN = -7, /* unknown event type: counted and ignored */
  HS_E_IO = -8,      /* file or socket error */
  HS_E_VERSION = -9, /* encoded state from an unsupported version */
  HS_E_CONFIG = -10  /* configuration error */
};

/* The caller's error buffer: where a failing function puts the human reason. */
typedef struct hs_err_s {
  int code;
  char msg[256];
} hs_err_t;

/* Sets err (if not NULL) to `code` and a printf-formatted reason; returns code. */
int hs_err_set(hs_err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A static name for an error code ("parse error", ...). */
const char *hs_strerror(int code);

/* A string that is not NUL-terminated: borrowed, never owned. */
typedef struct hs_str_s {
  const char *ptr;
  uint32_t len;
} hs_str_t;

#define HS_STR_NULL ((hs_str_t){NULL, 0})

/* True when `s` equals the NUL-terminated `z`. */
bool hs_str_eq(hs_str_t s, const char *z);

/* True when the n bytes at s are well-formed UTF-8: shortest forms only, no
 * UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF. */
bool hs_utf8_valid(const void *s, size_t n);

/* Allocator: every heap allocation of the project goes through these, so the
 * byte count can be exported and tests can make allocation fail. */
void *hs_malloc(size_t n);
void *hs_calloc(size_t n, size_t size);
void *hs_realloc(void *p, size_t n);
void hs_free(void *p);
char *hs_strdup(const char *s);
char *hs_strndup(const char *s, size_t n);
/* Bytes currently allocated through the allocator. */
size_t hs_alloc_bytes(void);
/* Test hook: the `n`-th allocation from now on fails (0 disables). */
void hs_alloc_fail_after(uint64_t n);

/* Makes room in a growable array of `n` elements for one more: when
 * n == *cap, doubles the capacity (starting at `first`) and reallocates.
 * Returns the array (perhaps moved), or NULL when out of memory, in which
 * case `items` is unchanged and still owned by the caller. */
void *hs_array_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first);

/* A growable byte buffer. */
typedef struct hs_buf_s {
  char *data;
  size_t len;
  size_t cap;
} hs_buf_t;

void hs_buf_init(hs_buf_t *b);
void hs_buf_free(hs_buf_t *b);
/* Ensures room for `n` more bytes. Returns 0 or HS_E_NOMEM. */
int hs_buf_reserve(hs_buf_t *b, size_t n);
int hs_buf_append(hs_buf_t *b, const void *p, size_t n);
int hs_buf_printf(hs_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included, escaping as needed. */
int hs_buf_json_str(hs_buf_t *b, const char *s, size_t n);

/* Time: milliseconds since the Unix epoch, UTC. */
#define HS_MS_PER_DAY INT64_C(86400000)
/* The UTC day number (days since 1970-01-01) of `ms`; floors negative values. */
static inline int32_t hs_day_of(int64_t ms) {
  return (int32_t)(ms >= 0 ? ms / HS_MS_PER_DAY : (ms + 1) / HS_MS_PER_DAY - 1);
}
/* Parses RFC 3339 ("2026-01-31T12:00:00Z", "...+02:00", fractional seconds
 * allowed) into epoch ms. Returns 0 or HS_E_PARSE. */
int hs_time_parse_rfc3339(const char *s, size_t n, int64_t *out_ms);
/* Formats epoch ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25 bytes). */
void hs_time_format(int64_t ms, char out[32]);
/* Parses a duration: "90d", "12h", "30m", "45s", "250ms", or "0". */
int hs_duration_parse(const char *s, int64_t *out_ms);

/* 64-bit FNV-1a, stable across builds and machines (used for ids in state). */
uint64_t hs_hash64(const void *p, size_t n, uint64_t seed);
#define HS_HASH_SEED UINT64_C(0xcbf29ce484222325)

#define HS_ASSERT(c)                                                                               \
  do {                                                                                             \
    if (!(c))                                                                                      \
      hs__assert_fail(#c, __FILE__, __LINE__);                                                     \
  } while (0)
_Noreturn void hs__assert_fail(const char *expr, const char *file, int line);

#endif
