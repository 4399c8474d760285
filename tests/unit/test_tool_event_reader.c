/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The events-file reader of `replay` and `tune` (tools/event_reader.c), by
 * its contract: every record ends up in exactly one of events, unknown
 * types and rejections, each rejection located in the input, in order; a
 * negative on_event stops the read and is returned. */
#include "testutil.h"

#include "event_reader.h"

#include <stdio.h>
#include <string.h>

#define JSON_EVENT(id, ts)                                                                         \
  "{\"event_id\":\"" id "\",\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"" ts "\"}\n"

/* {"event_id":"m1","account_id":"a","type":"login","ts":"2026-01-01T00:00:00Z"} */
static const char MSGPACK_EVENT[] = "\x84\xa8"
                                    "event_id\xa2m1\xaa"
                                    "account_id\xa1"
                                    "a\xa4type\xa5login\xa2ts\xb4"
                                    "2026-01-01T00:00:00Z";

/* the same with another event_id of two characters */
#define MP_EVENT(id)                                                                               \
  "\x84\xa8"                                                                                       \
  "event_id\xa2" id "\xaa"                                                                         \
  "account_id\xa1"                                                                                 \
  "a\xa4type\xa5login\xa2ts\xb4"                                                                   \
  "2026-01-01T00:00:00Z"
#define MP_LEN (sizeof MP_EVENT("m1") - 1)

typedef struct seen_s {
  char log[2048];
  size_t len;
  int events, stop_at;
} seen_t;

static int on_event(void *ud, const hs_event_t *ev) {
  seen_t *s = ud;
  s->len += (size_t)snprintf(s->log + s->len, sizeof s->log - s->len, "event %.*s\n",
                             (int)ev->event_id.len, ev->event_id.ptr);
  return ++s->events == s->stop_at ? HS_E_NOMEM : 0;
}

static void on_reject(void *ud, const hs_er_reject_t *rej) {
  seen_t *s = ud;
  s->len += (size_t)snprintf(s->log + s->len, sizeof s->log - s->len, "reject %s (%s): %s\n",
                             rej->where, hs_strerror(rej->code), rej->why);
}

static int read_text(const char *data, size_t len, seen_t *s, hs_er_stats_t *st) {
  FILE *f = fmemopen((void *)data, len, "rb");
  assert_non_null(f);
  hs_er_conf_t conf = {
      .name = "in", .fmt = HS_FMT_AUTO, .on_event = on_event, .on_reject = on_reject, .ud = s};
  hs_er_opts_t opts = {.now = "2026-06-01T00:00:00Z"};
  assert_int_equal(hs_er_apply_options(&opts, "test", &conf), 0);
  int rc = hs_er_read(f, &conf, st);
  fclose(f);
  return rc;
}

static void test_reader_hands_each_record_over_once(void **state) {
  (void)state;
  char in[1024];
  size_t n = 0;
  n += (size_t)snprintf(in + n, sizeof in - n, "%s", JSON_EVENT("j1", "2026-01-01T00:00:00Z"));
  memcpy(in + n, MSGPACK_EVENT, sizeof MSGPACK_EVENT - 1);
  n += sizeof MSGPACK_EVENT - 1;
  n += (size_t)snprintf(in + n, sizeof in - n, "\n%s%s%s%s",
                        JSON_EVENT("j2", "2999-01-01T00:00:00Z"), "\xc1junk\n",
                        "{\"event_id\":\"u\",\"account_id\":\"a\",\"type\":\"teleport\","
                        "\"ts\":\"2026-01-01T00:00:00Z\"}\n",
                        JSON_EVENT("j3", "2026-01-02T00:00:00Z"));
  seen_t s = {0};
  hs_er_stats_t st;
  assert_int_equal(read_text(in, n, &s, &st), 0);
  print_message("%s", s.log);
  size_t junk = (size_t)((const char *)memchr(in, 0xc1, n) - in);
  char want[512];
  snprintf(want, sizeof want,
           "event j1\n"
           "event m1\n"
           "reject in:3 (value out of range): future timestamp: 2999-01-01T00:00:00.000Z is more "
           "than max_future (1h) ahead of now (2026-06-01T00:00:00.000Z)\n"
           "reject in: byte %zu (line 4) (parse error): neither a JSON object nor a msgpack map; "
           "6 bytes skipped, up to the next record\n"
           "event j3\n",
           junk);
  assert_string_equal(s.log, want);
  assert_int_equal(st.records, 6);
  assert_int_equal(st.events, 3);
  assert_int_equal(st.unknown, 1);
  assert_int_equal(st.rejected, 2);
  assert_int_equal(st.records, st.events + st.unknown + st.rejected);
}

/* A msgpack stream: what reading `in` logged. */
static void read_msgpack(const char *in, size_t n, seen_t *s, hs_er_stats_t *st) {
  assert_int_equal(read_text(in, n, s, st), 0);
  print_message("%s", s->log);
  assert_int_equal(st->records, st->events + st->unknown + st->rejected);
}

