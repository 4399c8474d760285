/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The admin HTTP server: libuv TCP, http-parser, one request per connection.
 *
 * A connection lives in one of three queues, oldest first: reading its
 * request head, writing its answer, or lingering (answer written, write side
 * shut down, reading and dropping what the client still sends until it
 * closes). Each queue has its deadline. At the connection limit the oldest
 * lingering connection, else the oldest still sending its head, else the
 * oldest being written to is closed to admit the new one: hostile clients
 * hold old connections, a liveness check opens a new one, and its request
 * is answered as soon as it is read. */
#include "healthscore/http.h"

#include "healthscore/log.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_HEAD 8192
#define MAX_URL 1024
#define MAX_DISCARD (1024 * 1024) /* bytes after the head read and dropped */
#define FD_RESERVE 64             /* descriptors left to the rest of the process */
#define MIN_CONNS 8
#define BACKLOG 4096      /* the kernel caps it at net.core.somaxconn */
#define SHED_LOG_MS 10000 /* at most one line about shed connections per 10 s */

enum { Q_HEAD, Q_WRITE, Q_LINGER, N_QUEUES };

/* Why a connection closed: the label of healthscore_http_connections_closed_total. */
typedef enum {
  R_ANSWERED,
  R_CLIENT_CLOSED,
  R_IDLE,
  R_HEADER_TIMEOUT,
  R_WRITE_TIMEOUT,
  R_BODY_TIMEOUT,
  R_BODY_TOO_LARGE,
  R_EVICTED,
  R_ERROR,
  R_SHUTDOWN,
  N_REASONS
} reason_t;

static const char *const reason_names[N_REASONS] = {
    "answered",     "client_closed",  "idle",    "header_timeout", "write_timeout",
    "body_timeout", "body_too_large", "evicted", "error",          "shutdown"};

/* Reasons that shed a connection the server would rather not have. */
static bool is_shed(reason_t r) {
  return r >= R_IDLE && r <= R_EVICTED;
}

typedef struct conn_s {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t write;
  uv_shutdown_t shutdown;
  http_parser parser;
  struct hs_http_s *server;
  struct conn_s *prev, *next; /* in the queue of its state */
  int state;                  /* Q_* */
  char url[MAX_URL];
  size_t url_len, head_bytes, discarded;
  bool url_too_long, got_bytes, eof;
  int closing;                   /* handles still to close */
  struct hs_http_reply_s *later; /* a deferred answer, still to come */
  hs_buf_t out;
  char in[4096];
} conn_t;

struct hs_http_reply_s {
  conn_t *conn; /* NULL once the connection is gone */
};

typedef struct queue_s {
  conn_t *first, *last;
} queue_t;

