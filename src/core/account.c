/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* An account's state: applying events, the clock and its midnight ticks. */
#include "internal.h"
#include "healthscore/time.h"

#include <string.h>

static inline size_t align8(size_t n) {
  return (n + 7) & ~(size_t)7;
}

/* An account is one allocation: the struct, its id, then the aggregates in
 * the order an evaluation reads them, so that scoring an account touches
 * neighbouring memory. Returns the block's size and, with `a`, sets the
 * pointers into it. */
static size_t layout(const hs_model_t *m, hs_account_t *a, uint32_t id_len) {
  char *base = (char *)a;
  size_t off = align8(sizeof *a);
#define PLACE(field, count)                                                                        \
  do {                                                                                             \
    if (a)                                                                                         \
      a->field = (void *)(base + off);                                                             \
    off += align8((size_t)(count) * sizeof *a->field);                                             \
  } while (0)
  PLACE(id, id_len + 1);
  PLACE(views, m->view_slots);
  PLACE(series, m->n_series);
  PLACE(scalars, m->n_scalars);
  PLACE(rules, m->n_rules);
  PLACE(hist, m->history_days);
  PLACE(ref_raw, m->max_refs);
  PLACE(ref_norm, m->max_refs);
  PLACE(ref_src, m->max_refs);
  PLACE(gw, m->max_groups);
  PLACE(gs, m->max_groups);
  PLACE(prev_norm, m->max_refs);
  PLACE(gw_prev, m->max_groups);
#undef PLACE
  return off;
}

size_t hs__account_block(const hs_model_t *m) {
  return layout(m, NULL, 0);
}

static void init(const hs_model_t *m, hs_account_t *a) {
  a->n_series = m->n_series;
  for (uint32_t i = 0; i < m->n_series; i++) {
    hs__series_state_t *st = &a->series[i];
    uint8_t op = m->series[i].op;
    st->head = INT32_MIN;
    st->last_ms = INT64_MIN;
    st->has_v = op == HS__OP_SUM || op == HS__OP_MIN || op == HS__OP_MAX;
  }
  for (uint32_t i = 0; i < m->n_views; i++)
    hs__view_clear(m, a, i);
  for (uint32_t i = 0; i < m->n_scalars; i++)
    a->scalars[i].ts = INT64_MIN;
  for (uint32_t i = 0; i < m->n_rules; i++)
    a->rules[i] = (hs__rule_state_t){false, INT64_MIN, INT64_MIN, INT64_MIN};
  for (uint32_t i = 0; i < m->history_days; i++)
    a->hist[i] = NAN;
  a->hist_head = INT32_MIN;
  a->first_ms = a->clock_ms = a->last_eval_ms = INT64_MIN;
  a->licenses = NAN;
  a->contract_start_ms = a->renewal_ms = a->attrs_ms = a->outcome_ms = INT64_MIN;
  for (uint32_t i = 0; i < HS__ATTR_FIELDS; i++)
    a->attr_ms[i] = INT64_MIN;
  a->profile = a->prev_profile = -1;
  a->selected = -1;
  a->cached = -1;
  a->band = -1;
}

int hs_account_new(const hs_model_t *m, hs_str_t account_id, hs_account_t **out) {
  hs_account_t *a = hs_calloc(1, layout(m, NULL, account_id.len));
  *out = NULL;
  if (!a)
    return HS_E_NOMEM;
  layout(m, a, account_id.len);
  a->id_len = account_id.len;
  if (account_id.len)
    memcpy(a->id, account_id.ptr, account_id.len);
  init(m, a);
  *out = a;
  return 0;
}

