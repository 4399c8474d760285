/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event decoding and encoding: the wire contract of docs/events.md, errors
 * that name the field, hostile input, and JSON/msgpack equivalence. */
#include "testutil.h"

#include "healthscore/codec.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static hs_decoder_t *dec;

static int setup(void **state) {
  (void)state;
  return hs_decoder_new(&dec, 0);
}

static int teardown(void **state) {
  (void)state;
  hs_decoder_free(dec);
  return 0;
}

static int decode(const char *json, hs_event_t *ev, hs_err_t *err) {
  return hs_event_decode(dec, json, strlen(json), HS_FMT_AUTO, ev, err);
}

static void expect_error(const char *json, int code, const char *fragment) {
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = decode(json, &ev, &err);
  if (rc != code || !strstr(err.msg, fragment))
    fail_msg("%s\n  got %d \"%s\", want %d containing \"%s\"", json, rc, err.msg, code, fragment);
}

#define ENV "\"event_id\":\"e1\",\"account_id\":\"acme\",\"ts\":\"2026-03-01T10:00:00Z\""

static void test_decodes_each_type(void **state) {
  (void)state;
  hs_event_t ev;
  hs_err_t err = {0};
  assert_int_equal(decode("{" ENV ",\"type\":\"login\",\"user_id\":\"u7\",\"session_seconds\":"
                          "312.5,\"extra\":{\"x\":[1,2,{\"y\":null}]}}",
                          &ev, &err),
                   0);
  assert_int_equal(ev.type, HS_EV_LOGIN);
  assert_true(hs_str_eq(ev.account_id, "acme") && hs_str_eq(ev.user_id, "u7"));
  assert_true(ev.session_seconds == 312.5);
  assert_int_equal(ev.ts_ms, INT64_C(1772359200000));
  assert_int_equal(decode("{" ENV ",\"type\":\"feature_used\",\"feature\":\"reports\"}", &ev, &err),
                   0);
  assert_true(ev.count == 1 && (ev.present & HS_FIELD_BIT(HS_F_COUNT)));
  assert_int_equal(decode("{\"event_id\":\"e\",\"account_id\":\"a\",\"ts\":1772359200000,"
                          "\"type\":\"nps\",\"score\":0}",
                          &ev, &err),
                   0);
  assert_true(ev.score == 0 && ev.ts_ms == INT64_C(1772359200000));
  assert_int_equal(decode("{" ENV ",\"type\":\"account\",\"segment\":\"enterprise\","
                          "\"licenses\":250,\"renewal_date\":\"2027-03-01T00:00:00+01:00\","
                          "\"attributes\":{\"csm\":\"ann\",\"seats\":12,\"beta\":true}}",
                          &ev, &err),
                   0);
  assert_int_equal(ev.n_attrs, 3);
  assert_true(hs_str_eq(ev.attr_val[1], "12") && hs_str_eq(ev.attr_val[2], "true"));
  assert_int_equal(ev.renewal_ms, INT64_C(1803859200000) - 3600000);
  assert_int_equal(decode("{" ENV ",\"type\":\"override\",\"target\":\"score\",\"value\":35,"
                          "\"expires\":\"2026-04-01T00:00:00Z\",\"reason\":\"exec left\","
                          "\"author\":\"jo\"}",
                          &ev, &err),
                   0);
  assert_true(hs_str_eq(ev.reason, "exec left"));
  /* fields of another type are ignored */
  assert_int_equal(decode("{" ENV ",\"type\":\"login\",\"score\":99}", &ev, &err), 0);
  assert_false(ev.present & HS_FIELD_BIT(HS_F_SCORE));
  /* escapes are unescaped */
  assert_int_equal(
      decode("{" ENV ",\"type\":\"note\",\"role\":\"ch\\u00e9f \\\"x\\\"\"}", &ev, &err), 0);
  assert_true(hs_str_eq(ev.role, "ch\xc3\xa9"
                                 "f \"x\""));
}

