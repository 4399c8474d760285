/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A parsed Avro schema, shared by the decoder and the encoder. */
#ifndef HS_REGISTRY_AVRO_INTERNAL_H
#define HS_REGISTRY_AVRO_INTERNAL_H

#include "healthscore/framing.h"

#include <avro.h>

struct hs_avro_schema_s {
  avro_schema_t schema;
  avro_value_iface_t *iface;
  avro_reader_t reader;
  hs_avro_limits_t lim;
};

#endif
