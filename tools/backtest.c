/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Backtest plumbing shared by `replay` and `tune` (see backtest.h). */
#include "backtest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hs_bt_report_new(const hs_model_t *model, int horizon, bool metrics, hs_report_t **out) {
  const char *nb[HS_MAX_BANDS], *np[HS_MAX_PROFILES], *nr[HS_MAX_RULES], *nm[HS_MAX_METRICS];
  for (size_t i = 0; i < hs_model_n_bands(model); i++)
    nb[i] = hs_model_band_name(model, (int)i);
  for (size_t i = 0; i < hs_model_n_profiles(model); i++)
    np[i] = hs_model_profile_name(model, i);
  for (size_t i = 0; i < hs_model_n_rules(model); i++)
    nr[i] = hs_model_rule_id(model, i);
  for (size_t i = 0; i < hs_model_n_metrics(model); i++)
    nm[i] = hs_model_metric_id(model, i);
  hs_report_conf_t rc = {.horizon_days = horizon,
                         .bands = nb,
                         .n_bands = hs_model_n_bands(model),
                         .profiles = np,
                         .n_profiles = hs_model_n_profiles(model),
                         .rules = nr,
                         .n_rules = hs_model_n_rules(model),
                         .metrics = metrics ? nm : NULL,
                         .n_metrics = metrics ? hs_model_n_metrics(model) : 0};
  return hs_report_new(out, &rc);
}

void hs_bt_feed(hs_report_t *r, const hs_model_t *m, const hs_account_t *a, const hs_eval_t *ev) {
  hs_score_t explained;
  const hs_score_t *s = &ev->score;
  hs_report_score(r, ev->account_id, ev->at_ms, s->has_score, s->score, s->band, s->profile,
                  hs_account_attr(a, "segment"));
  if (!s->explained) { /* each metric's normalised value and weight */
    hs_eval_explain(m, a, ev, &explained);
    s = &explained;
  }
  uint16_t idx[HS_MAX_PROFILE_METRICS];
  double norm[HS_MAX_PROFILE_METRICS], weight[HS_MAX_PROFILE_METRICS];
  for (uint32_t i = 0; i < s->n_metrics; i++) {
    idx[i] = s->metrics[i].metric;
    norm[i] = s->metrics[i].norm;
    weight[i] = s->metrics[i].weight;
  }
  hs_report_metrics(r, ev->account_id, ev->at_ms, s->n_metrics, idx, norm, weight);
  for (uint32_t i = 0; i < ev->n_alerts; i++)
    hs_report_alert_at(r, ev->alerts[i].rule, ev->alerts[i].state == HS_ALERT_FIRING, ev->at_ms);
}

void hs_bt_label(const hs_model_t *model, char *out, size_t cap) {
  size_t len = 0;
  out[0] = 0;
  for (size_t i = 0; i < hs_model_n_profiles(model) && len < cap; i++) {
    const char *v = hs_model_profile_version(model, i);
    int n = snprintf(out + len, cap - len, "%s%s%s%s", i ? ", " : "",
                     hs_model_profile_name(model, i), v && *v ? " v" : "", v ? v : "");
    len += n > 0 ? (size_t)n : 0;
  }
}

static void side_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  hs_bt_side_t *s = ud;
  hs_bt_feed(s->report, s->model, a, ev);
}

int hs_bt_side_open(hs_bt_side_t *s, const char *path, hs_config_t *cfg, int horizon,
                    hs_err_t *err) {
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  if ((path && hs_config_load_file(path, &s->cfg, err)) || hs_model_compile(s->cfg, &s->model, err))
    return HS_E_CONFIG;
  hs_bt_label(s->model, s->label, sizeof s->label);
  if (hs_bt_report_new(s->model, horizon, true, &s->report) ||
      hs_engine_new(&s->engine, s->model, side_eval, s))
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  return 0;
}

void hs_bt_side_close(hs_bt_side_t *s) {
  hs_engine_free(s->engine);
  hs_report_free(s->report);
  hs_model_free(s->model);
  hs_config_free(s->cfg);
  memset(s, 0, sizeof *s);
}

int hs_bt_side_apply(hs_bt_side_t *s, const hs_event_t *ev) {
  int rc = hs_engine_apply(s->engine, ev);
  if (ev->type == HS_EV_OUTCOME && rc >= 0 && rc != HS_DUPLICATE)
    hs_report_outcome(s->report, ev->account_id, ev->ts_ms, ev->outcome);
  return rc < 0 ? rc : 0;
}

int hs_bt_write_html(FILE *f, const char *path, const hs_report_t *r, const hs_report_meta_t *meta,
                     const hs_report_t *other, const hs_report_meta_t *other_meta) {
  hs_buf_t b;
  hs_buf_init(&b);
  int rc = hs_report_html(r, meta, other, other_meta, &b);
  if (rc) {
    fprintf(stderr, "healthscore: out of memory writing the HTML report\n");
    hs_buf_free(&b);
    if (f != stdout)
      fclose(f);
    return rc;
  }
  bool bad = fwrite(b.data, 1, b.len, f) != b.len;
  if ((f == stdout ? fflush(f) : fclose(f)) != 0 || bad) {
    fprintf(stderr, "healthscore: cannot write %s: %s\n", path, strerror(errno));
    rc = HS_E_IO;
  }
  hs_buf_free(&b);
  return rc;
}

void hs_bt_command_line(int argc, char **argv, char *out, size_t cap) {
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < argc && len + 1 < cap; i++) {
    bool q = strpbrk(argv[i], " \t\"'$&|;<>*?()") != NULL || !*argv[i];
    int n =
        snprintf(out + len, cap - len, q ? "%s'%s'" : "%s%s", i ? " " : "healthscore ", argv[i]);
    len += n > 0 ? (size_t)n : 0;
  }
}
