/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event decoding (JSON or msgpack, told apart per message) and encoding.
 * Decoders validate strictly and never crash on input; memory is bounded by
 * the size limit given at creation. */
#ifndef HEALTHSCORE_CODEC_H
#define HEALTHSCORE_CODEC_H

#include "healthscore/base.h"
#include "healthscore/event.h"

typedef struct hs_decoder_s hs_decoder_t;

typedef enum hs_format_e { HS_FMT_AUTO = 0, HS_FMT_JSON, HS_FMT_MSGPACK } hs_format_t;

#define HS_DEFAULT_MAX_MESSAGE (64 * 1024)

/* Creates a decoder that rejects messages larger than `max_message` bytes
 * (0 = HS_DEFAULT_MAX_MESSAGE). Returns 0 and the decoder in *out, the
 * caller's (hs_decoder_free), or HS_E_NOMEM with *out NULL. Not thread-safe:
 * one decoder per thread. */
int hs_decoder_new(hs_decoder_t **out, size_t max_message);
void hs_decoder_free(hs_decoder_t *d);

/* The format of a message: a first non-blank byte '{' means JSON, a msgpack
 * map header (0x80..0x8f, 0xde, 0xdf) means msgpack; anything else is
 * HS_FMT_AUTO (unrecognised). */
hs_format_t hs_detect_format(const void *buf, size_t len);

/* Decodes one event from `buf` (JSON or msgpack, detected per message unless
 * `fmt` says which). Returns 0 and fills *ev, whose strings are borrowed from
 * `buf` and from the decoder (valid until the next call on `d` and while `buf`
 * lives). Otherwise returns a negative code and sets `err` to a reason that
 * names the field, e.g. `field "ts": not an RFC 3339 time or epoch ms`, or
 * where in the message it is (`malformed JSON at byte 57: ...`, offsets
 * counted from 0):
 *   HS_E_PARSE   malformed JSON/msgpack, truncated, trailing bytes, a string
 *                anywhere that is not UTF-8 or (JSON) has an unpaired UTF-16
 *                surrogate escape such as "\ud800"
 *   HS_E_SCHEMA  a required field missing, a field of the wrong type, a key
 *                (known or not) twice in the event object or its attributes
 *   HS_E_RANGE   a value out of bounds (NPS 11, negative amount, ts out of
 *                years 1970..9999, a string over its length limit, |number| > 1e12,
 *                more than 256 keys)
 *   HS_E_TOOBIG  the message is over the size limit
 *   HS_E_UNKNOWN the envelope is valid but the type is not known: ev->type is
 *                HS_EV_UNKNOWN and ev->type_name, event_id, account_id, ts are
 *                set; callers count and skip such events.
 * Unknown fields are ignored (forward compatibility). The event time is not
 * checked against the clock here: see hs_event_check_time(). */
int hs_event_decode(hs_decoder_t *d, const void *buf, size_t len, hs_format_t fmt, hs_event_t *ev,
                    hs_err_t *err);

/* An event kept between its decoding and its use while the message it was
 * decoded from is held (the live engine decodes a message once, on
 * arrival, and applies it later): 64 bytes that give back exactly the
 * hs_event_t decoded, its strings pointing into the message again. Only an
 * event whose strings all lie in the message (none unescaped into the
 * decoder's memory: JSON escapes, attribute keys) and whose fields fit is
 * kept; the others are decoded again when used. */
typedef struct hs_held_event_s {
  int64_t ts_ms;
  uint8_t type; /* hs_event_type_t; HS_EV_UNKNOWN: not kept */
  uint8_t spare;
  uint16_t nums; /* the numeric fields stored, in `data` first (8 bytes each) */
  uint32_t strs; /* the strings stored after them (offset, length: 2 bytes each) */
  uint32_t present;
  unsigned char data[44];
} hs_held_event_t;

/* Keeps `ev`, decoded from `buf` (len bytes), in *out: returns true, or
 * false (out->type HS_EV_UNKNOWN) when it cannot be kept. */
bool hs_event_hold(const hs_event_t *ev, const void *buf, size_t len, hs_held_event_t *out);
/* The event kept by hs_event_hold from the same `buf`, as it was decoded. */
void hs_event_unhold(const hs_held_event_t *h, const void *buf, hs_event_t *ev);

/* Appends `ev` encoded as one JSON object (no newline) / one msgpack map to
 * `out`. Only present fields are written; ts is written as RFC 3339 in JSON
 * and as an integer (epoch ms) in msgpack. Returns 0 or HS_E_NOMEM. */
/* Length of the one complete msgpack object at the start of `buf` (msgpack
 * files are plain concatenations of maps): returns 0 and *out, 1 when buf
 * holds only a prefix of an object, or HS_E_PARSE when it is malformed or
 * nested deeper than 32. Never reads past len; allocates nothing. */
int hs_msgpack_object_size(const void *buf, size_t len, size_t *out);
/* The same for a record of an event stream: the object must be a map whose
 * keys are strings, so that a map cut short, which would take its missing
 * entries from the records after it, is malformed (HS_E_PARSE) at its first
 * key that is not a string: the next record's map header. On 1 or
 * HS_E_PARSE, `err` (may be NULL) says where ("malformed msgpack at byte N:
 * ...", offsets counted from 0). */
int hs_msgpack_record_size(const void *buf, size_t len, size_t *out, hs_err_t *err);
/* Decodes the msgpack record at the start of buf[0..len) (more records may
 * follow it) as hs_event_decode does, in one pass, and sets *used to where
 * its map ends, or 0 when it was not read to its end. When it returns 0 or
 * HS_E_UNKNOWN with *used set, *used is what hs_msgpack_record_size gives
 * and hs_event_decode on those bytes returns the same event; otherwise
 * frame the record with hs_msgpack_record_size, which gives the reasons.
 * Containers nest no deeper than in hs_event_decode (32 levels, the event's
 * map included, as in JSON); a record over that limit is not read to its
 * end. */
int hs_event_decode_msgpack_record(hs_decoder_t *d, const void *buf, size_t len, size_t *used,
                                   hs_event_t *ev, hs_err_t *err);

int hs_event_encode_json(const hs_event_t *ev, hs_buf_t *out);
int hs_event_encode_msgpack(const hs_event_t *ev, hs_buf_t *out);

#endif
