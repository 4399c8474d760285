/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The field layer: the table of known keys, the fields each event type
 * carries and requires, and the checks of a whole event. */
#include "fields.h"

#include <stdlib.h>

const field_t hs__fields[HS__N_FIELDS] = {
    {"event_id", 8, HS_F_NONE, K_ID, offsetof(hs_event_t, event_id)},
    {"account_id", 10, HS_F_NONE, K_ID, offsetof(hs_event_t, account_id)},
    {"type", 4, HS_F_NONE, K_STR, offsetof(hs_event_t, type_name)},
    {"ts", 2, HS_F_NONE, K_TIME, offsetof(hs_event_t, ts_ms)},
    {"user_id", 7, HS_F_USER_ID, K_ID, offsetof(hs_event_t, user_id)},
    {"session_seconds", 15, HS_F_SESSION_SECONDS, K_NUM, offsetof(hs_event_t, session_seconds)},
    {"count", 5, HS_F_COUNT, K_NUM, offsetof(hs_event_t, count)},
    {"amount", 6, HS_F_AMOUNT, K_NUM, offsetof(hs_event_t, amount)},
    {"score", 5, HS_F_SCORE, K_NUM, offsetof(hs_event_t, score)},
    {"rating", 6, HS_F_RATING, K_NUM, offsetof(hs_event_t, rating)},
    {"value", 5, HS_F_VALUE, K_NUM, offsetof(hs_event_t, value)},
    {"licenses", 8, HS_F_LICENSES, K_NUM, offsetof(hs_event_t, licenses)},
    {"due", 3, HS_F_DUE, K_TIME, offsetof(hs_event_t, due_ms)},
    {"expires", 7, HS_F_EXPIRES, K_TIME, offsetof(hs_event_t, expires_ms)},
    {"contract_start", 14, HS_F_CONTRACT_START, K_TIME, offsetof(hs_event_t, contract_start_ms)},
    {"renewal_date", 12, HS_F_RENEWAL_DATE, K_TIME, offsetof(hs_event_t, renewal_ms)},
    {"feature", 7, HS_F_FEATURE, K_STR, offsetof(hs_event_t, feature)},
    {"role", 4, HS_F_ROLE, K_STR, offsetof(hs_event_t, role)},
    {"priority", 8, HS_F_PRIORITY, K_STR, offsetof(hs_event_t, priority)},
    {"ticket_id", 9, HS_F_TICKET_ID, K_ID, offsetof(hs_event_t, ticket_id)},
    {"invoice_id", 10, HS_F_INVOICE_ID, K_ID, offsetof(hs_event_t, invoice_id)},
    {"outcome", 7, HS_F_OUTCOME, K_STR, offsetof(hs_event_t, outcome)},
    {"target", 6, HS_F_TARGET, K_STR, offsetof(hs_event_t, target)},
    {"reason", 6, HS_F_REASON, K_STR, offsetof(hs_event_t, reason)},
    {"author", 6, HS_F_AUTHOR, K_STR, offsetof(hs_event_t, author)},
    {"segment", 7, HS_F_SEGMENT, K_STR, offsetof(hs_event_t, segment)},
    {"stage", 5, HS_F_STAGE, K_STR, offsetof(hs_event_t, stage)},
    {"vertical", 8, HS_F_VERTICAL, K_STR, offsetof(hs_event_t, vertical)},
    {"attributes", 10, HS_F_NONE, K_OBJ, 0},
    {"currency", 8, HS_F_NONE, K_IGNORE, 0},
};
#define S(f, kind, member)                                                                         \
  { HS_FIELD_BIT(f), offsetof(hs_event_t, member), kind }
