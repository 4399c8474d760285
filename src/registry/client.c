/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Schema Registry client: the id cache, the fetch queue, backoff, and
 * the air-gapped schema directory. */
#include "healthscore/log.h"
#include "healthscore/registry.h"

#include "http_get.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

enum { E_PENDING = 0, E_READY, E_REJECTED };

typedef struct fetch_s fetch_t;

typedef struct entry_s {
  bool used;
  uint8_t state;
  hs_reject_t why; /* E_REJECTED */
  hs_registry_schema_t schema;
  char *reason;        /* E_REJECTED */
  uint64_t expires_ms; /* E_REJECTED by a 404; 0: never */
  fetch_t *fetch;      /* in flight */
  bool queued;
} entry_t;

struct fetch_s {
  hs_registry_t *r;
  uint32_t id;
  hs_http_get_t *get;
};

struct hs_registry_s {
  uv_loop_t *loop;
  hs_registry_opts_t o;
  char *host, *port, *prefix, *auth, *dir, *url;
  entry_t *tab;
  size_t cap, count;
  uint32_t *queue;
  size_t qlen, qcap;
  unsigned inflight, failures;
  uv_timer_t retry;
  bool retry_armed, up;
  uint64_t backoff_ms;
  char reason[256];
  hs_registry_stats_t st;
  hs_series_t *m_up, *m_schemas, *m_waiting, *m_req[6];
};

enum { RQ_OK, RQ_NOT_FOUND, RQ_UNAUTHORIZED, RQ_HTTP_ERROR, RQ_UNREACHABLE, RQ_TIMEOUT };
static const char *const req_results[] = {"ok",         "not_found",   "unauthorized",
                                          "http_error", "unreachable", "timeout"};

static uint32_t hash_id(uint32_t id) {
  return id * 2654435761u;
}

static entry_t *find(hs_registry_t *r, uint32_t id) {
  for (size_t i = hash_id(id) & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
    if (!r->tab[i].used)
      return NULL;
    if (r->tab[i].schema.id == id)
      return &r->tab[i];
  }
}

static void entry_clear(entry_t *e) {
  hs_avro_schema_free(e->schema.avro);
  hs_free(e->reason);
  if (e->fetch) {
    hs_http_get_cancel(e->fetch->get);
    hs_free(e->fetch);
  }
  memset(e, 0, sizeof *e);
}

/* Rebuilds the table at `cap`, dropping expired 404s. */
static int rehash(hs_registry_t *r, size_t cap, uint64_t now) {
  entry_t *old = r->tab;
  size_t old_cap = r->cap;
  entry_t *tab = hs_calloc(cap, sizeof *tab);
  if (!tab)
    return HS_E_NOMEM;
  r->tab = tab;
  r->cap = cap;
  r->count = 0;
  for (size_t i = 0; i < old_cap; i++) {
    entry_t *e = &old[i];
    if (!e->used)
      continue;
    if (e->state == E_REJECTED && e->expires_ms && e->expires_ms <= now) {
      entry_clear(e);
      continue;
    }
    size_t j = hash_id(e->schema.id) & (cap - 1);
    while (tab[j].used)
      j = (j + 1) & (cap - 1);
    tab[j] = *e;
    r->count++;
  }
  hs_free(old);
  return 0;
}

static entry_t *insert(hs_registry_t *r, uint32_t id) {
  uint64_t now = uv_now(r->loop);
  if (r->count >= r->o.max_schemas && rehash(r, r->cap, now))
    return NULL;
  if (r->count >= r->o.max_schemas)
    return NULL;
  if ((r->count + 1) * 2 > r->cap && rehash(r, r->cap * 2, now))
    return NULL;
  size_t i = hash_id(id) & (r->cap - 1);
  while (r->tab[i].used)
    i = (i + 1) & (r->cap - 1);
  entry_t *e = &r->tab[i];
  memset(e, 0, sizeof *e);
  e->used = true;
  e->schema.id = id;
  r->count++;
  return e;
}

static void gauges(hs_registry_t *r) {
  size_t ready = 0;
  for (size_t i = 0; i < r->cap; i++)
    ready += r->tab[i].used && r->tab[i].state == E_READY;
  if (r->m_schemas)
    hs_series_set(r->m_schemas, (double)ready);
  if (r->m_waiting)
    hs_series_set(r->m_waiting, (double)(r->qlen + r->inflight));
  if (r->m_up)
    hs_series_set(r->m_up, r->up ? 1 : 0);
}

