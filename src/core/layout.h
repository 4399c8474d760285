/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The layout of a compiled model and of an account's state, and the few
 * functions that fill a state from its parts: the narrow interface between
 * the scoring core and the state codec in src/state. Everything else the core
 * keeps to itself in internal.h. Not a public interface. */
#ifndef HS_CORE_LAYOUT_H
#define HS_CORE_LAYOUT_H

#include "healthscore/core.h"

enum { HS__OP_COUNT = 0, HS__OP_SUM, HS__OP_MIN, HS__OP_MAX, HS__OP_DISTINCT };

/* Event filter: type mask plus string-field conditions. */
typedef struct hs__filter_s {
  uint64_t events; /* 0 = any type */
  uint32_t n_where;
  hs_field_t where_field[HS_MAX_WHERE];
  uint32_t where_n[HS_MAX_WHERE];
  char **where_values[HS_MAX_WHERE];
  uint32_t *where_lens[HS_MAX_WHERE];
} hs__filter_t;

typedef struct hs__series_s {
  uint64_t key; /* hash of what it aggregates: stable across models */
  uint8_t op;
  hs_field_t field; /* value (sum/min/max) or key (distinct) field */
  hs__filter_t filter;
  uint32_t days;     /* days kept: the longest view over it */
  uint32_t min_days; /* the shortest view over it */
  bool slope;        /* a view over it keeps slope sums (they age every day) */
} hs__series_t;

/* The parts of a view's state an account keeps (the count always). */
enum { HS__VP_SUM = 1, HS__VP_SLOPE = 2, HS__VP_EXT = 4 };

typedef struct hs__view_s {
  uint16_t series;
  uint32_t days; /* window length */
  bool slope;    /* also keep the age-weighted sum for slopes */
  uint8_t parts; /* HS__VP_*: what its series and metrics read */
  uint16_t slot; /* first of its 8-byte slots in the account's view area */
} hs__view_t;

enum { HS__SCALAR_LAST = 0, HS__SCALAR_LATEST };

typedef struct hs__scalar_s {
  uint64_t key;
  uint8_t kind;
  hs_field_t field;
  hs__filter_t filter;
} hs__scalar_t;

typedef enum {
  HS__ATTR_LICENSES = 0,
  HS__ATTR_TENURE,
  HS__ATTR_RENEWAL,
  HS__ATTR_CUSTOM
} hs__attr_kind_t;

typedef struct hs__metric_s {
  char *id, *label, *category;
  hs_metric_kind_t kind;
  int view;     /* windowed kinds: index of the view; trend: current window */
  int view2;    /* trend: view of twice the window */
  int scalar;   /* days_since, latest */
  int of;       /* trend/slope: source metric */
  int num, den; /* ratio */
  int per;      /* -1 none, -2 licenses, else a metric index */
  hs_trend_mode_t trend_mode;
  int64_t max_age_ms;
  hs__attr_kind_t attr;
  char *attr_name;
} hs__metric_t;

typedef struct hs__ref_s {
  uint16_t metric;
  uint8_t group;
  double weight; /* relative within the group */
  double worst, best;
  hs_missing_t missing;
  double missing_value;
  int64_t stale_ms; /* 0 = never */
  uint32_t n_stages;
  char **stage_names;
  double *stage_worst, *stage_best;
} hs__ref_t;

typedef struct hs__selector_s {
  char *attr;
  char **values;
  uint32_t n_values;
} hs__selector_t;

typedef struct hs__profile_s {
  char *name, *version;
  uint32_t n_select;
  hs__selector_t *select;
  uint32_t n_groups;
  char *group_name[HS_MAX_GROUPS];
  double group_weight[HS_MAX_GROUPS]; /* percent */
  double group_total[HS_MAX_GROUPS];  /* sum of its refs' weights, in ref order */
  uint64_t group_refs[HS_MAX_GROUPS]; /* per group, its refs (bit r: refs[r]) */
  uint32_t n_refs;
  hs__ref_t *refs;
  uint32_t n_needed; /* the metrics its refs need, dependencies first */
  uint16_t *needed;
  /* what each ref's result depends on, as masks of refs (bit r: refs[r]):
     the refs reading each series and scalar (through their metric and what
     it reads), those that move with time alone (days since, tenure, days
     to renewal, a latest value's age, staleness), and per entry of
     `needed`, the refs that need it */
  uint64_t *series_refs, *scalar_refs, time_refs, *needed_refs;
  /* per series, the refs that read its views' slope sums (they move when
     its days age a day, also when no day leaves a window); the refs whose
     value moves with time only at an instant (a latest value's age limit,
     staleness of a latest value: step_refs, not in time_refs); the refs of
     weight 0 (no part in the score: evaluated only for an explanation);
     the refs whose value is a count of days from one time (days since,
     tenure, days to renewal), read alone, without stages: taken directly
     (eval_refs) */
  uint64_t *aged_refs, step_refs, unscored_refs, days_refs;
  /* per ref, the entries of `needed` it needs (bit k: needed[k]); NULL when
     more than 64 metrics are needed */
  uint64_t *ref_needed;
} hs__profile_t;

