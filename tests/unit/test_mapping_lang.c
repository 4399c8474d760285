/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The mapping language (docs/sources.md): every operation of `when`, `set`,
 * lookups and learned aliases, and every error of a mapping file and of a
 * record a rule cannot map. */
#include "testutil.h"

#include "healthscore/mapping.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static hs_doc_parser_t *parser;

static int setup(void **state) {
  (void)state;
  return hs_doc_parser_new(&parser, 0);
}

static int teardown(void **state) {
  (void)state;
  hs_doc_parser_free(parser);
  return 0;
}

static hs_mapping_t *load(const char *yaml) {
  hs_mapping_t *m = NULL;
  hs_err_t err = {0};
  if (hs_mapping_load(yaml, strlen(yaml), "t.yaml", NULL, &m, &err))
    fail_msg("load: %s", err.msg);
  return m;
}

static void load_fails(const char *yaml, const char *fragment) {
  hs_mapping_t *m = NULL;
  hs_err_t err = {0};
  int rc = hs_mapping_load(yaml, strlen(yaml), "t.yaml", NULL, &m, &err);
  if (rc != HS_E_CONFIG || !strstr(err.msg, fragment))
    fail_msg("%s\n  got %d \"%s\", want \"%s\"", yaml, rc, err.msg, fragment);
  assert_null(m);
}

typedef struct out_s {
  int rc;
  char text[1024];
  hs_err_t why;
} out_t;

/* Maps one JSON record with an optional key and headers. */
static out_t map_full(hs_mapping_t *m, const char *json, const char *key, const hs_map_header_t *h,
                      size_t nh) {
  out_t o = {0};
  msgpack_object doc;
  hs_err_t err = {0};
  if (hs_doc_parse_json(parser, json, strlen(json), &doc, &err))
    fail_msg("parse %s: %s", json, err.msg);
  hs_map_input_t in = {key, key ? strlen(key) : 0, h, nh, &doc};
  hs_buf_t b;
  hs_buf_init(&b);
  o.rc = hs_mapping_apply(m, &in, HS_FMT_JSON, &b, NULL, &o.why);
  snprintf(o.text, sizeof o.text, "%.*s", (int)b.len, b.data ? b.data : "");
  hs_buf_free(&b);
  return o;
}

static out_t map(hs_mapping_t *m, const char *json) {
  return map_full(m, json, NULL, NULL, 0);
}

static void expect_event(hs_mapping_t *m, const char *json, const char *want) {
  out_t o = map(m, json);
  if (o.rc != HS_MAP_EVENT || strcmp(o.text, want))
    fail_msg("%s\n  got %d %s (%s)\n  want %s", json, o.rc, o.text, o.why.msg, want);
}

static void expect_reject(hs_mapping_t *m, const char *json, const char *fragment) {
  out_t o = map(m, json);
  if (o.rc != HS_MAP_REJECT || !strstr(o.why.msg, fragment))
    fail_msg("%s\n  got %d \"%s\" %s, want a reject with \"%s\"", json, o.rc, o.why.msg, o.text,
             fragment);
}

#define ENV "event_id: id\n      account_id: acc\n      ts: t\n"
#define LOGIN_RULE(when)                                                                           \
  "rules:\n  - name: r\n    when:\n" when "    emit: login\n    set:\n      " ENV

/* ---- when ---------------------------------------------------------------------- */

