/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Partition groups: the queue of each input topic partition, back-pressure
 * (a partition pauses when its queue is long), and the merge that applies a
 * group's events in event-time order within the budget of a loop turn. */
#include "internal.h"

static void on_resume(uv_idle_t *h);

static void queue_clear(hs_live_t *l, tp_t *tp) {
  (void)l;
  for (size_t i = 0; i < tp->len; i++)
    rd_kafka_message_destroy(tp->q[(tp->head + i) % tp->cap].m);
  tp->head = tp->len = 0;
}

static int queue_push(tp_t *tp, const entry_t *e) {
  if (tp->len == tp->cap) {
    size_t cap = tp->cap ? tp->cap * 2 : 64;
    entry_t *q = hs_malloc(cap * sizeof *q);
    if (!q)
      return HS_E_NOMEM;
    for (size_t i = 0; i < tp->len; i++)
      q[i] = tp->q[(tp->head + i) % tp->cap];
    hs_free(tp->q);
    tp->q = q;
    tp->cap = cap;
    tp->head = 0;
  }
  tp->q[(tp->head + tp->len++) % tp->cap] = *e;
  return 0;
}

void hs__queues_release(hs_live_t *l) {
  for (size_t p = 0; p < l->n_groups; p++) {
    group_t *g = l->groups[p];
    for (size_t t = 0; g && t < l->n_topics; t++) {
      tp_t *tp = &g->tp[t];
      if (tp->len || !tp->q)
        continue;
      hs_free(tp->q);
      tp->q = NULL;
      tp->cap = tp->head = 0;
    }
  }
}

void hs__group_free(hs_live_t *l, group_t *g) {
  for (size_t t = 0; t < l->n_topics; t++) {
    queue_clear(l, &g->tp[t]);
    hs_free(g->tp[t].q);
  }
  hs_free(g);
}

bool hs__budget_left(hs_live_t *l) {
  if (uv_now(l->loop) != l->budget_at) { /* a new turn */
    l->budget_at = uv_now(l->loop);
    l->budget = TURN_BUDGET;
    l->turn_work = 0;
  }
  if (l->budget > 0)
    return true;
  if (!uv_is_active((uv_handle_t *)&l->resume)) {
    uv_idle_start(&l->resume, on_resume);
    hs__count(l->m_deferrals, 1);
  }
  return false;
}

/* Counts work done in this turn: `days` account-days evaluated. */
void hs__budget_spend(hs_live_t *l, int64_t days) {
  l->budget -= days;
  l->turn_work += (uint64_t)days;
  if (l->turn_work > l->turn_work_max)
    l->turn_work_max = l->turn_work;
}

static void on_wait_timer(uv_timer_t *t) {
  hs_live_t *l = t->data;
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p] && l->groups[p]->waiting_timer) {
      l->groups[p]->waiting_timer = false;
      hs__group_pump(l, l->groups[p]);
    }
}

static void pop_head(hs_live_t *l, group_t *g, int t) {
  tp_t *tp = &g->tp[t];
  entry_t *e = &tp->q[tp->head];
  /* duplicates are dropped on arrival: a queue's offsets only grow */
  HS_INVARIANT(e->m->offset >= tp->applied);
  tp->applied = e->m->offset + 1;
  if (*seen_at(l, g->partition, t) < tp->applied)
    *seen_at(l, g->partition, t) = tp->applied;
  if (e->acc)
    e->acc->refs--;
  rd_kafka_message_destroy(e->m);
  tp->head = (tp->head + 1) % tp->cap;
  tp->len--;
  if (tp->paused && tp->len <= QUEUE_RESUME) {
    hs_consumer_pause_partition(l->consumer, l->s->topics[t], g->partition, false);
    tp->paused = false;
  }
}

/* Starts loading the accounts of the messages after the head of `tp` (the
 * likeliest to be applied next) while the head is applied: the account
 * table entry two ahead, the account's state one ahead. */
static void prefetch_next(const hs_live_t *l, const tp_t *tp) {
  if (tp->len > 2 && tp->q[(tp->head + 2) % tp->cap].acc)
    __builtin_prefetch(tp->q[(tp->head + 2) % tp->cap].acc);
  const struct acct_s *next = tp->len > 1 ? tp->q[(tp->head + 1) % tp->cap].acc : NULL;
  if (next && next->a)
    hs_account_prefetch(l->model, next->a);
}

/* Applies the group's events in event-time order while every topic either
 * has a message buffered or has reached its end (and, with max_idle, the
 * head has waited long enough). */
void hs__group_pump(hs_live_t *l, group_t *g) {
  if (l->n_dirty >= (size_t)l->s->max_dirty)
    hs__flush(l); /* the dirty set is full: applying resumes after the commit */
  while (g->state == G_ACTIVE && !stopping(l) && !resync_wanted(l) &&
         l->n_dirty < (size_t)l->s->max_dirty) {
    int best = -1;
    bool empty_at_end = false;
    for (size_t t = 0; t < l->n_topics; t++) {
      tp_t *tp = &g->tp[t];
      if (!tp->len) {
        if (!tp->eof)
          return; /* more may come before what is buffered elsewhere */
        empty_at_end = true;
        continue;
      }
      entry_t *e = &tp->q[tp->head];
      if (best < 0 || e->ts < g->tp[best].q[g->tp[best].head].ts)
        best = (int)t;
    }
    if (best < 0)
      return;
    entry_t *e = &g->tp[best].q[g->tp[best].head];
    if (empty_at_end && l->s->max_idle_ms > 0 && e->ts != INT64_MIN) {
      uint64_t due = e->arrived + (uint64_t)l->s->max_idle_ms;
      uint64_t now = uv_now(l->loop);
      if (now < due) {
        g->waiting_timer = true;
        if (!uv_is_active((uv_handle_t *)&l->wait_timer) ||
            uv_timer_get_due_in(&l->wait_timer) > due - now)
          uv_timer_start(&l->wait_timer, on_wait_timer, due - now, 0);
        return;
      }
    }
    if (!hs__budget_left(l))
      return; /* on_resume pumps again at the next turn */
    prefetch_next(l, &g->tp[best]);
    if (!hs__apply_entry(l, g, best, e))
      return;
    pop_head(l, g, best);
  }
}

