/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Helpers shared by the Kafka consumer and producer. */
#include "internal.h"

#include <fcntl.h>
#include <unistd.h>

int hs__kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, hs_err_t *err) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
    return hs_err_set(err, HS_E_CONFIG, "kafka setting %s: %s", name, errstr);
  return 0;
}

int hs__kafka_pipe(int fds[2]) {
  if (pipe(fds))
    return -1;
  for (int i = 0; i < 2; i++) {
    if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) ||
        fcntl(fds[i], F_SETFD, FD_CLOEXEC)) {
      close(fds[0]);
      close(fds[1]);
      return -1;
    }
  }
  return 0;
}