static void test_when_equals_one_of_exists_prefix(void **state) {
  (void)state;
  hs_mapping_t *m =
      load("rules:\n"
           "  - name: eq\n    when: {kind: a}\n    emit: login\n    set: {"
           "event_id: id, account_id: acc, ts: t}\n"
           "  - name: one\n    when: {kind: {one_of: [b, c]}}\n    emit: login\n"
           "    set: {event_id: id, account_id: acc, ts: t, session_seconds: {const: 1}}\n"
           "  - name: ex\n    when: {flag: {exists: true}, kind: {exists: false}}\n"
           "    emit: login\n    set: {event_id: id, account_id: acc, ts: t, "
           "session_seconds: {const: 2}}\n"
           "  - name: pre\n    when: {kind: {prefix: \"inv.\"}, n: {equals: 5}}\n"
           "    emit: login\n    set: {event_id: id, account_id: acc, ts: t, "
           "session_seconds: {const: 3}}\n");
  const char *env = "\"id\":\"e\",\"acc\":\"x\",\"t\":\"2026-01-01T00:00:00Z\"";
  char j[256];
  int rule;
  snprintf(j, sizeof j, "{%s,\"kind\":\"a\"}", env);
  expect_event(m, j,
               "{\"event_id\":\"e\",\"account_id\":\"x\",\"type\":\"login\",\"ts\":"
               "\"2026-01-01T00:00:00.000Z\"}");
  snprintf(j, sizeof j, "{%s,\"kind\":\"c\"}", env);
  assert_non_null(strstr(map(m, j).text, "\"session_seconds\":1"));
  snprintf(j, sizeof j, "{%s,\"flag\":false}", env);
  assert_non_null(strstr(map(m, j).text, "\"session_seconds\":2"));
  snprintf(j, sizeof j, "{%s,\"flag\":1,\"kind\":null}", env); /* null is absent */
  assert_non_null(strstr(map(m, j).text, "\"session_seconds\":2"));
  snprintf(j, sizeof j, "{%s,\"kind\":\"inv.paid\",\"n\":5}", env);
  assert_non_null(strstr(map(m, j).text, "\"session_seconds\":3"));
  snprintf(j, sizeof j, "{%s,\"kind\":\"inv.paid\",\"n\":6}", env); /* equals holds on numbers */
  out_t o = map(m, j);
  assert_int_equal(o.rc, HS_MAP_UNMATCHED);
  snprintf(j, sizeof j, "{%s,\"kind\":\"A\"}", env); /* case matters */
  assert_int_equal(map(m, j).rc, HS_MAP_UNMATCHED);
  assert_int_equal(hs_mapping_unmatched(m), 2);
  /* the first rule that holds applies */
  msgpack_object doc;
  hs_err_t err = {0};
  snprintf(j, sizeof j, "{%s,\"kind\":\"b\",\"flag\":1}", env);
  assert_int_equal(hs_doc_parse_json(parser, j, strlen(j), &doc, &err), 0);
  hs_map_input_t in = {.doc = &doc};
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_mapping_apply(m, &in, HS_FMT_JSON, &b, &rule, &err), HS_MAP_EVENT);
  assert_int_equal(rule, 1);
  assert_int_equal(hs_mapping_rule_stats(m, 1)->matched, 2);
  hs_buf_free(&b);
  hs_mapping_free(m);
}

static void test_when_key_and_headers(void **state) {
  (void)state;
  hs_mapping_t *m = load("rules:\n  - when: {$key: {prefix: \"acct-\"}, $headers.ce_type: "
                         "com.example.login}\n    emit: login\n    set:\n      event_id: "
                         "$headers.ce_id\n      account_id: $key\n      ts: $headers.ce_time\n");
  hs_map_header_t h[] = {{"ce_type", "com.example.login", 17},
                         {"ce_id", "A-1", 3},
                         {"ce_time", "2026-02-01T10:00:00Z", 20}};
  out_t o = map_full(m, "{}", "acct-9", h, 3);
  assert_int_equal(o.rc, HS_MAP_EVENT);
  assert_string_equal(o.text, "{\"event_id\":\"A-1\",\"account_id\":\"acct-9\",\"type\":\"login\","
                              "\"ts\":\"2026-02-01T10:00:00.000Z\"}");
  assert_int_equal(map_full(m, "{}", NULL, h, 3).rc, HS_MAP_UNMATCHED);  /* no key */
  assert_int_equal(map_full(m, "{}", "acct-9", h, 1).rc, HS_MAP_REJECT); /* no ce_id */
  /* an unnamed rule is named by its index and line */
  assert_string_equal(hs_mapping_rule_name(m, 0), "#1");
  assert_string_equal(hs_mapping_rule_where(m, 0), "t.yaml:2");
  out_t r = map_full(m, "{}", "acct-9", h, 1);
  assert_non_null(strstr(r.why.msg, "t: rule #1 (t.yaml:2): event_id: path \"$headers.ce_id\" is "
                                    "missing (required)"));
  hs_mapping_free(m);
}

