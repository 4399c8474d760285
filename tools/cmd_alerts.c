/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore alerts`: follows the alerts topic and prints each alert as a
 * readable line or as its JSON message. */
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
  bool json, stopping;
  long count, seen;
} tail_t;

/* One readable line, like `healthscore replay --alert-format text`. */
static void print_text(const char *data, size_t len) {
  char *copy = hs_strndup(data, len), errbuf[128];
  yajl_val root = copy ? yajl_tree_parse(copy, errbuf, sizeof errbuf) : NULL;
  hs_free(copy);
  if (!root || !YAJL_IS_OBJECT(root)) {
    printf("(not an alert message: %.*s)\n", (int)(len > 120 ? 120 : len), data);
    yajl_tree_free(root);
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
  printf(" [%s]\n", hs_json_str(root, "alert_id", "-"));
  yajl_tree_free(root);
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
  if (t->json)
    printf("%.*s\n", (int)m->len, (const char *)m->payload);
  else
    print_text(m->payload, m->len);
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
             "  -h, --help             this text\n");
}

int hs_cmd_alerts(int argc, char **argv) {
  static const struct option opts[] = {{"kafka", required_argument, NULL, 'k'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"from-beginning", no_argument, NULL, 'b'},
                                       {"count", required_argument, NULL, 'n'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
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
