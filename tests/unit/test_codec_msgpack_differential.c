/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The msgpack event decoder accepts and rejects exactly what its reference
 * (fuzz/old/, the reader before the one-step decoding of common pairs) does,
 * with the same event and the same reason: on messages built at every
 * edge of the fast path, the fuzz corpus, a generated stream, and over a
 * million seeded mutations of all of these (fuzz/msgpack_diff.h compares).
 * On the same messages, the one-pass decoding of a record in a stream agrees
 * with framing it first. */
#include "testutil.h"

#include "msgpack_diff.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 16384
#define MAX_LEN 1024

static unsigned char *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static size_t n_seeds;
static hs_decoder_t *now, *ref;
static unsigned long long checked;

/* The one-pass decoding of a record in a stream (the events-file reader's)
 * agrees with framing then decoding, with bytes of a next record after it:
 * where it ends, whether it is found whole, and what decoding returns. */
static const char *record_agrees(const unsigned char *m, size_t n) {
  static unsigned char b[MAX_LEN + 8];
  static const unsigned char next[] = {0x84, 0xa1, 'x', 0x01};
  if (n > MAX_LEN)
    return NULL;
  memcpy(b, m, n);
  memcpy(b + n, next, sizeof next);
  size_t len = n + sizeof next, used, size;
  hs_event_t ev;
  hs_err_t err = {0};
  int r1 = hs_event_decode_msgpack_record(now, b, len, &used, &ev, &err);
  bool whole1 = used && (r1 == 0 || r1 == HS_E_UNKNOWN);
  int fr = hs_msgpack_record_size(b, len, &size, NULL);
  int r2 = fr == 0 ? hs_event_decode(now, b, size, HS_FMT_MSGPACK, &ev, &err) : fr;
  bool whole2 = fr == 0 && (r2 == 0 || r2 == HS_E_UNKNOWN);
  if (whole1 != whole2)
    return "record found whole";
  if (whole1 && (used != size || r1 != r2))
    return "record end or result";
  return NULL;
}

static void same(const unsigned char *m, size_t n) {
  const char *diff = hs_msgpack_diff_one(now, ref, m, n);
  if (!diff)
    diff = record_agrees(m, n);
  if (diff) {
    fprintf(stderr, "differs in %s on %zu bytes:", diff, n);
    for (size_t i = 0; i < n && i < 200; i++)
      fprintf(stderr, " %02x", m[i]);
    fprintf(stderr, "\n");
    fail();
  }
  checked++;
}

static void add_seed(const unsigned char *m, size_t n) {
  if (n_seeds == MAX_SEEDS || n > MAX_LEN)
    return;
  seeds[n_seeds] = hs_malloc(n ? n : 1);
  memcpy(seeds[n_seeds], m, n);
  seed_len[n_seeds++] = n;
}

/* ---- messages at the edges ------------------------------------------- */

typedef struct out_s {
  unsigned char b[MAX_LEN];
  size_t n;
} out_t;

static void put(out_t *o, const void *p, size_t n) {
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put_byte(out_t *o, unsigned c) {
  o->b[o->n++] = (unsigned char)c;
}
static void put_be(out_t *o, uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; k--)
    put_byte(o, (unsigned)(v >> (8 * k)) & 0xff);
}
static void put_fixstr(out_t *o, const char *s, size_t n) {
  put_byte(o, 0xa0 | (unsigned)n);
  put(o, s, n);
}

/* The envelope (4 pairs) of a login, then one more key whose value is
 * already encoded in `val` (n bytes): a fixmap of 5. */
static void envelope_and(const char *key, const unsigned char *val, size_t n) {
  out_t o = {.n = 0};
  put_byte(&o, 0x85);
  put_fixstr(&o, "event_id", 8);
  put_fixstr(&o, "e1", 2);
  put_fixstr(&o, "account_id", 10);
  put_fixstr(&o, "acct-1", 6);
  put_fixstr(&o, "type", 4);
  put_fixstr(&o, "login", 5);
  put_fixstr(&o, "ts", 2);
  put_byte(&o, 0xcf);
  put_be(&o, UINT64_C(1767225600000), 8);
  put_fixstr(&o, key, strlen(key));
  put(&o, val, n);
  same(o.b, o.n);
  static unsigned sample;
  if (sample++ % 16 == 0) /* a sixteenth of them, to leave room for the others */
    add_seed(o.b, o.n);
  for (size_t k = 0; k < o.n; k++) /* and every prefix */
    same(o.b, k);
}

static const char *const keys[] = {
    "event_id",        "account_id", "type",     "ts",         "user_id",
    "session_seconds", "count",      "amount",   "score",      "rating",
    "value",           "licenses",   "due",      "expires",    "contract_start",
    "renewal_date",    "feature",    "role",     "priority",   "ticket_id",
    "invoice_id",      "outcome",    "target",   "reason",     "author",
    "segment",         "stage",      "vertical", "attributes", "currency",
    "unknown",         "Ts",         "t",        "event_idx",  "session_second"};
#define N_KEYS (sizeof keys / sizeof keys[0])