static void test_errors_name_the_field(void **state) {
  (void)state;
  expect_error("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1}", HS_E_SCHEMA,
               "\"event_id\": missing");
  expect_error("{" ENV "}", HS_E_SCHEMA, "\"type\": missing");
  expect_error("{" ENV ",\"type\":\"nps\",\"score\":11}", HS_E_RANGE, "\"score\"");
  expect_error("{" ENV ",\"type\":\"nps\",\"score\":7.5}", HS_E_RANGE, "\"score\"");
  expect_error("{" ENV ",\"type\":\"nps\",\"score\":\"9\"}", HS_E_SCHEMA,
               "\"score\": expected a number");
  expect_error("{" ENV ",\"type\":\"nps\"}", HS_E_SCHEMA, "\"score\": missing");
  expect_error("{" ENV ",\"type\":\"csat\",\"score\":0}", HS_E_RANGE, "\"score\"");
  expect_error("{" ENV ",\"type\":\"invoice_issued\",\"invoice_id\":\"i\",\"amount\":-3}",
               HS_E_RANGE, "\"amount\"");
  expect_error("{" ENV ",\"type\":\"login\",\"session_seconds\":1e13}", HS_E_RANGE,
               "\"session_seconds\"");
  expect_error("{\"event_id\":\"e\",\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"yesterday\"}",
               HS_E_SCHEMA, "\"ts\": not an RFC 3339");
  expect_error("{\"event_id\":\"e\",\"account_id\":\"a\",\"type\":\"login\",\"ts\":-5}", HS_E_RANGE,
               "\"ts\"");
  expect_error("{" ENV ",\"type\":\"outcome\",\"outcome\":\"maybe\"}", HS_E_RANGE, "\"outcome\"");
  expect_error("{" ENV ",\"type\":\"ticket_opened\",\"ticket_id\":\"t\",\"priority\":\"p9\"}",
               HS_E_RANGE, "\"priority\"");
  expect_error("{" ENV ",\"type\":\"login\",\"account_id\":\"b\"}", HS_E_SCHEMA, "duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"user_id\":[1]}", HS_E_SCHEMA, "\"user_id\"");
  expect_error("{" ENV ",\"type\":\"account\",\"attributes\":{\"a\":{\"b\":1}}}", HS_E_SCHEMA,
               "attributes");
  expect_error("{" ENV ",\"type\":\"teleport\"}", HS_E_UNKNOWN, "teleport");
  expect_error("{" ENV ",\"type\":\"login\"} x", HS_E_PARSE, "malformed JSON");
  expect_error("{" ENV ",\"type\":\"login\",}", HS_E_PARSE, "malformed JSON");
  expect_error("[1,2]", HS_E_PARSE, "");
  expect_error("{" ENV ",\"type\":\"login\",\"session_seconds\":1e999}", HS_E_PARSE, "");
  expect_error("{\"event_id\":\"e\",\"account_id\":\"\xff\",\"type\":\"login\",\"ts\":1}",
               HS_E_PARSE, "");
  char big[300];
  memset(big, 'x', sizeof big);
  char msg[600];
  snprintf(msg, sizeof msg, "{" ENV ",\"type\":\"login\",\"user_id\":\"%.*s\"}", 200, big);
  expect_error(msg, HS_E_RANGE, "\"user_id\": longer than 128");
}

static void test_unknown_type_keeps_the_envelope(void **state) {
  (void)state;
  hs_event_t ev;
  hs_err_t err = {0};
  assert_int_equal(decode("{" ENV ",\"type\":\"webinar_attended\",\"minutes\":40}", &ev, &err),
                   HS_E_UNKNOWN);
  assert_int_equal(ev.type, HS_EV_UNKNOWN);
  assert_true(hs_str_eq(ev.type_name, "webinar_attended") && hs_str_eq(ev.account_id, "acme"));
}

