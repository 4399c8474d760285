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
 * applied twice or lost. An allocation failure that would drop an applied
 * event's effect resumes from Redis too. A stored state written by a newer
 * build (a format version this build does not read) is never overwritten:
 * its partition group is refused (not fetched, applied or written; /readyz
 * says why) until it is assigned again.
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
 * co-partitioned (waiting up to 30 s for Kafka, blocking the thread), connects
 * to Redis and joins the consumer group.
 *
 * Borrowed: `loop`, `s` and `model` must outlive the engine (see
 * hs_live_set_model for a new model); `metrics` gains the engine's families,
 * which stay the registry's (it must outlive the engine too); `err` is the
 * caller's.
 * On success: returns 0 and the engine in *out, owned by the caller, who
 * ends it with hs_live_stop (never freed otherwise).
 * On failure: returns a negative code with the reason in `err`, and *out is
 * NULL: the engine closed what it had opened (turning `loop` until its own
 * handles are closed, so other handles of the loop may see callbacks
 * meanwhile) and freed itself; there is nothing to stop. The engine does
 * not log the reason: the caller does, once. */
int hs_live_new(hs_live_t **out, uv_loop_t *loop, const hs_settings_t *s, const hs_model_t *model,
                hs_metrics_t *metrics, hs_err_t *err);

/* Switches to `model`, borrowed from now on (the previous one may be freed
 * once this returns 0): every account held is carried over to it. On
 * failure nothing changes and the previous model stays borrowed. Returns 0,
 * or a negative code with the reason in `err` (HS_E_NOMEM, or the decode
 * error of an account the new model cannot take). */
int hs_live_set_model(hs_live_t *l, const hs_model_t *model, hs_err_t *err);

/* True when the engine serves: partitions assigned and resumed, Redis and
 * Kafka reachable, durable progress made, no partition group refused.
 * Otherwise `why` (the caller's buffer of `n` bytes) says what is missing.
 * Allocates nothing. */
bool hs_live_ready(const hs_live_t *l, char *why, size_t n);

/* Appends the score record (with the daily history) of an account held by
 * this member to `out` (the caller's). Returns 0; HS_E_INVAL when the
 * account is not held here (`out` unchanged); HS_E_NOMEM (`out` may hold a
 * part of the record: the caller drops it). */
int hs_live_account_json(hs_live_t *l, hs_str_t account, hs_buf_t *out);

/* Refreshes the gauges (accounts, dirty, partitions, lag ...) before a
 * scrape. The series stay the registry's. */
void hs_live_update_metrics(hs_live_t *l);

/* Graceful stop: stops applying events, writes everything applied to Redis
 * (positions included), leaves the group, delivers pending alerts, closes
 * every handle; then `done` runs with 0, or -1 when something could not be
 * written within `timeout_ms`. The engine is freed before `done` runs (the
 * loop may be closed from `done` on); `ud` is the caller's. Returns 0.
 * Once stopping, a second call is refused: it returns HS_E_INVAL and
 * changes nothing (the first `done`, `ud` and deadline stay). */
int hs_live_stop(hs_live_t *l, int timeout_ms, void (*done)(void *ud, int status), void *ud);

#endif
