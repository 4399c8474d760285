/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The scoring core: a compiled model (metrics, profiles, bands, alert rules)
 * and per-account state that events update in O(1). Pure: no I/O, no clock
 * reads, no logging; time comes only from events and from the caller.
 * The semantics are documented in docs/scoring.md. */
#ifndef HEALTHSCORE_SCORE_H
#define HEALTHSCORE_SCORE_H

#include "healthscore/common.h"
#include "healthscore/config.h"
#include "healthscore/event.h"

#include <math.h>

#define HS_MAX_METRICS 256        /* metric definitions in one model */
#define HS_MAX_GROUPS 16          /* groups in one profile */
#define HS_MAX_PROFILE_METRICS 64 /* metrics in one profile */
#define HS_MAX_RULES 32
#define HS_MAX_PROFILES 64
#define HS_MAX_BANDS 8
#define HS_MAX_DISTINCT 4096 /* distinct values tracked per metric and account */
#define HS_TOP_CONTRIBUTORS 3

typedef struct hs_model_s hs_model_t;
typedef struct hs_account_s hs_account_t;

/* Compiles and validates `cfg` (which stays the caller's; what the model needs
 * is copied). Returns 0 and the model, or HS_E_CONFIG with err->msg as
 * "FILE:LINE:COL: reason" (unknown metric ids, group weights not summing to
 * 100, no default profile, cycles, windows out of range, ...). The model is
 * immutable and may be shared by any number of threads. */
int hs_model_compile(const hs_config_t *cfg, hs_model_t **out, hs_err_t *err);
void hs_model_free(hs_model_t *m);

/* The longest window any metric needs, in days (events older than that, on the
 * account's clock, are late and dropped). */
uint32_t hs_model_horizon_days(const hs_model_t *m);
/* Days an applied event id is remembered for, so that a redelivery is
 * dropped (0: off; docs/scoring.md, "Duplicates"). */
uint32_t hs_model_dedup_days(const hs_model_t *m);
size_t hs_model_n_metrics(const hs_model_t *m);
const char *hs_model_metric_id(const hs_model_t *m, size_t i);
const char *hs_model_metric_label(const hs_model_t *m, size_t i);
size_t hs_model_n_profiles(const hs_model_t *m);
const char *hs_model_profile_name(const hs_model_t *m, size_t i);
const char *hs_model_profile_version(const hs_model_t *m, size_t i);
const char *hs_model_group_name(const hs_model_t *m, size_t profile, size_t group);
size_t hs_model_n_bands(const hs_model_t *m);
const char *hs_model_band_name(const hs_model_t *m, int band); /* "unknown" for -1 */
size_t hs_model_n_rules(const hs_model_t *m);
const char *hs_model_rule_id(const hs_model_t *m, size_t i);
hs_rule_kind_t hs_model_rule_kind(const hs_model_t *m, size_t i);
const char *hs_model_rule_severity(const hs_model_t *m, size_t i);
/* A fingerprint of the model's semantics (changes when scoring would). */
uint64_t hs_model_fingerprint(const hs_model_t *m);

/* One metric in a score's explanation. */
typedef enum hs_value_source_e {
  HS_SRC_MISSING = 0, /* no data; left out */
  HS_SRC_DATA,        /* from events */
  HS_SRC_MISSING_WORST,
  HS_SRC_MISSING_VALUE,
  HS_SRC_OVERRIDE /* pinned by an override event */
} hs_value_source_t;

typedef struct hs_metric_result_s {
  uint16_t metric;     /* index into the model's metrics */
  uint8_t group;       /* index into the profile's groups */
  uint8_t source;      /* hs_value_source_t */
  double raw;          /* raw value (NAN when missing) */
  double norm;         /* 0..100 (NAN when missing) */
  double weight;       /* effective weight in the score, 0..1 (0 when missing) */
  double contribution; /* weight * norm, in score points */
  double delta;        /* change of contribution since the previous score */
} hs_metric_result_t;

typedef struct hs_override_info_s {
  bool active;
  double value;
  int64_t expires_ms;
  hs_str_t reason, author; /* borrowed from the account state */
} hs_override_info_t;

/* A score with its explanation. */
typedef struct hs_score_s {
  bool has_score; /* false: no data at all, band "unknown" */
  double score;   /* 0..100, rounded to 0.1 (hs_score_round) */
  int band;       /* index into the model's bands; -1 = unknown */
  uint16_t profile;
  double coverage; /* share (0..1) of the profile's weight that had data */
  uint32_t n_groups;
  double group_score[HS_MAX_GROUPS];  /* NAN when the group had no data */
  double group_weight[HS_MAX_GROUPS]; /* effective, 0..1 */
  uint32_t n_metrics;
  hs_metric_result_t metrics[HS_MAX_PROFILE_METRICS];
  hs_override_info_t override; /* a pinned score */
} hs_score_t;

/* The published rounding of a score: to the nearest 0.1, halves away from
 * zero. The core rounds every score once, before bands and rules, so that
 * the band, the alerts and the printed score agree. */
static inline double hs_score_round(double score) {
  return round(score * 10.0) / 10.0;
}

typedef enum hs_alert_state_e { HS_ALERT_FIRING = 0, HS_ALERT_RESOLVED = 1 } hs_alert_state_t;

/* An alert transition. */
typedef struct hs_alert_s {
  uint16_t rule;
  uint8_t state;            /* hs_alert_state_t */
  uint64_t alert_id;        /* deterministic: (account, rule, episode start) */
  int64_t episode_start_ms; /* event time the episode fired */
  double score, prev_score; /* prev_score: the score before this evaluation,
                               or for trend rules the score `lookback` ago */
  int band;
  /* metrics that moved the score most (largest negative delta first for
     firing, largest positive first for resolved), indexes into hs_score_t.metrics */
  uint32_t n_top;
  uint16_t top[HS_TOP_CONTRIBUTORS];
} hs_alert_t;

