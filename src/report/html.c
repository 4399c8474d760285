/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The backtest report as one self-contained HTML page: inline CSS and SVG,
 * no network. Each chart is a <figure class="chart"> holding one <svg>. */
#include "internal.h"
#include "healthscore/time.h"

#include <stdio.h>
#include <string.h>

#define W 560
#define H 280
#define ML 52
#define MR 16
#define MT 16
#define MB 44
#define PW (W - ML - MR)
#define PH (H - MT - MB)

static const char *const CSS =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;"
    "margin:0;background:#f6f7f9}"
    "main{max-width:1200px;margin:0 auto;padding:20px 24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}"
    ".meta{color:#57606a;margin:0 0 14px}.meta code{font-size:12px;background:#eef0f3;"
    "padding:1px 4px;border-radius:3px;word-break:break-all}"
    ".kpis{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 4px}"
    ".kpi{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:8px 14px;"
    "min-width:120px}.kpi b{display:block;font-size:20px}.kpi span{color:#57606a;font-size:12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}"
    "figure.chart{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:0;"
    "padding:10px 12px;break-inside:avoid}"
    "figcaption{font-weight:600;margin-bottom:2px}figcaption small{display:block;"
    "font-weight:400;color:#57606a}"
    "svg{width:100%;height:auto;display:block}svg text{font-size:11px;fill:#57606a}"
    "svg .ttl{font-size:13px;fill:#1f2328;font-weight:600}"
    "table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}"
    "th,td{border:1px solid #d8dee4;padding:4px 8px;text-align:right}"
    "th{background:#eef0f3}td.l,th.l{text-align:left}td.note{text-align:left;color:#9a6700}"
    ".legend span{display:inline-block;margin-right:12px;font-size:12px;color:#57606a}"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;"
    "vertical-align:-1px}"
    "@media print{body{background:#fff}.grid{grid-template-columns:1fr 1fr}"
    "figure.chart{border:0}main{max-width:none}}";

/* Marks each chart with its box on the page (x,y,width,height in CSS
 * pixels): what tests and printouts use to find it. */
static const char *const JS =
    "addEventListener('load',function(){document.querySelectorAll('figure.chart').forEach("
    "function(f){var b=f.querySelector('svg').getBoundingClientRect();f.setAttribute("
    "'data-box',[b.left+scrollX,b.top+scrollY,b.width,b.height].map(Math.round).join(','))})"
    ";document.body.setAttribute('data-ready','1')})";

static const char *const PALETTE[] = {"#d64545", "#e8a700", "#2f9e44", "#1c7ed6",
                                      "#7048e8", "#0ca678", "#f76707", "#868e96"};
#define C_CHURN "#d64545"
#define C_KEEP "#1c7ed6"

int hs__html_esc(hs_buf_t *out, const char *s) {
  int rc = 0;
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      rc |= hs_buf_printf(out, "&lt;");
      break;
    case '>':
      rc |= hs_buf_printf(out, "&gt;");
      break;
    case '&':
      rc |= hs_buf_printf(out, "&amp;");
      break;
    case '"':
      rc |= hs_buf_printf(out, "&quot;");
      break;
    default:
      rc |= hs_buf_append(out, s, 1);
    }
  }
  return rc;
}

const char *hs__band_color(const char *name, size_t i, size_t n) {
  if (!strcmp(name, "red"))
    return "#d64545";
  if (!strcmp(name, "yellow") || !strcmp(name, "amber"))
    return "#e8a700";
  if (!strcmp(name, "green"))
    return "#2f9e44";
  if (!strcmp(name, "unknown"))
    return "#ced4da";
  (void)n;
  return PALETTE[(i + 3) % 8];
}

typedef struct plot_s {
  hs_buf_t *out;
  double x0, x1, y0, y1;
} plot_t;

static double px(const plot_t *p, double x) {
  return ML + (x - p->x0) / (p->x1 - p->x0) * PW;
}
static double py(const plot_t *p, double y) {
  return MT + PH - (y - p->y0) / (p->y1 - p->y0) * PH;
}

