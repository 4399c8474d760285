/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Writing to Redis: the flush builder (every dirty account with the input
 * it covers, then the positions of the groups), held until the alerts and
 * dead letters it covers are acknowledged; its answer stores Kafka offsets,
 * or a refusal (fencing) or failure starts a resync. */
#include "internal.h"

#include "healthscore/state.h"

#include <math.h>

typedef struct commit_s {
  hs_live_t *live;
  uint64_t epoch, seq, started;
  hs_store_pos_t *pos; /* one per partition group */
  int64_t *offsets;    /* n_topics offsets, then n_topics expected, per group */
  size_t n_pos, n_accounts;
  /* the writes, kept while the flush waits for deliveries (into flushbuf) */
  hs_store_write_t *w;
  size_t *off;
  int32_t *days;
  double *scores;
  int64_t *covers;
  uint64_t out_seq; /* messages produced before it was built */
} commit_t;

static void after_commit(hs_live_t *l);
static void commit_send(hs_live_t *l, commit_t *c);

static void commit_free(commit_t *c) {
  if (!c)
    return;
  hs_free(c->w);
  hs_free(c->off);
  hs_free(c->days);
  hs_free(c->scores);
  hs_free(c->covers);
  hs_free(c->pos);
  hs_free(c->offsets);
  hs_free(c);
}

static void on_committed(void *ud, int status, const hs_err_t *err) {
  commit_t *c = ud;
  hs_live_t *l = c->live;
  bool current = c->epoch == l->epoch;
  if (current) {
    l->committing = false;
    if (status) {
      hs__count(l->m_flush_fail, 1);
      char note[64];
      bool log = rate_ok(l, &l->rl_flush);
      if (log)
        rate_note(&l->rl_flush, note, sizeof note);
      if (status == HS_STORE_FENCED || status == HS_STORE_REFUSED) {
        hs__count(l->m_fenced, 1);
        if (log)
          hs_log(HS_LOG_WARN, "redis",
                 "write refused: %s; another member owns these partitions now, or Redis lost "
                 "writes; resuming from what Redis holds%s",
                 err->msg, note);
        hs__want_resync(l, RS_FENCED, "a write was refused: %s", err->msg);
      } else {
        if (log)
          hs_log(HS_LOG_ERROR, "redis", "flush of %zu accounts failed: %s%s", c->n_accounts,
                 err->msg, note);
        hs__want_resync(l, RS_FLUSH, "a flush failed: %s", err->msg);
      }
    } else {
      l->done_seq = c->seq;
      l->progress_ms = uv_now(l->loop);
      if (l->m_flush_s)
        hs_series_observe(l->m_flush_s, (double)(uv_now(l->loop) - c->started) / 1000.0);
      if (l->m_flush_n)
        hs_series_observe(l->m_flush_n, (double)c->n_accounts);
      for (size_t i = 0; i < c->n_pos; i++) {
        group_t *g = l->groups[c->pos[i].partition];
        for (size_t t = 0; t < l->n_topics; t++) {
          if (g) {
            HS_INVARIANT(c->pos[i].offset[t] >= g->tp[t].committed);
            g->tp[t].committed = c->pos[i].offset[t];
          }
          hs_consumer_store_offset(l->consumer, l->s->topics[t], c->pos[i].partition,
                                   c->pos[i].offset[t]);
        }
      }
      hs__evict(l);
    }
  }
  commit_free(c);
  if (current)
    after_commit(l);
}

/* True when the group's positions go into the next commit: they moved, or
 * accounts are written (so that a member whose partitions went elsewhere
 * learns it at once, from the positions' compare). */
static bool group_moves(const hs_live_t *l, const group_t *g) {
  if (!g || g->state == G_LOADING)
    return false;
  for (size_t t = 0; t < l->n_topics; t++)
    if (g->tp[t].applied != g->tp[t].committed)
      return true;
  return l->n_dirty > 0;
}

/* Writes every dirty account, each with the input it covers, then the
 * positions of every group, in one commit (store.h). One commit is in
 * flight at a time. */
