/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Reading members of a parsed JSON object (yajl tree) in the tools. */
#ifndef HS_TOOLS_JSON_GET_H
#define HS_TOOLS_JSON_GET_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

/* The string member `key` of object `v`, or `dflt`. */
const char *hs_json_str(yajl_val v, const char *key, const char *dflt);
/* The number member `key`, or 0; *present (may be NULL) tells which. */
double hs_json_num(yajl_val v, const char *key, bool *present);
/* The array member `key`, or NULL. */
yajl_val hs_json_arr(yajl_val v, const char *key);

#endif