/* The smallest 1, 2 or 5 times a power of ten that is at least top/ticks,
 * times ticks: an axis maximum whose ticks are round numbers. */
static double nice_max(double top, int ticks) {
  if (top <= 0)
    return ticks;
  double raw = top / ticks, mag = pow(10, floor(log10(raw))), step;
  step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
  step = step < 1 ? 1 : step; /* counts */
  return step * ticks;
}

static int fig_begin(hs_buf_t *out, const char *id, const char *title, const char *sub) {
  int rc = hs_buf_printf(out, "<figure class=\"chart\" id=\"chart-%s\"><figcaption>", id);
  rc |= hs__html_esc(out, title);
  rc |= hs_buf_printf(out, "<small>");
  rc |= hs__html_esc(out, sub);
  rc |= hs_buf_printf(out,
                      "</small></figcaption><svg viewBox=\"0 0 %d %d\" role=\"img\" "
                      "xmlns=\"http://www.w3.org/2000/svg\">",
                      W, H);
  return rc;
}

static int legend(hs_buf_t *out, const char *const *names, const char *const *colors, size_t n) {
  int rc = hs_buf_printf(out, "</svg><div class=\"legend\">");
  for (size_t i = 0; i < n; i++) {
    rc |= hs_buf_printf(out, "<span><i style=\"background:%s\"></i>", colors[i]);
    rc |= hs__html_esc(out, names[i]);
    rc |= hs_buf_printf(out, "</span>");
  }
  return rc | hs_buf_printf(out, "</div></figure>\n");
}

static int fig_end(hs_buf_t *out) {
  return hs_buf_printf(out, "</svg></figure>\n");
}

/* Axes with gridlines: y ticks at `ny` steps formatted with yfmt; x ticks
 * at `nx` steps (nx 0: none, the caller labels categories). */
static int axes(const plot_t *p, int nx, const char *xfmt, int ny, const char *yfmt,
                const char *xlabel, const char *ylabel) {
  hs_buf_t *out = p->out;
  int rc = 0;
  char s[32];
  for (int i = 0; i <= ny; i++) {
    double v = p->y0 + (p->y1 - p->y0) * i / ny, y = py(p, v);
    rc |=
        hs_buf_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>",
                      ML, ML + PW, y, y);
    snprintf(s, sizeof s, yfmt, v);
    rc |= hs_buf_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", ML - 6,
                        y + 4, s);
  }
  for (int i = 0; i <= nx && nx > 0; i++) {
    double v = p->x0 + (p->x1 - p->x0) * i / nx;
    snprintf(s, sizeof s, xfmt, v);
    rc |= hs_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px(p, v),
                        MT + PH + 16, s);
  }
  rc |= hs_buf_printf(out,
                      "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#8c959f\"/>"
                      "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#8c959f\"/>",
                      ML, ML + PW, MT + PH, MT + PH, ML, ML, MT, MT + PH);
  rc |= hs_buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", ML + PW / 2, H - 6);
  rc |= hs__html_esc(out, xlabel);
  rc |= hs_buf_printf(out,
                      "</text><text transform=\"translate(12 %d) rotate(-90)\" "
                      "text-anchor=\"middle\">",
                      MT + PH / 2);
  rc |= hs__html_esc(out, ylabel);
  return rc | hs_buf_printf(out, "</text>");
}

