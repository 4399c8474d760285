/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Engine settings: one table drives defaults, loading, validation and the
 * generated reference (docs/settings.md). */
#include "healthscore/settings.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef enum { T_STR, T_INT, T_DURATION, T_LIST, T_ENUM, T_MAP, T_NODES } stype_t;

typedef struct row_s {
  const char *section, *key;
  stype_t type;
  const char *dflt;
  int64_t min, max;     /* T_INT: value; T_DURATION: milliseconds */
  const char *choices;  /* T_ENUM: "a|b|c" */
  size_t offset, count; /* where the value (and, for lists, the count) goes */
  const char *doc;
} row_t;

#define OFF(f) offsetof(hs_settings_t, f)
#define DAY_MS INT64_C(86400000)

static const row_t rows[] = {
    {"engine", "profiles", T_STR, "/etc/healthscore/profiles.yaml", 0, 0, NULL, OFF(profiles), 0,
     "the scoring configuration (profiles, metrics, alert rules); reloaded on SIGHUP"},
    {"engine", "flush_interval", T_DURATION, "100ms", 1, 60000, NULL, OFF(flush_interval_ms), 0,
     "dirty account state is written to Redis at least this often"},
    {"engine", "max_dirty", T_INT, "100000", 1, 10000000, NULL, OFF(max_dirty), 0,
     "accounts waiting for a flush before fetching from Kafka pauses"},
    {"engine", "max_accounts", T_INT, "1000000", 1000, 100000000, NULL, OFF(max_accounts), 0,
     "accounts held in memory; clean ones beyond this are evicted"},
    {"engine", "allowed_lateness", T_DURATION, "5m", 0, 7 * DAY_MS, NULL, OFF(lateness_ms), 0,
     "idle accounts are re-evaluated up to the wall clock minus this; events later than this "
     "may see their midnight already evaluated"},
    {"engine", "max_future", T_DURATION, "1h", 0, 30 * DAY_MS, NULL, OFF(max_future_ms), 0,
     "events timestamped further ahead of the wall clock are dead-lettered"},
    {"engine", "idle_interval", T_DURATION, "1m", 0, DAY_MS, NULL, OFF(idle_interval_ms), 0,
     "how often accounts held in memory are re-evaluated at the wall clock minus "
     "allowed_lateness, so that silent accounts age; 0 turns it off (for replays of old events)"},
    {"engine", "max_idle", T_DURATION, "0ms", 0, 60000, NULL, OFF(max_idle_ms), 0,
     "events of one partition are applied in event-time order across the input topics; an "
     "event waits up to this long for a co-partition that has reached its end to deliver an "
     "earlier one. 0 favours latency; set it above the producers' skew for live results that "
     "equal a replay exactly"},
    {"kafka", "bootstrap", T_STR, "127.0.0.1:9092", 0, 0, NULL, OFF(bootstrap), 0,
     "bootstrap.servers of the Kafka cluster"},
    {"kafka", "group_id", T_STR, "healthscore", 0, 0, NULL, OFF(group_id), 0,
     "consumer group of the engine's replicas"},
    {"kafka", "instance_id", T_STR, "", 0, 0, NULL, OFF(instance_id), 0,
     "static group membership (group.instance.id): a stable name per replica, e.g. "
     "\"${POD_NAME}\" or \"${HOSTNAME}\", so that a restart within the session timeout "
     "keeps its partitions without a rebalance; empty for dynamic membership"},
    {"kafka", "topics", T_LIST,
     "healthscore.usage,healthscore.engagement,healthscore.billing,healthscore.surveys,"
     "healthscore.accounts",
     0, 0, NULL, OFF(topics), OFF(n_topics),
     "input topics; they must have the same partition count and be keyed by account id with "
     "the murmur2 partitioner"},
    {"kafka", "alerts_topic", T_STR, "healthscore.alerts", 0, 0, NULL, OFF(alerts_topic), 0,
     "where alert messages are published, keyed by account id"},
    {"kafka", "deadletter_topic", T_STR, "healthscore.deadletter", 0, 0, NULL,
     OFF(deadletter_topic), 0, "where rejected input goes, with the reason in headers"},
    {"kafka", "client", T_MAP, "", 0, 0, NULL, OFF(client), OFF(n_client),
     "any librdkafka setting, for the consumer and the producer alike, e.g. "
     "security.protocol, sasl.mechanisms, sasl.username, sasl.password: \"${KAFKA_PASSWORD}\""},
    {"kafka", "consumer", T_MAP, "", 0, 0, NULL, OFF(consumer_client), OFF(n_consumer_client),
     "librdkafka settings for the consumer of the input topics only (over kafka.client), e.g. "
     "fetch.wait.max.ms"},
    {"kafka", "producer", T_MAP, "", 0, 0, NULL, OFF(producer_client), OFF(n_producer_client),
     "librdkafka settings for the producer of alerts and dead letters only (over "
     "kafka.client), e.g. linger.ms (default 5)"},
    {"redis", "nodes", T_NODES, "", 0, 0, NULL, OFF(redis_nodes), 0,
     "Redis Cluster seed nodes, \"host:port,host:port,...\" (any few of the cluster; the rest "
     "is discovered); empty: the one server at redis.host and redis.port. A server without "
     "cluster support is used as one node that owns every slot"},
    {"redis", "host", T_STR, "127.0.0.1", 0, 0, NULL, OFF(redis_host), 0,
     "Redis host, when redis.nodes is empty"},
    {"redis", "port", T_INT, "6379", 1, 65535, NULL, OFF(redis_port), 0,
     "Redis port, when redis.nodes is empty"},
    {"redis", "password", T_STR, "", 0, 0, NULL, OFF(redis_password), 0,
     "AUTH password; empty for none; write \"${REDIS_PASSWORD}\" to read it from the "
     "environment"},
    {"redis", "prefix", T_STR, "hs", 0, 0, NULL, OFF(redis_prefix), 0,
     "prefix of every key (no braces)"},
    {"redis", "timeout", T_DURATION, "2s", 10, 60000, NULL, OFF(redis_timeout_ms), 0,
     "a reply later than this drops the connection"},
    {"redis", "wait_replicas", T_INT, "0", 0, 16, NULL, OFF(redis_wait_replicas), 0,
     "after writing accounts, WAIT until this many replicas of each master written have them "
     "(up to half of redis.timeout) before the positions that cover them move, so that a "
     "failover cannot lose events; a flush fails, and is done again, while a master has fewer "
     "replicas in sync. 0: do not wait (a failover may lose the last writes before the "
     "replica had them)"},
    {"http", "host", T_STR, "127.0.0.1", 0, 0, NULL, OFF(http_host), 0,
     "address of the admin endpoints (/healthz, /readyz, /metrics, /v1/accounts/{id})"},
    {"http", "port", T_INT, "8080", 0, 65535, NULL, OFF(http_port), 0,
     "port of the admin endpoints; 0 disables them"},
    {"http", "max_connections", T_INT, "256", 8, 65536, NULL, OFF(http_max_connections), 0,
     "admin connections held at once; at the limit the oldest idle one is closed to admit a "
     "new one (lowered at start when the open-file limit cannot hold them)"},
    {"http", "header_timeout", T_DURATION, "5s", 100, 60000, NULL, OFF(http_header_timeout_ms), 0,
     "a connection whose request head is not complete this long after it opened is closed"},
    {"http", "write_timeout", T_DURATION, "10s", 100, 60000, NULL, OFF(http_write_timeout_ms), 0,
     "a connection that has not taken its whole answer within this is closed"},
    {"http", "body_timeout", T_DURATION, "2s", 100, 60000, NULL, OFF(http_body_timeout_ms), 0,
     "after the answer, what the client still sends (a request body, more requests) is read "
     "and dropped for up to this long (and 1 MiB) before the connection closes"},
    {"log", "level", T_ENUM, "info", 0, 0, "error|warn|info|debug", OFF(log_level), 0,
     "lowest level logged"},
    {"log", "format", T_ENUM, "json", 0, 0, "json|text", OFF(log_format), 0,
     "one JSON object per line, or key=value text"},
};
#define N_ROWS (sizeof rows / sizeof *rows)

