/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Helpers shared by the tests of the `healthscore` command (test_tool_*). */
#ifndef HS_TOOLUTIL_H
#define HS_TOOLUTIL_H
#include <stddef.h>

/* The offsets of the first `max` msgpack records in `data` (n + 1 of them:
 * the last is where record n would start); returns n. Fails the test on a
 * record that does not frame. */
size_t hs_test_split_msgpack(const char *data, size_t len, size_t *off, size_t max);
/* Writes to `out` the events of the files `jsonl` and `msgpack` (the same
 * events in both formats, as `healthscore gen` writes them for one seed) in
 * blocks of 97 records: JSON lines, then msgpack maps, and so on. `insert`
 * (if not NULL) goes in front of record `at`. Fails the test when the two
 * files do not hold as many records. */
void hs_test_write_mixed(const char *jsonl, const char *msgpack, const char *insert, size_t at,
                         const char *out);
#endif