static void test_hostile_input_is_bounded(void **state) {
  (void)state;
  hs_event_t ev;
  hs_err_t err = {0};
  size_t before = hs_alloc_bytes();
  /* 100k-deep nesting */
  size_t n = 200000;
  char *deep = hs_malloc(n + 1);
  for (size_t i = 0; i < n / 2; i++)
    deep[i] = '[';
  for (size_t i = n / 2; i < n; i++)
    deep[i] = ']';
  deep[n] = 0;
  hs_decoder_t *d2;
  assert_int_equal(hs_decoder_new(&d2, n + 10), 0);
  assert_true(hs_event_decode(d2, deep, n, HS_FMT_JSON, &ev, &err) < 0);
  memcpy(deep, "{\"x\":", 5);
  assert_true(hs_event_decode(d2, deep, n, HS_FMT_JSON, &ev, &err) < 0);
  hs_decoder_free(d2);
  hs_free(deep);
  /* msgpack headers announcing billions of entries */
  const unsigned char huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a'};
  assert_int_equal(hs_event_decode(dec, huge_map, sizeof huge_map, HS_FMT_MSGPACK, &ev, &err),
                   HS_E_PARSE);
  const unsigned char crash[] = {0xdf, 0x80, 0x00, 0x00, 0x00};
  assert_int_equal(hs_event_decode(dec, crash, sizeof crash, HS_FMT_MSGPACK, &ev, &err),
                   HS_E_PARSE);
  const unsigned char never[] = {0x81, 0xc1, 0xc1};
  assert_int_equal(hs_event_decode(dec, never, sizeof never, HS_FMT_MSGPACK, &ev, &err),
                   HS_E_PARSE);
  size_t sz;
  assert_int_equal(hs_msgpack_object_size(huge_map, sizeof huge_map, &sz), 1);
  /* over the size limit */
  char *large = hs_malloc(HS_DEFAULT_MAX_MESSAGE + 2);
  memset(large, ' ', HS_DEFAULT_MAX_MESSAGE + 1);
  large[0] = '{';
  assert_int_equal(hs_event_decode(dec, large, HS_DEFAULT_MAX_MESSAGE + 1, HS_FMT_AUTO, &ev, &err),
                   HS_E_TOOBIG);
  hs_free(large);
  assert_int_equal(hs_alloc_bytes(), before);
}

static void fill(hs_event_t *ev) {
  memset(ev, 0, sizeof *ev);
  ev->type = HS_EV_ACCOUNT;
  ev->ts_ms = INT64_C(1772359200123);
  ev->event_id = (hs_str_t){"e-1", 3};
  ev->account_id = (hs_str_t){"acct-1", 6};
  ev->user_id = (hs_str_t){"u\"1", 3};
  ev->segment = (hs_str_t){"smb", 3};
  ev->licenses = 12.5;
  ev->renewal_ms = INT64_C(1803859200000);
  ev->present = HS_FIELD_BIT(HS_F_USER_ID) | HS_FIELD_BIT(HS_F_SEGMENT) |
                HS_FIELD_BIT(HS_F_LICENSES) | HS_FIELD_BIT(HS_F_RENEWAL_DATE);
  ev->n_attrs = 1;
  ev->attr_key[0] = (hs_str_t){"csm", 3};
  ev->attr_val[0] = (hs_str_t){"ann", 3};
}

static void same_event(const hs_event_t *a, const hs_event_t *b) {
  assert_int_equal(a->type, b->type);
  assert_int_equal(a->ts_ms, b->ts_ms);
  assert_int_equal(a->present, b->present);
  assert_true(a->licenses == b->licenses && a->renewal_ms == b->renewal_ms);
  assert_true(a->user_id.len == b->user_id.len &&
              !memcmp(a->user_id.ptr, b->user_id.ptr, a->user_id.len));
  assert_int_equal(a->n_attrs, b->n_attrs);
  assert_true(hs_str_eq(b->attr_val[0], "ann"));
}

