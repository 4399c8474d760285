/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* healthscored: the live health score engine. Reads the engine settings,
 * compiles the scoring profiles, runs the live engine on a libuv loop with
 * the admin HTTP endpoints, and handles signals: SIGTERM/SIGINT stop
 * gracefully, SIGHUP reloads the profiles. */
#include "healthscore/config.h"
#include "healthscore/http.h"
#include "healthscore/live.h"
#include "healthscore/log.h"
#include "healthscore/mapper.h"
#include "healthscore/metrics.h"
#include "pool.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define STOP_TIMEOUT_MS 25000

typedef struct daemon_s {
  uv_loop_t loop;
  hs_settings_t settings;
  hs_model_t *model;
  hs_live_t *live;      /* engine.threads 1: the engine, on this loop */
  pool_t *pool;         /* engine.threads > 1: the engines, each on its own thread */
  hs_model_t **retired; /* models an engine may still run after a split reload */
  size_t n_retired;
  hs_mapper_t *mapper; /* with `sources:` and --role mapper or all */
  bool engine;         /* --role engine or all */
  int running;         /* the engine and the mapper, until each has stopped */
  hs_http_t *http;
  hs_metrics_t *metrics;
  uv_signal_t sigterm, sigint, sighup;
  hs_series_t *reload_ok, *reload_failed;
  hs_buf_t page;
  int exit_code;
  bool stopping;
  bool reloading;    /* a profiles file is being read off the loop */
  bool reload_again; /* SIGHUP during that read: read the file once more after it */
  bool mapper_role;  /* a mapper runs (sources set, role mapper or all) */
} daemon_t;

static void usage(FILE *f) {
  fprintf(f, "usage: healthscored [--config FILE] [options]\n\n"
             "The live customer health score engine: consumes events from Kafka, keeps each\n"
             "account's state in Redis, publishes alerts. Runs until SIGTERM or SIGINT (which\n"
             "write everything to Redis and exit 0); SIGHUP reloads the scoring profiles\n"
             "and the sources' mapping files and lookup tables.\n\n"
             "  -c, --config FILE       engine settings (YAML; docs/settings.md). Without it,\n"
             "                          every setting has its default.\n"
             "  -p, --profiles FILE     scoring profiles, overriding engine.profiles\n"
             "      --log-level LEVEL   error, warn, info or debug, overriding log.level\n"
             "      --log-format FMT    json or text, overriding log.format\n"
             "      --role ROLE         engine, mapper or all (default): the mapper reads the\n"
             "                          topics of `sources:` and produces engine events\n"
             "                          (docs/sources.md); all runs both when sources are set\n"
             "      --check             validate the settings and profiles, then exit\n"
             "  -h, --help              this help\n"
             "  -V, --version           the version\n\n"
             "Endpoints (http.host:http.port): /healthz /readyz /metrics /v1/accounts/{id}\n"
             "engine.threads N (settings) runs N engines, each on its own thread and core,\n"
             "sharing out the partitions as replicas do (docs/operations.md).\n");
}

/* Loads and compiles the profiles file. */
static int load_model(const char *path, hs_model_t **out, hs_err_t *err) {
  hs_config_t *cfg = NULL;
  int rc = hs_config_load_file(path, &cfg, err);
  if (!rc)
    rc = hs_model_compile(cfg, out, err);
  hs_config_free(cfg);
  return rc;
}

static void on_closed_handle(uv_handle_t *h) {
  (void)h;
}

static void on_http_closed(void *ud) {
  (void)ud;
}

static void on_stopped(void *ud, int status) {
  daemon_t *d = ud;
  if (status)
    d->exit_code = 1;
  if (--d->running > 0)
    return;
  d->live = NULL;
  d->pool = NULL;
  d->mapper = NULL;
  if (d->http) {
    hs_http_close(d->http, on_http_closed, d);
    d->http = NULL;
  }
  uv_close((uv_handle_t *)&d->sigterm, on_closed_handle);
  uv_close((uv_handle_t *)&d->sigint, on_closed_handle);
  uv_close((uv_handle_t *)&d->sighup, on_closed_handle);
  hs_log(HS_LOG_INFO, "daemon", "stopped");
}

