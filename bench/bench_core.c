/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Core benchmark: decode + update + score + alert rules per event, on one
 * core, from an events file held in memory (JSON lines or msgpack, as written
 * by `healthscore gen`). Prints one line of key=value figures per phase. */
#include "healthscore/codec.h"
#include "healthscore/config.h"
#include "healthscore/core.h"
#include "healthscore/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct msg_s {
  uint32_t off, len;
} msg_t;

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "bench_core: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Splits the file into messages. */
static msg_t *split(const char *buf, size_t len, hs_format_t fmt, size_t *n_out) {
  size_t cap = 1 << 20, n = 0;
  msg_t *v = malloc(cap * sizeof *v);
  size_t pos = 0;
  while (pos < len) {
    size_t m;
    if (fmt == HS_FMT_JSON) {
      const char *nl = memchr(buf + pos, '\n', len - pos);
      m = nl ? (size_t)(nl - (buf + pos)) : len - pos;
    } else if (hs_msgpack_object_size(buf + pos, len - pos, &m) != 0) {
      fprintf(stderr, "bench_core: broken msgpack at byte %zu\n", pos);
      exit(1);
    }
    if (m) {
      if (n == cap)
        v = realloc(v, (cap *= 2) * sizeof *v);
      v[n++] = (msg_t){(uint32_t)pos, (uint32_t)m};
    }
    pos += m + (fmt == HS_FMT_JSON);
  }
  *n_out = n;
  return v;
}

static uint64_t g_alerts;
static void on_eval(void *ud, const hs_account_t *a, const hs_eval_t *ev) {
  (void)ud;
  (void)a;
  g_alerts += ev->n_alerts;
}

enum { ENCODE_PASSES = 5 };

typedef struct encoder_s {
  const hs_model_t *m;
  hs_buf_t out;
  uint64_t accounts, bytes, failed;
} encoder_t;

static void encode_one(void *ud, hs_account_t *a) {
  encoder_t *en = ud;
  en->out.len = 0;
  en->failed += hs_account_encode(en->m, a, &en->out) != 0;
  en->accounts++;
  en->bytes += en->out.len;
}

/* Encodes every account's state ENCODE_PASSES times (into one buffer, as
 * the engine's flush builds its commands). */
static void bench_encode(hs_engine_t *e, const hs_model_t *m) {
  encoder_t en = {.m = m};
  hs_buf_init(&en.out);
  double t0 = now_s();
  for (int i = 0; i < ENCODE_PASSES; i++)
    hs_engine_foreach(e, encode_one, &en);
  double t = now_s() - t0;
  printf("phase=encode states=%llu failed=%llu bytes_per_state=%.0f seconds=%.3f "
         "states_per_s=%.0f ns_per_state=%.1f\n",
         (unsigned long long)en.accounts, (unsigned long long)en.failed,
         en.accounts ? (double)en.bytes / (double)en.accounts : 0.0, t, en.accounts / t,
         en.accounts ? t * 1e9 / (double)en.accounts : 0.0);
  hs_buf_free(&en.out);
}

/* --rewrites: how much of a state written at a flush is the same as the
 * account's previous write, by top-level entry of the state's map, with a
 * flush every `every` events (the accounts the events touched since). */
enum { MAX_ENTRIES = 32, PREV_CAP = 1u << 22 };

typedef struct prev_s {
  const hs_account_t *a;
  char *state;
  size_t len;
  bool dirty;
} prev_t;

typedef struct entry_stat_s {
  char key[16];
  double bytes, same;
} entry_stat_t;

/* The account's entry, or NULL once the table is half full (accounts past
 * PREV_CAP / 2 are not followed). */
