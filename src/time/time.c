/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* UTC time without the C library's time zone state: civil-date arithmetic. */
#include "healthscore/time.h"

#include "healthscore/base.h"

#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out) {
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

/* 8 bytes, byte k of the text as byte k (from the least significant) */
static inline uint64_t load8(const char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

#define ONES UINT64_C(0x0101010101010101)

/* True when the bytes of w under `digit` (0xff per byte) are ASCII digits
 * and the others equal those of `sep`: w with '0' put in place of the
 * separators must then be 8 digits, whose high nibbles are 3 before and
 * after adding 6. */
static inline bool shaped8(uint64_t w, uint64_t digit, uint64_t sep) {
  const uint64_t d = (w & digit) | (ONES * '0' & ~digit);
  return (w & ~digit) == sep && (d & ONES * 0xf0) == ONES * 0x30 &&
         ((d + ONES * 6) & ONES * 0xf0) == ONES * 0x30;
}

/* The two digits at bytes i and i + 1 of a word checked by shaped8. */
static inline int two(uint64_t w, int i) {
  return (int)((w >> (8 * i)) & 0xf) * 10 + (int)((w >> (8 * i + 8)) & 0xf);
}

int hs_time_parse_rfc3339(const char *s, size_t n, int64_t *out_ms) {
  /* "YYYY-MM-" and "HH:MM:SS" (bytes 11..18) a word each */
  if (n < 20)
    return HS_E_PARSE;
  const uint64_t date = load8(s), clock = load8(s + 11);
  if (!shaped8(date, UINT64_C(0x00ffff00ffffffff), (uint64_t)'-' << 56 | (uint64_t)'-' << 32) ||
      !shaped8(clock, UINT64_C(0xffff00ffff00ffff), (uint64_t)':' << 40 | (uint64_t)':' << 16) ||
      s[8] < '0' || s[8] > '9' || s[9] < '0' || s[9] > '9' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
    return HS_E_PARSE;
  const int y = two(date, 0) * 100 + two(date, 2), mo = two(date, 5),
            d = (s[8] - '0') * 10 + (s[9] - '0'), h = two(clock, 0), mi = two(clock, 3);
  int se = two(clock, 6);
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
      (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) || h > 23 ||
      mi > 59 || se > 60)
    return HS_E_PARSE;
  if (se == 60)
    se = 59; /* a leap second is folded into the second before it */
  size_t i = 19;
  int ms = 0;
  if (s[i] == '.') { /* n >= 20: s[19] is there */
    const size_t start = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start || i - start > 9)
      return HS_E_PARSE;
    static const int scale[3] = {100, 10, 1}; /* milliseconds: digits past 3 are cut */
    for (size_t k = start; k < i && k < start + 3; k++)
      ms += (s[k] - '0') * scale[k - start];
  }
  int64_t offset_min = 0;
  if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
        digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
      return HS_E_PARSE;
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return HS_E_PARSE;
  }
  if (i != n)
    return HS_E_PARSE;
  int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
  *out_ms = secs * 1000 + ms;
  return 0;
}

void hs_time_format(int64_t ms, char out[32]) {
  /* years 0000..9999 (decoded input holds 1970..9999; INT64_MIN means never) */
  const int64_t lo = INT64_C(-62167219200000), hi = INT64_C(253402300799999);
  ms = ms < lo ? lo : ms > hi ? hi : ms;
  int64_t day = hs_day_of(ms);
  unsigned rem = (unsigned)(ms - day * HS_MS_PER_DAY);
  /* "YYYY-MM-DDTHH:MM:SS.mmmZ", without printf */
  hs_day_format(day, out);
  unsigned f[4] = {rem / 3600000, rem / 60000 % 60, rem / 1000 % 60, rem % 1000};
  char *p = out + 10;
  *p++ = 'T';
  for (int i = 0; i < 3; i++) {
    *p++ = (char)('0' + f[i] / 10);
    *p++ = (char)('0' + f[i] % 10);
    *p++ = i < 2 ? ':' : '.';
  }
  *p++ = (char)('0' + f[3] / 100);
  *p++ = (char)('0' + f[3] / 10 % 10);
  *p++ = (char)('0' + f[3] % 10);
  *p++ = 'Z';
  *p = 0;
}

void hs_day_format(int64_t day, char out[10]) {
  /* the years of hs_time_format: 0000..9999 */
  const int64_t lo = -719528, hi = 2932896;
  day = day < lo ? lo : day > hi ? hi : day;
  int y;
  unsigned m, d;
  civil_from_days(day, &y, &m, &d);
  unsigned u = (unsigned)y;
  out[0] = (char)('0' + u / 1000);
  out[1] = (char)('0' + u / 100 % 10);
  out[2] = (char)('0' + u / 10 % 10);
  out[3] = (char)('0' + u % 10);
  out[4] = '-';
  out[5] = (char)('0' + m / 10);
  out[6] = (char)('0' + m % 10);
  out[7] = '-';
  out[8] = (char)('0' + d / 10);
  out[9] = (char)('0' + d % 10);
}

int hs_duration_parse(const char *s, int64_t *out_ms) {
  if (!s || !*s)
    return HS_E_PARSE;
  if (strcmp(s, "0") == 0) {
    *out_ms = 0;
    return 0;
  }
  int64_t v = 0;
  const char *p = s;
  bool any = false;
  while (*p >= '0' && *p <= '9') {
    if (v > INT64_C(100000000))
      return HS_E_RANGE;
    v = v * 10 + (*p - '0');
    p++;
    any = true;
  }
  if (!any)
    return HS_E_PARSE;
  int64_t unit;
  if (strcmp(p, "ms") == 0)
    unit = 1;
  else if (strcmp(p, "s") == 0)
    unit = 1000;
  else if (strcmp(p, "m") == 0)
    unit = 60000;
  else if (strcmp(p, "h") == 0)
    unit = 3600000;
  else if (strcmp(p, "d") == 0)
    unit = HS_MS_PER_DAY;
  else if (strcmp(p, "w") == 0)
    unit = 7 * HS_MS_PER_DAY;
  else
    return HS_E_PARSE;
  *out_ms = v * unit;
  return 0;
}
