/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Mapping: records in the shapes other systems publish (Segment, Stripe,
 * survey webhooks, Debezium, CloudEvents...) turned into engine events by
 * declarative YAML rules (docs/sources.md). Pure: no I/O besides reading the
 * mapping file and its lookup tables; no logging. A rule reads a document as
 * a msgpack_object tree, whatever the wire format: JSON records are parsed
 * into one (hs_doc_parse_json), msgpack ones unpacked (hs_doc_unpack_msgpack),
 * Avro ones converted by their own decoder. Not thread-safe: one mapping and
 * one parser per thread. */
#ifndef HEALTHSCORE_MAPPING_H
#define HEALTHSCORE_MAPPING_H

#include "healthscore/codec.h"
#include "healthscore/base.h"

#include <msgpack.h>

/* ---- documents ----------------------------------------------------------- */

typedef struct hs_doc_parser_s hs_doc_parser_t;

#define HS_DOC_DEFAULT_MAX_MESSAGE (1024 * 1024)
#define HS_DOC_MAX_DEPTH 32  /* nesting of objects and arrays */
#define HS_DOC_MAX_KEYS 1024 /* keys in one object */

/* A parser whose tree lives in a zone reused from one record to the next;
 * records over `max_message` bytes (0: HS_DOC_DEFAULT_MAX_MESSAGE) are
 * refused. Returns 0 and the parser in *out, the caller's
 * (hs_doc_parser_free), or HS_E_NOMEM with *out NULL. */
int hs_doc_parser_new(hs_doc_parser_t **out, size_t max_message);
void hs_doc_parser_free(hs_doc_parser_t *p);

/* Parses one JSON value (`len` bytes, surrounding blanks allowed) into *out,
 * valid until the next call on `p`. Strict like the event decoder: invalid
 * UTF-8, an unpaired UTF-16 surrogate escape, a duplicate key (after escapes
 * are decoded), nesting deeper than HS_DOC_MAX_DEPTH, an object of more than
 * HS_DOC_MAX_KEYS keys, trailing bytes and records over the size limit are
 * refused. Returns 0, else HS_E_PARSE, HS_E_SCHEMA (duplicate key),
 * HS_E_RANGE, HS_E_TOOBIG or HS_E_NOMEM with `err` saying where
 * ("malformed JSON at byte N: ..."). */
int hs_doc_parse_json(hs_doc_parser_t *p, const void *buf, size_t len, msgpack_object *out,
                      hs_err_t *err);
/* The same for one msgpack object: every string (keys included) must be
 * UTF-8, keys appear once per map; trailing bytes are refused. */
int hs_doc_unpack_msgpack(hs_doc_parser_t *p, const void *buf, size_t len, msgpack_object *out,
                          hs_err_t *err);

/* ---- paths --------------------------------------------------------------- */

/* A path of the mapping language on a document (docs/sources.md): `a.b`,
 * `items[0].id`, `answers[field.ref=nps].number`. */
typedef struct hs_doc_path_s hs_doc_path_t;

/* Parses `text`; `$key` and `$headers.X` are refused (they name no place in
 * a document). Returns 0 and the path in *out, the caller's
 * (hs_doc_path_free); or HS_E_CONFIG with the reason, or HS_E_NOMEM, with
 * *out NULL. */
int hs_doc_path_new(const char *text, hs_doc_path_t **out, hs_err_t *err);
void hs_doc_path_free(hs_doc_path_t *p);
/* The value at `p` in `doc`, or NULL when absent or null. */
const msgpack_object *hs_doc_path_get(const hs_doc_path_t *p, const msgpack_object *doc);
/* The text of a scalar as the mapping compares it (a string as is, a number
 * in shortest form, true/false), in `tmp` unless a string. Returns false for
 * null, arrays and maps. */
bool hs_doc_scalar_text(const msgpack_object *o, char tmp[40], hs_str_t *out);

/* ---- aliases ------------------------------------------------------------- */

/* Where learned aliases live (`cus_123` -> `acme` in table `stripe_customers`):
 * callbacks so that the daemon can keep them in Redis. `get` copies the value
 * (at most `cap` bytes) to `out` and returns its length, -1 when the key is
 * unknown, or < -1 on a store failure; `put` returns 0 or < 0. */
