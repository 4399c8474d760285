/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore map --mapping FILE [INPUT]`: raw records (JSON lines or
 * msgpack) through a mapping, engine events out, so that a mapping is tried
 * on captured traffic before it is deployed and
 * `healthscore map ... | healthscore replay` scores what the daemon would. */
#include "cmds.h"
#include "read_input.h"

#include "healthscore/mapping.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEADERS 32

static void map_usage(FILE *f) {
  fprintf(f, "usage: healthscore map --mapping FILE [--format json|msgpack] [--key K]\n"
             "                       [--header NAME=VALUE]... [INPUT]\n\n"
             "Maps raw records (JSON lines or concatenated msgpack maps, told apart per\n"
             "record; INPUT or standard input) to engine events with a mapping file\n"
             "(docs/sources.md). Events go to standard output as JSON lines or msgpack,\n"
             "ready for 'healthscore replay'. Each rejected record is reported on\n"
             "standard error with its reason (source, rule and path); a summary per rule\n"
             "follows at the end. Exits 0 when no record was rejected, 1 otherwise, 2 on\n"
             "a usage or mapping file error.\n\n"
             "  -m, --mapping FILE       the mapping (required)\n"
             "  -f, --format F           json (default) or msgpack output\n"
             "  -k, --key K              the message key every record is read with ($key)\n"
             "  -H, --header NAME=VALUE  a message header every record carries\n"
             "                           ($headers.NAME); repeatable\n"
             "  -q, --quiet              no summary\n"
             "  -h, --help               this text\n");
}

typedef struct mapper_s {
  hs_mapping_t *m;
  hs_doc_parser_t *parser;
  hs_map_input_t in;
  hs_format_t fmt;
  hs_buf_t out;
  uint64_t records, events, no_event, unmatched, rejected;
} mapper_t;

static void one(mapper_t *mp, const char *rec, size_t len, bool json, uint64_t line) {
  msgpack_object doc;
  hs_err_t err = {0};
  mp->records++;
  int rc = json ? hs_doc_parse_json(mp->parser, rec, len, &doc, &err)
                : hs_doc_unpack_msgpack(mp->parser, rec, len, &doc, &err);
  if (!rc) {
    mp->in.doc = &doc;
    rc = hs_mapping_apply(mp->m, &mp->in, mp->fmt, &mp->out, NULL, &err);
  } else {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", err.msg);
    hs_err_set(&err, rc, "%s: %s", hs_mapping_source(mp->m), tmp);
    rc = HS_MAP_REJECT;
  }
  if (rc == HS_MAP_EVENT) {
    mp->events++;
    if (mp->fmt == HS_FMT_JSON)
      hs_buf_append(&mp->out, "\n", 1);
    fwrite(mp->out.data, 1, mp->out.len, stdout);
    mp->out.len = 0;
  } else if (rc == HS_MAP_NO_EVENT) {
    mp->no_event++;
  } else if (rc == HS_MAP_UNMATCHED) {
    mp->unmatched++;
  } else {
    mp->rejected++;
    if (json)
      fprintf(stderr, "healthscore map: record %llu (line %llu): %s\n",
              (unsigned long long)mp->records, (unsigned long long)line, err.msg);
    else
      fprintf(stderr, "healthscore map: record %llu: %s\n", (unsigned long long)mp->records,
              err.msg);
  }
}

/* Records: `{` starts a JSON one ending at its line's end, a msgpack map
 * header a msgpack one; blanks between records are skipped. */
static void run(mapper_t *mp, const char *buf, size_t len) {
  uint64_t line = 1;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)buf[i];
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
      line += c == '\n';
      i++;
      continue;
    }
    size_t n;
    if (c != '{' && !(c >= 0x80 && c <= 0x8f) && c != 0xde && c != 0xdf) {
      const char *nl = memchr(buf + i, '\n', len - i);
      size_t end = nl ? (size_t)(nl - buf) : len;
      mp->records++;
      mp->rejected++;
      fprintf(stderr,
              "healthscore map: record %llu (line %llu): %s: neither a JSON object nor a msgpack "
              "map\n",
              (unsigned long long)mp->records, (unsigned long long)line, hs_mapping_source(mp->m));
      i = end;
    } else if (c == '{') {
      const char *nl = memchr(buf + i, '\n', len - i);
      size_t end = nl ? (size_t)(nl - buf) : len;
      one(mp, buf + i, end - i, true, line);
      i = end;
    } else if (hs_msgpack_object_size(buf + i, len - i, &n) == 0) {
      one(mp, buf + i, n, false, line);
      i += n;
    } else {
      one(mp, buf + i, len - i, false, line); /* reports why */
      i = len;
    }
  }
}

static void summary(const mapper_t *mp) {
  fprintf(stderr,
          "healthscore map: %s: %llu records: %llu events, %llu without event, %llu unmatched, "
          "%llu rejected\n",
          hs_mapping_source(mp->m), (unsigned long long)mp->records, (unsigned long long)mp->events,
          (unsigned long long)mp->no_event, (unsigned long long)mp->unmatched,
          (unsigned long long)mp->rejected);
  for (size_t i = 0; i < hs_mapping_n_rules(mp->m); i++) {
    const hs_map_stats_t *s = hs_mapping_rule_stats(mp->m, i);
    fprintf(stderr, "  rule %-28s %-28s matched %llu, rejected %llu\n",
            hs_mapping_rule_name(mp->m, i), hs_mapping_rule_where(mp->m, i),
            (unsigned long long)s->matched, (unsigned long long)s->rejected);
  }
}

int hs_cmd_map(int argc, char **argv) {
  static const struct option opts[] = {{"mapping", required_argument, NULL, 'm'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"key", required_argument, NULL, 'k'},
                                       {"header", required_argument, NULL, 'H'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *mapping = NULL;
  mapper_t mp = {.fmt = HS_FMT_JSON};
  hs_map_header_t headers[MAX_HEADERS];
  char *names[MAX_HEADERS] = {0};
  bool quiet = false;
  int c, status = 2;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:f:k:H:qh", opts, NULL)) != -1) {
    if (c == 'm') {
      mapping = optarg;
    } else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "msgpack"))) {
      mp.fmt = optarg[0] == 'j' ? HS_FMT_JSON : HS_FMT_MSGPACK;
    } else if (c == 'k') {
      mp.in.key = optarg;
      mp.in.key_len = strlen(optarg);
    } else if (c == 'H' && strchr(optarg, '=') && mp.in.n_headers < MAX_HEADERS) {
      char *eq = strchr(optarg, '=');
      size_t h = mp.in.n_headers++;
      names[h] = hs_strndup(optarg, (size_t)(eq - optarg));
      headers[h] = (hs_map_header_t){names[h] ? names[h] : "", eq + 1, strlen(eq + 1)};
    } else if (c == 'q') {
      quiet = true;
    } else if (c == 'h') {
      map_usage(stdout);
      status = 0;
      goto done;
    } else {
      map_usage(stderr);
      goto done;
    }
  }
  mp.in.headers = headers;
  if (!mapping || argc - optind > 1) {
    map_usage(stderr);
    goto done;
  }
  hs_err_t err = {0};
  if (hs_mapping_load_file(mapping, &mp.m, &err)) {
    fprintf(stderr, "healthscore map: %s\n", err.msg);
    goto done;
  }
  status = 1;
  hs_buf_t in;
  hs_buf_init(&in);
  hs_buf_init(&mp.out);
  if (hs_doc_parser_new(&mp.parser, 0) == 0 &&
      !hs_tool_read_all("map", optind < argc ? argv[optind] : NULL, &in)) {
    run(&mp, in.data, in.len);
    fflush(stdout);
    if (!quiet)
      summary(&mp);
    status = mp.rejected ? 1 : 0;
  }
  hs_buf_free(&in);
  hs_buf_free(&mp.out);
  hs_doc_parser_free(mp.parser);
  hs_mapping_free(mp.m);
done:
  for (size_t i = 0; i < MAX_HEADERS; i++)
    hs_free(names[i]);
  return status;
}
