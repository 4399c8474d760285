/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `healthscore` command: one binary, one subcommand per task. */
#include "cmds.h"

#include "healthscore/base.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} cmds[] = {
    {"alerts", hs_cmd_alerts, "follow the alerts topic, readable or as JSON"},
    {"broker", hs_cmd_broker, "run a local Kafka-protocol broker for development and tests"},
    {"check", hs_cmd_check, "validate a scoring configuration"},
    {"gen", hs_cmd_gen, "generate synthetic customer events"},
    {"map", hs_cmd_map, "map raw records (Segment, Stripe, ...) to engine events with a mapping"},
    {"produce", hs_cmd_produce, "send a file of raw records to a Kafka topic, keyed and framed"},
    {"replay", hs_cmd_replay, "score events offline: timeline, alerts and a backtest report"},
    {"show", hs_cmd_show, "an account's score and explanation, from Redis"},
    {"tune", hs_cmd_tune, "suggest a profile's weights from outcomes, judged on held-out accounts"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: healthscore <command> [options]\n\n"
             "Real-time customer health scores: tools for profiles and event streams.\n\n"
             "commands:\n");
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
    fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
  fprintf(f, "\n'healthscore <command> --help' describes a command's options.\n"
             "'healthscore --version' prints the version.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("healthscore %s\n", HS_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
    if (strcmp(argv[1], cmds[i].name) == 0)
      return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "healthscore: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
