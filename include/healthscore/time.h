/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* UTC time as milliseconds since the Unix epoch: day numbers, RFC 3339 and
 * durations, without the C library's time zone state. Pure: no I/O, no clock
 * reads. */
#ifndef HEALTHSCORE_TIME_H
#define HEALTHSCORE_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Time: milliseconds since the Unix epoch, UTC. */
#define HS_MS_PER_DAY INT64_C(86400000)
/* The UTC day number (days since 1970-01-01) of `ms`; floors negative values. */
static inline int32_t hs_day_of(int64_t ms) {
  return (int32_t)(ms >= 0 ? ms / HS_MS_PER_DAY : (ms + 1) / HS_MS_PER_DAY - 1);
}
/* Parses RFC 3339 ("2026-01-31T12:00:00Z", "...+02:00", fractional seconds
 * allowed) into epoch ms. Returns 0 or HS_E_PARSE. */
int hs_time_parse_rfc3339(const char *s, size_t n, int64_t *out_ms);
/* Formats epoch ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25 bytes). */
void hs_time_format(int64_t ms, char out[32]);
/* Formats day `day` (days since 1970-01-01) as "YYYY-MM-DD" into out (10
 * bytes, no NUL): the first 10 characters of hs_time_format(day * HS_MS_PER_DAY),
 * without printf. */
void hs_day_format(int64_t day, char out[10]);
/* Parses a duration: "90d", "12h", "30m", "45s", "250ms", or "0". */
int hs_duration_parse(const char *s, int64_t *out_ms);

#endif
