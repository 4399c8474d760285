/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* One source: its mapping, its framing (schema file or registry), and what
 * becomes of one of its messages: an engine event produced to the input
 * topic keyed by account id, nothing (unmatched, or a rule without emit), a
 * dead letter with the reason, or held back while it cannot be mapped yet. */
#include "internal.h"

#include "healthscore/log.h"

#include <stdio.h>
#include <string.h>

static const char *const rej_names[REJ__COUNT] = {
    "truncated_header", "magic_byte", "unknown_schema", "schema",  "decode",
    "trailing_bytes",   "too_big",    "malformed",      "mapping", "unmatched"};

static void metrics_setup(source_t *src) {
  hs_mapper_t *mp = src->mp;
  const char *label[] = {src->name};
  hs_family_t *f[] = {mp->f_messages,       mp->f_events, mp->f_no_event, mp->f_unmatched,
                      mp->f_produce_failed, mp->f_paused, mp->f_nomem};
  hs_series_t **s[] = {&src->m_messages,       &src->m_events, &src->m_no_event, &src->m_unmatched,
                       &src->m_produce_failed, &src->m_paused, &src->m_nomem};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    *s[i] = f[i] ? hs_family_series(f[i], label) : NULL;
  for (int r = 0; r < REJ__COUNT && mp->f_rejects; r++) {
    const char *l2[] = {src->name, rej_names[r]};
    src->m_rejects[r] = hs_family_series(mp->f_rejects, l2);
  }
}

static void count(hs_series_t *s, double v) {
  if (s)
    hs_series_add(s, v);
}

int hs__source_open(hs_mapper_t *mp, source_t *src, const hs_source_conf_t *c, bool check,
                    hs_err_t *err) {
  memset(src, 0, sizeof *src);
  src->mp = mp;
  src->conf = c;
  src->on_unmatched = !c->on_unmatched ? -1 : !strcmp(c->on_unmatched, "deadletter");
  src->to = c->to ? c->to : mp->s->topics[0];
  msgpack_zone_init(&src->zone, 4096);
  hs_err_t e = {0};
  int rc = hs_src_format_parse(c->format, &src->format);
  if (!rc)
    rc = hs_mapping_load_file(c->mapping, &src->mapping, &e);
  if (!rc && !(src->name = hs_strdup(c->name ? c->name : hs_mapping_source(src->mapping))))
    rc = HS_E_NOMEM;
  if (!rc && c->schema)
    rc = hs_avro_schema_load(c->schema, NULL, &src->avro, &e);
  if (!rc && (c->registry_url || c->schema_dir)) {
    hs_registry_opts_t o = {.url = c->registry_url,
                            .username = c->registry_username,
                            .password = c->registry_password,
                            .schema_dir = c->schema_dir,
                            .metrics = !check && !mp->registry_metrics ? mp->metrics : NULL,
                            .on_resolve = hs__mapper_on_resolve,
                            .arg = src};
    mp->registry_metrics |= o.metrics != NULL;
    rc = hs_registry_new(mp->loop, &o, &src->registry, &e);
  }
  if (rc) { /* all or nothing: the caller has nothing to close */
    const char *name = src->name ? src->name : c->name ? c->name : c->mapping;
    hs_err_set(err, rc < 0 ? rc : HS_E_CONFIG, "source %s (topic %s): %s", name, c->topic,
               e.msg[0] ? e.msg : "out of memory");
    hs__source_close(src);
    return rc < 0 ? rc : HS_E_CONFIG;
  }
  if (!check)
    metrics_setup(src);
  return 0;
}

void hs__source_close(source_t *src) {
  hs_mapping_free(src->mapping);
  src->mapping = NULL;
  hs_avro_schema_free(src->avro);
  src->avro = NULL;
  hs_registry_close(src->registry);
  src->registry = NULL;
  msgpack_zone_destroy(&src->zone);
  hs_free(src->name);
  src->name = NULL;
}

