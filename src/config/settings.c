/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Engine settings: one table drives defaults, loading, validation and the
 * generated reference (docs/settings.md). */
#include "healthscore/config.h"

#include "healthscore/event.h"
#include "healthscore/time.h"
#include "sources_yaml.h"
#include "yaml_doc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STR, T_INT, T_DURATION, T_LIST, T_ENUM, T_MAP, T_NODES, T_TIME } stype_t;

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
#define MAX_SETTINGS_FILE (1u << 20)

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
    {"engine", "min_event_time", T_TIME, HS_MIN_EVENT_TIME_DEFAULT, 0, 0, NULL, OFF(min_event_time),
     0,
     "events timestamped earlier are dead-lettered: an RFC 3339 time, or a duration before now "
     "(e.g. 3650d). The fixed default rejects ts 0 and epoch seconds sent as milliseconds "
     "(1970), whatever the date"},
    {"engine", "idle_interval", T_DURATION, "1m", 0, DAY_MS, NULL, OFF(idle_interval_ms), 0,
     "how often accounts held in memory are re-evaluated at the wall clock minus "
     "allowed_lateness, so that silent accounts age; 0 turns it off (for replays of old events)"},
    {"engine", "max_idle", T_DURATION, "0ms", 0, 60000, NULL, OFF(max_idle_ms), 0,
     "events of one partition are applied in event-time order across the input topics; an "
     "event waits up to this long for a co-partition that has reached its end to deliver an "
     "earlier one. 0 favours latency; set it above the producers' skew for live results that "
     "equal a replay exactly"},
    {"engine", "threads", T_INT, "1", 1, 64, NULL, OFF(threads), 0,
     "engines in one process, each on its own thread and core (docs/operations.md)"},
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
     "input topics (1 to 16 Kafka topic names, each once, none also the alerts or dead-letter "
     "topic); they must have the same partition count and be keyed by account id with the "
     "murmur2 partitioner"},
    {"kafka", "alerts_topic", T_STR, "healthscore.alerts", 0, 0, NULL, OFF(alerts_topic), 0,
     "where alert messages are published, keyed by account id"},
    {"kafka", "alerts_format", T_ENUM, "binary", 0, 0, "binary|structured", OFF(alerts_format), 0,
     "CloudEvents 1.0 mode of alert messages (Kafka protocol binding): binary (the alert JSON "
     "as the value, the attributes in ce_* headers) or structured (the value is a CloudEvent "
     "JSON envelope, content-type application/cloudevents+json, the alert in `data`)"},
    {"kafka", "alerts_source", T_STR, "", 0, 0, NULL, OFF(alerts_source), 0,
     "the CloudEvents `source` of alert messages, a URI reference naming this engine, e.g. "
     "https://healthscore.example.com/prod; empty: healthscore/ and kafka.group_id"},
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
     "Redis host name or IP address (IPv6 without brackets), when redis.nodes is empty"},
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
     "IP address of the admin endpoints (/healthz, /readyz, /metrics, /v1/accounts/{id}), "
     "e.g. 127.0.0.1, 0.0.0.0 or ::; a host name such as localhost is refused"},
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

/* A Kafka topic name as brokers accept it: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static bool topic_ok(const char *t, char *why, size_t whylen) {
  size_t n = strlen(t);
  if (n == 0 || n > 249 || !strcmp(t, ".") || !strcmp(t, "..") ||
      strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
    snprintf(why, whylen,
             "takes Kafka topic names (1..249 of letters, digits, '.', '_', '-'; not \".\" or "
             "\"..\"), not \"%.*s\"",
             (int)(n > 80 ? 80 : n), t);
    return false;
  }
  return true;
}

static bool is_ip(const char *v) {
  unsigned char a[16];
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)strcspn(v, "%"), v); /* fe80::1%eth0 */
  return strlen(v) < sizeof host &&
         (inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, host, a) == 1);
}

