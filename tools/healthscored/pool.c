/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* The engines of engine.threads > 1 and their mailboxes (pool.h).
 *
 * A question of the main loop (readiness, metrics, an account, a model) is
 * an ask: one job per running engine, pushed to the engine's inbox; the
 * engine answers it on its own thread and pushes it back to the pool's
 * outbox. A job belongs to one thread at a time (the mutexes guard only the
 * lists), so engines and the main loop share nothing mutable. An ask ends
 * when every job is back, or at its deadline, answered with what came. */
#include "pool.h"

#include "healthscore/live.h"
#include "healthscore/log.h"

#include <stdio.h>
#include <string.h>

typedef enum { K_READY, K_METRICS, K_ACCOUNT, K_MODEL, K_STOP, K_EXITED } kind_t;

static const char *const kind_names[] = {"ready", "metrics", "account"};

typedef struct ask_s ask_t;
typedef struct engine_s engine_t;

typedef struct job_s {
  struct job_s *next;
  kind_t kind;
  engine_t *e;
  ask_t *ask;
  /* the question, read only on the engine's thread */
  const hs_model_t *model;
  const char *account;
  uint32_t account_len;
  int timeout_ms;
  /* the answer */
  int rc;
  char why[256];
  hs_metrics_t *snap;
  hs_buf_t body;
} job_t;

struct engine_s {
  pool_t *p;
  int index;
  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t inbox;
  uv_mutex_t mu; /* guards in_first, in_last */
  job_t *in_first, *in_last;
  uv_sem_t started;
  hs_settings_t settings; /* a shallow copy of the pool's with its own instance id */
  char *instance_id;
  hs_metrics_t *metrics; /* written on the engine's thread only, freed after the join */
  job_t *stop, *exited;  /* made at start, so that stopping needs no memory */
  /* the engine's thread */
  hs_live_t *live;
  int stop_status;
  /* written before `started` is posted, read after */
  int start_rc;
  hs_err_t start_err;
  /* the main thread */
  bool thread_made; /* a thread runs, to be joined */
  bool up;          /* started and not asked to stop: jobs may go to its inbox */
};

struct pool_s {
  uv_loop_t *loop;
  int n;
  engine_t *engines;
  const hs_model_t *model; /* the one engines start with */
  uv_async_t outbox;
  uv_mutex_t mu; /* guards out_first, out_last */
  job_t *out_first, *out_last;
  int exited, status;
  bool stopping;
  void (*stopped)(void *ud, int status);
  void *stopped_ud;
  hs_series_t *late[3]; /* asks unanswered by the deadline, by kind */
};

struct ask_s {
  pool_t *p;
  kind_t kind;
  int pending;    /* jobs out */
  bool answered;  /* the caller's callback has run */
  bool has_timer; /* a deadline, closed before the ask is freed */
  uv_timer_t timer;
  bool *waiting, *took; /* per engine: a job out; runs the new model */
  int rc;               /* the first failure, of engine `bad` (-1: none) */
  int bad;
  char why[320];
  hs_metrics_t *sum;
  hs_buf_t body;
  bool found, late, reverting, split;
  char *account;
  uint32_t account_len;
  const hs_model_t *model, *running;
  void (*ready_cb)(void *, bool, const char *);
  void (*metrics_cb)(void *, const hs_metrics_t *, const char *);
  void (*account_cb)(void *, int, const hs_buf_t *, const char *);
  void (*model_cb)(void *, int, bool, const char *);
  void *ud;
};

static void push(uv_mutex_t *mu, job_t **first, job_t **last, job_t *j) {
  j->next = NULL;
  uv_mutex_lock(mu);
  if (*last)
    (*last)->next = j;
  else
    *first = j;
  *last = j;
  uv_mutex_unlock(mu);
}

static job_t *take_all(uv_mutex_t *mu, job_t **first, job_t **last) {
  uv_mutex_lock(mu);
  job_t *j = *first;
  *first = *last = NULL;
  uv_mutex_unlock(mu);
  return j;
}

/* ---- the engine's thread ---- */

static void reply(engine_t *e, job_t *j) {
  pool_t *p = e->p;
  push(&p->mu, &p->out_first, &p->out_last, j);
  uv_async_send(&p->outbox);
}

static void on_live_stopped(void *ud, int status) {
  engine_t *e = ud;
  e->stop_status = status;
  uv_close((uv_handle_t *)&e->inbox, NULL); /* the last handle: the loop ends */
}

