/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A small HTTP/1.1 server for the admin endpoints (/healthz, /readyz,
 * /metrics, /v1/accounts/{id}) on a libuv loop, parsing with http-parser.
 *
 * One request per connection: the answer carries "Connection: close" and is
 * sent as soon as the request head is complete (GET and HEAD need no body;
 * any other method gets 405 at once, which also answers "Expect:
 * 100-continue"). Whatever the client sends after the head (a body, more
 * pipelined requests) is read and discarded until it closes, so that it
 * reads the answer rather than a reset.
 *
 * Bounded against hostile clients: 8 KiB of request head (431 beyond), 1 KiB
 * of URL (414 beyond, whatever the head), a deadline for the head, for the
 * answer to be taken and for the rest of the request; at most
 * `max_connections` connections (fewer when the open-file limit would not
 * hold them), the oldest idle one closed to admit a new one, so that a request
 * for /healthz is answered under any number of idle or slow connections.
 * Loop thread only. */
#ifndef HEALTHSCORE_HTTP_H
#define HEALTHSCORE_HTTP_H

#include "healthscore/base.h"
#include "healthscore/metrics.h"

#include <uv.h>

typedef struct hs_http_s hs_http_t;

typedef struct hs_http_reply_s hs_http_reply_t;

typedef struct hs_http_response_s {
  int status;               /* default 200 */
  const char *content_type; /* default "text/plain; charset=utf-8" */
  hs_buf_t body;            /* the handler appends to it */
  hs_http_reply_t *later;   /* the server's: set by hs_http_defer */
} hs_http_response_t;

/* Answers one request, synchronously, or defers the answer with
 * hs_http_defer. `path` excludes the query string; both strings are
 * borrowed for the call. */
typedef void (*hs_http_handler)(void *ud, const char *method, const char *path,
                                hs_http_response_t *resp);

/* Called by the handler instead of answering: `resp` is dropped and the
 * answer is given later with hs_http_answer, while the server reads on (the
 * connection's write deadline runs from now). Returns the reply, the
 * caller's until it passes it to hs_http_answer (exactly once, on the loop
 * thread, even after the client or the server went away: then nothing is
 * sent), or NULL out of memory (the handler answers now). */
hs_http_reply_t *hs_http_defer(hs_http_response_t *resp);
/* Sends `status`, `content_type` (NULL: text/plain) and `body` (borrowed)
 * as the answer of a deferred request, when its connection is still open,
 * and frees `r`. */
void hs_http_answer(hs_http_reply_t *r, int status, const char *content_type, const hs_buf_t *body);
/* True while the client of `r` still waits for its answer. */
bool hs_http_waiting(const hs_http_reply_t *r);

/* Limits of the server; a zero field takes the default in brackets. */
typedef struct hs_http_conf_s {
  const char *host;          /* an IP address (copied) */
  int port;                  /* 0: any free port, see hs_http_port */
  int max_connections;       /* [256] */
  int64_t header_timeout_ms; /* [5000] from accept to the end of the request head */
  int64_t write_timeout_ms;  /* [10000] for the client to take the whole answer */
  int64_t body_timeout_ms;   /* [2000] after the answer, for the client to close */
  hs_metrics_t *metrics;     /* borrowed, outlives the server; NULL: no metrics */
} hs_http_conf_t;

/* Listens on conf->host:conf->port. `conf` is copied; `loop` and
 * conf->metrics are borrowed (they must outlive the server). Registers the
 * healthscore_http_* families in conf->metrics, which owns them (they stay
 * there after a failure or a close). Returns 0 and the server in *out, the
 * caller's, ended with hs_http_close; or a negative code with the reason in
 * `err` and *out NULL: the handles it opened are closing, so the loop must
 * turn (uv_run) before uv_loop_close, and there is nothing else to free. */
int hs_http_new(hs_http_t **out, uv_loop_t *loop, const hs_http_conf_t *conf,
                hs_http_handler handler, void *ud, hs_err_t *err);
/* The port actually bound. */
int hs_http_port(const hs_http_t *h);
/* Requests answered so far, malformed ones (400, 414, 431) not counted. */
uint64_t hs_http_requests(const hs_http_t *h);
/* Connections open now, and the most held at once (max_connections, or
 * fewer when the open-file limit is low). */
int hs_http_connections(const hs_http_t *h);
int hs_http_max_connections(const hs_http_t *h);
/* Stops listening, closes every connection; `closed` (may be NULL) runs
 * when all handles are released, after `h` is freed; `ud` is the caller's. */
void hs_http_close(hs_http_t *h, void (*closed)(void *ud), void *ud);

#endif
