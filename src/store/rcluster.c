/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis Cluster client's public API (rcluster.h): creation, commands,
 * statistics and close. The routing is in rcluster_route.c. */
#include "rcluster_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frees the client's memory (nothing may be open on the loop). */
static void free_parts(hs_rc_t *rc) {
  for (size_t i = 0; i < rc->n_nodes; i++) {
    hs_free(rc->nodes[i]->host);
    hs_free(rc->nodes[i]);
  }
  hs_free(rc->nodes);
  for (size_t i = 0; i < rc->n_scripts; i++)
    hs_free(rc->scripts[i].body);
  hs_free(rc->scripts);
  hs_free(rc->password);
  hs_free(rc);
}

int hs_rc_new(hs_rc_t **out, uv_loop_t *loop, const hs_rc_conf_t *conf, hs_err_t *err) {
  *out = NULL;
  hs_rc_t *rc = hs_calloc(1, sizeof *rc);
  if (!rc)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  rc->loop = loop;
  rc->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
  rc->reconnect_ms = conf->reconnect_ms > 0 ? conf->reconnect_ms : 100;
  int status = 0;
  if (conf->password && !(rc->password = hs_strdup(conf->password)))
    status = hs_err_set(err, HS_E_NOMEM, "out of memory");
  const char *s = conf->seeds ? conf->seeds : "";
  while (!status && *s) {
    size_t len = strcspn(s, ", \t");
    const char *host;
    size_t host_len;
    int port;
    if (len && (hs__rc_parse_addr(s, len, &host, &host_len, &port) || !host_len))
      status = hs_err_set(err, HS_E_INVAL, "redis cluster: bad seed \"%.*s\"", (int)len, s);
    else if (len && !hs__rc_node_at(rc, host, host_len, port))
      status = hs_err_set(err, HS_E_NOMEM, "out of memory");
    s += len + (s[len] != 0);
  }
  if (!status && rc->n_nodes == 0)
    status = hs_err_set(err, HS_E_INVAL, "redis cluster: no seed node");
  if (!status && conf->n_scripts &&
      !(rc->scripts = hs_calloc(conf->n_scripts, sizeof *rc->scripts)))
    status = hs_err_set(err, HS_E_NOMEM, "out of memory");
  for (size_t i = 0; !status && i < conf->n_scripts; i++) {
    struct script_s *sc = &rc->scripts[rc->n_scripts];
    sc->len = strlen(conf->scripts[i]);
    if (!(sc->body = hs_strdup(conf->scripts[i]))) {
      status = hs_err_set(err, HS_E_NOMEM, "out of memory");
    } else {
      hs__rc_sha1_hex(sc->body, sc->len, sc->sha);
      rc->n_scripts++;
    }
  }
  if (status) {
    free_parts(rc);
    return status;
  }
  rc->map_wanted = true;
  uv_timer_init(loop, &rc->timer);
  rc->timer.data = rc;
  uv_timer_start(&rc->timer, hs__rc_on_tick, TICK_MS, TICK_MS);
  hs__rc_request_map(rc); /* starts connecting now */
  *out = rc;
  return 0;
}

bool hs_rc_ready(const hs_rc_t *rc) {
  size_t masters = 0;
  for (size_t i = 0; i < rc->n_nodes; i++) {
    if (rc->nodes[i]->master && !rc->nodes[i]->ready)
      return false;
    masters += rc->nodes[i]->master;
  }
  return rc->map_loaded && !rc->closing && masters > 0;
}

size_t hs_rc_inflight(const hs_rc_t *rc) {
  return rc->inflight;
}

uint64_t hs_rc_connections(const hs_rc_t *rc) {
  return rc->stats.connections;
}

const char *hs_rc_last_error(const hs_rc_t *rc) {
  return rc->last_error;
}

void hs_rc_stats(const hs_rc_t *rc, hs_rc_stats_t *out) {
  *out = rc->stats;
  out->standalone = rc->standalone;
  out->masters = 0;
  for (size_t i = 0; i < rc->n_nodes; i++)
    out->masters += rc->nodes[i]->master;
}