typedef struct hs__rule_s {
  char *id, *severity;
  uint64_t key;
  hs_rule_kind_t kind;
  double level, hysteresis, drop, slope;
  bool drop_percent;
  int64_t pending_ms, cooldown_ms, warmup_ms;
  uint32_t lookback_days, window_days;
  uint64_t profiles; /* bitmask of profile indexes; 0 = all */
} hs__rule_t;

struct hs_model_s {
  uint32_t n_series, n_views, n_scalars, n_metrics, n_profiles, n_rules, n_bands;
  uint32_t view_slots; /* 8-byte slots of an account's view area */
  hs__series_t *series;
  hs__view_t *views;
  hs__scalar_t *scalars;
  hs__metric_t *metrics;
  uint16_t *order; /* metrics in dependency order */
  hs__profile_t *profiles;
  int default_profile;
  hs__rule_t *rules;
  char *band_name[HS_MAX_BANDS];
  double band_min[HS_MAX_BANDS];
  uint32_t horizon_days;   /* longest series */
  uint32_t dedup_days;     /* event ids remembered: 0 (off) .. max(horizon_days, 1) */
  uint32_t history_days;   /* daily score history length */
  uint32_t max_refs;       /* most metrics in one profile */
  uint32_t max_groups;     /* most groups in one profile */
  size_t account_block;    /* an account's block without its id (hs_account_prefetch) */
  uint16_t **series_views; /* per series: the views over it */
  uint16_t *n_series_views;
  bool uses_licenses_attr;
  /* per event type: the series and scalars whose filter may match it */
  uint16_t *by_type_series[HS_EV__COUNT];
  uint16_t n_by_type_series[HS_EV__COUNT];
  uint16_t *by_type_scalars[HS_EV__COUNT];
  uint16_t n_by_type_scalars[HS_EV__COUNT];
  /* an evaluation recomputes only the refs whose inputs changed since the
     previous one (at most 64 series and 64 scalars); else every ref */
  bool incremental;
};

/* State of one series: the days in (head - days, head] that received data,
 * oldest first, in d[start .. start + n) (and v[], for sums and extrema).
 * Sparse: a day without data costs nothing, whatever the window. */
typedef struct hs__dkey_s {
  uint32_t hash; /* of the key string; 0 marks an empty slot */
  int32_t day;   /* last day the key was seen */
} hs__dkey_t;

typedef struct hs__dent_s {
  int32_t day;
  int32_t cnt; /* events that day (distinct: keys whose last day it is) */
} hs__dent_t;

typedef union hs__dval_u {
  int64_t sum; /* HS__OP_SUM: thousandths */
  double ext;  /* HS__OP_MIN/MAX: the day's extremum, NAN if none */
} hs__dval_t;

typedef struct hs__series_state_s {
  int32_t head;              /* INT32_MIN: nothing yet */
  uint16_t start, n, cap;    /* windows are at most HS_MAX_WINDOW_DAYS long */
  uint16_t n_keys, keys_cap; /* at most 2 * HS_MAX_DISTINCT */
  bool has_v;                /* sum/min/max series: a value per day after the days */
  int64_t last_ms;           /* time of the latest matching event; INT64_MIN: none */
  hs__dent_t *d;             /* capacity cap; then, if has_v, cap values (HS__V) */
  hs__dkey_t *keys;          /* HS__OP_DISTINCT: open addressing, capacity keys_cap */
} hs__series_state_t;

