/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis Cluster client against a real local cluster: six redis-server
 * processes (three masters, three replicas) on free loopback ports, joined
 * by redis-cli --cluster create. Slots agree with the server's, writes spread
 * over the masters, MOVED (a live reshard and a stale map), ASK and TRYAGAIN
 * (a slot migrated by hand), a killed master replaced by its replica, a
 * standalone server with a password, and closing with commands in flight.
 * The state store on the same cluster: commits across the masters with
 * WAIT for a replica, covers read back, a write behind the stored cover
 * refused, stale positions fenced. */
#include "testutil.h"

#include "healthscore/rcluster.h"
#include "healthscore/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODES 6
#define NKEYS 600

static char tmpdir[128];
static int ports[NODES + 1], bus_ports[NODES]; /* ports[NODES]: the standalone server */
static pid_t pids[NODES + 1];
static int slot_port[HS_RC_SLOTS]; /* the owner of each slot, as the cluster says */

#define SAY(...) (printf("  [cluster] " __VA_ARGS__), fflush(stdout))

static double secs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `n` distinct free loopback ports: all bound at once, then released. */
static void free_ports(int *out, int n) {
  int fds[16];
  for (int i = 0; i < n; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fds[i] >= 0);
    assert_int_equal(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
    out[i] = ntohs(a.sin_port);
  }
  for (int i = 0; i < n; i++)
    close(fds[i]);
}

