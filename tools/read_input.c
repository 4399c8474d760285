/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "read_input.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hs_tool_read_all(const char *cmd, const char *path, hs_buf_t *b) {
  FILE *f = path ? fopen(path, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "healthscore %s: %s: %s\n", cmd, path, strerror(errno));
    return 1;
  }
  char chunk[65536];
  size_t n;
  int rc = 0;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = hs_buf_append(b, chunk, n);
  if (rc || ferror(f)) {
    fprintf(stderr, "healthscore %s: %s: read error\n", cmd, path ? path : "<stdin>");
    rc = 1;
  }
  if (path)
    fclose(f);
  return rc;
}
