/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The presets of examples/mappings/ on the payloads their vendors publish
 * (tests/fixtures/sources/README.md): the engine events expected were
 * written by hand from each fixture. */
#include "testutil.h"

#include "healthscore/mapping.h"

#include <stdio.h>
#include <string.h>

typedef struct run_s {
  hs_buf_t out;  /* events, one JSON line each */
  hs_buf_t errs; /* reasons, one line each */
  int events, unmatched, rejected, no_event;
} run_t;

/* Maps every line of tests/fixtures/sources/NAME.jsonl with
 * examples/mappings/NAME.yaml, after `prime` (may be NULL) has put aliases
 * in the mapping's store. */
static void run_h(const char *name, const char *fixture, run_t *r, const hs_alias_store_t *store,
                  const hs_map_header_t *h, size_t nh) {
  char path[256];
  snprintf(path, sizeof path, "%s/examples/mappings/%s.yaml", HS_SOURCE_DIR, name);
  hs_mapping_t *m = NULL;
  hs_err_t err = {0};
  if (hs_mapping_load_file(path, &m, &err))
    fail_msg("%s", err.msg);
  if (store)
    hs_mapping_set_alias_store(m, store);
  snprintf(path, sizeof path, "tests/fixtures/sources/%s.jsonl", fixture);
  size_t len;
  char *text = hs_test_read_file(path, &len);
  hs_doc_parser_t *p;
  assert_int_equal(hs_doc_parser_new(&p, 0), 0);
  memset(r, 0, sizeof *r);
  hs_buf_init(&r->out);
  hs_buf_init(&r->errs);
  for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
    nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    msgpack_object doc;
    if (hs_doc_parse_json(p, line, n, &doc, &err))
      fail_msg("%s: %s", name, err.msg);
    hs_map_input_t in = {.headers = h, .n_headers = nh, .doc = &doc};
    int rc = hs_mapping_apply(m, &in, HS_FMT_JSON, &r->out, NULL, &err);
    if (rc == HS_MAP_EVENT) {
      r->events++;
      hs_buf_append(&r->out, "\n", 1);
    } else if (rc == HS_MAP_UNMATCHED) {
      r->unmatched++;
    } else if (rc == HS_MAP_NO_EVENT) {
      r->no_event++;
    } else {
      assert_int_equal(rc, HS_MAP_REJECT);
      r->rejected++;
      hs_buf_printf(&r->errs, "%s\n", err.msg);
    }
  }
  hs_buf_append(&r->out, "", 1);
  hs_buf_append(&r->errs, "", 1);
  hs_doc_parser_free(p);
  hs_free(text);
  hs_mapping_free(m);
}

static void run(const char *name, run_t *r, const hs_alias_store_t *store) {
  run_h(name, name, r, store, NULL, 0);
}

static void expect_expected(const char *name, const run_t *r) {
  char path[256];
  snprintf(path, sizeof path, "tests/fixtures/sources/%s.expected.jsonl", name);
  size_t len;
  char *want = hs_test_read_file(path, &len);
  if (strcmp(r->out.data, want))
    fail_msg("%s: got\n%s\nwant\n%s", name, r->out.data, want);
  hs_free(want);
}

static void done(run_t *r) {
  hs_buf_free(&r->out);
  hs_buf_free(&r->errs);
}

