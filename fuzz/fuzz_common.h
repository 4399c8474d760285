/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Shared body of the decoder fuzz targets: decode, then check invariants. */
#ifndef HS_FUZZ_COMMON_H
#define HS_FUZZ_COMMON_H
#include "healthscore/codec.h"

#include <stdlib.h>

static int hs_fuzz_one(const uint8_t *data, size_t size, hs_format_t fmt) {
  static hs_decoder_t *dec;
  if (!dec && hs_decoder_new(&dec, 4096))
    abort();
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = hs_event_decode(dec, data, size, fmt, &ev, &err);
  if (rc == 0) {
    /* a decoded event always satisfies the envelope contract */
    if (ev.account_id.len < 1 || ev.account_id.len > HS_MAX_ID_LEN || ev.event_id.len < 1 ||
        ev.type <= HS_EV_UNKNOWN || ev.type >= HS_EV__COUNT || ev.ts_ms < 0)
      abort();
    /* and encodes to something that decodes to the same type and time */
    hs_buf_t b;
    hs_buf_init(&b);
    hs_event_t copy = ev;
    if (hs_event_encode_msgpack(&copy, &b) == 0) {
      static hs_decoder_t *dec2;
      if (!dec2 && hs_decoder_new(&dec2, 1 << 16))
        abort();
      hs_event_t back;
      if (hs_event_decode(dec2, b.data, b.len, HS_FMT_MSGPACK, &back, &err) != 0 ||
          back.type != ev.type || back.ts_ms != ev.ts_ms)
        abort();
    }
    hs_buf_free(&b);
  } else if (err.msg[0] == 0) {
    abort(); /* every failure says why */
  }
  size_t n, m;
  (void)hs_msgpack_object_size(data, size, &n);
  /* a record frames as one object; a msgpack event that decodes frames whole */
  int fr = hs_msgpack_record_size(data, size, &m, &err);
  if (fr == 0 && (m > size || hs_msgpack_object_size(data, size, &n) != 0 || n != m))
    abort();
  if (fmt == HS_FMT_MSGPACK && (rc == 0 || rc == HS_E_UNKNOWN) && (fr != 0 || m != size))
    abort();
  /* a record decoded in one pass ends where framing says, and decodes alike
     on its own bytes */
  size_t used;
  int r1 = hs_event_decode_msgpack_record(dec, data, size, &used, &ev, &err);
  if (used && (r1 == 0 || r1 == HS_E_UNKNOWN)) {
    int64_t ts = ev.ts_ms;
    if (fr != 0 || used != m || hs_event_decode(dec, data, used, HS_FMT_MSGPACK, &ev, &err) != r1 ||
        ev.ts_ms != ts)
      abort();
  }
  return 0;
}
#endif
