/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Structured logging. */
#include "healthscore/log.h"

#include "healthscore/base.h"
#include "healthscore/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static hs_log_level_t min_level = HS_LOG_INFO;
static bool as_json = true;
static const char *const names[] = {"error", "warn", "info", "debug"};
static _Thread_local char engine[32]; /* which engine thread writes, or "" */

void hs_log_thread_engine(const char *name) {
  snprintf(engine, sizeof engine, "%s", name ? name : "");
}

void hs_log_setup(hs_log_level_t level, bool json) {
  min_level = level;
  as_json = json;
}

int hs_log_level_from(const char *name) {
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, names[i]))
      return i;
  return -1;
}

void hs_log(hs_log_level_t level, const char *component, const char *fmt, ...) {
  if (level > min_level)
    return;
  char msg[2048], line[4608], ts[32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  hs_time_format((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, ts);
  size_t n;
  if (!as_json) {
    n = (size_t)snprintf(line, sizeof line, "%s %-5s %s%s%s%s: %s\n", ts, names[level], component,
                         engine[0] ? " (engine " : "", engine, engine[0] ? ")" : "", msg);
  } else {
    hs_buf_t b;
    hs_buf_init(&b);
    int rc = hs_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":", ts, names[level]);
    rc |= hs_buf_json_str(&b, component, strlen(component));
    if (engine[0]) {
      rc |= hs_buf_printf(&b, ",\"engine\":");
      rc |= hs_buf_json_str(&b, engine, strlen(engine));
    }
    rc |= hs_buf_printf(&b, ",\"msg\":");
    rc |= hs_buf_json_str(&b, msg, strlen(msg));
    rc |= hs_buf_printf(&b, "}\n");
    n = rc ? 0 : (b.len < sizeof line ? b.len : sizeof line - 1);
    if (n)
      memcpy(line, b.data, n);
    hs_buf_free(&b);
    if (!n)
      n = (size_t)snprintf(line, sizeof line, "{\"level\":\"error\",\"msg\":\"out of memory\"}\n");
  }
  if (n >= sizeof line) {
    n = sizeof line;
    line[n - 1] = '\n';
  }
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w;
}