static void test_segment_preset(void **state) {
  (void)state;
  run_t r;
  run("segment", &r, NULL);
  /* the group call, the 9 B2B SaaS events; the complete track example has
     no context.groupId and a user no group call introduced; identify is
     skipped */
  assert_int_equal(r.events, 10);
  assert_int_equal(r.unmatched, 1);
  assert_int_equal(r.rejected, 1);
  assert_non_null(strstr(r.errs.data, "segment: rule \"track_by_user\""));
  assert_non_null(strstr(r.errs.data, "unknown alias \"AiUGstSDIg\" in lookup \"user_accounts\""));
  assert_non_null(strstr(r.out.data,
                         "{\"event_id\":\"022bb90c-bbac-11e4-8dfc-aa07a5b093db\","
                         "\"account_id\":\"0e8c78ea9d97a7b8185e8632\",\"type\":"
                         "\"account\",\"ts\":\"2015-02-23T22:28:55.111Z\",\"user_id\":"
                         "\"97980cfea0067\",\"vertical\":\"Technology\",\"attributes\":{"
                         "\"name\":\"Initech\",\"industry\":\"Technology\",\"employees\":"
                         "\"329\",\"plan\":\"enterprise\",\"total billed\":\"830\"}}\n"));
  assert_non_null(strstr(r.out.data,
                         "{\"event_id\":\"b2b-04\",\"account_id\":\"acct_123\",\"type\":"
                         "\"login\",\"ts\":\"2018-08-28T04:13:47.000Z\",\"user_id\":"
                         "\"019mr8mf4r\"}\n"));
  assert_non_null(strstr(r.out.data, "\"type\":\"outcome\",\"ts\":\"2018-08-28T04:11:47.000Z\","
                                     "\"user_id\":\"019mr8mf4r\",\"outcome\":\"churned\"}"));
  assert_non_null(strstr(r.out.data, "\"feature\":\"invite_sent\""));
  expect_expected("segment", &r);
  done(&r);
}

/* A user a group call introduced: its track calls without context.groupId
 * find the account. */
static void test_segment_track_by_learned_user(void **state) {
  (void)state;
  hs_alias_store_t s;
  assert_int_equal(hs_alias_mem_new(&s), 0);
  assert_int_equal(
      s.put(s.ctx, "user_accounts", (hs_str_t){"AiUGstSDIg", 10}, (hs_str_t){"acme", 4}), 0);
  run_t r;
  run("segment", &r, &s);
  assert_int_equal(r.rejected, 0);
  assert_non_null(strstr(r.out.data, "{\"event_id\":\"ajs-f8ca1e4de5024d9430b3928bd8ac6b96\","
                                     "\"account_id\":\"acme\",\"type\":\"feature_used\",\"ts\":"
                                     "\"2015-12-12T19:11:01.249Z\",\"count\":1,\"user_id\":"
                                     "\"AiUGstSDIg\",\"feature\":\"Course Clicked\"}\n"));
  /* and the group call of the fixture taught its user */
  char v[64];
  assert_int_equal(s.get(s.ctx, "user_accounts", (hs_str_t){"97980cfea0067", 13}, v, sizeof v), 24);
  assert_memory_equal(v, "0e8c78ea9d97a7b8185e8632", 24);
  done(&r);
  hs_alias_mem_free(&s);
}

static void test_stripe_preset(void **state) {
  (void)state;
  run_t r;
  run("stripe", &r, NULL);
  assert_int_equal(r.events, 8);
  assert_int_equal(r.no_event, 1);  /* customer.created teaches cus_NffrFeUfNV2Hib -> acme */
  assert_int_equal(r.unmatched, 1); /* payment_intent.created */
  assert_int_equal(r.rejected, 0);
  /* 199 cents paid, created 1627506008 */
  assert_non_null(strstr(r.out.data,
                         "{\"event_id\":\"evt_00000000000000\",\"account_id\":\"acme\","
                         "\"type\":\"invoice_paid\",\"ts\":\"2021-07-28T21:00:08.000Z\","
                         "\"amount\":1.99,\"invoice_id\":\"in_00000000000000\"}\n"));
  /* 999 cents remaining, due 1520266563 */
  assert_non_null(strstr(r.out.data,
                         "\"type\":\"invoice_overdue\",\"ts\":\"2018-02-05T16:16:02.000Z"
                         "\",\"amount\":9.99,\"due\":\"2018-03-05T16:16:03.000Z\","));
  assert_non_null(strstr(r.out.data, "\"licenses\":25,"));
  assert_non_null(strstr(r.out.data, "\"stage\":\"canceled\"}"));
  assert_non_null(strstr(r.out.data, "\"feature\":\"stripe_dispute\"}"));
  expect_expected("stripe", &r);
  done(&r);
}

