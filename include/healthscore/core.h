/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The scoring core (src/core): the scoring configuration as plain data, the
 * compiled model (metrics, profiles, bands, alert rules), per-account state
 * that events update in O(1), and the engine: the in-memory table of accounts
 * that `healthscore replay`, the report and the benchmarks run. Pure: no I/O,
 * no clock reads, no logging; time comes only from events and from the
 * caller. Links only the base libraries (base, time, hash, event). The
 * semantics are documented in docs/scoring.md, the configuration in
 * docs/config.md.
 *
 * Ownership: a function returning a new object in *out (hs_model_compile,
 * hs_account_new, hs_engine_new) gives it to the caller, who frees it with the
 * matching _free; on failure *out is left unchanged and nothing is owed.
 * Arguments are borrowed for the call unless a comment says otherwise.
 * Strings returned by accessors are borrowed from the object they came from
 * and live as long as it. */
#ifndef HEALTHSCORE_CORE_H
#define HEALTHSCORE_CORE_H

#include "healthscore/base.h"
#include "healthscore/event.h"

#include <math.h>

/* ---- The scoring configuration as plain data ----
 * What the YAML loader (healthscore/config.h) produces and hs_model_compile()
 * turns into a validated model. Every `line`/`col` is the 1-based position in
 * the source file of the node that defined the item, so that any later error
 * can say file:line:column. */

typedef struct hs_pos_s {
  int line, col;
} hs_pos_t;

typedef enum hs_metric_kind_e {
  HS_MK_COUNT = 0,  /* number of matching events in the window */
  HS_MK_SUM,        /* sum of `field` over the window */
  HS_MK_AVG,        /* mean of `field` over the window */
  HS_MK_MIN,        /* minimum of `field` over the window */
  HS_MK_MAX,        /* maximum of `field` over the window */
  HS_MK_DISTINCT,   /* distinct values of string `field` (default user_id) */
  HS_MK_DAYS_SINCE, /* days since the last matching event (exact time) */
  HS_MK_LATEST,     /* latest value of `field`, missing after max_age */
  HS_MK_RATIO,      /* metric `num` / metric `den` */
  HS_MK_TREND,      /* windowed metric `of`: current window vs previous one */
  HS_MK_SLOPE,      /* windowed metric `of`: least-squares slope per day */
  HS_MK_ATTRIBUTE,  /* an account attribute: licenses, tenure_days,
                       days_to_renewal or a numeric custom attribute */
  HS_MK__COUNT
} hs_metric_kind_t;

typedef enum hs_trend_mode_e { HS_TREND_PERCENT = 0, HS_TREND_DELTA } hs_trend_mode_t;

#define HS_MAX_WHERE 4
#define HS_MAX_SELECT 32 /* attributes in one profile's select */
#define HS_MAX_STAGES 64 /* stage overrides of one metric reference */
#define HS_MAX_WINDOW_DAYS 730

/* `where: {field: [values...]}`: the string field must equal one of values. */
typedef struct hs_where_s {
  hs_field_t field;
  char **values;
  size_t n_values;
} hs_where_t;

typedef struct hs_metric_def_s {
  char *id;       /* unique, [a-z0-9_]+ */
  char *label;    /* human label; defaults to id */
  char *category; /* free text: engagement, usage, adoption, ... */
  hs_metric_kind_t kind;
  uint64_t events; /* bitmask of 1<<hs_event_type_t; 0 = any type */
  hs_where_t where[HS_MAX_WHERE];
  size_t n_where;
  hs_field_t field;     /* value field (sum/avg/min/max/latest), key (distinct) */
  uint32_t window_days; /* count/sum/avg/min/max/distinct/slope: 1..730 */
  double max_age_days;  /* latest: older values are missing; 0 = no limit */
  char *of;             /* trend/slope: id of a count/sum metric */
  hs_trend_mode_t trend_mode;
  char *num, *den; /* ratio: metric ids */
  char *per;       /* normalisation: NULL, "licenses", or a metric id */
  char *attribute; /* attribute: licenses|tenure_days|days_to_renewal|custom */
  hs_pos_t pos;
} hs_metric_def_t;

