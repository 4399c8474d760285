/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Internals of the scoring core, private to src/core (the state codec in
 * src/state sees only the layout, layout.h). Not a public interface.
 *
 * Data model. A compiled model turns metric definitions into:
 *  - series: daily aggregates of matching events over the last `days` UTC
 *    days (count, sum, min/max, or distinct keys by their last-seen day),
 *    kept sparse: only the days that received data are stored.
 *    Metrics that count the same thing share one series;
 *  - views: running totals of one series over the last `w` days, updated in
 *    O(1) per event and per day the clock advances (amortised);
 *  - scalars: last-seen time (days_since) and latest value (latest).
 * Derived metrics (ratio, trend, slope, per-normalisation) read other
 * metrics. An account holds the state of every series, view and scalar, its
 * attributes, overrides, a daily score history and each alert rule's state. */
#ifndef HS_CORE_INTERNAL_H
#define HS_CORE_INTERNAL_H

#include "layout.h"

#include "healthscore/core.h"
#include "healthscore/time.h"

#include <math.h>
#include <string.h>

/* A view's state: its parts from the account's view area; the parts the
 * view does not keep read as empty (sums of a series without values are
 * always 0, and nothing reads the others). */
static inline void hs__view_load(const hs_model_t *m, const hs_account_t *a, uint32_t vi,
                                 hs__view_state_t *vs) {
  const hs__view_t *v = &m->views[vi];
  const int64_t *p = a->views + v->slot;
  uint8_t parts = v->parts;
  vs->cnt = *p++;
  vs->sum = parts & HS__VP_SUM ? *p++ : 0;
  vs->s1_cnt = parts & HS__VP_SLOPE ? *p++ : 0;
  vs->s1_sum = (parts & HS__VP_SLOPE) && (parts & HS__VP_SUM) ? *p++ : 0;
  if (parts & HS__VP_EXT) {
    memcpy(&vs->ext, p, sizeof vs->ext);
    vs->ext_valid = p[1] != 0;
  } else {
    vs->ext = NAN;
    vs->ext_valid = true;
  }
}

static inline void hs__view_store(const hs_model_t *m, hs_account_t *a, uint32_t vi,
                                  const hs__view_state_t *vs) {
  const hs__view_t *v = &m->views[vi];
  int64_t *p = a->views + v->slot;
  uint8_t parts = v->parts;
  *p++ = vs->cnt;
  if (parts & HS__VP_SUM)
    *p++ = vs->sum;
  if (parts & HS__VP_SLOPE)
    *p++ = vs->s1_cnt;
  if ((parts & HS__VP_SLOPE) && (parts & HS__VP_SUM))
    *p++ = vs->s1_sum;
  if (parts & HS__VP_EXT) {
    memcpy(p, &vs->ext, sizeof vs->ext);
    p[1] = vs->ext_valid;
  }
}

/* An empty view: no count, no extremum. */
static inline void hs__view_clear(const hs_model_t *m, hs_account_t *a, uint32_t vi) {
  hs__view_state_t vs = {0};
  vs.ext = NAN;
  vs.ext_valid = true;
  hs__view_store(m, a, vi, &vs);
}

/* Adds a matching event to series `si` (no-op if older than its days). Returns 0
 * or HS_E_NOMEM. */
int hs__series_add(const hs_model_t *m, hs_account_t *a, uint32_t si, const hs_event_t *ev);
/* Moves every series of `a` forward to `new_head`, expiring days and keeping
 * the views' totals. */
void hs__series_advance(const hs_model_t *m, hs_account_t *a, int32_t new_head);
/* Recomputes a min/max view's extremum from the days the series keeps. */
void hs__view_recompute_ext(const hs_model_t *m, hs_account_t *a, uint32_t vi);

/* Fills, per profile of `m` (its metrics, views and profiles compiled), the
 * metrics it needs and what each of its refs depends on (model_refs.c).
 * Returns 0 or HS_E_NOMEM. */
int hs__compile_needed(hs_model_t *m);

/* The profile whose selectors `a` matches (the first in order), else the
 * default one (account.c). */