bool hs__on_take(void *ud, rd_kafka_message_t *m) {
  hs_live_t *l = ud;
  if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    hs_log(HS_LOG_WARN, "kafka", "%s", rd_kafka_message_errstr(m));
    return false;
  }
  l->kafka_down = false;
  if (!m->rkt || m->partition < 0 || (size_t)m->partition >= l->n_groups)
    return false;
  group_t *g = l->groups[m->partition];
  int t = topic_index(l, rd_kafka_topic_name(m->rkt));
  if (!g || g->state != G_ACTIVE || t < 0 || resync_wanted(l))
    return false;
  tp_t *tp = &g->tp[t];
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (m->offset >= tp->next) {
      tp->eof = true;
      hs__group_pump(l, g);
    }
    return false;
  }
  if (m->offset < tp->next) {
    hs__count(l->m_dups, 1); /* delivered again: already buffered or applied */
    return false;
  }
  tp->next = m->offset + 1;
  tp->eof = false;
  entry_t e = {m, INT64_MIN, uv_now(l->loop), uv_hrtime(), NULL, {0}};
  hs_event_t ev;
  char why[512];
  if (hs__check_event(l, l->peek, m, &ev, why, sizeof why)) {
    /* rejected now, so that a bad timestamp never takes part in the order;
       the message still queues for its position to move in turn. Read
       again after a resync, it was dead-lettered already: that dead letter
       is delivered before any position passes it (flushes wait for it) */
    if (m->offset >= *taken_at(l, m->partition, t)) {
      hs__count(hs__event_series(l, t, 0), 1);
      hs__dead_letter(l, m, why);
    }
  } else {
    e.ts = ev.ts_ms;
    /* kept decoded while the message is held (or decoded again when applied) */
    hs_event_hold(&ev, m->payload, m->len, &e.ev);
    /* first sight of an account held nowhere here: read it from Redis now,
       so that it is there when its turn comes */
    uint64_t h = hs_hash64(ev.account_id.ptr, ev.account_id.len, HS_HASH_SEED);
    acct_t *a = hs__acct_find(l, ev.account_id.ptr, ev.account_id.len, h);
    if (!a && (a = hs__acct_add(l, ev.account_id.ptr, ev.account_id.len, h, m->partition)))
      hs__load_account(l, a);
    e.acc = a;
  }
  if (queue_push(tp, &e)) {
    /* not kept: its offset is passed already, so fetching cannot bring it
       back; resuming from Redis does */
    hs__nomem_resync(l, "queueing a message");
    return false;
  }
  if (*taken_at(l, m->partition, t) <= m->offset)
    *taken_at(l, m->partition, t) = m->offset + 1;
  if (e.acc)
    e.acc->refs++;
  if (!tp->paused && tp->len >= QUEUE_PAUSE) {
    hs_consumer_pause_partition(l->consumer, l->s->topics[t], g->partition, true);
    tp->paused = true;
  }
  if (tp->len == 1)
    hs__group_pump(l, g);
  return true;
}

void hs__group_refuse(hs_live_t *l, group_t *g, const char *reason, const char *why) {
  if (g->state == G_REFUSED)
    return;
  g->state = G_REFUSED;
  g->waiting_timer = false;
  for (size_t t = 0; t < l->n_topics; t++) {
    tp_t *tp = &g->tp[t];
    for (size_t i = 0; i < tp->len; i++) {
      entry_t *e = &tp->q[(tp->head + i) % tp->cap];
      if (e->acc)
        e->acc->refs--;
      rd_kafka_message_destroy(e->m);
    }
    tp->head = tp->len = 0;
    if (l->consumer)
      hs_consumer_pause_partition(l->consumer, l->s->topics[t], g->partition, true);
    tp->paused = true;
  }
  l->n_refused++;
  snprintf(l->refused_why, sizeof l->refused_why, "partition %d refused: %s", (int)g->partition,
           why);
  hs__count(hs__series1(l->f_refused, reason), 1);
  hs_log(HS_LOG_ERROR, "engine",
         "partition %d refused: %s; nothing more of it is applied or written until it is "
         "assigned again",
         (int)g->partition, why);
}

/* The next turn of the loop after one that ran out of budget: the work
 * left goes on. */
static void on_resume(uv_idle_t *h) {
  hs_live_t *l = h->data;
  uv_idle_stop(h);
  l->budget_at = uv_now(l->loop);
  l->budget = TURN_BUDGET;
  l->turn_work = 0;
  if (l->idle_pass)
    hs__idle_continue(l);
  for (size_t p = 0; p < l->n_groups; p++)
    if (l->groups[p] && l->groups[p]->state == G_ACTIVE)
      hs__group_pump(l, l->groups[p]);
}
