/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "kafka_opts.h"

#include <stdio.h>
#include <string.h>

int hs_tool_take_setting(char *arg, const char **set, size_t *n_set, size_t max) {
  char *eq = strchr(arg, '=');
  if (!eq || eq == arg || *n_set == max)
    return -1;
  *eq = 0; /* NAME ends here */
  set[2 * *n_set] = arg;
  set[2 * *n_set + 1] = eq + 1;
  (*n_set)++;
  return 0;
}

void hs_tool_tally_report(hs_tool_tally_t *t, int status, const char *reason) {
  if (status) {
    if (!t->failed++)
      snprintf(t->first_error, sizeof t->first_error, "%s", reason ? reason : "");
  } else {
    t->delivered++;
  }
}
