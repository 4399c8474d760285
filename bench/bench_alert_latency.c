/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event -> alert latency: follows the alerts topic from its end for SECONDS
 * and, for every alert, takes its arrival time here minus its
 * `source_timestamp` header (the Kafka timestamp of the input event that
 * triggered it: its produce time). Prints the count and p50/p99/p99.9.
 * Given an input TOPIC instead, it times each message's arrival against its
 * own Kafka timestamp: the transport alone (producer, broker, consumer).
 * With --skip S, messages produced in the first S seconds after it started
 * (a producer's warm-up: its connection, metadata and producer id) are
 * counted apart and left out of the percentiles. */
#include "healthscore/base.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int64_t wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("bench_alert_latency %s\n", HS_VERSION);
    return 0;
  }
  int64_t skip_ms = 0;
  if (argc > 2 && strcmp(argv[argc - 2], "--skip") == 0) {
    skip_ms = (int64_t)(atof(argv[argc - 1]) * 1000);
    argc -= 2;
  }
  if (argc < 3) {
    fprintf(stderr,
            "usage: bench_alert_latency BOOTSTRAP SECONDS [TOPIC[,TOPIC...]] [--skip SECONDS]\n");
    return 2;
  }
  const char *topic = argc > 3 ? argv[3] : "healthscore.alerts";
  bool by_timestamp = strcmp(topic, "healthscore.alerts") != 0;
  char err[512];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  /* no consumer group: every partition is assigned at its end, at once (a
     group join takes the mock broker seconds, and two followers started in
     the same second would share a group). fetch.wait.max.ms 1: the mock
     broker holds a fetch for the whole wait even when data arrives (Kafka
     answers at once), which would add up to the wait to every message */
  const char *kv[] = {"bootstrap.servers",  argv[1], "group.id",          "bench-latency",
                      "enable.auto.commit", "false", "fetch.wait.max.ms", "1"};
  for (size_t i = 0; i < sizeof kv / sizeof *kv; i += 2)
    if (rd_kafka_conf_set(c, kv[i], kv[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "bench_alert_latency: %s\n", err);
      return 2;
    }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "bench_alert_latency: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(64);
  char *names = strdup(topic), *save = NULL; /* TOPIC may be a comma-separated list */
  for (char *nm = strtok_r(names, ",", &save); nm; nm = strtok_r(NULL, ",", &save)) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, nm, NULL);
    const rd_kafka_metadata_t *md = NULL;
    if (!rkt || rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 ||
        md->topics[0].err) {
      fprintf(stderr, "bench_alert_latency: no metadata for topic %s\n", nm);
      return 1;
    }
    for (int p = 0; p < md->topics[0].partition_cnt; p++)
      rd_kafka_topic_partition_list_add(t, nm, md->topics[0].partitions[p].id)->offset =
          RD_KAFKA_OFFSET_END;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
  }
  free(names);
  rd_kafka_assign(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  size_t n = 0, cap = 1024, untimed = 0, skipped = 0;
  int64_t *lat = malloc(cap * sizeof *lat);
  int64_t start = wall_ms(), end = start + (int64_t)(atof(argv[2]) * 1000);
  while (lat && wall_ms() < end) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
    if (!m)
      continue;
    int64_t now = wall_ms(), produced = INT64_MIN;
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;
    if (!m->err && !rd_kafka_message_headers(m, &h) &&
        !rd_kafka_header_get_last(h, "source_timestamp", &v, &len) && len < 24) {
      char buf[24];
      memcpy(buf, v, len);
      buf[len] = 0;
      produced = atoll(buf);
    } else if (!m->err && by_timestamp) { /* transport only: arrival minus produce time */
      produced = rd_kafka_message_timestamp(m, NULL);
    } else if (!m->err) {
      untimed++; /* an alert of an idle re-evaluation: no input event */
    }
    rd_kafka_message_destroy(m);
    if (produced == INT64_MIN)
      continue;
    if (produced < start + skip_ms) {
      skipped++;
      continue;
    }
    if (n == cap && !(lat = realloc(lat, (cap *= 2) * sizeof *lat)))
      break;
    lat[n++] = now - produced;
  }
  if (lat && n) {
    qsort(lat, n, sizeof *lat, cmp);
    printf("alerts=%zu untimed=%zu warmup=%zu latency_ms p50=%lld p99=%lld p999=%lld max=%lld\n", n,
           untimed, skipped, (long long)lat[n / 2], (long long)lat[n * 99 / 100],
           (long long)lat[n * 999 / 1000], (long long)lat[n - 1]);
  } else {
    printf("alerts=0 untimed=%zu warmup=%zu\n", untimed, skipped);
  }
  free(lat);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}
