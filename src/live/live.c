/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine: creation, the housekeeping tick, model switches, the
 * score record served over HTTP, and shutdown. The work is done in rooms
 * (internal.h): accounts, merge, apply, outbox, commit, sync, metrics and
 * ready. */
#include "internal.h"

#include "healthscore/codec.h"
#include "healthscore/state.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Moves the engine to `phase`, logging the change at info. */
static void set_phase(hs_live_t *l, live_phase_t phase) {
  static const char *const names[] = {"serving", "stopping", "closing"};
  if (l->phase == phase)
    return;
  hs_log(HS_LOG_INFO, "engine", "phase %s -> %s", names[l->phase], names[phase]);
  l->phase = phase;
}

static void on_kafka_error(void *ud, int code, const char *reason) {
  hs_live_t *l = ud;
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    l->kafka_down = true;
  snprintf(l->kafka_err, sizeof l->kafka_err, "%s", reason);
  hs_log(HS_LOG_WARN, "kafka", "%s", reason);
}

static void kafka_log(int level, const char *fac, const char *msg) {
  hs_log(level <= 3   ? HS_LOG_ERROR
         : level <= 4 ? HS_LOG_WARN
         : level <= 6 ? HS_LOG_INFO
                      : HS_LOG_DEBUG,
         "librdkafka", "%s: %s", fac, msg);
}

static void on_kafka_log(void *ud, int level, const char *fac, const char *msg) {
  (void)ud;
  kafka_log(level, fac, msg);
}

/* While Redis is unreachable: says why, when the reason changes and at
 * most every LOG_EVERY_MS otherwise (a wrong password, a refused
 * connection, a timeout are all told apart). */
static void log_unreachable(hs_live_t *l) {
  const char *why = hs_store_last_error(l->store);
  uint64_t now = uv_now(l->loop);
  if (!*why)
    why = "no answer yet";
  bool changed = strcmp(why, l->redis_err) != 0;
  if (!changed && l->redis_err_ms && now - l->redis_err_ms < LOG_EVERY_MS)
    return;
  if (changed && l->redis_err_ms && now - l->redis_err_ms < 1000)
    return; /* several nodes failing in turn: one line a second at most */
  hs_log(HS_LOG_WARN, "redis", "cannot connect: %s; retrying", why);
  snprintf(l->redis_err, sizeof l->redis_err, "%s", why);
  l->redis_err_ms = now;
}

#ifdef __GLIBC__
/* Nothing to do: caught up (nothing buffered, dirty, being written or to
 * resume), no produced message waiting for its acknowledgement, no pass
 * over idle accounts under way. */
static bool idle(const hs_live_t *l) {
  return hs__caught_up(l) && l->out_low == l->out_next && !l->idle_pass;
}
#endif