void hs__flush(hs_live_t *l) {
  if (l->committing || resync_wanted(l) || !l->store_up || l->out_lost)
    return;
  size_t n_pos = 0, nt = l->n_topics;
  for (size_t p = 0; p < l->n_groups; p++)
    n_pos += group_moves(l, l->groups[p]);
  if (!n_pos && !l->n_dirty)
    return;
  size_t n = l->n_dirty, n_hist = 0, n_listed = 0;
  for (acct_t *a = l->dirty_head; a; a = a->dirty_next, n_listed++) { /* the days to write */
    HS_INVARIANT(a->dirty);
    n_hist += a->n_days + 1;
  }
  HS_INVARIANT(n_listed == n);
  commit_t *c = hs_calloc(1, sizeof *c);
  hs_buf_t *b = &l->flushbuf; /* kept across flushes: no fresh pages each time */
  b->len = 0;
  int rc = !c ? HS_E_NOMEM : 0;
  if (!rc) {
    c->w = hs_calloc(n ? n : 1, sizeof *c->w);
    c->off = hs_malloc((n ? n : 1) * 2 * sizeof *c->off); /* state and record offsets */
    c->days = hs_malloc((n_hist ? n_hist : 1) * sizeof *c->days);
    c->scores = hs_malloc((n_hist ? n_hist : 1) * sizeof *c->scores);
    c->covers = hs_malloc((n ? n : 1) * nt * sizeof *c->covers);
    c->pos = hs_calloc(n_pos ? n_pos : 1, sizeof *c->pos);
    c->offsets = hs_calloc((n_pos ? n_pos : 1) * 2 * nt, sizeof *c->offsets);
    rc = !c->w || !c->off || !c->days || !c->scores || !c->covers || !c->pos || !c->offsets
             ? HS_E_NOMEM
             : 0;
  }
  hs_store_write_t *w = rc ? NULL : c->w;
  size_t *off = rc ? NULL : c->off, h = 0;
  acct_t *a = l->dirty_head;
  for (size_t i = 0; i < n && !rc; i++, a = a->dirty_next) {
    off[2 * i] = b->len;
    rc = hs_account_encode(l->model, a->a, b);
    off[2 * i + 1] = b->len;
    if (!rc)
      rc = hs_output_account_json(l->model, a->a, INT64_MIN, false, b);
    /* it holds every event of its partition below the positions applied,
       and what its stored state held when it was read */
    group_t *g =
        a->partition >= 0 && a->partition < l->n_partitions ? l->groups[a->partition] : NULL;
    int64_t *cover = c->covers + i * nt;
    for (size_t t = 0; t < nt; t++) {
      cover[t] = g ? g->tp[t].applied : 0;
      if (a->cover_part == a->partition && a->cover[t] > cover[t])
        cover[t] = a->cover[t];
    }
    w[i] = (hs_store_write_t){.account = {a->id, a->id_len},
                              .state_len = off[2 * i + 1] - off[2 * i],
                              .score_len = b->len - off[2 * i + 1],
                              .days = c->days + h,
                              .scores = c->scores + h,
                              .partition = a->partition,
                              .cover = cover};
    for (uint32_t k = 0; k < a->n_days; k++, h++) {
      c->days[h] = a->days[k].day;
      c->scores[h] = a->days[k].score;
    }
    w[i].n_days = a->n_days;
    if (a->cur_day != INT32_MIN && !isnan(a->cur_score)) {
      c->days[h] = a->cur_day;
      c->scores[h++] = a->cur_score;
      w[i].n_days++;
    }
  }
  if (rc) {
    hs_log(HS_LOG_ERROR, "engine", "out of memory building a flush; resuming from Redis");
    commit_free(c);
    hs__want_resync(l, RS_NOMEM, "out of memory building a flush");
    return;
  }
  for (size_t i = 0; i < n; i++) { /* the buffer stopped moving */
    w[i].state = b->data + off[2 * i];
    w[i].score_json = b->data + off[2 * i + 1];
  }
  c->live = l;
  c->epoch = l->epoch;
  c->seq = l->commit_seq + 1;
  c->n_accounts = n;
  c->out_seq = l->out_next;
  for (size_t p = 0; p < l->n_groups; p++) {
    group_t *g = l->groups[p];
    if (!group_moves(l, g))
      continue;
    int64_t *o = c->offsets + c->n_pos * 2 * nt;
    for (size_t t = 0; t < nt; t++) {
      o[t] = g->tp[t].applied;
      o[nt + t] = g->tp[t].committed;
      HS_INVARIANT(o[t] >= o[nt + t]); /* a position written never moves backwards */
    }
    c->pos[c->n_pos++] = (hs_store_pos_t){l->s->group_id, g->partition, o, o + nt};
  }
  /* built: the accounts are clean until their next event, and cover what
     this flush writes */
  l->commit_seq = c->seq;
  a = l->dirty_head;
  for (size_t i = 0; i < n; i++, a = a->dirty_next) {
    a->n_days = 0;
    a->dirty = false;
    a->commit_seq = c->seq;
    a->cover_part = a->partition;
    memcpy(a->cover, c->covers + i * nt, nt * sizeof *c->covers);
  }
  l->dirty_head = l->dirty_tail = NULL;
  l->n_dirty = 0;
  l->committing = true;
  /* alerts and dead letters of the events it covers go out first: once
     Redis holds the state, those events are not applied again */
  if (l->out_low >= c->out_seq)
    commit_send(l, c);
  else
    l->held = c;
}

