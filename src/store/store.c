/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store on hiredis async and libuv. hiredis 0.14 has no
 * command timeout, so a watchdog timer drops a connection whose oldest
 * outstanding reply is late; hiredis then fails every pending callback with a
 * NULL reply, and the store reconnects with backoff. */
#include "healthscore/store.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Monotonic milliseconds, read now (not the loop's cached time, which is
 * stale after a long loop iteration and would make a fresh command look
 * late). */
static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000;
}

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
  uint64_t sent_ms, allowance_ms; /* the reply is late after timeout + allowance */
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
  uint64_t last_reply_ms, connect_ms;
  size_t inflight;
  uint64_t connections, commands, bytes;
  char last_error[160];
  hs_buf_t key, cmd;
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
    s->last_reply_ms = now_ms();
  if (op->kind == OP_PING) {
    /* connected means: a command got an answer on this connection */
    if (reply && reply->type != REDIS_REPLY_ERROR && !s->closing && s->ac) {
      if (!s->connected)
        s->connections++;
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
  } else if (op->kind == OP_DONE && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
    /* the script refused: a position differs from the one expected */
    status = HS_STORE_FENCED;
    hs_err_set(&err, HS_E_IO, "redis: %.*s holds \"%.*s\", not the position this writer expected",
               (int)reply->element[0]->len, reply->element[0]->str, (int)reply->element[1]->len,
               reply->element[1]->str);
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
    snprintf(s->last_error, sizeof s->last_error, "redis %s:%d: AUTH: %.*s", s->host, s->port,
             (int)reply->len, reply->str);
    redisAsyncDisconnect(s->ac); /* wrong password: retry later, the operator may fix it */
  }
}

