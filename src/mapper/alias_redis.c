/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Learned aliases in Redis: one hash per source and lookup,
 * PREFIX:alias:SOURCE:LOOKUP, field the key (`cus_123`), value the account.
 * Written through: an alias is in Redis (HSET answered) before the message
 * that taught it is done with, so before its offset can be committed. Read
 * through a cache in memory: a hit is kept (an alias changes only when the
 * stream teaches it anew, which this replica then writes itself); a miss
 * asks Redis every time, so an alias another replica learned is seen by the
 * next message that needs it. Calls block the loop for one round trip, with
 * redis.timeout; after a failure Redis is not asked again for a second and
 * the store answers "failed" at once, which pauses the source (the message
 * is kept, never dead-lettered for it). With redis.nodes (a cluster) the
 * first node is asked and a MOVED answer followed. */
#include "internal.h"

#include "healthscore/log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOWN_MS 1000          /* after a failure, fail at once for this long */
#define MAX_CACHED (1u << 18) /* cached aliases per source before the cache starts afresh */

typedef struct asrc_s {
  struct aconn_s *conn;
  struct asrc_s *next;
  char *source;
  hs_alias_store_t cache;
  size_t cached;
} asrc_t;

typedef struct aconn_s {
  redisContext *c;
  char host[256];
  int port;
  const char *password, *prefix;
  int timeout_ms;
  uint64_t down_until;
  bool warned;
  asrc_t *stores;
} aconn_t;

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000;
}

static void drop(aconn_t *a) {
  if (a->c)
    redisFree(a->c);
  a->c = NULL;
}

/* `what` may be the context's own error text: logged before it is freed. */
static void failed(aconn_t *a, const char *what) {
  if (!a->warned)
    hs_log(HS_LOG_WARN, "mapper",
           "alias store: redis %s:%d: %s; the sources that need a learned alias pause", a->host,
           a->port, what);
  a->warned = true;
  a->down_until = now_ms() + DOWN_MS;
  drop(a);
}

static bool connect_redis(aconn_t *a) {
  if (a->c)
    return true;
  if (now_ms() < a->down_until)
    return false;
  struct timeval tv = {a->timeout_ms / 1000, (a->timeout_ms % 1000) * 1000};
  a->c = redisConnectWithTimeout(a->host, a->port, tv);
  if (!a->c || a->c->err) {
    failed(a, a->c ? a->c->errstr : "out of memory");
    return false;
  }
  redisSetTimeout(a->c, tv);
  if (a->password) {
    redisReply *r = redisCommand(a->c, "AUTH %s", a->password);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
    if (!ok) {
      failed(a, "AUTH refused");
      return false;
    }
  }
  return true;
}

/* One command (HGET or HSET), following one MOVED. NULL when Redis failed. */
static redisReply *command(aconn_t *a, int argc, const char **argv, const size_t *lens) {
  for (int tries = 0; tries < 2; tries++) {
    if (!connect_redis(a))
      return NULL;
    redisReply *r = redisCommandArgv(a->c, argc, argv, lens);
    if (!r) {
      failed(a, a->c->errstr[0] ? a->c->errstr : "no answer");
      return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "MOVED ", 6)) {
      const char *addr = strchr(r->str + 6, ' ');
      const char *colon = addr ? strrchr(addr, ':') : NULL;
      if (colon && colon - addr - 1 < (long)sizeof a->host) {
        snprintf(a->host, sizeof a->host, "%.*s", (int)(colon - addr - 1), addr + 1);
        a->port = atoi(colon + 1);
      }
      freeReplyObject(r);
      drop(a);
      continue;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      char why[200];
      snprintf(why, sizeof why, "%s", r->str);
      freeReplyObject(r);
      failed(a, why);
      return NULL;
    }
    if (a->warned)
      hs_log(HS_LOG_INFO, "mapper", "alias store: redis %s:%d answers again", a->host, a->port);
    a->warned = false;
    return r;
  }
  failed(a, "redirected twice");
  return NULL;
}

