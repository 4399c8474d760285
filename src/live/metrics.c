/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The engine's metrics: every family declared in one table, the gauges
 * refreshed before a scrape, and the consumer lag read from librdkafka's
 * statistics. */
#include "internal.h"

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

/* The one series of a family without labels (NULL when out of memory). */
static hs_series_t *one(hs_metrics_t *r, hs_metric_type_t type, const char *name, const char *help,
                        const double *bounds, size_t n_bounds) {
  hs_family_t *f = hs_metrics_family(r, type, name, help, NULL, bounds, n_bounds);
  return f ? hs_family_series(f, NULL) : NULL;
}

int hs__make_metrics(hs_live_t *l, hs_metrics_t *r) {
  l->f_events = hs_metrics_family(r, HS_COUNTER, "healthscore_events_total",
                                  "Input messages by topic and event type (invalid: rejected)",
                                  "topic,type", NULL, 0);
#define SIMPLE(var, type, name, help) var = one(r, type, name, help, NULL, 0)
  SIMPLE(l->m_applied, HS_COUNTER, "healthscore_events_applied_total",
         "Events applied to an account's state");
  SIMPLE(l->m_dups, HS_COUNTER, "healthscore_events_duplicate_total",
         "Messages delivered again by Kafka and skipped (already applied or buffered)");
  SIMPLE(l->m_dup_ids, HS_COUNTER, "healthscore_events_duplicate_id_total",
         "Events dropped because their account already applied their event_id (a source "
         "delivered them again)");
  SIMPLE(l->m_covered, HS_COUNTER, "healthscore_events_covered_total",
         "Events read again whose account's stored state already holds them, skipped");
  SIMPLE(l->m_late, HS_COUNTER, "healthscore_events_late_total",
         "Events older than the longest window on their account's clock, dropped");
  SIMPLE(l->m_ignored, HS_COUNTER, "healthscore_events_ignored_total",
         "Events recorded but not scored (outcomes)");
  l->f_dead = hs_metrics_family(
      r, HS_COUNTER, "healthscore_deadletter_total",
      "Dead letters delivered to the dead-letter topic, by kind of reason", "reason", NULL, 0);
  l->f_dead_fail = hs_metrics_family(
      r, HS_COUNTER, "healthscore_deadletter_failures_total",
      "Attempts to deliver a dead letter that failed, by kind of reason (each is sent again; "
      "positions never pass an undelivered one)",
      "reason", NULL, 0);
  SIMPLE(l->m_dead_trunc, HS_COUNTER, "healthscore_deadletter_truncated_total",
         "Dead letters whose key or value was cut to fit Kafka's message size (headers "
         "original_size and truncated say so)");
  SIMPLE(l->m_reapplied, HS_COUNTER, "healthscore_events_reapplied_total",
         "Events applied again after a resync (read again from the positions in Redis), counted "
         "apart from healthscore_events_applied_total");
  l->f_alerts =
      hs_metrics_family(r, HS_COUNTER, "healthscore_alerts_total",
                        "Alert transitions published, by rule and state", "rule,state", NULL, 0);
  l->f_delivery = hs_metrics_family(r, HS_COUNTER, "healthscore_kafka_delivery_failures_total",
                                    "Produce attempts that failed and were retried, by topic",
                                    "topic", NULL, 0);
  l->f_lag = hs_metrics_family(r, HS_GAUGE, "healthscore_consumer_lag",
                               "Messages behind the end of each input partition (librdkafka)",
                               "topic,partition", NULL, 0);
  l->f_bands = hs_metrics_family(r, HS_GAUGE, "healthscore_accounts_by_band",
                                 "Accounts held by this member, by profile and band",
                                 "profile,band", NULL, 0);
  l->m_latency = one(r, HS_HISTOGRAM, "healthscore_processing_latency_seconds",
                     "From an event's Kafka timestamp to its application", latency_bounds,
                     sizeof latency_bounds / sizeof *latency_bounds);
  l->m_engine_delay =
      one(r, HS_HISTOGRAM, "healthscore_engine_delay_seconds",
          "From an event's arrival from Kafka to its application: the engine's own part of the "
          "processing latency (event-time ordering, state loads, the loop's other work)",
          delay_bounds, sizeof delay_bounds / sizeof *delay_bounds);
  l->m_alert_delivery = one(r, HS_HISTOGRAM, "healthscore_alert_delivery_seconds",
                            "From publishing an alert to Kafka's acknowledgement of it",
                            delay_bounds, sizeof delay_bounds / sizeof *delay_bounds);
  l->m_flush_s = one(r, HS_HISTOGRAM, "healthscore_redis_flush_seconds",
                     "Duration of a Redis flush (every account write it holds, then the positions)",
                     flush_bounds, sizeof flush_bounds / sizeof *flush_bounds);
  l->m_flush_n = one(r, HS_HISTOGRAM, "healthscore_redis_flush_accounts",
                     "Accounts written by one Redis flush", batch_bounds,
                     sizeof batch_bounds / sizeof *batch_bounds);
  SIMPLE(l->m_flush_fail, HS_COUNTER, "healthscore_redis_flush_failures_total",
         "Redis flushes that failed (the engine resumes from what Redis holds)");
  SIMPLE(l->m_fenced, HS_COUNTER, "healthscore_redis_flush_fenced_total",
         "Redis flushes refused: a position moved, or a stored state covers more of the input "
         "(another owner, or lost writes)");
  SIMPLE(l->m_refused, HS_COUNTER, "healthscore_redis_refused_writes_total",
         "Account writes refused because the stored state covers more of the input");
  SIMPLE(l->m_wait_short, HS_COUNTER, "healthscore_redis_wait_failures_total",
         "WAITs answered by fewer replicas than redis.wait_replicas (the flush fails)");
  SIMPLE(l->m_moved, HS_COUNTER, "healthscore_redis_moved_total",
         "MOVED redirections followed (Redis Cluster: a slot changed owner)");
  SIMPLE(l->m_asked, HS_COUNTER, "healthscore_redis_ask_total",
         "ASK redirections followed (Redis Cluster: a slot being migrated)");
  SIMPLE(l->m_retries, HS_COUNTER, "healthscore_redis_retries_total",
         "Commands sent again after TRYAGAIN or CLUSTERDOWN");
  SIMPLE(l->m_noscript, HS_COUNTER, "healthscore_redis_noscript_total",
         "Scripts sent whole because a Redis node did not have them cached (a restart, a "
         "failover, SCRIPT FLUSH)");
  SIMPLE(l->m_masters, HS_GAUGE, "healthscore_redis_masters",
         "Redis masters in the slot map (1 for a standalone server)");
  SIMPLE(l->m_redis_cmds, HS_COUNTER, "healthscore_redis_commands_total", "Commands sent to Redis");
  SIMPLE(l->m_redis_bytes, HS_COUNTER, "healthscore_redis_sent_bytes_total",
         "Bytes of command arguments sent to Redis");
  SIMPLE(l->m_loads, HS_COUNTER, "healthscore_state_loads_total",
         "Account states read back from Redis");
  SIMPLE(l->m_evicted, HS_COUNTER, "healthscore_accounts_evicted_total",
         "Clean accounts dropped from memory to stay within engine.max_accounts");
  SIMPLE(l->m_rebalances, HS_COUNTER, "healthscore_rebalances_total",
         "Partition assignments received: every rebalance this member took part in, its "
         "first included");
  l->f_resyncs = hs_metrics_family(r, HS_COUNTER, "healthscore_resyncs_total",
                                   "Times the engine dropped its memory and resumed from the state "
                                   "in Redis, by cause",
                                   "cause", NULL, 0);
  SIMPLE(l->m_turn_max, HS_GAUGE, "healthscore_loop_turn_work_max",
         "The most work done in one turn of the event loop, in account-days evaluated (bounded "
         "so that the loop keeps answering)");
  SIMPLE(l->m_deferrals, HS_COUNTER, "healthscore_loop_deferrals_total",
         "Turns of the event loop that left work (applying, ageing idle accounts) for the next "
         "turn to stay responsive");
  SIMPLE(l->m_accounts, HS_GAUGE, "healthscore_accounts", "Accounts held in memory");
  SIMPLE(l->m_dirty, HS_GAUGE, "healthscore_accounts_dirty",
         "Accounts changed since they were last written to Redis");
  SIMPLE(l->m_buffered, HS_GAUGE, "healthscore_messages_buffered",
         "Messages fetched and waiting for their turn in event-time order");
  SIMPLE(l->m_parts, HS_GAUGE, "healthscore_partitions_assigned",
         "Partition groups (one partition of every input topic) owned by this member");
  SIMPLE(l->m_redis_up, HS_GAUGE, "healthscore_redis_connected", "1 when Redis answers");
  SIMPLE(l->m_ready, HS_GAUGE, "healthscore_ready", "1 when /readyz answers 200");
#undef SIMPLE
  return l->f_events && l->f_dead && l->f_dead_fail && l->f_resyncs && l->f_alerts && l->f_lag &&
                 l->f_bands && l->f_delivery && l->m_engine_delay && l->m_alert_delivery
             ? 0
             : HS_E_NOMEM;
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
