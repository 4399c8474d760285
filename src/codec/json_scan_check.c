/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The scanner against yajl on one message (json_scan.h): for the tests, the
 * differential fuzz target and bench_json. */
#include "json_scan.h"

#include "healthscore/codec.h"

#include <stdio.h>
#include <string.h>

static int encodings(const hs_event_t *ev, hs_buf_t *mp, hs_buf_t *js) {
  hs_event_t a = *ev, b = *ev;
  return hs_event_encode_msgpack(&a, mp) | hs_event_encode_json(&b, js);
}

int hs__json_scan_compare(hs_decoder_t *scan, hs_decoder_t *yajl, const void *buf, size_t len,
                          char *why, size_t cap) {
  hs_event_t e1, e2;
  hs_err_t r1 = {0}, r2 = {0};
  hs__decoder_json_scan(scan, true);
  hs__decoder_json_scan(yajl, false);
  int rc1 = hs_event_decode(scan, buf, len, HS_FMT_JSON, &e1, &r1);
  int rc2 = hs_event_decode(yajl, buf, len, HS_FMT_JSON, &e2, &r2);
  if (rc1 != rc2) {
    snprintf(why, cap, "status %d (%s), yajl %d (%s)", rc1, r1.msg, rc2, r2.msg);
    return 1;
  }
  if (rc1) {
    if (strcmp(r1.msg, r2.msg) == 0)
      return 0;
    snprintf(why, cap, "reason \"%s\", yajl \"%s\"", r1.msg, r2.msg);
    return 1;
  }
  if (e1.type != e2.type || e1.ts_ms != e2.ts_ms || e1.present != e2.present ||
      e1.n_attrs != e2.n_attrs) {
    snprintf(why, cap, "type, time, fields or attributes differ");
    return 1;
  }
  hs_buf_t m1, m2, j1, j2;
  hs_buf_init(&m1);
  hs_buf_init(&m2);
  hs_buf_init(&j1);
  hs_buf_init(&j2);
  int x1 = encodings(&e1, &m1, &j1), x2 = encodings(&e2, &m2, &j2);
  int differs = x1 != x2 || m1.len != m2.len || j1.len != j2.len ||
                (m1.len && memcmp(m1.data, m2.data, m1.len)) ||
                (j1.len && memcmp(j1.data, j2.data, j1.len));
  if (differs)
    snprintf(why, cap, "the events differ: %.*s | yajl: %.*s", (int)(j1.len < 300 ? j1.len : 300),
             j1.data ? (const char *)j1.data : "", (int)(j2.len < 300 ? j2.len : 300),
             j2.data ? (const char *)j2.data : "");
  hs_buf_free(&m1);
  hs_buf_free(&m2);
  hs_buf_free(&j1);
  hs_buf_free(&j2);
  return differs;
}
