/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Source framing and Avro decoding: every reject reason of the Confluent
 * framing, each format through hs_frame_decode, every Avro type written by
 * avro-c's own writer and decoded back into msgpack objects, a Stripe event read from its fixture,
 * and hostile payloads (lengths and counts announced far beyond the message, negative lengths,
 * truncation at every byte, deep nesting). */
#include "testutil.h"

#include "healthscore/registry.h"

#include <avro.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static msgpack_zone *zone;

static int setup(void **state) {
  (void)state;
  zone = msgpack_zone_new(4096);
  return zone ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  msgpack_zone_free(zone);
  return 0;
}

static hs_avro_schema_t *schema_of(const char *json) {
  hs_avro_schema_t *s = NULL;
  hs_err_t err = {0};
  if (hs_avro_schema_parse(json, strlen(json), NULL, &s, &err))
    fail_msg("schema %s: %s", json, err.msg);
  return s;
}

/* Writes `v` with avro-c's binary writer into buf; returns the length. */
static size_t write_value(avro_value_t *v, char *buf, size_t cap) {
  avro_writer_t w = avro_writer_memory(buf, (int64_t)cap);
  assert_int_equal(avro_value_write(w, v), 0);
  size_t n = (size_t)avro_writer_tell(w);
  avro_writer_free(w);
  return n;
}

/* A zig-zag varint, as the Avro binary encoding writes longs. */
static size_t put_long(uint8_t *o, int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  size_t n = 0;
  while (u >= 0x80) {
    o[n++] = (uint8_t)(u | 0x80);
    u >>= 7;
  }
  o[n++] = (uint8_t)u;
  return n;
}

static const msgpack_object *get(const msgpack_object *map, const char *key) {
  assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object_kv *kv = &map->via.map.ptr[i];
    if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
        memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
      return &kv->val;
  }
  fail_msg("key %s missing", key);
  return NULL;
}

static void assert_str(const msgpack_object *o, const char *want) {
  assert_int_equal(o->type, MSGPACK_OBJECT_STR);
  assert_int_equal(o->via.str.size, strlen(want));
  assert_memory_equal(o->via.str.ptr, want, o->via.str.size);
}

/* Decodes and expects a reject with `why` and a reason containing `frag`. */
static void expect_reject(hs_avro_schema_t *s, const void *buf, size_t len, hs_reject_t why,
                          const char *frag) {
  msgpack_object o;
  hs_reject_t got = HS_REJ_NONE;
  hs_err_t err = {0};
  int rc = hs_avro_decode(s, buf, len, zone, &o, &got, &err);
  if (rc == 0 || got != why || !strstr(err.msg, frag))
    fail_msg("got rc %d %s \"%s\", want %s containing \"%s\"", rc, hs_reject_name(got), err.msg,
             hs_reject_name(why), frag);
}

static void test_confluent_header_rejects(void **state) {
  (void)state;
  const uint8_t frame[] = {0x00, 0x00, 0x01, 0x02, 0x03, 0xaa};
  uint32_t id = 0;
  const uint8_t *payload;
  size_t plen;
  hs_reject_t why;
  hs_err_t err = {0};
  for (size_t n = 0; n < HS_CONFLUENT_HEADER; n++) {
    assert_int_equal(hs_confluent_split(frame, n, &id, &payload, &plen, &why, &err), HS_E_PARSE);
    assert_int_equal(why, HS_REJ_TRUNCATED_HEADER);
    assert_non_null(strstr(err.msg, "truncated header"));
  }
  const uint8_t bad[] = {0x01, 0, 0, 0, 1, 2};
  assert_int_equal(hs_confluent_split(bad, sizeof bad, &id, &payload, &plen, &why, &err),
                   HS_E_PARSE);
  assert_int_equal(why, HS_REJ_MAGIC);
  assert_non_null(strstr(err.msg, "magic byte 0x01"));
  assert_int_equal(hs_confluent_split(frame, sizeof frame, &id, &payload, &plen, &why, &err), 0);
  assert_int_equal(id, 0x010203);
  assert_int_equal(plen, 1);
  assert_int_equal(payload[0], 0xaa);
  const uint8_t big[] = {0, 0xff, 0xff, 0xff, 0xfe};
  assert_int_equal(hs_confluent_split(big, sizeof big, &id, &payload, &plen, &why, &err), 0);
  assert_int_equal(id, 0xfffffffeu);
  assert_int_equal(plen, 0);
}