msg_result_t hs__source_nomem(source_t *src, const char *what) {
  count(src->m_nomem, 1);
  snprintf(src->why, sizeof src->why, "out of memory %s", what);
  src->wait_reason = src->why;
  return MSG_HOLD;
}

/* A produce that failed: nothing was sent, the message waits. */
static msg_result_t produce_failed(source_t *src, int rc, const char *what) {
  if (rc == HS_E_NOMEM)
    return hs__source_nomem(src, what);
  src->wait_reason = "the producer's queue is full";
  return MSG_HOLD;
}

/* Sends the message to the dead-letter topic with its reason and where it
 * came from, as the engine dead-letters its own input (docs/operations.md). */
static msg_result_t dead_letter(source_t *src, part_t *p, uint64_t seq, const rd_kafka_message_t *m,
                                int cls, const char *reason) {
  hs_mapper_t *mp = src->mp;
  char part[24], off[24], size[24], cut[96];
  snprintf(part, sizeof part, "%d", (int)m->partition);
  snprintf(off, sizeof off, "%lld", (long long)m->offset);
  hs_producer_header_t h[6] = {
      {"reason", reason, strlen(reason)},
      {"source_topic", src->conf->topic, strlen(src->conf->topic)},
      {"source_partition", part, strlen(part)},
      {"source_offset", off, strlen(off)},
  };
  size_t n_h = 4, key_len = m->key_len, len = m->len;
  if (hs_producer_fit(mp->out_max, &key_len, &len, cut, sizeof cut)) {
    snprintf(size, sizeof size, "%zu", m->len);
    h[4] = (hs_producer_header_t){"original_size", size, strlen(size)};
    h[5] = (hs_producer_header_t){"truncated", cut, strlen(cut)};
    n_h = 6;
  }
  hs_err_t err = {0};
  int rc = hs__mapper_produce(mp, p, seq, mp->s->deadletter_topic, m->key ? m->key : "", key_len,
                              m->payload ? m->payload : "", len, h, n_h, &err);
  if (rc)
    return produce_failed(src, rc, "queueing a dead letter");
  count(src->m_rejects[cls], 1);
  hs_log(HS_LOG_DEBUG, "mapper", "dead-lettered %s[%d]@%lld: %s", src->conf->topic,
         (int)m->partition, (long long)m->offset, reason);
  return MSG_DONE;
}

/* The account id of an event the mapping wrote (JSON), for the key.
 * Returns 0, HS_E_NOMEM, or HS_E_PARSE. */
static int event_account(hs_mapper_t *mp, hs_str_t *out) {
  msgpack_object ev;
  hs_err_t err = {0};
  int rc = hs_doc_parse_json(mp->event_parser, mp->out.data, mp->out.len, &ev, &err);
  if (rc)
    return rc == HS_E_NOMEM ? rc : HS_E_PARSE;
  const msgpack_object *a = hs_doc_path_get(mp->account_path, &ev);
  if (!a || a->type != MSGPACK_OBJECT_STR)
    return HS_E_PARSE;
  *out = (hs_str_t){a->via.str.ptr, a->via.str.size};
  return 0;
}

#define MAX_HEADERS 64

