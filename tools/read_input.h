/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Reading a whole input file (or standard input) in the tools. */
#ifndef HS_TOOLS_READ_INPUT_H
#define HS_TOOLS_READ_INPUT_H

#include "healthscore/base.h"

/* Appends the file at `path` (NULL: standard input) to `b`. Returns 0, or 1
 * after "healthscore CMD: PATH: reason" on stderr. */
int hs_tool_read_all(const char *cmd, const char *path, hs_buf_t *b);

#endif
