/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Input events: the plain value struct every decoder fills and the scoring
 * core reads. The wire format is documented in docs/events.md and schemas/. */
#ifndef HEALTHSCORE_EVENT_H
#define HEALTHSCORE_EVENT_H

#include "healthscore/base.h"

#include <stddef.h>
#include <string.h>

/* Event types. The wire name is in the comment; hs_event_type_name() returns it.
 * Append only: the numeric values are not on the wire, but keep them stable. */
typedef enum hs_event_type_e {
  HS_EV_UNKNOWN = 0,
  HS_EV_LOGIN,           /* "login": session_seconds */
  HS_EV_FEATURE_USED,    /* "feature_used": feature, count */
  HS_EV_MEETING,         /* "meeting": role */
  HS_EV_CALL,            /* "call": role */
  HS_EV_EMAIL_IN,        /* "email_in": role (email from the customer) */
  HS_EV_EMAIL_OUT,       /* "email_out": role (email to the customer) */
  HS_EV_NOTE,            /* "note": role */
  HS_EV_TICKET_OPENED,   /* "ticket_opened": ticket_id, priority */
  HS_EV_TICKET_CLOSED,   /* "ticket_closed": ticket_id, priority */
  HS_EV_INVOICE_ISSUED,  /* "invoice_issued": invoice_id, amount, due */
  HS_EV_INVOICE_PAID,    /* "invoice_paid": invoice_id, amount */
  HS_EV_INVOICE_OVERDUE, /* "invoice_overdue": invoice_id, amount, due */
  HS_EV_NPS,             /* "nps": score 0..10 */
  HS_EV_CSAT,            /* "csat": score 1..5 */
  HS_EV_CSM_RATING,      /* "csm_rating": score 1..10 */
  HS_EV_REFERENCE,       /* "reference" */
  HS_EV_REVIEW,          /* "review": rating 1..5 (optional) */
  HS_EV_REFERRAL,        /* "referral" */
  HS_EV_ACCOUNT,         /* "account": segment, stage, vertical, licenses,
                            contract_start, renewal_date, attributes */
  HS_EV_OUTCOME,         /* "outcome": outcome churned|renewed|expanded */
  HS_EV_OVERRIDE,        /* "override": target, value, expires, reason, author */
  HS_EV__COUNT
} hs_event_type_t;

/* Named fields of an event, used by metric definitions (`field:`, `where:`). */
typedef enum hs_field_e {
  HS_F_NONE = 0,
  /* numbers */
  HS_F_SESSION_SECONDS,
  HS_F_COUNT,
  HS_F_AMOUNT,
  HS_F_SCORE,
  HS_F_RATING,
  HS_F_VALUE,
  HS_F_LICENSES,
  HS_F_DUE,            /* epoch ms */
  HS_F_EXPIRES,        /* epoch ms */
  HS_F_CONTRACT_START, /* epoch ms */
  HS_F_RENEWAL_DATE,   /* epoch ms */
  /* strings */
  HS_F_USER_ID,
  HS_F_FEATURE,
  HS_F_ROLE,
  HS_F_PRIORITY,
  HS_F_TICKET_ID,
  HS_F_INVOICE_ID,
  HS_F_OUTCOME,
  HS_F_TARGET,
  HS_F_REASON,
  HS_F_AUTHOR,
  HS_F_SEGMENT,
  HS_F_STAGE,
  HS_F_VERTICAL,
  HS_F__COUNT
} hs_field_t;

#define HS_FIELD_BIT(f) (UINT32_C(1) << (f))
#define HS_MAX_ATTRS 16     /* custom attributes on one account event */
#define HS_MAX_ID_LEN 128   /* event_id, account_id, user_id and other ids */
#define HS_MAX_STR_LEN 1024 /* any other string field */

/* A decoded event. Strings are borrowed: they point into the decoder's input
 * or scratch memory and are valid until the next decode on the same decoder.
 * A field is present iff its HS_FIELD_BIT is set in `present`. */
