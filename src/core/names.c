/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The names of the core's kinds, as the configuration writes them. */
#include "healthscore/core.h"

static const char *const kind_names[HS_MK__COUNT] = {
    "count",      "sum",    "avg",   "min",   "max",   "distinct",
    "days_since", "latest", "ratio", "trend", "slope", "attribute"};

const char *hs_metric_kind_name(hs_metric_kind_t k) {
  return (unsigned)k < HS_MK__COUNT ? kind_names[k] : "unknown";
}

const char *hs_rule_kind_name(hs_rule_kind_t k) {
  static const char *const n[] = {"threshold", "band", "trend", "slope"};
  return (unsigned)k < HS_RULE__COUNT ? n[k] : "unknown";
}
