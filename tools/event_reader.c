/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Reading an events file (see event_reader.h): records of a stream that may
 * mix JSON lines and msgpack, the resynchronisation after bytes that cannot
 * be framed, the event-time guard and where each rejection is. */
#include "event_reader.h"

#include "healthscore/event.h"
#include "healthscore/time.h"

#include <string.h>
#include <time.h>

#define MAX_BUF (64u << 20)

typedef struct input_s {
  const hs_er_conf_t *conf;
  hs_er_stats_t *st;
  hs_decoder_t *dec;
  int stop;        /* what on_event returned to stop the read */
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

/* A rejected record: counted and handed over. */
static void reject(input_t *in, const char *where, const char *why, int code) {
  in->st->rejected++;
  hs_er_reject_t rej = {where, why, code};
  if (in->conf->on_reject)
    in->conf->on_reject(in->conf->ud, &rej);
}

static bool map_header(unsigned char c) {
  return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

/* Where a record is, "NAME:LINE" (JSON) or "NAME: byte AT" (msgpack):
 * written out only for a rejection. */
typedef struct loc_s {
  bool line;
  uint64_t n;
} loc_t;

static void where_of(const input_t *in, loc_t loc, char out[300]) {
  snprintf(out, 300, loc.line ? "%s:%llu" : "%s: byte %llu", in->conf->name,
           (unsigned long long)loc.n);
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
  snprintf(where, sizeof where, "%s: byte %llu (line %llu)", in->conf->name,
           (unsigned long long)in->broken_at, (unsigned long long)in->broken_line);
  snprintf(why, sizeof why, "%s; %llu bytes skipped, up to %s", in->broken_why,
           (unsigned long long)(to - in->broken_at),
           pos < in->len ? "the next record" : "the end of the input");
  in->st->records++;
  reject(in, where, why, HS_E_PARSE);
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
  int rc = hs_event_decode(in->dec, p, n, f, &ev, &err);
  return rc == 0 || rc == HS_E_UNKNOWN;
}

/* Checks and hands over one decoded record (`rc` what decoding returned,
 * `err` its reason). */
static void deliver(input_t *in, const hs_event_t *ev, int rc, hs_err_t *err, loc_t loc) {
  const hs_er_conf_t *conf = in->conf;
  in->st->records++;
  if (rc == HS_E_UNKNOWN) {
    in->st->unknown++;
    return;
  }
  if (rc == 0)
    rc = hs_event_check_time(ev->ts_ms, conf->now_ms, conf->min_event_time, conf->max_future_ms,
                             err->msg, sizeof err->msg);
  if (rc) {
    char where[300];
    where_of(in, loc, where);
    reject(in, where, err->msg, rc);
    return;
  }
  in->st->events++;
  rc = conf->on_event(conf->ud, ev);
  if (rc < 0)
    in->stop = rc;
}

/* Decodes, checks and hands over one record. A msgpack record (`search`,
 * at buf[pos]) that does not decode is first searched for a valid event
 * starting inside it: a map cut short takes the next record into its place,
 * in front of a value or a key. Returns 1 when one is found (the caller
 * skips to it), -1 when that needs more input, else 0. */
static int one_event(input_t *in, const char *p, size_t n, hs_format_t fmt, loc_t loc, bool search,
                     size_t pos) {
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = hs_event_decode(in->dec, p, n, fmt, &ev, &err);
  if (rc && rc != HS_E_UNKNOWN && search) {
    for (size_t q = pos + 1; q < pos + n; q++) {
      int res = map_header((unsigned char)in->buf[q]) ? resumes_at(in, q) : 0;
      if (res) {
        if (res > 0)
          snprintf(in->broken_why, sizeof in->broken_why, "%s", err.msg);
        return res;
      }
    }
  }
  deliver(in, &ev, rc, &err, loc);
  return 0;
}

/* A JSON line at buf[pos] (`nl` its end, if read): handed over. Returns the
 * bytes taken, or 0 when the line is not read whole yet. */
static size_t frame_json(input_t *in, size_t pos, bool wait) {
  const char *p = in->buf + pos;
  size_t avail = in->len - pos;
  const char *nl = memchr(p, '\n', avail);
  if (!nl && wait)
    return 0;
  size_t n = nl ? (size_t)(nl - p) : avail, m = n;
  while (m && (p[m - 1] == '\r' || p[m - 1] == ' '))
    m--;
  if (!nl && !in->eof) { /* a line over the buffer: skipped to its end */
    start_broken(in, pos, "a line over 64 MiB");
    return n;
  }
  one_event(in, p, m, HS_FMT_JSON, (loc_t){true, in->line}, false, 0);
  in->line += nl != NULL;
  return n + (nl ? 1 : 0);
}

/* A msgpack map at buf[pos]: handed over, or the start of skipped bytes.
 * Returns the bytes taken, or 0 when more input is needed. */
static size_t frame_msgpack(input_t *in, size_t pos, bool wait) {
  const char *p = in->buf + pos;
  loc_t loc = {false, in->base + pos};
  size_t n;
  hs_event_t ev;
  hs_err_t err = {0};
  /* most records decode in one pass, which says where they end; the others
     are framed apart (hs_msgpack_record_size), for the reason and where the
     next record starts */
  int rc = hs_event_decode_msgpack_record(in->dec, p, in->len - pos, &n, &ev, &err);
  if (n && (rc == 0 || rc == HS_E_UNKNOWN)) {
    deliver(in, &ev, rc, &err, loc);
    count_lines(in, pos, pos + n);
    return n;
  }
  err = (hs_err_t){0};
  rc = hs_msgpack_record_size(p, in->len - pos, &n, &err);
  if (rc == 1 && wait)
    return 0;
  if (rc) {
    start_broken(in, pos, err.msg);
    return 1;
  }
  int res = one_event(in, p, n, HS_FMT_MSGPACK, loc, true, pos);
  if (res < 0 && wait)
    return 0;
  if (res > 0) { /* broken: skipped up to the event found inside */
    char why[sizeof in->broken_why];
    memcpy(why, in->broken_why, sizeof why);
    start_broken(in, pos, why);
    return 1;
  }
  count_lines(in, pos, pos + n);
  return n;
}

/* Hands over the records in buf[*pos..len); stops where more input is needed. */
static void frame(input_t *in, size_t *pos_io) {
  size_t pos = *pos_io;
  while (pos < in->len && !in->stop) {
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
    /* a record that does not fit in the largest buffer cannot wait for more */
    bool wait = !in->eof && !(pos == 0 && in->len == in->cap && in->cap >= MAX_BUF);
    size_t took;
    if (in->fmt == HS_FMT_JSON || (in->fmt == HS_FMT_AUTO && c == '{')) {
      took = frame_json(in, pos, wait);
    } else if (in->fmt == HS_FMT_MSGPACK || map_header(c)) {
      took = frame_msgpack(in, pos, wait);
    } else {
      start_broken(in, pos, "neither a JSON object nor a msgpack map");
      in->line += c == '\n';
      took = 1;
    }
    if (!took)
      break;
    pos += took;
    if (in->conf->on_record)
      in->conf->on_record(in->conf->ud);
  }
  *pos_io = pos;
}

/* Reads more of `f` into the buffer, growing it up to MAX_BUF when full. */
static int fill(input_t *in, FILE *f) {
  if (in->eof || (in->len == in->cap && in->cap >= MAX_BUF))
    return 0;
  if (in->len == in->cap) {
    char *nb = hs_realloc(in->buf, in->cap * 2);
    if (!nb)
      return HS_E_NOMEM;
    in->buf = nb;
    in->cap *= 2;
  }
  size_t got = fread(in->buf + in->len, 1, in->cap - in->len, f);
  in->len += got;
  in->eof = got == 0;
  return 0;
}

int hs_er_read(FILE *f, const hs_er_conf_t *conf, hs_er_stats_t *st) {
  memset(st, 0, sizeof *st);
  input_t in = {.conf = conf, .st = st, .fmt = conf->fmt, .cap = 1 << 20, .line = 1, .bol = true};
  int rc = 0;
  if (!(in.buf = hs_malloc(in.cap)) || hs_decoder_new(&in.dec, 0)) {
    hs_free(in.buf);
    return HS_E_NOMEM;
  }
  for (;;) {
    if ((rc = fill(&in, f)) != 0)
      break;
    size_t pos = 0;
    frame(&in, &pos);
    if ((rc = in.stop) != 0)
      break;
    if (in.broken && in.eof && pos == in.len)
      end_broken(&in, pos);
    if (pos)
      in.bol = in.buf[pos - 1] == '\n';
    memmove(in.buf, in.buf + pos, in.len - pos);
    in.len -= pos;
    in.base += pos;
    if (in.eof && (in.len == 0 || pos == 0)) /* at the end, every byte is framed */
      break;
  }
  hs_free(in.buf);
  hs_decoder_free(in.dec);
  if (!rc && ferror(f))
    rc = HS_E_IO;
  return rc;
}

void hs_er_show(const char *cmd, uint64_t nth, const hs_er_reject_t *rej) {
  if (nth <= HS_ER_SHOWN)
    fprintf(stderr, "%s: %s: rejected: %s\n", cmd, rej->where, rej->why);
}

void hs_er_show_rest(const char *cmd, uint64_t rejected) {
  if (rejected > HS_ER_SHOWN)
    fprintf(stderr, "%s: … and %llu more rejected\n", cmd,
            (unsigned long long)(rejected - HS_ER_SHOWN));
}

int hs_er_take_option(hs_er_opts_t *o, int c, const char *arg, const char *cmd) {
  switch (c) {
  case HS_ER_OPT_FORMAT:
    if (strcmp(arg, "auto") && strcmp(arg, "json") && strcmp(arg, "msgpack")) {
      fprintf(stderr, "healthscore %s: --format is auto, json or msgpack\n", cmd);
      return -1;
    }
    o->format = arg;
    return 1;
  case HS_ER_OPT_NOW:
    o->now = arg;
    return 1;
  case HS_ER_OPT_MIN_EVENT_TIME:
    o->min_event_time = arg;
    return 1;
  case HS_ER_OPT_MAX_FUTURE:
    o->max_future = arg;
    return 1;
  case HS_ER_OPT_KEEP_GOING:
    o->keep_going = true;
    return 1;
  default:
    return 0;
  }
}

int hs_er_apply_options(const hs_er_opts_t *o, const char *cmd, hs_er_conf_t *conf) {
  const char *format = o->format ? o->format : "auto";
  const char *min_time = o->min_event_time ? o->min_event_time : HS_MIN_EVENT_TIME_DEFAULT;
  const char *max_future = o->max_future ? o->max_future : "1h";
  conf->fmt = strcmp(format, "json") == 0      ? HS_FMT_JSON
              : strcmp(format, "msgpack") == 0 ? HS_FMT_MSGPACK
                                               : HS_FMT_AUTO;
  /* the event-time guard: as healthscored's, against the wall clock or --now */
  if (o->now && hs_time_parse_rfc3339(o->now, strlen(o->now), &conf->now_ms)) {
    fprintf(stderr, "healthscore %s: --now \"%s\" is not an RFC 3339 time\n", cmd, o->now);
    return -1;
  }
  if (!o->now) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    conf->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  }
  if (hs_event_min_time_parse(min_time, &conf->min_event_time)) {
    fprintf(stderr,
            "healthscore %s: --min-event-time \"%s\" is neither an RFC 3339 time nor a "
            "duration\n",
            cmd, min_time);
    return -1;
  }
  if (hs_duration_parse(max_future, &conf->max_future_ms)) {
    fprintf(stderr, "healthscore %s: --max-future \"%s\" is not a duration\n", cmd, max_future);
    return -1;
  }
  return 0;
}
