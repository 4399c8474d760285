/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Records into trees: JSON and msgpack read as strictly as the event
 * decoder reads events, with the reason and where. */
#include "testutil.h"

#include "healthscore/mapping.h"

#include <string.h>

static hs_doc_parser_t *p;

static int setup(void **state) {
  (void)state;
  return hs_doc_parser_new(&p, 4096);
}

static int teardown(void **state) {
  (void)state;
  hs_doc_parser_free(p);
  return 0;
}

static void json_fails(const char *json, int code, const char *fragment) {
  msgpack_object o;
  hs_err_t err = {0};
  int rc = hs_doc_parse_json(p, json, strlen(json), &o, &err);
  if (rc != code || !strstr(err.msg, fragment))
    fail_msg("%s\n  got %d \"%s\", want %d \"%s\"", json, rc, err.msg, code, fragment);
}

static void test_json_tree(void **state) {
  (void)state;
  const char *j = " {\"a\":[1,-2,2.5,true,null,\"x\\u00e9\\ud83d\\ude00\"],\"b\":{},\"c\":[]} ";
  msgpack_object o;
  hs_err_t err = {0};
  assert_int_equal(hs_doc_parse_json(p, j, strlen(j), &o, &err), 0);
  assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
  assert_int_equal(o.via.map.size, 3);
  const msgpack_object *a = &o.via.map.ptr[0].val;
  assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
  assert_int_equal(a->via.array.size, 6);
  assert_int_equal(a->via.array.ptr[0].via.u64, 1);
  assert_int_equal(a->via.array.ptr[1].via.i64, -2);
  assert_true(a->via.array.ptr[2].via.f64 == 2.5);
  assert_true(a->via.array.ptr[3].via.boolean);
  assert_int_equal(a->via.array.ptr[4].type, MSGPACK_OBJECT_NIL);
  assert_int_equal(a->via.array.ptr[5].via.str.size, 7);
  assert_memory_equal(a->via.array.ptr[5].via.str.ptr, "x\xc3\xa9\xf0\x9f\x98\x80", 7);
  assert_int_equal(o.via.map.ptr[1].val.via.map.size, 0);
  /* the zone is reused: a second record replaces the first */
  assert_int_equal(hs_doc_parse_json(p, "[7]", 3, &o, &err), 0);
  assert_int_equal(o.via.array.ptr[0].via.u64, 7);
}

static void test_json_strictness(void **state) {
  (void)state;
  json_fails("{\"a\":\"\\ud800\"}", HS_E_PARSE,
             "at byte 6: \\ud800 is an unpaired UTF-16 surrogate");
  json_fails("{\"a\":\"\\udc00\"}", HS_E_PARSE, "\\udc00 is an unpaired");
  json_fails("{\"a\":\"\\ud800\\u0041\"}", HS_E_PARSE, "\\ud800 is an unpaired");
  json_fails("{\"\\ud800\":1}", HS_E_PARSE, "unpaired");
  json_fails("{\"a\":\"\xff\"}", HS_E_PARSE, "malformed JSON at byte");
  json_fails("{\"a\":1,\"a\":2}", HS_E_SCHEMA, "duplicate key \"a\"");
  json_fails("{\"a\":1,\"\\u0061\":2}", HS_E_SCHEMA, "duplicate key \"a\"");
  json_fails("{\"a\":1} x", HS_E_PARSE, "malformed JSON");
  json_fails("{\"a\":", HS_E_PARSE, "truncated");
  json_fails("", HS_E_PARSE, "malformed JSON");
  char deep[80] = {0};
  memset(deep, '[', 33);
  json_fails(deep, HS_E_RANGE, "nested deeper than 32");
  static char big[5000];
  memset(big, ' ', sizeof big - 1);
  big[0] = '1';
  json_fails(big, HS_E_TOOBIG, "over the limit of 4096");
  /* keys in different objects may repeat, and escapes of real pairs pass */
  msgpack_object o;
  hs_err_t err = {0};
  const char *ok = "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"s\":\"\\\\ud800\"}";
  assert_int_equal(hs_doc_parse_json(p, ok, strlen(ok), &o, &err), 0);
}

static void test_json_key_cap(void **state) {
  (void)state;
  hs_doc_parser_t *q;
  assert_int_equal(hs_doc_parser_new(&q, 1 << 20), 0);
  hs_buf_t b;
  hs_buf_init(&b);
  hs_buf_append(&b, "{", 1);
  for (int i = 0; i <= HS_DOC_MAX_KEYS; i++)
    hs_buf_printf(&b, "%s\"k%d\":0", i ? "," : "", i);
  hs_buf_append(&b, "}", 1);
  msgpack_object o;
  hs_err_t err = {0};
  assert_int_equal(hs_doc_parse_json(q, b.data, b.len, &o, &err), HS_E_RANGE);
  assert_non_null(strstr(err.msg, "more than 1024 keys"));
  hs_buf_free(&b);
  hs_doc_parser_free(q);
}

static void msgpack_fails(const char *buf, size_t n, int code, const char *fragment) {
  msgpack_object o;
  hs_err_t err = {0};
  int rc = hs_doc_unpack_msgpack(p, buf, n, &o, &err);
  if (rc != code || !strstr(err.msg, fragment))
    fail_msg("got %d \"%s\", want %d \"%s\"", rc, err.msg, code, fragment);
}

static void test_msgpack(void **state) {
  (void)state;
  msgpack_object o;
  hs_err_t err = {0};
  /* {"a": [1, "x"]} */
  const char ok[] = "\x81\xa1"
                    "a"
                    "\x92\x01\xa1"
                    "x";
  assert_int_equal(hs_doc_unpack_msgpack(p, ok, sizeof ok - 1, &o, &err), 0);
  assert_int_equal(o.via.map.ptr[0].val.via.array.size, 2);
  msgpack_fails("\x81\xa1"
                "a"
                "\xa1\xff",
                5, HS_E_PARSE, "not UTF-8");
  msgpack_fails("\x81\xa3"
                "a"
                "\xed\xa0\x80"
                "\x01",
                6, HS_E_PARSE, "not UTF-8"); /* surrogate */
  msgpack_fails("\x82\xa1"
                "a"
                "\x01\xa1"
                "a"
                "\x02",
                7, HS_E_SCHEMA, "duplicate key \"a\"");
  msgpack_fails("\x81\x01\x01", 3, HS_E_SCHEMA, "not a string");
  msgpack_fails("\x81\xa1"
                "a",
                3, HS_E_PARSE, "truncated");
  msgpack_fails("\x01\x02", 2, HS_E_PARSE, "trailing bytes");
  /* a header claiming 2^32-1 entries is refused before anything is allocated */
  msgpack_fails("\xdd\xff\xff\xff\xff", 5, HS_E_PARSE, "truncated");
  msgpack_fails("\xc1", 1, HS_E_PARSE, "malformed msgpack");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_tree),
      cmocka_unit_test(test_json_strictness),
      cmocka_unit_test(test_json_key_cap),
      cmocka_unit_test(test_msgpack),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
