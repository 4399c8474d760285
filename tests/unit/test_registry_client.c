/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Schema Registry client against a stand-in of the registry's REST API
 * (tests/unit/registry_standin.py, a python3 http.server: there is no
 * Schema Registry package on Debian), run as a real process on a loopback
 * port: one GET per id for any number of messages, 404 as a reject, an
 * outage and a slow registry as "pause, not reject", recovery, basic auth
 * and 401, the bound on concurrent fetches, and the schema directory. Every
 * test ends with uv_loop_close() == 0. */
#include "testutil.h"

#include "healthscore/registry.h"

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct standin_s {
  pid_t pid;
  int port;
  char log[300], url[64];
} standin_t;

static char tmpdir[256];
static int resolved;
/* stand-ins still running: a failed test leaves none behind */
static pid_t children[16];
static int n_children;

static void on_resolve(void *arg, uint32_t id) {
  (void)arg;
  (void)id;
  resolved++;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hs-registry-XXXXXX");
  if (!mkdtemp(tmpdir))
    return -1;
  char path[400];
  size_t n;
  char *stripe = hs_test_read_file("tests/fixtures/sources/stripe-invoice-payment-failed.avsc", &n);
  for (int id = 1; id <= 7; id++) {
    snprintf(path, sizeof path, "%s/%d.avsc", tmpdir, id);
    write_file(path, stripe);
  }
  hs_free(stripe);
  snprintf(path, sizeof path, "%s/20.json", tmpdir);
  write_file(path, "{\"type\":\"object\"}");
  snprintf(path, sizeof path, "%s/21.avsc", tmpdir);
  write_file(path, "{\"type\":\"record\",\"name\":\"Broken\"}");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < n_children; i++) {
    kill(children[i], SIGTERM);
    waitpid(children[i], NULL, 0);
  }
  return hs_test_run("rm -rf %s", tmpdir);
}

/* Starts the stand-in (port 0: any) with extra arguments, waits for its port. */
static void standin_start(standin_t *s, int port, const char *a1, const char *a2, const char *a3,
                          const char *a4) {
  static int seq;
  char portfile[300], portarg[16];
  snprintf(portfile, sizeof portfile, "%s/port.%d", tmpdir, ++seq);
  snprintf(s->log, sizeof s->log, "%s/log.%d", tmpdir, seq);
  snprintf(portarg, sizeof portarg, "%d", port);
  write_file(s->log, "");
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    /* its output goes to a file: an orphan must not hold the test's stdout */
    char errlog[320];
    snprintf(errlog, sizeof errlog, "%s.err", s->log);
    if (!freopen(errlog, "w", stdout) || !freopen(errlog, "a", stderr))
      _exit(126);
    execl("/usr/bin/python3", "python3", hs_test_path("tests/unit/registry_standin.py"), "--port",
          portarg, "--port-file", portfile, "--schemas", tmpdir, "--log", s->log, a1, a2, a3, a4,
          (char *)NULL);
    _exit(127);
  }
  children[n_children++] = s->pid;
  for (int i = 0; i < 6000; i++) { /* up to 60 s for python to start on a loaded machine */
    FILE *f = fopen(portfile, "r");
    if (f) {
      assert_int_equal(fscanf(f, "%d", &s->port), 1);
      fclose(f);
      return;
    }
    usleep(10000);
  }
  fail_msg("the registry stand-in did not start");
}

/* A stand-in started with the arguments, a loop, and a client of it with
 * `o` (whose url is set here). */
static hs_registry_t *with_standin(standin_t *s, uv_loop_t *loop, hs_registry_opts_t o,
                                   const char *a1, const char *a2, const char *a3, const char *a4) {
  standin_start(s, 0, a1, a2, a3, a4);
  resolved = 0;
  snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
  o.url = s->url;
  uv_loop_init(loop);
  hs_registry_t *r = NULL;
  hs_err_t err = {0};
  if (hs_registry_new(loop, &o, &r, &err))
    fail_msg("hs_registry_new: %s", err.msg);
  return r;
}

