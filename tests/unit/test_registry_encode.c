/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* hs_avro_encode: JSON records to Avro binary, checked by decoding the bytes
 * back (the decoder is checked against avro-c's own writer) and by every
 * error a record that does not fit its schema gets. */
#include "testutil.h"

#include "healthscore/framing.h"
#include "healthscore/mapping.h"

#include <cmocka.h>
#include <string.h>

static hs_avro_schema_t *schema_of(const char *json) {
  hs_avro_schema_t *s = NULL;
  hs_err_t err = {0};
  if (hs_avro_schema_parse(json, strlen(json), NULL, &s, &err))
    fail_msg("schema %s: %s", json, err.msg);
  return s;
}

static const msgpack_object *at(const msgpack_object *doc, const char *path) {
  hs_doc_path_t *p = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_doc_path_new(path, &p, &err), 0);
  const msgpack_object *v = hs_doc_path_get(p, doc);
  hs_doc_path_free(p);
  return v;
}

static void assert_text(const msgpack_object *o, const char *want) {
  char tmp[40];
  hs_str_t t;
  assert_non_null(o);
  assert_true(hs_doc_scalar_text(o, tmp, &t));
  assert_int_equal(t.len, strlen(want));
  assert_memory_equal(t.ptr, want, t.len);
}

static void test_stripe_fixture_round_trip(void **state) {
  (void)state;
  size_t jlen;
  char *json =
      hs_test_read_file("tests/fixtures/sources/stripe-invoice-payment-failed.json", &jlen);
  hs_avro_schema_t *s = NULL;
  hs_err_t err = {0};
  assert_int_equal(
      hs_avro_schema_load(hs_test_path("tests/fixtures/sources/stripe-invoice-payment-failed.avsc"),
                          NULL, &s, &err),
      0);
  hs_doc_parser_t *dp = NULL;
  assert_int_equal(hs_doc_parser_new(&dp, 0), 0);
  msgpack_object doc;
  assert_int_equal(hs_doc_parse_json(dp, json, jlen, &doc, &err), 0);
  hs_buf_t a, b;
  hs_buf_init(&a);
  hs_buf_init(&b);
  assert_int_equal(hs_buf_append(&a, "pre", 3), 0); /* appends */
  assert_int_equal(hs_avro_encode(s, &doc, &a, &err), 0);
  assert_memory_equal(a.data, "pre", 3);

  msgpack_zone *zone = msgpack_zone_new(4096);
  msgpack_object o;
  hs_reject_t why;
  assert_int_equal(hs_avro_decode(s, a.data + 3, a.len - 3, zone, &o, &why, &err), 0);
  const char *same[] = {"id",
                        "type",
                        "created",
                        "livemode",
                        "api_version",
                        "data.object.customer",
                        "data.object.amount_due",
                        "data.object.attempt_count",
                        "data.object.billing_reason",
                        "data.object.status",
                        "data.object.lines.data[0].amount"};
  for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
    char tmp[40];
    hs_str_t want;
    const msgpack_object *w = at(&doc, same[i]);
    assert_non_null(w);
    assert_true(hs_doc_scalar_text(w, tmp, &want));
    char wbuf[128];
    snprintf(wbuf, sizeof wbuf, "%.*s", (int)want.len, want.ptr);
    assert_text(at(&o, same[i]), wbuf);
  }
  assert_text(at(&o, "data.object.customer"), "cus_NeZwdNtLEOXuvB");
  /* the decoded tree encodes to the same bytes */
  assert_int_equal(hs_avro_encode(s, &o, &b, &err), 0);
  assert_int_equal(b.len, a.len - 3);
  assert_memory_equal(b.data, a.data + 3, b.len);

  msgpack_zone_free(zone);
  hs_buf_free(&a);
  hs_buf_free(&b);
  hs_doc_parser_free(dp);
  hs_avro_schema_free(s);
  hs_free(json);
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
    "{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"
    "{\"name\":\"o\",\"type\":[\"null\",\"string\"]}]}";

static int encode(hs_avro_schema_t *s, const char *json, hs_buf_t *out, hs_err_t *err) {
  hs_doc_parser_t *dp = NULL;
  assert_int_equal(hs_doc_parser_new(&dp, 0), 0);
  msgpack_object doc;
  assert_int_equal(hs_doc_parse_json(dp, json, strlen(json), &doc, err), 0);
  out->len = 0;
  int rc = hs_avro_encode(s, &doc, out, err);
  hs_doc_parser_free(dp);
  return rc;
}

static void test_every_type_bytes(void **state) {
  (void)state;
  hs_avro_schema_t *s = schema_of(every_type);
  hs_buf_t out;
  hs_buf_init(&out);
  hs_err_t err = {0};
  assert_int_equal(
      encode(s,
             "{\"n\":null,\"b\":true,\"i\":-2,\"l\":300,\"f\":1,\"d\":0.5,\"s\":\"hi\","
             "\"by\":\"x\",\"fx\":\"abcd\",\"e\":\"GREEN\",\"a\":[1,2],\"m\":{\"k\":3},"
             "\"u\":\"z\"}",
             &out, &err),
      0);
  /* by hand, from the Avro specification: zigzag varints, little-endian
     float and double, strings and bytes length-prefixed, blocks of arrays
     and maps ended by 0, a union its branch index then the value; `o` left
     out is null (branch 0) */
  static const unsigned char want[] = {
      0x01,                                           /* b */
      0x03,                                           /* i -2 */
      0xd8, 0x04,                                     /* l 300 */
      0x00, 0x00, 0x80, 0x3f,                         /* f 1.0 */
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, /* d 0.5 */
      0x04, 'h',  'i',                                /* s */
      0x02, 'x',                                      /* by */
      'a',  'b',  'c',  'd',                          /* fx */
      0x02,                                           /* e GREEN */
      0x04, 0x02, 0x04, 0x00,                         /* a [1, 2] */
      0x02, 0x02, 'k',  0x06, 0x00,                   /* m {k: 3} */
      0x04, 0x02, 'z',                                /* u: branch 2, "z" */
      0x00                                            /* o: null */
  };
  assert_int_equal(out.len, sizeof want);
  assert_memory_equal(out.data, want, sizeof want);
  hs_buf_free(&out);
  hs_avro_schema_free(s);
}

