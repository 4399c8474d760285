/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "testutil.h"
#include "healthscore/time.h"

#include <stdio.h>
#include <string.h>

static int64_t parse(const char *s) {
  int64_t ms = 0;
  assert_int_equal(hs_time_parse_rfc3339(s, strlen(s), &ms), 0);
  return ms;
}

static void test_rfc3339_utc_and_offsets(void **state) {
  (void)state;
  assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
  assert_int_equal(parse("2026-11-24T12:00:00Z"), INT64_C(1795521600000));
  assert_int_equal(parse("2026-11-24T14:00:00+02:00"), INT64_C(1795521600000));
  assert_int_equal(parse("2026-11-24T07:30:00.250-04:30"), INT64_C(1795521600250));
  assert_int_equal(parse("2024-02-29T00:00:00Z") / 1000, 1709164800);
}

static void test_rfc3339_rejects_garbage(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "2026-11-24",
                       "2026-11-24T12:00:00",
                       "2026-13-01T00:00:00Z",
                       "2023-02-29T00:00:00Z",
                       "2026-11-24T24:00:00Z",
                       "2026-11-24T12:00:00Zjunk",
                       "2026-11-24T12:00:00.Z",
                       "2026-11-24T12:00:00+2:00"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t ms;
    assert_int_equal(hs_time_parse_rfc3339(bad[i], strlen(bad[i]), &ms), HS_E_PARSE);
  }
}

/* The parser as it was written first, byte by byte: the reference for the
 * word-at-a-time one. */
static int ref_digits(const char *s, size_t n, size_t at, size_t count, int *out) {
  if (at + count > n)
    return -1;
  int v = 0;
  for (size_t i = 0; i < count; i++) {
    char c = s[at + i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return 0;
}

static int ref_parse(const char *s, size_t n, int64_t *out_ms) {
  int y, mo, d, h, mi, se;
  if (ref_digits(s, n, 0, 4, &y) || n < 20 || s[4] != '-' || ref_digits(s, n, 5, 2, &mo) ||
      s[7] != '-' || ref_digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      ref_digits(s, n, 11, 2, &h) || s[13] != ':' || ref_digits(s, n, 14, 2, &mi) || s[16] != ':' ||
      ref_digits(s, n, 17, 2, &se))
    return HS_E_PARSE;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
      mi > 59 || se > 60)
    return HS_E_PARSE;
  if (se == 60)
    se = 59;
  size_t i = 19;
  int ms = 0;
  if (i < n && s[i] == '.') {
    i++;
    size_t start = i;
    int scale = 100;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      ms += (s[i] - '0') * scale;
      scale /= 10;
      i++;
    }
    if (i == start || i - start > 9)
      return HS_E_PARSE;
  }
  int64_t offset_min = 0;
  if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (ref_digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
        ref_digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
      return HS_E_PARSE;
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return HS_E_PARSE;
  }
  if (i != n)
    return HS_E_PARSE;
  int64_t yy = y - (mo <= 2), era = (yy >= 0 ? yy : yy - 399) / 400;
  unsigned yoe = (unsigned)(yy - era * 400),
           doy = (153 * ((unsigned)mo > 2 ? (unsigned)mo - 3 : (unsigned)mo + 9) + 2) / 5 +
                 (unsigned)d - 1,
           doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + (int64_t)doe - 719468;
  *out_ms = (days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60) * 1000 + ms;
  return 0;
}

/* Both parsers agree on every text: times formatted from a spread of
 * instants, with 0..10 fraction digits and offsets, each then with every
 * byte replaced in turn by each of a set of bytes near the ones a time
 * holds, and cut short or lengthened. */
static void test_rfc3339_agrees_with_the_reference(void **state) {
  (void)state;
  static const char subst[] = {'0',  '1',    '2',    '5',       '9',        '/',        ':',
                               ';',  '-',    '+',    'T',       't',        ' ',        'Z',
                               'z',  '.',    'A',    '\x7f',    (char)0x80, (char)0xb0, (char)0xff,
                               '\0', '\x10', '\x36', '\x39' + 7};
  uint64_t x = 88172645463325252u;
  size_t compared = 0, accepted = 0;
  for (int k = 0; k < 1500; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t at = (int64_t)(x % UINT64_C(253402300799999));
    char t[32], s[48];
    hs_time_format(at, t); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    static const char *tails[] = {"Z", "z", "+02:00", "-04:30", "+23:59", "-24:00", "+2:00", ""};
    static const char *fracs[] = {"",     ".",     ".1",         ".12",
                                  ".123", ".1234", ".123456789", ".1234567890"};
    int len = snprintf(s, sizeof s, "%.19s%s%s", t, fracs[k % 8], tails[(k / 8) % 8]);
    for (int pos = -1; pos < len + 2; pos++) {
      for (size_t c = 0; c < (pos < 0 ? 1 : sizeof subst); c++) {
        char m[48];
        memcpy(m, s, sizeof m);
        size_t n = (size_t)len;
        if (pos >= len) /* lengthened */
          m[n++] = subst[c];
        else if (pos >= 0)
          m[pos] = subst[c];
        for (size_t cut = n; cut + 3 > n && cut > 0; cut--) {
          int64_t a = 0, b = 0;
          int ra = ref_parse(m, cut, &a), rb = hs_time_parse_rfc3339(m, cut, &b);
          if (ra != rb || (ra == 0 && a != b))
            fail_msg("\"%.*s\": the reference says %d (%lld), the parser %d (%lld)", (int)cut, m,
                     ra, (long long)a, rb, (long long)b);
          compared++;
          accepted += ra == 0;
        }
      }
    }
  }
  print_message("%zu texts compared, %zu accepted by both\n", compared, accepted);
  assert_true(accepted > 10000 && accepted < compared);
}

