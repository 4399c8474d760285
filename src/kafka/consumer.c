/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Kafka consumer-group member driven by a libuv loop. */
#include "healthscore/consumer.h"

#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KEEPALIVE_MS 100

struct hs_consumer_s {
  uv_loop_t *loop;
  rd_kafka_t *rk;
  rd_kafka_queue_t *queue;
  int pipe_fds[2];
  uv_poll_t poll;
  uv_timer_t timer;
  int open_handles;
  hs_consumer_cbs_t cbs;
  void *ud;
  bool closing, revoke_pending, manual_assign;
  rd_kafka_topic_partition_list_t *group_parts; /* assigned by the group */
  int in_drain;                                 /* >0 while messages are being handed out */
  bool close_pending; /* close asked for from a callback: done after the drain */
  uint64_t messages;
  void (*closed)(void *ud);
  void *closed_ud;
};

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
  hs_consumer_t *c = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (c->group_parts)
      rd_kafka_topic_partition_list_destroy(c->group_parts);
    c->group_parts = rd_kafka_topic_partition_list_copy(parts);
    if (!c->manual_assign)
      rd_kafka_assign(rk, parts);
    if (c->cbs.assigned)
      c->cbs.assigned(c->ud, parts);
    return;
  }
  if (c->group_parts)
    rd_kafka_topic_partition_list_destroy(c->group_parts);
  c->group_parts = NULL;
  /* revoked (or an error: treated as a loss of every partition) */
  c->revoke_pending = true;
  if (c->cbs.revoked)
    c->cbs.revoked(c->ud, parts);
  else
    hs_consumer_revoke_done(c);
  if (c->closing && c->revoke_pending)
    hs_consumer_revoke_done(c); /* leaving: nothing may wait any longer */
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
  hs_consumer_t *c = opaque;
  (void)rk;
  if (c->cbs.stats)
    c->cbs.stats(c->ud, json, len);
  return 0; /* librdkafka frees json */
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  hs_consumer_t *c = rd_kafka_opaque(rk);
  if (c && c->cbs.log)
    c->cbs.log(c->ud, level, fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  hs_consumer_t *c = opaque;
  (void)rk;
  if (c->cbs.error)
    c->cbs.error(c->ud, err, reason);
}

void hs_consumer_revoke_done(hs_consumer_t *c) {
  if (!c->revoke_pending)
    return;
  c->revoke_pending = false;
  rd_kafka_assign(c->rk, NULL);
}

static void do_close(hs_consumer_t *c);

/* Serves everything librdkafka has queued: messages and callbacks. */
static void drain(hs_consumer_t *c) {
  rd_kafka_message_t *m;
  c->in_drain++;
  while (!c->closing && (m = rd_kafka_consumer_poll(c->rk, 0))) {
    if (!m->err)
      c->messages++;
    if (c->cbs.take) {
      if (!c->cbs.take(c->ud, m))
        rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (c->cbs.message)
        c->cbs.message(c->ud, m);
    }
    rd_kafka_message_destroy(m); /* before any close: librdkafka waits for it */
  }
  c->in_drain--;
  if (c->close_pending && !c->in_drain) {
    c->close_pending = false;
    do_close(c);
  }
}

static void on_readable(uv_poll_t *p, int status, int events) {
  hs_consumer_t *c = p->data;
  (void)status;
  (void)events;
  char buf[256];
  while (read(c->pipe_fds[0], buf, sizeof buf) > 0)
    ;
  drain(c);
}

static void on_keepalive(uv_timer_t *t) {
  drain(t->data);
}

