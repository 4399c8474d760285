/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Hashing that is stable across builds and machines. Pure. */
#ifndef HEALTHSCORE_HASH_H
#define HEALTHSCORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a, stable across builds and machines (used for ids in state). */
uint64_t hs_hash64(const void *p, size_t n, uint64_t seed);
#define HS_HASH_SEED UINT64_C(0xcbf29ce484222325)

#endif