static void *field(hs_settings_t *s, size_t off) {
  return (char *)s + off;
}

static void free_list(char ***v, size_t *n) {
  for (size_t i = 0; *v && i < *n; i++)
    hs_free((*v)[i]);
  hs_free(*v);
  *v = NULL;
  *n = 0;
}

/* Sets a row from text (a default, or a scalar of the file). Returns 0, or
 * a positive code for a reason written to `why`. */
/* True when `v` is "host:port" items separated by commas or spaces, the
 * port 1..65535, an IPv6 host in brackets. */
static bool nodes_ok(const char *v, char *why, size_t whylen) {
  for (const char *p = v; *p;) {
    size_t len = strcspn(p, ", \t");
    const char *colon = NULL;
    for (size_t i = len; i-- > 0 && !colon;)
      colon = p[i] == ':' ? p + i : NULL;
    size_t digits = colon ? len - (size_t)(colon + 1 - p) : 0;
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    bool v6 = p[0] == '[';
    if (len && (!colon || colon == p || digits == 0 || digits > 5 ||
                strspn(colon + 1, "0123456789") < digits || port < 1 || port > 65535 ||
                (v6 && colon[-1] != ']') || (!v6 && memchr(p, ':', (size_t)(colon - p))))) {
      snprintf(why, whylen, "takes host:port items separated by commas, not \"%.*s\"", (int)len, p);
      return false;
    }
    p += len + (p[len] != 0);
  }
  return true;
}