static void test_json_and_msgpack_round_trip(void **state) {
  (void)state;
  hs_event_t ev, back;
  hs_err_t err = {0};
  fill(&ev);
  hs_buf_t j, m;
  hs_buf_init(&j);
  hs_buf_init(&m);
  assert_int_equal(hs_event_encode_json(&ev, &j), 0);
  assert_string_equal(j.data, "{\"event_id\":\"e-1\",\"account_id\":\"acct-1\",\"type\":"
                              "\"account\",\"ts\":\"2026-03-01T10:00:00.123Z\",\"licenses\":12.5,"
                              "\"renewal_date\":\"2027-03-01T00:00:00.000Z\",\"user_id\":"
                              "\"u\\\"1\",\"segment\":\"smb\",\"attributes\":{\"csm\":\"ann\"}}");
  assert_int_equal(hs_event_encode_msgpack(&ev, &m), 0);
  assert_int_equal(hs_detect_format(m.data, m.len), HS_FMT_MSGPACK);
  size_t sz;
  assert_int_equal(hs_msgpack_object_size(m.data, m.len, &sz), 0);
  assert_int_equal(sz, m.len);
  assert_int_equal(hs_event_decode(dec, j.data, j.len, HS_FMT_AUTO, &back, &err), 0);
  same_event(&ev, &back);
  assert_int_equal(hs_event_decode(dec, m.data, m.len, HS_FMT_AUTO, &back, &err), 0);
  same_event(&ev, &back);
  /* every truncation fails cleanly, in both formats */
  for (size_t i = 0; i < j.len; i++)
    assert_true(hs_event_decode(dec, j.data, i, HS_FMT_JSON, &back, &err) < 0);
  for (size_t i = 0; i < m.len; i++) {
    assert_true(hs_event_decode(dec, m.data, i, HS_FMT_MSGPACK, &back, &err) < 0);
    assert_int_equal(hs_msgpack_object_size(m.data, i, &sz), 1);
  }
  hs_buf_free(&j);
  hs_buf_free(&m);
}

/* Every example under schemas/examples/events decodes; every file under
 * schemas/examples/bad fails with the code its name starts with. */
static void test_schema_examples(void **state) {
  (void)state;
  const char *dirs[] = {"schemas/examples/events", "schemas/examples/bad"};
  int seen = 0;
  for (int k = 0; k < 2; k++) {
    DIR *dp = opendir(hs_test_path(dirs[k]));
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp))) {
      if (de->d_name[0] == '.')
        continue;
      char rel[512];
      snprintf(rel, sizeof rel, "%s/%s", dirs[k], de->d_name);
      size_t len;
      char *text = hs_test_read_file(rel, &len);
      while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
      hs_event_t ev;
      hs_err_t err = {0};
      int rc = hs_event_decode(dec, text, len, HS_FMT_AUTO, &ev, &err);
      if (k == 0 && rc != 0)
        fail_msg("%s: %s", rel, err.msg);
      if (k == 1) {
        const char *want = strncmp(de->d_name, "schema", 6) == 0  ? "schema"
                           : strncmp(de->d_name, "range", 5) == 0 ? "range"
                                                                  : "parse";
        int code = want[0] == 's' ? HS_E_SCHEMA : want[0] == 'r' ? HS_E_RANGE : HS_E_PARSE;
        if (rc != code)
          fail_msg("%s: got %d (%s), want %s", rel, rc, err.msg, want);
      }
      seen++;
      hs_free(text);
    }
    closedir(dp);
  }
  assert_true(seen >= 20);
}

/* Strings are checked word-wise with a separate tail: a bad byte at any
 * position of any length is found, and good strings are kept whole. */
static void test_string_checks_at_every_length(void **state) {
  (void)state;
  char s[32], json[256];
  for (size_t n = 1; n <= 20; n++) {
    memset(s, 'k', n);
    s[n] = 0;
    snprintf(json, sizeof json, "{" ENV ",\"type\":\"call\",\"role\":\"%s\"}", s);
    hs_event_t ev;
    hs_err_t err = {0};
    assert_int_equal(decode(json, &ev, &err), 0);
    assert_int_equal(ev.role.len, n);
    assert_memory_equal(ev.role.ptr, s, n);
    for (size_t at = 0; at < n; at++) {
      static const char *const bad[] = {"\\u0001", "\\u001f", "\\u007f"};
      for (size_t b = 0; b < 3; b++) {
        snprintf(json, sizeof json, "{" ENV ",\"type\":\"call\",\"role\":\"%.*s%s%s\"}", (int)at, s,
                 bad[b], s + at + 1);
        expect_error(json, HS_E_RANGE, "field \"role\": control characters");
      }
      snprintf(json, sizeof json,
               "{" ENV ",\"type\":\"account\",\"attributes\":{\"k\":\"%.*s\\u0001%s\"}}", (int)at,
               s, s + at + 1);
      expect_error(json, HS_E_RANGE, "field \"attributes.k\": control characters");
      /* UTF-8 is accepted at any position */
      snprintf(json, sizeof json, "{" ENV ",\"type\":\"call\",\"role\":\"%.*s\xc3\xa9%s\"}",
               (int)at, s, s + at + 1);
      assert_int_equal(decode(json, &ev, &err), 0);
      assert_int_equal(ev.role.len, n + 1);
    }
  }
}