void hs_account_free(hs_account_t *a) {
  if (!a)
    return;
  for (uint32_t i = 0; a->series && i < a->n_series; i++) {
    hs_free(a->series[i].d);
    hs_free(a->series[i].keys);
  }
  hs_free(a->segment);
  hs_free(a->stage);
  hs_free(a->vertical);
  hs_free(a->outcome);
  for (uint32_t i = 0; i < a->n_custom; i++) {
    hs_free(a->custom_key[i]);
    hs_free(a->custom_val[i]);
  }
  hs_free(a->custom_key); /* custom_val and custom_ms share its allocation */
  for (uint32_t i = 0; i < a->n_overrides; i++) {
    hs_free(a->overrides[i].reason);
    hs_free(a->overrides[i].author);
  }
  hs_free(a->overrides);
  hs_free(a->eids);
  hs_free(a);
}

int hs__account_custom_alloc(hs_account_t *a) {
  if (a->custom_key)
    return 0;
  if (!(a->custom_key = hs_calloc(1, 2 * HS_MAX_ATTRS * sizeof *a->custom_key +
                                         HS_MAX_ATTRS * sizeof *a->custom_ms)))
    return HS_E_NOMEM;
  a->custom_val = a->custom_key + HS_MAX_ATTRS;
  a->custom_ms = (int64_t *)(a->custom_val + HS_MAX_ATTRS);
  return 0;
}

int hs__account_overrides_alloc(hs_account_t *a) {
  if (!a->overrides && !(a->overrides = hs_calloc(HS__MAX_OVERRIDES, sizeof *a->overrides)))
    return HS_E_NOMEM;
  return 0;
}

void hs_account_prefetch(const hs_model_t *m, const hs_account_t *a) {
  /* the whole block: struct, id, views, series, scalars, rules, history */
  size_t n = m->account_block + 64; /* ids are short: no need to read id_len */
#pragma GCC unroll 4
  for (size_t off = 0; off < n; off += 64)
    __builtin_prefetch((const char *)a + off);
}

void hs_account_prefetch_days(const hs_model_t *m, const hs_account_t *a, const hs_event_t *ev) {
  /* the newest day of each series the event may add to, where it lands */
  int t = ev->type;
  for (uint32_t k = 0; k < m->n_by_type_series[t]; k++) {
    const hs__series_state_t *st = &a->series[m->by_type_series[t][k]];
    if (st->n) {
      __builtin_prefetch(&st->d[st->start + st->n - 1]);
      if (st->has_v)
        __builtin_prefetch(&HS__V(st)[st->start + st->n - 1]);
    }
  }
}

static bool in_list(const char *v, char *const *list, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++)
    if (strcmp(v, list[i]) == 0)
      return true;
  return false;
}

int hs__select_profile(const hs_model_t *m, const hs_account_t *a) {
  for (uint32_t p = 0; p < m->n_profiles; p++) {
    const hs__profile_t *pr = &m->profiles[p];
    if ((int)p == m->default_profile)
      continue;
    bool all = true;
    for (uint32_t s = 0; s < pr->n_select && all; s++) {
      const char *v = NULL;
      const char *attr = pr->select[s].attr;
      if (strcmp(attr, "segment") == 0)
        v = a->segment;
      else if (strcmp(attr, "stage") == 0)
        v = a->stage;
      else if (strcmp(attr, "vertical") == 0)
        v = a->vertical;
      else
        for (uint32_t k = 0; k < a->n_custom; k++)
          if (strcmp(a->custom_key[k], attr) == 0)
            v = a->custom_val[k];
      all = in_list(v, pr->select[s].values, pr->select[s].n_values);
    }
    if (all)
      return (int)p;
  }
  return m->default_profile;
}

hs_str_t hs_account_id(const hs_account_t *a) {
  return (hs_str_t){a->id, a->id_len};
}
int64_t hs_account_clock(const hs_account_t *a) {
  return a->clock_ms;
}
uint64_t hs_account_events(const hs_account_t *a) {
  return a->n_events;
}
uint64_t hs_account_late(const hs_account_t *a) {
  return a->n_late;
}

static const char *attr_value(const hs_account_t *a, const char *name) {
  if (strcmp(name, "segment") == 0)
    return a->segment;
  if (strcmp(name, "stage") == 0)
    return a->stage;
  if (strcmp(name, "vertical") == 0)
    return a->vertical;
  for (uint32_t i = 0; i < a->n_custom; i++)
    if (strcmp(a->custom_key[i], name) == 0)
      return a->custom_val[i];
  return NULL;
}

