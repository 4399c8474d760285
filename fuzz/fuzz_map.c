/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* libFuzzer target: arbitrary bytes as a JSON record and as a msgpack record,
 * each tree through a mapping that uses every operation of the language.
 * Invariants: every failure says why; every event decodes as the engine
 * reads it. */
#include "healthscore/mapping.h"

#include <stdlib.h>
#include <string.h>

static const char mapping[] =
    "source: fuzz\n"
    "lookups:\n  users: {learned: true}\n"
    "rules:\n"
    "  - name: group\n    when: {type: group}\n"
    "    learn: {lookup: users, key: userId, value: groupId}\n"
    "    emit: account\n    set:\n      event_id: {join: [messageId, $key]}\n"
    "      account_id: groupId\n      ts: timestamp\n"
    "      attributes: {path: traits, optional: true}\n"
    "      licenses: {path: traits.seats, optional: true}\n"
    "  - name: nps\n    when: {event_type: {prefix: survey}, $headers.h: {exists: false}}\n"
    "    emit: nps\n    set:\n      event_id: event_id\n"
    "      account_id: {coalesce: [\"a.b[0].c\", a.id], case: lower}\n"
    "      ts: {path: created, time: s}\n"
    "      score: \"answers[field.ref=nps].number\"\n"
    "  - name: track\n    when: {type: {one_of: [track, page]}}\n"
    "    emit: feature_used\n    set:\n      event_id: messageId\n"
    "      account_id: {path: userId, lookup: users}\n"
    "      ts: {path: ts, time: us}\n      feature: {path: event, case: upper}\n"
    "      count: {path: n, scale: 0.01, optional: true}\n"
    "  - name: bill\n    when: {$key: {prefix: k}}\n    emit: invoice_paid\n    set:\n"
    "      event_id: $key\n      account_id: $headers.acct\n      ts: {const: 1700000000000}\n"
    "      invoice_id: {coalesce: [id, \"[0]\"]}\n      due: {path: due, time: rfc3339, "
    "optional: true}\n";

static void one(hs_mapping_t *m, const msgpack_object *doc, const uint8_t *data, size_t size) {
  static hs_decoder_t *dec;
  if (!dec && hs_decoder_new(&dec, 1 << 16))
    abort();
  hs_map_header_t h[] = {{"acct", data, size > 8 ? 8 : size}, {"h", data, size & 1}};
  hs_map_input_t in = {size > 3 ? data : NULL, size > 3 ? 3 : 0, h, size & 2 ? 2 : 1, doc};
  for (int fmt = HS_FMT_JSON; fmt <= HS_FMT_MSGPACK; fmt++) {
    hs_buf_t out;
    hs_buf_init(&out);
    hs_err_t why = {0};
    int rule;
    int rc = hs_mapping_apply(m, &in, (hs_format_t)fmt, &out, &rule, &why);
    if (rc == HS_MAP_EVENT) {
      hs_event_t ev;
      if (rule < 0 || hs_event_decode(dec, out.data, out.len, (hs_format_t)fmt, &ev, &why) != 0)
        abort();
    } else if (rc == HS_MAP_REJECT && !why.msg[0]) {
      abort();
    } else if (rc != HS_MAP_REJECT && out.len) {
      abort(); /* nothing written unless an event */
    }
    hs_buf_free(&out);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static hs_mapping_t *m;
  static hs_doc_parser_t *p;
  hs_err_t err = {0};
  if (!m && hs_mapping_load(mapping, sizeof mapping - 1, "fuzz.yaml", NULL, &m, &err))
    abort();
  if (!p && hs_doc_parser_new(&p, 4096))
    abort();
  msgpack_object doc;
  if (hs_doc_parse_json(p, data, size, &doc, &err) == 0)
    one(m, &doc, data, size);
  else if (!err.msg[0])
    abort();
  err.msg[0] = 0;
  if (hs_doc_unpack_msgpack(p, data, size, &doc, &err) == 0)
    one(m, &doc, data, size);
  else if (!err.msg[0])
    abort();
  return 0;
}
