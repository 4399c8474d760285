/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine: Kafka input topics -> scoring core -> Redis state and
 * alerts, on one libuv loop (docs/architecture.md, "The daemon").
 *
 * Partition N of every input topic forms one partition group, owned by one
 * member of the consumer group (range assignor). Within a group, events are
 * applied in event-time order across the topics (ties: topic order), so the
 * order an account sees does not depend on fetch timing, batch sizes,
 * restarts or rebalances.
 *
 * Effectively-once: a commit writes account states, score records and
 * history, each with the input it covers (refused when the stored state
 * covers more), then, once every write is acknowledged (and replicated, with
 * redis.wait_replicas), the positions of the groups they cover, refused if a
 * position differs from the one this member last wrote (a member that lost
 * its partitions, or a Redis that lost writes). On assignment, and whenever Redis reconnects or
 * refuses a write, the engine drops what it holds and resumes from the positions Redis holds,
 * reading accounts back lazily: Redis is always a consistent cut of the input, and nothing is
 * applied twice or lost.
 *
 * Loop thread only. */
#ifndef HEALTHSCORE_LIVE_H
#define HEALTHSCORE_LIVE_H

#include "healthscore/metrics.h"
#include "healthscore/core.h"
#include "healthscore/config.h"

#include <uv.h>

typedef struct hs_live_s hs_live_t;

/* Creates the engine on `loop`: checks that the input topics exist and are
 * co-partitioned (waiting up to 30 s for Kafka), connects to Redis and joins
 * the consumer group. `s` and `model` are borrowed and must outlive the
 * engine (see hs_live_set_model); families are added to `metrics`. Returns 0
 * and the engine in *out, which the caller ends with hs_live_stop; or a
 * negative code with the reason in `err` (logged by the engine too), and
 * then *out may still hold the engine half made: the caller ends it with
 * hs_live_stop all the same, which closes what was opened (nothing to do
 * when *out is NULL). */
int hs_live_new(hs_live_t **out, uv_loop_t *loop, const hs_settings_t *s, const hs_model_t *model,
                hs_metrics_t *metrics, hs_err_t *err);

/* Switches to `model` (borrowed from now on): every account held is carried
 * over to it. On failure nothing changes. Returns 0 or a negative code. */
int hs_live_set_model(hs_live_t *l, const hs_model_t *model, hs_err_t *err);

/* True when the engine serves: partitions assigned and resumed, Redis and
 * Kafka reachable. Otherwise `why` says what is missing. */
bool hs_live_ready(const hs_live_t *l, char *why, size_t n);

/* Appends the score record (with the daily history) of an account held by
 * this member. Returns 0, HS_E_INVAL when the account is not held here. */
int hs_live_account_json(hs_live_t *l, hs_str_t account, hs_buf_t *out);

/* Refreshes the gauges (accounts, dirty, partitions, lag ...) before a
 * scrape. */
void hs_live_update_metrics(hs_live_t *l);

/* Graceful stop: stops applying events, writes everything applied to Redis
 * (positions included), leaves the group, delivers pending alerts, closes
 * every handle; then `done` runs with 0, or -1 when something could not be
 * written within `timeout_ms`. The engine is freed before `done` runs. Call
 * it once: a second call replaces `done`, `ud` and the deadline, and the
 * first `done` never runs. */
void hs_live_stop(hs_live_t *l, int timeout_ms, void (*done)(void *ud, int status), void *ud);

#endif
