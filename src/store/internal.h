/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What the store's files share (src/store only): the store itself, the
 * key layout and the RESP commands it builds. */
#ifndef HS_STORE_INTERNAL_H
#define HS_STORE_INTERNAL_H

#include "healthscore/store.h"

#include "healthscore/rcluster.h"

struct hs_store_s {
  uv_loop_t *loop;
  hs_rc_t *rc;
  char *prefix;
  char **topics;
  size_t n_topics;
  int timeout_ms, wait_replicas;
  bool closing;
  size_t inflight;
  uint64_t refused, fenced, wait_short;
  int64_t *offsets; /* n_topics, handed to callbacks */
  hs_buf_t key, cmd;
  void (*closed)(void *ud);
  void *closed_ud;
};
/* The key of an account's `suffix` ("state", "cover", ...) in s->key;
 * the key of partition group `partition`'s positions. */
int hs__account_key(hs_store_t *s, hs_str_t account, const char *suffix);
int hs__pos_key(hs_store_t *s, const char *group, int32_t partition);

/* The slot of the key in s->key. */
uint16_t hs__key_slot(const hs_store_t *s);

/* Appends one RESP bulk string, an array header, a string, an integer. */
int hs__resp_arg(hs_buf_t *b, const void *p, size_t n);
int hs__resp_array(hs_buf_t *b, size_t n);
int hs__resp_str(hs_buf_t *b, const char *s);
int hs__resp_int(hs_buf_t *b, long long v);

/* What snprintf("%.1f", round(v * 10) / 10) writes to out, without
 * printf's cost: returns its length. Room for any double (DBL_MAX has 309
 * digits), so that the length is always that of what was written. */
#define HS_TENTHS_MAX 320
int hs__format_tenths(double v, char out[HS_TENTHS_MAX]);

/* A cover ("PARTITION TOPIC=NEXT_OFFSET ...") of the store's topics: written
 * from `cover`, parsed into s->offsets (returns the partition, or -1). */
int hs__format_cover(hs_store_t *s, hs_buf_t *b, int32_t partition, const int64_t *cover);
int32_t hs__parse_cover(hs_store_t *s, const char *p, size_t len);

/* 0, or HS_E_IO in `e` when there is no reply (the reason in `err`) or
 * the reply is an error. */
int hs__reply_error(hs_err_t *e, const redisReply *r, const hs_err_t *err);

/* The scripts of a commit (commit.c), loaded on every node. */
extern const char hs__account_script[];
extern const char hs__positions_script[];

#endif