static void test_records_that_do_not_fit(void **state) {
  (void)state;
  hs_avro_schema_t *s = schema_of(every_type);
  const char *base = "\"n\":null,\"b\":true,\"l\":1,\"f\":1,\"d\":1,\"s\":\"s\",\"by\":\"\","
                     "\"fx\":\"abcd\",\"e\":\"RED\",\"a\":[],\"m\":{},\"u\":null";
  static const struct {
    const char *extra, *why;
  } cases[] = {
      {"", "avro: i: missing"},
      {",\"i\":2147483648", "avro: i: out of the range of int"},
      {",\"i\":\"1\"", "avro: i: wrong type for int"},
      {",\"i\":1,\"zz\":1", "avro: $: no such field in the schema: zz"},
      {",\"i\":1,\"e2\":1", "no such field in the schema: e2"},
  };
  hs_buf_t out;
  hs_buf_init(&out);
  char json[512];
  hs_err_t err = {0};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(json, sizeof json, "{%s%s}", base, cases[i].extra);
    assert_int_equal(encode(s, json, &out, &err), HS_E_SCHEMA);
    if (!strstr(err.msg, cases[i].why))
      fail_msg("%s: got \"%s\", want \"%s\"", json, err.msg, cases[i].why);
  }
  static const struct {
    const char *from, *to, *why;
  } edits[] = {
      {"\"e\":\"RED\"", "\"e\":\"BLUE\"", "avro: e: \"BLUE\" is not a symbol of E"},
      {"\"fx\":\"abcd\"", "\"fx\":\"abc\"", "avro: fx: not the size of fixed F4"},
      {"\"a\":[]", "\"a\":[1,\"x\"]", "avro: a[1]: wrong type for int"},
      {"\"m\":{}", "\"m\":{\"k\":1.5}", "avro: m.k: wrong type for long"},
      {"\"u\":null", "\"u\":true", "avro: u: no branch of the union takes this value"},
      {"\"b\":true", "\"b\":null", "avro: b: wrong type for boolean"},
  };
  for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
    char full[512], *p;
    snprintf(full, sizeof full, "{%s,\"i\":1}", base);
    p = strstr(full, edits[i].from);
    assert_non_null(p);
    snprintf(json, sizeof json, "%.*s%s%s", (int)(p - full), full, edits[i].to,
             p + strlen(edits[i].from));
    assert_int_equal(encode(s, json, &out, &err), HS_E_SCHEMA);
    if (!strstr(err.msg, edits[i].why))
      fail_msg("%s: got \"%s\", want \"%s\"", json, err.msg, edits[i].why);
  }
  /* not an object at all */
  assert_int_equal(encode(s, "[1]", &out, &err), HS_E_SCHEMA);
  assert_non_null(strstr(err.msg, "avro: $: wrong type for record All"));
  hs_buf_free(&out);
  hs_avro_schema_free(s);
}

static void test_doc_paths(void **state) {
  (void)state;
  hs_err_t err = {0};
  hs_doc_path_t *p = NULL;
  assert_int_equal(hs_doc_path_new("$key", &p, &err), HS_E_CONFIG);
  assert_null(p);
  assert_non_null(strstr(err.msg, "$key"));
  assert_int_equal(hs_doc_path_new("$headers.x", &p, &err), HS_E_CONFIG);
  assert_int_equal(hs_doc_path_new("a[", &p, &err), HS_E_CONFIG);
  assert_int_equal(hs_doc_path_new("", &p, &err), HS_E_CONFIG);
  hs_doc_parser_t *dp = NULL;
  assert_int_equal(hs_doc_parser_new(&dp, 0), 0);
  const char *json = "{\"a\":{\"b\":[{\"k\":\"x\",\"v\":1},{\"k\":\"y\",\"v\":2.5}]},\"n\":null,"
                     "\"t\":true}";
  msgpack_object doc;
  assert_int_equal(hs_doc_parse_json(dp, json, strlen(json), &doc, &err), 0);
  assert_text(at(&doc, "a.b[0].k"), "x");
  assert_text(at(&doc, "a.b[k=y].v"), "2.5");
  assert_text(at(&doc, "t"), "true");
  assert_null(at(&doc, "n"));        /* null is absent */
  assert_null(at(&doc, "a.b[2].k")); /* past the end */
  assert_null(at(&doc, "a.c"));
  char tmp[40];
  hs_str_t t;
  assert_false(hs_doc_scalar_text(at(&doc, "a.b"), tmp, &t)); /* an array has no text */
  hs_doc_parser_free(dp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stripe_fixture_round_trip),
      cmocka_unit_test(test_every_type_bytes),
      cmocka_unit_test(test_records_that_do_not_fit),
      cmocka_unit_test(test_doc_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