static void test_msgpack_decodes_edges_as_before(void **state) {
  (void)state;
  static const uint64_t ints[] = {0,
                                  1,
                                  0x7f,
                                  0x80,
                                  0xff,
                                  0x100,
                                  0xffff,
                                  0x10000,
                                  UINT64_C(0xffffffff),
                                  UINT64_C(0x100000000),
                                  UINT64_C(1000000000000) - 1,
                                  UINT64_C(1000000000000),
                                  UINT64_C(1000000000001),
                                  UINT64_C(253402300799999),
                                  UINT64_C(253402300800000),
                                  UINT64_C(0x7fffffffffffffff),
                                  UINT64_C(0x8000000000000000),
                                  UINT64_MAX};
  static const double dbls[] = {0.0,        -0.0, 1.5,   -1.5,   1e12,    -1e12,
                                1e12 + 0.5, 2e12, 1e300, 1e-300, 4.9e-324};
  for (size_t k = 0; k < N_KEYS; k++) {
    unsigned char v[16];
    /* every unsigned and signed width, and the fixints */
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
      uint64_t u = ints[i];
      if (u <= 0x7f) {
        v[0] = (unsigned char)u;
        envelope_and(keys[k], v, 1);
      }
      for (int w = 0; w < 4; w++) {
        int bytes = 1 << w;
        if (bytes < 8 && u >> (8 * bytes))
          continue;
        out_t o = {.n = 0};
        put_byte(&o, 0xcc + (unsigned)w);
        put_be(&o, u, bytes);
        envelope_and(keys[k], o.b, o.n);
        o.n = 0;
        put_byte(&o, 0xd0 + (unsigned)w); /* the same bits as signed */
        put_be(&o, u, bytes);
        envelope_and(keys[k], o.b, o.n);
      }
    }
    for (unsigned c = 0xe0; c <= 0xff; c += 0x0f) { /* negative fixint */
      v[0] = (unsigned char)c;
      envelope_and(keys[k], v, 1);
    }
    /* float 64 and 32, NaN and the infinities included */
    double specials[sizeof dbls / sizeof dbls[0] + 3];
    memcpy(specials, dbls, sizeof dbls);
    specials[sizeof dbls / sizeof dbls[0]] = strtod("nan", NULL);
    specials[sizeof dbls / sizeof dbls[0] + 1] = strtod("inf", NULL);
    specials[sizeof dbls / sizeof dbls[0] + 2] = -strtod("inf", NULL);
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
      out_t o = {.n = 0};
      uint64_t bits;
      memcpy(&bits, &specials[i], 8);
      put_byte(&o, 0xcb);
      put_be(&o, bits, 8);
      envelope_and(keys[k], o.b, o.n);
      float f = (float)specials[i];
      uint32_t b32;
      memcpy(&b32, &f, 4);
      o.n = 0;
      put_byte(&o, 0xca);
      put_be(&o, b32, 4);
      envelope_and(keys[k], o.b, o.n);
    }
    /* arrays nested to either side of the limits on depth */
    for (int d = 29; d <= 34; d++) {
      out_t o = {.n = 0};
      for (int i = 1; i < d; i++)
        put_byte(&o, 0x91);
      put_byte(&o, 0x90);
      envelope_and(keys[k], o.b, o.n);
    }
    /* strings: fixstr of 0..31 bytes, printable or not, and str 8 */
    static const char *const strs[] = {"",
                                       "x",
                                       "acct-000001-1",
                                       "2026-01-01T00:00:00Z",
                                       "2026-01-01T00:00:00.000Z",
                                       "login",
                                       "high",
                                       "renewed",
                                       "0123456789abcdefghijklmnopqrstu",
                                       "tab\there",
                                       "del\x7f",
                                       "caf\xc3\xa9",
                                       "bad\xff",
                                       "nul\0x"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
      size_t n = i == sizeof strs / sizeof strs[0] - 1 ? 5 : strlen(strs[i]);
      out_t o = {.n = 0};
      put_fixstr(&o, strs[i], n);
      envelope_and(keys[k], o.b, o.n);
      o.n = 0;
      put_byte(&o, 0xd9);
      put_byte(&o, (unsigned)n);
      put(&o, strs[i], n);
      envelope_and(keys[k], o.b, o.n);
    }
    /* the other types */
    static const unsigned char others[][4] = {
        {1, 0xc0}, {1, 0xc2},         {1, 0xc3},       {1, 0xc1},           {1, 0x80},
        {1, 0x90}, {3, 0xc4, 1, 'x'}, {3, 0xd4, 0, 0}, {3, 0x91, 0xa1, 'x'}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
      envelope_and(keys[k], others[i] + 1, others[i][0]);
  }
  print_message("%llu messages at the edges decoded as before\n", checked);
}

/* ---- the fuzz corpus and a generated stream ----------------------------- */

