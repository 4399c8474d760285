/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

const char *hs_test_path(const char *relpath) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", HS_SOURCE_DIR, relpath);
  return path;
}

char *hs_test_read_file(const char *relpath, size_t *len) {
  FILE *f = fopen(hs_test_path(relpath), "rb");
  if (!f)
    fail_msg("cannot open %s", hs_test_path(relpath));
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = hs_malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  if (len)
    *len = (size_t)n;
  return buf;
}
