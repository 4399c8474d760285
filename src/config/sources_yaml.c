/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `sources:` list of the engine settings (docs/sources.md): each item a
 * topic, its format, its mapping file and, for the Schema Registry framings,
 * where schemas come from. Read here as written; the mapping files and
 * schemas themselves are read by the mapper (hs_mapper_check). */
#include "healthscore/config.h"

#include "sources_yaml.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 4, 5))) static int at(hs_err_t *err, const char *name,
                                                    const yaml_node_t *n, const char *fmt, ...) {
  char reason[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: %s", name, n->start_mark.line + 1,
                    n->start_mark.column + 1, reason);
}

typedef struct skey_s {
  const char *key;
  size_t offset;
  bool env; /* "${NAME}" read from the environment */
} skey_t;

#define SOFF(f) offsetof(hs_source_conf_t, f)
static const skey_t keys[] = {
    {"name", SOFF(name), false},
    {"topic", SOFF(topic), false},
    {"format", SOFF(format), false},
    {"mapping", SOFF(mapping), false},
    {"schema", SOFF(schema), false},
    {"on_unmatched", SOFF(on_unmatched), false},
    {"to", SOFF(to), false},
    {"schema_dir", SOFF(schema_dir), false},
    {"url", SOFF(registry_url), true},
    {"username", SOFF(registry_username), true},
    {"password", SOFF(registry_password), true},
};
#define N_KEYS (sizeof keys / sizeof *keys)
static const char *const formats = "json|msgpack|avro|confluent-json|confluent-avro";

static char **slot(hs_source_conf_t *s, size_t off) {
  return (char **)((char *)s + off);
}

static bool choice(const char *v, const char *choices) {
  size_t n = strlen(v);
  for (const char *c = choices; n && (c = strstr(c, v)); c++)
    if ((c == choices || c[-1] == '|') && (!c[n] || c[n] == '|'))
      return true;
  return false;
}

static bool topic_name(const char *t) {
  size_t n = strlen(t);
  return n && n <= 249 && strcmp(t, ".") && strcmp(t, "..") &&
         strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* One `key: value` of an item (or of its `registry:` mapping). */
static int set_key(yaml_document_t *doc, const char *name, hs_source_conf_t *src, yaml_node_t *k,
                   yaml_node_t *v, bool registry, hs_err_t *err) {
  const char *key = (const char *)k->data.scalar.value;
  const skey_t *sk = NULL;
  for (size_t i = 0; i < N_KEYS && !sk; i++)
    if (!strcmp(keys[i].key, key) && (keys[i].env || !strcmp(key, "schema_dir")) == registry)
      sk = &keys[i];
  if (!sk)
    return at(err, name, k,
              registry ? "unknown key \"%s\" in a source's registry (expected url, username, "
                         "password, schema_dir)"
                       : "unknown key \"%s\" in a source (expected name, topic, format, "
                         "mapping, schema, registry, on_unmatched, to)",
              key);
  (void)doc;
  if (v->type != YAML_SCALAR_NODE)
    return at(err, name, v, "%s must be a single value", key);
  char **dst = slot(src, sk->offset);
  if (*dst)
    return at(err, name, k, "duplicate key \"%s\" in a source", key);
  const char *val = (const char *)v->data.scalar.value;
  size_t len = v->data.scalar.length;
  if (sk->env && len > 3 && !strncmp(val, "${", 2) && val[len - 1] == '}') {
    char var[128];
    snprintf(var, sizeof var, "%.*s", (int)(len - 3), val + 2);
    if (!(val = getenv(var)))
      return at(err, name, v, "environment variable %s is not set", var);
  }
  if (!*val)
    return at(err, name, v, "%s must not be empty", key);
  if ((!strcmp(key, "topic") || !strcmp(key, "to")) && !topic_name(val))
    return at(err, name, v, "%s takes a Kafka topic name, not \"%.80s\"", key, val);
  if (!strcmp(key, "format") && !choice(val, formats))
    return at(err, name, v, "format must be one of %s", formats);
  if (!strcmp(key, "on_unmatched") && !choice(val, "skip|deadletter"))
    return at(err, name, v, "on_unmatched must be skip or deadletter");
  if (!strcmp(key, "url") && strncmp(val, "http://", 7))
    return at(err, name, v,
              "url must be an http:// URL (for TLS, a TLS-terminating proxy on loopback: "
              "docs/sources-registry.md)");
  if (!strcmp(key, "name") && strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
    return at(err, name, v, "name takes lowercase letters, digits, '_' and '-', not \"%.60s\"",
              val);
  return (*dst = hs_strdup(val)) ? 0 : HS_E_NOMEM;
}

static int load_item(yaml_document_t *doc, const char *name, hs_source_conf_t *src,
                     yaml_node_t *item, hs_err_t *err) {
  if (item->type != YAML_MAPPING_NODE)
    return at(err, name, item, "each source is a mapping (topic, format, mapping, ...)");
  src->line = (int)item->start_mark.line + 1;
  for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key),
                *v = yaml_document_get_node(doc, p->value);
    if (k->type != YAML_SCALAR_NODE)
      return at(err, name, k, "keys must be scalars");
    int rc;
    if (!strcmp((const char *)k->data.scalar.value, "registry")) {
      if (v->type != YAML_MAPPING_NODE)
        return at(err, name, v, "registry must be a mapping (url, username, password, schema_dir)");
      for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
        yaml_node_t *rk = yaml_document_get_node(doc, q->key);
        if (rk->type != YAML_SCALAR_NODE)
          return at(err, name, rk, "keys must be scalars");
        if ((rc = set_key(doc, name, src, rk, yaml_document_get_node(doc, q->value), true, err)))
          return rc;
      }
    } else if ((rc = set_key(doc, name, src, k, v, false, err))) {
      return rc;
    }
  }
  const char *missing = !src->topic     ? "topic"
                        : !src->format  ? "format"
                        : !src->mapping ? "mapping"
                                        : NULL;
  if (missing)
    return at(err, name, item, "a source needs %s", missing);
  bool confluent = !strncmp(src->format, "confluent-", 10);
  if (confluent && !src->registry_url && !src->schema_dir)
    return at(err, name, item, "source %s (format %s) needs registry.url or registry.schema_dir",
              src->topic, src->format);
  if (!confluent && (src->registry_url || src->schema_dir))
    return at(err, name, item, "source %s: a registry is for the confluent-* formats only",
              src->topic);
  if (!strcmp(src->format, "avro") != !!src->schema)
    return at(err, name, item, "source %s: %s", src->topic,
              src->schema ? "schema is for format avro only"
                          : "format avro needs schema (the writer's .avsc file)");
  if ((src->registry_username || src->registry_password) &&
      (!src->registry_url || !src->registry_username || !src->registry_password))
    return at(err, name, item, "source %s: registry basic auth needs url, username and password",
              src->topic);
  return 0;
}