typedef enum hs_missing_e {
  HS_MISSING_SKIP = 0, /* left out; the other weights re-normalised */
  HS_MISSING_WORST,    /* counts as the worst value (normalised 0) */
  HS_MISSING_VALUE     /* counts as `missing_value` (raw) */
} hs_missing_t;

typedef struct hs_stage_range_s {
  char *stage;
  double worst, best;
  hs_pos_t pos;
} hs_stage_range_t;

/* A metric as a profile uses it. */
typedef struct hs_metric_ref_s {
  char *metric;       /* id of a hs_metric_def_t */
  double weight;      /* >= 0, relative within the group; 0 = shown, not scored */
  double worst, best; /* worst may exceed best (lower is better) */
  hs_missing_t missing;
  double missing_value;
  double stale_days;        /* > 0: data older than this counts as missing */
  hs_stage_range_t *stages; /* per-stage worst/best overrides */
  size_t n_stages;
  hs_pos_t pos;
} hs_metric_ref_t;

typedef struct hs_group_def_s {
  char *name;
  double weight; /* percent; a profile's group weights sum to 100 */
  hs_metric_ref_t *metrics;
  size_t n_metrics;
  hs_pos_t pos;
} hs_group_def_t;

/* `select: {segment: [smb, mid]}`: attribute must equal one of values.
 * attr is segment, stage, vertical or a custom attribute key. */
typedef struct hs_selector_s {
  char *attr;
  char **values;
  size_t n_values;
} hs_selector_t;

typedef struct hs_profile_def_s {
  char *name;
  char *version; /* free text, e.g. "2026-11-01" or "3" */
  bool is_default;
  hs_selector_t *select; /* all must match; first matching profile wins */
  size_t n_select;
  hs_group_def_t *groups;
  size_t n_groups;
  hs_pos_t pos;
} hs_profile_def_t;

/* Bands, ascending by `min`; the first has min 0. Default: red 0, yellow 40,
 * green 70. */
typedef struct hs_band_def_s {
  char *name;
  double min;
  hs_pos_t pos;
} hs_band_def_t;

typedef enum hs_rule_kind_e {
  HS_RULE_THRESHOLD = 0, /* score < level; resolves at >= level + hysteresis */
  HS_RULE_BAND,          /* band is `band` or worse; as threshold at the
                            upper bound of `band` */
  HS_RULE_TREND,         /* score(now) - score(now - lookback) <= -drop */
  HS_RULE_SLOPE,         /* slope of daily scores over window <= slope */
  HS_RULE__COUNT
} hs_rule_kind_t;

typedef struct hs_rule_def_s {
  char *id;
  hs_rule_kind_t kind;
  char *severity;         /* free text, copied into alerts; default "warning" */
  double level;           /* threshold */
  char *band;             /* band */
  double hysteresis;      /* points; default 5 for threshold/band, 0 otherwise */
  int64_t pending_ms;     /* condition must hold this long before firing */
  int64_t cooldown_ms;    /* after resolving, no new episode for this long */
  int64_t warmup_ms;      /* no episode until the account's first event is this old */
  uint32_t lookback_days; /* trend */
  double drop;            /* trend: positive amount */
  bool drop_percent;      /* trend: drop in percent of the old score */
  uint32_t window_days;   /* slope */
  double slope;           /* slope: fires at or below (points per day, negative) */
  char **profiles;        /* only for these profiles; none = all */
  size_t n_profiles;
  hs_pos_t pos;
} hs_rule_def_t;

typedef struct hs_config_s {
  char *path; /* source file, for messages */
  hs_metric_def_t *metrics;
  size_t n_metrics;
  hs_profile_def_t *profiles;
  size_t n_profiles;
  hs_band_def_t *bands; /* NULL/0: the defaults */
  size_t n_bands;
  hs_rule_def_t *rules;
  size_t n_rules;
  /* dedup: {window}: days an applied event id is remembered for (0: off);
     -1 when not set: the horizon (docs/config.md) */
  int32_t dedup_days;
  hs_pos_t dedup_pos;
} hs_config_t;

/* Static names of the kinds, as written in the configuration ("count",
 * "threshold", ...); "unknown" for a value out of range. */