typedef struct hs_event_s {
  hs_event_type_t type;
  uint32_t present; /* HS_FIELD_BIT(f) for each field the message carried */
  int64_t ts_ms;    /* event time */
  hs_str_t event_id;
  hs_str_t account_id;
  hs_str_t type_name; /* as received; useful for unknown types */

  double session_seconds, count, amount, score, rating, value, licenses;
  int64_t due_ms, expires_ms, contract_start_ms, renewal_ms;

  hs_str_t user_id, feature, role, priority, ticket_id, invoice_id, outcome, target, reason, author,
      segment, stage, vertical;

  uint32_t n_attrs; /* account: custom attributes, string values */
  hs_str_t attr_key[HS_MAX_ATTRS];
  hs_str_t attr_val[HS_MAX_ATTRS];
} hs_event_t;

/* "login", ... ; "unknown" for HS_EV_UNKNOWN or out of range. */
const char *hs_event_type_name(hs_event_type_t t);
/* The type named `s`, or HS_EV_UNKNOWN. */
hs_event_type_t hs_event_type_from(hs_str_t s);
/* "session_seconds", ... ; NULL for HS_F_NONE. */
const char *hs_field_name(hs_field_t f);
/* The field named `s`, or HS_F_NONE. */
hs_field_t hs_field_from(hs_str_t s);
/* True for the fields that hold numbers (the epoch-ms ones included). */
bool hs_field_is_number(hs_field_t f);
/* The numeric value of field `f` if present: returns true and sets *out.
 * Inline (every event of a series reads one): the fields lie in hs_event_t
 * in the order of hs_field_t, 8 bytes each (event.c checks it). */
static inline bool hs_event_num(const hs_event_t *ev, hs_field_t f, double *out) {
  unsigned k = (unsigned)f - HS_F_SESSION_SECONDS;
  if (k > HS_F_RENEWAL_DATE - HS_F_SESSION_SECONDS || !(ev->present & HS_FIELD_BIT(f)))
    return false;
  const char *p = (const char *)ev + offsetof(hs_event_t, session_seconds) + 8 * (size_t)k;
  if (f <= HS_F_LICENSES) {
    memcpy(out, p, 8);
  } else { /* the epoch-ms fields */
    int64_t ms;
    memcpy(&ms, p, 8);
    *out = (double)ms;
  }
  return true;
}
/* The string value of field `f` if present, else HS_STR_NULL. Inline, as
 * hs_event_num. */
static inline hs_str_t hs_event_str(const hs_event_t *ev, hs_field_t f) {
  unsigned k = (unsigned)f - HS_F_USER_ID;
  if (k > HS_F_VERTICAL - HS_F_USER_ID || !(ev->present & HS_FIELD_BIT(f)))
    return HS_STR_NULL;
  hs_str_t s;
  memcpy(&s, (const char *)ev + offsetof(hs_event_t, user_id) + sizeof s * k, sizeof s);
  return s;
}

/* ---- the event-time guard (live and replay alike) ----------------------- */

/* The earliest event time accepted, as one int64: >= 0 is a fixed time (epoch
 * ms), < 0 is that many milliseconds before now (-86400000: one day before
 * now). The default, 2000-01-01T00:00:00Z, is fixed so that replays do not
 * depend on when they run; any real event is later, and epoch seconds sent
 * as milliseconds (1970-01-01..1970-04-26 for the years 1970..2286) and
 * `ts: 0` are earlier. */
#define HS_MIN_EVENT_TIME_DEFAULT "2000-01-01T00:00:00Z"

/* Parses `engine.min_event_time` / `--min-event-time`: an RFC 3339 time
 * (1970..9999) or a duration before now ("3650d", at least 1ms). Returns 0
 * and *out (encoded as above), or HS_E_PARSE. */
int hs_event_min_time_parse(const char *s, int64_t *out);
/* The earliest accepted time at `now_ms` of a value of hs_event_min_time_parse. */
int64_t hs_event_min_time_at(int64_t min_event_time, int64_t now_ms);

/* Checks an event time against [min_event_time, now + max_future]: returns 0,
 * or HS_E_RANGE and writes the reason to `why` (n bytes), which starts with
 * "implausible timestamp:" or "future timestamp:" and recognises epoch
 * seconds sent where milliseconds are expected ("1733500000 looks like
 * epoch seconds, not milliseconds"). One function for healthscored (whose
 * reason goes to the dead-letter topic) and `healthscore replay`. */
int hs_event_check_time(int64_t ts_ms, int64_t now_ms, int64_t min_event_time,
                        int64_t max_future_ms, char *why, size_t n);

#endif