/* The values parallel to a series' days (in the same allocation), or NULL. */
#define HS__V(st) ((st)->has_v && (st)->d ? (hs__dval_t *)((st)->d + (st)->cap) : NULL)

/* A view's totals, as code works on them; an account keeps only the parts
 * of each view that are ever read (hs__view_load / hs__view_store). */
typedef struct hs__view_state_s {
  int64_t cnt, sum;       /* totals over the window */
  int64_t s1_cnt, s1_sum; /* slope: sums of age * daily value */
  double ext;             /* cached min/max, NAN if none */
  bool ext_valid;         /* false: recompute from the days held */
} hs__view_state_t;

typedef struct hs__scalar_state_s {
  int64_t ts; /* INT64_MIN: never */
  double value;
} hs__scalar_state_t;

typedef struct hs__rule_state_s {
  bool open;
  int64_t episode_start;  /* INT64_MIN: none */
  int64_t pending_since;  /* INT64_MIN: condition not holding */
  int64_t cooldown_until; /* INT64_MIN: none */
} hs__rule_state_t;

/* The attributes of account events, in attr_ms order. */
enum {
  HS__AF_SEGMENT = 0,
  HS__AF_STAGE,
  HS__AF_VERTICAL,
  HS__AF_LICENSES,
  HS__AF_CONTRACT_START,
  HS__AF_RENEWAL,
  HS__ATTR_FIELDS
};

#define HS__MAX_OVERRIDES 8

/* The event ids an account applied, so that a redelivered event is dropped
 * (docs/scoring.md, "Duplicates"): an open-addressing table (linear probing,
 * at most 3/4 full) of 64-bit hashes of the ids with the UTC day of their
 * event. An id is remembered while its day is within the dedup window of
 * the account's clock (hs__eid_cutoff); slots of forgotten ids are reclaimed
 * when the table would grow. At most HS__MAX_EVENT_IDS ids are held: past
 * that, those of the oldest days are forgotten first. */
typedef struct hs__eid_s {
  uint32_t lo, hi; /* the hash; both 0: an empty slot */
  int32_t day;
} hs__eid_t;

#define HS__MAX_EVENT_IDS 4096
#define HS__EID_MAX_CAP 8192 /* slots: twice the cap, so that a full table is half full */
typedef struct hs__override_s {
  int metric; /* -1: the score */
  double value;
  int64_t expires_ms; /* not after ts_ms: a lifted pin, kept to order later arrivals */
  int64_t ts_ms;      /* time of the override event; INT64_MIN: unknown (older states) */
  char *reason, *author;
} hs__override_t;

