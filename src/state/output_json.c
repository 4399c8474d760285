/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The JSON documents the engine publishes: alert messages and score records
 * (schemas/alert.schema.json, schemas/score.schema.json). Numbers are
 * rounded to fixed decimals so that output is stable; NAN becomes null. */
#include "healthscore/output.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define lit(b, s) hs_buf_append((b), s, sizeof s - 1)

/* ,"key": */
static int key_colon(hs_buf_t *b, const char *key) {
  size_t n = strlen(key);
  int rc = hs_buf_reserve(b, n + 4);
  if (rc)
    return rc;
  char *p = b->data + b->len;
  p[0] = ',';
  p[1] = '"';
  memcpy(p + 2, key, n);
  p[n + 2] = '"';
  p[n + 3] = ':';
  b->len += n + 4;
  return 0;
}

/* The integer k / 10^decimals in fixed notation: what printf("%.*f") prints
 * for the double nearest to it, without printf's cost. */
static int fixed(hs_buf_t *b, int64_t k, int decimals) {
  char tmp[32], *p = tmp + sizeof tmp;
  uint64_t u = k < 0 ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;
  for (int i = 0; i < decimals; i++, u /= 10)
    *--p = (char)('0' + u % 10);
  if (decimals)
    *--p = '.';
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (k < 0)
    *--p = '-';
  return hs_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

static int num(hs_buf_t *b, const char *key, double v, int decimals) {
  static const double scales[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  int rc = key_colon(b, key);
  if (rc || isnan(v) || !isfinite(v))
    return rc ? rc : hs_buf_append(b, "null", 4);
  double scale = scales[decimals], r = round(v * scale);
  if (fabs(r) < 1e15) /* exact in a double, and so in printf's digits */
    return fixed(b, (int64_t)r, decimals);
  v = r / scale;
  return hs_buf_printf(b, "%.*f", decimals, v == 0 ? 0.0 : v); /* no negative zero */
}

static int str(hs_buf_t *b, const char *key, const char *s, size_t n) {
  int rc = key_colon(b, key);
  return rc | hs_buf_json_str(b, s, n);
}

static int zstr(hs_buf_t *b, const char *key, const char *s) {
  return str(b, key, s, strlen(s));
}

static int time_field(hs_buf_t *b, const char *key, int64_t ms) {
  char t[32];
  hs_time_format(ms, t);
  int rc = key_colon(b, key);
  return rc | hs_buf_json_str(b, t, strlen(t));
}

static const char *const sources[] = {"missing", "data", "missing_worst", "missing_value",
                                      "override"};

static int metric(hs_buf_t *b, const hs_model_t *m, const hs_score_t *s,
                  const hs_metric_result_t *mr, bool full) {
  const char *id = hs_model_metric_id(m, mr->metric);
  int rc = lit(b, "{\"metric\":");
  rc |= hs_buf_json_str(b, id, strlen(id));
  rc |= zstr(b, "label", hs_model_metric_label(m, mr->metric));
  if (full) {
    const char *g = hs_model_group_name(m, s->profile, mr->group);
    rc |= zstr(b, "group", g ? g : "");
    rc |= zstr(b, "source", sources[mr->source < 5 ? mr->source : 0]);
  }
  rc |= num(b, "value", mr->raw, 3);
  rc |= num(b, "normalized", mr->norm, 1);
  if (full)
    rc |= num(b, "weight", mr->weight, 4);
  rc |= num(b, "contribution", mr->contribution, 2);
  rc |= num(b, "delta", mr->delta, 2);
  return rc | lit(b, "}");
}

static int head(hs_buf_t *b, const hs_model_t *m, const hs_eval_t *ev) {
  int rc = str(b, "account_id", ev->account_id.ptr, ev->account_id.len);
  rc |= zstr(b, "profile", hs_model_profile_name(m, ev->score.profile));
  rc |= zstr(b, "profile_version", hs_model_profile_version(m, ev->score.profile));
  return rc;
}

static int event_id(hs_buf_t *b, const hs_eval_t *ev) {
  if (!ev->event)
    return lit(b, ",\"event_id\":null");
  return str(b, "event_id", ev->event->event_id.ptr, ev->event->event_id.len);
}

int hs_output_alert_json(const hs_model_t *m, const hs_eval_t *ev, const hs_alert_t *al,
                         int64_t processed_ms, hs_buf_t *out) {
  char id[17];
  hs_alert_id_hex(al->alert_id, id);
  int rc = hs_buf_printf(out, "{\"schema_version\":1,\"alert_id\":\"%s\",\"state\":\"%s\"", id,
                         al->state == HS_ALERT_FIRING ? "firing" : "resolved");
  rc |= head(out, m, ev);
  rc |= zstr(out, "rule", hs_model_rule_id(m, al->rule));
  rc |= zstr(out, "rule_kind", hs_rule_kind_name(hs_model_rule_kind(m, al->rule)));
  rc |= zstr(out, "severity", hs_model_rule_severity(m, al->rule));
  rc |= num(out, "score", al->score, 1);
  rc |= num(out, "previous_score", al->prev_score, 1);
  rc |= zstr(out, "band", hs_model_band_name(m, al->band));
  rc |= time_field(out, "episode_started_at", al->episode_start_ms);
  rc |= event_id(out, ev);
  rc |= time_field(out, "event_time", ev->at_ms);
  rc |= time_field(out, "processed_at", processed_ms);
  rc |= lit(out, ",\"top_contributors\":[");
  for (uint32_t i = 0; i < al->n_top; i++) {
    if (i)
      rc |= lit(out, ",");
    rc |= metric(out, m, &ev->score, &ev->score.metrics[al->top[i]], false);
  }
  rc |= lit(out, "]}");
  return rc ? HS_E_NOMEM : 0;
}

static int score_json(const hs_model_t *m, const hs_eval_t *ev, bool explain, hs_buf_t *out) {
  const hs_score_t *s = &ev->score;
  int rc = lit(out, "{\"schema_version\":1");
  rc |= head(out, m, ev);
  rc |= num(out, "score", s->has_score ? s->score : NAN, 1);
  rc |= zstr(out, "band", hs_model_band_name(m, s->band));
  rc |= num(out, "coverage", s->coverage, 3);
  rc |= time_field(out, "updated_at", ev->at_ms);
  rc |= event_id(out, ev);
  rc |= lit(out, ",\"groups\":[");
  for (uint32_t g = 0; g < s->n_groups; g++) {
    const char *name = hs_model_group_name(m, s->profile, g);
    rc |= (g ? lit(out, ",{\"name\":") : lit(out, "{\"name\":"));
    rc |= hs_buf_json_str(out, name, strlen(name));
    rc |= num(out, "score", s->group_score[g], 1);
    rc |= num(out, "weight", s->group_weight[g], 4);
    rc |= lit(out, "}");
  }
  rc |= lit(out, "]");
  if (explain) {
    rc |= lit(out, ",\"metrics\":[");
    for (uint32_t i = 0; i < s->n_metrics; i++) {
      if (i)
        rc |= lit(out, ",");
      rc |= metric(out, m, s, &s->metrics[i], true);
    }
    rc |= lit(out, "]");
  }
  /* top contributors: the metrics with the largest contributions */
  rc |= lit(out, ",\"top_contributors\":[");
  bool used[HS_MAX_PROFILE_METRICS] = {0};
  for (int k = 0; k < HS_TOP_CONTRIBUTORS; k++) {
    int best = -1;
    for (uint32_t i = 0; i < s->n_metrics; i++)
      if (!used[i] && s->metrics[i].contribution > 0 &&
          (best < 0 || s->metrics[i].contribution > s->metrics[best].contribution))
        best = (int)i;
    if (best < 0)
      break;
    used[best] = true;
    const char *id = hs_model_metric_id(m, s->metrics[best].metric);
    rc |= (k ? lit(out, ",") : 0);
    rc |= hs_buf_json_str(out, id, strlen(id));
  }
  rc |= lit(out, "]");
  if (s->override.active) {
    rc |= hs_buf_printf(out, ",\"override\":{\"value\":%.1f", s->override.value);
    rc |= time_field(out, "expires_at", s->override.expires_ms);
    rc |= str(out, "reason", s->override.reason.ptr, s->override.reason.len);
    rc |= str(out, "author", s->override.author.ptr, s->override.author.len);
    rc |= lit(out, "}");
  }
  rc |= lit(out, "}");
  return rc ? HS_E_NOMEM : 0;
}

int hs_output_score_json(const hs_model_t *m, const hs_eval_t *ev, hs_buf_t *out) {
  return score_json(m, ev, true, out);
}

int hs_output_account_json(const hs_model_t *m, const hs_account_t *a, int64_t at_ms, bool explain,
                           hs_buf_t *out) {
  hs_eval_t *ev = hs_malloc(sizeof *ev);
  if (!ev)
    return HS_E_NOMEM;
  memset(ev, 0, offsetof(hs_eval_t, score));
  ev->account_id = hs_account_id(a);
  ev->at_ms = at_ms > hs_account_clock(a) ? at_ms : hs_account_clock(a);
  hs_account_score(m, a, at_ms, &ev->score);
  ev->prev_score = NAN;
  int rc = score_json(m, ev, explain, out);
  hs_free(ev);
  return rc;
}

int hs_output_account_history_json(const hs_model_t *m, const hs_account_t *a, hs_buf_t *out) {
  size_t start = out->len;
  if (hs_output_account_json(m, a, INT64_MIN, true, out))
    return HS_E_NOMEM;
  /* add the daily history before the closing brace */
  if (out->len > start && out->data[out->len - 1] == '}') {
    out->len--;
    int rc = hs_buf_printf(out, ",\"history\":{");
    int32_t last = hs_account_history_last(a);
    bool first = true;
    for (int32_t d = last - 90; last != INT32_MIN && d <= last; d++) {
      double v = hs_account_history_day(m, a, d);
      if (isnan(v))
        continue;
      char day[32];
      hs_time_format((int64_t)d * HS_MS_PER_DAY, day);
      rc |= hs_buf_printf(out, "%s\"%.10s\":%.1f", first ? "" : ",", day, v);
      first = false;
    }
    rc |= hs_buf_printf(out, "}}");
    if (rc)
      return HS_E_NOMEM;
  }
  return 0;
}
