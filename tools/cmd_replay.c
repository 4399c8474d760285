/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore replay`: events + configuration -> score timeline, alerts and a
 * backtest report. Time comes from the events only, so a replay is
 * deterministic: the same input gives the same output, byte for byte. */
#include "backtest.h"
#include "cmds.h"
#include "event_reader.h"

#include "healthscore/codec.h"
#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/state.h"
#include "healthscore/report.h"
#include "healthscore/time.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct replay_s {
  const hs_model_t *model;
  hs_engine_t *engine;
  hs_report_t *report;
  hs_bt_side_t *side; /* --compare */
  FILE *alerts, *scores;
  bool alerts_text, all_evals, quiet;
  hs_buf_t buf;
  hs_er_conf_t in;    /* the input, and what to do with each record */
  hs_er_stats_t read; /* what was read of it */
  double started, last_progress;
} replay_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_alert_text(replay_t *r, const hs_eval_t *ev, const hs_alert_t *al) {
  char at[32], id[17];
  hs_time_format(ev->at_ms, at);
  hs_alert_id_hex(al->alert_id, id);
  fprintf(r->alerts, "%s %-8s %-14s %.*s score %5.1f", at,
          al->state == HS_ALERT_FIRING ? "FIRING" : "resolved",
          hs_model_rule_id(r->model, al->rule), (int)ev->account_id.len, ev->account_id.ptr,
          al->score);
  if (!isnan(al->prev_score))
    fprintf(r->alerts, " (was %5.1f)", al->prev_score);
  fprintf(r->alerts, " %-7s", hs_model_band_name(r->model, al->band));
  for (uint32_t k = 0; k < al->n_top; k++) {
    const hs_metric_result_t *mr = &ev->score.metrics[al->top[k]];
    fprintf(r->alerts, "%s%s", k ? ", " : " moved by: ", hs_model_metric_id(r->model, mr->metric));
    if (fabs(mr->delta) >= 0.05)
      fprintf(r->alerts, " %+.1f", mr->delta);
  }
  fprintf(r->alerts, " [%s]\n", id);
}

static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  replay_t *r = ud;
  hs_bt_feed(r->report, r->model, a, ev);
  for (uint32_t i = 0; i < ev->n_alerts; i++) {
    const hs_alert_t *al = &ev->alerts[i];
    if (!r->alerts)
      continue;
    if (r->alerts_text) {
      print_alert_text(r, ev, al);
    } else {
      r->buf.len = 0;
      if (hs_output_alert_json(r->model, ev, al, ev->at_ms, &r->buf) == 0) {
        hs_buf_append(&r->buf, "\n", 1);
        fwrite(r->buf.data, 1, r->buf.len, r->alerts);
      }
    }
  }
  if (r->scores && (ev->changed || r->all_evals)) {
    r->buf.len = 0;
    if (hs_output_score_json(r->model, a, ev, &r->buf) == 0) {
      hs_buf_append(&r->buf, "\n", 1);
      fwrite(r->buf.data, 1, r->buf.len, r->scores);
    }
  }
}

static void progress(replay_t *r, bool final) {
  double t = now_s();
  if (r->quiet || (!final && t - r->last_progress < 1.0))
    return;
  r->last_progress = t;
  hs_engine_stats_t st;
  hs_engine_stats(r->engine, &st);
  double el = t - r->started;
  char dups[40] = ""; /* said only when there are any */
  if (st.duplicates)
    snprintf(dups, sizeof dups, "%llu duplicate, ", (unsigned long long)st.duplicates);
  fprintf(stderr,
          "replay: %s%llu events (%.0f/s), %llu accounts, %llu evaluations, %llu alerts fired, "
          "%llu late, %s%llu rejected, %llu unknown type\n",
          final ? "done: " : "", (unsigned long long)r->read.records,
          el > 0 ? r->read.records / el : 0.0, (unsigned long long)st.accounts,
          (unsigned long long)st.evaluations, (unsigned long long)st.alerts_firing,
          (unsigned long long)st.late, dups,
          (unsigned long long)(r->read.records - st.events - r->read.unknown),
          (unsigned long long)r->read.unknown);
}

static void on_progress(void *ud) {
  progress(ud, false);
}

static void on_reject(void *ud, const hs_er_reject_t *rej) {
  hs_er_show("replay", ((replay_t *)ud)->read.rejected, rej);
}

/* An event read: to the report (outcomes), the engine and --compare's. */
static int on_event(void *ud, const hs_event_t *ev) {
  replay_t *r = ud;
  int rc = hs_engine_apply(r->engine, ev);
  /* an outcome delivered again does not undo one that came in between */
  if (ev->type == HS_EV_OUTCOME && rc >= 0 && rc != HS_DUPLICATE)
    hs_report_outcome(r->report, ev->account_id, ev->ts_ms, ev->outcome);
  if (rc >= 0 && r->side)
    rc = hs_bt_side_apply(r->side, ev);
  return rc < 0 ? rc : 0;
}

/* Reads `f` to the end into the engines; the rejections on stderr. */
static int read_input(replay_t *r, FILE *f) {
  r->in.on_event = on_event;
  r->in.on_reject = on_reject;
  r->in.on_record = on_progress;
  r->in.ud = r;
  int rc = hs_er_read(f, &r->in, &r->read);
  hs_er_show_rest("replay", r->read.rejected);
  if (rc == HS_E_IO)
    fprintf(stderr, "replay: read error: %s\n", strerror(errno));
  else if (rc)
    fprintf(stderr, "replay: %s\n", hs_strerror(rc));
  return rc;
}

static void replay_usage(FILE *f) {
  fprintf(
      f,
      "usage: healthscore replay --config CONFIG.yaml [options] [EVENTS]\n\n"
      "Scores events offline with the engine's own scoring core and prints a backtest\n"
      "report. EVENTS is a file of JSON lines and msgpack maps, which may be mixed (told\n"
      "apart per record by its first byte); '-' or nothing reads standard input. Event\n"
      "time drives everything: the same input (and --now) gives the same output.\n\n"
      "  -c, --config FILE       scoring configuration (required)\n"
      "  -a, --alerts FILE       write alert messages as JSON lines ('-' = stdout)\n"
      "      --alert-format FMT  json (default) or text: one readable line per alert\n"
      "  -s, --scores FILE       write score records (JSON lines) whenever a score changes\n"
      "      --all-evaluations   with --scores: every evaluation, changed or not\n"
      "      --at TIME           at the end, advance every account to TIME (RFC 3339);\n"
      "                          default: the latest accepted event time\n"
      "      --no-advance        leave idle accounts where their last event left them\n"
      "                          (as healthscored with engine.idle_interval 0)\n"
      "      --final FILE        write each account's final score record (JSON lines)\n"
      "      --states FILE       write each account's state after its last event as\n"
      "                          \"ACCOUNT HEX\" lines (what healthscored stores)\n"
      "      --horizon DAYS      backtest: predict outcomes DAYS ahead (default 30)\n"
      "      --report FMT        text (default), json or none\n"
      "  -o, --output FILE       write the report to FILE instead of stdout\n"
      "      --html FILE         also write the report as one self-contained HTML page\n"
      "                          ('-' = stdout)\n"
      "                          (charts, metric diagnostics; docs/backtest.md)\n"
      "      --compare OTHER     also replay under configuration OTHER and compare:\n"
      "                          band transitions, accounts that move most, figures\n" HS_ER_USAGE
      "  -q, --quiet             no progress on stderr\n"
      "  -h, --help              this text\n\n"
      "Exit status: 0 on success, 1 on an invalid configuration or unreadable input,\n"
      "2 on a usage error, 3 when input was rejected (every record is read and the\n"
      "outputs cover the accepted events; the first 10 rejections are shown with\n"
      "where they are: FILE:LINE for JSON, FILE: byte OFFSET for msgpack).\n");
}

static FILE *open_out(const char *path) {
  if (strcmp(path, "-") == 0)
    return stdout;
  FILE *f = fopen(path, "w");
  if (!f)
    fprintf(stderr, "healthscore replay: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

typedef struct final_ctx_s {
  replay_t *r;
  FILE *out;
  int64_t at_ms;
} final_ctx_t;

static void write_final(void *ud, hs_account_t *a) {
  final_ctx_t *fc = ud;
  fc->r->buf.len = 0;
  if (hs_output_account_json(fc->r->model, a, fc->at_ms, true, &fc->r->buf) == 0) {
    hs_buf_append(&fc->r->buf, "\n", 1);
    fwrite(fc->r->buf.data, 1, fc->r->buf.len, fc->out);
  }
}

typedef struct states_ctx_s {
  replay_t *r;
  FILE *out;
  int rc;
} states_ctx_t;

/* "ACCOUNT HEX" of the encoded state: what healthscored stores in Redis. */
static void write_state(void *ud, hs_account_t *a) {
  states_ctx_t *sc = ud;
  hs_buf_t *b = &sc->r->buf;
  b->len = 0;
  if (hs_account_encode(sc->r->model, a, b)) {
    sc->rc = HS_E_NOMEM;
    return;
  }
  hs_str_t id = hs_account_id(a);
  fprintf(sc->out, "%.*s ", (int)id.len, id.ptr);
  for (size_t i = 0; i < b->len; i++)
    fprintf(sc->out, "%02x", (unsigned char)b->data[i]);
  fputc('\n', sc->out);
}

static int replay_compare(replay_t *r, const char *fmt, FILE *o) {
  char label[256];
  hs_bt_label(r->model, label, sizeof label);
  hs_buf_t b;
  hs_buf_init(&b);
  int rc = strcmp(fmt, "json") == 0
               ? hs_report_compare_json(r->report, r->side->report, label, r->side->label, &b)
               : hs_report_compare_text(r->report, r->side->report, label, r->side->label, &b);
  if (!rc)
    fwrite(b.data, 1, b.len, o);
  hs_buf_free(&b);
  return rc;
}

static int replay_html(replay_t *r, int argc, char **argv, const char *config, const char *input,
                       FILE *f, const char *path) {
  char label[256], cmd[1024];
  hs_bt_label(r->model, label, sizeof label);
  hs_bt_command_line(argc, argv, cmd, sizeof cmd);
  hs_report_meta_t meta = {label, config, strcmp(input, "-") ? input : "standard input",
                           r->read.records, cmd};
  hs_report_meta_t other = meta;
  if (r->side)
    other.profile = r->side->label;
  return hs_bt_write_html(f, path, r->report, &meta, r->side ? r->side->report : NULL, &other);
}

/* The command line, as given. */
typedef struct replay_opts_s {
  const char *config, *alerts, *scores, *at, *final, *states, *report_fmt, *output, *html, *compare,
      *input;
  int horizon;
  bool no_advance;
  int64_t at_ms;
  hs_er_opts_t in;
} replay_opts_t;

/* One option of replay's own into `o` or r's settings. Returns -1 when
 * taken, else the exit status (0 after --help, 2 on a usage error). */
static int replay_option(int c, replay_opts_t *o, replay_t *r) {
  switch (c) {
  case 'c':
    o->config = optarg;
    break;
  case 'a':
    o->alerts = optarg;
    break;
  case 'A':
    if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
      fprintf(stderr, "healthscore replay: --alert-format is json or text\n");
      return 2;
    }
    r->alerts_text = strcmp(optarg, "text") == 0;
    break;
  case 's':
    o->scores = optarg;
    break;
  case 'E':
    r->all_evals = true;
    break;
  case 't':
    o->at = optarg;
    break;
  case 'N':
    o->no_advance = true;
    break;
  case 'F':
    o->final = optarg;
    break;
  case 'T':
    o->states = optarg;
    break;
  case 'H': {
    char *end;
    long v = strtol(optarg, &end, 10);
    if (*end || v < 1 || v > 730) {
      fprintf(stderr, "healthscore replay: --horizon takes 1..730 days\n");
      return 2;
    }
    o->horizon = (int)v;
    break;
  }
  case 'R':
    o->report_fmt = optarg;
    if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "none")) {
      fprintf(stderr, "healthscore replay: --report is text, json or none\n");
      return 2;
    }
    break;
  case 'o':
    o->output = optarg;
    break;
  case 'q':
    r->quiet = true;
    break;
  case 'W':
    o->html = optarg;
    break;
  case 'C':
    o->compare = optarg;
    break;
  case 'h':
    replay_usage(stdout);
    return 0;
  default:
    replay_usage(stderr);
    return 2;
  }
  return -1;
}

/* The checks of the options together, once all are read; the input.
 * Returns -1 to go on, else the exit status. */
static int replay_check_options(int argc, char **argv, replay_opts_t *o, replay_t *r) {
  if (o->at && o->no_advance) {
    fprintf(stderr, "healthscore replay: --at and --no-advance exclude each other\n");
    return 2;
  }
  if (!o->config || argc - optind > 1) {
    fprintf(stderr, "healthscore replay: %s\n\n",
            o->config ? "at most one input file" : "--config is required");
    replay_usage(stderr);
    return 2;
  }
  if (o->at && hs_time_parse_rfc3339(o->at, strlen(o->at), &o->at_ms)) {
    fprintf(stderr, "healthscore replay: --at \"%s\" is not an RFC 3339 time\n", o->at);
    return 2;
  }
  if (hs_er_apply_options(&o->in, "replay", &r->in))
    return 2;
  o->input = optind < argc ? argv[optind] : "-";
  r->in.name = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
  return -1;
}

/* Parses the command line into `o` and r's settings. Returns -1 to go on,
 * else the exit status (0 after --help, 2 on a usage error). */
static int parse_options(int argc, char **argv, replay_opts_t *o, replay_t *r) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"alerts", required_argument, NULL, 'a'},
                                       {"alert-format", required_argument, NULL, 'A'},
                                       {"scores", required_argument, NULL, 's'},
                                       {"all-evaluations", no_argument, NULL, 'E'},
                                       {"at", required_argument, NULL, 't'},
                                       {"no-advance", no_argument, NULL, 'N'},
                                       {"final", required_argument, NULL, 'F'},
                                       {"states", required_argument, NULL, 'T'},
                                       {"horizon", required_argument, NULL, 'H'},
                                       {"report", required_argument, NULL, 'R'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"html", required_argument, NULL, 'W'},
                                       {"compare", required_argument, NULL, 'C'},
                                       HS_ER_LONG_OPTIONS,
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c, taken;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:a:s:o:qh", opts, NULL)) != -1) {
    if ((taken = hs_er_take_option(&o->in, c, optarg, "replay")) != 0) {
      if (taken < 0)
        return 2;
      continue;
    }
    int rc = replay_option(c, o, r);
    if (rc >= 0)
      return rc;
  }
  return replay_check_options(argc, argv, o, r);
}

/* The files written, open while replaying. */
typedef struct replay_files_s {
  FILE *in, *rep, *fin, *sts, *hf;
} replay_files_t;

/* Opens the input and every output asked for; says why not. */
static int open_files(const replay_opts_t *o, replay_t *r, replay_files_t *f) {
  f->in = strcmp(o->input, "-") == 0 ? stdin : fopen(o->input, "rb");
  if (!f->in) {
    fprintf(stderr, "healthscore replay: cannot read %s: %s\n", o->input, strerror(errno));
    return -1;
  }
  if ((o->alerts && !(r->alerts = open_out(o->alerts))) ||
      (o->scores && !(r->scores = open_out(o->scores))) ||
      (o->output && !(f->rep = open_out(o->output))) ||
      (o->final && !(f->fin = open_out(o->final))) ||
      (o->states && !(f->sts = open_out(o->states))) || (o->html && !(f->hf = open_out(o->html))))
    return -1;
  return 0;
}

/* Closes what open_files opened; -1 when an output could not be written. */
static int close_files(replay_t *r, replay_files_t *f) {
  int rc = 0;
  if (f->in && f->in != stdin)
    fclose(f->in);
  FILE *outs[] = {r->alerts, r->scores, f->rep, f->fin, f->sts, f->hf};
  for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) {
    if (outs[i] && outs[i] != stdout && fclose(outs[i]) != 0) {
      fprintf(stderr, "healthscore replay: write error: %s\n", strerror(errno));
      rc = -1;
    }
  }
  return rc;
}

/* After the input: --states, every account advanced to the end, --final. */
static int write_accounts(const replay_opts_t *o, replay_t *r, replay_files_t *f) {
  if (f->sts) {
    states_ctx_t sc = {r, f->sts, 0};
    hs_engine_foreach(r->engine, write_state, &sc);
    if (sc.rc) {
      fprintf(stderr, "healthscore replay: out of memory\n");
      return -1;
    }
  }
  int64_t end = o->no_advance ? INT64_MIN : o->at ? o->at_ms : hs_engine_watermark(r->engine);
  if (end != INT64_MIN &&
      (hs_engine_advance(r->engine, end) || (r->side && hs_engine_advance(r->side->engine, end)))) {
    fprintf(stderr, "healthscore replay: out of memory\n");
    return -1;
  }
  progress(r, true);
  if (f->fin) {
    final_ctx_t fc = {r, f->fin, end};
    hs_engine_foreach(r->engine, write_final, &fc);
  }
  return 0;
}

/* The report as text or JSON (and --compare's), with the input's figures. */
static int write_report(const replay_opts_t *o, replay_t *r, FILE *o_file) {
  hs_buf_t out;
  hs_buf_init(&out);
  bool json = strcmp(o->report_fmt, "json") == 0;
  int rrc = json ? hs_report_json(r->report, &out) : hs_report_text(r->report, &out);
  if (rrc == 0) {
    hs_engine_stats_t st;
    hs_engine_stats(r->engine, &st);
    fwrite(out.data, 1, out.len, o_file);
    if (!json) {
      char dups[48] = ""; /* said only when there are any */
      if (st.duplicates)
        snprintf(dups, sizeof dups, "%llu duplicate (dropped), ",
                 (unsigned long long)st.duplicates);
      fprintf(o_file,
              "\ninput: %llu events read, %llu applied, %llu late (dropped), %s%llu unknown "
              "type (ignored), %llu rejected\n",
              (unsigned long long)r->read.records, (unsigned long long)st.applied,
              (unsigned long long)st.late, dups, (unsigned long long)r->read.unknown,
              (unsigned long long)(r->read.records - st.events - r->read.unknown));
    }
  }
  hs_buf_free(&out);
  return o->compare && replay_compare(r, o->report_fmt, o_file) ? -1 : 0;
}

/* Replays with everything set up; the exit status. */
static int run(int argc, char **argv, const replay_opts_t *o, replay_t *r, replay_files_t *f) {
  r->started = r->last_progress = now_s();
  if (read_input(r, f->in) || write_accounts(o, r, f))
    return 1;
  if (strcmp(o->report_fmt, "none") != 0 && write_report(o, r, f->rep ? f->rep : stdout))
    return 1;
  if (o->html) {
    FILE *hf = f->hf;
    f->hf = NULL; /* closed by hs_bt_write_html */
    if (replay_html(r, argc, argv, o->config, o->input, hf, o->html))
      return 1;
  }
  return r->read.rejected && !o->in.keep_going ? 3 : 0;
}

int hs_cmd_replay(int argc, char **argv) {
  replay_opts_t o = {.report_fmt = "text", .horizon = 30};
  replay_t r;
  memset(&r, 0, sizeof r);
  int status = parse_options(argc, argv, &o, &r);
  if (status >= 0)
    return status;
  hs_bt_side_t side;
  memset(&side, 0, sizeof side);
  replay_files_t files = {0};
  hs_err_t err = {0};
  hs_config_t *cfg = NULL;
  hs_model_t *model = NULL;
  status = 1;
  if (hs_config_load_file(o.config, &cfg, &err) || hs_model_compile(cfg, &model, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    goto done;
  }
  r.model = model;
  if (open_files(&o, &r, &files))
    goto done;
  if (o.compare) {
    if (hs_bt_side_open(&side, o.compare, NULL, o.horizon, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      goto done;
    }
    r.side = &side;
  }
  if (hs_bt_report_new(model, o.horizon, o.html || o.compare, &r.report) ||
      hs_engine_new(&r.engine, model, on_eval, &r)) {
    fprintf(stderr, "healthscore replay: out of memory\n");
    goto done;
  }
  status = run(argc, argv, &o, &r, &files);
done:
  if (close_files(&r, &files))
    status = 1;
  if (fflush(stdout) != 0)
    status = 1;
  hs_engine_free(r.engine);
  hs_report_free(r.report);
  hs_bt_side_close(&side);
  hs_buf_free(&r.buf);
  hs_model_free(model);
  hs_config_free(cfg);
  return status;
}