hs_str_t hs_account_attr(const hs_account_t *a, const char *name) {
  const char *v = attr_value(a, name);
  return v ? (hs_str_t){v, (uint32_t)strlen(v)} : HS_STR_NULL;
}

size_t hs_account_memory(const hs_model_t *m, const hs_account_t *a) {
  size_t n = layout(m, NULL, a->id_len);
  for (uint32_t i = 0; i < m->n_series; i++) {
    const hs__series_state_t *st = &a->series[i];
    n += st->cap * (sizeof *st->d + (st->has_v ? sizeof(hs__dval_t) : 0));
    n += st->keys_cap * sizeof *st->keys;
  }
  n += (a->custom_key
            ? 2 * HS_MAX_ATTRS * sizeof *a->custom_key + HS_MAX_ATTRS * sizeof *a->custom_ms
            : 0) +
       (a->overrides ? HS__MAX_OVERRIDES * sizeof *a->overrides : 0);
  return n + (size_t)a->eid_cap * sizeof *a->eids;
}

/* Replaces *dst with a copy of s (empty s clears it). */
static int set_str(char **dst, hs_str_t s) {
  char *n = NULL;
  if (s.len && !(n = hs_strndup(s.ptr, s.len)))
    return HS_E_NOMEM;
  hs_free(*dst);
  *dst = n;
  return 0;
}

/* Orders two strings for ties: NULL (unset or cleared) first, then bytes. */
static int str_order(const char *cur, hs_str_t s) {
  if (!cur)
    return s.len ? 1 : 0;
  if (!s.len)
    return -1;
  size_t n = strlen(cur);
  int c = memcmp(s.ptr, cur, n < s.len ? n : s.len);
  return c ? c : (s.len > n) - (s.len < n);
}

/* True when a value of time `ts` replaces the one set at `*at`: the newer
 * wins; at the same time, the greater value (`order` > 0), so that the
 * result is a function of the events and not of their arrival. */
static bool newer(int64_t *at, int64_t ts, int order) {
  if (ts < *at || (ts == *at && order <= 0))
    return false;
  *at = ts;
  return true;
}

static int num_order(double cur, double v) {
  return isnan(cur) ? 1 : (v > cur) - (v < cur);
}

/* Account attributes are kept newest per field: an account event that
 * arrives late still sets the fields no newer event set. */
static int apply_account_event(hs_account_t *a, const hs_event_t *ev) {
  uint32_t p = ev->present;
  int64_t ts = ev->ts_ms, *at = a->attr_ms;
  if (((p & HS_FIELD_BIT(HS_F_SEGMENT)) &&
       newer(&at[HS__AF_SEGMENT], ts, str_order(a->segment, ev->segment)) &&
       set_str(&a->segment, ev->segment)) ||
      ((p & HS_FIELD_BIT(HS_F_STAGE)) &&
       newer(&at[HS__AF_STAGE], ts, str_order(a->stage, ev->stage)) &&
       set_str(&a->stage, ev->stage)) ||
      ((p & HS_FIELD_BIT(HS_F_VERTICAL)) &&
       newer(&at[HS__AF_VERTICAL], ts, str_order(a->vertical, ev->vertical)) &&
       set_str(&a->vertical, ev->vertical)))
    return HS_E_NOMEM;
  if ((p & HS_FIELD_BIT(HS_F_LICENSES)) &&
      newer(&at[HS__AF_LICENSES], ts, num_order(a->licenses, ev->licenses)))
    a->licenses = ev->licenses;
  if ((p & HS_FIELD_BIT(HS_F_CONTRACT_START)) &&
      newer(&at[HS__AF_CONTRACT_START], ts,
            (ev->contract_start_ms > a->contract_start_ms) -
                (ev->contract_start_ms < a->contract_start_ms)))
    a->contract_start_ms = ev->contract_start_ms;
  if ((p & HS_FIELD_BIT(HS_F_RENEWAL_DATE)) &&
      newer(&at[HS__AF_RENEWAL], ts,
            (ev->renewal_ms > a->renewal_ms) - (ev->renewal_ms < a->renewal_ms)))
    a->renewal_ms = ev->renewal_ms;
  for (uint32_t i = 0; i < ev->n_attrs && i < HS_MAX_ATTRS; i++) {
    uint32_t k = 0;
    while (k < a->n_custom && !hs_str_eq(ev->attr_key[i], a->custom_key[k]))
      k++;
    if (k == a->n_custom) {
      if (a->n_custom == HS_MAX_ATTRS)
        continue; /* full: further keys are not kept */
      if (hs__account_custom_alloc(a) || set_str(&a->custom_key[k], ev->attr_key[i]))
        return HS_E_NOMEM;
      a->custom_val[k] = NULL;
      a->custom_ms[k] = INT64_MIN;
      a->n_custom++;
    }
    if (newer(&a->custom_ms[k], ts, str_order(a->custom_val[k], ev->attr_val[i])) &&
        set_str(&a->custom_val[k], ev->attr_val[i]))
      return HS_E_NOMEM;
  }
  if (ts > a->attrs_ms)
    a->attrs_ms = ts;
  a->selected = -1; /* attributes changed: select the profile again */
  a->cached = -1;   /* and evaluate every metric: stage, licenses, attributes */
  return 0;
}

