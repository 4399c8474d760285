/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Reading an events file, as `healthscore replay` and `healthscore tune` do:
 * JSON lines and msgpack maps, which may be mixed (told apart per record),
 * with the resynchronisation after bytes that cannot be framed of
 * docs/events.md "Streams and files", the event-time guard of healthscored,
 * and every rejected record located in the input. The input options both
 * commands take (--format, --now, --min-event-time, --max-future,
 * --keep-going) and the rejection report on stderr are here too, so that
 * both see the same events and say the same about the others. */
#ifndef HS_TOOLS_EVENT_READER_H
#define HS_TOOLS_EVENT_READER_H

#include "healthscore/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A record that was not accepted. */
typedef struct hs_er_reject_s {
  /* where: "FILE:LINE" for a JSON record, "FILE: byte OFFSET" for a msgpack
     one, "FILE: byte OFFSET (line LINE)" for bytes skipped because they
     cannot be framed (offsets from 0, lines from 1) */
  const char *where;
  const char *why; /* the decoder's or the guard's reason, or what was skipped */
  int code;        /* HS_E_PARSE, HS_E_SCHEMA, HS_E_RANGE, HS_E_TOOBIG */
} hs_er_reject_t;

/* What a read counts; updated as it goes, so callbacks may read it. */
typedef struct hs_er_stats_s {
  uint64_t records;  /* records read: events, unknown types and rejected */
  uint64_t events;   /* handed to on_event */
  uint64_t unknown;  /* of an event type this version does not know: ignored */
  uint64_t rejected; /* handed to on_reject */
} hs_er_stats_t;

typedef struct hs_er_conf_s {
  const char *name; /* the input in locations: its path, or "<stdin>" */
  hs_format_t fmt;  /* HS_FMT_AUTO: told apart per record */
  /* the event-time guard (hs_event_check_time), as healthscored's
     engine.min_event_time and engine.max_future at time now_ms */
  int64_t now_ms, min_event_time, max_future_ms;
  /* Each event decoded and within the guard. The event and everything it
     points to are borrowed until the callback returns. A negative return
     stops the read, which returns it. */
  int (*on_event)(void *ud, const hs_event_t *ev);
  /* Each record rejected, in input order (NULL: only counted). The strings
     are borrowed until the callback returns. */
  void (*on_reject)(void *ud, const hs_er_reject_t *rej);
  /* After each record is framed (or bytes begin to be skipped), for
     progress (NULL: none). */
  void (*on_record)(void *ud);
  void *ud;
} hs_er_conf_t;

/* Reads `f` to its end (it stays open: the caller's), handing every record
 * to the callbacks of `conf`; `st` is zeroed first. Holds at most 64 MiB of
 * input (a longer record is rejected). Returns 0 (whatever was rejected),
 * HS_E_NOMEM, HS_E_IO on a read error (errno says which), or what on_event
 * returned to stop. */
int hs_er_read(FILE *f, const hs_er_conf_t *conf, hs_er_stats_t *st);

/* ---- the rejection report: "CMD: WHERE: rejected: WHY" on stderr ------- */

#define HS_ER_SHOWN 10 /* rejections shown; then only how many more */

/* Shows `rej` when it is one of the first HS_ER_SHOWN (`nth` from 1). */
void hs_er_show(const char *cmd, uint64_t nth, const hs_er_reject_t *rej);
/* "CMD: … and N more rejected" when more than HS_ER_SHOWN were. */
void hs_er_show_rest(const char *cmd, uint64_t rejected);

/* ---- the input options --------------------------------------------------- */

enum {
  HS_ER_OPT_FORMAT = 0x180,
  HS_ER_OPT_NOW,
  HS_ER_OPT_MIN_EVENT_TIME,
  HS_ER_OPT_MAX_FUTURE,
  HS_ER_OPT_KEEP_GOING
};

/* Entries of a getopt_long option table. */
#define HS_ER_LONG_OPTIONS                                                                         \
  {"format", required_argument, NULL, HS_ER_OPT_FORMAT},                                           \
      {"now", required_argument, NULL, HS_ER_OPT_NOW},                                             \
      {"min-event-time", required_argument, NULL, HS_ER_OPT_MIN_EVENT_TIME},                       \
      {"max-future", required_argument, NULL, HS_ER_OPT_MAX_FUTURE}, {                             \
    "keep-going", no_argument, NULL, HS_ER_OPT_KEEP_GOING                                          \
  }

/* Their lines of a --help text. */
#define HS_ER_USAGE                                                                                \
  "      --format FMT        input format: auto (default), json or msgpack\n"                      \
  "      --min-event-time T  reject events before T: an RFC 3339 time or a duration\n"             \
  "                          before --now (default " HS_MIN_EVENT_TIME_DEFAULT ")\n"               \
  "      --max-future DUR    reject events more than DUR after --now (default 1h)\n"               \
  "      --now TIME          the time those two are relative to (RFC 3339;\n"                      \
  "                          default: the wall clock); as engine.min_event_time and\n"             \
  "                          engine.max_future in healthscored\n"                                  \
  "      --keep-going        exit 0 even if some input was rejected\n"

/* The options' arguments, as given. */
typedef struct hs_er_opts_s {
  const char *format, *now, *min_event_time, *max_future;
  bool keep_going;
} hs_er_opts_t;

/* Takes option `c` (getopt_long's return, `arg` its optarg) when it is one
 * of HS_ER_LONG_OPTIONS. Returns 1 when taken, 0 when not one of them, -1
 * on an invalid argument (said on stderr as "healthscore CMD: ..."). */
int hs_er_take_option(hs_er_opts_t *o, int c, const char *arg, const char *cmd);
/* Sets conf's fmt and guard from the options (the defaults where not
 * given). Returns 0, or -1 after saying on stderr what is invalid. */
int hs_er_apply_options(const hs_er_opts_t *o, const char *cmd, hs_er_conf_t *conf);

#endif
