/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Assignment, revocation and resync: dropping what is held, reading the
 * positions of the groups assigned from Redis, and resuming consumption from
 * them. A resync has a cause (RS_*), counted, logged and told by /readyz. */
#include "internal.h"

#include <stdarg.h>

/* The causes of a resync, as the metrics and logs name them. */
static const char *const resync_causes[RS__COUNT] = {
    "read_failed", "flush_failed",  "fenced",        "reconnected",
    "unreachable", "out_of_memory", "assign_failed", "stalled"};

static void start_sync(hs_live_t *l);

typedef struct req_s {
  hs_live_t *live;
  uint64_t epoch;
  int32_t partition;
} req_t;

/* Drops every account, queued message and group: what a resync or a
 * revocation starts from. */
void hs__drop_all(hs_live_t *l) {
  l->epoch++;
  hs__drop_held(l);
  for (size_t p = 0; l->groups && p < l->n_groups; p++)
    if (l->groups[p]) {
      hs__group_free(l, l->groups[p]);
      l->groups[p] = NULL;
    }
  hs__accounts_drop(l);
  l->n_accounts = l->n_dirty = 0;
  l->dirty_head = l->dirty_tail = NULL;
  l->n_refused = 0;
  l->refused_why[0] = 0;
  l->lru_head = l->lru_tail = NULL;
  l->idle_next = NULL;
  l->idle_pass = false;
  l->committing = false;
  l->pending_pos = 0;
}

static const char *const mode_names[LIVE__MODES] = {"running", "syncing", "resync", "revoking",
                                                    "revoke_abandoned"};

void hs__set_mode(hs_live_t *l, live_mode_t mode, const char *why) {
  if (l->mode == mode)
    return;
  hs_log(HS_LOG_INFO, "engine", "mode %s -> %s: %s", mode_names[l->mode], mode_names[mode], why);
  l->mode = mode;
  hs__count(hs__series1(l->f_modes, mode_names[mode]), 1);
}

/* Asks for a resync (done by the tick timer, outside any callback chain):
 * what is held can no longer be trusted to match Redis. Fetching stops at
 * once, so nothing is read only to be dropped. `cause` (RS_*) and the
 * reason go to the metrics, the log and /readyz. */
void hs__want_resync(hs_live_t *l, int cause, const char *fmt, ...) {
  if (!resync_wanted(l)) {
    if (l->consumer)
      hs_consumer_pause(l->consumer, true);
    l->resync_cause = cause;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->resync_why, sizeof l->resync_why, fmt, ap);
    va_end(ap);
    /* a stall keeps the failure that led to it as the reason */
    if (cause != RS_RECONNECT && (cause != RS_STALLED || !*l->failure))
      snprintf(l->failure, sizeof l->failure, "%s", l->resync_why);
  }
  hs__set_mode(l, revoking(l) ? LIVE_REVOKE_ABANDONED : LIVE_RESYNC, l->resync_why);
  hs__drop_held(l); /* a flush waiting for deliveries is not sent any more */
}

void hs__nomem_resync(hs_live_t *l, const char *what) {
  char note[64];
  if (rate_ok(l, &l->rl_nomem))
    hs_log(HS_LOG_ERROR, "engine", "out of memory %s: resuming from the state in Redis%s", what,
           rate_note(&l->rl_nomem, note, sizeof note));
  hs__want_resync(l, RS_NOMEM, "out of memory %s", what);
}

/* hs_consumer_assign, checked: a failure is logged, counted, and resolved
 * by a resync (which assigns again). */
static bool assign(hs_live_t *l, const rd_kafka_topic_partition_list_t *list, const char *what) {
  if (!hs_consumer_assign(l->consumer, list))
    return true;
  hs__count(l->m_assign_fail, 1);
  char note[64];
  if (rate_ok(l, &l->rl_assign)) /* a refusal that repeats is one line a while */
    hs_log(HS_LOG_ERROR, "kafka", "librdkafka refused to %s; resuming from the state in Redis%s",
           what, rate_note(&l->rl_assign, note, sizeof note));
  hs__want_resync(l, RS_ASSIGN, "librdkafka refused to %s", what);
  return false;
}

void hs__on_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_live_t *l = ud;
  hs_log(HS_LOG_INFO, "kafka", "assigned %d topic partitions (%zu per input topic)", parts->cnt,
         (size_t)parts->cnt / l->n_topics);
  hs__count(l->m_rebalances, 1);
  start_sync(l);
}

void hs__finish_revoke(hs_live_t *l) {
  hs__drop_all(l);
  hs__set_mode(l, LIVE_RUNNING, "partitions given up");
  hs_consumer_revoke_done(l->consumer);
  hs_log(HS_LOG_INFO, "kafka", "partitions given up");
}

void hs__on_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_live_t *l = ud;
  hs_log(HS_LOG_INFO, "kafka", "%d topic partitions revoked: writing their state first",
         parts->cnt);
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p])
      l->groups[p]->state = l->groups[p]->state == G_ACTIVE ? G_REVOKING : l->groups[p]->state;
  hs__set_mode(l, resync_wanted(l) ? LIVE_REVOKE_ABANDONED : LIVE_REVOKING, "partitions revoked");
  l->revoke_started = uv_now(l->loop);
  if (!l->store_up || resync_wanted(l) || (!l->n_dirty && !l->committing)) {
    hs__finish_revoke(l);
    return;
  }
  hs__flush(l);
}

