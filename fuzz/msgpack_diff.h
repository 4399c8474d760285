/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The msgpack event decoder against its reference (fuzz/old/): the same
 * return code, the same reason and the same event, field by field, for any
 * bytes. Shared by the libFuzzer target fuzz_decode_msgpack_diff and the
 * unit test test_codec_msgpack_differential. */
#ifndef HS_FUZZ_MSGPACK_DIFF_H
#define HS_FUZZ_MSGPACK_DIFF_H
#include "healthscore/codec.h"

#include <stdbool.h>
#include <string.h>

int hs_event_decode_msgpack_old(hs_decoder_t *d, const void *buf, size_t len, hs_event_t *ev,
                                hs_err_t *err);

static bool hs_diff_str_eq(hs_str_t a, hs_str_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Returns NULL when both decoders agree on `data`, else what differs. */
static const char *hs_msgpack_diff_one(hs_decoder_t *now, hs_decoder_t *ref, const uint8_t *data,
                                       size_t size) {
  hs_event_t a, b;
  hs_err_t ea, eb;
  memset(&ea, 0, sizeof ea);
  memset(&eb, 0, sizeof eb);
  int ra = hs_event_decode(now, data, size, HS_FMT_MSGPACK, &a, &ea);
  int rb = hs_event_decode_msgpack_old(ref, data, size, &b, &eb);
  if (ra != rb)
    return "return code";
  if (ea.code != eb.code || strcmp(ea.msg, eb.msg) != 0)
    return "reason";
  if (a.type != b.type || a.present != b.present || a.ts_ms != b.ts_ms)
    return "type, present or ts";
  const hs_str_t *sa[] = {&a.event_id,   &a.account_id, &a.type_name, &a.user_id,
                          &a.feature,    &a.role,       &a.priority,  &a.ticket_id,
                          &a.invoice_id, &a.outcome,    &a.target,    &a.reason,
                          &a.author,     &a.segment,    &a.stage,     &a.vertical};
  const hs_str_t *sb[] = {&b.event_id,   &b.account_id, &b.type_name, &b.user_id,
                          &b.feature,    &b.role,       &b.priority,  &b.ticket_id,
                          &b.invoice_id, &b.outcome,    &b.target,    &b.reason,
                          &b.author,     &b.segment,    &b.stage,     &b.vertical};
  for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++)
    if (!hs_diff_str_eq(*sa[i], *sb[i]))
      return "a string field";
  /* the numbers bit for bit (a NaN or -0 would differ from 0) */
  if (memcmp(&a.session_seconds, &b.session_seconds,
             (size_t)((const char *)&a.renewal_ms - (const char *)&a.session_seconds) +
                 sizeof a.renewal_ms) != 0)
    return "a number or time field";
  if (a.n_attrs != b.n_attrs)
    return "the number of attributes";
  for (uint32_t i = 0; i < a.n_attrs && i < HS_MAX_ATTRS; i++)
    if (!hs_diff_str_eq(a.attr_key[i], b.attr_key[i]) ||
        !hs_diff_str_eq(a.attr_val[i], b.attr_val[i]))
      return "an attribute";
  return NULL;
}
#endif