/* What the engine would refuse at start, for the rows of strings. */
static bool str_ok(const row_t *r, const char *v, char *why, size_t whylen) {
  size_t off = r->offset;
  if (!*v && (off == OFF(profiles) || off == OFF(bootstrap) || off == OFF(group_id) ||
              off == OFF(redis_host) || off == OFF(redis_prefix) || off == OFF(http_host)))
    return snprintf(why, whylen, "must not be empty"), false;
  if (off == OFF(alerts_topic) || off == OFF(deadletter_topic))
    return topic_ok(v, why, whylen);
  if (off == OFF(alerts_source)) {
    if (strlen(v) > 500)
      return snprintf(why, whylen, "must be at most 500 bytes"), false;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
      if (*c <= ' ' || *c >= 0x7f || strchr("\"<>\\^`{|}", *c))
        return snprintf(why, whylen,
                        "must be a URI reference (RFC 3986: no spaces, quotes, braces or "
                        "non-ASCII; percent-encode them), not \"%.40s\"",
                        v),
               false;
  }
  if (off == OFF(redis_prefix) && strpbrk(v, "{}"))
    return snprintf(why, whylen, "must not contain '{' or '}' (they delimit the hash tag)"), false;
  if (off == OFF(http_host) && !is_ip(v))
    return snprintf(why, whylen,
                    "must be an IP address the admin endpoints listen on, like 127.0.0.1, "
                    "0.0.0.0 or ::1, not the host name \"%s\"",
                    v),
           false;
  if (off == OFF(redis_host) && (strpbrk(v, " \t\r\n,[]") || (strchr(v, ':') && !is_ip(v))))
    return snprintf(why, whylen,
                    "must be a host name or an IP address (IPv6 without brackets), not \"%s\"", v),
           false;
  return true;
}

/* The input topics: valid names, each once, at most HS_MAX_INPUT_TOPICS. */
static bool topics_ok(char *const *t, size_t n, char *why, size_t whylen) {
  if (n > HS_MAX_INPUT_TOPICS)
    return snprintf(why, whylen, "lists %zu topics, more than %d", n, HS_MAX_INPUT_TOPICS), false;
  for (size_t i = 0; i < n; i++) {
    if (!topic_ok(t[i], why, whylen))
      return false;
    for (size_t j = 0; j < i; j++)
      if (!strcmp(t[i], t[j]))
        return snprintf(why, whylen, "lists \"%s\" twice", t[i]), false;
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
    if (r->type == T_STR && !str_ok(r, v, why, whylen))
      return 1;
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
    if (!*n)
      return snprintf(why, whylen, "must list at least one topic"), 1;
    return topics_ok(*list, *n, why, whylen) ? 0 : 1;
  }
  case T_MAP:
    return 0;
  case T_TIME:
    if (hs_event_min_time_parse(v, field(s, r->offset)))
      return snprintf(why, whylen, "must be an RFC 3339 time or a duration before now"), 1;
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
  hs__sources_free(s);
}

__attribute__((format(printf, 4, 5))) static int at(hs_err_t *err, const char *name,
                                                    const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = hs__yaml_verror(err, name, &n->start_mark, 220, fmt, ap);
  va_end(ap);
  return rc;
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

/* One load: the document, and where each row was set in it (NULL: its
 * default), for the checks across settings. */
typedef struct sload_s {
  yaml_document_t *doc;
  const char *name;
  hs_err_t *err;
  hs_settings_t *out;
  const yaml_node_t *set_at[N_ROWS];
} sload_t;

static yaml_node_t *node(sload_t *L, int id) {
  return yaml_document_get_node(L->doc, id);
}

/* A librdkafka setting checked as librdkafka itself takes it, on a
 * configuration of its own; refused at the name `k` when librdkafka does not
 * know it, else at the value `v`, as `what` (the name as written: librdkafka
 * names an alias such as linger.ms by its property). */
static int rdkafka_ok(sload_t *L, const char *what, const char *prop, const yaml_node_t *k,
                      const yaml_node_t *v, const char *val) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!conf)
    return HS_E_NOMEM;
  char errstr[256] = "";
  rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, prop, val, errstr, sizeof errstr);
  rd_kafka_conf_destroy(conf);
  if (res == RD_KAFKA_CONF_OK)
    return 0;
  return at(L->err, L->name, res == RD_KAFKA_CONF_UNKNOWN ? k : v, "%s: %s", what, errstr);
}