static int no_data(hs_buf_t *out, const char *why) {
  int rc = hs_buf_printf(out,
                         "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f6f7f9\"/>"
                         "<text class=\"ttl\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                         ML, MT, PW, PH, ML + PW / 2, MT + PH / 2);
  rc |= hs__html_esc(out, why);
  return rc | hs_buf_printf(out, "</text>");
}

static int bar(hs_buf_t *out, double x, double y, double w, double h, const char *color,
               const char *tip) {
  int rc = hs_buf_printf(out,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"%s\"><title>",
                         x, y, w, h < 0 ? 0 : h, color);
  rc |= hs__html_esc(out, tip);
  return rc | hs_buf_printf(out, "</title></rect>");
}

static int polyline(const plot_t *p, const double *xs, const double *ys, size_t n,
                    const char *color, bool dots) {
  int rc = hs_buf_printf(p->out,
                         "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                         "points=\"",
                         color);
  for (size_t i = 0; i < n; i++)
    if (!isnan(ys[i]))
      rc |= hs_buf_printf(p->out, "%.1f,%.1f ", px(p, xs[i]), py(p, ys[i]));
  rc |= hs_buf_printf(p->out, "\"/>");
  for (size_t i = 0; dots && i < n; i++)
    if (!isnan(ys[i]))
      rc |= hs_buf_printf(p->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                          px(p, xs[i]), py(p, ys[i]), color);
  return rc;
}

static const char *const PN[] = {"churned", "retained"};
static const char *const PC[] = {C_CHURN, C_KEEP};

static int chart_roc(hs_buf_t *out, const hs_report_charts_t *c) {
  char sub[96];
  snprintf(sub, sizeof sub, "AUC %.3f over %zu accounts (%zu churned); the diagonal is chance",
           c->auc, c->n_pred, c->n_churned);
  int rc = fig_begin(out, "roc", "ROC curve of the score at the horizon", sub);
  plot_t p = {out, 0, 1, 0, 1};
  rc |= axes(&p, 5, "%.1f", 5, "%.1f", "false positive rate (retained flagged)",
             "true positive rate");
  if (isnan(c->auc))
    return rc | no_data(out, "needs churned and retained accounts") | fig_end(out);
  rc |= hs_buf_printf(out,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#adb5bd\" "
                      "stroke-dasharray=\"4 4\"/>",
                      px(&p, 0), py(&p, 0), px(&p, 1), py(&p, 1));
  /* at most a point per 0.002 of either rate: the page stays small for
     any number of accounts */
  double *xs = hs_calloc(c->n_roc + 1, sizeof *xs), *ys = hs_calloc(c->n_roc + 1, sizeof *ys);
  size_t k = 0;
  for (size_t i = 0; xs && ys && i < c->n_roc; i++)
    if (!k || i + 1 == c->n_roc || fabs(c->roc_fpr[i] - xs[k - 1]) >= 0.002 ||
        fabs(c->roc_tpr[i] - ys[k - 1]) >= 0.002) {
      xs[k] = c->roc_fpr[i];
      ys[k++] = c->roc_tpr[i];
    }
  rc |= xs && ys ? polyline(&p, xs, ys, k, C_KEEP, false) : HS_E_NOMEM;
  hs_free(xs);
  hs_free(ys);
  rc |= hs_buf_printf(out, "<text class=\"ttl\" x=\"%.1f\" y=\"%.1f\">AUC %.3f</text>", px(&p, 0.6),
                      py(&p, 0.15), c->auc);
  return rc | fig_end(out);
}

static int chart_distribution(hs_buf_t *out, const hs_report_charts_t *c) {
  int rc = fig_begin(out, "distribution", "Score at the horizon: churned vs retained",
                     "share of each group per 10-point bin");
  size_t nc = 0, nr = 0;
  for (int b = 0; b < HS_REPORT_BINS; b++) {
    nc += c->hist_churned[b];
    nr += c->hist_retained[b];
  }
  double top = 0;
  for (int b = 0; b < HS_REPORT_BINS; b++) {
    double u = nc ? (double)c->hist_churned[b] / nc : 0,
           v = nr ? (double)c->hist_retained[b] / nr : 0;
    top = fmax(top, fmax(u, v));
  }
  top = top > 0 ? ceil(top * 10) / 10 : 1;
  plot_t p = {out, 0, 100, 0, top};
  rc |= axes(&p, 10, "%.0f", 5, "%.2f", "score", "share of accounts");
  if (!c->n_pred)
    return rc | no_data(out, "no outcomes in the input") | legend(out, PN, PC, 2);
  char tip[96];
  for (int b = 0; b < HS_REPORT_BINS; b++) {
    double bw = PW / 10.0, x = ML + b * bw;
    double u = nc ? (double)c->hist_churned[b] / nc : 0,
           v = nr ? (double)c->hist_retained[b] / nr : 0;
    snprintf(tip, sizeof tip, "%d-%d: %zu churned", b * 10, b * 10 + 10, c->hist_churned[b]);
    rc |= bar(out, x + 3, py(&p, u), bw / 2 - 4, py(&p, 0) - py(&p, u), C_CHURN, tip);
    snprintf(tip, sizeof tip, "%d-%d: %zu retained", b * 10, b * 10 + 10, c->hist_retained[b]);
    rc |= bar(out, x + bw / 2 + 1, py(&p, v), bw / 2 - 4, py(&p, 0) - py(&p, v), C_KEEP, tip);
  }
  return rc | legend(out, PN, PC, 2);
}

static int chart_calibration(hs_buf_t *out, const hs_report_charts_t *c) {
  char sub[96];
  snprintf(sub, sizeof sub, "accounts in ten equal parts by score; base rate %.1f%% (dashed)",
           c->n_pred ? 100.0 * c->n_churned / c->n_pred : 0.0);
  int rc = fig_begin(out, "calibration", "Churn rate per score decile", sub);
  plot_t p = {out, 0, 10, 0, 100};
  rc |= axes(&p, 0, "", 5, "%.0f%%", "score decile (lowest first; score range below)", "churned");
  if (!c->n_pred)
    return rc | no_data(out, "no outcomes in the input") | fig_end(out);
  char tip[96];
  for (int d = 0; d < HS_REPORT_BINS; d++) {
    double bw = PW / 10.0, x = ML + d * bw;
    double v = c->dec_n[d] ? 100.0 * c->dec_churned[d] / c->dec_n[d] : 0;
    snprintf(tip, sizeof tip, "scores %.1f-%.1f: %zu of %zu churned", c->dec_lo[d], c->dec_hi[d],
             c->dec_churned[d], c->dec_n[d]);
    rc |= bar(out, x + 4, py(&p, v), bw - 8, py(&p, 0) - py(&p, v), C_CHURN, tip);
    if (c->dec_n[d])
      rc |= hs_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f-%.0f</text>",
                          x + bw / 2, MT + PH + 14, c->dec_lo[d], c->dec_hi[d]);
  }
  double base = 100.0 * c->n_churned / c->n_pred;
  return rc |
         hs_buf_printf(out,
                       "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#1f2328\" "
                       "stroke-dasharray=\"5 4\"/>",
                       ML, ML + PW, py(&p, base), py(&p, base)) |
         fig_end(out);
}