const field_slot_t hs__field_slots[HS__N_FIELDS] = {
    {0, offsetof(hs_event_t, event_id), K_ID},
    {0, offsetof(hs_event_t, account_id), K_ID},
    {0, offsetof(hs_event_t, type_name), K_STR},
    {0, offsetof(hs_event_t, ts_ms), K_TIME},
    S(HS_F_USER_ID, K_ID, user_id),
    S(HS_F_SESSION_SECONDS, K_NUM, session_seconds),
    S(HS_F_COUNT, K_NUM, count),
    S(HS_F_AMOUNT, K_NUM, amount),
    S(HS_F_SCORE, K_NUM, score),
    S(HS_F_RATING, K_NUM, rating),
    S(HS_F_VALUE, K_NUM, value),
    S(HS_F_LICENSES, K_NUM, licenses),
    S(HS_F_DUE, K_TIME, due_ms),
    S(HS_F_EXPIRES, K_TIME, expires_ms),
    S(HS_F_CONTRACT_START, K_TIME, contract_start_ms),
    S(HS_F_RENEWAL_DATE, K_TIME, renewal_ms),
    S(HS_F_FEATURE, K_STR, feature),
    S(HS_F_ROLE, K_STR, role),
    S(HS_F_PRIORITY, K_STR, priority),
    S(HS_F_TICKET_ID, K_ID, ticket_id),
    S(HS_F_INVOICE_ID, K_ID, invoice_id),
    S(HS_F_OUTCOME, K_STR, outcome),
    S(HS_F_TARGET, K_STR, target),
    S(HS_F_REASON, K_STR, reason),
    S(HS_F_AUTHOR, K_STR, author),
    S(HS_F_SEGMENT, K_STR, segment),
    S(HS_F_STAGE, K_STR, stage),
    S(HS_F_VERTICAL, K_STR, vertical),
    {0, 0, K_OBJ},
    {0, 0, K_IGNORE},
};
#undef S
void hs__fields_check(void) {
  for (size_t i = 0; i < HS__N_FIELDS; i++) {
    const field_t *f = &hs__fields[i];
    const field_slot_t *s = &hs__field_slots[i];
    if (find_field(f->name, f->len) != (int)i || s->kind != f->kind ||
        (f->kind <= K_TIME && s->off != f->off) ||
        s->present != (f->field == HS_F_NONE ? 0 : HS_FIELD_BIT(f->field)))
      abort();
  }
}

#define B(f) HS_FIELD_BIT(f)
/* Per type: the fields it carries, and those it requires. */
static const uint32_t type_allowed[HS_EV__COUNT] = {
    [HS_EV_LOGIN] = B(HS_F_SESSION_SECONDS),
    [HS_EV_FEATURE_USED] = B(HS_F_FEATURE) | B(HS_F_COUNT),
    [HS_EV_MEETING] = B(HS_F_ROLE),
    [HS_EV_CALL] = B(HS_F_ROLE),
    [HS_EV_EMAIL_IN] = B(HS_F_ROLE),
    [HS_EV_EMAIL_OUT] = B(HS_F_ROLE),
    [HS_EV_NOTE] = B(HS_F_ROLE),
    [HS_EV_TICKET_OPENED] = B(HS_F_TICKET_ID) | B(HS_F_PRIORITY),
    [HS_EV_TICKET_CLOSED] = B(HS_F_TICKET_ID) | B(HS_F_PRIORITY),
    [HS_EV_INVOICE_ISSUED] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_INVOICE_PAID] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_INVOICE_OVERDUE] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT) | B(HS_F_DUE),
    [HS_EV_NPS] = B(HS_F_SCORE),
    [HS_EV_CSAT] = B(HS_F_SCORE),
    [HS_EV_CSM_RATING] = B(HS_F_SCORE),
    [HS_EV_REVIEW] = B(HS_F_RATING),
    [HS_EV_ACCOUNT] = B(HS_F_SEGMENT) | B(HS_F_STAGE) | B(HS_F_VERTICAL) | B(HS_F_LICENSES) |
                      B(HS_F_CONTRACT_START) | B(HS_F_RENEWAL_DATE),
    [HS_EV_OUTCOME] = B(HS_F_OUTCOME),
    [HS_EV_OVERRIDE] =
        B(HS_F_TARGET) | B(HS_F_VALUE) | B(HS_F_EXPIRES) | B(HS_F_REASON) | B(HS_F_AUTHOR),
};
static const uint32_t type_required[HS_EV__COUNT] = {
    [HS_EV_FEATURE_USED] = B(HS_F_FEATURE),
    [HS_EV_TICKET_OPENED] = B(HS_F_TICKET_ID),
    [HS_EV_TICKET_CLOSED] = B(HS_F_TICKET_ID),
    [HS_EV_INVOICE_ISSUED] = B(HS_F_INVOICE_ID) | B(HS_F_AMOUNT),
    [HS_EV_INVOICE_PAID] = B(HS_F_INVOICE_ID),
    [HS_EV_INVOICE_OVERDUE] = B(HS_F_INVOICE_ID),
    [HS_EV_NPS] = B(HS_F_SCORE),
    [HS_EV_CSAT] = B(HS_F_SCORE),
    [HS_EV_CSM_RATING] = B(HS_F_SCORE),
    [HS_EV_OUTCOME] = B(HS_F_OUTCOME),
    [HS_EV_OVERRIDE] =
        B(HS_F_TARGET) | B(HS_F_VALUE) | B(HS_F_EXPIRES) | B(HS_F_REASON) | B(HS_F_AUTHOR),
};
/* `s` for an error message: at most 64 bytes, printable ASCII as is and any
 * other byte as \xNN, so that no input can put control bytes in a log. */
