/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapper's life: start, readiness, reload of the mapping files on
 * SIGHUP (read off the loop), stop. */
#include "internal.h"

#include "healthscore/log.h"

#include <stdio.h>
#include <string.h>

#define STOP_POLL_MS 20
#define STALL_MS 10000 /* messages in flight and no offset committable this long: not ready */

/* librdkafka settings of the mapper's consumer, before the operator's: a new
 * mapper group starts at the beginning of each source topic. */
static const char *const consumer_defaults[] = {"session.timeout.ms",  "10000",
                                                "auto.offset.reset",   "earliest",
                                                "queued.min.messages", "100000"};

static int make_metrics(hs_mapper_t *mp) {
  hs_metrics_t *m = mp->metrics;
  if (!m)
    return 0;
  static const char *reasons =
      "the source's messages: truncated_header, magic_byte, unknown_schema, schema, decode, "
      "trailing_bytes, too_big, malformed, mapping, unmatched";
  mp->f_messages =
      hs_metrics_family(m, HS_COUNTER, "healthscore_source_messages_total",
                        "Source messages mapped (done with), by source", "source", NULL, 0);
  mp->f_events =
      hs_metrics_family(m, HS_COUNTER, "healthscore_source_events_total",
                        "Engine events mapped from source messages and produced to the input "
                        "topic",
                        "source", NULL, 0);
  mp->f_no_event = hs_metrics_family(m, HS_COUNTER, "healthscore_source_no_event_total",
                                     "Source messages a rule without emit matched (it may have "
                                     "learned aliases)",
                                     "source", NULL, 0);
  mp->f_unmatched = hs_metrics_family(m, HS_COUNTER, "healthscore_source_unmatched_total",
                                      "Source messages no rule matched (skipped, or dead-lettered "
                                      "with on_unmatched: deadletter)",
                                      "source", NULL, 0);
  mp->f_produce_failed =
      hs_metrics_family(m, HS_COUNTER, "healthscore_source_produce_failures_total",
                        "Mapped events and dead letters whose delivery failed (sent again; the "
                        "source's offsets wait for them)",
                        "source", NULL, 0);
  mp->f_paused = hs_metrics_family(m, HS_GAUGE, "healthscore_source_paused",
                                   "Partitions of the source paused: their next message waits "
                                   "for the schema registry, the alias store or the producer",
                                   "source", NULL, 0);
  mp->f_nomem = hs_metrics_family(m, HS_COUNTER, "healthscore_source_out_of_memory_total",
                                  "Allocation failures while framing, mapping or producing a "
                                  "source message (the message is kept and tried again)",
                                  "source", NULL, 0);
  char help[300];
  snprintf(help, sizeof help, "Dead letters of %s", reasons);
  mp->f_rejects = hs_metrics_family(m, HS_COUNTER, "healthscore_source_rejects_total", help,
                                    "source,reason", NULL, 0);
  hs_family_t *f =
      hs_metrics_family(m, HS_COUNTER, "healthscore_source_reloads_total",
                        "Mapping file reloads on SIGHUP, by result", "result", NULL, 0);
  const char *ok[] = {"ok"}, *bad[] = {"error"};
  mp->m_reload_ok = f ? hs_family_series(f, ok) : NULL;
  mp->m_reload_failed = f ? hs_family_series(f, bad) : NULL;
  return mp->f_messages && mp->f_events && mp->f_no_event && mp->f_unmatched &&
                 mp->f_produce_failed && mp->f_paused && mp->f_rejects && mp->f_nomem &&
                 mp->m_reload_ok && mp->m_reload_failed
             ? 0
             : HS_E_NOMEM;
}

static void close_sources(hs_mapper_t *mp) {
  for (size_t i = 0; i < mp->n_sources; i++) {
    source_t *src = &mp->sources[i];
    for (size_t k = 0; k < src->n_parts; k++)
      if (src->parts[k]) {
        hs_free(src->parts[k]->ring);
        hs_free(src->parts[k]);
      }
    hs_free(src->parts);
    hs__source_close(src);
  }
  hs_free(mp->sources);
  mp->sources = NULL;
  mp->n_sources = 0;
}

