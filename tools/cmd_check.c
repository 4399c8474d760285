/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* `healthscore check CONFIG...`: load and compile configurations. */
#include "cmds.h"

#include "healthscore/config.h"
#include "healthscore/mapping.h"
#include "healthscore/core.h"
#include "healthscore/mapper.h"

#include <getopt.h>
#include <stdio.h>

static void check_usage(FILE *f) {
  fprintf(f, "usage: healthscore check [--quiet] CONFIG.yaml...\n"
             "       healthscore check --settings ENGINE.yaml\n"
             "       healthscore check --settings-reference\n"
             "       healthscore check --mapping MAPPING.yaml...\n\n"
             "Validates scoring configurations: YAML syntax, unknown keys, types,\n"
             "ranges, metric references, group weights and alert rules. Errors are\n"
             "printed as FILE:LINE:COLUMN: reason. Exits 0 when every file is valid,\n"
             "1 otherwise.\n\n"
             "  -s, --settings FILE       validate an engine settings file instead\n"
             "  -m, --mapping             the files are source mappings (docs/sources.md)\n"
             "      --settings-reference  print the reference of every engine setting\n"
             "                            (Markdown, as in docs/settings.md)\n"
             "  -q, --quiet               print errors only\n"
             "  -h, --help                this text\n");
}

int hs_cmd_check(int argc, char **argv) {
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                       {"settings", required_argument, NULL, 's'},
                                       {"settings-reference", no_argument, NULL, 'R'},
                                       {"mapping", no_argument, NULL, 'm'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool quiet = false, mapping = false;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "qms:h", opts, NULL)) != -1) {
    if (c == 'q') {
      quiet = true;
    } else if (c == 'm') {
      mapping = true;
    } else if (c == 'R') {
      hs_buf_t b;
      hs_buf_init(&b);
      int rc = hs_settings_doc(&b);
      if (!rc)
        fwrite(b.data, 1, b.len, stdout);
      hs_buf_free(&b);
      return rc ? 1 : 0;
    } else if (c == 's') {
      hs_settings_t st;
      hs_err_t err = {0};
      int rc = hs_settings_defaults(&st);
      if (!rc)
        rc = hs_settings_load_file(optarg, &st, &err);
      if (!rc && st.n_sources) /* each mapping and schema file, as healthscored reads them */
        rc = hs_mapper_check(&st, &err);
      if (!rc && !quiet && st.n_sources)
        printf("%s: %zu sources ok (mapper group %s.mapper)\n", optarg, st.n_sources, st.group_id);
      if (rc)
        fprintf(stderr, "%s\n", err.msg[0] ? err.msg : hs_strerror(rc));
      else if (!quiet && *st.redis_nodes)
        printf("%s: ok: %zu input topics, group %s, redis nodes %s\n", optarg, st.n_topics,
               st.group_id, st.redis_nodes);
      else if (!quiet)
        printf("%s: ok: %zu input topics, group %s, redis %s:%d\n", optarg, st.n_topics,
               st.group_id, st.redis_host, st.redis_port);
      hs_settings_free(&st);
      return rc ? 1 : 0;
    } else if (c == 'h') {
      check_usage(stdout);
      return 0;
    } else {
      check_usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    check_usage(stderr);
    return 2;
  }
  int status = 0;
  for (int i = optind; mapping && i < argc; i++) {
    hs_err_t err = {0};
    hs_mapping_t *m = NULL;
    if (hs_mapping_load_file(argv[i], &m, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      status = 1;
    } else if (!quiet) {
      printf("%s: ok: source %s, %zu rules\n", argv[i], hs_mapping_source(m),
             hs_mapping_n_rules(m));
    }
    hs_mapping_free(m);
  }
  for (int i = optind; !mapping && i < argc; i++) {
    hs_err_t err = {0};
    hs_config_t *cfg = NULL;
    hs_model_t *m = NULL;
    if (hs_config_load_file(argv[i], &cfg, &err) || hs_model_compile(cfg, &m, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      status = 1;
    } else if (!quiet) {
      printf("%s: ok: %zu metrics, %zu profiles, %zu bands, %zu alert rules; longest window "
             "%u days; ",
             argv[i], hs_model_n_metrics(m), hs_model_n_profiles(m), hs_model_n_bands(m),
             hs_model_n_rules(m), hs_model_horizon_days(m));
      if (hs_model_dedup_days(m))
        printf("duplicates dropped within %u days\n", hs_model_dedup_days(m));
      else
        printf("duplicates not dropped (dedup window 0)\n");
      for (size_t p = 0; p < hs_model_n_profiles(m); p++)
        printf("  profile %s (version %s)\n", hs_model_profile_name(m, p),
               hs_model_profile_version(m, p));
    }
    hs_model_free(m);
    hs_config_free(cfg);
  }
  return status;
}
