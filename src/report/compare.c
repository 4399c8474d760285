/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Two replays of the same events under two configurations, side by side:
 * where accounts end up (band transitions), who moves most and through which
 * metrics, and the prediction figures of each. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

void hs_report_compare_free(hs_report_compare_t *c) {
  if (c)
    hs_free(c->transitions);
}

static double final_score(const acct_t *a) {
  return a->n_days ? a->days[a->n_days - 1].score : NAN;
}

static double contribution(const hs_report_t *r, const acct_t *a, long m) {
  if (m < 0 || !a->n_days)
    return 0;
  const uint8_t *row = hs__mv_row(r, a, a->n_days - 1);
  if (!row || row[2 * m] == MV_MISSING)
    return 0;
  return MV_WEIGHT(row[2 * m + 1]) * MV_NORM(row[2 * m]);
}

static long metric_index(const hs_report_t *r, const char *id) {
  for (size_t m = 0; m < r->n_metrics; m++)
    if (!strcmp(r->metrics[m], id))
      return (long)m;
  return -1;
}

static void consider(hs_report_mover_t *mv, const char *id, double d) {
  for (int k = 0; k < 3; k++) {
    if (!mv->metric[k] || fabs(d) > fabs(mv->delta[k])) {
      for (int j = 2; j > k; j--) {
        mv->metric[j] = mv->metric[j - 1];
        mv->delta[j] = mv->delta[j - 1];
      }
      mv->metric[k] = id;
      mv->delta[k] = d;
      return;
    }
  }
}

static void why(const hs_report_t *a, const acct_t *x, const hs_report_t *b, const acct_t *y,
                hs_report_mover_t *mv) {
  for (size_t m = 0; m < a->n_metrics; m++) {
    double d = contribution(b, y, metric_index(b, a->metrics[m])) - contribution(a, x, (long)m);
    if (fabs(d) >= 0.05)
      consider(mv, a->metrics[m], d);
  }
  for (size_t m = 0; m < b->n_metrics; m++) {
    if (metric_index(a, b->metrics[m]) >= 0)
      continue;
    double d = contribution(b, y, (long)m);
    if (fabs(d) >= 0.05)
      consider(mv, b->metrics[m], d);
  }
}

static size_t band_slot(const hs_report_t *r, int band) {
  return band >= 0 && (size_t)band < r->n_bands ? (size_t)band : r->n_bands;
}

int hs_report_compare(const hs_report_t *a, const hs_report_t *b, hs_report_compare_t *c) {
  memset(c, 0, sizeof *c);
  c->n_bands_a = a->n_bands;
  c->n_bands_b = b->n_bands;
  size_t cols = b->n_bands + 1;
  c->transitions = hs_calloc((a->n_bands + 1) * cols, sizeof *c->transitions);
  if (!c->transitions)
    return HS_E_NOMEM;
  double top[HS_REPORT_MOVERS];
  size_t idx[HS_REPORT_MOVERS];
  size_t nt = 0;
  for (size_t i = 0; i < a->n_acc; i++) {
    const acct_t *x = &a->acc[i];
    long j = hs__find(b, (hs_str_t){x->id, x->id_len});
    if (j < 0)
      continue;
    const acct_t *y = &b->acc[j];
    c->common++;
    c->transitions[band_slot(a, x->band) * cols + band_slot(b, y->band)]++;
    double sa = final_score(x), sb = final_score(y);
    double d = isnan(sa) || isnan(sb) ? (isnan(sa) && isnan(sb) ? 0 : 100) : fabs(sb - sa);
    if (d < 0.05)
      continue;
    /* keep the largest moves; on ties the account seen first */
    size_t k = nt < HS_REPORT_MOVERS ? nt++ : HS_REPORT_MOVERS;
    while (k > 0 && top[k - 1] < d) {
      if (k < HS_REPORT_MOVERS) {
        top[k] = top[k - 1];
        idx[k] = idx[k - 1];
      }
      k--;
    }
    if (k < HS_REPORT_MOVERS) {
      top[k] = d;
      idx[k] = i;
    }
  }
  c->n_movers = nt;
  for (size_t k = 0; k < nt; k++) {
    const acct_t *x = &a->acc[idx[k]];
    const acct_t *y = &b->acc[hs__find(b, (hs_str_t){x->id, x->id_len})];
    hs_report_mover_t *mv = &c->movers[k];
    memset(mv, 0, sizeof *mv);
    mv->account = x->id;
    mv->score_a = final_score(x);
    mv->score_b = final_score(y);
    mv->band_a = x->band;
    mv->band_b = y->band;
    why(a, x, b, y, mv);
  }
  int rc = hs_report_summary(a, NULL, NULL, &c->a);
  return rc ? rc : hs_report_summary(b, NULL, NULL, &c->b);
}