static void test_format_names(void **state) {
  (void)state;
  const char *names[] = {"json", "msgpack", "avro", "confluent-json", "confluent-avro"};
  for (size_t i = 0; i < 5; i++) {
    hs_src_format_t f;
    assert_int_equal(hs_src_format_parse(names[i], &f), 0);
    assert_string_equal(hs_src_format_name(f), names[i]);
  }
  hs_src_format_t f;
  assert_int_equal(hs_src_format_parse("protobuf", &f), HS_E_CONFIG);
  assert_string_equal(hs_reject_name(HS_REJ_UNKNOWN_SCHEMA), "unknown_schema");
}

static const char every_type[] =
    "{\"type\":\"record\",\"name\":\"All\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\",\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"RED\",\"GREEN\"]}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
    "{\"name\":\"u0\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"u1\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"long\"}]}}]}";

static size_t write_every_type(hs_avro_schema_t *unused, char *buf, size_t cap) {
  (void)unused;
  avro_schema_t sc;
  assert_int_equal(avro_schema_from_json_length(every_type, strlen(every_type), &sc), 0);
  avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
  avro_value_t v, f, e;
  assert_int_equal(avro_generic_value_new(iface, &v), 0);
  avro_value_get_by_name(&v, "b", &f, NULL);
  avro_value_set_boolean(&f, 1);
  avro_value_get_by_name(&v, "i", &f, NULL);
  avro_value_set_int(&f, -42);
  avro_value_get_by_name(&v, "l", &f, NULL);
  avro_value_set_long(&f, INT64_C(1686089970000));
  avro_value_get_by_name(&v, "f", &f, NULL);
  avro_value_set_float(&f, 1.5f);
  avro_value_get_by_name(&v, "d", &f, NULL);
  avro_value_set_double(&f, -2.25);
  avro_value_get_by_name(&v, "s", &f, NULL);
  avro_value_set_string(&f, "caf\xc3\xa9");
  avro_value_get_by_name(&v, "by", &f, NULL);
  avro_value_set_bytes(&f, "\x00\x01\xff", 3);
  avro_value_get_by_name(&v, "fx", &f, NULL);
  avro_value_set_fixed(&f, "abcd", 4);
  avro_value_get_by_name(&v, "e", &f, NULL);
  avro_value_set_enum(&f, 1);
  avro_value_get_by_name(&v, "a", &f, NULL);
  for (int k = 0; k < 3; k++) {
    avro_value_append(&f, &e, NULL);
    avro_value_set_int(&e, k * 100);
  }
  avro_value_get_by_name(&v, "m", &f, NULL);
  avro_value_add(&f, "k1", &e, NULL, NULL);
  avro_value_set_long(&e, -7);
  avro_value_get_by_name(&v, "u0", &f, NULL);
  avro_value_set_branch(&f, 0, &e);
  avro_value_set_null(&e);
  avro_value_get_by_name(&v, "u1", &f, NULL);
  avro_value_set_branch(&f, 1, &e);
  avro_value_set_string(&e, "yes");
  avro_value_get_by_name(&v, "r", &f, NULL);
  avro_value_get_by_name(&f, "x", &e, NULL);
  avro_value_set_long(&e, 9);
  size_t n = write_value(&v, buf, cap);
  avro_value_decref(&v);
  avro_value_iface_decref(iface);
  avro_schema_decref(sc);
  return n;
}

