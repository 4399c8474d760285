/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A Redis Cluster client on hiredis async and libuv: commands are routed by
 * hash slot to the master that owns it, over one pipelined connection per
 * master. The slot map comes from CLUSTER SLOTS, asked of any reachable node
 * (the seeds, then every node seen since); a server with cluster support
 * disabled is used as one node that owns every slot, so the same code serves
 * a standalone Redis.
 *
 * Redirections are followed without the caller seeing them: MOVED updates
 * the slot, asks for a new map and resends to the new owner; ASK sends ASKING
 * and the command to the node named, once, leaving the map alone; TRYAGAIN
 * and CLUSTERDOWN resend after 100 ms while the command's time (timeout_ms
 * since it was taken) lasts. A redirected command may overtake commands sent
 * after it; commands to one node that are not redirected keep their order.
 *
 * A connection counts once AUTH (when a password is set) and a PING were
 * answered on it. An idle connection is pinged every 500 ms; a connection
 * that is not ready within timeout_ms, or whose oldest command has waited
 * longer than that for its reply while no other reply came (a long pipeline
 * answered one by one is not late; a big command gets 1 ms more per 10 KB),
 * is dropped: the commands waiting on it fail (the caller decides whether
 * to retry; a write may or may not have been applied), the node is retried
 * with backoff, and a new map is asked for. When the loop itself stood
 * still for half the timeout (the process was stopped), every node gets its
 * timeout again, since its replies may be waiting unread. Maps are asked
 * for at most every 250 ms, and continually while some master has no
 * connection: that is how the replica promoted after a failover is found.
 *
 * Loop thread only. Every callback runs exactly once, unless the function
 * that takes it fails, in which case it never runs. */
#ifndef HEALTHSCORE_RCLUSTER_H
#define HEALTHSCORE_RCLUSTER_H

#include "healthscore/base.h"

#include <hiredis/hiredis.h>
#include <uv.h>

#define HS_RC_SLOTS 16384

typedef struct hs_rc_s hs_rc_t;

typedef struct hs_rc_conf_s {
  /* "host:port" of one or more nodes, separated by commas or spaces; the
   * port defaults to 6379; an IPv6 address goes in brackets: "[::1]:7000" */
  const char *seeds;
  const char *password; /* AUTH, or NULL */
  int timeout_ms;       /* a reply later than this drops the connection; default 2000 */
  int reconnect_ms;     /* first retry delay, doubling to 5 s; default 100 */
  /* Lua scripts to send by SHA1 (hs_rc_script_sha), NUL-terminated */
  const char *const *scripts;
  size_t n_scripts;
} hs_rc_conf_t;

typedef struct hs_rc_stats_s {
  uint64_t connections; /* connections established (AUTH and PING answered) */
  uint64_t commands;    /* commands sent, resends included */
  uint64_t bytes;       /* bytes of those commands */
  uint64_t moved;       /* MOVED replies followed */
  uint64_t asked;       /* ASK replies followed */
  uint64_t retries;     /* resends after TRYAGAIN or CLUSTERDOWN */
  uint64_t noscript;    /* EVALSHA resent as EVAL: the node did not have the script */
  uint64_t maps;        /* slot maps loaded */
  uint64_t promotions;  /* nodes that became masters (those of the first map included): a
                           replica promoted by a failover, a node given its first slots */
  size_t masters;       /* nodes owning slots in the current map */
  bool standalone;      /* the map came from a server without cluster support */
} hs_rc_stats_t;

/* The final reply to a command, borrowed for the callback: it may be an
 * error reply (WRONGTYPE, NOSCRIPT, a TRYAGAIN that outlasted the timeout,
 * ...). NULL when none came, with `err` saying why (connection lost or
 * dropped, no connection to the slot's node, closing); `err` is NULL when
 * there is a reply, else borrowed for the callback. */
typedef void (*hs_rc_reply_cb)(void *ud, redisReply *reply, const hs_err_t *err);

/* The hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag (the
 * bytes between the first '{' and the first '}' after it, when not empty),
 * modulo 16384. */
