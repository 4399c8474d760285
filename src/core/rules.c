/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The alert rules of an evaluation (threshold, band, trend, slope), over the
 * account's daily score history, and the history's accessors. */
#include "internal.h"
#include "healthscore/time.h"
#include "healthscore/hash.h"

#include <math.h>

/* The last daily score at or before `day` still in the history, or NAN.
 * Scores are kept as floats: rounded again, they are the published score
 * exactly (the same double as the evaluation's). */
static double history_at(const hs_model_t *m, const hs_account_t *a, int32_t day) {
  uint32_t n = m->history_days;
  for (int32_t d = day; d > a->hist_head - (int32_t)n; d--) {
    if (d > a->hist_head)
      continue;
    float v = a->hist[hs__series_slot(d, n)];
    if (!isnan(v))
      return hs_score_round(v);
  }
  return NAN;
}

/* Least-squares slope of the daily scores over the last `w` days; NAN with
 * fewer than three scored days. */
static double history_slope(const hs_model_t *m, const hs_account_t *a, uint32_t w) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (uint32_t k = 0; k < w && k < m->history_days; k++) {
    float f = a->hist[hs__series_slot(a->hist_head - (int32_t)k, m->history_days)];
    if (isnan(f))
      continue;
    double x = -(double)k, v = hs_score_round(f);
    n++;
    sx += x;
    sy += v;
    sxx += x * x;
    sxy += x * v;
  }
  double den = n * sxx - sx * sx;
  return n >= 3 && den > 0 ? (n * sxy - sx * sy) / den : NAN;
}

static void top_contributors(const hs_score_t *s, bool firing, bool by_delta, hs_alert_t *al) {
  /* metrics whose contribution fell most (rose most, for resolved); if none
     moved, or for rules about change over days, those that cost the most
     points */
  double key[HS_MAX_PROFILE_METRICS];
  bool moved = false;
  for (uint32_t i = 0; by_delta && i < s->n_metrics; i++)
    moved |= fabs(s->metrics[i].delta) >= 0.01;
  for (uint32_t i = 0; i < s->n_metrics; i++) {
    const hs_metric_result_t *mr = &s->metrics[i];
    if (moved)
      key[i] = firing ? -mr->delta : mr->delta;
    else
      key[i] = firing ? mr->weight * (100 - (isnan(mr->norm) ? 100 : mr->norm)) : mr->contribution;
  }
  al->n_top = 0;
  for (uint32_t k = 0; k < HS_TOP_CONTRIBUTORS; k++) {
    int best = -1;
    for (uint32_t i = 0; i < s->n_metrics; i++) {
      bool taken = false;
      for (uint32_t j = 0; j < al->n_top; j++)
        taken |= al->top[j] == i;
      if (!taken && key[i] > 0.005 && (best < 0 || key[i] > key[best]))
        best = (int)i;
    }
    if (best < 0)
      break;
    al->top[al->n_top++] = (uint16_t)best;
  }
}

static uint64_t alert_id(const hs_account_t *a, const hs__rule_t *r, int64_t start) {
  uint64_t h = hs_hash64(a->id, a->id_len, HS_HASH_SEED);
  h = hs_hash64(&r->key, sizeof r->key, h);
  return hs_hash64(&start, sizeof start, h);
}

void hs__eval_rules(const hs_model_t *m, hs_account_t *a, int64_t t, hs_eval_t *e) {
  const hs_score_t *s = &e->score;
  const int32_t day = hs_day_of(t);
  const uint64_t pbit = UINT64_C(1) << s->profile;
  const hs__rule_t *r = m->rules;
  hs__rule_state_t *st = a->rules;
  for (uint32_t i = 0; i < m->n_rules; i++, r++, st++) {
    bool applies = (!r->profiles || (r->profiles & pbit)) &&
                   (r->warmup_ms == 0 || t - a->first_ms >= r->warmup_ms);
    if (!applies && !st->open) { /* neither fires nor resolves */
      st->pending_since = INT64_MIN;
      continue;
    }
    double ref = e->prev_score, value = s->score;
    bool fire_cond = false, clear_cond = !applies;
    if (applies && s->has_score) {
      switch (r->kind) {
      case HS_RULE_THRESHOLD:
      case HS_RULE_BAND:
        fire_cond = value < r->level;
        clear_cond = value >= r->level + r->hysteresis;
        break;
      case HS_RULE_TREND: {
        ref = history_at(m, a, day - (int32_t)r->lookback_days);
        if (isnan(ref))
          break;
        /* in tenths, as the published scores give it: a drop from 83.2 to
           68.2 is 15.0 points exactly */
        double change = (double)(llround(value * 10) - llround(ref * 10)) / 10.0;
        if (r->drop_percent)
          change = ref > 0 ? change / ref * 100.0 : 0;
        fire_cond = change <= -r->drop;
        clear_cond = change > -r->drop + r->hysteresis;
        break;
      }
      case HS_RULE_SLOPE: {
        double sl = history_slope(m, a, r->window_days);
        if (isnan(sl))
          break;
        fire_cond = sl <= r->slope;
        clear_cond = sl > r->slope + r->hysteresis;
        break;
      }
      default:
        break;
      }
    }
    hs_alert_t *al = &e->alerts[e->n_alerts];
    if (!st->open) {
      if (!fire_cond) {
        st->pending_since = INT64_MIN;
        continue;
      }
      if (st->pending_since == INT64_MIN)
        st->pending_since = t;
      if (t - st->pending_since < r->pending_ms ||
          (st->cooldown_until != INT64_MIN && t < st->cooldown_until))
        continue;
      st->open = true;
      st->episode_start = t;
      st->pending_since = INT64_MIN;
      al->state = HS_ALERT_FIRING;
    } else {
      if (!clear_cond)
        continue;
      st->open = false;
      st->cooldown_until = t + r->cooldown_ms;
      al->state = HS_ALERT_RESOLVED;
    }
    al->rule = (uint16_t)i;
    al->alert_id = alert_id(a, r, st->episode_start);
    al->episode_start_ms = st->episode_start;
    al->score = value;
    al->prev_score = ref;
    al->band = s->band;
    if (!e->score.explained) /* the top contributors read it */
      hs__explain_eval(m, a, t, &e->score);
    top_contributors(s, al->state == HS_ALERT_FIRING,
                     r->kind == HS_RULE_THRESHOLD || r->kind == HS_RULE_BAND, al);
    e->n_alerts++;
  }
}

int32_t hs_account_history_last(const hs_account_t *a) {
  return a->hist_head;
}

double hs_account_history_day(const hs_model_t *m, const hs_account_t *a, int32_t day) {
  uint32_t n = m->history_days;
  if (a->hist_head == INT32_MIN || day > a->hist_head || day <= a->hist_head - (int32_t)n)
    return NAN;
  return a->hist[hs__series_slot(day, n)];
}
