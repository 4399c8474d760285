/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The Redis state store on the Redis Cluster client (rcluster.c), which also
 * serves a standalone server as one node owning every slot. A commit is a
 * small state machine: one script per account (phase ACCOUNTS), then WAIT on
 * the nodes that took those writes (phase WAIT, when asked for), then one
 * script per partition group's positions (phase POSITIONS). Each phase
 * starts once every reply of the one before came back. */
#include "healthscore/store.h"

#include "healthscore/rcluster.h"
#include "healthscore/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PH_ACCOUNTS, PH_WAIT, PH_POSITIONS };

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

/* Reading an account: MGET of its state and cover (GS_NEW); for an id
 * whose keys changed and that has none, the keys an earlier version wrote
 * (GS_OLD), then their copy to the new keys (GS_COPY). */
enum { GS_NEW, GS_OLD, GS_COPY };

typedef struct get_s {
  hs_store_t *s;
  hs_store_get_cb cb;
  void *ud;
  int phase;
  size_t id_len;
  char id[]; /* the account */
} get_t;

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

/* ---- keys and RESP ------------------------------------------------------ */

static bool key_plain(hs_str_t account) {
  return account.len && !memchr(account.ptr, '{', account.len) &&
         !memchr(account.ptr, '}', account.len);
}

bool hs_store_key_encoded(hs_str_t account) {
  return !key_plain(account);
}

int hs_store_legacy_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix) {
  return hs_buf_append(out, prefix, strlen(prefix)) || hs_buf_append(out, ":{", 2) ||
                 hs_buf_append(out, account.ptr, account.len) || hs_buf_append(out, "}:", 2) ||
                 hs_buf_append(out, suffix, strlen(suffix))
             ? HS_E_NOMEM
             : 0;
}

int hs_store_account_key(hs_buf_t *out, const char *prefix, hs_str_t account, const char *suffix) {
  if (key_plain(account))
    return hs_store_legacy_key(out, prefix, account, suffix);
  /* '%' before the brace: no key of an earlier version, and no key of a
     plain id, starts so; the tag holds no brace, and never nothing */
  int rc = hs_buf_append(out, prefix, strlen(prefix)) || hs_buf_append(out, ":%{", 3) ||
           (!account.len && hs_buf_append(out, "%", 1));
  size_t from = 0;
  for (size_t i = 0; i < account.len && !rc; i++) {
    char c = account.ptr[i];
    const char *esc = c == '%' ? "%25" : c == '{' ? "%7B" : c == '}' ? "%7D" : NULL;
    if (esc) {
      rc = hs_buf_append(out, account.ptr + from, i - from) || hs_buf_append(out, esc, 3);
      from = i + 1;
    }
  }
  rc = rc || hs_buf_append(out, account.ptr + from, account.len - from) ||
       hs_buf_append(out, "}:", 2) || hs_buf_append(out, suffix, strlen(suffix));
  return rc ? HS_E_NOMEM : 0;
}

/* Builds the key of an account's `suffix` into s->key. */
static int account_key(hs_store_t *s, hs_str_t account, const char *suffix) {
  s->key.len = 0;
  return hs_store_account_key(&s->key, s->prefix, account, suffix);
}

static int pos_key(hs_store_t *s, const char *group, int32_t partition) {
  s->key.len = 0;
  return hs_buf_printf(&s->key, "%s:pos:%s:%d", s->prefix, group, (int)partition);
}

static uint16_t key_slot(const hs_store_t *s) {
  return hs_rc_slot(s->key.data, s->key.len);
}

/* `v` in decimal at the end of `out` (24 bytes); returns where it starts. */
static char *decimal(char out[24], long long v) {
  char *p = out + 24;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do
    *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0)
    *--p = '-';
  return p;
}

/* RESP: one bulk string argument ($LEN CRLF BYTES CRLF). */
static int resp_arg(hs_buf_t *b, const void *p, size_t n) {
  char tmp[24 + 3];
  char *d = decimal(tmp, (long long)n);
  *--d = '$';
  memcpy(tmp + 24, "\r\n", 2);
  return hs_buf_append(b, d, (size_t)(tmp + 26 - d)) || hs_buf_append(b, p, n) ||
         hs_buf_append(b, "\r\n", 2);
}

