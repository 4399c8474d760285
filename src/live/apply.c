/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Applying events: checking a message, applying it to its account (alerts
 * and the daily history through on_eval), reading an account back from
 * Redis on first sight, and ageing idle accounts. */
#include "internal.h"

#include "healthscore/codec.h"
#include "healthscore/state.h"

#include <math.h>

static void on_eval(void *ud, const hs_account_t *acct, const hs_eval_t *ev) {
  hs_live_t *l = ud;
  (void)acct;
  acct_t *a = l->cur;
  if (a) {
    hs__band_move(l, a, ev->score.profile, ev->score.has_score ? ev->score.band : -1);
    /* the daily history: a day's score is its last evaluation's */
    int32_t day = hs_day_of(ev->at_ms);
    if (a->cur_day != INT32_MIN && day > a->cur_day && !isnan(a->cur_score)) {
      if (a->n_days == a->cap_days) {
        uint32_t cap = a->cap_days ? a->cap_days * 2 : 8;
        day_t *d = hs_realloc(a->days, cap * sizeof *d);
        if (d) {
          a->days = d;
          a->cap_days = cap;
        } else {
          hs__nomem_resync(l, "keeping a day of an account's history");
        }
      }
      if (a->n_days < a->cap_days)
        a->days[a->n_days++] = (day_t){a->cur_day, a->cur_score};
    }
    if (a->cur_day == INT32_MIN || day >= a->cur_day) {
      a->cur_day = day;
      a->cur_score = ev->score.has_score ? ev->score.score : NAN;
    }
  }
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    const hs_alert_t *al = &ev->alerts[i];
    l->json.len = 0;
    /* CloudEvents attributes, and the triggering message's Kafka timestamp
       for end-to-end latency */
    hs_alert_envelope_t env = {strcmp(l->s->alerts_format, "structured") ? HS_ALERT_BINARY
                                                                         : HS_ALERT_STRUCTURED,
                               l->s->alerts_source, l->s->group_id};
    hs_alert_headers_t h;
    if (hs_output_alert_message(l->model, ev, al, (int64_t)wall_ms(), &env, l->cur_ts, &l->json,
                                &h)) {
      hs__nomem_resync(l, "building an alert");
      continue;
    }
    if (!hs__produce(l, l->s->alerts_topic, ev->account_id.ptr, ev->account_id.len, l->json.data,
                     l->json.len, h.hdr, h.n, NULL))
      continue; /* lost: hs__produce asked for a resync */
    hs__count(hs__series2(l->f_alerts, hs_model_rule_id(l->model, al->rule),
                          al->state == HS_ALERT_FIRING ? "firing" : "resolved"),
              1);
  }
}

/* The partition an account id belongs to (murmur2, as Java clients). */
static int32_t home_partition(const hs_live_t *l, const void *key, size_t len) {
  return rd_kafka_msg_partitioner_murmur2(NULL, key, len, l->n_partitions, NULL, NULL);
}

/* Decodes and checks a message; returns 0 and the event, or writes the
 * reason for dead-lettering. */
int hs__check_event(hs_live_t *l, hs_decoder_t *d, const rd_kafka_message_t *m, hs_event_t *ev,
                    char *why, size_t n) {
  hs_err_t err = {0};
  int rc = hs_event_decode(d, m->payload, m->len, HS_FMT_AUTO, ev, &err);
  if (rc == HS_E_UNKNOWN)
    return snprintf(why, n, "unknown event type: \"%.*s\"", (int)ev->type_name.len,
                    ev->type_name.ptr),
           -1;
  if (rc)
    return snprintf(why, n, "invalid event: %s", err.msg), -1;
  if (!m->key || m->key_len != ev->account_id.len || memcmp(m->key, ev->account_id.ptr, m->key_len))
    return snprintf(why, n, "wrong key: the message key must be the account id \"%.*s\"",
                    (int)ev->account_id.len, ev->account_id.ptr),
           -1;
  if (home_partition(l, m->key, m->key_len) != m->partition)
    return snprintf(why, n,
                    "wrong partition: account \"%.*s\" belongs to partition %d (murmur2), not %d",
                    (int)ev->account_id.len, ev->account_id.ptr,
                    (int)home_partition(l, m->key, m->key_len), (int)m->partition),
           -1;
  if (hs_event_check_time(ev->ts_ms, (int64_t)wall_ms(), l->s->min_event_time, l->s->max_future_ms,
                          why, n))
    return -1; /* "implausible timestamp: ..." or "future timestamp: ..." */
  return 0;
}

