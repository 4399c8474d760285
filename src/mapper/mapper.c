/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapper role (healthscore/mapper.h): a consumer-group member of its own
 * on the source topics, one idempotent producer for the mapped events and
 * the dead letters, and per source partition the offsets in flight, so that
 * an offset is stored for commit only once everything produced from it and
 * from the messages before it is acknowledged. */
#include "internal.h"

#include "healthscore/log.h"

#include <stdio.h>
#include <string.h>

#define MAX_OUT_HEADERS 6

/* A message produced: what its acknowledgement releases, and a copy to send
 * again when its delivery fails. */
typedef struct out_s {
  struct out_s *next; /* on the retry list */
  part_t *p;
  uint32_t gen;
  uint64_t seq;
  const char *topic;
  char *key, *value;
  size_t key_len, len, n_h;
  hs_producer_header_t h[MAX_OUT_HEADERS];
} out_t;

void hs_mapper_group_id(const hs_settings_t *s, char *out, size_t n) {
  snprintf(out, n, "%s.mapper", s->group_id);
}

/* ---- offsets in flight ---------------------------------------------------- */

static int track(part_t *p, int64_t offset, uint64_t *seq) {
  if (p->tail - p->head == p->cap) {
    uint64_t cap = p->cap ? p->cap * 2 : 64;
    inflight_t *r = hs_malloc(cap * sizeof *r);
    if (!r)
      return HS_E_NOMEM;
    for (uint64_t s = p->head; s < p->tail; s++)
      r[s & (cap - 1)] = p->ring[s & (p->cap - 1)];
    hs_free(p->ring);
    p->ring = r;
    p->cap = cap;
  }
  p->ring[p->tail & (p->cap - 1)] = (inflight_t){offset, 1};
  *seq = p->tail++;
  return 0;
}

/* One output of `seq` acknowledged (or the mapping of it finished): the
 * offsets whose outputs are all acknowledged, in order, are stored. */
static void release(hs_mapper_t *mp, part_t *p, uint64_t seq) {
  if (seq < p->head || seq >= p->tail)
    return;
  p->ring[seq & (p->cap - 1)].left--;
  int64_t last = -1;
  while (p->head < p->tail && !p->ring[p->head & (p->cap - 1)].left)
    last = p->ring[p->head++ & (p->cap - 1)].offset;
  if (last >= 0 && p->assigned && mp->consumer) {
    hs_consumer_store_offset(mp->consumer, p->src->conf->topic, p->partition, last + 1);
    mp->progress_ms = uv_now(mp->loop);
  }
}

/* ---- producing ------------------------------------------------------------ */

int hs__mapper_produce(hs_mapper_t *mp, part_t *p, uint64_t seq, const char *topic, const void *key,
                       size_t key_len, const void *value, size_t len, const hs_producer_header_t *h,
                       size_t n_h, hs_err_t *err) {
  size_t hlen = 0;
  for (size_t i = 0; i < n_h && i < MAX_OUT_HEADERS; i++)
    hlen += h[i].len + 1;
  out_t *o = hs_calloc(1, sizeof *o + key_len + len + hlen + 2);
  if (!o)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  char *w = (char *)(o + 1);
  *o = (out_t){.p = p, .gen = p->gen, .seq = seq, .topic = topic, .key_len = key_len, .len = len};
  o->key = w;
  memcpy(w, key, key_len);
  w += key_len + 1;
  o->value = w;
  memcpy(w, value, len);
  w += len + 1;
  for (size_t i = 0; i < n_h && i < MAX_OUT_HEADERS; i++) {
    memcpy(w, h[i].value, h[i].len);
    o->h[o->n_h++] = (hs_producer_header_t){h[i].name, w, h[i].len};
    w += h[i].len + 1;
  }
  int rc =
      hs_producer_send(mp->producer, topic, o->key, key_len, o->value, len, o->h, o->n_h, o, err);
  if (rc) {
    hs_free(o);
    return rc;
  }
  p->ring[seq & (p->cap - 1)].left++;
  return 0;
}

void hs__mapper_delivery(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                         const char *reason) {
  hs_mapper_t *mp = ud;
  out_t *o = opaque;
  (void)partition;
  (void)offset;
  if (!status || o->gen != o->p->gen || mp->stopping) {
    if (!status && o->gen == o->p->gen)
      release(mp, o->p, o->seq);
    hs_free(o);
    return;
  }
  /* librdkafka's retries ran out: the offset stays uncommitted until it is
     delivered, so it is sent again */
  if (o->p->src->m_produce_failed)
    hs_series_add(o->p->src->m_produce_failed, 1);
  if (!mp->produce_failed_at)
    hs_log(HS_LOG_WARN, "mapper",
           "source %s: a message to %s could not be delivered (%s); sending it again, the "
           "source's offsets wait for it",
           o->p->src->name, o->topic, reason);
  mp->produce_failed_at = uv_now(mp->loop);
  snprintf(mp->produce_error, sizeof mp->produce_error, "source %s: delivery to %s failed: %s",
           o->p->src->name, o->topic, reason);
  o->next = mp->retry_list;
  mp->retry_list = o;
}

