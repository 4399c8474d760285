/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapper's parts: mapper.c (the consumer, the producer, offsets,
 * pausing), source.c (one message framed and mapped), alias_redis.c (learned
 * aliases in Redis). */
#ifndef HS_MAPPER_INTERNAL_H
#define HS_MAPPER_INTERNAL_H

#include "healthscore/consumer.h"
#include "healthscore/mapper.h"
#include "healthscore/mapping.h"
#include "healthscore/producer.h"
#include "healthscore/registry.h"

#include <msgpack.h>

#define RETRY_MS 200 /* held messages and failed deliveries are tried again this often */
/* Messages mapped in one turn of the loop: the rest of a large fetch waits
 * for the next turns, so that /healthz, /metrics and the engine are served. */
#define TURN_BUDGET 2048
/* Messages kept for a partition before its fetching pauses until they are
 * mapped (no readiness effect: a backlog, not a failure). */
#define HELD_MAX 8192

/* Reject classes, the `reason` label of healthscore_source_rejects_total. */
enum {
  REJ_FRAME_FIRST = 0, /* hs_reject_t - 1: truncated_header ... too_big */
  REJ_MALFORMED = 7,   /* the value is not the format's (JSON, msgpack) */
  REJ_MAPPING,         /* a rule matched and could not map */
  REJ_UNMATCHED,       /* no rule matched, on_unmatched: deadletter */
  REJ__COUNT
};

/* One message held back (its partition paused) until it can be mapped. */
typedef struct held_s {
  struct held_s *next;
  rd_kafka_message_t *m;
} held_t;

/* A source message's offset whose outputs are not all acknowledged yet. */
typedef struct inflight_s {
  int64_t offset;
  uint32_t left; /* outputs not yet acknowledged */
} inflight_t;

typedef struct part_s {
  struct source_s *src;
  int32_t partition;
  bool assigned, paused;
  bool warned, logged; /* its pause was logged (as a warning) */
  bool throttled;      /* fetching paused for a backlog of held messages */
  bool fetch_paused;   /* what librdkafka was told: paused || throttled */
  size_t n_held;
  uint32_t gen;        /* bumped when the partition is revoked */
  int64_t next_offset; /* the next offset to map (-1: whatever comes) */
  /* -1, or the offset of a message that could not be kept (out of memory):
     the partition is read again from it, and nothing after it is mapped
     before it is */
  int64_t rewind;
  bool seek_failed; /* the seek back to `rewind` failed: tried again */
  held_t *held, *held_tail;
  inflight_t *ring; /* ring of offsets in flight, power-of-two capacity */
  uint64_t head, tail, cap;
} part_t;

typedef struct source_s {
  struct hs_mapper_s *mp;
  const hs_source_conf_t *conf;
  char *name;
  const char *to;
  hs_src_format_t format;
  int on_unmatched; /* -1: the mapping's; 0 skip; 1 deadletter */
  hs_mapping_t *mapping;
  hs_avro_schema_t *avro;
  hs_registry_t *registry;
  msgpack_zone zone;
  part_t **parts;
  size_t n_parts;
  const char *wait_reason; /* why a partition is held (static or in `why`) */
  char why[256];
  hs_alias_store_t aliases; /* learned aliases, in Redis */
  /* metrics */
  hs_series_t *m_messages, *m_events, *m_unmatched, *m_produce_failed, *m_paused, *m_no_event,
      *m_nomem;
  hs_series_t *m_rejects[REJ__COUNT];
} source_t;

/* What became of one message. */
typedef enum { MSG_DONE = 0, MSG_HOLD } msg_result_t;