/* The account-days an account's clock moved from `before` to `after`. */
static int64_t days_moved(int64_t before, int64_t after) {
  if (before == INT64_MIN || after <= before)
    return 0;
  int64_t d = (int64_t)hs_day_of(after) - (int64_t)hs_day_of(before);
  return d > 3660 ? 3660 : d;
}

/* Applies the entry at the head of `tp`. Returns false when it must wait
 * (its account is being read from Redis). */
bool hs__apply_entry(hs_live_t *l, group_t *g, int t, entry_t *e) {
  HS_INVARIANT(g->state == G_ACTIVE); /* a refused or revoked group applies nothing */
  const rd_kafka_message_t *m = e->m;
  if (e->ts == INT64_MIN)
    return true; /* rejected, and dead-lettered, on arrival */
  if (e->acc && e->acc->loading)
    return false;
  hs_event_t ev;
  if (e->ev.type != HS_EV_UNKNOWN) {
    hs_event_unhold(&e->ev, m->payload, &ev); /* as decoded on arrival */
  } else {
    /* not kept on arrival: a string the decoder unescaped into its own
       memory, which later messages reuse, or too many fields */
    hs_err_t err = {0};
    hs__count(l->m_decoded_again, 1);
    if (hs_event_decode(l->dec, m->payload, m->len, HS_FMT_AUTO, &ev, &err)) {
      hs__dead_letter(l, m, err.msg); /* decoded on arrival: cannot happen */
      return true;
    }
  }
  /* read again after a resync: counted apart, as a re-application */
  bool again = m->offset < *seen_at(l, g->partition, t);
  if (!again)
    hs__count(hs__event_series(l, t, ev.type), 1);
  acct_t *a = e->acc;
  if (!a) { /* no memory for it on arrival: try again */
    uint64_t h = hs_hash64(ev.account_id.ptr, ev.account_id.len, HS_HASH_SEED);
    a = hs__acct_find(l, ev.account_id.ptr, ev.account_id.len, h);
    if (!a && !(a = hs__acct_add(l, ev.account_id.ptr, ev.account_id.len, h, g->partition))) {
      hs__nomem_resync(l, "adding an account");
      return false;
    }
    e->acc = a;
    a->refs++;
  }
  if (!a->a) {
    hs__load_account(l, a); /* its answer resumes the group */
    return false;
  }
  hs__lru_touch(l, a);
  if (a->cover_part == g->partition && m->offset < a->cover[t]) {
    /* its stored state holds this event already (written before a crash,
       or by the member that had the partition before) */
    hs__count(l->m_covered, 1);
    return true;
  }
  rd_kafka_timestamp_type_t tt;
  int64_t produced = rd_kafka_message_timestamp(m, &tt);
  l->cur = a;
  l->cur_ts = produced;
  int64_t before = hs_account_clock(a->a);
  int rc = hs_account_apply(l->model, a->a, &ev, on_eval, l);
  hs__budget_spend(l, 1 + days_moved(before, hs_account_clock(a->a)));
  l->cur = NULL;
  l->cur_ts = -1;
  if (rc < 0) {
    hs__nomem_resync(l, "applying an event");
    return false;
  }
  hs__count(again                ? l->m_reapplied
            : rc == HS_APPLIED   ? l->m_applied
            : rc == HS_LATE      ? l->m_late
            : rc == HS_DUPLICATE ? l->m_dup_ids
                                 : l->m_ignored,
            1);
  if (produced > 0 && l->m_latency)
    hs_series_observe(l->m_latency, (double)((int64_t)wall_ms() - produced) / 1000.0);
  hs_series_observe(l->m_engine_delay, (double)(uv_hrtime() - e->arrived_ns) / 1e9);
  hs__mark_dirty(l, a);
  return true;
}

typedef struct load_s {
  hs_live_t *live;
  uint64_t epoch;
  size_t id_len;
  uint64_t hash;
  char id[];
} load_t;

