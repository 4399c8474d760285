/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* JSON documents the engine publishes: the alert message and the score record
 * (schemas/alert.schema.json, schemas/score.schema.json). */
#ifndef HEALTHSCORE_OUTPUT_H
#define HEALTHSCORE_OUTPUT_H

#include "healthscore/score.h"

/* Appends the alert message for `alert` of evaluation `ev` as one JSON object
 * (no newline). `processed_ms` is the processing time (wall clock in the
 * daemon, the evaluation time in replay). Returns 0 or HS_E_NOMEM. */
int hs_output_alert_json(const hs_model_t *m, const hs_eval_t *ev, const hs_alert_t *alert,
                         int64_t processed_ms, hs_buf_t *out);

/* Appends the score record of `ev`: score, band, profile and version,
 * coverage, group scores, every metric's raw/normalised value, weight and
 * contribution, top contributors, updated_at. Returns 0 or HS_E_NOMEM. */
int hs_output_score_json(const hs_model_t *m, const hs_eval_t *ev, hs_buf_t *out);

/* Appends the score record of account `a` as it stands, scored at its clock
 * (or at `at_ms` when later, see hs_account_score): what `healthscore replay
 * --final` prints and GET /v1/accounts/{id} answers. With `explain` false,
 * the record leaves out the per-metric explanation (`metrics`): the record
 * the daemon stores in Redis, about a sixth of the size. Returns 0 or
 * HS_E_NOMEM. */
int hs_output_account_json(const hs_model_t *m, const hs_account_t *a, int64_t at_ms, bool explain,
                           hs_buf_t *out);

/* Appends what GET /v1/accounts/{id} answers: the explained score record of
 * `a` with its daily history ("history": the last 91 days that have a
 * score, "YYYY-MM-DD": score) before the closing brace. Returns 0 or
 * HS_E_NOMEM (then `out` may hold part of the record). */
int hs_output_account_history_json(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out);

#endif
