/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Configuration (src/config): the scoring configuration's YAML loader (its
 * types are the core's, healthscore/core.h; documented in docs/config.md) and
 * the engine settings (docs/settings.md).
 *
 * Ownership: a loader returns a new object in *out that the caller frees
 * with the matching _free; on failure *out is left unchanged (nothing to
 * free) and err says why. */
#ifndef HEALTHSCORE_CONFIG_H
#define HEALTHSCORE_CONFIG_H

#include "healthscore/base.h"
#include "healthscore/core.h"

/* ---- The scoring configuration ---- */

/* Loads a YAML configuration file. Returns 0 and a new config in *out (free
 * with hs_config_free), or a negative code with err->msg as
 * "FILE:LINE:COL: reason" (unknown keys, wrong types, bad durations, weights
 * and ranges out of bounds). Cross references (metric ids, weight sums, one
 * default profile) are checked by hs_model_compile(). */
int hs_config_load_file(const char *path, hs_config_t **out, hs_err_t *err);
/* Same, from a string in memory; `name` stands in for the file name. On
 * failure (either), *out is NULL and nothing is left to free. */
int hs_config_load_string(const char *yaml, size_t len, const char *name, hs_config_t **out,
                          hs_err_t *err);
void hs_config_free(hs_config_t *cfg);

/* ---- Engine settings ---- */
/* Engine settings: one table of settings (name, type, default, bounds, doc)
 * from which the YAML file is read and validated and docs/settings.md is
 * generated. The file has sections (engine, kafka, redis, http, log) of
 * scalar settings; `kafka.client` passes any librdkafka setting through.
 * A value written "${NAME}" is read from the environment variable NAME, so
 * secrets stay out of files. */

/* Input topics one engine consumes (co-partitioned). */
#define HS_MAX_INPUT_TOPICS 16
/* Sources one mapper reads (the `sources:` list, docs/sources.md). */
#define HS_MAX_SOURCES 32

/* One item of `sources:`: a topic in a shape other systems publish, turned
 * into engine events by a mapping and produced to an input topic. */
typedef struct hs_source_conf_s {
  char *name;         /* in metrics and reasons; default: the mapping's source name */
  char *topic;        /* the topic read (any partition count, any key) */
  char *format;       /* json, msgpack, avro, confluent-json, confluent-avro */
  char *mapping;      /* the mapping file */
  char *schema;       /* format avro: the writer's schema file */
  char *on_unmatched; /* skip or deadletter; NULL: as the mapping file says */
  char *to;           /* the input topic the events go to; default: kafka.topics[0] */
  char *registry_url; /* confluent-*: the Schema Registry, and/or ... */
  char *registry_username, *registry_password;
  char *schema_dir; /* ... a directory of {id}.avsc / {id}.json files */
  int line;         /* where the item starts in the settings file */
} hs_source_conf_t;

typedef struct hs_settings_s {
  /* engine */
  char *profiles;            /* scoring configuration file */
  int64_t flush_interval_ms; /* write-behind bound on staleness */
  int max_dirty;             /* accounts waiting for a flush before fetching pauses */
  int max_accounts;          /* accounts held in memory; clean ones are evicted beyond */
  int64_t lateness_ms;       /* idle accounts advance to wall clock minus this */
  int64_t max_future_ms;     /* events further ahead of the wall clock are dead-lettered */
  int64_t min_event_time;    /* earlier events are dead-lettered (hs_event_min_time_parse) */
  int64_t idle_interval_ms;  /* how often idle accounts are re-evaluated; 0: never */
  int64_t max_idle_ms;       /* how long an event waits for an empty co-partition */
  int threads;               /* engines, each on its own thread (1: on the main loop) */
  /* kafka */
  char *bootstrap;
  char *group_id;
  char *instance_id;
  char **topics; /* input topics, co-partitioned */
  size_t n_topics;
  char *alerts_topic;
  char *alerts_format; /* binary or structured (CloudEvents mode) */
  char *alerts_source; /* CloudEvents source; empty: healthscore/<group_id> */
  char *deadletter_topic;
  char **client;                             /* librdkafka settings as name, value pairs ... */
  size_t n_client;                           /* pairs */
  char **consumer_client, **producer_client; /* ... for one of the two only */
  size_t n_consumer_client, n_producer_client;
  /* redis */
  char *redis_nodes; /* "host:port,..." of a Redis Cluster; empty: redis_host, redis_port */
  char *redis_host;
  int redis_port;
  char *redis_password;
  char *redis_prefix;
  int64_t redis_timeout_ms;
  int redis_wait_replicas; /* WAIT for this many replicas before positions move */
  /* http */
  char *http_host;
  int http_port;
  int http_max_connections;
  int64_t http_header_timeout_ms, http_write_timeout_ms, http_body_timeout_ms;
  /* log */
  char *log_level;  /* error, warn, info, debug */
  char *log_format; /* json or text */
  /* sources */
  hs_source_conf_t *sources;
  size_t n_sources;
} hs_settings_t;

/* Fills `out` with every default. Returns 0 or HS_E_NOMEM. `out` is the
 * caller's and holds allocated strings and lists: end it with
 * hs_settings_free, on failure too (what was filled stays). */
int hs_settings_defaults(hs_settings_t *out);
/* Reads a settings file over the defaults. Returns 0, or HS_E_CONFIG with
 * err->msg "FILE:LINE:COL: reason" (unknown section or key, wrong type, out
 * of bounds, an unset environment variable), HS_E_IO. */
int hs_settings_load_file(const char *path, hs_settings_t *out, hs_err_t *err);
int hs_settings_load_string(const char *yaml, size_t len, const char *name, hs_settings_t *out,
                            hs_err_t *err);
/* (Both loads: on failure `out` may hold some values read before the error,
 * over the defaults; it is still the caller's, to free with
 * hs_settings_free.) Frees every string and list of `s` (not `s` itself). */
void hs_settings_free(hs_settings_t *s);
/* Appends the reference documentation (Markdown) generated from the table. */
int hs_settings_doc(hs_buf_t *out);

/* The librdkafka properties of a client, as name, value, ... pairs for the
 * kafka adapter: for a consumer, `defaults` (n_defaults pairs) then
 * kafka.client then kafka.consumer; for a producer, kafka.client then
 * kafka.producer (later pairs win). Returns an array to hs_free (the
 * strings stay borrowed from `s` and `defaults`) with *n_pairs set, or NULL
 * when out of memory. */
const char **hs_settings_consumer_props(const hs_settings_t *s, const char *const *defaults,
                                        size_t n_defaults, size_t *n_pairs);
const char **hs_settings_producer_props(const hs_settings_t *s, size_t *n_pairs);

#endif
