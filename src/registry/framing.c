/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Source formats, reject reasons and the Confluent wire-format header. */
#include "healthscore/framing.h"

#include <string.h>

static const char *const format_names[] = {NULL,   "json",           "msgpack",
                                           "avro", "confluent-json", "confluent-avro"};

int hs_src_format_parse(const char *name, hs_src_format_t *out) {
  for (int i = HS_SRC_JSON; i <= HS_SRC_CONFLUENT_AVRO; i++)
    if (name && strcmp(name, format_names[i]) == 0) {
      *out = (hs_src_format_t)i;
      return 0;
    }
  return HS_E_CONFIG;
}

const char *hs_src_format_name(hs_src_format_t f) {
  return f >= HS_SRC_JSON && f <= HS_SRC_CONFLUENT_AVRO ? format_names[f] : "?";
}

const char *hs_reject_name(hs_reject_t r) {
  static const char *const names[] = {"none",           "truncated_header", "magic_byte",
                                      "unknown_schema", "schema",           "decode",
                                      "trailing_bytes", "too_big"};
  return r <= HS_REJ_TOOBIG ? names[r] : "?";
}

int hs_confluent_split(const void *buf, size_t len, uint32_t *schema_id, const uint8_t **payload,
                       size_t *payload_len, hs_reject_t *why, hs_err_t *err) {
  const uint8_t *p = buf;
  if (len < HS_CONFLUENT_HEADER) {
    *why = HS_REJ_TRUNCATED_HEADER;
    return hs_err_set(err, HS_E_PARSE,
                      "schema registry framing: truncated header (%zu bytes, need 5)", len);
  }
  if (p[0] != 0) {
    *why = HS_REJ_MAGIC;
    return hs_err_set(err, HS_E_PARSE, "schema registry framing: magic byte 0x%02x, want 0x00",
                      p[0]);
  }
  *schema_id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
  *payload = p + HS_CONFLUENT_HEADER;
  *payload_len = len - HS_CONFLUENT_HEADER;
  *why = HS_REJ_NONE;
  return 0;
}
