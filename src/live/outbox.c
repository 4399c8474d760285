/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The outbox: alerts and dead letters, each kept until Kafka acknowledges
 * it, sent again when sending fails, and numbered so that a flush waits for
 * every message produced before it (commit.c). A dead letter too large for
 * Kafka is cut to fit, with headers saying so. */
#include "internal.h"

void hs__outmsg_free(outmsg_t *o) {
  hs_free(o->topic);
  hs_free(o->key);
  hs_free(o->value);
  hs_free(o);
}

/* Numbers a message in the order of production. */
static void out_track(hs_live_t *l, outmsg_t *o) {
  o->seq = UINT64_MAX;
  if (l->out_next - l->out_low == l->out_cap) {
    size_t cap = l->out_cap ? l->out_cap * 2 : 1024;
    uint8_t *d = hs_calloc(cap, 1);
    if (!d) {
      /* sent, but no flush would wait for it: what covers its input is not
         written; resuming from Redis produces it again */
      hs__nomem_resync(l, "numbering a message to Kafka");
      return;
    }
    for (uint64_t q = l->out_low; q < l->out_next; q++)
      d[q % cap] = l->out_done[q % l->out_cap];
    hs_free(l->out_done);
    l->out_done = d;
    l->out_cap = cap;
  }
  o->seq = l->out_next++;
  l->out_done[o->seq % l->out_cap] = 0;
}

/* A message is delivered (or, while stopping, given up: then nothing more
 * is written to Redis, so that its input is read again at the next start):
 * the flush waiting for it may go. */
static void outmsg_done(hs_live_t *l, outmsg_t *o, bool delivered) {
  if (!delivered && !l->out_lost) {
    l->out_lost = true;
    hs__drop_held(l);
  }
  if (o->seq != UINT64_MAX) {
    l->out_done[o->seq % l->out_cap] = 1;
    while (l->out_low < l->out_next && l->out_done[l->out_low % l->out_cap])
      l->out_done[l->out_low++ % l->out_cap] = 0;
  }
  hs__outmsg_free(o);
  hs__release_held(l);
}

/* Makes a dead letter fit what Kafka takes: its reason and source only,
 * the key cut to 1 KiB at most (the headers say so). */
static void strip_dead_letter(outmsg_t *o) {
  size_t k = o->n_headers; /* where original_size goes, or is already */
  for (size_t i = 0; i < o->n_headers; i++)
    if (!strcmp(o->headers[i].name, "original_size"))
      k = i;
  if (k == o->n_headers) {
    if (k > DL_HEADERS - 2)
      k = DL_HEADERS - 2;
    snprintf(o->hbuf[k], sizeof o->hbuf[k], "%zu", o->len);
  }
  snprintf(o->hbuf[k + 1], sizeof o->hbuf[k + 1], "value left out%s",
           o->key_len > 1024 ? ", key cut to 1024 bytes" : "");
  o->headers[k] = (hs_producer_header_t){"original_size", o->hbuf[k], strlen(o->hbuf[k])};
  o->headers[k + 1] = (hs_producer_header_t){"truncated", o->hbuf[k + 1], strlen(o->hbuf[k + 1])};
  o->n_headers = k + 2;
  o->len = 0;
  if (o->key_len > 1024)
    o->key_len = 1024;
  o->stripped = true;
}

/* A send or a delivery failed: counted, logged (at most every
 * LOG_EVERY_MS), and the message is sent again at the next tick; a dead
 * letter too large for Kafka goes with its reason and source only. */
static void out_failed(hs_live_t *l, outmsg_t *o, int code, const char *reason) {
  hs__count(hs__series1(l->f_delivery, o->topic), 1);
  if (o->dead)
    hs__count(hs__series1(l->f_dead_fail, o->kind), 1);
  bool too_big = code == HS_E_RANGE || (reason && strstr(reason, "too large"));
  if (o->dead && too_big && !o->stripped)
    strip_dead_letter(o);
  snprintf(l->failure, sizeof l->failure, "%s to %s undelivered: %s",
           o->dead ? "a dead letter" : "a message", o->topic, reason);
  char note[64];
  if (rate_ok(l, &l->rl_out))
    hs_log(HS_LOG_WARN, "kafka",
           "%s to %s was not delivered (%s); sending it again%s; positions stay before its "
           "input until it is delivered%s",
           o->dead ? "a dead letter" : "a message", o->topic, reason,
           o->stripped ? " with its reason and source only" : "",
           rate_note(&l->rl_out, note, sizeof note));
  if (stopping(l)) {
    hs_log(HS_LOG_ERROR, "kafka",
           "%s to %s is not delivered: shutting down; its input is read again at the next start",
           o->dead ? "a dead letter" : "a message", o->topic);
    outmsg_done(l, o, false);
    return;
  }
  o->next = l->retry;
  l->retry = o;
}