static const char *band_name(const hs_report_t *r, size_t b) {
  return b < r->n_bands ? r->bands[b] : "unknown";
}

static double frac(size_t x, size_t y) {
  return y ? (double)x / (double)y : NAN;
}

typedef struct row_s {
  const char *label;
  double v[2];
  const char *fmt;
} row_t;

static void summary_rows(const hs_report_compare_t *c, row_t rows[6]) {
  const hs_report_summary_t *s[2] = {&c->a, &c->b};
  static const char *const labels[] = {"ROC AUC",      "precision (red)",
                                       "recall (red)", "median lead time (days)",
                                       "alerts fired", "accounts scored at the horizon"};
  static const char *const fmts[] = {"%.3f", "%.3f", "%.3f", "%.1f", "%.0f", "%.0f"};
  for (int k = 0; k < 6; k++) {
    rows[k].label = labels[k];
    rows[k].fmt = fmts[k];
  }
  for (int i = 0; i < 2; i++) {
    rows[0].v[i] = s[i]->auc;
    rows[1].v[i] = frac(s[i]->tp[0], s[i]->tp[0] + s[i]->fp[0]);
    rows[2].v[i] = frac(s[i]->tp[0], s[i]->tp[0] + s[i]->fn[0]);
    rows[3].v[i] = s[i]->median_lead;
    rows[4].v[i] = (double)s[i]->alerts_fired;
    rows[5].v[i] = (double)(s[i]->with_outcome - s[i]->excluded);
  }
}

static int fmt_num(hs_buf_t *out, const char *fmt, double v) {
  if (isnan(v))
    return hs_buf_printf(out, "n/a");
  char s[32];
  snprintf(s, sizeof s, fmt, v);
  return hs_buf_printf(out, "%s", s);
}

int hs_report_compare_text(const hs_report_t *a, const hs_report_t *b, const char *name_a,
                           const char *name_b, hs_buf_t *out) {
  hs_report_compare_t c;
  int rc = hs_report_compare(a, b, &c);
  if (rc)
    return rc;
  size_t na = c.n_bands_a, nb = c.n_bands_b;
  rc |= hs_buf_printf(out, "\ncomparison: A = %s, B = %s (%zu accounts in both)\n\n", name_a,
                      name_b, c.common);
  row_t rows[6];
  summary_rows(&c, rows);
  rc |= hs_buf_printf(out, "  %-32s %10s %10s\n", "", "A", "B");
  for (int k = 0; k < 6; k++) {
    rc |= hs_buf_printf(out, "  %-32s", rows[k].label);
    for (int i = 0; i < 2; i++) {
      hs_buf_t t;
      hs_buf_init(&t);
      rc |= fmt_num(&t, rows[k].fmt, rows[k].v[i]);
      rc |= hs_buf_printf(out, " %10.*s", (int)t.len, t.data ? t.data : "");
      hs_buf_free(&t);
    }
    rc |= hs_buf_printf(out, "\n");
  }
  rc |= hs_buf_printf(out, "\nband at the end, A (rows) -> B (columns):\n  %-10s", "");
  for (size_t j = 0; j <= nb; j++)
    rc |= hs_buf_printf(out, " %9s", band_name(b, j));
  rc |= hs_buf_printf(out, "\n");
  for (size_t i = 0; i <= na; i++) {
    rc |= hs_buf_printf(out, "  %-10s", band_name(a, i));
    for (size_t j = 0; j <= nb; j++)
      rc |= hs_buf_printf(out, " %9zu", c.transitions[i * (nb + 1) + j]);
    rc |= hs_buf_printf(out, "\n");
  }
  rc |= hs_buf_printf(out, "\naccounts that move most (final score A -> B; contributions that "
                           "differ, B - A in points):\n");
  for (size_t k = 0; k < c.n_movers; k++) {
    const hs_report_mover_t *m = &c.movers[k];
    rc |= hs_buf_printf(out, "  %-16s ", m->account);
    rc |= fmt_num(out, "%5.1f", m->score_a);
    rc |= hs_buf_printf(out, " %-7s -> ", band_name(a, band_slot(a, m->band_a)));
    rc |= fmt_num(out, "%5.1f", m->score_b);
    rc |= hs_buf_printf(out, " %-7s", band_name(b, band_slot(b, m->band_b)));
    for (int j = 0; j < 3 && m->metric[j]; j++)
      rc |= hs_buf_printf(out, "%s%s %+.1f", j ? ", " : " ", m->metric[j], m->delta[j]);
    rc |= hs_buf_printf(out, "\n");
  }
  if (!c.n_movers)
    rc |= hs_buf_printf(out, "  none: every account scores the same\n");
  hs_report_compare_free(&c);
  return rc ? HS_E_NOMEM : 0;
}