static void count_request(hs_registry_t *r, int result) {
  uint64_t *c[] = {&r->st.ok,          &r->st.not_found,   &r->st.unauthorized,
                   &r->st.http_errors, &r->st.unreachable, &r->st.timeouts};
  (*c[result])++;
  if (r->m_req[result])
    hs_series_add(r->m_req[result], 1);
}

static void reject(hs_registry_t *r, entry_t *e, hs_reject_t why, uint64_t ttl, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
static void reject(hs_registry_t *r, entry_t *e, hs_reject_t why, uint64_t ttl, const char *fmt,
                   ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  hs_free(e->reason);
  e->reason = hs_strdup(msg);
  e->state = E_REJECTED;
  e->why = why;
  e->expires_ms = ttl ? uv_now(r->loop) + ttl : 0;
}

/* Sets the entry's schema from the text of an Avro or JSON schema. */
static void resolve_schema(hs_registry_t *r, entry_t *e, hs_schema_type_t type, const char *text,
                           size_t len, const char *origin) {
  hs_err_t err = {0};
  e->schema.type = type;
  if (type == HS_SCHEMA_AVRO &&
      hs_avro_schema_parse(text, len, &r->o.limits, &e->schema.avro, &err)) {
    reject(r, e, HS_REJ_SCHEMA, 0, "schema id %u (%s): %s", e->schema.id, origin, err.msg);
    hs_log(HS_LOG_WARN, "registry", "%s", e->reason);
    return;
  }
  e->state = E_READY;
}

static void pump(hs_registry_t *r);

static void on_retry(uv_timer_t *t) {
  hs_registry_t *r = t->data;
  r->retry_armed = false;
  pump(r);
}

static void enqueue(hs_registry_t *r, entry_t *e) {
  if (e->queued || e->fetch)
    return;
  if (r->qlen == r->qcap) {
    size_t cap = r->qcap ? r->qcap * 2 : 16;
    uint32_t *q = hs_realloc(r->queue, cap * sizeof *q);
    if (!q)
      return; /* stays pending; queued again at the next lookup */
    r->queue = q;
    r->qcap = cap;
  }
  r->queue[r->qlen++] = e->schema.id;
  e->queued = true;
}

static void mark_down(hs_registry_t *r, const char *why) {
  bool was_up = r->up;
  r->up = false;
  snprintf(r->reason, sizeof r->reason,
           "schema registry %s not available: %s; sources that need a schema from it pause", r->url,
           why);
  if (!r->retry_armed) {
    r->failures++;
    uint64_t b = r->o.backoff_min_ms;
    for (unsigned i = 1; i < r->failures && b < r->o.backoff_max_ms; i++)
      b *= 2;
    r->backoff_ms = b < r->o.backoff_max_ms ? b : r->o.backoff_max_ms;
    r->retry_armed = true;
    uv_timer_start(&r->retry, on_retry, r->backoff_ms, 0);
  }
  if (was_up || r->failures == 1)
    hs_log(HS_LOG_WARN, "registry", "%s (retry in %llu ms)", r->reason,
           (unsigned long long)r->backoff_ms);
}

static void mark_up(hs_registry_t *r) {
  if (!r->up)
    hs_log(HS_LOG_INFO, "registry", "schema registry %s answers again", r->url);
  r->up = true;
  r->failures = 0;
  r->reason[0] = 0;
}

/* A 200 answer: {"schema": "<text>", "schemaType": "AVRO"|"JSON"|...}. */
static bool take_answer(hs_registry_t *r, entry_t *e, const char *body, size_t len) {
  char *text = hs_strndup(body, len);
  if (!text)
    return false;
  char ebuf[128];
  yajl_val doc = yajl_tree_parse(text, ebuf, sizeof ebuf);
  hs_free(text);
  const char *schema_path[] = {"schema", NULL}, *type_path[] = {"schemaType", NULL};
  yajl_val s = doc ? yajl_tree_get(doc, schema_path, yajl_t_string) : NULL;
  if (!s) {
    yajl_tree_free(doc);
    return false;
  }
  yajl_val t = yajl_tree_get(doc, type_path, yajl_t_string);
  const char *tn = t ? YAJL_GET_STRING(t) : "AVRO"; /* the registry omits it for Avro */
  hs_schema_type_t type = !strcmp(tn, "AVRO")   ? HS_SCHEMA_AVRO
                          : !strcmp(tn, "JSON") ? HS_SCHEMA_JSON
                                                : HS_SCHEMA_OTHER;
  const char *st = YAJL_GET_STRING(s);
  resolve_schema(r, e, type, st, strlen(st), "from the registry");
  yajl_tree_free(doc);
  return true;
}

static void on_fetched(void *arg, int status, const char *body, size_t len, const char *reason) {
  fetch_t *f = arg;
  hs_registry_t *r = f->r;
  uint32_t id = f->id;
  entry_t *e = find(r, id);
  hs_free(f);
  e->fetch = NULL;
  r->inflight--;
  char why[240];
  if (status == 200 && take_answer(r, e, body, len)) {
    count_request(r, RQ_OK);
    mark_up(r);
  } else if (status == 404) {
    count_request(r, RQ_NOT_FOUND);
    mark_up(r);
    reject(r, e, HS_REJ_UNKNOWN_SCHEMA, r->o.negative_ttl_ms,
           "schema id %u: unknown to the schema registry (404)", id);
  } else {
    if (status == 401 || status == 403) {
      count_request(r, RQ_UNAUTHORIZED);
      snprintf(why, sizeof why, "HTTP %d %s: check its username and password", status,
               status == 401 ? "Unauthorized" : "Forbidden");
    } else if (status == UV_ETIMEDOUT) {
      count_request(r, RQ_TIMEOUT);
      snprintf(why, sizeof why, "%s", reason);
    } else if (status > 0) {
      count_request(r, RQ_HTTP_ERROR);
      snprintf(why, sizeof why, "HTTP %d%s", status, status == 200 ? " without a schema" : "");
    } else {
      count_request(r, RQ_UNREACHABLE);
      snprintf(why, sizeof why, "%s", reason);
    }
    mark_down(r, why);
    enqueue(r, e);
  }
  if (e->state != E_PENDING && r->o.on_resolve)
    r->o.on_resolve(r->o.arg, id);
  pump(r);
  gauges(r);
}

static void start_fetch(hs_registry_t *r, entry_t *e) {
  fetch_t *f = hs_calloc(1, sizeof *f);
  hs_buf_t req;
  hs_buf_init(&req);
  if (!f ||
      hs_buf_printf(&req,
                    "GET %s/schemas/ids/%u HTTP/1.1\r\nHost: %s:%s\r\n"
                    "Accept: application/vnd.schemaregistry.v1+json, application/json\r\n"
                    "%s%s%sUser-Agent: healthscore/" HS_VERSION "\r\nConnection: close\r\n\r\n",
                    r->prefix, e->schema.id, r->host, r->port, r->auth ? "Authorization: " : "",
                    r->auth ? r->auth : "", r->auth ? "\r\n" : "")) {
    hs_free(f);
    hs_buf_free(&req);
    enqueue(r, e);
    return;
  }
  f->r = r;
  f->id = e->schema.id;
  r->st.requests++;
  if (hs_http_get_start(r->loop, r->host, r->port, req.data, r->o.timeout_ms, r->o.max_response,
                        on_fetched, f, &f->get)) {
    hs_free(f);
    enqueue(r, e);
    mark_down(r, "cannot start a request");
  } else {
    e->fetch = f;
    r->inflight++;
  }
  hs_buf_free(&req);
}

static void pump(hs_registry_t *r) {
  while (!r->retry_armed && r->inflight < r->o.max_inflight && r->qlen) {
    uint32_t id = r->queue[0];
    memmove(r->queue, r->queue + 1, --r->qlen * sizeof *r->queue);
    entry_t *e = find(r, id);
    if (!e || e->state != E_PENDING)
      continue;
    e->queued = false;
    start_fetch(r, e);
  }
  gauges(r);
}

/* {dir}/{id}.avsc (an Avro schema) or {dir}/{id}.json (a JSON Schema, not
 * read: JSON payloads are not validated against it): 0 found (resolved), 1
 * absent. */
static int from_dir(hs_registry_t *r, entry_t *e) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%u.json", r->dir, e->schema.id);
  if (access(path, F_OK) == 0) {
    e->schema.type = HS_SCHEMA_JSON;
    e->state = E_READY;
    return 0;
  }
  snprintf(path, sizeof path, "%s/%u.avsc", r->dir, e->schema.id);
  hs_err_t err = {0};
  int rc = hs_avro_schema_load(path, &r->o.limits, &e->schema.avro, &err);
  if (rc == HS_E_IO && access(path, F_OK) != 0)
    return 1;
  e->schema.type = HS_SCHEMA_AVRO;
  if (rc) {
    reject(r, e, HS_REJ_SCHEMA, 0, "schema id %u: %s", e->schema.id, err.msg);
    hs_log(HS_LOG_WARN, "registry", "%s", e->reason);
  } else {
    e->state = E_READY;
  }
  return 0;
}

