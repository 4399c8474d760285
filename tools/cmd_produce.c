/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore produce`: sends a file of raw records (JSON lines, msgpack
 * objects or length-prefixed binary records) to a Kafka topic with a chosen
 * key, headers and framing: for replaying captured traffic and for tests.
 * Stops at the first record it cannot send as asked (naming it), waits for
 * every delivery report, and fails when any record was not delivered. */
#include "cmds.h"
#include "kafka_opts.h"
#include "read_input.h"

#include "healthscore/codec.h"
#include "healthscore/framing.h"
#include "healthscore/mapping.h"
#include "healthscore/producer.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define MAX_SET 64
#define MAX_HEADERS 64
#define MAX_BINARY (64u << 20) /* one length-prefixed record */

typedef enum { IN_JSON, IN_MSGPACK, IN_BINARY } in_format_t;

typedef struct producer_run_s {
  uv_loop_t loop;
  uv_timer_t tick;
  hs_producer_t *producer;
  uint64_t sent;
  hs_tool_tally_t tally;
  struct timespec t0;
  double last_progress;
  bool closed;
} prun_t;

static double elapsed(const prun_t *r) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void progress(prun_t *r, bool force) {
  double el = elapsed(r);
  if (!force && el - r->last_progress < 1.0)
    return;
  r->last_progress = el;
  fprintf(stderr, "produce: %llu sent, %llu acknowledged, %llu failed\n",
          (unsigned long long)r->sent, (unsigned long long)r->tally.delivered,
          (unsigned long long)r->tally.failed);
}

static void on_report(void *ud, void *opaque, int status, int32_t partition, int64_t offset,
                      const char *reason) {
  prun_t *r = ud;
  (void)opaque;
  (void)partition;
  (void)offset;
  hs_tool_tally_report(&r->tally, status, reason);
}

static void on_tick(uv_timer_t *t) {
  progress(t->data, false);
}

static void on_closed(void *ud) {
  ((prun_t *)ud)->closed = true;
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* What each record becomes. */
typedef struct produce_opts_s {
  const char *topic;
  in_format_t in;
  const char *key;
  hs_doc_path_t *key_path;
  const char *key_path_text;
  hs_producer_header_t headers[MAX_HEADERS];
  size_t n_headers;
  bool confluent;
  uint32_t schema_id;
  hs_avro_schema_t *avro;
  double rate;
} popts_t;

/* Names a record in errors: "line N" for JSON lines, else its ordinal and
 * byte offset. */
static void where(char *w, size_t n, const popts_t *o, uint64_t record, uint64_t line,
                  size_t offset) {
  if (o->in == IN_JSON)
    snprintf(w, n, "line %llu", (unsigned long long)line);
  else
    snprintf(w, n, "record %llu (byte %zu)", (unsigned long long)record, offset);
}

/* Sends one record; returns 0, or 1 with the reason on stderr. */
static int send_one(prun_t *r, const popts_t *o, hs_doc_parser_t *dp, const char *rec, size_t len,
                    const char *w, hs_buf_t *val) {
  hs_err_t err = {0};
  msgpack_object doc;
  bool need_doc = o->in != IN_BINARY;
  if (need_doc) {
    int rc = o->in == IN_JSON ? hs_doc_parse_json(dp, rec, len, &doc, &err)
                              : hs_doc_unpack_msgpack(dp, rec, len, &doc, &err);
    if (rc) {
      fprintf(stderr, "healthscore produce: %s: %s\n", w, err.msg);
      return 1;
    }
    if (doc.type != MSGPACK_OBJECT_MAP) { /* as the mapping reads them */
      fprintf(stderr, "healthscore produce: %s: not a %s\n", w,
              o->in == IN_JSON ? "JSON object" : "msgpack map");
      return 1;
    }
  }
  const void *key = o->key;
  size_t key_len = o->key ? strlen(o->key) : 0;
  char tmp[40];
  if (o->key_path) {
    const msgpack_object *v = hs_doc_path_get(o->key_path, &doc);
    hs_str_t t;
    if (!v || !hs_doc_scalar_text(v, tmp, &t)) {
      fprintf(stderr, "healthscore produce: %s: %s at key path \"%s\"\n", w,
              v ? "no string, number or boolean" : "no value", o->key_path_text);
      return 1;
    }
    key = t.ptr;
    key_len = t.len;
  }
  val->len = 0;
  if (o->confluent) {
    uint8_t h[HS_CONFLUENT_HEADER] = {0, (uint8_t)(o->schema_id >> 24),
                                      (uint8_t)(o->schema_id >> 16), (uint8_t)(o->schema_id >> 8),
                                      (uint8_t)o->schema_id};
    if (hs_buf_append(val, h, sizeof h))
      goto oom;
  }
  if (o->avro) {
    if (hs_avro_encode(o->avro, &doc, val, &err)) {
      fprintf(stderr, "healthscore produce: %s: %s\n", w, err.msg);
      return 1;
    }
  } else if (hs_buf_append(val, rec, len)) {
    goto oom;
  }
  for (;;) {
    int rc = hs_producer_send(r->producer, o->topic, key, key_len, val->data, val->len, o->headers,
                              o->n_headers, NULL, &err);
    if (!rc)
      break;
    if (rc != HS_E_TOOBIG) {
      fprintf(stderr, "healthscore produce: %s: %s\n", w, err.msg);
      return 1;
    }
    uv_run(&r->loop, UV_RUN_ONCE); /* the queue is full: let deliveries drain it */
  }
  r->sent++;
  if (o->rate > 0) { /* record n is due at n / rate seconds */
    double due = (double)r->sent / o->rate, el = elapsed(r);
    if (due > el) {
      double d = due - el;
      struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
      nanosleep(&ts, NULL);
    }
  }
  uv_run(&r->loop, UV_RUN_NOWAIT);
  progress(r, false);
  return 0;
oom:
  fprintf(stderr, "healthscore produce: out of memory\n");
  return 1;
}

/* Splits the input into records and sends each; stops at the first
 * failure. */
static int send_all(prun_t *r, const popts_t *o, hs_doc_parser_t *dp, const char *buf, size_t len) {
  hs_buf_t val;
  hs_buf_init(&val);
  uint64_t record = 0, line = 1;
  int rc = 0;
  char w[80];
  for (size_t i = 0; i < len && !rc;) {
    size_t n = 0, at = i;
    if (o->in == IN_JSON) {
      const char *nl = memchr(buf + i, '\n', len - i);
      size_t end = nl ? (size_t)(nl - buf) : len;
      size_t b = i, e = end;
      while (b < e && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\r'))
        b++;
      while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
        e--;
      i = nl ? end + 1 : len;
      if (b < e) {
        record++;
        where(w, sizeof w, o, record, line, b);
        rc = send_one(r, o, dp, buf + b, e - b, w, &val);
      }
      line++;
      continue;
    }
    record++;
    where(w, sizeof w, o, record, line, at);
    if (o->in == IN_MSGPACK) {
      if (hs_msgpack_object_size(buf + i, len - i, &n)) {
        fprintf(stderr, "healthscore produce: %s: not a complete msgpack object\n", w);
        rc = 1;
        break;
      }
      rc = send_one(r, o, dp, buf + i, n, w, &val);
      i += n;
    } else {
      if (len - i < 4) {
        fprintf(stderr, "healthscore produce: %s: %zu bytes left, a length prefix takes 4\n", w,
                len - i);
        rc = 1;
        break;
      }
      const uint8_t *p = (const uint8_t *)buf + i;
      uint32_t rl = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
      if (rl > MAX_BINARY || rl > len - i - 4) {
        fprintf(stderr, "healthscore produce: %s: length prefix %u exceeds the %s\n", w, rl,
                rl > MAX_BINARY ? "64 MiB limit" : "bytes left in the input");
        rc = 1;
        break;
      }
      rc = send_one(r, o, dp, buf + i + 4, rl, w, &val);
      i += 4 + (size_t)rl;
    }
  }
  hs_buf_free(&val);
  return rc;
}

static void produce_usage(FILE *f) {
  fprintf(f, "usage: healthscore produce --kafka BOOTSTRAP --topic TOPIC [options] [FILE]\n\n"
             "Sends raw records from FILE (or standard input, or -) to a Kafka topic, one\n"
             "message each, with a chosen key, headers and framing.\n\n"
             "options:\n"
             "  --kafka BOOTSTRAP     brokers, host:port[,host:port...]\n"
             "  --topic TOPIC         the topic\n"
             "  --format F            json (one object a line; blank lines are not records),\n"
             "                        msgpack (maps back to back) or binary (each record\n"
             "                        preceded by its length, 4 bytes big-endian); default json\n"
             "  --key KEY             every message's key\n"
             "  --key-path PATH       the key from the record (json, msgpack): a mapping path\n"
             "                        such as userId or context.groupId; a record without a\n"
             "                        string, number or boolean there stops the run\n"
             "                        (no --key nor --key-path: messages have no key)\n"
             "  --partitioner NAME    librdkafka's partitioner (murmur2_random, murmur2,\n"
             "                        consistent_random, random, ...); default murmur2_random\n"
             "                        as the engine and Java clients\n"
             "  --header NAME=VALUE   a header on every message (repeatable)\n"
             "  --frame F             none (default) or confluent: the Schema Registry wire\n"
             "                        format, 0x00 then --schema-id as 4 bytes big-endian\n"
             "  --schema-id N         the schema id of --frame confluent\n"
             "  --avro-schema FILE    encode each JSON record as Avro binary with this schema\n"
             "  --rate N              at most N records per second\n"
             "  --timeout SECONDS     how long to wait for the brokers and for the last delivery\n"
             "                        reports (default 30)\n"
             "  -X NAME=VALUE         a librdkafka producer setting, e.g. -X linger.ms=50\n"
             "  -h, --help            this text\n\n"
             "Progress goes to standard error every second, a summary at the end. Exit status:\n"
             "0 when every record was delivered, 1 when one could not be read, encoded or\n"
             "delivered (nothing after a bad record is sent), 2 on a usage error.\n");
}

static int usage_error(const char *msg) {
  fprintf(stderr, "healthscore produce: %s\n", msg);
  return 2;
}

/* What the command line asks for, besides the records' handling in `o`. */
typedef struct produce_args_s {
  const char *kafka, *avro_file, *frame, *partitioner, *path;
  const char *set[2 * MAX_SET + 2];
  size_t n_set;
  bool have_id;
  double timeout;
  popts_t o;
} produce_args_t;

/* One option into *a. Returns -1 when taken, else the exit status (0 after
 * --help or --version, 2 on a usage error). */
static int produce_option(produce_args_t *a, int c) {
  popts_t *o = &a->o;
  char *end;
  switch (c) {
  case 'k':
    a->kafka = optarg;
    break;
  case 't':
    o->topic = optarg;
    break;
  case 'f':
    if (!strcmp(optarg, "json"))
      o->in = IN_JSON;
    else if (!strcmp(optarg, "msgpack"))
      o->in = IN_MSGPACK;
    else if (!strcmp(optarg, "binary"))
      o->in = IN_BINARY;
    else
      return usage_error("--format takes json, msgpack or binary");
    break;
  case 'K':
    o->key = optarg;
    break;
  case 'P':
    o->key_path_text = optarg;
    break;
  case 'p':
    a->partitioner = optarg;
    break;
  case 'H': {
    char *eq = strchr(optarg, '=');
    if (!eq || eq == optarg || o->n_headers == MAX_HEADERS)
      return usage_error("--header takes NAME=VALUE (at most 64)");
    *eq = 0;
    o->headers[o->n_headers++] = (hs_producer_header_t){optarg, eq + 1, strlen(eq + 1)};
    break;
  }
  case 'F':
    a->frame = optarg;
    if (strcmp(a->frame, "none") && strcmp(a->frame, "confluent"))
      return usage_error("--frame takes none or confluent");
    break;
  case 'I': {
    errno = 0;
    unsigned long long id = strtoull(optarg, &end, 10);
    if (*optarg == '-' || *end || !*optarg || errno || id > UINT32_MAX)
      return usage_error("--schema-id takes a number from 0 to 4294967295");
    o->schema_id = (uint32_t)id;
    a->have_id = true;
    break;
  }
  case 'A':
    a->avro_file = optarg;
    break;
  case 'r':
    o->rate = strtod(optarg, &end);
    if (*end || !(o->rate > 0) || o->rate > 1e7)
      return usage_error("--rate takes a number of records per second");
    break;
  case 'T':
    a->timeout = strtod(optarg, &end);
    if (*end || !(a->timeout > 0) || a->timeout > 86400)
      return usage_error("--timeout takes a number of seconds");
    break;
  case 'X':
    if (hs_tool_take_setting(optarg, a->set, &a->n_set, MAX_SET))
      return usage_error("-X takes NAME=VALUE (at most 64)");
    break;
  case 'h':
    produce_usage(stdout);
    return 0;
  case 'V':
    printf("healthscore %s\n", HS_VERSION);
    return 0;
  default:
    produce_usage(stderr);
    return 2;
  }
  return -1;
}

/* The input file and the checks of the options together. Returns -1 to go
 * on, else the exit status. */
static int produce_check_args(int argc, char **argv, produce_args_t *a) {
  popts_t *o = &a->o;
  if (optind < argc)
    a->path = strcmp(argv[optind], "-") ? argv[optind] : NULL;
  if (optind + 1 < argc) {
    fprintf(stderr, "healthscore produce: unexpected argument \"%s\"\n", argv[optind + 1]);
    return 2;
  }
  if (!a->kafka || !o->topic)
    return usage_error("--kafka and --topic are required");
  if (o->key && o->key_path_text)
    return usage_error("--key and --key-path exclude each other");
  if (o->key_path_text && o->in == IN_BINARY)
    return usage_error("--key-path reads JSON or msgpack records, not --format binary");
  bool confluent = !strcmp(a->frame, "confluent");
  if (confluent != a->have_id)
    return usage_error("--frame confluent and --schema-id go together");
  o->confluent = confluent;
  if (a->avro_file && o->in != IN_JSON)
    return usage_error("--avro-schema encodes JSON records (--format json)");
  if (a->partitioner) { /* after -X, so that it wins */
    a->set[2 * a->n_set] = "partitioner";
    a->set[2 * a->n_set + 1] = a->partitioner;
    a->n_set++;
  }
  return -1;
}

/* Parses the command line into *a. Returns -1 to go on, else the exit
 * status. */
static int produce_parse_args(int argc, char **argv, produce_args_t *a) {
  static const struct option opts[] = {{"kafka", required_argument, NULL, 'k'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"key", required_argument, NULL, 'K'},
                                       {"key-path", required_argument, NULL, 'P'},
                                       {"partitioner", required_argument, NULL, 'p'},
                                       {"header", required_argument, NULL, 'H'},
                                       {"frame", required_argument, NULL, 'F'},
                                       {"schema-id", required_argument, NULL, 'I'},
                                       {"avro-schema", required_argument, NULL, 'A'},
                                       {"rate", required_argument, NULL, 'r'},
                                       {"timeout", required_argument, NULL, 'T'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "X:h", opts, NULL)) != -1) {
    int rc = produce_option(a, c);
    if (rc >= 0)
      return rc;
  }
  return produce_check_args(argc, argv, a);
}

/* Starts the producer on r's loop and learns the topic. Returns 0, or 1
 * having said why (the loop closed). */
static int produce_open(prun_t *r, const produce_args_t *a, int timeout_ms) {
  hs_err_t err = {0};
  hs_producer_conf_t pc = {.bootstrap = a->kafka, .settings = a->set, .n_settings = a->n_set};
  uv_loop_init(&r->loop);
  clock_gettime(CLOCK_MONOTONIC, &r->t0);
  if (hs_tool_producer_open(&r->producer, &r->loop, &pc, on_report, r, &a->o.topic, 1, timeout_ms,
                            &err)) {
    fprintf(stderr, "healthscore produce: %s: %s (waited up to %g s)\n", a->kafka, err.msg,
            a->timeout);
    return 1;
  }
  return 0;
}

/* Waits for every delivery report, or the timeout, then closes the
 * producer (what is left fails) and the loop, and prints the summary. */
static void produce_finish(prun_t *r, const produce_args_t *a) {
  double deadline = elapsed(r) + a->timeout;
  while (hs_producer_pending(r->producer) && elapsed(r) < deadline)
    uv_run(&r->loop, UV_RUN_ONCE);
  uv_timer_stop(&r->tick);
  uv_close((uv_handle_t *)&r->tick, on_handle_closed);
  size_t left = hs_producer_pending(r->producer);
  hs_producer_close(r->producer, 0, on_closed, r); /* what is left fails */
  uv_run(&r->loop, UV_RUN_DEFAULT);
  uv_loop_close(&r->loop);
  if (left)
    fprintf(stderr, "healthscore produce: %zu records unacknowledged after %g s\n", left,
            a->timeout);
  fprintf(stderr, "produce: %s to %s: %llu records sent, %llu delivered, %llu failed%s%s\n",
          a->o.topic, a->kafka, (unsigned long long)r->sent, (unsigned long long)r->tally.delivered,
          (unsigned long long)r->tally.failed, r->tally.failed ? "; first error: " : "",
          r->tally.first_error);
}

int hs_cmd_produce(int argc, char **argv) {
  produce_args_t a = {.frame = "none", .timeout = 30, .o = {.in = IN_JSON}};
  int status = produce_parse_args(argc, argv, &a);
  if (status >= 0)
    return status;
  popts_t *o = &a.o;
  status = 1;
  hs_err_t err = {0};
  hs_buf_t in;
  hs_buf_init(&in);
  hs_doc_parser_t *dp = NULL;
  prun_t r = {0};
  if (o->key_path_text && hs_doc_path_new(o->key_path_text, &o->key_path, &err)) {
    fprintf(stderr, "healthscore produce: --key-path: %s\n", err.msg);
    hs_buf_free(&in);
    return 2;
  }
  if (a.avro_file && hs_avro_schema_load(a.avro_file, NULL, &o->avro, &err)) {
    fprintf(stderr, "healthscore produce: %s: %s\n", a.avro_file, err.msg);
    goto out;
  }
  if (hs_tool_read_all("produce", a.path, &in))
    goto out;
  if (hs_doc_parser_new(&dp, MAX_BINARY)) {
    fprintf(stderr, "healthscore produce: out of memory\n");
    goto out;
  }
  if (produce_open(&r, &a, (int)(a.timeout * 1000)))
    goto out;
  uv_timer_init(&r.loop, &r.tick);
  r.tick.data = &r;
  uv_timer_start(&r.tick, on_tick, 100, 100);
  int bad = send_all(&r, o, dp, in.data, in.len);
  produce_finish(&r, &a);
  status = bad || r.tally.failed || r.tally.delivered != r.sent ? 1 : 0;
out:
  hs_doc_parser_free(dp);
  hs_doc_path_free(o->key_path);
  hs_avro_schema_free(o->avro);
  hs_buf_free(&in);
  return status;
}
