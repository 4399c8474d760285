/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore tune`: suggests a profile's weights from events with outcomes.
 * Fits on a training split of accounts, replays the events under the
 * suggestion and judges it on the held-out accounts; writes the
 * configuration back with only the weights changed, or refuses when the
 * held-out figures would be worse. */
#include "backtest.h"
#include "cmds.h"
#include "event_reader.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tune_usage(FILE *f) {
  fprintf(f,
          "usage: healthscore tune --config CONFIG.yaml [options] EVENTS\n\n"
          "Suggests weights for a profile from events with outcomes (churned, renewed,\n"
          "expanded): fitted to raise the ROC AUC on a training split of accounts, then\n"
          "judged by replaying all events and scoring the held-out accounts. Writes the\n"
          "configuration back with only the weights changed and a comment saying what\n"
          "was fitted on what. Refuses (and writes nothing) when the held-out AUC would\n"
          "not improve. The same input and seed give the same result. EVENTS is read as\n"
          "by `healthscore replay`: JSON lines and msgpack maps, which may be mixed,\n"
          "through the same event-time guard.\n\n"
          "  -c, --config FILE       the configuration to start from (required)\n"
          "  -p, --profile NAME      the profile to tune (default: the default profile)\n"
          "      --holdout SHARE     share of accounts held out, by account (default 0.3)\n"
          "      --seed N            the split (default 1)\n"
          "      --horizon DAYS      predict outcomes DAYS ahead (default 30)\n"
          "      --include-tracking  let weight-0 (tracking) metrics get a weight\n"
          "  -o, --output FILE       write the configuration to FILE (default stdout)\n" HS_ER_USAGE
          "  -q, --quiet             no summary on stderr\n"
          "  -h, --help              this text\n\n"
          "Exit status: 0 written, 1 invalid configuration, unreadable input or no better\n"
          "weights (nothing written), 2 usage error, 3 written but some input was rejected\n"
          "(the first 10 rejections are shown with where they are, as by replay).\n");
}

/* One read of the events file: into `side`, counted in `st`. */
typedef struct tune_read_s {
  hs_bt_side_t *side;
  const hs_er_stats_t *st;
} tune_read_t;

static int apply_side(void *ud, const hs_event_t *ev) {
  return hs_bt_side_apply(((tune_read_t *)ud)->side, ev);
}

static void show_reject(void *ud, const hs_er_reject_t *rej) {
  hs_er_show("tune", ((tune_read_t *)ud)->st->rejected, rej);
}

/* Replays `path` into s's engine, then advances every account to the
 * latest event time; shows the rejections when `show` (the first of the two
 * reads). `st` says what was read. */
static int replay_file(hs_bt_side_t *s, const char *path, hs_er_conf_t *conf, bool show,
                       hs_er_stats_t *st) {
  FILE *in = fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "healthscore tune: cannot read %s: %s\n", path, strerror(errno));
    return 1;
  }
  tune_read_t tr = {s, st};
  conf->name = path;
  conf->on_event = apply_side;
  conf->on_reject = show ? show_reject : NULL;
  conf->ud = &tr;
  int rc = hs_er_read(in, conf, st);
  fclose(in);
  if (show)
    hs_er_show_rest("tune", st->rejected);
  int64_t end = hs_engine_watermark(s->engine);
  if (!rc && end != INT64_MIN)
    rc = hs_engine_advance(s->engine, end);
  if (rc) {
    fprintf(stderr, "healthscore tune: %s: %s\n", path, hs_strerror(rc));
    return 1;
  }
  return 0;
}

typedef struct split_s {
  uint64_t seed;
  double holdout;
} split_t;

static bool is_held(void *ud, hs_str_t account) {
  const split_t *s = ud;
  return hs_tune_is_holdout(account, s->seed, s->holdout);
}

static double frac(size_t a, size_t b) {
  return b ? (double)a / (double)b : NAN;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  hs_buf_t b;
  hs_buf_init(&b);
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (hs_buf_append(&b, chunk, got))
      break;
  bool bad = ferror(f) || hs_buf_append(&b, "", 1);
  fclose(f);
  if (bad) {
    hs_buf_free(&b);
    return NULL;
  }
  *len = b.len - 1;
  return b.data;
}

/* What the command line asks for. */
typedef struct tune_args_s {
  const char *config, *profile, *output, *events;
  hs_tune_conf_t tc;
  int horizon;
  bool quiet;
  hs_er_opts_t in_opts;
} tune_args_t;

/* One option of hs_cmd_tune's own. Returns -1 when taken, else the exit
 * status (0 after --help, 2 on a usage error). */
static int tune_option(tune_args_t *a, int c) {
  char *end;
  switch (c) {
  case 'c':
    a->config = optarg;
    break;
  case 'p':
    a->profile = optarg;
    break;
  case 'H':
    a->tc.holdout = strtod(optarg, &end);
    if (*end || !(a->tc.holdout >= 0.05 && a->tc.holdout <= 0.9)) {
      fprintf(stderr, "healthscore tune: --holdout takes a share from 0.05 to 0.9\n");
      return 2;
    }
    break;
  case 'S':
    a->tc.seed = strtoull(optarg, &end, 10);
    if (*end || !*optarg) {
      fprintf(stderr, "healthscore tune: --seed takes a whole number\n");
      return 2;
    }
    break;
  case 'Z': {
    long v = strtol(optarg, &end, 10);
    if (*end || v < 1 || v > 730) {
      fprintf(stderr, "healthscore tune: --horizon takes 1..730 days\n");
      return 2;
    }
    a->horizon = (int)v;
    break;
  }
  case 'I':
    a->tc.include_tracking = true;
    break;
  case 'o':
    a->output = optarg;
    break;
  case 'q':
    a->quiet = true;
    break;
  case 'h':
    tune_usage(stdout);
    return 0;
  default:
    tune_usage(stderr);
    return 2;
  }
  return -1;
}

/* Parses the command line into `a` and the reader's settings into `in`.
 * Returns -1 to go on, else the exit status. */
static int tune_parse_args(int argc, char **argv, tune_args_t *a, hs_er_conf_t *in) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"profile", required_argument, NULL, 'p'},
                                       {"holdout", required_argument, NULL, 'H'},
                                       {"seed", required_argument, NULL, 'S'},
                                       {"horizon", required_argument, NULL, 'Z'},
                                       {"include-tracking", no_argument, NULL, 'I'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       HS_ER_LONG_OPTIONS,
                                       {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:p:o:qh", opts, NULL)) != -1) {
    int taken = hs_er_take_option(&a->in_opts, c, optarg, "tune");
    if (taken < 0)
      return 2;
    if (taken)
      continue;
    int rc = tune_option(a, c);
    if (rc >= 0)
      return rc;
  }
  if (!a->config || argc - optind != 1 || !strcmp(argv[optind], "-")) {
    fprintf(stderr, "healthscore tune: %s\n\n",
            !a->config ? "--config is required" : "one events file (read twice; not stdin)");
    tune_usage(stderr);
    return 2;
  }
  if (hs_er_apply_options(&a->in_opts, "tune", in))
    return 2;
  a->events = argv[optind];
  return -1;
}

/* Sets a->tc.profile to the profile named --profile, else the default one.
 * Returns 0, or 1 after saying there is no such profile. */
static int tune_pick_profile(tune_args_t *a, const hs_config_t *cfg) {
  for (size_t i = 0; i < cfg->n_profiles; i++)
    if (a->profile ? !strcmp(cfg->profiles[i].name, a->profile) : cfg->profiles[i].is_default)
      a->tc.profile = i;
  if (a->profile && strcmp(cfg->profiles[a->tc.profile].name, a->profile)) {
    fprintf(stderr, "healthscore tune: %s has no profile \"%s\"\n", a->config, a->profile);
    return 1;
  }
  return 0;
}

/* Replays the events under the suggestion (the configuration `text`
 * rewritten with res's weights) into `b`: what is judged is what gets
 * written. Returns 0, or 1 after saying why. */
static int tune_replay_suggestion(const tune_args_t *a, const char *text, size_t len,
                                  const hs_config_t *cfg, const hs_tune_result_t *res,
                                  hs_er_conf_t *in, hs_bt_side_t *b, hs_er_stats_t *read_b) {
  hs_err_t err = {0};
  hs_buf_t tmp;
  hs_buf_init(&tmp);
  if (hs_tune_rewrite(text, len, cfg, a->tc.profile, res, NULL, &tmp, &err)) {
    fprintf(stderr, "healthscore tune: %s: %s\n", a->config, err.msg);
    hs_buf_free(&tmp);
    return 1;
  }
  hs_config_t *cfg2 = NULL;
  int lrc = hs_config_load_string(tmp.data ? tmp.data : "", tmp.len, a->config, &cfg2, &err);
  hs_buf_free(&tmp);
  if (lrc || hs_bt_side_open(b, NULL, cfg2, a->horizon, &err)) {
    fprintf(stderr, "healthscore tune: the suggested configuration does not load: %s\n", err.msg);
    return 1;
  }
  return replay_file(b, a->events, in, false, read_b);
}

/* The summary on stderr: training and held-out figures, before and after. */
static void tune_print_summary(const tune_args_t *a, const char *pname, const hs_tune_result_t *res,
                               const hs_report_summary_t *before,
                               const hs_report_summary_t *after) {
  fprintf(stderr,
          "tune: profile \"%s\", %zu training accounts (%zu churned), %zu held out "
          "(seed %llu, --holdout %.2f), horizon %d days\n"
          "  training ROC AUC            %.3f -> %.3f\n"
          "  held-out (replayed):          before   after\n",
          pname, res->n_train, res->train_churned, res->n_holdout, (unsigned long long)a->tc.seed,
          a->tc.holdout, a->horizon, res->train_auc_before, res->train_auc_after);
  fprintf(stderr, "    ROC AUC                     %6.3f  %6.3f\n", before->auc, after->auc);
  fprintf(stderr, "    precision of red            %6.3f  %6.3f\n",
          frac(before->tp[0], before->tp[0] + before->fp[0]),
          frac(after->tp[0], after->tp[0] + after->fp[0]));
  fprintf(stderr, "    recall of red               %6.3f  %6.3f\n",
          frac(before->tp[0], before->tp[0] + before->fn[0]),
          frac(after->tp[0], after->tp[0] + after->fn[0]));
  fprintf(stderr, "    recall of red or yellow     %6.3f  %6.3f\n",
          frac(before->tp[1], before->tp[1] + before->fn[1]),
          frac(after->tp[1], after->tp[1] + after->fn[1]));
}

/* Writes the configuration with the new weights and a comment saying what
 * they were fitted on, to --output or stdout. Returns 0, or 1 after saying
 * why. */
static int tune_write(const tune_args_t *a, const char *text, size_t len, const hs_config_t *cfg,
                      const hs_tune_result_t *res, const hs_report_summary_t *before,
                      const hs_report_summary_t *after) {
  char comment[1024];
  snprintf(comment, sizeof comment,
           "# healthscore tune: weights of profile \"%s\" fitted on %zu accounts with an "
           "outcome\n"
           "#   (seed %llu, %.0f%% held out by account: %zu) of %s, horizon %d days;\n"
           "#   held-out ROC AUC %.3f -> %.3f, precision of red %.3f -> %.3f, recall %.3f -> "
           "%.3f.\n",
           cfg->profiles[a->tc.profile].name, res->n_train, (unsigned long long)a->tc.seed,
           a->tc.holdout * 100, res->n_holdout, a->events, a->horizon, before->auc, after->auc,
           frac(before->tp[0], before->tp[0] + before->fp[0]),
           frac(after->tp[0], after->tp[0] + after->fp[0]),
           frac(before->tp[0], before->tp[0] + before->fn[0]),
           frac(after->tp[0], after->tp[0] + after->fn[0]));
  hs_err_t err = {0};
  hs_buf_t yaml;
  hs_buf_init(&yaml);
  int status = 1;
  if (hs_tune_rewrite(text, len, cfg, a->tc.profile, res, comment, &yaml, &err)) {
    fprintf(stderr, "healthscore tune: %s\n", err.msg);
    goto done;
  }
  FILE *o = a->output ? fopen(a->output, "w") : stdout;
  if (!o || fwrite(yaml.data, 1, yaml.len, o) != yaml.len || (o != stdout && fclose(o) != 0) ||
      fflush(stdout) != 0) {
    fprintf(stderr, "healthscore tune: cannot write %s: %s\n", a->output ? a->output : "stdout",
            strerror(errno));
    goto done;
  }
  if (!a->quiet && a->output)
    fprintf(stderr, "tune: wrote %s\n", a->output);
  status = 0;
done:
  hs_buf_free(&yaml);
  return status;
}

int hs_cmd_tune(int argc, char **argv) {
  tune_args_t args = {.tc = {.holdout = 0.3, .seed = 1}, .horizon = 30};
  hs_er_conf_t in = {0};
  int status = tune_parse_args(argc, argv, &args, &in);
  if (status >= 0)
    return status;
  status = 1;
  hs_er_stats_t read_a, read_b;
  hs_err_t err = {0};
  hs_bt_side_t a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  hs_tune_result_t res = {0};
  size_t len = 0;
  char *text = slurp(args.config, &len);
  if (!text) {
    fprintf(stderr, "healthscore tune: cannot read %s: %s\n", args.config, strerror(errno));
    goto done;
  }
  if (hs_bt_side_open(&a, args.config, NULL, args.horizon, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    goto done;
  }
  if (tune_pick_profile(&args, a.cfg) || replay_file(&a, args.events, &in, true, &read_a))
    goto done;
  if (hs_tune_fit(a.report, a.cfg, &args.tc, &res, &err)) {
    fprintf(stderr, "healthscore tune: %s\n", err.msg);
    goto done;
  }
  split_t split = {args.tc.seed, args.tc.holdout};
  hs_report_summary_t before, after;
  hs_report_summary(a.report, is_held, &split, &before);
  if (tune_replay_suggestion(&args, text, len, a.cfg, &res, &in, &b, &read_b))
    goto done;
  hs_report_summary(b.report, is_held, &split, &after);
  if (!args.quiet)
    tune_print_summary(&args, a.cfg->profiles[args.tc.profile].name, &res, &before, &after);
  if (!res.changed || !(after.auc > before.auc)) {
    fprintf(stderr,
            "healthscore tune: no better weights: the held-out ROC AUC would go from %.3f to "
            "%.3f; nothing written\n",
            before.auc, after.auc);
    goto done;
  }
  if (tune_write(&args, text, len, a.cfg, &res, &before, &after))
    goto done;
  status = read_a.rejected && !args.in_opts.keep_going ? 3 : 0;
done:
  hs_free(text);
  hs_tune_result_free(&res);
  hs_bt_side_close(&a);
  hs_bt_side_close(&b);
  return status;
}