static void on_tick(uv_timer_t *t) {
  hs_live_t *l = t->data;
  bool up = hs_store_connected(l->store);
  if (up != l->store_up) {
    if (up) {
      hs_log(HS_LOG_INFO, "redis", "connected");
    } else {
      hs_log(HS_LOG_WARN, "redis", "unreachable: %s; consumption pauses",
             hs_store_last_error(l->store));
      snprintf(l->redis_err, sizeof l->redis_err, "%s", hs_store_last_error(l->store));
      l->redis_err_ms = uv_now(l->loop);
    }
    l->store_up = up;
  }
  if (!up) {
    log_unreachable(l);
    snprintf(l->failure, sizeof l->failure, "Redis unreachable: %s",
             *hs_store_last_error(l->store) ? hs_store_last_error(l->store) : "no answer yet");
  } else {
    l->redis_err[0] = 0;
    l->redis_err_ms = 0;
  }
  /* a new connection: Redis may have restarted and lost writes */
  if (up && hs_store_connections(l->store) != l->store_connections)
    hs__want_resync(l, RS_RECONNECT,
                    "a new connection to Redis (a restart or a failover may have lost writes)");
  if (l->retry)
    hs__retry_sends(l);
  if (hs__caught_up(l))
    l->progress_ms = uv_now(l->loop);
  hs__check_stall(l);
  if (revoking(l)) {
    if ((!up || resync_wanted(l)) ||
        uv_now(l->loop) - l->revoke_started > (uint64_t)REVOKE_TIMEOUT_MS) {
      if (up && !resync_wanted(l))
        hs_log(HS_LOG_WARN, "engine",
               "revocation: state not written in time; the next owner "
               "resumes from the last positions in Redis");
      hs__finish_revoke(l);
    }
    return;
  }
  if (stopping(l)) {
    hs__stop_step(l);
    return;
  }
  if (l->n_accounts > (size_t)l->s->max_accounts)
    hs__evict(l);
  /* answers in flight are waited for (a late one is ignored anyway), unless
     the engine stalled: then they may never come */
  if (resync_wanted(l) && up && (l->resync_forced || (!l->committing && !l->pending_pos)))
    hs__resync_now(l);
#ifdef __GLIBC__
  /* give memory freed after a burst (a backlog's fetch buffers and flushes,
     a rebalance) back to the system; malloc keeps it otherwise. Only when
     idle: during a drain, what is returned is faulted back at the next
     fetch or flush (page faults in memmove and malloc) */
  if (idle(l) && uv_now(l->loop) - l->last_trim >= TRIM_INTERVAL_MS) {
    hs__queues_release(l);
    malloc_trim(0);
    l->last_trim = uv_now(l->loop);
    hs__count(l->m_trims, 1);
  }
#endif
}

int hs_live_account_json(hs_live_t *l, hs_str_t id, hs_buf_t *out) {
  acct_t *a = hs__acct_find(l, id.ptr, id.len, hs_hash64(id.ptr, id.len, HS_HASH_SEED));
  if (!a || !a->a || hs_account_clock(a->a) == INT64_MIN)
    return HS_E_INVAL; /* not here, or nothing applied yet */
  return hs_output_account_history_json(l->model, a->a, out);
}

int hs_live_set_model(hs_live_t *l, const hs_model_t *model, hs_err_t *err) {
  /* convert every account first; swap only when all succeeded */
  hs_account_t **conv = hs_calloc(l->n_accounts ? l->n_accounts : 1, sizeof *conv);
  if (!conv)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  size_t i = 0;
  int rc = 0;
  hs_buf_t b;
  hs_buf_init(&b);
  for (acct_t *a = l->lru_head; a && !rc; a = a->lru_next, i++) {
    if (!a->a)
      continue;
    b.len = 0;
    if ((rc = hs_account_encode(l->model, a->a, &b)))
      hs_err_set(err, rc, "out of memory converting the state of account %.*s", (int)a->id_len,
                 a->id);
    else
      rc = hs_account_decode(model, b.data, b.len, &conv[i], err);
  }
  hs_buf_free(&b);
  if (!rc && hs__band_arrays(l, model))
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (rc) {
    for (size_t k = 0; k < l->n_accounts; k++)
      hs_account_free(conv[k]);
    hs_free(conv);
    return rc;
  }
  i = 0;
  for (acct_t *a = l->lru_head; a; a = a->lru_next, i++) {
    a->profile = a->band = -2; /* the band counts start over */
    if (!a->a)
      continue;
    hs_account_free(a->a);
    a->a = conv[i];
  }
  hs_free(conv);
  l->model = model;
  return 0;
}

/* Kafka not answering yet at creation: said at each retry. */
static void on_topics_waiting(void *ud, const char *reason) {
  hs_live_t *l = ud;
  hs_log(HS_LOG_WARN, "kafka", "waiting for Kafka at %s: %s", l->s->bootstrap, reason);
}

/* Reads the partition counts of the input topics; they must agree. */
static int check_topics(hs_live_t *l, hs_err_t *err) {
  int rc =
      hs_kafka_partition_count(hs_consumer_handle(l->consumer), (const char *const *)l->s->topics,
                               l->n_topics, 30000, on_topics_waiting, l, &l->n_partitions, err);
  uv_update_time(l->loop); /* it may have waited */
  return rc;
}

static void on_part_closed(void *ud);
static void on_consumer_closed(void *ud);

static void on_unstarted_freed(void *ud, int status) {
  (void)status;
  *(bool *)ud = true;
}