/* ---- paths ---------------------------------------------------------------------- */

static void test_paths_index_and_find(void **state) {
  (void)state;
  hs_mapping_t *m = load("rules:\n  - emit: nps\n    set:\n      event_id: r.token\n"
                         "      account_id: \"r.hidden[1].v\"\n      ts: r.at\n"
                         "      score: \"r.answers[field.ref=nps].number\"\n");
  expect_event(
      m,
      "{\"r\":{\"token\":\"tk\",\"at\":\"2026-01-01T00:00:00Z\",\"hidden\":[{\"v\":\"no\"},"
      "{\"v\":\"acme\"}],\"answers\":[{\"field\":{\"ref\":\"x\"},\"number\":1},{\"field\":{"
      "\"ref\":\"nps\"},\"number\":8}]}}",
      "{\"event_id\":\"tk\",\"account_id\":\"acme\",\"type\":\"nps\",\"ts\":\"2026-01-01T00:"
      "00:00.000Z\",\"score\":8}");
  expect_reject(
      m,
      "{\"r\":{\"token\":\"tk\",\"at\":\"2026-01-01T00:00:00Z\",\"hidden\":[{\"v\":\"no\"}],"
      "\"answers\":[]}}",
      "account_id: path \"r.hidden[1].v\" is missing");
  expect_reject(
      m,
      "{\"r\":{\"token\":\"tk\",\"at\":\"2026-01-01T00:00:00Z\",\"hidden\":[1,{\"v\":\"a\"}],"
      "\"answers\":[{\"field\":{\"ref\":\"other\"},\"number\":8}]}}",
      "score: path \"r.answers[field.ref=nps].number\" is missing");
  hs_mapping_free(m);
}

static void test_path_syntax_errors(void **state) {
  (void)state;
  const char *bad[][2] = {
      {"a..b", "an empty name"},
      {"a.", "ends with ."},
      {"a[", "[ without ]"},
      {"a[x]", "an index 0..1000000 or path=value"},
      {"a[-1]", "an index"},
      {"a[=v]", "needs a path before ="},
      {"a[x[=v]", "holds no [ ] or ="},
      {"a[b[0]=v]", "[ ] holds an index"},
      {"a[0]b", "expected . or [ after ]"},
      {"$foo", "$ starts only $key or $headers.NAME"},
      {"a]", "unexpected ] or ="},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char y[256];
    snprintf(y, sizeof y,
             "rules:\n  - emit: login\n    set: {event_id: \"%s\", account_id: a, "
             "ts: t}\n",
             bad[i][0]);
    load_fails(y, bad[i][1]);
  }
}

/* ---- set ------------------------------------------------------------------------ */

static void test_set_coalesce_join_const_scale_case(void **state) {
  (void)state;
  hs_mapping_t *m = load("rules:\n  - emit: invoice_paid\n    set:\n"
                         "      event_id: {join: [src, n]}\n"
                         "      account_id: {coalesce: [a.first, a.second], case: lower}\n"
                         "      ts: {const: 1767225600000}\n"
                         "      invoice_id: {path: inv, case: upper}\n"
                         "      amount: {path: cents, scale: 0.01}\n");
  expect_event(
      m,
      "{\"src\":\"stripe\",\"n\":42,\"a\":{\"second\":\"AcMe\"},\"inv\":\"in_1x\","
      "\"cents\":1999}",
      "{\"event_id\":\"stripe:42\",\"account_id\":\"acme\",\"type\":\"invoice_paid\",\"ts\":"
      "\"2026-01-01T00:00:00.000Z\",\"amount\":19.99,\"invoice_id\":\"IN_1X\"}");
  expect_reject(m, "{\"src\":\"s\",\"a\":{\"first\":\"x\"},\"inv\":\"i\",\"cents\":1}",
                "event_id: path \"n\" is missing");
  expect_reject(m, "{\"src\":\"s\",\"n\":1,\"inv\":\"i\",\"cents\":1}",
                "account_id: path \"a.first\" is missing");
  expect_reject(m, "{\"src\":\"s\",\"n\":1,\"a\":{\"first\":\"x\"},\"inv\":\"i\",\"cents\":\"1\"}",
                "amount: path \"cents\" is text, not a number");
  expect_reject(m, "{\"src\":\"s\",\"n\":1,\"a\":{\"first\":true},\"inv\":\"i\",\"cents\":1}",
                "account_id: path \"a.first\" is a boolean, not text");
  expect_reject(m, "{\"src\":[1],\"n\":1,\"a\":{\"first\":\"x\"},\"inv\":\"i\",\"cents\":1}",
                "event_id: path \"src\" is a list, not text");
  hs_mapping_free(m);
}