/* librdkafka properties the engine sets itself because its guarantees rest on
 * them, with the setting that holds the value or why it is fixed: given through
 * kafka.client, kafka.consumer or kafka.producer they would break those
 * guarantees without a word. */
static const char *const reserved_props[][2] = {
    {"bootstrap.servers", "kafka.bootstrap"},
    {"metadata.broker.list", "kafka.bootstrap"},
    {"group.id", "kafka.group_id"},
    {"group.instance.id", "kafka.instance_id"},
    {"partition.assignment.strategy",
     "partition N of every co-partitioned input topic must go to one member (range)"},
    {"enable.auto.offset.store", "positions are kept in Redis with the states they cover"},
    {"enable.partition.eof", "the event-time merge needs to know a partition's end"},
    {"enable.idempotence", "alerts and dead letters are produced without duplicates or reordering"},
};

static const char *reserved_why(const char *prop) {
  for (size_t i = 0; i < sizeof reserved_props / sizeof *reserved_props; i++)
    if (!strcmp(prop, reserved_props[i][0]))
      return reserved_props[i][1];
  return NULL;
}

static int load_map(sload_t *L, const row_t *r, yaml_node_t *v) {
  char what[64];
  snprintf(what, sizeof what, "%s.%s", r->section, r->key);
  if (v->type != YAML_MAPPING_NODE)
    return at(L->err, L->name, v, "%s must be a mapping of settings", what);
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  char ***list = field(L->out, r->offset);
  size_t *count = field(L->out, r->count);
  *count *= 2;
  free_list(list, count);
  if (!(*list = hs_calloc(2 * n + 1, sizeof(char *))))
    return HS_E_NOMEM;
  int rc = 0;
  for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
    yaml_node_t *ck = node(L, q->key), *cv = node(L, q->value);
    if (ck->type != YAML_SCALAR_NODE || cv->type != YAML_SCALAR_NODE)
      return at(L->err, L->name, ck, "%s takes name: value pairs", what);
    const char *val = scalar(cv, L->name, L->err, &rc);
    const char *prop = (const char *)ck->data.scalar.value;
    char full[320];
    snprintf(full, sizeof full, "%s.%.250s", what, prop);
    if (rc || (rc = rdkafka_ok(L, full, prop, ck, cv, val)))
      return rc;
    const char *why = reserved_why(prop);
    if (why)
      return at(L->err, L->name, ck, "%s is set by the engine and cannot be changed (%s%s)", full,
                strchr(why, ' ') ? "" : "use ", why);
    /* after librdkafka knows the name: the names compared are few */
    for (size_t i = 0; i < *count; i++)
      if (!strcmp((*list)[2 * i], (const char *)ck->data.scalar.value))
        return at(L->err, L->name, ck, "duplicate key \"%s\" in %s", (*list)[2 * i], what);
    char *name = hs_strdup((const char *)ck->data.scalar.value), *value = hs_strdup(val);
    if (!name || !value) {
      hs_free(name);
      hs_free(value);
      return HS_E_NOMEM;
    }
    (*list)[2 * *count] = name; /* whole pairs only, for hs_settings_free */
    (*list)[2 * *count + 1] = value;
    ++*count;
  }
  return 0;
}

/* A list given as a YAML list: each item checked where it is written. */
static int load_list(sload_t *L, const row_t *r, yaml_node_t *v, char *why, size_t whylen) {
  hs_buf_t joined;
  hs_buf_init(&joined);
  int rc = 0;
  for (yaml_node_item_t *it = v->data.sequence.items.start; !rc && it < v->data.sequence.items.top;
       it++) {
    yaml_node_t *item = node(L, *it);
    const char *t = item->type == YAML_SCALAR_NODE ? (const char *)item->data.scalar.value : NULL;
    if (!t || strchr(t, ','))
      rc = at(L->err, L->name, item, "a topic name without commas");
    else if (!topic_ok(t, why, whylen))
      rc = at(L->err, L->name, item, "%s.%s %s", r->section, r->key, why);
    for (yaml_node_item_t *o = v->data.sequence.items.start; !rc && o < it; o++)
      if (!strcmp((const char *)node(L, *o)->data.scalar.value, t))
        rc = at(L->err, L->name, item, "%s.%s lists \"%s\" twice", r->section, r->key, t);
    if (!rc && hs_buf_printf(&joined, "%s%s", joined.len ? "," : "", t))
      rc = HS_E_NOMEM;
  }
  if (!rc)
    rc = set_value(L->out, r, joined.data ? joined.data : "", why, whylen);
  hs_buf_free(&joined);
  return rc;
}

