/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Readiness: the engine is ready when it makes durable progress (a flush
 * acknowledged, or nothing to write), with Redis and Kafka reachable and its
 * partitions resumed; otherwise the reason says what is missing. */
#include "internal.h"

#include <stdarg.h>

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

uint64_t hs__stall_ms(const hs_live_t *l) {
  uint64_t by_flushes = (uint64_t)l->s->flush_interval_ms * STALL_FLUSHES;
  return by_flushes > STALL_MIN_MS ? by_flushes : STALL_MIN_MS;
}

/* Appends ", " and a formatted part to buf (of n bytes, len used). */
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...) {
  if (*len + 3 >= n)
    return;
  if (*len)
    *len += (size_t)snprintf(buf + *len, n - *len, ", ");
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + *len, n - *len, fmt, ap);
  va_end(ap);
  *len = k < 0 ? *len : *len + (size_t)k >= n ? n - 1 : *len + (size_t)k;
}

void hs__waiting_for(const hs_live_t *l, char *buf, size_t n) {
  size_t len = 0;
  buf[0] = 0;
  if (l->pending_pos)
    add(buf, n, &len, "%d position reads from Redis", l->pending_pos);
  if (l->held)
    add(buf, n, &len, "a flush held for %llu messages to Kafka",
        (unsigned long long)(l->out_next - l->out_low));
  else if (l->committing)
    add(buf, n, &len, "the answer to a flush");
  if (l->retry)
    add(buf, n, &len, "messages to Kafka sent again");
  size_t loading = 0;
  for (const acct_t *a = l->lru_head; a; a = a->lru_next)
    loading += a->loading;
  if (loading)
    add(buf, n, &len, "%zu account reads from Redis", loading);
  if (l->n_dirty)
    add(buf, n, &len, "%zu accounts changed", l->n_dirty);
  for (size_t p = 0; p < l->n_groups; p++) {
    const group_t *g = l->groups[p];
    for (size_t t = 0; g && t < l->n_topics; t++)
      if (g->state != G_ACTIVE || g->tp[t].len || !g->tp[t].eof) {
        add(buf, n, &len, "%s[%d]: %s, %zu messages queued, %s", l->s->topics[t], (int)p,
            g->state == G_ACTIVE    ? "active"
            : g->state == G_LOADING ? "positions being read"
                                    : "not active",
            g->tp[t].len, g->tp[t].eof ? "at its end" : "its end not reached");
        p = l->n_groups; /* the first one says enough */
        break;
      }
  }
  if (!len)
    snprintf(buf, n, "nothing known");
}

void hs__check_stall(hs_live_t *l) {
  if (stopping(l) || revoking(l) || !l->store_up || l->kafka_down)
    return;
  if (resync_wanted(l) && !l->committing && !l->pending_pos)
    return; /* a resync goes ahead at this tick anyway: nothing waits */
  uint64_t now = uv_now(l->loop);
  uint64_t since = l->progress_ms > l->stall_resync ? l->progress_ms : l->stall_resync;
  if (now - since <= STALL_RESYNC_TIMES * hs__stall_ms(l))
    return;
  l->stall_resync = now;
  char what[192];
  hs__waiting_for(l, what, sizeof what);
  unsigned long long s = (unsigned long long)(now - l->progress_ms) / 1000;
  hs_log(HS_LOG_ERROR, "engine",
         "no durable progress for %llu s, waiting for: %s; resuming from the state in Redis", s,
         what);
  hs__want_resync(l, RS_STALLED, "no durable progress for %llu s, waiting for: %s", s, what);
  l->resync_forced = true; /* answers that may never come are not waited for */
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
  else if (stalled > hs__stall_ms(l))
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
