/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What the commands that produce to Kafka (gen, produce) share: librdkafka
 * settings given as -X NAME=VALUE, and the tally of delivery reports. */
#ifndef HS_TOOLS_KAFKA_OPTS_H
#define HS_TOOLS_KAFKA_OPTS_H

#include "healthscore/producer.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Takes one -X NAME=VALUE into set[2 * *n_set] (NAME) and the slot after
 * (VALUE), splitting `arg` in place (argv's own memory). Returns 0, or -1
 * when `arg` is not NAME=VALUE or `max` settings are taken already. */
int hs_tool_take_setting(char *arg, const char **set, size_t *n_set, size_t max);

/* Delivery reports: how many were delivered, how many failed, and the
 * reason of the first failure. */
typedef struct hs_tool_tally_s {
  uint64_t delivered, failed;
  char first_error[256];
} hs_tool_tally_t;

/* Counts one report: `status` 0 delivered, else failed with `reason`
 * (may be NULL). */
void hs_tool_tally_report(hs_tool_tally_t *t, int status, const char *reason);

/* Starts a producer on `loop` (initialised) with `pc`, delivery reports to
 * `report`, and learns `topics` within `timeout_ms`, so that none stalls
 * the first records. Returns 0 with *out; else -1 with the reason in `err`,
 * the producer released and `loop` closed. */
int hs_tool_producer_open(hs_producer_t **out, uv_loop_t *loop, const hs_producer_conf_t *pc,
                          hs_producer_report_cb report, void *ud, const char *const *topics,
                          size_t n_topics, int timeout_ms, hs_err_t *err);

#endif