msg_result_t hs__source_message(source_t *src, part_t *p, uint64_t seq,
                                const rd_kafka_message_t *m) {
  hs_mapper_t *mp = src->mp;
  hs_framed_t fr;
  hs_reject_t why = HS_REJ_NONE;
  hs_err_t err = {0};
  char reason[600];
  msgpack_zone_clear(&src->zone);
  int rc = hs_frame_decode(src->format, src->avro, src->registry, m->payload ? m->payload : "",
                           m->len, &src->zone, &fr, &why, &err);
  if (rc == HS_REG_PENDING) {
    snprintf(src->why, sizeof src->why, "%s", err.msg[0] ? err.msg : "a schema is being fetched");
    src->wait_reason = src->why;
    return MSG_HOLD;
  }
  if (rc == HS_E_NOMEM) /* not the message's fault: it is kept */
    return hs__source_nomem(src, "framing a message");
  if (rc) {
    snprintf(reason, sizeof reason, "%s: %s", src->name, err.msg);
    return dead_letter(src, p, seq, m, why > HS_REJ_NONE ? (int)why - 1 : REJ_MALFORMED, reason);
  }
  msgpack_object doc;
  if (fr.kind == HS_FRAMED_TREE)
    doc = fr.tree;
  else if ((rc = fr.kind == HS_FRAMED_JSON
                     ? hs_doc_parse_json(mp->parser, fr.raw, fr.raw_len, &doc, &err)
                     : hs_doc_unpack_msgpack(mp->parser, fr.raw, fr.raw_len, &doc, &err))) {
    if (rc == HS_E_NOMEM)
      return hs__source_nomem(src, "reading a message");
    snprintf(reason, sizeof reason, "%s: %s", src->name, err.msg);
    return dead_letter(src, p, seq, m, REJ_MALFORMED, reason);
  }
  hs_map_header_t hdr[MAX_HEADERS];
  size_t n_hdr = 0;
  rd_kafka_headers_t *hs = NULL;
  if (!rd_kafka_message_headers(m, &hs) && hs) {
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; n_hdr < MAX_HEADERS && !rd_kafka_header_get_all(hs, i, &name, &val, &len);
         i++)
      hdr[n_hdr++] = (hs_map_header_t){name, val ? val : "", val ? len : 0};
  }
  hs_map_input_t in = {m->key, m->key_len, hdr, n_hdr, &doc};
  int rule = -1;
  mp->out.len = 0;
  rc = hs_mapping_apply(src->mapping, &in, HS_FMT_JSON, &mp->out, &rule, &err);
  if (rc == HS_E_NOMEM)
    return hs__source_nomem(src, "mapping a message");
  if (rc < 0) {
    snprintf(src->why, sizeof src->why, "%s", err.msg[0] ? err.msg : "out of memory");
    src->wait_reason = src->why;
    return MSG_HOLD;
  }
  if (rc == HS_MAP_REJECT && rule < 0) { /* no rule, under the mapping's on_unmatched */
    count(src->m_unmatched, 1);
    if (src->on_unmatched == 0)
      return MSG_DONE;
    snprintf(reason, sizeof reason, "%s", err.msg);
    return dead_letter(src, p, seq, m, REJ_UNMATCHED, reason);
  }
  if (rc == HS_MAP_UNMATCHED) {
    count(src->m_unmatched, 1);
    if (src->on_unmatched != 1)
      return MSG_DONE;
    snprintf(reason, sizeof reason, "%s: no rule matches", src->name);
    return dead_letter(src, p, seq, m, REJ_UNMATCHED, reason);
  }
  if (rc == HS_MAP_REJECT) {
    snprintf(reason, sizeof reason, "%s", err.msg);
    return dead_letter(src, p, seq, m, REJ_MAPPING, reason);
  }
  if (rc == HS_MAP_NO_EVENT) {
    count(src->m_no_event, 1);
    return MSG_DONE;
  }
  hs_str_t account;
  if ((rc = event_account(mp, &account)) == HS_E_NOMEM)
    return hs__source_nomem(src, "reading a mapped event");
  if (rc) { /* the mapping always sets it: not expected */
    snprintf(reason, sizeof reason, "%s: the mapped event has no account_id", src->name);
    return dead_letter(src, p, seq, m, REJ_MAPPING, reason);
  }
  if ((rc = hs__mapper_produce(mp, p, seq, src->to, account.ptr, account.len, mp->out.data,
                               mp->out.len, NULL, 0, &err)))
    return produce_failed(src, rc, "queueing a mapped event");
  count(src->m_events, 1);
  return MSG_DONE;
}
