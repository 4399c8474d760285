/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine in process, for the test_live_* programs: a real
 * redis-server on a free loopback port, librdkafka's mock cluster (two
 * brokers) with the input topics (two, co-partitioned), the alerts and the
 * dead-letter topic, and the engine itself on a libuv loop of the test.
 * The engine's rooms are reached through src/live/internal.h. */
#ifndef HS_LIVETEST_H
#define HS_LIVETEST_H

#include "testutil.h"

#include "healthscore/live.h"

#include "internal.h"

#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka_mock.h>

#define LT_PARTITIONS 2
/* The topics of the current test: fresh ones for each lt_prepare, so that
 * no test reads what another produced. */
extern char lt_topic_a[32], lt_topic_b[32], lt_alerts[32], lt_dead[32];
#define LT_TOPIC_A lt_topic_a
#define LT_TOPIC_B lt_topic_b
#define LT_ALERTS lt_alerts
#define LT_DEAD lt_dead
#define LT_DAY_MS 86400000LL

typedef struct lt_s {
  uv_loop_t loop;
  uv_timer_t wake; /* the loop never blocks longer than this period */
  hs_settings_t s;
  hs_model_t *model;
  hs_metrics_t *metrics;
  hs_live_t *live;
  char prefix[32];
  bool stopped;
  int stop_status, stop_calls;
} lt_t;

/* The mock cluster, for fault injection. */
extern rd_kafka_mock_cluster_t *lt_cluster;

/* cmocka group setup and teardown: starts and stops redis-server and the
 * mock cluster. */
int lt_setup(void **state);
int lt_teardown(void **state);

/* Makes the settings (`extra`: YAML lines added under engine:, e.g.
 * "  max_idle: 5s\n"; NULL for none) and the model, without an engine. A
 * fresh consumer group and key prefix each time. */
void lt_prepare(lt_t *t, const char *extra);
/* lt_prepare, then hs_live_new; fails the test when it fails. */
void lt_start(lt_t *t, const char *extra);
/* Turns the loop until `pred` holds (checked after each turn) or `ms` pass;
 * returns whether it held. */
bool lt_run_until(lt_t *t, bool (*pred)(lt_t *t, void *arg), void *arg, int ms);
/* Turns the loop `ms` more. */
void lt_run_for(lt_t *t, int ms);
/* True when the engine is ready (partitions assigned and resumed ...). */
bool lt_ready(lt_t *t, void *arg);
/* True when nothing waits to be written (hs__caught_up) and the engine runs. */
bool lt_settled(lt_t *t, void *arg);
/* Stops the engine (if running), turns the loop until it is freed, closes
 * the test's timer and asserts uv_loop_close() == 0; frees the rest. */
void lt_finish(lt_t *t);

/* Produces `json` with key `account` to its home partition (murmur2) of
 * input topic `topic`, or to `partition` when >= 0; waits for delivery. */
void lt_produce(const char *topic, const char *account, int partition, const char *json);
/* lt_produce without waiting: lt_flush waits for every message. */
void lt_produce_nowait(const char *topic, const char *account, int partition, const char *json);
void lt_flush(void);
/* An account of partition `p` named "STEM-N-I" (the first I that fits). */
void lt_account_of(int p, const char *stem, int n, char *out, size_t size);
/* True when the state of `account` (arg) is in Redis. */
bool lt_has_state(lt_t *t, void *account);
/* The offset after the last message of a partition of a topic. */
int64_t lt_end_offset(const char *topic, int partition);
/* The home partition of an account. */
int lt_home(const char *account);
/* A login event of `account` at `ts` (epoch ms), id `id`, in a static
 * buffer. */
const char *lt_login(const char *account, const char *id, int64_t ts);
/* Wall clock, epoch ms. */
int64_t lt_now_ms(void);

/* A Redis command on the test's server; the caller frees the reply. */
redisReply *lt_redis(const char *fmt, ...);
/* The stored state of `account` under `t`'s prefix (hs_free it), or NULL. */
char *lt_state(lt_t *t, const char *account, size_t *len);
/* Sets key SUFFIX ("state", "cover") of `account` under `t`'s prefix. */
void lt_set_key(lt_t *t, const char *account, const char *suffix, const char *v, size_t n);
/* Asserts that the stored state of `account` equals the one of `events`
 * applied in their order. */
void lt_assert_state(lt_t *t, const char *account, const char *const *events, size_t n);
/* lt_run_until predicates: a metric series reaches a value. */
typedef struct lt_want_s {
  const char *series;
  double at_least;
} lt_want_t;
bool lt_metric_reaches(lt_t *t, void *want);
/* The sum of every sample of a metric series ("name" or "name{label=...}")
 * the engine exposes. */
double lt_metric(lt_t *t, const char *series);
/* The state `model` gives `account` after `n` events, encoded (hs_free it). */
char *lt_reference_state(const hs_model_t *m, const char *account, const char *const *events,
                         size_t n, size_t *len);
#endif