int hs_registry_lookup(hs_registry_t *r, uint32_t id, hs_schema_type_t expect,
                       const hs_registry_schema_t **out, hs_reject_t *why, hs_err_t *err) {
  *out = NULL;
  *why = HS_REJ_NONE;
  r->st.lookups++;
  entry_t *e = find(r, id);
  if (e && e->state == E_REJECTED && e->expires_ms && e->expires_ms <= uv_now(r->loop)) {
    e->state = E_PENDING; /* a 404 remembered long enough: ask again */
    e->expires_ms = 0;
  } else if (e) {
    r->st.cache_hits++;
  }
  if (!e) {
    if (!(e = insert(r, id))) {
      *why = HS_REJ_UNKNOWN_SCHEMA;
      return hs_err_set(err, HS_E_TOOBIG, "schema id %u: over the %zu schema ids remembered", id,
                        r->o.max_schemas);
    }
    if ((!r->dir || from_dir(r, e) == 1) && !r->host)
      reject(r, e, HS_REJ_UNKNOWN_SCHEMA, r->o.negative_ttl_ms,
             "schema id %u: no %s/%u.avsc or .json", id, r->dir, id);
  }
  if (e->state == E_PENDING) {
    enqueue(r, e);
    pump(r);
    if (e->state == E_PENDING)
      return hs_err_set(err, HS_REG_PENDING, "schema id %u: %s", id,
                        r->up ? "being fetched from the schema registry" : r->reason);
  }
  if (e->state == E_REJECTED) {
    *why = e->why;
    return hs_err_set(err, HS_E_SCHEMA, "%s", e->reason ? e->reason : "schema rejected");
  }
  if (expect && e->schema.type != expect) {
    *why = HS_REJ_SCHEMA;
    return hs_err_set(err, HS_E_SCHEMA, "schema id %u is a %s schema, the source's format needs %s",
                      id,
                      e->schema.type == HS_SCHEMA_AVRO   ? "AVRO"
                      : e->schema.type == HS_SCHEMA_JSON ? "JSON"
                                                         : "non-Avro, non-JSON",
                      expect == HS_SCHEMA_AVRO ? "AVRO" : "JSON");
  }
  *out = &e->schema;
  return 0;
}