/* RESP: an array of n arguments follows. */
static int resp_array(hs_buf_t *b, size_t n) {
  char tmp[24 + 2];
  char *d = decimal(tmp, (long long)n);
  *--d = '*';
  memcpy(tmp + 24, "\r\n", 2);
  return hs_buf_append(b, d, (size_t)(tmp + 26 - d));
}

static int resp_str(hs_buf_t *b, const char *s) {
  return resp_arg(b, s, strlen(s));
}

static int resp_int(hs_buf_t *b, long long v) {
  char tmp[24];
  char *d = decimal(tmp, v);
  return resp_arg(b, d, (size_t)(tmp + 24 - d));
}

/* The cover as stored: "PARTITION TOPIC=OFFSET ..." (every topic). */
static int format_cover(hs_store_t *s, hs_buf_t *b, int32_t partition, const int64_t *cover) {
  char tmp[24];
  char *d = decimal(tmp, partition);
  int rc = hs_buf_append(b, d, (size_t)(tmp + 24 - d));
  for (size_t t = 0; t < s->n_topics && !rc; t++) {
    d = decimal(tmp, cover ? (long long)cover[t] : 0LL);
    rc = hs_buf_append(b, " ", 1) || hs_buf_append(b, s->topics[t], strlen(s->topics[t])) ||
         hs_buf_append(b, "=", 1) || hs_buf_append(b, d, (size_t)(tmp + 24 - d));
  }
  return rc;
}

/* Reads a stored cover into s->offsets; returns its partition, or -1 when
 * it is not one. Topics it does not name stay 0. */
static int32_t parse_cover(hs_store_t *s, const char *p, size_t len) {
  char buf[2048];
  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy(buf, p, len);
  buf[len] = 0;
  char *end;
  long part = strtol(buf, &end, 10);
  if (end == buf || part < 0 || part > INT32_MAX || (*end && *end != ' '))
    return -1;
  for (size_t t = 0; t < s->n_topics; t++)
    s->offsets[t] = 0;
  for (char *tok = strtok(end, " "); tok; tok = strtok(NULL, " ")) {
    char *eq = strrchr(tok, '=');
    if (!eq)
      return -1;
    *eq = 0;
    long long off = strtoll(eq + 1, &end, 10);
    if (*end || off < 0)
      return -1;
    for (size_t t = 0; t < s->n_topics; t++)
      if (!strcmp(s->topics[t], tok))
        s->offsets[t] = off;
  }
  return (int32_t)part;
}

/* ---- reads -------------------------------------------------------------- */

static int reply_error(hs_err_t *e, const redisReply *r, const hs_err_t *err) {
  if (!r)
    return hs_err_set(e, HS_E_IO, "%s", err ? err->msg : "redis: no reply");
  if (r->type == REDIS_REPLY_ERROR)
    return hs_err_set(e, HS_E_IO, "redis: %.*s", (int)r->len, r->str);
  return 0;
}

/* Reads the old keys of an account. KEYS: state, cover, score, history. */
static const char legacy_read_script[] =
    "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), "
    "redis.call('GET', KEYS[3]), redis.call('HGETALL', KEYS[4])}\n";

/* Copies what the old keys held to the new ones, unless these hold a state
 * or a cover already (another member was quicker); answers the new state
 * and cover as MGET would. KEYS: state, cover, score, history; ARGV: for
 * state, cover and score a flag ("1": present) and the value, then the
 * history's field-value pairs. */
static const char legacy_copy_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then\n"
    "  for i = 1, 3 do\n"
    "    if ARGV[2 * i - 1] == '1' then redis.call('SET', KEYS[i], ARGV[2 * i]) end\n"
    "  end\n"
    "  for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end\n"
    "end\n"
    "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}\n";

static const char *const key_suffixes[] = {"state", "cover", "score", "history"};

static void on_state(void *ud, redisReply *r, const hs_err_t *err);