/* JSON strings kept in place still count against the size limit, as when
 * they were copied: attribute numbers kept as text can make the kept strings
 * longer than the message. */
static void test_json_size_limit_counts_kept_strings(void **state) {
  (void)state;
  for (int segment_first = 0; segment_first < 2; segment_first++) {
    char json[1024], attrs[512], segment[400];
    int na = snprintf(attrs, sizeof attrs, "\"attributes\":{");
    for (int i = 0; i < 16; i++)
      na += snprintf(attrs + na, sizeof attrs - (size_t)na, "%s\"a%d\":1e300", i ? "," : "", i);
    snprintf(attrs + na, sizeof attrs - (size_t)na, "}");
    snprintf(segment, sizeof segment, "\"segment\":\"%0300d\"", 7);
    int n = snprintf(json, sizeof json, "{" ENV ",\"type\":\"account\",%s,%s}",
                     segment_first ? segment : attrs, segment_first ? attrs : segment);
    hs_decoder_t *small;
    assert_int_equal(hs_decoder_new(&small, (size_t)n), 0);
    hs_event_t ev;
    hs_err_t err = {0};
    assert_int_equal(hs_event_decode(small, json, (size_t)n, HS_FMT_JSON, &ev, &err), HS_E_TOOBIG);
    assert_string_equal(err.msg, "message too large");
    hs_decoder_free(small);
    assert_int_equal(hs_decoder_new(&small, (size_t)n + 300), 0);
    assert_int_equal(hs_event_decode(small, json, (size_t)n, HS_FMT_JSON, &ev, &err), 0);
    assert_int_equal(ev.segment.len, 300);
    assert_int_equal(ev.n_attrs, 16);
    hs_decoder_free(small);
  }
}

/* Decodes msgpack bytes; the error must carry `fragment`. */
static void expect_mp(const unsigned char *b, size_t n, int code, const char *fragment) {
  hs_event_t ev;
  hs_err_t err = {0};
  int rc = hs_event_decode(dec, b, n, HS_FMT_MSGPACK, &ev, &err);
  if (rc != code || !strstr(err.msg, fragment))
    fail_msg("msgpack of %zu bytes: got %d \"%s\", want %d containing \"%s\"", n, rc, err.msg, code,
             fragment);
}

/* A msgpack event map: the envelope, then `extra` (k, v already encoded). */
static size_t mp_event(unsigned char *out, const char *account, size_t account_len,
                       const unsigned char *extra, size_t extra_len, int extra_pairs) {
  size_t n = 0;
  out[n++] = (unsigned char)(0x84 + extra_pairs);
  const char *kv[] = {"event_id", "e1", "type", "login"};
  for (int i = 0; i < 4; i++) {
    size_t l = strlen(kv[i]);
    out[n++] = (unsigned char)(0xa0 | l);
    memcpy(out + n, kv[i], l);
    n += l;
  }
  memcpy(out + n,
         "\xaa"
         "account_id",
         11);
  n += 11;
  out[n++] = (unsigned char)(0xa0 | account_len);
  memcpy(out + n, account, account_len);
  n += account_len;
  memcpy(out + n, "\xa2ts\xcf\x00\x00\x01\x9c\xa9\x35\xb8\x00", 12); /* 1772359200000 */
  n += 12;
  if (extra_len)
    memcpy(out + n, extra, extra_len);
  return n + extra_len;
}

