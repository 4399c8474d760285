/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis store against a real redis-server on a free loopback port:
 * atomic commits read back, a frozen server times out, a restarted one is
 * reconnected to, and closing leaves the loop empty. */
#include "testutil.h"

#include "healthscore/store.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int port;
static pid_t redis_pid;

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
      getsockname(fd, (struct sockaddr *)&a, &len))
    return -1;
  close(fd);
  return ntohs(a.sin_port);
}

static bool ping(void) {
  struct timeval tv = {0, 200000};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  bool ok = false;
  if (c && !c->err) {
    redisReply *r = redisCommand(c, "PING");
    /* a server that asks for a password is up too */
    ok = r && (r->type == REDIS_REPLY_STATUS ||
               (r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOAUTH")));
    freeReplyObject(r);
  }
  if (c)
    redisFree(c);
  return ok;
}

static const char *requirepass = ""; /* "": no password */

static void start_redis(void) {
  char p[16];
  snprintf(p, sizeof p, "%d", port);
  redis_pid = fork();
  if (redis_pid == 0) {
    freopen("/dev/null", "w", stdout);
    execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--requirepass", requirepass, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100 && !ping(); i++)
    usleep(50000);
  assert_true(ping());
}

static void stop_redis(void) {
  if (redis_pid > 0) {
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
    redis_pid = 0;
  }
}

static int setup(void **state) {
  (void)state;
  port = free_port();
  if (port <= 0)
    return -1;
  start_redis();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  stop_redis();
  return 0;
}

/* Runs the loop until *flag is set or `ms` pass; returns the flag. */
static bool run_until(uv_loop_t *loop, bool *flag, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (!*flag && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return *flag;
}

static bool connected_flag(hs_store_t *s) {
  return hs_store_connected(s);
}

static bool wait_connected(uv_loop_t *loop, hs_store_t *s, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (!connected_flag(s) && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return connected_flag(s);
}

typedef struct result_s {
  bool done;
  int status;
  char data[256];
  size_t len;
  bool present;
  int64_t offset;
  char err[256];
} result_t;

static void on_done(void *ud, int status, const hs_err_t *err) {
  result_t *r = ud;
  r->done = true;
  r->status = status;
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
}

static void on_get(void *ud, int status, const char *data, size_t len) {
  result_t *r = ud;
  r->done = true;
  r->status = status;
  r->present = data != NULL;
  r->len = len < sizeof r->data ? len : sizeof r->data;
  if (data)
    memcpy(r->data, data, r->len);
}

static void on_pos(void *ud, int status, int64_t offset) {
  result_t *r = ud;
  r->done = true;
  r->status = status;
  r->offset = offset;
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static hs_store_t *open_store(uv_loop_t *loop, int timeout_ms) {
  hs_store_t *s;
  hs_err_t err = {0};
  hs_store_conf_t conf = {
      .port = port, .prefix = "t", .timeout_ms = timeout_ms, .reconnect_ms = 50};
  assert_int_equal(hs_store_new(&s, loop, &conf, &err), 0);
  assert_true(wait_connected(loop, s, 3000));
  return s;
}

static void close_store(uv_loop_t *loop, hs_store_t *s) {
  bool closed = false;
  hs_store_close(s, on_closed, &closed);
  uv_run(loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(loop), 0);
}

static void test_commit_reads_back(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  const char bin[] = {'\x92', '\x00', '\xc0', 'x'}; /* binary-safe */
  const int32_t days[] = {20499, 20500};
  const double scores[] = {70.25, 72.5};
  hs_store_write_t w[] = {
      {{"acct-1", 6}, bin, sizeof bin, "{\"score\":72.5}", 14, days, scores, 2},
      {{"acct-2", 6}, "s2", 2, NULL, 0, NULL, NULL, 0},
  };
  hs_store_pos_t pos[] = {{"g", "healthscore.usage", 3, 1234, -1},
                          {"g", "healthscore.billing", 3, 77, -1}};
  result_t r = {0};
  assert_int_equal(hs_store_commit(s, w, 2, pos, 2, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_state(s, (hs_str_t){"acct-1", 6}, on_get, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_true(r.present && r.len == sizeof bin);
  assert_memory_equal(r.data, bin, sizeof bin);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_state(s, (hs_str_t){"nobody", 6}, on_get, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  assert_false(r.present);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_position(s, "g", "healthscore.usage", 3, on_pos, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.offset, 1234);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_position(s, "g", "healthscore.usage", 4, on_pos, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.offset, -1);
  /* the key layout, seen from a plain client */
  redisContext *c = redisConnect("127.0.0.1", port);
  redisReply *rep = redisCommand(c, "HGET t:{acct-1}:history 2026-02-16");
  assert_true(rep && rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "72.5"));
  freeReplyObject(rep);
  rep = redisCommand(c, "HGET t:{acct-1}:history 2026-02-15");
  assert_true(rep && rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "70.3"));
  freeReplyObject(rep);
  rep = redisCommand(c, "GET t:{acct-1}:score");
  assert_true(rep && rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "{\"score\":72.5}"));
  freeReplyObject(rep);
  rep = redisCommand(c, "EXISTS t:{acct-2}:score");
  assert_true(rep && rep->integer == 0);
  freeReplyObject(rep);
  redisFree(c);
  assert_int_equal(hs_store_inflight(s), 0);
  close_store(&loop, s);
}

/* A writer whose expected position is stale writes nothing. */
static void test_stale_writer_is_fenced(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  hs_store_write_t w = {{"acct-f", 6}, "new", 3, NULL, 0, NULL, NULL, 0};
  hs_store_pos_t pos = {"g", "healthscore.usage", 7, 10, -1};
  result_t r = {0};
  assert_int_equal(hs_store_commit(s, &w, 1, &pos, 1, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  /* another member moved on to 20; this one still believes 10 is stored... */
  pos.expect = 10;
  pos.offset = 20;
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_commit(s, &w, 1, &pos, 1, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  hs_store_write_t stale = {{"acct-f", 6}, "old", 3, NULL, 0, NULL, NULL, 0};
  pos.expect = 10;
  pos.offset = 15;
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_commit(s, &stale, 1, &pos, 1, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, HS_STORE_FENCED);
  assert_non_null(strstr(r.err, "t:pos:g:healthscore.usage:7"));
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_state(s, (hs_str_t){"acct-f", 6}, on_get, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_true(r.present && r.len == 3 && !memcmp(r.data, "new", 3));
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_position(s, "g", "healthscore.usage", 7, on_pos, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.offset, 20);
  assert_true(hs_store_commands(s) >= 5 && hs_store_bytes(s) > 0);
  close_store(&loop, s);
}

static void test_frozen_server_times_out_then_recovers(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 300);
  kill(redis_pid, SIGSTOP);
  hs_store_write_t w = {{"acct-9", 6}, "x", 1, NULL, 0, NULL, NULL, 0};
  result_t r = {0};
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000)); /* not a hang */
  assert_true(r.status < 0);
  assert_non_null(strstr(r.err, "connection lost"));
  assert_false(hs_store_connected(s));
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), HS_E_IO);
  kill(redis_pid, SIGCONT);
  assert_true(wait_connected(&loop, s, 6000));
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  close_store(&loop, s);
}

static void test_restarted_server_is_reconnected(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 1000);
  stop_redis();
  result_t r = {0};
  hs_store_write_t w = {{"acct-5", 6}, "y", 1, NULL, 0, NULL, NULL, 0};
  /* the loss is noticed; commits are refused, not queued */
  uint64_t end = uv_now(&loop) + 3000;
  while (hs_store_connected(s) && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  assert_false(hs_store_connected(s));
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), HS_E_IO);
  /* down long enough for reconnection attempts to fail first */
  end = uv_now(&loop) + 1500;
  while (uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  assert_false(hs_store_connected(s));
  assert_non_null(strstr(hs_store_last_error(s), "redis 127.0.0.1"));
  start_redis();
  assert_true(wait_connected(&loop, s, 8000));
  assert_int_equal(hs_store_connections(s), 2);
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  close_store(&loop, s);
}

/* AUTH: a wrong password keeps the store unconnected and says why; the
 * right one connects. */
static void test_password(void **state) {
  (void)state;
  stop_redis();
  requirepass = "s3cret";
  start_redis();
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s;
  hs_err_t err = {0};
  hs_store_conf_t conf = {.port = port, .password = "wrong", .timeout_ms = 500, .reconnect_ms = 50};
  assert_int_equal(hs_store_new(&s, &loop, &conf, &err), 0);
  assert_false(wait_connected(&loop, s, 1000));
  assert_non_null(strstr(hs_store_last_error(s), "AUTH"));
  close_store(&loop, s);
  uv_loop_init(&loop);
  conf.password = "s3cret";
  assert_int_equal(hs_store_new(&s, &loop, &conf, &err), 0);
  assert_true(wait_connected(&loop, s, 3000));
  result_t r = {0};
  assert_int_equal(hs_store_get_state(s, (hs_str_t){"a", 1}, on_get, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, 0);
  close_store(&loop, s);
  stop_redis();
  requirepass = "";
  start_redis();
}

static void test_close_fails_inflight_once(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  result_t r[3] = {{0}};
  for (int i = 0; i < 3; i++)
    assert_int_equal(hs_store_get_state(s, (hs_str_t){"a", 1}, on_get, &r[i]), 0);
  close_store(&loop, s); /* closes before any reply: each callback runs once, with an error */
  for (int i = 0; i < 3; i++) {
    assert_true(r[i].done);
    assert_true(r[i].status < 0);
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_reads_back),
      cmocka_unit_test(test_stale_writer_is_fenced),
      cmocka_unit_test(test_frozen_server_times_out_then_recovers),
      cmocka_unit_test(test_restarted_server_is_reconnected),
      cmocka_unit_test(test_password),
      cmocka_unit_test(test_close_fails_inflight_once),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
