/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Redis Cluster routing on hiredis async and libuv. One timer drives
 * everything that is not a reply: it drops late connections (hiredis 0.14
 * has no command timeout; freeing a context fails its pending callbacks with
 * a NULL reply), pings idle ones, reconnects with backoff, resends parked
 * commands and asks for new slot maps. A node's outstanding operations are
 * kept oldest first, so the oldest one says whether the node is late. */
#include "rcluster_internal.h"

#include <hiredis/adapters/libuv.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Monotonic milliseconds, read now: the loop's cached time may be stale
 * when commands are issued after the loop slept or worked for a while, and
 * a stale send time would make a fresh command look late. */
uint64_t hs__rc_now_ms(const hs_rc_t *rc) {
  (void)rc;
  return uv_hrtime() / 1000000;
}

/* The node at host:port, added when new; NULL when out of memory. */
node_t *hs__rc_node_at(hs_rc_t *rc, const char *host, size_t host_len, int port) {
  for (size_t i = 0; i < rc->n_nodes; i++) {
    node_t *n = rc->nodes[i];
    if (n->port == port && strlen(n->host) == host_len && !memcmp(n->host, host, host_len))
      return n;
  }
  node_t **nodes = hs_array_grow(rc->nodes, &rc->cap_nodes, rc->n_nodes, sizeof *nodes, 8);
  node_t *n = nodes ? hs_calloc(1, sizeof *n) : NULL;
  if (nodes)
    rc->nodes = nodes;
  if (!n || !(n->host = hs_strndup(host, host_len))) {
    hs_free(n);
    return NULL;
  }
  n->rc = rc;
  n->port = port;
  n->index = (int)rc->n_nodes;
  n->backoff_ms = rc->reconnect_ms;
  rc->nodes[rc->n_nodes++] = n;
  return n;
}

/* Parses "host:port", "[host]:port" or "host" (port 6379) of `len` bytes:
 * the last colon starts the port, as in MOVED replies. An empty host is left
 * empty. Returns 0 or HS_E_INVAL. */
int hs__rc_parse_addr(const char *s, size_t len, const char **host, size_t *host_len, int *port) {
  const char *colon = NULL;
  for (size_t i = len; i-- > 0 && !colon;)
    if (s[i] == ':')
      colon = s + i;
  *port = 6379;
  if (colon) {
    char digits[8] = {0};
    size_t nd = len - (size_t)(colon + 1 - s);
    if (nd == 0 || nd >= sizeof digits || strspn(colon + 1, "0123456789") < nd)
      return HS_E_INVAL;
    memcpy(digits, colon + 1, nd);
    *port = atoi(digits);
    len = (size_t)(colon - s);
  }
  if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
    s++;
    len -= 2;
  }
  *host = s;
  *host_len = len;
  return *port > 0 && *port < 65536 ? 0 : HS_E_INVAL;
}

static void link_op(node_t *n, op_t *op) {
  op->next = NULL;
  if (n->tail)
    n->tail->next = op;
  else
    n->head = op;
  n->tail = op;
}

static void unlink_op(node_t *n, op_t *op) {
  op_t **pp = &n->head, *prev = NULL;
  while (*pp && *pp != op) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp)
    return;
  *pp = op->next;
  if (n->tail == op)
    n->tail = prev;
  op->next = NULL;
}

static void park(hs_rc_t *rc, op_t *op, uint64_t at) {
  op->resend_ms = at;
  op->next = rc->parked;
  rc->parked = op;
}

/* Completes a command: its callback runs, then it is freed. */
static void finish(op_t *op, redisReply *reply, const hs_err_t *err) {
  op->rc->inflight--;
  op->cb(op->ud, reply, err);
  hs_free(op->cmd);
  hs_free(op);
}

void hs__rc_fail(op_t *op, const char *fmt, ...) {
  hs_err_t err = {.code = HS_E_IO};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err.msg, sizeof err.msg, fmt, ap);
  va_end(ap);
  hs_rc_t *rc = op->rc; /* `op` is freed by finish() */
  node_t *outer = rc->replying;
  rc->replying = NULL;
  finish(op, NULL, &err);
  rc->replying = outer;
}