const char *hs_metric_kind_name(hs_metric_kind_t k);
const char *hs_rule_kind_name(hs_rule_kind_t k);

/* ---- The model and accounts ---- */

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
 * immutable and may be shared by any number of threads. On success *out is
 * the caller's (hs_model_free, once nothing borrows it: accounts, engines,
 * the live engine); on failure *out is NULL and nothing is left to free. */
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

/* A score, with its explanation when `explained`: metrics[0 .. n_metrics),
 * one per metric of the profile, in the profile's order. An evaluation's
 * score (hs_eval_t) is explained only when an alert rule fired or resolved
 * at it (the alerts' top contributors index metrics[]); otherwise n_metrics
 * is 0 and hs_eval_explain() gives the explanation. hs_account_score()
 * always explains. */
typedef struct hs_score_s {
  bool has_score; /* false: no data at all, band "unknown" */
  double score;   /* 0..100, rounded to 0.1 (hs_score_round) */
  int band;       /* index into the model's bands; -1 = unknown */
  uint16_t profile;
  double coverage; /* share (0..1) of the profile's weight that had data */
  uint32_t n_groups;
  double group_score[HS_MAX_GROUPS];  /* NAN when the group had no data */
  double group_weight[HS_MAX_GROUPS]; /* effective, 0..1 */
  uint32_t n_metrics;                 /* 0 unless explained */
  bool explained;
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

/* The score of evaluation `ev` of account `a` under model `m`, with its
 * explanation: each metric's value, normalised value, source, weight,
 * contribution, and delta against the contributions of the evaluation
 * before it (0 under another profile or with none) - exactly what
 * evaluating every metric and explaining every evaluation gives. Callable
 * only inside the callback that received `ev` (it reads what the account
 * keeps of this evaluation and of the one before, which the account's next
 * change replaces). Copies ev->score into `out` (the caller's; &ev->score
 * is refused: nothing is done) and fills out->metrics; if ev->score is
 * explained already, a copy. O(metrics of the profile). */
void hs_eval_explain(const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev,
                     hs_score_t *out);

/* Creates an empty account `account_id` (copied) for model `m` (borrowed:
 * must outlive the account). Returns 0 and the account in *out, the
 * caller's (hs_account_free), or HS_E_NOMEM with *out NULL. */
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
 * hs_account_advance(at_ms) first), else at the clock. Explained, with
 * deltas against the account's last evaluation. */
void hs_account_score(const hs_model_t *m, const hs_account_t *a, int64_t at_ms, hs_score_t *out);

/* The account's clock: the latest of its event times and advances; INT64_MIN
 * before the first event. */
int64_t hs_account_clock(const hs_account_t *a);
/* Number of events applied, and dropped as late. */
uint64_t hs_account_events(const hs_account_t *a);
uint64_t hs_account_late(const hs_account_t *a);
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

/* The alert id as 16 lowercase hex digits plus NUL. */
void hs_alert_id_hex(uint64_t id, char out[17]);

/* ---- The account table: account id -> the owner's index ----
 * One table for every set of accounts (the engine below, the live engine,
 * the backtest report, and any other keeper of accounts): open addressing over 64-bit id
 * hashes (hs_idmap_hash), mapping an id to a uint32 index that the owner
 * gives (a position in its own array). The ids stay the owner's: the table
 * asks `id_of(ctx, index)` for one when hashes are equal. The fields are
 * readable (for prefetching) but only these functions change them. */
typedef hs_str_t (*hs_idmap_id_fn)(const void *ctx, uint32_t index);
typedef struct hs_idmap_s {
  uint64_t *hashes;  /* per slot */
  uint32_t *refs;    /* per slot: index + 1; 0 = empty */
  size_t cap, n;     /* cap: a power of two */
  unsigned load_pct; /* grows before n would exceed cap * load_pct / 100 */
  hs_idmap_id_fn id_of;
  const void *ctx;
} hs_idmap_t;

uint64_t hs_idmap_hash(hs_str_t id);
/* Makes an empty table of at least `cap` slots (rounded up to a power of two,
 * at least 16). Returns 0, or HS_E_NOMEM with *t holding nothing (freeing it
 * is harmless). `ctx` is borrowed for the table's life. */
