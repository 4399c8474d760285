/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Kafka consumer-group member on a libuv loop. librdkafka wakes the loop
 * through rd_kafka_queue_io_event_enable() on a non-blocking pipe watched by
 * uv_poll; the queue is drained until empty, and a periodic timer keeps the
 * member alive in its group when no messages flow. Offsets are never stored
 * automatically: the owner stores an offset once the state it covers is
 * durable (hs_consumer_store_offset), and librdkafka commits stored offsets.
 * Loop thread only. */
#ifndef HEALTHSCORE_CONSUMER_H
#define HEALTHSCORE_CONSUMER_H

#include "healthscore/base.h"

#include <librdkafka/rdkafka.h>
#include <uv.h>

typedef struct hs_consumer_s hs_consumer_t;

typedef struct hs_consumer_conf_s {
  const char *bootstrap; /* bootstrap.servers */
  const char *group_id;
  const char *instance_id; /* group.instance.id (static membership), or NULL/"" */
  const char *const *topics;
  size_t n_topics;
  /* further librdkafka settings as name, value pairs (SASL, TLS, timeouts);
     they override the defaults (range assignor, no auto offset store) */
  const char *const *settings;
  size_t n_settings;
  /* false: assigned partitions are consumed from their committed offsets at
     once. true: cbs.assigned decides the offsets and completes the
     assignment with hs_consumer_assign() — now or later */
  bool manual_assign;
} hs_consumer_conf_t;

typedef struct hs_consumer_cbs_s {
  /* a message, borrowed for the call; errors reported by the broker for a
     partition arrive here too, with m->err set */
  void (*message)(void *ud, const rd_kafka_message_t *m);
  /* partitions were assigned; consumption of them starts after the call */
  void (*assigned)(void *ud, const rd_kafka_topic_partition_list_t *parts);
  /* partitions are being taken away: the owner makes their state durable,
     then calls hs_consumer_revoke_done() — now or later */
  void (*revoked)(void *ud, const rd_kafka_topic_partition_list_t *parts);
  /* a client-level error (all brokers down, authentication ...) */
  void (*error)(void *ud, int code, const char *reason);
  /* instead of `message`: every message and partition event (end of
     partition included, with enable.partition.eof); returning true takes the
     message, which the owner releases with rd_kafka_message_destroy() before
     hs_consumer_close() */
  bool (*take)(void *ud, rd_kafka_message_t *m);
  /* librdkafka's statistics JSON (statistics.interval.ms), borrowed */
  void (*stats)(void *ud, const char *json, size_t len);
  /* librdkafka's log lines; may be called from librdkafka's threads */
  void (*log)(void *ud, int level, const char *fac, const char *msg);
} hs_consumer_cbs_t;

/* Creates the consumer and subscribes. `conf` and `cbs` are copied; `loop`
 * is borrowed (it must outlive the consumer). Returns 0 and the consumer in
 * *out, the caller's, ended with hs_consumer_close (never freed otherwise);
 * or a negative code with the reason in `err` (a bad setting names it), *out
 * NULL and nothing opened: no handle on the loop, nothing to close. */
int hs_consumer_new(hs_consumer_t **out, uv_loop_t *loop, const hs_consumer_conf_t *conf,
                    const hs_consumer_cbs_t *cbs, void *ud, hs_err_t *err);
/* Consumes exactly `parts` from the offsets they carry (a logical offset
 * such as RD_KAFKA_OFFSET_BEGINNING, or an absolute one), replacing the
 * current assignment: completes a manual assignment, or rewinds partitions
 * already assigned. `parts` stays the caller's. Returns 0, or HS_E_INVAL
 * when librdkafka refuses it (e.g. under a cooperative assignor, which takes
 * incremental changes only): the assignment is then unchanged. */
int hs_consumer_assign(hs_consumer_t *c, const rd_kafka_topic_partition_list_t *parts);
/* The partitions assigned by the group and not yet revoked (a copy, which
 * the caller destroys), or NULL. */
rd_kafka_topic_partition_list_t *hs_consumer_group_assignment(const hs_consumer_t *c);
/* The librdkafka handle, for metadata and watermark queries: borrowed,
 * valid until hs_consumer_close; never destroy it. */
rd_kafka_t *hs_consumer_handle(const hs_consumer_t *c);
/* Completes a revocation announced through cbs.revoked. */
void hs_consumer_revoke_done(hs_consumer_t *c);
/* Stores `next_offset` (the offset of the next message to read) of a
 * partition for commit. Returns 0 or HS_E_INVAL if it is not assigned. */
int hs_consumer_store_offset(hs_consumer_t *c, const char *topic, int32_t partition,
                             int64_t next_offset);
/* Pauses or resumes fetching of every assigned partition (e.g. while Redis
 * is unreachable). */
void hs_consumer_pause(hs_consumer_t *c, bool pause);
/* Pauses or resumes fetching of one partition. */
void hs_consumer_pause_partition(hs_consumer_t *c, const char *topic, int32_t partition,
                                 bool pause);
/* Messages delivered so far. */
uint64_t hs_consumer_messages(const hs_consumer_t *c);
/* Reads the partition count of each of `topics` through `rk` (any handle
 * connected to the cluster), retrying for up to `wait_ms` while Kafka is
 * unreachable or a leader is not elected yet; `waiting` (may be NULL) is
 * called with the reason before each retry. Blocks the calling thread: for
 * use before the loop runs. Every topic must have the same count (the input
 * topics are co-partitioned). Returns 0 and the count in *n_partitions, or
 * HS_E_CONFIG with the reason in `err`. Nothing is allocated for the
 * caller. */
int hs_kafka_partition_count(rd_kafka_t *rk, const char *const *topics, size_t n_topics,
                             int wait_ms, void (*waiting)(void *ud, const char *reason), void *ud,
                             int32_t *n_partitions, hs_err_t *err);
/* Leaves the group (the revoke callback runs; offsets stored so far are
 * committed), destroys the client and closes the handles; `closed` runs when
 * everything is released. Blocks the loop for the leave, briefly. May be
 * called from the consumer's own callbacks: it then takes effect once the
 * message being handed out is released. `c` is freed before `closed` runs;
 * `ud` is the caller's. */
void hs_consumer_close(hs_consumer_t *c, void (*closed)(void *ud), void *ud);

#endif
