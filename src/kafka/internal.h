/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Helpers shared by the Kafka consumer and producer. Not a public interface. */
#ifndef HS_KAFKA_INTERNAL_H
#define HS_KAFKA_INTERNAL_H

#include "healthscore/base.h"

#include <librdkafka/rdkafka.h>

/* Sets one librdkafka setting; on failure err names it. Returns 0 or
 * HS_E_CONFIG. */
int hs__kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, hs_err_t *err);
/* A non-blocking, close-on-exec pipe for queue wakeups. Returns 0 or -1. */
int hs__kafka_pipe(int fds[2]);

#endif