int hs_mapper_check(const hs_settings_t *s, hs_err_t *err) {
  uv_loop_t loop;
  if (uv_loop_init(&loop))
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  hs_mapper_t mp = {.loop = &loop, .s = s};
  source_t src;
  int rc = 0;
  for (size_t i = 0; !rc && i < s->n_sources; i++) {
    rc = hs__source_open(&mp, &src, &s->sources[i], true, err);
    if (!rc)
      hs__source_close(&src);
  }
  uv_run(&loop, UV_RUN_DEFAULT); /* the registries' handles close */
  uv_loop_close(&loop);
  return rc;
}

static void on_abandoned(void *ud, int status) {
  (void)status;
  *(bool *)ud = true;
}

/* hs_mapper_new failed: closes what was opened (no consumer was made yet;
 * the producer, the handles), turning the loop until everything is freed,
 * so that the caller has nothing to stop. Returns rc. */
static int abandon(hs_mapper_t *mp, int rc) {
  bool freed = false;
  uv_loop_t *loop = mp->loop;
  hs_mapper_stop(mp, 0, on_abandoned, &freed);
  while (!freed)
    uv_run(loop, UV_RUN_ONCE);
  return rc;
}

int hs_mapper_new(hs_mapper_t **out, uv_loop_t *loop, const hs_settings_t *s, hs_metrics_t *metrics,
                  hs_err_t *err) {
  *out = NULL;
  if (!s->n_sources || !s->n_topics)
    return hs_err_set(err, HS_E_CONFIG, "the mapper needs sources and kafka.topics");
  hs_mapper_t *mp = hs_calloc(1, sizeof *mp);
  if (!mp)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  mp->loop = loop;
  mp->s = s;
  mp->metrics = metrics;
  hs_buf_init(&mp->out);
  uv_timer_init(loop, &mp->retry_timer);
  uv_timer_init(loop, &mp->stop_timer);
  uv_prepare_init(loop, &mp->turn);
  uv_idle_init(loop, &mp->backlog);
  mp->retry_timer.data = mp->stop_timer.data = mp->turn.data = mp->backlog.data = mp;
  mp->open_handles = 4;
  int rc = 0;
  if (make_metrics(mp) || hs_doc_parser_new(&mp->parser, 0) ||
      hs_doc_parser_new(&mp->event_parser, 0) ||
      hs_doc_path_new("account_id", &mp->account_path, err) ||
      !(mp->sources = hs_calloc(s->n_sources, sizeof *mp->sources))) {
    hs_err_set(err, HS_E_NOMEM, "out of memory");
    return abandon(mp, HS_E_NOMEM);
  }
  for (size_t i = 0; !rc && i < s->n_sources; i++) {
    rc = hs__source_open(mp, &mp->sources[i], &s->sources[i], false, err);
    if (!rc)
      mp->n_sources++;
  }
  if (!rc)
    rc = hs__alias_redis_new(s, &mp->aliases, err);
  for (size_t i = 0; !rc && i < mp->n_sources; i++) {
    hs_alias_store_t st;
    if (!(rc = hs__alias_redis_for(&mp->aliases, mp->sources[i].name, &st)))
      hs_mapping_set_alias_store(mp->sources[i].mapping, &st);
    mp->sources[i].aliases = st;
  }
  if (rc)
    return abandon(mp, rc == HS_E_NOMEM ? hs_err_set(err, rc, "out of memory") : rc);
  size_t nc, np;
  const char **cset = hs_settings_consumer_props(
      s, consumer_defaults, sizeof consumer_defaults / sizeof *consumer_defaults / 2, &nc);
  const char **pset = hs_settings_producer_props(s, &np);
  const char **topics = hs_calloc(mp->n_sources, sizeof *topics);
  char group[300];
  hs_mapper_group_id(s, group, sizeof group);
  if (!cset || !pset || !topics) {
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  } else {
    for (size_t i = 0; i < mp->n_sources; i++)
      topics[i] = mp->sources[i].conf->topic;
    hs_producer_conf_t pc = {s->bootstrap, pset, np, hs__mapper_producer_log};
    rc = hs_producer_new(&mp->producer, loop, &pc, hs__mapper_delivery, mp, err);
    hs_consumer_conf_t cc = {.bootstrap = s->bootstrap,
                             .group_id = group,
                             .topics = topics,
                             .n_topics = mp->n_sources,
                             .settings = cset,
                             .n_settings = nc};
    hs_consumer_cbs_t cbs = {.take = hs__mapper_take,
                             .assigned = hs__mapper_assigned,
                             .revoked = hs__mapper_revoked,
                             .error = hs__mapper_kafka_error,
                             .log = hs__mapper_kafka_log};
    if (!rc)
      rc = hs_consumer_new(&mp->consumer, loop, &cc, &cbs, mp, err);
  }
  hs_free(cset);
  hs_free(pset);
  hs_free(topics);
  if (rc)
    return abandon(mp, rc);
  mp->out_max = hs_producer_max_bytes(mp->producer);
  mp->progress_ms = uv_now(loop);
  uv_timer_start(&mp->retry_timer, hs__mapper_retry, RETRY_MS, RETRY_MS);
  uv_prepare_start(&mp->turn, hs__mapper_turn);
  for (size_t i = 0; i < mp->n_sources; i++)
    hs_log(HS_LOG_INFO, "mapper", "source %s: topic %s, format %s, mapping %s, events to %s",
           mp->sources[i].name, mp->sources[i].conf->topic, mp->sources[i].conf->format,
           mp->sources[i].conf->mapping, mp->sources[i].to);
  hs_log(HS_LOG_INFO, "mapper", "consumer group %s", group);
  *out = mp;
  return 0;
}