/* hs_live_new failed: closes what was opened (the consumer, the producer,
 * the store), turning the loop until their handles are closed, and frees
 * the engine. No timer of the engine was started yet. */
static void destroy_unstarted(hs_live_t *l) {
  bool freed = false;
  uv_loop_t *loop = l->loop;
  l->phase = LIVE_CLOSING;
  l->stop_done = on_unstarted_freed;
  l->stop_ud = &freed;
  l->stop_deadline = uv_now(loop); /* nothing waits to be delivered */
  l->open = 3;                     /* producer, store, and the consumer chain itself */
  if (l->consumer)
    hs_consumer_close(l->consumer, on_consumer_closed, l);
  else
    on_consumer_closed(l);
  while (!freed)
    uv_run(loop, UV_RUN_ONCE);
}

static const char *const consumer_defaults[] = {
    "enable.partition.eof", "true",  "statistics.interval.ms", "5000",
    "session.timeout.ms",   "10000", "queued.min.messages",    "100000"};

/* The consumer and the producer, with the engine's librdkafka settings and
 * then the operator's (which win). */
static int open_kafka(hs_live_t *l, hs_err_t *err) {
  const hs_settings_t *s = l->s;
  size_t nc, np;
  const char **settings = hs_settings_consumer_props(
      s, consumer_defaults, sizeof consumer_defaults / sizeof *consumer_defaults / 2, &nc);
  const char **psettings = hs_settings_producer_props(s, &np);
  int rc = 0;
  if (!settings || !psettings)
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (!rc) {
    hs_consumer_conf_t cc = {.bootstrap = s->bootstrap,
                             .group_id = s->group_id,
                             .instance_id = s->instance_id,
                             .topics = (const char *const *)s->topics,
                             .n_topics = s->n_topics,
                             .settings = settings,
                             .n_settings = nc,
                             .manual_assign = true};
    hs_consumer_cbs_t cbs = {.assigned = hs__on_assigned,
                             .revoked = hs__on_revoked,
                             .error = on_kafka_error,
                             .take = hs__on_take,
                             .stats = hs__on_stats,
                             .log = on_kafka_log};
    rc = hs_consumer_new(&l->consumer, l->loop, &cc, &cbs, l, err);
    hs_producer_conf_t pc = {s->bootstrap, psettings, np, kafka_log};
    if (!rc)
      rc = hs_producer_new(&l->producer, l->loop, &pc, hs__on_delivery, l, err);
    /* the output topics learnt now: a producer learning a topic at its first
       message holds every topic's messages meanwhile (alerts behind the first
       dead letter) */
    const char *out_topics[] = {s->alerts_topic, s->deadletter_topic};
    hs_err_t werr = {0};
    if (!rc && hs_producer_warm(l->producer, out_topics, 2, 5000, &werr))
      hs_log(HS_LOG_WARN, "kafka", "%s (learnt at its first message instead)", werr.msg);
  }
  hs_free(settings);
  hs_free(psettings);
  return rc;
}

/* The partition groups and the per-topic, per-partition metric series, once
 * check_topics has counted the partitions. */
static int alloc_groups(hs_live_t *l, hs_err_t *err) {
  l->n_groups = (size_t)l->n_partitions;
  l->groups = hs_calloc(l->n_groups ? l->n_groups : 1, sizeof *l->groups);
  l->ev_series = hs_calloc(l->n_topics * (HS_EV__COUNT + 1), sizeof *l->ev_series);
  l->lag_series = hs_calloc(l->n_topics * l->n_groups + 1, sizeof *l->lag_series);
  l->seen = hs_calloc(2 * l->n_topics * l->n_groups + 1, sizeof *l->seen);
  if (!l->groups || !l->ev_series || !l->lag_series || !l->seen)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  return 0;
}

