/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The subcommands of the `healthscore` command. Each takes argv with argv[0]
 * the subcommand's name, prints its own --help, writes errors to stderr as
 * "healthscore <cmd>: reason", and returns the process exit code (0 ok, 1
 * failure or invalid input, 2 usage error). */
#ifndef HS_TOOLS_CMDS_H
#define HS_TOOLS_CMDS_H

int hs_cmd_alerts(int argc, char **argv);
int hs_cmd_broker(int argc, char **argv);
int hs_cmd_check(int argc, char **argv);
int hs_cmd_gen(int argc, char **argv);
int hs_cmd_map(int argc, char **argv);
int hs_cmd_produce(int argc, char **argv);
int hs_cmd_replay(int argc, char **argv);
int hs_cmd_show(int argc, char **argv);
int hs_cmd_tune(int argc, char **argv);

#endif
