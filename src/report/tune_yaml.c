/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Writes suggested weights back into the configuration's own text: each
 * number is replaced where it stands (found from the line:column the YAML
 * loader recorded for its group or metric reference), so comments, order
 * and layout survive. */
#include "internal.h"

#include "healthscore/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct edit_s {
  size_t at, len; /* replace text[at, at+len) */
  char with[48];
} edit_t;

/* Byte offset of 1-based line:column (columns count characters). */
static long offset_of(const char *t, size_t n, hs_pos_t pos) {
  size_t i = 0;
  for (int line = 1; line < pos.line; line++) {
    const char *nl = memchr(t + i, '\n', n - i);
    if (!nl)
      return -1;
    i = (size_t)(nl - t) + 1;
  }
  for (int col = 1; col < pos.col && i < n && t[i] != '\n'; col++) {
    i++;
    while (i < n && ((unsigned char)t[i] & 0xc0) == 0x80)
      i++;
  }
  return (long)i;
}

static bool is_key(const char *t, size_t n, size_t i, const char *key, size_t *after) {
  size_t k = strlen(key);
  if (i + k > n || memcmp(t + i, key, k))
    return false;
  i += k;
  while (i < n && t[i] == ' ')
    i++;
  if (i >= n || t[i] != ':')
    return false;
  *after = i + 1;
  return true;
}

/* The plain scalar after "key:" at `i`: [*at, *at + *len). */
static void value_span(const char *t, size_t n, size_t i, bool flow, size_t *at, size_t *len) {
  while (i < n && t[i] == ' ')
    i++;
  size_t j = i;
  while (j < n && t[j] != '\n' && !(flow && (t[j] == ',' || t[j] == '}')) &&
         !(t[j] == '#' && j > i && t[j - 1] == ' '))
    j++;
  while (j > i && (t[j - 1] == ' ' || t[j - 1] == '\r'))
    j--;
  *at = i;
  *len = j - i;
}

/* Finds `key` in the mapping that starts at offset `o` (a '{' flow mapping
 * or a block mapping whose first key is at `o`). Returns 1 and the value's
 * span, 0 if absent with *ins where to insert "key: value", -1 if the text
 * is not understood. *flow says which kind. */
static int find_key(const char *t, size_t n, size_t o, const char *key, size_t *at, size_t *len,
                    size_t *ins, bool *flow) {
  size_t after;
  *flow = t[o] == '{';
  if (*flow) {
    int depth = 0;
    bool start = true;
    for (size_t i = o; i < n; i++) {
      char c = t[i];
      if (c == '"' || c == '\'') {
        for (i++; i < n && t[i] != c; i++)
          ;
        start = false;
        continue;
      }
      if (c == '{' || c == '[') {
        depth++;
        start = depth == 1;
        continue;
      }
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          size_t j = i;
          while (j > o + 1 && (t[j - 1] == ' ' || t[j - 1] == '\n'))
            j--;
          *ins = j;
          return 0;
        }
        continue;
      }
      if (depth == 1 && c == ',') {
        start = true;
        continue;
      }
      if (c == ' ' || c == '\n' || c == '\r')
        continue;
      if (depth == 1 && start && is_key(t, n, i, key, &after)) {
        value_span(t, n, after, true, at, len);
        return 1;
      }
      start = false;
    }
    return -1;
  }
  /* block: keys at the column of the first one, on the following lines */
  size_t ls = o;
  while (ls > 0 && t[ls - 1] != '\n')
    ls--;
  size_t col = o - ls;
  if (is_key(t, n, o, key, &after)) {
    value_span(t, n, after, false, at, len);
    return 1;
  }
  const char *nl = memchr(t + o, '\n', n - o);
  size_t i = nl ? (size_t)(nl - t) + 1 : n;
  *ins = i;
  while (i < n) {
    size_t s = i, ind = 0;
    while (s < n && t[s] == ' ') {
      s++;
      ind++;
    }
    nl = memchr(t + s, '\n', n - s);
    size_t next = nl ? (size_t)(nl - t) + 1 : n;
    if (s < n && t[s] != '\n' && t[s] != '#' && t[s] != '\r') {
      if (ind < col || (ind == col && t[s] == '-'))
        break;
      if (ind == col && is_key(t, n, s, key, &after)) {
        value_span(t, n, after, false, at, len);
        return 1;
      }
    }
    i = next;
  }
  return 0;
}

