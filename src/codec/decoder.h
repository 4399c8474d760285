/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The event decoder's state, shared by the JSON and msgpack readers and
 * the field layer (src/codec only). */
#ifndef HS_CODEC_DECODER_H
#define HS_CODEC_DECODER_H

#include "healthscore/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <yajl/yajl_parse.h>

#define MAX_DEPTH 32
#define ARENA_SIZE (64 * 1024)
#define MAX_NUMBER 1e12
#define MAX_KEYS 256 /* keys of the event object (not counting nested ones) */

typedef enum { V_STR, V_INT, V_DBL, V_BOOL, V_NIL, V_MAP, V_ARRAY } vkind_t;

typedef struct value_s {
  vkind_t kind;
  const char *s; /* V_STR: not NUL-terminated */
  size_t n;
  int64_t i;
  double d;
  bool b;
  bool borrowable; /* V_STR: s points into the message being decoded */
  bool ascii;      /* V_STR: known to be printable ASCII (the JSON scanner's) */
} value_t;

/* A yajl allocation: a bump arena reset per message, overflowing to the heap. */
typedef struct big_s {
  struct big_s *next;
} big_t;

struct hs_decoder_s {
  size_t max_message;
  bool borrow;   /* msgpack: strings in the message are kept without counting against scratch */
  char *scratch; /* decoded strings of the current message */
  size_t scratch_len;
  char arena[ARENA_SIZE];
  size_t arena_used;
  big_t *bigs;
  /* the message being decoded */
  hs_event_t *ev;
  hs_err_t *err;
  int rc;
  int depth;
  int in_attrs;   /* depth at which the attributes object opened, or 0 */
  int skip_depth; /* >0: skipping an unknown nested value opened at this depth */
  int key_field;  /* the current top-level key's index in `fields`, or -1 */
  const unsigned char *msg, *msg_end; /* JSON: the message, where yajl's strings may point */
  yajl_handle yh;                     /* JSON: the parser, for the offset of a token */
  uint64_t seen;                      /* known keys seen, for duplicates */
  uint32_t n_keys;                    /* keys of the event object so far */
  uint32_t n_unknown;                 /* unknown keys kept in `unknown`, for duplicates */
  hs_str_t unknown[MAX_KEYS];
  char attr_key[HS_MAX_STR_LEN + 1];
  size_t attr_key_len;
  bool have_attr_key;
  bool yajl_only; /* JSON: no scanner first (json_scan.h) */
  bool scanning;  /* JSON: the scanner runs; its strings are printable ASCII */
};
/* Records the first error of a message (later ones are ignored) and
 * returns 0, which aborts a yajl parse. */
__attribute__((format(printf, 3, 4))) static inline int fail(hs_decoder_t *d, int code,
                                                             const char *fmt, ...) {
  if (d->rc)
    return 0;
  va_list ap;
  va_start(ap, fmt);
  d->rc = code;
  if (d->err) {
    d->err->code = code;
    vsnprintf(d->err->msg, sizeof d->err->msg, fmt, ap);
  }
  va_end(ap);
  return 0; /* aborts the parse */
}

/* Decodes one JSON object or msgpack map into d->ev (the field layer checks
 * each value; hs__decode_finish checks the whole). Return d->rc. */
int hs__decode_json(hs_decoder_t *d, const unsigned char *buf, size_t len);
int hs__decode_msgpack(hs_decoder_t *d, const unsigned char *buf, size_t len);
/* The msgpack map at the start of buf[0..len), bytes after it allowed: on
 * success (d->rc 0), *used is where it ends, else 0. */
int hs__decode_msgpack_record(hs_decoder_t *d, const unsigned char *buf, size_t len, size_t *used);

/* Makes the decoder ready for a new message into `ev` (also run again when
 * the JSON scanner hands a message over to yajl). */
void hs__decode_begin(hs_decoder_t *d, hs_event_t *ev, hs_err_t *err);

/* Releases what the JSON parser allocated for the last message. */
void hs__decode_arena_reset(hs_decoder_t *d);

#endif