static void test_reader_msgpack_truncated_last_record(void **state) {
  (void)state;
  const char in[] = MP_EVENT("m1") MP_EVENT("m2") MP_EVENT("m3");
  size_t n = 3 * MP_LEN - 7; /* m3 ends inside its ts */
  seen_t s = {0};
  hs_er_stats_t st;
  read_msgpack(in, n, &s, &st);
  char want[512];
  snprintf(want, sizeof want,
           "event m1\n"
           "event m2\n"
           "reject in: byte %zu (line 1) (parse error): malformed msgpack at byte %zu: truncated "
           "(the input ends inside it); %zu bytes skipped, up to the end of the input\n",
           2 * MP_LEN, MP_LEN - 21, MP_LEN - 7);
  assert_string_equal(s.log, want);
  assert_int_equal(st.events, 2);
  assert_int_equal(st.rejected, 1);
}

static void test_reader_msgpack_garbage_between_records(void **state) {
  (void)state;
  /* bytes that are no record; then a map cut short (4 keys announced, 3
     there: the next record's header stands where its last key should) */
  const char in[] = MP_EVENT("m1") "\xc1\xc1zz\n" MP_EVENT("m2") MP_EVENT("m3") MP_EVENT("m4");
  char buf[512];
  size_t a = 2 * MP_LEN + 5, n;
  memcpy(buf, in, a);
  memcpy(buf + a, in + a, MP_LEN - 24); /* m3 without its ts pair */
  n = a + MP_LEN - 24;
  memcpy(buf + n, in + a + MP_LEN, MP_LEN);
  n += MP_LEN;
  seen_t s = {0};
  hs_er_stats_t st;
  read_msgpack(buf, n, &s, &st);
  char want[640];
  snprintf(want, sizeof want,
           "event m1\n"
           "reject in: byte %zu (line 1) (parse error): neither a JSON object nor a msgpack map; "
           "5 bytes skipped, up to the next record\n"
           "event m2\n"
           "reject in: byte %zu (line 2) (parse error): malformed msgpack at byte %zu: a key that "
           "is not a string (a map cut short?); %zu bytes skipped, up to the next record\n"
           "event m4\n",
           MP_LEN, a, MP_LEN - 24, MP_LEN - 24);
  assert_string_equal(s.log, want);
  assert_int_equal(st.events, 3);
  assert_int_equal(st.rejected, 2);
}

/* A value nested 33 deep counting the record's map: the decoder alone
   would take it (it counts from the value), framing does not, so the record
   is skipped as it always was */
static void test_reader_msgpack_nesting_limit_is_framings(void **state) {
  (void)state;
  char buf[512];
  size_t n = 0;
  buf[n++] = '\x85';
  memcpy(buf + n, MP_EVENT("m1") + 1, MP_LEN - 1);
  n += MP_LEN - 1;
  memcpy(buf + n, "\xa1x", 2);
  n += 2;
  for (int i = 0; i < 31; i++)
    buf[n++] = '\x91';
  buf[n++] = '\x90';
  memcpy(buf + n, MP_EVENT("m2"), MP_LEN);
  n += MP_LEN;
  seen_t s = {0};
  hs_er_stats_t st;
  read_msgpack(buf, n, &s, &st);
  char want[512];
  snprintf(want, sizeof want,
           "reject in: byte 0 (line 1) (parse error): malformed msgpack at byte %zu: nesting "
           "deeper than 32; %zu bytes skipped, up to the next record\n"
           "event m2\n",
           MP_LEN + 2 + 31, MP_LEN + 2 + 32);
  assert_string_equal(s.log, want);
  assert_int_equal(st.events, 1);
  /* one level less: an event */
  memmove(buf + MP_LEN + 2, buf + MP_LEN + 3, n - MP_LEN - 3);
  seen_t s2 = {0};
  read_msgpack(buf, n - 1, &s2, &st);
  assert_string_equal(s2.log, "event m1\nevent m2\n");
}

static void test_reader_stops_when_on_event_says_so(void **state) {
  (void)state;
  const char in[] = JSON_EVENT("j1", "2026-01-01T00:00:00Z")
      JSON_EVENT("j2", "2026-01-01T00:00:00Z") JSON_EVENT("j3", "2026-01-01T00:00:00Z");
  seen_t s = {.stop_at = 2};
  hs_er_stats_t st;
  assert_int_equal(read_text(in, sizeof in - 1, &s, &st), HS_E_NOMEM);
  assert_string_equal(s.log, "event j1\nevent j2\n");
  assert_int_equal(st.events, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_hands_each_record_over_once),
      cmocka_unit_test(test_reader_msgpack_truncated_last_record),
      cmocka_unit_test(test_reader_msgpack_garbage_between_records),
      cmocka_unit_test(test_reader_msgpack_nesting_limit_is_framings),
      cmocka_unit_test(test_reader_stops_when_on_event_says_so),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
