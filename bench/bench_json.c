/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The JSON scanner (src/codec/json_scan.c) against yajl, on files of JSON
 * lines held in memory (or, with --whole, each file one message):
 *   bench_json FILE...           decode time per message, scanner then yajl alone
 *   bench_json --diff FILE...    every message decoded both ways and compared:
 *                                status, reason, event; exit 1 at the first
 *                                difference, with the message */
#include "healthscore/codec.h"
#include "json_scan.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "bench_json: cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

int main(int argc, char **argv) {
  bool diff = false, whole = false;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
    if (strcmp(argv[i], "--diff") == 0)
      diff = true;
    else if (strcmp(argv[i], "--whole") == 0)
      whole = true;
    else
      break;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: bench_json [--diff] [--whole] FILE...\n");
    return 2;
  }
  hs_decoder_t *scan, *yajl;
  if (hs_decoder_new(&scan, 0) || hs_decoder_new(&yajl, 0))
    return 2;
  hs__decoder_json_scan(yajl, false);
  uint64_t n = 0, rejected = 0, bytes = 0;
  double t_scan = 0, t_yajl = 0;
  for (; i < argc; i++) {
    size_t len;
    char *buf = slurp(argv[i], &len);
    bytes += len;
    /* the messages: lines, or the whole file */
    size_t cap = 1 << 16, m = 0;
    size_t *off = malloc(cap * sizeof *off), *mlen = malloc(cap * sizeof *mlen);
    for (size_t pos = 0; pos < len || (whole && m == 0);) {
      const char *nl = whole ? NULL : memchr(buf + pos, '\n', len - pos);
      size_t k = nl ? (size_t)(nl - (buf + pos)) : len - pos;
      if (m == cap) {
        off = realloc(off, (cap *= 2) * sizeof *off);
        mlen = realloc(mlen, cap * sizeof *mlen);
      }
      off[m] = pos;
      mlen[m++] = k;
      pos += k + 1;
      if (whole)
        break;
    }
    char why[1024];
    if (diff) {
      for (size_t k = 0; k < m; k++) {
        if (hs__json_scan_compare(scan, yajl, buf + off[k], mlen[k], why, sizeof why)) {
          printf("DIFFERS: %s message %zu: %s\n  %.*s\n", argv[i], k + 1, why,
                 (int)(mlen[k] < 400 ? mlen[k] : 400), buf + off[k]);
          return 1;
        }
      }
    } else {
      hs_event_t ev;
      hs_err_t err;
      double t0 = now_s();
      for (size_t k = 0; k < m; k++)
        rejected += hs_event_decode(scan, buf + off[k], mlen[k], HS_FMT_JSON, &ev, &err) != 0;
      t_scan += now_s() - t0;
      t0 = now_s();
      for (size_t k = 0; k < m; k++)
        hs_event_decode(yajl, buf + off[k], mlen[k], HS_FMT_JSON, &ev, &err);
      t_yajl += now_s() - t0;
    }
    n += m;
    free(off);
    free(mlen);
    free(buf);
  }
  if (diff)
    printf("identical: %llu messages (%llu bytes) decoded by the scanner and by yajl\n",
           (unsigned long long)n, (unsigned long long)bytes);
  else
    printf("messages=%llu rejected=%llu scanner_ns_per_message=%.1f yajl_ns_per_message=%.1f "
           "yajl_over_scanner=%.2f\n",
           (unsigned long long)n, (unsigned long long)rejected, t_scan * 1e9 / (double)n,
           t_yajl * 1e9 / (double)n, t_yajl / t_scan);
  hs_decoder_free(scan);
  hs_decoder_free(yajl);
  return 0;
}