/* The connection of `n` is gone or going: forget it and retry later. */
static void lost(node_t *n, const char *why) {
  hs_rc_t *rc = n->rc;
  n->ac = NULL;
  n->ready = false;
  if (rc->closing)
    return;
  snprintf(n->why, sizeof n->why, "%s", why);
  snprintf(rc->last_error, sizeof rc->last_error, "redis %s:%d: %s", n->host, n->port, why);
  n->retry_ms = hs__rc_now_ms(rc) + (uint64_t)n->backoff_ms;
  n->backoff_ms = n->backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : n->backoff_ms * 2;
  rc->map_wanted = true;
}

/* Drops the connection of `n`: its pending callbacks run with NULL. */
static void drop(node_t *n, const char *why) {
  redisAsyncContext *ac = n->ac;
  lost(n, why);
  redisAsyncFree(ac);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

/* Queues `op` on the connection of `n`. Returns 0 or -1. */
int hs__rc_send_op(node_t *n, op_t *op) {
  int rc;
  if (!n->ac)
    return -1;
  if (op->ask && redisAsyncCommand(n->ac, NULL, NULL, "ASKING") != REDIS_OK)
    return -1;
  if (op->kind == OP_USER)
    rc = redisAsyncFormattedCommand(n->ac, on_reply, op, op->cmd, op->len);
  else
    rc = redisAsyncCommand(n->ac, on_reply, op, op->kind == OP_PING ? "PING" : "CLUSTER SLOTS");
  if (rc != REDIS_OK)
    return -1;
  op->ask = NULL;
  op->sent_ms = hs__rc_now_ms(n->rc);
  link_op(n, op);
  if (op->kind == OP_USER) {
    n->rc->stats.commands++;
    n->rc->stats.bytes += op->len;
  }
  return 0;
}

/* Sends an internal operation (PING, CLUSTER SLOTS). Returns 0 or -1. */
static int send_internal(node_t *n, int kind) {
  op_t *op = hs_calloc(1, sizeof *op);
  if (!op)
    return -1;
  op->rc = n->rc;
  op->kind = kind;
  if (hs__rc_send_op(n, op)) {
    hs_free(op);
    return -1;
  }
  return 0;
}

static void on_auth(redisAsyncContext *ac, void *r, void *privdata) {
  node_t *n = privdata;
  redisReply *reply = r;
  if (reply && reply->type == REDIS_REPLY_ERROR && n->ac == ac) {
    char why[128];
    snprintf(why, sizeof why, "AUTH: %.*s", (int)reply->len, reply->str);
    drop(n, why); /* a wrong password: retried later, the operator may fix it */
  }
}

static void on_connect(const redisAsyncContext *ac, int status) {
  node_t *n = ac->data;
  if (status != REDIS_OK && n->ac == ac)
    lost(n, ac->errstr); /* hiredis frees a context that failed to connect */
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  node_t *n = ac->data;
  (void)status;
  if (n->ac == ac)
    lost(n, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void connect_now(node_t *n) {
  hs_rc_t *rc = n->rc;
  if (rc->closing || n->ac)
    return;
  redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
  if (!ac || ac->err || redisLibuvAttach(ac, rc->loop) != REDIS_OK) {
    lost(n, ac && ac->err ? ac->errstr : "cannot create a connection");
    if (ac)
      redisAsyncFree(ac);
    return;
  }
  ac->data = n;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  n->ac = ac;
  n->connect_ms = hs__rc_now_ms(rc);
  n->why[0] = 0;
  /* queued before anything else that may be sent while connecting */
  if (rc->password)
    redisAsyncCommand(ac, on_auth, n, "AUTH %s", rc->password);
  send_internal(n, OP_PING);
}

/* Sends a command to the node that owns its slot now (or that an ASK named),
 * parks it when that node has no connection, fails it when its time is up. */
static void dispatch(hs_rc_t *rc, op_t *op) {
  node_t *n = op->ask ? op->ask : op->pin ? op->pin : rc->slots[op->slot];
  uint64_t now = hs__rc_now_ms(rc);
  if (n && !n->ac && now >= n->retry_ms)
    connect_now(n);
  if (n && hs__rc_send_op(n, op) == 0)
    return;
  if (now + RETRY_MS - op->start_ms > (uint64_t)rc->timeout_ms) {
    if (n)
      hs__rc_fail(op, "redis %s:%d: no connection (slot %u)", n->host, n->port, op->slot);
    else
      hs__rc_fail(op, "redis cluster: slot %u has no node", op->slot);
    return;
  }
  park(rc, op, now + RETRY_MS);
}

/* Loads the map from a CLUSTER SLOTS reply, or makes `from` the only node
 * when it has no cluster support. */
static void load_map(hs_rc_t *rc, node_t *from, const redisReply *r) {
  for (size_t i = 0; i < rc->n_nodes; i++) /* to count the nodes that become masters */
    rc->nodes[i]->was_master = rc->nodes[i]->master;
  if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "cluster support disabled")) {
    for (size_t i = 0; i < rc->n_nodes; i++)
      rc->nodes[i]->master = rc->nodes[i] == from;
    for (size_t s = 0; s < HS_RC_SLOTS; s++)
      rc->slots[s] = from;
    rc->standalone = true;
  } else if (r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < rc->n_nodes; i++)
      rc->nodes[i]->master = false;
    memset(rc->slots, 0, sizeof rc->slots);
    for (size_t i = 0; i < r->elements; i++) {
      /* [first slot, last slot, [host, port, id, ...], replicas ...] */
      const redisReply *e = r->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
          e->element[0]->type != REDIS_REPLY_INTEGER ||
          e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
          e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
          e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        continue;
      const redisReply *host = e->element[2]->element[0];
      long long lo = e->element[0]->integer, hi = e->element[1]->integer;
      long long port = e->element[2]->element[1]->integer;
      bool unknown = host->len == 0 || !strcmp(host->str, "?"); /* "": the node asked */
      node_t *n = port > 0 && port < 65536
                      ? hs__rc_node_at(rc, unknown ? from->host : host->str,
                                       unknown ? strlen(from->host) : host->len, (int)port)
                      : NULL;
      for (long long s = lo < 0 ? 0 : lo; n && s <= hi && s < HS_RC_SLOTS; s++)
        rc->slots[s] = n;
      if (n)
        n->master = true;
      for (size_t j = 3; j < e->elements; j++) { /* replicas: nodes to ask for maps later */
        const redisReply *r2 = e->element[j];
        if (r2->type == REDIS_REPLY_ARRAY && r2->elements >= 2 &&
            r2->element[0]->type == REDIS_REPLY_STRING && r2->element[0]->len > 0 &&
            r2->element[1]->type == REDIS_REPLY_INTEGER && r2->element[1]->integer > 0 &&
            r2->element[1]->integer < 65536)
          hs__rc_node_at(rc, r2->element[0]->str, r2->element[0]->len,
                         (int)r2->element[1]->integer);
      }
    }
    rc->standalone = false;
  } else {
    snprintf(rc->last_error, sizeof rc->last_error, "redis %s:%d: CLUSTER SLOTS: %s", from->host,
             from->port, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    rc->map_wanted = true;
    return;
  }
  rc->map_loaded = true;
  rc->stats.maps++;
  for (size_t i = 0; i < rc->n_nodes; i++)
    rc->stats.promotions += rc->nodes[i]->master && !rc->nodes[i]->was_master;
  for (size_t i = 0; i < rc->n_nodes; i++)
    if (rc->nodes[i]->master && !rc->nodes[i]->ac && hs__rc_now_ms(rc) >= rc->nodes[i]->retry_ms)
      connect_now(rc->nodes[i]);
}

/* Rewrites an `EVALSHA SHA ...` command of a registered script into
 * `EVAL SCRIPT ...`. Returns false when it is not one (or out of memory). */
static bool as_eval(hs_rc_t *rc, op_t *op) {
  static const char head[] = "$7\r\nEVALSHA\r\n$40\r\n";
  const char *p = memchr(op->cmd, '\n', op->len); /* after "*N\r\n" */
  size_t at = p ? (size_t)(p + 1 - op->cmd) : op->len, hl = sizeof head - 1;
  if (at + hl + 42 > op->len || memcmp(op->cmd + at, head, hl))
    return false;
  const char *sha = op->cmd + at + hl;
  const struct script_s *sc = NULL;
  for (size_t i = 0; i < rc->n_scripts && !sc; i++)
    if (!memcmp(rc->scripts[i].sha, sha, 40))
      sc = &rc->scripts[i];
  if (!sc)
    return false;
  size_t rest = at + hl + 42; /* the arguments after the SHA and its CRLF */
  char num[32];
  int nl = snprintf(num, sizeof num, "$4\r\nEVAL\r\n$%zu\r\n", sc->len);
  size_t len = at + (size_t)nl + sc->len + 2 + (op->len - rest);
  char *cmd = hs_malloc(len);
  if (!cmd)
    return false;
  memcpy(cmd, op->cmd, at);
  memcpy(cmd + at, num, (size_t)nl);
  memcpy(cmd + at + nl, sc->body, sc->len);
  memcpy(cmd + at + nl + sc->len, "\r\n", 2);
  memcpy(cmd + at + nl + sc->len + 2, op->cmd + rest, op->len - rest);
  hs_free(op->cmd);
  op->cmd = cmd;
  op->len = len;
  op->as_eval = true;
  return true;
}

/* Follows a redirection or parks a command for a retry. Returns false when
 * the error reply is the command's answer. */
static bool redirect(hs_rc_t *rc, node_t *from, op_t *op, const redisReply *r) {
  bool moved = !strncmp(r->str, "MOVED ", 6), ask = !strncmp(r->str, "ASK ", 4);
  if (moved || ask) {
    /* "MOVED 3999 127.0.0.1:6381"; an empty host is the one that replied */
    const char *p = strchr(r->str, ' ') + 1, *host;
    char *end;
    unsigned long slot = strtoul(p, &end, 10);
    size_t host_len;
    int port;
    if (++op->redirects > MAX_REDIRECTS || end == p || *end != ' ' || slot >= HS_RC_SLOTS ||
        hs__rc_parse_addr(end + 1, strlen(end + 1), &host, &host_len, &port))
      return false;
    node_t *to = host_len ? hs__rc_node_at(rc, host, host_len, port)
                          : hs__rc_node_at(rc, from->host, strlen(from->host), port);
    if (!to)
      return false;
    if (moved) {
      rc->stats.moved++;
      rc->slots[slot] = to;
      rc->stats.promotions += !to->master;
      to->master = true;
      rc->map_wanted = true;
    } else {
      rc->stats.asked++;
      op->ask = to;
    }
    dispatch(rc, op);
    return true;
  }
  if (!strncmp(r->str, "NOSCRIPT", 8) && !op->as_eval && as_eval(rc, op)) {
    rc->stats.noscript++;
    dispatch(rc, op);
    return true;
  }
  bool down = !strncmp(r->str, "CLUSTERDOWN", 11);
  if ((down || !strncmp(r->str, "TRYAGAIN", 8)) &&
      hs__rc_now_ms(rc) + RETRY_MS - op->start_ms <= (uint64_t)rc->timeout_ms) {
    rc->stats.retries++;
    rc->map_wanted |= down;
    park(rc, op, hs__rc_now_ms(rc) + RETRY_MS);
    return true;
  }
  return false;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata) {
  op_t *op = privdata;
  node_t *n = ac->data;
  hs_rc_t *rc = n->rc;
  redisReply *reply = r;
  unlink_op(n, op);
  if (!reply && n->ac == ac) /* the first of the callbacks failed by a lost connection */
    lost(n, ac->err ? ac->errstr : "connection closed");
  if (reply)
    n->last_reply_ms = hs__rc_now_ms(rc);
  if (op->kind == OP_PING) {
    if (reply && n->ac == ac && reply->type == REDIS_REPLY_ERROR) {
      char why[128];
      snprintf(why, sizeof why, "PING: %.*s", (int)reply->len, reply->str);
      drop(n, why);
    } else if (reply && n->ac == ac && !n->ready) {
      n->ready = true;
      n->backoff_ms = rc->reconnect_ms;
      rc->stats.connections++;
    }
    hs_free(op);
    return;
  }
  if (op->kind == OP_SLOTS) {
    rc->map_pending = false;
    if (reply && !rc->closing)
      load_map(rc, n, reply);
    else
      rc->map_wanted = true;
    hs_free(op);
    return;
  }
  if (!reply) {
    hs__rc_fail(op, "redis %s:%d: %s", n->host, n->port, rc->closing ? "closing" : n->why);
    return;
  }
  if (reply->type == REDIS_REPLY_ERROR && !rc->closing && !op->pin && redirect(rc, n, op, reply))
    return;
  node_t *outer = rc->replying; /* a callback may close the client: nested replies */
  rc->replying = n;
  finish(op, reply, NULL);
  rc->replying = outer;
}

/* Asks a ready node for the map, the next one each time. */
void hs__rc_request_map(hs_rc_t *rc) {
  uint64_t now = hs__rc_now_ms(rc);
  if (!rc->map_wanted || rc->map_pending || (rc->map_ms && now < rc->map_ms + MAP_MS))
    return;
  for (size_t k = 0; k < rc->n_nodes; k++) {
    size_t i = (rc->next_node + k) % rc->n_nodes;
    if (rc->nodes[i]->ready && send_internal(rc->nodes[i], OP_SLOTS) == 0) {
      rc->next_node = i + 1;
      rc->map_wanted = false;
      rc->map_pending = true;
      rc->map_ms = now;
      return;
    }
  }
  /* no node to ask: connect to the next known one not waiting for a retry,
     one at a time */
  for (size_t i = 0; i < rc->n_nodes; i++)
    if (rc->nodes[i]->ac)
      return;
  for (size_t k = 0; k < rc->n_nodes; k++) {
    size_t i = (rc->next_node + k) % rc->n_nodes;
    if (now >= rc->nodes[i]->retry_ms) {
      rc->next_node = i + 1;
      connect_now(rc->nodes[i]);
      return;
    }
  }
}

/* hiredis 0.14's libuv adapter ignores poll errors, so a connect that failed
 * is never reported: look for the error without clearing it, and let hiredis
 * handle it (its connect callback runs, the context is freed). */
static void check_connect(node_t *n) {
  struct pollfd p = {.fd = n->ac->c.fd, .events = POLLOUT};
  if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
    redisAsyncHandleWrite(n->ac);
}

void hs__rc_on_tick(uv_timer_t *t) {
  hs_rc_t *rc = t->data;
  uint64_t now = hs__rc_now_ms(rc);
  char why[64];
  if (rc->tick_ms && now - rc->tick_ms > (uint64_t)rc->timeout_ms / 2) {
    /* the loop itself stood still (the process was stopped, the machine
       paused): replies may be waiting unread, so no node is late yet; each
       gets its timeout again from now */
    for (size_t i = 0; i < rc->n_nodes; i++) {
      rc->nodes[i]->last_reply_ms = now;
      rc->nodes[i]->connect_ms = now;
    }
  }
  rc->tick_ms = now;
  /* callbacks run from here may close the client or add nodes: index, and
     look at `closing`, every time */
  for (size_t i = 0; i < rc->n_nodes && !rc->closing; i++) {
    node_t *n = rc->nodes[i];
    if (n->ac && !(n->ac->c.flags & REDIS_CONNECTED))
      check_connect(n);
    if (rc->closing)
      break;
    if (n->ac && !n->ready && now - n->connect_ms > (uint64_t)rc->timeout_ms) {
      snprintf(why, sizeof why, "%s within %d ms",
               n->ac->c.flags & REDIS_CONNECTED ? "not ready" : "cannot connect", rc->timeout_ms);
      drop(n, why);
    } else if (n->ac && n->head &&
               now - (n->head->sent_ms > n->last_reply_ms ? n->head->sent_ms : n->last_reply_ms) >
                   (uint64_t)rc->timeout_ms + n->head->allowance_ms) {
      /* late: no reply for the timeout since the oldest command was sent
         (a node answering a long pipeline one by one is not late) */
      snprintf(why, sizeof why, "no reply within %d ms", rc->timeout_ms);
      drop(n, why);
    } else if (n->ac && !n->head && !n->master && !rc->map_wanted && !rc->map_pending) {
      redisAsyncContext *ac = n->ac; /* not needed any more */
      n->ac = NULL;
      n->ready = false;
      redisAsyncFree(ac);
    } else if (n->ready && !n->head && now - n->last_reply_ms >= IDLE_PING_MS) {
      send_internal(n, OP_PING);
    } else if (!n->ac && n->master && now >= n->retry_ms) {
      connect_now(n);
    }
  }
  /* resend the parked commands that are due, one at a time */
  while (!rc->closing) {
    op_t **pp = &rc->parked;
    while (*pp && (*pp)->resend_ms > now)
      pp = &(*pp)->next;
    op_t *op = *pp;
    if (!op)
      break;
    *pp = op->next;
    dispatch(rc, op);
  }
  if (rc->closing)
    return;
  if (!hs_rc_ready(rc))
    rc->map_wanted = true;
  hs__rc_request_map(rc);
}
