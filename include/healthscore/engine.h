/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An in-memory set of accounts driven by events: what `healthscore replay`
 * and the benchmarks run, and the daemon's working set. Pure: no I/O. */
#ifndef HEALTHSCORE_ENGINE_H
#define HEALTHSCORE_ENGINE_H

#include "healthscore/score.h"

typedef struct hs_engine_s hs_engine_t;

typedef struct hs_engine_stats_s {
  uint64_t events; /* events offered */
  uint64_t applied;
  uint64_t late;       /* dropped: older than the horizon */
  uint64_t duplicates; /* dropped: an event with its event_id was applied */
  uint64_t ignored;
  uint64_t accounts;
  uint64_t evaluations;
  uint64_t alerts_firing, alerts_resolved;
} hs_engine_stats_t;

/* Creates an engine over model `m` (borrowed: must outlive the engine). `cb`
 * receives every evaluation. Returns 0 or HS_E_NOMEM. */
int hs_engine_new(hs_engine_t **out, const hs_model_t *m, hs_eval_cb cb, void *ud);
void hs_engine_free(hs_engine_t *e);

/* Applies one event to its account (created on first sight). Returns a
 * hs_apply_result_t or HS_E_NOMEM. */
int hs_engine_apply(hs_engine_t *e, const hs_event_t *ev);

/* The hash the engine files an account id under (for hs_engine_prefetch). */
uint64_t hs_engine_hash(hs_str_t account_id);
/* Hints that event `ev`, of the account whose hs_engine_hash is `hash`,
 * comes soon, for callers that know their next events. Each stage a step
 * after the one before, when what it read has arrived: 0 starts loading the
 * table slot, 1 the account's state, 2 the days of its aggregates that `ev`
 * will update (they live outside the account's block; `ev` is read only
 * then). Changes nothing; hides memory latency when the accounts held
 * outgrow the CPU caches. */
void hs_engine_prefetch(const hs_engine_t *e, uint64_t hash, const hs_event_t *ev, int stage);

/* Advances every account to `now_ms` (see hs_account_advance), in account-id
 * order so that output is deterministic. */
int hs_engine_advance(hs_engine_t *e, int64_t now_ms);

/* The account, or NULL. */
hs_account_t *hs_engine_find(hs_engine_t *e, hs_str_t account_id);
/* Calls fn for every account in account-id order. */
void hs_engine_foreach(hs_engine_t *e, void (*fn)(void *ud, hs_account_t *a), void *ud);
void hs_engine_stats(const hs_engine_t *e, hs_engine_stats_t *out);
/* Largest event time seen. INT64_MIN before any. */
int64_t hs_engine_watermark(const hs_engine_t *e);

#endif