/* Sends `EVAL script 4 KEYS... ARGS...` for the keys of the account (legacy
 * ones or not) to their slot. */
static int send_eval(get_t *g, const char *script, bool legacy, int n_args, const char **args,
                     const size_t *arg_lens) {
  hs_store_t *s = g->s;
  hs_str_t id = {g->id, (uint32_t)g->id_len};
  hs_buf_t keys;
  hs_buf_init(&keys);
  size_t off[5] = {0};
  int rc = 0;
  for (int k = 0; k < 4 && !rc; k++) {
    off[k] = keys.len;
    rc = (legacy ? hs_store_legacy_key : hs_store_account_key)(&keys, s->prefix, id,
                                                               key_suffixes[k]);
  }
  off[4] = keys.len;
  size_t argc = 3 + 4 + (size_t)n_args;
  const char **argv = hs_calloc(argc, sizeof *argv);
  size_t *lens = hs_calloc(argc, sizeof *lens);
  if (rc || !argv || !lens) {
    hs_buf_free(&keys);
    hs_free(argv);
    hs_free(lens);
    return HS_E_NOMEM;
  }
  argv[0] = "EVAL", lens[0] = 4;
  argv[1] = script, lens[1] = strlen(script);
  argv[2] = "4", lens[2] = 1;
  for (int k = 0; k < 4; k++)
    argv[3 + k] = keys.data + off[k], lens[3 + k] = off[k + 1] - off[k];
  for (int i = 0; i < n_args; i++)
    argv[7 + i] = args[i], lens[7 + i] = arg_lens[i];
  uint16_t slot = hs_rc_slot(argv[3], lens[3]);
  rc = hs_rc_command_argv(s->rc, slot, (int)argc, argv, lens, on_state, g);
  hs_buf_free(&keys);
  hs_free(argv);
  hs_free(lens);
  return rc;
}

/* True when the keys an earlier version used for the account may hold
 * something: a Redis Cluster refused writes to keys of different slots, so
 * an id whose old keys spread over slots (an empty tag) has none there. */
static bool legacy_possible(const get_t *g) {
  hs_rc_stats_t st;
  hs_rc_stats(g->s->rc, &st);
  if (st.standalone)
    return true;
  hs_str_t id = {g->id, (uint32_t)g->id_len};
  hs_buf_t k;
  hs_buf_init(&k);
  int slot = -1;
  bool one = true;
  for (int i = 0; i < 4 && one; i++) {
    k.len = 0;
    if (hs_store_legacy_key(&k, g->s->prefix, id, key_suffixes[i])) {
      one = false;
      break;
    }
    int sl = hs_rc_slot(k.data, k.len);
    one = slot < 0 || sl == slot;
    slot = sl;
  }
  hs_buf_free(&k);
  return one;
}

static bool nil(const redisReply *r) {
  return r->type != REDIS_REPLY_STRING;
}

/* The old keys' values: copied to the new keys when there is a state or a
 * cover. Returns 1 when a copy was sent, 0 when there is nothing to copy,
 * or a negative code. */
static int legacy_copy(get_t *g, const redisReply *r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
    return HS_E_PARSE;
  const redisReply *const *e = (const redisReply *const *)r->element;
  if (nil(e[0]) && nil(e[1]))
    return 0;
  size_t n_hist = e[3]->type == REDIS_REPLY_ARRAY ? e[3]->elements : 0;
  const char **args = hs_calloc(6 + n_hist, sizeof *args);
  size_t *lens = hs_calloc(6 + n_hist, sizeof *lens);
  int rc = args && lens ? 0 : HS_E_NOMEM;
  for (size_t i = 0; i < 3 && !rc; i++) {
    args[2 * i] = nil(e[i]) ? "0" : "1", lens[2 * i] = 1;
    args[2 * i + 1] = nil(e[i]) ? "" : e[i]->str, lens[2 * i + 1] = nil(e[i]) ? 0 : e[i]->len;
  }
  for (size_t i = 0; i < n_hist && !rc; i++) {
    const redisReply *h = e[3]->element[i];
    args[6 + i] = h->type == REDIS_REPLY_STRING ? h->str : "";
    lens[6 + i] = h->type == REDIS_REPLY_STRING ? h->len : 0;
  }
  if (!rc)
    rc = send_eval(g, legacy_copy_script, false, (int)(6 + n_hist), args, lens);
  hs_free(args);
  hs_free(lens);
  return rc ? rc : 1;
}

