/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine. Data flow, all on the loop thread:
 *
 *   consumer --take--> group queues --merge by event time--> apply --> accounts (dirty)
 *                          |                                   |            |
 *                 first sight: GET state              alerts/dead letters   | flush timer
 *                                                           producer        v
 *                                              Redis commit script (states + positions)
 *                                                      ok: Kafka offsets stored
 *                                                      failed/fenced: resync
 *
 * Ownership: the engine owns every account, every message it took from the
 * consumer (released once applied or dropped), and the requests in flight
 * to Redis, which carry the epoch they were made in: a resync bumps the
 * epoch and late answers are ignored. */
#include "healthscore/live.h"

#include "healthscore/codec.h"
#include "healthscore/consumer.h"
#include "healthscore/log.h"
#include "healthscore/output.h"
#include "healthscore/producer.h"
#include "healthscore/store.h"

#include <librdkafka/rdkafka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define QUEUE_PAUSE 4096       /* messages buffered per partition before it pauses */
#define QUEUE_RESUME 1024      /* ... and resumes */
#define TICK_MS 50             /* housekeeping: readiness, reconnects, revocation */
#define TRIM_INTERVAL_MS 10000 /* freed memory is returned to the system this often */
#define REVOKE_TIMEOUT_MS 10000
#define MAX_TOPICS 16
#define FLUSHBUF_KEEP (8u << 20) /* flush buffer capacity kept for the next flush */
/* Work done in one turn of the loop, in account-days evaluated (an event
 * applied counts one, plus the days it makes its account catch up): beyond
 * it, applying and the idle pass go on in the next turn, so that the loop
 * keeps serving /healthz and Kafka whatever the input's timestamps. One
 * account never costs more than the core's catch-up bound (3,660 days). */
#define TURN_BUDGET 16384
#define LOG_EVERY_MS 10000              /* a repeated failure is logged at most this often */
#define STALL_MIN_MS 10000              /* no durable progress this long (at least): not ready */
#define STALL_FLUSHES 20                /* ... or this many flush intervals */
#define DL_HEADERS HS_ALERT_MAX_HEADERS /* dead letters use 6 */

/* Why the engine dropped its memory and resumed from Redis. */
enum { RS_READ, RS_FLUSH, RS_FENCED, RS_RECONNECT, RS_UNREACHABLE, RS_NOMEM, RS__COUNT };
static const char *const resync_causes[RS__COUNT] = {
    "read_failed", "flush_failed", "fenced", "reconnected", "unreachable", "out_of_memory"};

enum { G_LOADING, G_ACTIVE, G_REVOKING };

typedef struct entry_s {
  rd_kafka_message_t *m;
  int64_t ts;          /* event time; INT64_MIN when rejected */
  uint64_t arrived;    /* loop time of arrival */
  uint64_t arrived_ns; /* uv_hrtime() of arrival */
  struct acct_s *acc;  /* the account, once known */
} entry_t;

typedef struct tp_s {
  entry_t *q; /* ring */
  size_t head, len, cap;
  int64_t next;      /* offset of the next message expected from Kafka */
  int64_t applied;   /* offset after the last message applied: the position */
  int64_t committed; /* the position Redis holds (-1: none) */
  bool eof, paused;
} tp_t;

typedef struct group_s {
  int32_t partition;
  int state;
  tp_t tp[MAX_TOPICS];
  bool waiting_timer; /* an event waits for max_idle */
} group_t;

typedef struct day_s {
  int32_t day;
  double score;
} day_t;

typedef struct acct_s {
  struct acct_s *next_hash, *lru_prev, *lru_next;
  hs_account_t *a; /* NULL while loading */
  uint64_t hash;
  int32_t partition;
  bool loading, dirty;
  uint32_t refs;       /* queued messages that point at it */
  uint64_t commit_seq; /* the last commit that wrote it */
  /* the input its state holds: the next offset of each input topic in
     partition cover_part (-1: none known), as read from Redis or written */
  int64_t *cover; /* n_topics, in the same allocation */
  int32_t cover_part;
  /* daily scores not yet written: days that ended, and the current day */
  struct day_s *days;
  uint32_t n_days, cap_days;
  int32_t cur_day; /* INT32_MIN: none */
  double cur_score;
  int16_t profile, band;
  uint32_t id_len;
  char id[];
} acct_t;

/* A kind of log line repeated in a loop: written at most every
 * LOG_EVERY_MS, with the number left out since. */
typedef struct ratelimit_s {
  uint64_t at;
  unsigned skipped;
} ratelimit_t;

/* a message queued to the producer, kept until delivered */
typedef struct outmsg_s {
  struct outmsg_s *next; /* in the list of messages to send again */
  char *topic;
  size_t key_len, len, n_headers;
  char *key, *value; /* never NULL: an empty key or value is sent as present */
  hs_producer_header_t headers[DL_HEADERS];
  char hbuf[DL_HEADERS][512];
  uint64_t sent_ns; /* uv_hrtime() of the first send */
  uint64_t seq;     /* order of production; UINT64_MAX: not tracked */
  bool dead;        /* a dead letter */
  bool stripped;    /* a dead letter sent with its reason and source only */
  char kind[48];    /* a dead letter's kind of reason, for the metrics */
} outmsg_t;

typedef struct req_s {
  hs_live_t *live;
  uint64_t epoch;
  int32_t partition;
} req_t;

