/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A held event (hs_event_hold) gives back exactly the event decoded, after
 * the decoder has decoded other messages: every field, every string's bytes
 * and where they point (into the message). Events with strings the decoder
 * unescaped into its own memory are not kept. Over the decoder fuzzers'
 * corpora and events of every type in both formats. */
#include "testutil.h"

#include "healthscore/codec.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const num_names[] = {"session_seconds", "count", "amount",  "score",
                                        "rating",          "value", "licenses"};

/* Asserts that `got` is `want`: the same fields, the same strings at the
 * same addresses. */
static void assert_same_event(const hs_event_t *want, const hs_event_t *got) {
  assert_int_equal(got->type, want->type);
  assert_int_equal(got->present, want->present);
  assert_int_equal(got->ts_ms, want->ts_ms);
  const double *wn = &want->session_seconds, *gn = &got->session_seconds;
  for (int i = 0; i < 7; i++)
    if (memcmp(&wn[i], &gn[i], sizeof *wn))
      fail_msg("%s: %g, held %g", num_names[i], wn[i], gn[i]);
  assert_int_equal(got->due_ms, want->due_ms);
  assert_int_equal(got->expires_ms, want->expires_ms);
  assert_int_equal(got->contract_start_ms, want->contract_start_ms);
  assert_int_equal(got->renewal_ms, want->renewal_ms);
  const hs_str_t *ws[] = {&want->event_id,   &want->account_id, &want->type_name, &want->user_id,
                          &want->feature,    &want->role,       &want->priority,  &want->ticket_id,
                          &want->invoice_id, &want->outcome,    &want->target,    &want->reason,
                          &want->author,     &want->segment,    &want->stage,     &want->vertical};
  const hs_str_t *gs[] = {&got->event_id,   &got->account_id, &got->type_name, &got->user_id,
                          &got->feature,    &got->role,       &got->priority,  &got->ticket_id,
                          &got->invoice_id, &got->outcome,    &got->target,    &got->reason,
                          &got->author,     &got->segment,    &got->stage,     &got->vertical};
  for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) {
    assert_ptr_equal(gs[i]->ptr, ws[i]->ptr);
    assert_int_equal(gs[i]->len, ws[i]->len);
  }
  assert_int_equal(got->n_attrs, want->n_attrs);
}

/* Decodes `msg` with `d`, holds it, decodes `other` with `d` (reusing its
 * memory), and compares the held event with a fresh decoding by `ref`.
 * Returns whether it was kept (-1: `msg` does not decode). */
static int check(hs_decoder_t *d, hs_decoder_t *ref, const void *msg, size_t len, const void *other,
                 size_t other_len) {
  hs_event_t ev, ev2, want;
  hs_err_t err = {0};
  if (hs_event_decode(d, msg, len, HS_FMT_AUTO, &ev, &err))
    return -1;
  hs_held_event_t h;
  /* garbage where nothing is written, to be sure none of it is read */
  memset(&h, 0xa5, sizeof h);
  bool kept = hs_event_hold(&ev, msg, len, &h);
  assert_int_equal(kept, h.type != HS_EV_UNKNOWN);
  hs_event_decode(d, other, other_len, HS_FMT_AUTO, &ev2, &err);
  assert_int_equal(hs_event_decode(ref, msg, len, HS_FMT_AUTO, &want, &err), 0);
  if (!kept)
    return 0;
  hs_event_t got;
  memset(&got, 0x5a, sizeof got);
  hs_event_unhold(&h, msg, &got);
  assert_same_event(&want, &got);
  return 1;
}

static const char other_json[] =
    "{\"event_id\":\"\\u0041\\u0042\\u0043\\u0044\\u0045\\u0046\\u0047\\u0048\",\"account_id\":"
    "\"\\u005a\\u005a\\u005a\\u005a\\u005a\\u005a\\u005a\\u005a\",\"type\":\"account\",\"ts\":1,"
    "\"segment\":\"\\u0058\\u0058\\u0058\\u0058\\u0058\\u0058\\u0058\\u0058\\u0058\\u0058\","
    "\"attributes\":{\"k\\u0031\":\"v\\u0031\",\"k\\u0032\":\"v\\u0032\"}}";