uint16_t hs_rc_slot(const char *key, size_t len);

/* Creates a client on `loop` and starts discovering the cluster; `conf` is
 * copied. Returns 0 or a negative code with the reason in `err` (no seed, a
 * malformed one, out of memory). Unreachable nodes are not errors: the
 * client keeps trying and hs_rc_ready() tells. `loop` is borrowed (it must
 * outlive the client). On success *out is the caller's, ended with
 * hs_rc_close; on failure *out is NULL and nothing is left open or to
 * free. */
int hs_rc_new(hs_rc_t **out, uv_loop_t *loop, const hs_rc_conf_t *conf, hs_err_t *err);

/* True when a slot map with at least one master is loaded and every master
 * in it has a ready connection. */
bool hs_rc_ready(const hs_rc_t *rc);
/* Commands taken and not yet completed (waiting for a reply or a resend). */
size_t hs_rc_inflight(const hs_rc_t *rc);
/* Connections established so far: a change tells the owner that a node may
 * have restarted, or another taken over, since it last looked. */
uint64_t hs_rc_connections(const hs_rc_t *rc);
/* Why the last connection attempt, connection or map request failed, or "". */
const char *hs_rc_last_error(const hs_rc_t *rc);
void hs_rc_stats(const hs_rc_t *rc, hs_rc_stats_t *out);

/* The SHA1 of conf->scripts[i] (40 lowercase hex digits), so that commands
 * can send `EVALSHA SHA ...` instead of the script: when a node answers
 * NOSCRIPT (its script cache was flushed, or it is a promoted replica), the
 * command is sent again to it as `EVAL SCRIPT ...`, which also loads the
 * script there. */
const char *hs_rc_script_sha(const hs_rc_t *rc, size_t i);

/* Sends a command in RESP (as hiredis' redisFormatCommand makes it; `cmd` is
 * copied, the copy is kept for resends) to the master owning `slot`.
 * Returns 0, HS_E_INVAL (slot out of range, empty command), HS_E_IO (that
 * master has no ready connection, the map has no owner for the slot, or the
 * client is closing) or HS_E_NOMEM; the callback runs only after 0. */
int hs_rc_command(hs_rc_t *rc, uint16_t slot, const char *cmd, size_t len, hs_rc_reply_cb cb,
                  void *ud);
/* hs_rc_command taking `cmd` (hs_malloc'd) instead of copying it: the
 * client frees it, whatever the outcome. */
int hs_rc_command_take(hs_rc_t *rc, uint16_t slot, char *cmd, size_t len, hs_rc_reply_cb cb,
                       void *ud);
/* The same for a command given as `argc` arguments of `argvlen` bytes. */
int hs_rc_command_argv(hs_rc_t *rc, uint16_t slot, int argc, const char **argv,
                       const size_t *argvlen, hs_rc_reply_cb cb, void *ud);

/* Sends a command to node `node` (as hs_rc_reply_node() named it) and to no
 * other: no redirection is followed, a lost connection fails it, it is never
 * resent (WAIT must run on the connection that made the writes). Returns 0,
 * HS_E_INVAL, HS_E_IO (that node has no ready connection) or HS_E_NOMEM. */
int hs_rc_command_node(hs_rc_t *rc, int node, const char *cmd, size_t len, hs_rc_reply_cb cb,
                       void *ud);
/* In a reply callback: the node that sent the reply (an index, stable for
 * the client's life); -1 elsewhere, or when there is no reply. */
int hs_rc_reply_node(const hs_rc_t *rc);
/* "host:port" of a node, into `buf`. */
const char *hs_rc_node_name(const hs_rc_t *rc, int node, char *buf, size_t n);

/* Fails what is in flight (callbacks run with an error, some before this
 * returns), closes every connection and the client's timer; `closed` runs
 * once everything is released, after which the loop may be closed. Call it
 * once; the client is freed before `closed` runs. */
void hs_rc_close(hs_rc_t *rc, void (*closed)(void *ud), void *ud);

#endif