struct hs_http_s {
  uv_loop_t *loop;
  uv_tcp_t listener;
  hs_http_handler handler;
  void *ud;
  queue_t q[N_QUEUES];
  int n_conns, max_conns, port;
  int64_t header_ms, write_ms, body_ms;
  uint64_t requests;
  bool closing;
  int open_handles;
  void (*closed)(void *ud);
  void *closed_ud;
  /* metrics (NULL without a registry) */
  hs_family_t *responses;
  hs_series_t *closed_by[N_REASONS], *open, *max, *accept_errors;
  /* shed connections since the last log line */
  uint64_t shed[N_REASONS], last_shed_log;
  bool shed_logged;
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
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

static void q_push(hs_http_t *h, conn_t *c, int state) {
  queue_t *q = &h->q[state];
  c->state = state;
  c->next = NULL;
  c->prev = q->last;
  if (q->last)
    q->last->next = c;
  else
    q->first = c;
  q->last = c;
}

static void q_remove(hs_http_t *h, conn_t *c) {
  queue_t *q = &h->q[c->state];
  if (c->prev)
    c->prev->next = c->next;
  else
    q->first = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    q->last = c->prev;
  c->prev = c->next = NULL;
}

static void q_move(hs_http_t *h, conn_t *c, int state, int64_t deadline_ms);

static void series_add(hs_series_t *s, double v) {
  if (s)
    hs_series_add(s, v);
}

/* Logs the connections shed since the last line, at most once per
 * SHED_LOG_MS, so that an attack is visible without flooding the log. */
static void log_shed(hs_http_t *h, reason_t r) {
  h->shed[r]++;
  uint64_t now = uv_now(h->loop);
  if (h->shed_logged && now - h->last_shed_log < SHED_LOG_MS)
    return;
  uint64_t total = 0;
  for (int i = 0; i < N_REASONS; i++)
    total += h->shed[i];
  char since[48] = "";
  if (h->shed_logged)
    snprintf(since, sizeof since, " in the last %llu s",
             (unsigned long long)((now - h->last_shed_log) / 1000));
  hs_log(HS_LOG_WARN, "http",
         "shed %llu connections%s: %llu evicted at the limit of %d, %llu idle, %llu with a slow "
         "request head, %llu not taking their answer, %llu still sending after it (%llu over "
         "1 MiB)",
         (unsigned long long)total, since, (unsigned long long)h->shed[R_EVICTED], h->max_conns,
         (unsigned long long)h->shed[R_IDLE], (unsigned long long)h->shed[R_HEADER_TIMEOUT],
         (unsigned long long)h->shed[R_WRITE_TIMEOUT],
         (unsigned long long)(h->shed[R_BODY_TIMEOUT] + h->shed[R_BODY_TOO_LARGE]),
         (unsigned long long)h->shed[R_BODY_TOO_LARGE]);
  memset(h->shed, 0, sizeof h->shed);
  h->last_shed_log = now;
  h->shed_logged = true;
}

/* Frees the server once closing and its last handle is closed, with or
 * without a callback (a failed start closes without one). */
static void maybe_closed(hs_http_t *h) {
  if (h->closing && h->open_handles == 0) {
    void (*cb)(void *) = h->closed;
    void *ud = h->closed_ud;
    hs_free(h);
    if (cb)
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

/* Closes a connection for `why`; its memory goes when both handles are
 * closed. A write or shutdown still pending is cancelled (its callback sees
 * UV_ECANCELED and returns). */
static void conn_close(conn_t *c, reason_t why) {
  if (c->closing)
    return;
  hs_http_t *h = c->server;
  q_remove(h, c);
  h->n_conns--;
  series_add(h->closed_by[why], 1);
  if (h->open)
    hs_series_set(h->open, h->n_conns);
  if (is_shed(why))
    log_shed(h, why);
  c->closing = 2;
  if (c->later)
    c->later->conn = NULL;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void on_timeout(uv_timer_t *t) {
  conn_t *c = t->data;
  if (c->later) { /* no answer came in time */
    conn_close(c, R_WRITE_TIMEOUT);
    return;
  }
  switch (c->state) {
  case Q_HEAD:
    conn_close(c, c->got_bytes ? R_HEADER_TIMEOUT : R_IDLE);
    break;
  case Q_WRITE:
    conn_close(c, R_WRITE_TIMEOUT);
    break;
  default: /* lingering: the answer is out; the client still sending is slow */
    conn_close(c, c->discarded ? R_BODY_TIMEOUT : R_ANSWERED);
    break;
  }
}

/* Moves `c` to the end of queue `state` and restarts its deadline. */
static void q_move(hs_http_t *h, conn_t *c, int state, int64_t deadline_ms) {
  q_remove(h, c);
  q_push(h, c, state);
  uv_timer_start(&c->timer, on_timeout, (uint64_t)deadline_ms, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; /* the deadline or the client's close ends the connection */
}

static void on_written(uv_write_t *w, int status) {
  conn_t *c = w->data;
  if (c->closing)
    return;
  hs_buf_free(&c->out);
  if (status < 0) {
    conn_close(c, R_CLIENT_CLOSED);
    return;
  }
  if (c->eof) {
    conn_close(c, R_ANSWERED);
    return;
  }
  /* Shut the write side and keep reading until the client closes: closing
   * with unread input would send a reset, which may destroy the answer
   * before the client reads it. */
  q_move(c->server, c, Q_LINGER, c->server->body_ms);
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown))
    conn_close(c, R_ANSWERED);
}

/* Sends the answer (headers only for HEAD, with the length the body would
 * have); the connection then lingers until the client closes. */
static void respond(conn_t *c, int status, const char *type, const char *body, size_t len,
                    bool head, const char *extra_headers) {
  hs_http_t *h = c->server;
  if (c->state != Q_HEAD)
    return;
  if (h->responses && status >= 100 && status <= 599) {
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *v[] = {code};
    series_add(hs_family_series(h->responses, v), 1);
  }
  c->out.len = 0;
  q_move(h, c, Q_WRITE, h->write_ms);
  if (hs_buf_printf(&c->out,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                    "Connection: close\r\nCache-Control: no-store\r\n\r\n",
                    status, reason(status), type, len, extra_headers ? extra_headers : "") ||
      (!head && hs_buf_append(&c->out, body, len))) {
    conn_close(c, R_ERROR);
    return;
  }
  uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written))
    conn_close(c, R_ERROR);
}

static void respond_text(conn_t *c, int status, const char *text) {
  respond(c, status, "text/plain; charset=utf-8", text, strlen(text), false, NULL);
}

static int on_url(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if (c->url_len + len >= sizeof c->url) {
    c->url_too_long = true;
    return 1; /* stops the parser: 414 at once, whatever follows */
  }
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = 0;
  return 0;
}

/* The head is complete: pause, so that http_parser_execute returns the
 * head's length and reads nothing of a body or a next request. */
static int on_headers_complete(http_parser *p) {
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {.on_url = on_url,
                                              .on_headers_complete = on_headers_complete};

/* Answers a complete request head. */
static void dispatch(conn_t *c) {
  hs_http_t *h = c->server;
  http_parser *p = &c->parser;
  const char *method = http_method_str((enum http_method)p->method);
  char *q = strchr(c->url, '?');
  if (q)
    *q = 0;
  hs_http_response_t resp = {200, "text/plain; charset=utf-8", {0}, NULL};
  hs_buf_init(&resp.body);
  const char *extra = NULL;
  if (p->method != HTTP_GET && p->method != HTTP_HEAD) {
    /* Any body is refused unread; this also answers "Expect: 100-continue". */
    resp.status = 405;
    extra = "Allow: GET, HEAD\r\n";
    hs_buf_printf(&resp.body, "only GET and HEAD\n");
  } else {
    h->handler(h->ud, method, c->url, &resp);
  }
  h->requests++;
  if (resp.later) {
    hs_buf_free(&resp.body);
    resp.later->conn = c;
    c->later = resp.later;
    uv_timer_start(&c->timer, on_timeout, (uint64_t)h->write_ms, 0);
    return;
  }
  respond(c, resp.status, resp.content_type, resp.body.data ? resp.body.data : "", resp.body.len,
          p->method == HTTP_HEAD, extra);
  hs_buf_free(&resp.body);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  conn_t *c = handle->data;
  (void)suggested;
  *buf = uv_buf_init(c->in, sizeof c->in);
}

/* Reads the request head; after it, drops what arrives. */
static void read_head(conn_t *c, const char *data, size_t n) {
  c->got_bytes = true;
  size_t done = http_parser_execute(&c->parser, &settings, data, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->url_too_long) {
    respond_text(c, 414, "request URI longer than 1 KiB\n");
  } else if (e == HPE_PAUSED) {
    if (done < n && data[done] == '\n')
      done++; /* the parser pauses on the head's last byte */
    c->head_bytes += done;
    c->discarded += n - done;
    if (c->head_bytes > MAX_HEAD)
      respond_text(c, 431, "request head larger than 8 KiB\n");
    else
      dispatch(c);
  } else if (e != HPE_OK || done != n) {
    char msg[160];
    snprintf(msg, sizeof msg, "bad request: %s\n", http_errno_description(e));
    respond_text(c, 400, msg);
  } else if ((c->head_bytes += n) > MAX_HEAD) {
    respond_text(c, 431, "request head larger than 8 KiB\n");
  }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (n == 0 || c->closing)
    return;
  if (n < 0) {
    if ((c->state == Q_WRITE || c->later) && n == UV_EOF) {
      c->eof = true; /* a half-close: the answer is still written */
      uv_read_stop(s);
    } else {
      conn_close(c, c->state == Q_LINGER ? R_ANSWERED : R_CLIENT_CLOSED);
    }
    return;
  }
  if (c->state == Q_HEAD && !c->later) {
    read_head(c, buf->base, (size_t)n);
    return;
  }
  c->discarded += (size_t)n;
  if (c->discarded > MAX_DISCARD)
    conn_close(c, R_BODY_TOO_LARGE);
}

/* Reads what has arrived on `c` without waiting for the loop's next poll.
 * Returns whether there was something (a head, or a part of one). */
static bool read_now(conn_t *c) {
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd))
    return false;
  ssize_t n = recv(fd, c->in, sizeof c->in, MSG_DONTWAIT);
  if (n <= 0)
    return false;
  read_head(c, c->in, (size_t)n);
  return true;
}

