/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The admin HTTP server: libuv TCP, http-parser, one request per connection. */
#include "healthscore/http.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEAD 8192
#define MAX_CONNS 256
#define REQUEST_TIMEOUT_MS 5000

typedef struct conn_s {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t write;
  http_parser parser;
  struct hs_http_s *server;
  struct conn_s *prev, *next;
  char url[1024];
  size_t url_len, head_bytes;
  bool url_too_long, responded;
  int closing; /* handles still to close */
  hs_buf_t out;
  char in[4096];
} conn_t;

struct hs_http_s {
  uv_loop_t *loop;
  uv_tcp_t listener;
  hs_http_handler handler;
  void *ud;
  conn_t *conns;
  int n_conns, port;
  uint64_t requests;
  bool closing;
  int open_handles;
  void (*closed)(void *ud);
  void *closed_ud;
};

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Request Header Fields Too Large";
  case 414:
    return "URI Too Long";
  case 503:
    return "Service Unavailable";
  default:
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

static void maybe_closed(hs_http_t *h) {
  if (h->closing && h->open_handles == 0 && h->closed) {
    void (*cb)(void *) = h->closed;
    void *ud = h->closed_ud;
    hs_free(h);
    cb(ud);
  }
}

static void on_conn_handle_closed(uv_handle_t *handle) {
  conn_t *c = handle->data;
  if (--c->closing > 0)
    return;
  hs_http_t *h = c->server;
  hs_buf_free(&c->out);
  hs_free(c);
  h->open_handles--;
  maybe_closed(h);
}

static void conn_close(conn_t *c) {
  if (c->closing)
    return;
  hs_http_t *h = c->server;
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  h->n_conns--;
  c->closing = 2;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void on_written(uv_write_t *w, int status) {
  (void)status;
  conn_close(w->data);
}

/* Sends a response (headers only for HEAD, with the length the body would
 * have) and closes the connection once it is written. */
static void respond(conn_t *c, int status, const char *type, const char *body, size_t len,
                    bool head) {
  if (c->responded)
    return;
  c->responded = true;
  uv_read_stop((uv_stream_t *)&c->tcp);
  c->out.len = 0;
  if (hs_buf_printf(&c->out,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\nCache-Control: no-store\r\n\r\n",
                    status, reason(status), type, len) ||
      (!head && hs_buf_append(&c->out, body, len))) {
    conn_close(c);
    return;
  }
  uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written))
    conn_close(c);
}

static void respond_text(conn_t *c, int status, const char *text) {
  respond(c, status, "text/plain; charset=utf-8", text, strlen(text), false);
}

static int on_url(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if (c->url_len + len >= sizeof c->url) {
    c->url_too_long = true;
    return 0;
  }
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = 0;
  return 0;
}

static int on_message_complete(http_parser *p) {
  conn_t *c = p->data;
  hs_http_t *h = c->server;
  if (c->url_too_long) {
    respond_text(c, 414, "request line too long\n");
    return 1;
  }
  const char *method = http_method_str((enum http_method)p->method);
  char *q = strchr(c->url, '?');
  if (q)
    *q = 0;
  hs_http_response_t resp = {200, "text/plain; charset=utf-8", {0}};
  hs_buf_init(&resp.body);
  if (p->method != HTTP_GET && p->method != HTTP_HEAD) {
    resp.status = 405;
    hs_buf_printf(&resp.body, "only GET and HEAD\n");
  } else {
    h->handler(h->ud, method, c->url, &resp);
  }
  h->requests++;
  respond(c, resp.status, resp.content_type, resp.body.data ? resp.body.data : "", resp.body.len,
          p->method == HTTP_HEAD);
  hs_buf_free(&resp.body);
  return 1; /* one request per connection */
}

static const http_parser_settings settings = {.on_url = on_url,
                                              .on_message_complete = on_message_complete};

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  conn_t *c = handle->data;
  (void)suggested;
  *buf = uv_buf_init(c->in, sizeof c->in);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0 || c->responded)
    return;
  c->head_bytes += (size_t)n;
  if (c->head_bytes > MAX_HEAD) {
    respond_text(c, 413, "request head too large\n");
    return;
  }
  size_t done = http_parser_execute(&c->parser, &settings, buf->base, (size_t)n);
  if (!c->responded && (c->parser.http_errno != HPE_OK || done != (size_t)n)) {
    char msg[160];
    snprintf(msg, sizeof msg, "bad request: %s\n",
             http_errno_description((enum http_errno)c->parser.http_errno));
    respond_text(c, 400, msg);
  }
}

static void on_timeout(uv_timer_t *t) {
  conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status) {
  hs_http_t *h = server->data;
  if (status < 0 || h->closing)
    return;
  conn_t *c = hs_calloc(1, sizeof *c);
  if (!c)
    return;
  c->server = h;
  hs_buf_init(&c->out);
  uv_tcp_init(h->loop, &c->tcp);
  uv_timer_init(h->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  h->open_handles++;
  c->next = h->conns;
  if (h->conns)
    h->conns->prev = c;
  h->conns = c;
  h->n_conns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) || h->n_conns > MAX_CONNS) {
    conn_close(c);
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_timer_start(&c->timer, on_timeout, REQUEST_TIMEOUT_MS, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int hs_http_new(hs_http_t **out, uv_loop_t *loop, const char *host, int port,
                hs_http_handler handler, void *ud, hs_err_t *err) {
  *out = NULL;
  struct sockaddr_storage addr;
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr))
    return hs_err_set(err, HS_E_INVAL, "http: \"%s\" is not an IP address", host);
  hs_http_t *h = hs_calloc(1, sizeof *h);
  if (!h)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  h->loop = loop;
  h->handler = handler;
  h->ud = ud;
  uv_tcp_init(loop, &h->listener);
  h->listener.data = h;
  h->open_handles = 1;
  int rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&addr, 0);
  if (!rc)
    rc = uv_listen((uv_stream_t *)&h->listener, 128, on_connection);
  if (rc) {
    hs_err_set(err, HS_E_IO, "http: cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
    hs_http_close(h, NULL, NULL);
    return HS_E_IO;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &len);
  h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
  *out = h;
  return 0;
}

int hs_http_port(const hs_http_t *h) {
  return h->port;
}

uint64_t hs_http_requests(const hs_http_t *h) {
  return h->requests;
}

static void on_listener_closed(uv_handle_t *handle) {
  hs_http_t *h = handle->data;
  h->open_handles--;
  if (!h->closed && h->open_handles == 0) {
    hs_free(h); /* closed without a callback: after a failed start */
    return;
  }
  maybe_closed(h);
}

void hs_http_close(hs_http_t *h, void (*closed)(void *ud), void *ud) {
  h->closing = true;
  h->closed = closed;
  h->closed_ud = ud;
  while (h->conns)
    conn_close(h->conns);
  uv_close((uv_handle_t *)&h->listener, on_listener_closed);
}
