/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store on hiredis async and libuv. hiredis 0.14 has no
 * command timeout, so a watchdog timer drops a connection whose oldest
 * outstanding reply is late; hiredis then fails every pending callback with a
 * NULL reply, and the store reconnects with backoff. */
#include "healthscore/store.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_DONE, OP_GET, OP_POS, OP_PING };

#define IDLE_PING_MS 500 /* an idle connection is checked this often */

typedef struct op_s {
  struct op_s *next;
  hs_store_t *store;
  int kind;
  union {
    hs_store_done_cb done;
    hs_store_get_cb get;
    hs_store_pos_cb pos;
  } cb;
  void *ud;
  uint64_t sent_ms;
} op_t;

struct hs_store_s {
  uv_loop_t *loop;
  char *host, *password, *prefix;
  int port, timeout_ms, reconnect_ms, backoff_ms;
  redisAsyncContext *ac;
  bool connected, closing;
  uv_timer_t retry, watchdog;
  int open_handles;
  op_t *head, *tail; /* outstanding operations, oldest first */
  uint64_t last_reply_ms;
  size_t inflight;
  hs_buf_t key;
  void (*closed)(void *ud);
  void *closed_ud;
};

static void connect_now(hs_store_t *s);

static void on_retry(uv_timer_t *t) {
  connect_now(t->data);
}

static void schedule_reconnect(hs_store_t *s) {
  if (s->closing)
    return;
  uv_timer_start(&s->retry, on_retry, (uint64_t)s->backoff_ms, 0);
  s->backoff_ms = s->backoff_ms * 2 > 5000 ? 5000 : s->backoff_ms * 2;
}

static void unlink_op(hs_store_t *s, op_t *op) {
  op_t **pp = &s->head, *prev = NULL;
  while (*pp && *pp != op) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp)
    return;
  *pp = op->next;
  if (s->tail == op)
    s->tail = prev;
  s->inflight--;
}

/* Completes an operation from its reply (NULL: the connection is gone). */
static void on_reply(redisAsyncContext *ac, void *r, void *privdata) {
  (void)ac;
  op_t *op = privdata;
  hs_store_t *s = op->store;
  redisReply *reply = r;
  unlink_op(s, op);
  if (reply)
    s->last_reply_ms = uv_now(s->loop);
  if (op->kind == OP_PING) {
    /* connected means: a command got an answer on this connection */
    if (reply && reply->type != REDIS_REPLY_ERROR && !s->closing && s->ac) {
      s->connected = true;
      s->backoff_ms = s->reconnect_ms;
    }
    hs_free(op);
    return;
  }
  hs_err_t err = {0};
  int status = 0;
  if (!reply) {
    status = hs_err_set(&err, HS_E_IO, "redis %s:%d: connection lost", s->host, s->port);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    status = hs_err_set(&err, HS_E_IO, "redis: %.*s", (int)reply->len, reply->str);
  } else if (op->kind == OP_DONE) {
    if (reply->type != REDIS_REPLY_ARRAY)
      status = hs_err_set(&err, HS_E_IO, "redis: transaction aborted");
    for (size_t i = 0; !status && i < reply->elements; i++)
      if (reply->element[i]->type == REDIS_REPLY_ERROR)
        status = hs_err_set(&err, HS_E_IO, "redis: %.*s", (int)reply->element[i]->len,
                            reply->element[i]->str);
  }
  switch (op->kind) {
  case OP_DONE:
    op->cb.done(op->ud, status, &err);
    break;
  case OP_GET: {
    bool have = !status && reply->type == REDIS_REPLY_STRING;
    op->cb.get(op->ud, status, have ? reply->str : NULL, have ? reply->len : 0);
    break;
  }
  case OP_PING:
    break;
  case OP_POS: {
    int64_t off = -1;
    if (!status && reply->type == REDIS_REPLY_STRING) {
      char *end;
      off = strtoll(reply->str, &end, 10);
      if (*end || off < 0)
        status = HS_E_PARSE;
    }
    op->cb.pos(op->ud, status, status ? -1 : off);
    break;
  }
  }
  hs_free(op);
}

static op_t *new_op(hs_store_t *s, int kind, void *ud);

/* Sends a PING as an operation, so the watchdog times it like any other. */
static void send_ping(hs_store_t *s) {
  op_t *op = new_op(s, OP_PING, NULL);
  if (op && redisAsyncCommand(s->ac, on_reply, op, "PING") != REDIS_OK) {
    unlink_op(s, op);
    hs_free(op);
  }
}

static void on_auth(redisAsyncContext *ac, void *r, void *privdata) {
  hs_store_t *s = privdata;
  redisReply *reply = r;
  (void)ac;
  if (reply && reply->type != REDIS_REPLY_ERROR) {
    send_ping(s);
  } else if (reply && s->ac) {
    redisAsyncDisconnect(s->ac); /* wrong password: retry later, the operator may fix it */
  }
}

