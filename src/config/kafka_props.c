/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The librdkafka properties of the engine's and the mapper's clients, from
 * the settings (config.h). */
#include "healthscore/config.h"

#include <string.h>

static size_t put(const char **to, char *const *pairs, size_t n_pairs) {
  for (size_t i = 0; i < n_pairs * 2; i++)
    to[i] = pairs[i];
  return n_pairs * 2;
}

const char **hs_settings_consumer_props(const hs_settings_t *s, const char *const *defaults,
                                        size_t n_defaults, size_t *n_pairs) {
  *n_pairs = n_defaults + s->n_client + s->n_consumer_client;
  const char **p = hs_calloc(*n_pairs * 2 + 1, sizeof *p);
  if (!p)
    return NULL;
  memcpy(p, defaults, n_defaults * 2 * sizeof *p);
  size_t k = n_defaults * 2;
  k += put(p + k, s->client, s->n_client);
  put(p + k, s->consumer_client, s->n_consumer_client);
  return p;
}

const char **hs_settings_producer_props(const hs_settings_t *s, size_t *n_pairs) {
  *n_pairs = s->n_client + s->n_producer_client;
  const char **p = hs_calloc(*n_pairs * 2 + 1, sizeof *p);
  if (!p)
    return NULL;
  size_t k = put(p, s->client, s->n_client);
  put(p + k, s->producer_client, s->n_producer_client);
  return p;
}
