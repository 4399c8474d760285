/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore alerts`: follows the alerts topic and prints each alert as a
 * readable line, as its JSON message, or as a structured CloudEvent. Reads
 * both CloudEvents modes of the Kafka binding (binary: ce_* headers;
 * structured: the alert is the envelope's `data`). */
#include "cmds.h"
#include "json_get.h"

#include "healthscore/consumer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

typedef struct tail_s {
  hs_consumer_t *consumer;
  uv_signal_t sigint, sigterm;
  bool json, cloudevent, stopping;
  long count, seen;
} tail_t;

/* A header's value, or NULL. */
static const char *header(const rd_kafka_message_t *m, const char *name, size_t *len) {
  rd_kafka_headers_t *hdrs = NULL;
  const void *v = NULL;
  if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, len))
    return NULL;
  return v;
}

/* A structured-mode CloudEvent (content-type application/cloudevents+json). */
static bool structured(const rd_kafka_message_t *m) {
  size_t n = 0;
  const char *ct = header(m, "content-type", &n);
  return ct && n >= 23 && !memcmp(ct, "application/cloudevents", 23);
}

/* Prints the message as a structured CloudEvent: as it is in structured
 * mode; in binary mode its ce_* headers as members and the value as `data`. */
static void print_cloudevent(const rd_kafka_message_t *m) {
  if (structured(m)) {
    printf("%.*s\n", (int)m->len, (const char *)m->payload);
    return;
  }
  static const char *const attrs[] = {"specversion", "id",   "source",    "type",
                                      "subject",     "time", "dataschema"};
  hs_buf_t b;
  hs_buf_init(&b);
  hs_buf_append(&b, "{", 1);
  for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
    char name[32];
    size_t n = 0;
    snprintf(name, sizeof name, "ce_%s", attrs[i]);
    const char *v = header(m, name, &n);
    if (!v)
      continue;
    hs_buf_printf(&b, "%s\"%s\":", b.len > 1 ? "," : "", attrs[i]);
    hs_buf_json_str(&b, v, n);
  }
  size_t n = 0;
  const char *ct = header(m, "content-type", &n);
  if (ct) {
    hs_buf_printf(&b, "%s\"datacontenttype\":", b.len > 1 ? "," : "");
    hs_buf_json_str(&b, ct, n);
  }
  printf("%.*s%s\"data\":%.*s}\n", (int)b.len, b.data, b.len > 1 ? "," : "", (int)m->len,
         (const char *)m->payload);
  hs_buf_free(&b);
}

/* One readable line, like `healthscore replay --alert-format text`. */
static void print_text(const char *data, size_t len, bool envelope) {
  char *copy = hs_strndup(data, len), errbuf[128];
  yajl_val doc = copy ? yajl_tree_parse(copy, errbuf, sizeof errbuf) : NULL, root = doc;
  hs_free(copy);
  if (root && envelope) { /* a structured CloudEvent: the alert is its data */
    const char *path[] = {"data", NULL};
    root = yajl_tree_get(doc, path, yajl_t_object);
  }
  if (!root || !YAJL_IS_OBJECT(root)) {
    printf("(not an alert message: %.*s)\n", (int)(len > 120 ? 120 : len), data);
    yajl_tree_free(doc);
    return;
  }
  bool ok, prev_ok;
  double score = hs_json_num(root, "score", &ok),
         prev = hs_json_num(root, "previous_score", &prev_ok);
  const char *state = hs_json_str(root, "state", "-");
  printf("%s %-8s %-14s %s score %5.1f", hs_json_str(root, "event_time", "-"),
         !strcmp(state, "firing") ? "FIRING" : state, hs_json_str(root, "rule", "-"),
         hs_json_str(root, "account_id", "-"), score);
  if (prev_ok)
    printf(" (was %5.1f)", prev);
  printf(" %-7s", hs_json_str(root, "band", "-"));
  const char *path[] = {"top_contributors", NULL};
  yajl_val top = yajl_tree_get(root, path, yajl_t_array);
  for (size_t i = 0; top && i < YAJL_GET_ARRAY(top)->len; i++) {
    yajl_val item = YAJL_GET_ARRAY(top)->values[i];
    printf("%s%s", i ? ", " : " moved by: ", hs_json_str(item, "metric", "-"));
  }
  printf(" %s [%s]\n", hs_json_str(root, "severity", "-"), hs_json_str(root, "alert_id", "-"));
  yajl_tree_free(doc);
}

static void on_consumer_closed(void *ud) {
  (void)ud;
}

static void stop(tail_t *t) {
  if (t->stopping)
    return;
  t->stopping = true;
  uv_close((uv_handle_t *)&t->sigint, NULL);
  uv_close((uv_handle_t *)&t->sigterm, NULL);
  hs_consumer_close(t->consumer, on_consumer_closed, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  stop(s->data);
}

static void on_message(void *ud, const rd_kafka_message_t *m) {
  tail_t *t = ud;
  if (t->stopping)
    return;
  if (m->err) {
    fprintf(stderr, "healthscore alerts: %s\n", rd_kafka_message_errstr(m));
    return;
  }
  if (t->cloudevent)
    print_cloudevent(m);
  else if (t->json)
    printf("%.*s\n", (int)m->len, (const char *)m->payload);
  else
    print_text(m->payload, m->len, structured(m));
  fflush(stdout);
  if (t->count && ++t->seen >= t->count)
    stop(t);
}

static void on_error(void *ud, int code, const char *reason) {
  (void)ud;
  (void)code;
  fprintf(stderr, "healthscore alerts: kafka: %s\n", reason);
}

static void alerts_usage(FILE *f) {
  fprintf(f, "usage: healthscore alerts --kafka BOOTSTRAP [options]\n\n"
             "Follows the alerts topic and prints each alert as one readable line (or as\n"
             "its JSON message), until Ctrl-C or SIGTERM.\n\n"
             "  -k, --kafka BOOTSTRAP  Kafka bootstrap servers (required)\n"
             "  -t, --topic NAME       alerts topic (default healthscore.alerts)\n"
             "  -b, --from-beginning   start at the oldest alert (default: new alerts only)\n"
             "  -n, --count N          exit after N alerts\n"
             "      --json             print the JSON messages as they are\n"
             "      --cloudevent       print each as a structured CloudEvent (JSON), whether\n"
             "                         it came in binary mode (ce_* headers) or structured\n"
             "  -h, --help             this text\n");
}

int hs_cmd_alerts(int argc, char **argv) {
  static const struct option opts[] = {
      {"kafka", required_argument, NULL, 'k'},    {"topic", required_argument, NULL, 't'},
      {"from-beginning", no_argument, NULL, 'b'}, {"count", required_argument, NULL, 'n'},
      {"json", no_argument, NULL, 'J'},           {"cloudevent", no_argument, NULL, 'C'},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  const char *bootstrap = NULL, *topic = "healthscore.alerts";
  bool from_beginning = false;
  tail_t t;
  memset(&t, 0, sizeof t);
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "k:t:bn:h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'k':
      bootstrap = optarg;
      break;
    case 't':
      topic = optarg;
      break;
    case 'b':
      from_beginning = true;
      break;
    case 'n':
      t.count = strtol(optarg, &end, 10);
      if (*end || t.count < 1) {
        fprintf(stderr, "healthscore alerts: --count takes a positive number\n");
        return 2;
      }
      break;
    case 'J':
      t.json = true;
      break;
    case 'C':
      t.cloudevent = true;
      break;
    case 'h':
      alerts_usage(stdout);
      return 0;
    default:
      alerts_usage(stderr);
      return 2;
    }
  }
  if (!bootstrap || optind < argc) {
    alerts_usage(stderr);
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  char group[64];
  snprintf(group, sizeof group, "healthscore-alerts-%d", (int)getpid());
  const char *topics[] = {topic};
  const char *settings[] = {"auto.offset.reset",  from_beginning ? "earliest" : "latest",
                            "enable.auto.commit", "false",
                            "log_level",          "3"};
  hs_consumer_conf_t conf = {.bootstrap = bootstrap,
                             .group_id = group,
                             .topics = topics,
                             .n_topics = 1,
                             .settings = settings,
                             .n_settings = 3};
  hs_consumer_cbs_t cbs = {.message = on_message, .error = on_error};
  hs_err_t err = {0};
  if (hs_consumer_new(&t.consumer, &loop, &conf, &cbs, &t, &err)) {
    fprintf(stderr, "healthscore alerts: %s\n", err.msg);
    uv_loop_close(&loop);
    return 1;
  }
  uv_signal_init(&loop, &t.sigint);
  uv_signal_init(&loop, &t.sigterm);
  t.sigint.data = t.sigterm.data = &t;
  uv_signal_start(&t.sigint, on_signal, SIGINT);
  uv_signal_start(&t.sigterm, on_signal, SIGTERM);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