/* One evaluation of an account: at an event, or at a UTC midnight that
 * passed (a "tick"). Borrowed: valid only during the callback. */
typedef struct hs_eval_s {
  hs_str_t account_id;
  int64_t at_ms;           /* evaluation time (event time, or the midnight) */
  const hs_event_t *event; /* the event evaluated at, NULL for a tick */
  bool changed;            /* score, band or profile differ from the previous one */
  hs_score_t score;
  bool had_prev;
  double prev_score; /* NAN if the previous evaluation had no score */
  int prev_band;
  uint32_t n_alerts;
  hs_alert_t alerts[HS_MAX_RULES];
} hs_eval_t;

typedef void (*hs_eval_cb)(void *ud, const hs_account_t *acct, const hs_eval_t *ev);

/* Creates an empty account `account_id` (copied) for model `m`. */
int hs_account_new(const hs_model_t *m, hs_str_t account_id, hs_account_t **out);
void hs_account_free(hs_account_t *a);
hs_str_t hs_account_id(const hs_account_t *a);

/* Outcome of hs_account_apply. */
typedef enum hs_apply_result_e {
  HS_APPLIED = 0,
  HS_LATE = 1,      /* older than the horizon on the account's clock: dropped */
  HS_DUPLICATE = 2, /* its event_id was applied already (docs/scoring.md,
                       "Duplicates"): dropped, nothing changed */
  HS_IGNORED = 3    /* outcome events and the like: recorded, not scored */
} hs_apply_result_t;

/* Applies `ev` (which must belong to this account) under model `m`, unless
 * it is late (HS_LATE) or an event with its `event_id` was applied and is
 * remembered (HS_DUPLICATE): both change nothing and evaluate nothing. An
 * event with an empty id is never a duplicate. Otherwise it first evaluates every UTC midnight that
 * passed on the account's clock since its last evaluation (ticks), then updates the state and
 * evaluates at the account's clock, max(event time, clock). Calls `cb` once per evaluation, in time
 * order. Returns a hs_apply_result_t (>= 0) or HS_E_NOMEM. */
int hs_account_apply(const hs_model_t *m, hs_account_t *a, const hs_event_t *ev, hs_eval_cb cb,
                     void *ud);

/* Advances the account's clock to `now_ms`, evaluating every UTC midnight in
 * (last evaluation, now_ms] with `cb`. Idle accounts age this way: windows
 * empty, "days since" grows. Does nothing if now_ms is not ahead. */
int hs_account_advance(const hs_model_t *m, hs_account_t *a, int64_t now_ms, hs_eval_cb cb,
                       void *ud);

/* hs_account_advance, at most `max_days` midnights at a time: returns how
 * many midnights toward `now_ms` remain (0: done), or HS_E_NOMEM. Calling it
 * again with the same `now_ms` until it returns 0 gives exactly the
 * evaluations one hs_account_advance(now_ms) gives, so a caller can bound
 * the work of one turn of its loop (an account whose clock is decades
 * behind costs up to 3,660 evaluations, about a millisecond). */
int64_t hs_account_advance_some(const hs_model_t *m, hs_account_t *a, int64_t now_ms,
                                uint32_t max_days, hs_eval_cb cb, void *ud);

/* Scores the account without changing anything, at `at_ms` if that is not
 * before the account's clock and in the same UTC day (call
 * hs_account_advance(at_ms) first), else at the clock. */
void hs_account_score(const hs_model_t *m, const hs_account_t *a, int64_t at_ms, hs_score_t *out);

/* The account's clock: the latest of its event times and advances; INT64_MIN
 * before the first event. */
int64_t hs_account_clock(const hs_account_t *a);
/* Number of events applied, and dropped as late. */
uint64_t hs_account_events(const hs_account_t *a);
uint64_t hs_account_late(const hs_account_t *a);
/* The last outcome event's value ("churned", ...) and time, or HS_STR_NULL. */
hs_str_t hs_account_outcome(const hs_account_t *a, int64_t *at_ms);
/* Attributes as last set: segment, stage, vertical (HS_STR_NULL if unset). */
hs_str_t hs_account_attr(const hs_account_t *a, const char *name);
/* The daily score history: the latest day recorded (days since the epoch;
 * INT32_MIN before any), and the score of one day (NAN when that day had no
 * score or is no longer held). */
int32_t hs_account_history_last(const hs_account_t *a);
double hs_account_history_day(const hs_model_t *m, const hs_account_t *a, int32_t day);
/* Bytes of heap the account holds under model `m`. */
size_t hs_account_memory(const hs_model_t *m, const hs_account_t *a);
/* Starts loading the parts of `a` that applying an event reads (a hint). */
void hs_account_prefetch(const hs_model_t *m, const hs_account_t *a);
/* Once `a` is in cache: starts loading the days event `ev` will update. */
void hs_account_prefetch_days(const hs_model_t *m, const hs_account_t *a, const hs_event_t *ev);

/* Serialises the whole account state as versioned msgpack into `out`.
 * Decoding with the same model gives a state whose encoding is byte-identical.
 * A state written by an older build, or under a different model, decodes:
 * aggregates are matched by the definition of what they count, and those the
 * new model lacks start empty. Returns 0 or a negative code. */
int hs_account_encode(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out);
int hs_account_decode(const hs_model_t *m, const void *buf, size_t len, hs_account_t **out,
                      hs_err_t *err);

/* The alert id as 16 lowercase hex digits plus NUL. */
void hs_alert_id_hex(uint64_t id, char out[17]);

#endif
