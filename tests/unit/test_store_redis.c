/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis store against a real redis-server on a free loopback port:
 * commits read back (states, covers, positions), a stale writer is fenced,
 * a write behind the stored cover is refused, WAIT without replicas fails
 * the commit before the positions move, a frozen server times out, a
 * restarted one is reconnected to, and closing leaves the loop empty. */
#include "testutil.h"

#include "healthscore/rcluster.h"
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
  port = hs_test_free_port();
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

static const char *const topics[] = {"healthscore.usage", "healthscore.billing"};
#define NT 2

typedef struct result_s {
  bool done;
  int status;
  char data[256];
  size_t len;
  bool present;
  int32_t partition;
  int64_t cover[NT], offsets[NT];
  char err[256];
} result_t;

static void on_done(void *ud, int status, const hs_err_t *err) {
  result_t *r = ud;
  r->done = true;
  r->status = status;
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
}

static void on_get(void *ud, int status, const hs_err_t *err, const char *data, size_t len,
                   int32_t partition, const int64_t *cover) {
  result_t *r = ud;
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
  r->done = true;
  r->status = status;
  r->present = data != NULL;
  r->len = len < sizeof r->data ? len : sizeof r->data;
  if (data)
    memcpy(r->data, data, r->len);
  r->partition = partition;
  for (int t = 0; t < NT; t++)
    r->cover[t] = cover ? cover[t] : -7;
}

