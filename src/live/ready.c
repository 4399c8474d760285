/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Readiness: the engine is ready when it makes durable progress (a flush
 * acknowledged, or nothing to write), with Redis and Kafka reachable and its
 * partitions resumed; otherwise the reason says what is missing. */
#include "internal.h"

/* True when nothing waits to be made durable: no resync, no flush, no
 * account changed, and every partition group assigned has applied and
 * written all its input up to the end of its partitions. */
bool hs__caught_up(const hs_live_t *l) {
  if (resync_wanted(l) || l->committing || l->held || l->n_dirty || l->pending_pos || l->retry)
    return false;
  for (size_t p = 0; p < l->n_groups; p++) {
    const group_t *g = l->groups[p];
    if (!g)
      continue;
    if (g->state != G_ACTIVE)
      return false;
    for (size_t t = 0; t < l->n_topics; t++)
      if (g->tp[t].len || !g->tp[t].eof || g->tp[t].applied != g->tp[t].committed)
        return false;
  }
  return true;
}

/* How long the engine may hold input it has not made durable. */
static uint64_t stall_ms(const hs_live_t *l) {
  uint64_t by_flushes = (uint64_t)l->s->flush_interval_ms * STALL_FLUSHES;
  return by_flushes > STALL_MIN_MS ? by_flushes : STALL_MIN_MS;
}

bool hs_live_ready(const hs_live_t *l, char *why, size_t n) {
  size_t parts = 0;
  for (size_t p = 0; p < l->n_groups; p++)
    parts += l->groups[p] && l->groups[p]->state == G_ACTIVE;
  uint64_t stalled = uv_now(l->loop) - l->progress_ms;
  if (stopping(l))
    snprintf(why, n, "shutting down");
  else if (l->n_refused)
    snprintf(why, n, "%s", l->refused_why);
  else if (!l->store_up)
    snprintf(why, n, "Redis unreachable: %s",
             *hs_store_last_error(l->store) ? hs_store_last_error(l->store) : "no answer yet");
  else if (l->kafka_down)
    snprintf(why, n, "Kafka unreachable%s%s", *l->kafka_err ? ": " : "", l->kafka_err);
  else if (stalled > stall_ms(l))
    snprintf(why, n, "no durable progress for %llu s (nothing written to Redis): %s",
             (unsigned long long)stalled / 1000, *l->failure ? l->failure : "no reason known");
  else if (resync_wanted(l))
    snprintf(why, n, "resuming from Redis: %s", l->resync_why);
  else if (revoking(l))
    snprintf(why, n, "rebalancing");
  else if (!parts)
    snprintf(why, n, "no partitions assigned");
  else if (l->pending_pos)
    snprintf(why, n, "reading positions from Redis");
  else
    return true;
  return false;
}