/* A synchronous command to the node on `port`; NULL when unreachable. */
static redisReply *q(int port, const char *fmt, ...) {
  struct timeval tv = {2, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  redisReply *r = NULL;
  if (c && !c->err) {
    redisSetTimeout(c, tv);
    va_list ap;
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
  }
  if (c)
    redisFree(c);
  return r;
}

/* The reply's text ("" when none or not a string). */
static bool q_is(int port, const char *want, const char *fmt, ...) {
  struct timeval tv = {2, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  bool ok = false;
  if (c && !c->err) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ok = r && r->str && !strcmp(r->str, want);
    if (r && !ok)
      SAY("port %d: \"%s\" answered \"%s\", expected \"%s\"\n", port, fmt, r->str ? r->str : "",
          want);
    freeReplyObject(r);
  }
  if (c)
    redisFree(c);
  return ok;
}

static bool up(int port) {
  redisReply *r = q(port, "PING");
  bool ok = r && (r->type == REDIS_REPLY_STATUS ||
                  (r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOAUTH")));
  freeReplyObject(r);
  return ok;
}

static pid_t spawn(char *const argv[], const char *out) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE *f = freopen(out, "w", stdout);
    (void)f;
    dup2(1, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static pid_t start_server(int port, int bus, const char *password) {
  char p[16], b[16], conf[256], log[256];
  snprintf(p, sizeof p, "%d", port);
  snprintf(b, sizeof b, "%d", bus);
  snprintf(conf, sizeof conf, "%s/nodes-%d.conf", tmpdir, port);
  snprintf(log, sizeof log, "%s/redis-%d.log", tmpdir, port);
  char *cluster[] = {"redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", tmpdir, "--logfile", log, "--cluster-enabled",
                     "yes", "--cluster-port", b, "--cluster-config-file", conf,
                     "--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0",
                     /* the other masters keep serving while one is down */
                     "--cluster-require-full-coverage", "no", NULL};
  char *plain[] = {
      "redis-server",   "--port", p,       "--bind", "127.0.0.1", "--save", "",
      "--appendonly",   "no",     "--dir", tmpdir,   "--logfile", log,      "--requirepass",
      (char *)password, NULL};
  return spawn(password ? plain : cluster, "/dev/null");
}

static void stop(int i) {
  if (pids[i] > 0) {
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
    pids[i] = 0;
  }
}

static bool cluster_ok(int port) {
  redisReply *r = q(port, "CLUSTER INFO");
  bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
  freeReplyObject(r);
  return ok;
}

/* Fills slot_port from CLUSTER SLOTS as the node on `port` sees it. */
static void load_slot_ports(int port) {
  memset(slot_port, 0, sizeof slot_port);
  redisReply *r = q(port, "CLUSTER SLOTS");
  assert_true(r && r->type == REDIS_REPLY_ARRAY);
  for (size_t i = 0; i < r->elements; i++) {
    redisReply *e = r->element[i];
    for (long long s = e->element[0]->integer; s <= e->element[1]->integer; s++)
      slot_port[s] = (int)e->element[2]->element[1]->integer;
  }
  freeReplyObject(r);
}

/* The masters owning slots, by the last load_slot_ports; returns how many. */
static int masters(int out[NODES]) {
  int n = 0;
  for (int s = 0; s < HS_RC_SLOTS; s++) {
    bool seen = false;
    for (int i = 0; i < n; i++)
      seen |= out[i] == slot_port[s];
    if (!seen && slot_port[s] && n < NODES)
      out[n++] = slot_port[s];
  }
  return n;
}

static void node_id(int port, char id[64]) {
  redisReply *r = q(port, "CLUSTER MYID");
  assert_true(r && r->type == REDIS_REPLY_STRING);
  snprintf(id, 64, "%s", r->str);
  freeReplyObject(r);
}

static int key_port(const char *key) {
  return slot_port[hs_rc_slot(key, strlen(key))];
}

static int teardown(void **state);

static int setup(void **state) {
  double t0 = secs();
  signal(SIGPIPE, SIG_IGN);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hs-rcluster-XXXXXX");
  if (!mkdtemp(tmpdir))
    return -1;
  int p[2 * NODES + 1];
  free_ports(p, 2 * NODES + 1);
  for (int i = 0; i < NODES; i++) {
    ports[i] = p[i];
    bus_ports[i] = p[NODES + i];
    pids[i] = start_server(ports[i], bus_ports[i], NULL);
  }
  ports[NODES] = p[2 * NODES];
  for (int i = 0; i < NODES; i++) {
    for (int k = 0; k < 100 && !up(ports[i]); k++)
      usleep(50000);
    if (!up(ports[i]))
      return teardown(state) - 1;
  }
  char cmd[1024];
  int n = snprintf(cmd, sizeof cmd, "redis-cli --cluster create");
  for (int i = 0; i < NODES; i++)
    n += snprintf(cmd + n, sizeof cmd - (size_t)n, " 127.0.0.1:%d", ports[i]);
  snprintf(cmd + n, sizeof cmd - (size_t)n,
           " --cluster-replicas 1 --cluster-yes > %s/create.log 2>&1", tmpdir);
  if (hs_test_run("%s", cmd) != 0) {
    SAY("redis-cli --cluster create failed\n");
    hs_test_run("cat %s/create.log", tmpdir);
    return teardown(state) - 1;
  }
  for (int i = 0; i < NODES; i++) {
    for (int k = 0; k < 200 && !cluster_ok(ports[i]); k++)
      usleep(50000);
    if (!cluster_ok(ports[i]))
      return teardown(state) - 1;
  }
  SAY("6 nodes on 127.0.0.1:%d..., cluster_state:ok after %.2f s\n", ports[0], secs() - t0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i <= NODES; i++)
    stop(i);
  if (tmpdir[0])
    hs_test_run("rm -rf '%s'", tmpdir);
  return 0;
}

/* --- the client side ---------------------------------------------------- */

typedef struct res_s {
  int calls;
  int type; /* 0: no reply */
  char str[256];
  char err[256];
} res_t;

static res_t res[2 * NKEYS];
static int pending;
static hs_rc_t *reissue_rc; /* set: callbacks try to send a command */
static int reissue_status;

static void on_res(void *ud, redisReply *reply, const hs_err_t *err) {
  res_t *r = ud;
  r->calls++;
  r->type = reply ? reply->type : 0;
  r->str[0] = 0;
  if (reply && reply->type == REDIS_REPLY_ARRAY) {
    size_t n = 0;
    for (size_t i = 0; i < reply->elements && n < sizeof r->str; i++)
      n += (size_t)snprintf(r->str + n, sizeof r->str - n, "%s%s", i ? "," : "",
                            reply->element[i]->str ? reply->element[i]->str : "nil");
  } else if (reply && reply->str) {
    snprintf(r->str, sizeof r->str, "%.*s", (int)reply->len, reply->str);
  }
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
  pending--;
  if (reissue_rc) {
    const char *argv[] = {"GET", "x"};
    size_t lens[] = {3, 1};
    reissue_status = hs_rc_command_argv(reissue_rc, 0, 2, argv, lens, on_res, r);
  }
}

/* A command of up to 4 arguments; argv[1] is the key. */
static int send_argv(hs_rc_t *rc, res_t *r, int argc, const char *a0, const char *a1,
                     const char *a2, const char *a3) {
  const char *argv[] = {a0, a1, a2, a3};
  size_t lens[4];
  for (int i = 0; i < argc; i++)
    lens[i] = strlen(argv[i]);
  memset(r, 0, sizeof *r);
  int status = hs_rc_command_argv(rc, hs_rc_slot(a1, lens[1]), argc, argv, lens, on_res, r);
  pending += status == 0;
  return status;
}

/* A command formatted by hiredis, for the key `key`. */
static int send_fmt(hs_rc_t *rc, res_t *r, const char *key, const char *fmt, ...) {
  char *cmd;
  va_list ap;
  va_start(ap, fmt);
  int len = redisvFormatCommand(&cmd, fmt, ap);
  va_end(ap);
  assert_true(len > 0);
  memset(r, 0, sizeof *r);
  int status = hs_rc_command(rc, hs_rc_slot(key, strlen(key)), cmd, (size_t)len, on_res, r);
  redisFreeCommand(cmd);
  pending += status == 0;
  return status;
}

static void run_ms(uv_loop_t *loop, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
}

static bool wait_pending(uv_loop_t *loop, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (pending > 0 && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return pending == 0;
}

static bool wait_ready(uv_loop_t *loop, hs_rc_t *rc, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (!hs_rc_ready(rc) && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return hs_rc_ready(rc);
}

static hs_rc_t *open_rc(uv_loop_t *loop, const char *seeds, const char *password, int timeout) {
  hs_rc_t *rc;
  hs_err_t err = {0};
  hs_rc_conf_t conf = {
      .seeds = seeds, .password = password, .timeout_ms = timeout, .reconnect_ms = 50};
  assert_int_equal(hs_rc_new(&rc, loop, &conf, &err), 0);
  return rc;
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static void close_rc(uv_loop_t *loop, hs_rc_t *rc) {
  bool closed = false;
  hs_rc_close(rc, on_closed, &closed);
  uint64_t end = uv_now(loop) + 3000;
  while (!closed && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  assert_true(closed);
}

static void close_loop(uv_loop_t *loop) {
  uv_run(loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(loop), 0);
}

static void say_stats(const char *what, hs_rc_t *rc) {
  hs_rc_stats_t st;
  hs_rc_stats(rc, &st);
  SAY("%s: %zu masters%s, %llu connections, %llu commands (%llu bytes), %llu MOVED, %llu ASK, "
      "%llu retries, %llu maps\n",
      what, st.masters, st.standalone ? " (standalone)" : "", (unsigned long long)st.connections,
      (unsigned long long)st.commands, (unsigned long long)st.bytes, (unsigned long long)st.moved,
      (unsigned long long)st.asked, (unsigned long long)st.retries, (unsigned long long)st.maps);
}

static void seeds_of(char *out, size_t cap, int port) {
  snprintf(out, cap, "127.0.0.1:%d", port);
}

/* Reads `keys` through `redis-cli -c` (which follows redirections itself)
 * and compares each with `want`. */
static void check_with_redis_cli(int port, char keys[][32], char want[][32], int n) {
  char in[256], out[256];
  snprintf(in, sizeof in, "%s/get.txt", tmpdir);
  snprintf(out, sizeof out, "%s/get.out", tmpdir);
  FILE *f = fopen(in, "w");
  assert_non_null(f);
  for (int i = 0; i < n; i++)
    fprintf(f, "GET %s\n", keys[i]);
  fclose(f);
  assert_int_equal(hs_test_run("redis-cli -c -p %d < %s | grep -v '^-> ' > %s", port, in, out), 0);
  char *text = hs_test_slurp(out, NULL);
  char *line = text;
  for (int i = 0; i < n; i++) {
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = 0;
    if (strcmp(line, want[i]))
      fail_msg("redis-cli -c GET %s: \"%s\", expected \"%s\"", keys[i], line, want[i]);
    line = nl + 1;
  }
  hs_free(text);
  SAY("redis-cli -c read back %d keys: all as expected\n", n);
}

static char keys[NKEYS][32], vals[NKEYS][32];

/* --- tests -------------------------------------------------------------- */

static void test_slots_match_the_server(void **state) {
  (void)state;
  /* the spec's check value: CRC16/XMODEM("123456789") = 0x31C3 */
  assert_int_equal(hs_rc_slot("123456789", 9), 0x31C3);
  /* hash tags, from the spec */
  assert_int_equal(hs_rc_slot("{user1000}.following", 21), hs_rc_slot("user1000", 8));
  assert_int_equal(hs_rc_slot("foo{{bar}}zap", 13), hs_rc_slot("{bar", 4));
  assert_int_equal(hs_rc_slot("foo{bar}{zap}", 13), hs_rc_slot("bar", 3));
  assert_int_not_equal(hs_rc_slot("foo{}{bar}", 10), hs_rc_slot("bar", 3));
  static const struct {
    const char *k;
    size_t len;
  } cases[] = {{"123456789", 9},
               {"foo", 3},
               {"", 0},
               {"{", 1},
               {"}", 1},
               {"{}", 2},
               {"}{", 2},
               {"a{b", 3},
               {"foo{}{bar}", 10},
               {"foo{{bar}}zap", 13},
               {"foo{bar}{zap}", 13},
               {"{user1000}.following", 21},
               {"hs:{acct-1}:state", 17},
               {"hs:pos:g:healthscore.usage:3", 28},
               {"\xff\x00{\x01}", 5}};
  int checked = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    redisReply *r = q(ports[0], "CLUSTER KEYSLOT %b", cases[i].k, cases[i].len);
    assert_true(r && r->type == REDIS_REPLY_INTEGER);
    assert_int_equal(hs_rc_slot(cases[i].k, cases[i].len), r->integer);
    freeReplyObject(r);
    checked++;
  }
  /* many keys, pipelined */
  struct timeval tv = {2, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", ports[1], tv);
  assert_true(c && !c->err);
  for (int i = 0; i < 2000; i++)
    redisAppendCommand(c, "CLUSTER KEYSLOT key:%d:{t%d}", i, i % 7 ? i : -1);
  for (int i = 0; i < 2000; i++) {
    redisReply *r;
    char key[64];
    int n = snprintf(key, sizeof key, "key:%d:{t%d}", i, i % 7 ? i : -1);
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    assert_int_equal(hs_rc_slot(key, (size_t)n), r->integer);
    freeReplyObject(r);
    checked++;
  }
  redisFree(c);
  /* and once through redis-cli, as an operator would ask */
  char out[256];
  snprintf(out, sizeof out, "%s/keyslot.out", tmpdir);
  assert_int_equal(
      hs_test_run("redis-cli -c -p %d CLUSTER KEYSLOT '{user1000}.following' > %s", ports[2], out),
      0);
  char *text = hs_test_slurp(out, NULL);
  assert_int_equal(atoi(text), hs_rc_slot("user1000", 8));
  hs_free(text);
  SAY("%d keys: the slot agrees with CLUSTER KEYSLOT (\"123456789\" -> %u)\n", checked + 1,
      hs_rc_slot("123456789", 9));
}

static void test_bad_seeds_are_refused(void **state) {
  (void)state;
  size_t base = hs_alloc_bytes();
  uv_loop_t loop;
  uv_loop_init(&loop);
  const char *bad[] = {NULL,
                       "",
                       " , ",
                       "127.0.0.1:",
                       "127.0.0.1:70000",
                       "127.0.0.1:12x",
                       ":6379",
                       "127.0.0.1:7000,[::1]:"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    hs_rc_t *rc = (hs_rc_t *)&loop;
    hs_err_t err = {0};
    hs_rc_conf_t conf = {.seeds = bad[i]};
    assert_int_equal(hs_rc_new(&rc, &loop, &conf, &err), HS_E_INVAL);
    assert_null(rc);
    assert_true(err.msg[0] != 0);
  }
  close_loop(&loop);
  assert_int_equal(hs_alloc_bytes(), base);
}

static void test_writes_spread_over_the_masters(void **state) {
  (void)state;
  double t0 = secs();
  for (int i = 0; i < NODES; i++)
    freeReplyObject(q(ports[i], "FLUSHALL")); /* replicas refuse: they follow */
  load_slot_ports(ports[0]);
  int m[NODES];
  assert_int_equal(masters(m), 3);
  int replica = 0;
  for (int i = 0; i < NODES && !replica; i++)
    if (ports[i] != m[0] && ports[i] != m[1] && ports[i] != m[2])
      replica = ports[i];
  /* the first seed is not listening, the second is a replica */
  int dead;
  free_ports(&dead, 1);
  char seeds[128];
  snprintf(seeds, sizeof seeds, "127.0.0.1:%d, 127.0.0.1:%d", dead, replica);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_rc_t *rc = open_rc(&loop, seeds, NULL, 2000);
  assert_true(wait_ready(&loop, rc, 5000));
  hs_rc_stats_t st;
  hs_rc_stats(rc, &st);
  assert_int_equal(st.masters, 3);
  assert_false(st.standalone);
  SAY("ready after %.2f s from seeds \"%s\" (dead port, replica); last error: %s\n", secs() - t0,
      seeds, hs_rc_last_error(rc));
  for (int i = 0; i < NKEYS; i++) {
    snprintf(keys[i], sizeof keys[i], "k:%d", i);
    snprintf(vals[i], sizeof vals[i], "v:%d", i);
    assert_int_equal(send_argv(rc, &res[i], 3, "SET", keys[i], vals[i], NULL), 0);
  }
  assert_int_equal(hs_rc_inflight(rc), NKEYS);
  assert_true(wait_pending(&loop, 5000));
  for (int i = 0; i < NKEYS; i++) {
    assert_int_equal(res[i].calls, 1);
    assert_string_equal(res[i].str, "OK");
  }
  for (int i = 0; i < NKEYS; i++)
    assert_int_equal(send_fmt(rc, &res[i], keys[i], "GET %s", keys[i]), 0);
  assert_true(wait_pending(&loop, 5000));
  for (int i = 0; i < NKEYS; i++)
    assert_string_equal(res[i].str, vals[i]);
  /* the keys are on all three masters, each where its slot says */
  long long total = 0;
  for (int i = 0; i < 3; i++) {
    redisReply *r = q(m[i], "DBSIZE");
    assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0);
    int expect = 0;
    for (int k = 0; k < NKEYS; k++)
      expect += key_port(keys[k]) == m[i];
    assert_int_equal(r->integer, expect);
    SAY("master 127.0.0.1:%d holds %lld keys\n", m[i], r->integer);
    total += r->integer;
    freeReplyObject(r);
  }
  assert_int_equal(total, NKEYS);
  check_with_redis_cli(replica, keys, vals, NKEYS);
  assert_int_equal(hs_rc_inflight(rc), 0);
  say_stats("spread", rc);
  close_rc(&loop, rc);
  close_loop(&loop);
}

/* Moves `n` slots from `from` to `to` with redis-cli, in a child process. */
static pid_t start_reshard(int from, int to, int n) {
  char a[64], idf[64], idt[64], cnt[16], log[256];
  snprintf(a, sizeof a, "127.0.0.1:%d", from);
  node_id(from, idf);
  node_id(to, idt);
  snprintf(cnt, sizeof cnt, "%d", n);
  snprintf(log, sizeof log, "%s/reshard.log", tmpdir);
  char *argv[] = {"redis-cli",    "--cluster", "reshard",         a,   "--cluster-from", idf,
                  "--cluster-to", idt,         "--cluster-slots", cnt, "--cluster-yes",  NULL};
  return spawn(argv, log);
}

static void test_moved_during_and_after_a_reshard(void **state) {
  (void)state;
  load_slot_ports(ports[0]);
  int m[NODES];
  assert_int_equal(masters(m), 3);
  int src = key_port("m:0"), dst = src == m[0] ? m[1] : m[0];
  char seeds[64];
  seeds_of(seeds, sizeof seeds, src);
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* `stale` loads its map now and sends nothing until the reshard is over;
     `live` keeps working on the moving slots meanwhile */
  hs_rc_t *stale = open_rc(&loop, seeds, NULL, 2000), *live = open_rc(&loop, seeds, NULL, 2000);
  assert_true(wait_ready(&loop, stale, 5000) && wait_ready(&loop, live, 5000));
  int n = 0; /* keys in slots of `src` */
  for (int i = 0; n < NKEYS; i++) {
    char k[32];
    snprintf(k, sizeof k, "m:%d", i);
    if (key_port(k) != src)
      continue;
    snprintf(keys[n], sizeof keys[n], "%s", k);
    snprintf(vals[n], sizeof vals[n], "mv:%d", i);
    assert_int_equal(send_argv(live, &res[n], 3, "SET", keys[n], vals[n], NULL), 0);
    n++;
  }
  assert_true(wait_pending(&loop, 5000));
  double t0 = secs();
  pid_t child = start_reshard(src, dst, 300);
  int status = -1, ops = 0, errors = 0;
  /* a window of 64 commands in flight, reads and writes, until it is done */
  enum { W = 64 };
  res_t *win = &res[NKEYS];
  int wkey[W];
  bool busy[W] = {0}, wget[W];
  for (int next = 0, done = 0; !done;) {
    pid_t w = waitpid(child, &status, WNOHANG);
    assert_true(w >= 0);
    done = w == child;
    if (done)
      assert_true(wait_pending(&loop, 5000));
    for (int j = 0; j < W; j++) {
      if (busy[j] && win[j].calls == 0)
        continue;
      if (busy[j] && strcmp(win[j].str, wget[j] ? vals[wkey[j]] : "OK")) {
        SAY("during the reshard, %s %s: \"%s\" %s\n", wget[j] ? "GET" : "SET", keys[wkey[j]],
            win[j].str, win[j].err);
        errors++;
      }
      busy[j] = false;
      if (done)
        continue;
      wkey[j] = next % n;
      wget[j] = next % 3 != 0;
      next++;
      int st = wget[j] ? send_fmt(live, &win[j], keys[wkey[j]], "GET %s", keys[wkey[j]])
                       : send_argv(live, &win[j], 3, "SET", keys[wkey[j]], vals[wkey[j]], NULL);
      assert_int_equal(st, 0);
      busy[j] = true;
      ops++;
    }
    if (!done)
      run_ms(&loop, 5);
  }
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(errors, 0);
  hs_rc_stats_t st;
  hs_rc_stats(live, &st);
  SAY("reshard of 300 slots 127.0.0.1:%d -> %d took %.2f s; %d commands meanwhile, 0 errors, "
      "%llu MOVED, %llu ASK, %llu retries followed\n",
      src, dst, secs() - t0, ops, (unsigned long long)st.moved, (unsigned long long)st.asked,
      (unsigned long long)st.retries);
  /* the stale map sends every key of a moved slot to the old owner once */
  load_slot_ports(ports[0]);
  int moved = 0, idx[NKEYS];
  for (int i = 0; i < n; i++) {
    if (key_port(keys[i]) == src)
      continue;
    assert_int_equal(key_port(keys[i]), dst);
    assert_int_equal(send_fmt(stale, &res[moved], keys[i], "GET %s", keys[i]), 0);
    idx[moved++] = i;
  }
  assert_true(moved > 0);
  assert_true(wait_pending(&loop, 5000));
  for (int i = 0; i < moved; i++) {
    assert_int_equal(res[i].calls, 1);
    assert_string_equal(res[i].str, vals[idx[i]]);
  }
  hs_rc_stats(stale, &st);
  assert_int_equal(st.moved, moved);
  /* then the map is refreshed, and the same commands go straight there */
  run_ms(&loop, 400);
  for (int i = 0; i < moved; i++)
    assert_int_equal(send_fmt(stale, &res[i], keys[idx[i]], "GET %s", keys[idx[i]]), 0);
  assert_true(wait_pending(&loop, 5000));
  for (int i = 0; i < moved; i++)
    assert_string_equal(res[i].str, vals[idx[i]]);
  hs_rc_stats_t st2;
  hs_rc_stats(stale, &st2);
  assert_int_equal(st2.moved, st.moved);
  assert_true(st2.maps >= 2);
  SAY("stale map: %d keys in moved slots, %llu MOVED followed, none after the refresh\n", moved,
      (unsigned long long)st.moved);
  say_stats("stale", stale);
  close_rc(&loop, stale);
  close_rc(&loop, live);
  close_loop(&loop);
}

typedef struct migrate_s {
  int from, to;
  const char *key;
  bool done;
} migrate_t;

static void on_migrate(uv_timer_t *t) {
  migrate_t *m = t->data;
  redisReply *r = q(m->from, "MIGRATE 127.0.0.1 %d %s 0 5000", m->to, m->key);
  assert_true(r && r->type == REDIS_REPLY_STATUS);
  freeReplyObject(r);
  m->done = true;
}

static void test_ask_and_tryagain_during_a_migration(void **state) {
  (void)state;
  load_slot_ports(ports[0]);
  int m[NODES];
  assert_int_equal(masters(m), 3);
  unsigned slot = hs_rc_slot("ask", 3);
  int a = slot_port[slot], b = a == m[0] ? m[1] : m[0];
  char ida[64], idb[64], seeds[64];
  node_id(a, ida);
  node_id(b, idb);
  seeds_of(seeds, sizeof seeds, b);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_rc_t *rc = open_rc(&loop, seeds, NULL, 2000);
  assert_true(wait_ready(&loop, rc, 5000));
  assert_int_equal(send_argv(rc, &res[0], 3, "SET", "{ask}1", "one", NULL), 0);
  assert_int_equal(send_argv(rc, &res[1], 3, "SET", "{ask}2", "two", NULL), 0);
  assert_true(wait_pending(&loop, 3000));
  /* slot `slot` starts moving from a to b; {ask}1 has gone already */
  assert_true(q_is(b, "OK", "CLUSTER SETSLOT %u IMPORTING %s", slot, ida));
  assert_true(q_is(a, "OK", "CLUSTER SETSLOT %u MIGRATING %s", slot, idb));
  assert_true(q_is(a, "OK", "MIGRATE 127.0.0.1 %d {ask}1 0 5000", b));
  assert_int_equal(send_fmt(rc, &res[0], "{ask}1", "GET {ask}1"), 0); /* ASK */
  assert_int_equal(send_fmt(rc, &res[1], "{ask}2", "GET {ask}2"), 0); /* a still has it */
  assert_int_equal(send_fmt(rc, &res[2], "{ask}3", "SET {ask}3 three"),
                   0); /* ASK: new keys go to b */
  assert_true(wait_pending(&loop, 3000));
  assert_string_equal(res[0].str, "one");
  assert_string_equal(res[1].str, "two");
  assert_string_equal(res[2].str, "OK");
  hs_rc_stats_t st;
  hs_rc_stats(rc, &st);
  assert_int_equal(st.asked, 2);
  assert_int_equal(st.moved, 0);
  /* a multi-key read over both nodes gets TRYAGAIN until {ask}2 moves too */
  migrate_t mig = {a, b, "{ask}2", false};
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  t.data = &mig;
  uv_timer_start(&t, on_migrate, 250, 0);
  double t0 = secs();
  assert_int_equal(send_fmt(rc, &res[0], "{ask}1", "MGET {ask}1 {ask}2"), 0);
  assert_true(wait_pending(&loop, 3000));
  assert_true(mig.done);
  assert_string_equal(res[0].str, "one,two");
  hs_rc_stats(rc, &st);
  assert_true(st.retries >= 1);
  assert_int_equal(st.asked, 3);
  SAY("MGET over a half-migrated slot: %llu TRYAGAIN resends, then ASK; %.2f s\n",
      (unsigned long long)st.retries, secs() - t0);
  uv_close((uv_handle_t *)&t, NULL);
  /* ASK left the map alone: the next read asks again */
  assert_int_equal(send_fmt(rc, &res[0], "{ask}1", "GET {ask}1"), 0);
  assert_true(wait_pending(&loop, 3000));
  assert_string_equal(res[0].str, "one");
  hs_rc_stats(rc, &st);
  assert_int_equal(st.asked, 4);
  /* the migration ends: b owns the slot, and the client hears MOVED */
  assert_true(q_is(b, "OK", "CLUSTER SETSLOT %u NODE %s", slot, idb));
  assert_true(q_is(a, "OK", "CLUSTER SETSLOT %u NODE %s", slot, idb));
  for (int i = 0; i < 3; i++)
    if (m[i] != a && m[i] != b)
      assert_true(q_is(m[i], "OK", "CLUSTER SETSLOT %u NODE %s", slot, idb));
  assert_int_equal(send_fmt(rc, &res[0], "{ask}3", "GET {ask}3"), 0);
  assert_true(wait_pending(&loop, 3000));
  assert_string_equal(res[0].str, "three");
  hs_rc_stats(rc, &st);
  assert_int_equal(st.moved, 1);
  char k[3][32] = {"{ask}1", "{ask}2", "{ask}3"}, v[3][32] = {"one", "two", "three"};
  check_with_redis_cli(a, k, v, 3);
  say_stats("ask", rc);
  close_rc(&loop, rc);
  close_loop(&loop);
}

static void test_close_runs_every_callback_once(void **state) {
  (void)state;
  size_t base = hs_alloc_bytes();
  char seeds[64];
  seeds_of(seeds, sizeof seeds, ports[1]);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_rc_t *rc = open_rc(&loop, seeds, NULL, 2000);
  assert_true(wait_ready(&loop, rc, 5000));
  /* half are sent and some answered; the other half are still queued when
     the close comes */
  int n = 2 * NKEYS;
  for (int i = 0; i < n; i++) {
    char k[32];
    snprintf(k, sizeof k, "c:%d", i);
    assert_int_equal(i % 2 ? send_fmt(rc, &res[i], k, "GET %s", k)
                           : send_argv(rc, &res[i], 3, "SET", k, "x", NULL),
                     0);
    while (i == n / 2 && pending == n / 2 + 1)
      uv_run(&loop, UV_RUN_ONCE);
  }
  int answered = n - pending;
  reissue_rc = rc; /* a command sent from a callback during the close is refused */
  reissue_status = 0;
  bool closed = false;
  hs_rc_close(rc, on_closed, &closed);
  reissue_rc = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(pending, 0);
  int failed = 0;
  for (int i = 0; i < n; i++) {
    assert_int_equal(res[i].calls, 1);
    if (res[i].type == 0) {
      assert_non_null(strstr(res[i].err, "closing"));
      failed++;
    }
  }
  assert_true(failed > 0);
  assert_int_equal(reissue_status, HS_E_IO);
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(hs_alloc_bytes(), base);
  SAY("close with %d commands in flight: %d answered before, %d failed by the close, each "
      "callback once\n",
      n - answered, answered, failed);
}

static void test_standalone_server(void **state) {
  (void)state;
  pids[NODES] = start_server(ports[NODES], 0, "s3cret");
  for (int k = 0; k < 100 && !up(ports[NODES]); k++)
    usleep(50000);
  assert_true(up(ports[NODES]));
  char seeds[64];
  seeds_of(seeds, sizeof seeds, ports[NODES]);
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* a wrong password: never ready, and the reason is known */
  hs_rc_t *rc = open_rc(&loop, seeds, "wrong", 500);
  run_ms(&loop, 600);
  assert_false(hs_rc_ready(rc));
  assert_non_null(strstr(hs_rc_last_error(rc), "AUTH"));
  SAY("wrong password: %s\n", hs_rc_last_error(rc));
  close_rc(&loop, rc);
  rc = open_rc(&loop, seeds, "s3cret", 300);
  assert_true(wait_ready(&loop, rc, 3000));
  hs_rc_stats_t st;
  hs_rc_stats(rc, &st);
  assert_true(st.standalone);
  assert_int_equal(st.masters, 1);
  for (int i = 0; i < 100; i++) {
    snprintf(keys[i], sizeof keys[i], "s:%d", i);
    assert_int_equal(send_argv(rc, &res[i], 3, "SET", keys[i], keys[i], NULL), 0);
  }
  assert_true(wait_pending(&loop, 3000));
  for (int i = 0; i < 100; i++)
    assert_int_equal(send_fmt(rc, &res[i], keys[i], "GET %s", keys[i]), 0);
  assert_true(wait_pending(&loop, 3000));
  for (int i = 0; i < 100; i++)
    assert_string_equal(res[i].str, keys[i]);
  /* a command the client takes (no copy): answered, and freed by the client
     also when refused (the leak checkers would see it otherwise) */
  {
    char *f;
    int len = redisFormatCommand(&f, "GET %s", keys[7]);
    assert_true(len > 0);
    char *cmd = hs_malloc((size_t)len);
    assert_non_null(cmd);
    memcpy(cmd, f, (size_t)len);
    redisFreeCommand(f);
    memset(&res[0], 0, sizeof res[0]);
    assert_int_equal(hs_rc_command_take(rc, hs_rc_slot(keys[7], strlen(keys[7])), cmd, (size_t)len,
                                        on_res, &res[0]),
                     0);
    pending++;
    assert_true(wait_pending(&loop, 3000));
    assert_string_equal(res[0].str, keys[7]);
    char *bad = hs_malloc(16);
    assert_non_null(bad);
    memcpy(bad, "*1\r\n$4\r\nPING\r\n", 14);
    assert_int_equal(hs_rc_command_take(rc, HS_RC_SLOTS, bad, 14, on_res, &res[0]), HS_E_INVAL);
  }
  /* an error reply is the answer, not a failure */
  assert_int_equal(send_fmt(rc, &res[0], "s:1", "HGET s:1 f"), 0);
  assert_true(wait_pending(&loop, 3000));
  assert_int_equal(res[0].type, REDIS_REPLY_ERROR);
  assert_non_null(strstr(res[0].str, "WRONGTYPE"));
  /* a frozen server: the command fails after the timeout, then recovery */
  kill(pids[NODES], SIGSTOP);
  double t0 = secs();
  assert_int_equal(send_fmt(rc, &res[0], "s:1", "GET s:1"), 0);
  assert_true(wait_pending(&loop, 3000));
  double waited = secs() - t0;
  assert_int_equal(res[0].type, 0);
  assert_non_null(strstr(res[0].err, "no reply within 300 ms"));
  assert_false(hs_rc_ready(rc));
  assert_int_equal(send_fmt(rc, &res[0], "s:1", "GET s:1"), HS_E_IO);
  kill(pids[NODES], SIGCONT);
  assert_true(wait_ready(&loop, rc, 5000));
  assert_int_equal(hs_rc_connections(rc), 2);
  assert_int_equal(send_fmt(rc, &res[0], "s:1", "GET s:1"), 0);
  assert_true(wait_pending(&loop, 3000));
  assert_string_equal(res[0].str, "s:1");
  /* the loop stands still (as in a stopped process) while the answer waits
     unread: the server was not late, the connection stays */
  assert_int_equal(send_fmt(rc, &res[0], "s:2", "GET s:2"), 0);
  usleep(1000 * 1000);
  assert_true(wait_pending(&loop, 3000));
  assert_string_equal(res[0].str, "s:2");
  assert_int_equal(hs_rc_connections(rc), 2);
  SAY("standalone: frozen server noticed after %.2f s (\"%s\"), reconnected\n", waited,
      res[0].err[0] ? res[0].err : hs_rc_last_error(rc));
  say_stats("standalone", rc);
  close_rc(&loop, rc);
  close_loop(&loop);
  stop(NODES);
}

/* --- the state store on the cluster ------------------------------------ */

typedef struct sres_s {
  bool done;
  int status;
  char err[256];
  bool present;
  int32_t partition;
  int64_t v[2];
} sres_t;

static void on_store_done(void *ud, int status, const hs_err_t *err) {
  sres_t *r = ud;
  r->done = true;
  r->status = status;
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
}

static void on_store_get(void *ud, int status, const hs_err_t *err, const char *data, size_t len,
                         int32_t partition, const int64_t *cover) {
  sres_t *r = ud;
  snprintf(r->err, sizeof r->err, "%s", err ? err->msg : "");
  (void)len;
  r->done = true;
  r->status = status;
  r->present = data != NULL;
  r->partition = partition;
  r->v[0] = cover ? cover[0] : -7;
  r->v[1] = cover ? cover[1] : -7;
}

static void on_store_pos(void *ud, int status, const int64_t *offsets) {
  sres_t *r = ud;
  r->done = true;
  r->status = status;
  r->v[0] = offsets ? offsets[0] : -7;
  r->v[1] = offsets ? offsets[1] : -7;
}

static bool run_until(uv_loop_t *loop, bool *flag, int ms) {
  uint64_t end = uv_now(loop) + (uint64_t)ms;
  while (!*flag && uv_now(loop) < end) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
  return *flag;
}

#define NACCT 300

static int replica_of(int port);

static void test_store_commits_across_masters(void **state) {
  (void)state;
  load_slot_ports(ports[0]);
  char seeds[128];
  snprintf(seeds, sizeof seeds, "127.0.0.1:%d,127.0.0.1:%d", ports[1], ports[2]);
  static const char *const topics[] = {"t.usage", "t.billing"};
  hs_store_conf_t conf = {.nodes = seeds,
                          .prefix = "st",
                          .timeout_ms = 2000,
                          .reconnect_ms = 50,
                          .wait_replicas = 1,
                          .topics = topics,
                          .n_topics = 2};
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s;
  hs_err_t err = {0};
  assert_int_equal(hs_store_new(&s, &loop, &conf, &err), 0);
  uint64_t end = uv_now(&loop) + 5000;
  while (!hs_store_connected(s) && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  assert_true(hs_store_connected(s));
  /* NACCT accounts in 4 partitions, then the 4 groups' positions */
  static char ids[NACCT][16];
  static int64_t covers[NACCT][2];
  hs_store_write_t w[NACCT];
  int per_master[NODES] = {0}, m[NODES];
  int n_masters = masters(m);
  assert_int_equal(n_masters, 3);
  for (int k = 0; k < n_masters; k++) /* WAIT needs them in sync */
    assert_true(replica_of(m[k]) > 0);
  for (int i = 0; i < NACCT; i++) {
    snprintf(ids[i], sizeof ids[i], "a-%d", i);
    covers[i][0] = 100 + i;
    covers[i][1] = 50;
    w[i] = (hs_store_write_t){.account = {ids[i], strlen(ids[i])},
                              .state = ids[i],
                              .state_len = strlen(ids[i]),
                              .partition = i % 4,
                              .cover = covers[i]};
    char key[32];
    snprintf(key, sizeof key, "st:{%s}:state", ids[i]);
    for (int k = 0; k < n_masters; k++)
      per_master[k] += key_port(key) == m[k];
  }
  int64_t off[4][2], none[2] = {-1, -1};
  hs_store_pos_t pos[4];
  for (int p = 0; p < 4; p++) {
    off[p][0] = 400, off[p][1] = 50;
    pos[p] = (hs_store_pos_t){"g", p, off[p], none};
  }
  sres_t r = {0};
  double t0 = secs();
  assert_int_equal(hs_store_commit(s, w, NACCT, pos, 4, on_store_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 5000));
  if (r.status)
    fail_msg("commit: %s", r.err);
  double took = secs() - t0;
  for (int k = 0; k < n_masters; k++)
    assert_true(per_master[k] > 0);
  hs_store_stats_t st;
  hs_store_stats(s, &st);
  assert_int_equal(st.wait_short, 0);
  assert_int_equal(st.masters, 3);
  SAY("store: %d accounts over 3 masters (%d, %d, %d) and 4 positions, WAIT 1 replica: %.1f ms, "
      "%llu commands\n",
      NACCT, per_master[0], per_master[1], per_master[2], took * 1000,
      (unsigned long long)st.commands);
  /* every account reads back with its cover; the positions too */
  for (int i = 0; i < NACCT; i += 7) {
    memset(&r, 0, sizeof r);
    assert_int_equal(hs_store_get_state(s, w[i].account, on_store_get, &r), 0);
    assert_true(run_until(&loop, &r.done, 3000));
    assert_true(r.present);
    assert_int_equal(r.partition, i % 4);
    assert_int_equal(r.v[0], 100 + i);
    assert_int_equal(r.v[1], 50);
  }
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_positions(s, "g", 3, on_store_pos, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.v[0], 400);
  /* a stale writer: behind the stored cover of one account; no position moves */
  covers[5][0] = 90;
  int64_t later[2] = {500, 60}, expect[2] = {400, 50};
  pos[1] = (hs_store_pos_t){"g", 1, later, expect};
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_commit(s, &w[5], 1, &pos[1], 1, on_store_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, HS_STORE_REFUSED);
  SAY("store: %s\n", r.err);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_positions(s, "g", 1, on_store_pos, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.v[0], 400);
  /* a stale position */
  expect[0] = 399;
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_commit(s, NULL, 0, &pos[1], 1, on_store_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  assert_int_equal(r.status, HS_STORE_FENCED);
  SAY("store: %s\n", r.err);
  hs_store_stats(s, &st);
  assert_int_equal(st.refused, 1);
  assert_int_equal(st.fenced, 1);
  bool closed = false;
  hs_store_close(s, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* Account ids are user data: ids made of braces, blanks, and 128 bytes of
 * them each keep their four keys in one slot, so commits and reads succeed
 * on the cluster (an id starting with '}' gave an empty hash tag, and every
 * read of it answered CROSSSLOT). An id whose old keys were in one slot
 * ("a}b", tag "a") finds what an earlier version wrote there. */
static void test_hostile_account_ids_on_the_cluster(void **state) {
  (void)state;
  load_slot_ports(ports[0]);
  char seeds[64];
  snprintf(seeds, sizeof seeds, "127.0.0.1:%d", ports[0]);
  static const char *const topics[] = {"t.usage", "t.billing"};
  hs_store_conf_t conf = {.nodes = seeds,
                          .prefix = "hx",
                          .timeout_ms = 2000,
                          .reconnect_ms = 50,
                          .topics = topics,
                          .n_topics = 2};
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_store_t *s;
  hs_err_t err = {0};
  assert_int_equal(hs_store_new(&s, &loop, &conf, &err), 0);
  uint64_t end = uv_now(&loop) + 5000;
  while (!hs_store_connected(s) && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  assert_true(hs_store_connected(s));
  enum { N = 12 };
  static char ids[N][129];
  static const char *const fixed[] = {"{", "}", "{}", "}{", "}evil", " ", "\t", "}}{{", "%7D"};
  for (int i = 0; i < 9; i++)
    snprintf(ids[i], sizeof ids[i], "%s", fixed[i]);
  memset(ids[9], '}', 128);
  for (int b = 0; b < 128; b++) {
    ids[10][b] = b % 2 ? '{' : '}';
    ids[11][b] = "}{ %x"[b % 5];
  }
  static int64_t covers[N][2];
  hs_store_write_t w[N];
  static const int32_t day[] = {20500};
  static const double score[] = {42.0};
  for (int i = 0; i < N; i++) {
    covers[i][0] = 10 + i, covers[i][1] = 3;
    w[i] = (hs_store_write_t){.account = {ids[i], (uint32_t)strlen(ids[i])},
                              .state = ids[i],
                              .state_len = strlen(ids[i]),
                              .score_json = "{}",
                              .score_len = 2,
                              .days = day,
                              .scores = score,
                              .n_days = 1,
                              .partition = 1,
                              .cover = covers[i]};
  }
  sres_t r = {0};
  assert_int_equal(hs_store_commit(s, w, N, NULL, 0, on_store_done, &r), 0);
  assert_true(run_until(&loop, &r.done, 5000));
  if (r.status)
    fail_msg("commit of hostile ids: %s", r.err);
  for (int i = 0; i < N; i++) {
    memset(&r, 0, sizeof r);
    assert_int_equal(hs_store_get_state(s, w[i].account, on_store_get, &r), 0);
    assert_true(run_until(&loop, &r.done, 3000));
    if (r.status)
      fail_msg("reading \"%s\": %s", ids[i], r.err);
    assert_true(r.present);
    assert_int_equal(r.partition, 1);
    assert_int_equal(r.v[0], 10 + i);
  }
  /* an earlier version's keys of "a}b" (tag "a": one slot), found and moved */
  hs_buf_t k;
  hs_buf_init(&k);
  assert_int_equal(hs_store_legacy_key(&k, "hx", (hs_str_t){"a}b", 3}, "state"), 0);
  freeReplyObject(q(key_port(k.data), "SET %s %s", k.data, "old"));
  k.len = 0;
  assert_int_equal(hs_store_legacy_key(&k, "hx", (hs_str_t){"a}b", 3}, "cover"), 0);
  freeReplyObject(q(key_port(k.data), "SET %s %s", k.data, "0 t.usage=5 t.billing=6"));
  hs_buf_free(&k);
  memset(&r, 0, sizeof r);
  assert_int_equal(hs_store_get_state(s, (hs_str_t){"a}b", 3}, on_store_get, &r), 0);
  assert_true(run_until(&loop, &r.done, 3000));
  if (r.status)
    fail_msg("reading a}b: %s", r.err);
  assert_true(r.present);
  assert_int_equal(r.partition, 0);
  assert_int_equal(r.v[1], 6);
  SAY("store: %d ids of braces and blanks written and read back; an old key found\n", N);
  bool closed = false;
  hs_store_close(s, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* The replica of the master on `port`, once its link is up. */
static int replica_of(int port) {
  for (int k = 0; k < 200; k++) {
    for (int i = 0; i < NODES; i++) {
      redisReply *r = q(ports[i], "ROLE");
      bool match = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 4 &&
                   !strcmp(r->element[0]->str, "slave") && r->element[2]->integer == port &&
                   !strcmp(r->element[3]->str, "connected");
      freeReplyObject(r);
      if (match)
        return ports[i];
    }
    usleep(50000);
  }
  return 0;
}

/* Waits until the replica on `replica` has everything `master` wrote. */
static bool replica_caught_up(int master, int replica) {
  for (int k = 0; k < 100; k++) {
    redisReply *m = q(master, "ROLE"), *r = q(replica, "ROLE");
    bool ok = m && r && m->elements >= 2 && r->elements >= 5 &&
              m->element[1]->integer == r->element[4]->integer;
    freeReplyObject(m);
    freeReplyObject(r);
    if (ok)
      return true;
    usleep(50000);
  }
  return false;
}

static void test_failover_to_the_replica(void **state) {
  (void)state;
  load_slot_ports(ports[0]);
  int victim = key_port("f:0"), vi = -1, other = 0;
  for (int i = 0; i < NODES; i++)
    vi = ports[i] == victim ? i : vi;
  int replica = replica_of(victim);
  assert_true(replica > 0);
  int m[NODES];
  assert_int_equal(masters(m), 3);
  other = m[0] == victim ? m[1] : m[0];
  char seeds[64];
  seeds_of(seeds, sizeof seeds, other);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_rc_t *rc = open_rc(&loop, seeds, NULL, 1000);
  assert_true(wait_ready(&loop, rc, 5000));
  int on_victim = 0;
  for (int i = 0; i < NKEYS; i++) {
    snprintf(keys[i], sizeof keys[i], "f:%d", i);
    snprintf(vals[i], sizeof vals[i], "fv:%d", i);
    on_victim += key_port(keys[i]) == victim;
    assert_int_equal(send_argv(rc, &res[i], 3, "SET", keys[i], vals[i], NULL), 0);
  }
  assert_true(wait_pending(&loop, 3000));
  assert_true(replica_caught_up(victim, replica));
  uint64_t conns = hs_rc_connections(rc);
  hs_rc_stats_t before;
  hs_rc_stats(rc, &before);
  /* the master dies; its slots fail, the others keep working */
  stop(vi);
  double t0 = secs();
  int refused = 0, failed = 0, ok = 0;
  for (int i = 0; i < NKEYS; i++) {
    int st = send_fmt(rc, &res[i], keys[i], "GET %s", keys[i]);
    refused += st == HS_E_IO;
    if (st == HS_E_IO)
      res[i].calls = -1;
  }
  assert_true(wait_pending(&loop, 3000));
  for (int i = 0; i < NKEYS; i++) {
    if (res[i].calls < 0)
      continue;
    bool good = res[i].type == REDIS_REPLY_STRING && !strcmp(res[i].str, vals[i]);
    ok += good;
    failed += !good;
    if (key_port(keys[i]) != victim && !good)
      print_message("key %s (port %d, victim %d): type %d str \"%s\" err \"%s\"\n", keys[i],
                    key_port(keys[i]), victim, res[i].type, res[i].str, res[i].err);
    if (key_port(keys[i]) == victim)
      assert_false(good);
    else
      assert_true(good);
  }
  assert_int_equal(refused + failed, on_victim);
  assert_int_equal(ok, NKEYS - on_victim);
  assert_false(hs_rc_ready(rc));
  SAY("master 127.0.0.1:%d killed: %d commands for its slots failed (%d in flight, %d refused), "
      "%d for other masters succeeded\n",
      victim, on_victim, failed, refused, ok);
  /* its slots keep failing until the replica took over */
  int attempts = 0, refusals = 0;
  while (!hs_rc_ready(rc) && secs() - t0 < 15) {
    if (send_fmt(rc, &res[0], "f:0", "GET f:0") == 0)
      wait_pending(&loop, 2000);
    else
      refusals++;
    attempts++;
    run_ms(&loop, 50);
  }
  assert_true(hs_rc_ready(rc));
  double took = secs() - t0;
  for (int i = 0; i < NKEYS; i++)
    assert_int_equal(send_fmt(rc, &res[i], keys[i], "GET %s", keys[i]), 0);
  assert_true(wait_pending(&loop, 3000));
  for (int i = 0; i < NKEYS; i++)
    assert_string_equal(res[i].str, vals[i]);
  for (int i = 0; i < NKEYS; i++) {
    snprintf(vals[i], sizeof vals[i], "after:%d", i);
    assert_int_equal(send_argv(rc, &res[i], 3, "SET", keys[i], vals[i], NULL), 0);
  }
  assert_true(wait_pending(&loop, 3000));
  for (int i = 0; i < NKEYS; i++)
    assert_string_equal(res[i].str, "OK");
  load_slot_ports(replica);
  assert_int_equal(key_port("f:0"), replica);
  check_with_redis_cli(other, keys, vals, NKEYS);
  assert_true(hs_rc_connections(rc) > conns);
  hs_rc_stats_t after;
  hs_rc_stats(rc, &after);
  assert_true(after.maps > before.maps);
  SAY("replica 127.0.0.1:%d took over; the client was ready again after %.2f s (%d probes, %d "
      "refused meanwhile), %llu maps asked, last error: %s\n",
      replica, took, attempts, refusals, (unsigned long long)(after.maps - before.maps),
      hs_rc_last_error(rc));
  say_stats("failover", rc);
  close_rc(&loop, rc);
  close_loop(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slots_match_the_server),
      cmocka_unit_test(test_bad_seeds_are_refused),
      cmocka_unit_test(test_writes_spread_over_the_masters),
      cmocka_unit_test(test_moved_during_and_after_a_reshard),
      cmocka_unit_test(test_ask_and_tryagain_during_a_migration),
      cmocka_unit_test(test_close_runs_every_callback_once),
      cmocka_unit_test(test_standalone_server),
      cmocka_unit_test(test_store_commits_across_masters),
      cmocka_unit_test(test_hostile_account_ids_on_the_cluster),
      cmocka_unit_test(test_failover_to_the_replica),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