static void run_job(engine_t *e, job_t *j) {
  hs_err_t err = {0};
  switch (j->kind) {
  case K_READY:
    if (!e->live)
      snprintf(j->why, sizeof j->why, "stopping");
    j->rc = e->live && hs_live_ready(e->live, j->why, sizeof j->why) ? 0 : -1;
    break;
  case K_METRICS:
    if (e->live)
      hs_live_update_metrics(e->live);
    j->snap = hs_metrics_new();
    j->rc = j->snap ? hs_metrics_merge(j->snap, e->metrics) : HS_E_NOMEM;
    if (j->rc)
      snprintf(j->why, sizeof j->why, "out of memory copying the metrics");
    break;
  case K_ACCOUNT:
    j->rc = e->live
                ? hs_live_account_json(e->live, (hs_str_t){j->account, j->account_len}, &j->body)
                : HS_E_INVAL;
    break;
  case K_MODEL:
    j->rc = e->live ? hs_live_set_model(e->live, j->model, &err)
                    : hs_err_set(&err, HS_E_INVAL, "stopping");
    snprintf(j->why, sizeof j->why, "%s", j->rc ? err.msg : "");
    break;
  case K_STOP:
    if (e->live) {
      hs_live_t *l = e->live;
      e->live = NULL; /* freed before on_live_stopped runs */
      hs_live_stop(l, j->timeout_ms, on_live_stopped, e);
    }
    return; /* e->stop is the pool's */
  case K_EXITED:
    break;
  }
  reply(e, j);
}

static void on_inbox(uv_async_t *a) {
  engine_t *e = a->data;
  for (job_t *j = take_all(&e->mu, &e->in_first, &e->in_last), *next; j; j = next) {
    next = j->next;
    run_job(e, j);
  }
}

static void engine_main(void *arg) {
  engine_t *e = arg;
  char name[32];
  snprintf(name, sizeof name, "%d/%d", e->index + 1, e->p->n);
  hs_log_thread_engine(name);
  int rc = uv_loop_init(&e->loop);
  if (rc) {
    e->start_rc = hs_err_set(&e->start_err, HS_E_IO, "cannot make a loop: %s", uv_strerror(rc));
    uv_sem_post(&e->started);
  } else {
    uv_async_init(&e->loop, &e->inbox, on_inbox);
    e->inbox.data = e;
    e->start_rc =
        hs_live_new(&e->live, &e->loop, &e->settings, e->p->model, e->metrics, &e->start_err);
    if (e->start_rc)
      uv_close((uv_handle_t *)&e->inbox, NULL);
    uv_sem_post(&e->started);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
  }
  e->exited->rc = e->start_rc ? 0 : e->stop_status; /* a failed start: pool_start said so */
  reply(e, e->exited);
}

/* ---- the main loop ---- */

static void set_bad(ask_t *a, int index, int rc, const char *why) {
  if (a->bad >= 0 && a->bad < index)
    return; /* the lowest engine speaks, whatever the order of the answers */
  a->bad = index;
  a->rc = rc;
  snprintf(a->why, sizeof a->why, "engine %d/%d: %s", index + 1, a->p->n, why);
}

static void ask_release(ask_t *a) {
  hs_metrics_free(a->sum);
  hs_buf_free(&a->body);
  hs_free(a->waiting);
  hs_free(a->took);
  hs_free(a->account);
  hs_free(a);
}

static void on_ask_closed(uv_handle_t *h) {
  ask_release(h->data);
}

static void ask_free(ask_t *a) {
  if (a->has_timer)
    uv_close((uv_handle_t *)&a->timer, on_ask_closed);
  else
    ask_release(a);
}

/* Answers the caller with what came. */
static void finish(ask_t *a) {
  a->answered = true;
  if (a->has_timer)
    uv_timer_stop(&a->timer);
  switch (a->kind) {
  case K_READY:
    a->ready_cb(a->ud, a->bad < 0, a->why);
    break;
  case K_METRICS:
    a->metrics_cb(a->ud, a->bad < 0 ? a->sum : NULL, a->why);
    break;
  case K_ACCOUNT:
    if (a->found)
      a->account_cb(a->ud, 0, &a->body, "");
    else
      a->account_cb(a->ud, a->bad < 0 ? HS_E_INVAL : a->rc, NULL, a->why);
    break;
  default:
    a->model_cb(a->ud, a->rc, a->split, a->why);
    break;
  }
}