static void seed_corpus(const char *rel) {
  DIR *dir = opendir(hs_test_path(rel));
  assert_non_null(dir);
  for (struct dirent *e; (e = readdir(dir));) {
    if (e->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", hs_test_path(rel), e->d_name);
    size_t len;
    char *m = hs_test_slurp(path, &len);
    for (size_t k = 0; k <= len; k++)
      same((const unsigned char *)m, k);
    add_seed((const unsigned char *)m, len);
    hs_free(m);
  }
  closedir(dir);
}

static void seed_generated(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/msgpack-differential-events.msgpack", HS_BINARY_DIR);
  assert_int_equal(hs_test_run("%s gen --accounts 200 --days 30 --seed 5 --format msgpack "
                               "--quiet --output %s",
                               hs_test_bin(), path),
                   0);
  size_t len, n = 0;
  char *m = hs_test_slurp(path, &len);
  for (size_t at = 0, size; at < len; at += size, n++) {
    assert_int_equal(hs_msgpack_object_size(m + at, len - at, &size), 0);
    same((const unsigned char *)m + at, size);
    if (n % 4 == 0)
      add_seed((const unsigned char *)m + at, size);
  }
  assert_true(n > 10000);
  hs_free(m);
  remove(path);
}

/* ---- seeded mutations ---------------------------------------------------- */

static const unsigned char interesting[] = {
    0x00, 0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x81, 0x85, 0x8f, 0x90, 0x9f, 0xa0, 0xa1,
    0xa2, 0xa8, 0xaa, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcd,
    0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xda, 0xdc, 0xde, 0xdf, 0xe0, 0xff};

static size_t mutate(unsigned char *m, size_t n, uint64_t *rng) {
  uint64_t r = hs_test_splitmix(rng);
  size_t at = n ? (size_t)(r >> 8) % n : 0;
  switch (r & 7) {
  case 0: /* a byte to anything */
    if (n)
      m[at] = (unsigned char)(r >> 40);
    break;
  case 1: /* a byte to a msgpack type or a printable edge */
    if (n)
      m[at] = interesting[(r >> 40) % sizeof interesting];
    break;
  case 2: /* cut short */
    n = at;
    break;
  case 3: /* a byte less */
    if (n) {
      memmove(m + at, m + at + 1, n - at - 1);
      n--;
    }
    break;
  case 4: /* a byte more */
    if (n < MAX_LEN) {
      memmove(m + at + 1, m + at, n - at);
      m[at] = interesting[(r >> 40) % sizeof interesting];
      n++;
    }
    break;
  case 5: { /* a piece of another seed over this one */
    size_t s = (size_t)(r >> 40) % n_seeds;
    if (seed_len[s] == 0 || n == 0)
      break;
    size_t from = (size_t)(r >> 20) % seed_len[s];
    size_t len = 1 + (size_t)(r >> 52) % 24;
    if (from + len > seed_len[s])
      len = seed_len[s] - from;
    if (at + len > n)
      len = n - at;
    memcpy(m + at, seeds[s] + from, len);
    break;
  }
  case 6: { /* a key, known or not, as a fixstr */
    const char *k = keys[(r >> 40) % N_KEYS];
    size_t kn = strlen(k);
    if (n + kn + 1 > MAX_LEN)
      break;
    memmove(m + at + kn + 1, m + at, n - at);
    m[at] = (unsigned char)(0xa0 | kn);
    memcpy(m + at + 1, k, kn);
    n += kn + 1;
    break;
  }
  default: /* a map or string length one more or less */
    if (n) {
      unsigned c = m[at];
      if ((c >= 0x80 && c <= 0x8f) || (c >= 0xa0 && c <= 0xbf))
        m[at] = (unsigned char)((r >> 40) & 1 ? c + 1 : c - 1);
    }
    break;
  }
  return n;
}

static void test_msgpack_decodes_mutations_as_before(void **state) {
  (void)state;
  seed_corpus("fuzz/corpus/fuzz_decode_msgpack");
  seed_generated();
  assert_true(n_seeds > 100);
  unsigned long long before = checked;
  uint64_t rng = 20261207;
  static unsigned char m[MAX_LEN];
  size_t n = 0;
  for (long i = 0; i < 1200000; i++) {
    if (i % 8 == 0 || n == 0) { /* a fresh seed, or keep mutating this one */
      size_t s = (size_t)hs_test_splitmix(&rng) % n_seeds;
      n = seed_len[s];
      memcpy(m, seeds[s], n);
    }
    for (int k = 1 + (int)(hs_test_splitmix(&rng) % 3); k > 0; k--)
      n = mutate(m, n, &rng);
    same(m, n);
  }
  print_message("%llu mutated messages decoded as before (%zu seeds)\n", checked - before, n_seeds);
  assert_true(checked - before >= 1000000);
}

static int setup(void **state) {
  (void)state;
  assert_int_equal(hs_decoder_new(&now, 4096), 0);
  assert_int_equal(hs_decoder_new(&ref, 4096), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hs_decoder_free(now);
  hs_decoder_free(ref);
  for (size_t i = 0; i < n_seeds; i++)
    hs_free(seeds[i]);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_msgpack_decodes_edges_as_before),
      cmocka_unit_test(test_msgpack_decodes_mutations_as_before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
