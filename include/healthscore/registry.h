/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Confluent Schema Registry client on the libuv loop, non-blocking:
 * `GET {url}/schemas/ids/{id}` over plain HTTP/1.1 (basic auth optional),
 * schemas cached by id for the life of the process (ids are immutable), at
 * most `max_inflight` fetches at once, each within `timeout_ms`, retried with
 * exponential backoff while the registry is unreachable. A directory of
 * `{id}.avsc` (Avro) and `{id}.json` (JSON Schema) files serves air-gapped
 * sites, alone or before the registry.
 *
 * A lookup answers one of three things, and the caller acts on it:
 *   0             the schema: decode the message;
 *   HS_REG_PENDING  not available yet (being fetched, or the registry is
 *                 unreachable, times out, or refuses the credentials): pause
 *                 the source and try the same message again after
 *                 `on_resolve` or a while; never dead-letter it;
 *   < 0           reject the message (HS_E_SCHEMA, or HS_E_TOOBIG when over
 *                 max_schemas ids), with *why and err: the registry does
 *                 not know the id (404; remembered for `negative_ttl_ms`), or
 *                 its schema does not parse or is not of the expected type.
 * Loop thread only. */
#ifndef HEALTHSCORE_REGISTRY_H
#define HEALTHSCORE_REGISTRY_H

#include "healthscore/framing.h"
#include "healthscore/metrics.h"

#include <uv.h>

#define HS_REG_PENDING 1

typedef enum hs_schema_type_e {
  HS_SCHEMA_AVRO = 1,
  HS_SCHEMA_JSON,
  HS_SCHEMA_OTHER
} hs_schema_type_t;

typedef struct hs_registry_schema_s {
  uint32_t id;
  hs_schema_type_t type;
  hs_avro_schema_t *avro; /* type AVRO only */
} hs_registry_schema_t;

typedef struct hs_registry_opts_s {
  const char *url;        /* "http://host[:port][/prefix]", or NULL: schema_dir only */
  const char *username;   /* basic auth, or NULL */
  const char *password;   /* (from "${ENV}" in settings) */
  const char *schema_dir; /* {id}.avsc and {id}.json files, read before asking the registry */
  unsigned max_inflight;  /* concurrent fetches; default 4 */
  uint64_t timeout_ms;    /* per fetch; default 5000 */
  uint64_t backoff_min_ms, backoff_max_ms; /* default 250 and 30000 */
  uint64_t negative_ttl_ms;                /* how long a 404 is remembered; default 60000 */
  size_t max_schemas;                      /* ids remembered, known or not; default 4096 */
  size_t max_response;                     /* bytes of one response; default 1 MiB */
  hs_avro_limits_t limits;                 /* for the Avro schemas fetched */
  hs_metrics_t *metrics;                   /* or NULL */
  /* Called when an id that was pending is resolved (known or rejected). */
  void (*on_resolve)(void *arg, uint32_t id);
  void *arg;
} hs_registry_opts_t;

typedef struct hs_registry_stats_s {
  uint64_t requests, ok, not_found, unauthorized, http_errors, unreachable, timeouts, lookups,
      cache_hits;
} hs_registry_stats_t;

typedef struct hs_registry_s hs_registry_t;

/* Creates a client. HS_E_CONFIG for a URL it cannot use (https: see
 * docs/sources-registry.md), neither url nor schema_dir, or a schema_dir that
 * is not a directory. `opts` is copied, `loop` borrowed. On success *out is
 * the caller's, ended with hs_registry_close; on failure *out is NULL, and
 * when a handle was opened already it is closing: turn the loop before
 * uv_loop_close; there is nothing else to free. */
int hs_registry_new(uv_loop_t *loop, const hs_registry_opts_t *opts, hs_registry_t **out,
                    hs_err_t *err);

/* Closes the client: cancels fetches, frees everything once libuv has closed
 * its handles (keep running the loop until then). */
void hs_registry_close(hs_registry_t *r);

/* The schema of `id` (see the top of this file). `expect` is the type the
 * source's format needs (AVRO for confluent-avro, JSON for confluent-json);
 * another type is a reject (HS_REJ_SCHEMA). On HS_REG_PENDING err says why
 * (the same text as hs_registry_available). On 0, *out is the client's
 * (cached): valid until hs_registry_close, never freed by the caller. */
int hs_registry_lookup(hs_registry_t *r, uint32_t id, hs_schema_type_t expect,
                       const hs_registry_schema_t **out, hs_reject_t *why, hs_err_t *err);

/* True while the registry answers (or is not used); otherwise false and
 * *reason (static until the next loop turn) says why, for readiness. */
bool hs_registry_available(const hs_registry_t *r, const char **reason);

void hs_registry_stats(const hs_registry_t *r, hs_registry_stats_t *out);

/* A message value turned into the mapping's input. */
typedef enum hs_framed_kind_e {
  HS_FRAMED_JSON = 1, /* raw: JSON text, for the mapping's hs_doc_parse_json */
  HS_FRAMED_MSGPACK,  /* raw: one msgpack object, for hs_doc_unpack_msgpack */
  HS_FRAMED_TREE      /* tree: a decoded Avro value, in the zone */
} hs_framed_kind_t;

typedef struct hs_framed_s {
  hs_framed_kind_t kind;
  const uint8_t *raw; /* JSON, MSGPACK: the payload, borrowed from the message */
  size_t raw_len;
  msgpack_object tree; /* TREE */
  uint32_t schema_id;  /* confluent-*: the id of the frame */
} hs_framed_t;

/* Frames and decodes one message value of format `fmt`: `avro` is the
 * schema file's (format avro), `reg` the registry (confluent-*; NULL
 * otherwise). Returns 0 with *out, HS_REG_PENDING (pause the source and
 * offer the message again later), or a negative code with *why and err (dead
 * letter the message with that reason). */
int hs_frame_decode(hs_src_format_t fmt, hs_avro_schema_t *avro, hs_registry_t *reg,
                    const void *buf, size_t len, msgpack_zone *zone, hs_framed_t *out,
                    hs_reject_t *why, hs_err_t *err);

#endif