bool hs_mapper_ready(const hs_mapper_t *mp, char *why, size_t n) {
  if (!mp || mp->stopping)
    return snprintf(why, n, "the mapper is stopping"), false;
  for (size_t i = 0; i < mp->n_sources; i++) {
    const source_t *src = &mp->sources[i];
    const char *reason;
    if (src->registry && !hs_registry_available(src->registry, &reason))
      return snprintf(why, n, "source %s: %s", src->name, reason), false;
    for (size_t k = 0; k < src->n_parts; k++) {
      const part_t *p = src->parts[k];
      if (p && p->paused)
        return snprintf(why, n, "source %s paused (partition %d): %s", src->name, (int)p->partition,
                        src->wait_reason),
               false;
      if (p && p->rewind >= 0)
        return snprintf(why, n,
                        "source %s (partition %d): reading offset %lld again (out of memory "
                        "keeping it)",
                        src->name, (int)p->partition, (long long)p->rewind),
               false;
    }
  }
  uint64_t now = uv_now(mp->loop);
  if (mp->produce_failed_at && now - mp->produce_failed_at < STALL_MS)
    return snprintf(why, n, "%s", mp->produce_error), false;
  size_t pending = mp->producer ? hs_producer_pending(mp->producer) : 0;
  if (pending && now - mp->progress_ms > STALL_MS)
    return snprintf(why, n,
                    "mapper: no durable progress for %llu s (%zu mapped messages waiting for "
                    "Kafka to acknowledge them)",
                    (unsigned long long)((now - mp->progress_ms) / 1000), pending),
           false;
  return true;
}

static void finish(hs_mapper_t *mp);

/* ---- reload --------------------------------------------------------------- */

typedef struct reload_s {
  uv_work_t req;
  hs_mapper_t *mp;
  hs_mapping_t **maps;
  size_t n;
  hs_err_t err;
  int rc;
} reload_t;

static void reload_work(uv_work_t *req) {
  reload_t *r = req->data;
  for (size_t i = 0; !r->rc && i < r->n; i++) {
    hs_err_t e = {0};
    r->rc = hs_mapping_load_file(r->mp->sources[i].conf->mapping, &r->maps[i], &e);
    if (r->rc)
      hs_err_set(&r->err, r->rc, "source %s: %s", r->mp->sources[i].name, e.msg);
  }
}

static void reload_done(uv_work_t *req, int status) {
  reload_t *r = req->data;
  hs_mapper_t *mp = r->mp;
  mp->reloading = false;
  if (status)
    r->rc = hs_err_set(&r->err, HS_E_IO, "%s", uv_strerror(status));
  if (mp->stopping) {
    r->rc = r->rc ? r->rc : HS_E_IO;
    snprintf(r->err.msg, sizeof r->err.msg, "the mapper is stopping");
  }
  for (size_t i = 0; i < r->n; i++) {
    if (!r->rc) {
      hs_mapping_set_alias_store(r->maps[i], &mp->sources[i].aliases);
      hs_mapping_free(mp->sources[i].mapping);
      mp->sources[i].mapping = r->maps[i];
    } else {
      hs_mapping_free(r->maps[i]);
    }
  }
  if (r->rc) {
    hs_series_add(mp->m_reload_failed, 1);
    hs_log(HS_LOG_ERROR, "config", "reload of the mapping files refused, the running ones stay: %s",
           r->err.msg);
  } else {
    hs_series_add(mp->m_reload_ok, 1);
    hs_log(HS_LOG_INFO, "config", "mapping files and their lookup tables reloaded (%zu sources)",
           r->n);
  }
  hs_free(r->maps);
  hs_free(r);
  if (mp->reload_again && !mp->stopping) {
    mp->reload_again = false;
    hs_mapper_reload(mp);
  }
  finish(mp); /* the reload held the mapper open: a stop waits for it */
}