static void standin_stop(standin_t *s) {
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
  for (int i = 0; i < n_children; i++)
    if (children[i] == s->pid)
      children[i] = children[--n_children];
}

/* Lines of the stand-in's log containing `frag`. */
static int log_count(const standin_t *s, const char *frag, int *max_active) {
  size_t n;
  char *text = hs_test_slurp(s->log, &n);
  int count = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strstr(line, frag))
      continue;
    count++;
    const char *a = strstr(line, "active=");
    if (max_active && a && atoi(a + 7) > *max_active)
      *max_active = atoi(a + 7);
  }
  hs_free(text);
  return count;
}

static bool guard_expired;
static void on_guard(uv_timer_t *t) {
  (void)t;
  guard_expired = true;
}

/* Runs the loop until cond() holds; a 60 s guard fails a test that hangs
 * (never part of what a test checks). */
static void run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg) {
  uv_timer_t guard;
  uv_timer_init(loop, &guard);
  guard_expired = false;
  uv_timer_start(&guard, on_guard, 60000, 0);
  while (!cond(arg) && !guard_expired)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  if (guard_expired)
    fail_msg("condition not reached");
}

/* A counter of hs_registry_stats_t (by offset) at `min` or more. */
typedef struct stat_at_s {
  hs_registry_t *r;
  size_t offset;
  uint64_t min;
} stat_at_t;

static bool stat_reached(void *arg) {
  const stat_at_t *a = arg;
  hs_registry_stats_t st;
  hs_registry_stats(a->r, &st);
  uint64_t v;
  memcpy(&v, (const char *)&st + a->offset, sizeof v);
  return v >= a->min;
}

static bool resolved_at_least(void *arg) {
  return resolved >= *(int *)arg;
}

static hs_registry_t *reg_of(uv_loop_t *loop, const hs_registry_opts_t *o) {
  hs_registry_t *r = NULL;
  hs_err_t err = {0};
  if (hs_registry_new(loop, o, &r, &err))
    fail_msg("hs_registry_new: %s", err.msg);
  return r;
}

static void finish(uv_loop_t *loop, hs_registry_t *r) {
  hs_registry_close(r);
  uv_run(loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(loop), 0);
}

static int lookup(hs_registry_t *r, uint32_t id, hs_reject_t *why, hs_err_t *err) {
  const hs_registry_schema_t *s = NULL;
  int rc = hs_registry_lookup(r, id, HS_SCHEMA_AVRO, &s, why, err);
  assert_true(rc == 0 ? s != NULL && s->avro != NULL : s == NULL);
  return rc;
}

static void test_cache_hit_one_get_for_many_messages(void **state) {
  (void)state;
  standin_t s;
  standin_start(&s, 0, NULL, NULL, NULL, NULL);
  char url[64];
  snprintf(url, sizeof url, "http://localhost:%d/", s.port);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_metrics_t *m = hs_metrics_new();
  hs_registry_t *r =
      reg_of(&loop, &(hs_registry_opts_t){.url = url, .metrics = m, .on_resolve = on_resolve});
  hs_reject_t why;
  hs_err_t err = {0};
  resolved = 0;
  assert_int_equal(lookup(r, 7, &why, &err), HS_REG_PENDING);
  assert_non_null(strstr(err.msg, "being fetched"));
  int one = 1;
  run_until(&loop, resolved_at_least, &one);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(lookup(r, 7, &why, &err), 0);
  assert_int_equal(log_count(&s, "GET /schemas/ids/7 ", NULL), 1);
  hs_registry_stats_t st;
  hs_registry_stats(r, &st);
  assert_int_equal(st.requests, 1);
  assert_int_equal(st.ok, 1);
  assert_int_equal(st.cache_hits, 1000);
  hs_buf_t out;
  hs_buf_init(&out);
  hs_metrics_render(m, &out);
  assert_non_null(strstr(out.data, "healthscore_schema_registry_up 1"));
  assert_non_null(strstr(out.data, "healthscore_schema_registry_schemas 1"));
  assert_non_null(strstr(out.data, "healthscore_schema_registry_requests_total{result=\"ok\"} 1"));
  hs_buf_free(&out);
  finish(&loop, r);
  hs_metrics_free(m);
  standin_stop(&s);
}