static int set_value(hs_settings_t *s, const row_t *r, const char *v, char *why, size_t whylen) {
  switch (r->type) {
  case T_NODES:
    if (!nodes_ok(v, why, whylen))
      return 1;
    /* fall through */
  case T_STR:
  case T_ENUM: {
    if (r->type == T_ENUM) {
      size_t n = strlen(v);
      const char *c = strstr(r->choices, v);
      if (!n || !c || (c != r->choices && c[-1] != '|') || (c[n] && c[n] != '|'))
        return snprintf(why, whylen, "must be one of %s", r->choices), 1;
    }
    char *d = hs_strdup(v), **slot = field(s, r->offset);
    if (!d)
      return HS_E_NOMEM;
    hs_free(*slot);
    *slot = d;
    return 0;
  }
  case T_INT: {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < r->min || x > r->max)
      return snprintf(why, whylen, "must be an integer %lld..%lld", (long long)r->min,
                      (long long)r->max),
             1;
    *(int *)field(s, r->offset) = (int)x;
    return 0;
  }
  case T_DURATION: {
    int64_t ms;
    if (hs_duration_parse(v, &ms) || ms < r->min || ms > r->max)
      return snprintf(why, whylen, "must be a duration between %lldms and %lldms (e.g. 250ms, 2s)",
                      (long long)r->min, (long long)r->max),
             1;
    *(int64_t *)field(s, r->offset) = ms;
    return 0;
  }
  case T_LIST: {
    char ***list = field(s, r->offset);
    size_t *n = field(s, r->count);
    free_list(list, n);
    size_t cap = 1;
    for (const char *p = v; *p; p++)
      cap += *p == ',';
    if (!(*list = hs_calloc(cap, sizeof(char *))))
      return HS_E_NOMEM;
    for (const char *p = v; *p;) {
      const char *e = strchr(p, ',');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      if (len && !((*list)[(*n)++] = hs_strndup(p, len)))
        return HS_E_NOMEM;
      p += len + (e ? 1 : 0);
    }
    return *n ? 0 : (snprintf(why, whylen, "must list at least one topic"), 1);
  }
  case T_MAP:
    return 0;
  }
  return 0;
}

int hs_settings_defaults(hs_settings_t *out) {
  memset(out, 0, sizeof *out);
  char why[128];
  for (size_t i = 0; i < N_ROWS; i++)
    if (rows[i].type != T_MAP && set_value(out, &rows[i], rows[i].dflt, why, sizeof why))
      return HS_E_NOMEM;
  return 0;
}

void hs_settings_free(hs_settings_t *s) {
  for (size_t i = 0; i < N_ROWS; i++) {
    const row_t *r = &rows[i];
    if (r->type == T_STR || r->type == T_ENUM || r->type == T_NODES) {
      char **slot = field(s, r->offset);
      hs_free(*slot);
      *slot = NULL;
    } else if (r->type == T_LIST || r->type == T_MAP) {
      size_t *n = field(s, r->count);
      if (r->type == T_MAP)
        *n *= 2; /* name, value pairs */
      free_list(field(s, r->offset), n);
    }
  }
}

