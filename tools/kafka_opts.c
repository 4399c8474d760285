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

int hs_tool_producer_open(hs_producer_t **out, uv_loop_t *loop, const hs_producer_conf_t *pc,
                          hs_producer_report_cb report, void *ud, const char *const *topics,
                          size_t n_topics, int timeout_ms, hs_err_t *err) {
  if (!hs_producer_new(out, loop, pc, report, ud, err) &&
      !hs_producer_warm(*out, topics, n_topics, timeout_ms, err))
    return 0;
  if (*out) {
    hs_producer_close(*out, 0, NULL, NULL);
    *out = NULL;
    uv_run(loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(loop);
  return -1;
}

void hs_tool_tally_report(hs_tool_tally_t *t, int status, const char *reason) {
  if (status) {
    if (!t->failed++)
      snprintf(t->first_error, sizeof t->first_error, "%s", reason ? reason : "");
  } else {
    t->delivered++;
  }
}
