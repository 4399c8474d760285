/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event decoding. Two syntaxes (JSON through yajl's SAX parser, msgpack
 * through a bounds-checked reader) feed one field layer that checks types,
 * ranges and required fields, so both formats obey exactly the same rules. */
#include "healthscore/codec.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "json_scan.h"

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
};

/* ---- field layer ------------------------------------------------------- */

enum { K_STR, K_ID, K_NUM, K_TIME, K_OBJ, K_IGNORE };

typedef struct field_s {
  const char *name;
  size_t len;
  hs_field_t field; /* HS_F_NONE for envelope keys */
  int kind;
  size_t off; /* where the value goes in hs_event_t (K_STR, K_ID, K_NUM, K_TIME) */
} field_t;

/* Known keys; index = bit in `seen`. */
static const field_t fields[] = {
    {"event_id", 8, HS_F_NONE, K_ID, offsetof(hs_event_t, event_id)},
    {"account_id", 10, HS_F_NONE, K_ID, offsetof(hs_event_t, account_id)},
    {"type", 4, HS_F_NONE, K_STR, offsetof(hs_event_t, type_name)},
    {"ts", 2, HS_F_NONE, K_TIME, offsetof(hs_event_t, ts_ms)},
    {"user_id", 7, HS_F_USER_ID, K_ID, offsetof(hs_event_t, user_id)},
    {"session_seconds", 15, HS_F_SESSION_SECONDS, K_NUM, offsetof(hs_event_t, session_seconds)},
    {"count", 5, HS_F_COUNT, K_NUM, offsetof(hs_event_t, count)},
    {"amount", 6, HS_F_AMOUNT, K_NUM, offsetof(hs_event_t, amount)},
    {"score", 5, HS_F_SCORE, K_NUM, offsetof(hs_event_t, score)},
    {"rating", 6, HS_F_RATING, K_NUM, offsetof(hs_event_t, rating)},
    {"value", 5, HS_F_VALUE, K_NUM, offsetof(hs_event_t, value)},
    {"licenses", 8, HS_F_LICENSES, K_NUM, offsetof(hs_event_t, licenses)},
    {"due", 3, HS_F_DUE, K_TIME, offsetof(hs_event_t, due_ms)},
    {"expires", 7, HS_F_EXPIRES, K_TIME, offsetof(hs_event_t, expires_ms)},
    {"contract_start", 14, HS_F_CONTRACT_START, K_TIME, offsetof(hs_event_t, contract_start_ms)},
    {"renewal_date", 12, HS_F_RENEWAL_DATE, K_TIME, offsetof(hs_event_t, renewal_ms)},
    {"feature", 7, HS_F_FEATURE, K_STR, offsetof(hs_event_t, feature)},
    {"role", 4, HS_F_ROLE, K_STR, offsetof(hs_event_t, role)},
    {"priority", 8, HS_F_PRIORITY, K_STR, offsetof(hs_event_t, priority)},
    {"ticket_id", 9, HS_F_TICKET_ID, K_ID, offsetof(hs_event_t, ticket_id)},
    {"invoice_id", 10, HS_F_INVOICE_ID, K_ID, offsetof(hs_event_t, invoice_id)},
    {"outcome", 7, HS_F_OUTCOME, K_STR, offsetof(hs_event_t, outcome)},
    {"target", 6, HS_F_TARGET, K_STR, offsetof(hs_event_t, target)},
    {"reason", 6, HS_F_REASON, K_STR, offsetof(hs_event_t, reason)},
    {"author", 6, HS_F_AUTHOR, K_STR, offsetof(hs_event_t, author)},
    {"segment", 7, HS_F_SEGMENT, K_STR, offsetof(hs_event_t, segment)},
    {"stage", 5, HS_F_STAGE, K_STR, offsetof(hs_event_t, stage)},
    {"vertical", 8, HS_F_VERTICAL, K_STR, offsetof(hs_event_t, vertical)},
    {"attributes", 10, HS_F_NONE, K_OBJ, 0},
    {"currency", 8, HS_F_NONE, K_IGNORE, 0},
};
#define N_FIELDS (sizeof fields / sizeof *fields)