static void on_mapper_stopped(void *ud, int status) {
  daemon_t *d = ud;
  d->mapper = NULL;
  on_stopped(ud, status);
}

static void on_pool_stopped(void *ud, int status) {
  daemon_t *d = ud;
  d->pool = NULL;
  on_stopped(ud, status);
}

static void stop_all(daemon_t *d, int timeout_ms) {
  d->running = (d->live != NULL) + (d->mapper != NULL) + (d->pool != NULL);
  if (!d->running) {
    d->running = 1;
    on_stopped(d, 0);
    return;
  }
  if (d->mapper)
    hs_mapper_stop(d->mapper, timeout_ms, on_mapper_stopped, d);
  if (d->live)
    hs_live_stop(d->live, timeout_ms, on_stopped, d);
  if (d->pool)
    pool_stop(d->pool, timeout_ms, on_pool_stopped, d);
}

static void on_stop_signal(uv_signal_t *s, int signum) {
  daemon_t *d = s->data;
  if (d->stopping) {
    hs_log(HS_LOG_WARN, "daemon", "%s again: still stopping", strsignal(signum));
    return;
  }
  d->stopping = true;
  hs_log(HS_LOG_INFO, "daemon", "%s: stopping", strsignal(signum));
  stop_all(d, STOP_TIMEOUT_MS);
}

/* A reload: the file is read and compiled on a worker thread, so that a
 * large or hostile file never holds the loop; the model is swapped in on the
 * loop. */
typedef struct reload_s {
  uv_work_t req;
  daemon_t *d;
  char *path;
  hs_model_t *model;
  hs_err_t err;
  int rc;
  bool split; /* engines run different models (pool_set_model) */
} reload_t;

static void reload_work(uv_work_t *req) {
  reload_t *r = req->data;
  r->rc = load_model(r->path, &r->model, &r->err);
}

static void start_reload(daemon_t *d);
static void reload_end(reload_t *r, int rc);

/* Keeps a model an engine may still borrow until the daemon ends. */
static void retire(daemon_t *d, hs_model_t *m) {
  hs_model_t **grown = hs_realloc(d->retired, (d->n_retired + 1) * sizeof *grown);
  if (!grown) {
    hs_log(HS_LOG_ERROR, "config", "out of memory: a retired model is kept unreferenced");
    return;
  }
  d->retired = grown;
  d->retired[d->n_retired++] = m;
}

static void on_pool_model(void *ud, int rc, bool split, const char *why) {
  reload_t *r = ud;
  if (split) { /* both models may be borrowed: the new one stays running, the old is kept */
    retire(r->d, r->d->model);
    r->d->model = r->model;
    r->model = NULL;
    r->split = true;
  }
  if (rc)
    snprintf(r->err.msg, sizeof r->err.msg, "%s", why);
  reload_end(r, rc);
}

static void reload_done(uv_work_t *req, int status) {
  reload_t *r = req->data;
  daemon_t *d = r->d;
  const char *path = r->path;
  int rc = status ? hs_err_set(&r->err, HS_E_IO, "%s", uv_strerror(status)) : r->rc;
  if (d->stopping || (!d->live && !d->pool)) {
    d->reloading = false;
    hs_log(HS_LOG_INFO, "config", "reload of %s dropped: the engine is stopping", path);
    hs_model_free(r->model);
    hs_free(r->path);
    hs_free(r);
    return;
  }
  if (!rc && d->pool) { /* on every engine's thread; d->reloading until it is done */
    pool_set_model(d->pool, r->model, d->model, on_pool_model, r);
    return;
  }
  if (!rc)
    rc = hs_live_set_model(d->live, r->model, &r->err);
  reload_end(r, rc);
}

