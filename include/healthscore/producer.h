/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Kafka producer on a libuv loop, for alerts and the dead-letter topic:
 * idempotent (no duplicates or reordering from retries), delivery reports
 * served on the loop through the same pipe wakeup as the consumer. Every
 * message produced gets exactly one report: delivered, or failed with the
 * reason after librdkafka's retries ran out. Loop thread only. */
#ifndef HEALTHSCORE_PRODUCER_H
#define HEALTHSCORE_PRODUCER_H

#include "healthscore/base.h"

#include <uv.h>

typedef struct hs_producer_s hs_producer_t;

typedef struct hs_producer_conf_s {
  const char *bootstrap;
  /* further librdkafka settings as name, value pairs */
  const char *const *settings;
  size_t n_settings;
  /* librdkafka's log lines, or NULL for its default (stderr); may be called
     from librdkafka's threads */
  void (*log)(int level, const char *fac, const char *msg);
} hs_producer_conf_t;

/* status 0: delivered at (partition, offset); otherwise a negative code and
 * the reason. `opaque` is what hs_producer_send was given. */
typedef void (*hs_producer_report_cb)(void *ud, void *opaque, int status, int32_t partition,
                                      int64_t offset, const char *reason);

typedef struct hs_producer_header_s {
  const char *name;
  const void *value;
  size_t len;
} hs_producer_header_t;

/* Creates the producer (murmur2 partitioner, so keys land where Java
 * clients would put them). `conf` is copied, `loop` borrowed (it must
 * outlive the producer). Returns 0 and the producer in *out, the caller's,
 * ended with hs_producer_close (never freed otherwise); or a negative code
 * with the reason, *out NULL and nothing opened. */
int hs_producer_new(hs_producer_t **out, uv_loop_t *loop, const hs_producer_conf_t *conf,
                    hs_producer_report_cb report, void *ud, hs_err_t *err);
/* Queues a message (key, value and headers are copied; a key or value
 * pointer that is not NULL is sent as present, even when empty). Returns 0,
 * or a negative code — then no report will come: HS_E_TOOBIG when the local
 * queue is full, HS_E_RANGE when the message is larger than the producer's
 * message.max.bytes, HS_E_IO otherwise (an invalid topic name, ...). */
int hs_producer_send(hs_producer_t *p, const char *topic, const void *key, size_t key_len,
                     const void *value, size_t len, const hs_producer_header_t *headers,
                     size_t n_headers, void *opaque, hs_err_t *err);
/* The largest message the producer sends (its message.max.bytes). */
size_t hs_producer_max_bytes(const hs_producer_t *p);
/* Fits a copy of a message (a dead letter) of *key_len + *len bytes into
 * what a producer of `max_bytes` sends, leaving room for headers (each at
 * most 512 bytes) and the record's own overhead: when it does not fit, cuts
 * the key to 1024 bytes if it takes over half, then the value, sets *key_len
 * and *len to what is kept, writes what was cut into `what` (of `n` bytes)
 * and returns true. */
bool hs_producer_fit(size_t max_bytes, size_t *key_len, size_t *len, char *what, size_t n);
/* Messages queued and not yet reported. */
size_t hs_producer_pending(const hs_producer_t *p);
/* Learns `topics` now (partitions and leaders; blocks up to timeout_ms), so
 * that the first message to each does not wait for a metadata request:
 * while the producer learns a new topic, the messages of every topic wait
 * with it. Returns 0, or HS_E_IO naming the first topic it could not learn. */
int hs_producer_warm(hs_producer_t *p, const char *const *topics, size_t n, int timeout_ms,
                     hs_err_t *err);
/* Waits up to `timeout_ms` for every pending report (served on this
 * thread), then destroys the client and closes the handles; `closed` runs
 * when everything is released. Reports of messages still undelivered then
 * arrive with a failure. `p` is freed before `closed` runs; `ud` is the
 * caller's. */
void hs_producer_close(hs_producer_t *p, int timeout_ms, void (*closed)(void *ud), void *ud);

#endif
