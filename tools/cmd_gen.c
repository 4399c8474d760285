/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore gen`: deterministic synthetic customer events with known
 * archetypes and outcomes, for demos, backtests and benchmarks. Each account
 * draws from its own random stream seeded by (seed, account index), so adding
 * accounts never changes the existing ones. */
#include "cmds.h"
#include "gen_accounts.h"
#include "kafka_opts.h"

#include "healthscore/codec.h"
#include "healthscore/producer.h"
#include "healthscore/time.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

/* The input topic of an event type: usage, engagement, billing, surveys or
 * accounts, after `prefix`. */
static const char *topic_suffix(hs_event_type_t t) {
  switch (t) {
  case HS_EV_LOGIN:
  case HS_EV_FEATURE_USED:
    return "usage";
  case HS_EV_INVOICE_ISSUED:
  case HS_EV_INVOICE_PAID:
  case HS_EV_INVOICE_OVERDUE:
    return "billing";
  case HS_EV_NPS:
  case HS_EV_CSAT:
  case HS_EV_CSM_RATING:
  case HS_EV_REFERENCE:
  case HS_EV_REVIEW:
  case HS_EV_REFERRAL:
    return "surveys";
  case HS_EV_ACCOUNT:
  case HS_EV_OUTCOME:
  case HS_EV_OVERRIDE:
    return "accounts";
  default:
    return "engagement";
  }
}

/* Producing to Kafka: the producer, its loop and the delivery counts. */
typedef struct kafka_out_s {
  uv_loop_t loop;
  hs_producer_t *producer;
  const char *prefix;
  hs_tool_tally_t tally;
  bool closed;
} kafka_out_t;

static void on_report(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                      const char *reason) {
  kafka_out_t *k = ud;
  (void)opaque;
  (void)partition;
  (void)offset;
  hs_tool_tally_report(&k->tally, status, reason);
}

static void on_producer_closed(void *ud) {
  ((kafka_out_t *)ud)->closed = true;
}

/* Sends one encoded event; waits for room when the local queue is full. */
static int kafka_send(kafka_out_t *k, const hs_event_t *ev, const char *data, size_t len) {
  char topic[256];
  snprintf(topic, sizeof topic, "%s%s", k->prefix, topic_suffix(ev->type));
  for (;;) {
    hs_err_t err = {0};
    int rc = hs_producer_send(k->producer, topic, ev->account_id.ptr, ev->account_id.len, data, len,
                              NULL, 0, NULL, &err);
    if (rc != HS_E_TOOBIG) {
      if (rc)
        fprintf(stderr, "healthscore gen: %s\n", err.msg);
      return rc;
    }
    uv_run(&k->loop, UV_RUN_ONCE); /* the queue is full: let deliveries drain it */
  }
}

static void gen_usage(FILE *f) {
  fprintf(f, "usage: healthscore gen [options]\n\n"
             "Writes deterministic synthetic customer events, sorted by time: JSON lines or\n"
             "concatenated msgpack maps. Each account follows an archetype and ends with an\n"
             "outcome event (when the period covers at least 60 days).\n\n"
             "  -n, --accounts N     accounts (default 1000)\n"
             "  -d, --days D         days (default 90)\n"
             "  -s, --seed S         random seed (default 1)\n"
             "      --start DATE     first day, YYYY-MM-DD (default 2026-01-01)\n"
             "  -f, --format FMT     json (default) or msgpack\n"
             "  -o, --output FILE    write to FILE (default: standard output)\n"
             "  -k, --kafka BOOTSTRAP  produce to Kafka instead: each event to PREFIX + usage,\n"
             "                       engagement, billing, surveys or accounts, keyed by account\n"
             "                       id (murmur2 partitioner)\n"
             "      --topic-prefix P topic prefix with --kafka (default \"healthscore.\")\n"
             "  -r, --rate N         with --kafka: at most N events per second (default: as\n"
             "                       fast as possible)\n"
             "  -X NAME=VALUE        with --kafka: a librdkafka producer setting, e.g.\n"
             "                       linger.ms=0 (repeatable)\n"
             "      --mix LIST       archetype percentages, e.g. healthy=45,declining=12\n"
             "  -q, --quiet          no progress or summary on stderr\n"
             "  -h, --help           this text\n\n"
             "archetypes (default mix): healthy 45, declining 12, sudden_drop 8, churning 10,\n"
             "onboarding 10, seasonal_dip 10, silent_surveys 5. The account event of each\n"
             "account carries attributes.archetype.\n");
}

enum { GEN_MAX_SET = 32 };

/* The command line of `healthscore gen`. */
typedef struct gen_opts_s {
  long accounts, days;
  unsigned long long seed;
  const char *start, *output, *kafka, *prefix;
  double rate;
  bool msgpack, quiet;
  const char *set[2 * GEN_MAX_SET]; /* -X NAME=VALUE pairs */
  size_t n_set;
  double mix[A__COUNT];
  int64_t start_ms;
} gen_opts_t;

/* One option into *o. Returns -1 when taken, else the exit status (0
 * after --help, 2 on a usage error). */
static int gen_option(gen_opts_t *o, int c) {
  char *end = NULL;
  switch (c) {
  case 'n':
    o->accounts = strtol(optarg, &end, 10);
    if (*end || o->accounts < 1 || o->accounts > 10000000) {
      fprintf(stderr, "healthscore gen: --accounts takes 1..10000000\n");
      return 2;
    }
    break;
  case 'd':
    o->days = strtol(optarg, &end, 10);
    if (*end || o->days < 1 || o->days > 3650) {
      fprintf(stderr, "healthscore gen: --days takes 1..3650\n");
      return 2;
    }
    break;
  case 's':
    o->seed = strtoull(optarg, &end, 10);
    if (*end) {
      fprintf(stderr, "healthscore gen: --seed takes a non-negative integer\n");
      return 2;
    }
    break;
  case 'S':
    o->start = optarg;
    break;
  case 'f':
    if (strcmp(optarg, "json") && strcmp(optarg, "msgpack")) {
      fprintf(stderr, "healthscore gen: --format is json or msgpack\n");
      return 2;
    }
    o->msgpack = !strcmp(optarg, "msgpack");
    break;
  case 'o':
    o->output = optarg;
    break;
  case 'm':
    if (gen_parse_mix(optarg, o->mix)) {
      fprintf(stderr, "healthscore gen: --mix takes name=percent pairs of: healthy, "
                      "declining, sudden_drop, churning, onboarding, seasonal_dip, "
                      "silent_surveys\n");
      return 2;
    }
    break;
  case 'q':
    o->quiet = true;
    break;
  case 'k':
    o->kafka = optarg;
    break;
  case 'P':
    o->prefix = optarg;
    break;
  case 'r':
    o->rate = strtod(optarg, &end);
    if (*end || !(o->rate > 0) || o->rate > 1e7) {
      fprintf(stderr, "healthscore gen: --rate takes a number of events per second\n");
      return 2;
    }
    break;
  case 'X':
    if (hs_tool_take_setting(optarg, o->set, &o->n_set, GEN_MAX_SET)) {
      fprintf(stderr, "healthscore gen: -X takes NAME=VALUE (at most %d)\n", GEN_MAX_SET);
      return 2;
    }
    break;
  case 'h':
    gen_usage(stdout);
    return 0;
  default:
    gen_usage(stderr);
    return 2;
  }
  return -1;
}

/* The checks of the options together, once all are read. Returns -1 to go
 * on, or the exit status. */
static int gen_check_args(gen_opts_t *o) {
  char startbuf[40];
  snprintf(startbuf, sizeof startbuf, "%sT00:00:00Z", o->start);
  if (strlen(o->start) != 10 || hs_time_parse_rfc3339(startbuf, strlen(startbuf), &o->start_ms)) {
    fprintf(stderr, "healthscore gen: --start takes a date YYYY-MM-DD\n");
    return 2;
  }
  if (o->n_set && !o->kafka) {
    fprintf(stderr, "healthscore gen: -X needs --kafka\n");
    return 2;
  }
  if (o->kafka && o->output) {
    fprintf(stderr, "healthscore gen: --kafka and --output exclude each other\n");
    return 2;
  }
  return -1;
}

/* Reads the options into *o. Returns -1 to go on, or the exit status. */
static int gen_parse_args(int argc, char **argv, gen_opts_t *o) {
  static const struct option opts[] = {{"accounts", required_argument, NULL, 'n'},
                                       {"days", required_argument, NULL, 'd'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"start", required_argument, NULL, 'S'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"mix", required_argument, NULL, 'm'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"kafka", required_argument, NULL, 'k'},
                                       {"topic-prefix", required_argument, NULL, 'P'},
                                       {"rate", required_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  *o = (gen_opts_t){
      .accounts = 1000, .days = 90, .seed = 1, .start = "2026-01-01", .prefix = "healthscore."};
  memcpy(o->mix, gen_default_mix, sizeof o->mix);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "n:d:s:f:o:k:r:X:qh", opts, NULL)) != -1) {
    int rc = gen_option(o, c);
    if (rc >= 0)
      return rc;
  }
  if (optind < argc) {
    fprintf(stderr, "healthscore gen: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  return gen_check_args(o);
}

/* Starts a producer for --kafka and learns every topic before the first
 * event, so that none stalls the rest. Returns 0, or 1 having said why (the
 * loop closed, nothing left to release). */
static int gen_kafka_open(kafka_out_t *ko, const gen_opts_t *o) {
  hs_err_t err = {0};
  hs_producer_conf_t pc = {.bootstrap = o->kafka, .settings = o->set, .n_settings = o->n_set};
  uv_loop_init(&ko->loop);
  char names[5][256];
  const char *topics[5];
  static const char *const suffixes[5] = {"usage", "engagement", "billing", "surveys", "accounts"};
  for (int i = 0; i < 5; i++) {
    snprintf(names[i], sizeof names[i], "%s%s", o->prefix, suffixes[i]);
    topics[i] = names[i];
  }
  if (hs_tool_producer_open(&ko->producer, &ko->loop, &pc, on_report, ko, topics, 5, 10000, &err)) {
    fprintf(stderr, "healthscore gen: %s\n", err.msg);
    return 1;
  }
  return 0;
}

/* Points the event's strings at the room its record keeps for them. */
static void gen_point_strings(const gen_t *g, gev_t *e) {
  gen_set_str(&e->ev.event_id, e->event_id);
  gen_set_str(&e->ev.account_id, g->acc[e->account].id);
  if (e->ev.present & HS_FIELD_BIT(HS_F_USER_ID))
    gen_set_str(&e->ev.user_id, e->user);
  gen_set_str(&e->ev.ticket_id, e->ref);
  gen_set_str(&e->ev.invoice_id, e->ref);
  for (uint32_t a = 0; a < e->ev.n_attrs; a++)
    gen_set_str(&e->ev.attr_val[a], e->attr_val[a]);
}

/* --rate: sleeps until event number `n` is due, at n / rate seconds after
 * `t0`. */
static void gen_pace(const struct timespec *t0, uint64_t n, double rate) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double el = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
  double due = (double)n / rate;
  if (due > el) {
    struct timespec ts = {(time_t)(due - el),
                          (long)((due - el - (double)(time_t)(due - el)) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

/* Where the events go (a file, or Kafka when `ko` is set) and what went. */
typedef struct gen_sink_s {
  const gen_opts_t *o;
  kafka_out_t *ko;
  FILE *out;
  hs_buf_t buf;
  uint64_t written, bytes;
  struct timespec t0;
} gen_sink_t;

enum { GEN_OK, GEN_OOM, GEN_WRITE_ERROR, GEN_STOP };

static double gen_elapsed(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Encodes and sends or writes the day's events, in order. Returns GEN_OK,
 * GEN_OOM, GEN_WRITE_ERROR, or GEN_STOP when Kafka refused one (said). */
static int gen_emit_day(gen_t *g, gen_sink_t *s) {
  bool msgpack = s->o->msgpack;
  for (size_t k = 0; k < g->n_evs; k++) {
    gev_t *e = &g->evs[k];
    gen_point_strings(g, e);
    size_t at = s->buf.len;
    int rc =
        msgpack ? hs_event_encode_msgpack(&e->ev, &s->buf) : hs_event_encode_json(&e->ev, &s->buf);
    if (rc || (!s->ko && !msgpack && hs_buf_append(&s->buf, "\n", 1)))
      return GEN_OOM;
    if (s->ko) {
      if (kafka_send(s->ko, &e->ev, s->buf.data + at, s->buf.len - at))
        return GEN_STOP;
      s->bytes += s->buf.len - at;
      s->buf.len = 0;
      if (s->o->rate > 0)
        gen_pace(&s->t0, s->written + k + 1, s->o->rate); /* k: this day's index */
      if ((s->written + k) % 1024 == 0)                   /* serve delivery reports now and then */
        uv_run(&s->ko->loop, UV_RUN_NOWAIT);
      continue;
    }
    if (s->buf.len > (1 << 20)) {
      if (fwrite(s->buf.data, 1, s->buf.len, s->out) != s->buf.len)
        return GEN_WRITE_ERROR;
      s->bytes += s->buf.len;
      s->buf.len = 0;
    }
  }
  s->written += g->n_evs;
  return GEN_OK;
}

/* Every day of every account, with progress once a second. Returns as
 * gen_emit_day. */
static int gen_run_days(gen_t *g, gen_sink_t *s) {
  double last_report = 0;
  for (int d = 0; d < g->days; d++) {
    g->n_evs = 0;
    for (uint32_t i = 0; i < (uint32_t)g->n_accounts; i++)
      if (gen_day(g, i, d))
        return GEN_OOM;
    gen_order_day(g);
    int rc = gen_emit_day(g, s);
    if (rc)
      return rc;
    double el = gen_elapsed(&s->t0);
    if (!s->o->quiet && el - last_report >= 1.0) {
      last_report = el;
      fprintf(stderr, "gen: day %d/%ld, %llu events, %.0f events/s\n", d + 1, s->o->days,
              (unsigned long long)s->written, s->written / el);
    }
  }
  return GEN_OK;
}

/* Waits for Kafka's deliveries, or writes what is left to the file. */
static int gen_finish(gen_sink_t *s) {
  if (s->ko) {
    hs_producer_close(s->ko->producer, 30000, on_producer_closed, s->ko);
    s->ko->producer = NULL;
    uv_run(&s->ko->loop, UV_RUN_DEFAULT);
    return GEN_OK;
  }
  if (s->buf.len && fwrite(s->buf.data, 1, s->buf.len, s->out) != s->buf.len)
    return GEN_WRITE_ERROR;
  s->bytes += s->buf.len;
  return fflush(s->out) != 0 ? GEN_WRITE_ERROR : GEN_OK;
}

/* The summary on stderr; returns the exit status. */
static int gen_summary(const gen_sink_t *s) {
  const gen_opts_t *o = s->o;
  const kafka_out_t *ko = s->ko;
  double el = gen_elapsed(&s->t0);
  if (!o->quiet)
    fprintf(stderr, "gen: %llu events for %ld accounts over %ld days (%.1f MB) in %.2f s\n",
            (unsigned long long)s->written, o->accounts, o->days, s->bytes / 1e6, el);
  const hs_tool_tally_t *t = ko ? &ko->tally : NULL;
  if (t && (!o->quiet || t->failed))
    fprintf(stderr, "gen: produced to %s: %llu delivered, %llu failed%s%s\n", o->kafka,
            (unsigned long long)t->delivered, (unsigned long long)t->failed,
            t->failed ? "; first error: " : "", t->first_error);
  return t && (t->failed || t->delivered != s->written) ? 1 : 0;
}

int hs_cmd_gen(int argc, char **argv) {
  gen_opts_t o;
  int rc = gen_parse_args(argc, argv, &o);
  if (rc >= 0)
    return rc;
  gen_t g = {.n_accounts = (int)o.accounts, .days = (int)o.days, .start_ms = o.start_ms};
  kafka_out_t ko = {.prefix = o.prefix};
  if (o.kafka && gen_kafka_open(&ko, &o))
    return 1;
  gen_sink_t s = {.o = &o, .ko = o.kafka ? &ko : NULL};
  s.out = o.kafka ? NULL : o.output ? fopen(o.output, "wb") : stdout;
  if (!o.kafka && !s.out) {
    fprintf(stderr, "healthscore gen: cannot write %s: %s\n", o.output, strerror(errno));
    return 1;
  }
  double cum[A__COUNT], total = 0;
  for (int i = 0; i < A__COUNT; i++)
    cum[i] = (total += o.mix[i]);
  g.acc = hs_calloc((size_t)o.accounts, sizeof *g.acc);
  hs_buf_init(&s.buf);
  int status = 1;
  rc = g.acc ? GEN_OK : GEN_OOM;
  if (!rc) {
    for (uint32_t i = 0; i < (uint32_t)o.accounts; i++)
      gen_init_account(&g, i, o.seed, cum);
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    rc = gen_run_days(&g, &s);
  }
  if (!rc)
    rc = gen_finish(&s);
  if (!rc)
    status = gen_summary(&s);
  else if (rc == GEN_OOM)
    fprintf(stderr, "healthscore gen: out of memory\n");
  else if (rc == GEN_WRITE_ERROR)
    fprintf(stderr, "healthscore gen: write error: %s\n", strerror(errno));
  if (ko.producer) { /* stopped early: release what was queued */
    hs_producer_close(ko.producer, 1000, on_producer_closed, &ko);
    uv_run(&ko.loop, UV_RUN_DEFAULT);
  }
  if (o.kafka)
    uv_loop_close(&ko.loop);
  if (s.out && s.out != stdout)
    fclose(s.out);
  hs_buf_free(&s.buf);
  hs_free(g.evs);
  hs_free(g.acc);
  return status;
}
