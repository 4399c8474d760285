/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Mapping benchmark: the cost per message of a mapping (parse the record
 * into a tree, apply the rules, encode the engine event) on one core, from a
 * JSON lines file of raw records held in memory and repeated.
 *   bench_map MAPPING RECORDS [ROUNDS]
 * prints one line: mapping=... records=... ns_per_message=... */
#include "healthscore/mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_map MAPPING RECORDS.jsonl [ROUNDS]\n");
    return 2;
  }
  long rounds = argc > 3 ? atol(argv[3]) : 20000;
  hs_mapping_t *m;
  hs_err_t err = {0};
  if (hs_mapping_load_file(argv[1], &m, &err)) {
    fprintf(stderr, "bench_map: %s\n", err.msg);
    return 1;
  }
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  hs_buf_t in;
  hs_buf_init(&in);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    hs_buf_append(&in, chunk, n);
  fclose(f);
  hs_doc_parser_t *p;
  if (hs_doc_parser_new(&p, 0))
    return 1;
  hs_buf_t out;
  hs_buf_init(&out);
  uint64_t messages = 0, events = 0, parse_ns = 0;
  double t0 = now_s();
  for (long r = 0; r < rounds; r++) {
    for (char *line = in.data, *nl; line && line < in.data + in.len; line = nl ? nl + 1 : NULL) {
      nl = memchr(line, '\n', (size_t)(in.data + in.len - line));
      size_t len = nl ? (size_t)(nl - line) : (size_t)(in.data + in.len - line);
      if (!len)
        continue;
      msgpack_object doc;
      messages++;
      if (hs_doc_parse_json(p, line, len, &doc, &err))
        continue;
      hs_map_input_t mi = {.doc = &doc};
      out.len = 0;
      events += hs_mapping_apply(m, &mi, HS_FMT_MSGPACK, &out, NULL, &err) == HS_MAP_EVENT;
    }
    if (r == 0) { /* the parse alone, once, for the split */
      double a = now_s();
      for (int k = 0; k < 200; k++)
        for (char *line = in.data, *nl; line && line < in.data + in.len;
             line = nl ? nl + 1 : NULL) {
          nl = memchr(line, '\n', (size_t)(in.data + in.len - line));
          size_t len = nl ? (size_t)(nl - line) : (size_t)(in.data + in.len - line);
          msgpack_object doc;
          if (len)
            (void)hs_doc_parse_json(p, line, len, &doc, &err);
        }
      parse_ns = (uint64_t)((now_s() - a) * 1e9);
      t0 += now_s() - a;
    }
  }
  double dt = now_s() - t0;
  uint64_t per_round = rounds ? messages / (uint64_t)rounds : 0;
  printf("mapping=%s records=%llu rounds=%ld events=%llu ns_per_message=%.0f "
         "parse_ns_per_message=%.0f bytes_per_message=%.0f\n",
         hs_mapping_source(m), (unsigned long long)per_round, rounds, (unsigned long long)events,
         dt * 1e9 / (double)(messages ? messages : 1),
         per_round ? (double)parse_ns / (200.0 * (double)per_round) : 0,
         per_round ? (double)in.len / (double)per_round : 0);
  hs_buf_free(&out);
  hs_buf_free(&in);
  hs_doc_parser_free(p);
  hs_mapping_free(m);
  return 0;
}