static void on_connect(const redisAsyncContext *ac, int status) {
  hs_store_t *s = ac->data;
  if (status != REDIS_OK) {
    snprintf(s->last_error, sizeof s->last_error, "redis %s:%d: %s", s->host, s->port, ac->errstr);
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
    hs_buf_free(&s->cmd);
    hs_free(s->host);
    hs_free(s->password);
    hs_free(s->prefix);
    hs_free(s);
    cb(ud);
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  hs_store_t *s = ac->data;
  if (status != REDIS_OK)
    snprintf(s->last_error, sizeof s->last_error, "redis %s:%d: %s", s->host, s->port,
             ac->errstr[0] ? ac->errstr : "connection lost");
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
  s->connect_ms = now_ms();
}

/* Drops a connection whose oldest reply is late (its callbacks then fail),
 * and pings an idle one so that a peer that vanished is noticed. */
static void on_watchdog(uv_timer_t *t) {
  hs_store_t *s = t->data;
  if (s->connected && !s->head && now_ms() - s->last_reply_ms >= IDLE_PING_MS)
    send_ping(s);
  /* hiredis 0.14's libuv adapter drops a failed connect on the floor (it
     ignores poll errors), leaving the context waiting forever: a connection
     not ready within the timeout is given up too */
  if (s->ac && !s->connected && !s->head && now_ms() - s->connect_ms > (uint64_t)s->timeout_ms) {
    redisAsyncContext *ac = s->ac;
    snprintf(s->last_error, sizeof s->last_error, "redis %s:%d: cannot connect within %d ms",
             s->host, s->port, s->timeout_ms);
    s->ac = NULL;
    redisAsyncFree(ac);
    schedule_reconnect(s);
    return;
  }
  if (s->head && s->ac &&
      now_ms() - s->head->sent_ms > (uint64_t)s->timeout_ms + s->head->allowance_ms) {
    redisAsyncContext *ac = s->ac;
    s->connected = false;
    snprintf(s->last_error, sizeof s->last_error, "redis %s:%d: no reply within %d ms", s->host,
             s->port, s->timeout_ms);
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
  hs_buf_init(&s->cmd);
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

uint64_t hs_store_connections(const hs_store_t *s) {
  return s->connections;
}

uint64_t hs_store_commands(const hs_store_t *s) {
  return s->commands;
}

uint64_t hs_store_bytes(const hs_store_t *s) {
  return s->bytes;
}

const char *hs_store_last_error(const hs_store_t *s) {
  return s->last_error;
}

static op_t *new_op(hs_store_t *s, int kind, void *ud) {
  op_t *op = hs_calloc(1, sizeof *op);
  if (!op)
    return NULL;
  op->store = s;
  op->kind = kind;
  op->ud = ud;
  op->sent_ms = now_ms();
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
  s->commands++;
  s->bytes += 3 + s->key.len;
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

/* The commit script. KEYS: the position keys, then one key per write.
 * ARGV[1]: the number of positions; then (expected, new) per position; then
 * the writes: "s" VALUE (SET) or "h" N FIELD VALUE ... (HSET of N pairs). */
static const char commit_script[] =
    "local np = tonumber(ARGV[1])\n"
    "for i = 1, np do\n"
    "  local cur = redis.call('GET', KEYS[i])\n"
    "  if (cur or '') ~= ARGV[2 * i] then return {KEYS[i], cur or ''} end\n"
    "end\n"
    "for i = 1, np do redis.call('SET', KEYS[i], ARGV[2 * i + 1]) end\n"
    "local a, k = 2 * np + 2, np + 1\n"
    "while a <= #ARGV do\n"
    "  if ARGV[a] == 's' then\n"
    "    redis.call('SET', KEYS[k], ARGV[a + 1]); a = a + 2\n"
    "  else\n"
    "    local n = tonumber(ARGV[a + 1])\n"
    "    redis.call('HSET', KEYS[k], unpack(ARGV, a + 2, a + 1 + 2 * n)); a = a + 2 + 2 * n\n"
    "  end\n"
    "  k = k + 1\n"
    "end\n"
    "return 'OK'\n";

/* RESP: one bulk string argument. */
static int resp_arg(hs_buf_t *b, const void *p, size_t n) {
  return hs_buf_printf(b, "$%zu\r\n", n) || hs_buf_append(b, p, n) || hs_buf_append(b, "\r\n", 2);
}

static int resp_int(hs_buf_t *b, long long v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%lld", v);
  return resp_arg(b, tmp, (size_t)n);
}

int hs_store_commit(hs_store_t *s, const hs_store_write_t *w, size_t n, const hs_store_pos_t *pos,
                    size_t n_pos, hs_store_done_cb cb, void *ud) {
  if (!s->connected || !s->ac)
    return HS_E_IO;
  /* the command is formatted once, into a buffer kept across commits */
  size_t n_keys = n_pos, n_args = 4 + 3 * n_pos;
  for (size_t i = 0; i < n; i++) {
    n_keys += 1 + (w[i].score_json != NULL) + (w[i].n_days > 0);
    n_args += 3 + 3 * (w[i].score_json != NULL) + (w[i].n_days ? 3 + 2 * w[i].n_days : 0);
  }
  hs_buf_t *c = &s->cmd;
  c->len = 0;
  int rc = hs_buf_printf(c, "*%zu\r\n", n_args);
  rc |= resp_arg(c, "EVAL", 4);
  rc |= resp_arg(c, commit_script, sizeof commit_script - 1);
  rc |= resp_int(c, (long long)n_keys);
  for (size_t i = 0; i < n_pos && !rc; i++)
    rc = pos_key(s, pos[i].group, pos[i].topic, pos[i].partition) ||
         resp_arg(c, s->key.data, s->key.len);
  for (size_t i = 0; i < n && !rc; i++) {
    rc = account_key(s, w[i].account, "state") || resp_arg(c, s->key.data, s->key.len);
    if (!rc && w[i].score_json)
      rc = account_key(s, w[i].account, "score") || resp_arg(c, s->key.data, s->key.len);
    if (!rc && w[i].n_days)
      rc = account_key(s, w[i].account, "history") || resp_arg(c, s->key.data, s->key.len);
  }
  rc |= resp_int(c, (long long)n_pos);
  for (size_t i = 0; i < n_pos && !rc; i++) {
    rc = pos[i].expect < 0 ? resp_arg(c, "", 0) : resp_int(c, pos[i].expect);
    rc |= resp_int(c, pos[i].offset);
  }
  for (size_t i = 0; i < n && !rc; i++) {
    rc = resp_arg(c, "s", 1) || resp_arg(c, w[i].state, w[i].state_len);
    if (!rc && w[i].score_json)
      rc = resp_arg(c, "s", 1) || resp_arg(c, w[i].score_json, w[i].score_len);
    if (!rc && w[i].n_days) {
      rc = resp_arg(c, "h", 1) || resp_int(c, (long long)w[i].n_days);
      for (size_t d = 0; d < w[i].n_days && !rc; d++) {
        char day[32], val[32];
        hs_time_format((int64_t)w[i].days[d] * HS_MS_PER_DAY, day);
        /* rounded as in the score record: half away from zero */
        int vl = snprintf(val, sizeof val, "%.1f", round(w[i].scores[d] * 10) / 10);
        rc = resp_arg(c, day, 10) || resp_arg(c, val, (size_t)vl); /* day: YYYY-MM-DD */
      }
    }
  }
  if (rc)
    return HS_E_NOMEM;
  op_t *op = new_op(s, OP_DONE, ud);
  if (!op)
    return HS_E_NOMEM;
  op->cb.done = cb;
  /* a big commit takes Redis a while to run: 1 ms more per 10 KB */
  op->allowance_ms = c->len / 10000;
  if (redisAsyncFormattedCommand(s->ac, on_reply, op, c->data, c->len) != REDIS_OK) {
    unlink_op(s, op);
    hs_free(op);
    return HS_E_IO;
  }
  s->commands++;
  s->bytes += c->len;
  if (c->cap > (8u << 20)) { /* hiredis has its copy; keep no huge buffer around */
    hs_buf_free(c);
    hs_buf_init(c);
  }
  return 0;
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
