/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A commit is a small state machine: one script per account (phase
 * ACCOUNTS), then WAIT on the nodes that took those writes (phase WAIT,
 * when asked for), then one script per partition group's positions (phase
 * POSITIONS). Each phase starts once every reply of the one before came
 * back. */
#include "internal.h"

#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PH_ACCOUNTS, PH_WAIT, PH_POSITIONS };

typedef struct commit_s {
  hs_store_t *s;
  hs_store_done_cb cb;
  void *ud;
  int phase;
  size_t pending; /* replies still expected in this phase */
  int status;     /* the first failure */
  hs_err_t err;
  uint64_t connections; /* hs_store_connections() when the commit started */
  int *nodes;           /* the nodes that took account writes */
  size_t n_nodes, cap_nodes;
  hs_buf_t pos;    /* the positions' commands, formatted when the commit was taken */
  size_t *pos_off; /* n_pos + 1 offsets into `pos` */
  uint16_t *slots; /* the slot of each */
  size_t n_pos;
} commit_t;

/* An account's write. KEYS: cover, state, then the score record and the
 * history when written. ARGV[1]: the new cover; then the writes, in the
 * order of the keys after the cover: "s" VALUE (SET) or "h" N FIELD VALUE
 * ... (HSET of N pairs). Refused ({cover key, stored cover}) when the
 * stored cover, of the same partition, is ahead in any topic. */
const char hs__account_script[] =
    "local c = redis.call('GET', KEYS[1])\n"
    "if c and c:match('^%d+') == ARGV[1]:match('^%d+') then\n"
    "  local n = {}\n"
    "  for t, o in ARGV[1]:gmatch('(%S+)=(%d+)') do n[t] = tonumber(o) end\n"
    "  for t, o in c:gmatch('(%S+)=(%d+)') do\n"
    "    if n[t] and tonumber(o) > n[t] then return {KEYS[1], c} end\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "local a, k = 2, 2\n"
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

/* A partition group's positions. KEYS[1]: the hash; ARGV: (topic, expected
 * or "", new) triples. Refused ({"KEY TOPIC", stored}) when one differs. */
const char hs__positions_script[] =
    "for i = 1, #ARGV, 3 do\n"
    "  local c = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  if (c or '') ~= ARGV[i + 1] then return {KEYS[1] .. ' ' .. ARGV[i], c or ''} end\n"
    "end\n"
    "for i = 1, #ARGV, 3 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end\n"
    "return 'OK'\n";

static void commit_free(commit_t *c) {
  hs_buf_free(&c->pos);
  hs_free(c->pos_off);
  hs_free(c->slots);
  hs_free(c->nodes);
  hs_free(c);
}

static void commit_fail(commit_t *c, int status, const hs_err_t *err) {
  if (c->status)
    return; /* the first failure is the one reported */
  c->status = status;
  c->err = *err;
}

static void commit_step(commit_t *c);

static void commit_reply_done(commit_t *c) {
  /* one reply per command sent: an extra one would end the phase early and
     could write positions before the states they cover are acknowledged */
  HS_INVARIANT(c->pending > 0);
  if (--c->pending == 0)
    commit_step(c);
}

/* The reply of a conditional write script: OK, or {KEY, VALUE} when the
 * value Redis holds refused the write (status `refused`, counted in
 * *refusals, `why` says what it means). */
static int script_reply(hs_err_t *e, const redisReply *r, const hs_err_t *err, int refused,
                        uint64_t *refusals, const char *why, const char *what) {
  int status = hs__reply_error(e, r, err);
  if (!status && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
    (*refusals)++;
    hs_err_set(e, HS_E_IO, "redis: %.*s holds \"%.*s\", %s", (int)r->element[0]->len,
               r->element[0]->str, (int)r->element[1]->len, r->element[1]->str, why);
    return refused;
  }
  if (!status && r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING)
    return hs_err_set(e, HS_E_IO, "redis: unexpected reply to %s", what);
  return status;
}

static void on_account(void *ud, redisReply *r, const hs_err_t *err) {
  commit_t *c = ud;
  hs_store_t *s = c->s;
  hs_err_t e = {0};
  int status = script_reply(&e, r, err, HS_STORE_REFUSED, &s->refused,
                            "ahead of this write: the state stored covers more of the input",
                            "an account write");
  if (status) {
    commit_fail(c, status, &e);
  } else if (s->wait_replicas > 0) {
    int node = hs_rc_reply_node(s->rc);
    bool seen = false;
    for (size_t i = 0; i < c->n_nodes; i++)
      seen |= c->nodes[i] == node;
    int *nodes =
        seen ? c->nodes : hs_array_grow(c->nodes, &c->cap_nodes, c->n_nodes, sizeof *nodes, 4);
    if (!nodes) {
      hs_err_set(&e, HS_E_NOMEM, "out of memory");
      commit_fail(c, HS_E_NOMEM, &e);
    } else if (!seen) {
      c->nodes = nodes;
      c->nodes[c->n_nodes++] = node;
    }
  }
  commit_reply_done(c);
}

