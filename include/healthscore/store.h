/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store, on the Redis Cluster client (rcluster.h): a Redis
 * Cluster, or a standalone server used as one node that owns every slot.
 * Keys of one account share a cluster slot through a hash tag that holds
 * the account id, or its encoding when the id could empty or end the tag
 * (hs_store_account_key, docs/state.md):
 *   PREFIX:{ACCOUNT}:state     msgpack account state
 *   PREFIX:{ACCOUNT}:cover     the input positions the state covers:
 *                              "PARTITION TOPIC=NEXT_OFFSET ..."
 *   PREFIX:{ACCOUNT}:score     JSON score record
 *   PREFIX:{ACCOUNT}:history   hash: UTC day (YYYY-MM-DD) -> daily score
 *   PREFIX:pos:GROUP:P         hash: TOPIC -> next offset to read from
 *                              partition P of TOPIC (a partition group)
 * A Lua script may only touch keys of one slot, so a commit runs in steps:
 *   1. each account is written by its own script (state, cover, score,
 *      history), which refuses the write when the stored cover is ahead of
 *      the new one in any topic (HS_STORE_REFUSED): a stored state never
 *      goes back to an older prefix of the input;
 *   2. with wait_replicas > 0, WAIT on every master that took a write, so
 *      that a failover cannot lose a write that a position covers;
 *   3. each partition group's positions by one script that first compares
 *      them with the ones the writer expects and writes nothing if any
 *      differs (HS_STORE_FENCED).
 * Positions are written only once every account write of the commit was
 * acknowledged, so Redis never holds a position ahead of the states it
 * covers; account states may be ahead of the positions, and their cover
 * tells the reader which input they hold already.
 * Loop thread only. Every callback runs exactly once, unless the function
 * that takes it fails, in which case it never runs. */
#ifndef HEALTHSCORE_STORE_H
#define HEALTHSCORE_STORE_H

#include "healthscore/base.h"

#include <uv.h>

typedef struct hs_store_s hs_store_t;

typedef struct hs_store_conf_s {
  /* "host:port,..." seeds of a Redis Cluster, or one standalone server;
   * NULL or "": host and port */
  const char *nodes;
  const char *host;     /* default 127.0.0.1 */
  int port;             /* default 6379 */
  const char *password; /* AUTH, or NULL */
  const char *prefix;   /* key prefix, default "hs"; must not contain braces */
  int timeout_ms;       /* a reply later than this drops the connection; default 2000 */
  int reconnect_ms;     /* first retry delay, doubling to 5 s; default 100 */
  int wait_replicas;    /* WAIT for this many replicas before positions move; 0: none */
  /* the input topics: covers and positions hold one offset per topic, in
   * this order (names without spaces or '=') */
  const char *const *topics;
  size_t n_topics;
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
  /* what the state covers: the next offset of each input topic's partition
   * `partition` (n_topics offsets); NULL: nothing */
  int32_t partition;
  const int64_t *cover;
} hs_store_write_t;

/* The positions of one partition group: n_topics offsets each. */
typedef struct hs_store_pos_s {
  const char *group;
  int32_t partition;
  const int64_t *offset; /* the next offset to read, per topic */
  const int64_t *expect; /* the position Redis must hold now, per topic; -1: none */
} hs_store_pos_t;

/* Statuses of a commit that wrote nothing more than it could: */
#define HS_STORE_FENCED 1  /* a position differed from `expect` */
#define HS_STORE_REFUSED 2 /* an account's stored cover is ahead of the write's */

typedef struct hs_store_stats_s {
  uint64_t commands, bytes; /* commands (resends included) and their bytes */
  uint64_t moved, asked;    /* MOVED and ASK redirections followed */
  uint64_t retries;         /* resends after TRYAGAIN or CLUSTERDOWN */
  uint64_t noscript;        /* scripts sent whole: the server did not have them cached */
  uint64_t refused;         /* account writes refused: the stored cover was ahead */
  uint64_t fenced;          /* partition groups whose positions were not as expected */
  uint64_t wait_short;      /* WAITs answered by fewer than wait_replicas replicas */
  size_t masters;           /* masters in the current slot map */
  bool standalone;          /* the server has cluster support disabled */
} hs_store_stats_t;

/* status: 0, HS_STORE_FENCED, HS_STORE_REFUSED, or a negative code with
 * `err` saying why (connection lost, timeout, Redis error, WAIT short of
 * replicas). `err` is borrowed for the callback. */