/* Takes `cmd` (hs_malloc'd) in all cases. `pin`: send to that node only. */
static int submit(hs_rc_t *rc, uint16_t slot, node_t *pin, char *cmd, size_t len, hs_rc_reply_cb cb,
                  void *ud) {
  node_t *n = rc->closing || slot >= HS_RC_SLOTS ? NULL : pin ? pin : rc->slots[slot];
  op_t *op = n && n->ready ? hs_calloc(1, sizeof *op) : NULL;
  if (!op) {
    hs_free(cmd);
    return slot >= HS_RC_SLOTS ? HS_E_INVAL : n && n->ready ? HS_E_NOMEM : HS_E_IO;
  }
  op->rc = rc;
  op->kind = OP_USER;
  op->slot = slot;
  op->pin = pin;
  op->cmd = cmd;
  op->len = len;
  op->cb = cb;
  op->ud = ud;
  op->start_ms = hs__rc_now_ms(rc);
  op->allowance_ms = len / 10000; /* a big command takes Redis a while: 1 ms per 10 KB */
  if (hs__rc_send_op(n, op)) {
    hs_free(cmd);
    hs_free(op);
    return HS_E_IO;
  }
  rc->inflight++;
  return 0;
}

const char *hs_rc_script_sha(const hs_rc_t *rc, size_t i) {
  return i < rc->n_scripts ? rc->scripts[i].sha : "";
}

int hs_rc_command(hs_rc_t *rc, uint16_t slot, const char *cmd, size_t len, hs_rc_reply_cb cb,
                  void *ud) {
  if (!len || slot >= HS_RC_SLOTS)
    return HS_E_INVAL;
  char *copy = hs_malloc(len);
  if (!copy)
    return HS_E_NOMEM;
  memcpy(copy, cmd, len);
  return submit(rc, slot, NULL, copy, len, cb, ud);
}

int hs_rc_command_take(hs_rc_t *rc, uint16_t slot, char *cmd, size_t len, hs_rc_reply_cb cb,
                       void *ud) {
  if (!len || slot >= HS_RC_SLOTS) {
    hs_free(cmd);
    return HS_E_INVAL;
  }
  return submit(rc, slot, NULL, cmd, len, cb, ud);
}

int hs_rc_command_node(hs_rc_t *rc, int node, const char *cmd, size_t len, hs_rc_reply_cb cb,
                       void *ud) {
  if (!len || node < 0 || (size_t)node >= rc->n_nodes)
    return HS_E_INVAL;
  char *copy = hs_malloc(len);
  if (!copy)
    return HS_E_NOMEM;
  memcpy(copy, cmd, len);
  return submit(rc, 0, rc->nodes[node], copy, len, cb, ud);
}

int hs_rc_reply_node(const hs_rc_t *rc) {
  return rc->replying ? rc->replying->index : -1;
}

const char *hs_rc_node_name(const hs_rc_t *rc, int node, char *buf, size_t n) {
  if (node < 0 || (size_t)node >= rc->n_nodes)
    snprintf(buf, n, "?");
  else
    snprintf(buf, n, "%s:%d", rc->nodes[node]->host, rc->nodes[node]->port);
  return buf;
}

int hs_rc_command_argv(hs_rc_t *rc, uint16_t slot, int argc, const char **argv,
                       const size_t *argvlen, hs_rc_reply_cb cb, void *ud) {
  if (argc <= 0 || slot >= HS_RC_SLOTS)
    return HS_E_INVAL;
  hs_buf_t b;
  hs_buf_init(&b);
  int status = hs_buf_printf(&b, "*%d\r\n", argc);
  for (int i = 0; i < argc && !status; i++)
    status = hs_buf_printf(&b, "$%zu\r\n", argvlen[i]) || hs_buf_append(&b, argv[i], argvlen[i]) ||
             hs_buf_append(&b, "\r\n", 2);
  if (status) {
    hs_buf_free(&b);
    return HS_E_NOMEM;
  }
  return submit(rc, slot, NULL, b.data, b.len, cb, ud);
}

static void on_timer_closed(uv_handle_t *h) {
  hs_rc_t *rc = h->data;
  void (*closed)(void *) = rc->closed;
  void *ud = rc->closed_ud;
  free_parts(rc);
  if (closed)
    closed(ud);
}

void hs_rc_close(hs_rc_t *rc, void (*closed)(void *ud), void *ud) {
  rc->closing = true;
  rc->closed = closed;
  rc->closed_ud = ud;
  while (rc->parked) {
    op_t *op = rc->parked;
    rc->parked = op->next;
    hs__rc_fail(op, "redis cluster: closing");
  }
  for (size_t i = 0; i < rc->n_nodes; i++) {
    node_t *n = rc->nodes[i];
    if (n->ac) {
      redisAsyncContext *ac = n->ac;
      n->ac = NULL;
      n->ready = false;
      redisAsyncFree(ac); /* pending callbacks run with a NULL reply */
    }
  }
  uv_timer_stop(&rc->timer);
  uv_close((uv_handle_t *)&rc->timer, on_timer_closed);
}
