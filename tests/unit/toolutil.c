/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "toolutil.h"

#include "testutil.h"

#include "healthscore/codec.h"

#include <stdio.h>
#include <string.h>

size_t hs_test_split_msgpack(const char *data, size_t len, size_t *off, size_t max) {
  size_t n = 0, pos = 0, sz;
  while (pos < len && n < max) {
    off[n++] = pos;
    assert_int_equal(hs_msgpack_object_size(data + pos, len - pos, &sz), 0);
    pos += sz;
  }
  off[n] = pos;
  return n;
}

void hs_test_write_mixed(const char *jsonl, const char *msgpack, const char *insert, size_t at,
                         const char *out) {
  size_t mlen, jlen;
  char *mp = hs_test_slurp(msgpack, &mlen);
  char *js = hs_test_slurp(jsonl, &jlen);
  size_t max = 400000, *off = hs_malloc((max + 1) * sizeof *off);
  assert_non_null(off);
  size_t n = hs_test_split_msgpack(mp, mlen, off, max);
  FILE *f = fopen(out, "wb");
  assert_non_null(f);
  const char *line = js;
  for (size_t i = 0; i < n; i++) {
    const char *nl = strchr(line, '\n');
    assert_non_null(nl);
    if (insert && i == at)
      fputs(insert, f);
    if ((i / 97) % 2) /* blocks of 97 records: msgpack, then JSON lines */
      fwrite(mp + off[i], 1, off[i + 1] - off[i], f);
    else
      fwrite(line, 1, (size_t)(nl + 1 - line), f);
    line = nl + 1;
  }
  assert_int_equal(*line, 0); /* the same events in both files */
  assert_int_equal(fclose(f), 0);
  hs_free(off);
  hs_free(mp);
  hs_free(js);
}
