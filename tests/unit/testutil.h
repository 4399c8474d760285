/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Helpers shared by the unit tests. cmocka needs these includes in this order. */
#ifndef HS_TESTUTIL_H
#define HS_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "healthscore/base.h"

/* Reads a file below the source tree ("examples/x.yaml") into a NUL-terminated
 * heap buffer (hs_free it); fails the test if it cannot. */
char *hs_test_read_file(const char *relpath, size_t *len);
/* The absolute path of a file below the source tree, in a static buffer. */
const char *hs_test_path(const char *relpath);
/* Runs a shell command (printf-style); returns its exit status, -1 if it
 * did not exit normally. */
int hs_test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The healthscore binary under test ($HS_BIN, else the build tree's). */
const char *hs_test_bin(void);
/* Reads the file at an absolute `path` into a NUL-terminated heap buffer
 * (hs_free it); fails the test if it cannot. */
char *hs_test_slurp(const char *path, size_t *len);
/* A TCP port free on 127.0.0.1 when asked (the kernel's choice), -1 if none. */
int hs_test_free_port(void);
/* The next number of a splitmix64 sequence whose state is *state: the
 * tests' seeded generator (the same seed gives the same sequence). */
uint64_t hs_test_splitmix(uint64_t *state);
#endif