static prev_t *prev_of(prev_t *tab, size_t *used, const hs_account_t *a) {
  size_t h = (size_t)(((uintptr_t)a >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (PREV_CAP - 1);
  while (tab[h].a && tab[h].a != a)
    h = (h + 1) & (PREV_CAP - 1);
  if (!tab[h].a) {
    if (*used >= PREV_CAP / 2)
      return NULL;
    (*used)++;
    tab[h].a = a;
  }
  return &tab[h];
}

/* The [start, end) of each top-level entry (key and value) of a state. */
static int entries(const char *s, size_t len, size_t *at, int max) {
  size_t pos = 1, k; /* after the fixmap head */
  int n = 0;
  while (pos < len && n < max) {
    at[n++] = pos;
    for (int half = 0; half < 2; half++) {
      if (hs_msgpack_object_size(s + pos, len - pos, &k))
        return -1;
      pos += k;
    }
  }
  at[n] = pos;
  return n;
}

static void rewrite(const hs_model_t *m, prev_t *pv, hs_buf_t *out, entry_stat_t *st, int *n_st,
                    uint64_t *writes, uint64_t *encodes) {
  out->len = 0;
  if (hs_account_encode(m, pv->a, out))
    return;
  (*encodes)++;
  size_t at[MAX_ENTRIES + 1], pat[MAX_ENTRIES + 1];
  int n = entries(out->data, out->len, at, MAX_ENTRIES);
  int pn = pv->state ? entries(pv->state, pv->len, pat, MAX_ENTRIES) : -1;
  if (n > 0 && pn == n) {
    for (int i = 0; i < n; i++) {
      size_t len = at[i + 1] - at[i];
      if (i >= *n_st) { /* the key, a fixstr after the entry's start */
        size_t kl = (size_t)out->data[at[i]] & 31;
        snprintf(st[i].key, sizeof st[i].key, "%.*s", (int)kl, out->data + at[i] + 1);
        *n_st = i + 1;
      }
      st[i].bytes += (double)len;
      if (len == pat[i + 1] - pat[i] && memcmp(out->data + at[i], pv->state + pat[i], len) == 0)
        st[i].same += (double)len;
    }
    (*writes)++;
  }
  free(pv->state);
  pv->state = malloc(out->len);
  memcpy(pv->state, out->data, out->len);
  pv->len = out->len;
  pv->dirty = false;
}

static void bench_rewrites(const hs_model_t *m, const char *buf, const msg_t *msgs, size_t n,
                           hs_format_t fmt, long every) {
  hs_engine_t *e;
  hs_decoder_t *dec;
  hs_engine_new(&e, m, NULL, NULL);
  hs_decoder_new(&dec, 0);
  prev_t *tab = calloc(PREV_CAP, sizeof *tab), **dirty = malloc(PREV_CAP * sizeof *dirty);
  entry_stat_t st[MAX_ENTRIES];
  memset(st, 0, sizeof st);
  int n_st = 0;
  size_t n_dirty = 0, used = 0;
  uint64_t writes = 0, encodes = 0, flushes = 0;
  hs_buf_t out;
  hs_buf_init(&out);
  hs_err_t err = {0};
  hs_event_t ev;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && hs_event_decode(dec, buf + msgs[i].off, msgs[i].len, fmt, &ev, &err) == 0 &&
        hs_engine_apply(e, &ev) == 0) {
      prev_t *pv = prev_of(tab, &used, hs_engine_find(e, ev.account_id));
      if (pv && !pv->dirty) {
        pv->dirty = true;
        dirty[n_dirty++] = pv;
      }
    }
    if (i == n || (i + 1) % (size_t)every == 0) {
      for (size_t d = 0; d < n_dirty; d++)
        rewrite(m, dirty[d], &out, st, &n_st, &writes, &encodes);
      flushes++;
      n_dirty = 0;
    }
  }
  double bytes = 0, same = 0;
  for (int i = 0; i < n_st; i++)
    bytes += st[i].bytes, same += st[i].same;
  /* rewrites: the writes of an account written before, which are compared */
  printf("phase=rewrites every=%ld flushes=%llu writes=%llu rewrites=%llu events_per_write=%.1f "
         "bytes_per_state=%.0f unchanged_pct=%.1f\n",
         every, (unsigned long long)flushes, (unsigned long long)encodes,
         (unsigned long long)writes, encodes ? (double)n / (double)encodes : 0.0,
         writes ? bytes / (double)writes : 0.0, bytes ? 100 * same / bytes : 0.0);
  for (int i = 0; i < n_st; i++)
    printf("  entry=%s bytes_per_state=%.0f share_pct=%.1f unchanged_pct=%.1f\n", st[i].key,
           st[i].bytes / (double)writes, 100 * st[i].bytes / bytes,
           st[i].bytes ? 100 * st[i].same / st[i].bytes : 0.0);
  for (size_t i = 0; i < PREV_CAP; i++)
    free(tab[i].state);
  free(tab);
  free(dirty);
  hs_buf_free(&out);
  hs_decoder_free(dec);
  hs_engine_free(e);
}