struct hs_mapper_s {
  uv_loop_t *loop;
  const hs_settings_t *s;
  hs_metrics_t *metrics;
  hs_consumer_t *consumer;
  hs_producer_t *producer;
  hs_alias_store_t aliases;
  void *alias_ctx;
  source_t *sources;
  size_t n_sources;
  hs_doc_parser_t *parser, *event_parser;
  hs_doc_path_t *account_path;
  hs_buf_t out;
  size_t out_max;
  uv_timer_t retry_timer, stop_timer;
  uv_prepare_t turn; /* each turn of the loop: the budget starts again */
  uv_idle_t backlog; /* while messages wait for their turn */
  bool backlog_on;
  unsigned mapped_turn; /* messages mapped in this turn of the loop */
  int open_handles;
  bool stopping, failed_stop;
  bool reloading, reload_again; /* mapping files being read off the loop */
  uint64_t stop_deadline;
  void (*done)(void *ud, int status);
  void *done_ud;
  struct out_s *retry_list;   /* deliveries that failed, to send again */
  uint64_t progress_ms;       /* uv_now when an offset last became committable */
  uint64_t produce_failed_at; /* uv_now of the last failed delivery, 0: none */
  char produce_error[256];
  hs_series_t *m_reload_ok, *m_reload_failed;
  hs_family_t *f_messages, *f_events, *f_no_event, *f_unmatched, *f_produce_failed, *f_paused,
      *f_rejects, *f_nomem;
  bool registry_metrics; /* the first registry has them (one set per process) */
};

/* mapper.c: the consumer's and producer's callbacks, the retry timer. */
bool hs__mapper_take(void *ud, rd_kafka_message_t *m);
void hs__mapper_assigned(void *ud, const rd_kafka_topic_partition_list_t *parts);
void hs__mapper_revoked(void *ud, const rd_kafka_topic_partition_list_t *parts);
void hs__mapper_kafka_error(void *ud, int code, const char *reason);
void hs__mapper_kafka_log(void *ud, int level, const char *fac, const char *msg);
void hs__mapper_producer_log(int level, const char *fac, const char *msg);
void hs__mapper_delivery(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                         const char *reason);
void hs__mapper_retry(uv_timer_t *t);
void hs__mapper_turn(uv_prepare_t *h);
void hs__mapper_backlog(uv_idle_t *h);
/* Drops the held messages and the retries (before the consumer closes). */
void hs__mapper_drop_all(hs_mapper_t *mp);

/* source.c */
int hs__source_open(hs_mapper_t *mp, source_t *src, const hs_source_conf_t *c, bool check,
                    hs_err_t *err);
void hs__source_close(source_t *src);
/* Frames, maps and produces one message; MSG_HOLD when it must wait (with
 * src->wait_reason). */
msg_result_t hs__source_message(source_t *src, part_t *p, uint64_t seq,
                                const rd_kafka_message_t *m);

/* source.c: an allocation failed while mapping a message of `src` (which is
 * kept): counted, and the reason of the pause. */
msg_result_t hs__source_nomem(source_t *src, const char *what);

/* mapper.c: a registry resolved a schema id: the held messages are tried again. */
void hs__mapper_on_resolve(void *arg, uint32_t id);
/* mapper.c: produces a message whose acknowledgement the in-flight offset
 * `seq` of `p` (the message being mapped) waits for. Returns 0, or a
 * negative code (the queue is full...): nothing was sent. */
int hs__mapper_produce(hs_mapper_t *mp, part_t *p, uint64_t seq, const char *topic, const void *key,
                       size_t key_len, const void *value, size_t len, const hs_producer_header_t *h,
                       size_t n_h, hs_err_t *err);

/* alias_redis.c: learned aliases in Redis (PREFIX:alias:SOURCE:TABLE
 * hashes), written through, read on a miss of the local cache. */
int hs__alias_redis_new(const hs_settings_t *s, hs_alias_store_t *store, hs_err_t *err);
/* Releases the connection and every store made by hs__alias_redis_for. */
void hs__alias_redis_free(hs_alias_store_t *store);
/* The store of one source (its name in the keys). Returns 0 or HS_E_NOMEM. */
int hs__alias_redis_for(hs_alias_store_t *base, const char *source, hs_alias_store_t *out);

#endif