__attribute__((format(printf, 4, 5))) static int at(hs_err_t *err, const char *name,
                                                    const yaml_node_t *n, const char *fmt, ...) {
  char reason[220];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: %s", name, n->start_mark.line + 1,
                    n->start_mark.column + 1, reason);
}

/* The scalar's text, with "${NAME}" taken from the environment. */
static const char *scalar(const yaml_node_t *n, const char *name, hs_err_t *err, int *rc) {
  const char *v = (const char *)n->data.scalar.value;
  size_t len = n->data.scalar.length;
  if (len > 3 && !strncmp(v, "${", 2) && v[len - 1] == '}') {
    char var[128];
    snprintf(var, sizeof var, "%.*s", (int)(len - 3), v + 2);
    const char *e = getenv(var);
    if (!e)
      *rc = at(err, name, n, "environment variable %s is not set", var);
    return e;
  }
  return v;
}

static int load_section(yaml_document_t *doc, const char *name, const char *section,
                        yaml_node_t *map, hs_settings_t *out, hs_err_t *err) {
  if (map->type != YAML_MAPPING_NODE)
    return at(err, name, map, "section \"%s\" must be a mapping", section);
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key),
                *v = yaml_document_get_node(doc, p->value);
    if (k->type != YAML_SCALAR_NODE)
      return at(err, name, k, "keys must be scalars");
    const char *key = (const char *)k->data.scalar.value;
    const row_t *r = NULL;
    for (size_t i = 0; i < N_ROWS && !r; i++)
      if (!strcmp(rows[i].section, section) && !strcmp(rows[i].key, key))
        r = &rows[i];
    if (!r) {
      char list[300] = "";
      for (size_t i = 0; i < N_ROWS; i++)
        if (!strcmp(rows[i].section, section))
          snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? ", " : "",
                   rows[i].key);
      return at(err, name, k, "unknown setting \"%s.%s\" (expected one of: %s)", section, key,
                list);
    }
    int rc = 0;
    char why[160];
    if (r->type == T_MAP) {
      if (v->type != YAML_MAPPING_NODE)
        return at(err, name, v, "%s.%s must be a mapping of settings", section, key);
      size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
      char ***list = field(out, r->offset);
      size_t *count = field(out, r->count);
      *count *= 2;
      free_list(list, count);
      if (!(*list = hs_calloc(2 * n + 1, sizeof(char *))))
        return HS_E_NOMEM;
      for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
        yaml_node_t *ck = yaml_document_get_node(doc, q->key),
                    *cv = yaml_document_get_node(doc, q->value);
        if (ck->type != YAML_SCALAR_NODE || cv->type != YAML_SCALAR_NODE)
          return at(err, name, ck, "%s.%s takes name: value pairs", section, key);
        const char *val = scalar(cv, name, err, &rc);
        if (rc)
          return rc;
        if (!((*list)[(*count)++] = hs_strdup((const char *)ck->data.scalar.value)) ||
            !((*list)[(*count)++] = hs_strdup(val)))
          return HS_E_NOMEM;
      }
      *count /= 2;
      continue;
    }
    if (r->type == T_LIST && v->type == YAML_SEQUENCE_NODE) {
      hs_buf_t joined;
      hs_buf_init(&joined);
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           it++) {
        yaml_node_t *item = yaml_document_get_node(doc, *it);
        if (item->type != YAML_SCALAR_NODE || strchr((const char *)item->data.scalar.value, ','))
          return hs_buf_free(&joined), at(err, name, item, "a topic name without commas");
        hs_buf_printf(&joined, "%s%s", joined.len ? "," : "", item->data.scalar.value);
      }
      rc = set_value(out, r, joined.data ? joined.data : "", why, sizeof why);
      hs_buf_free(&joined);
    } else if (v->type != YAML_SCALAR_NODE) {
      return at(err, name, v, "%s.%s must be a single value", section, key);
    } else {
      const char *val = scalar(v, name, err, &rc);
      if (rc)
        return rc;
      rc = set_value(out, r, val, why, sizeof why);
    }
    if (rc < 0)
      return rc;
    if (rc)
      return at(err, name, v, "%s.%s %s", section, key, why);
  }
  return 0;
}

