/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event decoding. Two syntaxes (JSON through yajl's SAX parser in
 * decode_json.c, msgpack through a bounds-checked reader in
 * decode_msgpack.c) feed one field layer (fields.c) that checks types,
 * ranges and required fields, so both formats obey exactly the same rules. */
#include "decoder.h"
#include "fields.h"
#include "json_scan.h"

#include <string.h>

/* ---- entry points ------------------------------------------------------ */

int hs_decoder_new(hs_decoder_t **out, size_t max_message) {
  hs__fields_check(); /* find_field's switch must agree with the table */
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
  hs__decode_arena_reset(d);
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

/* memset(ev, 0, offsetof(hs_event_t, attr_key)) as straight 16-byte stores
 * (the library call costs twice as many instructions for these 368 bytes). */
static void zero_event_head(hs_event_t *ev) {
  typedef uint64_t v2_t __attribute__((vector_size(16), aligned(8), may_alias));
  enum { WORDS = offsetof(hs_event_t, attr_key) / 16, REST = offsetof(hs_event_t, attr_key) % 16 };
  v2_t *w = (v2_t *)(void *)ev;
  const v2_t z = {0, 0};
#pragma GCC unroll 32
  for (int i = 0; i < WORDS; i++)
    w[i] = z;
  if (REST)
    memset((char *)ev + WORDS * 16, 0, REST);
}

void hs__decode_begin(hs_decoder_t *d, hs_event_t *ev, hs_err_t *err) {
  zero_event_head(ev);
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
  hs__decode_begin(d, ev, err);
  if (len > d->max_message)
    return hs_err_set(err, HS_E_TOOBIG, "message of %zu bytes is over the limit of %zu", len,
                      d->max_message);
  if (len == 0)
    return hs_err_set(err, HS_E_PARSE, "empty message");
  if (fmt == HS_FMT_AUTO)
    fmt = hs_detect_format(buf, len);
  int rc;
  if (fmt == HS_FMT_JSON) {
    rc = hs__decode_json(d, buf, len);
    hs__decode_arena_reset(d);
  } else if (fmt == HS_FMT_MSGPACK) {
    d->borrow = true;
    rc = hs__decode_msgpack(d, buf, len);
    d->borrow = false;
  } else {
    return hs_err_set(err, HS_E_PARSE, "neither a JSON object nor a msgpack map");
  }
  if (!rc)
    rc = hs__decode_finish(d);
  return rc;
}

int hs_event_decode_msgpack_record(hs_decoder_t *d, const void *buf, size_t len, size_t *used,
                                   hs_event_t *ev, hs_err_t *err) {
  hs__decode_begin(d, ev, err);
  *used = 0;
  if (len > d->max_message)
    len = d->max_message; /* a longer record is over the limit: not found whole */
  if (len == 0)
    return hs_err_set(err, HS_E_PARSE, "empty message");
  d->borrow = true;
  int rc = hs__decode_msgpack_record(d, buf, len, used);
  d->borrow = false;
  if (!rc)
    rc = hs__decode_finish(d);
  return rc;
}