static void assign_from_positions(hs_live_t *l) {
  hs__set_mode(l, LIVE_RUNNING, "resuming from the positions in Redis");
  rd_kafka_topic_partition_list_t *list =
      rd_kafka_topic_partition_list_new((int)(l->n_topics * l->n_groups));
  for (size_t p = 0; p < l->n_groups; p++) {
    group_t *g = l->groups[p];
    if (!g)
      continue;
    for (size_t t = 0; t < l->n_topics; t++) {
      tp_t *tp = &g->tp[t];
      rd_kafka_topic_partition_list_add(list, l->s->topics[t], g->partition)->offset =
          tp->committed >= 0 ? tp->committed : RD_KAFKA_OFFSET_BEGINNING;
      tp->next = tp->applied = tp->committed >= 0 ? tp->committed : 0;
    }
    g->state = G_ACTIVE;
  }
  /* paused before (a resync, back-pressure, a refused group): resumed now,
     before the assignment. Resuming after it races with librdkafka's
     thread starting the fetchers: each takes a version barrier, and a start
     queued behind a resume with a newer version is dropped as outdated,
     leaving the partition never fetched (no message, no end) */
  for (int i = 0; i < list->cnt; i++)
    hs_consumer_pause_partition(l->consumer, list->elems[i].topic, list->elems[i].partition, false);
  if (!assign(l, list, "assign the partitions from the positions in Redis")) {
    rd_kafka_topic_partition_list_destroy(list);
    return;
  }
  char note[64];
  if (rate_ok(l, &l->rl_resume))
    hs_log(HS_LOG_INFO, "engine", "resuming %d topic partitions from the positions in Redis%s",
           list->cnt, rate_note(&l->rl_resume, note, sizeof note));
  rd_kafka_topic_partition_list_destroy(list);
}

static void on_positions(void *ud, int status, const int64_t *offsets) {
  req_t *r = ud;
  hs_live_t *l = r->live;
  bool current = r->epoch == l->epoch;
  group_t *g = current && r->partition < l->n_partitions ? l->groups[r->partition] : NULL;
  hs_free(r);
  if (!current || !g)
    return;
  if (status) {
    hs__want_resync(l, RS_READ, "reading the positions of partition %d failed",
                    (int)g->partition); /* try again once Redis answers */
    l->pending_pos--;
    return;
  }
  for (size_t t = 0; t < l->n_topics; t++)
    g->tp[t].committed = offsets[t];
  if (--l->pending_pos == 0 && l->mode == LIVE_SYNCING)
    assign_from_positions(l);
}

/* Drops what is held and reads the positions of the group's assignment
 * from Redis; consumption resumes from there (assign_from_positions). */
static void start_sync(hs_live_t *l) {
  hs__drop_all(l);
  if (!assign(l, NULL, "stop fetching before reading positions")) /* nothing fetched meanwhile */
    return;
  rd_kafka_topic_partition_list_t *parts = hs_consumer_group_assignment(l->consumer);
  hs__set_mode(l, LIVE_SYNCING, "reading positions from Redis");
  l->store_connections = hs_store_connections(l->store);
  if (!parts) {
    hs__set_mode(l, LIVE_RUNNING, "nothing assigned");
    return;
  }
  for (int i = 0; i < parts->cnt; i++) {
    int32_t p = parts->elems[i].partition;
    if (topic_index(l, parts->elems[i].topic) < 0 || p < 0 || p >= l->n_partitions || l->groups[p])
      continue;
    group_t *g = hs_calloc(1, sizeof *g);
    if (!g) {
      hs__want_resync(l, RS_NOMEM, "out of memory for a partition group");
      break;
    }
    g->partition = p;
    g->state = G_LOADING;
    for (size_t t = 0; t < l->n_topics; t++)
      g->tp[t].committed = -1;
    l->groups[p] = g;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  if (!l->store_up) {
    hs__want_resync(l, RS_UNREACHABLE, "Redis unreachable: %s",
                    hs_store_last_error(l->store)); /* once Redis is back */
    return;
  }
  /* each answer counts pending_pos down; the last one assigns */
  l->pending_pos = 1;
  for (size_t p = 0; p < l->n_groups && !resync_wanted(l); p++) {
    if (!l->groups[p])
      continue;
    req_t *r = hs_malloc(sizeof *r);
    if (!r) {
      hs__want_resync(l, RS_NOMEM, "out of memory reading positions");
      break;
    }
    *r = (req_t){l, l->epoch, (int32_t)p};
    if (hs_store_get_positions(l->store, l->s->group_id, (int32_t)p, on_positions, r)) {
      hs_free(r);
      hs__want_resync(l, RS_UNREACHABLE, "cannot read the positions of partition %d", (int)p);
    } else {
      l->pending_pos++;
    }
  }
  if (--l->pending_pos == 0 && l->mode == LIVE_SYNCING)
    assign_from_positions(l);
}

/* Resumes from Redis, counted by cause and logged: every resync when they
 * are rare, then at most one line every LOG_EVERY_MS with the number left
 * out (a resync loop is visible, not a flood). */
void hs__resync_now(hs_live_t *l) {
  hs__count(hs__series1(l->f_resyncs, resync_causes[l->resync_cause]), 1);
  char note[64];
  bool loop = l->rl_resync.at && uv_now(l->loop) - l->rl_resync.at < 2 * LOG_EVERY_MS;
  if (rate_ok(l, &l->rl_resync))
    hs_log(l->resync_cause == RS_RECONNECT && !loop ? HS_LOG_INFO : HS_LOG_WARN, "engine",
           "resuming from the state in Redis (cause %s: %s)%s", resync_causes[l->resync_cause],
           l->resync_why, rate_note(&l->rl_resync, note, sizeof note));
  l->resync_forced = false;
  start_sync(l);
}