static int chart_bands(hs_buf_t *out, const hs_report_t *r, const hs_report_charts_t *c) {
  int rc = fig_begin(out, "bands", "Band mix over time",
                     "accounts by band at the end of each week, as a share of those scored");
  plot_t p = {out, 0, c->n_weeks ? (double)c->n_weeks : 1, 0, 100};
  rc |= axes(&p, 0, "", 5, "%.0f%%", "week", "accounts");
  const char *names[HS_MAX_BANDS_REPORT + 1], *colors[HS_MAX_BANDS_REPORT + 1];
  size_t nb = r->n_bands < HS_MAX_BANDS_REPORT ? r->n_bands : HS_MAX_BANDS_REPORT;
  for (size_t b = 0; b < nb; b++) {
    names[b] = r->bands[b];
    colors[b] = hs__band_color(r->bands[b], b, nb);
  }
  names[nb] = "unknown";
  colors[nb] = hs__band_color("unknown", nb, nb);
  if (!c->n_weeks)
    return rc | no_data(out, "no scores") | legend(out, names, colors, nb + 1);
  char tip[96];
  double bw = (double)PW / c->n_weeks;
  for (size_t w = 0; w < c->n_weeks; w++) {
    const size_t *row = &c->week_bands[w * (r->n_bands + 1)];
    size_t tot = 0;
    for (size_t b = 0; b <= r->n_bands; b++)
      tot += row[b];
    double acc = 0;
    for (size_t b = 0; b <= nb && tot; b++) {
      size_t cnt = row[b == nb ? r->n_bands : b];
      double v = 100.0 * cnt / tot;
      snprintf(tip, sizeof tip, "week %zu: %s %zu (%.1f%%)", w + 1, names[b], cnt, v);
      rc |= bar(out, ML + w * bw + (bw > 4 ? 0.5 : 0), py(&p, acc + v), bw > 4 ? bw - 1 : bw,
                py(&p, acc) - py(&p, acc + v), colors[b], tip);
      acc += v;
    }
    if (w % ((c->n_weeks + 15) / 16) == 0)
      rc |= hs_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
                          ML + (w + 0.5) * bw, MT + PH + 14, w + 1);
  }
  return rc | legend(out, names, colors, nb + 1);
}

