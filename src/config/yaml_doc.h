/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML reader shared by the profiles and the settings loaders: libyaml's
 * events assembled into a yaml_document_t, bounded while parsing. */
#ifndef HS_CONFIG_YAML_DOC_H
#define HS_CONFIG_YAML_DOC_H

#include "healthscore/base.h"

#include <stdarg.h>
#include <yaml.h>

/* Collections nested deeper than this are refused where they open (the
 * profiles need 9 levels, the settings 3). libyaml's scanner does work in
 * proportion to the depth for every token, so a depth bound keeps parsing
 * linear in the size of the file. */
#define HS_YAML_MAX_DEPTH 64
/* Nodes (scalars, lists, mappings) in one file. */
#define HS_YAML_MAX_NODES 100000
/* Pairs in one mapping. */
#define HS_YAML_MAX_PAIRS 4096

/* Parses `len` bytes of `text` (named `name` in errors) into `doc`, refusing
 * with "NAME:LINE:COLUMN: reason": a syntax error, collections nested deeper
 * than HS_YAML_MAX_DEPTH, more than HS_YAML_MAX_NODES nodes or a mapping of
 * more than HS_YAML_MAX_PAIRS pairs, an anchor or alias, a tag (`!!str`,
 * `!foo`), a second document. Returns 0 with `doc` to be deleted with
 * yaml_document_delete (its root is NULL for an empty file), else HS_E_CONFIG
 * or HS_E_NOMEM with nothing to delete. */
int hs__yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc,
                  hs_err_t *err);

/* Sets `err` to HS_E_CONFIG "NAME:LINE:COLUMN: reason" at mark `m` (NULL:
 * 1:1), the reason formatted from `fmt` and cut to `reason_max` - 1 bytes.
 * Returns HS_E_CONFIG. */
int hs__yaml_verror(hs_err_t *err, const char *name, const yaml_mark_t *m, size_t reason_max,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
