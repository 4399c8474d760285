/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Structured logs on standard error: one JSON object per line
 * ({"ts","level","component","msg"}) or readable text. Each line is written
 * with one write(2), so lines from librdkafka's threads never interleave. */
#ifndef HEALTHSCORE_LOG_H
#define HEALTHSCORE_LOG_H

#include <stdbool.h>

typedef enum hs_log_level_e {
  HS_LOG_ERROR = 0,
  HS_LOG_WARN,
  HS_LOG_INFO,
  HS_LOG_DEBUG
} hs_log_level_t;

/* Sets the lowest level written and the format (JSON lines or text). */
void hs_log_setup(hs_log_level_t level, bool json);
/* The level named "error", "warn", "info" or "debug"; -1 for anything else. */
int hs_log_level_from(const char *name);
/* Names the calling thread in the lines it writes from now on: "engine"
 * ({"engine":"2/4"}, text "component (engine 2/4): msg") when several
 * engines share the process; NULL or "" for none (the default). Copied, up
 * to 31 bytes. */
void hs_log_thread_engine(const char *name);
/* Writes one line; the message is truncated at 2 KiB. */
void hs_log(hs_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