int hs_settings_load_string(const char *yaml, size_t len, const char *name, hs_settings_t *out,
                            hs_err_t *err) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser))
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
  if (!yaml_parser_load(&parser, &doc)) {
    int rc = hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                        parser.problem_mark.column + 1,
                        parser.problem ? parser.problem : "YAML syntax error");
    yaml_parser_delete(&parser);
    return rc;
  }
  yaml_parser_delete(&parser);
  int rc = 0;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && root->type != YAML_MAPPING_NODE)
    rc = at(err, name, root, "the file must be a mapping of sections");
  for (yaml_node_pair_t *p = root && !rc ? root->data.mapping.pairs.start : NULL;
       p && p < root->data.mapping.pairs.top && !rc; p++) {
    yaml_node_t *k = yaml_document_get_node(&doc, p->key);
    const char *sec = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    bool known = false;
    for (size_t i = 0; i < N_ROWS; i++)
      known |= !strcmp(rows[i].section, sec);
    if (!known)
      rc = at(err, name, k, "unknown section \"%s\" (expected engine, kafka, redis, http, log)",
              sec);
    else
      rc = load_section(&doc, name, sec, yaml_document_get_node(&doc, p->value), out, err);
  }
  yaml_document_delete(&doc);
  if (rc == HS_E_NOMEM)
    hs_err_set(err, HS_E_NOMEM, "out of memory");
  return rc;
}

int hs_settings_load_file(const char *path, hs_settings_t *out, hs_err_t *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return hs_err_set(err, HS_E_IO, "%s: %s", path, strerror(errno));
  hs_buf_t b;
  hs_buf_init(&b);
  char chunk[4096];
  size_t n;
  int rc = 0;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = b.len + n > (1u << 20) ? hs_err_set(err, HS_E_CONFIG, "%s: larger than 1 MiB", path)
                                : hs_buf_append(&b, chunk, n);
  fclose(f);
  if (!rc)
    rc = hs_settings_load_string(b.data ? b.data : "", b.len, path, out, err);
  hs_buf_free(&b);
  return rc;
}

int hs_settings_doc(hs_buf_t *out) {
  static const char *const types[] = {"string", "integer", "duration",      "list",
                                      "one of", "mapping", "host:port list"};
  int rc = hs_buf_printf(
      out, "# Engine settings\n\n"
           "The live engine reads one YAML file of sections; `healthscore check --settings\n"
           "FILE` validates one. Every setting has a default; unknown sections and keys are\n"
           "errors reported as `FILE:LINE:COLUMN: reason`. A value written `\"${NAME}\"` is\n"
           "read from the environment variable `NAME`. Durations are written like `250ms`,\n"
           "`2s`, `5m`, `1h`, `7d`.\n\n"
           "This page is generated from the settings table in `src/config/settings.c`.\n");
  const char *section = "";
  for (size_t i = 0; i < N_ROWS && !rc; i++) {
    const row_t *r = &rows[i];
    if (strcmp(section, r->section)) {
      section = r->section;
      rc |= hs_buf_printf(out,
                          "\n## %s\n\n| setting | type | default | bounds | meaning |\n"
                          "|---|---|---|---|---|\n",
                          section);
    }
    char bounds[64] = "";
    if (r->type == T_INT)
      snprintf(bounds, sizeof bounds, "%lld..%lld", (long long)r->min, (long long)r->max);
    else if (r->type == T_DURATION)
      snprintf(bounds, sizeof bounds, "%lldms..%lldms", (long long)r->min, (long long)r->max);
    else if (r->type == T_ENUM)
      snprintf(bounds, sizeof bounds, "%s", r->choices);
    rc |= hs_buf_printf(out, "| `%s.%s` | %s | `%s` | %s | %s |\n", r->section, r->key,
                        types[r->type], r->dflt, bounds, r->doc);
  }
  return rc ? HS_E_NOMEM : 0;
}