/* Closes the connection that matters least: the oldest lingering one, else
 * the oldest still sending its head, else the oldest taking its answer. */
static void evict_one(hs_http_t *h) {
  static const int order[] = {Q_LINGER, Q_HEAD, Q_WRITE};
  /* The oldest still sending its head may have sent it since it was
   * accepted, in a burst of connections it would otherwise be evicted by
   * (a liveness check among idle ones): read it first, and evict the
   * oldest that is still waiting. A few reads at most. */
  for (int i = 0; i < 4 && !h->q[Q_LINGER].first && h->q[Q_HEAD].first; i++)
    if (h->q[Q_HEAD].first->later || !read_now(h->q[Q_HEAD].first))
      break;
  for (int i = 0; i < 3; i++) {
    if (h->q[order[i]].first) {
      conn_close(h->q[order[i]].first, R_EVICTED);
      return;
    }
  }
}

static void on_connection(uv_stream_t *server, int status) {
  hs_http_t *h = server->data;
  if (status < 0) {
    /* libuv has already accepted and closed what was pending with its
     * reserved descriptor (EMFILE); free one for the next client. */
    series_add(h->accept_errors, 1);
    uint64_t now = uv_now(h->loop);
    if (!h->shed_logged || now - h->last_shed_log >= SHED_LOG_MS) {
      hs_log(HS_LOG_WARN, "http", "cannot accept a connection: %s", uv_strerror(status));
      h->last_shed_log = now;
      h->shed_logged = true;
    }
    if (status == UV_EMFILE || status == UV_ENFILE)
      evict_one(h);
    return;
  }
  if (h->closing)
    return;
  if (h->n_conns >= h->max_conns)
    evict_one(h);
  conn_t *c = hs_calloc(1, sizeof *c);
  if (!c) {
    hs_log(HS_LOG_ERROR, "http", "out of memory for a connection");
    return;
  }
  c->server = h;
  hs_buf_init(&c->out);
  uv_tcp_init(h->loop, &c->tcp);
  uv_timer_init(h->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  h->open_handles++;
  h->n_conns++;
  q_push(h, c, Q_HEAD);
  if (h->open)
    hs_series_set(h->open, h->n_conns);
  if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
    conn_close(c, R_ERROR);
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_timer_start(&c->timer, on_timeout, (uint64_t)h->header_ms, 0);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
    conn_close(c, R_ERROR);
    return;
  }
  /* A request usually arrives with its connection: read it now. Otherwise
   * it would wait for the next poll, while the rest of a flood of
   * connections accepted in this one could evict it. */
  read_now(c);
}

