/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The field layer: the known keys of an event and the checks of their
 * values, the same for both syntaxes. What runs per key and value is inline
 * here, so that each reader calls it without a function call. */
#ifndef HS_CODEC_FIELDS_H
#define HS_CODEC_FIELDS_H

#include "decoder.h"
#include "healthscore/time.h"

#include <math.h>
#include <string.h>

enum { K_STR, K_ID, K_NUM, K_TIME, K_OBJ, K_IGNORE };

typedef struct field_s {
  const char *name;
  size_t len;
  hs_field_t field; /* HS_F_NONE for envelope keys */
  int kind;
  size_t off; /* where the value goes in hs_event_t (K_STR, K_ID, K_NUM, K_TIME) */
} field_t;
/* Known keys; index = bit in `seen`. */
#define HS__N_FIELDS 30
extern const field_t hs__fields[HS__N_FIELDS];

/* hs__fields in 8 bytes a row, for msgpack's one-step pairs: where the value
 * goes, its kind, and its bit in `present` (0 for envelope keys). */
typedef struct field_slot_s {
  uint32_t present;
  uint16_t off;
  uint8_t kind;
} field_slot_t;
extern const field_slot_t hs__field_slots[HS__N_FIELDS];

/* Aborts unless find_field and hs__field_slots agree with hs__fields
 * (checked once per decoder). */
void hs__fields_check(void);

/* The bytes of `w` outside printable ASCII (0x20..0x7e) have their high bit
 * set in the result; a byte above a failing one may be flagged too, so a
 * non-zero result is exact only in saying "check byte by byte". */
static inline uint64_t nonprintable8(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
  /* a byte >= 0x80, < 0x20, or 0x7f (0x7f + 1 sets the high bit) */
  return (w | (w - 0x20 * ones) | (w + ones)) & highs;
}

static inline uint64_t load8(const unsigned char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}

static inline uint32_t load4(const unsigned char *s) {
  uint32_t w;
  memcpy(&w, s, 4);
  return w;
}

/* True when every byte is printable ASCII (0x20..0x7e), eight at a time:
 * the last (partial) word is read overlapping the one before it, and strings
 * under 8 bytes as two overlapping halves or byte by byte. May say false for
 * a printable string; never says true for one that is not. */
static inline bool printable_ascii(const unsigned char *s, size_t n) {
  uint64_t bad;
  if (n >= 8) {
    bad = nonprintable8(load8(s + n - 8));
    for (size_t i = 0; i + 8 < n; i += 8)
      bad |= nonprintable8(load8(s + i));
  } else if (n >= 4) {
    bad = nonprintable8(load4(s) | (uint64_t)load4(s + n - 4) << 32);
  } else if (n > 0) {
    /* bytes 0, n/2 and n-1 cover 1..3 bytes; the rest are spaces */
    bad = nonprintable8(UINT64_C(0x2020202020000000) | s[0] | (uint64_t)s[n >> 1] << 8 |
                        (uint64_t)s[n - 1] << 16);
  } else {
    bad = 0;
  }
  return bad == 0;
}

/* True when `v` is a string that take_str accepts without looking further:
 * 1..max bytes of printable ASCII. */
static inline bool plain_str(const value_t *v, size_t max) {
  return v->kind == V_STR && v->n - 1 < max &&
         (v->ascii || printable_ascii((const unsigned char *)v->s, v->n));
}

/* Keeps an accepted string value: borrowed from the message when the decoder
 * reads it in place (msgpack), else in scratch. JSON strings yajl hands over
 * in place (no escapes) are borrowed from the message too, but still counted
 * against scratch, so that the size limit applies exactly as if copied. */
static inline bool keep_str(hs_decoder_t *d, const value_t *v, hs_str_t *out) {
  if (d->borrow && v->borrowable) {
    *out = (hs_str_t){v->s, (uint32_t)v->n};
    return true;
  }
  if (d->scratch_len + v->n > d->max_message)
    return fail(d, HS_E_TOOBIG, "message too large"), false;
  if (v->borrowable) {
    *out = (hs_str_t){v->s, (uint32_t)v->n};
  } else {
    char *p = d->scratch + d->scratch_len;
    memcpy(p, v->s, v->n);
    *out = (hs_str_t){p, (uint32_t)v->n};
  }
  d->scratch_len += v->n;
  return true;
}
/* The checks of a string value that is not plain_str: returns false, with
 * the reason, if it is rejected, and true for non-ASCII UTF-8. */
bool hs__check_str(hs_decoder_t *d, const char *name, const value_t *v, size_t max);

bool hs__valid_utf8(const unsigned char *s, size_t n);

/* Checks a string value and keeps it (keep_str). */
static inline bool take_str(hs_decoder_t *d, const char *name, const value_t *v, size_t max,
                            hs_str_t *out) {
  if (!plain_str(v, max) && !hs__check_str(d, name, v, max))
    return false;
  return keep_str(d, v, out);
}

