/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The engine's metrics: every family declared in one table, the gauges
 * refreshed before a scrape, and the consumer lag read from librdkafka's
 * statistics. */
#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <yajl/yajl_tree.h>

hs_series_t *hs__series1(hs_family_t *f, const char *v) {
  const char *vals[] = {v};
  return hs_family_series(f, vals);
}

hs_series_t *hs__series2(hs_family_t *f, const char *a, const char *b) {
  const char *vals[] = {a, b};
  return hs_family_series(f, vals);
}

void hs__count(hs_series_t *s, double v) {
  if (s)
    hs_series_add(s, v);
}

hs_series_t *hs__event_series(hs_live_t *l, int topic, int type) {
  hs_series_t **s = &l->ev_series[(size_t)topic * (HS_EV__COUNT + 1) + (size_t)type];
  if (!*s)
    *s = hs__series2(l->f_events, l->s->topics[topic],
                     type ? hs_event_type_name((hs_event_type_t)type) : "invalid");
  return *s;
}

void hs__on_stats(void *ud, const char *json, size_t len) {
  hs_live_t *l = ud;
  char *copy = hs_strndup(json, len), errbuf[128];
  yajl_val root = copy ? yajl_tree_parse(copy, errbuf, sizeof errbuf) : NULL;
  hs_free(copy);
  const char *path[] = {"topics", NULL};
  yajl_val topics = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
  for (size_t i = 0; topics && i < topics->u.object.len; i++) {
    int t = topic_index(l, topics->u.object.keys[i]);
    const char *pp[] = {"partitions", NULL};
    yajl_val parts = t >= 0 ? yajl_tree_get(topics->u.object.values[i], pp, yajl_t_object) : NULL;
    for (size_t j = 0; parts && j < parts->u.object.len; j++) {
      int p = atoi(parts->u.object.keys[j]);
      const char *lp[] = {"consumer_lag", NULL};
      yajl_val lag = yajl_tree_get(parts->u.object.values[j], lp, yajl_t_number);
      if (p < 0 || p >= l->n_partitions || !lag || !YAJL_IS_INTEGER(lag))
        continue;
      hs_series_t **s = &l->lag_series[(size_t)t * (size_t)l->n_partitions + (size_t)p];
      if (!*s) {
        char ps[16];
        snprintf(ps, sizeof ps, "%d", p);
        *s = hs__series2(l->f_lag, l->s->topics[t], ps);
      }
      if (*s)
        hs_series_set(*s, YAJL_GET_INTEGER(lag) < 0 ? 0 : (double)YAJL_GET_INTEGER(lag));
    }
  }
  yajl_tree_free(root);
}

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const double delay_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
static const double flush_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
static const double batch_bounds[] = {1, 10, 100, 1000, 10000, 100000};

/* Every metric of the engine, in the order of exposition: its type, name,
 * help and labels (NULL: one series without labels, whose pointer the
 * engine keeps; else the family, whose series are made as labels are
 * seen), bucket bounds for a histogram, where the engine keeps it, and
 * whether the engine cannot run without it (the others are skipped when
 * out of memory). */
typedef struct metric_def_s {
  hs_metric_type_t type;
  const char *name, *help, *labels;
  const double *bounds;
  size_t n_bounds;
  size_t offset; /* of the hs_family_t * (labels) or hs_series_t * in hs_live_t */
  bool required;
} metric_def_t;