static int register_metrics(hs_http_t *h, hs_metrics_t *m) {
  hs_family_t *open = hs_metrics_family(m, HS_GAUGE, "healthscore_http_connections",
                                        "Admin HTTP connections open", NULL, NULL, 0);
  hs_family_t *max = hs_metrics_family(
      m, HS_GAUGE, "healthscore_http_connections_max",
      "Admin HTTP connections held at most (http.max_connections, lowered to fit the "
      "open-file limit)",
      NULL, NULL, 0);
  hs_family_t *closed =
      hs_metrics_family(m, HS_COUNTER, "healthscore_http_connections_closed_total",
                        "Admin HTTP connections closed, by reason", "reason", NULL, 0);
  hs_family_t *errors =
      hs_metrics_family(m, HS_COUNTER, "healthscore_http_accept_errors_total",
                        "Admin HTTP connections that could not be accepted (e.g. out of "
                        "file descriptors)",
                        NULL, NULL, 0);
  h->responses = hs_metrics_family(m, HS_COUNTER, "healthscore_http_responses_total",
                                   "Admin HTTP answers, by status", "status", NULL, 0);
  if (!open || !max || !closed || !errors || !h->responses)
    return HS_E_NOMEM;
  h->open = hs_family_series(open, NULL);
  h->max = hs_family_series(max, NULL);
  h->accept_errors = hs_family_series(errors, NULL);
  for (int i = 0; i < N_REASONS; i++) {
    const char *v[] = {reason_names[i]};
    if (!(h->closed_by[i] = hs_family_series(closed, v)))
      return HS_E_NOMEM;
  }
  return h->open && h->max && h->accept_errors ? 0 : HS_E_NOMEM;
}

/* Lowers the connection limit so that the connections, and FD_RESERVE
 * descriptors for the rest of the process, fit under the open-file limit:
 * libuv's answer to EMFILE is to drop every pending connection, a
 * liveness check among them. */