static void test_avro_every_type(void **state) {
  (void)state;
  hs_avro_schema_t *s = schema_of(every_type);
  char buf[256];
  size_t n = write_every_type(s, buf, sizeof buf);
  msgpack_object o;
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(hs_avro_decode(s, buf, n, zone, &o, &why, &err), 0);
  assert_int_equal(o.via.map.size, 15);
  assert_string_equal(o.via.map.ptr[0].key.via.str.ptr[0] == 'n' ? "n" : "?", "n");
  assert_int_equal(get(&o, "n")->type, MSGPACK_OBJECT_NIL);
  assert_true(get(&o, "b")->type == MSGPACK_OBJECT_BOOLEAN && get(&o, "b")->via.boolean);
  assert_int_equal(get(&o, "i")->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
  assert_int_equal(get(&o, "i")->via.i64, -42);
  assert_int_equal(get(&o, "l")->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
  assert_int_equal(get(&o, "l")->via.u64, UINT64_C(1686089970000));
  assert_int_equal(get(&o, "f")->type, MSGPACK_OBJECT_FLOAT64);
  assert_true(get(&o, "f")->via.f64 == 1.5);
  assert_true(get(&o, "d")->via.f64 == -2.25);
  assert_str(get(&o, "s"), "caf\xc3\xa9");
  assert_int_equal(get(&o, "by")->type, MSGPACK_OBJECT_BIN);
  assert_int_equal(get(&o, "by")->via.bin.size, 3);
  assert_memory_equal(get(&o, "by")->via.bin.ptr, "\x00\x01\xff", 3);
  assert_int_equal(get(&o, "fx")->type, MSGPACK_OBJECT_BIN);
  assert_memory_equal(get(&o, "fx")->via.bin.ptr, "abcd", 4);
  assert_str(get(&o, "e"), "GREEN");
  const msgpack_object *a = get(&o, "a");
  assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
  assert_int_equal(a->via.array.size, 3);
  assert_int_equal(a->via.array.ptr[2].via.u64, 200);
  assert_int_equal(get(get(&o, "m"), "k1")->via.i64, -7);
  assert_int_equal(get(&o, "u0")->type, MSGPACK_OBJECT_NIL);
  assert_str(get(&o, "u1"), "yes");
  assert_int_equal(get(get(&o, "r"), "x")->via.u64, 9);

  /* every proper prefix is truncated, one byte more is trailing */
  for (size_t k = 0; k < n; k++)
    expect_reject(s, buf, k, HS_REJ_DECODE, "truncated");
  buf[n] = 0;
  expect_reject(s, buf, n + 1, HS_REJ_TRAILING, "1 trailing bytes");
  hs_avro_schema_free(s);
}

/* ---- Stripe fixture: JSON sample -> avro-c writer -> frame -> decode ---- */

static void fill(avro_value_t *v, yajl_val j) {
  avro_value_t c;
  avro_schema_t sc = avro_value_get_schema(v);
  switch (avro_value_get_type(v)) {
  case AVRO_STRING:
    assert_true(YAJL_IS_STRING(j));
    assert_int_equal(avro_value_set_string(v, YAJL_GET_STRING(j)), 0);
    break;
  case AVRO_INT32:
    assert_int_equal(avro_value_set_int(v, (int32_t)YAJL_GET_INTEGER(j)), 0);
    break;
  case AVRO_INT64:
    assert_int_equal(avro_value_set_long(v, YAJL_GET_INTEGER(j)), 0);
    break;
  case AVRO_BOOLEAN:
    assert_int_equal(avro_value_set_boolean(v, YAJL_IS_TRUE(j)), 0);
    break;
  case AVRO_ENUM:
    assert_int_equal(avro_value_set_enum(v, avro_schema_enum_get_by_name(sc, YAJL_GET_STRING(j))),
                     0);
    break;
  case AVRO_UNION: /* ["null", T] */
    assert_int_equal(avro_value_set_branch(v, YAJL_IS_NULL(j) ? 0 : 1, &c), 0);
    if (!YAJL_IS_NULL(j))
      fill(&c, j);
    break;
  case AVRO_RECORD:
    for (size_t i = 0; i < YAJL_GET_OBJECT(j)->len; i++) {
      assert_int_equal(avro_value_get_by_name(v, YAJL_GET_OBJECT(j)->keys[i], &c, NULL), 0);
      fill(&c, YAJL_GET_OBJECT(j)->values[i]);
    }
    break;
  case AVRO_MAP:
    for (size_t i = 0; i < YAJL_GET_OBJECT(j)->len; i++) {
      assert_int_equal(avro_value_add(v, YAJL_GET_OBJECT(j)->keys[i], &c, NULL, NULL), 0);
      fill(&c, YAJL_GET_OBJECT(j)->values[i]);
    }
    break;
  case AVRO_ARRAY:
    for (size_t i = 0; i < YAJL_GET_ARRAY(j)->len; i++) {
      assert_int_equal(avro_value_append(v, &c, NULL), 0);
      fill(&c, YAJL_GET_ARRAY(j)->values[i]);
    }
    break;
  default:
    fail_msg("type %d not in the fixture", (int)avro_value_get_type(v));
  }
}

/* The decoded tree equals the JSON sample, key by key. */
static void same(const msgpack_object *o, yajl_val j, const char *path) {
  if (YAJL_IS_NULL(j)) {
    assert_int_equal(o->type, MSGPACK_OBJECT_NIL);
  } else if (YAJL_IS_STRING(j)) {
    assert_str(o, YAJL_GET_STRING(j));
  } else if (YAJL_IS_INTEGER(j)) {
    int64_t got = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)o->via.u64 : o->via.i64;
    if (got != YAJL_GET_INTEGER(j))
      fail_msg("%s: %lld", path, (long long)got);
  } else if (YAJL_IS_TRUE(j) || YAJL_IS_FALSE(j)) {
    assert_true(o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean == YAJL_IS_TRUE(j));
  } else if (YAJL_IS_OBJECT(j)) {
    assert_int_equal(o->via.map.size, YAJL_GET_OBJECT(j)->len);
    for (size_t i = 0; i < YAJL_GET_OBJECT(j)->len; i++)
      same(get(o, YAJL_GET_OBJECT(j)->keys[i]), YAJL_GET_OBJECT(j)->values[i],
           YAJL_GET_OBJECT(j)->keys[i]);
  } else {
    assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(o->via.array.size, YAJL_GET_ARRAY(j)->len);
    for (size_t i = 0; i < YAJL_GET_ARRAY(j)->len; i++)
      same(&o->via.array.ptr[i], YAJL_GET_ARRAY(j)->values[i], path);
  }
}

static void test_stripe_event_from_fixture(void **state) {
  (void)state;
  char ebuf[128];
  char *json = hs_test_read_file("tests/fixtures/sources/stripe-invoice-payment-failed.json", NULL);
  yajl_val doc = yajl_tree_parse(json, ebuf, sizeof ebuf);
  assert_non_null(doc);
  hs_avro_schema_t *s = NULL;
  hs_err_t err = {0};
  assert_int_equal(
      hs_avro_schema_load(hs_test_path("tests/fixtures/sources/stripe-invoice-payment-failed.avsc"),
                          NULL, &s, &err),
      0);
  size_t slen;
  char *stext =
      hs_test_read_file("tests/fixtures/sources/stripe-invoice-payment-failed.avsc", &slen);
  avro_schema_t sc;
  assert_int_equal(avro_schema_from_json_length(stext, slen, &sc), 0);
  avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
  avro_value_t v;
  avro_generic_value_new(iface, &v);
  fill(&v, doc);
  char frame[2048] = {0x00, 0x00, 0x00, 0x00, 0x07}; /* schema id 7 */
  size_t n = HS_CONFLUENT_HEADER + write_value(&v, frame + 5, sizeof frame - 5);

  uint32_t id;
  const uint8_t *payload;
  size_t plen;
  hs_reject_t why;
  assert_int_equal(hs_confluent_split(frame, n, &id, &payload, &plen, &why, &err), 0);
  assert_int_equal(id, 7);
  msgpack_object o;
  assert_int_equal(hs_avro_decode(s, payload, plen, zone, &o, &why, &err), 0);
  same(&o, doc, "$");
  assert_str(get(get(get(&o, "data"), "object"), "customer"), "cus_NeZwdNtLEOXuvB");
  assert_int_equal(get(get(get(&o, "data"), "object"), "amount_due")->via.u64, 2000);
  assert_str(get(&o, "type"), "invoice.payment_failed");

  /* the same bytes against a schema they were not written with */
  hs_avro_schema_t *other = schema_of(every_type);
  assert_int_not_equal(hs_avro_decode(other, payload, plen, zone, &o, &why, &err), 0);
  assert_true(why == HS_REJ_DECODE || why == HS_REJ_TRAILING);
  hs_avro_schema_free(other);

  avro_value_decref(&v);
  avro_value_iface_decref(iface);
  avro_schema_decref(sc);
  hs_avro_schema_free(s);
  hs_free(stext);
  yajl_tree_free(doc);
  hs_free(json);
}

static void test_schema_that_does_not_parse(void **state) {
  (void)state;
  hs_avro_schema_t *s = NULL;
  hs_err_t err = {0};
  const char *bad[] = {"{\"type\":\"record\"", "{\"type\":\"nosuchtype\"}", "",
                       "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[1]}"};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(hs_avro_schema_parse(bad[i], strlen(bad[i]), NULL, &s, &err), HS_E_SCHEMA);
    assert_null(s);
    assert_non_null(strstr(err.msg, "avro schema"));
  }
  assert_int_equal(hs_avro_schema_load("/nonexistent/1.avsc", NULL, &s, &err), HS_E_IO);
  /* a schema file is read up to 1 MiB, not whatever size it has */
  char path[] = "/tmp/hs-avsc-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, HS_AVRO_MAX_SCHEMA + 1), 0);
  close(fd);
  assert_int_equal(hs_avro_schema_load(path, NULL, &s, &err), HS_E_TOOBIG);
  assert_non_null(strstr(err.msg, "larger than 1048576 bytes"));
  unlink(path);
}