struct hs_live_s {
  uv_loop_t *loop;
  const hs_settings_t *s;
  const hs_model_t *model;
  hs_consumer_t *consumer;
  hs_producer_t *producer;
  hs_store_t *store;
  hs_decoder_t *dec, *peek;
  uv_timer_t flush_timer, tick_timer, idle_timer, wait_timer;
  uv_idle_t resume; /* work left for the next turn of the loop */
  int open;
  /* input */
  size_t n_topics;
  int32_t n_partitions;
  group_t **groups; /* by partition number; NULL when not assigned */
  size_t n_groups;
  /* accounts */
  acct_t **buckets;
  size_t n_buckets, n_accounts, n_dirty;
  acct_t *lru_head, *lru_tail; /* most recently used first */
  acct_t **dirty;
  size_t dirty_len, dirty_cap;
  /* Redis */
  uint64_t epoch, commit_seq, done_seq, store_connections;
  struct commit_s *held; /* a flush built and waiting for deliveries */
  /* messages produced (alerts, dead letters) and not yet delivered: a ring
     of flags for seq in [out_low, out_next); below out_low all are done */
  uint64_t out_next, out_low;
  uint8_t *out_done;
  size_t out_cap;
  bool committing, resync, store_up;
  uint64_t last_trim; /* loop time of the last malloc_trim */
  int pending_pos;
  /* state of the run */
  bool stopping, kafka_down, revoking, stop_flushed;
  acct_t *cur;    /* the account being evaluated */
  int64_t cur_ts; /* Kafka timestamp of the message being applied; -1: none */
  uint64_t revoke_started;
  hs_buf_t json, flushbuf;
  /* the work of one turn of the loop (TURN_BUDGET) */
  int64_t budget;
  uint64_t budget_at, turn_work, turn_work_max;
  bool idle_pass;    /* an idle pass is under way, continued turn by turn */
  acct_t *idle_next; /* the next account it looks at */
  /* per partition and topic: offsets after the last message applied, then
     after the last taken, by this process (seen_at, taken_at) */
  int64_t *seen;
  /* durable progress: the last flush acknowledged, or nothing to do */
  uint64_t progress_ms;
  char failure[256]; /* the last reason progress failed */
  int resync_cause;
  char resync_why[256];
  char redis_err[192]; /* the connection failure last logged */
  uint64_t redis_err_ms;
  char kafka_err[256];
  ratelimit_t rl_flush, rl_resume, rl_resync, rl_out;
  /* produced messages whose sending failed, sent again at the next tick */
  outmsg_t *retry;
  bool out_lost; /* a message was given up (stopping): nothing more is written */
  size_t out_max;
  /* stop */
  void (*stop_done)(void *ud, int status);
  void *stop_ud;
  int stop_status;
  uint64_t stop_deadline;
  /* metrics */
  hs_family_t *f_events, *f_dead, *f_dead_fail, *f_alerts, *f_lag, *f_bands, *f_delivery,
      *f_resyncs;
  hs_series_t *m_reapplied, *m_dead_trunc, *m_turn_max, *m_deferrals;
  hs_series_t *m_engine_delay, *m_alert_delivery;
  hs_series_t *m_applied, *m_dups, *m_dup_ids, *m_late, *m_ignored, *m_latency, *m_flush_s,
      *m_flush_n, *m_flush_fail, *m_fenced, *m_accounts, *m_dirty, *m_parts, *m_loads, *m_evicted,
      *m_redis_up, *m_ready, *m_redis_cmds, *m_redis_bytes, *m_buffered, *m_covered, *m_refused,
      *m_moved, *m_asked, *m_retries, *m_noscript, *m_wait_short, *m_masters, *m_rebalances;
  hs_series_t **ev_series; /* [topic][type + 1]: type 0 is "invalid" */
  hs_series_t **lag_series;
  hs_series_t **band_series; /* [profile][band + 1] */
  int64_t *band_count;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t wall_ms(void) {
  uv_timeval64_t t;
  uv_gettimeofday(&t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_usec / 1000;
}

static int topic_index(const hs_live_t *l, const char *name) {
  for (size_t i = 0; i < l->n_topics; i++)
    if (!strcmp(l->s->topics[i], name))
      return (int)i;
  return -1;
}

static hs_series_t *series1(hs_family_t *f, const char *v) {
  const char *vals[] = {v};
  return hs_family_series(f, vals);
}

static hs_series_t *series2(hs_family_t *f, const char *a, const char *b) {
  const char *vals[] = {a, b};
  return hs_family_series(f, vals);
}

static void add(hs_series_t *s, double v) {
  if (s)
    hs_series_add(s, v);
}

/* True when a line limited by `r` may be written now; otherwise it is
 * counted in r->skipped (the next line written says how many). */
static bool rate_ok(const hs_live_t *l, ratelimit_t *r) {
  uint64_t now = uv_now(l->loop);
  if (r->at && now - r->at < LOG_EVERY_MS) {
    r->skipped++;
    return false;
  }
  r->at = now ? now : 1;
  return true;
}

/* " (N more since the last such line)" when lines were left out, else "";
 * resets the count. */
static const char *rate_note(ratelimit_t *r, char *buf, size_t n) {
  buf[0] = 0;
  if (r->skipped)
    snprintf(buf, n, " (%u more since the last such line)", r->skipped);
  r->skipped = 0;
  return buf;
}

/* ---- accounts ---------------------------------------------------------- */

static acct_t *acct_find(hs_live_t *l, const char *id, size_t len, uint64_t h) {
  for (acct_t *a = l->buckets[h & (l->n_buckets - 1)]; a; a = a->next_hash)
    if (a->hash == h && a->id_len == len && !memcmp(a->id, id, len))
      return a;
  return NULL;
}

static void lru_unlink(hs_live_t *l, acct_t *a) {
  if (!a->lru_prev && !a->lru_next && l->lru_head != a)
    return; /* not in the list */
  /* the idle pass goes on after it */
  if (l->idle_next == a)
    l->idle_next = a->lru_next;
  if (a->lru_prev)
    a->lru_prev->lru_next = a->lru_next;
  else
    l->lru_head = a->lru_next;
  if (a->lru_next)
    a->lru_next->lru_prev = a->lru_prev;
  else
    l->lru_tail = a->lru_prev;
  a->lru_prev = a->lru_next = NULL;
}

static void lru_touch(hs_live_t *l, acct_t *a) {
  if (l->lru_head == a)
    return;
  lru_unlink(l, a);
  a->lru_next = l->lru_head;
  if (l->lru_head)
    l->lru_head->lru_prev = a;
  l->lru_head = a;
  if (!l->lru_tail)
    l->lru_tail = a;
}

static int grow_buckets(hs_live_t *l) {
  size_t n = l->n_buckets * 2;
  acct_t **b = hs_calloc(n, sizeof *b);
  if (!b)
    return HS_E_NOMEM;
  for (size_t i = 0; i < l->n_buckets; i++)
    for (acct_t *a = l->buckets[i], *next; a; a = next) {
      next = a->next_hash;
      a->next_hash = b[a->hash & (n - 1)];
      b[a->hash & (n - 1)] = a;
    }
  hs_free(l->buckets);
  l->buckets = b;
  l->n_buckets = n;
  return 0;
}

static acct_t *acct_add(hs_live_t *l, const char *id, size_t len, uint64_t h, int32_t partition) {
  if (l->n_accounts >= l->n_buckets && grow_buckets(l))
    return NULL;
  size_t cover_at = (sizeof(acct_t) + len + 1 + 7) & ~(size_t)7;
  acct_t *a = hs_calloc(1, cover_at + l->n_topics * sizeof(int64_t));
  if (!a)
    return NULL;
  a->cover = (int64_t *)(void *)((char *)a + cover_at);
  a->cover_part = -1;
  memcpy(a->id, id, len);
  a->id_len = (uint32_t)len;
  a->hash = h;
  a->partition = partition;
  a->cur_day = INT32_MIN;
  a->profile = a->band = -2;
  a->next_hash = l->buckets[h & (l->n_buckets - 1)];
  l->buckets[h & (l->n_buckets - 1)] = a;
  l->n_accounts++;
  lru_touch(l, a);
  return a;
}

static void band_move(hs_live_t *l, acct_t *a, int profile, int band) {
  if (a->profile == profile && a->band == band)
    return;
  size_t nb = hs_model_n_bands(l->model) + 1;
  if (a->profile >= 0 && (size_t)a->profile < hs_model_n_profiles(l->model))
    l->band_count[(size_t)a->profile * nb + (size_t)(a->band + 1)]--;
  a->profile = (int16_t)profile;
  a->band = (int16_t)band;
  if (profile >= 0)
    l->band_count[(size_t)profile * nb + (size_t)(band + 1)]++;
}

static void acct_free(hs_live_t *l, acct_t *a) {
  band_move(l, a, -2, -2);
  hs_free(a->days);
  hs_account_free(a->a);
  hs_free(a);
}

static void acct_remove(hs_live_t *l, acct_t *a) {
  acct_t **pp = &l->buckets[a->hash & (l->n_buckets - 1)];
  while (*pp != a)
    pp = &(*pp)->next_hash;
  *pp = a->next_hash;
  lru_unlink(l, a);
  l->n_accounts--;
  if (a->dirty)
    l->n_dirty--;
  acct_free(l, a);
}

static void mark_dirty(hs_live_t *l, acct_t *a) {
  if (a->dirty)
    return;
  if (l->dirty_len == l->dirty_cap) {
    size_t cap = l->dirty_cap ? l->dirty_cap * 2 : 1024;
    acct_t **d = hs_realloc(l->dirty, cap * sizeof *d);
    if (!d)
      return; /* stays clean in the list's eyes; flushed with the next growth */
    l->dirty = d;
    l->dirty_cap = cap;
  }
  l->dirty[l->dirty_len++] = a;
  a->dirty = true;
  l->n_dirty++;
}

/* ---- partition groups --------------------------------------------------- */

static void queue_clear(hs_live_t *l, tp_t *tp) {
  (void)l;
  for (size_t i = 0; i < tp->len; i++)
    rd_kafka_message_destroy(tp->q[(tp->head + i) % tp->cap].m);
  tp->head = tp->len = 0;
}

static int queue_push(tp_t *tp, const entry_t *e) {
  if (tp->len == tp->cap) {
    size_t cap = tp->cap ? tp->cap * 2 : 64;
    entry_t *q = hs_malloc(cap * sizeof *q);
    if (!q)
      return HS_E_NOMEM;
    for (size_t i = 0; i < tp->len; i++)
      q[i] = tp->q[(tp->head + i) % tp->cap];
    hs_free(tp->q);
    tp->q = q;
    tp->cap = cap;
    tp->head = 0;
  }
  tp->q[(tp->head + tp->len++) % tp->cap] = *e;
  return 0;
}

static void group_free(hs_live_t *l, group_t *g) {
  for (size_t t = 0; t < l->n_topics; t++) {
    queue_clear(l, &g->tp[t]);
    hs_free(g->tp[t].q);
  }
  hs_free(g);
}

static void drop_held(hs_live_t *l);

/* Drops every account, queued message and group: what a resync or a
 * revocation starts from. */
static void drop_all(hs_live_t *l) {
  l->epoch++;
  drop_held(l);
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p]) {
      group_free(l, l->groups[p]);
      l->groups[p] = NULL;
    }
  for (size_t i = 0; i < l->n_buckets; i++) {
    for (acct_t *a = l->buckets[i], *next; a; a = next) {
      next = a->next_hash;
      acct_free(l, a);
    }
    l->buckets[i] = NULL;
  }
  l->n_accounts = l->n_dirty = l->dirty_len = 0;
  l->lru_head = l->lru_tail = NULL;
  l->idle_next = NULL;
  l->idle_pass = false;
  l->committing = false;
  l->pending_pos = 0;
}

/* Asks for a resync (done by the tick timer, outside any callback chain):
 * what is held can no longer be trusted to match Redis. Fetching stops at
 * once, so nothing is read only to be dropped. `cause` (RS_*) and the
 * reason go to the metrics, the log and /readyz. */
static void want_resync(hs_live_t *l, int cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void want_resync(hs_live_t *l, int cause, const char *fmt, ...) {
  if (!l->resync) {
    if (l->consumer)
      hs_consumer_pause(l->consumer, true);
    l->resync_cause = cause;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->resync_why, sizeof l->resync_why, fmt, ap);
    va_end(ap);
    if (cause != RS_RECONNECT)
      snprintf(l->failure, sizeof l->failure, "%s", l->resync_why);
  }
  l->resync = true;
  drop_held(l); /* a flush waiting for deliveries is not sent any more */
}

/* ---- output: alerts and dead letters ----------------------------------- */