static void test_lone_surrogates_are_rejected(void **state) {
  (void)state;
  /* before: yajl made "\ud800" (and "\ud800\u0041", ...) a "?", so that
     different account ids merged */
  const char *lone[] = {"\\ud800",        "\\udc00",        "a\\ud800",       "\\ud800x",
                        "\\ud800\\u0041", "\\udbff\\ud800", "\\udc00\\ud800", "\\uD800"};
  for (size_t i = 0; i < sizeof lone / sizeof *lone; i++) {
    char msg[300];
    snprintf(msg, sizeof msg,
             "{\"event_id\":\"e\",\"account_id\":\"%s\",\"type\":\"login\",\"ts\":1772359200000}",
             lone[i]);
    expect_error(msg, HS_E_PARSE, "\"account_id\": \\u");
    expect_error(msg, HS_E_PARSE, "unpaired UTF-16 surrogate");
  }
  /* anywhere: a user id, an attribute, a key, an ignored field */
  expect_error("{" ENV ",\"type\":\"login\",\"user_id\":\"\\ud800\"}", HS_E_PARSE,
               "\"user_id\": \\ud800 is an unpaired");
  expect_error("{" ENV ",\"type\":\"account\",\"attributes\":{\"csm\":\"\\udfff\"}}", HS_E_PARSE,
               "unpaired UTF-16 surrogate");
  expect_error("{" ENV ",\"type\":\"account\",\"attributes\":{\"\\ud800\":\"x\"}}", HS_E_PARSE,
               "unpaired UTF-16 surrogate");
  expect_error("{" ENV ",\"type\":\"login\",\"x\\ud800\":1}", HS_E_PARSE, "unpaired");
  expect_error("{" ENV ",\"type\":\"login\",\"extra\":[{\"y\":\"\\ud800\"}]}", HS_E_PARSE,
               "unpaired");
  /* a pair is one character; an escaped backslash is not an escape */
  hs_event_t ev;
  hs_err_t err = {0};
  assert_int_equal(decode("{\"event_id\":\"e\",\"account_id\":\"\\ud83d\\ude00\",\"type\":"
                          "\"login\",\"ts\":1772359200000}",
                          &ev, &err),
                   0);
  assert_true(hs_str_eq(ev.account_id, "\xf0\x9f\x98\x80"));
  assert_int_equal(decode("{\"event_id\":\"e\",\"account_id\":\"a\\\\ud800\\\"\",\"type\":"
                          "\"login\",\"ts\":1772359200000}",
                          &ev, &err),
                   0);
  assert_true(hs_str_eq(ev.account_id, "a\\ud800\""));
  /* msgpack agrees: a surrogate (CESU-8) or any invalid UTF-8 in an id, a
     key or an ignored string is rejected as in JSON */
  unsigned char b[200];
  expect_mp(b, mp_event(b, "\xed\xa0\x80", 3, NULL, 0, 0), HS_E_PARSE,
            "\"account_id\": invalid UTF-8");
  expect_mp(b, mp_event(b, "a\xff", 2, NULL, 0, 0), HS_E_PARSE, "\"account_id\": invalid UTF-8");
  expect_mp(b, mp_event(b, "a", 1, (const unsigned char *)"\xa1x\xa2\xc3\x28", 5, 1), HS_E_PARSE,
            "invalid UTF-8");
  expect_mp(b, mp_event(b, "a", 1, (const unsigned char *)"\xa2\xc3\x28\x01", 4, 1), HS_E_PARSE,
            "a key at byte");
  expect_mp(b, mp_event(b, "a", 1, (const unsigned char *)"\xa1x\x91\xa1\xff", 5, 1), HS_E_PARSE,
            "invalid UTF-8");
  assert_int_equal(
      hs_event_decode(dec, b, mp_event(b, "\xc3\xa9", 2, NULL, 0, 0), HS_FMT_MSGPACK, &ev, &err),
      0);
}

