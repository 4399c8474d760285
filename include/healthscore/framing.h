/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Source framing: turns the raw value of a Kafka message of a source format
 * into the document the mapping reads, a msgpack_object tree in a
 * caller-provided zone (JSON is left as bytes: the mapping parses it).
 * Formats: json, msgpack, avro (the writer's schema from a file) and the
 * Confluent Schema Registry wire format (byte 0 = 0x00, bytes 1..4 = schema
 * id big-endian, then the payload) for JSON and Avro. Avro is decoded with
 * the writer's schema only: no reader schema, no schema resolution.
 * Decoding never crashes on input and allocates no more than the message's
 * size allows (every announced length and count is checked against the bytes
 * left before avro-c sees it). Loop thread only; a schema may be shared by
 * decoders of the same thread. */
#ifndef HEALTHSCORE_FRAMING_H
#define HEALTHSCORE_FRAMING_H

#include "healthscore/base.h"

#include <msgpack.h>

typedef enum hs_src_format_e {
  HS_SRC_JSON = 1,
  HS_SRC_MSGPACK,
  HS_SRC_AVRO,
  HS_SRC_CONFLUENT_JSON,
  HS_SRC_CONFLUENT_AVRO
} hs_src_format_t;

/* "json", "msgpack", "avro", "confluent-json", "confluent-avro". Returns 0 or
 * HS_E_CONFIG. */
int hs_src_format_parse(const char *name, hs_src_format_t *out);
const char *hs_src_format_name(hs_src_format_t f);

/* Why a message is rejected (dead-lettered with hs_err_t's text as reason). */
typedef enum hs_reject_e {
  HS_REJ_NONE = 0,
  HS_REJ_TRUNCATED_HEADER, /* fewer than 5 bytes in a Confluent frame */
  HS_REJ_MAGIC,            /* byte 0 of a Confluent frame is not 0x00 */
  HS_REJ_UNKNOWN_SCHEMA,   /* the registry does not know the schema id */
  HS_REJ_SCHEMA,           /* the schema does not parse, or is of another type */
  HS_REJ_DECODE,           /* the payload does not decode against its schema */
  HS_REJ_TRAILING,         /* bytes left after the decoded value */
  HS_REJ_TOOBIG            /* over the size, item or depth limits */
} hs_reject_t;

/* A stable snake_case name for a reject reason ("truncated_header", ...),
 * for metric labels. */
const char *hs_reject_name(hs_reject_t r);

#define HS_CONFLUENT_HEADER 5

/* Splits a Confluent wire-format frame. Returns 0 with *schema_id and the
 * payload slice, or HS_E_PARSE with *why = HS_REJ_TRUNCATED_HEADER or
 * HS_REJ_MAGIC and err set. */
int hs_confluent_split(const void *buf, size_t len, uint32_t *schema_id, const uint8_t **payload,
                       size_t *payload_len, hs_reject_t *why, hs_err_t *err);

/* Limits of one Avro decode. Zero fields take the defaults. */
typedef struct hs_avro_limits_s {
  size_t max_items;   /* array and map entries in one message; default 65536 */
  unsigned max_depth; /* nesting of records, arrays, maps, unions; default 64 */
} hs_avro_limits_t;

typedef struct hs_avro_schema_s hs_avro_schema_t;

/* Parses an Avro schema (JSON text). Returns 0 and the schema in *out, the
 * caller's (hs_avro_schema_free, once no decoder uses it); or HS_E_SCHEMA
 * with err naming avro-c's reason, or HS_E_NOMEM, with *out NULL and
 * nothing to free. */
int hs_avro_schema_parse(const char *json, size_t len, const hs_avro_limits_t *limits,
                         hs_avro_schema_t **out, hs_err_t *err);
/* Reads and parses an .avsc file. HS_E_IO when it cannot be read,
 * HS_E_TOOBIG when over HS_AVRO_MAX_SCHEMA bytes. */
#define HS_AVRO_MAX_SCHEMA (1 << 20)
int hs_avro_schema_load(const char *path, const hs_avro_limits_t *limits, hs_avro_schema_t **out,
                        hs_err_t *err);
void hs_avro_schema_free(hs_avro_schema_t *s);

/* Decodes one Avro datum (binary encoding, no container) of schema `s` into a
 * msgpack_object tree allocated in `zone`: records become maps by field name
 * (in schema order), a union its branch's value (null as nil), an enum its
 * symbol, fixed and bytes bin, int and long integers, float and double
 * float64, string str, arrays and maps themselves. Returns 0, or HS_E_PARSE
 * (truncated or malformed: *why HS_REJ_DECODE; bytes after the value:
 * HS_REJ_TRAILING), HS_E_TOOBIG (HS_REJ_TOOBIG) or HS_E_NOMEM, with err
 * saying where ("avro: at byte 12: ..."). */
int hs_avro_decode(hs_avro_schema_t *s, const void *buf, size_t len, msgpack_zone *zone,
                   msgpack_object *out, hs_reject_t *why, hs_err_t *err);

/* Encodes a document (a JSON record parsed by hs_doc_parse_json, say) as one
 * Avro datum of schema `s`, binary encoding, appended to `out`. A record
 * takes every field of the schema by name (a missing one is null when its
 * type is a union with null) and no other key; a union the first branch the
 * value's type fits (null, boolean, a number, a string for string, bytes,
 * enum or fixed, a map for record or map, an array); an enum a symbol; int a
 * 32-bit integer; bytes and fixed a string (fixed of exactly its size).
 * Returns 0, or HS_E_SCHEMA with err naming the path and the reason
 * ("avro: data.object.status: \"late\" is not a symbol of InvoiceStatus"),
 * or HS_E_NOMEM. */
int hs_avro_encode(hs_avro_schema_t *s, const msgpack_object *doc, hs_buf_t *out, hs_err_t *err);

#endif