static void on_state(void *ud, redisReply *r, const hs_err_t *err) {
  get_t *g = ud;
  hs_store_t *s = g->s;
  hs_err_t e = {0};
  int status = reply_error(&e, r, err);
  if (!status && g->phase == GS_OLD && !s->closing) {
    g->phase = GS_COPY;
    int rc = legacy_copy(g, r);
    if (rc > 0)
      return; /* its answer comes back here */
    if (rc < 0)
      status = hs_err_set(&e, rc, "redis: reading the keys of %.*s an earlier version wrote: %s",
                          (int)g->id_len, g->id, rc == HS_E_PARSE ? "unexpected reply" : "failed");
    else
      r = NULL; /* nothing there either */
  } else if (!status && (r->type != REDIS_REPLY_ARRAY || r->elements != 2)) {
    status = hs_err_set(&e, HS_E_PARSE, "redis: unexpected reply to a state read");
  } else if (!status && g->phase == GS_NEW && nil(r->element[0]) && nil(r->element[1]) &&
             !s->closing && hs_store_key_encoded((hs_str_t){g->id, (uint32_t)g->id_len}) &&
             legacy_possible(g)) {
    g->phase = GS_OLD;
    int rc = send_eval(g, legacy_read_script, true, 0, NULL, NULL);
    if (!rc)
      return;
    status = hs_err_set(&e, rc == HS_E_NOMEM ? rc : HS_E_IO,
                        "redis: cannot read the keys of %.*s an earlier version wrote",
                        (int)g->id_len, g->id);
  }
  s->inflight--;
  if (status) {
    g->cb(g->ud, status, &e, NULL, 0, -1, NULL);
  } else if (!r) {
    g->cb(g->ud, 0, NULL, NULL, 0, -1, NULL);
  } else {
    const redisReply *st = r->element[0], *cv = r->element[1];
    int32_t part = cv->type == REDIS_REPLY_STRING ? parse_cover(s, cv->str, cv->len) : -1;
    bool have = st->type == REDIS_REPLY_STRING;
    g->cb(g->ud, 0, NULL, have ? st->str : NULL, have ? st->len : 0, part,
          part >= 0 ? s->offsets : NULL);
  }
  hs_free(g);
}

int hs_store_get_state(hs_store_t *s, hs_str_t account, hs_store_get_cb cb, void *ud) {
  if (s->closing || !hs_rc_ready(s->rc))
    return HS_E_IO;
  get_t *g = hs_calloc(1, sizeof *g + account.len + 1);
  hs_buf_t keys;
  hs_buf_init(&keys);
  size_t state_len = 0;
  if (!g || account_key(s, account, "state") || hs_buf_append(&keys, s->key.data, s->key.len) ||
      account_key(s, account, "cover")) {
    hs_free(g);
    hs_buf_free(&keys);
    return HS_E_NOMEM;
  }
  state_len = keys.len;
  *g = (get_t){.s = s, .cb = cb, .ud = ud, .phase = GS_NEW, .id_len = account.len};
  memcpy(g->id, account.ptr, account.len);
  const char *argv[] = {"MGET", keys.data, s->key.data};
  size_t lens[] = {4, state_len, s->key.len};
  int rc = hs_rc_command_argv(s->rc, key_slot(s), 3, argv, lens, on_state, g);
  hs_buf_free(&keys);
  if (rc) {
    hs_free(g);
    return rc == HS_E_NOMEM ? rc : HS_E_IO;
  }
  s->inflight++;
  return 0;
}