static int load_section(sload_t *L, const char *section, yaml_node_t *map) {
  if (map->type != YAML_MAPPING_NODE)
    return at(L->err, L->name, map, "section \"%s\" must be a mapping", section);
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
    if (k->type != YAML_SCALAR_NODE)
      return at(L->err, L->name, k, "keys must be scalars");
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
      return at(L->err, L->name, k, "unknown setting \"%s.%s\" (expected one of: %s)", section, key,
                list);
    }
    const yaml_node_t **seen = &L->set_at[r - rows];
    if (*seen)
      return at(L->err, L->name, k, "duplicate setting \"%s.%s\" (first set at line %zu)", section,
                key, (*seen)->start_mark.line + 1);
    *seen = v;
    int rc = 0;
    char why[300];
    if (r->type == T_MAP) {
      if ((rc = load_map(L, r, v)))
        return rc;
      continue;
    }
    if (r->type == T_LIST && v->type == YAML_SEQUENCE_NODE) {
      rc = load_list(L, r, v, why, sizeof why);
    } else if (v->type != YAML_SCALAR_NODE) {
      return at(L->err, L->name, v, "%s.%s must be a single value", section, key);
    } else {
      const char *val = scalar(v, L->name, L->err, &rc);
      if (rc)
        return rc;
      rc = set_value(L->out, r, val, why, sizeof why);
      const char *prop = r->offset == OFF(bootstrap)     ? "bootstrap.servers"
                         : r->offset == OFF(group_id)    ? "group.id"
                         : r->offset == OFF(instance_id) ? "group.instance.id"
                                                         : NULL;
      char what[64];
      snprintf(what, sizeof what, "%s.%s", section, key);
      if (!rc && prop && *val)
        rc = rdkafka_ok(L, what, prop, v, v, val);
    }
    if (rc < 0)
      return rc;
    if (rc)
      return at(L->err, L->name, v, "%s.%s %s", section, key, why);
  }
  return 0;
}

static const row_t *row_at(size_t off) {
  for (size_t i = 0; i < N_ROWS; i++)
    if (rows[i].offset == off)
      return &rows[i];
  return NULL;
}

/* Two settings that must differ: refused where the later of the two is set
 * in the file (defaults never collide). */
static int roles_differ(sload_t *L, size_t off_a, const char *a, size_t off_b, const char *b) {
  if (strcmp(a, b))
    return 0;
  const row_t *ra = row_at(off_a), *rb = row_at(off_b);
  const yaml_node_t *na = L->set_at[ra - rows], *nb = L->set_at[rb - rows];
  const yaml_node_t *n = !na                                           ? nb
                         : !nb                                         ? na
                         : na->start_mark.index > nb->start_mark.index ? na
                                                                       : nb;
  const row_t *r = n == na ? ra : rb, *other = n == na ? rb : ra;
  if (!n) /* two defaults: not in the table */
    return hs_err_set(L->err, HS_E_CONFIG, "%s: %s.%s and %s.%s are both \"%s\"", L->name,
                      r->section, r->key, other->section, other->key, a);
  return at(L->err, L->name, n,
            "%s.%s \"%s\" is also named by %s.%s; input, alerts "
            "and dead letters need topics of their own",
            r->section, r->key, a, other->section, other->key);
}

/* The checks across settings, once every setting is read. */
static int check_roles(sload_t *L) {
  hs_settings_t *s = L->out;
  int rc = 0;
  for (size_t i = 0; !rc && i < s->n_topics; i++) {
    rc = roles_differ(L, OFF(topics), s->topics[i], OFF(alerts_topic), s->alerts_topic);
    if (!rc)
      rc = roles_differ(L, OFF(topics), s->topics[i], OFF(deadletter_topic), s->deadletter_topic);
  }
  if (!rc)
    rc = roles_differ(L, OFF(alerts_topic), s->alerts_topic, OFF(deadletter_topic),
                      s->deadletter_topic);
  return rc;
}

