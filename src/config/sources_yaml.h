/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The `sources:` list of the engine settings, for settings.c. */
#ifndef HS_CONFIG_SOURCES_YAML_H
#define HS_CONFIG_SOURCES_YAML_H

#include "healthscore/config.h"

#include <yaml.h>

/* Reads the list `list` of document `doc` (file `name`) into out->sources,
 * replacing what was there. Returns 0, HS_E_CONFIG ("NAME:LINE:COL: reason")
 * or HS_E_NOMEM. */
int hs__sources_load(yaml_document_t *doc, yaml_node_t *list, const char *name, hs_settings_t *out,
                     hs_err_t *err);
/* The checks against the other settings: a source topic is none of the
 * engine's topics, `to` one of kafka.topics. */
int hs__sources_check(const hs_settings_t *s, const char *name, hs_err_t *err);
void hs__sources_free(hs_settings_t *s);
/* The reference of `sources:` for docs/settings.md. */
int hs__sources_doc(hs_buf_t *out);

#endif
