/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A JSON scanner for the common case of event messages, private to
 * src/codec: it drives yajl's callbacks over a text as yajl_parse and
 * yajl_complete_parse would, for a subset of JSON it is sure of, and says
 * so when a text is outside it, for the caller to parse it again with yajl.
 * Not a public interface. */
#ifndef HS_CODEC_JSON_SCAN_H
#define HS_CODEC_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_parse.h>

typedef enum {
  HS__JSCAN_DONE = 0, /* one object, every callback made and returned nonzero */
  HS__JSCAN_STOPPED,  /* a callback returned 0, where yajl would have called it */
  HS__JSCAN_UNSURE    /* outside the subset: callbacks were made; parse again with yajl */
} hs__jscan_t;

/* The subset: one object at the top, then only whitespace; whitespace of
 * space, tab, LF and CR; strings and keys of printable ASCII without
 * escapes (handed over in place, as yajl hands over a string without
 * escapes); integers of at most 18 digits; other numbers of at most 63
 * characters that strtod reads without ERANGE; true, false, null; arrays
 * and objects nested to any depth. Everything else, including every
 * malformed text, is UNSURE. `cb` must not use yajl_number. */
hs__jscan_t hs__json_scan(const yajl_callbacks *cb, void *ctx, const unsigned char *p, size_t len);

typedef struct hs_decoder_s hs_decoder_t;
/* Turns the scanner off (yajl parses every JSON message) or on (the
 * default) for decoder `d`: for comparing the two. */
void hs__decoder_json_scan(hs_decoder_t *d, bool on);

/* Decodes the JSON message `buf` with `scan` (the scanner on) and `yajl`
 * (off) and compares the outcomes: the status, the reason of a rejection,
 * and of an event its type, time, fields present and both its encodings.
 * Returns 0 when they are the same, else 1 with what differs in `why`. */
int hs__json_scan_compare(hs_decoder_t *scan, hs_decoder_t *yajl, const void *buf, size_t len,
                          char *why, size_t cap);

#endif