bool hs_registry_available(const hs_registry_t *r, const char **reason) {
  if (reason)
    *reason = r->up ? "" : r->reason;
  return r->up;
}

void hs_registry_stats(const hs_registry_t *r, hs_registry_stats_t *out) {
  *out = r->st;
}

/* "http://host[:port][/prefix]" into host, port and prefix. */
static int parse_url(hs_registry_t *r, const char *url, hs_err_t *err) {
  if (!strncmp(url, "https://", 8))
    return hs_err_set(err, HS_E_CONFIG,
                      "schema_registry.url %s: https is not supported; reach the registry "
                      "through a local TLS proxy (see docs/sources-registry.md)",
                      url);
  if (strncmp(url, "http://", 7))
    return hs_err_set(err, HS_E_CONFIG, "schema_registry.url %s: not an http:// URL", url);
  const char *h = url + 7, *slash = strchr(h, '/');
  size_t hlen = slash ? (size_t)(slash - h) : strlen(h);
  const char *colon = memchr(h, ':', hlen);
  if (h[0] == '[' || memchr(h, '@', hlen) || hlen == 0 || (colon && colon == h))
    return hs_err_set(err, HS_E_CONFIG,
                      "schema_registry.url %s: want http://host[:port][/path] (credentials go "
                      "in username and password)",
                      url);
  r->host = hs_strndup(h, colon ? (size_t)(colon - h) : hlen);
  r->port = colon ? hs_strndup(colon + 1, hlen - (size_t)(colon - h) - 1) : hs_strdup("80");
  const char *pre = slash ? slash : "";
  size_t plen = strlen(pre);
  while (plen && pre[plen - 1] == '/')
    plen--;
  r->prefix = hs_strndup(pre, plen);
  r->url = hs_strdup(url);
  if (!r->host || !r->port || !r->prefix || !r->url)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  for (const char *p = r->port; *p; p++)
    if (*p < '0' || *p > '9')
      return hs_err_set(err, HS_E_CONFIG, "schema_registry.url %s: port is not a number", url);
  return 0;
}