static void outmsg_free(outmsg_t *o) {
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
      hs_log(HS_LOG_ERROR, "engine", "out of memory: a message is not waited for by flushes");
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

static void release_held(hs_live_t *l);

/* A message is delivered (or, while stopping, given up: then nothing more
 * is written to Redis, so that its input is read again at the next start):
 * the flush waiting for it may go. */
static void outmsg_done(hs_live_t *l, outmsg_t *o, bool delivered) {
  if (!delivered && !l->out_lost) {
    l->out_lost = true;
    drop_held(l);
  }
  if (o->seq != UINT64_MAX) {
    l->out_done[o->seq % l->out_cap] = 1;
    while (l->out_low < l->out_next && l->out_done[l->out_low % l->out_cap])
      l->out_done[l->out_low++ % l->out_cap] = 0;
  }
  outmsg_free(o);
  release_held(l);
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
  add(series1(l->f_delivery, o->topic), 1);
  if (o->dead)
    add(series1(l->f_dead_fail, o->kind), 1);
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
  if (l->stopping) {
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
static void retry_sends(hs_live_t *l) {
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
 * would take for a tombstone), even when empty. */
static outmsg_t *produce(hs_live_t *l, const char *topic, const void *key, size_t key_len,
                         const void *value, size_t len, const char *const *hdr, size_t n_hdr,
                         const char *dead_kind) {
  outmsg_t *o = hs_calloc(1, sizeof *o);
  if (!o) {
    hs_log(HS_LOG_ERROR, "kafka", "a message to %s is lost: out of memory", topic);
    return NULL;
  }
  o->topic = hs_strdup(topic);
  o->key = hs_malloc(key_len ? key_len : 1);
  o->value = hs_malloc(len ? len : 1);
  if (!o->topic || !o->key || !o->value) {
    hs_log(HS_LOG_ERROR, "kafka", "a message to %s is lost: out of memory", topic);
    outmsg_free(o);
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

static void on_delivery(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                        const char *reason) {
  hs_live_t *l = ud;
  outmsg_t *o = opaque;
  (void)partition;
  (void)offset;
  if (!status) {
    if (!strcmp(o->topic, l->s->alerts_topic))
      hs_series_observe(l->m_alert_delivery, (double)(uv_hrtime() - o->sent_ns) / 1e9);
    if (o->dead)
      add(series1(l->f_dead, o->kind), 1);
    outmsg_done(l, o, true);
    return;
  }
  out_failed(l, o, status, reason);
}

/* Sends a rejected message to the dead-letter topic with its reason and
 * source. A message larger than the producer takes is cut to fit, with
 * headers saying so and giving its original size. */
static void dead_letter(hs_live_t *l, const rd_kafka_message_t *m, const char *reason) {
  char part[24], off[24], size[24], cut[96];
  snprintf(part, sizeof part, "%d", (int)m->partition);
  snprintf(off, sizeof off, "%lld", (long long)m->offset);
  const char *hdr[2 * DL_HEADERS] = {
      "reason",           reason, "source_topic",  rd_kafka_topic_name(m->rkt),
      "source_partition", part,   "source_offset", off};
  size_t n_hdr = 4, key_len = m->key_len, len = m->len;
  /* room for the key and value: what the producer takes, less the headers
     (each at most 512 bytes) and the record's own overhead */
  size_t room = l->out_max > 16384 ? l->out_max - 8192 : l->out_max / 2;
  if (key_len + len > room) {
    if (key_len > room / 2)
      key_len = 1024;
    len = key_len + len > room ? room - key_len : len;
    snprintf(size, sizeof size, "%zu", m->len);
    snprintf(cut, sizeof cut, "value cut to its first %zu bytes%s", len,
             key_len < m->key_len ? ", key to 1024 bytes" : "");
    hdr[8] = "original_size", hdr[9] = size, hdr[10] = "truncated", hdr[11] = cut;
    n_hdr = 6;
    add(l->m_dead_trunc, 1);
  }
  /* the reason's first words name the kind of problem */
  char kind[48];
  size_t k = 0;
  while (reason[k] && reason[k] != ':' && k + 1 < sizeof kind) {
    kind[k] = reason[k];
    k++;
  }
  kind[k] = 0;
  produce(l, l->s->deadletter_topic, m->key ? m->key : "", key_len, m->payload ? m->payload : "",
          len, hdr, n_hdr, kind);
  hs_log(HS_LOG_DEBUG, "input", "dead-lettered %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
         (int)m->partition, (long long)m->offset, reason);
}

/* ---- applying events ---------------------------------------------------- */

static void on_eval(void *ud, const hs_account_t *acct, const hs_eval_t *ev) {
  hs_live_t *l = ud;
  (void)acct;
  acct_t *a = l->cur;
  if (a) {
    band_move(l, a, ev->score.profile, ev->score.has_score ? ev->score.band : -1);
    /* the daily history: a day's score is its last evaluation's */
    int32_t day = hs_day_of(ev->at_ms);
    if (a->cur_day != INT32_MIN && day > a->cur_day && !isnan(a->cur_score)) {
      if (a->n_days == a->cap_days) {
        uint32_t cap = a->cap_days ? a->cap_days * 2 : 8;
        day_t *d = hs_realloc(a->days, cap * sizeof *d);
        if (d) {
          a->days = d;
          a->cap_days = cap;
        }
      }
      if (a->n_days < a->cap_days)
        a->days[a->n_days++] = (day_t){a->cur_day, a->cur_score};
    }
    if (a->cur_day == INT32_MIN || day >= a->cur_day) {
      a->cur_day = day;
      a->cur_score = ev->score.has_score ? ev->score.score : NAN;
    }
  }
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    const hs_alert_t *al = &ev->alerts[i];
    l->json.len = 0;
    /* CloudEvents attributes, and the triggering message's Kafka timestamp
       for end-to-end latency */
    hs_alert_envelope_t env = {strcmp(l->s->alerts_format, "structured") ? HS_ALERT_BINARY
                                                                         : HS_ALERT_STRUCTURED,
                               l->s->alerts_source, l->s->group_id};
    hs_alert_headers_t h;
    if (hs_output_alert_message(l->model, ev, al, (int64_t)wall_ms(), &env, l->cur_ts, &l->json,
                                &h))
      continue;
    produce(l, l->s->alerts_topic, ev->account_id.ptr, ev->account_id.len, l->json.data,
            l->json.len, h.hdr, h.n, NULL);
    add(series2(l->f_alerts, hs_model_rule_id(l->model, al->rule),
                al->state == HS_ALERT_FIRING ? "firing" : "resolved"),
        1);
  }
}

static hs_series_t *event_series(hs_live_t *l, int topic, int type) {
  hs_series_t **s = &l->ev_series[(size_t)topic * (HS_EV__COUNT + 1) + (size_t)type];
  if (!*s)
    *s = series2(l->f_events, l->s->topics[topic],
                 type ? hs_event_type_name((hs_event_type_t)type) : "invalid");
  return *s;
}

/* The partition an account id belongs to (murmur2, as Java clients). */
static int32_t home_partition(const hs_live_t *l, const void *key, size_t len) {
  return rd_kafka_msg_partitioner_murmur2(NULL, key, len, l->n_partitions, NULL, NULL);
}

/* Decodes and checks a message; returns 0 and the event, or writes the
 * reason for dead-lettering. */
static int check_event(hs_live_t *l, hs_decoder_t *d, const rd_kafka_message_t *m, hs_event_t *ev,
                       char *why, size_t n) {
  hs_err_t err = {0};
  int rc = hs_event_decode(d, m->payload, m->len, HS_FMT_AUTO, ev, &err);
  if (rc == HS_E_UNKNOWN)
    return snprintf(why, n, "unknown event type: \"%.*s\"", (int)ev->type_name.len,
                    ev->type_name.ptr),
           -1;
  if (rc)
    return snprintf(why, n, "invalid event: %s", err.msg), -1;
  if (!m->key || m->key_len != ev->account_id.len || memcmp(m->key, ev->account_id.ptr, m->key_len))
    return snprintf(why, n, "wrong key: the message key must be the account id \"%.*s\"",
                    (int)ev->account_id.len, ev->account_id.ptr),
           -1;
  if (home_partition(l, m->key, m->key_len) != m->partition)
    return snprintf(why, n,
                    "wrong partition: account \"%.*s\" belongs to partition %d (murmur2), not %d",
                    (int)ev->account_id.len, ev->account_id.ptr,
                    (int)home_partition(l, m->key, m->key_len), (int)m->partition),
           -1;
  if (hs_event_check_time(ev->ts_ms, (int64_t)wall_ms(), l->s->min_event_time, l->s->max_future_ms,
                          why, n))
    return -1; /* "implausible timestamp: ..." or "future timestamp: ..." */
  return 0;
}

static void load_account(hs_live_t *l, acct_t *a);

/* True when this turn of the loop may do more work; otherwise the work
 * left is picked up at the next turn (on_resume). */
static void on_resume(uv_idle_t *h);

static bool budget_left(hs_live_t *l) {
  if (uv_now(l->loop) != l->budget_at) { /* a new turn */
    l->budget_at = uv_now(l->loop);
    l->budget = TURN_BUDGET;
    l->turn_work = 0;
  }
  if (l->budget > 0)
    return true;
  if (!uv_is_active((uv_handle_t *)&l->resume)) {
    uv_idle_start(&l->resume, on_resume);
    add(l->m_deferrals, 1);
  }
  return false;
}

/* Counts work done in this turn: `days` account-days evaluated. */
static void budget_spend(hs_live_t *l, int64_t days) {
  l->budget -= days;
  l->turn_work += (uint64_t)days;
  if (l->turn_work > l->turn_work_max)
    l->turn_work_max = l->turn_work;
}

/* The account-days an account's clock moved from `before` to `after`. */
static int64_t days_moved(int64_t before, int64_t after) {
  if (before == INT64_MIN || after <= before)
    return 0;
  int64_t d = (int64_t)hs_day_of(after) - (int64_t)hs_day_of(before);
  return d > 3660 ? 3660 : d;
}

/* The offset after the last message of a topic partition this process
 * applied (or skipped), and (taken_at) after the last one it took in. */
static int64_t *seen_at(hs_live_t *l, int32_t partition, int t) {
  return &l->seen[(size_t)partition * l->n_topics + (size_t)t];
}

static int64_t *taken_at(hs_live_t *l, int32_t partition, int t) {
  return &l->seen[((size_t)l->n_partitions + (size_t)partition) * l->n_topics + (size_t)t];
}

/* Applies the entry at the head of `tp`. Returns false when it must wait
 * (its account is being read from Redis). */
static bool apply_entry(hs_live_t *l, group_t *g, int t, entry_t *e) {
  const rd_kafka_message_t *m = e->m;
  if (e->ts == INT64_MIN)
    return true; /* rejected, and dead-lettered, on arrival */
  if (e->acc && e->acc->loading)
    return false;
  hs_event_t ev;
  hs_err_t err = {0};
  if (hs_event_decode(l->dec, m->payload, m->len, HS_FMT_AUTO, &ev, &err)) {
    dead_letter(l, m, err.msg); /* decoded on arrival: cannot happen */
    return true;
  }
  /* read again after a resync: counted apart, as a re-application */
  bool again = m->offset < *seen_at(l, g->partition, t);
  if (!again)
    add(event_series(l, t, ev.type), 1);
  acct_t *a = e->acc;
  if (!a) { /* no memory for it on arrival: try again */
    uint64_t h = hs_hash64(ev.account_id.ptr, ev.account_id.len, HS_HASH_SEED);
    a = acct_find(l, ev.account_id.ptr, ev.account_id.len, h);
    if (!a && !(a = acct_add(l, ev.account_id.ptr, ev.account_id.len, h, g->partition)))
      return false;
    e->acc = a;
    a->refs++;
  }
  if (!a->a) {
    load_account(l, a); /* its answer resumes the group */
    return false;
  }
  lru_touch(l, a);
  if (a->cover_part == g->partition && m->offset < a->cover[t]) {
    /* its stored state holds this event already (written before a crash,
       or by the member that had the partition before) */
    add(l->m_covered, 1);
    return true;
  }
  rd_kafka_timestamp_type_t tt;
  int64_t produced = rd_kafka_message_timestamp(m, &tt);
  l->cur = a;
  l->cur_ts = produced;
  int64_t before = hs_account_clock(a->a);
  int rc = hs_account_apply(l->model, a->a, &ev, on_eval, l);
  budget_spend(l, 1 + days_moved(before, hs_account_clock(a->a)));
  l->cur = NULL;
  l->cur_ts = -1;
  if (rc < 0) {
    hs_log(HS_LOG_ERROR, "engine", "out of memory applying an event of %.*s", (int)a->id_len,
           a->id);
    return false;
  }
  add(again                ? l->m_reapplied
      : rc == HS_APPLIED   ? l->m_applied
      : rc == HS_LATE      ? l->m_late
      : rc == HS_DUPLICATE ? l->m_dup_ids
                           : l->m_ignored,
      1);
  if (produced > 0 && l->m_latency)
    hs_series_observe(l->m_latency, (double)((int64_t)wall_ms() - produced) / 1000.0);
  hs_series_observe(l->m_engine_delay, (double)(uv_hrtime() - e->arrived_ns) / 1e9);
  mark_dirty(l, a);
  return true;
}

static void group_pump(hs_live_t *l, group_t *g);
static void flush(hs_live_t *l);

static void on_wait_timer(uv_timer_t *t) {
  hs_live_t *l = t->data;
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p] && l->groups[p]->waiting_timer) {
      l->groups[p]->waiting_timer = false;
      group_pump(l, l->groups[p]);
    }
}

static void pop_head(hs_live_t *l, group_t *g, int t) {
  tp_t *tp = &g->tp[t];
  entry_t *e = &tp->q[tp->head];
  tp->applied = e->m->offset + 1;
  if (*seen_at(l, g->partition, t) < tp->applied)
    *seen_at(l, g->partition, t) = tp->applied;
  if (e->acc)
    e->acc->refs--;
  rd_kafka_message_destroy(e->m);
  tp->head = (tp->head + 1) % tp->cap;
  tp->len--;
  if (tp->paused && tp->len <= QUEUE_RESUME) {
    hs_consumer_pause_partition(l->consumer, l->s->topics[t], g->partition, false);
    tp->paused = false;
  }
}

/* Starts loading the accounts of the messages after the head of `tp` (the
 * likeliest to be applied next) while the head is applied: the account
 * table entry two ahead, the account's state one ahead. */
static void prefetch_next(const hs_live_t *l, const tp_t *tp) {
  if (tp->len > 2 && tp->q[(tp->head + 2) % tp->cap].acc)
    __builtin_prefetch(tp->q[(tp->head + 2) % tp->cap].acc);
  const struct acct_s *next = tp->len > 1 ? tp->q[(tp->head + 1) % tp->cap].acc : NULL;
  if (next && next->a)
    hs_account_prefetch(l->model, next->a);
}

/* Applies the group's events in event-time order while every topic either
 * has a message buffered or has reached its end (and, with max_idle, the
 * head has waited long enough). */
static void group_pump(hs_live_t *l, group_t *g) {
  if (l->n_dirty >= (size_t)l->s->max_dirty)
    flush(l); /* the dirty set is full: applying resumes after the commit */
  while (g->state == G_ACTIVE && !l->stopping && !l->resync &&
         l->n_dirty < (size_t)l->s->max_dirty) {
    int best = -1;
    bool empty_at_end = false;
    for (size_t t = 0; t < l->n_topics; t++) {
      tp_t *tp = &g->tp[t];
      if (!tp->len) {
        if (!tp->eof)
          return; /* more may come before what is buffered elsewhere */
        empty_at_end = true;
        continue;
      }
      entry_t *e = &tp->q[tp->head];
      if (best < 0 || e->ts < g->tp[best].q[g->tp[best].head].ts)
        best = (int)t;
    }
    if (best < 0)
      return;
    entry_t *e = &g->tp[best].q[g->tp[best].head];
    if (empty_at_end && l->s->max_idle_ms > 0 && e->ts != INT64_MIN) {
      uint64_t due = e->arrived + (uint64_t)l->s->max_idle_ms;
      uint64_t now = uv_now(l->loop);
      if (now < due) {
        g->waiting_timer = true;
        if (!uv_is_active((uv_handle_t *)&l->wait_timer) ||
            uv_timer_get_due_in(&l->wait_timer) > due - now)
          uv_timer_start(&l->wait_timer, on_wait_timer, due - now, 0);
        return;
      }
    }
    if (!budget_left(l))
      return; /* on_resume pumps again at the next turn */
    prefetch_next(l, &g->tp[best]);
    if (!apply_entry(l, g, best, e))
      return;
    pop_head(l, g, best);
  }
}

/* ---- reading accounts back ------------------------------------------------ */

typedef struct load_s {
  hs_live_t *live;
  uint64_t epoch;
  size_t id_len;
  uint64_t hash;
  char id[];
} load_t;

static void on_loaded(void *ud, int status, const hs_err_t *rerr, const char *data, size_t len,
                      int32_t partition, const int64_t *cover) {
  load_t *r = ud;
  hs_live_t *l = r->live;
  acct_t *a = r->epoch == l->epoch ? acct_find(l, r->id, r->id_len, r->hash) : NULL;
  hs_free(r);
  if (!a || !a->loading)
    return;
  if (status) {
    /* Redis went away, or refused the read: resume from what it holds
       (which drops this account anyway), and say so */
    want_resync(l, RS_READ, "reading the state of account \"%.*s\" failed: %s",
                (int)(a->id_len > 128 ? 128 : a->id_len), a->id,
                rerr ? rerr->msg : "no reason given");
    return;
  }
  hs_err_t err = {0};
  if (data) {
    if (hs_account_decode(l->model, data, len, &a->a, &err)) {
      hs_log(HS_LOG_ERROR, "redis",
             "the stored state of %.*s does not decode (%s); it starts over from empty",
             (int)a->id_len, a->id, err.msg);
      a->a = NULL;
    } else {
      add(l->m_loads, 1);
    }
  }
  if (!a->a && hs_account_new(l->model, (hs_str_t){a->id, a->id_len}, &a->a)) {
    hs_log(HS_LOG_ERROR, "engine", "out of memory creating account %.*s", (int)a->id_len, a->id);
    return;
  }
  a->cover_part = cover ? partition : -1;
  for (size_t t = 0; cover && t < l->n_topics; t++)
    a->cover[t] = cover[t];
  a->loading = false; /* its daily history so far is in Redis already */
  if (a->partition >= 0 && a->partition < l->n_partitions && l->groups[a->partition])
    group_pump(l, l->groups[a->partition]);
}

static void load_account(hs_live_t *l, acct_t *a) {
  if (a->loading || a->a)
    return;
  load_t *r = hs_malloc(sizeof *r + a->id_len);
  if (!r)
    return;
  r->live = l;
  r->epoch = l->epoch;
  r->id_len = a->id_len;
  r->hash = a->hash;
  memcpy(r->id, a->id, a->id_len);
  a->loading = true;
  int rc = hs_store_get_state(l->store, (hs_str_t){a->id, a->id_len}, on_loaded, r);
  if (rc) {
    hs_free(r);
    a->loading = false;
    want_resync(l, rc == HS_E_NOMEM ? RS_NOMEM : RS_UNREACHABLE,
                "cannot read the state of an account: %s",
                rc == HS_E_NOMEM ? "out of memory" : "Redis not connected");
  }
}

/* ---- consumer callbacks ----------------------------------------------- */

static bool on_take(void *ud, rd_kafka_message_t *m) {
  hs_live_t *l = ud;
  if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    hs_log(HS_LOG_WARN, "kafka", "%s", rd_kafka_message_errstr(m));
    return false;
  }
  l->kafka_down = false;
  if (!m->rkt || m->partition < 0 || (size_t)m->partition >= l->n_groups)
    return false;
  group_t *g = l->groups[m->partition];
  int t = topic_index(l, rd_kafka_topic_name(m->rkt));
  if (!g || g->state != G_ACTIVE || t < 0 || l->resync)
    return false;
  tp_t *tp = &g->tp[t];
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (m->offset >= tp->next) {
      tp->eof = true;
      group_pump(l, g);
    }
    return false;
  }
  if (m->offset < tp->next) {
    add(l->m_dups, 1); /* delivered again: already buffered or applied */
    return false;
  }
  tp->next = m->offset + 1;
  tp->eof = false;
  entry_t e = {m, INT64_MIN, uv_now(l->loop), uv_hrtime(), NULL};
  hs_event_t ev;
  char why[512];
  if (check_event(l, l->peek, m, &ev, why, sizeof why)) {
    /* rejected now, so that a bad timestamp never takes part in the order;
       the message still queues for its position to move in turn. Read
       again after a resync, it was dead-lettered already: that dead letter
       is delivered before any position passes it (flushes wait for it) */
    if (m->offset >= *taken_at(l, m->partition, t)) {
      add(event_series(l, t, 0), 1);
      dead_letter(l, m, why);
    }
  } else {
    e.ts = ev.ts_ms;
    /* first sight of an account held nowhere here: read it from Redis now,
       so that it is there when its turn comes */
    uint64_t h = hs_hash64(ev.account_id.ptr, ev.account_id.len, HS_HASH_SEED);
    acct_t *a = acct_find(l, ev.account_id.ptr, ev.account_id.len, h);
    if (!a && (a = acct_add(l, ev.account_id.ptr, ev.account_id.len, h, m->partition)))
      load_account(l, a);
    e.acc = a;
  }
  if (queue_push(tp, &e))
    return false;
  if (*taken_at(l, m->partition, t) <= m->offset)
    *taken_at(l, m->partition, t) = m->offset + 1;
  if (e.acc)
    e.acc->refs++;
  if (!tp->paused && tp->len >= QUEUE_PAUSE) {
    hs_consumer_pause_partition(l->consumer, l->s->topics[t], g->partition, true);
    tp->paused = true;
  }
  if (tp->len == 1)
    group_pump(l, g);
  return true;
}