#define B(f) HS_FIELD_BIT(f)
/* Per type: the fields it carries, and those it requires. */
static const uint32_t type_allowed[HS_EV__COUNT] = {
    [HS_EV_LOGIN] = B(HS_F_SESSION_SECONDS),
    [HS_EV_FEATURE_USED] = B(HS_F_FEATURE) | B(HS_F_COUNT),
    [HS_EV_MEETING] = B(HS_F_ROLE),
    [HS_EV_CALL] = B(HS_F_ROLE),
    [HS_EV_EMAIL_IN] = B(HS_F_ROLE),
    [HS_EV_EMAIL_OUT] = B(HS_F_ROLE),
    [HS_EV_NOTE] = B(HS_F_ROLE),
    [HS_EV_TICKET_OPENED] = B(HS_F_TICKET_ID) | B(HS_F_PRIORITY),
    [HS_EV_TICKET_CLOSED] = B(HS_F_TICKET_ID) | B(HS_F_PRIORITY),
    [HS_EV_INVOICE_ISSUED] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_INVOICE_PAID] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_INVOICE_OVERDUE] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_NPS] = B(HS_F_SCORE),
    [HS_EV_CSAT] = B(HS_F_SCORE),
    [HS_EV_CSM_RATING] = B(HS_F_SCORE),
    [HS_EV_REVIEW] = B(HS_F_RATING),
    [HS_EV_ACCOUNT] = B(HS_F_SEGMENT) | B(HS_F_STAGE) | B(HS_F_VERTICAL) | B(HS_F_LICENSES) |
                      B(HS_F_CONTRACT_START) | B(HS_F_RENEWAL_DATE),
    [HS_EV_OUTCOME] = B(HS_F_OUTCOME),
    [HS_EV_OVERRIDE] =
        B(HS_F_TARGET) | B(HS_F_VALUE) | B(HS_F_EXPIRES) | B(HS_F_REASON) | B(HS_F_AUTHOR),
};
static const uint32_t type_required[HS_EV__COUNT] = {
    [HS_EV_FEATURE_USED] = B(HS_F_FEATURE),
    [HS_EV_TICKET_OPENED] = B(HS_F_TICKET_ID),
    [HS_EV_TICKET_CLOSED] = B(HS_F_TICKET_ID),
    [HS_EV_INVOICE_ISSUED] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT),
    [HS_EV_INVOICE_PAID] = B(HS_F_INVOICE_ID),
    [HS_EV_INVOICE_OVERDUE] = B(HS_F_INVOICE_ID),
    [HS_EV_NPS] = B(HS_F_SCORE),
    [HS_EV_CSAT] = B(HS_F_SCORE),
    [HS_EV_CSM_RATING] = B(HS_F_SCORE),
    [HS_EV_OUTCOME] = B(HS_F_OUTCOME),
    [HS_EV_OVERRIDE] =
        B(HS_F_TARGET) | B(HS_F_VALUE) | B(HS_F_EXPIRES) | B(HS_F_REASON) | B(HS_F_AUTHOR),
};

__attribute__((format(printf, 3, 4))) static int fail(hs_decoder_t *d, int code, const char *fmt,
                                                      ...) {
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

/* `s` for an error message: at most 64 bytes, printable ASCII as is and any
 * other byte as \xNN, so that no input can put control bytes in a log. */
static const char *printable(const char *s, size_t n, char out[300]) {
  size_t o = 0;
  for (size_t i = 0; i < n && i < 64; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
  }
  if (n > 64)
    o += (size_t)snprintf(out + o, 4, "...");
  out[o] = 0;
  return out;
}

/* An unknown key of the event object: checks that it is not a duplicate
 * and keeps it (`k` must live as long as the message: the message itself or
 * scratch). Known keys have their bit in `seen`. The caller bounds the keys
 * to MAX_KEYS. */
static bool unknown_key(hs_decoder_t *d, const char *k, size_t n) {
  for (uint32_t i = 0; i < d->n_unknown; i++)
    if (d->unknown[i].len == n && memcmp(d->unknown[i].ptr, k, n) == 0) {
      char q[300];
      return fail(d, HS_E_SCHEMA, "field \"%s\": duplicate", printable(k, n, q)), false;
    }
  d->unknown[d->n_unknown++] = (hs_str_t){k, (uint32_t)n};
  return true;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n)
      return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

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
  return v->kind == V_STR && v->n - 1 < max && printable_ascii((const unsigned char *)v->s, v->n);
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
static bool check_str(hs_decoder_t *d, const char *name, const value_t *v, size_t max) {
  if (v->kind != V_STR)
    return fail(d, HS_E_SCHEMA, "field \"%s\": expected a string", name), false;
  if (v->n == 0)
    return fail(d, HS_E_RANGE, "field \"%s\": empty", name), false;
  if (v->n > max)
    return fail(d, HS_E_RANGE, "field \"%s\": longer than %zu bytes", name, max), false;
  for (size_t i = 0; i < v->n; i++)
    if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f)
      return fail(d, HS_E_RANGE, "field \"%s\": control characters are not allowed", name), false;
  if (!valid_utf8((const unsigned char *)v->s, v->n))
    return fail(d, HS_E_PARSE, "field \"%s\": invalid UTF-8", name), false;
  return true;
}