static int open_store(hs_live_t *l, hs_err_t *err) {
  const hs_settings_t *s = l->s;
  hs_store_conf_t sc = {.nodes = s->redis_nodes,
                        .host = s->redis_host,
                        .port = s->redis_port,
                        .password =
                            s->redis_password && *s->redis_password ? s->redis_password : NULL,
                        .prefix = s->redis_prefix,
                        .timeout_ms = (int)s->redis_timeout_ms,
                        .wait_replicas = s->redis_wait_replicas,
                        .topics = (const char *const *)s->topics,
                        .n_topics = s->n_topics};
  return hs_store_new(&l->store, l->loop, &sc, err);
}

/* The timers and the resume handle: from here on the engine has handles
 * to close. */
static void start_timers(hs_live_t *l) {
  const hs_settings_t *s = l->s;
  uv_timer_t *timers[] = {&l->flush_timer, &l->tick_timer, &l->idle_timer, &l->wait_timer};
  for (size_t i = 0; i < 4; i++) {
    uv_timer_init(l->loop, timers[i]);
    timers[i]->data = l;
  }
  uv_idle_init(l->loop, &l->resume);
  l->resume.data = l;
  l->open = 5;
  uv_timer_start(&l->flush_timer, hs__on_flush_timer, (uint64_t)s->flush_interval_ms,
                 (uint64_t)s->flush_interval_ms);
  uv_timer_start(&l->tick_timer, on_tick, TICK_MS, TICK_MS);
  if (s->idle_interval_ms > 0)
    uv_timer_start(&l->idle_timer, hs__on_idle_timer, (uint64_t)s->idle_interval_ms,
                   (uint64_t)s->idle_interval_ms);
}

static void log_start(const hs_live_t *l) {
  const hs_settings_t *s = l->s;
  char redis[300];
  if (s->redis_nodes && *s->redis_nodes)
    snprintf(redis, sizeof redis, "nodes %s", s->redis_nodes);
  else
    snprintf(redis, sizeof redis, "%s:%d", s->redis_host, s->redis_port);
  hs_log(HS_LOG_INFO, "engine",
         "consuming %zu topics of %d partitions as group %s; Redis %s; flush every %lld ms%s",
         l->n_topics, (int)l->n_partitions, s->group_id, redis, (long long)s->flush_interval_ms,
         s->redis_wait_replicas > 0 ? "; writes wait for replicas" : "");
}

int hs_live_new(hs_live_t **out, uv_loop_t *loop, const hs_settings_t *s, const hs_model_t *model,
                hs_metrics_t *metrics, hs_err_t *err) {
  *out = NULL;
  if (!s->n_topics || s->n_topics > MAX_TOPICS)
    return hs_err_set(err, HS_E_CONFIG, "kafka.topics: 1 to %d input topics", MAX_TOPICS);
  hs_live_t *l = hs_calloc(1, sizeof *l);
  if (!l)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  l->loop = loop;
  l->s = s;
  l->model = model;
  l->n_topics = s->n_topics;
  l->cur_ts = -1;
  hs_buf_init(&l->json);
  hs_buf_init(&l->flushbuf);
  int rc = 0;
  if (hs__accounts_init(l) || hs_decoder_new(&l->dec, 0) || hs_decoder_new(&l->peek, 0) ||
      hs__make_metrics(l, metrics) || hs__band_arrays(l, model))
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (!rc)
    rc = open_kafka(l, err);
  if (!rc)
    rc = check_topics(l, err);
  if (!rc)
    rc = alloc_groups(l, err);
  if (!rc)
    rc = open_store(l, err);
  if (rc) {
    destroy_unstarted(l);
    return rc;
  }
  start_timers(l);
  l->out_max = hs_producer_max_bytes(l->producer);
  l->progress_ms = uv_now(loop);
  log_start(l);
  *out = l;
  return 0;
}

static void free_live(hs_live_t *l) {
  int status = l->stop_status;
  void (*done)(void *, int) = l->stop_done;
  void *ud = l->stop_ud;
  hs__drop_all(l);
  hs_free(l->groups);
  hs__accounts_free(l);
  hs_free(l->out_done);
  hs_free(l->ev_series);
  hs_free(l->lag_series);
  hs_free(l->seen);
  while (l->retry) {
    outmsg_t *o = l->retry;
    l->retry = o->next;
    hs__outmsg_free(o);
  }
  hs_free(l->band_series);
  hs_free(l->band_count);
  hs_decoder_free(l->dec);
  hs_decoder_free(l->peek);
  hs_buf_free(&l->json);
  hs_buf_free(&l->flushbuf);
  hs_free(l);
  if (done)
    done(ud, status);
}

