/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What avro-c alone (avro_value_read, no walk before it) does with lengths
 * and counts announced far beyond the message (docs/sources-registry.md,
 * "Hostile Avro"). Run under an address-space limit, one case per process:
 *   (ulimit -v 2000000; build/dev/bench/measure_avro_alone string)
 *   (ulimit -v 2000000; build/dev/bench/measure_avro_alone nulls)
 *   (ulimit -v 2000000; build/dev/bench/measure_avro_alone ints) */
#include <avro.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static size_t put_long(unsigned char *o, int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  size_t n = 0;
  while (u >= 0x80) {
    o[n++] = (unsigned char)(u | 0x80);
    u >>= 7;
  }
  o[n++] = (unsigned char)u;
  return n;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  unsigned char buf[32];
  size_t n;
  const char *schema;
  if (!strcmp(what, "string")) {
    schema = "\"string\"";
    n = put_long(buf, INT64_C(1) << 40);
    buf[n++] = 'x';
  } else if (!strcmp(what, "nulls")) {
    schema = "{\"type\":\"array\",\"items\":\"null\"}";
    n = put_long(buf, INT64_C(1) << 31);
    buf[n++] = 0;
  } else if (!strcmp(what, "ints")) {
    schema = "{\"type\":\"array\",\"items\":\"int\"}";
    n = put_long(buf, INT64_C(1) << 31);
    buf[n++] = 2;
  } else {
    fprintf(stderr, "usage: measure_avro_alone string|nulls|ints\n");
    return 2;
  }
  avro_schema_t s;
  if (avro_schema_from_json_length(schema, strlen(schema), &s))
    return 1;
  avro_value_iface_t *iface = avro_generic_class_from_schema(s);
  avro_value_t v;
  avro_generic_value_new(iface, &v);
  avro_reader_t r = avro_reader_memory((const char *)buf, (int64_t)n);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int rc = avro_value_read(r, &v);
  clock_gettime(CLOCK_MONOTONIC, &b);
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  printf("%s (%zu-byte message): rc=%d %s, %.2f s, max RSS %ld MiB\n", what, n, rc,
         rc ? avro_strerror() : "", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
         u.ru_maxrss / 1024);
  avro_reader_free(r);
  avro_value_decref(&v);
  avro_value_iface_decref(iface);
  avro_schema_decref(s);
  return 0;
}