int hs_settings_load_string(const char *yaml, size_t len, const char *name, hs_settings_t *out,
                            hs_err_t *err) {
  if (len > MAX_SETTINGS_FILE)
    return hs_err_set(err, HS_E_CONFIG, "%s: larger than 1 MiB", name);
  yaml_document_t doc;
  int rc = hs__yaml_load(yaml, len, name, &doc, err);
  if (rc)
    return rc;
  sload_t L = {.doc = &doc, .name = name, .err = err, .out = out};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && root->type != YAML_MAPPING_NODE)
    rc = at(err, name, root, "the file must be a mapping of sections");
  for (yaml_node_pair_t *p = root && !rc ? root->data.mapping.pairs.start : NULL;
       p && p < root->data.mapping.pairs.top && !rc; p++) {
    yaml_node_t *k = node(&L, p->key);
    const char *sec = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    bool known = !strcmp(sec, "sources");
    for (size_t i = 0; i < N_ROWS; i++)
      known |= !strcmp(rows[i].section, sec);
    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; known && !rc && q < p; q++)
      if (!strcmp((const char *)node(&L, q->key)->data.scalar.value, sec))
        rc = at(err, name, k, "duplicate section \"%s\" (first at line %zu)", sec,
                node(&L, q->key)->start_mark.line + 1);
    if (rc)
      break;
    if (!known)
      rc = at(err, name, k,
              "unknown section \"%s\" (expected engine, kafka, redis, http, log, sources)", sec);
    else
      rc = !strcmp(sec, "sources") ? hs__sources_load(&doc, node(&L, p->value), name, out, err)
                                   : load_section(&L, sec, node(&L, p->value));
  }
  if (!rc && !(rc = check_roles(&L)))
    rc = hs__sources_check(out, name, err);
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
    rc = b.len + n > MAX_SETTINGS_FILE ? hs_err_set(err, HS_E_CONFIG, "%s: larger than 1 MiB", path)
                                       : hs_buf_append(&b, chunk, n);
  fclose(f);
  if (!rc)
    rc = hs_settings_load_string(b.data ? b.data : "", b.len, path, out, err);
  hs_buf_free(&b);
  return rc;
}

int hs_settings_doc(hs_buf_t *out) {
  static const char *const types[] = {"string", "integer", "duration",       "list",
                                      "one of", "mapping", "host:port list", "time or duration"};
  int rc = hs_buf_printf(
      out, "# Engine settings\n\n"
           "The live engine reads one YAML file of sections; `healthscore check --settings\n"
           "FILE` and `healthscored --check` validate one with the same checks the engine\n"
           "runs at start, so a file that passes them is not refused at start. Every\n"
           "setting has a default; unknown sections and keys, a section or a setting given\n"
           "twice, tags (`!!int`, `!foo`), anchors and aliases, a second document (`---`),\n"
           "nesting deeper than 64 levels and files over 1 MiB are errors reported as\n"
           "`FILE:LINE:COLUMN: reason`. A value written `\"${NAME}\"` is read from the\n"
           "environment variable `NAME`. Durations are written like `250ms`, `2s`, `5m`,\n"
           "`1h`, `7d`. Topic names are Kafka's: 1 to 249 letters, digits, `.`, `_` or `-`\n"
           "(not `.` or `..`). Every name and value of `kafka.client`, `kafka.consumer` and\n"
           "`kafka.producer` is checked by librdkafka as it is read (an unknown property,\n"
           "a value out of its range), each name once per mapping. The properties the\n"
           "engine's guarantees rest on are set by the engine and refused there:\n"
           "`bootstrap.servers`, `group.id`, `group.instance.id` (their own settings),\n"
           "`partition.assignment.strategy`, `enable.auto.offset.store`,\n"
           "`enable.partition.eof` and `enable.idempotence`.\n\n"
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
  rc |= hs__sources_doc(out);
  return rc ? HS_E_NOMEM : 0;
}
