/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What the commands that produce to Kafka (gen, produce) share: librdkafka
 * settings given as -X NAME=VALUE, and the tally of delivery reports. */
#ifndef HS_TOOLS_KAFKA_OPTS_H
#define HS_TOOLS_KAFKA_OPTS_H

#include <stddef.h>
#include <stdint.h>

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

#endif
