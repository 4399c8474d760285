/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore replay`: events + configuration -> score timeline, alerts and a
 * backtest report. Time comes from the events only, so a replay is
 * deterministic: the same input gives the same output, byte for byte. */
#include "backtest.h"
#include "cmds.h"

#include "healthscore/codec.h"
#include "healthscore/config.h"
#include "healthscore/engine.h"
#include "healthscore/output.h"
#include "healthscore/report.h"
#include "healthscore/score.h"

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
  hs_decoder_t *dec;
  hs_report_t *report;
  hs_bt_side_t *side; /* --compare */
  FILE *alerts, *scores;
  bool alerts_text, all_evals, quiet;
  hs_buf_t buf;
  int status;
  /* input */
  uint64_t offered, decode_errors[16], unknown_types, rejected;
  const char *input_name;                        /* in messages: the file, or "<stdin>" */
  int64_t now_ms, min_event_time, max_future_ms; /* the event-time guard */
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
  hs_bt_feed(r->report, a, ev);
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
    if (hs_output_score_json(r->model, ev, &r->buf) == 0) {
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
          final ? "done: " : "", (unsigned long long)r->offered, el > 0 ? r->offered / el : 0.0,
          (unsigned long long)st.accounts, (unsigned long long)st.evaluations,
          (unsigned long long)st.alerts_firing, (unsigned long long)st.late, dups,
          (unsigned long long)(r->offered - st.events - r->unknown_types),
          (unsigned long long)r->unknown_types);
}

/* A rejected record: counted, and the first 10 shown with where they are. */
static void reject(replay_t *r, const char *where, const char *why) {
  r->rejected++;
  if (r->rejected <= 10)
    fprintf(stderr, "replay: %s: rejected: %s\n", where, why);
}

/* ---- framing: records of a stream that may mix JSON lines and msgpack --- */

#define MAX_BUF (64u << 20)

typedef struct input_s {
  replay_t *r;
  hs_format_t fmt; /* HS_FMT_AUTO: told apart per record */
  char *buf;       /* bytes [base, base + len) of the input */
  size_t cap, len;
  uint64_t base; /* offset in the input of buf[0] */
  uint64_t line; /* 1 + newlines before buf[pos] */
  bool eof;
  bool bol;       /* buf[0] starts a line */
  bool broken;    /* skipping bytes after a record that cannot be framed */
  bool broken_mp; /* ... that starts as a msgpack map: no text lines in it */
  uint64_t broken_at, broken_line;
  char broken_why[sizeof(((hs_err_t *)0)->msg)];
} input_t;

static bool map_header(unsigned char c) {
  return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

static void where_line(const input_t *in, uint64_t line, char out[300]) {
  snprintf(out, 300, "%s:%llu", in->r->input_name, (unsigned long long)line);
}

static void where_byte(const input_t *in, uint64_t at, char out[300]) {
  snprintf(out, 300, "%s: byte %llu", in->r->input_name, (unsigned long long)at);
}

static void count_lines(input_t *in, size_t from, size_t to) {
  for (const char *p = in->buf + from, *e = in->buf + to; (p = memchr(p, '\n', (size_t)(e - p)));
       p++)
    in->line++;
}

/* Ends a run of skipped bytes at buf[pos] (or at the end of the input): one
 * rejection, located at its first byte. */
static void end_broken(input_t *in, size_t pos) {
  char where[300], why[400 + sizeof in->broken_why];
  uint64_t to = in->base + pos;
  snprintf(where, sizeof where, "%s: byte %llu (line %llu)", in->r->input_name,
           (unsigned long long)in->broken_at, (unsigned long long)in->broken_line);
  snprintf(why, sizeof why, "%s; %llu bytes skipped, up to %s", in->broken_why,
           (unsigned long long)(to - in->broken_at),
           pos < in->len ? "the next record" : "the end of the input");
  in->r->offered++;
  in->r->decode_errors[-HS_E_PARSE & 15]++;
  reject(in->r, where, why);
  in->broken = false;
}

static void start_broken(input_t *in, size_t pos, const char *why) {
  in->broken = true;
  in->broken_at = in->base + pos;
  in->broken_line = in->line;
  in->broken_mp = map_header((unsigned char)in->buf[pos]);
  snprintf(in->broken_why, sizeof in->broken_why, "%s", why);
}

/* Whether a record starts at buf[q] while skipping: a '{' at the start of a
 * line (after text that is not msgpack), or a '{' (to the end of its line)
 * or msgpack map from which a whole event decodes. Returns 1, 0, or -1 when
 * more input is needed. */
static int resumes_at(input_t *in, size_t q) {
  unsigned char c = (unsigned char)in->buf[q];
  const char *p = in->buf + q;
  size_t avail = in->len - q, n;
  hs_format_t f;
  if (c == '{' && in->fmt != HS_FMT_MSGPACK) {
    if (!in->broken_mp && (q > 0 ? in->buf[q - 1] == '\n' : in->bol))
      return 1;
    const char *nl = memchr(p, '\n', avail);
    if (!nl && !in->eof && avail <= HS_DEFAULT_MAX_MESSAGE)
      return -1;
    n = nl ? (size_t)(nl - p) : avail;
    f = HS_FMT_JSON;
  } else if (map_header(c) && in->fmt != HS_FMT_JSON) {
    int rc = hs_msgpack_record_size(p, avail, &n, NULL);
    if (rc == 1 && !in->eof && avail <= HS_DEFAULT_MAX_MESSAGE)
      return -1;
    if (rc)
      return 0;
    f = HS_FMT_MSGPACK;
  } else {
    return 0;
  }
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = hs_event_decode(in->r->dec, p, n, f, &ev, &err);
  return rc == 0 || rc == HS_E_UNKNOWN;
}

/* Decodes, checks and applies one record. A msgpack record (`in` given,
 * at buf[pos]) that does not decode is first searched for a valid event
 * starting inside it: a map cut short takes the next record into its place,
 * in front of a value or a key. Returns 1 when one is found (the caller
 * skips to it), -1 when that needs more input, else 0. */
static int one_event(replay_t *r, const char *p, size_t n, hs_format_t fmt, const char *where,
                     input_t *in, size_t pos) {
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = hs_event_decode(r->dec, p, n, fmt, &ev, &err);
  if (rc && rc != HS_E_UNKNOWN && in) {
    for (size_t q = pos + 1; q < pos + n; q++) {
      int res = map_header((unsigned char)in->buf[q]) ? resumes_at(in, q) : 0;
      if (res) {
        if (res > 0)
          snprintf(in->broken_why, sizeof in->broken_why, "%s", err.msg);
        return res;
      }
    }
  }
  r->offered++;
  if (rc == HS_E_UNKNOWN) {
    r->unknown_types++;
    return 0;
  }
  if (rc == 0 && (rc = hs_event_check_time(ev.ts_ms, r->now_ms, r->min_event_time, r->max_future_ms,
                                           err.msg, sizeof err.msg)) != 0)
    err.code = rc;
  if (rc) {
    r->decode_errors[-rc & 15]++;
    reject(r, where, err.msg);
    return 0;
  }
  rc = hs_engine_apply(r->engine, &ev);
  /* an outcome delivered again does not undo one that came in between */
  if (ev.type == HS_EV_OUTCOME && rc >= 0 && rc != HS_DUPLICATE)
    hs_report_outcome(r->report, ev.account_id, ev.ts_ms, ev.outcome);
  if (rc >= 0 && r->side)
    rc = hs_bt_side_apply(r->side, &ev);
  if (rc < 0) {
    fprintf(stderr, "replay: %s\n", hs_strerror(rc));
    r->status = 1;
  }
  return 0;
}

/* Hands over the records in buf[*pos..len); stops where more input is needed. */
static void frame(input_t *in, size_t *pos_io) {
  replay_t *r = in->r;
  size_t pos = *pos_io;
  char where[300];
  while (pos < in->len) {
    if (in->broken) {
      int res = resumes_at(in, pos);
      if (res < 0)
        break;
      if (res == 0) {
        in->line += in->buf[pos] == '\n';
        pos++;
        continue;
      }
      end_broken(in, pos);
    }
    unsigned char c = (unsigned char)in->buf[pos];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      in->line += c == '\n';
      pos++;
      continue;
    }
    const char *p = in->buf + pos;
    size_t avail = in->len - pos, n;
    /* a record that does not fit in the largest buffer cannot wait for more */
    bool wait = !in->eof && !(pos == 0 && in->len == in->cap && in->cap >= MAX_BUF);
    if (in->fmt == HS_FMT_JSON || (in->fmt == HS_FMT_AUTO && c == '{')) {
      const char *nl = memchr(p, '\n', avail);
      if (!nl && wait)
        break; /* a line not read whole yet */
      n = nl ? (size_t)(nl - p) : avail;
      size_t m = n;
      while (m && (p[m - 1] == '\r' || p[m - 1] == ' '))
        m--;
      where_line(in, in->line, where);
      if (!nl && !in->eof) { /* a line over the buffer: skipped to its end */
        start_broken(in, pos, "a line over 64 MiB");
        pos += n;
        continue;
      }
      one_event(r, p, m, HS_FMT_JSON, where, NULL, 0);
      pos += n + (nl ? 1 : 0);
      in->line += nl != NULL;
    } else if (in->fmt == HS_FMT_MSGPACK || map_header(c)) {
      hs_err_t err = {0};
      int rc = hs_msgpack_record_size(p, avail, &n, &err);
      if (rc == 1 && wait)
        break;
      if (rc) {
        start_broken(in, pos, err.msg);
        pos++;
        continue;
      }
      where_byte(in, in->base + pos, where);
      int res = one_event(r, p, n, HS_FMT_MSGPACK, where, in, pos);
      if (res < 0 && wait)
        break;
      if (res > 0) { /* broken: skipped up to the event found inside */
        char why[sizeof in->broken_why];
        memcpy(why, in->broken_why, sizeof why);
        start_broken(in, pos, why);
        pos++;
        continue;
      }
      count_lines(in, pos, pos + n);
      pos += n;
    } else {
      start_broken(in, pos, "neither a JSON object nor a msgpack map");
      in->line += c == '\n';
      pos++;
    }
    progress(r, false);
  }
  *pos_io = pos;
}

/* Reads `f` to the end, handing each JSON line or msgpack map over. A stream
 * may mix them: the format is told apart per record unless `fmt` says. */
static int read_events(replay_t *r, FILE *f, hs_format_t fmt) {
  input_t in = {.r = r, .fmt = fmt, .cap = 1 << 20, .line = 1, .bol = true};
  if (!(in.buf = hs_malloc(in.cap)))
    return HS_E_NOMEM;
  for (;;) {
    if (!in.eof && (in.len < in.cap || in.cap < MAX_BUF)) {
      if (in.len == in.cap) {
        char *nb = hs_realloc(in.buf, in.cap * 2);
        if (!nb) {
          hs_free(in.buf);
          return HS_E_NOMEM;
        }
        in.buf = nb;
        in.cap *= 2;
      }
      size_t got = fread(in.buf + in.len, 1, in.cap - in.len, f);
      in.len += got;
      in.eof = got == 0;
    }
    size_t pos = 0;
    frame(&in, &pos);
    if (in.broken && in.eof && pos == in.len)
      end_broken(&in, pos);
    if (pos)
      in.bol = in.buf[pos - 1] == '\n';
    memmove(in.buf, in.buf + pos, in.len - pos);
    in.len -= pos;
    in.base += pos;
    if (in.eof && in.len == 0)
      break;
    if (in.eof && pos == 0) { /* cannot happen: at the end, every byte is framed */
      break;
    }
  }
  hs_free(in.buf);
  if (r->rejected > 10)
    fprintf(stderr, "replay: … and %llu more rejected\n", (unsigned long long)(r->rejected - 10));
  if (ferror(f)) {
    fprintf(stderr, "replay: read error: %s\n", strerror(errno));
    return HS_E_IO;
  }
  return 0;
}

static void replay_usage(FILE *f) {
  fprintf(f, "usage: healthscore replay --config CONFIG.yaml [options] [EVENTS]\n\n"
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
             "                          band transitions, accounts that move most, figures\n"
             "      --format FMT        input format: auto (default), json or msgpack\n"
             "      --min-event-time T  reject events before T: an RFC 3339 time or a duration\n"
             "                          before --now (default " HS_MIN_EVENT_TIME_DEFAULT ")\n"
             "      --max-future DUR    reject events more than DUR after --now (default 1h)\n"
             "      --now TIME          the time those two are relative to (RFC 3339;\n"
             "                          default: the wall clock); as engine.min_event_time and\n"
             "                          engine.max_future in healthscored\n"
             "      --keep-going        exit 0 even if some input was rejected\n"
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
  hs_report_meta_t meta = {label, config, strcmp(input, "-") ? input : "standard input", r->offered,
                           cmd};
  hs_report_meta_t other = meta;
  if (r->side)
    other.profile = r->side->label;
  return hs_bt_write_html(f, path, r->report, &meta, r->side ? r->side->report : NULL, &other);
}

int hs_cmd_replay(int argc, char **argv) {
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
                                       {"format", required_argument, NULL, 'f'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"html", required_argument, NULL, 'W'},
                                       {"compare", required_argument, NULL, 'C'},
                                       {"now", required_argument, NULL, 256},
                                       {"min-event-time", required_argument, NULL, 'M'},
                                       {"max-future", required_argument, NULL, 'X'},
                                       {"keep-going", no_argument, NULL, 'K'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *config = NULL, *alerts = NULL, *scores = NULL, *at = NULL, *final = NULL,
             *states = NULL;
  const char *report_fmt = "text", *output = NULL, *format = "auto";
  const char *html = NULL, *compare = NULL;
  hs_bt_side_t side;
  memset(&side, 0, sizeof side);
  FILE *hf = NULL;
  const char *now = NULL, *min_time = HS_MIN_EVENT_TIME_DEFAULT, *max_future = "1h";
  bool keep_going = false;
  int horizon = 30;
  bool no_advance = false;
  replay_t r;
  memset(&r, 0, sizeof r);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:a:s:o:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      config = optarg;
      break;
    case 'a':
      alerts = optarg;
      break;
    case 'A':
      if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
        fprintf(stderr, "healthscore replay: --alert-format is json or text\n");
        return 2;
      }
      r.alerts_text = strcmp(optarg, "text") == 0;
      break;
    case 's':
      scores = optarg;
      break;
    case 'E':
      r.all_evals = true;
      break;
    case 't':
      at = optarg;
      break;
    case 'N':
      no_advance = true;
      break;
    case 'F':
      final = optarg;
      break;
    case 'T':
      states = optarg;
      break;
    case 'H': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 730) {
        fprintf(stderr, "healthscore replay: --horizon takes 1..730 days\n");
        return 2;
      }
      horizon = (int)v;
      break;
    }
    case 'R':
      report_fmt = optarg;
      if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "none")) {
        fprintf(stderr, "healthscore replay: --report is text, json or none\n");
        return 2;
      }
      break;
    case 'o':
      output = optarg;
      break;
    case 'f':
      format = optarg;
      if (strcmp(optarg, "auto") && strcmp(optarg, "json") && strcmp(optarg, "msgpack")) {
        fprintf(stderr, "healthscore replay: --format is auto, json or msgpack\n");
        return 2;
      }
      break;
    case 'q':
      r.quiet = true;
      break;
    case 'W':
      html = optarg;
      break;
    case 'C':
      compare = optarg;
      break;
    case 256:
      now = optarg;
      break;
    case 'M':
      min_time = optarg;
      break;
    case 'X':
      max_future = optarg;
      break;
    case 'K':
      keep_going = true;
      break;
    case 'h':
      replay_usage(stdout);
      return 0;
    default:
      replay_usage(stderr);
      return 2;
    }
  }
  if (at && no_advance) {
    fprintf(stderr, "healthscore replay: --at and --no-advance exclude each other\n");
    return 2;
  }
  if (!config || argc - optind > 1) {
    fprintf(stderr, "healthscore replay: %s\n\n",
            config ? "at most one input file" : "--config is required");
    replay_usage(stderr);
    return 2;
  }
  int64_t at_ms = INT64_MIN;
  if (at && hs_time_parse_rfc3339(at, strlen(at), &at_ms)) {
    fprintf(stderr, "healthscore replay: --at \"%s\" is not an RFC 3339 time\n", at);
    return 2;
  }
  /* the event-time guard: as healthscored's, against the wall clock or --now */
  if (now && hs_time_parse_rfc3339(now, strlen(now), &r.now_ms)) {
    fprintf(stderr, "healthscore replay: --now \"%s\" is not an RFC 3339 time\n", now);
    return 2;
  }
  if (!now) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  }
  if (hs_event_min_time_parse(min_time, &r.min_event_time)) {
    fprintf(stderr,
            "healthscore replay: --min-event-time \"%s\" is neither an RFC 3339 time nor a "
            "duration\n",
            min_time);
    return 2;
  }
  if (hs_duration_parse(max_future, &r.max_future_ms)) {
    fprintf(stderr, "healthscore replay: --max-future \"%s\" is not a duration\n", max_future);
    return 2;
  }
  const char *input = optind < argc ? argv[optind] : "-";
  r.input_name = strcmp(input, "-") == 0 ? "<stdin>" : input;
  hs_format_t fmt = strcmp(format, "json") == 0      ? HS_FMT_JSON
                    : strcmp(format, "msgpack") == 0 ? HS_FMT_MSGPACK
                                                     : HS_FMT_AUTO;

  hs_err_t err = {0};
  hs_config_t *cfg = NULL;
  hs_model_t *model = NULL;
  FILE *in = NULL, *rep = NULL, *fin = NULL, *sts = NULL;
  int status = 1;
  if (hs_config_load_file(config, &cfg, &err) || hs_model_compile(cfg, &model, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    goto done;
  }
  r.model = model;
  in = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
  if (!in) {
    fprintf(stderr, "healthscore replay: cannot read %s: %s\n", input, strerror(errno));
    goto done;
  }
  if ((alerts && !(r.alerts = open_out(alerts))) || (scores && !(r.scores = open_out(scores))) ||
      (output && !(rep = open_out(output))) || (final && !(fin = open_out(final))) ||
      (states && !(sts = open_out(states))) || (html && !(hf = open_out(html))))
    goto done;
  if (compare) {
    if (hs_bt_side_open(&side, compare, NULL, horizon, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      goto done;
    }
    r.side = &side;
  }
  if (hs_bt_report_new(model, horizon, html || compare, &r.report) ||
      hs_engine_new(&r.engine, model, on_eval, &r) || hs_decoder_new(&r.dec, 0)) {
    fprintf(stderr, "healthscore replay: out of memory\n");
    goto done;
  }
  r.started = r.last_progress = now_s();
  r.status = 0;
  if (read_events(&r, in, fmt) || r.status)
    goto done;
  if (sts) {
    states_ctx_t sc = {&r, sts, 0};
    hs_engine_foreach(r.engine, write_state, &sc);
    if (sc.rc) {
      fprintf(stderr, "healthscore replay: out of memory\n");
      goto done;
    }
  }
  int64_t end = no_advance ? INT64_MIN : at ? at_ms : hs_engine_watermark(r.engine);
  if (end != INT64_MIN &&
      (hs_engine_advance(r.engine, end) || (r.side && hs_engine_advance(side.engine, end)))) {
    fprintf(stderr, "healthscore replay: out of memory\n");
    goto done;
  }
  progress(&r, true);
  if (fin) {
    final_ctx_t fc = {&r, fin, end};
    hs_engine_foreach(r.engine, write_final, &fc);
  }
  if (strcmp(report_fmt, "none") != 0) {
    hs_buf_t out;
    hs_buf_init(&out);
    int rrc = strcmp(report_fmt, "json") == 0 ? hs_report_json(r.report, &out)
                                              : hs_report_text(r.report, &out);
    if (rrc == 0) {
      hs_engine_stats_t st;
      hs_engine_stats(r.engine, &st);
      FILE *o = rep ? rep : stdout;
      fwrite(out.data, 1, out.len, o);
      if (strcmp(report_fmt, "text") == 0) {
        char dups[48] = ""; /* said only when there are any */
        if (st.duplicates)
          snprintf(dups, sizeof dups, "%llu duplicate (dropped), ",
                   (unsigned long long)st.duplicates);
        fprintf(o,
                "\ninput: %llu events read, %llu applied, %llu late (dropped), %s%llu unknown "
                "type (ignored), %llu rejected\n",
                (unsigned long long)r.offered, (unsigned long long)st.applied,
                (unsigned long long)st.late, dups, (unsigned long long)r.unknown_types,
                (unsigned long long)(r.offered - st.events - r.unknown_types));
      }
    }
    hs_buf_free(&out);
    if (compare && replay_compare(&r, report_fmt, rep ? rep : stdout))
      goto done;
  }
  if (html) {
    FILE *f = hf;
    hf = NULL; /* closed by hs_bt_write_html */
    if (replay_html(&r, argc, argv, config, input, f, html))
      goto done;
  }
  status = r.rejected && !keep_going ? 3 : 0;
done:
  if (in && in != stdin)
    fclose(in);
  FILE *outs[] = {r.alerts, r.scores, rep, fin, sts, hf};
  for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) {
    if (outs[i] && outs[i] != stdout && fclose(outs[i]) != 0) {
      fprintf(stderr, "healthscore replay: write error: %s\n", strerror(errno));
      status = 1;
    }
  }
  if (fflush(stdout) != 0)
    status = 1;
  hs_engine_free(r.engine);
  hs_decoder_free(r.dec);
  hs_report_free(r.report);
  hs_bt_side_close(&side);
  hs_buf_free(&r.buf);
  hs_model_free(model);
  hs_config_free(cfg);
  return status;
}