static void outmsg_send(hs_live_t *l, outmsg_t *o) {
  hs_err_t err = {0};
  int rc = hs_producer_send(l->producer, o->topic, o->key, o->key_len, o->value, o->len, o->headers,
                            o->n_headers, o, &err);
  if (rc)
    out_failed(l, o, rc, err.msg);
}

/* Sends again what failed; called by the tick timer. */
void hs__retry_sends(hs_live_t *l) {
  outmsg_t *list = l->retry;
  l->retry = NULL;
  while (list) {
    outmsg_t *o = list;
    list = o->next;
    o->next = NULL;
    if (l->producer)
      outmsg_send(l, o);
    else
      outmsg_done(l, o, false);
  }
}

/* Queues a copy of the message; failed sends are retried until delivered.
 * The key and value are always present (never null, which a compacted topic
 * would take for a tombstone), even when empty. Out of memory: NULL, and a
 * resync is asked for (the message is produced again). */
outmsg_t *hs__produce(hs_live_t *l, const char *topic, const void *key, size_t key_len,
                      const void *value, size_t len, const char *const *hdr, size_t n_hdr,
                      const char *dead_kind) {
  outmsg_t *o = hs_calloc(1, sizeof *o);
  if (!o) {
    hs__nomem_resync(l, "queueing a message to Kafka");
    return NULL;
  }
  o->topic = hs_strdup(topic);
  o->key = hs_malloc(key_len ? key_len : 1);
  o->value = hs_malloc(len ? len : 1);
  if (!o->topic || !o->key || !o->value) {
    hs__nomem_resync(l, "queueing a message to Kafka");
    hs__outmsg_free(o);
    return NULL;
  }
  if (key_len)
    memcpy(o->key, key, key_len);
  if (len)
    memcpy(o->value, value, len);
  o->key_len = key_len;
  o->len = len;
  for (size_t i = 0; i < n_hdr && i < DL_HEADERS; i++) {
    snprintf(o->hbuf[i], sizeof o->hbuf[i], "%s", hdr[2 * i + 1]);
    o->headers[i] = (hs_producer_header_t){hdr[2 * i], o->hbuf[i], strlen(o->hbuf[i])};
    o->n_headers++;
  }
  if (dead_kind) {
    o->dead = true;
    snprintf(o->kind, sizeof o->kind, "%s", dead_kind);
  }
  o->sent_ns = uv_hrtime();
  out_track(l, o);
  outmsg_send(l, o);
  return o;
}

void hs__on_delivery(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                     const char *reason) {
  hs_live_t *l = ud;
  outmsg_t *o = opaque;
  (void)partition;
  (void)offset;
  if (!status) {
    if (!strcmp(o->topic, l->s->alerts_topic))
      hs_series_observe(l->m_alert_delivery, (double)(uv_hrtime() - o->sent_ns) / 1e9);
    if (o->dead)
      hs__count(hs__series1(l->f_dead, o->kind), 1);
    outmsg_done(l, o, true);
    return;
  }
  out_failed(l, o, status, reason);
}

/* Sends a rejected message to the dead-letter topic with its reason and
 * source. A message larger than the producer takes is cut to fit, with
 * headers saying so and giving its original size. */
void hs__dead_letter(hs_live_t *l, const rd_kafka_message_t *m, const char *reason) {
  char part[24], off[24], size[24], cut[96];
  snprintf(part, sizeof part, "%d", (int)m->partition);
  snprintf(off, sizeof off, "%lld", (long long)m->offset);
  const char *hdr[2 * DL_HEADERS] = {
      "reason",           reason, "source_topic",  rd_kafka_topic_name(m->rkt),
      "source_partition", part,   "source_offset", off};
  size_t n_hdr = 4, key_len = m->key_len, len = m->len;
  if (hs_producer_fit(l->out_max, &key_len, &len, cut, sizeof cut)) {
    snprintf(size, sizeof size, "%zu", m->len);
    hdr[8] = "original_size", hdr[9] = size, hdr[10] = "truncated", hdr[11] = cut;
    n_hdr = 6;
    hs__count(l->m_dead_trunc, 1);
  }
  /* the reason's first words name the kind of problem */
  char kind[48];
  size_t k = 0;
  while (reason[k] && reason[k] != ':' && k + 1 < sizeof kind) {
    kind[k] = reason[k];
    k++;
  }
  kind[k] = 0;
  hs__produce(l, l->s->deadletter_topic, m->key ? m->key : "", key_len,
              m->payload ? m->payload : "", len, hdr, n_hdr, kind);
  hs_log(HS_LOG_DEBUG, "input", "dead-lettered %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
         (int)m->partition, (long long)m->offset, reason);
}