static void test_stripe_unknown_customer_is_a_reject(void **state) {
  (void)state;
  hs_alias_store_t s; /* a store that never learned anything */
  assert_int_equal(hs_alias_mem_new(&s), 0);
  s.put = NULL;
  run_t r;
  run("stripe", &r, &s);
  assert_int_equal(r.events, 0);
  assert_int_equal(r.rejected, 8);
  assert_non_null(strstr(r.errs.data, "stripe: rule \"invoice_paid\" (" HS_SOURCE_DIR
                                      "/examples/mappings/stripe.yaml:38): account_id: path "
                                      "\"data.object.customer\": unknown alias "
                                      "\"cus_NffrFeUfNV2Hib\" in lookup \"customers\""));
  done(&r);
  hs_alias_mem_free(&s);
}

static void test_delighted_preset(void **state) {
  (void)state;
  run_t r;
  run("delighted", &r, NULL);
  assert_int_equal(r.events, 1);
  assert_int_equal(r.unmatched, 2); /* the update and the unsubscribe */
  assert_string_equal(
      r.out.data, "{\"event_id\":\"a0c2a11d1c3b8c2e6e5f0b7d9f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
                  "\",\"account_id\":\"acme\",\"type\":\"nps\",\"ts\":\"2024-11-21T11:00:44.000Z\","
                  "\"score\":9,\"user_id\":\"5975\"}\n");
  expect_expected("delighted", &r);
  done(&r);
}

static void test_debezium_preset(void **state) {
  (void)state;
  run_t r;
  run("debezium", &r, NULL);
  assert_int_equal(r.events, 2);
  assert_int_equal(r.unmatched, 1); /* the delete */
  /* ts_ms 1465491411815; the row's columns as attributes, id as text */
  assert_non_null(strstr(r.out.data,
                         "{\"event_id\":\"mysql-server-1:mysql-bin.000003:154:1004\","
                         "\"account_id\":\"1004\",\"type\":\"account\",\"ts\":"
                         "\"2016-06-09T16:56:51.815Z\",\"attributes\":{\"id\":\"1004\","
                         "\"first_name\":\"Anne\",\"last_name\":\"Kretchmar\",\"email\":"
                         "\"annek@noanswer.org\"}}\n"));
  assert_non_null(strstr(r.out.data, "\"first_name\":\"Anne Marie\""));
  expect_expected("debezium", &r);
  done(&r);
}

static void test_typeform_preset(void **state) {
  (void)state;
  run_t r;
  run("typeform", &r, NULL);
  assert_int_equal(r.events, 1);
  assert_string_equal(
      r.out.data, "{\"event_id\":\"a3a12ec67a1365927098a606107fac15\",\"account_id\":\"acme\","
                  "\"type\":\"nps\",\"ts\":\"2018-01-18T18:17:02.000Z\",\"score\":7,\"user_id\":"
                  "\"abc123456\"}\n");
  expect_expected("typeform", &r);
  done(&r);
}

static void test_cloudevents_preset(void **state) {
  (void)state;
  run_t r;
  run("cloudevents", &r, NULL);
  assert_int_equal(r.events, 2);
  assert_int_equal(r.unmatched, 1); /* the spec's com.example.someevent */
  expect_expected("cloudevents", &r);
  done(&r);
  /* binary mode: the attributes in ce_ headers, the data as the value */
  hs_map_header_t h[] = {{"ce_specversion", "1.0", 3},
                         {"ce_type", "io.healthscore.nps", 18},
                         {"ce_source", "/surveys/q1", 11},
                         {"ce_id", "D234-1234-1234", 14},
                         {"ce_time", "2018-04-05T17:33:00Z", 20},
                         {"ce_subject", "globex", 6},
                         {"content-type", "application/json", 16}};
  run_h("cloudevents", "cloudevents-binary", &r, NULL, h, 7);
  assert_string_equal(r.out.data,
                      "{\"event_id\":\"D234-1234-1234\",\"account_id\":\"globex\","
                      "\"type\":\"nps\",\"ts\":\"2018-04-05T17:33:00.000Z\",\"score\":6}\n");
  done(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_segment_preset),
      cmocka_unit_test(test_segment_track_by_learned_user),
      cmocka_unit_test(test_stripe_preset),
      cmocka_unit_test(test_stripe_unknown_customer_is_a_reject),
      cmocka_unit_test(test_delighted_preset),
      cmocka_unit_test(test_debezium_preset),
      cmocka_unit_test(test_typeform_preset),
      cmocka_unit_test(test_cloudevents_preset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
