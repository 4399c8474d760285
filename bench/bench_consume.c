/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The ceiling for draining a backlog: a bare librdkafka consumer that reads
 * COUNT messages from the beginning of the given topics and does nothing
 * with them. Prints one line of key=value figures. */
#include "healthscore/base.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "bench_consume: %s: %s\n", k, err);
    exit(2);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("bench_consume %s\n", HS_VERSION);
    return 0;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: bench_consume BOOTSTRAP COUNT TOPIC...\n"
                    "Reads COUNT messages from the beginning of the topics, as fast as a bare\n"
                    "librdkafka consumer can, and prints messages/s.\n");
    return 2;
  }
  long long want = atoll(argv[2]);
  char group[64];
  snprintf(group, sizeof group, "bench-consume-%ld", (long)time(NULL));
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", argv[1]);
  set(c, "group.id", group);
  set(c, "auto.offset.reset", "earliest");
  set(c, "enable.auto.commit", "false");
  set(c, "partition.assignment.strategy", "range");
  set(c, "queued.min.messages", "100000");
  char err[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "bench_consume: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(argc - 3);
  for (int i = 3; i < argc; i++)
    rd_kafka_topic_partition_list_add(t, argv[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  long long got = 0, bytes = 0;
  double start = 0, deadline = now_s() + 120;
  while (got < want && now_s() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m)
      continue;
    if (!m->err) {
      if (!got)
        start = now_s(); /* from the first message: the group join is not reading */
      got++;
      bytes += (long long)m->len;
    }
    rd_kafka_message_destroy(m);
  }
  double el = now_s() - start;
  printf("consumer=bare messages=%lld bytes=%lld seconds=%.3f messages_per_s=%.0f\n", got, bytes,
         el, got / el);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return got < want;
}