/* Reading a partition group's positions: HMGET of its hash. When the hash
 * holds none, the positions an earlier build kept as one string per topic
 * partition (PREFIX:pos:GROUP:TOPIC:PARTITION) are read, and those found are
 * copied into the hash (HSETNX: a member doing the same at once changes
 * nothing), so that an upgraded engine resumes where the old one stopped. */
enum { PG_HASH, PG_LEGACY, PG_MIGRATE };

typedef struct posget_s posget_t;
typedef struct posget_sub_s {
  posget_t *p;
  size_t t;
} posget_sub_t;

struct posget_s {
  hs_store_t *s;
  hs_store_pos_cb cb;
  void *ud;
  char *group;
  int32_t partition;
  int phase, status;
  size_t pending;
  int64_t *offsets;
  posget_sub_t *subs;
};

/* Copies found positions into the hash, then reads it. KEYS[1]: the hash;
 * ARGV[1]: N; ARGV[2..N+1]: every topic; then (topic, offset) pairs. */
static const char migrate_script[] =
    "local n = tonumber(ARGV[1])\n"
    "for i = n + 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end\n"
    "return redis.call('HMGET', KEYS[1], unpack(ARGV, 2, n + 1))\n";

static void posget_done(posget_t *p) {
  hs_store_t *s = p->s;
  s->inflight--;
  p->cb(p->ud, p->status, p->status ? NULL : p->offsets);
  hs_free(p->group);
  hs_free(p->offsets);
  hs_free(p->subs);
  hs_free(p);
}

/* One stored offset, or -1; HS_E_PARSE when it is not one. */
static int parse_offset(const redisReply *v, int64_t *out) {
  *out = -1;
  if (v->type != REDIS_REPLY_STRING)
    return 0;
  char *end;
  *out = strtoll(v->str, &end, 10);
  return *end || *out < 0 || end == v->str ? HS_E_PARSE : 0;
}

static void posget_reply(posget_t *p, size_t t, const redisReply *r, const hs_err_t *err);

static void on_posget(void *ud, redisReply *r, const hs_err_t *err) {
  posget_sub_t *sub = ud;
  posget_reply(sub->p, sub->t, r, err);
}

static int posget_send(posget_t *p, size_t t, int argc, const char **argv, const size_t *lens) {
  int rc = hs_rc_command_argv(p->s->rc, key_slot(p->s), argc, argv, lens, on_posget, &p->subs[t]);
  p->pending += rc == 0;
  return rc;
}

/* Sends the HMGET (PG_HASH) or the migration script (PG_MIGRATE). */
static int posget_hash(posget_t *p) {
  hs_store_t *s = p->s;
  size_t nt = s->n_topics, found = 0, n = 0;
  for (size_t t = 0; p->phase == PG_MIGRATE && t < nt; t++)
    found += p->offsets[t] >= 0;
  size_t argc = p->phase == PG_MIGRATE ? 5 + nt + 2 * found : 2 + nt;
  const char **argv = hs_calloc(argc, sizeof *argv);
  size_t *lens = hs_calloc(argc, sizeof *lens);
  char(*nums)[24] = hs_calloc(nt + 1, sizeof *nums);
  int rc = !argv || !lens || !nums || pos_key(s, p->group, p->partition) ? HS_E_NOMEM : 0;
  if (!rc) {
    if (p->phase == PG_MIGRATE) {
      argv[n++] = "EVAL";
      argv[n++] = migrate_script;
      argv[n++] = "1";
      argv[n++] = s->key.data;
      snprintf(nums[nt], sizeof nums[nt], "%zu", nt);
      argv[n++] = nums[nt];
    } else {
      argv[n++] = "HMGET";
      argv[n++] = s->key.data;
    }
    for (size_t t = 0; t < nt; t++)
      argv[n++] = s->topics[t];
    for (size_t t = 0; p->phase == PG_MIGRATE && t < nt; t++) {
      if (p->offsets[t] < 0)
        continue;
      snprintf(nums[t], sizeof nums[t], "%lld", (long long)p->offsets[t]);
      argv[n++] = s->topics[t];
      argv[n++] = nums[t];
    }
    for (size_t i = 0; i < n; i++)
      lens[i] = strlen(argv[i]);
    rc = posget_send(p, 0, (int)n, argv, lens);
  }
  hs_free(argv);
  hs_free(lens);
  hs_free(nums);
  return rc;
}