static inline bool take_num(hs_decoder_t *d, const char *name, const value_t *v, double *out) {
  double x;
  if (v->kind == V_INT)
    x = (double)v->i;
  else if (v->kind == V_DBL)
    x = v->d;
  else
    return fail(d, HS_E_SCHEMA, "field \"%s\": expected a number", name), false;
  if (!isfinite(x) || fabs(x) > MAX_NUMBER)
    return fail(d, HS_E_RANGE, "field \"%s\": beyond +/-1e12", name), false;
  *out = x;
  return true;
}

#define MIN_MS INT64_C(0)               /* 1970-01-01 */
#define MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static inline bool take_time(hs_decoder_t *d, const char *name, const value_t *v, int64_t *out) {
  int64_t ms;
  if (v->kind == V_INT) {
    ms = v->i;
  } else if (v->kind == V_STR) {
    if (hs_time_parse_rfc3339(v->s, v->n, &ms))
      return fail(d, HS_E_SCHEMA, "field \"%s\": not an RFC 3339 time or epoch ms", name), false;
  } else {
    return fail(d, HS_E_SCHEMA, "field \"%s\": not an RFC 3339 time or epoch ms", name), false;
  }
  if (ms < MIN_MS || ms > MAX_MS)
    return fail(d, HS_E_RANGE, "field \"%s\": outside the years 1970..9999", name), false;
  *out = ms;
  return true;
}

/* The index of field k (n bytes) in `fields`, or -1: by length, then bytes.
 * Keep in step with `fields` (hs_decoder_new checks it). */
__attribute__((always_inline)) static inline int find_field(const char *k, size_t n) {
#define F(name, i)                                                                                 \
  if (memcmp(k, name, sizeof name - 1) == 0)                                                       \
  return i
  switch (n) {
  case 2:
    F("ts", 3);
    break;
  case 3:
    F("due", 12);
    break;
  case 4:
    F("type", 2);
    F("role", 17);
    break;
  case 5:
    F("count", 6);
    F("score", 8);
    F("value", 10);
    F("stage", 26);
    break;
  case 6:
    F("amount", 7);
    F("rating", 9);
    F("target", 22);
    F("reason", 23);
    F("author", 24);
    break;
  case 7:
    F("user_id", 4);
    F("expires", 13);
    F("feature", 16);
    F("outcome", 21);
    F("segment", 25);
    break;
  case 8:
    F("event_id", 0);
    F("licenses", 11);
    F("priority", 18);
    F("vertical", 27);
    F("currency", 29);
    break;
  case 9:
    F("ticket_id", 19);
    break;
  case 10:
    F("account_id", 1);
    F("invoice_id", 20);
    F("attributes", 28);
    break;
  case 12:
    F("renewal_date", 15);
    break;
  case 14:
    F("contract_start", 14);
    break;
  case 15:
    F("session_seconds", 5);
    break;
  default:
    break;
  }
#undef F
  return -1;
}

/* A top-level key's scalar value. Returns false to stop. */
__attribute__((always_inline)) static inline bool set_field(hs_decoder_t *d, int fi,
                                                            const value_t *v) {
  const field_t *f = &hs__fields[fi];
  if (d->seen & (UINT64_C(1) << fi))
    return fail(d, HS_E_SCHEMA, "field \"%s\": duplicate", f->name), false;
  d->seen |= UINT64_C(1) << fi;
  void *slot = (char *)d->ev + f->off;
  switch (f->kind) {
  case K_IGNORE:
    return true;
  case K_OBJ:
    return fail(d, HS_E_SCHEMA, "field \"%s\": expected an object", f->name), false;
  case K_ID:
  case K_STR:
    if (!take_str(d, f->name, v, f->kind == K_ID ? HS_MAX_ID_LEN : HS_MAX_STR_LEN, slot))
      return false;
    break;
  case K_NUM:
    if (!take_num(d, f->name, v, slot))
      return false;
    break;
  case K_TIME:
    if (!take_time(d, f->name, v, slot))
      return false;
    break;
  }
  if (f->field != HS_F_NONE)
    d->ev->present |= HS_FIELD_BIT(f->field);
  return true;
}
/* An attribute's value, under the key in d->attr_key. Returns false to stop. */
bool hs__set_attr(hs_decoder_t *d, const value_t *v);

/* An unknown key of the event object: checks that it is not a duplicate
 * and keeps it (`k` must live as long as the message: the message itself or
 * scratch). Known keys have their bit in `seen`. The caller bounds the keys
 * to MAX_KEYS. */
bool hs__unknown_key(hs_decoder_t *d, const char *k, size_t n);

/* After the whole message: required fields, the type, ranges. */
int hs__decode_finish(hs_decoder_t *d);

#endif