static void on_wait(void *ud, redisReply *r, const hs_err_t *err) {
  commit_t *c = ud;
  hs_store_t *s = c->s;
  hs_err_t e = {0};
  int status = hs__reply_error(&e, r, err);
  if (!status && (r->type != REDIS_REPLY_INTEGER || r->integer < s->wait_replicas)) {
    char name[96];
    s->wait_short++;
    status = hs_err_set(
        &e, HS_E_IO, "redis %s: WAIT: %lld of %d replicas acknowledged the writes within %d ms",
        hs_rc_node_name(s->rc, hs_rc_reply_node(s->rc), name, sizeof name),
        r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, s->wait_replicas, s->timeout_ms / 2);
  }
  if (status)
    commit_fail(c, status, &e);
  commit_reply_done(c);
}

static void on_position(void *ud, redisReply *r, const hs_err_t *err) {
  commit_t *c = ud;
  hs_store_t *s = c->s;
  hs_err_t e = {0};
  int status = script_reply(&e, r, err, HS_STORE_FENCED, &s->fenced,
                            "not the position this writer expected", "a position write");
  if (status)
    commit_fail(c, status, &e);
  commit_reply_done(c);
}

/* Starts the next phase once the current one is over; completes the commit
 * when there is nothing more to do. */
static void commit_step(commit_t *c) {
  hs_store_t *s = c->s;
  hs_err_t e = {0};
  while (c->pending == 0) {
    if (!c->status && c->connections != hs_store_connections(s)) {
      /* WAIT on a new connection knows nothing of the writes made on the
         old one, and a new master may not have them */
      hs_err_set(&e, HS_E_IO, "redis: a connection was re-established during the commit");
      commit_fail(c, HS_E_IO, &e);
    }
    if (c->status || c->phase == PH_POSITIONS)
      break;
    c->phase++;
    c->pending = 1; /* the phase cannot end while it is being started */
    if (c->phase == PH_WAIT) {
      hs_buf_t b;
      hs_buf_init(&b);
      int rc = hs_buf_printf(&b, "*3\r\n$4\r\nWAIT\r\n") || hs__resp_int(&b, s->wait_replicas) ||
               hs__resp_int(&b, s->timeout_ms / 2);
      for (size_t i = 0; i < c->n_nodes && !rc; i++) {
        rc = hs_rc_command_node(s->rc, c->nodes[i], b.data, b.len, on_wait, c);
        c->pending += rc == 0;
      }
      hs_buf_free(&b);
      if (rc) {
        hs_err_set(&e, rc, "redis: cannot send WAIT (%d)", rc);
        commit_fail(c, rc, &e);
      }
    } else {
      /* positions only once every account write (and WAIT) succeeded */
      HS_INVARIANT(c->phase == PH_POSITIONS && !c->status);
      int rc = 0;
      for (size_t i = 0; i < c->n_pos && !rc; i++) {
        rc = hs_rc_command(s->rc, c->slots[i], c->pos.data + c->pos_off[i],
                           c->pos_off[i + 1] - c->pos_off[i], on_position, c);
        c->pending += rc == 0;
      }
      if (rc) {
        hs_err_set(&e, rc, "redis: cannot send the positions (%d)", rc);
        commit_fail(c, rc, &e);
      }
    }
    c->pending--;
  }
  if (c->pending)
    return;
  s->inflight--;
  c->cb(c->ud, c->status, &c->err);
  commit_free(c);
}

/* Formats one account's script into a new s->cmd, allocated once at (a
 * little over) its size, for the Redis client to take. */