static void test_unknown_id_is_a_reject(void **state) {
  (void)state;
  standin_t s;
  uv_loop_t loop;
  hs_registry_t *r = with_standin(&s, &loop, (hs_registry_opts_t){.on_resolve = on_resolve}, NULL,
                                  NULL, NULL, NULL);
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(lookup(r, 99, &why, &err), HS_REG_PENDING);
  int one = 1;
  run_until(&loop, resolved_at_least, &one);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(lookup(r, 99, &why, &err), HS_E_SCHEMA);
    assert_int_equal(why, HS_REJ_UNKNOWN_SCHEMA);
    assert_non_null(strstr(err.msg, "schema id 99: unknown to the schema registry (404)"));
  }
  assert_int_equal(log_count(&s, "GET /schemas/ids/99 ", NULL), 1);
  const char *reason;
  assert_true(hs_registry_available(r, &reason)); /* a 404 is an answer */
  finish(&loop, r);
  standin_stop(&s);
}

static void test_registry_down_pauses_then_resumes(void **state) {
  (void)state;
  int port = hs_test_free_port();
  assert_true(port > 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_metrics_t *m = hs_metrics_new();
  hs_registry_t *r = reg_of(&loop, &(hs_registry_opts_t){.url = url,
                                                         .metrics = m,
                                                         .backoff_min_ms = 20,
                                                         .backoff_max_ms = 100,
                                                         .on_resolve = on_resolve});
  hs_reject_t why;
  hs_err_t err = {0};
  resolved = 0;
  assert_int_equal(lookup(r, 3, &why, &err), HS_REG_PENDING);
  run_until(&loop, stat_reached,
            &(stat_at_t){r, offsetof(hs_registry_stats_t, unreachable),
                         2}); /* refused, backed off, refused again */
  const char *reason;
  assert_false(hs_registry_available(r, &reason));
  assert_non_null(strstr(reason, "connection refused"));
  assert_non_null(strstr(reason, "pause"));
  assert_int_equal(lookup(r, 3, &why, &err), HS_REG_PENDING); /* never a reject */
  assert_int_equal(why, HS_REJ_NONE);
  assert_non_null(strstr(err.msg, "connection refused"));
  hs_buf_t out;
  hs_buf_init(&out);
  hs_metrics_render(m, &out);
  assert_non_null(strstr(out.data, "healthscore_schema_registry_up 0"));
  assert_non_null(strstr(out.data, "healthscore_schema_registry_waiting 1"));
  hs_buf_free(&out);

  standin_t s;
  standin_start(&s, port, NULL, NULL, NULL, NULL);
  int one = 1;
  run_until(&loop, resolved_at_least, &one);
  assert_int_equal(lookup(r, 3, &why, &err), 0);
  assert_true(hs_registry_available(r, &reason));
  hs_buf_init(&out);
  hs_metrics_render(m, &out);
  assert_non_null(strstr(out.data, "healthscore_schema_registry_up 1"));
  hs_buf_free(&out);
  finish(&loop, r);
  hs_metrics_free(m);
  standin_stop(&s);
}

static void test_slow_registry_times_out_and_pauses(void **state) {
  (void)state;
  standin_t s;
  uv_loop_t loop;
  hs_registry_t *r =
      with_standin(&s, &loop, (hs_registry_opts_t){.timeout_ms = 200, .backoff_min_ms = 10000},
                   "--delay", "30", NULL, NULL);
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(lookup(r, 4, &why, &err), HS_REG_PENDING);
  run_until(&loop, stat_reached, &(stat_at_t){r, offsetof(hs_registry_stats_t, timeouts), 1});
  assert_int_equal(lookup(r, 4, &why, &err), HS_REG_PENDING);
  assert_non_null(strstr(err.msg, "no response within 200 ms"));
  finish(&loop, r); /* a backoff timer pending: closed cleanly too */
  standin_stop(&s);
}

static void test_basic_auth_sent_and_401_surfaced(void **state) {
  (void)state;
  standin_t s;
  uv_loop_t loop;
  hs_registry_t *r =
      with_standin(&s, &loop,
                   (hs_registry_opts_t){
                       .username = "healthscore", .password = "s3cr3t:x", .on_resolve = on_resolve},
                   "--user", "healthscore", "--password", "s3cr3t:x");
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(lookup(r, 5, &why, &err), HS_REG_PENDING);
  int one = 1;
  run_until(&loop, resolved_at_least, &one);
  assert_int_equal(lookup(r, 5, &why, &err), 0);
  /* base64("healthscore:s3cr3t:x") */
  assert_int_equal(log_count(&s, "auth=Basic aGVhbHRoc2NvcmU6czNjcjN0Ong=", NULL), 1);
  finish(&loop, r);

  uv_loop_init(&loop);
  r = reg_of(&loop, &(hs_registry_opts_t){.url = s.url,
                                          .username = "healthscore",
                                          .password = "wrong",
                                          .backoff_min_ms = 10000});
  assert_int_equal(lookup(r, 5, &why, &err), HS_REG_PENDING);
  run_until(&loop, stat_reached, &(stat_at_t){r, offsetof(hs_registry_stats_t, unauthorized), 1});
  const char *reason;
  assert_false(hs_registry_available(r, &reason));
  assert_non_null(strstr(reason, "HTTP 401 Unauthorized: check its username and password"));
  assert_int_equal(lookup(r, 5, &why, &err), HS_REG_PENDING);
  finish(&loop, r);
  standin_stop(&s);
}

static void test_fetches_in_flight_are_bounded(void **state) {
  (void)state;
  standin_t s;
  uv_loop_t loop;
  hs_registry_t *r =
      with_standin(&s, &loop, (hs_registry_opts_t){.max_inflight = 2, .on_resolve = on_resolve},
                   "--delay", "0.2", NULL, NULL);
  hs_reject_t why;
  hs_err_t err = {0};
  for (uint32_t id = 1; id <= 6; id++)
    assert_int_equal(lookup(r, id, &why, &err), HS_REG_PENDING);
  int six = 6;
  run_until(&loop, resolved_at_least, &six);
  int max_active = 0;
  assert_int_equal(log_count(&s, "GET /schemas/ids/", &max_active), 6);
  assert_true(max_active >= 1 && max_active <= 2);
  for (uint32_t id = 1; id <= 6; id++)
    assert_int_equal(lookup(r, id, &why, &err), 0);
  finish(&loop, r);
  standin_stop(&s);
}

static void test_schema_types_and_broken_schemas(void **state) {
  (void)state;
  standin_t s;
  uv_loop_t loop;
  hs_registry_t *r = with_standin(&s, &loop, (hs_registry_opts_t){.on_resolve = on_resolve}, NULL,
                                  NULL, NULL, NULL);
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(lookup(r, 20, &why, &err), HS_REG_PENDING);
  assert_int_equal(lookup(r, 21, &why, &err), HS_REG_PENDING);
  int two = 2;
  run_until(&loop, resolved_at_least, &two);
  assert_int_equal(lookup(r, 20, &why, &err), HS_E_SCHEMA);
  assert_int_equal(why, HS_REJ_SCHEMA);
  assert_non_null(strstr(err.msg, "is a JSON schema, the source's format needs AVRO"));
  const hs_registry_schema_t *sc;
  assert_int_equal(hs_registry_lookup(r, 20, HS_SCHEMA_JSON, &sc, &why, &err), 0);
  assert_int_equal(sc->type, HS_SCHEMA_JSON);
  assert_int_equal(lookup(r, 21, &why, &err), HS_E_SCHEMA);
  assert_int_equal(why, HS_REJ_SCHEMA);
  assert_non_null(strstr(err.msg, "schema id 21 (from the registry): avro schema"));

  /* the whole path: a Confluent frame of an unknown id, then a known one */
  msgpack_zone *zone = msgpack_zone_new(1024);
  hs_framed_t fr;
  const uint8_t frame[] = {0, 0, 0, 0, 21, 0};
  assert_int_equal(
      hs_frame_decode(HS_SRC_CONFLUENT_AVRO, NULL, r, frame, sizeof frame, zone, &fr, &why, &err),
      HS_E_SCHEMA);
  assert_int_equal(fr.schema_id, 21);
  const uint8_t json[] = {0, 0, 0, 0, 20, '{', '}'};
  assert_int_equal(
      hs_frame_decode(HS_SRC_CONFLUENT_JSON, NULL, r, json, sizeof json, zone, &fr, &why, &err), 0);
  assert_true(fr.kind == HS_FRAMED_JSON && fr.raw_len == 2 && fr.raw[0] == '{');
  assert_int_equal(hs_frame_decode(HS_SRC_CONFLUENT_JSON, NULL, r, json, 3, zone, &fr, &why, &err),
                   HS_E_PARSE);
  assert_int_equal(why, HS_REJ_TRUNCATED_HEADER);
  msgpack_zone_free(zone);
  finish(&loop, r);
  standin_stop(&s);
}

static void test_schema_dir_for_air_gapped_sites(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_registry_t *r = reg_of(&loop, &(hs_registry_opts_t){.schema_dir = tmpdir});
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(lookup(r, 6, &why, &err), 0);
  const hs_registry_schema_t *sc;
  assert_int_equal(hs_registry_lookup(r, 20, HS_SCHEMA_JSON, &sc, &why, &err), 0);
  assert_int_equal(sc->type, HS_SCHEMA_JSON);
  assert_int_equal(lookup(r, 21, &why, &err), HS_E_SCHEMA);
  assert_non_null(strstr(err.msg, "21.avsc"));
  assert_int_equal(lookup(r, 8, &why, &err), HS_E_SCHEMA);
  assert_int_equal(why, HS_REJ_UNKNOWN_SCHEMA);
  assert_non_null(strstr(err.msg, "8.avsc or .json"));
  const char *reason;
  assert_true(hs_registry_available(r, &reason));
  finish(&loop, r);
}

static void test_settings_it_refuses(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_registry_t *r = NULL;
  hs_err_t err = {0};
  assert_int_equal(
      hs_registry_new(&loop, &(hs_registry_opts_t){.url = "https://sr.example:8081"}, &r, &err),
      HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "https is not supported"));
  assert_int_equal(hs_registry_new(&loop, &(hs_registry_opts_t){0}, &r, &err), HS_E_CONFIG);
  assert_int_equal(
      hs_registry_new(&loop, &(hs_registry_opts_t){.url = "http://u:p@host:1"}, &r, &err),
      HS_E_CONFIG);
  assert_int_equal(
      hs_registry_new(&loop, &(hs_registry_opts_t){.url = "http://host:8o81"}, &r, &err),
      HS_E_CONFIG);
  assert_int_equal(
      hs_registry_new(&loop, &(hs_registry_opts_t){.schema_dir = "/nonexistent"}, &r, &err),
      HS_E_CONFIG);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_hit_one_get_for_many_messages),
      cmocka_unit_test(test_unknown_id_is_a_reject),
      cmocka_unit_test(test_registry_down_pauses_then_resumes),
      cmocka_unit_test(test_slow_registry_times_out_and_pauses),
      cmocka_unit_test(test_basic_auth_sent_and_401_surfaced),
      cmocka_unit_test(test_fetches_in_flight_are_bounded),
      cmocka_unit_test(test_schema_types_and_broken_schemas),
      cmocka_unit_test(test_schema_dir_for_air_gapped_sites),
      cmocka_unit_test(test_settings_it_refuses),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
