/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Stored covers parse right when several engines (engine.threads) read
 * them at the same time, each with its own store: the parser keeps no state
 * between calls outside the store it is given. */
#include "testutil.h"

#include "../../src/store/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 200000

typedef struct reader_s {
  hs_store_t store;
  char *topics[3];
  int64_t offsets[3];
  int64_t base; /* each reader's own offsets */
  long wrong;
} reader_t;

static void *read_covers(void *arg) {
  reader_t *r = arg;
  char cover[256];
  for (long i = 0; i < ROUNDS; i++) {
    int64_t a = r->base + i, b = r->base + 2 * i, c = r->base + 3 * i;
    int n = snprintf(cover, sizeof cover, "7 t.usage=%lld t.billing=%lld t.surveys=%lld",
                     (long long)a, (long long)b, (long long)c);
    if (hs__parse_cover(&r->store, cover, (size_t)n) != 7 || r->offsets[0] != a ||
        r->offsets[1] != b || r->offsets[2] != c)
      r->wrong++;
  }
  return NULL;
}

static void test_covers_parse_right_on_several_threads(void **state) {
  (void)state;
  reader_t r[2];
  memset(r, 0, sizeof r);
  for (int k = 0; k < 2; k++) {
    r[k].topics[0] = "t.usage";
    r[k].topics[1] = "t.billing";
    r[k].topics[2] = "t.surveys";
    r[k].store.topics = r[k].topics;
    r[k].store.n_topics = 3;
    r[k].store.offsets = r[k].offsets;
    r[k].base = k ? INT64_C(1000000000000) : 0;
  }
  pthread_t t[2];
  for (int k = 0; k < 2; k++)
    assert_int_equal(pthread_create(&t[k], NULL, read_covers, &r[k]), 0);
  for (int k = 0; k < 2; k++)
    pthread_join(t[k], NULL);
  if (r[0].wrong || r[1].wrong)
    fail_msg("covers parsed wrong: %ld and %ld of %d", r[0].wrong, r[1].wrong, ROUNDS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_covers_parse_right_on_several_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
