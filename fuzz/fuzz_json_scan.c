/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* libFuzzer target, differential: arbitrary bytes decoded as a JSON event
 * with the scanner (src/codec/json_scan.c) and with yajl alone must give
 * the same event or the same rejection. */
#include "healthscore/codec.h"
#include "json_scan.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static hs_decoder_t *scan, *yajl;
  if ((!scan && hs_decoder_new(&scan, 4096)) || (!yajl && hs_decoder_new(&yajl, 4096)))
    abort();
  char why[1024];
  if (hs__json_scan_compare(scan, yajl, data, size, why, sizeof why)) {
    fprintf(stderr, "the scanner and yajl differ: %s\n", why);
    abort();
  }
  return 0;
}