/* avro-c alone mallocs an announced string length (2^40 + 1 bytes) and
 * appends an announced count of nulls one by one (2^31 took 13 s and 1.3 GiB
 * before the address-space limit stopped it): such messages never reach it. */
static void test_hostile_announced_lengths(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n;
  hs_avro_schema_t *str = schema_of("\"string\"");
  n = put_long(buf, INT64_C(1) << 40);
  buf[n++] = 'x';
  expect_reject(str, buf, n, HS_REJ_DECODE, "length 1099511627776 announced, 1 bytes left");
  n = put_long(buf, -5);
  expect_reject(str, buf, n, HS_REJ_DECODE, "negative length -5");
  n = put_long(buf, 2);
  memcpy(buf + n, "\xff\xfe", 2);
  expect_reject(str, buf, n + 2, HS_REJ_DECODE, "not UTF-8");
  const char *bad_utf8[] = {"\xed\xa0\x80" /* surrogate */, "\xc0\xaf" /* overlong */,
                            "\xf4\x90\x80\x80" /* over U+10FFFF */, "\xe2\x82" /* cut */, "\x80"};
  for (size_t i = 0; i < 5; i++) {
    n = put_long(buf, (int64_t)strlen(bad_utf8[i]));
    memcpy(buf + n, bad_utf8[i], strlen(bad_utf8[i]));
    expect_reject(str, buf, n + strlen(bad_utf8[i]), HS_REJ_DECODE, "not UTF-8");
  }
  n = put_long(buf, 4);
  memcpy(buf + n, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
  msgpack_object ok;
  hs_reject_t okwhy;
  hs_err_t okerr = {0};
  assert_int_equal(hs_avro_decode(str, buf, n + 4, zone, &ok, &okwhy, &okerr), 0);
  memset(buf, 0xff, 11);
  expect_reject(str, buf, 11, HS_REJ_DECODE, "varint");
  hs_avro_schema_free(str);

  hs_avro_schema_t *nulls = schema_of("{\"type\":\"array\",\"items\":\"null\"}");
  n = put_long(buf, INT64_C(1) << 31);
  buf[n++] = 0;
  expect_reject(nulls, buf, n, HS_REJ_TOOBIG, "over the limit of 65536");
  n = put_long(buf, INT64_MIN);
  expect_reject(nulls, buf, n, HS_REJ_DECODE, "block count out of range");
  /* 65536 nulls in 4 bytes would be 2 MiB of avro-c values and msgpack
   * objects (5.5 MiB for empty records): no more entries than bytes */
  n = put_long(buf, 65536);
  buf[n++] = 0;
  expect_reject(nulls, buf, n, HS_REJ_TOOBIG, "more than the 4 bytes of the message");
  n = put_long(buf, 2);
  buf[n++] = 0;
  msgpack_object o;
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(hs_avro_decode(nulls, buf, n, zone, &o, &why, &err), 0);
  assert_int_equal(o.via.array.size, 2);
  hs_avro_schema_free(nulls);

  hs_avro_schema_t *ints = schema_of("{\"type\":\"array\",\"items\":\"long\"}");
  n = put_long(buf, 60000);
  n += put_long(buf + n, 1);
  expect_reject(ints, buf, n, HS_REJ_DECODE, "60000 entries announced, 1 bytes left");
  /* a negative block count announces its byte size: honoured, and checked */
  n = put_long(buf, -2);
  n += put_long(buf + n, 2);
  n += put_long(buf + n, 3);
  n += put_long(buf + n, -4);
  buf[n++] = 0;
  assert_int_equal(hs_avro_decode(ints, buf, n, zone, &o, &why, &err), 0);
  assert_int_equal(o.via.array.size, 2);
  assert_int_equal(o.via.array.ptr[1].via.i64, -4);
  n = put_long(buf, -2);
  n += put_long(buf + n, 1000);
  expect_reject(ints, buf, n, HS_REJ_DECODE, "block size 1000 announced");
  hs_avro_schema_free(ints);

  hs_avro_schema_t *map = schema_of("{\"type\":\"map\",\"values\":\"null\"}");
  n = put_long(buf, INT64_C(1) << 31);
  expect_reject(map, buf, n, HS_REJ_TOOBIG, "over the limit");
  n = put_long(buf, 40000);
  expect_reject(map, buf, n, HS_REJ_DECODE, "40000 entries announced, 0 bytes left");
  hs_avro_schema_free(map);

  hs_avro_schema_t *fx = schema_of("{\"type\":\"fixed\",\"name\":\"F\",\"size\":16}");
  expect_reject(fx, "abc", 3, HS_REJ_DECODE, "fixed of 16 bytes");
  hs_avro_schema_free(fx);
}

static void test_hostile_indexes_and_values(void **state) {
  (void)state;
  uint8_t buf[16];
  size_t n;
  hs_avro_schema_t *u = schema_of("[\"null\",\"int\"]");
  n = put_long(buf, 2);
  expect_reject(u, buf, n, HS_REJ_DECODE, "union branch 2 out of range");
  n = put_long(buf, -1);
  expect_reject(u, buf, n, HS_REJ_DECODE, "union branch -1");
  n = put_long(buf, 1);
  n += put_long(buf + n, INT64_C(1) << 33);
  expect_reject(u, buf, n, HS_REJ_DECODE, "int out of 32-bit range");
  hs_avro_schema_free(u);
  u = schema_of("\"int\"");
  n = put_long(buf, INT64_C(1) << 40);
  expect_reject(u, buf, n, HS_REJ_DECODE, "varint longer than 5");
  hs_avro_schema_free(u);
  hs_avro_schema_t *e = schema_of("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}");
  n = put_long(buf, 1);
  expect_reject(e, buf, n, HS_REJ_DECODE, "enum index 1 out of range");
  hs_avro_schema_free(e);
  hs_avro_schema_t *b = schema_of("\"boolean\"");
  expect_reject(b, "\x02", 1, HS_REJ_DECODE, "boolean byte 2");
  hs_avro_schema_free(b);
  hs_avro_schema_t *d = schema_of("\"double\"");
  expect_reject(d, "1234567", 7, HS_REJ_DECODE, "8-byte number");
  hs_avro_schema_free(d);
}

/* A recursive schema lets a message nest as deep as its bytes go. */
static void test_hostile_deep_nesting(void **state) {
  (void)state;
  hs_avro_schema_t *s = schema_of("{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
                                  "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}");
  uint8_t buf[4096];
  size_t n = 0;
  for (int i = 0; i < 20; i++)
    buf[n++] = 2; /* branch 1: another Node */
  buf[n++] = 0;
  msgpack_object o;
  hs_reject_t why;
  hs_err_t err = {0};
  assert_int_equal(hs_avro_decode(s, buf, n, zone, &o, &why, &err), 0);
  for (int i = 0; i < 19; i++)
    o = *get(&o, "next");
  assert_int_equal(get(get(&o, "next"), "next")->type, MSGPACK_OBJECT_NIL);
  memset(buf, 2, sizeof buf - 1);
  buf[sizeof buf - 1] = 0;
  expect_reject(s, buf, sizeof buf, HS_REJ_TOOBIG, "nested deeper than 64");
  hs_avro_schema_free(s);
}

/* Each format without a registry: JSON and msgpack pass through for the
 * mapping's parsers, avro decodes with the file's schema, a Confluent frame
 * without a registry is a reject that says so. */
static void test_frame_decode_formats(void **state) {
  (void)state;
  hs_framed_t fr;
  hs_reject_t why;
  hs_err_t err = {0};
  const char mp[] = "\x81\xa2id\xa3"
                    "evt";
  assert_int_equal(
      hs_frame_decode(HS_SRC_MSGPACK, NULL, NULL, mp, sizeof mp - 1, zone, &fr, &why, &err), 0);
  assert_true(fr.kind == HS_FRAMED_MSGPACK && fr.raw == (const uint8_t *)mp &&
              fr.raw_len == sizeof mp - 1);
  assert_int_equal(hs_frame_decode(HS_SRC_JSON, NULL, NULL, "{}", 2, zone, &fr, &why, &err), 0);
  assert_true(fr.kind == HS_FRAMED_JSON && fr.raw_len == 2);

  hs_avro_schema_t *s = schema_of("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                                  "{\"name\":\"id\",\"type\":\"string\"}]}");
  assert_int_equal(hs_frame_decode(HS_SRC_AVRO, s, NULL,
                                   "\x06"
                                   "evt",
                                   4, zone, &fr, &why, &err),
                   0);
  assert_int_equal(fr.kind, HS_FRAMED_TREE);
  assert_str(get(&fr.tree, "id"), "evt");
  assert_int_equal(hs_frame_decode(HS_SRC_AVRO, s, NULL,
                                   "\x06"
                                   "evtX",
                                   5, zone, &fr, &why, &err),
                   HS_E_PARSE);
  assert_int_equal(why, HS_REJ_TRAILING);
  assert_int_equal(hs_frame_decode(HS_SRC_AVRO, NULL, NULL, "\x00", 1, zone, &fr, &why, &err),
                   HS_E_CONFIG);
  hs_avro_schema_free(s);
  const uint8_t frame[] = {0, 0, 0, 0, 1, 0};
  assert_int_equal(hs_frame_decode(HS_SRC_CONFLUENT_AVRO, NULL, NULL, frame, sizeof frame, zone,
                                   &fr, &why, &err),
                   HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "without a schema registry"));
  assert_int_equal(
      hs_frame_decode(HS_SRC_CONFLUENT_AVRO, NULL, NULL, "\x01\0\0\0\1", 5, zone, &fr, &why, &err),
      HS_E_PARSE);
  assert_int_equal(why, HS_REJ_MAGIC);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_confluent_header_rejects),
      cmocka_unit_test(test_format_names),
      cmocka_unit_test(test_avro_every_type),
      cmocka_unit_test(test_stripe_event_from_fixture),
      cmocka_unit_test(test_schema_that_does_not_parse),
      cmocka_unit_test(test_hostile_announced_lengths),
      cmocka_unit_test(test_hostile_indexes_and_values),
      cmocka_unit_test(test_hostile_deep_nesting),
      cmocka_unit_test(test_frame_decode_formats),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
