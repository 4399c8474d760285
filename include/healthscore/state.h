/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Account state and output documents (src/state): the versioned msgpack
 * encoding of an account's state (what healthscored stores in Redis) and the
 * JSON documents the engine publishes: the alert message and the score
 * record (schemas/alert.schema.json, schemas/score.schema.json).
 *
 * Ownership: the appending functions write into the caller's buffer; on
 * failure the buffer may hold a partial document (its length is not rolled
 * back) and stays the caller's to free. */
#ifndef HEALTHSCORE_STATE_H
#define HEALTHSCORE_STATE_H

#include "healthscore/core.h"

/* Serialises the whole account state as versioned msgpack into `out`.
 * Decoding with the same model gives a state whose encoding is byte-identical.
 * A state written by an older build, or under a different model, decodes:
 * aggregates are matched by the definition of what they count, and those the
 * new model lacks start empty. Returns 0 or a negative code. */
int hs_account_encode(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out);
/* Decodes a state made by hs_account_encode under model `m` (borrowed, must
 * outlive the account). Returns 0 and a new account in *out, owned by the
 * caller (hs_account_free); or a negative code with *out NULL, nothing to
 * free, and err->msg saying why: HS_E_PARSE (malformed or truncated),
 * HS_E_SCHEMA (well-formed but not a state), HS_E_VERSION (written by a newer
 * build: the caller must not overwrite it), HS_E_NOMEM. */
int hs_account_decode(const hs_model_t *m, const void *buf, size_t len, hs_account_t **out,
                      hs_err_t *err);

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

#endif