void hs_mapper_reload(hs_mapper_t *mp) {
  if (!mp || mp->stopping)
    return;
  if (mp->reloading) {
    mp->reload_again = true;
    return;
  }
  reload_t *r = hs_calloc(1, sizeof *r);
  hs_mapping_t **maps = hs_calloc(mp->n_sources, sizeof *maps);
  if (!r || !maps ||
      (r->req.data = r, r->mp = mp, r->maps = maps, r->n = mp->n_sources,
       uv_queue_work(mp->loop, &r->req, reload_work, reload_done))) {
    hs_free(r);
    hs_free(maps);
    hs_series_add(mp->m_reload_failed, 1);
    hs_log(HS_LOG_ERROR, "config", "reload of the mapping files refused: out of memory");
    return;
  }
  mp->reloading = true;
  mp->open_handles++;
}

/* ---- stop ----------------------------------------------------------------- */

static void finish(hs_mapper_t *mp) {
  if (--mp->open_handles > 0)
    return;
  close_sources(mp);
  hs__alias_redis_free(&mp->aliases);
  hs_doc_parser_free(mp->parser);
  hs_doc_parser_free(mp->event_parser);
  hs_doc_path_free(mp->account_path);
  hs_buf_free(&mp->out);
  void (*done)(void *, int) = mp->done;
  void *ud = mp->done_ud;
  int status = mp->failed_stop;
  hs_free(mp);
  hs_log(HS_LOG_INFO, "mapper", "stopped");
  if (done)
    done(ud, status);
}

static void on_handle_closed(uv_handle_t *h) {
  finish(h->data);
}

static void on_producer_closed(void *ud) {
  finish(ud);
}

static void on_consumer_closed(void *ud) {
  hs_mapper_t *mp = ud;
  mp->consumer = NULL;
  if (mp->producer) {
    size_t left = hs_producer_pending(mp->producer);
    mp->failed_stop |= left > 0;
    hs_producer_close(mp->producer, 1000, on_producer_closed, mp);
  } else {
    finish(mp);
  }
}

static void close_consumer(hs_mapper_t *mp) {
  uv_timer_stop(&mp->stop_timer);
  uv_close((uv_handle_t *)&mp->stop_timer, on_handle_closed);
  uv_close((uv_handle_t *)&mp->retry_timer, on_handle_closed);
  uv_close((uv_handle_t *)&mp->turn, on_handle_closed);
  uv_close((uv_handle_t *)&mp->backlog, on_handle_closed);
  hs__mapper_drop_all(mp);
  if (mp->consumer)
    hs_consumer_close(mp->consumer, on_consumer_closed, mp);
  else
    on_consumer_closed(mp);
}

static void on_stop_timer(uv_timer_t *t) {
  hs_mapper_t *mp = t->data;
  size_t left = mp->producer ? hs_producer_pending(mp->producer) : 0;
  if (left && uv_now(mp->loop) < mp->stop_deadline)
    return;
  if (left)
    hs_log(HS_LOG_WARN, "mapper",
           "%zu messages still unacknowledged at the stop deadline: their source offsets are "
           "not committed, the next start maps them again",
           left);
  close_consumer(mp);
}

void hs_mapper_stop(hs_mapper_t *mp, int timeout_ms, void (*done)(void *ud, int status), void *ud) {
  mp->done = done;
  mp->done_ud = ud;
  if (mp->stopping)
    return;
  mp->stopping = true;
  mp->open_handles++; /* the producer, or its absence */
  if (mp->consumer)
    hs_consumer_pause(mp->consumer, true);
  mp->stop_deadline = uv_now(mp->loop) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
  uv_timer_start(&mp->stop_timer, on_stop_timer, 0, STOP_POLL_MS);
}