/* Sends a flush built by hs__flush(). */
static void commit_send(hs_live_t *l, commit_t *c) {
  /* what the flush covers is in Redis for good: the alerts and dead letters
     of those events must be acknowledged first, or they could be lost */
  HS_INVARIANT(l->out_low >= c->out_seq);
  if (l->held == c)
    l->held = NULL;
  c->started = uv_now(l->loop);
  int rc = hs_store_commit(l->store, c->w, c->n_accounts, c->pos, c->n_pos, on_committed, c);
  /* the store made its copies */
  hs_free(c->w);
  hs_free(c->off);
  hs_free(c->days);
  hs_free(c->scores);
  hs_free(c->covers);
  c->w = NULL, c->off = NULL, c->days = NULL, c->scores = NULL, c->covers = NULL;
  hs_buf_t *b = &l->flushbuf;
  if (b->cap > FLUSHBUF_KEEP) { /* a backlog's flushes are huge: do not keep that much */
    hs_buf_free(b);
    hs_buf_init(b);
  }
  if (rc) {
    hs_log(HS_LOG_ERROR, "redis", "cannot send a flush of %zu accounts (%d)", c->n_accounts, rc);
    commit_free(c);
    l->committing = false;
    hs__want_resync(l, rc == HS_E_NOMEM ? RS_NOMEM : RS_UNREACHABLE, "cannot send a flush: %s",
                    rc == HS_E_NOMEM ? "out of memory" : "Redis not connected");
  }
}

void hs__release_held(hs_live_t *l) {
  if (l->held && l->out_low >= l->held->out_seq)
    commit_send(l, l->held);
}

void hs__drop_held(hs_live_t *l) {
  if (!l->held)
    return;
  commit_free(l->held);
  l->held = NULL;
  l->committing = false;
}

static void after_commit(hs_live_t *l) {
  if (l->mode == LIVE_REVOKING) {
    if (l->n_dirty)
      hs__flush(l);
    else
      hs__finish_revoke(l);
    return;
  }
  if (stopping(l)) {
    hs__stop_step(l);
    return;
  }
  /* fetching may have waited for the dirty set to shrink */
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p])
      hs__group_pump(l, l->groups[p]);
  if (l->n_dirty >= (size_t)l->s->max_dirty)
    hs__flush(l);
}

void hs__on_flush_timer(uv_timer_t *t) {
  hs__flush(t->data);
}