static void test_set_times(void **state) {
  (void)state;
  hs_mapping_t *m =
      load("rules:\n"
           "  - when: {u: s}\n    emit: login\n    set: {event_id: i, account_id: a, "
           "ts: {path: t, time: s}}\n"
           "  - when: {u: ms}\n    emit: login\n    set: {event_id: i, account_id: a, "
           "ts: {path: t, time: ms}}\n"
           "  - when: {u: us}\n    emit: login\n    set: {event_id: i, account_id: a, "
           "ts: {path: t, time: us}}\n"
           "  - when: {u: r}\n    emit: login\n    set: {event_id: i, account_id: a, "
           "ts: {path: t, time: rfc3339}}\n"
           "  - when: {u: auto}\n    emit: login\n    set: {event_id: i, account_id: a, "
           "ts: t}\n");
  const char *want = "{\"event_id\":\"e\",\"account_id\":\"x\",\"type\":\"login\",\"ts\":\"2023-04-"
                     "07T18:59:53.000Z\"}";
  expect_event(m, "{\"u\":\"s\",\"i\":\"e\",\"a\":\"x\",\"t\":1680893993}", want);
  expect_event(m, "{\"u\":\"ms\",\"i\":\"e\",\"a\":\"x\",\"t\":1680893993000}", want);
  expect_event(m, "{\"u\":\"us\",\"i\":\"e\",\"a\":\"x\",\"t\":1680893993000999}", want);
  expect_event(m, "{\"u\":\"r\",\"i\":\"e\",\"a\":\"x\",\"t\":\"2023-04-07T20:59:53+02:00\"}",
               want);
  expect_event(m, "{\"u\":\"auto\",\"i\":\"e\",\"a\":\"x\",\"t\":1680893993000}", want);
  expect_event(m, "{\"u\":\"auto\",\"i\":\"e\",\"a\":\"x\",\"t\":\"2023-04-07T18:59:53Z\"}", want);
  expect_reject(m, "{\"u\":\"s\",\"i\":\"e\",\"a\":\"x\",\"t\":\"1680893993\"}",
                "ts: path \"t\" is text, not epoch s");
  expect_reject(m, "{\"u\":\"r\",\"i\":\"e\",\"a\":\"x\",\"t\":1680893993}",
                "ts: path \"t\" is a number, not RFC 3339");
  expect_reject(m, "{\"u\":\"r\",\"i\":\"e\",\"a\":\"x\",\"t\":\"yesterday\"}",
                "\"yesterday\" is not an RFC 3339 time");
  expect_reject(m, "{\"u\":\"s\",\"i\":\"e\",\"a\":\"x\",\"t\":-5}",
                "outside the years 1970..9999");
  expect_reject(m, "{\"u\":\"s\",\"i\":\"e\",\"a\":\"x\",\"t\":1e300}", "outside the years");
  hs_mapping_free(m);
}

