/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* libFuzzer target: arbitrary bytes through the source framing and decoders
 * (hs_frame_decode). Byte 0 picks the format and schema: 0 avro with a
 * Stripe event schema, 1 avro with a recursive schema of every type, 2 and 3
 * confluent-avro and confluent-json with ids 1 and 2 (Avro) and 3 (JSON)
 * served by a schema directory. Invariants: a failure always has a reject
 * reason and a message; a decoded tree packs to one whole msgpack object. */
#include "healthscore/codec.h"
#include "healthscore/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char stripe[] =
    "{\"type\":\"record\",\"name\":\"Event\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"created\",\"type\":\"long\"},{\"name\":\"type\",\"type\":\"string\"},"
    "{\"name\":\"data\",\"type\":{\"type\":\"record\",\"name\":\"Data\",\"fields\":["
    "{\"name\":\"object\",\"type\":{\"type\":\"record\",\"name\":\"Invoice\",\"fields\":["
    "{\"name\":\"customer\",\"type\":\"string\"},{\"name\":\"amount_due\",\"type\":\"long\"},"
    "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"draft\","
    "\"open\",\"paid\",\"uncollectible\",\"void\"]}},"
    "{\"name\":\"customer_email\",\"type\":[\"null\",\"string\"]}]}}]}}]}";

static const char every[] =
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"n\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";

static hs_avro_schema_t *s_stripe, *s_every;
static hs_registry_t *reg;
static uv_loop_t loop;

static void write_schema(const char *dir, int id, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%d.avsc", dir, id);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f))
    abort();
}

static void init(void) {
  hs_err_t err = {0};
  hs_avro_limits_t lim = {.max_items = 4096, .max_depth = 32};
  if (hs_avro_schema_parse(stripe, strlen(stripe), &lim, &s_stripe, &err) ||
      hs_avro_schema_parse(every, strlen(every), &lim, &s_every, &err))
    abort();
  static char dir[] = "/tmp/hs-fuzz-registry-XXXXXX";
  if (!mkdtemp(dir))
    abort();
  write_schema(dir, 1, stripe);
  write_schema(dir, 2, every);
  char path[256];
  snprintf(path, sizeof path, "%s/3.json", dir);
  FILE *f = fopen(path, "w");
  if (!f || fputs("{\"type\":\"object\"}", f) < 0 || fclose(f))
    abort();
  uv_loop_init(&loop);
  if (hs_registry_new(&loop, &(hs_registry_opts_t){.schema_dir = dir, .limits = lim}, &reg, &err))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!reg)
    init();
  if (size < 1)
    return 0;
  static const hs_src_format_t fmts[] = {HS_SRC_AVRO, HS_SRC_AVRO, HS_SRC_CONFLUENT_AVRO,
                                         HS_SRC_CONFLUENT_JSON};
  unsigned pick = data[0] % 4;
  msgpack_zone *zone = msgpack_zone_new(4096);
  hs_framed_t out;
  hs_reject_t why;
  hs_err_t err = {0};
  int rc = hs_frame_decode(fmts[pick], pick == 0 ? s_stripe : s_every, reg, data + 1, size - 1,
                           zone, &out, &why, &err);
  if (rc == 0 && out.kind == HS_FRAMED_TREE) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (msgpack_pack_object(&pk, out.tree))
      abort();
    size_t whole = 0;
    int sr = hs_msgpack_object_size(sb.data, sb.size, &whole);
    if ((sr == 0 && whole != sb.size) || sr == 1) /* HS_E_PARSE: deeper than 32 */
      abort();
    msgpack_sbuffer_destroy(&sb);
  } else if (rc == 0) {
    if (out.kind != HS_FRAMED_JSON || out.raw_len != size - 1 - HS_CONFLUENT_HEADER)
      abort();
  } else if (rc != HS_REG_PENDING && (err.msg[0] == 0 || (why == HS_REJ_NONE && rc != HS_E_NOMEM)))
    abort(); /* every reject says why */
  msgpack_zone_free(zone);
  return 0;
}