static void send_job(ask_t *a, engine_t *e, const hs_model_t *model) {
  job_t *j = e->up ? hs_calloc(1, sizeof *j) : NULL;
  if (!j) {
    set_bad(a, e->index, e->up ? HS_E_NOMEM : HS_E_INVAL, e->up ? "out of memory" : "stopped");
    return;
  }
  j->kind = a->kind;
  j->e = e;
  j->ask = a;
  j->model = model;
  j->account = a->account;
  j->account_len = a->account_len;
  hs_buf_init(&j->body);
  a->waiting[e->index] = true;
  a->pending++;
  push(&e->mu, &e->in_first, &e->in_last, j);
  uv_async_send(&e->inbox);
}

static void on_deadline(uv_timer_t *t) {
  ask_t *a = t->data;
  if (a->answered)
    return;
  for (int i = a->p->n - 1; i >= 0; i--)
    if (a->waiting[i]) {
      char why[64];
      snprintf(why, sizeof why, "no answer within %llu ms",
               (unsigned long long)uv_timer_get_repeat(t));
      set_bad(a, i, HS_E_IO, why);
    }
  a->late = true;
  if (a->p->late[a->kind])
    hs_series_add(a->p->late[a->kind], 1);
  hs_log(HS_LOG_WARN, "daemon", "%s asked of the engines: %s", kind_names[a->kind], a->why);
  finish(a);
}

/* A new ask of every engine; answered at once when none runs. */
static ask_t *ask_new(pool_t *p, kind_t kind, int deadline_ms) {
  ask_t *a = hs_calloc(1, sizeof *a);
  if (a && (!(a->waiting = hs_calloc((size_t)p->n, sizeof *a->waiting)) ||
            !(a->took = hs_calloc((size_t)p->n, sizeof *a->took)))) {
    hs_free(a->waiting);
    hs_free(a);
    return NULL;
  }
  if (!a)
    return NULL;
  a->p = p;
  a->kind = kind;
  a->bad = -1;
  hs_buf_init(&a->body);
  if (deadline_ms > 0) {
    uv_timer_init(p->loop, &a->timer);
    a->timer.data = a;
    a->has_timer = true;
    uv_timer_start(&a->timer, on_deadline, (uint64_t)deadline_ms, (uint64_t)deadline_ms);
  }
  return a;
}

/* Sends the jobs of a new ask, or answers it at once. */
static void ask_send(ask_t *a, const hs_model_t *model) {
  for (int i = 0; i < a->p->n; i++)
    send_job(a, &a->p->engines[i], model);
  if (!a->pending) {
    finish(a);
    ask_free(a);
  }
}

/* After every engine answered a model: go back where one refused. */
static void model_step(ask_t *a) {
  pool_t *p = a->p;
  if (a->reverting || a->bad < 0) {
    if (a->split)
      hs_log(HS_LOG_ERROR, "config",
             "engines run different profiles until the next reload: an engine could not go "
             "back to the running profiles");
    finish(a);
    return;
  }
  a->reverting = true;
  for (int i = 0; i < p->n; i++)
    if (a->took[i])
      send_job(a, &p->engines[i], a->running);
  if (!a->pending)
    finish(a);
}

static void ask_back(job_t *j) {
  ask_t *a = j->ask;
  int i = j->e->index;
  a->pending--;
  a->waiting[i] = false;
  if (!a->answered) {
    switch (a->kind) {
    case K_READY:
      if (j->rc)
        set_bad(a, i, j->rc, j->why);
      break;
    case K_METRICS: {
      int rc = j->rc ? j->rc : a->sum ? 0 : HS_E_NOMEM;
      if (!rc && (rc = hs_metrics_merge(a->sum, j->snap)) == HS_E_INVAL)
        rc = 0; /* a family of another shape: skipped, the rest counts */
      if (rc)
        set_bad(a, i, rc, j->why[0] ? j->why : "out of memory adding the metrics up");
      break;
    }
    case K_ACCOUNT:
      if (!j->rc && !a->found) {
        hs_buf_t t = a->body;
        a->body = j->body;
        j->body = t;
        a->found = true;
      } else if (j->rc && j->rc != HS_E_INVAL) {
        set_bad(a, i, j->rc, "out of memory");
      }
      break;
    default:
      if (a->reverting && j->rc) {
        a->split = true;
        hs_log(HS_LOG_ERROR, "config", "engine %d/%d cannot go back to the running profiles: %s",
               i + 1, a->p->n, j->why);
      } else if (!a->reverting) {
        if (j->rc)
          set_bad(a, i, j->rc, j->why);
        else
          a->took[i] = true;
      }
      break;
    }
  }
  hs_metrics_free(j->snap);
  hs_buf_free(&j->body);
  hs_free(j);
  if (a->pending)
    return;
  if (a->kind == K_MODEL && !a->answered) {
    model_step(a);
    if (a->pending)
      return;
  }
  if (!a->answered)
    finish(a);
  ask_free(a);
}

