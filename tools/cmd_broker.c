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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const default_topics[] = {"healthscore.usage",     "healthscore.engagement",
                                             "healthscore.billing",   "healthscore.surveys",
                                             "healthscore.accounts",  "healthscore.alerts",
                                             "healthscore.deadletter"};

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

/* What the command line asks for. */
typedef struct broker_args_s {
  long brokers, partitions;
  const char *topics[64];
  size_t n_topics;
  const char *file;
  bool quiet;
} broker_args_t;

/* One option into *a. Returns -1 when taken, else the exit status (0 after
 * --help, 2 on a usage error). */
static int broker_option(broker_args_t *a, int c) {
  switch (c) {
  case 'b':
    if ((a->brokers = parse_count(optarg, 1, 16)) < 0) {
      fprintf(stderr, "healthscore broker: --brokers takes 1..16\n");
      return 2;
    }
    break;
  case 'p':
    if ((a->partitions = parse_count(optarg, 1, 1024)) < 0) {
      fprintf(stderr, "healthscore broker: --partitions takes 1..1024\n");
      return 2;
    }
    break;
  case 't':
    if (a->n_topics == sizeof a->topics / sizeof *a->topics || !*optarg) {
      fprintf(stderr, "healthscore broker: 1..64 non-empty topic names\n");
      return 2;
    }
    a->topics[a->n_topics++] = optarg;
    break;
  case 'w':
    a->file = optarg;
    break;
  case 'q':
    a->quiet = true;
    break;
  case 'h':
    broker_usage(stdout);
    return 0;
  default:
    broker_usage(stderr);
    return 2;
  }
  return -1;
}

/* Parses the command line into *a (the default topics when none is given).
 * Returns -1 to go on, else the exit status. */
static int broker_parse_args(int argc, char **argv, broker_args_t *a) {
  static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                       {"partitions", required_argument, NULL, 'p'},
                                       {"topic", required_argument, NULL, 't'},
                                       {"bootstrap-file", required_argument, NULL, 'w'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "b:p:t:w:qh", opts, NULL)) != -1) {
    int rc = broker_option(a, c);
    if (rc >= 0)
      return rc;
  }
  if (optind < argc) {
    fprintf(stderr, "healthscore broker: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  if (!a->n_topics)
    for (; a->n_topics < sizeof default_topics / sizeof *default_topics; a->n_topics++)
      a->topics[a->n_topics] = default_topics[a->n_topics];
  return -1;
}

/* Creates each topic, NAME or NAME:PARTITIONS. Returns 0, or 1 having said
 * why. */
static int broker_create_topics(rd_kafka_mock_cluster_t *mc, const broker_args_t *a) {
  for (size_t i = 0; i < a->n_topics; i++) {
    char name[256];
    long parts = a->partitions;
    const char *colon = strrchr(a->topics[i], ':');
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - a->topics[i]) : 255, a->topics[i]);
    if (colon) {
      char *end;
      parts = strtol(colon + 1, &end, 10);
      if (*end || parts < 1 || parts > 1024 || !*name) {
        fprintf(stderr, "healthscore broker: --topic %s: NAME or NAME:PARTITIONS (1..1024)\n",
                a->topics[i]);
        return 1;
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, (int)parts, 1);
    if (err) {
      fprintf(stderr, "healthscore broker: topic %s: %s\n", a->topics[i], rd_kafka_err2str(err));
      return 1;
    }
  }
  return 0;
}

/* Writes the bootstrap address to `file`: to FILE.tmp, then renamed, so a
 * reader never sees half an address. Returns 0, or 1 having said why. */
static int broker_write_bootstrap(const char *file, const char *bootstrap) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", file);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
    fprintf(stderr, "healthscore broker: cannot write %s: %s\n", file, strerror(errno));
    return 1;
  }
  return 0;
}

/* SIGTERM and SIGINT are blocked from the start (librdkafka's threads,
 * created later, inherit the mask), so one arriving at any moment of the
 * set-up stays pending instead of killing the process, and sigwait takes it
 * atomically: no window between a check of a flag and the wait in which a
 * signal could be missed. */
static void broker_block_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Returns once SIGTERM or SIGINT arrived (`set`, blocked). */
static void broker_wait_for_signal(const sigset_t *set) {
  int sig = 0;
  while (sigwait(set, &sig) != 0) {
  }
}

int hs_cmd_broker(int argc, char **argv) {
  broker_args_t a = {.brokers = 1, .partitions = 16};
  int status = broker_parse_args(argc, argv, &a);
  if (status >= 0)
    return status;
  sigset_t stop_signals;
  broker_block_signals(&stop_signals);
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
  status = 1;
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)a.brokers);
  if (!mc) {
    fprintf(stderr, "healthscore broker: cannot start the mock cluster\n");
    goto done;
  }
  if (broker_create_topics(mc, &a))
    goto done;
  const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  if (a.file && broker_write_bootstrap(a.file, bootstrap))
    goto done;
  if (!a.quiet) {
    printf("bootstrap: %s\n", bootstrap);
    printf("topics: %zu with %ld partitions each, on %ld broker%s; SIGTERM or Ctrl-C stops\n",
           a.n_topics, a.partitions, a.brokers, a.brokers > 1 ? "s" : "");
    fflush(stdout);
  }
  broker_wait_for_signal(&stop_signals);
  if (!a.quiet)
    printf("broker: stopping\n");
  status = 0;
done:
  if (mc)
    rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  if (a.file && status == 0)
    unlink(a.file);
  return status;
}
