/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The JSON scanner (src/codec/json_scan.c) is exactly as strict as yajl:
 * every message below, well-formed or not, decodes to the same event or
 * the same rejection with the scanner as with yajl alone; so do the fuzz
 * corpus and a generated stream. */
#include "testutil.h"

#include "healthscore/codec.h"
#include "json_scan.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV "\"event_id\":\"e1\",\"account_id\":\"acct-1\",\"ts\":1767225600000"

typedef struct msg_s {
  const char *text;
  size_t len;
} msg_t;
#define M(s)                                                                                       \
  { s, sizeof(s) - 1 }

static const msg_t messages[] = {
    /* well-formed: the scanner's own */
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"u1\",\"session_seconds\":807}"),
    M(" \t\r\n{ " ENV " , \"type\" : \"login\" }\r\n\t "),
    M("{" ENV ",\"type\":\"feature_used\",\"feature\":\"reports\",\"count\":2.5}"),
    M("{" ENV ",\"type\":\"account\",\"segment\":\"smb\",\"licenses\":12,"
      "\"attributes\":{\"csm\":\"x\",\"tier\":2,\"beta\":true,\"gone\":null,\"f\":-1.5e-3}}"),
    M("{" ENV ",\"type\":\"login\",\"extra\":{\"a\":[1,[2,{\"b\":null}],{}],\"c\":[]},\"x\":[]}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":10,\"unknown\":\"v\",\"unknown2\":false}"),
    M("{" ENV ",\"type\":\"invoice_issued\",\"invoice_id\":\"i1\",\"amount\":1E+3,"
      "\"due\":\"2026-01-09T00:00:00Z\"}"),
    M("{\"ts\":\"2026-01-01T10:00:00.123+02:00\",\"event_id\":\"a-very-long-id-of-many-bytes-1\","
      "\"account_id\":\"acct-with-a-long-id-00000001\",\"type\":\"call\",\"role\":\"executive\"}"),
    /* numbers at and past the edges */
    M("{" ENV ",\"type\":\"nps\",\"score\":-0}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":0.0}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":01}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":123456789012345678}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1234567890123456789}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":99999999999999999999}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":-9223372036854775808}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1e400}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":-1e400}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1e-400}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1.}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":.5}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":-}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":+1}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1.5x}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":0x10}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1e}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":1e+}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":NaN}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":Infinity}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":"
      "1.00000000000000000000000000000000000000000000000000000000000000000001}"),
    M("{" ENV ",\"type\":\"nps\",\"score\":7"),
    /* literals */
    M("{" ENV ",\"type\":\"login\",\"x\":tru}"),
    M("{" ENV ",\"type\":\"login\",\"x\":truex}"),
    M("{" ENV ",\"type\":\"login\",\"x\":nulls}"),
    M("{" ENV ",\"type\":\"login\",\"x\":False}"),
    M("{" ENV ",\"type\":\"login\",\"session_seconds\":true}"),
    /* strings: escapes, bytes outside printable ASCII */
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"a\\\"b\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"\\u00e9\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"\\ud800\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"\\ud83d\\ude00\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"caf\xc3\xa9\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"bad\xff\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"ctl\x01\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"del\x7f\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"tab\tin\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"\\x\"}"),
    M("{" ENV ",\"ty\\u0070e\":\"login\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"0123456\\\"\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"01234567\"}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"unterminated}"),
    M("{" ENV ",\"type\":\"login\",\"user_id\":\"nul\0byte\"}"),
    /* structure */
    M("{}"),
    M("{ }"),
    M("[]"),
    M("\"x\""),
    M("7"),
    M(""),
    M("   "),
    M("{"),
    M("}"),
    M("{" ENV ",\"type\":\"login\",}"),
    M("{" ENV ",\"type\":\"login\",\"x\":[1,]}"),
    M("{" ENV ",\"type\":\"login\",\"x\":[,1]}"),
    M("{" ENV ",\"type\" \"login\"}"),
    M("{" ENV " \"type\":\"login\"}"),
    M("{" ENV ",\"type\":\"login\"}}"),
    M("{" ENV ",\"type\":\"login\"}{}"),
    M("{" ENV ",\"type\":\"login\"} x"),
    M("{" ENV ",\"type\":\"login\"}\f"),
    M("{" ENV ",\"type\":\"login\"}\v"),
    M("{" ENV ",\f\"type\":\"login\"}"),
    M("{" ENV ",\"type\":\"login\",\"x\":[1 2]}"),
    M("{" ENV ",\"type\":\"login\",\"x\":{\"a\" 1}}"),
    M("{" ENV ",\"type\":\"login\",\"x\":{1:2}}"),
    M("{" ENV ",\"type\":\"login\",\"x\":[}"),
    M("{" ENV ",\"type\":\"login\",\"x\":{]}"),
    M("{" ENV ",\"type\":\"login\" /* c */}"),
    M("{" ENV ",\"type\":\"login\",\"type\":\"login\"}"),
    M("{" ENV ",\"type\":\"login\",\"u\":1,\"u\":2}"),
    M("{" ENV ",\"type\":\"login\",\"attributes\":[1]}"),
    M("{" ENV ",\"type\":\"account\",\"attributes\":{\"a\":{\"b\":1}}}"),
    M("{" ENV ",\"type\":\"login\",\"ts\":5}"),
    M("{\"event_id\":\"e1\",\"type\":\"login\"}"),
    M("{" ENV ",\"type\":\"nosuchtype\"}"),
    M("{" ENV ",\"type\":\"login\",\"session_seconds\":-1}"),
};