static void on_outbox_closed(uv_handle_t *h) {
  pool_t *p = h->data;
  for (int i = 0; i < p->n; i++) {
    engine_t *e = &p->engines[i];
    hs_metrics_free(e->metrics);
    hs_free(e->instance_id);
    hs_free(e->stop);
    uv_mutex_destroy(&e->mu);
    uv_sem_destroy(&e->started);
  }
  uv_mutex_destroy(&p->mu);
  void (*done)(void *, int) = p->stopped;
  void *ud = p->stopped_ud;
  int status = p->status;
  hs_free(p->engines);
  hs_free(p);
  if (done)
    done(ud, status);
}

static void maybe_stopped(pool_t *p) {
  if (p->stopping && p->exited == p->n)
    uv_close((uv_handle_t *)&p->outbox, on_outbox_closed);
}

static void on_outbox(uv_async_t *h) {
  pool_t *p = h->data;
  for (job_t *j = take_all(&p->mu, &p->out_first, &p->out_last), *next; j; j = next) {
    next = j->next;
    if (j->kind != K_EXITED) {
      ask_back(j);
      continue;
    }
    engine_t *e = j->e;
    uv_thread_join(&e->thread);
    e->thread_made = e->up = false;
    if (j->rc)
      p->status = -1;
    p->exited++;
    hs_free(j);
    e->exited = NULL;
  }
  maybe_stopped(p);
}

static int register_metrics(pool_t *p, hs_metrics_t *m) {
  hs_family_t *late =
      hs_metrics_family(m, HS_COUNTER, "healthscore_engine_late_answers_total",
                        "Questions of the admin endpoints an engine thread did not answer by the "
                        "deadline (the endpoint answered 503 or not ready), by request",
                        "request", NULL, 0);
  if (!late)
    return HS_E_NOMEM;
  for (int k = 0; k < 3; k++) {
    const char *v[] = {kind_names[k]};
    if (!(p->late[k] = hs_family_series(late, v)))
      return HS_E_NOMEM;
  }
  return 0;
}

/* Makes engine `i` and starts its thread; false when it could not. */
static bool engine_make(pool_t *p, int i, const hs_settings_t *s) {
  engine_t *e = &p->engines[i];
  e->p = p;
  e->index = i;
  e->settings = *s;
  uv_mutex_init(&e->mu);
  uv_sem_init(&e->started, 0);
  e->metrics = hs_metrics_new();
  e->stop = hs_calloc(1, sizeof *e->stop);
  e->exited = hs_calloc(1, sizeof *e->exited);
  if (s->instance_id && *s->instance_id) {
    size_t n = strlen(s->instance_id) + 16;
    if ((e->instance_id = hs_malloc(n)))
      snprintf(e->instance_id, n, "%s-%d", s->instance_id, i + 1);
    e->settings.instance_id = e->instance_id;
  }
  if (!e->metrics || !e->stop || !e->exited ||
      (s->instance_id && *s->instance_id && !e->instance_id))
    return hs_free(e->exited), e->exited = NULL, false;
  e->stop->kind = K_STOP;
  e->stop->e = e;
  e->exited->kind = K_EXITED;
  e->exited->e = e;
  if (uv_thread_create(&e->thread, engine_main, e)) {
    hs_free(e->exited);
    e->exited = NULL;
    return false;
  }
  e->thread_made = true;
  return true;
}

