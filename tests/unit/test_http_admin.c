/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The admin HTTP server over real loopback sockets: routing, status codes,
 * malformed and oversized requests, Expect: 100-continue, and a clean close.
 * Hostile connections are in test_http_hostile.c. */
#include "testutil.h"

#include "healthscore/http.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct client_s {
  int port;
  const char *request;
  size_t request_len;
  char response[65536];
  size_t len;
  uv_async_t *wake;
} client_t;

static void *client_main(void *arg) {
  client_t *c = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)c->port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval guard = {.tv_sec = 30}; /* against a hang only, never judged */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    for (size_t off = 0; off < c->request_len;) {
      ssize_t n = write(fd, c->request + off, c->request_len - off);
      if (n <= 0)
        break;
      off += (size_t)n;
    }
    ssize_t n;
    while (c->len < sizeof c->response - 1 &&
           (n = read(fd, c->response + c->len, sizeof c->response - 1 - c->len)) > 0)
      c->len += (size_t)n;
  }
  c->response[c->len] = 0;
  close(fd);
  uv_async_send(c->wake);
  return NULL;
}

static void on_wake(uv_async_t *a) {
  *(bool *)a->data = true;
}

/* Deferred answers: /later is answered from a timer, a turn of the loop
 * later, as an answer gathered from other threads would be. */
static uv_timer_t later_timer;
static hs_http_reply_t *later_reply;

static void answer_later(uv_timer_t *t) {
  (void)t;
  hs_buf_t body;
  hs_buf_init(&body);
  hs_buf_printf(&body, "later\n");
  hs_http_answer(later_reply, 200, NULL, &body);
  later_reply = NULL;
  hs_buf_free(&body);
}

static void handler(void *ud, const char *method, const char *path, hs_http_response_t *resp) {
  (void)ud;
  (void)method;
  if (!strcmp(path, "/later")) {
    later_reply = hs_http_defer(resp);
    assert_non_null(later_reply);
    assert_true(hs_http_defer(resp) == later_reply); /* once per request */
    uv_timer_start(&later_timer, answer_later, 1, 0);
  } else if (!strcmp(path, "/healthz")) {
    hs_buf_printf(&resp->body, "ok\n");
  } else if (!strncmp(path, "/v1/accounts/", 13)) {
    resp->content_type = "application/json";
    hs_buf_printf(&resp->body, "{\"account_id\":\"%s\"}", path + 13);
  } else {
    resp->status = 404;
    hs_buf_printf(&resp->body, "no such endpoint: %s\n", path);
  }
}

