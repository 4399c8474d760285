/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Names of event types and fields, and generic field access. */
#include "healthscore/event.h"
#include "healthscore/time.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[HS_EV__COUNT] = {
    [HS_EV_UNKNOWN] = "unknown",
    [HS_EV_LOGIN] = "login",
    [HS_EV_FEATURE_USED] = "feature_used",
    [HS_EV_MEETING] = "meeting",
    [HS_EV_CALL] = "call",
    [HS_EV_EMAIL_IN] = "email_in",
    [HS_EV_EMAIL_OUT] = "email_out",
    [HS_EV_NOTE] = "note",
    [HS_EV_TICKET_OPENED] = "ticket_opened",
    [HS_EV_TICKET_CLOSED] = "ticket_closed",
    [HS_EV_INVOICE_ISSUED] = "invoice_issued",
    [HS_EV_INVOICE_PAID] = "invoice_paid",
    [HS_EV_INVOICE_OVERDUE] = "invoice_overdue",
    [HS_EV_NPS] = "nps",
    [HS_EV_CSAT] = "csat",
    [HS_EV_CSM_RATING] = "csm_rating",
    [HS_EV_REFERENCE] = "reference",
    [HS_EV_REVIEW] = "review",
    [HS_EV_REFERRAL] = "referral",
    [HS_EV_ACCOUNT] = "account",
    [HS_EV_OUTCOME] = "outcome",
    [HS_EV_OVERRIDE] = "override",
};

static const char *const field_names[HS_F__COUNT] = {
    [HS_F_NONE] = NULL,
    [HS_F_SESSION_SECONDS] = "session_seconds",
    [HS_F_COUNT] = "count",
    [HS_F_AMOUNT] = "amount",
    [HS_F_SCORE] = "score",
    [HS_F_RATING] = "rating",
    [HS_F_VALUE] = "value",
    [HS_F_LICENSES] = "licenses",
    [HS_F_DUE] = "due",
    [HS_F_EXPIRES] = "expires",
    [HS_F_CONTRACT_START] = "contract_start",
    [HS_F_RENEWAL_DATE] = "renewal_date",
    [HS_F_USER_ID] = "user_id",
    [HS_F_FEATURE] = "feature",
    [HS_F_ROLE] = "role",
    [HS_F_PRIORITY] = "priority",
    [HS_F_TICKET_ID] = "ticket_id",
    [HS_F_INVOICE_ID] = "invoice_id",
    [HS_F_OUTCOME] = "outcome",
    [HS_F_TARGET] = "target",
    [HS_F_REASON] = "reason",
    [HS_F_AUTHOR] = "author",
    [HS_F_SEGMENT] = "segment",
    [HS_F_STAGE] = "stage",
    [HS_F_VERTICAL] = "vertical",
};

const char *hs_event_type_name(hs_event_type_t t) {
  return (unsigned)t < HS_EV__COUNT ? type_names[t] : "unknown";
}

/* By length, then bytes: every decoded event is looked up. The lengths are
 * those of type_names (test_base_event checks every name). */
hs_event_type_t hs_event_type_from(hs_str_t s) {
#define TRY(n, t)                                                                                  \
  if (memcmp(s.ptr, type_names[t], n) == 0)                                                        \
  return t
  switch (s.len) {
  case 3:
    TRY(3, HS_EV_NPS);
    break;
  case 4:
    TRY(4, HS_EV_CALL);
    TRY(4, HS_EV_NOTE);
    TRY(4, HS_EV_CSAT);
    break;
  case 5:
    TRY(5, HS_EV_LOGIN);
    break;
  case 6:
    TRY(6, HS_EV_REVIEW);
    break;
  case 7:
    TRY(7, HS_EV_MEETING);
    TRY(7, HS_EV_ACCOUNT);
    TRY(7, HS_EV_OUTCOME);
    break;
  case 8:
    TRY(8, HS_EV_EMAIL_IN);
    TRY(8, HS_EV_REFERRAL);
    TRY(8, HS_EV_OVERRIDE);
    break;
  case 9:
    TRY(9, HS_EV_EMAIL_OUT);
    TRY(9, HS_EV_REFERENCE);
    break;
  case 10:
    TRY(10, HS_EV_CSM_RATING);
    break;
  case 12:
    TRY(12, HS_EV_FEATURE_USED);
    TRY(12, HS_EV_INVOICE_PAID);
    break;
  case 13:
    TRY(13, HS_EV_TICKET_OPENED);
    TRY(13, HS_EV_TICKET_CLOSED);
    break;
  case 14:
    TRY(14, HS_EV_INVOICE_ISSUED);
    break;
  case 15:
    TRY(15, HS_EV_INVOICE_OVERDUE);
    break;
  default:
    break;
  }
#undef TRY
  return HS_EV_UNKNOWN;
}

const char *hs_field_name(hs_field_t f) {
  return (unsigned)f < HS_F__COUNT ? field_names[f] : NULL;
}

hs_field_t hs_field_from(hs_str_t s) {
  for (int f = 1; f < HS_F__COUNT; f++)
    if (hs_str_eq(s, field_names[f]))
      return (hs_field_t)f;
  return HS_F_NONE;
}

