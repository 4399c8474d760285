/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The compiled form of a mapping file, shared by its loader and evaluator. */
#ifndef HS_MAPPING_INTERNAL_H
#define HS_MAPPING_INTERNAL_H

#include "healthscore/event.h"
#include "healthscore/mapping.h"

/* ---- paths: a.b[0].c, answers[field.ref=nps].number, $key, $headers.X ---- */

typedef enum { SEG_KEY, SEG_INDEX, SEG_FIND } seg_kind_t;
typedef enum { ROOT_DOC, ROOT_KEY, ROOT_HEADER } root_t;

struct path_s;
typedef struct seg_s {
  seg_kind_t kind;
  char *name; /* SEG_KEY */
  size_t len;
  uint32_t index;       /* SEG_INDEX */
  struct path_s *where; /* SEG_FIND: the element's path ... */
  char *equals;         /* ... whose value, as text, is this */
} seg_t;

typedef struct path_s {
  root_t root;
  char *text;   /* as written, for errors */
  char *header; /* ROOT_HEADER */
  seg_t *segs;
  size_t n;
} path_t;

/* ---- lookups -------------------------------------------------------------- */

/* A hash table of strings to strings. */
typedef struct table_s {
  char **keys, **vals;
  size_t cap, n;
} table_t;

int hs__table_put(table_t *t, const char *k, size_t kn, const char *v, size_t vn);
const char *hs__table_get(const table_t *t, const char *k, size_t kn);
void hs__table_free(table_t *t);

typedef struct lookup_s {
  char *name;
  char *file; /* resolved path, or NULL */
  bool learned;
  table_t table;
} lookup_t;

/* Reads the file at `path` (at most `max` bytes) into `b`: 0, HS_E_IO,
 * HS_E_TOOBIG or HS_E_NOMEM with the reason in `err`. */
int hs__file_read(const char *path, size_t max, hs_buf_t *b, hs_err_t *err);

/* Reads a CSV (key,value per line; a first line "key,value" is a header) or
 * YAML (a mapping of strings) file into `t`. */
int hs__lookup_read(const char *path, table_t *t, hs_err_t *err);

/* ---- rules ---------------------------------------------------------------- */

typedef enum { C_EQUALS, C_ONE_OF, C_EXISTS, C_PREFIX } cond_op_t;

typedef struct cond_s {
  path_t path;
  cond_op_t op;
  char **vals; /* as text */
  size_t n_vals;
  bool exists;
} cond_t;

typedef enum { T_ENV_ID, T_ENV_ACCOUNT, T_ENV_TS, T_FIELD, T_ATTRS, T_ATTR } target_kind_t;
typedef enum { U_AUTO, U_S, U_MS, U_US, U_RFC3339 } time_unit_t;
typedef enum { CASE_NONE, CASE_LOWER, CASE_UPPER } str_case_t;

typedef struct spec_s {
  target_kind_t kind;
  hs_field_t field; /* T_FIELD */
  char *target;     /* the target's name, for errors */
  path_t *paths;    /* `path`, or the paths of `coalesce` / `join` */
  size_t n_paths;
  bool join;
  char *constant; /* `const` */
  bool has_scale;
  double scale;
  time_unit_t unit;
  str_case_t str_case;
  int lookup; /* index in lookups, or -1 */
  bool optional;
} spec_t;

typedef struct learn_s {
  int lookup;
  path_t key, value;
  int through; /* the value is first looked up in this lookup, or -1 */
} learn_t;

typedef struct rule_s {
  char *name;  /* "name" or "#N" */
  char *where; /* "file:line" */
  cond_t *conds;
  size_t n_conds;
  hs_event_type_t emit; /* HS_EV_UNKNOWN: none */
  spec_t *specs;
  size_t n_specs;
  learn_t *learns;
  size_t n_learns;
  hs_map_stats_t stats;
} rule_t;

#define HS_MAP_SCRATCH (64 * 1024)

struct hs_mapping_s {
  char *source;
  bool deadletter_unmatched;
  rule_t *rules;
  size_t n_rules;
  lookup_t *lookups;
  size_t n_lookups;
  hs_alias_store_t store;
  hs_alias_store_t own_store; /* the in-memory one, while in use */
  bool own;
  uint64_t unmatched;
  /* per apply */
  hs_decoder_t *dec;
  hs_buf_t tmp;
  char scratch[HS_MAP_SCRATCH];
  size_t scratch_len;
};

/* Parses a path; returns 0 or HS_E_CONFIG with the reason in `why`. */
int hs__path_parse(const char *s, path_t *out, char *why, size_t n);
void hs__path_free(path_t *p);

#endif