static int chart_leads(hs_buf_t *out, const hs_report_charts_t *c) {
  char sub[128];
  snprintf(sub, sizeof sub, "days from turning red to churn, by week; median %.1f days",
           c->median_lead);
  int rc = fig_begin(out, "leadtime", "Lead time: red before churn", sub);
  size_t top = c->never_red;
  for (int b = 0; b < HS_REPORT_LEAD_BINS; b++)
    top = c->lead_hist[b] > top ? c->lead_hist[b] : top;
  double ymax = nice_max((double)top, 4);
  plot_t p = {out, 0, HS_REPORT_LEAD_BINS + 1, 0, ymax};
  rc |= axes(&p, 0, "", 4, "%.0f", "lead time (weeks)", "churned accounts");
  if (!top)
    return rc | no_data(out, "no churned accounts") | fig_end(out);
  char tip[96], lab[16];
  double bw = (double)PW / (HS_REPORT_LEAD_BINS + 1);
  for (int b = 0; b <= HS_REPORT_LEAD_BINS; b++) {
    size_t v = b < HS_REPORT_LEAD_BINS ? c->lead_hist[b] : c->never_red;
    if (b == HS_REPORT_LEAD_BINS)
      snprintf(lab, sizeof lab, "not red");
    else if (b == HS_REPORT_LEAD_BINS - 1)
      snprintf(lab, sizeof lab, "%d+", b);
    else
      snprintf(lab, sizeof lab, "%d", b);
    snprintf(tip, sizeof tip, "%s: %zu", lab, v);
    rc |= bar(out, ML + b * bw + 4, py(&p, (double)v), bw - 8, py(&p, 0) - py(&p, (double)v),
              b == HS_REPORT_LEAD_BINS ? "#adb5bd" : C_CHURN, tip);
    rc |= hs_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                        ML + (b + 0.5) * bw, MT + PH + 14, lab);
  }
  return rc | fig_end(out);
}

static int chart_alerts(hs_buf_t *out, const hs_report_t *r, const hs_report_charts_t *c) {
  int rc = fig_begin(out, "alerts", "Alerts per rule per week", "firing transitions");
  uint64_t top = 0;
  for (size_t i = 0; i < c->n_weeks * r->n_rules; i++)
    top = c->week_alerts[i] > top ? c->week_alerts[i] : top;
  plot_t p = {out, 1, c->n_weeks > 1 ? (double)c->n_weeks : 2, 0, nice_max((double)top, 4)};
  rc |= axes(&p, 0, "", 4, "%.0f", "week", "alerts fired");
  size_t step = (c->n_weeks + 11) / 12;
  for (size_t w = 1; w <= c->n_weeks; w += step)
    rc |= hs_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
                        px(&p, (double)w), MT + PH + 16, w);
  const char *names[HS_MAX_RULES_REPORT], *colors[HS_MAX_RULES_REPORT];
  size_t nr = r->n_rules < HS_MAX_RULES_REPORT ? r->n_rules : HS_MAX_RULES_REPORT;
  if (!c->n_weeks || !nr)
    return rc | no_data(out, "no alert rules or no scores") | fig_end(out);
  double *xs = hs_calloc(c->n_weeks, sizeof *xs), *ys = hs_calloc(c->n_weeks, sizeof *ys);
  if (!xs || !ys) {
    hs_free(xs);
    hs_free(ys);
    return HS_E_NOMEM;
  }
  for (size_t k = 0; k < nr; k++) {
    names[k] = r->rules[k];
    colors[k] = PALETTE[(k + 3) % 8];
    for (size_t w = 0; w < c->n_weeks; w++) {
      xs[w] = (double)w + 1;
      ys[w] = (double)c->week_alerts[w * r->n_rules + k];
    }
    rc |= polyline(&p, xs, ys, c->n_weeks, colors[k], true);
  }
  hs_free(xs);
  hs_free(ys);
  return rc | legend(out, names, colors, nr);
}