int hs_idmap_init(hs_idmap_t *t, size_t cap, unsigned load_pct, hs_idmap_id_fn id_of,
                  const void *ctx);
/* Frees the slots (not what the indexes refer to). */
void hs_idmap_free(hs_idmap_t *t);
/* The slot holding `id` (whose hash is `hash`), or the empty slot where it
 * would go: t->refs[slot] tells which. */
size_t hs_idmap_slot(const hs_idmap_t *t, hs_str_t id, uint64_t hash);
/* The index of `id`, or -1. */
long hs_idmap_find(const hs_idmap_t *t, hs_str_t id);
/* Before adding `id` at the empty *slot: grows the table when one more entry
 * would pass the load, updating *slot. Returns 0, or HS_E_NOMEM with the
 * table and *slot as they were. */
int hs_idmap_reserve(hs_idmap_t *t, size_t *slot, hs_str_t id, uint64_t hash);
/* Files `index` under the empty `slot` (after hs_idmap_reserve). */
void hs_idmap_put(hs_idmap_t *t, size_t slot, uint64_t hash, uint32_t index);
/* Removes the entry at `slot` (one that holds an index); the entries after
 * it move up, so the table needs no tombstones. Allocates nothing. */
void hs_idmap_remove(hs_idmap_t *t, size_t slot);
/* Removes every entry, keeping the slots. */
void hs_idmap_clear(hs_idmap_t *t);

/* ---- The engine: an in-memory table of accounts driven by events ---- */

typedef struct hs_engine_s hs_engine_t;

typedef struct hs_engine_stats_s {
  uint64_t events; /* events offered */
  uint64_t applied;
  uint64_t late;       /* dropped: older than the horizon */
  uint64_t duplicates; /* dropped: an event with its event_id was applied */
  uint64_t ignored;
  uint64_t accounts;
  uint64_t evaluations;
  uint64_t alerts_firing, alerts_resolved;
} hs_engine_stats_t;

/* Creates an engine over model `m` (borrowed: must outlive the engine). `cb`
 * receives every evaluation. Returns 0 and the engine in *out, the caller's
 * (hs_engine_free frees every account it holds), or HS_E_NOMEM with *out
 * NULL. */
int hs_engine_new(hs_engine_t **out, const hs_model_t *m, hs_eval_cb cb, void *ud);
void hs_engine_free(hs_engine_t *e);

/* Applies one event to its account (created on first sight). Returns a
 * hs_apply_result_t or HS_E_NOMEM. */
int hs_engine_apply(hs_engine_t *e, const hs_event_t *ev);
/* The same, for a caller that has the account id's hs_engine_hash already
 * (as for hs_engine_prefetch): the id is not hashed again. */
int hs_engine_apply_hashed(hs_engine_t *e, uint64_t hash, const hs_event_t *ev);

/* The hash the engine files an account id under (for hs_engine_prefetch). */
uint64_t hs_engine_hash(hs_str_t account_id);
/* Hints that event `ev`, of the account whose hs_engine_hash is `hash`,
 * comes soon, for callers that know their next events. Each stage a step
 * after the one before, when what it read has arrived: 0 starts loading the
 * table slot, 1 the account's state, 2 the days of its aggregates that `ev`
 * will update (they live outside the account's block; `ev` is read only
 * then). Changes nothing; hides memory latency when the accounts held
 * outgrow the CPU caches. */
void hs_engine_prefetch(const hs_engine_t *e, uint64_t hash, const hs_event_t *ev, int stage);

/* Advances every account to `now_ms` (see hs_account_advance), in account-id
 * order so that output is deterministic. */
int hs_engine_advance(hs_engine_t *e, int64_t now_ms);

/* The account, or NULL. */
hs_account_t *hs_engine_find(hs_engine_t *e, hs_str_t account_id);
/* Calls fn for every account in account-id order. */
void hs_engine_foreach(hs_engine_t *e, void (*fn)(void *ud, hs_account_t *a), void *ud);
void hs_engine_stats(const hs_engine_t *e, hs_engine_stats_t *out);
/* Largest event time seen. INT64_MIN before any. */
int64_t hs_engine_watermark(const hs_engine_t *e);

#endif