static int find_metric_id(const hs_model_t *m, hs_str_t id) {
  for (uint32_t i = 0; i < m->n_metrics; i++)
    if (hs_str_eq(id, m->metrics[i].id))
      return (int)i;
  return -2;
}

static void drop_override(hs_account_t *a, uint32_t i) {
  hs_free(a->overrides[i].reason);
  hs_free(a->overrides[i].author);
  a->overrides[i] = a->overrides[--a->n_overrides];
  memset(&a->overrides[a->n_overrides], 0, sizeof a->overrides[0]);
}

/* Orders two overrides of one target at the same time: the later expiry,
 * then the greater value, reason and author win. */
static int override_order(const hs__override_t *o, const hs_event_t *ev) {
  if (ev->expires_ms != o->expires_ms)
    return ev->expires_ms > o->expires_ms ? 1 : -1;
  if (ev->value != o->value)
    return ev->value > o->value ? 1 : -1;
  int c = str_order(o->reason, ev->reason);
  return c ? c : str_order(o->author, ev->author);
}

/* An override pins the score (target "score") or a metric until it expires;
 * one with an expiry not after its own time lifts the pin. Per target, the
 * newest override event wins, whatever the arrival order: a lifted pin
 * stays as an entry that is never in force, so that an older override
 * arriving after the lift does not pin again. */
static int apply_override(const hs_model_t *m, hs_account_t *a, const hs_event_t *ev) {
  a->cached = -1; /* pins change what the metrics give */
  int target = hs_str_eq(ev->target, "score") ? -1 : find_metric_id(m, ev->target);
  if (target == -2)
    return HS_IGNORED;
  uint32_t i = 0;
  while (i < a->n_overrides && a->overrides[i].metric != target)
    i++;
  if (i < a->n_overrides) {
    int64_t at = a->overrides[i].ts_ms;
    if (!newer(&at, ev->ts_ms, override_order(&a->overrides[i], ev)))
      return HS_APPLIED; /* a newer override of the target is in place */
    drop_override(a, i);
  }
  if (hs__account_overrides_alloc(a))
    return HS_E_NOMEM;
  if (a->n_overrides == HS__MAX_OVERRIDES) {
    uint32_t soonest = 0; /* full: the pin that ends first gives way */
    for (uint32_t k = 1; k < a->n_overrides; k++)
      if (a->overrides[k].expires_ms < a->overrides[soonest].expires_ms)
        soonest = k;
    if (ev->expires_ms <= ev->ts_ms)
      return HS_APPLIED; /* a lift does not push out a pin: it is not kept */
    drop_override(a, soonest);
  }
  hs__override_t *o = &a->overrides[a->n_overrides];
  o->metric = target;
  o->value = ev->value;
  o->expires_ms = ev->expires_ms;
  o->ts_ms = ev->ts_ms;
  if (set_str(&o->reason, ev->reason) || set_str(&o->author, ev->author))
    return HS_E_NOMEM;
  a->n_overrides++;
  return HS_APPLIED;
}