typedef struct hs_alias_store_s {
  void *ctx;
  int (*get)(void *ctx, const char *table, hs_str_t key, char *out, size_t cap);
  int (*put)(void *ctx, const char *table, hs_str_t key, hs_str_t value);
} hs_alias_store_t;

/* An in-memory store (for offline use and tests): `store->ctx` is owned and
 * released by hs_alias_mem_free. Returns 0 or HS_E_NOMEM. */
int hs_alias_mem_new(hs_alias_store_t *store);
void hs_alias_mem_free(hs_alias_store_t *store);

/* ---- mappings ------------------------------------------------------------ */

typedef struct hs_mapping_s hs_mapping_t;

/* Loads a mapping from YAML text named `name` in errors; lookup table files
 * are read relative to directory `dir` (NULL: the current directory). Errors
 * are "NAME:LINE:COLUMN: reason". Returns 0, HS_E_CONFIG, HS_E_IO or
 * HS_E_NOMEM. The mapping starts with an in-memory alias store. On success
 * *out is the caller's (hs_mapping_free, which frees its lookup tables and
 * alias store too); on failure *out is NULL and nothing is left to free. */
int hs_mapping_load(const char *text, size_t len, const char *name, const char *dir,
                    hs_mapping_t **out, hs_err_t *err);
/* The same from a file. */
int hs_mapping_load_file(const char *path, hs_mapping_t **out, hs_err_t *err);
void hs_mapping_free(hs_mapping_t *m);

/* Reads the lookup table files again (on SIGHUP, say): all or nothing, the
 * tables in use are kept when one fails. Returns 0, HS_E_CONFIG, HS_E_IO,
 * HS_E_TOOBIG (a table over 64 MiB) or HS_E_NOMEM. */
int hs_mapping_reload_lookups(hs_mapping_t *m, hs_err_t *err);
/* Replaces the alias store (the mapping does not own `store`; the in-memory
 * one it started with is released). */
void hs_mapping_set_alias_store(hs_mapping_t *m, const hs_alias_store_t *store);

/* The source name: `source:` in the file, else the file name without its
 * directory and extension. */
const char *hs_mapping_source(const hs_mapping_t *m);
size_t hs_mapping_n_rules(const hs_mapping_t *m);
/* "name" or "#3" (1-based), and where the rule is ("file:line"). */
const char *hs_mapping_rule_name(const hs_mapping_t *m, size_t i);
const char *hs_mapping_rule_where(const hs_mapping_t *m, size_t i);

/* What the record of one message is. */
typedef struct hs_map_header_s {
  const char *name; /* NUL-terminated */
  const void *value;
  size_t value_len;
} hs_map_header_t;

typedef struct hs_map_input_s {
  const void *key; /* the Kafka key, or NULL */
  size_t key_len;
  const hs_map_header_t *headers;
  size_t n_headers;
  const msgpack_object *doc; /* the value, as a tree */
} hs_map_input_t;

typedef enum hs_map_result_e {
  HS_MAP_EVENT = 0,     /* one engine event appended to `out` */
  HS_MAP_NO_EVENT = 1,  /* a rule without `emit` matched (it may have learned aliases) */
  HS_MAP_UNMATCHED = 2, /* no rule matches; skip it and count it */
  HS_MAP_REJECT = 3     /* dead-letter it: `why` names source, rule and path */
} hs_map_result_t;

/* Per rule counts; `unmatched` counts messages no rule matched (rejected
 * too under `on_unmatched: deadletter`). */
typedef struct hs_map_stats_s {
  uint64_t matched, rejected;
} hs_map_stats_t;

/* Maps one record: the first rule whose `when` holds applies. On HS_MAP_EVENT
 * the event is appended to `out` as one JSON object (no newline) or msgpack
 * map per `fmt` (HS_FMT_JSON or HS_FMT_MSGPACK), exactly as the engine's
 * decoders read it (docs/events.md), and *rule (may be NULL) is the rule's
 * index (-1 when none matched). Returns an hs_map_result_t, or HS_E_NOMEM. */
int hs_mapping_apply(hs_mapping_t *m, const hs_map_input_t *in, hs_format_t fmt, hs_buf_t *out,
                     int *rule, hs_err_t *why);

const hs_map_stats_t *hs_mapping_rule_stats(const hs_mapping_t *m, size_t i);
uint64_t hs_mapping_unmatched(const hs_mapping_t *m);

#endif
