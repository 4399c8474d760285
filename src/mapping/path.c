/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Paths into a document: `a.b[0].c`, `answers[field.ref=nps].number`,
 * `$key`, `$headers.NAME`. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs__path_free(path_t *p) {
  for (size_t i = 0; i < p->n; i++) {
    hs_free(p->segs[i].name);
    hs_free(p->segs[i].equals);
    if (p->segs[i].where) {
      hs__path_free(p->segs[i].where);
      hs_free(p->segs[i].where);
    }
  }
  hs_free(p->segs);
  hs_free(p->text);
  hs_free(p->header);
  *p = (path_t){0};
}

static int add(path_t *p, seg_t s, size_t *cap) {
  seg_t *g = hs_array_grow(p->segs, cap, p->n, sizeof *g, 4);
  if (!g)
    return HS_E_NOMEM;
  p->segs = g;
  p->segs[p->n++] = s;
  return 0;
}

static int bad(char *why, size_t n, const char *s, const char *reason) {
  snprintf(why, n, "path \"%s\": %s", s, reason);
  return HS_E_CONFIG;
}

/* Names separated by dots, each followed by [N] or [path=value] selectors,
 * up to `end` (exclusive). `nested`: inside a selector, where brackets are
 * not allowed. */
static int parse_segs(const char *full, const char *s, const char *end, path_t *p, bool nested,
                      char *why, size_t wn) {
  size_t cap = 0;
  bool first = true;
  while (s < end) {
    const char *e = s;
    while (e < end && *e != '.' && *e != '[' && *e != ']' && *e != '=')
      e++;
    if (e < end && (*e == ']' || *e == '='))
      return bad(why, wn, full,
                 nested ? "a selector's path holds no [ ] or =" : "unexpected ] or =");
    if (e == s && !(first && e < end && *e == '[' && !nested))
      return bad(why, wn, full, "an empty name");
    if (e > s) {
      char *name = hs_strndup(s, (size_t)(e - s));
      if (!name || add(p, (seg_t){.kind = SEG_KEY, .name = name, .len = (size_t)(e - s)}, &cap)) {
        hs_free(name);
        return HS_E_NOMEM;
      }
    }
    first = false;
    s = e;
    while (s < end && *s == '[') {
      if (nested)
        return bad(why, wn, full, "a selector's path holds no [ ] or =");
      const char *close = memchr(s, ']', (size_t)(end - s));
      if (!close)
        return bad(why, wn, full, "[ without ]");
      const char *in = s + 1, *eq = memchr(in, '=', (size_t)(close - in));
      seg_t seg = {0};
      if (!eq) {
        char *stop;
        unsigned long v = strtoul(in, &stop, 10);
        if (in == close || stop != close || *in == '-' || *in == '+' || v > 1000000)
          return bad(why, wn, full, "[ ] holds an index 0..1000000 or path=value");
        seg = (seg_t){.kind = SEG_INDEX, .index = (uint32_t)v};
        if (add(p, seg, &cap))
          return HS_E_NOMEM;
      } else {
        path_t *w = hs_calloc(1, sizeof *w);
        char *val = hs_strndup(eq + 1, (size_t)(close - eq - 1));
        int rc = !w || !val ? HS_E_NOMEM : 0;
        if (!rc && eq == in)
          rc = bad(why, wn, full, "[=value] needs a path before =");
        if (!rc)
          rc = parse_segs(full, in, eq, w, true, why, wn);
        if (!rc)
          rc = add(p, (seg_t){.kind = SEG_FIND, .where = w, .equals = val}, &cap);
        if (rc) {
          if (w)
            hs__path_free(w);
          hs_free(w);
          hs_free(val);
          return rc;
        }
      }
      s = close + 1;
    }
    if (s < end && *s == '.') {
      s++;
      if (s == end)
        return bad(why, wn, full, "ends with .");
    } else if (s < end) {
      return bad(why, wn, full, "expected . or [ after ]");
    }
  }
  return 0;
}

int hs__path_parse(const char *s, path_t *out, char *why, size_t n) {
  *out = (path_t){0};
  int rc = (out->text = hs_strdup(s)) ? 0 : HS_E_NOMEM;
  if (rc)
    return rc;
  if (!strcmp(s, "$key")) {
    out->root = ROOT_KEY;
  } else if (!strncmp(s, "$headers.", 9) && s[9]) {
    out->root = ROOT_HEADER;
    rc = (out->header = hs_strdup(s + 9)) ? 0 : HS_E_NOMEM;
  } else if (*s == '$') {
    rc = bad(why, n, s, "$ starts only $key or $headers.NAME");
  } else if (!*s) {
    rc = bad(why, n, s, "empty");
  } else {
    rc = parse_segs(s, s, s + strlen(s), out, false, why, n);
  }
  if (rc)
    hs__path_free(out);
  return rc;
}