static void start_sync(hs_live_t *l);

static void on_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_live_t *l = ud;
  hs_log(HS_LOG_INFO, "kafka", "assigned %d topic partitions (%zu per input topic)", parts->cnt,
         (size_t)parts->cnt / l->n_topics);
  add(l->m_rebalances, 1);
  l->revoking = false;
  start_sync(l);
}

static void finish_revoke(hs_live_t *l) {
  drop_all(l);
  l->revoking = false;
  l->resync = false;
  hs_consumer_revoke_done(l->consumer);
  hs_log(HS_LOG_INFO, "kafka", "partitions given up");
}

static void on_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  hs_live_t *l = ud;
  hs_log(HS_LOG_INFO, "kafka", "%d topic partitions revoked: writing their state first",
         parts->cnt);
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p])
      l->groups[p]->state = l->groups[p]->state == G_ACTIVE ? G_REVOKING : l->groups[p]->state;
  l->revoking = true;
  l->revoke_started = uv_now(l->loop);
  if (!l->store_up || l->resync || (!l->n_dirty && !l->committing)) {
    finish_revoke(l);
    return;
  }
  flush(l);
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

static void on_stats(void *ud, const char *json, size_t len) {
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
        *s = series2(l->f_lag, l->s->topics[t], ps);
      }
      if (*s)
        hs_series_set(*s, YAJL_GET_INTEGER(lag) < 0 ? 0 : (double)YAJL_GET_INTEGER(lag));
    }
  }
  yajl_tree_free(root);
}