static void on_pos(void *ud, int status, const int64_t *offsets) {
  result_t *r = ud;
  r->done = true;
  r->status = status;
  for (int t = 0; t < NT; t++)
    r->offsets[t] = offsets ? offsets[t] : -7;
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static hs_store_t *open_store_waiting(uv_loop_t *loop, int timeout_ms, int wait_replicas) {
  hs_store_t *s;
  hs_err_t err = {0};
  hs_store_conf_t conf = {.port = port,
                          .prefix = "t",
                          .timeout_ms = timeout_ms,
                          .reconnect_ms = 50,
                          .wait_replicas = wait_replicas,
                          .topics = topics,
                          .n_topics = NT};
  assert_int_equal(hs_store_new(&s, loop, &conf, &err), 0);
  assert_true(wait_connected(loop, s, 3000));
  return s;
}

static hs_store_t *open_store(uv_loop_t *loop, int timeout_ms) {
  return open_store_waiting(loop, timeout_ms, 0);
}

/* One commit; returns its status. */
static int commit(uv_loop_t *loop, hs_store_t *s, const hs_store_write_t *w, size_t n,
                  const hs_store_pos_t *pos, size_t n_pos, result_t *r) {
  memset(r, 0, sizeof *r);
  assert_int_equal(hs_store_commit(s, w, n, pos, n_pos, on_done, r), 0);
  assert_true(run_until(loop, &r->done, 3000));
  if (r->status)
    printf("  commit: %d %s\n", r->status, r->err);
  return r->status;
}

static void get_state(uv_loop_t *loop, hs_store_t *s, const char *id, result_t *r) {
  memset(r, 0, sizeof *r);
  assert_int_equal(hs_store_get_state(s, (hs_str_t){id, strlen(id)}, on_get, r), 0);
  assert_true(run_until(loop, &r->done, 3000));
  assert_int_equal(r->status, 0);
}

static void get_positions(uv_loop_t *loop, hs_store_t *s, int32_t partition, result_t *r) {
  memset(r, 0, sizeof *r);
  assert_int_equal(hs_store_get_positions(s, "g", partition, on_pos, r), 0);
  assert_true(run_until(loop, &r->done, 3000));
  assert_int_equal(r->status, 0);
}

/* A string reply of a plain client, or "(nil)". */
static bool redis_is(const char *want, const char *fmt, const char *arg) {
  redisContext *c = redisConnect("127.0.0.1", port);
  redisReply *rep = redisCommand(c, fmt, arg);
  bool ok = rep && (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS
                        ? !strcmp(rep->str, want)
                        : !strcmp(want, "(nil)") && rep->type == REDIS_REPLY_NIL);
  if (!ok)
    fprintf(stderr, "%s: \"%s\", expected \"%s\"\n", arg, rep && rep->str ? rep->str : "?", want);
  freeReplyObject(rep);
  redisFree(c);
  return ok;
}

/* Calls of a command so far, from INFO commandstats. */
static long calls(const char *cmd) {
  redisContext *c = redisConnect("127.0.0.1", port);
  redisReply *rep = redisCommand(c, "INFO commandstats");
  char want[64];
  snprintf(want, sizeof want, "cmdstat_%s:calls=", cmd);
  const char *at = rep && rep->str ? strstr(rep->str, want) : NULL;
  long n = at ? atol(at + strlen(want)) : 0;
  freeReplyObject(rep);
  redisFree(c);
  return n;
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
  const int64_t cover1[] = {1234, 77}, cover2[] = {1000, 70};
  hs_store_write_t w[] = {
      {{"acct-1", 6}, bin, sizeof bin, "{\"score\":72.5}", 14, days, scores, 2, 3, cover1},
      {{"acct-2", 6}, "s2", 2, NULL, 0, NULL, NULL, 0, 3, cover2},
  };
  const int64_t offsets[] = {1234, 77}, none[] = {-1, -1};
  hs_store_pos_t pos = {"g", 3, offsets, none};
  result_t r;
  assert_int_equal(commit(&loop, s, w, 2, &pos, 1, &r), 0);
  get_state(&loop, s, "acct-1", &r);
  assert_true(r.present && r.len == sizeof bin);
  assert_memory_equal(r.data, bin, sizeof bin);
  assert_int_equal(r.partition, 3);
  assert_int_equal(r.cover[0], 1234);
  assert_int_equal(r.cover[1], 77);
  get_state(&loop, s, "acct-2", &r);
  assert_int_equal(r.cover[0], 1000);
  get_state(&loop, s, "nobody", &r);
  assert_false(r.present);
  assert_int_equal(r.partition, -1);
  assert_int_equal(r.cover[0], -7); /* no cover */
  get_positions(&loop, s, 3, &r);
  assert_int_equal(r.offsets[0], 1234);
  assert_int_equal(r.offsets[1], 77);
  get_positions(&loop, s, 4, &r);
  assert_int_equal(r.offsets[0], -1);
  assert_int_equal(r.offsets[1], -1);
  /* the key layout, seen from a plain client */
  assert_true(redis_is("72.5", "HGET t:{acct-1}:history %s", "2026-02-16"));
  assert_true(redis_is("70.3", "HGET t:{acct-1}:history %s", "2026-02-15"));
  assert_true(redis_is("{\"score\":72.5}", "GET %s", "t:{acct-1}:score"));
  assert_true(
      redis_is("3 healthscore.usage=1234 healthscore.billing=77", "GET %s", "t:{acct-1}:cover"));
  assert_true(redis_is("(nil)", "GET %s", "t:{acct-2}:score"));
  assert_true(redis_is("1234", "HGET t:pos:g:3 %s", "healthscore.usage"));
  assert_true(redis_is("77", "HGET t:pos:g:3 %s", "healthscore.billing"));
  /* a cover written by a build with other topics: what it names is read */
  assert_true(redis_is("OK", "SET t:{acct-3}:cover %s", "5 healthscore.billing=9 old.topic=4"));
  get_state(&loop, s, "acct-3", &r);
  assert_false(r.present);
  assert_int_equal(r.partition, 5);
  assert_int_equal(r.cover[0], 0);
  assert_int_equal(r.cover[1], 9);
  assert_true(redis_is("OK", "SET t:{acct-3}:cover %s", "garbage"));
  get_state(&loop, s, "acct-3", &r);
  assert_int_equal(r.partition, -1); /* not a cover: nothing known */
  assert_int_equal(hs_store_inflight(s), 0);
  close_store(&loop, s);
}

/* Scripts go by their SHA1; a server without them in its cache gets them
 * whole once (a fresh server, or one whose cache was flushed). */
static void test_scripts_by_sha(void **state) {
  (void)state;
  assert_true(redis_is("OK", "SCRIPT %s", "FLUSH"));
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  long sha0 = calls("evalsha"), eval0 = calls("eval");
  const int64_t cover[] = {10, 5}, none[] = {-1, -1}, at1[] = {10, 5}, at2[] = {20, 5};
  hs_store_write_t w = {{"acct-s", 6}, "v1", 2, NULL, 0, NULL, NULL, 0, 1, cover};
  hs_store_pos_t pos = {"g", 11, at1, none};
  result_t r;
  hs_store_stats_t st;
  assert_int_equal(commit(&loop, s, &w, 1, &pos, 1, &r), 0);
  hs_store_stats(s, &st);
  assert_int_equal(st.noscript, 2); /* the account script and the positions script */
  assert_int_equal(calls("eval") - eval0, 2);
  /* now cached: by SHA1 only */
  const int64_t cover2[] = {20, 5};
  w = (hs_store_write_t){{"acct-s", 6}, "v2", 2, NULL, 0, NULL, NULL, 0, 1, cover2};
  pos = (hs_store_pos_t){"g", 11, at2, at1};
  long sha1 = calls("evalsha");
  assert_int_equal(commit(&loop, s, &w, 1, &pos, 1, &r), 0);
  hs_store_stats(s, &st);
  assert_int_equal(st.noscript, 2);
  assert_int_equal(calls("evalsha") - sha1, 2);
  assert_int_equal(calls("eval") - eval0, 2);
  assert_true(calls("evalsha") - sha0 >= 4);
  /* the cache flushed under it: sent whole again, and the write lands */
  assert_true(redis_is("OK", "SCRIPT %s", "FLUSH"));
  const int64_t cover3[] = {30, 5}, at3[] = {30, 5};
  w = (hs_store_write_t){{"acct-s", 6}, "v3", 2, NULL, 0, NULL, NULL, 0, 1, cover3};
  pos = (hs_store_pos_t){"g", 11, at3, at2};
  assert_int_equal(commit(&loop, s, &w, 1, &pos, 1, &r), 0);
  hs_store_stats(s, &st);
  assert_int_equal(st.noscript, 4);
  get_state(&loop, s, "acct-s", &r);
  assert_true(r.present && r.len == 2 && !memcmp(r.data, "v3", 2));
  get_positions(&loop, s, 11, &r);
  assert_int_equal(r.offsets[0], 30);
  close_store(&loop, s);
}

/* The SHA1 the client names scripts by is the one Redis computes. */
static void test_script_sha_is_redis_sha(void **state) {
  (void)state;
  char longer[300];
  memset(longer, ' ', sizeof longer - 1);
  memcpy(longer, "return 'x'", 10);
  longer[sizeof longer - 1] = 0;
  const char *const scripts[] = {"return 1", "", longer,
                                 "return 'exactly 55 bytes of script, one block of SHA1...'"};
  uv_loop_t loop;
  uv_loop_init(&loop);
  char seed[32];
  snprintf(seed, sizeof seed, "127.0.0.1:%d", port);
  hs_rc_conf_t conf = {.seeds = seed, .scripts = scripts, .n_scripts = 4};
  hs_rc_t *rc;
  hs_err_t err = {0};
  assert_int_equal(hs_rc_new(&rc, &loop, &conf, &err), 0);
  assert_string_equal(hs_rc_script_sha(rc, 0), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  assert_string_equal(hs_rc_script_sha(rc, 1), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  for (size_t i = 0; i < 4; i++)
    assert_true(redis_is(hs_rc_script_sha(rc, i), "SCRIPT LOAD %s", scripts[i]));
  assert_string_equal(hs_rc_script_sha(rc, 4), "");
  bool closed = false;
  hs_rc_close(rc, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* A writer whose expected position is stale writes no position. */
static void test_stale_writer_is_fenced(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  int64_t off[NT] = {10, 5}, expect[NT] = {-1, -1};
  hs_store_pos_t pos = {"g", 7, off, expect};
  result_t r;
  assert_int_equal(commit(&loop, s, NULL, 0, &pos, 1, &r), 0);
  /* another member moved on to 20 */
  expect[0] = 10, expect[1] = 5, off[0] = 20;
  assert_int_equal(commit(&loop, s, NULL, 0, &pos, 1, &r), 0);
  /* this one still believes 10 is stored */
  off[0] = 15;
  expect[0] = 10;
  assert_int_equal(commit(&loop, s, NULL, 0, &pos, 1, &r), HS_STORE_FENCED);
  assert_non_null(strstr(r.err, "t:pos:g:7 healthscore.usage holds \"20\""));
  get_positions(&loop, s, 7, &r);
  assert_int_equal(r.offsets[0], 20);
  assert_int_equal(r.offsets[1], 5);
  hs_store_stats_t st;
  hs_store_stats(s, &st);
  assert_int_equal(st.fenced, 1);
  assert_int_equal(st.masters, 1);
  assert_true(st.standalone);
  assert_true(hs_store_commands(s) >= 3 && hs_store_bytes(s) > 0);
  close_store(&loop, s);
}

/* An account's stored state never goes back to an older prefix of the
 * input: a write whose cover is behind in any topic is refused, and then
 * no position moves; an equal or later cover, or another partition's, is
 * taken. */
static void test_write_behind_the_cover_is_refused(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  int64_t cover[NT] = {100, 50};
  hs_store_write_t w = {{"acct-m", 6}, "v100", 4, NULL, 0, NULL, NULL, 0, 2, cover};
  result_t r;
  assert_int_equal(commit(&loop, s, &w, 1, NULL, 0, &r), 0);
  /* behind in one topic, ahead in the other: refused, positions untouched */
  cover[0] = 120, cover[1] = 49;
  w.state = "v120";
  int64_t off[NT] = {120, 49}, expect[NT] = {-1, -1};
  hs_store_pos_t pos = {"g", 2, off, expect};
  assert_int_equal(commit(&loop, s, &w, 1, &pos, 1, &r), HS_STORE_REFUSED);
  assert_non_null(strstr(r.err, "t:{acct-m}:cover holds \"2 healthscore.usage=100"));
  get_state(&loop, s, "acct-m", &r);
  assert_memory_equal(r.data, "v100", 4);
  get_positions(&loop, s, 2, &r);
  assert_int_equal(r.offsets[0], -1);
  /* the same cover again (a flush done twice): taken */
  cover[0] = 100, cover[1] = 50;
  w.state = "v10b";
  assert_int_equal(commit(&loop, s, &w, 1, NULL, 0, &r), 0);
  /* ahead everywhere: taken, with the positions */
  cover[0] = 130, cover[1] = 60;
  off[0] = 130, off[1] = 60;
  w.state = "v130";
  assert_int_equal(commit(&loop, s, &w, 1, &pos, 1, &r), 0);
  get_state(&loop, s, "acct-m", &r);
  assert_memory_equal(r.data, "v130", 4);
  get_positions(&loop, s, 2, &r);
  assert_int_equal(r.offsets[0], 130);
  /* covers of another partition do not compare (the topics were
     repartitioned): taken */
  cover[0] = 1, cover[1] = 1;
  w.partition = 9;
  w.state = "p9..";
  assert_int_equal(commit(&loop, s, &w, 1, NULL, 0, &r), 0);
  get_state(&loop, s, "acct-m", &r);
  assert_int_equal(r.partition, 9);
  hs_store_stats_t st;
  hs_store_stats(s, &st);
  assert_int_equal(st.refused, 1);
  close_store(&loop, s);
}

/* Positions an earlier build kept as one string per topic partition are
 * read when the partition group's hash holds none, and copied into it. */
static void test_positions_of_an_earlier_build(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  assert_true(redis_is("OK", "SET t:pos:g:healthscore.usage:6 %s", "11"));
  result_t r;
  get_positions(&loop, s, 6, &r);
  assert_int_equal(r.offsets[0], 11);
  assert_int_equal(r.offsets[1], -1);
  assert_true(redis_is("11", "HGET t:pos:g:6 %s", "healthscore.usage"));
  /* from now on the hash is what counts */
  assert_true(redis_is("OK", "SET t:pos:g:healthscore.usage:6 %s", "99"));
  int64_t off[NT] = {12, 3}, expect[NT] = {11, -1};
  hs_store_pos_t pos = {"g", 6, off, expect};
  assert_int_equal(commit(&loop, s, NULL, 0, &pos, 1, &r), 0);
  get_positions(&loop, s, 6, &r);
  assert_int_equal(r.offsets[0], 12);
  assert_int_equal(r.offsets[1], 3);
  /* none anywhere */
  get_positions(&loop, s, 5, &r);
  assert_int_equal(r.offsets[0], -1);
  assert_int_equal(r.offsets[1], -1);
  assert_int_equal(hs_store_inflight(s), 0);
  close_store(&loop, s);
}

/* wait_replicas without replicas: the accounts are written, WAIT comes
 * back short, and the positions do not move. */
static void test_wait_short_of_replicas_keeps_positions(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store_waiting(&loop, 400, 1);
  int64_t cover[NT] = {7, 7}, off[NT] = {7, 7}, expect[NT] = {-1, -1};
  hs_store_write_t w = {{"acct-w", 6}, "w", 1, NULL, 0, NULL, NULL, 0, 1, cover};
  hs_store_pos_t pos = {"g", 1, off, expect};
  result_t r;
  assert_true(commit(&loop, s, &w, 1, &pos, 1, &r) < 0);
  assert_non_null(strstr(r.err, "WAIT: 0 of 1 replicas"));
  get_state(&loop, s, "acct-w", &r);
  assert_true(r.present);
  get_positions(&loop, s, 1, &r);
  assert_int_equal(r.offsets[0], -1);
  hs_store_stats_t st;
  hs_store_stats(s, &st);
  assert_int_equal(st.wait_short, 1);
  /* positions alone need no WAIT */
  assert_int_equal(commit(&loop, s, NULL, 0, &pos, 1, &r), 0);
  close_store(&loop, s);
}
static void test_frozen_server_times_out_then_recovers(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 300);
  kill(redis_pid, SIGSTOP);
  hs_store_write_t w = {{"acct-9", 6}, "x", 1, NULL, 0, NULL, NULL, 0, 0, NULL};
  result_t r = {0};
  assert_int_equal(hs_store_commit(s, &w, 1, NULL, 0, on_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000)); /* not a hang */
  assert_true(r.status < 0);
  assert_non_null(strstr(r.err, "no reply within 300 ms"));
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
  uint64_t connections = hs_store_connections(s);
  stop_redis();
  result_t r = {0};
  hs_store_write_t w = {{"acct-5", 6}, "y", 1, NULL, 0, NULL, NULL, 0, 0, NULL};
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
  assert_true(hs_store_connections(s) > connections);
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

/* The key of an account's suffix, as a string. */
static const char *key_str(char *out, size_t n, const char *id, size_t len, const char *suffix) {
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_store_account_key(&b, "t", (hs_str_t){id, (uint32_t)len}, suffix), 0);
  snprintf(out, n, "%s", b.data);
  hs_buf_free(&b);
  return out;
}

/* Plain ids keep the keys every earlier version wrote; ids that could
 * empty or end the hash tag are encoded behind "%{", so that each has a
 * tag of its own, never empty, and no two ids share a key. */
static void test_account_keys_keep_one_tag_for_any_id(void **state) {
  (void)state;
  char k[512];
  assert_string_equal(key_str(k, sizeof k, "acct-1", 6, "state"), "t:{acct-1}:state");
  assert_string_equal(key_str(k, sizeof k, "50%", 3, "cover"), "t:{50%}:cover");
  assert_string_equal(key_str(k, sizeof k, "}evil", 5, "state"), "t:%{%7Devil}:state");
  assert_string_equal(key_str(k, sizeof k, "{}", 2, "score"), "t:%{%7B%7D}:score");
  assert_string_equal(key_str(k, sizeof k, "%7D}", 4, "state"), "t:%{%257D%7D}:state");
  assert_string_equal(key_str(k, sizeof k, "", 0, "state"), "t:%{%}:state");
  assert_false(hs_store_key_encoded((hs_str_t){"acct-1", 6}));
  assert_true(hs_store_key_encoded((hs_str_t){"a{b", 3}));
  /* every id's four keys share one slot, of a non-empty tag; no two ids
     (nor an id and an earlier version's key of another) share a key */
  static const char *const ids[] = {"{",   "}",    "{}",  "}{",    "}evil", "{{}}", " ",   "%",
                                    "%7D", "}%7D", "a}b", "a{b}c", "x",     "%{",   "}}}}"};
  size_t n = sizeof ids / sizeof *ids;
  static const char *const sfx[] = {"state", "cover", "score", "history"};
  for (size_t i = 0; i < n; i++) {
    char first[512];
    key_str(first, sizeof first, ids[i], strlen(ids[i]), "state");
    const char *open = strchr(first, '{'), *close = open ? strchr(open, '}') : NULL;
    assert_non_null(close);
    assert_true(close > open + 1); /* the tag is not empty */
    for (size_t f = 1; f < 4; f++)
      assert_int_equal(hs_rc_slot(k, strlen(key_str(k, sizeof k, ids[i], strlen(ids[i]), sfx[f]))),
                       hs_rc_slot(first, strlen(first)));
    for (size_t j = 0; j < n; j++) {
      char other[512];
      if (j != i)
        assert_string_not_equal(first,
                                key_str(other, sizeof other, ids[j], strlen(ids[j]), "state"));
      hs_buf_t b;
      hs_buf_init(&b);
      assert_int_equal(
          hs_store_legacy_key(&b, "t", (hs_str_t){ids[j], (uint32_t)strlen(ids[j])}, "state"), 0);
      if (hs_store_key_encoded((hs_str_t){ids[i], (uint32_t)strlen(ids[i])}))
        assert_string_not_equal(first, b.data);
      hs_buf_free(&b);
    }
  }
}

/* An account whose keys changed (an id with a brace) finds the state and
 * cover an earlier version wrote under the old keys, and they move to the
 * new keys (score record and history too); the old keys stay. */
static void test_old_keys_of_an_encoded_id_are_found(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s = open_store(&loop, 2000);
  assert_true(redis_is("OK", "SET t:{}old}:state %s", "old-state"));
  assert_true(
      redis_is("OK", "SET t:{}old}:cover %s", "2 healthscore.usage=40 healthscore.billing=3"));
  assert_true(redis_is("OK", "SET t:{}old}:score %s", "{\"score\":50.0}"));
  redisContext *c = redisConnect("127.0.0.1", port);
  freeReplyObject(redisCommand(c, "HSET t:{}old}:history 2026-01-01 50.0 2026-01-02 51.5"));
  redisFree(c);
  result_t r;
  get_state(&loop, s, "}old", &r);
  assert_true(r.present);
  assert_int_equal(r.len, 9);
  assert_memory_equal(r.data, "old-state", 9);
  assert_int_equal(r.partition, 2);
  assert_int_equal(r.cover[0], 40);
  assert_true(redis_is("old-state", "GET %s", "t:%{%7Dold}:state"));
  assert_true(redis_is("{\"score\":50.0}", "GET %s", "t:%{%7Dold}:score"));
  assert_true(redis_is("51.5", "HGET %s 2026-01-02", "t:%{%7Dold}:history"));
  assert_true(redis_is("old-state", "GET %s", "t:{}old}:state")); /* kept */
  /* a newer state under the new keys is never replaced by the old one */
  assert_true(redis_is("OK", "SET %s new-state", "t:%{%7Dold}:state"));
  get_state(&loop, s, "}old", &r);
  assert_memory_equal(r.data, "new-state", 9);
  /* an encoded id with nothing anywhere: absent */
  get_state(&loop, s, "{none}", &r);
  assert_false(r.present);
  assert_int_equal(r.partition, -1);
  /* written by this version, read back under the new keys */
  const int64_t cover[] = {7, 8};
  hs_store_write_t w = {{"}new{", 5}, "st", 2, "{}", 2, NULL, NULL, 0, 1, cover};
  assert_int_equal(commit(&loop, s, &w, 1, NULL, 0, &r), 0);
  assert_true(redis_is("st", "GET %s", "t:%{%7Dnew%7B}:state"));
  get_state(&loop, s, "}new{", &r);
  assert_int_equal(r.cover[1], 8);
  close_store(&loop, s);
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
      cmocka_unit_test(test_account_keys_keep_one_tag_for_any_id),
      cmocka_unit_test(test_old_keys_of_an_encoded_id_are_found),
      cmocka_unit_test(test_commit_reads_back),
      cmocka_unit_test(test_scripts_by_sha),
      cmocka_unit_test(test_script_sha_is_redis_sha),
      cmocka_unit_test(test_stale_writer_is_fenced),
      cmocka_unit_test(test_write_behind_the_cover_is_refused),
      cmocka_unit_test(test_positions_of_an_earlier_build),
      cmocka_unit_test(test_wait_short_of_replicas_keeps_positions),
      cmocka_unit_test(test_frozen_server_times_out_then_recovers),
      cmocka_unit_test(test_restarted_server_is_reconnected),
      cmocka_unit_test(test_password),
      cmocka_unit_test(test_close_fails_inflight_once),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
