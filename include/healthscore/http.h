/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A small HTTP/1.1 server for the admin endpoints (/healthz, /readyz,
 * /metrics, /v1/accounts/{id}) on a libuv loop, parsing with http-parser.
 * One request per connection (responses carry "Connection: close"); bounded:
 * 8 KiB of request head, no bodies, 256 connections, 5 s per request.
 * Loop thread only. */
#ifndef HEALTHSCORE_HTTP_H
#define HEALTHSCORE_HTTP_H

#include "healthscore/common.h"

#include <uv.h>

typedef struct hs_http_s hs_http_t;

typedef struct hs_http_response_s {
  int status;               /* default 200 */
  const char *content_type; /* default "text/plain; charset=utf-8" */
  hs_buf_t body;            /* the handler appends to it */
} hs_http_response_t;

/* Answers one request, synchronously. `path` excludes the query string;
 * both strings are borrowed for the call. */
typedef void (*hs_http_handler)(void *ud, const char *method, const char *path,
                                hs_http_response_t *resp);

/* Listens on host:port (port 0: any free port, see hs_http_port). Returns 0
 * or a negative code with the reason in `err`. */
int hs_http_new(hs_http_t **out, uv_loop_t *loop, const char *host, int port,
                hs_http_handler handler, void *ud, hs_err_t *err);
/* The port actually bound. */
int hs_http_port(const hs_http_t *h);
/* Requests answered so far. */
uint64_t hs_http_requests(const hs_http_t *h);
/* Stops listening, closes every connection; `closed` runs when all handles
 * are released. */
void hs_http_close(hs_http_t *h, void (*closed)(void *ud), void *ud);

#endif