static void fmt_weight(char *out, size_t cap, double w) {
  snprintf(out, cap, "%.2f", w);
  size_t k = strlen(out);
  while (k > 1 && out[k - 1] == '0')
    out[--k] = 0;
  if (k > 1 && out[k - 1] == '.')
    out[--k] = 0;
}

static bool same_number(const char *t, size_t len, double w) {
  char buf[48];
  if (len == 0 || len >= sizeof buf)
    return false;
  memcpy(buf, t, len);
  buf[len] = 0;
  char *end;
  double v = strtod(buf, &end);
  return *end == 0 && fabs(v - w) < 1e-9;
}

static int plan(const char *t, size_t n, hs_pos_t pos, double w, edit_t *e, size_t *ne,
                hs_err_t *err) {
  long o = offset_of(t, n, pos);
  if (o < 0 || (size_t)o >= n)
    return hs_err_set(err, HS_E_INVAL, "line %d column %d is not in the text", pos.line, pos.col);
  size_t at, len, ins;
  bool flow;
  int found = find_key(t, n, (size_t)o, "weight", &at, &len, &ins, &flow);
  if (found < 0)
    return hs_err_set(err, HS_E_INVAL, "line %d: cannot find where the weight goes", pos.line);
  if (found && same_number(t + at, len, w))
    return 0;
  if (!found && fabs(w - 1) < 1e-9) /* the default */
    return 0;
  edit_t *x = &e[(*ne)++];
  char num[24];
  fmt_weight(num, sizeof num, w);
  if (found) {
    *x = (edit_t){at, len, ""};
    snprintf(x->with, sizeof x->with, "%s", num);
  } else if (flow) {
    *x = (edit_t){ins, 0, ""};
    snprintf(x->with, sizeof x->with, ", weight: %s", num);
  } else {
    size_t ls = (size_t)o;
    while (ls > 0 && t[ls - 1] != '\n')
      ls--;
    *x = (edit_t){ins, 0, ""};
    snprintf(x->with, sizeof x->with, "%*sweight: %s\n", (int)((size_t)o - ls), "", num);
  }
  return 0;
}

static int by_offset(const void *a, const void *b) {
  size_t x = ((const edit_t *)a)->at, y = ((const edit_t *)b)->at;
  return (x > y) - (x < y);
}

int hs_tune_rewrite(const char *t, size_t n, const hs_config_t *cfg, size_t profile,
                    const hs_tune_result_t *res, const char *comment, hs_buf_t *out,
                    hs_err_t *err) {
  if (profile >= cfg->n_profiles)
    return hs_err_set(err, HS_E_INVAL, "no such profile");
  const hs_profile_def_t *p = &cfg->profiles[profile];
  edit_t *e = hs_calloc(res->n_groups + res->n_refs + 1, sizeof *e);
  if (!e)
    return HS_E_NOMEM;
  size_t ne = 0, j = 0;
  int rc = 0;
  for (size_t g = 0; !rc && g < res->n_groups; g++) {
    rc = plan(t, n, p->groups[g].pos, res->group_weight[g], e, &ne, err);
    for (size_t k = 0; !rc && k < p->groups[g].n_metrics && j < res->n_refs; k++, j++)
      rc = plan(t, n, p->groups[g].metrics[k].pos, res->metric_weight[j], e, &ne, err);
  }
  if (rc) {
    hs_free(e);
    return rc;
  }
  qsort(e, ne, sizeof *e, by_offset);
  /* an earlier run's comment, at the top, gives way to this one */
  size_t start = 0;
  while (start < n && !strncmp(t + start, "# healthscore tune", 18)) {
    while (start < n && t[start] != '\n')
      start++;
    start += start < n;
    while (start < n && !strncmp(t + start, "#   ", 4)) {
      while (start < n && t[start] != '\n')
        start++;
      start += start < n;
    }
  }
  rc |= comment ? hs_buf_printf(out, "%s", comment) : 0;
  size_t pos = start;
  for (size_t i = 0; i < ne; i++) {
    if (e[i].at < pos)
      continue; /* inside the replaced comment: cannot happen for a valid config */
    rc |= hs_buf_append(out, t + pos, e[i].at - pos);
    rc |= hs_buf_printf(out, "%s", e[i].with);
    pos = e[i].at + e[i].len;
  }
  rc |= hs_buf_append(out, t + pos, n - pos);
  hs_free(e);
  return rc ? HS_E_NOMEM : 0;
}