/* Ends a reload: the new model runs (rc 0) or is dropped. */
static void reload_end(reload_t *r, int rc) {
  daemon_t *d = r->d;
  const char *path = r->path;
  d->reloading = false;
  if (r->split) {
    hs_series_add(d->reload_failed, 1);
    hs_log(HS_LOG_ERROR, "config", "reload of %s refused in part: %s", path, r->err.msg);
  } else if (rc) {
    hs_model_free(r->model);
    hs_series_add(d->reload_failed, 1);
    hs_log(HS_LOG_ERROR, "config", "reload of %s refused, the running profiles stay: %s", path,
           r->err.msg);
  } else {
    hs_model_free(d->model);
    d->model = r->model;
    hs_series_add(d->reload_ok, 1);
    hs_log(HS_LOG_INFO, "config", "profiles reloaded from %s: %zu profiles, %zu rules", path,
           hs_model_n_profiles(r->model), hs_model_n_rules(r->model));
  }
  hs_free(r->path);
  hs_free(r);
  if (d->reload_again && !d->stopping) {
    d->reload_again = false;
    start_reload(d);
  }
}

static void start_reload(daemon_t *d) {
  reload_t *r = hs_calloc(1, sizeof *r);
  char *path = hs_strdup(d->settings.profiles);
  int rc = r && path ? 0 : UV_ENOMEM;
  if (!rc) {
    r->req.data = r;
    r->d = d;
    r->path = path;
    rc = uv_queue_work(&d->loop, &r->req, reload_work, reload_done);
  }
  if (rc) {
    hs_free(path);
    hs_free(r);
    hs_series_add(d->reload_failed, 1);
    hs_log(HS_LOG_ERROR, "config", "reload of %s refused, the running profiles stay: %s",
           d->settings.profiles, uv_strerror(rc));
    return;
  }
  d->reloading = true;
}

static void on_sighup(uv_signal_t *s, int signum) {
  daemon_t *d = s->data;
  (void)signum;
  if (d->stopping)
    return;
  hs_mapper_reload(d->mapper); /* mapping files and lookup tables, off the loop */
  if (!d->engine)
    return;
  if (d->reloading) /* the file may have changed since that read began */
    d->reload_again = true;
  else
    start_reload(d);
}

/* Percent-decodes `s` in place; returns the length, or -1 when malformed. */
static int url_decode(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r == '%') {
      int hi, lo;
      char h[3] = {r[1], r[1] ? r[2] : 0, 0};
      if (!r[1] || !r[2] || sscanf(h, "%1x%1x", &hi, &lo) != 2)
        return -1;
      *w++ = (char)(hi * 16 + lo);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
  return (int)(w - s);
}

/* Ready when the engine and the mapper that run are; else *why says why. */
static bool daemon_ready(daemon_t *d, char *why, size_t n) {
  if (d->engine && !d->live) /* (with engine threads, /readyz asks them) */
    return snprintf(why, n, "stopped"), false;
  if (d->engine && !hs_live_ready(d->live, why, n))
    return false;
  if (d->mapper_role && !d->mapper)
    return snprintf(why, n, "stopped"), false;
  return !d->mapper_role || hs_mapper_ready(d->mapper, why, n);
}

/* A request answered by the engine threads (engine.threads > 1). */
typedef struct later_s {
  daemon_t *d;
  hs_http_reply_t *reply;
} later_t;

static void answer(later_t *w, int status, const char *type, const hs_buf_t *body) {
  hs_http_answer(w->reply, status, type, body);
  hs_free(w);
}

static void not_held(daemon_t *d, hs_buf_t *body) {
  hs_buf_printf(body,
                "{\"error\":\"account not held by this member; its score record is in "
                "Redis (%s:{ACCOUNT}:score) and `healthscore show` reads it\"}\n",
                d->settings.redis_prefix);
}

static void on_pool_ready(void *ud, bool ok, const char *why) {
  later_t *w = ud;
  daemon_t *d = w->d;
  char mwhy[512];
  hs_buf_t body;
  hs_buf_init(&body);
  if (ok && d->mapper_role && !d->mapper)
    ok = false, why = "stopped";
  else if (ok && d->mapper_role && !hs_mapper_ready(d->mapper, mwhy, sizeof mwhy))
    ok = false, why = mwhy;
  if (ok)
    hs_buf_printf(&body, "ready\n");
  else
    hs_buf_printf(&body, "not ready: %s\n", why);
  answer(w, ok ? 200 : 503, NULL, &body);
  hs_buf_free(&body);
}