static const char *printable(const char *s, size_t n, char out[300]) {
  size_t o = 0;
  for (size_t i = 0; i < n && i < 64; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
  }
  if (n > 64)
    o += (size_t)snprintf(out + o, 4, "...");
  out[o] = 0;
  return out;
}

bool hs__unknown_key(hs_decoder_t *d, const char *k, size_t n) {
  for (uint32_t i = 0; i < d->n_unknown; i++)
    if (d->unknown[i].len == n && memcmp(d->unknown[i].ptr, k, n) == 0) {
      char q[300];
      return fail(d, HS_E_SCHEMA, "field \"%s\": duplicate", printable(k, n, q)), false;
    }
  d->unknown[d->n_unknown++] = (hs_str_t){k, (uint32_t)n};
  return true;
}

bool hs__valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n)
      return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}
bool hs__check_str(hs_decoder_t *d, const char *name, const value_t *v, size_t max) {
  if (v->kind != V_STR)
    return fail(d, HS_E_SCHEMA, "field \"%s\": expected a string", name), false;
  if (v->n == 0)
    return fail(d, HS_E_RANGE, "field \"%s\": empty", name), false;
  if (v->n > max)
    return fail(d, HS_E_RANGE, "field \"%s\": longer than %zu bytes", name, max), false;
  for (size_t i = 0; i < v->n; i++)
    if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f)
      return fail(d, HS_E_RANGE, "field \"%s\": control characters are not allowed", name), false;
  if (!hs__valid_utf8((const unsigned char *)v->s, v->n))
    return fail(d, HS_E_PARSE, "field \"%s\": invalid UTF-8", name), false;
  return true;
}
bool hs__set_attr(hs_decoder_t *d, const value_t *v) {
  hs_event_t *ev = d->ev;
  if (ev->n_attrs == HS_MAX_ATTRS)
    return fail(d, HS_E_RANGE, "field \"attributes\": more than %d entries", HS_MAX_ATTRS), false;
  value_t key = {.kind = V_STR, .s = d->attr_key, .n = d->attr_key_len};
  if (!take_str(d, "attributes", &key, HS_MAX_ID_LEN, &ev->attr_key[ev->n_attrs]))
    return false;
  char num[40];
  value_t sv = *v;
  if (v->kind == V_INT || v->kind == V_DBL) {
    double x = v->kind == V_INT ? (double)v->i : v->d;
    if (!isfinite(x))
      return fail(d, HS_E_RANGE, "field \"attributes\": not a finite number"), false;
    if (v->kind == V_INT)
      snprintf(num, sizeof num, "%lld", (long long)v->i);
    else
      snprintf(num, sizeof num, "%.17g", v->d);
    sv = (value_t){.kind = V_STR, .s = num, .n = strlen(num)};
  } else if (v->kind == V_BOOL) {
    sv = (value_t){.kind = V_STR, .s = v->b ? "true" : "false", .n = v->b ? 4 : 5};
  } else if (v->kind != V_STR) {
    return fail(d, HS_E_SCHEMA,
                "field \"attributes\": values must be strings, numbers or "
                "booleans"),
           false;
  }
  if (plain_str(&sv, HS_MAX_STR_LEN)) {
    if (!keep_str(d, &sv, &ev->attr_val[ev->n_attrs]))
      return false;
  } else { /* the name is only for the error message */
    char name[HS_MAX_ID_LEN + 20];
    snprintf(name, sizeof name, "attributes.%.*s",
             (int)(d->attr_key_len > 100 ? 100 : d->attr_key_len), d->attr_key);
    if (!take_str(d, name, &sv, HS_MAX_STR_LEN, &ev->attr_val[ev->n_attrs]))
      return false;
  }
  for (uint32_t i = 0; i < ev->n_attrs; i++)
    if (ev->attr_key[i].len == ev->attr_key[ev->n_attrs].len &&
        !memcmp(ev->attr_key[i].ptr, ev->attr_key[ev->n_attrs].ptr, ev->attr_key[i].len)) {
      char q[300];
      return fail(d, HS_E_SCHEMA, "field \"attributes\": duplicate key \"%s\"",
                  printable(ev->attr_key[i].ptr, ev->attr_key[i].len, q)),
             false;
    }
  ev->n_attrs++;
  return true;
}

