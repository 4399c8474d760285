/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The live engine in process: redis-server, the mock cluster and the
 * engine on the test's loop (livetest.h). */
#include "livetest.h"

#include "healthscore/codec.h"
#include "healthscore/log.h"
#include "healthscore/state.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

rd_kafka_mock_cluster_t *lt_cluster;
char lt_topic_a[32], lt_topic_b[32], lt_alerts[32], lt_dead[32];
static rd_kafka_t *cluster_rk, *producer;
static char bootstrap[256];
static int redis_port;
static pid_t redis_pid;
static redisContext *redis;
static unsigned serial;

static bool start_redis(void) {
  char p[16];
  redis_port = hs_test_free_port();
  snprintf(p, sizeof p, "%d", redis_port);
  redis_pid = fork();
  if (redis_pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, even when it crashes */
    if (!freopen("/dev/null", "w", stdout))
      _exit(127);
    execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", (char *)NULL);
    _exit(127);
  }
  struct timeval tv = {0, 200000};
  for (int i = 0; i < 100; i++) {
    redis = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    if (redis && !redis->err) {
      redisReply *r = redisCommand(redis, "PING");
      bool ok = r && r->type == REDIS_REPLY_STATUS;
      freeReplyObject(r);
      if (ok)
        return true;
    }
    if (redis)
      redisFree(redis);
    redis = NULL;
    usleep(50000);
  }
  return false;
}

int lt_setup(void **state) {
  (void)state;
  hs_log_setup(HS_LOG_INFO, false);
  if (!start_redis())
    return -1;
  char errstr[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
  cluster_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!cluster_rk)
    return -1;
  lt_cluster = rd_kafka_mock_cluster_new(cluster_rk, 2);
  if (!lt_cluster)
    return -1;
  snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(lt_cluster));
  conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof errstr);
  producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  return producer ? 0 : -1;
}

int lt_teardown(void **state) {
  (void)state;
  if (producer)
    rd_kafka_destroy(producer);
  if (lt_cluster)
    rd_kafka_mock_cluster_destroy(lt_cluster);
  if (cluster_rk)
    rd_kafka_destroy(cluster_rk);
  if (redis)
    redisFree(redis);
  if (redis_pid > 0) {
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
  }
  return 0;
}

static void on_wake(uv_timer_t *t) {
  (void)t;
}

/* Fresh topics: the inputs on broker 1, the outputs on broker 2 (a test
 * may take it away without stopping the input). */
static void make_topics(void) {
  snprintf(lt_topic_a, sizeof lt_topic_a, "lt%u.usage", serial);
  snprintf(lt_topic_b, sizeof lt_topic_b, "lt%u.billing", serial);
  snprintf(lt_alerts, sizeof lt_alerts, "lt%u.alerts", serial);
  snprintf(lt_dead, sizeof lt_dead, "lt%u.deadletter", serial);
  const char *inputs[] = {lt_topic_a, lt_topic_b};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(rd_kafka_mock_topic_create(lt_cluster, inputs[i], LT_PARTITIONS, 1), 0);
    for (int p = 0; p < LT_PARTITIONS; p++)
      rd_kafka_mock_partition_set_leader(lt_cluster, inputs[i], p, 1);
  }
  const char *outputs[] = {lt_alerts, lt_dead};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(rd_kafka_mock_topic_create(lt_cluster, outputs[i], 1, 1), 0);
    rd_kafka_mock_partition_set_leader(lt_cluster, outputs[i], 0, 2);
  }
}

