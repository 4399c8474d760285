/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* 64-bit FNV-1a. */
#include "healthscore/hash.h"

uint64_t hs_hash64(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = seed;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}