static int format_account(hs_store_t *s, const hs_store_write_t *w, uint16_t *slot) {
  hs_buf_t *c = &s->cmd;
  size_t n_keys = 2 + (w->score_json != NULL) + (w->n_days > 0);
  size_t n_args =
      3 + n_keys + 1 + 2 + 2 * (w->score_json != NULL) + (w->n_days ? 2 + 2 * w->n_days : 0);
  /* the values, then per argument a header ("$N\r\n", "\r\n") of at most
     26 bytes; the keys, the cover, the history's days and scores */
  size_t size = w->state_len + w->score_len + n_args * 26 +
                n_keys * (strlen(s->prefix) + w->account.len + 16) + 128 + 48 * w->n_days;
  for (size_t t = 0; t < s->n_topics; t++)
    size += strlen(s->topics[t]) + 22;
  hs_buf_free(c);
  if (!(c->data = hs_malloc(size + 1)))
    return HS_E_NOMEM;
  c->cap = size + 1;
  int rc = hs__resp_array(c, n_args) || hs__resp_arg(c, "EVALSHA", 7) ||
           hs__resp_arg(c, hs_rc_script_sha(s->rc, 0), 40) || hs__resp_int(c, (long long)n_keys) ||
           hs__account_key(s, w->account, "cover") || hs__resp_arg(c, s->key.data, s->key.len);
  if (rc)
    return HS_E_NOMEM;
  *slot = hs__key_slot(s);
  rc = hs__account_key(s, w->account, "state") || hs__resp_arg(c, s->key.data, s->key.len);
  if (!rc && w->score_json)
    rc = hs__account_key(s, w->account, "score") || hs__resp_arg(c, s->key.data, s->key.len);
  if (!rc && w->n_days)
    rc = hs__account_key(s, w->account, "history") || hs__resp_arg(c, s->key.data, s->key.len);
  /* the cover, formatted in s->key (free again) */
  s->key.len = 0;
  rc = rc || hs__format_cover(s, &s->key, w->partition, w->cover) ||
       hs__resp_arg(c, s->key.data, s->key.len);
  rc = rc || hs__resp_arg(c, "s", 1) || hs__resp_arg(c, w->state, w->state_len);
  if (!rc && w->score_json)
    rc = hs__resp_arg(c, "s", 1) || hs__resp_arg(c, w->score_json, w->score_len);
  if (!rc && w->n_days) {
    rc = hs__resp_arg(c, "h", 1) || hs__resp_int(c, (long long)w->n_days);
    for (size_t d = 0; d < w->n_days && !rc; d++) {
      char day[10], val[HS_TENTHS_MAX];
      hs_day_format(w->days[d], day);
      /* rounded as in the score record: half away from zero */
      int vl = hs__format_tenths(w->scores[d], val);
      rc = hs__resp_arg(c, day, 10) || hs__resp_arg(c, val, (size_t)vl);
    }
  }
  return rc ? HS_E_NOMEM : 0;
}

/* Formats the positions' commands into c->pos. */
static int format_positions(hs_store_t *s, commit_t *c, const hs_store_pos_t *pos, size_t n_pos) {
  c->pos_off = hs_calloc(n_pos + 1, sizeof *c->pos_off);
  c->slots = hs_calloc(n_pos ? n_pos : 1, sizeof *c->slots);
  if (!c->pos_off || !c->slots)
    return HS_E_NOMEM;
  hs_buf_t *b = &c->pos;
  int rc = 0;
  for (size_t i = 0; i < n_pos && !rc; i++) {
    c->pos_off[i] = b->len;
    rc = hs__pos_key(s, pos[i].group, pos[i].partition) || hs__resp_array(b, 4 + 3 * s->n_topics) ||
         hs__resp_arg(b, "EVALSHA", 7) || hs__resp_arg(b, hs_rc_script_sha(s->rc, 1), 40) ||
         hs__resp_int(b, 1) || hs__resp_arg(b, s->key.data, s->key.len);
    c->slots[i] = hs__key_slot(s);
    for (size_t t = 0; t < s->n_topics && !rc; t++)
      rc = hs__resp_str(b, s->topics[t]) ||
           (pos[i].expect[t] < 0 ? hs__resp_arg(b, "", 0) : hs__resp_int(b, pos[i].expect[t])) ||
           hs__resp_int(b, pos[i].offset[t]);
  }
  c->pos_off[n_pos] = b->len;
  c->n_pos = n_pos;
  return rc ? HS_E_NOMEM : 0;
}

int hs_store_commit(hs_store_t *s, const hs_store_write_t *w, size_t n, const hs_store_pos_t *pos,
                    size_t n_pos, hs_store_done_cb cb, void *ud) {
  if (s->closing || !hs_rc_ready(s->rc))
    return HS_E_IO;
  commit_t *c = hs_calloc(1, sizeof *c);
  if (!c)
    return HS_E_NOMEM;
  *c = (commit_t){
      .s = s, .cb = cb, .ud = ud, .phase = PH_ACCOUNTS, .connections = hs_store_connections(s)};
  hs_buf_init(&c->pos);
  if (format_positions(s, c, pos, n_pos)) {
    commit_free(c);
    return HS_E_NOMEM;
  }
  /* from the first command sent on, failures are the callback's to tell */
  c->pending = 1;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    uint16_t slot = 0;
    rc = format_account(s, &w[i], &slot);
    if (!rc) { /* the client takes the command: no copy */
      rc = hs_rc_command_take(s->rc, slot, s->cmd.data, s->cmd.len, on_account, c);
      hs_buf_init(&s->cmd);
    }
    c->pending += rc == 0;
  }
  hs_buf_free(&s->cmd);
  if (rc && c->pending == 1) { /* nothing sent */
    commit_free(c);
    return rc == HS_E_NOMEM ? rc : HS_E_IO;
  }
  if (rc) {
    hs_err_t e = {0};
    hs_err_set(&e, rc, "redis: cannot send an account write (%d)", rc);
    commit_fail(c, rc == HS_E_NOMEM ? rc : HS_E_IO, &e);
  }
  s->inflight++;
  c->pending--;
  if (c->pending == 0)
    commit_step(c); /* no account to write: the positions now */
  return 0;
}