static void send_retries(hs_mapper_t *mp) {
  out_t *l = mp->retry_list;
  mp->retry_list = NULL;
  while (l) {
    out_t *o = l;
    l = l->next;
    hs_err_t err = {0};
    if (o->gen != o->p->gen || mp->stopping) {
      hs_free(o);
    } else if (hs_producer_send(mp->producer, o->topic, o->key, o->key_len, o->value, o->len, o->h,
                                o->n_h, o, &err)) {
      o->next = mp->retry_list;
      mp->retry_list = o;
    }
  }
}

/* ---- partitions ----------------------------------------------------------- */

static source_t *source_of(hs_mapper_t *mp, const char *topic) {
  for (size_t i = 0; i < mp->n_sources; i++)
    if (!strcmp(mp->sources[i].conf->topic, topic))
      return &mp->sources[i];
  return NULL;
}

static part_t *part_of(source_t *src, int32_t partition) {
  if (partition < 0 || partition > 100000)
    return NULL;
  if ((size_t)partition >= src->n_parts) {
    size_t n = (size_t)partition + 1;
    part_t **a = hs_realloc(src->parts, n * sizeof *a);
    if (!a)
      return NULL;
    memset(a + src->n_parts, 0, (n - src->n_parts) * sizeof *a);
    src->parts = a;
    src->n_parts = n;
  }
  part_t *p = src->parts[partition];
  if (!p && (p = src->parts[partition] = hs_calloc(1, sizeof *p))) {
    p->src = src;
    p->partition = partition;
    p->next_offset = p->rewind = -1;
  }
  return p;
}

/* A schema being fetched pauses a partition for a round trip: not worth a
 * warning. A registry that is down, a store that fails, a full queue are:
 * logged once per pause, when first seen. */
static void log_pause(part_t *p, int64_t at) {
  const char *why;
  bool fetch = p->src->registry && hs_registry_available(p->src->registry, &why) &&
               strstr(p->src->wait_reason, "being fetched");
  if (p->warned || (fetch && p->logged))
    return;
  p->warned = !fetch;
  p->logged = true;
  hs_log(fetch ? HS_LOG_DEBUG : HS_LOG_WARN, "mapper",
         "source %s: partition %d paused at offset %lld: %s", p->src->name, (int)p->partition,
         (long long)at, p->src->wait_reason);
}

/* librdkafka fetches a partition unless it is paused (a failure) or
 * throttled (a backlog). */
static void apply_fetch(part_t *p) {
  bool want = p->paused || p->throttled;
  if (p->fetch_paused == want)
    return;
  p->fetch_paused = want;
  hs_consumer_pause_partition(p->src->mp->consumer, p->src->conf->topic, p->partition, want);
}

static int64_t paused_at(const part_t *p) {
  return p->held ? p->held->m->offset : p->rewind;
}

static void set_paused(part_t *p, bool pause) {
  if (p->paused == pause)
    return;
  p->paused = pause;
  apply_fetch(p);
  if (p->src->m_paused)
    hs_series_add(p->src->m_paused, pause ? 1 : -1);
  if (pause) {
    log_pause(p, paused_at(p));
    return;
  }
  hs_log(p->warned ? HS_LOG_INFO : HS_LOG_DEBUG, "mapper", "source %s: partition %d resumed",
         p->src->name, (int)p->partition);
  p->warned = p->logged = false;
}

static void drop_held(part_t *p) {
  while (p->held) {
    held_t *h = p->held;
    p->held = h->next;
    rd_kafka_message_destroy(h->m);
    hs_free(h);
  }
  p->held_tail = NULL;
  p->n_held = 0;
  p->throttled = false;
}

/* Maps one message; MSG_HOLD when it must wait (nothing of it was sent). */
static msg_result_t run(hs_mapper_t *mp, part_t *p, const rd_kafka_message_t *m) {
  uint64_t seq;
  mp->mapped_turn++;
  if (track(p, m->offset, &seq))
    return hs__source_nomem(p->src, "tracking an offset");
  msg_result_t r = hs__source_message(p->src, p, seq, m);
  if (r == MSG_HOLD) {
    p->tail--; /* nothing was produced from it */
    return r;
  }
  if (p->src->m_messages)
    hs_series_add(p->src->m_messages, 1);
  release(mp, p, seq);
  return r;
}