int hs__sources_load(yaml_document_t *doc, yaml_node_t *list, const char *name, hs_settings_t *out,
                     hs_err_t *err) {
  if (list->type != YAML_SEQUENCE_NODE)
    return at(err, name, list, "sources must be a list of sources");
  size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
  if (n > HS_MAX_SOURCES)
    return at(err, name, list, "sources lists %zu sources, more than %d", n, HS_MAX_SOURCES);
  hs__sources_free(out);
  if (n && !(out->sources = hs_calloc(n, sizeof *out->sources)))
    return HS_E_NOMEM;
  for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
       it++) {
    yaml_node_t *item = yaml_document_get_node(doc, *it);
    hs_source_conf_t *src = &out->sources[out->n_sources++];
    int rc = load_item(doc, name, src, item, err);
    for (size_t j = 0; !rc && j + 1 < out->n_sources; j++)
      if (!strcmp(out->sources[j].topic, src->topic))
        rc = at(err, name, item, "topic %s is read by two sources", src->topic);
    if (rc)
      return rc;
  }
  return 0;
}

int hs__sources_check(const hs_settings_t *s, const char *name, hs_err_t *err) {
  for (size_t i = 0; i < s->n_sources; i++) {
    const hs_source_conf_t *src = &s->sources[i];
    const char *clash = !strcmp(src->topic, s->alerts_topic)       ? "kafka.alerts_topic"
                        : !strcmp(src->topic, s->deadletter_topic) ? "kafka.deadletter_topic"
                                                                   : NULL;
    for (size_t t = 0; !clash && t < s->n_topics; t++)
      if (!strcmp(src->topic, s->topics[t]))
        clash = "kafka.topics";
    if (clash)
      return hs_err_set(err, HS_E_CONFIG,
                        "%s:%d: source topic %s is also named by %s; a source is read by the "
                        "mapper and its events produced to an input topic",
                        name, src->line, src->topic, clash);
    bool found = !src->to;
    for (size_t t = 0; !found && t < s->n_topics; t++)
      found = !strcmp(src->to, s->topics[t]);
    if (!found)
      return hs_err_set(err, HS_E_CONFIG,
                        "%s:%d: source %s: to \"%s\" is not one of kafka.topics (the mapped "
                        "events go to an input topic of the engine)",
                        name, src->line, src->topic, src->to);
  }
  return 0;
}

void hs__sources_free(hs_settings_t *s) {
  for (size_t i = 0; i < s->n_sources; i++)
    for (size_t k = 0; k < N_KEYS; k++)
      hs_free(*slot(&s->sources[i], keys[k].offset));
  hs_free(s->sources);
  s->sources = NULL;
  s->n_sources = 0;
}

int hs__sources_doc(hs_buf_t *out) {
  return hs_buf_printf(
      out, "\n## sources\n\n"
           "A list of the topics other systems publish (Segment, Stripe, survey webhooks, ...),\n"
           "each read by the mapper, mapped to engine events and produced to an input topic:\n"
           "`topic`, `format` (json, msgpack, avro, confluent-json, confluent-avro), `mapping`,\n"
           "`schema` (avro), `registry` (`url`, `username`, `password`, `schema_dir`),\n"
           "`on_unmatched`, `to` and `name`; empty by default. See\n"
           "[sources.md](sources.md#sources-in-healthscored).\n");
}
