/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Reads: an account's state and cover (with the keys an earlier version
 * wrote), and a partition group's positions. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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
  int status = hs__reply_error(&e, r, err);
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
    int32_t part = cv->type == REDIS_REPLY_STRING ? hs__parse_cover(s, cv->str, cv->len) : -1;
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
  if (!g || hs__account_key(s, account, "state") || hs_buf_append(&keys, s->key.data, s->key.len) ||
      hs__account_key(s, account, "cover")) {
    hs_free(g);
    hs_buf_free(&keys);
    return HS_E_NOMEM;
  }
  state_len = keys.len;
  *g = (get_t){.s = s, .cb = cb, .ud = ud, .phase = GS_NEW, .id_len = account.len};
  memcpy(g->id, account.ptr, account.len);
  const char *argv[] = {"MGET", keys.data, s->key.data};
  size_t lens[] = {4, state_len, s->key.len};
  int rc = hs_rc_command_argv(s->rc, hs__key_slot(s), 3, argv, lens, on_state, g);
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
  int rc =
      hs_rc_command_argv(p->s->rc, hs__key_slot(p->s), argc, argv, lens, on_posget, &p->subs[t]);
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
  int rc = !argv || !lens || !nums || hs__pos_key(s, p->group, p->partition) ? HS_E_NOMEM : 0;
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
  int status = hs__reply_error(&e, r, err);
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