/* Maps the held messages of `p`, in order, within this turn's budget. */
static void drain(hs_mapper_t *mp, part_t *p) {
  while (p->held && !mp->stopping && mp->mapped_turn < TURN_BUDGET) {
    held_t *h = p->held;
    if (run(mp, p, h->m) == MSG_HOLD) {
      if (p->paused)
        log_pause(p, paused_at(p));
      else
        set_paused(p, true);
      return;
    }
    p->held = h->next;
    if (!p->held)
      p->held_tail = NULL;
    p->n_held--;
    rd_kafka_message_destroy(h->m);
    hs_free(h);
  }
  if (mp->stopping)
    return;
  if (!p->held && p->rewind < 0) /* else the retry timer fetches from p->rewind */
    set_paused(p, false);
  if (p->throttled && p->n_held < HELD_MAX / 2) {
    p->throttled = false;
    apply_fetch(p);
  }
}

/* A message that could not be kept (out of memory) is read again: its
 * partition pauses, nothing after it is mapped, and the retry timer fetches
 * from its offset again. Its offset and the ones after it are never stored
 * before it is mapped. */
static void read_again(part_t *p, const rd_kafka_message_t *m) {
  hs__source_nomem(p->src, "keeping a message");
  if (p->rewind < 0 || m->offset < p->rewind)
    p->rewind = m->offset;
  p->next_offset = p->rewind;
  hs_log(HS_LOG_ERROR, "mapper",
         "source %s: partition %d: out of memory keeping the message at offset %lld; it is read "
         "again, nothing after it is mapped before it",
         p->src->name, (int)p->partition, (long long)p->rewind);
  if (p->paused)
    log_pause(p, paused_at(p));
  else
    set_paused(p, true);
}

/* The retry timer: a partition to read again from p->rewind resumes and
 * seeks there (after the resume, so that the seek wins). */
static void fetch_again(hs_mapper_t *mp, part_t *p) {
  if (p->held || !mp->consumer)
    return; /* the held messages come first */
  set_paused(p, false);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  if (!l)
    return;
  rd_kafka_topic_partition_list_add(l, p->src->conf->topic, p->partition)->offset = p->rewind;
  rd_kafka_error_t *e = rd_kafka_seek_partitions(hs_consumer_handle(mp->consumer), l, 0);
  /* asynchronous (timeout 0): "in progress" is its success */
  rd_kafka_resp_err_t pe = l->elems[0].err;
  bool failed = e || (pe && pe != RD_KAFKA_RESP_ERR__IN_PROGRESS);
  if (failed && !p->seek_failed)
    hs_log(HS_LOG_ERROR, "mapper", "source %s: partition %d: seeking offset %lld: %s", p->src->name,
           (int)p->partition, (long long)p->rewind,
           e ? rd_kafka_error_string(e) : rd_kafka_err2str(pe));
  p->seek_failed = failed; /* the next retry seeks again */
  if (e)
    rd_kafka_error_destroy(e);
  rd_kafka_topic_partition_list_destroy(l);
}

/* Drains every partition holding messages; `backlog_only`: those not paused
 * for a failure (the retry timer tries those). Returns true when messages
 * still wait for their turn. */
static bool drain_all(hs_mapper_t *mp, bool backlog_only) {
  bool left = false;
  for (size_t i = 0; i < mp->n_sources; i++)
    for (size_t k = 0; k < mp->sources[i].n_parts; k++) {
      part_t *p = mp->sources[i].parts[k];
      if (p && p->held && !(backlog_only && p->paused))
        drain(mp, p);
      if (p && !backlog_only && p->rewind >= 0 && (p->paused || p->seek_failed))
        fetch_again(mp, p);
      left |= p && p->held && !p->paused;
    }
  return left;
}

static void backlog_on(hs_mapper_t *mp) {
  if (!mp->backlog_on && !mp->stopping) {
    mp->backlog_on = true;
    uv_idle_start(&mp->backlog, hs__mapper_backlog);
  }
}

void hs__mapper_turn(uv_prepare_t *h) {
  hs_mapper_t *mp = h->data;
  mp->mapped_turn = 0;
}

void hs__mapper_backlog(uv_idle_t *h) {
  hs_mapper_t *mp = h->data;
  if (!drain_all(mp, true) || mp->stopping) {
    mp->backlog_on = false;
    uv_idle_stop(&mp->backlog);
  }
}

void hs__mapper_on_resolve(void *arg, uint32_t id) {
  source_t *src = arg;
  (void)id;
  if (src->mp->consumer && drain_all(src->mp, false))
    backlog_on(src->mp);
}