static void on_loaded(void *ud, int status, const hs_err_t *rerr, const char *data, size_t len,
                      int32_t partition, const int64_t *cover) {
  load_t *r = ud;
  hs_live_t *l = r->live;
  acct_t *a = r->epoch == l->epoch ? hs__acct_find(l, r->id, r->id_len, r->hash) : NULL;
  hs_free(r);
  if (!a || !a->loading)
    return;
  if (status) {
    /* Redis went away, or refused the read: resume from what it holds
       (which drops this account anyway), and say so */
    hs__want_resync(l, RS_READ, "reading the state of account \"%.*s\" failed: %s",
                    (int)(a->id_len > 128 ? 128 : a->id_len), a->id,
                    rerr ? rerr->msg : "no reason given");
    return;
  }
  hs_err_t err = {0};
  if (data) {
    int rc = hs_account_decode(l->model, data, len, &a->a, &err);
    if (rc == HS_E_VERSION) {
      /* written by a newer build: overwriting it would lose what that build
         keeps, so the account's partition group stops here */
      a->a = NULL;
      a->loading = false;
      group_t *g =
          a->partition >= 0 && a->partition < l->n_partitions ? l->groups[a->partition] : NULL;
      char why[320];
      snprintf(why, sizeof why, "the stored state of account \"%.*s\" is not overwritten: %s",
               (int)(a->id_len > 128 ? 128 : a->id_len), a->id, err.msg);
      if (g)
        hs__group_refuse(l, g, "newer_version", why);
      if (!a->refs)
        hs__acct_remove(l, a);
      return;
    }
    if (rc == HS_E_NOMEM) {
      a->a = NULL;
      a->loading = false;
      hs__nomem_resync(l, "decoding an account's state");
      return;
    }
    if (rc) {
      hs_log(HS_LOG_ERROR, "redis",
             "the stored state of %.*s does not decode (%s); it starts over from empty",
             (int)a->id_len, a->id, err.msg);
      hs__count(l->m_state_reset, 1);
      a->a = NULL;
    } else {
      hs__count(l->m_loads, 1);
    }
  }
  if (!a->a && hs_account_new(l->model, (hs_str_t){a->id, a->id_len}, &a->a)) {
    a->loading = false;
    hs__nomem_resync(l, "creating an account");
    return;
  }
  a->cover_part = cover ? partition : -1;
  for (size_t t = 0; cover && t < l->n_topics; t++)
    a->cover[t] = cover[t];
  a->loading = false; /* its daily history so far is in Redis already */
  if (a->partition >= 0 && a->partition < l->n_partitions && l->groups[a->partition])
    hs__group_pump(l, l->groups[a->partition]);
}

void hs__load_account(hs_live_t *l, acct_t *a) {
  if (a->loading || a->a)
    return;
  load_t *r = hs_malloc(sizeof *r + a->id_len);
  if (!r) {
    hs__nomem_resync(l, "reading an account");
    return;
  }
  r->live = l;
  r->epoch = l->epoch;
  r->id_len = a->id_len;
  r->hash = a->hash;
  memcpy(r->id, a->id, a->id_len);
  a->loading = true;
  int rc = hs_store_get_state(l->store, (hs_str_t){a->id, a->id_len}, on_loaded, r);
  if (rc) {
    hs_free(r);
    a->loading = false;
    hs__want_resync(l, rc == HS_E_NOMEM ? RS_NOMEM : RS_UNREACHABLE,
                    "cannot read the state of an account: %s",
                    rc == HS_E_NOMEM ? "out of memory" : "Redis not connected");
  }
}

/* Ages idle accounts, from the most recently used on, within the turn's
 * budget: the pass goes on at the next turn (on_resume) where it stopped. */
void hs__idle_continue(hs_live_t *l) {
  if (stopping(l) || resync_wanted(l) || revoking(l)) {
    l->idle_pass = false;
    l->idle_next = NULL;
    return;
  }
  int64_t now = (int64_t)wall_ms() - l->s->lateness_ms;
  while (l->idle_next) {
    if (!hs__budget_left(l))
      return;
    acct_t *a = l->idle_next;
    l->idle_next = a->lru_next;
    hs__budget_spend(l, 1);
    if (!a->a || a->partition < 0 || !l->groups[a->partition] ||
        l->groups[a->partition]->state != G_ACTIVE)
      continue;
    int64_t before = hs_account_clock(a->a);
    if (before == INT64_MIN || before >= now)
      continue;
    l->cur = a;
    int rc = hs_account_advance(l->model, a->a, now, on_eval, l);
    l->cur = NULL;
    if (rc < 0) { /* part of the way, maybe: what Redis holds is sound */
      hs__nomem_resync(l, "ageing an idle account");
      l->idle_pass = false;
      l->idle_next = NULL;
      return;
    }
    if (hs_account_clock(a->a) != before)
      hs__mark_dirty(l, a);
    hs__budget_spend(l, days_moved(before, hs_account_clock(a->a)));
  }
  l->idle_pass = false;
}

void hs__on_idle_timer(uv_timer_t *t) {
  hs_live_t *l = t->data;
  if (stopping(l) || resync_wanted(l) || revoking(l) || l->idle_pass)
    return; /* a pass under way goes on */
  l->idle_pass = true;
  l->idle_next = l->lru_head;
  hs__idle_continue(l);
}