#define B(b) b, sizeof b / sizeof *b
#define NB NULL, 0
#define FAMILY(f) offsetof(hs_live_t, f)
#define SERIES(s) offsetof(hs_live_t, s)
static const metric_def_t metric_defs[] = {
    {HS_COUNTER, "healthscore_events_total",
     "Input messages by topic and event type (invalid: rejected)", "topic,type", NB,
     FAMILY(f_events), true},
    {HS_COUNTER, "healthscore_events_applied_total", "Events applied to an account's state", NULL,
     NB, SERIES(m_applied), false},
    {HS_COUNTER, "healthscore_events_duplicate_total",
     "Messages delivered again by Kafka and skipped (already applied or buffered)", NULL, NB,
     SERIES(m_dups), false},
    {HS_COUNTER, "healthscore_events_duplicate_id_total",
     "Events dropped because their account already applied their event_id (a source delivered them "
     "again)",
     NULL, NB, SERIES(m_dup_ids), false},
    {HS_COUNTER, "healthscore_events_decoded_again_total",
     "Events decoded a second time when applied: kept decoded from their arrival unless a string "
     "was unescaped (JSON escapes, attribute keys) or the fields do not fit",
     NULL, NB, SERIES(m_decoded_again), false},
    {HS_COUNTER, "healthscore_events_covered_total",
     "Events read again whose account's stored state already holds them, skipped", NULL, NB,
     SERIES(m_covered), false},
    {HS_COUNTER, "healthscore_events_late_total",
     "Events older than the longest window on their account's clock, dropped", NULL, NB,
     SERIES(m_late), false},
    {HS_COUNTER, "healthscore_events_ignored_total", "Events recorded but not scored (outcomes)",
     NULL, NB, SERIES(m_ignored), false},
    {HS_COUNTER, "healthscore_deadletter_total",
     "Dead letters delivered to the dead-letter topic, by kind of reason", "reason", NB,
     FAMILY(f_dead), true},
    {HS_COUNTER, "healthscore_deadletter_failures_total",
     "Attempts to deliver a dead letter that failed, by kind of reason (each is sent again; "
     "positions never pass an undelivered one)",
     "reason", NB, FAMILY(f_dead_fail), true},
    {HS_COUNTER, "healthscore_deadletter_truncated_total",
     "Dead letters whose key or value was cut to fit Kafka's message size (headers original_size "
     "and truncated say so)",
     NULL, NB, SERIES(m_dead_trunc), false},
    {HS_COUNTER, "healthscore_events_reapplied_total",
     "Events applied again after a resync (read again from the positions in Redis), counted apart "
     "from healthscore_events_applied_total",
     NULL, NB, SERIES(m_reapplied), false},
    {HS_COUNTER, "healthscore_alerts_total", "Alert transitions published, by rule and state",
     "rule,state", NB, FAMILY(f_alerts), true},
    {HS_COUNTER, "healthscore_kafka_delivery_failures_total",
     "Produce attempts that failed and were retried, by topic", "topic", NB, FAMILY(f_delivery),
     true},
    {HS_GAUGE, "healthscore_consumer_lag",
     "Messages behind the end of each input partition (librdkafka)", "topic,partition", NB,
     FAMILY(f_lag), true},
    {HS_GAUGE, "healthscore_accounts_by_band", "Accounts held by this member, by profile and band",
     "profile,band", NB, FAMILY(f_bands), true},
    {HS_HISTOGRAM, "healthscore_processing_latency_seconds",
     "From an event's Kafka timestamp to its application", NULL, B(latency_bounds),
     SERIES(m_latency), false},
    {HS_HISTOGRAM, "healthscore_engine_delay_seconds",
     "From an event's arrival from Kafka to its application: the engine's own part of the "
     "processing latency (event-time ordering, state loads, the loop's other work)",
     NULL, B(delay_bounds), SERIES(m_engine_delay), true},
    {HS_HISTOGRAM, "healthscore_alert_delivery_seconds",
     "From publishing an alert to Kafka's acknowledgement of it", NULL, B(delay_bounds),
     SERIES(m_alert_delivery), true},
    {HS_HISTOGRAM, "healthscore_redis_flush_seconds",
     "Duration of a Redis flush (every account write it holds, then the positions)", NULL,
     B(flush_bounds), SERIES(m_flush_s), false},
    {HS_HISTOGRAM, "healthscore_redis_flush_accounts", "Accounts written by one Redis flush", NULL,
     B(batch_bounds), SERIES(m_flush_n), false},
    {HS_COUNTER, "healthscore_redis_flush_failures_total",
     "Redis flushes that failed (the engine resumes from what Redis holds)", NULL, NB,
     SERIES(m_flush_fail), false},
    {HS_COUNTER, "healthscore_redis_flush_fenced_total",
     "Redis flushes refused: a position moved, or a stored state covers more of the input (another "
     "owner, or lost writes)",
     NULL, NB, SERIES(m_fenced), false},
    {HS_COUNTER, "healthscore_redis_refused_writes_total",
     "Account writes refused because the stored state covers more of the input", NULL, NB,
     SERIES(m_refused), false},
    {HS_COUNTER, "healthscore_redis_wait_failures_total",
     "WAITs answered by fewer replicas than redis.wait_replicas (the flush fails)", NULL, NB,
     SERIES(m_wait_short), false},
    {HS_COUNTER, "healthscore_redis_moved_total",
     "MOVED redirections followed (Redis Cluster: a slot changed owner)", NULL, NB, SERIES(m_moved),
     false},
    {HS_COUNTER, "healthscore_redis_ask_total",
     "ASK redirections followed (Redis Cluster: a slot being migrated)", NULL, NB, SERIES(m_asked),
     false},
    {HS_COUNTER, "healthscore_redis_retries_total",
     "Commands sent again after TRYAGAIN or CLUSTERDOWN", NULL, NB, SERIES(m_retries), false},
    {HS_COUNTER, "healthscore_redis_noscript_total",
     "Scripts sent whole because a Redis node did not have them cached (a restart, a failover, "
     "SCRIPT FLUSH)",
     NULL, NB, SERIES(m_noscript), false},
    {HS_GAUGE, "healthscore_redis_masters",
     "Redis masters in the slot map (1 for a standalone server)", NULL, NB, SERIES(m_masters),
     false},
    {HS_COUNTER, "healthscore_redis_commands_total", "Commands sent to Redis", NULL, NB,
     SERIES(m_redis_cmds), false},
    {HS_COUNTER, "healthscore_redis_sent_bytes_total", "Bytes of command arguments sent to Redis",
     NULL, NB, SERIES(m_redis_bytes), false},
    {HS_COUNTER, "healthscore_state_loads_total", "Account states read back from Redis", NULL, NB,
     SERIES(m_loads), false},
    {HS_COUNTER, "healthscore_state_refused_total",
     "Partition groups refused because an account's stored state must not be overwritten, by "
     "reason "
     "(newer_version: written by a newer build); nothing more of the group is applied or written "
     "until it is assigned again",
     "reason", NB, FAMILY(f_refused), true},
    {HS_COUNTER, "healthscore_state_reset_total",
     "Stored states that did not decode (corrupt, not of a newer version) and were started over "
     "from empty",
     NULL, NB, SERIES(m_state_reset), false},
    {HS_COUNTER, "healthscore_kafka_assign_failures_total",
     "Assignments librdkafka refused (the engine resumes from the state in Redis and assigns "
     "again)",
     NULL, NB, SERIES(m_assign_fail), false},
    {HS_COUNTER, "healthscore_accounts_evicted_total",
     "Clean accounts dropped from memory to stay within engine.max_accounts", NULL, NB,
     SERIES(m_evicted), false},
    {HS_COUNTER, "healthscore_rebalances_total",
     "Partition assignments received: every rebalance this member took part in, its first included",
     NULL, NB, SERIES(m_rebalances), false},
    {HS_COUNTER, "healthscore_resyncs_total",
     "Times the engine dropped its memory and resumed from the state in Redis, by cause", "cause",
     NB, FAMILY(f_resyncs), true},
    {HS_COUNTER, "healthscore_engine_mode_changes_total",
     "Changes of the engine's mode towards its assignment, by the mode entered (running, syncing, "
     "resync, revoking, revoke_abandoned)",
     "mode", NB, FAMILY(f_modes), true},
    {HS_GAUGE, "healthscore_loop_turn_work_max",
     "The most work done in one turn of the event loop, in account-days evaluated (bounded so that "
     "the loop keeps answering)",
     NULL, NB, SERIES(m_turn_max), false},
    {HS_COUNTER, "healthscore_loop_deferrals_total",
     "Turns of the event loop that left work (applying, ageing idle accounts) for the next turn to "
     "stay responsive",
     NULL, NB, SERIES(m_deferrals), false},
    {HS_COUNTER, "healthscore_memory_trims_total",
     "Times freed memory was given back to the system (malloc_trim), only while the engine is "
     "idle: caught up, nothing buffered, dirty or in flight",
     NULL, NB, SERIES(m_trims), false},
    {HS_GAUGE, "healthscore_accounts", "Accounts held in memory", NULL, NB, SERIES(m_accounts),
     false},
    {HS_GAUGE, "healthscore_accounts_dirty",
     "Accounts changed since they were last written to Redis", NULL, NB, SERIES(m_dirty), false},
    {HS_GAUGE, "healthscore_messages_buffered",
     "Messages fetched and waiting for their turn in event-time order", NULL, NB,
     SERIES(m_buffered), false},
    {HS_GAUGE, "healthscore_partitions_assigned",
     "Partition groups (one partition of every input topic) owned by this member", NULL, NB,
     SERIES(m_parts), false},
    {HS_GAUGE, "healthscore_redis_connected", "1 when Redis answers", NULL, NB, SERIES(m_redis_up),
     false},
    {HS_GAUGE, "healthscore_ready", "1 when /readyz answers 200", NULL, NB, SERIES(m_ready), false},
};
#undef B
#undef NB
#undef FAMILY
#undef SERIES

