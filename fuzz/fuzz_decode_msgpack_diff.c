/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* libFuzzer target: the msgpack event decoder against the reader it
 * replaced (fuzz/old/), differential: any bytes decode to the same event
 * or the same rejection, with the same reason. */
#include "msgpack_diff.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static hs_decoder_t *now, *ref;
  if (!now && (hs_decoder_new(&now, 4096) || hs_decoder_new(&ref, 4096)))
    abort();
  const char *diff = hs_msgpack_diff_one(now, ref, data, size);
  if (diff) {
    fprintf(stderr, "the decoders differ in %s\n", diff);
    abort();
  }
  return 0;
}
