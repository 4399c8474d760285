/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* simdjson (Debian's libsimdjson-dev) against healthscore's JSON decoder, on
 * files of JSON lines held in memory, for the choice of JSON parser
 * (bench/README.md, "JSON parsers"):
 *   measure_simdjson FILE...              ns per message, each way in turn,
 *                                         three passes each, medians
 *   measure_simdjson --only WAY FILE...   one pass of one way (none, decoder,
 *                                         dom, ondemand): for callgrind
 *   measure_simdjson --strict FILE...     each file one message: accepted as
 *                                         a JSON object by yajl as the decoder
 *                                         runs it and by simdjson, and where
 *                                         they differ
 * The ways: "decoder" is hs_event_decode, every check of the event schema
 * included; "dom" is simdjson parsing the message into its DOM, no field
 * read; "ondemand" is simdjson's On-Demand API reading each field of the
 * event object by its key, the least a decoder on it would do. */
#include <simdjson.h>

/* base.h declares a C11 _Noreturn function; C++ spells it otherwise */
#define _Noreturn __attribute__((noreturn))
extern "C" {
#include <yajl/yajl_parse.h>

#include "healthscore/base.h"
#include "healthscore/codec.h"
#include "healthscore/event.h"
}

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

namespace {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A file's bytes. */
std::string slurp(const char *path) {
  FILE *f = std::fopen(path, "rb");
  if (!f) {
    std::perror(path);
    std::exit(2);
  }
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    s.append(buf, n);
  std::fclose(f);
  return s;
}

struct msg_t {
  const char *p;
  size_t n;
};

/* The non-empty lines of p[0..n). */
std::vector<msg_t> lines(const char *p, size_t n) {
  std::vector<msg_t> v;
  size_t at = 0;
  while (at < n) {
    const void *nl = std::memchr(p + at, '\n', n - at);
    size_t end = nl ? (size_t)((const char *)nl - p) : n;
    if (end > at)
      v.push_back({p + at, end - at});
    at = end + 1;
  }
  return v;
}

/* The ways; each returns the messages it accepted. */
size_t way_decoder(const std::vector<msg_t> &msgs) {
  hs_decoder_t *d;
  if (hs_decoder_new(&d, 0))
    std::exit(1);
  size_t ok = 0;
  hs_event_t ev;
  hs_err_t err;
  for (const msg_t &m : msgs)
    ok += hs_event_decode(d, m.p, m.n, HS_FMT_JSON, &ev, &err) == 0;
  hs_decoder_free(d);
  return ok;
}

size_t way_dom(const std::vector<msg_t> &msgs) {
  simdjson::dom::parser parser;
  size_t ok = 0;
  for (const msg_t &m : msgs) {
    simdjson::dom::element doc;
    ok += parser.parse(m.p, m.n, false).get(doc) == simdjson::SUCCESS && doc.is_object();
  }
  return ok;
}

/* Every field of the object read by its key: strings, numbers, and the
 * attributes object's strings; a message that fails anywhere is not counted. */
size_t way_ondemand(const std::vector<msg_t> &msgs) {
  simdjson::ondemand::parser parser;
  size_t ok = 0;
  volatile size_t sink = 0; /* what was read, so that nothing is skipped */
  for (const msg_t &m : msgs) {
    simdjson::padded_string_view in(m.p, m.n, m.n + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(in).get(doc) || doc.get_object().get(obj))
      continue;
    bool good = true;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        good = false;
        break;
      }
      simdjson::ondemand::value v = field.value();
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) {
        good = false;
        break;
      }
      if (t == simdjson::ondemand::json_type::string) {
        std::string_view s;
        good = !v.get_string().get(s);
        sink = sink + s.size() + key.size();
      } else if (t == simdjson::ondemand::json_type::number) {
        double x;
        good = !v.get_double().get(x);
        sink = sink + (size_t)(x != 0);
      } else if (t == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object attrs;
        good = !v.get_object().get(attrs);
        for (auto a : attrs) {
          std::string_view k, s;
          if (a.unescaped_key().get(k) || a.value().get_string().get(s)) {
            good = false;
            break;
          }
          sink = sink + k.size() + s.size();
        }
      } else {
        std::string_view raw; /* true, false, null (events hold no arrays) */
        raw = v.raw_json_token();
        good = !raw.empty();
        sink = sink + raw.size();
      }
      if (!good)
        break;
    }
    ok += good;
  }
  return ok;
}

