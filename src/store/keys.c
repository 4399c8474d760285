/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The store's key layout (shared with `healthscore show`) and the RESP
 * commands it sends. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool key_plain(hs_str_t account) {
  return account.len && !memchr(account.ptr, '{', account.len) &&
         !memchr(account.ptr, '}', account.len);
}

bool hs_store_key_encoded(hs_str_t account) {
  return !key_plain(account);
}

int hs_store_legacy_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix) {
  return hs_buf_append(out, prefix, strlen(prefix)) || hs_buf_append(out, ":{", 2) ||
                 hs_buf_append(out, account.ptr, account.len) || hs_buf_append(out, "}:", 2) ||
                 hs_buf_append(out, suffix, strlen(suffix))
             ? HS_E_NOMEM
             : 0;
}

int hs_store_account_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix) {
  if (key_plain(account))
    return hs_store_legacy_key(out, prefix, account, suffix);
  /* '%' before the brace: no key of an earlier version, and no key of a
     plain id, starts so; the tag holds no brace, and never nothing */
  int rc = hs_buf_append(out, prefix, strlen(prefix)) || hs_buf_append(out, ":%{", 3) ||
           (!account.len && hs_buf_append(out, "%", 1));
  size_t from = 0;
  for (size_t i = 0; i < account.len && !rc; i++) {
    char c = account.ptr[i];
    const char *esc = c == '%' ? "%25" : c == '{' ? "%7B" : c == '}' ? "%7D" : NULL;
    if (esc) {
      rc = hs_buf_append(out, account.ptr + from, i - from) || hs_buf_append(out, esc, 3);
      from = i + 1;
    }
  }
  rc = rc || hs_buf_append(out, account.ptr + from, account.len - from) ||
       hs_buf_append(out, "}:", 2) || hs_buf_append(out, suffix, strlen(suffix));
  return rc ? HS_E_NOMEM : 0;
}

/* Builds the key of an account's `suffix` into s->key. */
int hs__account_key(hs_store_t *s, hs_str_t account, const char *suffix) {
  s->key.len = 0;
  return hs_store_account_key(&s->key, s->prefix, account, suffix);
}

int hs__pos_key(hs_store_t *s, const char *group, int32_t partition) {
  s->key.len = 0;
  return hs_buf_printf(&s->key, "%s:pos:%s:%d", s->prefix, group, (int)partition);
}

uint16_t hs__key_slot(const hs_store_t *s) {
  return hs_rc_slot(s->key.data, s->key.len);
}

/* `v` in decimal at the end of `out` (24 bytes); returns where it starts. */
static char *decimal(char out[24], long long v) {
  char *p = out + 24;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do
    *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0)
    *--p = '-';
  return p;
}

/* RESP: one bulk string argument ($LEN CRLF BYTES CRLF). */
int hs__resp_arg(hs_buf_t *b, const void *p, size_t n) {
  char tmp[24];
  char *d = decimal(tmp, (long long)n);
  size_t h = (size_t)(tmp + 24 - d);
  /* room made once, then written in place (and NUL-terminated, as
     hs_buf_append leaves a buffer) */
  if (hs_buf_reserve(b, 1 + h + 2 + n + 2))
    return HS_E_NOMEM;
  char *o = b->data + b->len;
  *o++ = '$';
  memcpy(o, d, h);
  o += h;
  *o++ = '\r';
  *o++ = '\n';
  if (n) /* memcpy from NULL is undefined even for 0 bytes */
    memcpy(o, p, n);
  o += n;
  *o++ = '\r';
  *o++ = '\n';
  *o = 0;
  b->len = (size_t)(o - b->data);
  return 0;
}

/* RESP: an array of n arguments follows. */
int hs__resp_array(hs_buf_t *b, size_t n) {
  char tmp[24 + 2];
  char *d = decimal(tmp, (long long)n);
  *--d = '*';
  memcpy(tmp + 24, "\r\n", 2);
  return hs_buf_append(b, d, (size_t)(tmp + 26 - d));
}

int hs__resp_str(hs_buf_t *b, const char *s) {
  return hs__resp_arg(b, s, strlen(s));
}

int hs__resp_int(hs_buf_t *b, long long v) {
  char tmp[24];
  char *d = decimal(tmp, v);
  return hs__resp_arg(b, d, (size_t)(tmp + 24 - d));
}

int hs__format_tenths(double v, char out[HS_TENTHS_MAX]) {
  double r = round(v * 10);
  if (!(fabs(r) < 1e15)) /* NaN, infinities, and beyond a double's exact integers */
    return snprintf(out, HS_TENTHS_MAX, "%.1f", r / 10);
  /* r is an integer: r / 10 is the double nearest to it, which "%.1f"
     prints as those digits, with the sign (of -0.0 too) */
  char tmp[24], *p = tmp + sizeof tmp;
  uint64_t u = (uint64_t)fabs(r);
  *--p = (char)('0' + u % 10);
  *--p = '.';
  u /= 10;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (signbit(r))
    *--p = '-';
  size_t n = (size_t)(tmp + sizeof tmp - p);
  memcpy(out, p, n);
  out[n] = 0;
  return (int)n;
}

/* The cover as stored: "PARTITION TOPIC=OFFSET ..." (every topic). */
int hs__format_cover(hs_store_t *s, hs_buf_t *b, int32_t partition, const int64_t *cover) {
  char tmp[24];
  char *d = decimal(tmp, partition);
  int rc = hs_buf_append(b, d, (size_t)(tmp + 24 - d));
  for (size_t t = 0; t < s->n_topics && !rc; t++) {
    d = decimal(tmp, cover ? (long long)cover[t] : 0LL);
    rc = hs_buf_append(b, " ", 1) || hs_buf_append(b, s->topics[t], strlen(s->topics[t])) ||
         hs_buf_append(b, "=", 1) || hs_buf_append(b, d, (size_t)(tmp + 24 - d));
  }
  return rc;
}

/* Reads a stored cover into s->offsets; returns its partition, or -1 when
 * it is not one. Topics it does not name stay 0. */
int32_t hs__parse_cover(hs_store_t *s, const char *p, size_t len) {
  char buf[2048];
  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy(buf, p, len);
  buf[len] = 0;
  char *end;
  long part = strtol(buf, &end, 10);
  if (end == buf || part < 0 || part > INT32_MAX || (*end && *end != ' '))
    return -1;
  for (size_t t = 0; t < s->n_topics; t++)
    s->offsets[t] = 0;
  char *rest; /* strtok_r: engines on other threads parse covers at the same time */
  for (char *tok = strtok_r(end, " ", &rest); tok; tok = strtok_r(NULL, " ", &rest)) {
    char *eq = strrchr(tok, '=');
    if (!eq)
      return -1;
    *eq = 0;
    long long off = strtoll(eq + 1, &end, 10);
    if (*end || off < 0)
      return -1;
    for (size_t t = 0; t < s->n_topics; t++)
      if (!strcmp(s->topics[t], tok))
        s->offsets[t] = off;
  }
  return (int32_t)part;
}

int hs__reply_error(hs_err_t *e, const redisReply *r, const hs_err_t *err) {
  if (!r)
    return hs_err_set(e, HS_E_IO, "%s", err ? err->msg : "redis: no reply");
  if (r->type == REDIS_REPLY_ERROR)
    return hs_err_set(e, HS_E_IO, "redis: %.*s", (int)r->len, r->str);
  return 0;
}