static int chart_pr(hs_buf_t *out, const hs_report_charts_t *c) {
  int rc = fig_begin(out, "precision", "Precision and recall as the red threshold moves",
                     "accounts scoring below the threshold at the horizon are flagged");
  plot_t p = {out, 0, 100, 0, 1};
  rc |= axes(&p, 10, "%.0f", 5, "%.1f", "red threshold (score below)", "");
  static const char *const n[] = {"precision", "recall"};
  static const char *const col[] = {"#7048e8", "#0ca678"};
  if (!c->n_pred)
    return rc | no_data(out, "no outcomes in the input") | legend(out, n, col, 2);
  rc |= polyline(&p, c->pr_threshold, c->precision, HS_REPORT_PR_STEPS, col[0], true);
  rc |= polyline(&p, c->pr_threshold, c->recall, HS_REPORT_PR_STEPS, col[1], true);
  return rc | legend(out, n, col, 2);
}

static int num_cell(hs_buf_t *out, double v, const char *fmt) {
  if (isnan(v))
    return hs_buf_printf(out, "<td>n/a</td>");
  char s[32];
  snprintf(s, sizeof s, fmt, v);
  return hs_buf_printf(out, "<td>%s</td>", s);
}

static int metric_table(hs_buf_t *out, const hs_report_charts_t *c) {
  int rc = hs_buf_printf(out,
                         "<h2>Metrics</h2><p class=\"meta\">At the horizon, over the %zu "
                         "accounts with an outcome and a score. AUC: how well the metric "
                         "alone separates churned from retained (0.5 = chance).</p>"
                         "<table id=\"metrics\"><tr><th class=\"l\">metric</th>"
                         "<th>coverage</th><th>AUC</th><th>mean churned</th>"
                         "<th>mean retained</th><th>share of score</th>"
                         "<th class=\"l\">note</th></tr>",
                         c->n_pred);
  for (size_t m = 0; m < c->n_metrics; m++) {
    const hs_report_metric_stats_t *ms = &c->metrics[m];
    if (!ms->id)
      continue; /* in no profile */
    rc |= hs_buf_printf(out, "<tr><td class=\"l\">");
    rc |= hs__html_esc(out, ms->id);
    rc |= hs_buf_printf(out, "</td>");
    rc |= num_cell(out, 100 * ms->coverage, "%.0f%%");
    rc |= num_cell(out, ms->auc, "%.3f");
    rc |= num_cell(out, ms->mean_churned, "%.1f");
    rc |= num_cell(out, ms->mean_retained, "%.1f");
    rc |= num_cell(out, 100 * ms->share, "%.1f%%");
    rc |= hs_buf_printf(out, "<td class=\"note\">");
    rc |= hs__html_esc(out, ms->note ? ms->note : "");
    rc |= hs_buf_printf(out, "</td></tr>");
  }
  return rc | hs_buf_printf(out, "</table>\n");
}

static int kpi(hs_buf_t *out, const char *label, double v, const char *fmt) {
  char s[32];
  if (isnan(v))
    snprintf(s, sizeof s, "n/a");
  else
    snprintf(s, sizeof s, fmt, v);
  int rc = hs_buf_printf(out, "<div class=\"kpi\"><b>%s</b><span>", s);
  rc |= hs__html_esc(out, label);
  return rc | hs_buf_printf(out, "</span></div>");
}

static double frac(size_t a, size_t b) {
  return b ? (double)a / (double)b : NAN;
}

