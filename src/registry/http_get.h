/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* A minimal HTTP/1.1 GET over plain TCP on a libuv loop: resolve, connect,
 * send a prepared request, parse the response with http-parser, all within
 * one deadline. Plain HTTP only. Internal to the registry module. */
#ifndef HS_REGISTRY_HTTP_GET_H
#define HS_REGISTRY_HTTP_GET_H

#include "healthscore/base.h"

#include <uv.h>

typedef struct hs_http_get_s hs_http_get_t;

/* Called once, unless cancelled: `status` is the HTTP status code, or a
 * negative libuv error (UV_ETIMEDOUT, UV_ECONNREFUSED, ...) or HS_E_PARSE /
 * HS_E_TOOBIG for a malformed or oversized response, with `reason` saying
 * what happened. `body` is valid during the call only. */
typedef void (*hs_http_get_cb)(void *arg, int status, const char *body, size_t len,
                               const char *reason);

/* Starts a GET of `request` (the whole request text, copied) to host:port.
 * Returns 0 or HS_E_NOMEM. */
int hs_http_get_start(uv_loop_t *loop, const char *host, const char *port, const char *request,
                      uint64_t timeout_ms, size_t max_body, hs_http_get_cb cb, void *arg,
                      hs_http_get_t **out);

/* Abandons the request: the callback is not called; memory is released once
 * libuv has closed the handles (keep running the loop). */
void hs_http_get_cancel(hs_http_get_t *g);

#endif
