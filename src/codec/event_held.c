/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Events kept between decoding and use, their strings as offsets into the
 * message they were decoded from (codec.h, hs_event_hold). */
#include "healthscore/codec.h"

#include <stddef.h>
#include <string.h>

/* The numeric fields of hs_event_t (doubles and epoch-ms int64s, 8 bytes
 * each) and its strings, in the order they are stored. */
static const uint16_t num_at[] = {
    offsetof(hs_event_t, session_seconds), offsetof(hs_event_t, count),
    offsetof(hs_event_t, amount),          offsetof(hs_event_t, score),
    offsetof(hs_event_t, rating),          offsetof(hs_event_t, value),
    offsetof(hs_event_t, licenses),        offsetof(hs_event_t, due_ms),
    offsetof(hs_event_t, expires_ms),      offsetof(hs_event_t, contract_start_ms),
    offsetof(hs_event_t, renewal_ms)};
static const uint16_t str_at[] = {
    offsetof(hs_event_t, event_id),   offsetof(hs_event_t, account_id),
    offsetof(hs_event_t, type_name),  offsetof(hs_event_t, user_id),
    offsetof(hs_event_t, feature),    offsetof(hs_event_t, role),
    offsetof(hs_event_t, priority),   offsetof(hs_event_t, ticket_id),
    offsetof(hs_event_t, invoice_id), offsetof(hs_event_t, outcome),
    offsetof(hs_event_t, target),     offsetof(hs_event_t, reason),
    offsetof(hs_event_t, author),     offsetof(hs_event_t, segment),
    offsetof(hs_event_t, stage),      offsetof(hs_event_t, vertical)};
#define N_NUMS (sizeof num_at / sizeof *num_at)
#define N_STRS (sizeof str_at / sizeof *str_at)

_Static_assert(sizeof(hs_held_event_t) == 64, "a held event is 64 bytes");
_Static_assert(sizeof(double) == 8 && sizeof(int64_t) == 8, "8-byte numbers");
_Static_assert(HS_EV__COUNT <= 256, "a type fits a byte");

/* The numbers are 11 neighbouring 8-byte fields, the strings two runs of
 * neighbouring hs_str_t (3, then 13), each in the order of the tables:
 * hs_event_hold walks them in place. */
_Static_assert(offsetof(hs_event_t, renewal_ms) ==
                   offsetof(hs_event_t, session_seconds) + (N_NUMS - 1) * 8,
               "the numbers are neighbours");
_Static_assert(offsetof(hs_event_t, type_name) ==
                       offsetof(hs_event_t, event_id) + 2 * sizeof(hs_str_t) &&
                   offsetof(hs_event_t, vertical) ==
                       offsetof(hs_event_t, user_id) + (N_STRS - 4) * sizeof(hs_str_t),
               "the strings are two runs of neighbours");

/* Stores string `s` (bit i of out->strs) at *at: false when it does not lie
 * within the message or is not addressable in 16 bits (`wide`: the message
 * is longer than 16 bits address), or does not fit. */
static inline bool hold_str(const hs_str_t *s, uintptr_t b, size_t len, bool wide, uint32_t i,
                            hs_held_event_t *out, size_t *at, uint32_t *strs) {
  const size_t off = (uintptr_t)s->ptr - b; /* before the message: past its end */
  if (off > len || s->len > len - off || *at + 4 > sizeof out->data ||
      (wide && (off > UINT16_MAX || s->len > UINT16_MAX)))
    return false;
  uint16_t ol[2] = {(uint16_t)off, (uint16_t)s->len};
  memcpy(out->data + *at, ol, 4);
  *at += 4;
  *strs |= UINT32_C(1) << i;
  return true;
}

bool hs_event_hold(const hs_event_t *ev, const void *buf, size_t len, hs_held_event_t *out) {
  out->type = HS_EV_UNKNOWN;
  if (ev->type == HS_EV_UNKNOWN || ev->n_attrs)
    return false;
  size_t at = 0;
  uint16_t nums = 0;
  const unsigned char *f = (const unsigned char *)&ev->session_seconds;
#pragma GCC unroll 16
  for (uint32_t i = 0; i < N_NUMS; i++, f += 8) {
    uint64_t bits;
    memcpy(&bits, f, 8);
    if (!bits) /* zero, as an absent field is: not stored */
      continue;
    if (at + 8 > sizeof out->data)
      return false;
    memcpy(out->data + at, &bits, 8);
    at += 8;
    nums |= (uint16_t)(1u << i);
  }
  uint32_t strs = 0;
  const uintptr_t b = (uintptr_t)buf;
  const bool wide = len > UINT16_MAX;
  const hs_str_t *s = &ev->event_id;
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 3; i++, s++)
    if (s->ptr && !hold_str(s, b, len, wide, i, out, &at, &strs))
      return false;
  s = &ev->user_id;
#pragma GCC unroll 16
  for (uint32_t i = 3; i < N_STRS; i++, s++)
    if (s->ptr && !hold_str(s, b, len, wide, i, out, &at, &strs))
      return false;
  out->nums = nums;
  out->strs = strs;
  out->present = ev->present;
  out->ts_ms = ev->ts_ms;
  out->spare = 0;
  out->type = (uint8_t)ev->type;
  return true;
}

void hs_event_unhold(const hs_held_event_t *h, const void *buf, hs_event_t *ev) {
  /* as the decoder leaves an event: zero up to the attributes */
  memset(ev, 0, offsetof(hs_event_t, attr_key));
  ev->type = (hs_event_type_t)h->type;
  ev->present = h->present;
  ev->ts_ms = h->ts_ms;
  const unsigned char *p = h->data;
  for (uint32_t bits = h->nums; bits; bits &= bits - 1, p += 8)
    memcpy((char *)ev + num_at[__builtin_ctz(bits)], p, 8);
  for (uint32_t bits = h->strs; bits; bits &= bits - 1, p += 4) {
    uint16_t ol[2];
    memcpy(ol, p, 4);
    hs_str_t *s = (hs_str_t *)((char *)ev + str_at[__builtin_ctz(bits)]);
    s->ptr = (const char *)buf + ol[0];
    s->len = ol[1];
  }
}