void hs__mapper_retry(uv_timer_t *t) {
  hs_mapper_t *mp = t->data;
  send_retries(mp);
  if (drain_all(mp, false))
    backlog_on(mp);
}

bool hs__mapper_take(void *ud, rd_kafka_message_t *m) {
  hs_mapper_t *mp = ud;
  if (m->err) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      hs_log(HS_LOG_WARN, "mapper", "source topic %s [%d]: %s",
             m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
             rd_kafka_message_errstr(m));
    return false;
  }
  source_t *src = source_of(mp, rd_kafka_topic_name(m->rkt));
  part_t *p = src ? part_of(src, m->partition) : NULL;
  if (!p) { /* out of memory: a partition not assigned never stores offsets */
    if (src)
      hs__source_nomem(src, "recording a partition");
    return false;
  }
  if (mp->stopping || m->offset < p->next_offset) /* fetched again after a pause */
    return false;
  if (p->rewind >= 0 && (m->offset != p->rewind || p->paused))
    return false; /* fetched before the seek back to the message not kept */
  p->rewind = -1;
  p->seek_failed = false;
  p->next_offset = m->offset + 1;
  bool turn = !p->held && mp->mapped_turn < TURN_BUDGET; /* its turn now */
  if (turn && run(mp, p, m) == MSG_DONE)
    return false;
  held_t *h = hs_calloc(1, sizeof *h);
  if (!h) {
    read_again(p, m);
    return false;
  }
  h->m = m;
  if (p->held_tail)
    p->held_tail->next = h;
  else
    p->held = h;
  p->held_tail = h;
  p->n_held++;
  if (turn) { /* it could not be mapped: a failure, the partition pauses */
    set_paused(p, true);
  } else if (!p->paused) { /* its turn comes */
    backlog_on(mp);
    if (p->n_held >= HELD_MAX && !p->throttled) {
      p->throttled = true;
      apply_fetch(p);
    }
  }
  return true;
}

void hs__mapper_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_mapper_t *mp = ud;
  for (int i = 0; i < parts->cnt; i++) {
    source_t *src = source_of(mp, parts->elems[i].topic);
    part_t *p = src ? part_of(src, parts->elems[i].partition) : NULL;
    if (!p && src) { /* its offsets are not stored: read again after a restart */
      hs__source_nomem(src, "recording a partition");
      hs_log(HS_LOG_ERROR, "mapper",
             "source %s: partition %d: out of memory recording the assignment; its offsets are "
             "not committed until it is assigned again",
             src->name, (int)parts->elems[i].partition);
    }
    if (p) {
      p->assigned = true;
      p->seek_failed = false;
      p->next_offset = p->rewind = -1;
      p->fetch_paused = false; /* a new assignment fetches */
    }
  }
  hs_log(HS_LOG_INFO, "mapper", "%d source partitions assigned", parts->cnt);
}

void hs__mapper_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_mapper_t *mp = ud;
  for (int i = 0; i < parts->cnt; i++) {
    source_t *src = source_of(mp, parts->elems[i].topic);
    part_t *p = src ? part_of(src, parts->elems[i].partition) : NULL;
    if (!p)
      continue;
    /* what is in flight is mapped again by the next owner; the engine drops
       the events it already applied */
    p->assigned = false;
    p->gen++;
    p->head = p->tail = 0;
    p->rewind = -1;
    p->seek_failed = false;
    drop_held(p);
    set_paused(p, false);
  }
  hs_consumer_revoke_done(mp->consumer);
}

void hs__mapper_kafka_error(void *ud, int code, const char *reason) {
  (void)ud;
  hs_log(HS_LOG_WARN, "mapper", "kafka: %s (%d)", reason, code);
}

void hs__mapper_kafka_log(void *ud, int level, const char *fac, const char *msg) {
  (void)ud;
  hs_log(level <= 3   ? HS_LOG_ERROR
         : level <= 4 ? HS_LOG_WARN
                      : HS_LOG_DEBUG,
         "mapper", "librdkafka %s: %s", fac, msg);
}

void hs__mapper_producer_log(int level, const char *fac, const char *msg) {
  hs__mapper_kafka_log(NULL, level, fac, msg);
}

void hs__mapper_drop_all(hs_mapper_t *mp) {
  for (size_t i = 0; i < mp->n_sources; i++)
    for (size_t k = 0; k < mp->sources[i].n_parts; k++)
      if (mp->sources[i].parts[k])
        drop_held(mp->sources[i].parts[k]);
  while (mp->retry_list) {
    out_t *o = mp->retry_list;
    mp->retry_list = o->next;
    hs_free(o);
  }
}