static void test_format_round_trip(void **state) {
  (void)state;
  char buf[32];
  hs_time_format(INT64_C(1795521600250), buf);
  assert_string_equal(buf, "2026-11-24T12:00:00.250Z");
  assert_int_equal(parse(buf), INT64_C(1795521600250));
  hs_time_format(-1, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_day_of_floors(void **state) {
  (void)state;
  assert_int_equal(hs_day_of(0), 0);
  assert_int_equal(hs_day_of(HS_MS_PER_DAY - 1), 0);
  assert_int_equal(hs_day_of(HS_MS_PER_DAY), 1);
  assert_int_equal(hs_day_of(-1), -1);
  assert_int_equal(hs_day_of(-HS_MS_PER_DAY), -1);
  assert_int_equal(hs_day_of(-HS_MS_PER_DAY - 1), -2);
  (void)hs_day_of(INT64_MIN); /* defined: no overflow (UBSan watches) */
  char t[32];
  hs_time_format(INT64_MIN, t); /* "never" is formatted without overflow */
}

static void test_durations(void **state) {
  (void)state;
  int64_t ms;
  assert_int_equal(hs_duration_parse("90d", &ms), 0);
  assert_int_equal(ms, 90 * HS_MS_PER_DAY);
  assert_int_equal(hs_duration_parse("250ms", &ms), 0);
  assert_int_equal(ms, 250);
  assert_int_equal(hs_duration_parse("0", &ms), 0);
  assert_int_equal(ms, 0);
  assert_int_not_equal(hs_duration_parse("5 days", &ms), 0);
  assert_int_not_equal(hs_duration_parse("d", &ms), 0);
}

static void test_allocator_counts_and_fails(void **state) {
  (void)state;
  size_t before = hs_alloc_bytes();
  void *p = hs_malloc(100);
  assert_int_equal(hs_alloc_bytes(), before + 100);
  p = hs_realloc(p, 300);
  assert_int_equal(hs_alloc_bytes(), before + 300);
  hs_free(p);
  assert_int_equal(hs_alloc_bytes(), before);
  hs_alloc_fail_after(2);
  void *a = hs_malloc(8);
  assert_non_null(a);
  assert_null(hs_malloc(8));
  void *b = hs_malloc(8);
  assert_non_null(b);
  hs_free(a);
  hs_free(b);
}

static void test_json_escape(void **state) {
  (void)state;
  hs_buf_t b;
  hs_buf_init(&b);
  assert_int_equal(hs_buf_json_str(&b, "a\"b\\c\n\x01", 7), 0);
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
  b.len = 0;
  assert_int_equal(hs_buf_json_str(&b, NULL, 0), 0); /* nothing: no string to read */
  assert_string_equal(b.data, "\"\"");
  hs_buf_free(&b);
}

/* The escaping as it was written first, a byte at a time: the reference. */
static void ref_escape(const char *s, size_t n, char *o) {
  static const char hex[] = "0123456789abcdef";
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c == '\n' || c == '\t' || c == '\r') {
      *o++ = '\\';
      *o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
    } else if (c < 0x20) {
      memcpy(o, "\\u00", 4);
      o[4] = hex[c >> 4];
      o[5] = hex[c & 15];
      o += 6;
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  *o = 0;
}

/* hs_buf_json_str (which copies a string with nothing to escape at once)
 * writes what the reference writes, for strings of every length up to 40
 * drawn from bytes near those it escapes, appended after what the buffer
 * held. */
static void test_json_escape_agrees_with_the_reference(void **state) {
  (void)state;
  static const unsigned char pool[] = {'a',  'Z',  ' ',  '~',  '"',  '\\', '/',  0x00, 0x01,
                                       0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x5c, 0x22, 0x7f, 0x80,
                                       0xa2, 0xdc, 0xe2, 0xff, '\n', '\t', '\r', 'x'};
  uint64_t x = 0x9e3779b97f4a7c15u;
  size_t escaped = 0;
  for (int k = 0; k < 200000; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t n = x % 41;
    char in[48], want[48 * 6 + 4];
    /* mostly plain, so that both paths run: an escaped byte one time in 32 */
    for (size_t i = 0; i < n; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      in[i] = (char)(x % 32 ? pool[x % 4] : pool[(x >> 8) % sizeof pool]);
    }
    ref_escape(in, n, want);
    hs_buf_t b;
    hs_buf_init(&b);
    assert_int_equal(hs_buf_append(&b, "{", 1), 0);
    assert_int_equal(hs_buf_json_str(&b, in, n), 0);
    if (b.len != 1 + strlen(want) || memcmp(b.data + 1, want, b.len - 1) != 0)
      fail_msg("%zu bytes: wrote %s, the reference %s", n, b.data + 1, want);
    escaped += strlen(want) != n + 2;
    hs_buf_free(&b);
  }
  print_message("200000 strings compared, %zu of them with a byte escaped\n", escaped);
  assert_true(escaped > 20000 && escaped < 180000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3339_utc_and_offsets),
      cmocka_unit_test(test_rfc3339_rejects_garbage),
      cmocka_unit_test(test_rfc3339_agrees_with_the_reference),
      cmocka_unit_test(test_format_round_trip),
      cmocka_unit_test(test_day_of_floors),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_allocator_counts_and_fails),
      cmocka_unit_test(test_json_escape),
      cmocka_unit_test(test_json_escape_agrees_with_the_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