/* Sends `req` to the server and returns the whole response (static buffer). */
static const char *exchange(uv_loop_t *loop, hs_http_t *h, const char *req, size_t len) {
  static client_t c;
  memset(&c, 0, sizeof c);
  bool done = false;
  uv_async_t wake;
  uv_async_init(loop, &wake, on_wake);
  wake.data = &done;
  c.port = hs_http_port(h);
  c.request = req;
  c.request_len = len;
  c.wake = &wake;
  pthread_t t;
  pthread_create(&t, NULL, client_main, &c);
  while (!done)
    uv_run(loop, UV_RUN_ONCE);
  pthread_join(t, NULL);
  uv_close((uv_handle_t *)&wake, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return c.response;
}

static void on_closed(void *ud) {
  *(bool *)ud = true;
}

static void test_routes_and_status_codes(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_http_t *h;
  hs_err_t err = {0};
  assert_int_equal(
      hs_http_new(&h, &loop, &(hs_http_conf_t){.host = "127.0.0.1"}, handler, NULL, &err), 0);
  assert_true(hs_http_port(h) > 0);
  const char *r;
  r = exchange(&loop, h, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
               strlen("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(r, "Content-Length: 3\r\n"));
  assert_non_null(strstr(r, "Connection: close\r\n"));
  assert_non_null(strstr(r, "\r\n\r\nok\n"));
  r = exchange(&loop, h, "GET /v1/accounts/acme-7?explain=1 HTTP/1.1\r\n\r\n",
               strlen("GET /v1/accounts/acme-7?explain=1 HTTP/1.1\r\n\r\n"));
  assert_non_null(strstr(r, "Content-Type: application/json"));
  assert_non_null(strstr(r, "{\"account_id\":\"acme-7\"}"));
  r = exchange(&loop, h, "GET /nope HTTP/1.1\r\n\r\n", strlen("GET /nope HTTP/1.1\r\n\r\n"));
  assert_non_null(strstr(r, "HTTP/1.1 404 Not Found"));
  r = exchange(&loop, h, "POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
               strlen("POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
  assert_non_null(strstr(r, "HTTP/1.1 405"));
  r = exchange(&loop, h, "HEAD /healthz HTTP/1.1\r\n\r\n",
               strlen("HEAD /healthz HTTP/1.1\r\n\r\n"));
  assert_non_null(strstr(r, "Content-Length: 3\r\n"));
  assert_null(strstr(r, "ok\n"));
  r = exchange(&loop, h, "\x01\x02 garbage\r\n\r\n", strlen("\x01\x02 garbage\r\n\r\n"));
  assert_non_null(strstr(r, "HTTP/1.1 400 Bad Request"));
  static char big[12000];
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  memset(big + 19, 'a', sizeof big - 23);
  memcpy(big + sizeof big - 4, "\r\n\r\n", 4);
  r = exchange(&loop, h, big, sizeof big);
  assert_non_null(strstr(r, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  assert_int_equal(hs_http_requests(h), 5);
  bool closed = false;
  hs_http_close(h, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bind_errors_are_clear(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hs_http_t *a, *b;
  hs_err_t err = {0};
  assert_int_equal(
      hs_http_new(&a, &loop, &(hs_http_conf_t){.host = "not-an-ip"}, handler, NULL, &err),
      HS_E_INVAL);
  assert_int_equal(
      hs_http_new(&a, &loop, &(hs_http_conf_t){.host = "127.0.0.1"}, handler, NULL, &err), 0);
  assert_int_equal(hs_http_new(&b, &loop,
                               &(hs_http_conf_t){.host = "127.0.0.1", .port = hs_http_port(a)},
                               handler, NULL, &err),
                   HS_E_IO);
  assert_non_null(strstr(err.msg, "cannot listen"));
  bool closed = false;
  hs_http_close(a, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server closed without a callback (as a failed start does) frees
 * itself once its handles are closed, also with a connection open. */
static void test_close_without_callback_frees_everything(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  size_t before = hs_alloc_bytes();
  hs_http_t *h;
  hs_err_t err = {0};
  assert_int_equal(
      hs_http_new(&h, &loop, &(hs_http_conf_t){.host = "127.0.0.1"}, handler, NULL, &err), 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)hs_http_port(h))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  for (int i = 0; i < 10000 && hs_http_connections(h) < 1; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(hs_http_connections(h), 1);
  hs_http_close(h, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  close(fd);
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(hs_alloc_bytes(), before);
}

static hs_http_t *start(uv_loop_t *loop) {
  hs_http_t *h;
  hs_err_t err = {0};
  uv_loop_init(loop);
  assert_int_equal(
      hs_http_new(&h, loop, &(hs_http_conf_t){.host = "127.0.0.1"}, handler, NULL, &err), 0);
  return h;
}

static void stop(uv_loop_t *loop, hs_http_t *h) {
  bool closed = false;
  hs_http_close(h, on_closed, &closed);
  uv_run(loop, UV_RUN_DEFAULT);
  assert_true(closed);
  assert_int_equal(uv_loop_close(loop), 0);
}

static const char *exchange_str(uv_loop_t *loop, hs_http_t *h, const char *req) {
  return exchange(loop, h, req, strlen(req));
}

/* A URL over 1 KiB is 414 URI Too Long, also when it is larger than the
 * whole head budget (it was 413 beyond 8 KiB). */
static void test_uri_too_long_is_414_whatever_the_head_budget(void **state) {
  (void)state;
  uv_loop_t loop;
  hs_http_t *h = start(&loop);
  static char req[10300];
  for (size_t url_len = 2000; url_len <= 10000; url_len += 8000) {
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', url_len);
    strcpy(req + 5 + url_len, " HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = exchange_str(&loop, h, req);
    assert_non_null(strstr(r, "HTTP/1.1 414 URI Too Long\r\n"));
  }
  /* a head over budget with a short URL stays 431 */
  memcpy(req, "GET /healthz HTTP/1.1\r\nX: ", 26);
  memset(req + 26, 'b', 9000);
  strcpy(req + 26 + 9000, "\r\n\r\n");
  assert_non_null(strstr(exchange_str(&loop, h, req), "HTTP/1.1 431 "));
  stop(&loop, h);
}

/* "Expect: 100-continue" gets its final answer at once (RFC 9110 10.1.1):
 * 405 for a method that is refused, the answer for a GET; neither waits
 * for a body that the client holds back until it hears from the server. */
static void test_expect_100_continue_is_answered_at_once(void **state) {
  (void)state;
  uv_loop_t loop;
  hs_http_t *h = start(&loop);
  const char *r = exchange_str(&loop, h,
                               "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                               "Expect: 100-continue\r\n\r\n");
  assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
  assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
  r = exchange_str(&loop, h,
                   "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   "Expect: 100-continue\r\n\r\n");
  assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(r, "\r\n\r\nok\n"));
  /* a body that does come is read and dropped after the answer */
  r = exchange_str(&loop, h, "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
  assert_non_null(strstr(r, "HTTP/1.1 405 "));
  stop(&loop, h);
}

/* Pipelined requests: the first is answered whole, the rest dropped (one
 * request per connection), and the client reads the answer, not a reset. */
static void test_pipelined_requests_get_one_whole_answer(void **state) {
  (void)state;
  uv_loop_t loop;
  hs_http_t *h = start(&loop);
  static char req[3 * 64 + 70000];
  size_t n = 0;
  for (int i = 0; i < 3; i++)
    n += (size_t)sprintf(req + n, "GET /v1/accounts/a%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
  memset(req + n, 'p', 70000); /* and more bytes after them */
  const char *r = exchange(&loop, h, req, n + 70000);
  assert_non_null(strstr(r, "{\"account_id\":\"a0\"}"));
  assert_null(strstr(r, "a1"));
  assert_int_equal(hs_http_requests(h), 1);
  stop(&loop, h);
}

/* A deferred answer reaches the client whole, a HEAD gets only its
 * headers, and an answer for a client gone or a server closed is dropped
 * without a leak. */
static void test_deferred_answers(void **state) {
  (void)state;
  uv_loop_t loop;
  size_t before = hs_alloc_bytes();
  hs_http_t *h = start(&loop);
  uv_timer_init(&loop, &later_timer);
  const char *r = exchange_str(&loop, h, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(r, "Content-Length: 6\r\n"));
  assert_non_null(strstr(r, "\r\n\r\nlater\n"));
  r = exchange_str(&loop, h, "HEAD /later HTTP/1.1\r\n\r\n");
  assert_non_null(strstr(r, "Content-Length: 6\r\n"));
  assert_null(strstr(r, "later\n"));
  assert_int_equal(hs_http_requests(h), 2);
  /* the server closes while an answer is still to come */
  hs_http_response_t resp = {200, NULL, {0}, NULL};
  hs_http_reply_t *orphan = hs_http_defer(&resp);
  assert_non_null(orphan);
  assert_false(hs_http_waiting(orphan)); /* no connection behind it */
  hs_buf_t none = {0};
  hs_http_answer(orphan, 200, NULL, &none);
  uv_timer_stop(&later_timer);
  uv_close((uv_handle_t *)&later_timer, NULL);
  stop(&loop, h);
  assert_int_equal(hs_alloc_bytes(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deferred_answers),
      cmocka_unit_test(test_routes_and_status_codes),
      cmocka_unit_test(test_bind_errors_are_clear),
      cmocka_unit_test(test_close_without_callback_frees_everything),
      cmocka_unit_test(test_uri_too_long_is_414_whatever_the_head_budget),
      cmocka_unit_test(test_expect_100_continue_is_answered_at_once),
      cmocka_unit_test(test_pipelined_requests_get_one_whole_answer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