static void on_pool_metrics(void *ud, const hs_metrics_t *sum, const char *why) {
  later_t *w = ud;
  hs_buf_t body;
  hs_buf_init(&body);
  if (sum && !hs_metrics_render(w->d->metrics, &body) && !hs_metrics_render(sum, &body)) {
    answer(w, 200, "text/plain; version=0.0.4; charset=utf-8", &body);
  } else {
    body.len = 0;
    hs_buf_printf(&body, "metrics unavailable: %s\n", sum ? "out of memory" : why);
    answer(w, 503, NULL, &body);
  }
  hs_buf_free(&body);
}

static void on_pool_account(void *ud, int rc, const hs_buf_t *json, const char *why) {
  later_t *w = ud;
  hs_buf_t body;
  hs_buf_init(&body);
  int status = 200;
  if (!rc) {
    hs_buf_append(&body, json->data, json->len);
    hs_buf_append(&body, "\n", 1);
  } else if (rc == HS_E_INVAL) {
    status = 404;
    not_held(w->d, &body);
  } else {
    status = 503;
    hs_buf_printf(&body, "{\"error\":");
    hs_buf_json_str(&body, why, strlen(why));
    hs_buf_printf(&body, "}\n");
  }
  answer(w, status, "application/json", &body);
  hs_buf_free(&body);
}

/* Defers `resp` to the engine threads; NULL when it is answered now (out
 * of memory: 503). */
static later_t *defer(daemon_t *d, hs_http_response_t *resp) {
  later_t *w = hs_malloc(sizeof *w);
  hs_http_reply_t *r = w ? hs_http_defer(resp) : NULL;
  if (!r) {
    hs_free(w);
    resp->status = 503;
    hs_buf_printf(&resp->body, "out of memory\n");
    return NULL;
  }
  w->d = d;
  w->reply = r;
  return w;
}

static void on_request(void *ud, const char *method, const char *path, hs_http_response_t *resp) {
  daemon_t *d = ud;
  (void)method;
  char why[512];
  later_t *w;
  if (d->pool && (!strcmp(path, "/readyz") || !strcmp(path, "/metrics"))) {
    if ((w = defer(d, resp)) && !strcmp(path, "/readyz"))
      pool_ready(d->pool, on_pool_ready, w);
    else if (w)
      pool_metrics(d->pool, on_pool_metrics, w);
  } else if (!strcmp(path, "/healthz")) {
    hs_buf_printf(&resp->body, "ok\n");
  } else if (!strcmp(path, "/readyz")) {
    bool ok = daemon_ready(d, why, sizeof why);
    if (!ok) {
      resp->status = 503;
      hs_buf_printf(&resp->body, "not ready: %s\n", why);
    } else {
      hs_buf_printf(&resp->body, "ready\n");
    }
  } else if (!strcmp(path, "/metrics")) {
    if (d->live)
      hs_live_update_metrics(d->live);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    hs_metrics_render(d->metrics, &resp->body);
  } else if (!strncmp(path, "/v1/accounts/", 13) && path[13]) {
    char id[512];
    snprintf(id, sizeof id, "%s", path + 13);
    int n = url_decode(id);
    resp->content_type = "application/json";
    if (n <= 0) {
      resp->status = 400;
      hs_buf_printf(&resp->body, "{\"error\":\"malformed account id\"}\n");
    } else if (d->pool) {
      if ((w = defer(d, resp)))
        pool_account(d->pool, (hs_str_t){id, (uint32_t)n}, on_pool_account, w);
    } else if (!d->live ||
               hs_live_account_json(d->live, (hs_str_t){id, (uint32_t)n}, &resp->body)) {
      resp->status = 404;
      not_held(d, &resp->body);
    } else {
      hs_buf_append(&resp->body, "\n", 1);
    }
  } else {
    resp->status = 404;
    hs_buf_printf(&resp->body, "not found: try /healthz, /readyz, /metrics, /v1/accounts/{id}\n");
  }
}

/* What the command line asks for. */
typedef struct args_s {
  const char *config, *profiles, *level, *format, *role;
  bool check;
} args_t;

/* Parses the command line into *a. Returns -1 to go on, else the exit
 * status (0 after --help or --version, 2 on a usage error). */