typedef size_t (*way_fn)(const std::vector<msg_t> &);
struct way_t {
  const char *name;
  way_fn fn;
};
const way_t ways[] = {{"decoder", way_decoder}, {"dom", way_dom}, {"ondemand", way_ondemand}};

/* yajl's verdict on a text as the decoder runs it: callbacks for every
 * token, numbers converted (so that one out of range is an error), and an
 * object at the top. The decoder refuses more on its own: unpaired UTF-16
 * surrogates (yajl decodes them into other bytes), nesting past 32. */
int yes(void *) {
  return 1;
}
int yes_b(void *, int) {
  return 1;
}
int yes_i(void *, long long) {
  return 1;
}
int yes_d(void *, double) {
  return 1;
}
int yes_s(void *, const unsigned char *, size_t) {
  return 1;
}
const yajl_callbacks every = {yes, yes_b, yes_i, yes_d, nullptr, yes_s, yes, yes_s, yes, yes, yes};

bool yajl_accepts(const std::string &s) {
  size_t i = s.find_first_not_of(" \t\r\n");
  if (i == std::string::npos || s[i] != '{')
    return false;
  yajl_handle h = yajl_alloc(&every, nullptr, nullptr);
  bool ok = yajl_parse(h, (const unsigned char *)s.data(), s.size()) == yajl_status_ok &&
            yajl_complete_parse(h) == yajl_status_ok;
  yajl_free(h);
  return ok;
}

int strict(int argc, char **argv) {
  simdjson::dom::parser parser;
  size_t both = 0, neither = 0, only_yajl = 0, only_simdjson = 0;
  for (int i = 0; i < argc; i++) {
    std::string s = slurp(argv[i]);
    bool y = yajl_accepts(s);
    simdjson::dom::element doc;
    bool sj =
        parser.parse(s.data(), s.size(), true).get(doc) == simdjson::SUCCESS && doc.is_object();
    both += y && sj;
    neither += !y && !sj;
    if (y != sj) {
      (y ? only_yajl : only_simdjson)++;
      if (only_yajl + only_simdjson <= 12)
        std::printf("only %s accepts %s (%zu bytes): %.60s\n", y ? "yajl" : "simdjson", argv[i],
                    s.size(), s.c_str());
    }
  }
  std::printf("texts=%d both=%zu neither=%zu only_yajl=%zu only_simdjson=%zu\n", argc, both,
              neither, only_yajl, only_simdjson);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 1 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "--help"))) {
    std::printf("measure_simdjson (healthscore %s), simdjson %s\n"
                "usage: measure_simdjson [--only none|decoder|dom|ondemand | --strict] FILE...\n",
                HS_VERSION, STRINGIFY(SIMDJSON_VERSION));
    return 0;
  }
  if (argc > 1 && !std::strcmp(argv[1], "--strict"))
    return strict(argc - 2, argv + 2);
  const char *only = nullptr;
  int first = 1;
  if (argc > 2 && !std::strcmp(argv[1], "--only")) {
    only = argv[2];
    first = 3;
  }
  if (first >= argc) {
    std::fprintf(stderr, "usage: measure_simdjson [--only WAY | --strict] FILE...\n");
    return 2;
  }
  std::string all;
  for (int i = first; i < argc; i++) {
    all += slurp(argv[i]);
    all += '\n';
  }
  const size_t size = all.size();
  /* simdjson reads up to SIMDJSON_PADDING bytes past a message: the lines
     after it, and after the last these zeros */
  all.append(simdjson::SIMDJSON_PADDING, '\0');
  std::vector<msg_t> msgs = lines(all.data(), size);
  if (only) { /* "none": the files read and split, for the baseline */
    if (!std::strcmp(only, "none"))
      std::printf("way=none messages=%zu\n", msgs.size());
    for (const way_t &w : ways)
      if (!std::strcmp(only, w.name))
        std::printf("way=%s messages=%zu accepted=%zu\n", w.name, msgs.size(), w.fn(msgs));
    return 0;
  }
  std::printf("messages=%zu bytes=%zu simdjson=%s implementation=%s\n", msgs.size(), size,
              STRINGIFY(SIMDJSON_VERSION), simdjson::get_active_implementation()->name().c_str());
  for (const way_t &w : ways) {
    double t[3];
    size_t ok = 0;
    for (double &x : t) {
      double t0 = now_s();
      ok = w.fn(msgs);
      x = now_s() - t0;
    }
    std::sort(t, t + 3);
    std::printf("way=%s accepted=%zu ns_per_message=%.1f\n", w.name, ok, t[1] * 1e9 / msgs.size());
  }
  return 0;
}