/* Events of every type, plain and escaped, in both formats. */
static void test_held_event_is_the_decoded_one(void **state) {
  (void)state;
  hs_decoder_t *d, *ref;
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  assert_int_equal(hs_decoder_new(&ref, 0), 0);
  static const char *const events[] = {
      "{\"event_id\":\"e1\",\"account_id\":\"acme\",\"type\":\"login\",\"ts\":1700000000000,"
      "\"session_seconds\":60,\"user_id\":\"u1\"}",
      "{\"event_id\":\"e2\",\"account_id\":\"acme\",\"type\":\"feature_used\","
      "\"ts\":\"2026-01-02T03:04:05Z\",\"feature\":\"reports\"}",
      "{\"event_id\":\"e3\",\"account_id\":\"acme\",\"type\":\"ticket_opened\",\"ts\":"
      "1700000000000,"
      "\"ticket_id\":\"T-1\",\"priority\":\"high\",\"unknown\":{\"a\":[1,2,3]}}",
      "{\"event_id\":\"e4\",\"account_id\":\"acme\",\"type\":\"invoice_overdue\",\"ts\":"
      "1700000000000,"
      "\"invoice_id\":\"I-9\",\"amount\":1234.5,\"due\":1690000000000}",
      "{\"event_id\":\"e5\",\"account_id\":\"acme\",\"type\":\"nps\",\"ts\":1700000000000,"
      "\"score\":-0.0}",
      "{\"event_id\":\"e6\",\"account_id\":\"acme\",\"type\":\"override\",\"ts\":1700000000000,"
      "\"target\":\"score\",\"value\":42.5,\"expires\":1800000000000,\"reason\":\"renewal\","
      "\"author\":\"csm\"}",
      "{\"event_id\":\"e7\",\"account_id\":\"acme\",\"type\":\"account\",\"ts\":1700000000000,"
      "\"segment\":\"smb\",\"stage\":\"live\",\"vertical\":\"retail\",\"licenses\":10,"
      "\"contract_start\":1600000000000,\"renewal_date\":1900000000000}",
      "{\"event_id\":\"e8\",\"account_id\":\"acme\",\"type\":\"login\",\"ts\":1700000000000,"
      "\"user_id\":\"\\u00e9l\\u00e8ve\"}",
      "{\"event_id\":\"e9\",\"account_id\":\"acme\",\"type\":\"account\",\"ts\":1700000000000,"
      "\"attributes\":{\"tier\":\"gold\"}}",
      "{\"event_id\":\"e10\",\"account_id\":\"acme\",\"type\":\"review\",\"ts\":1700000000000,"
      "\"rating\":3,\"amount\":5}",
  };
  /* kept: plain strings (a field the type does not take still decoded,
     -0.0); not kept: an unescaped string, attributes, an
     account event with more fields than a held event has room for */
  static const int want_kept[] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 1};
  for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
    int k = check(d, ref, events[i], strlen(events[i]), other_json, strlen(other_json));
    if (k != want_kept[i])
      fail_msg("event %zu: kept %d, want %d", i, k, want_kept[i]);
    if (k < 0)
      continue;
    /* the same event in msgpack: strings borrowed, except attribute keys */
    hs_event_t ev;
    hs_err_t err = {0};
    hs_buf_t mp;
    hs_buf_init(&mp);
    assert_int_equal(hs_event_decode(ref, events[i], strlen(events[i]), HS_FMT_AUTO, &ev, &err), 0);
    assert_int_equal(hs_event_encode_msgpack(&ev, &mp), 0);
    int km = check(d, ref, mp.data, mp.len, other_json, strlen(other_json));
    assert_int_equal(km, i == 6 || i == 8 ? 0 : 1);
    hs_buf_free(&mp);
  }
  hs_decoder_free(d);
  hs_decoder_free(ref);
}

/* A message over 64 KiB: its strings are kept while they lie in its first
 * 64 KiB (offsets and lengths are 16 bits), and the event is not kept when
 * one lies past them. */
static void test_held_message_over_64_kib(void **state) {
  (void)state;
  hs_decoder_t *d, *ref;
  assert_int_equal(hs_decoder_new(&d, 1 << 20), 0);
  assert_int_equal(hs_decoder_new(&ref, 1 << 20), 0);
  enum { PAD = 70000 };
  char *pad = malloc(PAD + 1), *msg = malloc(PAD + 512);
  assert_non_null(pad);
  assert_non_null(msg);
  memset(pad, 'x', PAD);
  pad[PAD] = 0;
  static const char head[] = "\"event_id\":\"e1\",\"account_id\":\"acme\",\"type\":\"login\","
                             "\"ts\":1700000000000,\"user_id\":\"u1\"";
  for (int late = 0; late < 2; late++) {
    int n = late ? snprintf(msg, PAD + 512, "{\"pad\":\"%s\",%s}", pad, head)
                 : snprintf(msg, PAD + 512, "{%s,\"pad\":\"%s\"}", head, pad);
    assert_true(n > PAD);
    assert_int_equal(check(d, ref, msg, (size_t)n, other_json, strlen(other_json)), !late);
  }
  free(pad);
  free(msg);
  hs_decoder_free(d);
  hs_decoder_free(ref);
}

/* Every message of the decoders' fuzz corpora that decodes. */
static void test_held_corpus(void **state) {
  (void)state;
  hs_decoder_t *d, *ref;
  assert_int_equal(hs_decoder_new(&d, 0), 0);
  assert_int_equal(hs_decoder_new(&ref, 0), 0);
  static const char *const dirs[] = {"fuzz_decode_json", "fuzz_decode_msgpack", "fuzz_json_scan"};
  int decoded = 0, kept = 0;
  for (size_t k = 0; k < 3; k++) {
    char path[512];
    snprintf(path, sizeof path, "%s/fuzz/corpus/%s", HS_SOURCE_DIR, dirs[k]);
    DIR *dir = opendir(path);
    assert_non_null(dir);
    struct dirent *de;
    while ((de = readdir(dir))) {
      if (de->d_name[0] == '.')
        continue;
      char file[1024];
      snprintf(file, sizeof file, "%s/%s", path, de->d_name);
      FILE *f = fopen(file, "rb");
      assert_non_null(f);
      static char buf[1 << 16];
      size_t n = fread(buf, 1, sizeof buf, f);
      fclose(f);
      int r = check(d, ref, buf, n, other_json, strlen(other_json));
      decoded += r >= 0;
      kept += r > 0;
    }
    closedir(dir);
  }
  assert_true(kept > 0 && decoded >= kept);
  hs_decoder_free(d);
  hs_decoder_free(ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_held_event_is_the_decoded_one),
      cmocka_unit_test(test_held_corpus),
      cmocka_unit_test(test_held_message_over_64_kib),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