int pool_start(pool_t **out, uv_loop_t *loop, const hs_settings_t *s, const hs_model_t *model,
               hs_metrics_t *metrics, hs_err_t *err) {
  *out = NULL;
  pool_t *p = hs_calloc(1, sizeof *p);
  engine_t *engines = p ? hs_calloc((size_t)s->threads, sizeof *engines) : NULL;
  if (!engines) {
    hs_free(p);
    return hs_err_set(err, HS_E_NOMEM, "out of memory for %d engines", s->threads);
  }
  p->loop = loop;
  p->n = s->threads;
  p->engines = engines;
  p->model = model;
  uv_mutex_init(&p->mu);
  uv_async_init(loop, &p->outbox, on_outbox);
  p->outbox.data = p;
  *out = p;
  int rc = register_metrics(p, metrics);
  if (rc)
    hs_err_set(err, rc, "out of memory registering the engine metrics");
  for (int i = 0; i < p->n; i++)
    if (rc || !engine_make(p, i, s)) {
      if (!rc)
        rc = hs_err_set(err, HS_E_NOMEM, "engine %d/%d: cannot start its thread", i + 1, p->n);
      if (!engines[i].p) { /* never made: nothing to undo but the sync objects */
        engines[i].p = p;
        engines[i].index = i;
        uv_mutex_init(&engines[i].mu);
        uv_sem_init(&engines[i].started, 0);
      }
      p->exited++;
    }
  for (int i = 0; i < p->n; i++) { /* started side by side, waited for in order */
    engine_t *e = &engines[i];
    if (!e->thread_made)
      continue;
    uv_sem_wait(&e->started);
    if (!e->start_rc)
      e->up = true;
    else if (!rc)
      rc = hs_err_set(err, e->start_rc, "engine %d/%d: %s", i + 1, p->n, e->start_err.msg);
  }
  return rc;
}

void pool_stop(pool_t *p, int timeout_ms, void (*done)(void *ud, int status), void *ud) {
  if (p->stopping)
    return;
  p->stopping = true;
  p->stopped = done;
  p->stopped_ud = ud;
  for (int i = 0; i < p->n; i++) {
    engine_t *e = &p->engines[i];
    if (!e->up)
      continue;
    e->up = false; /* nothing goes to its inbox after the stop */
    e->stop->timeout_ms = timeout_ms;
    push(&e->mu, &e->in_first, &e->in_last, e->stop);
    uv_async_send(&e->inbox);
  }
  maybe_stopped(p);
}

void pool_ready(pool_t *p, void (*done)(void *ud, bool ok, const char *why), void *ud) {
  ask_t *a = ask_new(p, K_READY, POOL_READY_DEADLINE_MS);
  if (!a) {
    done(ud, false, "out of memory");
    return;
  }
  a->ready_cb = done;
  a->ud = ud;
  ask_send(a, NULL);
}

void pool_metrics(pool_t *p, void (*done)(void *ud, const hs_metrics_t *sum, const char *why),
                  void *ud) {
  ask_t *a = ask_new(p, K_METRICS, POOL_ASK_DEADLINE_MS);
  if (a && !(a->sum = hs_metrics_new())) {
    a->answered = true;
    ask_free(a);
    a = NULL;
  }
  if (!a) {
    done(ud, NULL, "out of memory");
    return;
  }
  a->metrics_cb = done;
  a->ud = ud;
  ask_send(a, NULL);
}

void pool_account(pool_t *p, hs_str_t account,
                  void (*done)(void *ud, int rc, const hs_buf_t *json, const char *why), void *ud) {
  ask_t *a = ask_new(p, K_ACCOUNT, POOL_ASK_DEADLINE_MS);
  if (a && !(a->account = hs_strndup(account.ptr, account.len))) {
    a->answered = true;
    ask_free(a);
    a = NULL;
  }
  if (!a) {
    done(ud, HS_E_NOMEM, NULL, "out of memory");
    return;
  }
  a->account_len = account.len;
  a->account_cb = done;
  a->ud = ud;
  ask_send(a, NULL);
}

void pool_set_model(pool_t *p, const hs_model_t *model, const hs_model_t *running,
                    void (*done)(void *ud, int rc, bool split, const char *why), void *ud) {
  ask_t *a = ask_new(p, K_MODEL, 0);
  if (!a) {
    done(ud, HS_E_NOMEM, false, "out of memory");
    return;
  }
  a->model = model;
  a->running = running;
  a->model_cb = done;
  a->ud = ud;
  for (int i = 0; i < p->n; i++)
    send_job(a, &p->engines[i], model);
  if (!a->pending) {
    model_step(a);
    if (!a->pending) {
      if (!a->answered)
        finish(a);
      ask_free(a);
    }
  }
}