static void test_set_attributes_and_optional(void **state) {
  (void)state;
  hs_mapping_t *m = load("rules:\n  - emit: account\n    set:\n      event_id: i\n"
                         "      account_id: a\n      ts: t\n"
                         "      attributes: {path: traits, optional: true}\n"
                         "      attributes.region: {path: geo.region, optional: true}\n"
                         "      licenses: {path: seats, optional: true}\n");
  expect_event(
      m,
      "{\"i\":\"e\",\"a\":\"x\",\"t\":0.5e12,\"traits\":{\"plan\":\"pro\",\"n\":3,\"ok\":true,"
      "\"f\":2.5,\"skip\":[1],\"nil\":null},\"geo\":{\"region\":\"eu\"},\"seats\":12}",
      "{\"event_id\":\"e\",\"account_id\":\"x\",\"type\":\"account\",\"ts\":\"1985-11-05T00:"
      "53:20.000Z\",\"licenses\":12,\"attributes\":{\"plan\":\"pro\",\"n\":\"3\",\"ok\":"
      "\"true\",\"f\":\"2.5\",\"region\":\"eu\"}}");
  expect_event(
      m, "{\"i\":\"e\",\"a\":\"x\",\"t\":1000}",
      "{\"event_id\":\"e\",\"account_id\":\"x\",\"type\":\"account\",\"ts\":\"1970-01-01T00:"
      "00:01.000Z\"}");
  expect_reject(m, "{\"i\":\"e\",\"a\":\"x\",\"t\":1000,\"traits\":\"pro\"}",
                "attributes: path \"traits\" is text, not an object");
  char big[1024] = "{\"i\":\"e\",\"a\":\"x\",\"t\":1000,\"traits\":{";
  for (int k = 0; k < 17; k++)
    snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"k%d\":1", k ? "," : "", k);
  strcat(big, "}}");
  expect_reject(m, big, "attributes: more than 16 attributes");
  hs_mapping_free(m);
}

/* What the engine's decoder refuses is a reject with its reason. */
static void test_engine_rules_apply(void **state) {
  (void)state;
  hs_mapping_t *m = load("source: surveys\nrules:\n  - name: nps\n    emit: nps\n    set:\n"
                         "      event_id: i\n      account_id: a\n      ts: t\n      score: s\n");
  expect_reject(m, "{\"i\":\"e\",\"a\":\"x\",\"t\":1000,\"s\":11}",
                "surveys: rule \"nps\" (t.yaml:3): the engine would refuse the event: field "
                "\"score\": must be an integer 0..10 for nps");
  expect_reject(m, "{\"i\":\"\",\"a\":\"x\",\"t\":1000,\"s\":1}", "field \"event_id\"");
  assert_int_equal(hs_mapping_rule_stats(m, 0)->rejected, 2);
  hs_mapping_free(m);
}

static void test_unmatched_deadletter(void **state) {
  (void)state;
  hs_mapping_t *m = load("on_unmatched: deadletter\n" LOGIN_RULE("      k: 1\n"));
  out_t o = map(m, "{\"k\":2}");
  assert_int_equal(o.rc, HS_MAP_REJECT);
  assert_string_equal(o.why.msg, "t: no rule matches (on_unmatched: deadletter)");
  assert_int_equal(hs_mapping_unmatched(m), 1);
  hs_mapping_free(m);
}

static void test_msgpack_output_decodes_as_json_does(void **state) {
  (void)state;
  hs_mapping_t *m = load(LOGIN_RULE("      k: 1\n"));
  msgpack_object doc;
  hs_err_t err = {0};
  const char *j = "{\"k\":1,\"id\":\"e\",\"acc\":\"x\",\"t\":1000}";
  assert_int_equal(hs_doc_parse_json(parser, j, strlen(j), &doc, &err), 0);
  hs_map_input_t in = {.doc = &doc};
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_mapping_apply(m, &in, HS_FMT_MSGPACK, &b, NULL, &err), HS_MAP_EVENT);
  hs_decoder_t *d;
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  hs_event_t ev;
  assert_int_equal(hs_event_decode(d, b.data, b.len, HS_FMT_MSGPACK, &ev, &err), 0);
  assert_int_equal(ev.type, HS_EV_LOGIN);
  assert_int_equal(ev.ts_ms, 1000);
  assert_true(hs_str_eq(ev.account_id, "x"));
  hs_decoder_free(d);
  hs_buf_free(&b);
  hs_mapping_free(m);
}

/* ---- lookups and aliases ------------------------------------------------------------ */

