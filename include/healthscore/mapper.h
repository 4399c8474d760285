/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapper: the role of healthscored that reads the `sources:` topics
 * (docs/sources.md), frames and maps each message with its source's mapping
 * and produces the engine events to an input topic keyed by account id
 * (murmur2, as Java clients and Kafka Streams partition), so that they reach
 * the engine co-partitioned whatever the source's key and partition count.
 *
 * At-least-once: a source offset is stored for commit only once every
 * message produced from the messages before it (events and dead letters) is
 * acknowledged; a restart maps the rest again, and the engine drops the
 * events whose event_id it already applied. A message that cannot be mapped
 * now (its schema is being fetched or the registry is down, the alias store
 * fails, the producer's queue is full) is kept and its partition paused,
 * never dead-lettered for it. Loop thread only. */
#ifndef HEALTHSCORE_MAPPER_H
#define HEALTHSCORE_MAPPER_H

#include "healthscore/config.h"
#include "healthscore/metrics.h"

#include <uv.h>

typedef struct hs_mapper_s hs_mapper_t;

/* The mapper's consumer group: kafka.group_id and ".mapper" (in `out`, of
 * `n` bytes). */
void hs_mapper_group_id(const hs_settings_t *s, char *out, size_t n);

/* Reads every source's mapping file and schema file and checks its
 * registry settings, as hs_mapper_new would. Returns 0 or HS_E_CONFIG (or
 * HS_E_IO) with "source NAME: reason". */
int hs_mapper_check(const hs_settings_t *s, hs_err_t *err);

/* Starts the mapper on `loop` with the settings' sources (n_sources > 0),
 * its metrics in `metrics`; `s` and `metrics` are borrowed and must outlive
 * it. Returns 0 with *out to be stopped with hs_mapper_stop, or an error
 * code with the reason in `err`: then *out is NULL and nothing is left to
 * stop or free (what was opened is closed before it returns, turning the
 * loop for it). */
int hs_mapper_new(hs_mapper_t **out, uv_loop_t *loop, const hs_settings_t *s, hs_metrics_t *metrics,
                  hs_err_t *err);

/* False with the reason while a source makes no durable progress (paused
 * for its registry, the alias store or the producer). */
bool hs_mapper_ready(const hs_mapper_t *m, char *why, size_t n);

/* Reads the mapping files (and their lookup tables) again on a worker
 * thread and swaps them in on the loop; a file that fails keeps the one in
 * use, with a log line and healthscore_config_reloads_total. */
void hs_mapper_reload(hs_mapper_t *m);

/* Stops reading, waits up to `timeout_ms` for the messages in flight to be
 * acknowledged (so that their offsets are committed), leaves the group and
 * releases everything; `done` runs once all is closed (status 0, or 1 when
 * messages were still unacknowledged). */
void hs_mapper_stop(hs_mapper_t *m, int timeout_ms, void (*done)(void *ud, int status), void *ud);

#endif