static void on_connect(const redisAsyncContext *ac, int status) {
  hs_store_t *s = ac->data;
  if (status != REDIS_OK) {
    if (s->ac == ac)
      s->ac = NULL; /* hiredis frees a context that failed to connect */
    schedule_reconnect(s);
    return;
  }
  if (s->password)
    redisAsyncCommand(s->ac, on_auth, s, "AUTH %s", s->password);
  else
    send_ping(s);
}

static void maybe_closed(hs_store_t *s) {
  if (s->closing && !s->ac && s->open_handles == 0 && s->closed) {
    void (*cb)(void *) = s->closed;
    void *ud = s->closed_ud;
    s->closed = NULL;
    hs_buf_free(&s->key);
    hs_free(s->host);
    hs_free(s->password);
    hs_free(s->prefix);
    hs_free(s);
    cb(ud);
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  hs_store_t *s = ac->data;
  (void)status;
  if (s->ac == ac)
    s->ac = NULL;
  s->connected = false;
  if (s->closing)
    maybe_closed(s);
  else
    schedule_reconnect(s);
}

static void connect_now(hs_store_t *s) {
  if (s->closing || s->ac)
    return;
  redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
  if (!ac || ac->err) {
    if (ac)
      redisAsyncFree(ac);
    schedule_reconnect(s);
    return;
  }
  ac->data = s;
  if (redisLibuvAttach(ac, s->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    schedule_reconnect(s);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  s->ac = ac;
}

/* Drops a connection whose oldest reply is late (its callbacks then fail),
 * and pings an idle one so that a peer that vanished is noticed. */
static void on_watchdog(uv_timer_t *t) {
  hs_store_t *s = t->data;
  if (s->connected && !s->head && uv_now(s->loop) - s->last_reply_ms >= IDLE_PING_MS)
    send_ping(s);
  if (s->head && s->ac && uv_now(s->loop) - s->head->sent_ms > (uint64_t)s->timeout_ms) {
    redisAsyncContext *ac = s->ac;
    s->connected = false;
    redisAsyncFree(ac); /* calls every pending callback with a NULL reply */
    if (s->ac == ac) {
      s->ac = NULL;
      schedule_reconnect(s);
    }
  }
}

static void on_timer_closed(uv_handle_t *h) {
  hs_store_t *s = h->data;
  s->open_handles--;
  maybe_closed(s);
}

int hs_store_new(hs_store_t **out, uv_loop_t *loop, const hs_store_conf_t *conf, hs_err_t *err) {
  *out = NULL;
  const char *prefix = conf->prefix ? conf->prefix : "hs";
  if (strchr(prefix, '{') || strchr(prefix, '}') || !*prefix)
    return hs_err_set(err, HS_E_INVAL, "store: the key prefix must be non-empty, without braces");
  hs_store_t *s = hs_calloc(1, sizeof *s);
  if (!s)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  s->loop = loop;
  s->host = hs_strdup(conf->host ? conf->host : "127.0.0.1");
  s->password = conf->password ? hs_strdup(conf->password) : NULL;
  s->prefix = hs_strdup(prefix);
  s->port = conf->port ? conf->port : 6379;
  s->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
  s->reconnect_ms = s->backoff_ms = conf->reconnect_ms > 0 ? conf->reconnect_ms : 100;
  hs_buf_init(&s->key);
  if (!s->host || !s->prefix || (conf->password && !s->password)) {
    hs_free(s->host);
    hs_free(s->password);
    hs_free(s->prefix);
    hs_free(s);
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  uv_timer_init(loop, &s->retry);
  uv_timer_init(loop, &s->watchdog);
  s->retry.data = s->watchdog.data = s;
  s->open_handles = 2;
  uv_timer_start(&s->watchdog, on_watchdog, 50, 50);
  connect_now(s);
  *out = s;
  return 0;
}

bool hs_store_connected(const hs_store_t *s) {
  return s->connected;
}

size_t hs_store_inflight(const hs_store_t *s) {
  return s->inflight;
}

static op_t *new_op(hs_store_t *s, int kind, void *ud) {
  op_t *op = hs_calloc(1, sizeof *op);
  if (!op)
    return NULL;
  op->store = s;
  op->kind = kind;
  op->ud = ud;
  op->sent_ms = uv_now(s->loop);
  if (s->tail)
    s->tail->next = op;
  else
    s->head = op;
  s->tail = op;
  s->inflight++;
  return op;
}

/* Builds "PREFIX:{ACCOUNT}:SUFFIX" into s->key. */
static int account_key(hs_store_t *s, hs_str_t account, const char *suffix) {
  s->key.len = 0;
  return hs_buf_printf(&s->key, "%s:{%.*s}:%s", s->prefix, (int)account.len, account.ptr, suffix);
}

static int pos_key(hs_store_t *s, const char *group, const char *topic, int32_t partition) {
  s->key.len = 0;
  return hs_buf_printf(&s->key, "%s:pos:%s:%s:%d", s->prefix, group, topic, (int)partition);
}

static int send_get(hs_store_t *s, op_t *op) {
  const char *argv[] = {"GET", s->key.data};
  size_t lens[] = {3, s->key.len};
  return redisAsyncCommandArgv(s->ac, on_reply, op, 2, argv, lens);
}

int hs_store_get_state(hs_store_t *s, hs_str_t account, hs_store_get_cb cb, void *ud) {
  if (!s->connected || !s->ac)
    return HS_E_IO;
  if (account_key(s, account, "state"))
    return HS_E_NOMEM;
  op_t *op = new_op(s, OP_GET, ud);
  if (!op)
    return HS_E_NOMEM;
  op->cb.get = cb;
  if (send_get(s, op) != REDIS_OK) {
    unlink_op(s, op);
    hs_free(op);
    return HS_E_IO;
  }
  return 0;
}

int hs_store_get_position(hs_store_t *s, const char *group, const char *topic, int32_t partition,
                          hs_store_pos_cb cb, void *ud) {
  if (!s->connected || !s->ac)
    return HS_E_IO;
  if (pos_key(s, group, topic, partition))
    return HS_E_NOMEM;
  op_t *op = new_op(s, OP_POS, ud);
  if (!op)
    return HS_E_NOMEM;
  op->cb.pos = cb;
  if (send_get(s, op) != REDIS_OK) {
    unlink_op(s, op);
    hs_free(op);
    return HS_E_IO;
  }
  return 0;
}

static int send3(hs_store_t *s, const char *cmd, const char *val, size_t val_len) {
  const char *argv[] = {cmd, s->key.data, val};
  size_t lens[] = {strlen(cmd), s->key.len, val_len};
  return redisAsyncCommandArgv(s->ac, NULL, NULL, 3, argv, lens);
}

int hs_store_commit(hs_store_t *s, const hs_store_write_t *w, size_t n, const hs_store_pos_t *pos,
                    size_t n_pos, hs_store_done_cb cb, void *ud) {
  if (!s->connected || !s->ac)
    return HS_E_IO;
  int rc = redisAsyncCommand(s->ac, NULL, NULL, "MULTI") == REDIS_OK ? 0 : HS_E_IO;
  for (size_t i = 0; i < n && !rc; i++) {
    rc = account_key(s, w[i].account, "state");
    if (!rc && send3(s, "SET", w[i].state, w[i].state_len) != REDIS_OK)
      rc = HS_E_IO;
    if (!rc && w[i].score_json) {
      rc = account_key(s, w[i].account, "score");
      if (!rc && send3(s, "SET", w[i].score_json, w[i].score_len) != REDIS_OK)
        rc = HS_E_IO;
    }
    if (!rc && w[i].has_score) {
      char day[32], val[32];
      hs_time_format((int64_t)w[i].day * HS_MS_PER_DAY, day);
      int vl = snprintf(val, sizeof val, "%.1f", w[i].score);
      rc = account_key(s, w[i].account, "history");
      const char *argv[] = {"HSET", s->key.data, day, val};
      size_t lens[] = {4, s->key.len, 10, (size_t)vl}; /* the day: YYYY-MM-DD */
      if (!rc && redisAsyncCommandArgv(s->ac, NULL, NULL, 4, argv, lens) != REDIS_OK)
        rc = HS_E_IO;
    }
  }
  for (size_t i = 0; i < n_pos && !rc; i++) {
    char off[32];
    int ol = snprintf(off, sizeof off, "%lld", (long long)pos[i].offset);
    rc = pos_key(s, pos[i].group, pos[i].topic, pos[i].partition);
    if (!rc && send3(s, "SET", off, (size_t)ol) != REDIS_OK)
      rc = HS_E_IO;
  }
  op_t *op = rc ? NULL : new_op(s, OP_DONE, ud);
  if (op) {
    op->cb.done = cb;
    if (redisAsyncCommand(s->ac, on_reply, op, "EXEC") == REDIS_OK)
      return 0;
    unlink_op(s, op);
    hs_free(op);
    return HS_E_IO;
  }
  /* nothing of the transaction may stay queued on the connection */
  redisAsyncCommand(s->ac, NULL, NULL, "DISCARD");
  return rc ? rc : HS_E_NOMEM;
}

void hs_store_close(hs_store_t *s, void (*closed)(void *ud), void *ud) {
  s->closing = true;
  s->closed = closed;
  s->closed_ud = ud;
  s->connected = false;
  uv_timer_stop(&s->retry);
  uv_timer_stop(&s->watchdog);
  uv_close((uv_handle_t *)&s->retry, on_timer_closed);
  uv_close((uv_handle_t *)&s->watchdog, on_timer_closed);
  if (s->ac) {
    redisAsyncContext *ac = s->ac;
    redisAsyncFree(ac); /* pending callbacks run with a NULL reply */
    s->ac = NULL;
  }
}
