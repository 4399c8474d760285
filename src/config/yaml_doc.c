/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The YAML reader: libyaml's event parser, not its document loader, so that
 * every bound is enforced as the file is read, before the work it bounds. */
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct open_s {
  int id;      /* the collection's node */
  int key;     /* a mapping's key waiting for its value; 0: none */
  size_t size; /* items or pairs so far */
} open_t;

typedef struct reader_s {
  const char *name;
  hs_err_t *err;
  yaml_document_t *doc;
  open_t stack[HS_YAML_MAX_DEPTH];
  size_t depth;
  size_t nodes;
} reader_t;

int hs__yaml_verror(hs_err_t *err, const char *name, const yaml_mark_t *m, size_t reason_max,
                    const char *fmt, va_list ap) {
  char reason[256];
  vsnprintf(reason, reason_max < sizeof reason ? reason_max : sizeof reason, fmt, ap);
  return hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: %s", name, m ? m->line + 1 : 1,
                    m ? m->column + 1 : 1, reason);
}

__attribute__((format(printf, 3, 4))) static int fail(reader_t *r, const yaml_mark_t *m,
                                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = hs__yaml_verror(r->err, r->name, m, 200, fmt, ap);
  va_end(ap);
  return rc;
}

static int nomem(reader_t *r) {
  return hs_err_set(r->err, HS_E_NOMEM, "out of memory");
}

/* What every node event is checked for before its node is made. */
static int check_node(reader_t *r, const yaml_event_t *ev, const yaml_char_t *anchor,
                      const yaml_char_t *tag) {
  if (anchor)
    return fail(r, &ev->start_mark, "anchors and aliases are not supported");
  if (tag) {
    static const char std[] = "tag:yaml.org,2002:"; /* written !!name */
    const char *t = (const char *)tag;
    bool is_std = !strncmp(t, std, sizeof std - 1);
    return fail(r, &ev->start_mark,
                "tags are not supported (\"%s%.60s\"): write the value plainly, or quoted for "
                "a string",
                is_std ? "!!" : "", is_std ? t + sizeof std - 1 : t);
  }
  if (r->nodes == HS_YAML_MAX_NODES)
    return fail(r, &ev->start_mark, "more than %d values in one file", HS_YAML_MAX_NODES);
  return 0;
}

/* Places a new node (id) in the collection it belongs to. */
static int attach(reader_t *r, int id, const yaml_event_t *ev) {
  yaml_node_t *node = yaml_document_get_node(r->doc, id);
  node->start_mark = ev->start_mark;
  node->end_mark = ev->end_mark;
  r->nodes++;
  if (!r->depth)
    return 0; /* the root */
  open_t *o = &r->stack[r->depth - 1];
  yaml_node_t *parent = yaml_document_get_node(r->doc, o->id);
  if (parent->type == YAML_SEQUENCE_NODE) {
    o->size++;
    return yaml_document_append_sequence_item(r->doc, o->id, id) ? 0 : nomem(r);
  }
  if (!o->key) {
    if (++o->size > HS_YAML_MAX_PAIRS)
      return fail(r, &ev->start_mark, "more than %d keys in one mapping", HS_YAML_MAX_PAIRS);
    o->key = id;
    return 0;
  }
  int key = o->key;
  o->key = 0;
  return yaml_document_append_mapping_pair(r->doc, o->id, key, id) ? 0 : nomem(r);
}

static int on_event(reader_t *r, const yaml_event_t *ev, size_t *documents) {
  int id, rc;
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (*documents)
      return fail(r, &ev->start_mark,
                  "a second YAML document: the file must hold one (remove this \"---\" or "
                  "what follows it)");
    return 0;
  case YAML_DOCUMENT_END_EVENT:
    ++*documents;
    return 0;
  case YAML_ALIAS_EVENT:
    return fail(r, &ev->start_mark, "anchors and aliases are not supported");
  case YAML_SCALAR_EVENT:
    if ((rc = check_node(r, ev, ev->data.scalar.anchor, ev->data.scalar.tag)))
      return rc;
    id = yaml_document_add_scalar(r->doc, NULL, ev->data.scalar.value, (int)ev->data.scalar.length,
                                  ev->data.scalar.style);
    return id ? attach(r, id, ev) : nomem(r);
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    if ((rc = seq ? check_node(r, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag)
                  : check_node(r, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag)))
      return rc;
    if (r->depth == HS_YAML_MAX_DEPTH)
      return fail(r, &ev->start_mark, "nesting deeper than %d", HS_YAML_MAX_DEPTH);
    id = seq ? yaml_document_add_sequence(r->doc, NULL, ev->data.sequence_start.style)
             : yaml_document_add_mapping(r->doc, NULL, ev->data.mapping_start.style);
    if (!id)
      return nomem(r);
    if ((rc = attach(r, id, ev)))
      return rc;
    r->stack[r->depth++] = (open_t){id, 0, 0};
    return 0;
  }
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    if (r->depth) {
      r->depth--;
      yaml_document_get_node(r->doc, r->stack[r->depth].id)->end_mark = ev->end_mark;
    }
    return 0;
  default:
    return 0;
  }
}

int hs__yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc,
                  hs_err_t *err) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
    yaml_parser_delete(&parser);
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  reader_t r = {.name = name, .err = err, .doc = doc};
  size_t documents = 0;
  int rc = 0;
  for (bool done = false; !done && !rc;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      rc = hs_err_set(err, HS_E_CONFIG, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                      parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "YAML syntax error");
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    rc = on_event(&r, &ev, &documents);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  if (rc)
    yaml_document_delete(doc);
  return rc;
}