/* ---- resuming from Redis ------------------------------------------------- */

static void assign_from_positions(hs_live_t *l) {
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
  hs_consumer_assign(l->consumer, list);
  hs_consumer_pause(l->consumer, false);
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
    want_resync(l, RS_READ, "reading the positions of partition %d failed",
                (int)g->partition); /* try again once Redis answers */
    l->pending_pos--;
    return;
  }
  for (size_t t = 0; t < l->n_topics; t++)
    g->tp[t].committed = offsets[t];
  if (--l->pending_pos == 0 && !l->resync)
    assign_from_positions(l);
}

/* Drops what is held and reads the positions of the group's assignment
 * from Redis; consumption resumes from there (assign_from_positions). */
static void start_sync(hs_live_t *l) {
  drop_all(l);
  hs_consumer_assign(l->consumer, NULL); /* nothing is fetched meanwhile */
  rd_kafka_topic_partition_list_t *parts = hs_consumer_group_assignment(l->consumer);
  l->resync = false;
  l->store_connections = hs_store_connections(l->store);
  if (!parts)
    return;
  for (int i = 0; i < parts->cnt; i++) {
    int32_t p = parts->elems[i].partition;
    if (topic_index(l, parts->elems[i].topic) < 0 || p < 0 || p >= l->n_partitions || l->groups[p])
      continue;
    group_t *g = hs_calloc(1, sizeof *g);
    if (!g) {
      want_resync(l, RS_NOMEM, "out of memory for a partition group");
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
    want_resync(l, RS_UNREACHABLE, "Redis unreachable: %s",
                hs_store_last_error(l->store)); /* once Redis is back */
    return;
  }
  /* each answer counts pending_pos down; the last one assigns */
  l->pending_pos = 1;
  for (size_t p = 0; p < l->n_groups && !l->resync; p++) {
    if (!l->groups[p])
      continue;
    req_t *r = hs_malloc(sizeof *r);
    if (!r) {
      want_resync(l, RS_NOMEM, "out of memory reading positions");
      break;
    }
    *r = (req_t){l, l->epoch, (int32_t)p};
    if (hs_store_get_positions(l->store, l->s->group_id, (int32_t)p, on_positions, r)) {
      hs_free(r);
      want_resync(l, RS_UNREACHABLE, "cannot read the positions of partition %d", (int)p);
    } else {
      l->pending_pos++;
    }
  }
  if (--l->pending_pos == 0 && !l->resync)
    assign_from_positions(l);
}

/* ---- writing to Redis ------------------------------------------------ */

typedef struct commit_s {
  hs_live_t *live;
  uint64_t epoch, seq, started;
  hs_store_pos_t *pos; /* one per partition group */
  int64_t *offsets;    /* n_topics offsets, then n_topics expected, per group */
  size_t n_pos, n_accounts;
  /* the writes, kept while the flush waits for deliveries (into flushbuf) */
  hs_store_write_t *w;
  size_t *off;
  int32_t *days;
  double *scores;
  int64_t *covers;
  uint64_t out_seq; /* messages produced before it was built */
} commit_t;

static void commit_free(commit_t *c) {
  if (!c)
    return;
  hs_free(c->w);
  hs_free(c->off);
  hs_free(c->days);
  hs_free(c->scores);
  hs_free(c->covers);
  hs_free(c->pos);
  hs_free(c->offsets);
  hs_free(c);
}

static void evict(hs_live_t *l) {
  size_t max = (size_t)l->s->max_accounts;
  for (acct_t *a = l->lru_tail, *prev; a && l->n_accounts > max; a = prev) {
    prev = a->lru_prev;
    if (a->dirty || a->loading || a->refs || a->commit_seq > l->done_seq)
      continue;
    acct_remove(l, a);
    add(l->m_evicted, 1);
  }
}

static void after_commit(hs_live_t *l);

static void on_committed(void *ud, int status, const hs_err_t *err) {
  commit_t *c = ud;
  hs_live_t *l = c->live;
  bool current = c->epoch == l->epoch;
  if (current) {
    l->committing = false;
    if (status) {
      add(l->m_flush_fail, 1);
      char note[64];
      bool log = rate_ok(l, &l->rl_flush);
      if (log)
        rate_note(&l->rl_flush, note, sizeof note);
      if (status == HS_STORE_FENCED || status == HS_STORE_REFUSED) {
        add(l->m_fenced, 1);
        if (log)
          hs_log(HS_LOG_WARN, "redis",
                 "write refused: %s; another member owns these partitions now, or Redis lost "
                 "writes; resuming from what Redis holds%s",
                 err->msg, note);
        want_resync(l, RS_FENCED, "a write was refused: %s", err->msg);
      } else {
        if (log)
          hs_log(HS_LOG_ERROR, "redis", "flush of %zu accounts failed: %s%s", c->n_accounts,
                 err->msg, note);
        want_resync(l, RS_FLUSH, "a flush failed: %s", err->msg);
      }
    } else {
      l->done_seq = c->seq;
      l->progress_ms = uv_now(l->loop);
      if (l->m_flush_s)
        hs_series_observe(l->m_flush_s, (double)(uv_now(l->loop) - c->started) / 1000.0);
      if (l->m_flush_n)
        hs_series_observe(l->m_flush_n, (double)c->n_accounts);
      for (size_t i = 0; i < c->n_pos; i++) {
        group_t *g = l->groups[c->pos[i].partition];
        for (size_t t = 0; t < l->n_topics; t++) {
          if (g)
            g->tp[t].committed = c->pos[i].offset[t];
          hs_consumer_store_offset(l->consumer, l->s->topics[t], c->pos[i].partition,
                                   c->pos[i].offset[t]);
        }
      }
      evict(l);
    }
  }
  commit_free(c);
  if (current)
    after_commit(l);
}

static void commit_send(hs_live_t *l, commit_t *c);

/* True when the group's positions go into the next commit: they moved, or
 * accounts are written (so that a member whose partitions went elsewhere
 * learns it at once, from the positions' compare). */
static bool group_moves(const hs_live_t *l, const group_t *g) {
  if (!g || g->state == G_LOADING)
    return false;
  for (size_t t = 0; t < l->n_topics; t++)
    if (g->tp[t].applied != g->tp[t].committed)
      return true;
  return l->n_dirty > 0;
}

/* Writes every dirty account, each with the input it covers, then the
 * positions of every group, in one commit (store.h). One commit is in
 * flight at a time. */
static void flush(hs_live_t *l) {
  if (l->committing || l->resync || !l->store_up || l->out_lost)
    return;
  size_t n_pos = 0, nt = l->n_topics;
  for (size_t p = 0; p < l->n_groups; p++)
    n_pos += group_moves(l, l->groups[p]);
  if (!n_pos && !l->n_dirty)
    return;
  size_t n = l->dirty_len, n_hist = 0;
  for (size_t i = 0; i < n; i++) /* the history days to write */
    n_hist += l->dirty[i]->n_days + 1;
  commit_t *c = hs_calloc(1, sizeof *c);
  hs_buf_t *b = &l->flushbuf; /* kept across flushes: no fresh pages each time */
  b->len = 0;
  int rc = !c ? HS_E_NOMEM : 0;
  if (!rc) {
    c->w = hs_calloc(n ? n : 1, sizeof *c->w);
    c->off = hs_malloc((n ? n : 1) * 2 * sizeof *c->off); /* state and record offsets */
    c->days = hs_malloc((n_hist ? n_hist : 1) * sizeof *c->days);
    c->scores = hs_malloc((n_hist ? n_hist : 1) * sizeof *c->scores);
    c->covers = hs_malloc((n ? n : 1) * nt * sizeof *c->covers);
    c->pos = hs_calloc(n_pos ? n_pos : 1, sizeof *c->pos);
    c->offsets = hs_calloc((n_pos ? n_pos : 1) * 2 * nt, sizeof *c->offsets);
    rc = !c->w || !c->off || !c->days || !c->scores || !c->covers || !c->pos || !c->offsets
             ? HS_E_NOMEM
             : 0;
  }
  hs_store_write_t *w = rc ? NULL : c->w;
  size_t *off = rc ? NULL : c->off, h = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    acct_t *a = l->dirty[i];
    off[2 * i] = b->len;
    rc = hs_account_encode(l->model, a->a, b);
    off[2 * i + 1] = b->len;
    if (!rc)
      rc = hs_output_account_json(l->model, a->a, INT64_MIN, false, b);
    /* it holds every event of its partition below the positions applied,
       and what its stored state held when it was read */
    group_t *g =
        a->partition >= 0 && a->partition < l->n_partitions ? l->groups[a->partition] : NULL;
    int64_t *cover = c->covers + i * nt;
    for (size_t t = 0; t < nt; t++) {
      cover[t] = g ? g->tp[t].applied : 0;
      if (a->cover_part == a->partition && a->cover[t] > cover[t])
        cover[t] = a->cover[t];
    }
    w[i] = (hs_store_write_t){.account = {a->id, a->id_len},
                              .state_len = off[2 * i + 1] - off[2 * i],
                              .score_len = b->len - off[2 * i + 1],
                              .days = c->days + h,
                              .scores = c->scores + h,
                              .partition = a->partition,
                              .cover = cover};
    for (uint32_t k = 0; k < a->n_days; k++, h++) {
      c->days[h] = a->days[k].day;
      c->scores[h] = a->days[k].score;
    }
    w[i].n_days = a->n_days;
    if (a->cur_day != INT32_MIN && !isnan(a->cur_score)) {
      c->days[h] = a->cur_day;
      c->scores[h++] = a->cur_score;
      w[i].n_days++;
    }
  }
  if (rc) {
    hs_log(HS_LOG_ERROR, "engine", "out of memory building a flush; resuming from Redis");
    commit_free(c);
    want_resync(l, RS_NOMEM, "out of memory building a flush");
    return;
  }
  for (size_t i = 0; i < n; i++) { /* the buffer stopped moving */
    w[i].state = b->data + off[2 * i];
    w[i].score_json = b->data + off[2 * i + 1];
  }
  c->live = l;
  c->epoch = l->epoch;
  c->seq = l->commit_seq + 1;
  c->n_accounts = n;
  c->out_seq = l->out_next;
  for (size_t p = 0; p < l->n_groups; p++) {
    group_t *g = l->groups[p];
    if (!group_moves(l, g))
      continue;
    int64_t *o = c->offsets + c->n_pos * 2 * nt;
    for (size_t t = 0; t < nt; t++) {
      o[t] = g->tp[t].applied;
      o[nt + t] = g->tp[t].committed;
    }
    c->pos[c->n_pos++] = (hs_store_pos_t){l->s->group_id, g->partition, o, o + nt};
  }
  /* built: the accounts are clean until their next event, and cover what
     this flush writes */
  l->commit_seq = c->seq;
  for (size_t i = 0; i < n; i++) {
    acct_t *a = l->dirty[i];
    a->n_days = 0;
    a->dirty = false;
    a->commit_seq = c->seq;
    a->cover_part = a->partition;
    memcpy(a->cover, c->covers + i * nt, nt * sizeof *c->covers);
  }
  l->dirty_len = 0;
  l->n_dirty = 0;
  l->committing = true;
  /* alerts and dead letters of the events it covers go out first: once
     Redis holds the state, those events are not applied again */
  if (l->out_low >= c->out_seq)
    commit_send(l, c);
  else
    l->held = c;
}