void lt_prepare(lt_t *t, const char *extra) {
  memset(t, 0, sizeof *t);
  serial++;
  snprintf(t->prefix, sizeof t->prefix, "lt%u", serial);
  make_topics();
  char yaml[4096];
  snprintf(yaml, sizeof yaml,
           "engine:\n"
           "  profiles: %s\n"
           "  idle_interval: 0\n"
           "  flush_interval: 50ms\n"
           "%s"
           "kafka:\n"
           "  bootstrap: \"%s\"\n"
           "  group_id: lt-%d-%u\n"
           "  topics: [%s, %s]\n"
           "  alerts_topic: %s\n"
           "  deadletter_topic: %s\n"
           "  consumer:\n"
           "    session.timeout.ms: \"6000\"\n"
           "    heartbeat.interval.ms: \"500\"\n"
           "    fetch.wait.max.ms: \"20\"\n"
           "redis:\n"
           "  port: %d\n"
           "  prefix: %s\n",
           hs_test_path("examples/customer-behavior.yaml"), extra ? extra : "", bootstrap,
           (int)getpid(), serial, lt_topic_a, lt_topic_b, lt_alerts, lt_dead, redis_port,
           t->prefix);
  hs_err_t err = {0};
  assert_int_equal(hs_settings_defaults(&t->s), 0);
  if (hs_settings_load_string(yaml, strlen(yaml), "test.yaml", &t->s, &err))
    fail_msg("settings: %s", err.msg);
  hs_config_t *cfg = NULL;
  if (hs_config_load_file(t->s.profiles, &cfg, &err) || hs_model_compile(cfg, &t->model, &err))
    fail_msg("profiles: %s", err.msg);
  hs_config_free(cfg);
  t->metrics = hs_metrics_new();
  assert_non_null(t->metrics);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  uv_timer_init(&t->loop, &t->wake);
  uv_timer_start(&t->wake, on_wake, 10, 10);
}

void lt_start(lt_t *t, const char *extra) {
  lt_prepare(t, extra);
  hs_err_t err = {0};
  if (hs_live_new(&t->live, &t->loop, &t->s, t->model, t->metrics, &err))
    fail_msg("hs_live_new: %s", err.msg);
}

bool lt_run_until(lt_t *t, bool (*pred)(lt_t *t, void *arg), void *arg, int ms) {
  uv_update_time(&t->loop);
  uint64_t end = uv_now(&t->loop) + (uint64_t)ms;
  while (!pred(t, arg) && uv_now(&t->loop) < end) {
    uv_run(&t->loop, UV_RUN_ONCE);
    uv_update_time(&t->loop);
  }
  return pred(t, arg);
}

static bool never(lt_t *t, void *arg) {
  (void)t, (void)arg;
  return false;
}

void lt_run_for(lt_t *t, int ms) {
  lt_run_until(t, never, NULL, ms);
}

bool lt_ready(lt_t *t, void *arg) {
  (void)arg;
  char why[256];
  return t->live && hs_live_ready(t->live, why, sizeof why);
}

bool lt_settled(lt_t *t, void *arg) {
  (void)arg;
  return t->live && t->live->mode == LIVE_RUNNING && hs__caught_up(t->live);
}

static void on_stopped(void *ud, int status) {
  lt_t *t = ud;
  t->stopped = true;
  t->stop_status = status;
  t->stop_calls++;
  t->live = NULL;
}

static bool is_stopped(lt_t *t, void *arg) {
  (void)arg;
  return t->stopped;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
}

void lt_finish(lt_t *t) {
  if (t->live && !t->stopped) {
    assert_int_equal(hs_live_stop(t->live, 5000, on_stopped, t), 0);
    assert_true(lt_run_until(t, is_stopped, NULL, 15000));
  }
  uv_close((uv_handle_t *)&t->wake, on_closed);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&t->loop), 0);
  hs_metrics_free(t->metrics);
  hs_model_free(t->model);
  hs_settings_free(&t->s);
}

int64_t lt_end_offset(const char *topic, int partition) {
  int64_t lo = 0, hi = 0;
  assert_int_equal(rd_kafka_query_watermark_offsets(producer, topic, partition, &lo, &hi, 5000), 0);
  return hi;
}

int lt_home(const char *account) {
  return rd_kafka_msg_partitioner_murmur2(NULL, account, strlen(account), LT_PARTITIONS, NULL,
                                          NULL);
}

void lt_produce(const char *topic, const char *account, int partition, const char *json) {
  lt_produce_nowait(topic, account, partition, json);
  lt_flush();
}

void lt_flush(void) {
  assert_int_equal(rd_kafka_flush(producer, 10000), 0);
}

void lt_account_of(int p, const char *stem, int n, char *out, size_t size) {
  for (int i = 0;; i++) {
    snprintf(out, size, "%s-%d-%d", stem, n, i);
    if (lt_home(out) == p)
      return;
  }
}