static void posget_reply(posget_t *p, size_t t, const redisReply *r, const hs_err_t *err) {
  hs_store_t *s = p->s;
  size_t nt = s->n_topics;
  hs_err_t e = {0};
  int status = reply_error(&e, r, err);
  p->pending--;
  if (!status && p->phase == PG_LEGACY) {
    status = parse_offset(r, &p->offsets[t]);
  } else if (!status) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != nt)
      status = HS_E_PARSE;
    for (size_t i = 0; !status && i < nt; i++)
      status = parse_offset(r->element[i], &p->offsets[i]);
  }
  if (status && !p->status)
    p->status = status;
  if (p->pending)
    return;
  bool any = false;
  for (size_t i = 0; i < nt; i++)
    any |= p->offsets[i] >= 0;
  int rc = 0;
  if (!p->status && p->phase == PG_HASH && !any && nt) {
    p->phase = PG_LEGACY; /* nothing in the hash: an earlier build's keys? */
    for (size_t i = 0; i < nt && !rc; i++) {
      s->key.len = 0;
      rc = hs_buf_printf(&s->key, "%s:pos:%s:%s:%d", s->prefix, p->group, s->topics[i],
                         (int)p->partition);
      const char *argv[] = {"GET", s->key.data};
      size_t lens[] = {3, s->key.len};
      if (!rc)
        rc = posget_send(p, i, 2, argv, lens);
    }
  } else if (!p->status && p->phase == PG_LEGACY && any) {
    p->phase = PG_MIGRATE;
    rc = posget_hash(p);
  }
  if (rc && !p->status)
    p->status = rc == HS_E_NOMEM ? rc : HS_E_IO;
  if (!p->pending)
    posget_done(p);
}

int hs_store_get_positions(hs_store_t *s, const char *group, int32_t partition, hs_store_pos_cb cb,
                           void *ud) {
  if (s->closing || !hs_rc_ready(s->rc))
    return HS_E_IO;
  posget_t *p = hs_calloc(1, sizeof *p);
  if (!p)
    return HS_E_NOMEM;
  *p = (posget_t){.s = s, .cb = cb, .ud = ud, .partition = partition, .phase = PG_HASH};
  p->group = hs_strdup(group);
  p->offsets = hs_calloc(s->n_topics + 1, sizeof *p->offsets);
  p->subs = hs_calloc(s->n_topics + 1, sizeof *p->subs);
  int rc = !p->group || !p->offsets || !p->subs ? HS_E_NOMEM : 0;
  for (size_t t = 0; !rc && t <= s->n_topics; t++)
    p->subs[t] = (posget_sub_t){p, t};
  if (!rc)
    rc = posget_hash(p);
  if (rc) {
    hs_free(p->group);
    hs_free(p->offsets);
    hs_free(p->subs);
    hs_free(p);
    return rc == HS_E_NOMEM ? rc : HS_E_IO;
  }
  s->inflight++;
  return 0;
}

/* ---- commits ------------------------------------------------------------ */

/* An account's write. KEYS: cover, state, then the score record and the
 * history when written. ARGV[1]: the new cover; then the writes, in the
 * order of the keys after the cover: "s" VALUE (SET) or "h" N FIELD VALUE
 * ... (HSET of N pairs). Refused ({cover key, stored cover}) when the
 * stored cover, of the same partition, is ahead in any topic. */
static const char account_script[] =
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
static const char positions_script[] =
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
  if (--c->pending == 0)
    commit_step(c);
}

/* The reply of a conditional write script: OK, or {KEY, VALUE} when the
 * value Redis holds refused the write (status `refused`, counted in
 * *refusals, `why` says what it means). */