static bool where_matches(const hs__filter_t *f, const hs_event_t *ev) {
  for (uint32_t i = 0; i < f->n_where; i++) {
    hs_str_t v = hs_event_str(ev, f->where_field[i]);
    if (!v.len)
      return false;
    bool any = false;
    for (uint32_t j = 0; j < f->where_n[i] && !any; j++)
      any = v.len == f->where_lens[i][j] && memcmp(v.ptr, f->where_values[i][j], v.len) == 0;
    if (!any)
      return false;
  }
  return true;
}

/* Whether `ev` passes filter `f` (most filters have no conditions). */
static inline bool filter_matches(const hs__filter_t *f, const hs_event_t *ev) {
  return !f->n_where || where_matches(f, ev);
}

static int update_aggregates(const hs_model_t *m, hs_account_t *a, const hs_event_t *ev) {
  int t = ev->type;
  for (uint32_t k = 0; k < m->n_by_type_series[t]; k++) {
    uint32_t si = m->by_type_series[t][k];
    if (filter_matches(&m->series[si].filter, ev)) {
      int rc = hs__series_add(m, a, si, ev);
      if (rc < 0)
        return rc;
    }
  }
  for (uint32_t k = 0; k < m->n_by_type_scalars[t]; k++) {
    uint32_t ci = m->by_type_scalars[t][k];
    const hs__scalar_t *s = &m->scalars[ci];
    hs__scalar_state_t *st = &a->scalars[ci];
    if (!filter_matches(&s->filter, ev) || ev->ts_ms < st->ts)
      continue;
    if (s->kind == HS__SCALAR_LATEST) {
      double v;
      if (!hs_event_num(ev, s->field, &v))
        continue;
      if (ev->ts_ms == st->ts && !(v > st->value))
        continue; /* two values at one time: the greater, in any arrival order */
      st->value = v;
    }
    st->ts = ev->ts_ms;
    a->dirty_scalars |= hs__dirty_bit(ci);
  }
  return 0;
}

/* Sets the clock to `t` if ahead, moving every series to its UTC day. */
static void set_clock(const hs_model_t *m, hs_account_t *a, int64_t t) {
  if (a->clock_ms != INT64_MIN && t <= a->clock_ms)
    return;
  int32_t day = hs_day_of(t);
  if (a->clock_ms == INT64_MIN || day > hs_day_of(a->clock_ms))
    hs__series_advance(m, a, day);
  a->clock_ms = t;
}

static int emit_eval(const hs_model_t *m, hs_account_t *a, int64_t at, const hs_event_t *ev,
                     hs_eval_cb cb, void *ud) {
  hs_eval_t e;
  hs__evaluate(m, a, at, ev, &e);
  if (cb)
    cb(ud, a, &e);
  return 0;
}

/* Evaluates the UTC midnights in (last evaluation, t]. Every midnight
 * counts ("days since" grows, windows empty on their own days), so only an
 * absurd gap is cut short: beyond HS__MAX_TICK_DAYS, the earliest midnights
 * are skipped. */
#define HS__MAX_TICK_DAYS 3660
/* At most `max` of them; returns how many remain (or HS_E_NOMEM). The days
 * skipped depend only on `t` and the last evaluation, so evaluating them in
 * several calls gives the same evaluations as one call. */