static char *basic_auth(const char *user, const char *pass) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t ul = strlen(user), pl = pass ? strlen(pass) : 0, n = ul + 1 + pl;
  unsigned char *in = hs_malloc(n + 1);
  char *out = hs_malloc(6 + (n + 2) / 3 * 4 + 1);
  if (!in || !out) {
    hs_free(in);
    hs_free(out);
    return NULL;
  }
  memcpy(in, user, ul);
  in[ul] = ':';
  if (pl)
    memcpy(in + ul + 1, pass, pl);
  char *o = out + 6;
  memcpy(out, "Basic ", 6);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    *o++ = b64[v >> 18 & 63];
    *o++ = b64[v >> 12 & 63];
    *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
    *o++ = i + 2 < n ? b64[v & 63] : '=';
  }
  *o = 0;
  hs_free(in);
  return out;
}

static void metrics_setup(hs_registry_t *r) {
  hs_metrics_t *m = r->o.metrics;
  if (!m)
    return;
  hs_family_t *f = hs_metrics_family(m, HS_GAUGE, "healthscore_schema_registry_up",
                                     "1 while the schema registry answers, 0 while sources that "
                                     "need a schema from it are paused",
                                     NULL, NULL, 0);
  r->m_up = f ? hs_family_series(f, NULL) : NULL;
  f = hs_metrics_family(m, HS_GAUGE, "healthscore_schema_registry_schemas", "Schemas cached by id",
                        NULL, NULL, 0);
  r->m_schemas = f ? hs_family_series(f, NULL) : NULL;
  f = hs_metrics_family(m, HS_GAUGE, "healthscore_schema_registry_waiting",
                        "Schema ids being fetched or waiting for a fetch", NULL, NULL, 0);
  r->m_waiting = f ? hs_family_series(f, NULL) : NULL;
  f = hs_metrics_family(m, HS_COUNTER, "healthscore_schema_registry_requests_total",
                        "Schema registry requests by result", "result", NULL, 0);
  for (int i = 0; f && i < 6; i++)
    r->m_req[i] = hs_family_series(f, &req_results[i]);
}

static void on_retry_closed(uv_handle_t *h) {
  hs_free(h->data);
}

void hs_registry_close(hs_registry_t *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->cap; i++)
    if (r->tab[i].used)
      entry_clear(&r->tab[i]);
  hs_free(r->tab);
  hs_free(r->queue);
  hs_free(r->host);
  hs_free(r->port);
  hs_free(r->prefix);
  hs_free(r->auth);
  hs_free(r->dir);
  hs_free(r->url);
  uv_timer_stop(&r->retry);
  r->retry.data = r;
  uv_close((uv_handle_t *)&r->retry, on_retry_closed);
}

int hs_registry_new(uv_loop_t *loop, const hs_registry_opts_t *opts, hs_registry_t **out,
                    hs_err_t *err) {
  *out = NULL;
  if (!opts->url && !opts->schema_dir)
    return hs_err_set(err, HS_E_CONFIG, "schema_registry: neither url nor schema_dir");
  struct stat sb;
  if (opts->schema_dir && (stat(opts->schema_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
    return hs_err_set(err, HS_E_CONFIG, "schema_registry.schema_dir %s: not a directory",
                      opts->schema_dir);
  hs_registry_t *r = hs_calloc(1, sizeof *r);
  if (!r)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  r->loop = loop;
  r->o = *opts;
  r->o.url = r->o.username = r->o.password = r->o.schema_dir = NULL;
  r->o.max_inflight = opts->max_inflight ? opts->max_inflight : 4;
  r->o.timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000;
  r->o.backoff_min_ms = opts->backoff_min_ms ? opts->backoff_min_ms : 250;
  r->o.backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : 30000;
  r->o.negative_ttl_ms = opts->negative_ttl_ms ? opts->negative_ttl_ms : 60000;
  r->o.max_schemas = opts->max_schemas ? opts->max_schemas : 4096;
  r->o.max_response = opts->max_response ? opts->max_response : 1 << 20;
  r->up = true;
  r->cap = 16;
  uv_timer_init(loop, &r->retry);
  r->retry.data = r;
  int rc = (r->tab = hs_calloc(r->cap, sizeof *r->tab)) ? 0 : HS_E_NOMEM;
  if (!rc && opts->url)
    rc = parse_url(r, opts->url, err);
  if (!rc && opts->username && !(r->auth = basic_auth(opts->username, opts->password)))
    rc = HS_E_NOMEM;
  if (!rc && opts->schema_dir && !(r->dir = hs_strdup(opts->schema_dir)))
    rc = HS_E_NOMEM;
  if (!rc && !r->url && !(r->url = hs_strdup("(schema_dir only)")))
    rc = HS_E_NOMEM;
  if (rc) {
    if (rc == HS_E_NOMEM)
      hs_err_set(err, rc, "out of memory");
    hs_registry_close(r);
    return rc;
  }
  metrics_setup(r);
  gauges(r);
  *out = r;
  return 0;
}