static void same(hs_decoder_t *scan, hs_decoder_t *yajl, const char *text, size_t len) {
  char why[1024];
  if (hs__json_scan_compare(scan, yajl, text, len, why, sizeof why))
    fail_msg("%.*s: %s", (int)(len < 300 ? len : 300), text, why);
}

static void test_json_scan_decodes_as_yajl_does(void **state) {
  (void)state;
  hs_decoder_t *scan, *yajl;
  assert_int_equal(hs_decoder_new(&scan, 4096), 0);
  assert_int_equal(hs_decoder_new(&yajl, 4096), 0);
  for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
    const msg_t *m = &messages[i];
    size_t len = m->len;
    same(scan, yajl, m->text, len);
    /* every prefix: texts cut short anywhere */
    for (size_t k = 0; k < len; k++)
      same(scan, yajl, m->text, k);
  }
  /* each byte that may not stand in a string as itself, at each position of
     a string (the scanner reads strings 8 bytes at a time) */
  static const char bad[] = {'\x01', '\x1f', '\x7f', '\x80', '\xff', '"', '\\', '\t', '\n'};
  for (size_t b = 0; b < sizeof bad; b++) {
    for (int at = 0; at < 20; at++) {
      char text[256], str[32];
      memset(str, 'a', sizeof str);
      str[at] = bad[b];
      int len = at + 1 + (int)(b % 3);
      /* as a value, an unknown key and a known field's value */
      int n = snprintf(text, sizeof text, "{" ENV ",\"type\":\"login\",\"x\":\"%.*s\"}", len, str);
      same(scan, yajl, text, (size_t)n);
      n = snprintf(text, sizeof text, "{" ENV ",\"type\":\"login\",\"%.*s\":1}", len, str);
      same(scan, yajl, text, (size_t)n);
      n = snprintf(text, sizeof text,
                   "{\"event_id\":\"%.*s\",\"account_id\":\"a\",\"ts\":1,\"type\":\"login\"}", len,
                   str);
      same(scan, yajl, text, (size_t)n);
    }
  }
  /* nesting deeper than the decoder takes, and deeper than the scanner's
     first stack */
  static char deep[8192];
  for (int depth = 1; depth < 400; depth += 37) {
    int n = snprintf(deep, sizeof deep, "{" ENV ",\"type\":\"login\",\"x\":");
    for (int k = 0; k < depth; k++) { /* objects and arrays in turn */
      if (k % 2)
        deep[n++] = '[';
      else
        n += snprintf(deep + n, sizeof deep - (size_t)n, "{\"k\":");
    }
    deep[n++] = '0';
    for (int k = depth - 1; k >= 0; k--)
      deep[n++] = k % 2 ? ']' : '}';
    deep[n++] = '}';
    same(scan, yajl, deep, (size_t)n);
  }
  hs_decoder_free(scan);
  hs_decoder_free(yajl);
}

/* Every file of a corpus directory as one message, and its prefixes. */
static int corpus(hs_decoder_t *scan, hs_decoder_t *yajl, const char *rel) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s", hs_test_path(rel));
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    char *text = hs_test_slurp(path, &len);
    for (size_t k = 0; k <= len; k++)
      same(scan, yajl, text, k);
    hs_free(text);
    n++;
  }
  closedir(d);
  return n;
}

static void test_json_scan_decodes_the_fuzz_corpus_as_yajl_does(void **state) {
  (void)state;
  hs_decoder_t *scan, *yajl;
  assert_int_equal(hs_decoder_new(&scan, 4096), 0);
  assert_int_equal(hs_decoder_new(&yajl, 4096), 0);
  assert_true(corpus(scan, yajl, "fuzz/corpus/fuzz_decode_json") > 10);
  assert_true(corpus(scan, yajl, "fuzz/corpus/fuzz_json_scan") > 10);
  hs_decoder_free(scan);
  hs_decoder_free(yajl);
}

static void test_json_scan_decodes_generated_events_as_yajl_does(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/json-scan-events.jsonl", HS_BINARY_DIR);
  assert_int_equal(hs_test_run("%s gen --accounts 300 --days 40 --seed 7 --quiet --output %s",
                               hs_test_bin(), path),
                   0);
  size_t len;
  char *text = hs_test_slurp(path, &len);
  hs_decoder_t *scan, *yajl;
  assert_int_equal(hs_decoder_new(&scan, 0), 0);
  assert_int_equal(hs_decoder_new(&yajl, 0), 0);
  size_t n = 0;
  for (char *p = text, *nl; p < text + len; p = nl + 1, n++) {
    nl = memchr(p, '\n', (size_t)(text + len - p));
    if (!nl)
      nl = text + len;
    same(scan, yajl, p, (size_t)(nl - p));
  }
  print_message("%zu generated events decoded alike\n", n);
  assert_true(n > 10000);
  hs_free(text);
  hs_decoder_free(scan);
  hs_decoder_free(yajl);
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_scan_decodes_as_yajl_does),
      cmocka_unit_test(test_json_scan_decodes_the_fuzz_corpus_as_yajl_does),
      cmocka_unit_test(test_json_scan_decodes_generated_events_as_yajl_does),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
