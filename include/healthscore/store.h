/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store: hiredis async on a libuv loop. Keys of one account
 * share a cluster slot through a {account} hash tag (docs/state.md):
 *   PREFIX:{ACCOUNT}:state     msgpack account state
 *   PREFIX:{ACCOUNT}:score     JSON score record
 *   PREFIX:{ACCOUNT}:history   hash: UTC day (YYYY-MM-DD) -> daily score
 *   PREFIX:pos:GROUP:TOPIC:P   next offset to read from partition P
 * A commit writes a batch of accounts and the positions they cover in one
 * Lua script, atomically, so Redis never holds a position ahead of the state
 * it covers — also after a crash with AOF, which replays whole scripts. The
 * script first compares every position with the one the writer expects and
 * writes nothing if any differs (HS_STORE_FENCED): a member that lost its
 * partitions, or that talks to a Redis which lost writes, cannot overwrite
 * newer state.
 * Loop thread only. Every callback runs exactly once, unless the function
 * that takes it fails, in which case it never runs. */
#ifndef HEALTHSCORE_STORE_H
#define HEALTHSCORE_STORE_H

#include "healthscore/common.h"

#include <uv.h>

typedef struct hs_store_s hs_store_t;

typedef struct hs_store_conf_s {
  const char *host;     /* default 127.0.0.1 */
  int port;             /* default 6379 */
  const char *password; /* AUTH, or NULL */
  const char *prefix;   /* key prefix, default "hs"; must not contain '{' */
  int timeout_ms;       /* a reply later than this drops the connection; default 2000 */
  int reconnect_ms;     /* first retry delay, doubling to 5 s; default 100 */
} hs_store_conf_t;

/* One account in a commit. Everything is borrowed for the call only. */
typedef struct hs_store_write_s {
  hs_str_t account;
  const char *state;
  size_t state_len;
  const char *score_json; /* NULL: leave the score record as it is */
  size_t score_len;
  /* daily score history to set: UTC days (days since the epoch) and scores */
  const int32_t *days;
  const double *scores;
  size_t n_days;
} hs_store_write_t;

typedef struct hs_store_pos_s {
  const char *group, *topic;
  int32_t partition;
  int64_t offset; /* the next offset to read */
  int64_t expect; /* the position Redis must hold now; -1: none */
} hs_store_pos_t;

/* Status of a commit refused because a position differed from `expect`. */
#define HS_STORE_FENCED 1

/* status: 0, HS_STORE_FENCED, or a negative code with `err` saying why
 * (connection lost, timeout, Redis error). `err` is borrowed for the
 * callback. */
typedef void (*hs_store_done_cb)(void *ud, int status, const hs_err_t *err);
/* data: the stored bytes (borrowed for the callback), NULL when absent. */
typedef void (*hs_store_get_cb)(void *ud, int status, const char *data, size_t len);
/* offset: -1 when no position is stored. */
typedef void (*hs_store_pos_cb)(void *ud, int status, int64_t offset);

/* Creates a store on `loop` and starts connecting; `conf` is copied. Returns
 * 0 or a negative code with the reason in `err`. Connection failures are not
 * errors here: the store keeps retrying and hs_store_connected() tells. */
int hs_store_new(hs_store_t **out, uv_loop_t *loop, const hs_store_conf_t *conf, hs_err_t *err);
/* True once a PING got its answer on the current connection (after AUTH);
 * an idle connection is pinged every 500 ms, so a server that vanished or
 * froze is noticed within the timeout. */
bool hs_store_connected(const hs_store_t *s);
/* Commands sent and not yet answered. */
size_t hs_store_inflight(const hs_store_t *s);
/* Connections established so far: a change tells the owner that Redis may
 * have restarted (and lost writes) since it last looked. */
uint64_t hs_store_connections(const hs_store_t *s);
/* Commands and bytes sent so far. */
uint64_t hs_store_commands(const hs_store_t *s);
uint64_t hs_store_bytes(const hs_store_t *s);
/* Why the last connection attempt or connection failed, or "". */
const char *hs_store_last_error(const hs_store_t *s);

/* Reads an account's state. Returns 0, or HS_E_IO when not connected. */
int hs_store_get_state(hs_store_t *s, hs_str_t account, hs_store_get_cb cb, void *ud);
/* Reads a stored position. Returns 0, or HS_E_IO when not connected. */
int hs_store_get_position(hs_store_t *s, const char *group, const char *topic, int32_t partition,
                          hs_store_pos_cb cb, void *ud);
/* Writes `n` accounts and `n_pos` positions atomically, if every position
 * still holds its `expect`. Returns 0, or HS_E_IO when not connected,
 * HS_E_NOMEM. */
int hs_store_commit(hs_store_t *s, const hs_store_write_t *w, size_t n, const hs_store_pos_t *pos,
                    size_t n_pos, hs_store_done_cb cb, void *ud);

/* Fails what is in flight (their callbacks run with an error), closes the
 * connection and the store's handles; `closed` runs once everything is
 * released, after which the loop may be closed. */
void hs_store_close(hs_store_t *s, void (*closed)(void *ud), void *ud);

#endif