/* Sends a flush built by flush(). */
static void commit_send(hs_live_t *l, commit_t *c) {
  if (l->held == c)
    l->held = NULL;
  c->started = uv_now(l->loop);
  int rc = hs_store_commit(l->store, c->w, c->n_accounts, c->pos, c->n_pos, on_committed, c);
  /* the store made its copies */
  hs_free(c->w);
  hs_free(c->off);
  hs_free(c->days);
  hs_free(c->scores);
  hs_free(c->covers);
  c->w = NULL, c->off = NULL, c->days = NULL, c->scores = NULL, c->covers = NULL;
  hs_buf_t *b = &l->flushbuf;
  if (b->cap > FLUSHBUF_KEEP) { /* a backlog's flushes are huge: do not keep that much */
    hs_buf_free(b);
    hs_buf_init(b);
  }
  if (rc) {
    hs_log(HS_LOG_ERROR, "redis", "cannot send a flush of %zu accounts (%d)", c->n_accounts, rc);
    commit_free(c);
    l->committing = false;
    want_resync(l, rc == HS_E_NOMEM ? RS_NOMEM : RS_UNREACHABLE, "cannot send a flush: %s",
                rc == HS_E_NOMEM ? "out of memory" : "Redis not connected");
  }
}

static void release_held(hs_live_t *l) {
  if (l->held && l->out_low >= l->held->out_seq)
    commit_send(l, l->held);
}

static void drop_held(hs_live_t *l) {
  if (!l->held)
    return;
  commit_free(l->held);
  l->held = NULL;
  l->committing = false;
}

static void stop_step(hs_live_t *l);

static void after_commit(hs_live_t *l) {
  if (l->revoking && !l->resync) {
    if (l->n_dirty)
      flush(l);
    else
      finish_revoke(l);
    return;
  }
  if (l->stopping) {
    stop_step(l);
    return;
  }
  /* fetching may have waited for the dirty set to shrink */
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p])
      group_pump(l, l->groups[p]);
  if (l->n_dirty >= (size_t)l->s->max_dirty)
    flush(l);
}

