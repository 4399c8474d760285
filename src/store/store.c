/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store on the Redis Cluster client (rcluster.c), which also
 * serves a standalone server as one node owning every slot: creation,
 * statistics and close. Reads are in read.c, commits in commit.c, the key
 * layout in keys.c. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void free_store(hs_store_t *s) {
  for (size_t t = 0; t < s->n_topics; t++)
    hs_free(s->topics[t]);
  hs_free(s->topics);
  hs_free(s->offsets);
  hs_free(s->prefix);
  hs_buf_free(&s->key);
  hs_buf_free(&s->cmd);
  hs_free(s);
}

int hs_store_new(hs_store_t **out, uv_loop_t *loop, const hs_store_conf_t *conf, hs_err_t *err) {
  *out = NULL;
  const char *prefix = conf->prefix ? conf->prefix : "hs";
  if (strchr(prefix, '{') || strchr(prefix, '}') || !*prefix)
    return hs_err_set(err, HS_E_INVAL, "store: the key prefix must be non-empty, without braces");
  for (size_t t = 0; t < conf->n_topics; t++)
    if (!*conf->topics[t] || strpbrk(conf->topics[t], " =\t\r\n"))
      return hs_err_set(err, HS_E_INVAL, "store: topic name \"%s\" has a space or '='",
                        conf->topics[t]);
  hs_store_t *s = hs_calloc(1, sizeof *s);
  if (!s)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  s->loop = loop;
  s->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
  s->wait_replicas = conf->wait_replicas > 0 ? conf->wait_replicas : 0;
  s->prefix = hs_strdup(prefix);
  s->n_topics = conf->n_topics;
  s->topics = hs_calloc(conf->n_topics + 1, sizeof *s->topics);
  s->offsets = hs_calloc(conf->n_topics + 1, sizeof *s->offsets);
  hs_buf_init(&s->key);
  hs_buf_init(&s->cmd);
  bool nomem = !s->prefix || !s->topics || !s->offsets;
  for (size_t t = 0; !nomem && t < conf->n_topics; t++)
    nomem = !(s->topics[t] = hs_strdup(conf->topics[t]));
  /* the seeds: the nodes given, else host:port (an IPv6 address in brackets) */
  char seed[300];
  const char *host = conf->host && *conf->host ? conf->host : "127.0.0.1";
  snprintf(seed, sizeof seed, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
           conf->port ? conf->port : 6379);
  static const char *const scripts[] = {hs__account_script, hs__positions_script};
  hs_rc_conf_t rcc = {.seeds = conf->nodes && *conf->nodes ? conf->nodes : seed,
                      .password = conf->password,
                      .timeout_ms = s->timeout_ms,
                      .reconnect_ms = conf->reconnect_ms,
                      .scripts = scripts,
                      .n_scripts = 2};
  int rc =
      nomem ? hs_err_set(err, HS_E_NOMEM, "out of memory") : hs_rc_new(&s->rc, loop, &rcc, err);
  if (rc) {
    free_store(s);
    return rc;
  }
  *out = s;
  return 0;
}

bool hs_store_connected(const hs_store_t *s) {
  return !s->closing && hs_rc_ready(s->rc);
}

size_t hs_store_inflight(const hs_store_t *s) {
  return s->inflight;
}

uint64_t hs_store_connections(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.connections + st.promotions;
}

uint64_t hs_store_commands(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.commands;
}

uint64_t hs_store_bytes(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.bytes;
}

void hs_store_stats(const hs_store_t *s, hs_store_stats_t *out) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  *out = (hs_store_stats_t){.commands = st.commands,
                            .bytes = st.bytes,
                            .moved = st.moved,
                            .asked = st.asked,
                            .retries = st.retries,
                            .noscript = st.noscript,
                            .refused = s->refused,
                            .fenced = s->fenced,
                            .wait_short = s->wait_short,
                            .masters = st.masters,
                            .standalone = st.standalone};
}

const char *hs_store_last_error(const hs_store_t *s) {
  return hs_rc_last_error(s->rc);
}

static void on_rc_closed(void *ud) {
  hs_store_t *s = ud;
  void (*closed)(void *) = s->closed;
  void *closed_ud = s->closed_ud;
  free_store(s);
  if (closed)
    closed(closed_ud);
}

void hs_store_close(hs_store_t *s, void (*closed)(void *ud), void *ud) {
  s->closing = true;
  s->closed = closed;
  s->closed_ud = ud;
  hs_rc_close(s->rc, on_rc_closed, s); /* pending callbacks run with an error */
}
