/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine's rooms and what they share. Data flow, all on the loop
 * thread:
 *
 *   consumer --take--> group queues --merge by event time--> apply --> accounts (dirty)
 *            (merge.c)     |                       (apply.c)  |            |
 *                 first sight: GET state              alerts/dead letters   | flush timer
 *                                                     producer (outbox.c)   v
 *                                              Redis commit (commit.c: states + positions)
 *                                                      ok: Kafka offsets stored
 *                                                      failed/fenced: resync (sync.c)
 *
 * Ownership: the engine owns every account (accounts.c), every message it
 * took from the consumer (released once applied or dropped), and the
 * requests in flight to Redis, which carry the epoch they were made in: a
 * resync bumps the epoch and late answers are ignored. Not part of the
 * public interface (healthscore/live.h). */
#ifndef HS_LIVE_INTERNAL_H
#define HS_LIVE_INTERNAL_H

#include "healthscore/live.h"

#include "healthscore/codec.h"
#include "healthscore/consumer.h"
#include "healthscore/hash.h"
#include "healthscore/log.h"
#include "healthscore/producer.h"
#include "healthscore/state.h"
#include "healthscore/store.h"
#include "healthscore/time.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#define QUEUE_PAUSE 4096  /* messages buffered per partition before it pauses */
#define QUEUE_RESUME 1024 /* ... and resumes */
#define TICK_MS 50        /* housekeeping: readiness, reconnects, revocation */
/* freed memory is returned to the system at most this often, and only when idle */
#define TRIM_INTERVAL_MS 10000
#define REVOKE_TIMEOUT_MS 10000
#define MAX_TOPICS 16
#define FLUSHBUF_KEEP (8u << 20) /* flush buffer capacity kept for the next flush */
/* Work done in one turn of the loop, in account-days evaluated (an event
 * applied counts one, plus the days it makes its account catch up): beyond
 * it, applying and the idle pass go on in the next turn, so that the loop
 * keeps serving /healthz and Kafka whatever the input's timestamps. One
 * account never costs more than the core's catch-up bound (3,660 days). */
#define TURN_BUDGET 16384
#define LOG_EVERY_MS 10000 /* a repeated failure is logged at most this often */
#define STALL_MIN_MS 10000 /* no durable progress this long (at least): not ready */
#define STALL_FLUSHES 20   /* ... or this many flush intervals */
/* no durable progress for this many times as long: the engine resyncs by
   itself, whatever it waits for (an answer, a message, an end of partition) */
#define STALL_RESYNC_TIMES 2
#define DL_HEADERS HS_ALERT_MAX_HEADERS /* dead letters use 6 */

/* Why the engine dropped its memory and resumed from Redis. */
enum {
  RS_READ,
  RS_FLUSH,
  RS_FENCED,
  RS_RECONNECT,
  RS_UNREACHABLE,
  RS_NOMEM,
  RS_ASSIGN,
  RS_STALLED,
  RS__COUNT
};

/* A partition group's state. REFUSED: an account of the group holds a
 * state this build must not overwrite (written by a newer build): nothing
 * more of the group is fetched, applied or written, until the next
 * assignment or resync reads it again. */
enum { G_LOADING, G_ACTIVE, G_REVOKING, G_REFUSED };

/* The engine's mode towards its assignment (docs/architecture.md, "Modes of
 * the live engine"); changed only by hs__set_mode, which logs each change.
 *
 *   RUNNING   applying what is assigned (possibly nothing)
 *   SYNCING   positions of the groups assigned being read from Redis;
 *             consumption resumes from them when the last answer is in
 *   RESYNC    what is held no longer matches Redis: fetching is paused, and
 *             the tick drops everything and syncs again once Redis answers,
 *             no flush is in flight and no position read is outstanding
 *   REVOKING  partitions revoked: their state is being written before they
 *             are given up (at most REVOKE_TIMEOUT_MS)
 *   REVOKE_ABANDONED  a resync was wanted while revoking: nothing more is
 *             written, the partitions are given up at the next tick
 *
 * The events that move it: an assignment (sync.c: any -> SYNCING ->
 * RUNNING, or RESYNC), a revocation (REVOKING or, with a resync wanted,
 * REVOKE_ABANDONED), hs__want_resync (RESYNC, or REVOKE_ABANDONED while
 * revoking), the revocation finished (RUNNING, nothing assigned). */
