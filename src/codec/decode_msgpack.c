/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* msgpack events through a bounds-checked reader, and the framing of
 * msgpack records (hs_msgpack_object_size, hs_msgpack_record_size). */
#include "fields.h"

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
      v->ascii = false;
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
        !hs__valid_utf8((const unsigned char *)v.s, v.n)) {
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

/* printable_ascii for 1..31 bytes, without a loop: the words at 0, 8 and
 * 16 that lie inside, and the last 8 bytes, overlapping. */
__attribute__((always_inline)) static inline bool printable_fixstr(const unsigned char *s,
                                                                   size_t n) {
  if (n < 8)
    return printable_ascii(s, n);
  uint64_t bad = nonprintable8(load8(s)) | nonprintable8(load8(s + n - 8));
  if (n > 16)
    bad |= nonprintable8(load8(s + 8)) | (n > 24 ? nonprintable8(load8(s + 16)) : 0);
  return bad == 0;
}

/* The pairs most events are made of, in one step: a fixstr key naming a
 * known field not in `*seen` yet, and a value that field takes as it is (a
 * fixstr of 1..31 printable ASCII bytes for a string field; a uint for a
 * number or a time, and a float 64 for a number, within their ranges).
 * Returns where the pair ends, having stored the value in `ev` and added
 * the field to `*seen` and `*present`, as the general path does; or NULL,
 * having changed nothing, so that the general path decodes the pair and
 * gives any error. */
__attribute__((always_inline)) static inline const unsigned char *
mp_known_pair(const unsigned char *p, const unsigned char *end, hs_event_t *ev, uint64_t *seen,
              uint32_t *present) {
  size_t avail = (size_t)(end - p);
  if (avail < 2)
    return NULL;
  size_t kn = (size_t)p[0] - 0xa0; /* a fixstr: 0..31 */
  if (kn > 31 || kn + 2 > avail)
    return NULL;
  int fi = find_field((const char *)p + 1, kn);
  if (fi < 0 || (*seen >> fi & 1))
    return NULL;
  const field_slot_t f = hs__field_slots[fi];
  const unsigned char *q = p + 1 + kn;
  size_t left = avail - kn - 1; /* >= 1 */
  unsigned c = q[0];
  void *slot = (char *)ev + f.off;
  if (f.kind <= K_ID) {          /* K_STR, K_ID: both take up to 31 bytes */
    size_t n = (size_t)c - 0xa1; /* a fixstr of 1..31 bytes: 0..30 */
    if (n > 30 || ++n >= left || !printable_fixstr(q + 1, n))
      return NULL;
    *(hs_str_t *)slot = (hs_str_t){(const char *)q + 1, (uint32_t)n};
    q += 1 + n;
  } else if (f.kind <= K_TIME) { /* K_NUM, K_TIME */
    uint64_t u;
    if (c <= 0x7f) {
      u = c;
      q += 1;
    } else if (c == 0xcd && left >= 3) {
      u = (uint64_t)q[1] << 8 | q[2];
      q += 3;
    } else if (c == 0xcc && left >= 2) {
      u = q[1];
      q += 2;
    } else if (c == 0xce && left >= 5) {
      u = (uint64_t)q[1] << 24 | (uint64_t)q[2] << 16 | (uint64_t)q[3] << 8 | q[4];
      q += 5;
    } else if ((c == 0xcf || c == 0xcb) && left >= 9) {
      u = (uint64_t)q[1] << 56 | (uint64_t)q[2] << 48 | (uint64_t)q[3] << 40 |
          (uint64_t)q[4] << 32 | (uint64_t)q[5] << 24 | (uint64_t)q[6] << 16 | (uint64_t)q[7] << 8 |
          q[8];
      q += 9;
      if (c == 0xcb) { /* float 64: numbers only */
        double x;
        memcpy(&x, &u, 8);
        if (f.kind != K_NUM || !(fabs(x) <= MAX_NUMBER)) /* NaN too */
          return NULL;
        *(double *)slot = x;
        goto done;
      }
    } else {
      return NULL;
    }
    if (f.kind == K_NUM) {
      if (u > (uint64_t)MAX_NUMBER)
        return NULL;
      *(double *)slot = (double)(int64_t)u;
    } else {
      if (u > (uint64_t)MAX_MS)
        return NULL;
      *(int64_t *)slot = (int64_t)u;
    }
  } else {
    return NULL;
  }
done:
  *seen |= UINT64_C(1) << fi;
  *present |= f.present;
  return q;
}

/* hs__decode_msgpack, or with `used` the map at the start of buf[0..len)
 * (hs__decode_msgpack_record): bytes may follow it, and containers nest no
 * deeper than hs_msgpack_record_size lets them. */
__attribute__((always_inline)) static inline int
decode_msgpack(hs_decoder_t *d, const unsigned char *buf, size_t len, size_t *used) {
  reader_t r = {buf, buf + len, buf, true};
  value_t top;
  int rc = 0;
  if (len && buf[0] >= 0x80 && buf[0] <= 0x8f) { /* fixmap: most events */
    top.kind = V_MAP;
    top.i = buf[0] & 0x0f;
    r.p++;
  } else if ((rc = mp_value(&r, &top))) {
    return mp_fail(d, rc, &r, buf);
  }
  if (top.kind != V_MAP)
    return fail(d, HS_E_PARSE, "the message must be a msgpack map"), d->rc;
  if (top.i > MAX_KEYS)
    return fail(d, HS_E_RANGE, "more than %d keys", MAX_KEYS), d->rc;
  /* the common pairs, with the reader and the field sets in registers */
  hs_event_t *ev = d->ev;
  uint64_t seen = d->seen;
  uint32_t present = ev->present;
  int64_t i = 0;
  const unsigned char *p = r.p;
  for (const unsigned char *q; i < top.i && (q = mp_known_pair(p, r.end, ev, &seen, &present)); i++)
    p = q;
  r.p = p;
  d->seen = seen;
  ev->present = present;
  /* then anything else, each pair in one step where it can be */
  for (; i < top.i && !d->rc; i++) {
    const unsigned char *q = mp_known_pair(r.p, r.end, ev, &d->seen, &ev->present);
    if (q) {
      r.p = q;
      continue;
    }
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
          !hs__valid_utf8((const unsigned char *)k.s, k.n))
        return fail(d, HS_E_PARSE, "a key at byte %zu: invalid UTF-8", (size_t)(kat - buf)), d->rc;
      if (v.kind == V_STR && !printable_ascii((const unsigned char *)v.s, v.n) &&
          !hs__valid_utf8((const unsigned char *)v.s, v.n))
        return fail(d, HS_E_PARSE, "a string at byte %zu: invalid UTF-8", (size_t)(vat - buf)),
               d->rc;
      if (!hs__unknown_key(d, k.s, k.n)) /* top.i <= MAX_KEYS */
        return d->rc;
    }
    if (fi >= 0 && hs__fields[fi].kind == K_OBJ && v.kind == V_MAP) {
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
        hs__set_attr(d, &av);
      }
      continue;
    }
    if (v.kind == V_MAP || v.kind == V_ARRAY) {
      if (fi >= 0 && hs__fields[fi].kind != K_IGNORE)
        return fail(d, HS_E_SCHEMA, "field \"%s\": expected %s", hs__fields[fi].name,
                    hs__fields[fi].kind == K_OBJ ? "an object" : "a scalar"),
               d->rc;
      /* v is level 2, its items level 3: as deep as JSON and a record go */
      if ((rc = mp_skip(&r, (uint64_t)v.i * (v.kind == V_MAP ? 2 : 1), 2)))
        return mp_fail(d, rc, &r, buf);
      continue;
    }
    if (fi < 0)
      continue;
    if (v.kind == V_NIL && v.i < 0 && hs__fields[fi].kind != K_IGNORE)
      return fail(d, HS_E_SCHEMA, "field \"%s\": binary and ext values are not accepted",
                  hs__fields[fi].name),
             d->rc;
    set_field(d, fi, &v);
  }
  if (used) {
    if (!d->rc)
      *used = (size_t)(r.p - buf);
  } else if (!d->rc && r.p != r.end) {
    fail(d, HS_E_PARSE, "trailing bytes after the msgpack map");
  }
  return d->rc;
}

int hs__decode_msgpack(hs_decoder_t *d, const unsigned char *buf, size_t len) {
  return decode_msgpack(d, buf, len, NULL);
}

int hs__decode_msgpack_record(hs_decoder_t *d, const unsigned char *buf, size_t len, size_t *used) {
  *used = 0;
  return decode_msgpack(d, buf, len, used);
}