enum { AHEAD = 3 };

/* Decodes and applies msgs[0..n) of buf into `e`, each event decoded AHEAD
 * events before it is applied (dq: AHEAD + 1 decoders); returns the
 * seconds taken. */
static double apply_all(hs_engine_t *e, hs_decoder_t **dq, const char *buf, const msg_t *msgs,
                        size_t n, hs_format_t fmt, bool prefetch) {
  hs_event_t evq[AHEAD + 1];
  uint64_t hq[AHEAD + 1];
  bool okq[AHEAD + 1] = {false};
  hs_err_t err = {0};
  double t0 = now_s();
  for (size_t i = 0; i < n + AHEAD; i++) {
    size_t k = i % (AHEAD + 1);
    if (i < n) {
      okq[k] = hs_event_decode(dq[k], buf + msgs[i].off, msgs[i].len, fmt, &evq[k], &err) == 0;
      if (okq[k]) {
        hq[k] = hs_engine_hash(evq[k].account_id);
        if (prefetch)
          hs_engine_prefetch(e, hq[k], &evq[k], 0);
      }
    }
    size_t k1 = (i - 1) % (AHEAD + 1), k2 = (i - 2) % (AHEAD + 1), k3 = (i - 3) % (AHEAD + 1);
    if (i >= 1 && i - 1 < n && okq[k1] && prefetch)
      hs_engine_prefetch(e, hq[k1], &evq[k1], 1);
    if (i >= 2 && i - 2 < n && okq[k2] && prefetch)
      hs_engine_prefetch(e, hq[k2], &evq[k2], 2);
    if (i >= 3 && okq[k3])
      hs_engine_apply_hashed(e, hq[k3], &evq[k3]);
  }
  return now_s() - t0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("bench_core %s\n", HS_VERSION);
    return 0;
  }
  bool decode_only = false, prefetch = true, encode = false, usage = argc < 3;
  long passes = 1, rewrites = 0;
  for (int i = 3; i < argc && !usage; i++) {
    if (strcmp(argv[i], "--decode-only") == 0)
      decode_only = true;
    else if (strcmp(argv[i], "--no-prefetch") == 0)
      prefetch = false;
    else if (strcmp(argv[i], "--encode") == 0)
      encode = true;
    else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
      usage = (passes = strtol(argv[++i], NULL, 10)) < 1 || passes > 10000;
    else if (strcmp(argv[i], "--rewrites") == 0 && i + 1 < argc)
      usage = (rewrites = strtol(argv[++i], NULL, 10)) < 1;
    else
      usage = true;
  }
  if (usage) {
    fprintf(stderr,
            "usage: bench_core CONFIG.yaml EVENTS [--decode-only | --no-prefetch | --encode]\n"
            "                  [--passes N] [--rewrites EVERY]\n"
            "Times decode, then decode + apply (update, score, alert rules) of every\n"
            "event in EVENTS (JSON lines or msgpack from `healthscore gen`), N times\n"
            "(default 1) into a new engine each, the time per event taken over all, and\n"
            "apart for the first pass (memory first touched: minor page faults) and the\n"
            "later ones (memory the pass before freed, reused); with\n"
            "--encode, then the encoding of every account's state (as written to\n"
            "Redis), %d times over; with --rewrites, then the events applied again\n"
            "with a flush every EVERY events, and how much of each state a flush\n"
            "writes is the same as the account's previous write, by entry.\n",
            ENCODE_PASSES);
    return 2;
  }
  hs_err_t err = {0};
  hs_config_t *cfg;
  hs_model_t *m;
  if (hs_config_load_file(argv[1], &cfg, &err) || hs_model_compile(cfg, &m, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  size_t len, n;
  char *buf = slurp(argv[2], &len);
  hs_format_t fmt = hs_detect_format(buf, len);
  msg_t *msgs = split(buf, len, fmt, &n);
  hs_decoder_t *dec;
  hs_decoder_new(&dec, 0);
  hs_event_t ev;

  double t0 = now_s();
  uint64_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += hs_event_decode(dec, buf + msgs[i].off, msgs[i].len, fmt, &ev, &err) != 0;
  double t_dec = now_s() - t0;
  printf("phase=decode format=%s events=%zu bytes=%zu rejected=%llu seconds=%.3f "
         "events_per_s=%.0f ns_per_event=%.1f\n",
         fmt == HS_FMT_JSON ? "json" : "msgpack", n, len, (unsigned long long)bad, t_dec, n / t_dec,
         t_dec * 1e9 / n);
  if (!decode_only) {
    /* events are decoded three ahead of their application, so that their
       accounts can be prefetched in three stages (hs_engine_prefetch): four
       decoders, as each event borrows its decoder's memory */
    hs_decoder_t *dq[AHEAD + 1] = {dec};
    for (int k = 1; k <= AHEAD; k++)
      hs_decoder_new(&dq[k], 0);
    hs_engine_t *e = NULL;
    /* the first pass creates every account in memory the process touches
       for the first time (each page a fault); later passes, into a new
       engine each, mostly reuse the memory the one before freed: their
       figures apart show what an account's first event costs and what an
       event costs on accounts already held */
    double t_all = 0, t_first = 0;
    long faults_first = 0, faults_all = 0;
    for (long p = 0; p < passes; p++) {
      hs_engine_free(e);
      hs_engine_new(&e, m, on_eval, NULL);
      long f0 = minor_faults();
      double t = apply_all(e, dq, buf, msgs, n, fmt, prefetch);
      long f = minor_faults() - f0;
      t_all += t;
      faults_all += f;
      if (p == 0) {
        t_first = t;
        faults_first = f;
      }
    }
    for (int k = 1; k <= AHEAD; k++)
      hs_decoder_free(dq[k]);
    hs_engine_stats_t st;
    hs_engine_stats(e, &st);
    const double total = (double)n * (double)passes;
    printf("phase=decode+score format=%s events=%zu passes=%ld accounts=%llu evaluations=%llu "
           "alerts=%llu seconds=%.3f events_per_s=%.0f ns_per_event=%.1f "
           "score_ns_per_event=%.1f heap_bytes_per_account=%.0f\n",
           fmt == HS_FMT_JSON ? "json" : "msgpack", n, passes, (unsigned long long)st.accounts,
           (unsigned long long)st.evaluations, (unsigned long long)(g_alerts / (uint64_t)passes),
           t_all, total / t_all, t_all * 1e9 / total, t_all * 1e9 / total - t_dec * 1e9 / n,
           st.accounts ? (double)hs_alloc_bytes() / (double)st.accounts : 0.0);
    printf("phase=passes first_ns_per_event=%.1f first_faults=%ld", t_first * 1e9 / (double)n,
           faults_first);
    if (passes > 1)
      printf(" later_ns_per_event=%.1f later_faults_per_pass=%.0f",
             (t_all - t_first) * 1e9 / ((double)n * (double)(passes - 1)),
             (double)(faults_all - faults_first) / (double)(passes - 1));
    printf("\n");
    if (encode)
      bench_encode(e, m);
    hs_engine_free(e);
    if (rewrites)
      bench_rewrites(m, buf, msgs, n, fmt, rewrites);
  }
  hs_decoder_free(dec);
  free(msgs);
  free(buf);
  hs_model_free(m);
  hs_config_free(cfg);
  return 0;
}