int hs__select_profile(const hs_model_t *m, const hs_account_t *a);
/* Evaluates `a` at time t (its clock): score, history, alert rules; fills
 * `e` and makes this the previous evaluation. */
void hs__evaluate(const hs_model_t *m, hs_account_t *a, int64_t t, const hs_event_t *ev,
                  hs_eval_t *e);

/* The alert rules at evaluation `e` of `a` at time t (its score, history
 * recorded): fires and resolves them into e->alerts (rules.c). */
void hs__eval_rules(const hs_model_t *m, hs_account_t *a, int64_t t, hs_eval_t *e);
/* Fills the explanation of score `s`, the account's last evaluation, at
 * time t (for an alert's top contributors). */
void hs__explain_eval(const hs_model_t *m, const hs_account_t *a, int64_t t, hs_score_t *s);

/* The hash an event id is remembered by: never 0. */
uint64_t hs__eid_hash(hs_str_t event_id);
/* Ids of events of this UTC day or before are forgotten: the dedup window
 * before the account's day (INT32_MIN before its first event). With the
 * window at the horizon, the last day an event of the account is late on. */
static inline int32_t hs__eid_cutoff(const hs_model_t *m, const hs_account_t *a) {
  if (a->clock_ms == INT64_MIN)
    return INT32_MIN;
  return hs_day_of(a->clock_ms) - (int32_t)m->dedup_days;
}
/* The 8 bytes of a slot's hash as one word, and of `hash` the same way. */
static inline uint64_t hs__eid_word(const hs__eid_t *e) {
  uint64_t w;
  memcpy(&w, e, sizeof w);
  return w;
}
static inline uint64_t hs__eid_key(uint64_t hash) {
  hs__eid_t e = {(uint32_t)hash, (uint32_t)(hash >> 32), 0};
  return hs__eid_word(&e);
}
static inline bool hs__eid_used(const hs__eid_t *e) {
  return hs__eid_word(e) != 0;
}
/* The slot of a table of `cap` holding `key` (hs__eid_key), or the empty
 * slot where it goes. */
static inline uint32_t hs__eid_find(const hs__eid_t *t, uint32_t cap, uint64_t key) {
  uint32_t mask = cap - 1;
  for (uint32_t i = (uint32_t)key & mask;; i = (i + 1) & mask) {
    uint64_t w = hs__eid_word(&t[i]);
    if (w == key || !w)
      return i;
  }
}

/* True when `hash` is remembered (an event with that id was applied and its
 * day is after `cutoff`). Else sets *slot to where hs__eid_add puts it. */
static inline bool hs__eid_known(const hs_account_t *a, uint64_t hash, int32_t cutoff,
                                 uint32_t *slot) {
  if (!a->eids) {
    *slot = UINT32_MAX;
    return false;
  }
  uint32_t i = hs__eid_find(a->eids, a->eid_cap, hs__eid_key(hash));
  if (hs__eid_used(&a->eids[i]) && a->eids[i].day > cutoff)
    return true;
  *slot = i;
  return false;
}

/* Remembers `hash` with `day` when the table must be built anew first (it
 * is full, or past the cap). */
int hs__eid_add_slow(const hs_model_t *m, hs_account_t *a, uint64_t hash, int32_t day);

/* Remembers `hash` with `day`, at `slot` from hs__eid_known (UINT32_MAX:
 * none) under the cutoff of the account's clock. Returns 0 or HS_E_NOMEM. */
static inline int hs__eid_add(const hs_model_t *m, hs_account_t *a, uint64_t hash, int32_t day,
                              uint32_t slot) {
  if (slot != UINT32_MAX && hs__eid_used(&a->eids[slot])) {
    a->eids[slot].day = day; /* forgotten, and applied again: remembered anew */
    return 0;
  }
  /* the cap counts the ids remembered: past it, first make sure of them */
  if (slot == UINT32_MAX || a->eid_n >= HS__MAX_EVENT_IDS || (a->eid_n + 1) * 4 > a->eid_cap * 3)
    return hs__eid_add_slow(m, a, hash, day);
  a->eids[slot] = (hs__eid_t){(uint32_t)hash, (uint32_t)(hash >> 32), day};
  a->eid_n++;
  return 0;
}

#endif