static void test_duplicate_keys_are_rejected_naming_the_key(void **state) {
  (void)state;
  /* before: unknown keys could repeat, known ones could not */
  expect_error("{" ENV ",\"type\":\"login\",\"x\":1,\"x\":2}", HS_E_SCHEMA,
               "field \"x\": duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"x\":{\"a\":1},\"x\":[2]}", HS_E_SCHEMA,
               "field \"x\": duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"\\u0078\":1,\"x\":2}", HS_E_SCHEMA,
               "field \"x\": duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"a\\nb\":1,\"a\\nb\":2}", HS_E_SCHEMA,
               "field \"a\\x0ab\": duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"ts\":1772359200000}", HS_E_SCHEMA,
               "field \"ts\": duplicate");
  expect_error("{" ENV ",\"type\":\"login\",\"currency\":1,\"currency\":1}", HS_E_SCHEMA,
               "field \"currency\": duplicate");
  expect_error("{" ENV ",\"type\":\"account\",\"attributes\":{\"tier\":\"a\",\"tier\":\"b\"}}",
               HS_E_SCHEMA, "duplicate key \"tier\"");
  /* nested ignored objects are not the event's keys */
  hs_event_t ev;
  hs_err_t err = {0};
  assert_int_equal(
      decode("{" ENV ",\"type\":\"login\",\"x\":{\"a\":1},\"y\":{\"a\":1,\"a\":2}}", &ev, &err), 0);
  /* msgpack alike */
  unsigned char b[200];
  expect_mp(b, mp_event(b, "a", 1, (const unsigned char *)"\xa1x\x01\xa1x\x02", 6, 2), HS_E_SCHEMA,
            "field \"x\": duplicate");
  expect_mp(b, mp_event(b, "a", 1, (const unsigned char *)"\xa4type\xa3nps", 9, 1), HS_E_SCHEMA,
            "field \"type\": duplicate");
  /* at most 256 keys: the check stays linear */
  hs_buf_t m;
  hs_buf_init(&m);
  hs_buf_printf(&m, "{" ENV ",\"type\":\"login\"");
  for (int i = 0; i < 300; i++)
    hs_buf_printf(&m, ",\"k%d\":%d", i, i);
  hs_buf_printf(&m, "}");
  expect_error(m.data, HS_E_RANGE, "more than 256 keys");
  hs_buf_free(&m);
}

static void test_errors_say_where_in_the_message(void **state) {
  (void)state;
  /* before: a truncated JSON object was "at byte 1" */
  const char *cut = "{\"event_id\":\"e\",\"account_id\":\"a\",\"type\":\"login\",\"ts\":17";
  char want[64];
  snprintf(want, sizeof want, "malformed JSON at byte %zu: truncated", strlen(cut));
  expect_error(cut, HS_E_PARSE, want);
  expect_error("{\"event_id\":\"e\",x}", HS_E_PARSE, "malformed JSON at byte 16:");
  /* msgpack: where the value in error starts */
  unsigned char b[200];
  size_t n = mp_event(b, "a", 1, (const unsigned char *)"\xa1x\xc1", 3, 1);
  char w2[64];
  snprintf(w2, sizeof w2, "malformed msgpack at byte %zu:", n - 1);
  expect_mp(b, n, HS_E_PARSE, w2);
  n = mp_event(b, "a", 1,
               (const unsigned char *)"\xa1x\xa5"
                                      "ab",
               5, 1);
  snprintf(w2, sizeof w2, "malformed msgpack at byte %zu: truncated", n - 3);
  expect_mp(b, n, HS_E_PARSE, w2);
  n = mp_event(b, "a", 1, (const unsigned char *)"\x01\x02", 2, 1);
  snprintf(w2, sizeof w2, "malformed msgpack at byte %zu: map keys must be strings", n - 2);
  expect_mp(b, n, HS_E_SCHEMA, w2);
}

static void test_record_size_stops_at_a_map_cut_short(void **state) {
  (void)state;
  /* a map that announces 6 entries, has 4, and is followed by a good record:
     hs_msgpack_object_size would take the next record's map as its 5th key */
  unsigned char b[400];
  size_t a = mp_event(b, "a", 1, NULL, 0, 0);
  b[0] = 0x86;
  size_t second = mp_event(b + a, "b", 1, NULL, 0, 0);
  size_t n, sz;
  hs_err_t err = {0};
  assert_int_equal(hs_msgpack_object_size(b, a + second, &sz), 1);
  assert_int_equal(hs_msgpack_record_size(b, a + second, &n, &err), HS_E_PARSE);
  char want[80];
  snprintf(want, sizeof want, "malformed msgpack at byte %zu: a key that is not a string", a);
  assert_non_null(strstr(err.msg, want));
  assert_int_equal(hs_msgpack_record_size(b + a, second, &n, &err), 0);
  assert_int_equal(n, second);
  assert_int_equal(hs_msgpack_record_size(b + a, second - 1, &n, &err), 1);
  assert_non_null(strstr(err.msg, "truncated"));
  assert_int_equal(hs_msgpack_record_size("\x91\x01", 2, &n, &err), HS_E_PARSE);
}