static void on_part_closed(void *ud) {
  hs_live_t *l = ud;
  if (--l->open == 0)
    free_live(l);
}

static void on_timer_closed(uv_handle_t *h) {
  on_part_closed(h->data);
}

static void on_consumer_closed(void *ud) {
  hs_live_t *l = ud;
  l->consumer = NULL;
  /* alerts still queued get up to the remaining time to be delivered */
  uint64_t now = uv_now(l->loop);
  int left = l->stop_deadline > now ? (int)(l->stop_deadline - now) : 0;
  if (l->producer) {
    hs_producer_t *p = l->producer;
    l->producer = NULL;
    size_t pending = hs_producer_pending(p);
    if (pending)
      hs_log(HS_LOG_INFO, "kafka", "delivering %zu pending messages", pending);
    hs_producer_close(p, left > 10000 ? 10000 : left, on_part_closed, l);
  } else {
    on_part_closed(l);
  }
  if (l->store) {
    hs_store_t *s = l->store;
    l->store = NULL;
    hs_store_close(s, on_part_closed, l);
  } else {
    on_part_closed(l);
  }
  on_part_closed(l);
}

/* Shutdown, step by step: wait for the last flush, then leave the group and
 * close everything. Called from the tick timer and after each commit. */
void hs__stop_step(hs_live_t *l) {
  if (l->phase == LIVE_CLOSING)
    return;
  bool expired = uv_now(l->loop) >= l->stop_deadline;
  if (!expired && l->store_up && !resync_wanted(l) && !l->out_lost &&
      (l->committing || l->n_dirty)) {
    hs__flush(l);
    if (l->committing || (l->n_dirty && !resync_wanted(l) && !l->out_lost))
      return;
  }
  if (l->out_lost) {
    hs_log(HS_LOG_ERROR, "engine",
           "stopping with an alert or dead letter undelivered: the state of its input is not "
           "written, it is read again from Kafka at the next start");
    l->stop_status = -1;
  } else if (l->n_dirty || resync_wanted(l) || expired) {
    if (l->n_dirty || l->committing) {
      hs_log(HS_LOG_ERROR, "engine",
             "stopping with %zu accounts not written to Redis; they "
             "are read again from Kafka at the next start",
             l->n_dirty);
      l->stop_status = -1;
    }
  }
  set_phase(l, LIVE_CLOSING);
  hs__drop_all(l); /* releases every message before the consumer goes */
  uv_timer_t *timers[] = {&l->flush_timer, &l->tick_timer, &l->idle_timer, &l->wait_timer};
  for (size_t i = 0; i < 4; i++)
    uv_close((uv_handle_t *)timers[i], on_timer_closed);
  uv_close((uv_handle_t *)&l->resume, on_timer_closed);
  /* parts still to close: 4 timers, the idle handle + consumer chain
     (producer, store, itself) */
  l->open = 5 + 3;
  hs_log(HS_LOG_INFO, "engine", "state written; leaving the consumer group");
  hs_consumer_t *c = l->consumer;
  if (c)
    hs_consumer_close(c, on_consumer_closed, l);
  else
    on_consumer_closed(l);
}

int hs_live_stop(hs_live_t *l, int timeout_ms, void (*done)(void *ud, int status), void *ud) {
  if (stopping(l)) {
    hs_log(HS_LOG_WARN, "engine", "already stopping: a second stop is refused");
    return HS_E_INVAL;
  }
  l->stop_done = done;
  l->stop_ud = ud;
  l->stop_deadline = uv_now(l->loop) + (uint64_t)timeout_ms;
  set_phase(l, LIVE_STOPPING);
  if (l->consumer)
    hs_consumer_pause(l->consumer, true);
  hs_log(HS_LOG_INFO, "engine", "stopping: writing %zu changed accounts to Redis", l->n_dirty);
  hs__stop_step(l);
  return 0;
}