static int json_num(hs_buf_t *out, double v) {
  return isnan(v) ? hs_buf_printf(out, "null") : hs_buf_printf(out, "%.6g", v);
}

static int json_str(hs_buf_t *out, const char *s) {
  return hs_buf_json_str(out, s, strlen(s));
}

int hs_report_compare_json(const hs_report_t *a, const hs_report_t *b, const char *name_a,
                           const char *name_b, hs_buf_t *out) {
  hs_report_compare_t c;
  int rc = hs_report_compare(a, b, &c);
  if (rc)
    return rc;
  size_t na = c.n_bands_a, nb = c.n_bands_b;
  static const char *const keys[] = {"roc_auc",          "precision_red", "recall_red",
                                     "median_lead_days", "alerts_fired",  "scored_at_horizon"};
  row_t rows[6];
  summary_rows(&c, rows);
  rc |= hs_buf_printf(out, "{\"a\":{\"name\":");
  rc |= json_str(out, name_a);
  for (int i = 0; i < 2; i++) {
    if (i) {
      rc |= hs_buf_printf(out, "},\"b\":{\"name\":");
      rc |= json_str(out, name_b);
    }
    for (int k = 0; k < 6; k++) {
      rc |= hs_buf_printf(out, ",\"%s\":", keys[k]);
      rc |= json_num(out, rows[k].v[i]);
    }
  }
  rc |= hs_buf_printf(out, "},\"common_accounts\":%zu,\"transitions\":[", c.common);
  bool first = true;
  for (size_t i = 0; i <= na; i++)
    for (size_t j = 0; j <= nb; j++) {
      size_t n = c.transitions[i * (nb + 1) + j];
      if (!n)
        continue;
      rc |= hs_buf_printf(out, first ? "{\"from\":" : ",{\"from\":");
      rc |= json_str(out, band_name(a, i));
      rc |= hs_buf_printf(out, ",\"to\":");
      rc |= json_str(out, band_name(b, j));
      rc |= hs_buf_printf(out, ",\"accounts\":%zu}", n);
      first = false;
    }
  rc |= hs_buf_printf(out, "],\"movers\":[");
  for (size_t k = 0; k < c.n_movers; k++) {
    const hs_report_mover_t *m = &c.movers[k];
    rc |= hs_buf_printf(out, k ? ",{\"account\":" : "{\"account\":");
    rc |= json_str(out, m->account);
    rc |= hs_buf_printf(out, ",\"score_a\":");
    rc |= json_num(out, m->score_a);
    rc |= hs_buf_printf(out, ",\"score_b\":");
    rc |= json_num(out, m->score_b);
    rc |= hs_buf_printf(out, ",\"band_a\":");
    rc |= json_str(out, band_name(a, band_slot(a, m->band_a)));
    rc |= hs_buf_printf(out, ",\"band_b\":");
    rc |= json_str(out, band_name(b, band_slot(b, m->band_b)));
    rc |= hs_buf_printf(out, ",\"metrics\":[");
    for (int j = 0; j < 3 && m->metric[j]; j++) {
      rc |= hs_buf_printf(out, j ? ",{\"metric\":" : "{\"metric\":");
      rc |= json_str(out, m->metric[j]);
      rc |= hs_buf_printf(out, ",\"delta\":%.6g}", m->delta[j]);
    }
    rc |= hs_buf_printf(out, "]}");
  }
  rc |= hs_buf_printf(out, "]}\n");
  hs_report_compare_free(&c);
  return rc ? HS_E_NOMEM : 0;
}

