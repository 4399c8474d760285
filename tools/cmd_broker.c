/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore broker`: librdkafka's mock cluster — a Kafka wire-protocol
 * broker that runs inside this process — with the engine's topics created,
 * for laptops, tests, the demo and benchmarks. Not for production data: it
 * keeps at most 5 MiB or 100,000 message sets per partition, in memory. */
#include "cmds.h"

#include "healthscore/base.h"

#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const default_topics[] = {"healthscore.usage",     "healthscore.engagement",
                                             "healthscore.billing",   "healthscore.surveys",
                                             "healthscore.accounts",  "healthscore.alerts",
                                             "healthscore.deadletter"};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void broker_usage(FILE *f) {
  fprintf(f, "usage: healthscore broker [options]\n\n"
             "Runs a Kafka-protocol broker (librdkafka's mock cluster) on random\n"
             "127.0.0.1 ports with the topics created, prints the bootstrap address\n"
             "and runs until SIGTERM or SIGINT. For development, tests and demos: it\n"
             "keeps at most 5 MiB per partition, in memory.\n\n"
             "  -b, --brokers N          brokers in the cluster (default 1)\n"
             "  -p, --partitions N       partitions per topic (default 16)\n"
             "  -t, --topic NAME[:N]     a topic to create, with N partitions if given\n"
             "                           (repeatable; replaces the default\n"
             "                           list: healthscore.usage, .engagement, .billing,\n"
             "                           .surveys, .accounts, .alerts, .deadletter)\n"
             "  -w, --bootstrap-file F   also write the bootstrap address to F\n"
             "  -q, --quiet              print nothing but errors\n"
             "  -h, --help               this text\n");
}

static long parse_count(const char *s, long lo, long hi) {
  char *end;
  long v = strtol(s, &end, 10);
  return *s && !*end && v >= lo && v <= hi ? v : -1;
}

int hs_cmd_broker(int argc, char **argv) {
  static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                       {"partitions", required_argument, NULL, 'p'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"bootstrap-file", required_argument, NULL, 'w'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  long brokers = 1, partitions = 16;
  const char *topics[64];
  size_t n_topics = 0;
  const char *file = NULL;
  bool quiet = false;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "b:p:t:w:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      if ((brokers = parse_count(optarg, 1, 16)) < 0) {
        fprintf(stderr, "healthscore broker: --brokers takes 1..16\n");
        return 2;
      }
      break;
    case 'p':
      if ((partitions = parse_count(optarg, 1, 1024)) < 0) {
        fprintf(stderr, "healthscore broker: --partitions takes 1..1024\n");
        return 2;
      }
      break;
    case 't':
      if (n_topics == sizeof topics / sizeof *topics || !*optarg) {
        fprintf(stderr, "healthscore broker: 1..64 non-empty topic names\n");
        return 2;
      }
      topics[n_topics++] = optarg;
      break;
    case 'w':
      file = optarg;
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      broker_usage(stdout);
      return 0;
    default:
      broker_usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "healthscore broker: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  if (!n_topics)
    for (; n_topics < sizeof default_topics / sizeof *default_topics; n_topics++)
      topics[n_topics] = default_topics[n_topics];

  /* the cluster lives inside a client handle; this one is never used to send */
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    fprintf(stderr, "healthscore broker: %s\n", errstr);
    return 1;
  }
  conf = NULL; /* rd_kafka_new took ownership */
  int status = 1;
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
  if (!mc) {
    fprintf(stderr, "healthscore broker: cannot start the mock cluster\n");
    goto done;
  }
  for (size_t i = 0; i < n_topics; i++) {
    /* NAME or NAME:PARTITIONS */
    char name[256];
    long parts = partitions;
    const char *colon = strrchr(topics[i], ':');
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - topics[i]) : 255, topics[i]);
    if (colon) {
      char *end;
      parts = strtol(colon + 1, &end, 10);
      if (*end || parts < 1 || parts > 1024 || !*name) {
        fprintf(stderr, "healthscore broker: --topic %s: NAME or NAME:PARTITIONS (1..1024)\n",
                topics[i]);
        goto done;
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, (int)parts, 1);
    if (err) {
      fprintf(stderr, "healthscore broker: topic %s: %s\n", topics[i], rd_kafka_err2str(err));
      goto done;
    }
  }
  const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  if (file) {
    /* write then rename, so a reader never sees half an address */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
      fprintf(stderr, "healthscore broker: cannot write %s: %s\n", file, strerror(errno));
      goto done;
    }
  }
  if (!quiet) {
    printf("bootstrap: %s\n", bootstrap);
    printf("topics: %zu with %ld partitions each, on %ld broker%s; SIGTERM or Ctrl-C stops\n",
           n_topics, partitions, brokers, brokers > 1 ? "s" : "");
    fflush(stdout);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  while (!g_stop)
    pause();
  if (!quiet)
    printf("broker: stopping\n");
  status = 0;
done:
  if (mc)
    rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  if (file && status == 0)
    unlink(file);
  return status;
}
