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
 * new model lacks start empty. Returns 0 with the state appended to `out`,
 * or HS_E_NOMEM with `out` as it was (never a part of a state). */
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

/* the longest ce_subject: an account id */
#define HS_ALERT_SUBJECT_MAX HS_MAX_ID_LEN

/* CloudEvents 1.0 (Kafka protocol binding) of an alert message. */
#define HS_ALERT_CE_SPECVERSION "1.0"
#define HS_ALERT_CE_TYPE_PREFIX "dev.healthscore.alert."
#define HS_ALERT_CE_DATASCHEMA "https://healthscore.dev/schemas/alert.schema.json"
/* headers of an alert message: at most */
#define HS_ALERT_MAX_HEADERS 9

typedef enum hs_alert_format_e {
  HS_ALERT_BINARY = 0,    /* the alert JSON as the value, ce_* headers */
  HS_ALERT_STRUCTURED = 1 /* a CloudEvent JSON envelope with the alert as `data` */
} hs_alert_format_t;

/* What the engine puts around an alert message. */
typedef struct hs_alert_envelope_s {
  hs_alert_format_t format;
  /* the CloudEvents `source` (a URI reference); NULL or empty:
     "healthscore/" and the percent-encoded `group_id` */
  const char *source;
  const char *group_id;
} hs_alert_envelope_t;

/* The headers of an alert message, as NUL-terminated name, value pairs
 * (hdr[2i], hdr[2i+1]); the values point into the struct. */
typedef struct hs_alert_headers_s {
  const char *hdr[2 * HS_ALERT_MAX_HEADERS];
  size_t n;
  char id[32], type[48], time[32], ts[24];
  char source[512];
  char subject[HS_ALERT_SUBJECT_MAX + 1];
} hs_alert_headers_t;

/* The CloudEvents `source` of `env` into out (NUL-terminated, cut at
 * n - 1 bytes). */
void hs_alert_ce_source(const hs_alert_envelope_t *env, char *out, size_t n);

/* Appends the alert message (hs_output_alert_json, or in structured mode
 * the CloudEvent envelope around it) to `value` and fills `h`: binary mode
 * ce_specversion, ce_id ("<alert_id>-<state>"), ce_source, ce_type
 * (HS_ALERT_CE_TYPE_PREFIX and the state), ce_time (the event time),
 * ce_subject (the account id), ce_dataschema and content-type
 * application/json; structured mode content-type
 * application/cloudevents+json only. `source_ts_ms` > 0 adds the header
 * source_timestamp. Returns 0 or HS_E_NOMEM; `value` and `h` belong to the
 * caller. */
int hs_output_alert_message(const hs_model_t *m, const hs_eval_t *ev, const hs_alert_t *alert,
                            int64_t processed_ms, const hs_alert_envelope_t *env,
                            int64_t source_ts_ms, hs_buf_t *value, hs_alert_headers_t *h);

/* Appends the score record of `ev`, an evaluation of account `a`: score,
 * band, profile and version, coverage, group scores, every metric's
 * raw/normalised value, weight and contribution, top contributors,
 * updated_at. Explains the evaluation (hs_eval_explain) when it is not, so
 * callable only inside the callback that received `ev`. Returns 0 or
 * HS_E_NOMEM. */
int hs_output_score_json(const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev,
                         hs_buf_t *out);

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