struct hs_account_s {
  char *id;
  uint32_t id_len;
  uint32_t n_series;    /* length of `series`, for freeing without the model */
  int64_t first_ms;     /* time of the first event; INT64_MIN before it */
  int64_t clock_ms;     /* INT64_MIN before the first event */
  int64_t last_eval_ms; /* INT64_MIN before the first evaluation */
  uint64_t n_events, n_late;
  /* event ids applied (hs__eid_t), its own allocation: eid_n slots used of eid_cap */
  hs__eid_t *eids;
  uint32_t eid_n, eid_cap;
  /* attributes */
  char *segment, *stage, *vertical;
  double licenses;                       /* NAN: unknown */
  int64_t contract_start_ms, renewal_ms; /* INT64_MIN: unknown */
  int64_t attrs_ms;                      /* latest account event */
  /* per attribute, the time of the account event that set it (INT64_MIN:
     never): attributes are newest per field, whatever the arrival order */
  int64_t attr_ms[HS__ATTR_FIELDS];
  uint32_t n_custom;
  char **custom_key, **custom_val; /* HS_MAX_ATTRS each, allocated with the first */
  int64_t *custom_ms;              /* HS_MAX_ATTRS, in the same allocation */
  char *outcome;
  int64_t outcome_ms;
  uint32_t n_overrides;
  hs__override_t *overrides; /* HS__MAX_OVERRIDES, allocated with the first */
  /* aggregates */
  hs__series_state_t *series;
  int64_t *views; /* packed view states, m->view_slots slots */
  hs__scalar_state_t *scalars;
  /* daily score history: slot d % history_days holds day d's last score */
  int32_t hist_head; /* INT32_MIN: none */
  float *hist;       /* NAN: no score that day */
  hs__rule_state_t *rules;
  /* the previous evaluation */
  bool has_score;
  double score;
  int band;
  int profile;      /* -1: none yet */
  int selected;     /* cached profile selection; -1: select again */
  int prev_profile; /* the profile of the evaluation before the previous one */
  /* per ref of profile `cached` (-1: none), the previous evaluation's value,
     normalised value and source (hs_value_source_t): a ref none of whose
     inputs changed since (series and scalars in the dirty masks, bit i:
     index i; time) has them still. Not part of the stored state. */
  int cached;
  uint64_t dirty_series, dirty_scalars;
  uint64_t dirty_aged; /* series whose days only aged (slope sums moved) */
  double *ref_raw, *ref_norm;
  uint8_t *ref_src;
  /* per group of profile `profile`, the previous evaluation's sums over its
     refs with data and weight, in ref order: of the weights (gw) and of the
     weighted normalised values (gs); wsum: the sum of the weights of the
     groups with gw > 0, in group order (as the full evaluation takes them).
     A group's sums are taken again only when one of its refs is evaluated.
     Not part of the stored state. */
  double *gw, *gs;
  double wsum;
  /* What the contributions of the evaluation before the previous one (for
     the previous one's deltas) follow from, per ref and group of profile
     `prev_profile`: its normalised values (prev_norm), group weight sums
     (gw_prev) and wsum_prev. An evaluation keeps them for the refs and
     groups it or the one before took again (last_dirty, last_touched): the
     others have not changed. After decoding (`loaded` 2, until the first
     evaluation; 1 during it), prev_norm holds the stored contributions of
     the last evaluation instead. */
  double *prev_norm, *gw_prev;
  double wsum_prev;
  uint64_t last_dirty;
  uint32_t last_touched;
  uint8_t loaded;
};

/* The contributions of the account's previous evaluation (the stored
 * state's), per ref of profile a->profile (none when it is -1), into out[]. */
void hs__contrib_last(const hs_model_t *m, const hs_account_t *a, float *out);
/* Decoding: contribution `c` of ref i of a->profile at the stored previous
 * evaluation (the account's first evaluation reads them for its deltas). */
static inline void hs__contrib_stored(hs_account_t *a, uint32_t i, float c) {
  a->prev_norm[i] = c;
  a->loaded = 2;
}

/* The bit of series or scalar `i` in an account's dirty masks. */
static inline uint64_t hs__dirty_bit(uint32_t i) {
  return (uint64_t)1 << (i & 63);
}

/* Ring slot of `day` in a ring of `days` slots (the daily score history). */
static inline uint32_t hs__series_slot(int32_t day, uint32_t days) {
  int64_t r = (int64_t)day % (int64_t)days;
  return (uint32_t)(r < 0 ? r + days : r);
}

/* Allocate the custom attribute and override arrays when first needed.
 * Return 0 or HS_E_NOMEM. */
/* The size of an account's block with an empty id (model.c sets account_block). */
size_t hs__account_block(const hs_model_t *m);
int hs__account_custom_alloc(hs_account_t *a);
int hs__account_overrides_alloc(hs_account_t *a);

/* Recomputes every view's totals from the series rings (after decoding). */
void hs__account_rebuild_views(const hs_model_t *m, hs_account_t *a);
/* Adds `n` events/value to series `s` at `day` (for decoding). Days outside
 * the window are ignored. Returns 0 or HS_E_NOMEM. */
int hs__series_put(const hs__series_t *s, hs__series_state_t *st, int32_t day, int32_t cnt,
                   int64_t sum, double ext);

/* The ids remembered, sorted by day then hash: returns 0 with a new array
 * *out (hs_free it; NULL when there are none) of *n, or HS_E_NOMEM. */
int hs__eid_sorted(const hs_model_t *m, const hs_account_t *a, hs__eid_t **out, uint32_t *n);
/* Remembers `hash` with `day` unless it is remembered or the day is not
 * after the cutoff (for decoding). Returns 0 or HS_E_NOMEM. */
int hs__eid_put(const hs_model_t *m, hs_account_t *a, uint64_t hash, int32_t day);

/* Inserts or updates a distinct key's last day (for decoding). */
int hs__series_put_key(const hs__series_t *s, hs__series_state_t *st, uint32_t hash, int32_t day);

#endif
