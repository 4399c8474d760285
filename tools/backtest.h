/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What `replay` and `tune` share around the backtest report: a report set up
 * for a model, fed from evaluations; a second configuration replayed beside
 * the first (`replay --compare`). */
#ifndef HS_TOOLS_BACKTEST_H
#define HS_TOOLS_BACKTEST_H

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/report.h"

#include <stdio.h>

/* A report for `model`: its bands, profiles, rules and, with `metrics`, its
 * metrics (2 bytes per metric and account-day, for the HTML report). */
int hs_bt_report_new(const hs_model_t *model, int horizon, bool metrics, hs_report_t **out);
/* Records one evaluation of account `a` under `m`: score, metrics (it
 * explains the evaluation: call it inside the callback that received `ev`)
 * and alert transitions. */
void hs_bt_feed(hs_report_t *r, const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev);
/* "name vVERSION" of each profile, comma-separated. */
void hs_bt_label(const hs_model_t *model, char *out, size_t cap);

/* One configuration replayed into its own engine and report. */
typedef struct hs_bt_side_s {
  hs_config_t *cfg;
  hs_model_t *model;
  hs_engine_t *engine;
  hs_report_t *report;
  char label[256];
} hs_bt_side_t;

/* Loads and compiles `path` (or takes `cfg`, which it then owns, when path is
 * NULL). Errors go to err. */
int hs_bt_side_open(hs_bt_side_t *s, const char *path, hs_config_t *cfg, int horizon,
                    hs_err_t *err);
void hs_bt_side_close(hs_bt_side_t *s);
int hs_bt_side_apply(hs_bt_side_t *s, const hs_event_t *ev);

/* Writes the HTML report to `f` (named `path` in messages) and closes it;
 * prints the reason on failure. */
int hs_bt_write_html(FILE *f, const char *path, const hs_report_t *r, const hs_report_meta_t *meta,
                     const hs_report_t *other, const hs_report_meta_t *other_meta);
/* The command line as one string (shell-quoted where needed). */
void hs_bt_command_line(int argc, char **argv, char *out, size_t cap);

#endif