typedef enum live_mode_e {
  LIVE_RUNNING,
  LIVE_SYNCING,
  LIVE_RESYNC,
  LIVE_REVOKING,
  LIVE_REVOKE_ABANDONED,
  LIVE__MODES
} live_mode_t;

/* The engine's life: SERVING until hs_live_stop, then STOPPING (writing what
 * is applied, within the stop timeout), then CLOSING (leaving the group and
 * closing every handle); changed only by hs__set_phase, which logs it. A stop
 * does not wait for the mode: a revocation under way is finished first. */
typedef enum live_phase_e { LIVE_SERVING, LIVE_STOPPING, LIVE_CLOSING } live_phase_t;

typedef struct entry_s {
  rd_kafka_message_t *m;
  int64_t ts;          /* event time; INT64_MIN when rejected */
  uint64_t arrived;    /* loop time of arrival */
  uint64_t arrived_ns; /* uv_hrtime() of arrival */
  struct acct_s *acc;  /* the account, once known */
  hs_held_event_t ev;  /* decoded on arrival, or not kept (HS_EV_UNKNOWN): decoded again */
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
  struct acct_s *lru_prev, *lru_next;
  struct acct_s *dirty_next; /* in the dirty set, which needs no allocation */
  hs_account_t *a;           /* NULL while loading */
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
  uint32_t index; /* in the account table's array (hs_live_s.table) */
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

struct commit_s;

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
  /* the core's account table (hs_idmap): id -> index into `table`, whose
     free entries are chained through free_next (freeing needs no memory) */
  hs_idmap_t ids;
  acct_t **table;                           /* by index; NULL when free */
  uint32_t *free_next;                      /* by index, for free entries: the next free one */
  uint32_t table_len, table_cap, free_head; /* free_head: UINT32_MAX when none */
  size_t n_accounts, n_dirty;
  acct_t *lru_head, *lru_tail; /* most recently used first */
  /* the dirty set, in the order accounts changed: a list through the
     accounts themselves, so that marking one never fails */
  acct_t *dirty_head, *dirty_tail;
  /* Redis */
  uint64_t epoch, commit_seq, done_seq, store_connections;
  struct commit_s *held; /* a flush built and waiting for deliveries */
  /* messages produced (alerts, dead letters) and not yet delivered: a ring
     of flags for seq in [out_low, out_next); below out_low all are done */
  uint64_t out_next, out_low;
  uint8_t *out_done;
  size_t out_cap;
  bool committing, store_up;
  uint64_t last_trim; /* loop time of the last malloc_trim */
  int pending_pos;    /* position reads outstanding (SYNCING, or RESYNC waiting) */
  /* state of the run */
  live_mode_t mode;
  live_phase_t phase;
  bool kafka_down;
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
  bool resync_forced;    /* the resync goes ahead without waiting for answers */
  uint64_t stall_resync; /* loop time of the last resync for a stall */
  size_t n_refused;      /* partition groups refused (G_REFUSED) */
  char refused_why[384]; /* why the last one was */
  char redis_err[192];   /* the connection failure last logged */
  uint64_t redis_err_ms;
  char kafka_err[256];
  ratelimit_t rl_flush, rl_resume, rl_resync, rl_out, rl_nomem, rl_assign;
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
      *f_resyncs, *f_refused, *f_modes;
  hs_series_t *m_state_reset, *m_assign_fail;
  hs_series_t *m_reapplied, *m_dead_trunc, *m_turn_max, *m_deferrals, *m_trims;
  hs_series_t *m_engine_delay, *m_alert_delivery;
  hs_series_t *m_applied, *m_dups, *m_dup_ids, *m_late, *m_ignored, *m_latency, *m_flush_s,
      *m_flush_n, *m_flush_fail, *m_fenced, *m_accounts, *m_dirty, *m_parts, *m_loads, *m_evicted,
      *m_redis_up, *m_ready, *m_redis_cmds, *m_redis_bytes, *m_buffered, *m_covered, *m_refused,
      *m_moved, *m_asked, *m_retries, *m_noscript, *m_wait_short, *m_masters, *m_rebalances,
      *m_decoded_again;
  hs_series_t **ev_series; /* [topic][type + 1]: type 0 is "invalid" */
  hs_series_t **lag_series;
  hs_series_t **band_series; /* [profile][band + 1] */
  int64_t *band_count;
};