static void test_lookup_file_csv_yaml_and_reload(void **state) {
  (void)state;
  char dir[] = "/tmp/hs_map_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char csv[256], yml[256], map_path[256];
  snprintf(csv, sizeof csv, "%s/t.csv", dir);
  snprintf(yml, sizeof yml, "%s/t.yaml", dir);
  snprintf(map_path, sizeof map_path, "%s/m.yaml", dir);
  FILE *f = fopen(csv, "w");
  fputs("key,value\ncus_1, acme\n# comment\n\ncus_2,globex,inc\n", f);
  fclose(f);
  f = fopen(yml, "w");
  fputs("u1: initech\n", f);
  fclose(f);
  f = fopen(map_path, "w");
  fputs("lookups:\n  c: {file: t.csv}\n  u: {file: t.yaml}\nrules:\n  - emit: login\n    set:\n"
        "      event_id: i\n      account_id: {coalesce: [c], lookup: c}\n      ts: t\n"
        "      user_id: {path: u, lookup: u, optional: true}\n",
        f);
  fclose(f);
  hs_mapping_t *m = NULL;
  hs_err_t err = {0};
  assert_int_equal(hs_mapping_load_file(map_path, &m, &err), 0);
  expect_event(
      m, "{\"i\":\"e\",\"c\":\"cus_1\",\"t\":1000,\"u\":\"u1\"}",
      "{\"event_id\":\"e\",\"account_id\":\"acme\",\"type\":\"login\",\"ts\":\"1970-01-01T00:"
      "00:01.000Z\",\"user_id\":\"initech\"}");
  assert_non_null(strstr(map(m, "{\"i\":\"e\",\"c\":\"cus_2\",\"t\":1000}").text, "globex,inc"));
  expect_reject(m, "{\"i\":\"e\",\"c\":\"cus_3\",\"t\":1000}",
                "account_id: path \"c\": unknown alias \"cus_3\" in lookup \"c\"");
  /* reload: the new table replaces the old one */
  f = fopen(csv, "w");
  fputs("cus_3,hooli\n", f);
  fclose(f);
  assert_int_equal(hs_mapping_reload_lookups(m, &err), 0);
  assert_non_null(strstr(map(m, "{\"i\":\"e\",\"c\":\"cus_3\",\"t\":1000}").text, "hooli"));
  assert_int_equal(map(m, "{\"i\":\"e\",\"c\":\"cus_1\",\"t\":1000}").rc, HS_MAP_REJECT);
  /* a failed reload keeps the tables in use */
  f = fopen(csv, "w");
  fputs("no comma here\n", f);
  fclose(f);
  assert_int_equal(hs_mapping_reload_lookups(m, &err), HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "t.csv:1:1: expected key,value"));
  assert_non_null(strstr(map(m, "{\"i\":\"e\",\"c\":\"cus_3\",\"t\":1000}").text, "hooli"));
  remove(csv);
  assert_int_equal(hs_mapping_reload_lookups(m, &err), HS_E_IO);
  hs_mapping_free(m);
  /* a missing table file is a load error at the line that names it */
  f = fopen(map_path, "w");
  fputs("lookups:\n  c:\n    file: t.csv\nrules:\n  - learn: {lookup: c, key: a, value: b}\n", f);
  fclose(f);
  assert_int_equal(hs_mapping_load_file(map_path, &m, &err), HS_E_CONFIG);
  assert_non_null(strstr(err.msg, "m.yaml:3:11: lookup file:"));
  remove(yml);
  remove(map_path);
  rmdir(dir);
}