static int64_t catch_up(const hs_model_t *m, hs_account_t *a, int64_t t, int64_t max, hs_eval_cb cb,
                        void *ud) {
  if (a->last_eval_ms == INT64_MIN)
    return 0;
  int64_t first = (int64_t)hs_day_of(a->last_eval_ms) + 1;
  int64_t last = hs_day_of(t);
  if (last - first + 1 > HS__MAX_TICK_DAYS)
    first = last - HS__MAX_TICK_DAYS + 1;
  for (int64_t d = first; d <= last; d++) {
    int64_t mid = d * HS_MS_PER_DAY;
    if (mid <= a->last_eval_ms)
      continue;
    if (max-- <= 0)
      return last - d + 1;
    set_clock(m, a, mid);
    int rc = emit_eval(m, a, a->clock_ms, NULL, cb, ud);
    if (rc)
      return rc;
  }
  return 0;
}

int hs_account_apply(const hs_model_t *m, hs_account_t *a, const hs_event_t *ev, hs_eval_cb cb,
                     void *ud) {
  if (a->clock_ms != INT64_MIN && m->horizon_days > 0 &&
      hs_day_of(ev->ts_ms) <= hs_day_of(a->clock_ms) - (int32_t)m->horizon_days) {
    a->n_late++;
    return HS_LATE;
  }
  /* an event whose id was applied (and is remembered) is dropped whole:
     same id, same event, the first applied wins */
  uint64_t id_hash = 0;
  uint32_t slot = UINT32_MAX;
  if (ev->event_id.len && m->dedup_days) {
    id_hash = hs__eid_hash(ev->event_id);
    if (hs__eid_known(a, id_hash, hs__eid_cutoff(m, a), &slot))
      return HS_DUPLICATE;
  }
  int rc = (int)catch_up(m, a, ev->ts_ms, INT64_MAX, cb, ud);
  if (rc)
    return rc;
  set_clock(m, a, ev->ts_ms);
  /* an event older than the window is applied but not remembered: a
     redelivery of it counts again, as it would once forgotten */
  if (id_hash && hs_day_of(ev->ts_ms) > hs__eid_cutoff(m, a) &&
      (rc = hs__eid_add(m, a, id_hash, hs_day_of(ev->ts_ms), slot)))
    return rc;
  if (a->first_ms == INT64_MIN || ev->ts_ms < a->first_ms)
    a->first_ms = ev->ts_ms;
  a->n_events++;
  int result = HS_APPLIED;
  if (ev->type == HS_EV_ACCOUNT) {
    rc = apply_account_event(a, ev);
  } else if (ev->type == HS_EV_OUTCOME) {
    if (newer(&a->outcome_ms, ev->ts_ms, str_order(a->outcome, ev->outcome)))
      rc = set_str(&a->outcome, ev->outcome); /* the newest outcome */
    result = HS_IGNORED;
  } else if (ev->type == HS_EV_OVERRIDE) {
    rc = apply_override(m, a, ev);
    if (rc > 0) {
      result = rc;
      rc = 0;
    }
  }
  if (rc < 0)
    return rc;
  if ((rc = update_aggregates(m, a, ev)) < 0)
    return rc;
  if (result == HS_IGNORED)
    return result;
  rc = emit_eval(m, a, a->clock_ms, ev, cb, ud);
  return rc < 0 ? rc : result;
}

int hs_account_advance(const hs_model_t *m, hs_account_t *a, int64_t now_ms, hs_eval_cb cb,
                       void *ud) {
  if (a->clock_ms == INT64_MIN || now_ms <= a->clock_ms)
    return 0;
  return (int)catch_up(m, a, now_ms, INT64_MAX, cb, ud);
}

int64_t hs_account_advance_some(const hs_model_t *m, hs_account_t *a, int64_t now_ms,
                                uint32_t max_days, hs_eval_cb cb, void *ud) {
  if (a->clock_ms == INT64_MIN || now_ms <= a->clock_ms)
    return 0;
  return catch_up(m, a, now_ms, max_days, cb, ud);
}

void hs_alert_id_hex(uint64_t id, char out[17]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--) {
    out[i] = hex[id & 15];
    id >>= 4;
  }
  out[16] = 0;
}