int hs_consumer_new(hs_consumer_t **out, uv_loop_t *loop, const hs_consumer_conf_t *conf,
                    const hs_consumer_cbs_t *cbs, void *ud, hs_err_t *err) {
  *out = NULL;
  if (!conf->bootstrap || !conf->group_id || !conf->n_topics)
    return hs_err_set(err, HS_E_INVAL, "kafka: bootstrap, group id and topics are required");
  rd_kafka_conf_t *kc = rd_kafka_conf_new();
  int rc = hs__kafka_set(kc, "bootstrap.servers", conf->bootstrap, err);
  if (!rc)
    rc = hs__kafka_set(kc, "group.id", conf->group_id, err);
  if (!rc && conf->instance_id && *conf->instance_id)
    rc = hs__kafka_set(kc, "group.instance.id", conf->instance_id, err);
  /* partition N of every co-partitioned input topic goes to one member */
  if (!rc)
    rc = hs__kafka_set(kc, "partition.assignment.strategy", "range", err);
  if (!rc)
    rc = hs__kafka_set(kc, "enable.auto.offset.store", "false", err);
  if (!rc)
    rc = hs__kafka_set(kc, "auto.offset.reset", "earliest", err);
  for (size_t i = 0; !rc && i + 1 < conf->n_settings * 2; i += 2)
    rc = hs__kafka_set(kc, conf->settings[i], conf->settings[i + 1], err);
  hs_consumer_t *c = rc ? NULL : hs_calloc(1, sizeof *c);
  if (!c) {
    rd_kafka_conf_destroy(kc);
    return rc ? rc : hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  c->loop = loop;
  c->manual_assign = conf->manual_assign;
  c->cbs = *cbs;
  c->ud = ud;
  c->pipe_fds[0] = c->pipe_fds[1] = -1;
  rd_kafka_conf_set_opaque(kc, c);
  rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
  rd_kafka_conf_set_error_cb(kc, on_error);
  if (cbs->stats)
    rd_kafka_conf_set_stats_cb(kc, on_stats);
  if (cbs->log)
    rd_kafka_conf_set_log_cb(kc, on_log);
  char errstr[512];
  c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, sizeof errstr);
  if (!c->rk) {
    rd_kafka_conf_destroy(kc);
    hs_free(c);
    return hs_err_set(err, HS_E_CONFIG, "kafka: %s", errstr);
  }
  kc = NULL; /* rd_kafka_new took ownership */
  rd_kafka_poll_set_consumer(c->rk);
  c->queue = rd_kafka_queue_get_consumer(c->rk);
  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)conf->n_topics);
  for (size_t i = 0; i < conf->n_topics; i++)
    rd_kafka_topic_partition_list_add(topics, conf->topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t kerr = rd_kafka_subscribe(c->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (kerr || hs__kafka_pipe(c->pipe_fds)) {
    rc = hs_err_set(err, HS_E_IO, "kafka: %s", kerr ? rd_kafka_err2str(kerr) : strerror(errno));
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_destroy(c->rk);
    hs_free(c);
    return rc;
  }
  rd_kafka_queue_io_event_enable(c->queue, c->pipe_fds[1], "1", 1);
  uv_poll_init(loop, &c->poll, c->pipe_fds[0]);
  uv_timer_init(loop, &c->timer);
  c->poll.data = c->timer.data = c;
  c->open_handles = 2;
  uv_poll_start(&c->poll, UV_READABLE, on_readable);
  uv_timer_start(&c->timer, on_keepalive, KEEPALIVE_MS, KEEPALIVE_MS);
  *out = c;
  return 0;
}

int hs_consumer_store_offset(hs_consumer_t *c, const char *topic, int32_t partition,
                             int64_t next_offset) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, partition)->offset = next_offset;
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
  if (!err && l->elems[0].err)
    err = l->elems[0].err;
  rd_kafka_topic_partition_list_destroy(l);
  return err ? HS_E_INVAL : 0;
}

int hs_consumer_assign(hs_consumer_t *c, const rd_kafka_topic_partition_list_t *parts) {
  return rd_kafka_assign(c->rk, parts) ? HS_E_INVAL : 0;
}

rd_kafka_topic_partition_list_t *hs_consumer_group_assignment(const hs_consumer_t *c) {
  return c->group_parts ? rd_kafka_topic_partition_list_copy(c->group_parts) : NULL;
}

rd_kafka_t *hs_consumer_handle(const hs_consumer_t *c) {
  return c->rk;
}

void hs_consumer_pause_partition(hs_consumer_t *c, const char *topic, int32_t partition,
                                 bool pause) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, partition);
  if (pause)
    rd_kafka_pause_partitions(c->rk, l);
  else
    rd_kafka_resume_partitions(c->rk, l);
  rd_kafka_topic_partition_list_destroy(l);
}

void hs_consumer_pause(hs_consumer_t *c, bool pause) {
  rd_kafka_topic_partition_list_t *parts = NULL;
  if (rd_kafka_assignment(c->rk, &parts) || !parts)
    return;
  if (pause)
    rd_kafka_pause_partitions(c->rk, parts);
  else
    rd_kafka_resume_partitions(c->rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
}

uint64_t hs_consumer_messages(const hs_consumer_t *c) {
  return c->messages;
}

static void on_handle_closed(uv_handle_t *h) {
  hs_consumer_t *c = h->data;
  if (h == (uv_handle_t *)&c->poll) { /* the fd may go only once libuv let go of it */
    close(c->pipe_fds[0]);
    close(c->pipe_fds[1]);
  }
  if (--c->open_handles > 0)
    return;
  if (c->group_parts)
    rd_kafka_topic_partition_list_destroy(c->group_parts);
  void (*cb)(void *) = c->closed;
  void *ud = c->closed_ud;
  hs_free(c);
  if (cb)
    cb(ud);
}

void hs_consumer_close(hs_consumer_t *c, void (*closed)(void *ud), void *ud) {
  c->closing = true;
  c->closed = closed;
  c->closed_ud = ud;
  if (c->in_drain)
    c->close_pending = true; /* called from a callback: finish the drain first */
  else
    do_close(c);
}

static void do_close(hs_consumer_t *c) {
  uv_timer_stop(&c->timer);
  uv_poll_stop(&c->poll);
  rd_kafka_queue_io_event_enable(c->queue, -1, NULL, 0);
  rd_kafka_consumer_close(c->rk); /* leaves the group: revoke, final commit */
  rd_kafka_queue_destroy(c->queue);
  rd_kafka_destroy(c->rk);
  uv_close((uv_handle_t *)&c->poll, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
