/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* engine.threads > 1: N live engines in one process, each on its own thread
 * with its own libuv loop, consumer-group member, Redis connection, producer
 * and metrics registry. The partition groups are spread over them by the
 * group's range assignor, as over replicas; accounts never cross groups, so
 * engines share nothing mutable. The main loop (HTTP, signals, the mapper)
 * talks to them only through mailboxes: a job goes to an engine's inbox
 * (uv_async) and comes back, answered on the engine's thread, through the
 * pool's outbox (uv_async on the main loop).
 *
 * Every function here runs on the main loop's thread; every callback too. */
#ifndef HEALTHSCORED_POOL_H
#define HEALTHSCORED_POOL_H

#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/metrics.h"

#include <uv.h>

typedef struct pool_s pool_t;

/* How long the main loop waits for every engine before answering without
 * one (readiness, a scrape, an account). */
#define POOL_READY_DEADLINE_MS 1000
#define POOL_ASK_DEADLINE_MS 3000

/* Starts s->threads engines on `loop`'s process, each on a thread of its
 * own, and waits (blocking the thread, as hs_live_new does) until each has
 * joined or failed. `s` and `model` are borrowed (they must outlive the
 * pool); `metrics` (borrowed) gains the healthscore_engine_* families of the
 * pool itself. Returns 0, or a negative code with "engine I/N: reason" in
 * `err`; either way a pool is in *out (NULL only out of memory), to be
 * ended with pool_stop, which joins every thread. */
int pool_start(pool_t **out, uv_loop_t *loop, const hs_settings_t *s, const hs_model_t *model,
               hs_metrics_t *metrics, hs_err_t *err);

/* Ready when every engine is: `done` gets true, or false with
 * "engine I/N: why" (the first engine that is not, or does not answer
 * within POOL_READY_DEADLINE_MS). */
void pool_ready(pool_t *p, void (*done)(void *ud, bool ok, const char *why), void *ud);

/* Refreshes every engine's metrics and adds them up: `done` gets the sum
 * (borrowed for the call), or NULL with the reason when an engine did not
 * answer within POOL_ASK_DEADLINE_MS or memory ran out (a partial sum would
 * show counters going backwards). */
void pool_metrics(pool_t *p, void (*done)(void *ud, const hs_metrics_t *sum, const char *why),
                  void *ud);

/* The score record of `account` (copied) from the engine that holds it:
 * `done` gets 0 and the JSON (borrowed for the call); HS_E_INVAL when no
 * engine holds it; HS_E_IO when an engine that might did not answer within
 * POOL_ASK_DEADLINE_MS; HS_E_NOMEM. */
void pool_account(pool_t *p, hs_str_t account,
                  void (*done)(void *ud, int rc, const hs_buf_t *json, const char *why), void *ud);

/* Switches every engine to `model`, all or nothing: when an engine refuses,
 * the engines that took it go back to `running`, and `done` gets the
 * refusal ("engine I/N: reason"). `done` gets 0 (every engine runs `model`;
 * `running` may be freed) or a negative code (every engine runs `running`;
 * `model` may be freed), unless `split` is true: an engine could not go
 * back (out of memory), engines run different profiles, and neither model
 * may be freed before the pool is stopped. Both models are borrowed until
 * `done`. */
void pool_set_model(pool_t *p, const hs_model_t *model, const hs_model_t *running,
                    void (*done)(void *ud, int rc, bool split, const char *why), void *ud);

/* Stops every engine (hs_live_stop with `timeout_ms`, side by side), joins
 * the threads and frees the pool; then `done` runs with 0, or -1 when an
 * engine could not write everything (one that did not start counts not:
 * pool_start said so). A second call is ignored. */
void pool_stop(pool_t *p, int timeout_ms, void (*done)(void *ud, int status), void *ud);

#endif