bool lt_has_state(lt_t *t, void *account) {
  size_t len;
  char *s = lt_state(t, account, &len);
  hs_free(s);
  return s != NULL;
}

void lt_produce_nowait(const char *topic, const char *account, int partition, const char *json) {
  assert_int_equal(
      rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_PARTITION(partition >= 0 ? partition : lt_home(account)),
                        RD_KAFKA_V_KEY(account, strlen(account)),
                        RD_KAFKA_V_VALUE((void *)json, strlen(json)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
      0);
  rd_kafka_poll(producer, 0);
}

const char *lt_login(const char *account, const char *id, int64_t ts) {
  static char buf[512];
  snprintf(buf, sizeof buf,
           "{\"event_id\":\"%s\",\"account_id\":\"%s\",\"type\":\"login\",\"ts\":%lld,"
           "\"session_seconds\":60}",
           id, account, (long long)ts);
  return buf;
}

int64_t lt_now_ms(void) {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

redisReply *lt_redis(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(redis, fmt, ap);
  va_end(ap);
  assert_non_null(r);
  return r;
}

char *lt_state(lt_t *t, const char *account, size_t *len) {
  hs_buf_t key;
  hs_buf_init(&key);
  assert_int_equal(hs_store_account_key(&key, t->prefix,
                                        (hs_str_t){account, (uint32_t)strlen(account)}, "state"),
                   0);
  redisReply *r = redisCommand(redis, "GET %b", key.data, key.len);
  hs_buf_free(&key);
  assert_non_null(r);
  char *out = NULL;
  if (r->type == REDIS_REPLY_STRING) {
    out = hs_malloc(r->len ? r->len : 1);
    memcpy(out, r->str, r->len);
    *len = r->len;
  }
  freeReplyObject(r);
  return out;
}

double lt_metric(lt_t *t, const char *series) {
  if (t->live)
    hs_live_update_metrics(t->live);
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_metrics_render(t->metrics, &b), 0);
  assert_int_equal(hs_buf_append(&b, "", 1), 0);
  double sum = 0;
  size_t n = strlen(series);
  for (char *line = b.data; line && *line;) {
    char *next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    if (line[0] != '#' && !strncmp(line, series, n) && (line[n] == ' ' || line[n] == '{')) {
      char *sp = strrchr(line, ' ');
      sum += sp ? strtod(sp + 1, NULL) : 0;
    }
    line = next;
  }
  hs_buf_free(&b);
  return sum;
}

static void no_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  (void)ud, (void)a, (void)ev;
}

char *lt_reference_state(const hs_model_t *m, const char *account, const char *const *events,
                         size_t n, size_t *len) {
  hs_decoder_t *d = NULL;
  hs_account_t *a = NULL;
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  assert_int_equal(hs_account_new(m, (hs_str_t){account, (uint32_t)strlen(account)}, &a), 0);
  for (size_t i = 0; i < n; i++) {
    hs_event_t ev;
    hs_err_t err = {0};
    assert_int_equal(hs_event_decode(d, events[i], strlen(events[i]), HS_FMT_AUTO, &ev, &err), 0);
    assert_true(hs_account_apply(m, a, &ev, no_eval, NULL) >= 0);
  }
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_account_encode(m, a, &b), 0);
  hs_account_free(a);
  hs_decoder_free(d);
  *len = b.len;
  return b.data;
}

void lt_set_key(lt_t *t, const char *account, const char *suffix, const char *v, size_t n) {
  hs_buf_t key;
  hs_buf_init(&key);
  assert_int_equal(
      hs_store_account_key(&key, t->prefix, (hs_str_t){account, (uint32_t)strlen(account)}, suffix),
      0);
  freeReplyObject(lt_redis("SET %b %b", key.data, key.len, v, n));
  hs_buf_free(&key);
}

void lt_assert_state(lt_t *t, const char *account, const char *const *events, size_t n) {
  size_t len, want_len;
  char *want = lt_reference_state(t->model, account, events, n, &want_len);
  char *got = lt_state(t, account, &len);
  if (!got)
    fail_msg("no state stored for %s", account);
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, len);
  hs_free(got);
  hs_free(want);
}

bool lt_metric_reaches(lt_t *t, void *want) {
  lt_want_t *w = want;
  return lt_metric(t, w->series) >= w->at_least;
}
