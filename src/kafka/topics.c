/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The partition count of the input topics, read from the cluster's
 * metadata before consumption starts. */
#include "healthscore/consumer.h"

#include <uv.h>

int hs_kafka_partition_count(rd_kafka_t *rk, const char *const *topics, size_t n_topics,
                             int wait_ms, void (*waiting)(void *ud, const char *reason), void *ud,
                             int32_t *n_partitions, hs_err_t *err) {
  uint64_t end = uv_hrtime() / 1000000 + (uint64_t)(wait_ms > 0 ? wait_ms : 0);
  *n_partitions = 0;
  for (size_t t = 0; t < n_topics; t++) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    for (;;) {
      rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[t], NULL);
      e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
      rd_kafka_topic_destroy(rkt);
      if (!e && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        e = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (!e && md->topic_cnt == 1 && md->topics[0].err)
        e = md->topics[0].err;
      if (!e ||
          (e != RD_KAFKA_RESP_ERR__TRANSPORT && e != RD_KAFKA_RESP_ERR__TIMED_OUT &&
           e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) ||
          uv_hrtime() / 1000000 >= end)
        break;
      if (md)
        rd_kafka_metadata_destroy(md);
      md = NULL;
      if (waiting)
        waiting(ud, rd_kafka_err2str(e));
      uv_sleep(500);
    }
    int32_t n = !e ? md->topics[0].partition_cnt : 0;
    if (md)
      rd_kafka_metadata_destroy(md);
    if (e)
      return hs_err_set(err, HS_E_CONFIG, "kafka: input topic %s: %s", topics[t],
                        rd_kafka_err2str(e));
    if (t == 0)
      *n_partitions = n;
    else if (n != *n_partitions)
      return hs_err_set(err, HS_E_CONFIG,
                        "kafka: input topics are not co-partitioned: %s has %d partitions, %s "
                        "has %d; every input topic needs the same partition count, keyed by "
                        "account id with the murmur2 partitioner",
                        topics[0], (int)*n_partitions, topics[t], (int)n);
  }
  return 0;
}