static int script_reply(hs_err_t *e, const redisReply *r, const hs_err_t *err, int refused,
                        uint64_t *refusals, const char *why, const char *what) {
  int status = reply_error(e, r, err);
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
  int status = reply_error(&e, r, err);
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
      int rc = hs_buf_printf(&b, "*3\r\n$4\r\nWAIT\r\n") || resp_int(&b, s->wait_replicas) ||
               resp_int(&b, s->timeout_ms / 2);
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

/* Formats one account's script into s->cmd. */
static int format_account(hs_store_t *s, const hs_store_write_t *w, uint16_t *slot) {
  hs_buf_t *c = &s->cmd;
  size_t n_keys = 2 + (w->score_json != NULL) + (w->n_days > 0);
  size_t n_args =
      3 + n_keys + 1 + 2 + 2 * (w->score_json != NULL) + (w->n_days ? 2 + 2 * w->n_days : 0);
  c->len = 0;
  int rc = resp_array(c, n_args) || resp_arg(c, "EVALSHA", 7) ||
           resp_arg(c, hs_rc_script_sha(s->rc, 0), 40) || resp_int(c, (long long)n_keys) ||
           account_key(s, w->account, "cover") || resp_arg(c, s->key.data, s->key.len);
  if (rc)
    return HS_E_NOMEM;
  *slot = key_slot(s);
  rc = account_key(s, w->account, "state") || resp_arg(c, s->key.data, s->key.len);
  if (!rc && w->score_json)
    rc = account_key(s, w->account, "score") || resp_arg(c, s->key.data, s->key.len);
  if (!rc && w->n_days)
    rc = account_key(s, w->account, "history") || resp_arg(c, s->key.data, s->key.len);
  /* the cover, formatted in s->key (free again) */
  s->key.len = 0;
  rc = rc || format_cover(s, &s->key, w->partition, w->cover) ||
       resp_arg(c, s->key.data, s->key.len);
  rc = rc || resp_arg(c, "s", 1) || resp_arg(c, w->state, w->state_len);
  if (!rc && w->score_json)
    rc = resp_arg(c, "s", 1) || resp_arg(c, w->score_json, w->score_len);
  if (!rc && w->n_days) {
    rc = resp_arg(c, "h", 1) || resp_int(c, (long long)w->n_days);
    for (size_t d = 0; d < w->n_days && !rc; d++) {
      char day[32], val[32];
      hs_time_format((int64_t)w->days[d] * HS_MS_PER_DAY, day);
      /* rounded as in the score record: half away from zero */
      int vl = snprintf(val, sizeof val, "%.1f", round(w->scores[d] * 10) / 10);
      rc = resp_arg(c, day, 10) || resp_arg(c, val, (size_t)vl); /* day: YYYY-MM-DD */
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
    rc = pos_key(s, pos[i].group, pos[i].partition) || resp_array(b, 4 + 3 * s->n_topics) ||
         resp_arg(b, "EVALSHA", 7) || resp_arg(b, hs_rc_script_sha(s->rc, 1), 40) ||
         resp_int(b, 1) || resp_arg(b, s->key.data, s->key.len);
    c->slots[i] = key_slot(s);
    for (size_t t = 0; t < s->n_topics && !rc; t++)
      rc = resp_str(b, s->topics[t]) ||
           (pos[i].expect[t] < 0 ? resp_arg(b, "", 0) : resp_int(b, pos[i].expect[t])) ||
           resp_int(b, pos[i].offset[t]);
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
    if (!rc)
      rc = hs_rc_command(s->rc, slot, s->cmd.data, s->cmd.len, on_account, c);
    c->pending += rc == 0;
  }
  if (s->cmd.cap > (1u << 20)) { /* rcluster has its copies; keep no big buffer around */
    hs_buf_free(&s->cmd);
    hs_buf_init(&s->cmd);
  }
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

/* ---- the store ---------------------------------------------------------- */

static void free_store(hs_store_t *s) {
  for (size_t t = 0; t < s->n_topics; t++)
    hs_free(s->topics[t]);
  hs_free(s->topics);
  hs_free(s->offsets);
  hs_free(s->prefix);
  hs_buf_free(&s->key);
  hs_buf_free(&s->cmd);
  hs_free(s);
}

int hs_store_new(hs_store_t **out, uv_loop_t *loop, const hs_store_conf_t *conf, hs_err_t *err) {
  *out = NULL;
  const char *prefix = conf->prefix ? conf->prefix : "hs";
  if (strchr(prefix, '{') || strchr(prefix, '}') || !*prefix)
    return hs_err_set(err, HS_E_INVAL, "store: the key prefix must be non-empty, without braces");
  for (size_t t = 0; t < conf->n_topics; t++)
    if (!*conf->topics[t] || strpbrk(conf->topics[t], " =\t\r\n"))
      return hs_err_set(err, HS_E_INVAL, "store: topic name \"%s\" has a space or '='",
                        conf->topics[t]);
  hs_store_t *s = hs_calloc(1, sizeof *s);
  if (!s)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  s->loop = loop;
  s->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
  s->wait_replicas = conf->wait_replicas > 0 ? conf->wait_replicas : 0;
  s->prefix = hs_strdup(prefix);
  s->n_topics = conf->n_topics;
  s->topics = hs_calloc(conf->n_topics + 1, sizeof *s->topics);
  s->offsets = hs_calloc(conf->n_topics + 1, sizeof *s->offsets);
  hs_buf_init(&s->key);
  hs_buf_init(&s->cmd);
  bool nomem = !s->prefix || !s->topics || !s->offsets;
  for (size_t t = 0; !nomem && t < conf->n_topics; t++)
    nomem = !(s->topics[t] = hs_strdup(conf->topics[t]));
  /* the seeds: the nodes given, else host:port (an IPv6 address in brackets) */
  char seed[300];
  const char *host = conf->host && *conf->host ? conf->host : "127.0.0.1";
  snprintf(seed, sizeof seed, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
           conf->port ? conf->port : 6379);
  static const char *const scripts[] = {account_script, positions_script};
  hs_rc_conf_t rcc = {.seeds = conf->nodes && *conf->nodes ? conf->nodes : seed,
                      .password = conf->password,
                      .timeout_ms = s->timeout_ms,
                      .reconnect_ms = conf->reconnect_ms,
                      .scripts = scripts,
                      .n_scripts = 2};
  int rc =
      nomem ? hs_err_set(err, HS_E_NOMEM, "out of memory") : hs_rc_new(&s->rc, loop, &rcc, err);
  if (rc) {
    free_store(s);
    return rc;
  }
  *out = s;
  return 0;
}

bool hs_store_connected(const hs_store_t *s) {
  return !s->closing && hs_rc_ready(s->rc);
}

size_t hs_store_inflight(const hs_store_t *s) {
  return s->inflight;
}

uint64_t hs_store_connections(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.connections + st.promotions;
}

uint64_t hs_store_commands(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.commands;
}

uint64_t hs_store_bytes(const hs_store_t *s) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  return st.bytes;
}

void hs_store_stats(const hs_store_t *s, hs_store_stats_t *out) {
  hs_rc_stats_t st;
  hs_rc_stats(s->rc, &st);
  *out = (hs_store_stats_t){.commands = st.commands,
                            .bytes = st.bytes,
                            .moved = st.moved,
                            .asked = st.asked,
                            .retries = st.retries,
                            .noscript = st.noscript,
                            .refused = s->refused,
                            .fenced = s->fenced,
                            .wait_short = s->wait_short,
                            .masters = st.masters,
                            .standalone = st.standalone};
}

const char *hs_store_last_error(const hs_store_t *s) {
  return hs_rc_last_error(s->rc);
}

static void on_rc_closed(void *ud) {
  hs_store_t *s = ud;
  void (*closed)(void *) = s->closed;
  void *closed_ud = s->closed_ud;
  free_store(s);
  if (closed)
    closed(closed_ud);
}

void hs_store_close(hs_store_t *s, void (*closed)(void *ud), void *ud) {
  s->closing = true;
  s->closed = closed;
  s->closed_ud = ud;
  hs_rc_close(s->rc, on_rc_closed, s); /* pending callbacks run with an error */
}