static void on_flush_timer(uv_timer_t *t) {
  flush(t->data);
}

/* ---- housekeeping ----------------------------------------------------- */

/* True when nothing waits to be made durable: no resync, no flush, no
 * account changed, and every partition group assigned has applied and
 * written all its input up to the end of its partitions. */
static bool caught_up(const hs_live_t *l) {
  if (l->resync || l->committing || l->held || l->n_dirty || l->pending_pos || l->retry)
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

/* Resumes from Redis, counted by cause and logged: every resync when they
 * are rare, then at most one line every LOG_EVERY_MS with the number left
 * out (a resync loop is visible, not a flood). */
static void resync_now(hs_live_t *l) {
  add(series1(l->f_resyncs, resync_causes[l->resync_cause]), 1);
  char note[64];
  bool loop = l->rl_resync.at && uv_now(l->loop) - l->rl_resync.at < 2 * LOG_EVERY_MS;
  if (rate_ok(l, &l->rl_resync))
    hs_log(l->resync_cause == RS_RECONNECT && !loop ? HS_LOG_INFO : HS_LOG_WARN, "engine",
           "resuming from the state in Redis (cause %s: %s)%s", resync_causes[l->resync_cause],
           l->resync_why, rate_note(&l->rl_resync, note, sizeof note));
  start_sync(l);
}

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
    want_resync(l, RS_RECONNECT,
                "a new connection to Redis (a restart or a failover may have lost writes)");
  if (l->retry)
    retry_sends(l);
  if (caught_up(l))
    l->progress_ms = uv_now(l->loop);
  if (l->revoking) {
    if ((!up || l->resync) || uv_now(l->loop) - l->revoke_started > (uint64_t)REVOKE_TIMEOUT_MS) {
      if (up && !l->resync)
        hs_log(HS_LOG_WARN, "engine",
               "revocation: state not written in time; the next owner "
               "resumes from the last positions in Redis");
      finish_revoke(l);
    }
    return;
  }
  if (l->stopping) {
    stop_step(l);
    return;
  }
  if (l->n_accounts > (size_t)l->s->max_accounts)
    evict(l);
  if (l->resync && up && !l->committing && !l->pending_pos)
    resync_now(l);
#ifdef __GLIBC__
  /* give memory freed after a burst (a backlog's fetch buffers and flushes,
     a rebalance) back to the system; malloc keeps it otherwise */
  if (uv_now(l->loop) - l->last_trim >= TRIM_INTERVAL_MS) {
    malloc_trim(0);
    l->last_trim = uv_now(l->loop);
  }
#endif
}

/* Ages idle accounts, from the most recently used on, within the turn's
 * budget: the pass goes on at the next turn (on_resume) where it stopped. */
static void idle_continue(hs_live_t *l) {
  if (l->stopping || l->resync || l->revoking) {
    l->idle_pass = false;
    l->idle_next = NULL;
    return;
  }
  int64_t now = (int64_t)wall_ms() - l->s->lateness_ms;
  while (l->idle_next) {
    if (!budget_left(l))
      return;
    acct_t *a = l->idle_next;
    l->idle_next = a->lru_next;
    budget_spend(l, 1);
    if (!a->a || a->partition < 0 || !l->groups[a->partition] ||
        l->groups[a->partition]->state != G_ACTIVE)
      continue;
    int64_t before = hs_account_clock(a->a);
    if (before == INT64_MIN || before >= now)
      continue;
    l->cur = a;
    if (hs_account_advance(l->model, a->a, now, on_eval, l) == 0 &&
        hs_account_clock(a->a) != before)
      mark_dirty(l, a);
    l->cur = NULL;
    budget_spend(l, days_moved(before, hs_account_clock(a->a)));
  }
  l->idle_pass = false;
}

static void on_idle_timer(uv_timer_t *t) {
  hs_live_t *l = t->data;
  if (l->stopping || l->resync || l->revoking || l->idle_pass)
    return; /* a pass under way goes on */
  l->idle_pass = true;
  l->idle_next = l->lru_head;
  idle_continue(l);
}

/* The next turn of the loop after one that ran out of budget: the work
 * left goes on. */
static void on_resume(uv_idle_t *h) {
  hs_live_t *l = h->data;
  uv_idle_stop(h);
  l->budget_at = uv_now(l->loop);
  l->budget = TURN_BUDGET;
  l->turn_work = 0;
  if (l->idle_pass)
    idle_continue(l);
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p] && l->groups[p]->state == G_ACTIVE)
      group_pump(l, l->groups[p]);
}

/* ---- metrics --------------------------------------------------------- */

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const double delay_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
static const double flush_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
static const double batch_bounds[] = {1, 10, 100, 1000, 10000, 100000};

static int band_arrays(hs_live_t *l, const hs_model_t *m) {
  size_t n = hs_model_n_profiles(m) * (hs_model_n_bands(m) + 1);
  hs_free(l->band_series);
  hs_free(l->band_count);
  l->band_series = hs_calloc(n, sizeof *l->band_series);
  l->band_count = hs_calloc(n, sizeof *l->band_count);
  return l->band_series && l->band_count ? 0 : HS_E_NOMEM;
}

/* The one series of a family without labels (NULL when out of memory). */
static hs_series_t *one(hs_metrics_t *r, hs_metric_type_t type, const char *name, const char *help,
                        const double *bounds, size_t n_bounds) {
  hs_family_t *f = hs_metrics_family(r, type, name, help, NULL, bounds, n_bounds);
  return f ? hs_family_series(f, NULL) : NULL;
}

static int make_metrics(hs_live_t *l, hs_metrics_t *r) {
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
        *s = series2(l->f_bands, hs_model_profile_name(l->model, p),
                     hs_model_band_name(l->model, (int)b - 1));
      if (*s)
        hs_series_set(*s, (double)l->band_count[p * nb + b]);
    }
}

/* ---- the public face ------------------------------------------------ */

/* How long the engine may hold input it has not made durable. */
static uint64_t stall_ms(const hs_live_t *l) {
  uint64_t by_flushes = (uint64_t)l->s->flush_interval_ms * STALL_FLUSHES;
  return by_flushes > STALL_MIN_MS ? by_flushes : STALL_MIN_MS;
}

bool hs_live_ready(const hs_live_t *l, char *why, size_t n) {
  size_t parts = 0;
  for (size_t p = 0; p < l->n_groups; p++)
    parts += l->groups[p] && l->groups[p]->state == G_ACTIVE;
  uint64_t stalled = uv_now(l->loop) - l->progress_ms;
  if (l->stopping)
    snprintf(why, n, "shutting down");
  else if (!l->store_up)
    snprintf(why, n, "Redis unreachable: %s",
             *hs_store_last_error(l->store) ? hs_store_last_error(l->store) : "no answer yet");
  else if (l->kafka_down)
    snprintf(why, n, "Kafka unreachable%s%s", *l->kafka_err ? ": " : "", l->kafka_err);
  else if (stalled > stall_ms(l))
    snprintf(why, n, "no durable progress for %llu s (nothing written to Redis): %s",
             (unsigned long long)stalled / 1000, *l->failure ? l->failure : "no reason known");
  else if (l->resync)
    snprintf(why, n, "resuming from Redis: %s", l->resync_why);
  else if (l->revoking)
    snprintf(why, n, "rebalancing");
  else if (!parts)
    snprintf(why, n, "no partitions assigned");
  else if (l->pending_pos)
    snprintf(why, n, "reading positions from Redis");
  else
    return true;
  return false;
}

int hs_live_account_json(hs_live_t *l, hs_str_t id, hs_buf_t *out) {
  acct_t *a = acct_find(l, id.ptr, id.len, hs_hash64(id.ptr, id.len, HS_HASH_SEED));
  if (!a || !a->a || hs_account_clock(a->a) == INT64_MIN)
    return HS_E_INVAL; /* not here, or nothing applied yet */
  size_t start = out->len;
  if (hs_output_account_json(l->model, a->a, INT64_MIN, true, out))
    return HS_E_NOMEM;
  /* add the daily history before the closing brace */
  if (out->len > start && out->data[out->len - 1] == '}') {
    out->len--;
    int rc = hs_buf_printf(out, ",\"history\":{");
    int32_t last = hs_account_history_last(a->a);
    bool first = true;
    for (int32_t d = last - 90; last != INT32_MIN && d <= last; d++) {
      double v = hs_account_history_day(l->model, a->a, d);
      if (isnan(v))
        continue;
      char day[32];
      hs_time_format((int64_t)d * HS_MS_PER_DAY, day);
      rc |= hs_buf_printf(out, "%s\"%.10s\":%.1f", first ? "" : ",", day, v);
      first = false;
    }
    rc |= hs_buf_printf(out, "}}");
    if (rc)
      return HS_E_NOMEM;
  }
  return 0;
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
    rc = hs_account_encode(l->model, a->a, &b);
    if (!rc)
      rc = hs_account_decode(model, b.data, b.len, &conv[i], err);
  }
  hs_buf_free(&b);
  if (!rc && band_arrays(l, model))
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

/* ---- creation ----------------------------------------------------------- */

