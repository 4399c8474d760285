/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis Cluster client's nodes, operations and state, shared by its
 * files (src/store only): rcluster.c the public API, rcluster_route.c the
 * connections, the slot map and the routing of commands, rcluster_hash.c
 * script names and key slots. */
#ifndef HS_STORE_RCLUSTER_INTERNAL_H
#define HS_STORE_RCLUSTER_INTERNAL_H

#include "healthscore/rcluster.h"

#include <hiredis/async.h>

#define TICK_MS 25          /* the timer's period */
#define IDLE_PING_MS 500    /* an idle connection is checked this often */
#define MAP_MS 250          /* at most one map request this often */
#define RETRY_MS 100        /* TRYAGAIN, CLUSTERDOWN, node not reachable: resend after */
#define MAX_REDIRECTS 8     /* MOVED and ASK followed per command */
#define MAX_BACKOFF_MS 5000 /* the longest wait between connection attempts */

enum { OP_USER, OP_PING, OP_SLOTS };

typedef struct node_s node_t;

typedef struct op_s {
  struct op_s *next; /* in its node's outstanding list, or the parked list */
  hs_rc_t *rc;
  int kind;
  uint16_t slot;
  int redirects;
  node_t *ask; /* send ASKING and the command to this node, once */
  node_t *pin; /* always send to this node (hs_rc_command_node) */
  char *cmd;   /* the formatted command, owned (OP_USER) */
  size_t len;
  bool as_eval; /* an EVALSHA already resent as EVAL */
  hs_rc_reply_cb cb;
  void *ud;
  uint64_t start_ms, sent_ms, resend_ms, allowance_ms;
} op_t;

struct node_s {
  hs_rc_t *rc;
  char *host;
  int port;
  int index; /* in rc->nodes; nodes are never removed */
  redisAsyncContext *ac;
  bool ready;  /* AUTH and PING answered on ac */
  bool master; /* owns slots in the current map */
  bool was_master;
  int backoff_ms;
  uint64_t retry_ms; /* no connection attempt before this */
  uint64_t connect_ms, last_reply_ms;
  op_t *head, *tail; /* operations sent on ac, oldest first */
  char why[128];     /* why the last connection ended */
};

struct hs_rc_s {
  uv_loop_t *loop;
  char *password;
  int timeout_ms, reconnect_ms;
  node_t **nodes; /* every node seen: seeds, map entries, redirections */
  size_t n_nodes, cap_nodes, next_node;
  node_t *slots[HS_RC_SLOTS];
  bool map_loaded, standalone, map_wanted, map_pending, closing;
  uint64_t map_ms;  /* when the last map request was sent */
  uint64_t tick_ms; /* when the timer last ran */
  node_t *replying; /* the node whose reply a callback is handling */
  op_t *parked;     /* commands waiting to be resent */
  struct script_s {
    char sha[41];
    char *body;
    size_t len;
  } * scripts; /* registered with hs_rc_script */
  size_t n_scripts;
  size_t inflight;
  hs_rc_stats_t stats;
  char last_error[192];
  uv_timer_t timer;
  void (*closed)(void *ud);
  void *closed_ud;
};

/* SHA1 (FIPS 180-4) as 40 lowercase hex digits: what Redis names scripts by. */
void hs__rc_sha1_hex(const void *data, size_t len, char out[41]);

/* Monotonic milliseconds, read now. */
uint64_t hs__rc_now_ms(const hs_rc_t *rc);

/* The node at host:port, added when new; NULL when out of memory. */
node_t *hs__rc_node_at(hs_rc_t *rc, const char *host, size_t host_len, int port);

/* Splits "host:port" (an IPv6 host in brackets). Returns 0 or -1. */
int hs__rc_parse_addr(const char *s, size_t len, const char **host, size_t *host_len, int *port);

/* Ends `op` with an error whose reason is formatted from `fmt`. */
void hs__rc_fail(op_t *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queues `op` on the connection of `n`. Returns 0 or -1. */
int hs__rc_send_op(node_t *n, op_t *op);

/* Asks a node for the slot map (at most once per MAP_MS). */
void hs__rc_request_map(hs_rc_t *rc);

/* The client's timer: late connections, pings, reconnections, parked
 * commands and map requests. */
void hs__rc_on_tick(uv_timer_t *t);

#endif