/* Checks a string value and keeps it (keep_str). */
static inline bool take_str(hs_decoder_t *d, const char *name, const value_t *v, size_t max,
                            hs_str_t *out) {
  if (!plain_str(v, max) && !check_str(d, name, v, max))
    return false;
  return keep_str(d, v, out);
}

static bool take_num(hs_decoder_t *d, const char *name, const value_t *v, double *out) {
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

static bool take_time(hs_decoder_t *d, const char *name, const value_t *v, int64_t *out) {
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
  const field_t *f = &fields[fi];
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

static bool set_attr(hs_decoder_t *d, const value_t *v) {
  hs_event_t *ev = d->ev;
  if (ev->n_attrs == HS_MAX_ATTRS)
    return fail(d, HS_E_RANGE, "field \"attributes\": more than %d entries", HS_MAX_ATTRS), false;
  value_t key = {.kind = V_STR, .s = d->attr_key, .n = d->attr_key_len};
  if (!take_str(d, "attributes", &key, HS_MAX_ID_LEN, &ev->attr_key[ev->n_attrs]))
    return false;
  char num[40];
  value_t sv = *v;
  if (v->kind == V_INT || v->kind == V_DBL) {
    double x = v->kind == V_INT ? (double)v->i : v->d;
    if (!isfinite(x))
      return fail(d, HS_E_RANGE, "field \"attributes\": not a finite number"), false;
    if (v->kind == V_INT)
      snprintf(num, sizeof num, "%lld", (long long)v->i);
    else
      snprintf(num, sizeof num, "%.17g", v->d);
    sv = (value_t){.kind = V_STR, .s = num, .n = strlen(num)};
  } else if (v->kind == V_BOOL) {
    sv = (value_t){.kind = V_STR, .s = v->b ? "true" : "false", .n = v->b ? 4 : 5};
  } else if (v->kind != V_STR) {
    return fail(d, HS_E_SCHEMA,
                "field \"attributes\": values must be strings, numbers or "
                "booleans"),
           false;
  }
  if (plain_str(&sv, HS_MAX_STR_LEN)) {
    if (!keep_str(d, &sv, &ev->attr_val[ev->n_attrs]))
      return false;
  } else { /* the name is only for the error message */
    char name[HS_MAX_ID_LEN + 20];
    snprintf(name, sizeof name, "attributes.%.*s",
             (int)(d->attr_key_len > 100 ? 100 : d->attr_key_len), d->attr_key);
    if (!take_str(d, name, &sv, HS_MAX_STR_LEN, &ev->attr_val[ev->n_attrs]))
      return false;
  }
  for (uint32_t i = 0; i < ev->n_attrs; i++)
    if (ev->attr_key[i].len == ev->attr_key[ev->n_attrs].len &&
        !memcmp(ev->attr_key[i].ptr, ev->attr_key[ev->n_attrs].ptr, ev->attr_key[i].len)) {
      char q[300];
      return fail(d, HS_E_SCHEMA, "field \"attributes\": duplicate key \"%s\"",
                  printable(ev->attr_key[i].ptr, ev->attr_key[i].len, q)),
             false;
    }
  ev->n_attrs++;
  return true;
}

static bool is_one_of(hs_str_t s, const char *const *set) {
  for (; *set; set++)
    if (hs_str_eq(s, *set))
      return true;
  return false;
}

static bool integral_in(double v, double lo, double hi) {
  return v == floor(v) && v >= lo && v <= hi;
}

/* After the whole message: required fields, the type, ranges. */
static int finish(hs_decoder_t *d) {
  hs_event_t *ev = d->ev;
  static const char *const env[] = {"event_id", "account_id", "type", "ts"};
  for (int i = 0; i < 4; i++)
    if (!(d->seen & (UINT64_C(1) << i)))
      return fail(d, HS_E_SCHEMA, "field \"%s\": missing", env[i]), d->rc;
  ev->type = hs_event_type_from(ev->type_name);
  if (ev->type == HS_EV_UNKNOWN) {
    ev->present &= HS_FIELD_BIT(HS_F_USER_ID);
    return fail(d, HS_E_UNKNOWN, "field \"type\": unknown event type \"%.*s\"",
                (int)(ev->type_name.len > 64 ? 64 : ev->type_name.len), ev->type_name.ptr),
           d->rc;
  }
  ev->present &= type_allowed[ev->type] | HS_FIELD_BIT(HS_F_USER_ID);
  if (ev->type != HS_EV_ACCOUNT)
    ev->n_attrs = 0;
  uint32_t missing = type_required[ev->type] & ~ev->present;
  if (missing) {
    for (int f = 1; f < HS_F__COUNT; f++)
      if (missing & HS_FIELD_BIT(f))
        return fail(d, HS_E_SCHEMA, "field \"%s\": missing (required for %s)", hs_field_name(f),
                    hs_event_type_name(ev->type)),
               d->rc;
  }
  uint32_t p = ev->present;
  if (ev->type == HS_EV_FEATURE_USED && !(p & B(HS_F_COUNT))) {
    ev->count = 1;
    ev->present |= B(HS_F_COUNT);
  }
  if ((p & B(HS_F_SESSION_SECONDS)) && (ev->session_seconds < 0 || ev->session_seconds > 1e7))
    return fail(d, HS_E_RANGE, "field \"session_seconds\": must be 0..1e7"), d->rc;
  if ((p & B(HS_F_COUNT)) && (ev->count < 0 || ev->count > 1e6))
    return fail(d, HS_E_RANGE, "field \"count\": must be 0..1e6"), d->rc;
  if ((p & B(HS_F_AMOUNT)) && ev->amount < 0)
    return fail(d, HS_E_RANGE, "field \"amount\": must not be negative"), d->rc;
  if ((p & B(HS_F_LICENSES)) && (ev->licenses < 0 || ev->licenses > 1e7))
    return fail(d, HS_E_RANGE, "field \"licenses\": must be 0..1e7"), d->rc;
  if (p & B(HS_F_SCORE)) {
    double lo = ev->type == HS_EV_NPS ? 0 : 1, hi = ev->type == HS_EV_CSAT ? 5 : 10;
    if (!integral_in(ev->score, lo, hi))
      return fail(d, HS_E_RANGE, "field \"score\": must be an integer %g..%g for %s", lo, hi,
                  hs_event_type_name(ev->type)),
             d->rc;
  }
  if ((p & B(HS_F_RATING)) && !integral_in(ev->rating, 1, 5))
    return fail(d, HS_E_RANGE, "field \"rating\": must be an integer 1..5"), d->rc;
  static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
  static const char *const outcomes[] = {"churned", "renewed", "expanded", NULL};
  if ((p & B(HS_F_PRIORITY)) && !is_one_of(ev->priority, priorities))
    return fail(d, HS_E_RANGE, "field \"priority\": must be low, normal, high or urgent"), d->rc;
  if ((p & B(HS_F_OUTCOME)) && !is_one_of(ev->outcome, outcomes))
    return fail(d, HS_E_RANGE, "field \"outcome\": must be churned, renewed or expanded"), d->rc;
  return 0;
}

/* ---- JSON -------------------------------------------------------------- */

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
                    fields[fi].name, (unsigned)u),
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
static int on_value(hs_decoder_t *d, const value_t *v) {
  if (d->skip_depth)
    return 1;
  if (d->in_attrs && d->depth == d->in_attrs)
    return set_attr(d, v);
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
  value_t v = {.kind = V_STR, .s = (const char *)s, .n = n, .borrowable = in_msg};
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
    if (fi >= 0 && fields[fi].kind == K_OBJ && map) {
      if (d->seen & (UINT64_C(1) << fi))
        return fail(d, HS_E_SCHEMA, "field \"attributes\": duplicate");
      d->seen |= UINT64_C(1) << fi;
      d->in_attrs = 2;
      return 1;
    }
    if (fi >= 0 && fields[fi].kind != K_IGNORE)
      return fail(d, HS_E_SCHEMA, "field \"%s\": expected %s", fields[fi].name,
                  fields[fi].kind == K_OBJ ? "an object" : "a scalar");
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
  return fi >= 0 || unknown_key(d, (const char *)k, n);
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

static void arena_reset(hs_decoder_t *d) {
  d->arena_used = 0;
  while (d->bigs) {
    big_t *b = d->bigs;
    d->bigs = b->next;
    hs_free(b);
  }
}

static void begin(hs_decoder_t *d, hs_event_t *ev, hs_err_t *err);

static int decode_json(hs_decoder_t *d, const unsigned char *buf, size_t len) {
  d->msg = buf;
  d->msg_end = buf + len;
  if (!d->yajl_only) { /* the scanner, then yajl on what it is not sure of */
    hs__jscan_t r = hs__json_scan(&callbacks, d, buf, len);
    if (r == HS__JSCAN_DONE || (r == HS__JSCAN_STOPPED && d->rc))
      return d->rc;
    begin(d, d->ev, d->err); /* from the start, as if the scanner had not run */
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

/* ---- msgpack ----------------------------------------------------------- */

typedef struct reader_s {
  const unsigned char *p, *end;
  const unsigned char *at; /* where the value mp_value read last starts */
  bool text;               /* mp_skip: strings must be valid UTF-8 */
} reader_t;

static bool rd(reader_t *r, size_t n, const unsigned char **out) {
  if ((size_t)(r->end - r->p) < n)
    return false;
  *out = r->p;
  r->p += n;
  return true;
}

/* A big-endian unsigned integer of n = 1, 2, 4 or 8 bytes. */
static uint64_t be(const unsigned char *p, int n) {
  switch (n) {
  case 1:
    return p[0];
  case 2:
    return (uint64_t)p[0] << 8 | p[1];
  case 4:
    return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
  default:
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | p[7];
  }
}

/* The one-byte forms: positive and negative fixint, fixmap, fixarray, and
 * fixstr (whose bytes follow). Returns 0, or 1 if the input ends early. */
static int mp_fix(reader_t *r, unsigned c, value_t *v) {
  const unsigned char *p;
  if (c <= 0x7f)
    *v = (value_t){.kind = V_INT, .i = (int64_t)c};
  else if (c >= 0xe0)
    *v = (value_t){.kind = V_INT, .i = (int64_t)(int8_t)c};
  else if (c <= 0x8f)
    *v = (value_t){.kind = V_MAP, .i = c & 0x0f};
  else if (c <= 0x9f)
    *v = (value_t){.kind = V_ARRAY, .i = c & 0x0f};
  else { /* 0xa0 .. 0xbf */
    size_t len = c & 0x1f;
    if (!rd(r, len, &p))
      return 1;
    *v = (value_t){.kind = V_STR, .s = (const char *)p, .n = len, .borrowable = true};
  }
  return 0;
}

/* uint 8..64, int 8..64, float 32 and 64 (0xca .. 0xd3). Returns 0, or 1 if
 * the input ends early. */
static int mp_number(reader_t *r, unsigned c, value_t *v) {
  const unsigned char *p;
  if (c == 0xca || c == 0xcb) {
    int n = c == 0xca ? 4 : 8;
    if (!rd(r, (size_t)n, &p))
      return 1;
    uint64_t u = be(p, n);
    if (n == 4) {
      uint32_t u32 = (uint32_t)u;
      float f;
      memcpy(&f, &u32, 4);
      *v = (value_t){.kind = V_DBL, .d = f};
    } else {
      double x;
      memcpy(&x, &u, 8);
      *v = (value_t){.kind = V_DBL, .d = x};
    }
    return 0;
  }
  bool is_unsigned = c <= 0xcf;
  int n = 1 << (is_unsigned ? c - 0xcc : c - 0xd0);
  if (!rd(r, (size_t)n, &p))
    return 1;
  uint64_t u = be(p, n);
  if (is_unsigned) {
    if (u > INT64_MAX)
      *v = (value_t){.kind = V_DBL, .d = (double)u};
    else
      *v = (value_t){.kind = V_INT, .i = (int64_t)u};
    return 0;
  }
  int64_t i = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : n == 4 ? (int32_t)u : (int64_t)u;
  *v = (value_t){.kind = V_INT, .i = i};
  return 0;
}

/* str 8..32 and bin 8..32 (their bytes follow). Returns 0, or 1 if the input
 * ends early. */
static int mp_bytes(reader_t *r, unsigned c, value_t *v) {
  const unsigned char *p;
  bool str = c >= 0xd9;
  int n = 1 << (str ? c - 0xd9 : c - 0xc4);
  if (!rd(r, (size_t)n, &p))
    return 1;
  uint64_t len = be(p, n);
  if (len > (uint64_t)(r->end - r->p))
    return 1;
  rd(r, (size_t)len, &p);
  /* bin is accepted only where it is skipped: a string field rejects it */
  *v = (value_t){
      .kind = str ? V_STR : V_NIL, .s = (const char *)p, .n = (size_t)len, .borrowable = true};
  if (!str)
    v->i = -1; /* marks bin */
  return 0;
}

/* array 16/32 and map 16/32: the element count in v->i. Returns 0, or 1 if
 * the input ends early. */
static int mp_container(reader_t *r, unsigned c, value_t *v) {
  const unsigned char *p;
  int n = c == 0xdc || c == 0xde ? 2 : 4;
  if (!rd(r, (size_t)n, &p))
    return 1;
  uint64_t cnt = be(p, n);
  /* every element takes at least one byte: a count beyond the input is
     malformed (or truncated), never an allocation */
  uint64_t per = c >= 0xde ? 2 : 1;
  if (cnt > (uint64_t)(r->end - r->p) / per)
    return 1;
  *v = (value_t){.kind = c >= 0xde ? V_MAP : V_ARRAY, .i = (int64_t)cnt};
  return 0;
}

/* fixext 1..16 and ext 8..32: skipped only. Returns 0, or 1 if the input
 * ends early. */
static int mp_ext(reader_t *r, unsigned c, value_t *v) {
  const unsigned char *p;
  uint64_t len;
  if (c >= 0xd4 && c <= 0xd8) {
    len = (uint64_t)1 << (c - 0xd4);
  } else {
    int n = 1 << (c - 0xc7);
    if (!rd(r, (size_t)n, &p))
      return 1;
    len = be(p, n);
  }
  if (len + 1 > (uint64_t)(r->end - r->p))
    return 1;
  rd(r, (size_t)len + 1, &p);
  *v = (value_t){.kind = V_NIL, .i = -2}; /* ext: skipped only */
  return 0;
}

/* Reads one value header. Containers report their element count in v->i.
 * Returns 0, 1 if the input ends early, or HS_E_PARSE. */
static int mp_value(reader_t *r, value_t *v) {
  const unsigned char *p;
  r->at = r->p;
  if (!rd(r, 1, &p))
    return 1;
  unsigned c = p[0];
  if (c <= 0xbf || c >= 0xe0)
    return mp_fix(r, c, v);
  switch (c) {
  case 0xc0:
    *v = (value_t){.kind = V_NIL};
    return 0;
  case 0xc2:
  case 0xc3:
    *v = (value_t){.kind = V_BOOL, .b = c == 0xc3};
    return 0;
  case 0xca:
  case 0xcb:
  case 0xcc:
  case 0xcd:
  case 0xce:
  case 0xcf:
  case 0xd0:
  case 0xd1:
  case 0xd2:
  case 0xd3:
    return mp_number(r, c, v);
  case 0xc4:
  case 0xc5:
  case 0xc6:
  case 0xd9:
  case 0xda:
  case 0xdb:
    return mp_bytes(r, c, v);
  case 0xdc:
  case 0xdd:
  case 0xde:
  case 0xdf:
    return mp_container(r, c, v);
  case 0xc7:
  case 0xc8:
  case 0xc9:
  case 0xd4:
  case 0xd5:
  case 0xd6:
  case 0xd7:
  case 0xd8:
    return mp_ext(r, c, v);
  default:
    return HS_E_PARSE; /* 0xc1 is never used */
  }
}

/* mp_value, with the headers most events are made of read inline: positive
 * fixint, fixstr and uint 64 (times). Sets only the members of *v that its
 * kind uses. */
static inline int mp_next(reader_t *r, value_t *v) {
  size_t avail = (size_t)(r->end - r->p);
  if (avail) {
    unsigned c = r->p[0];
    if (c <= 0x7f) {
      v->kind = V_INT;
      v->i = (int64_t)c;
      r->p++;
      return 0;
    }
    if (c >= 0xa0 && c <= 0xbf && (c & 0x1f) < avail) {
      v->kind = V_STR;
      v->s = (const char *)r->p + 1;
      v->n = c & 0x1f;
      v->borrowable = true;
      r->p += 1 + v->n;
      return 0;
    }
    if (c == 0xcf && avail > 8 && r->p[1] < 0x80) {
      v->kind = V_INT;
      v->i = (int64_t)be(r->p + 1, 8);
      r->p += 9;
      return 0;
    }
  }
  return mp_value(r, v);
}

/* Skips `count` values (containers included) iteratively, to depth MAX_DEPTH.
 * With r->text, a string that is not valid UTF-8 is an error (HS_E_RANGE),
 * as yajl makes it in JSON. */
static int mp_skip(reader_t *r, uint64_t count, int depth) {
  uint64_t stack[MAX_DEPTH + 1];
  int top = 0;
  stack[0] = count;
  while (top >= 0) {
    if (stack[top] == 0) {
      top--;
      continue;
    }
    stack[top]--;
    value_t v;
    const unsigned char *at = r->p;
    int rc = mp_next(r, &v);
    if (rc)
      return rc;
    if (r->text && v.kind == V_STR && !printable_ascii((const unsigned char *)v.s, v.n) &&
        !valid_utf8((const unsigned char *)v.s, v.n)) {
      r->at = at;
      return HS_E_RANGE;
    }
    if (v.kind == V_MAP || v.kind == V_ARRAY) {
      if (depth + top + 1 > MAX_DEPTH) {
        r->at = at;
        return HS_E_SCHEMA;
      }
      stack[++top] = (uint64_t)v.i * (v.kind == V_MAP ? 2 : 1);
    }
  }
  return 0;
}

int hs_msgpack_object_size(const void *buf, size_t len, size_t *out) {
  reader_t r = {buf, (const unsigned char *)buf + len, buf, false};
  int rc = mp_skip(&r, 1, 0);
  if (rc == 0)
    *out = (size_t)(r.p - (const unsigned char *)buf);
  return rc == HS_E_SCHEMA ? HS_E_PARSE : rc;
}

int hs_msgpack_record_size(const void *buf, size_t len, size_t *out, hs_err_t *err) {
  const unsigned char *b = buf;
  reader_t r = {b, b + len, b, false};
  value_t top;
  int rc = mp_value(&r, &top);
  if (!rc && top.kind != V_MAP)
    return hs_err_set(err, HS_E_PARSE, "the message must be a msgpack map");
  for (int64_t i = 0; !rc && i < top.i; i++) {
    value_t k, v;
    const unsigned char *kat = r.p;
    if ((rc = mp_next(&r, &k)))
      break;
    if (k.kind != V_STR)
      return hs_err_set(err, HS_E_PARSE,
                        "malformed msgpack at byte %zu: a key that is not a string (a map cut "
                        "short?)",
                        (size_t)(kat - b));
    if (!(rc = mp_next(&r, &v)) && (v.kind == V_MAP || v.kind == V_ARRAY))
      rc = mp_skip(&r, (uint64_t)v.i * (v.kind == V_MAP ? 2 : 1), 2); /* v's items: level 3 */
  }
  size_t at = (size_t)(r.at - b);
  if (rc == 1) {
    hs_err_set(err, HS_E_PARSE,
               "malformed msgpack at byte %zu: truncated (the input ends inside it)", at);
    return 1;
  }
  if (rc == HS_E_SCHEMA)
    return hs_err_set(err, HS_E_PARSE, "malformed msgpack at byte %zu: nesting deeper than %d", at,
                      MAX_DEPTH);
  if (rc)
    return hs_err_set(err, HS_E_PARSE,
                      "malformed msgpack at byte %zu: 0x%02x is not a msgpack type", at, *r.at);
  *out = (size_t)(r.p - b);
  return 0;
}

/* The reason for an error of the reader; `r->at` is where the value in error
 * starts, as a byte offset from `buf`. */
static int mp_fail(hs_decoder_t *d, int rc, const reader_t *r, const unsigned char *buf) {
  size_t at = (size_t)(r->at - buf);
  if (rc == 1)
    return fail(d, HS_E_PARSE,
                "malformed msgpack at byte %zu: truncated (the message ends inside it)", at),
           d->rc;
  if (rc == HS_E_SCHEMA)
    return fail(d, HS_E_SCHEMA, "nesting deeper than %d at byte %zu", MAX_DEPTH, at), d->rc;
  if (rc == HS_E_RANGE)
    return fail(d, HS_E_PARSE, "a string at byte %zu: invalid UTF-8", at), d->rc;
  return fail(d, HS_E_PARSE, "malformed msgpack at byte %zu: 0x%02x is not a msgpack type", at,
              *r->at),
         d->rc;
}

static int decode_msgpack(hs_decoder_t *d, const unsigned char *buf, size_t len) {
  reader_t r = {buf, buf + len, buf, true};
  value_t top;
  int rc = mp_value(&r, &top);
  if (rc)
    return mp_fail(d, rc, &r, buf);
  if (top.kind != V_MAP)
    return fail(d, HS_E_PARSE, "the message must be a msgpack map"), d->rc;
  if (top.i > MAX_KEYS)
    return fail(d, HS_E_RANGE, "more than %d keys", MAX_KEYS), d->rc;
  for (int64_t i = 0; i < top.i && !d->rc; i++) {
    value_t k, v;
    const unsigned char *kat = r.p;
    if ((rc = mp_next(&r, &k)))
      return mp_fail(d, rc, &r, buf);
    if (k.kind != V_STR)
      return fail(d, HS_E_SCHEMA, "malformed msgpack at byte %zu: map keys must be strings",
                  (size_t)(kat - buf)),
             d->rc;
    const unsigned char *vat = r.p;
    if ((rc = mp_next(&r, &v)))
      return mp_fail(d, rc, &r, buf);
    int fi = find_field(k.s, k.n);
    if (fi < 0) { /* unknown: text, once */
      if (!printable_ascii((const unsigned char *)k.s, k.n) &&
          !valid_utf8((const unsigned char *)k.s, k.n))
        return fail(d, HS_E_PARSE, "a key at byte %zu: invalid UTF-8", (size_t)(kat - buf)), d->rc;
      if (v.kind == V_STR && !printable_ascii((const unsigned char *)v.s, v.n) &&
          !valid_utf8((const unsigned char *)v.s, v.n))
        return fail(d, HS_E_PARSE, "a string at byte %zu: invalid UTF-8", (size_t)(vat - buf)),
               d->rc;
      if (!unknown_key(d, k.s, k.n)) /* top.i <= MAX_KEYS */
        return d->rc;
    }
    if (fi >= 0 && fields[fi].kind == K_OBJ && v.kind == V_MAP) {
      if (d->seen & (UINT64_C(1) << fi))
        return fail(d, HS_E_SCHEMA, "field \"attributes\": duplicate"), d->rc;
      d->seen |= UINT64_C(1) << fi;
      for (int64_t a = 0; a < v.i && !d->rc; a++) {
        value_t ak, av;
        if ((rc = mp_next(&r, &ak)) || (rc = mp_next(&r, &av)))
          return mp_fail(d, rc, &r, buf);
        if (ak.kind != V_STR)
          return fail(d, HS_E_SCHEMA, "field \"attributes\": keys must be strings"), d->rc;
        if (ak.n > HS_MAX_ID_LEN)
          return fail(d, HS_E_RANGE, "field \"attributes\": a key longer than %d bytes",
                      HS_MAX_ID_LEN),
                 d->rc;
        memcpy(d->attr_key, ak.s, ak.n);
        d->attr_key_len = ak.n;
        if (av.kind == V_MAP || av.kind == V_ARRAY || av.kind == V_NIL)
          return fail(d, HS_E_SCHEMA,
                      "field \"attributes\": values must be strings, numbers or booleans"),
                 d->rc;
        set_attr(d, &av);
      }
      continue;
    }
    if (v.kind == V_MAP || v.kind == V_ARRAY) {
      if (fi >= 0 && fields[fi].kind != K_IGNORE)
        return fail(d, HS_E_SCHEMA, "field \"%s\": expected %s", fields[fi].name,
                    fields[fi].kind == K_OBJ ? "an object" : "a scalar"),
               d->rc;
      if ((rc = mp_skip(&r, (uint64_t)v.i * (v.kind == V_MAP ? 2 : 1), 1)))
        return mp_fail(d, rc, &r, buf);
      continue;
    }
    if (fi < 0)
      continue;
    if (v.kind == V_NIL && v.i < 0 && fields[fi].kind != K_IGNORE)
      return fail(d, HS_E_SCHEMA, "field \"%s\": binary and ext values are not accepted",
                  fields[fi].name),
             d->rc;
    set_field(d, fi, &v);
  }
  if (!d->rc && r.p != r.end)
    fail(d, HS_E_PARSE, "trailing bytes after the msgpack map");
  return d->rc;
}

/* ---- entry points ------------------------------------------------------ */

int hs_decoder_new(hs_decoder_t **out, size_t max_message) {
  /* find_field's switch must agree with the table (checked once per decoder) */
  for (size_t i = 0; i < N_FIELDS; i++)
    if (find_field(fields[i].name, fields[i].len) != (int)i)
      abort();
  hs_decoder_t *d = hs_calloc(1, sizeof *d);
  *out = NULL;
  if (!d)
    return HS_E_NOMEM;
  d->max_message = max_message ? max_message : HS_DEFAULT_MAX_MESSAGE;
  d->scratch = hs_malloc(d->max_message + 1);
  if (!d->scratch) {
    hs_free(d);
    return HS_E_NOMEM;
  }
  *out = d;
  return 0;
}

void hs_decoder_free(hs_decoder_t *d) {
  if (!d)
    return;
  arena_reset(d);
  hs_free(d->scratch);
  hs_free(d);
}

hs_format_t hs_detect_format(const void *buf, size_t len) {
  const unsigned char *p = buf;
  size_t i = 0;
  while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
    i++;
  if (i == len)
    return HS_FMT_AUTO;
  if (p[i] == '{')
    return HS_FMT_JSON;
  if (i == 0 && ((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
    return HS_FMT_MSGPACK;
  return HS_FMT_AUTO;
}

static void begin(hs_decoder_t *d, hs_event_t *ev, hs_err_t *err) {
  memset(ev, 0, offsetof(hs_event_t, attr_key));
  d->ev = ev;
  d->err = err;
  d->rc = 0;
  d->depth = d->in_attrs = d->skip_depth = 0;
  d->seen = 0;
  d->n_keys = d->n_unknown = 0;
  d->scratch_len = 0;
  d->key_field = -1;
}

void hs__decoder_json_scan(hs_decoder_t *d, bool on) {
  d->yajl_only = !on;
}

int hs_event_decode(hs_decoder_t *d, const void *buf, size_t len, hs_format_t fmt, hs_event_t *ev,
                    hs_err_t *err) {
  begin(d, ev, err);
  if (len > d->max_message)
    return hs_err_set(err, HS_E_TOOBIG, "message of %zu bytes is over the limit of %zu", len,
                      d->max_message);
  if (len == 0)
    return hs_err_set(err, HS_E_PARSE, "empty message");
  if (fmt == HS_FMT_AUTO)
    fmt = hs_detect_format(buf, len);
  int rc;
  if (fmt == HS_FMT_JSON) {
    rc = decode_json(d, buf, len);
    arena_reset(d);
  } else if (fmt == HS_FMT_MSGPACK) {
    d->borrow = true;
    rc = decode_msgpack(d, buf, len);
    d->borrow = false;
  } else {
    return hs_err_set(err, HS_E_PARSE, "neither a JSON object nor a msgpack map");
  }
  if (!rc)
    rc = finish(d);
  return rc;
}