static int parse_args(int argc, char **argv, args_t *a) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"profiles", required_argument, NULL, 'p'},
                                       {"log-level", required_argument, NULL, 'L'},
                                       {"log-format", required_argument, NULL, 'F'},
                                       {"check", no_argument, NULL, 'C'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"role", required_argument, NULL, 'R'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:p:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      a->config = optarg;
      break;
    case 'p':
      a->profiles = optarg;
      break;
    case 'L':
      a->level = optarg;
      break;
    case 'F':
      a->format = optarg;
      break;
    case 'C':
      a->check = true;
      break;
    case 'R':
      a->role = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("healthscored %s\n", HS_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "healthscored: unexpected argument \"%s\"\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  return -1;
}

/* Reads the settings, sets the logger up and compiles the profiles into d.
 * Returns -1 to go on, else the exit status (with d's settings and model
 * freed). */
static int configure(daemon_t *d, const args_t *a) {
  hs_err_t err = {0};
  if (hs_settings_defaults(&d->settings) ||
      (a->config && hs_settings_load_file(a->config, &d->settings, &err))) {
    fprintf(stderr, "healthscored: %s\n", err.msg[0] ? err.msg : "out of memory");
    hs_settings_free(&d->settings);
    return 2;
  }
  if (a->profiles) {
    hs_free(d->settings.profiles);
    d->settings.profiles = hs_strdup(a->profiles);
  }
  int lv = hs_log_level_from(a->level ? a->level : d->settings.log_level);
  if (lv < 0 || (a->format && strcmp(a->format, "json") && strcmp(a->format, "text"))) {
    fprintf(stderr, "healthscored: --log-level takes error|warn|info|debug, --log-format "
                    "json|text\n");
    hs_settings_free(&d->settings);
    return 2;
  }
  hs_log_setup((hs_log_level_t)lv,
               strcmp(a->format ? a->format : d->settings.log_format, "text") != 0);
  const char *role = a->role ? a->role : "all";
  d->engine = !strcmp(role, "engine") || !strcmp(role, "all");
  d->mapper_role = d->settings.n_sources && (!strcmp(role, "mapper") || !strcmp(role, "all"));
  const char *bad = strcmp(role, "engine") && strcmp(role, "mapper") && strcmp(role, "all")
                        ? "--role takes engine, mapper or all"
                    : !strcmp(role, "mapper") && !d->settings.n_sources
                        ? "--role mapper needs sources in the settings (docs/sources.md)"
                        : NULL;
  if (bad || (d->engine && load_model(d->settings.profiles, &d->model, &err)) ||
      (d->mapper_role && hs_mapper_check(&d->settings, &err))) {
    fprintf(stderr, "healthscored: %s\n", bad ? bad : err.msg);
    hs_model_free(d->model);
    hs_settings_free(&d->settings);
    return 2;
  }
  if (a->check) {
    char threads[48] = ""; /* only when set: the output of one engine stays as it was */
    if (d->settings.threads > 1)
      snprintf(threads, sizeof threads, "; %d engine threads", d->settings.threads);
    if (d->engine)
      printf("%s: ok; profiles %s: ok (%zu profiles, %zu rules)%s\n",
             a->config ? a->config : "(defaults)", d->settings.profiles,
             hs_model_n_profiles(d->model), hs_model_n_rules(d->model), threads);
    if (d->mapper_role)
      printf("%s: %zu sources ok\n", a->config ? a->config : "(defaults)", d->settings.n_sources);
    hs_model_free(d->model);
    hs_settings_free(&d->settings);
    return 0;
  }
  return -1;
}

/* The daemon's own metrics: profile reloads and the build. Returns 0, or -1
 * out of memory. */
static int register_metrics(daemon_t *d) {
  d->metrics = hs_metrics_new();
  hs_family_t *reloads =
      d->metrics ? hs_metrics_family(d->metrics, HS_COUNTER, "healthscore_config_reloads_total",
                                     "Profile reloads on SIGHUP, by result", "result", NULL, 0)
                 : NULL;
  hs_family_t *info = d->metrics ? hs_metrics_family(d->metrics, HS_GAUGE, "healthscore_build_info",
                                                     "The running version", "version", NULL, 0)
                                 : NULL;
  const char *ok[] = {"ok"}, *failed[] = {"error"}, *version[] = {HS_VERSION};
  d->reload_ok = reloads ? hs_family_series(reloads, ok) : NULL;
  d->reload_failed = reloads ? hs_family_series(reloads, failed) : NULL;
  hs_series_t *vs = info ? hs_family_series(info, version) : NULL;
  if (!d->reload_ok || !d->reload_failed || !vs)
    return -1;
  hs_series_set(vs, 1);
  if (!d->engine)
    return 0;
  /* with every engine's healthscore_ready summed, alerts compare the two */
  hs_family_t *threads = hs_metrics_family(
      d->metrics, HS_GAUGE, "healthscore_engine_threads",
      "Engines in this process, each on its own thread (engine.threads)", NULL, NULL, 0);
  hs_series_t *ts = threads ? hs_family_series(threads, NULL) : NULL;
  if (!ts)
    return -1;
  hs_series_set(ts, d->settings.threads);
  return 0;
}

/* Starts the live engine and the mapper (as the role says), the admin
 * endpoints and the signal handlers; on failure, stops what started, so
 * that the loop ends with exit status 2. */
static void start(daemon_t *d) {
  hs_err_t err = {0};
  int rc = 0;
  if (d->engine && d->settings.threads > 1) {
    hs_log(HS_LOG_INFO, "daemon", "starting %d engines, each on its own thread",
           d->settings.threads);
    rc = pool_start(&d->pool, &d->loop, &d->settings, d->model, d->metrics, &err);
  } else if (d->engine) {
    rc = hs_live_new(&d->live, &d->loop, &d->settings, d->model, d->metrics, &err);
  }
  if (!rc && d->mapper_role)
    rc = hs_mapper_new(&d->mapper, &d->loop, &d->settings, d->metrics, &err);
  if (!rc && d->settings.http_port > 0)
    rc = hs_http_new(&d->http, &d->loop,
                     &(hs_http_conf_t){.host = d->settings.http_host,
                                       .port = d->settings.http_port,
                                       .max_connections = d->settings.http_max_connections,
                                       .header_timeout_ms = d->settings.http_header_timeout_ms,
                                       .write_timeout_ms = d->settings.http_write_timeout_ms,
                                       .body_timeout_ms = d->settings.http_body_timeout_ms,
                                       .metrics = d->metrics},
                     on_request, d, &err);
  if (!rc && d->http)
    hs_log(HS_LOG_INFO, "http", "admin endpoints on http://%s:%d/", d->settings.http_host,
           hs_http_port(d->http));
  uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
  for (int i = 0; i < 3; i++) {
    uv_signal_init(&d->loop, sigs[i]);
    sigs[i]->data = d;
  }
  if (rc) {
    hs_log(HS_LOG_ERROR, "daemon", "cannot start: %s", err.msg);
    d->exit_code = 2;
    d->stopping = true;
    stop_all(d, 1000);
  } else {
    uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
  }
}

int main(int argc, char **argv) {
  args_t a = {0};
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  daemon_t d;
  memset(&d, 0, sizeof d);
  if ((rc = configure(&d, &a)) >= 0)
    return rc;
  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&d.loop);
  hs_buf_init(&d.page);
  if (register_metrics(&d)) {
    fprintf(stderr, "healthscored: out of memory registering the metrics\n");
    d.exit_code = 1;
  } else {
    if (!a.role && !d.mapper_role)
      hs_log(HS_LOG_INFO, "daemon", "healthscored %s starting; profiles %s", HS_VERSION,
             d.settings.profiles);
    else
      hs_log(HS_LOG_INFO, "daemon", "healthscored %s starting (role %s%s); profiles %s", HS_VERSION,
             a.role ? a.role : "all", d.mapper_role ? ", with sources" : "",
             d.engine ? d.settings.profiles : "unused");
    start(&d);
    uv_run(&d.loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&d.loop);
  hs_metrics_free(d.metrics); /* what register_metrics made, even when it failed */
  hs_buf_free(&d.page);
  hs_model_free(d.model);
  for (size_t i = 0; i < d.n_retired; i++)
    hs_model_free(d.retired[i]);
  hs_free(d.retired);
  hs_settings_free(&d.settings);
  return d.exit_code;
}