static int header(hs_buf_t *out, const hs_report_t *r, const hs_report_meta_t *m,
                  const hs_report_charts_t *c) {
  int rc = hs_buf_printf(out, "<h1>Backtest: ");
  rc |= hs__html_esc(out, m && m->profile ? m->profile : "healthscore");
  rc |= hs_buf_printf(out, "</h1><p class=\"meta\">");
  char from[32] = "", to[32] = "";
  if (c->n_weeks) {
    int32_t last = INT32_MIN;
    for (size_t i = 0; i < r->n_acc; i++)
      if (r->acc[i].n_days && r->acc[i].days[r->acc[i].n_days - 1].day > last)
        last = r->acc[i].days[r->acc[i].n_days - 1].day;
    hs_time_format((int64_t)c->first_day * HS_MS_PER_DAY, from);
    hs_time_format((int64_t)last * HS_MS_PER_DAY, to);
    from[10] = to[10] = 0;
  }
  rc |= hs_buf_printf(out, "configuration <code>");
  rc |= hs__html_esc(out, m && m->config ? m->config : "?");
  rc |= hs_buf_printf(out, "</code> &middot; events <code>");
  rc |= hs__html_esc(out, m && m->input ? m->input : "?");
  rc |= hs_buf_printf(out,
                      "</code><br>%llu events, %zu accounts, %llu evaluations, scored days %s "
                      "to %s; horizon %d days<br>made by <code>",
                      (unsigned long long)(m ? m->events : 0), r->n_acc,
                      (unsigned long long)r->evaluations, from, to, r->horizon);
  rc |= hs__html_esc(out, m && m->command ? m->command : "");
  rc |= hs_buf_printf(out, "</code></p>");
  hs_report_summary_t s;
  rc |= hs_report_summary(r, NULL, NULL, &s);
  rc |= hs_buf_printf(out, "<div class=\"kpis\">");
  rc |= kpi(out, "ROC AUC", s.auc, "%.3f");
  rc |= kpi(out, "precision of red", frac(s.tp[0], s.tp[0] + s.fp[0]), "%.2f");
  rc |= kpi(out, "recall of red", frac(s.tp[0], s.tp[0] + s.fn[0]), "%.2f");
  rc |= kpi(out, "median lead time (days)", s.median_lead, "%.1f");
  rc |= kpi(out, "alerts fired", (double)s.alerts_fired, "%.0f");
  rc |= kpi(out, "churn base rate", frac(s.churned, s.with_outcome), "%.3f");
  return rc | hs_buf_printf(out, "</div>\n");
}

int hs_report_html(const hs_report_t *r, const hs_report_meta_t *meta, const hs_report_t *other,
                   const hs_report_meta_t *other_meta, hs_buf_t *out) {
  hs_report_charts_t c;
  int rc = hs_report_charts(r, &c);
  if (rc)
    return rc;
  rc = hs_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width\">"
                          "<title>healthscore backtest: ");
  rc |= hs__html_esc(out, meta && meta->profile ? meta->profile : "report");
  rc |= hs_buf_printf(out, "</title><style>%s</style><script>%s</script></head><body><main>\n", CSS,
                      JS);
  rc |= header(out, r, meta, &c);
  rc |= hs_buf_printf(out, "<h2>Churn prediction</h2><div class=\"grid\">\n");
  rc |= chart_roc(out, &c);
  rc |= chart_distribution(out, &c);
  rc |= chart_calibration(out, &c);
  rc |= chart_pr(out, &c);
  rc |= hs_buf_printf(out, "</div><h2>Over time and early warning</h2><div class=\"grid\">\n");
  rc |= chart_bands(out, r, &c);
  rc |= chart_alerts(out, r, &c);
  rc |= chart_leads(out, &c);
  rc |= hs_buf_printf(out, "</div>\n");
  if (c.n_metrics)
    rc |= metric_table(out, &c);
  if (other)
    rc |= hs__compare_html(out, r, other, meta ? meta->profile : "A",
                           other_meta ? other_meta->profile : "B");
  rc |= hs_buf_printf(out, "</main></body></html>\n");
  hs_report_charts_free(&c);
  return rc ? HS_E_NOMEM : 0;
}
