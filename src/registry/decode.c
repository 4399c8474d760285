/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* One message value of a source format into the mapping's input. */
#include "healthscore/registry.h"

#include <string.h>

int hs_frame_decode(hs_src_format_t fmt, hs_avro_schema_t *avro, hs_registry_t *reg,
                    const void *buf, size_t len, msgpack_zone *zone, hs_framed_t *out,
                    hs_reject_t *why, hs_err_t *err) {
  memset(out, 0, sizeof *out);
  *why = HS_REJ_NONE;
  const uint8_t *p = buf;
  size_t n = len;
  if (fmt == HS_SRC_CONFLUENT_JSON || fmt == HS_SRC_CONFLUENT_AVRO) {
    int rc = hs_confluent_split(buf, len, &out->schema_id, &p, &n, why, err);
    if (rc)
      return rc;
    if (!reg) {
      *why = HS_REJ_UNKNOWN_SCHEMA;
      return hs_err_set(err, HS_E_CONFIG, "format %s without a schema registry",
                        hs_src_format_name(fmt));
    }
    const hs_registry_schema_t *s;
    rc = hs_registry_lookup(reg, out->schema_id,
                            fmt == HS_SRC_CONFLUENT_AVRO ? HS_SCHEMA_AVRO : HS_SCHEMA_JSON, &s, why,
                            err);
    if (rc)
      return rc;
    avro = s->avro;
  }
  switch (fmt) {
  case HS_SRC_JSON:
  case HS_SRC_CONFLUENT_JSON:
  case HS_SRC_MSGPACK:
    out->kind = fmt == HS_SRC_MSGPACK ? HS_FRAMED_MSGPACK : HS_FRAMED_JSON;
    out->raw = p;
    out->raw_len = n;
    return 0;
  case HS_SRC_AVRO:
  case HS_SRC_CONFLUENT_AVRO:
    if (!avro) {
      *why = HS_REJ_SCHEMA;
      return hs_err_set(err, HS_E_CONFIG, "format avro without a schema");
    }
    out->kind = HS_FRAMED_TREE;
    return hs_avro_decode(avro, p, n, zone, &out->tree, why, err);
  default:
    return hs_err_set(err, HS_E_INVAL, "unknown source format %d", (int)fmt);
  }
}
