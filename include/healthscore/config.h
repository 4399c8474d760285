/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The scoring configuration as plain data: what the YAML loader produces and
 * hs_model_compile() turns into a validated model. Every `line`/`col` is the
 * 1-based position in the source file of the node that defined the item, so
 * that any later error can say file:line:column. Documented in docs/config.md. */
#ifndef HEALTHSCORE_CONFIG_H
#define HEALTHSCORE_CONFIG_H

#include "healthscore/common.h"
#include "healthscore/event.h"

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

/* Loads a YAML configuration file. Returns 0 and a new config in *out (free
 * with hs_config_free), or a negative code with err->msg as
 * "FILE:LINE:COL: reason" (unknown keys, wrong types, bad durations, weights
 * and ranges out of bounds). Cross references (metric ids, weight sums, one
 * default profile) are checked by hs_model_compile(). */
int hs_config_load_file(const char *path, hs_config_t **out, hs_err_t *err);
/* Same, from a string in memory; `name` stands in for the file name. */
int hs_config_load_string(const char *yaml, size_t len, const char *name, hs_config_t **out,
                          hs_err_t *err);
void hs_config_free(hs_config_t *cfg);

const char *hs_metric_kind_name(hs_metric_kind_t k);
const char *hs_rule_kind_name(hs_rule_kind_t k);

#endif