/* Reads the partition counts of the input topics; they must agree. */
static int check_topics(hs_live_t *l, hs_err_t *err) {
  rd_kafka_t *rk = hs_consumer_handle(l->consumer);
  uint64_t end = uv_now(l->loop) + 30000;
  for (size_t t = 0; t < l->n_topics; t++) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    for (;;) {
      rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, l->s->topics[t], NULL);
      e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
      rd_kafka_topic_destroy(rkt);
      if (!e && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        e = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (!e && md->topic_cnt == 1 && md->topics[0].err)
        e = md->topics[0].err;
      if (!e ||
          (e != RD_KAFKA_RESP_ERR__TRANSPORT && e != RD_KAFKA_RESP_ERR__TIMED_OUT &&
           e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) ||
          uv_now(l->loop) >= end)
        break;
      if (md)
        rd_kafka_metadata_destroy(md);
      md = NULL;
      hs_log(HS_LOG_WARN, "kafka", "waiting for Kafka at %s: %s", l->s->bootstrap,
             rd_kafka_err2str(e));
      uv_sleep(500);
      uv_update_time(l->loop);
    }
    int32_t n = !e ? md->topics[0].partition_cnt : 0;
    if (md)
      rd_kafka_metadata_destroy(md);
    if (e)
      return hs_err_set(err, HS_E_CONFIG, "kafka: input topic %s: %s", l->s->topics[t],
                        rd_kafka_err2str(e));
    if (t == 0)
      l->n_partitions = n;
    else if (n != l->n_partitions)
      return hs_err_set(err, HS_E_CONFIG,
                        "kafka: input topics are not co-partitioned: %s has %d partitions, %s "
                        "has %d; every input topic needs the same partition count, keyed by "
                        "account id with the murmur2 partitioner",
                        l->s->topics[0], (int)l->n_partitions, l->s->topics[t], (int)n);
  }
  return 0;
}

static const char *const consumer_defaults[] = {
    "enable.partition.eof", "true",  "statistics.interval.ms", "5000",
    "session.timeout.ms",   "10000", "queued.min.messages",    "100000"};

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
  l->n_buckets = 1024;
  l->cur_ts = -1;
  l->buckets = hs_calloc(l->n_buckets, sizeof *l->buckets);
  hs_buf_init(&l->json);
  hs_buf_init(&l->flushbuf);
  int rc = 0;
  if (!l->buckets || hs_decoder_new(&l->dec, 0) || hs_decoder_new(&l->peek, 0) ||
      make_metrics(l, metrics) || band_arrays(l, model))
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  /* librdkafka settings: ours, then the operator's (which win) */
  size_t nd = sizeof consumer_defaults / sizeof *consumer_defaults;
  size_t nc = s->n_client + s->n_consumer_client, np = s->n_client + s->n_producer_client;
  const char **settings = hs_calloc(nd + nc * 2 + 1, sizeof *settings);
  const char **psettings = hs_calloc(np * 2 + 1, sizeof *psettings);
  if (!rc && (!settings || !psettings))
    rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (!rc) {
    memcpy(settings, consumer_defaults, sizeof consumer_defaults);
    for (size_t i = 0; i < s->n_client * 2; i++)
      settings[nd + i] = psettings[i] = s->client[i];
    for (size_t i = 0; i < s->n_consumer_client * 2; i++)
      settings[nd + s->n_client * 2 + i] = s->consumer_client[i];
    for (size_t i = 0; i < s->n_producer_client * 2; i++)
      psettings[s->n_client * 2 + i] = s->producer_client[i];
    hs_consumer_conf_t cc = {.bootstrap = s->bootstrap,
                             .group_id = s->group_id,
                             .instance_id = s->instance_id,
                             .topics = (const char *const *)s->topics,
                             .n_topics = s->n_topics,
                             .settings = settings,
                             .n_settings = nd / 2 + nc,
                             .manual_assign = true};
    hs_consumer_cbs_t cbs = {.assigned = on_assigned,
                             .revoked = on_revoked,
                             .error = on_kafka_error,
                             .take = on_take,
                             .stats = on_stats,
                             .log = on_kafka_log};
    rc = hs_consumer_new(&l->consumer, loop, &cc, &cbs, l, err);
    hs_producer_conf_t pc = {s->bootstrap, psettings, np, kafka_log};
    if (!rc)
      rc = hs_producer_new(&l->producer, loop, &pc, on_delivery, l, err);
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
  if (!rc)
    rc = check_topics(l, err);
  if (!rc) {
    l->n_groups = (size_t)l->n_partitions;
    l->groups = hs_calloc(l->n_groups ? l->n_groups : 1, sizeof *l->groups);
    l->ev_series = hs_calloc(l->n_topics * (HS_EV__COUNT + 1), sizeof *l->ev_series);
    l->lag_series = hs_calloc(l->n_topics * l->n_groups + 1, sizeof *l->lag_series);
    l->seen = hs_calloc(2 * l->n_topics * l->n_groups + 1, sizeof *l->seen);
    if (!l->groups || !l->ev_series || !l->lag_series || !l->seen)
      rc = hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
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
  if (!rc)
    rc = hs_store_new(&l->store, loop, &sc, err);
  if (rc) {
    /* nothing ran on the loop yet: tear down synchronously */
    hs_log(HS_LOG_ERROR, "engine", "%s", err->msg);
    *out = l; /* the caller stops it, which closes what was opened */
    return rc;
  }
  uv_timer_t *timers[] = {&l->flush_timer, &l->tick_timer, &l->idle_timer, &l->wait_timer};
  for (size_t i = 0; i < 4; i++) {
    uv_timer_init(loop, timers[i]);
    timers[i]->data = l;
  }
  uv_idle_init(loop, &l->resume);
  l->resume.data = l;
  l->open = 5;
  l->out_max = hs_producer_max_bytes(l->producer);
  l->progress_ms = uv_now(loop);
  uv_timer_start(&l->flush_timer, on_flush_timer, (uint64_t)s->flush_interval_ms,
                 (uint64_t)s->flush_interval_ms);
  uv_timer_start(&l->tick_timer, on_tick, TICK_MS, TICK_MS);
  if (s->idle_interval_ms > 0)
    uv_timer_start(&l->idle_timer, on_idle_timer, (uint64_t)s->idle_interval_ms,
                   (uint64_t)s->idle_interval_ms);
  char redis[300];
  if (s->redis_nodes && *s->redis_nodes)
    snprintf(redis, sizeof redis, "nodes %s", s->redis_nodes);
  else
    snprintf(redis, sizeof redis, "%s:%d", s->redis_host, s->redis_port);
  hs_log(HS_LOG_INFO, "engine",
         "consuming %zu topics of %d partitions as group %s; Redis %s; flush every %lld ms%s",
         l->n_topics, (int)l->n_partitions, s->group_id, redis, (long long)s->flush_interval_ms,
         s->redis_wait_replicas > 0 ? "; writes wait for replicas" : "");
  *out = l;
  return 0;
}

/* ---- stopping ------------------------------------------------------------ */

static void free_live(hs_live_t *l) {
  int status = l->stop_status;
  void (*done)(void *, int) = l->stop_done;
  void *ud = l->stop_ud;
  drop_all(l);
  hs_free(l->groups);
  hs_free(l->buckets);
  hs_free(l->dirty);
  hs_free(l->out_done);
  hs_free(l->ev_series);
  hs_free(l->lag_series);
  hs_free(l->seen);
  while (l->retry) {
    outmsg_t *o = l->retry;
    l->retry = o->next;
    outmsg_free(o);
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
static void stop_step(hs_live_t *l) {
  if (l->stop_flushed)
    return;
  bool expired = uv_now(l->loop) >= l->stop_deadline;
  if (!expired && l->store_up && !l->resync && !l->out_lost && (l->committing || l->n_dirty)) {
    flush(l);
    if (l->committing || (l->n_dirty && !l->resync && !l->out_lost))
      return;
  }
  if (l->out_lost) {
    hs_log(HS_LOG_ERROR, "engine",
           "stopping with an alert or dead letter undelivered: the state of its input is not "
           "written, it is read again from Kafka at the next start");
    l->stop_status = -1;
  } else if (l->n_dirty || l->resync || expired) {
    if (l->n_dirty || l->committing) {
      hs_log(HS_LOG_ERROR, "engine",
             "stopping with %zu accounts not written to Redis; they "
             "are read again from Kafka at the next start",
             l->n_dirty);
      l->stop_status = -1;
    }
  }
  l->stop_flushed = true;
  drop_all(l); /* releases every message before the consumer goes */
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

void hs_live_stop(hs_live_t *l, int timeout_ms, void (*done)(void *ud, int status), void *ud) {
  l->stop_done = done;
  l->stop_ud = ud;
  l->stop_deadline = uv_now(l->loop) + (uint64_t)timeout_ms;
  if (l->stopping)
    return;
  l->stopping = true;
  if (!l->open) { /* creation failed half-way: no timers */
    l->stop_flushed = true;
    drop_all(l);
    l->open = 3;
    if (l->consumer)
      hs_consumer_close(l->consumer, on_consumer_closed, l);
    else
      on_consumer_closed(l);
    return;
  }
  if (l->consumer)
    hs_consumer_pause(l->consumer, true);
  hs_log(HS_LOG_INFO, "engine", "stopping: writing %zu changed accounts to Redis", l->n_dirty);
  stop_step(l);
}
