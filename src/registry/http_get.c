/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The HTTP GET of the Schema Registry client. One deadline (a uv_timer)
 * covers resolution, connection, request and response. */
#include "http_get.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct hs_http_get_s {
  uv_getaddrinfo_t gai;
  uv_tcp_t tcp;
  uv_connect_t conn;
  uv_write_t wr;
  uv_timer_t timer;
  http_parser parser;
  hs_buf_t body;
  size_t max_body;
  char *request;
  hs_http_get_cb cb;
  void *arg;
  uint64_t timeout_ms;
  int open_handles;
  bool gai_pending, tcp_open, done, complete, toobig;
  char rbuf[16384];
};

static void maybe_free(hs_http_get_t *g) {
  if (g->open_handles > 0 || g->gai_pending)
    return;
  hs_buf_free(&g->body);
  hs_free(g->request);
  hs_free(g);
}

static void on_close(uv_handle_t *h) {
  hs_http_get_t *g = h->data;
  g->open_handles--;
  maybe_free(g);
}

static void teardown(hs_http_get_t *g) {
  uv_timer_stop(&g->timer);
  uv_close((uv_handle_t *)&g->timer, on_close);
  if (g->tcp_open)
    uv_close((uv_handle_t *)&g->tcp, on_close);
  if (g->gai_pending)
    uv_cancel((uv_req_t *)&g->gai);
}

static void finish(hs_http_get_t *g, int status, const char *reason) {
  if (g->done)
    return;
  g->done = true;
  g->cb(g->arg, status, g->body.data ? g->body.data : "", g->body.len, reason);
  teardown(g);
}

__attribute__((format(printf, 3, 4))) static void fail(hs_http_get_t *g, int status,
                                                       const char *fmt, ...) {
  char reason[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  finish(g, status, reason);
}

static int on_body(http_parser *p, const char *at, size_t len) {
  hs_http_get_t *g = p->data;
  if (len > g->max_body - g->body.len) {
    g->toobig = true;
    return 1;
  }
  return hs_buf_append(&g->body, at, len) ? 1 : 0;
}

static int on_complete(http_parser *p) {
  ((hs_http_get_t *)p->data)->complete = true;
  return 0;
}

static const http_parser_settings parser_settings = {.on_body = on_body,
                                                     .on_message_complete = on_complete};

static void parse(hs_http_get_t *g, const char *data, size_t n) {
  size_t used = http_parser_execute(&g->parser, &parser_settings, data, n);
  if (g->complete) {
    finish(g, (int)g->parser.status_code, "");
    return;
  }
  enum http_errno e = HTTP_PARSER_ERRNO(&g->parser);
  if (g->toobig)
    fail(g, HS_E_TOOBIG, "response body over %zu bytes", g->max_body);
  else if (e != HPE_OK || used != n)
    fail(g, HS_E_PARSE, "malformed HTTP response: %s", http_errno_description(e));
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  hs_http_get_t *g = h->data;
  *buf = uv_buf_init(g->rbuf, sizeof g->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  hs_http_get_t *g = s->data;
  if (g->done)
    return;
  if (n > 0) {
    parse(g, buf->base, (size_t)n);
  } else if (n == UV_EOF) {
    parse(g, NULL, 0); /* a response without a length ends here */
    if (!g->done)
      fail(g, HS_E_PARSE, "connection closed before the response was complete");
  } else if (n < 0) {
    fail(g, (int)n, "read: %s", uv_strerror((int)n));
  }
}

static void on_write(uv_write_t *w, int status) {
  hs_http_get_t *g = w->data;
  if (status < 0 && !g->done)
    fail(g, status, "send: %s", uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status) {
  hs_http_get_t *g = c->data;
  if (g->done)
    return;
  if (status < 0) {
    fail(g, status, "connect: %s", uv_strerror(status));
    return;
  }
  uv_buf_t b = uv_buf_init(g->request, (unsigned)strlen(g->request));
  g->wr.data = g;
  int rc = uv_write(&g->wr, (uv_stream_t *)&g->tcp, &b, 1, on_write);
  if (!rc)
    rc = uv_read_start((uv_stream_t *)&g->tcp, on_alloc, on_read);
  if (rc)
    fail(g, rc, "send: %s", uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  hs_http_get_t *g = req->data;
  g->gai_pending = false;
  if (g->done) {
    if (res)
      uv_freeaddrinfo(res);
    maybe_free(g);
    return;
  }
  if (status < 0) {
    fail(g, status, "cannot resolve the host: %s", uv_strerror(status));
    return;
  }
  int rc = uv_tcp_init(req->loop, &g->tcp);
  if (!rc) {
    g->tcp_open = true;
    g->open_handles++;
    g->tcp.data = g;
    g->conn.data = g;
    rc = uv_tcp_connect(&g->conn, &g->tcp, res->ai_addr, on_connect);
  }
  uv_freeaddrinfo(res);
  if (rc)
    fail(g, rc, "connect: %s", uv_strerror(rc));
}

static void on_timeout(uv_timer_t *t) {
  hs_http_get_t *g = t->data;
  fail(g, UV_ETIMEDOUT, "no response within %llu ms", (unsigned long long)g->timeout_ms);
}

int hs_http_get_start(uv_loop_t *loop, const char *host, const char *port, const char *request,
                      uint64_t timeout_ms, size_t max_body, hs_http_get_cb cb, void *arg,
                      hs_http_get_t **out) {
  hs_http_get_t *g = hs_calloc(1, sizeof *g);
  if (!g)
    return HS_E_NOMEM;
  if (!(g->request = hs_strdup(request))) {
    hs_free(g);
    return HS_E_NOMEM;
  }
  hs_buf_init(&g->body);
  g->max_body = max_body;
  g->cb = cb;
  g->arg = arg;
  g->timeout_ms = timeout_ms;
  http_parser_init(&g->parser, HTTP_RESPONSE);
  g->parser.data = g;
  uv_timer_init(loop, &g->timer);
  g->timer.data = g;
  g->open_handles = 1;
  uv_timer_start(&g->timer, on_timeout, timeout_ms, 0);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  g->gai.data = g;
  g->gai_pending = true;
  int rc = uv_getaddrinfo(loop, &g->gai, on_resolved, host, port, &hints);
  if (rc) {
    g->gai_pending = false;
    g->done = true; /* no callback: the caller sees the error */
    teardown(g);
    return HS_E_IO;
  }
  *out = g;
  return 0;
}

void hs_http_get_cancel(hs_http_get_t *g) {
  if (!g || g->done)
    return;
  g->done = true;
  teardown(g);
}