static void test_learned_aliases(void **state) {
  (void)state;
  hs_mapping_t *m =
      load("lookups:\n  cust: {learned: true}\n  ch: {learned: true}\nrules:\n"
           "  - name: teach\n    when: {type: customer}\n"
           "    learn: {lookup: cust, key: id, value: meta.account}\n"
           "  - name: charge\n    when: {type: charge}\n"
           "    learn: [{lookup: ch, key: id, value: customer, through: cust}]\n"
           "  - name: use\n    when: {type: use}\n    emit: login\n    set:\n"
           "      event_id: id\n      account_id: {path: c, lookup: ch}\n      ts: t\n");
  assert_int_equal(map(m, "{\"type\":\"charge\",\"id\":\"ch_1\",\"customer\":\"cus_1\"}").rc,
                   HS_MAP_NO_EVENT); /* cus_1 not known yet: nothing learned */
  expect_reject(
      m, "{\"type\":\"use\",\"id\":\"e\",\"c\":\"ch_1\",\"t\":1000}",
      "rule \"use\" (t.yaml:11): account_id: path \"c\": unknown alias \"ch_1\" in lookup "
      "\"ch\"");
  assert_int_equal(
      map(m, "{\"type\":\"customer\",\"id\":\"cus_1\",\"meta\":{\"account\":\"acme\"}}").rc,
      HS_MAP_NO_EVENT);
  assert_int_equal(map(m, "{\"type\":\"customer\",\"id\":\"cus_2\"}").rc, HS_MAP_NO_EVENT);
  assert_int_equal(map(m, "{\"type\":\"charge\",\"id\":\"ch_1\",\"customer\":\"cus_1\"}").rc,
                   HS_MAP_NO_EVENT);
  assert_non_null(strstr(map(m, "{\"type\":\"use\",\"id\":\"e\",\"c\":\"ch_1\",\"t\":1000}").text,
                         "\"account_id\":\"acme\""));
  hs_mapping_free(m);
}

/* The store is the caller's: a failing one is an error to retry, not a reject. */
static int bad_get(void *ctx, const char *table, hs_str_t key, char *out, size_t cap) {
  (void)ctx, (void)table, (void)key, (void)out, (void)cap;
  return -5;
}
static int bad_put(void *ctx, const char *table, hs_str_t key, hs_str_t value) {
  (void)table, (void)key, (void)value;
  ++*(int *)ctx;
  return -1;
}

static void test_alias_store_failure_is_not_a_reject(void **state) {
  (void)state;
  hs_mapping_t *m =
      load("lookups:\n  u: {learned: true}\nrules:\n"
           "  - when: {type: g}\n    learn: {lookup: u, key: k, value: v}\n"
           "  - emit: login\n    set: {event_id: i, account_id: {path: a, lookup: u}, "
           "ts: t}\n");
  int puts = 0;
  hs_alias_store_t s = {&puts, bad_get, bad_put};
  hs_mapping_set_alias_store(m, &s);
  out_t o = map(m, "{\"type\":\"g\",\"k\":\"a\",\"v\":\"b\"}");
  assert_int_equal(o.rc, HS_E_IO);
  assert_int_equal(puts, 1);
  assert_non_null(strstr(o.why.msg, "the alias store failed"));
  o = map(m, "{\"i\":\"e\",\"a\":\"x\",\"t\":1}");
  assert_int_equal(o.rc, HS_E_IO);
  hs_mapping_free(m);
}

/* ---- file errors --------------------------------------------------------------------- */