/* One nesting limit whatever the path: an event whose ignored field nests
 * arrays so that L containers hold each other (the event's own object or
 * map the first) is taken by the JSON decoder, the msgpack decoder (a Kafka
 * message) and the record reader (replay, tune) alike up to 32 levels, and
 * refused by all three at 33. */
static void test_one_nesting_limit_in_every_path(void **state) {
  (void)state;
  for (int levels = 30; levels <= 34; levels++) {
    char js[256];
    int n = snprintf(js, sizeof js, "{" ENV ",\"type\":\"login\",\"x\":");
    for (int i = 1; i < levels; i++)
      js[n++] = '[';
    for (int i = 1; i < levels; i++)
      js[n++] = ']';
    js[n++] = '}';
    hs_event_t ev;
    hs_err_t err = {0};
    int want = levels <= 32 ? 0 : HS_E_SCHEMA;
    int rc = hs_event_decode(dec, js, (size_t)n, HS_FMT_JSON, &ev, &err);
    if (rc != want)
      fail_msg("JSON, %d levels: got %d (%s), want %d", levels, rc, err.msg, want);
    hs_buf_t mp = {0};
    ev = (hs_event_t){0};
    assert_int_equal(decode("{" ENV ",\"type\":\"login\"}", &ev, &err), 0);
    assert_int_equal(hs_event_encode_msgpack(&ev, &mp), 0);
    /* the encoded map with one more pair: "x" and the nested arrays */
    unsigned char *b = (unsigned char *)mp.data;
    assert_true(b[0] >= 0x80 && b[0] < 0x8f);
    b[0]++;
    unsigned char tail[64];
    size_t t = 0;
    tail[t++] = 0xa1;
    tail[t++] = 'x';
    for (int i = 1; i < levels; i++)
      tail[t++] = i == levels - 1 ? 0x90 : 0x91;
    assert_int_equal(hs_buf_append(&mp, tail, t), 0);
    b = (unsigned char *)mp.data;
    rc = hs_event_decode(dec, b, mp.len, HS_FMT_MSGPACK, &ev, &err);
    if (rc != want)
      fail_msg("msgpack, %d levels: got %d (%s), want %d", levels, rc, err.msg, want);
    size_t used = 0, sz = 0;
    rc = hs_event_decode_msgpack_record(dec, b, mp.len, &used, &ev, &err);
    if (rc != want || used != (want ? 0 : mp.len))
      fail_msg("msgpack record, %d levels: got %d (%s), used %zu of %zu", levels, rc, err.msg, used,
               mp.len);
    rc = hs_msgpack_record_size(b, mp.len, &sz, &err);
    if (rc != (want ? HS_E_PARSE : 0))
      fail_msg("record size, %d levels: got %d (%s)", levels, rc, err.msg);
    hs_buf_free(&mp);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decodes_each_type),
      cmocka_unit_test(test_errors_name_the_field),
      cmocka_unit_test(test_unknown_type_keeps_the_envelope),
      cmocka_unit_test(test_hostile_input_is_bounded),
      cmocka_unit_test(test_json_and_msgpack_round_trip),
      cmocka_unit_test(test_schema_examples),
      cmocka_unit_test(test_string_checks_at_every_length),
      cmocka_unit_test(test_json_size_limit_counts_kept_strings),
      cmocka_unit_test(test_lone_surrogates_are_rejected),
      cmocka_unit_test(test_duplicate_keys_are_rejected_naming_the_key),
      cmocka_unit_test(test_errors_say_where_in_the_message),
      cmocka_unit_test(test_record_size_stops_at_a_map_cut_short),
      cmocka_unit_test(test_one_nesting_limit_in_every_path),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