int hs__make_metrics(hs_live_t *l, hs_metrics_t *r) {
  int rc = 0;
  for (size_t i = 0; i < sizeof metric_defs / sizeof *metric_defs; i++) {
    const metric_def_t *d = &metric_defs[i];
    hs_family_t *f =
        hs_metrics_family(r, d->type, d->name, d->help, d->labels, d->bounds, d->n_bounds);
    void *at = (char *)l + d->offset;
    if (d->labels)
      *(hs_family_t **)at = f;
    else
      *(hs_series_t **)at = f ? hs_family_series(f, NULL) : NULL;
    if (d->required && !*(void **)at)
      rc = HS_E_NOMEM;
  }
  return rc;
}

void hs_live_update_metrics(hs_live_t *l) {
  size_t parts = 0, buffered = 0;
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p]) {
      parts++;
      for (size_t t = 0; t < l->n_topics; t++)
        buffered += l->groups[p]->tp[t].len;
    }
  char why[8];
  if (l->m_turn_max)
    hs_series_set(l->m_turn_max, (double)l->turn_work_max);
  if (l->m_accounts) {
    hs_series_set(l->m_accounts, (double)l->n_accounts);
    hs_series_set(l->m_dirty, (double)l->n_dirty);
    hs_series_set(l->m_parts, (double)parts);
    hs_series_set(l->m_buffered, (double)buffered);
    hs_series_set(l->m_redis_up, l->store_up);
    hs_series_set(l->m_ready, hs_live_ready(l, why, sizeof why));
  }
  hs_store_stats_t st;
  if (l->store) { /* gone while stopping */
    hs_store_stats(l->store, &st);
    hs_series_t *const stat_series[] = {l->m_redis_cmds, l->m_redis_bytes, l->m_refused,
                                        l->m_wait_short, l->m_moved,       l->m_asked,
                                        l->m_retries,    l->m_noscript,    l->m_masters};
    const double stat_values[] = {(double)st.commands,   (double)st.bytes,    (double)st.refused,
                                  (double)st.wait_short, (double)st.moved,    (double)st.asked,
                                  (double)st.retries,    (double)st.noscript, (double)st.masters};
    for (size_t i = 0; i < sizeof stat_values / sizeof *stat_values; i++)
      if (stat_series[i])
        hs_series_set(stat_series[i], stat_values[i]);
  }
  size_t nb = hs_model_n_bands(l->model) + 1;
  for (size_t p = 0; p < hs_model_n_profiles(l->model); p++)
    for (size_t b = 0; b < nb; b++) {
      hs_series_t **s = &l->band_series[p * nb + b];
      if (!*s)
        *s = hs__series2(l->f_bands, hs_model_profile_name(l->model, p),
                         hs_model_band_name(l->model, (int)b - 1));
      if (*s)
        hs_series_set(*s, (double)l->band_count[p * nb + b]);
    }
}