static int key_of(const asrc_t *s, const char *table, char *buf, size_t n) {
  return snprintf(buf, n, "%s:alias:%s:%s", s->conn->prefix, s->source, table);
}

static int r_get(void *ctx, const char *table, hs_str_t key, char *out, size_t cap) {
  asrc_t *s = ctx;
  int n = s->cache.get(s->cache.ctx, table, key, out, cap);
  if (n >= 0)
    return n;
  char k[512];
  key_of(s, table, k, sizeof k);
  const char *argv[] = {"HGET", k, key.ptr};
  size_t lens[] = {4, strlen(k), key.len};
  redisReply *r = command(s->conn, 3, argv, lens);
  if (!r)
    return -2;
  int rc = -1;
  if (r->type == REDIS_REPLY_STRING) {
    rc = (int)(r->len < cap ? r->len : cap);
    memcpy(out, r->str, (size_t)rc);
    if (s->cached < MAX_CACHED &&
        !s->cache.put(s->cache.ctx, table, key, (hs_str_t){out, (uint32_t)rc}))
      s->cached++;
  }
  freeReplyObject(r);
  return rc;
}

static int r_put(void *ctx, const char *table, hs_str_t key, hs_str_t value) {
  asrc_t *s = ctx;
  char k[512];
  key_of(s, table, k, sizeof k);
  const char *argv[] = {"HSET", k, key.ptr, value.ptr};
  size_t lens[] = {4, strlen(k), key.len, value.len};
  redisReply *r = command(s->conn, 4, argv, lens);
  if (!r)
    return -2;
  freeReplyObject(r);
  if (s->cached >= MAX_CACHED) { /* start afresh rather than grow without bound */
    hs_alias_mem_free(&s->cache);
    if (hs_alias_mem_new(&s->cache))
      return -2;
    s->cached = 0;
  }
  if (!s->cache.put(s->cache.ctx, table, key, value))
    s->cached++;
  return 0;
}

int hs__alias_redis_new(const hs_settings_t *s, hs_alias_store_t *store, hs_err_t *err) {
  aconn_t *a = hs_calloc(1, sizeof *a);
  if (!a)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  const char *nodes = s->redis_nodes && *s->redis_nodes ? s->redis_nodes : NULL;
  if (nodes) { /* the first host:port of the list */
    size_t len = strcspn(nodes, ", \t");
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++)
      colon = nodes[i] == ':' ? nodes + i : colon;
    const char *h = nodes[0] == '[' ? nodes + 1 : nodes;
    size_t hl = (size_t)(colon - h) - (nodes[0] == '[');
    snprintf(a->host, sizeof a->host, "%.*s", (int)hl, h);
    a->port = atoi(colon + 1);
  } else {
    snprintf(a->host, sizeof a->host, "%s", s->redis_host);
    a->port = s->redis_port;
  }
  a->password = s->redis_password && *s->redis_password ? s->redis_password : NULL;
  a->prefix = s->redis_prefix;
  a->timeout_ms = (int)s->redis_timeout_ms;
  *store = (hs_alias_store_t){a, NULL, NULL};
  return 0;
}

int hs__alias_redis_for(hs_alias_store_t *base, const char *source, hs_alias_store_t *out) {
  aconn_t *a = base->ctx;
  asrc_t *s = hs_calloc(1, sizeof *s);
  if (!s || !(s->source = hs_strdup(source)) || hs_alias_mem_new(&s->cache)) {
    if (s)
      hs_free(s->source);
    hs_free(s);
    return HS_E_NOMEM;
  }
  s->conn = a;
  s->next = a->stores;
  a->stores = s;
  *out = (hs_alias_store_t){s, r_get, r_put};
  return 0;
}

void hs__alias_redis_free(hs_alias_store_t *store) {
  aconn_t *a = store->ctx;
  if (!a)
    return;
  while (a->stores) {
    asrc_t *s = a->stores;
    a->stores = s->next;
    hs_alias_mem_free(&s->cache);
    hs_free(s->source);
    hs_free(s);
  }
  drop(a);
  hs_free(a);
  store->ctx = NULL;
}
