/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The JSON documents the engine publishes: alert messages and score records
 * (schemas/alert.schema.json, schemas/score.schema.json). Numbers are
 * rounded to fixed decimals so that output is stable; NAN becomes null. */
#include "healthscore/state.h"
#include "healthscore/time.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
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

/* The PagerDuty summary limit: 1024 bytes. */
#define SUMMARY_MAX 1024

/* One sentence saying what happened, for people and paging tools. */
static int summary(hs_buf_t *out, const hs_model_t *m, const hs_eval_t *ev, const hs_alert_t *al) {
  hs_buf_t b;
  hs_buf_init(&b);
  int rc = hs_buf_printf(&b, "Health score alert %s %s for account %.*s: score ",
                         hs_model_rule_id(m, al->rule),
                         al->state == HS_ALERT_FIRING ? "firing" : "resolved",
                         (int)ev->account_id.len, ev->account_id.ptr);
  rc |= isfinite(al->score) ? hs_buf_printf(&b, "%.1f", al->score) : lit(&b, "unknown");
  if (isfinite(al->prev_score))
    rc |= hs_buf_printf(&b, " (was %.1f)", al->prev_score);
  rc |= hs_buf_printf(&b, ", band %s.", hs_model_band_name(m, al->band));
  size_t n = b.len;
  if (n > SUMMARY_MAX) { /* cut at a character boundary */
    n = SUMMARY_MAX;
    while (n && ((unsigned char)b.data[n] & 0xC0) == 0x80)
      n--;
  }
  if (!rc)
    rc = str(out, "summary", b.data, n);
  hs_buf_free(&b);
  return rc;
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
  rc |= summary(out, m, ev, al);
  rc |= str(out, "dedup_key", id, 16);
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

/* The score record of `ev` with its score `s` (explained). */
static int score_json(const hs_model_t *m, const hs_eval_t *ev, const hs_score_t *s, bool explain,
                      hs_buf_t *out) {
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

int hs_output_score_json(const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev,
                         hs_buf_t *out) {
  if (ev->score.explained)
    return score_json(m, ev, &ev->score, true, out);
  hs_score_t s;
  hs_eval_explain(m, a, ev, &s);
  return score_json(m, ev, &s, true, out);
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
  int rc = score_json(m, ev, &ev->score, explain, out);
  hs_free(ev);
  return rc;
}

/* ---- CloudEvents ---------------------------------------------------------- */

static const char *state_name(const hs_alert_t *al) {
  return al->state == HS_ALERT_FIRING ? "firing" : "resolved";
}

void hs_alert_ce_source(const hs_alert_envelope_t *env, char *out, size_t n) {
  if (!n)
    return;
  if (env->source && *env->source) {
    snprintf(out, n, "%s", env->source);
    return;
  }
  static const char hex[] = "0123456789ABCDEF";
  const char *g = env->group_id ? env->group_id : "";
  size_t k = (size_t)snprintf(out, n, "healthscore/");
  for (; *g && k + 4 <= n; g++) {
    unsigned char c = (unsigned char)*g;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-._~", c)) {
      out[k++] = (char)c;
    } else { /* RFC 3986 unreserved characters only */
      out[k++] = '%';
      out[k++] = hex[c >> 4];
      out[k++] = hex[c & 15];
    }
  }
  out[k < n ? k : n - 1] = 0;
}

static void header(hs_alert_headers_t *h, const char *name, const char *value) {
  h->hdr[2 * h->n] = name;
  h->hdr[2 * h->n + 1] = value;
  h->n++;
}

int hs_output_alert_message(const hs_model_t *m, const hs_eval_t *ev, const hs_alert_t *al,
                            int64_t processed_ms, const hs_alert_envelope_t *env,
                            int64_t source_ts_ms, hs_buf_t *value, hs_alert_headers_t *h) {
  char aid[17];
  hs_alert_id_hex(al->alert_id, aid);
  memset(h, 0, sizeof *h);
  snprintf(h->id, sizeof h->id, "%s-%s", aid, state_name(al));
  snprintf(h->type, sizeof h->type, "%s%s", HS_ALERT_CE_TYPE_PREFIX, state_name(al));
  hs_time_format(ev->at_ms, h->time);
  hs_alert_ce_source(env, h->source, sizeof h->source);
  size_t n = ev->account_id.len < HS_ALERT_SUBJECT_MAX ? ev->account_id.len : HS_ALERT_SUBJECT_MAX;
  memcpy(h->subject, ev->account_id.ptr, n);
  h->subject[n] = 0;
  int rc = 0;
  if (env->format == HS_ALERT_STRUCTURED) {
    header(h, "content-type", "application/cloudevents+json; charset=UTF-8");
    rc |= lit(value, "{\"specversion\":\"" HS_ALERT_CE_SPECVERSION "\"");
    rc |= zstr(value, "id", h->id);
    rc |= zstr(value, "source", h->source);
    rc |= zstr(value, "type", h->type);
    rc |= str(value, "subject", ev->account_id.ptr, ev->account_id.len);
    rc |= zstr(value, "time", h->time);
    rc |= lit(value,
              ",\"datacontenttype\":\"application/json\",\"dataschema\":\"" HS_ALERT_CE_DATASCHEMA
              "\",\"data\":");
    rc |= hs_output_alert_json(m, ev, al, processed_ms, value);
    rc |= lit(value, "}");
  } else {
    header(h, "ce_specversion", HS_ALERT_CE_SPECVERSION);
    header(h, "ce_id", h->id);
    header(h, "ce_source", h->source);
    header(h, "ce_type", h->type);
    header(h, "ce_time", h->time);
    header(h, "ce_subject", h->subject);
    header(h, "ce_dataschema", HS_ALERT_CE_DATASCHEMA);
    header(h, "content-type", "application/json");
    rc |= hs_output_alert_json(m, ev, al, processed_ms, value);
  }
  if (source_ts_ms > 0) {
    snprintf(h->ts, sizeof h->ts, "%lld", (long long)source_ts_ms);
    header(h, "source_timestamp", h->ts);
  }
  return rc ? HS_E_NOMEM : 0;
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