/* ---- small helpers ---------------------------------------------------- */

/* A resync is wanted: what is held may not be written. */
static inline bool resync_wanted(const hs_live_t *l) {
  return l->mode == LIVE_RESYNC || l->mode == LIVE_REVOKE_ABANDONED;
}

/* Partitions were revoked and are not given up yet. */
static inline bool revoking(const hs_live_t *l) {
  return l->mode == LIVE_REVOKING || l->mode == LIVE_REVOKE_ABANDONED;
}

/* hs_live_stop was called. */
static inline bool stopping(const hs_live_t *l) {
  return l->phase != LIVE_SERVING;
}

static inline uint64_t wall_ms(void) {
  uv_timeval64_t t;
  uv_gettimeofday(&t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_usec / 1000;
}

static inline int topic_index(const hs_live_t *l, const char *name) {
  for (size_t i = 0; i < l->n_topics; i++)
    if (!strcmp(l->s->topics[i], name))
      return (int)i;
  return -1;
}

/* True when a line limited by `r` may be written now; otherwise it is
 * counted in r->skipped (the next line written says how many). */
static inline bool rate_ok(const hs_live_t *l, ratelimit_t *r) {
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
static inline const char *rate_note(ratelimit_t *r, char *buf, size_t n) {
  buf[0] = 0;
  if (r->skipped)
    snprintf(buf, n, " (%u more since the last such line)", r->skipped);
  r->skipped = 0;
  return buf;
}

/* The offset after the last message of a topic partition this process
 * applied (or skipped), and (taken_at) after the last one it took in. */
static inline int64_t *seen_at(hs_live_t *l, int32_t partition, int t) {
  return &l->seen[(size_t)partition * l->n_topics + (size_t)t];
}

static inline int64_t *taken_at(hs_live_t *l, int32_t partition, int t) {
  return &l->seen[((size_t)l->n_partitions + (size_t)partition) * l->n_topics + (size_t)t];
}

/* ---- accounts.c -------------------------------------------------------- */

/* Makes the empty account table. Returns 0 or HS_E_NOMEM. */
int hs__accounts_init(hs_live_t *l);

/* Frees every account and empties the table (its memory stays). */
void hs__accounts_drop(hs_live_t *l);

/* Frees the table itself (after hs__accounts_drop). */
void hs__accounts_free(hs_live_t *l);

/* The account `id` (hash `h`, hs_idmap_hash) held in memory, or NULL. */
acct_t *hs__acct_find(hs_live_t *l, const char *id, size_t len, uint64_t h);

/* Makes `a` the most recently used account. */
void hs__lru_touch(hs_live_t *l, acct_t *a);

/* Adds an empty account (no state yet: hs__load_account reads it) of
 * `partition`, most recently used; NULL when out of memory. */
acct_t *hs__acct_add(hs_live_t *l, const char *id, size_t len, uint64_t h, int32_t partition);

/* Counts `a` in its new profile and band (-2: none, -1: not scored). */
void hs__band_move(hs_live_t *l, acct_t *a, int profile, int band);

/* Frees `a`, uncounting its band; the caller unlinks it first. */
void hs__acct_free(hs_live_t *l, acct_t *a);

/* Adds `a` to the dirty set written by the next flush. Allocates nothing,
 * so it cannot fail: an applied event is always written. */
void hs__mark_dirty(hs_live_t *l, acct_t *a);

/* Removes `a` from the table and frees it; nothing may point at it. */
void hs__acct_remove(hs_live_t *l, acct_t *a);

/* Drops clean accounts, least recently used first, beyond
 * engine.max_accounts: none being read, referenced by a queued message, or
 * written by a flush not yet acknowledged. */
void hs__evict(hs_live_t *l);

/* Sizes the band counts for model `m`. Returns 0 or HS_E_NOMEM. */
int hs__band_arrays(hs_live_t *l, const hs_model_t *m);

/* ---- merge.c ----------------------------------------------------------- */

/* Frees a partition group and the messages it holds. */
void hs__group_free(hs_live_t *l, group_t *g);
/* Frees the rings of the empty queues (a backlog grows each to up to
 * QUEUE_PAUSE entries of ~100 B, for every topic partition), when idle. */
void hs__queues_release(hs_live_t *l);

/* True when this turn of the loop may do more work; otherwise the work
 * left is picked up at the next turn. */
bool hs__budget_left(hs_live_t *l);

/* Counts work done in this turn: `days` account-days evaluated. */
void hs__budget_spend(hs_live_t *l, int64_t days);

/* Applies the group's events in event-time order while every topic either
 * has a message buffered or has reached its end (and, with max_idle, the
 * head has waited long enough). */
void hs__group_pump(hs_live_t *l, group_t *g);

/* Refuses group `g`: its partitions are paused and what it buffered is
 * released; nothing more of it is applied or written (what it applied
 * before stays and is written as usual: it is a prefix of its input).
 * Logged at error with `why`, counted under `reason` in
 * healthscore_state_refused_total, and /readyz says why until the next
 * assignment or resync. */
void hs__group_refuse(hs_live_t *l, group_t *g, const char *reason, const char *why);

/* The consumer's take callback: a message arrives; true when the engine
 * keeps it (queued in its group). */
bool hs__on_take(void *ud, rd_kafka_message_t *m);

/* ---- apply.c ----------------------------------------------------------- */

/* Decodes and checks a message; returns 0 and the event, or writes the
 * reason for dead-lettering. */
int hs__check_event(hs_live_t *l, hs_decoder_t *d, const rd_kafka_message_t *m, hs_event_t *ev,
                    char *why, size_t n);

/* Applies the entry at the head of `tp`. Returns false when it must wait
 * (its account is being read from Redis). */
bool hs__apply_entry(hs_live_t *l, group_t *g, int t, entry_t *e);

/* Reads the state of `a` from Redis; its answer resumes the group. */
void hs__load_account(hs_live_t *l, acct_t *a);

/* Ages idle accounts, from the most recently used on, within the turn's
 * budget: the pass goes on at the next turn (on_resume) where it stopped. */
void hs__idle_continue(hs_live_t *l);

/* Starts a pass that ages idle accounts (engine.idle_interval). */
void hs__on_idle_timer(uv_timer_t *t);

/* ---- outbox.c ---------------------------------------------------------- */

/* Frees a message of the outbox. */
void hs__outmsg_free(outmsg_t *o);

/* Sends again what failed; called by the tick timer. */
void hs__retry_sends(hs_live_t *l);

/* Queues a copy of the message; failed sends are retried until delivered.
 * The key and value are always present (never null, which a compacted topic
 * would take for a tombstone), even when empty. */
outmsg_t *hs__produce(hs_live_t *l, const char *topic, const void *key, size_t key_len,
                      const void *value, size_t len, const char *const *hdr, size_t n_hdr,
                      const char *dead_kind);

/* The producer's delivery report of a message of the outbox. */
void hs__on_delivery(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                     const char *reason);

/* Sends a rejected message to the dead-letter topic with its reason and
 * source. A message larger than the producer takes is cut to fit, with
 * headers saying so and giving its original size. */
void hs__dead_letter(hs_live_t *l, const rd_kafka_message_t *m, const char *reason);

/* ---- commit.c ---------------------------------------------------------- */

/* Writes every dirty account, each with the input it covers, then the
 * positions of every group, in one commit (store.h). One commit is in
 * flight at a time. */
void hs__flush(hs_live_t *l);

/* Sends the held flush once the messages it waits for are delivered. */
void hs__release_held(hs_live_t *l);

/* Drops the held flush, if any. */
void hs__drop_held(hs_live_t *l);

/* engine.flush_interval: flushes. */
void hs__on_flush_timer(uv_timer_t *t);

/* ---- sync.c ------------------------------------------------------------ */

/* Drops every account, queued message and group: what a resync or a
 * revocation starts from. */
void hs__drop_all(hs_live_t *l);

/* Moves the engine to `mode`, logging the change (with `why`) at info. */
void hs__set_mode(hs_live_t *l, live_mode_t mode, const char *why);

/* An allocation failed where an applied event's effect (its state, an
 * alert, a day of history, a queued message) would otherwise be dropped:
 * logs `what` at error and asks for a resync (cause out_of_memory), so
 * that the input is applied again from what Redis holds. */
void hs__nomem_resync(hs_live_t *l, const char *what);

/* Asks for a resync (done by the tick timer, outside any callback chain):
 * what is held can no longer be trusted to match Redis. Fetching stops at
 * once, so nothing is read only to be dropped. `cause` (RS_*) and the
 * reason go to the metrics, the log and /readyz. */
void hs__want_resync(hs_live_t *l, int cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The consumer's assignment: resumes from the positions in Redis. */
void hs__on_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts);

/* Gives the revoked partitions up, with what is held. */
void hs__finish_revoke(hs_live_t *l);

/* The consumer's revocation: writes the state first, then gives up. */
void hs__on_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts);

/* Resumes from Redis, counted by cause and logged: every resync when they
 * are rare, then at most one line every LOG_EVERY_MS with the number left
 * out (a resync loop is visible, not a flood). */
void hs__resync_now(hs_live_t *l);

/* ---- metrics.c --------------------------------------------------------- */

/* The series of family `f` with label value `v` (NULL: out of memory). */
hs_series_t *hs__series1(hs_family_t *f, const char *v);

/* The series of family `f` with label values `a`, `b`. */
hs_series_t *hs__series2(hs_family_t *f, const char *a, const char *b);

/* Adds `v` to series `s`, when there is one. */
void hs__count(hs_series_t *s, double v);

/* The input message counter of topic `topic` and event type `type` (0:
 * invalid). */
hs_series_t *hs__event_series(hs_live_t *l, int topic, int type);

/* librdkafka's statistics: the consumer lag of each input partition. */
void hs__on_stats(void *ud, const char *json, size_t len);

/* Registers every metric of the engine in `r`. Returns 0 or HS_E_NOMEM. */
int hs__make_metrics(hs_live_t *l, hs_metrics_t *r);

/* ---- ready.c ----------------------------------------------------------- */

/* True when nothing waits to be made durable: no resync, no flush, no
 * account changed, and every partition group assigned has applied and
 * written all its input up to the end of its partitions. */
bool hs__caught_up(const hs_live_t *l);

/* How long the engine may hold input it has not made durable before it is
 * not ready (ms). */
uint64_t hs__stall_ms(const hs_live_t *l);

/* What the engine waits for, for a log line or /readyz (e.g. "a flush
 * built at ... waits for 2 messages to Kafka"). */
void hs__waiting_for(const hs_live_t *l, char *buf, size_t n);

/* Called by the tick: no durable progress for STALL_RESYNC_TIMES the stall
 * window, with Redis and Kafka reachable, resyncs (cause stalled), without
 * waiting for answers that may never come; logged with what it waited for. */
void hs__check_stall(hs_live_t *l);

/* ---- live.c ------------------------------------------------------------ */

/* Shutdown, step by step: wait for the last flush, then leave the group and
 * close everything. Called from the tick timer and after each commit. */
void hs__stop_step(hs_live_t *l);

#endif