static void test_load_errors_name_file_line_column(void **state) {
  (void)state;
  load_fails("", "t.yaml:1:1: empty mapping");
  load_fails("rules: []\n", "t.yaml:1:8: rules must be a non-empty list");
  load_fails("source: x\n", "the mapping has no rules");
  load_fails("rulez: []\n", "t.yaml:1:1: the mapping: unknown key \"rulez\"");
  load_fails("on_unmatched: drop\nrules: [{learn: {lookup: a, key: b, value: c}}]\n",
             "t.yaml:1:15: on_unmatched must be skip or deadletter");
  load_fails("rules:\n  - emit: signup\n", "t.yaml:2:11: emit: \"signup\" is not an engine event "
                                           "type");
  load_fails("rules:\n  - name: x\n", "t.yaml:2:5: rule x: give emit:");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, ts: b}\n",
             "rule #1: emit login needs set: account_id");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: {path: b, optional: "
             "true}, ts: c}\n",
             "emit login needs set: account_id (not optional)");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: b, ts: c, mood: d}\n",
             "t.yaml:3:46: set: \"mood\" is not an engine event field");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: b, ts: {path: c, time: "
             "days}}\n",
             "time must be auto, s, ms, us or rfc3339");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: {path: b, case: title}, "
             "ts: c}\n",
             "case must be lower or upper");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: b, ts: c, "
             "session_seconds: {path: d, scale: x}}\n",
             "scale must be a non-zero number");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: {path: b, const: c}, ts: "
             "d}\n",
             "give one of path, coalesce, join or const");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: {path: b, lookup: nope}, "
             "ts: d}\n",
             "lookup: no lookup \"nope\" under lookups:");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: {coalesce: []}, ts: d}\n",
             "coalesce must be a non-empty list of paths");
  load_fails(
      "rules:\n  - emit: login\n    set: {event_id: a, account_id: {path: b, optional: yes}, "
      "ts: d}\n",
      "optional must be true or false");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: b, ts: c, attributes: "
             "{join: [a, b]}}\n",
             "set \"attributes\": give the path of an object");
  load_fails("rules:\n  - when: {a: {equals: 1, prefix: b}}\n    emit: login\n",
             "one test per path");
  load_fails("rules:\n  - when: {a: {one_of: x}}\n    emit: login\n", "one_of must be a non-empty");
  load_fails("rules:\n  - when: {a: {exists: maybe}}\n    emit: login\n",
             "exists must be true or false");
  load_fails("rules:\n  - when: {a: {like: b}}\n    emit: login\n", "a test: unknown key \"like\"");
  load_fails("rules:\n  - when: {a: {}}\n    emit: login\n",
             "give equals, one_of, exists or prefix");
  load_fails("rules:\n  - when: {a: [1]}\n    emit: login\n", "a test must be a mapping");
  load_fails("rules:\n  - when: {a: {equals: [1]}}\n    emit: login\n",
             "a value to compare must be a scalar");
  load_fails("lookups:\n  u: {}\nrules:\n  - emit: login\n", "give file: or learned: true");
  load_fails("lookups:\n  u: {learned: true}\nrules:\n  - learn: {lookup: u, key: a}\n",
             "learn needs lookup, key and value");
  load_fails("lookups:\n  u: {file: /nonexistent/x.csv}\nrules:\n  - emit: login\n",
             "lookup file: /nonexistent/x.csv");
  load_fails("rules:\n  - learn: {lookup: u, key: a, value: b}\n", "no lookup \"u\"");
  load_fails("rules:\n  - emit: login\n    set: {event_id: a, account_id: b, ts: c}\n"
             "    set: {event_id: a}\n",
             "a rule: duplicate key \"set\"");
  load_fails("rules:\n  - emit: !!str login\n", "tags are not supported");
  load_fails("rules:\n  - emit: login\n    emit2: x\n", "a rule: unknown key \"emit2\"");
  /* a field the engine would drop for the emitted type */
  load_fails("rules:\n  - name: l\n    emit: login\n    set: {event_id: a, account_id: b, ts: c, "
             "score: d}\n",
             "t.yaml:2:5: rule l: score is not a field of login events");
  load_fails("rules:\n  - emit: nps\n    set: {event_id: a, account_id: b, ts: c, score: d, "
             "attributes.x: e}\n",
             "rule #1: attributes.x is not a field of nps events");
  load_fails("rules:\n  - emit: override\n    set: {event_id: a, account_id: b, ts: c, "
             "licenses: d}\n",
             "licenses is not a field of override events");
  load_fails("rules:\n  - learn: {lookup: u, key: a, value: b}\n    set: {a: b}\n",
             "no lookup \"u\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_when_equals_one_of_exists_prefix),
      cmocka_unit_test(test_when_key_and_headers),
      cmocka_unit_test(test_paths_index_and_find),
      cmocka_unit_test(test_path_syntax_errors),
      cmocka_unit_test(test_set_coalesce_join_const_scale_case),
      cmocka_unit_test(test_set_times),
      cmocka_unit_test(test_set_attributes_and_optional),
      cmocka_unit_test(test_engine_rules_apply),
      cmocka_unit_test(test_unmatched_deadletter),
      cmocka_unit_test(test_msgpack_output_decodes_as_json_does),
      cmocka_unit_test(test_lookup_file_csv_yaml_and_reload),
      cmocka_unit_test(test_learned_aliases),
      cmocka_unit_test(test_alias_store_failure_is_not_a_reject),
      cmocka_unit_test(test_load_errors_name_file_line_column),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
