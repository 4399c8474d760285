/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The account table (hs_idmap): entries removed in any order, the table
 * full of collisions and wrapping around its end, leave every other entry
 * found and the removed ones gone; clearing empties it. */
#include "testutil.h"

#include "healthscore/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 3000

static char ids[N][16];

static hs_str_t id_of(const void *ctx, uint32_t index) {
  (void)ctx;
  return (hs_str_t){ids[index], (uint32_t)strlen(ids[index])};
}

static hs_str_t id(int i) {
  return (hs_str_t){ids[i], (uint32_t)strlen(ids[i])};
}

/* Adds ids[i] with index i. */
static void add(hs_idmap_t *t, int i) {
  uint64_t h = hs_idmap_hash(id(i));
  size_t slot = hs_idmap_slot(t, id(i), h);
  assert_int_equal(t->refs[slot], 0);
  assert_int_equal(hs_idmap_reserve(t, &slot, id(i), h), 0);
  hs_idmap_put(t, slot, h, (uint32_t)i);
}

static void del(hs_idmap_t *t, int i) {
  size_t slot = hs_idmap_slot(t, id(i), hs_idmap_hash(id(i)));
  assert_int_equal(t->refs[slot], (uint32_t)i + 1);
  hs_idmap_remove(t, slot);
}

static void test_idmap_remove_keeps_every_other_entry(void **state) {
  (void)state;
  for (int i = 0; i < N; i++)
    snprintf(ids[i], sizeof ids[i], "acct-%d", i);
  hs_idmap_t t;
  /* a high load: long runs of neighbours, wrapping around the end */
  assert_int_equal(hs_idmap_init(&t, 16, 90, id_of, NULL), 0);
  for (int i = 0; i < N; i++)
    add(&t, i);
  bool gone[N] = {false};
  unsigned seed = 7;
  for (int k = 0; k < N * 2 / 3; k++) {
    seed = seed * 1103515245u + 12345u;
    int i = (int)((seed >> 8) % N);
    if (gone[i])
      continue;
    del(&t, i);
    gone[i] = true;
    if (k % 97 == 0) /* every entry still found, or gone */
      for (int j = 0; j < N; j++)
        assert_int_equal(hs_idmap_find(&t, id(j)), gone[j] ? -1 : j);
  }
  size_t n = 0;
  for (int j = 0; j < N; j++) {
    assert_int_equal(hs_idmap_find(&t, id(j)), gone[j] ? -1 : j);
    n += !gone[j];
  }
  assert_int_equal(t.n, n);
  for (int j = 0; j < N; j++) /* removed ones come back */
    if (gone[j])
      add(&t, j);
  for (int j = 0; j < N; j++)
    assert_int_equal(hs_idmap_find(&t, id(j)), j);
  hs_idmap_clear(&t);
  assert_int_equal(t.n, 0);
  for (int j = 0; j < N; j++)
    assert_int_equal(hs_idmap_find(&t, id(j)), -1);
  hs_idmap_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idmap_remove_keeps_every_other_entry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
