/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The base every module stands on: error codes and the caller's error buffer,
 * borrowed strings, the single allocator entry point and byte buffers (with
 * JSON string escaping) and the invariant check. Pure: no I/O but the one
 * line a broken invariant writes before aborting. Time is in healthscore/time.h, hashing
 * in healthscore/hash.h, the event vocabulary in healthscore/event.h, the
 * logger in healthscore/log.h (each a library of its own). */
#ifndef HEALTHSCORE_BASE_H
#define HEALTHSCORE_BASE_H

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

/* Invariants, checked in every build (like Redis's serverAssert, unlike
 * assert(), which NDEBUG removes from release builds). For the few places
 * where the program's own bookkeeping being wrong would otherwise go on
 * silently and corrupt what is durable: a position or cover moving
 * backwards, a flush sent before the alerts it covers are acknowledged, the
 * dirty set disagreeing with its flags, a refused partition group applying
 * events. Going on there writes wrong states or positions to Redis; stopping
 * loses nothing, since the process restarts from what Redis holds. On
 * failure writes "FILE:LINE: invariant failed: EXPR" to stderr and calls
 * abort() (SIGABRT, a core dump where enabled). Cheap checks only, never in
 * a loop per event, and never for bad input: that gets an error and a
 * reason. The core may use it. */
#define HS_INVARIANT(cond) ((cond) ? (void)0 : hs_invariant_failed(__FILE__, __LINE__, #cond))
_Noreturn void hs_invariant_failed(const char *file, int line, const char *expr);

/* Ownership, throughout the public headers: a function named *_new, *_load
 * or *_compile that fails sets *out to NULL and leaves nothing to free
 * unless its header says otherwise; what it returns on success is the
 * caller's, ended by the matching *_free or *_close. `err` and buffers
 * passed in are the caller's; on failure a buffer appended to may hold a
 * part of the output, which the caller drops. Every *_free taking what a
 * *_new, *_load or *_compile made accepts NULL. */

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
/* Test hook: the allocations left before the one that fails (0: none
 * armed, or it failed already); hs_alloc_fail_after(N) with a large N, then
 * N minus this, counts the allocations made meanwhile. */
uint64_t hs_alloc_fail_pending(void);

/* Makes room in a growable array of `n` elements for one more: when
 * n == *cap, doubles the capacity (starting at `first`) and reallocates.
 * Returns the array (perhaps moved), or NULL when out of memory, in which
 * case `items` is unchanged and still owned by the caller. */
void *hs_array_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first);

/* A growable byte buffer, owned by whoever holds it: hs_buf_free releases
 * the bytes (and leaves an empty buffer, usable again). */
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

#endif