static void fit_fd_limit(hs_http_t *h) {
  uv_os_fd_t fd;
  struct rlimit rl;
  if (uv_fileno((uv_handle_t *)&h->listener, &fd) || getrlimit(RLIMIT_NOFILE, &rl) ||
      rl.rlim_cur == RLIM_INFINITY)
    return;
  long room = (long)rl.rlim_cur - (long)fd - 1 - FD_RESERVE;
  if (room >= h->max_conns)
    return;
  int want = h->max_conns;
  h->max_conns = room < MIN_CONNS ? MIN_CONNS : (int)room;
  hs_log(HS_LOG_WARN, "http",
         "http.max_connections %d lowered to %d: the open-file limit is %llu (raise ulimit -n, "
         "LimitNOFILE=)",
         want, h->max_conns, (unsigned long long)rl.rlim_cur);
}

int hs_http_new(hs_http_t **out, uv_loop_t *loop, const hs_http_conf_t *conf,
                hs_http_handler handler, void *ud, hs_err_t *err) {
  *out = NULL;
  struct sockaddr_storage addr;
  const char *host = conf->host ? conf->host : "127.0.0.1";
  if (uv_ip4_addr(host, conf->port, (struct sockaddr_in *)&addr) &&
      uv_ip6_addr(host, conf->port, (struct sockaddr_in6 *)&addr))
    return hs_err_set(err, HS_E_INVAL, "http: \"%s\" is not an IP address", host);
  hs_http_t *h = hs_calloc(1, sizeof *h);
  if (!h)
    return hs_err_set(err, HS_E_NOMEM, "out of memory");
  h->loop = loop;
  h->handler = handler;
  h->ud = ud;
  h->max_conns = conf->max_connections > 0 ? conf->max_connections : 256;
  h->header_ms = conf->header_timeout_ms > 0 ? conf->header_timeout_ms : 5000;
  h->write_ms = conf->write_timeout_ms > 0 ? conf->write_timeout_ms : 10000;
  h->body_ms = conf->body_timeout_ms > 0 ? conf->body_timeout_ms : 2000;
  uv_tcp_init(loop, &h->listener);
  h->listener.data = h;
  h->open_handles = 1;
  if (conf->metrics && register_metrics(h, conf->metrics)) {
    hs_err_set(err, HS_E_NOMEM, "http: cannot register the healthscore_http_* metrics");
    hs_http_close(h, NULL, NULL);
    return HS_E_NOMEM;
  }
  int rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&addr, 0);
  if (!rc)
    rc = uv_listen((uv_stream_t *)&h->listener, BACKLOG, on_connection);
  if (rc) {
    hs_err_set(err, HS_E_IO, "http: cannot listen on %s:%d: %s", host, conf->port, uv_strerror(rc));
    hs_http_close(h, NULL, NULL);
    return HS_E_IO;
  }
  fit_fd_limit(h);
  if (h->max)
    hs_series_set(h->max, h->max_conns);
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

int hs_http_connections(const hs_http_t *h) {
  return h->n_conns;
}

int hs_http_max_connections(const hs_http_t *h) {
  return h->max_conns;
}

static void on_listener_closed(uv_handle_t *handle) {
  hs_http_t *h = handle->data;
  h->open_handles--;
  maybe_closed(h);
}

void hs_http_close(hs_http_t *h, void (*closed)(void *ud), void *ud) {
  h->closing = true;
  h->closed = closed;
  h->closed_ud = ud;
  for (int q = 0; q < N_QUEUES; q++)
    while (h->q[q].first)
      conn_close(h->q[q].first, R_SHUTDOWN);
  uv_close((uv_handle_t *)&h->listener, on_listener_closed);
}

hs_http_reply_t *hs_http_defer(hs_http_response_t *resp) {
  if (!resp->later)
    resp->later = hs_calloc(1, sizeof *resp->later);
  return resp->later;
}

bool hs_http_waiting(const hs_http_reply_t *r) {
  return r->conn != NULL;
}

void hs_http_answer(hs_http_reply_t *r, int status, const char *content_type,
                    const hs_buf_t *body) {
  conn_t *c = r->conn;
  hs_free(r);
  if (!c)
    return;
  c->later = NULL;
  respond(c, status, content_type ? content_type : "text/plain; charset=utf-8",
          body->data ? body->data : "", body->len, c->parser.method == HTTP_HEAD, NULL);
}
