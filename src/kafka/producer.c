/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Kafka producer driven by a libuv loop. */
#include "healthscore/producer.h"

#include "internal.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hs_producer_s {
  uv_loop_t *loop;
  rd_kafka_t *rk;
  rd_kafka_queue_t *queue;
  int pipe_fds[2];
  uv_poll_t poll;
  uv_timer_t timer;
  int open_handles;
  hs_producer_report_cb report;
  void (*log)(int level, const char *fac, const char *msg);
  void *ud;
  size_t pending;
  void (*closed)(void *ud);
  void *closed_ud;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  hs_producer_t *p = opaque;
  (void)rk;
  p->pending--;
  if (m->err)
    p->report(p->ud, m->_private, HS_E_IO, m->partition, -1, rd_kafka_err2str(m->err));
  else
    p->report(p->ud, m->_private, 0, m->partition, m->offset, NULL);
}

static void serve(hs_producer_t *p) {
  rd_kafka_poll(p->rk, 0);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  hs_producer_t *p = h->data;
  (void)status;
  (void)events;
  char buf[256];
  while (read(p->pipe_fds[0], buf, sizeof buf) > 0)
    ;
  serve(p);
}

static void on_tick(uv_timer_t *t) {
  serve(t->data);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  hs_producer_t *p = rd_kafka_opaque(rk);
  if (p && p->log)
    p->log(level, fac, buf);
}

int hs_producer_new(hs_producer_t **out, uv_loop_t *loop, const hs_producer_conf_t *conf,
                    hs_producer_report_cb report, void *ud, hs_err_t *err) {
  *out = NULL;
  if (!conf->bootstrap || !report)
    return hs_err_set(err, HS_E_INVAL, "kafka: a bootstrap address and a report callback");
  rd_kafka_conf_t *kc = rd_kafka_conf_new();
  int rc = hs__kafka_set(kc, "bootstrap.servers", conf->bootstrap, err);
  if (!rc)
    rc = hs__kafka_set(kc, "enable.idempotence", "true", err);
  if (!rc)
    rc = hs__kafka_set(kc, "partitioner", "murmur2_random", err);
  if (!rc)
    rc = hs__kafka_set(kc, "linger.ms", "5", err);
  for (size_t i = 0; !rc && i + 1 < conf->n_settings * 2; i += 2)
    rc = hs__kafka_set(kc, conf->settings[i], conf->settings[i + 1], err);
  hs_producer_t *p = rc ? NULL : hs_calloc(1, sizeof *p);
  if (!p) {
    rd_kafka_conf_destroy(kc);
    return rc ? rc : hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  p->loop = loop;
  p->report = report;
  p->log = conf->log;
  p->ud = ud;
  rd_kafka_conf_set_opaque(kc, p);
  rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
  if (conf->log)
    rd_kafka_conf_set_log_cb(kc, on_log);
  char errstr[512];
  p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof errstr);
  if (!p->rk || hs__kafka_pipe(p->pipe_fds)) {
    rc = hs_err_set(err, HS_E_CONFIG, "kafka: %s", p->rk ? "cannot create a pipe" : errstr);
    if (p->rk)
      rd_kafka_destroy(p->rk);
    else
      rd_kafka_conf_destroy(kc);
    hs_free(p);
    return rc;
  }
  kc = NULL; /* rd_kafka_new took ownership */
  p->queue = rd_kafka_queue_get_main(p->rk);
  rd_kafka_queue_io_event_enable(p->queue, p->pipe_fds[1], "1", 1);
  uv_poll_init(loop, &p->poll, p->pipe_fds[0]);
  uv_timer_init(loop, &p->timer);
  p->poll.data = p->timer.data = p;
  p->open_handles = 2;
  uv_poll_start(&p->poll, UV_READABLE, on_readable);
  uv_timer_start(&p->timer, on_tick, 100, 100);
  *out = p;
  return 0;
}

int hs_producer_send(hs_producer_t *p, const char *topic, const void *key, size_t key_len,
                     const void *value, size_t len, const hs_producer_header_t *headers,
                     size_t n_headers, void *opaque, hs_err_t *err) {
  rd_kafka_headers_t *hdrs = n_headers ? rd_kafka_headers_new(n_headers) : NULL;
  for (size_t i = 0; i < n_headers; i++)
    rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, (ssize_t)headers[i].len);
  rd_kafka_resp_err_t e = rd_kafka_producev(
      p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
      RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (e) {
    if (hdrs)
      rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
    return hs_err_set(err,
                      e == RD_KAFKA_RESP_ERR__QUEUE_FULL          ? HS_E_TOOBIG
                      : e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? HS_E_RANGE
                                                                  : HS_E_IO,
                      "kafka produce to %s: %s", topic, rd_kafka_err2str(e));
  }
  p->pending++;
  return 0;
}

int hs_producer_warm(hs_producer_t *p, const char *const *topics, size_t n, int timeout_ms,
                     hs_err_t *err) {
  for (size_t i = 0; i < n; i++) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topics[i], NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e =
        rkt ? rd_kafka_metadata(p->rk, 0, rkt, &md, timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
    if (!e && (md->topic_cnt != 1 || md->topics[0].err))
      e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (md)
      rd_kafka_metadata_destroy(md);
    if (rkt)
      rd_kafka_topic_destroy(rkt);
    if (e)
      return hs_err_set(err, HS_E_IO, "kafka: topic %s: %s", topics[i], rd_kafka_err2str(e));
  }
  return 0;
}

bool hs_producer_fit(size_t max_bytes, size_t *key_len, size_t *len, char *what, size_t n) {
  size_t room = max_bytes > 16384 ? max_bytes - 8192 : max_bytes / 2;
  if (*key_len + *len <= room)
    return false;
  size_t key_was = *key_len;
  if (*key_len > room / 2)
    *key_len = 1024;
  if (*key_len + *len > room)
    *len = room - *key_len;
  snprintf(what, n, "value cut to its first %zu bytes%s", *len,
           *key_len < key_was ? ", key to 1024 bytes" : "");
  return true;
}

size_t hs_producer_max_bytes(const hs_producer_t *p) {
  char buf[32];
  size_t n = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", buf, &n) != RD_KAFKA_CONF_OK)
    return 1000000;
  long long v = atoll(buf);
  return v > 0 ? (size_t)v : 1000000;
}

size_t hs_producer_pending(const hs_producer_t *p) {
  return p->pending;
}

static void on_handle_closed(uv_handle_t *h) {
  hs_producer_t *p = h->data;
  if (h == (uv_handle_t *)&p->poll) {
    close(p->pipe_fds[0]);
    close(p->pipe_fds[1]);
  }
  if (--p->open_handles > 0)
    return;
  void (*cb)(void *) = p->closed;
  void *ud = p->closed_ud;
  hs_free(p);
  if (cb)
    cb(ud);
}

void hs_producer_close(hs_producer_t *p, int timeout_ms, void (*closed)(void *ud), void *ud) {
  p->closed = closed;
  p->closed_ud = ud;
  uv_timer_stop(&p->timer);
  uv_poll_stop(&p->poll);
  rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);
  rd_kafka_flush(p->rk, timeout_ms); /* serves the delivery reports here */
  rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(p->rk, 0); /* the purged ones are reported as failed */
  rd_kafka_queue_destroy(p->queue);
  rd_kafka_destroy(p->rk);
  uv_close((uv_handle_t *)&p->poll, on_handle_closed);
  uv_close((uv_handle_t *)&p->timer, on_handle_closed);
}
