/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore show`: an account's score, its explanation and its daily
 * history, read from Redis where healthscored keeps them (docs/state.md). */
#include "cmds.h"
#include "json_get.h"

#include "healthscore/base.h"
#include "healthscore/config.h"
#include "healthscore/state.h"
#include "healthscore/core.h"
#include "healthscore/rcluster.h"
#include "healthscore/store.h"

#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

static void usage(FILE *f) {
  fprintf(f, "usage: healthscore show [options] ACCOUNT...\n\n"
             "Prints each account's health score as healthscored stored it in Redis: score,\n"
             "band, profile, group scores, the top contributors and the daily score history.\n"
             "With the profiles (--config, or engine.profiles of --settings), also every\n"
             "metric's value, normalised value, weight and contribution, recomputed from the\n"
             "stored state.\n\n"
             "  -s, --settings FILE   engine settings to take the Redis address, password,\n"
             "                        key prefix and profiles from (default: their defaults)\n"
             "  -c, --config FILE     the scoring profiles, overriding the settings\n"
             "  -r, --redis HOST:PORT[,HOST:PORT...]\n"
             "                        Redis address, or Redis Cluster nodes (any of them;\n"
             "                        MOVED and ASK are followed), overriding the settings\n"
             "      --prefix P        key prefix, overriding the settings\n"
             "      --days N          days of history shown (default 14)\n"
             "      --json            print the stored score record (JSON) as it is; with the\n"
             "                        profiles, the full record recomputed from the state\n"
             "      --state           print \"ACCOUNT HEX\" of the stored msgpack state\n"
             "  -h, --help            this text\n\n"
             "Exit status: 0 when every account was found, 1 when one was not, 2 on a usage\n"
             "error or when Redis cannot be reached.\n");
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Redis through the store's own client (healthscore/rcluster.h, the one
 * healthscored writes with) on a private loop, one command at a time: the
 * slot routing, MOVED/ASK, TRYAGAIN/CLUSTERDOWN and AUTH are the client's. */
typedef struct redis_s {
  uv_loop_t loop;
  uv_timer_t tick; /* wakes the loop while waiting for a deadline */
  hs_rc_t *rc;
  char err[512];
} redis_t;

#define SHOW_TIMEOUT_MS 3000

static void on_tick(uv_timer_t *t) {
  (void)t;
}

/* A reply copied out of the client's callback (where it is borrowed):
 * strings, integers, nil, errors and arrays of them. Free with reply_free. */
static void reply_free(redisReply *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->elements; i++)
    reply_free(r->element[i]);
  free(r->element);
  free(r->str);
  free(r);
}

static redisReply *reply_copy(const redisReply *r) {
  redisReply *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->type = r->type;
  c->integer = r->integer;
  if (r->str) {
    c->str = malloc(r->len + 1);
    if (!c->str)
      return reply_free(c), NULL;
    memcpy(c->str, r->str, r->len);
    c->str[r->len] = 0;
    c->len = r->len;
  }
  if (r->elements) {
    c->element = calloc(r->elements, sizeof *c->element);
    if (!c->element)
      return reply_free(c), NULL;
    c->elements = r->elements;
    for (size_t i = 0; i < r->elements; i++)
      if (!(c->element[i] = reply_copy(r->element[i])))
        return reply_free(c), NULL;
  }
  return c;
}

typedef struct ask_s {
  bool done;
  redisReply *reply;
  char err[256];
} ask_t;

static void on_reply(void *ud, redisReply *reply, const hs_err_t *err) {
  ask_t *q = ud;
  q->done = true;
  if (!reply)
    snprintf(q->err, sizeof q->err, "%s", err ? err->msg : "no reply");
  else if (!(q->reply = reply_copy(reply)))
    snprintf(q->err, sizeof q->err, "out of memory");
}

/* Connects to the Redis (Cluster) at "host:port,..." `seeds`: returns 0 once
 * every master of the slot map has a ready connection, or -1 with rs->err
 * after SHOW_TIMEOUT_MS (the client and the loop are released by
 * redis_close either way). */
static int redis_open(redis_t *rs, const char *seeds, const char *password) {
  hs_err_t err = {0};
  uv_loop_init(&rs->loop);
  uv_timer_init(&rs->loop, &rs->tick);
  uv_timer_start(&rs->tick, on_tick, 50, 50);
  hs_rc_conf_t conf = {.seeds = seeds, .password = password && *password ? password : NULL};
  if (hs_rc_new(&rs->rc, &rs->loop, &conf, &err)) {
    snprintf(rs->err, sizeof rs->err, "Redis %.200s: %.250s", seeds, err.msg);
    return -1;
  }
  uint64_t deadline = uv_now(&rs->loop) + SHOW_TIMEOUT_MS;
  while (!hs_rc_ready(rs->rc) && uv_now(&rs->loop) < deadline)
    uv_run(&rs->loop, UV_RUN_ONCE);
  if (hs_rc_ready(rs->rc))
    return 0;
  const char *why = hs_rc_last_error(rs->rc);
  if (why && *why)
    snprintf(rs->err, sizeof rs->err, "%s", why);
  else
    snprintf(rs->err, sizeof rs->err, "Redis %.200s: no connection within %d s", seeds,
             SHOW_TIMEOUT_MS / 1000);
  return -1;
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static void redis_close(redis_t *rs) {
  if (rs->rc) {
    bool closed = false;
    hs_rc_close(rs->rc, on_closed, &closed);
    rs->rc = NULL;
    while (!closed)
      uv_run(&rs->loop, UV_RUN_ONCE);
  }
  uv_close((uv_handle_t *)&rs->tick, NULL);
  uv_run(&rs->loop, UV_RUN_DEFAULT);
  uv_loop_close(&rs->loop);
}

/* Runs `cmd KEY` where the key lives and waits for its reply (free with
 * reply_free). NULL with rs->err when no answer came. */
static redisReply *query(redis_t *rs, const char *cmd, const char *key, size_t key_len) {
  const char *argv[2] = {cmd, key};
  const size_t lens[2] = {strlen(cmd), key_len};
  ask_t q = {0};
  uint64_t deadline = uv_now(&rs->loop) + SHOW_TIMEOUT_MS;
  int rc;
  /* a master whose connection is being replaced refuses for a moment */
  while ((rc = hs_rc_command_argv(rs->rc, hs_rc_slot(key, key_len), 2, argv, lens, on_reply, &q)) ==
             HS_E_IO &&
         uv_now(&rs->loop) < deadline)
    uv_run(&rs->loop, UV_RUN_ONCE);
  if (rc) {
    const char *why = hs_rc_last_error(rs->rc);
    snprintf(rs->err, sizeof rs->err, "Redis: %s", why && *why ? why : hs_strerror(rc));
    return NULL;
  }
  while (!q.done)
    uv_run(&rs->loop, UV_RUN_ONCE);
  if (!q.reply)
    snprintf(rs->err, sizeof rs->err, "Redis: %s", q.err);
  return q.reply;
}

/* The key of an account's `suffix` as healthscored writes it (store.h), or
 * as earlier versions did (`legacy`), in `k`. */
static const char *key_of(hs_buf_t *k, const char *prefix, const char *id, const char *suffix,
                          bool legacy) {
  k->len = 0;
  hs_str_t a = {id, (uint32_t)strlen(id)};
  if ((legacy ? hs_store_legacy_key : hs_store_account_key)(k, prefix, a, suffix))
    return NULL;
  return k->data;
}

/* The full score record of `id`, recomputed from its stored state under
 * model `m`, in `out` (NUL-terminated). Returns 0, or 1 with the reason
 * printed. */
static int explain(redis_t *nodes, const char *prefix, const char *id, bool legacy,
                   const hs_model_t *m, hs_buf_t *out) {
  hs_buf_t k;
  hs_buf_init(&k);
  const char *key = key_of(&k, prefix, id, "state", legacy);
  redisReply *r = key ? query(nodes, "GET", key, k.len) : NULL;
  hs_buf_free(&k);
  int rc = 1;
  hs_account_t *a = NULL;
  hs_err_t err = {0};
  if (!r || r->type != REDIS_REPLY_STRING)
    fprintf(stderr, "healthscore show: %s: no state stored\n", id);
  else if (hs_account_decode(m, r->str, r->len, &a, &err))
    fprintf(stderr, "healthscore show: %s: the stored state does not decode: %s\n", id, err.msg);
  else if (hs_output_account_json(m, a, INT64_MIN, true, out) || hs_buf_append(out, "", 1))
    fprintf(stderr, "healthscore show: out of memory\n");
  else
    rc = 0;
  hs_account_free(a);
  reply_free(r);
  return rc;
}

/* Prints the readable view of one account. */
static int print_account(redis_t *nodes, const char *prefix, const char *id, bool legacy,
                         const char *json, int days) {
  char errbuf[256];
  yajl_val r = yajl_tree_parse(json, errbuf, sizeof errbuf);
  if (!r) {
    fprintf(stderr, "healthscore show: %s: the stored score record is not JSON: %s\n", id, errbuf);
    return 1;
  }
  bool has;
  double score = hs_json_num(r, "score", &has);
  printf("%s  ", id);
  if (has)
    printf("score %.1f  %s", score, hs_json_str(r, "band", ""));
  else
    printf("no score (%s)", hs_json_str(r, "band", ""));
  printf("  profile %s v%s  coverage %.0f%%  updated %s\n", hs_json_str(r, "profile", ""),
         hs_json_str(r, "profile_version", ""), hs_json_num(r, "coverage", NULL) * 100,
         hs_json_str(r, "updated_at", ""));
  yajl_val groups = hs_json_arr(r, "groups");
  for (size_t i = 0; groups && i < groups->u.array.len; i++) {
    yajl_val g = groups->u.array.values[i];
    double gs = hs_json_num(g, "score", &has);
    printf(i ? "  " : "  groups: ");
    if (has)
      printf("%s %.1f (%.0f%%)", hs_json_str(g, "name", ""), gs,
             hs_json_num(g, "weight", NULL) * 100);
    else
      printf("%s - (no data)", hs_json_str(g, "name", ""));
  }
  printf("\n");
  if (hs_json_arr(r, "metrics"))
    printf("  %-30s %-10s %12s %6s %7s %8s\n", "metric", "group", "value", "norm", "weight",
           "points");
  yajl_val metrics = hs_json_arr(r, "metrics");
  if (!metrics)
    printf("  (each metric's value and contribution: add --config PROFILES)\n");
  for (size_t i = 0; metrics && i < metrics->u.array.len; i++) {
    yajl_val m = metrics->u.array.values[i];
    double v = hs_json_num(m, "value", &has);
    char vs[32] = "-", ns[16] = "-";
    if (has) {
      snprintf(vs, sizeof vs, "%.2f", v);
      snprintf(ns, sizeof ns, "%.1f", hs_json_num(m, "normalized", NULL));
    }
    printf("  %-30s %-10s %12s %6s %6.1f%% %8.2f%s\n", hs_json_str(m, "metric", ""),
           hs_json_str(m, "group", ""), vs, ns, hs_json_num(m, "weight", NULL) * 100,
           hs_json_num(m, "contribution", NULL),
           strcmp(hs_json_str(m, "source", ""), "data") ? "  (missing)" : "");
  }
  yajl_val top = hs_json_arr(r, "top_contributors");
  printf("  top contributors:");
  for (size_t i = 0; top && i < top->u.array.len; i++)
    printf(" %s",
           YAJL_IS_STRING(top->u.array.values[i]) ? YAJL_GET_STRING(top->u.array.values[i]) : "?");
  printf("\n");
  const char *op[] = {"override", NULL};
  yajl_val ov = yajl_tree_get(r, op, yajl_t_object);
  if (ov)
    printf("  override: %.1f until %s by %s: %s\n", hs_json_num(ov, "value", NULL),
           hs_json_str(ov, "expires_at", ""), hs_json_str(ov, "author", ""),
           hs_json_str(ov, "reason", ""));
  yajl_tree_free(r);
  /* the daily history: the last `days` days recorded */
  hs_buf_t k;
  hs_buf_init(&k);
  const char *key = key_of(&k, prefix, id, "history", legacy);
  redisReply *h = key ? query(nodes, "HGETALL", key, k.len) : NULL;
  hs_buf_free(&k);
  if (h && h->type == REDIS_REPLY_ARRAY && h->elements >= 2) {
    size_t n = h->elements / 2;
    char **lines = calloc(n, sizeof *lines);
    for (size_t i = 0; lines && i < n; i++) {
      lines[i] = malloc(64);
      if (lines[i])
        snprintf(lines[i], 64, "%.10s %s", h->element[2 * i]->str, h->element[2 * i + 1]->str);
    }
    if (lines) {
      qsort(lines, n, sizeof *lines, cmp_str);
      size_t from = n > (size_t)days ? n - (size_t)days : 0;
      printf("  history (%zu of %zu days):", n - from, n);
      for (size_t i = from; i < n; i++)
        printf("%s%s", (i - from) % 6 ? "   " : "\n    ", lines[i] ? lines[i] : "?");
      printf("\n");
      for (size_t i = 0; i < n; i++)
        free(lines[i]);
      free(lines);
    }
  }
  reply_free(h);
  return 0;
}

/* Prints account `id` as asked (the state, the stored record or, with a
 * model, the record recomputed from the state). Returns 0, 1 when it is not
 * found or does not decode, 2 when Redis did not answer. */
static int show_account(redis_t *ns, const char *prefix, const char *id, bool state, bool json,
                        const hs_model_t *model, int days, hs_buf_t *full) {
  int rc = 0;
  hs_buf_t k;
  hs_buf_init(&k);
  const char *suffix = state ? "state" : "score";
  const char *key = key_of(&k, prefix, id, suffix, false);
  redisReply *r = key ? query(ns, "GET", key, k.len) : NULL;
  /* an id whose keys changed, and that healthscored has not written since:
     the keys an earlier version wrote */
  bool legacy = false;
  if (r && r->type == REDIS_REPLY_NIL &&
      hs_store_key_encoded((hs_str_t){id, (uint32_t)strlen(id)})) {
    hs_buf_t lk;
    hs_buf_init(&lk);
    const char *old = key_of(&lk, prefix, id, suffix, true);
    redisReply *o = old ? query(ns, "GET", old, lk.len) : NULL;
    hs_buf_free(&lk);
    if (o && o->type == REDIS_REPLY_STRING) {
      reply_free(r);
      r = o;
      legacy = true;
    } else {
      reply_free(o);
    }
  }
  if (!r || r->type == REDIS_REPLY_ERROR) {
    fprintf(stderr, "healthscore show: %s\n", r ? r->str : ns->err);
    reply_free(r);
    hs_buf_free(&k);
    return 2;
  }
  if (r->type != REDIS_REPLY_STRING) {
    fprintf(stderr, "healthscore show: %s: no %s stored (key %s)\n", id, suffix, key ? key : "?");
    rc = 1;
  } else if (state) {
    printf("%s ", id);
    for (size_t b = 0; b < r->len; b++)
      printf("%02x", (unsigned char)r->str[b]);
    printf("\n");
  } else if (model) {
    full->len = 0;
    if (explain(ns, prefix, id, legacy, model, full))
      rc = 1;
    else if (json)
      printf("%s\n", full->data);
    else if (print_account(ns, prefix, id, legacy, full->data, days))
      rc = 1;
  } else if (json) {
    printf("%s\n", r->str);
  } else if (print_account(ns, prefix, id, legacy, r->str, days)) {
    rc = 1;
  }
  reply_free(r);
  hs_buf_free(&k);
  return rc;
}

/* What the command line asks for. */
typedef struct show_args_s {
  const char *settings, *redis, *prefix, *config;
  bool json, state;
  int days;
} show_args_t;

/* Parses the command line into *a. Returns -1 to go on, else the exit
 * status (0 after --help, 2 on a usage error). */
static int show_parse_args(int argc, char **argv, show_args_t *a) {
  static const struct option opts[] = {{"settings", required_argument, NULL, 's'},
                                       {"redis", required_argument, NULL, 'r'},
                                       {"prefix", required_argument, NULL, 'P'},
                                       {"days", required_argument, NULL, 'd'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"state", no_argument, NULL, 'S'},
                                       {"config", required_argument, NULL, 'c'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "s:r:c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      a->config = optarg;
      break;
    case 's':
      a->settings = optarg;
      break;
    case 'r':
      a->redis = optarg;
      break;
    case 'P':
      a->prefix = optarg;
      break;
    case 'd':
      a->days = atoi(optarg);
      if (a->days < 1 || a->days > 3660) {
        fprintf(stderr, "healthscore show: --days takes 1..3660\n");
        return 2;
      }
      break;
    case 'j':
      a->json = true;
      break;
    case 'S':
      a->state = true;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "healthscore show: name at least one account\n");
    usage(stderr);
    return 2;
  }
  return -1;
}

/* Connects to the Redis nodes (--redis, else redis.nodes, else
 * redis.host:redis.port) and shows each account in turn. Returns the exit
 * status. */
static int show_accounts(const show_args_t *a, const hs_settings_t *st, const hs_model_t *model,
                         char **ids, int n_ids) {
  char seed[300];
  snprintf(seed, sizeof seed, strchr(st->redis_host, ':') ? "[%s]:%d" : "%s:%d", st->redis_host,
           st->redis_port);
  const char *seeds = a->redis ? a->redis : *st->redis_nodes ? st->redis_nodes : seed;
  const char *prefix = a->prefix ? a->prefix : st->redis_prefix;
  hs_buf_t full;
  hs_buf_init(&full);
  redis_t *ns = calloc(1, sizeof *ns);
  int rc = 0;
  if (!ns) {
    fprintf(stderr, "healthscore show: out of memory\n");
    rc = 2;
  } else {
    if (redis_open(ns, seeds, st->redis_password)) {
      fprintf(stderr, "healthscore show: %s\n", ns->err);
      rc = 2;
    }
  }
  for (int i = 0; !rc && i < n_ids; i++)
    rc = show_account(ns, prefix, ids[i], a->state, a->json, model, a->days, &full);
  if (ns)
    redis_close(ns);
  free(ns);
  hs_buf_free(&full);
  return rc;
}

int hs_cmd_show(int argc, char **argv) {
  show_args_t a = {.days = 14};
  int rc = show_parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  hs_settings_t st;
  hs_err_t err = {0};
  if (hs_settings_defaults(&st) || (a.settings && hs_settings_load_file(a.settings, &st, &err))) {
    fprintf(stderr, "healthscore show: %s\n", err.msg[0] ? err.msg : "out of memory");
    hs_settings_free(&st);
    return 2;
  }
  const char *config = a.config ? a.config : a.settings ? st.profiles : NULL;
  hs_config_t *cfg = NULL;
  hs_model_t *model = NULL;
  if (config && !a.state &&
      (hs_config_load_file(config, &cfg, &err) || hs_model_compile(cfg, &model, &err))) {
    fprintf(stderr, "healthscore show: %s\n", err.msg);
    hs_config_free(cfg);
    hs_settings_free(&st);
    return 2;
  }
  rc = show_accounts(&a, &st, model, argv + optind, argc - optind);
  hs_model_free(model);
  hs_config_free(cfg);
  hs_settings_free(&st);
  return rc;
}
