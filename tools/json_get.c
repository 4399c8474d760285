/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
#include "json_get.h"

#include <stddef.h>

const char *hs_json_str(yajl_val v, const char *key, const char *dflt) {
  const char *path[] = {key, NULL};
  yajl_val s = yajl_tree_get(v, path, yajl_t_string);
  return s ? YAJL_GET_STRING(s) : dflt;
}

double hs_json_num(yajl_val v, const char *key, bool *present) {
  const char *path[] = {key, NULL};
  yajl_val n = yajl_tree_get(v, path, yajl_t_number);
  if (present)
    *present = n != NULL;
  return n ? YAJL_GET_DOUBLE(n) : 0;
}

yajl_val hs_json_arr(yajl_val v, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(v, path, yajl_t_array);
}