int hs__compare_html(hs_buf_t *out, const hs_report_t *a, const hs_report_t *b, const char *name_a,
                     const char *name_b) {
  hs_report_compare_t c;
  int rc = hs_report_compare(a, b, &c);
  if (rc)
    return rc;
  size_t na = c.n_bands_a, nb = c.n_bands_b;
  rc |= hs_buf_printf(out, "<h2 id=\"compare\">Compared: A = ");
  rc |= hs__html_esc(out, name_a);
  rc |= hs_buf_printf(out, ", B = ");
  rc |= hs__html_esc(out, name_b);
  rc |= hs_buf_printf(out, "</h2><div class=\"grid\"><div><table id=\"compare-summary\">"
                           "<tr><th class=\"l\"></th><th>A</th><th>B</th></tr>");
  row_t rows[6];
  summary_rows(&c, rows);
  for (int k = 0; k < 6; k++) {
    rc |= hs_buf_printf(out, "<tr><td class=\"l\">%s</td>", rows[k].label);
    for (int i = 0; i < 2; i++) {
      rc |= hs_buf_printf(out, "<td>");
      rc |= fmt_num(out, rows[k].fmt, rows[k].v[i]);
      rc |= hs_buf_printf(out, "</td>");
    }
    rc |= hs_buf_printf(out, "</tr>");
  }
  rc |= hs_buf_printf(out, "</table></div><div><table id=\"transitions\"><tr>"
                           "<th class=\"l\">A &darr; / B &rarr;</th>");
  for (size_t j = 0; j <= nb; j++) {
    rc |= hs_buf_printf(out, "<th>");
    rc |= hs__html_esc(out, band_name(b, j));
    rc |= hs_buf_printf(out, "</th>");
  }
  rc |= hs_buf_printf(out, "</tr>");
  for (size_t i = 0; i <= na; i++) {
    rc |= hs_buf_printf(out, "<tr><th class=\"l\">");
    rc |= hs__html_esc(out, band_name(a, i));
    rc |= hs_buf_printf(out, "</th>");
    for (size_t j = 0; j <= nb; j++)
      rc |= hs_buf_printf(out, i == j ? "<td><b>%zu</b></td>" : "<td>%zu</td>",
                          c.transitions[i * (nb + 1) + j]);
    rc |= hs_buf_printf(out, "</tr>");
  }
  rc |= hs_buf_printf(out,
                      "</table><p class=\"meta\">%zu accounts in both; band at the end."
                      "</p></div></div>",
                      c.common);
  rc |= hs_buf_printf(out, "<h2>Accounts that move most</h2><table id=\"movers\"><tr>"
                           "<th class=\"l\">account</th><th>A</th><th>B</th>"
                           "<th class=\"l\">metrics that differ (contribution B &minus; A, "
                           "points)</th></tr>");
  for (size_t k = 0; k < c.n_movers; k++) {
    const hs_report_mover_t *m = &c.movers[k];
    rc |= hs_buf_printf(out, "<tr><td class=\"l\">");
    rc |= hs__html_esc(out, m->account);
    rc |= hs_buf_printf(out, "</td><td>");
    rc |= fmt_num(out, "%.1f", m->score_a);
    rc |= hs_buf_printf(out, " %s</td><td>", band_name(a, band_slot(a, m->band_a)));
    rc |= fmt_num(out, "%.1f", m->score_b);
    rc |= hs_buf_printf(out, " %s</td><td class=\"l\">", band_name(b, band_slot(b, m->band_b)));
    for (int j = 0; j < 3 && m->metric[j]; j++) {
      rc |= hs_buf_printf(out, j ? ", " : "");
      rc |= hs__html_esc(out, m->metric[j]);
      rc |= hs_buf_printf(out, " %+.1f", m->delta[j]);
    }
    rc |= hs_buf_printf(out, "</td></tr>");
  }
  rc |= hs_buf_printf(out, "</table>\n");
  hs_report_compare_free(&c);
  return rc ? HS_E_NOMEM : 0;
}