bool hs_field_is_number(hs_field_t f) {
  return f >= HS_F_SESSION_SECONDS && f <= HS_F_RENEWAL_DATE;
}

/* hs_event_num and hs_event_str (inline in event.h) read a field at its
 * place in the order of hs_field_t */
#define AT(m, first, f, size)                                                                      \
  (offsetof(hs_event_t, m) == offsetof(hs_event_t, first) + (size) * (f))
_Static_assert(AT(session_seconds, session_seconds, 0, 8) && AT(count, session_seconds, 1, 8) &&
                   AT(amount, session_seconds, 2, 8) && AT(score, session_seconds, 3, 8) &&
                   AT(rating, session_seconds, 4, 8) && AT(value, session_seconds, 5, 8) &&
                   AT(licenses, session_seconds, 6, 8) && AT(due_ms, session_seconds, 7, 8) &&
                   AT(expires_ms, session_seconds, 8, 8) &&
                   AT(contract_start_ms, session_seconds, 9, 8) &&
                   AT(renewal_ms, session_seconds, 10, 8),
               "the numeric fields of hs_event_t, in the order of hs_field_t");
_Static_assert(
    AT(feature, user_id, 1, sizeof(hs_str_t)) && AT(role, user_id, 2, sizeof(hs_str_t)) &&
        AT(priority, user_id, 3, sizeof(hs_str_t)) && AT(ticket_id, user_id, 4, sizeof(hs_str_t)) &&
        AT(invoice_id, user_id, 5, sizeof(hs_str_t)) && AT(outcome, user_id, 6, sizeof(hs_str_t)) &&
        AT(target, user_id, 7, sizeof(hs_str_t)) && AT(reason, user_id, 8, sizeof(hs_str_t)) &&
        AT(author, user_id, 9, sizeof(hs_str_t)) && AT(segment, user_id, 10, sizeof(hs_str_t)) &&
        AT(stage, user_id, 11, sizeof(hs_str_t)) && AT(vertical, user_id, 12, sizeof(hs_str_t)),
    "the string fields of hs_event_t, in the order of hs_field_t");
_Static_assert(HS_F_LICENSES - HS_F_SESSION_SECONDS == 6 && HS_F_DUE == HS_F_LICENSES + 1 &&
                   HS_F_RENEWAL_DATE - HS_F_DUE == 3 && HS_F_VERTICAL - HS_F_USER_ID == 12 &&
                   HS_F__COUNT <= 32,
               "hs_field_t in the order of hs_event_t");
#undef AT

/* ---- the event-time guard ------------------------------------------------ */

#define MAX_EVENT_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

int hs_event_min_time_parse(const char *s, int64_t *out) {
  int64_t v;
  if (!s || !*s)
    return HS_E_PARSE;
  if (hs_time_parse_rfc3339(s, strlen(s), &v) == 0) {
    if (v < 0 || v > MAX_EVENT_MS)
      return HS_E_PARSE;
    *out = v;
    return 0;
  }
  if (hs_duration_parse(s, &v) || v < 1)
    return HS_E_PARSE;
  *out = -v;
  return 0;
}

int64_t hs_event_min_time_at(int64_t min_event_time, int64_t now_ms) {
  return min_event_time >= 0 ? min_event_time : now_ms + min_event_time;
}

/* "1h", "30m", "250ms": the largest unit that divides `ms`. */
static void format_duration(int64_t ms, char out[32]) {
  static const struct {
    int64_t ms;
    const char *unit;
  } units[] = {{HS_MS_PER_DAY, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (ms && ms % units[i].ms == 0) {
      snprintf(out, 32, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
      return;
    }
  snprintf(out, 32, "%lldms", (long long)ms);
}

int hs_event_check_time(int64_t ts_ms, int64_t now_ms, int64_t min_event_time,
                        int64_t max_future_ms, char *why, size_t n) {
  int64_t lo = hs_event_min_time_at(min_event_time, now_ms), hi = now_ms + max_future_ms;
  char ts[32], bound[32], d[32];
  if (ts_ms < lo) {
    hs_time_format(ts_ms, ts);
    hs_time_format(lo, bound);
    int k = snprintf(why, n, "implausible timestamp: %s is before min_event_time %s", ts, bound);
    /* epoch seconds read as milliseconds land in 1970: times 1000 fits */
    if (ts_ms > 0 && ts_ms <= MAX_EVENT_MS / 1000 && ts_ms * 1000 >= lo && ts_ms * 1000 <= hi &&
        k >= 0 && (size_t)k < n)
      snprintf(why + k, n - (size_t)k, "; %lld looks like epoch seconds, not milliseconds",
               (long long)ts_ms);
    return HS_E_RANGE;
  }
  if (ts_ms > hi) {
    hs_time_format(ts_ms, ts);
    hs_time_format(now_ms, bound);
    format_duration(max_future_ms, d);
    snprintf(why, n, "future timestamp: %s is more than max_future (%s) ahead of now (%s)", ts, d,
             bound);
    return HS_E_RANGE;
  }
  return 0;
}