typedef void (*hs_store_done_cb)(void *ud, int status, const hs_err_t *err);
/* data: the stored state (borrowed for the callback), NULL when absent.
 * cover: what it covers (n_topics offsets, 0 for a topic it does not name)
 * in partition `partition`; NULL (and partition -1) when nothing is known.
 * On failure (status < 0) `err` says why; it is borrowed, NULL on success. */
typedef void (*hs_store_get_cb)(void *ud, int status, const hs_err_t *err, const char *data,
                                size_t len, int32_t partition, const int64_t *cover);
/* offsets: n_topics positions, -1 where none is stored; borrowed. */
typedef void (*hs_store_pos_cb)(void *ud, int status, const int64_t *offsets);

/* Appends the Redis key of an account's `suffix` ("state", "cover", "score",
 * "history") under `prefix` to `out`. An id of one byte or more without '{'
 * or '}' gives "PREFIX:{ID}:SUFFIX", the key every earlier version used. Any
 * other id gives "PREFIX:%{ENC}:SUFFIX", ENC being the id with '%', '{' and
 * '}' written %25, %7B and %7D (the empty id: "%"): so every id has a hash
 * tag of its own that is never empty and never ends early, all its keys
 * share one Redis Cluster slot, and no two ids share a key. Returns 0 or
 * HS_E_NOMEM. */
int hs_store_account_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix);
/* The key earlier versions used for any id: "PREFIX:{ID}:SUFFIX" (whose hash
 * tag is empty, or cut short, when the id holds '}'). */
int hs_store_legacy_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix);
/* True when the account's keys are not the ones earlier versions used. */
bool hs_store_key_encoded(hs_str_t account);

/* Creates a store on `loop` and starts connecting; `conf` is copied. Returns
 * 0 or a negative code with the reason in `err` (a malformed node address,
 * a prefix with braces, a topic name with a space or '='). Connection
 * failures are not errors here: the store keeps retrying and
 * hs_store_connected() tells. `loop` is borrowed (it must outlive the
 * store). On success *out is the caller's, ended with hs_store_close; on
 * failure *out is NULL and nothing is left open or to free. */
int hs_store_new(hs_store_t **out, uv_loop_t *loop, const hs_store_conf_t *conf, hs_err_t *err);
/* True when the slot map is known and every master in it answered a PING
 * on its current connection (after AUTH). */
bool hs_store_connected(const hs_store_t *s);
/* Operations taken and not yet completed. */
size_t hs_store_inflight(const hs_store_t *s);
/* Changes whenever a connection to a node is established or a node becomes
 * a master (a restart, a failover): the owner must assume that Redis may
 * have lost writes since it last looked. */
uint64_t hs_store_connections(const hs_store_t *s);
/* Commands and bytes sent so far. */
uint64_t hs_store_commands(const hs_store_t *s);
uint64_t hs_store_bytes(const hs_store_t *s);
void hs_store_stats(const hs_store_t *s, hs_store_stats_t *out);
/* Why the last connection attempt or connection failed, or "". */
const char *hs_store_last_error(const hs_store_t *s);

/* Reads an account's state and cover, atomically. For an id whose keys
 * changed (hs_store_key_encoded) and that has none yet, the keys an earlier
 * version wrote are read, and copied to the new ones (state, cover, score
 * record, history; the old keys stay). Returns 0, or HS_E_IO when not
 * connected. */
int hs_store_get_state(hs_store_t *s, hs_str_t account, hs_store_get_cb cb, void *ud);
/* Reads the stored positions of a partition group. Returns 0, or HS_E_IO
 * when not connected. */
int hs_store_get_positions(hs_store_t *s, const char *group, int32_t partition, hs_store_pos_cb cb,
                           void *ud);
/* Writes `n` accounts, then (WAIT, then) the positions of `n_pos` partition
 * groups, as described above. The callback runs once everything answered;
 * a refused account write stops the commit before any position is written.
 * Returns 0, or HS_E_IO when not connected, HS_E_NOMEM. */
int hs_store_commit(hs_store_t *s, const hs_store_write_t *w, size_t n, const hs_store_pos_t *pos,
                    size_t n_pos, hs_store_done_cb cb, void *ud);

/* Fails what is in flight (their callbacks run with an error), closes the
 * connections and the store's handles; `closed` runs once everything is
 * released, after which the loop may be closed. */
void hs_store_close(hs_store_t *s, void (*closed)(void *ud), void *ud);

#endif
