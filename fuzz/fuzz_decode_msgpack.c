/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* libFuzzer target: arbitrary bytes through the msgpack event decoder. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return hs_fuzz_one(data, size, HS_FMT_MSGPACK);
}