static bool is_one_of(hs_str_t s, const char *const *set) {
  for (; *set; set++)
    if (hs_str_eq(s, *set))
      return true;
  return false;
}

static bool integral_in(double v, double lo, double hi) {
  return v == floor(v) && v >= lo && v <= hi;
}

/* After the whole message: required fields, the type, ranges. */
int hs__decode_finish(hs_decoder_t *d) {
  hs_event_t *ev = d->ev;
  static const char *const env[] = {"event_id", "account_id", "type", "ts"};
  if ((d->seen & 15) != 15) /* the first of them missing */
    for (int i = 0; i < 4; i++)
      if (!(d->seen & (UINT64_C(1) << i)))
        return fail(d, HS_E_SCHEMA, "field \"%s\": missing", env[i]), d->rc;
  ev->type = hs_event_type_from(ev->type_name);
  if (ev->type == HS_EV_UNKNOWN) {
    ev->present &= HS_FIELD_BIT(HS_F_USER_ID);
    return fail(d, HS_E_UNKNOWN, "field \"type\": unknown event type \"%.*s\"",
                (int)(ev->type_name.len > 64 ? 64 : ev->type_name.len), ev->type_name.ptr),
           d->rc;
  }
  ev->present &= type_allowed[ev->type] | HS_FIELD_BIT(HS_F_USER_ID);
  if (ev->type != HS_EV_ACCOUNT)
    ev->n_attrs = 0;
  uint32_t missing = type_required[ev->type] & ~ev->present;
  if (missing) {
    for (int f = 1; f < HS_F__COUNT; f++)
      if (missing & HS_FIELD_BIT(f))
        return fail(d, HS_E_SCHEMA, "field \"%s\": missing (required for %s)", hs_field_name(f),
                    hs_event_type_name(ev->type)),
               d->rc;
  }
  uint32_t p = ev->present;
  if (ev->type == HS_EV_FEATURE_USED && !(p & B(HS_F_COUNT))) {
    ev->count = 1;
    ev->present |= B(HS_F_COUNT);
  }
  if ((p & B(HS_F_SESSION_SECONDS)) && (ev->session_seconds < 0 || ev->session_seconds > 1e7))
    return fail(d, HS_E_RANGE, "field \"session_seconds\": must be 0..1e7"), d->rc;
  if ((p & B(HS_F_COUNT)) && (ev->count < 0 || ev->count > 1e6))
    return fail(d, HS_E_RANGE, "field \"count\": must be 0..1e6"), d->rc;
  if ((p & B(HS_F_AMOUNT)) && ev->amount < 0)
    return fail(d, HS_E_RANGE, "field \"amount\": must not be negative"), d->rc;
  if ((p & B(HS_F_LICENSES)) && (ev->licenses < 0 || ev->licenses > 1e7))
    return fail(d, HS_E_RANGE, "field \"licenses\": must be 0..1e7"), d->rc;
  if (p & B(HS_F_SCORE)) {
    double lo = ev->type == HS_EV_NPS ? 0 : 1, hi = ev->type == HS_EV_CSAT ? 5 : 10;
    if (!integral_in(ev->score, lo, hi))
      return fail(d, HS_E_RANGE, "field \"score\": must be an integer %g..%g for %s", lo, hi,
                  hs_event_type_name(ev->type)),
             d->rc;
  }
  if ((p & B(HS_F_RATING)) && !integral_in(ev->rating, 1, 5))
    return fail(d, HS_E_RANGE, "field \"rating\": must be an integer 1..5"), d->rc;
  static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
  static const char *const outcomes[] = {"churned", "renewed", "expanded", NULL};
  if ((p & B(HS_F_PRIORITY)) && !is_one_of(ev->priority, priorities))
    return fail(d, HS_E_RANGE, "field \"priority\": must be low, normal, high or urgent"), d->rc;
  if ((p & B(HS_F_OUTCOME)) && !is_one_of(ev->outcome, outcomes))
    return fail(d, HS_E_RANGE, "field \"outcome\": must be churned, renewed or expanded"), d->rc;
  return 0;
}
