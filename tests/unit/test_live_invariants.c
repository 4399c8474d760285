/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* HS_INVARIANT stays in release builds (NDEBUG is defined here on purpose)
 * and, when broken, writes FILE:LINE: invariant failed: EXPR to stderr and
 * dies of SIGABRT: checked on a child process, for the macro itself and for
 * the engine's own invariants (a dirty account never removed, a refused
 * partition group never applying). */
#ifndef NDEBUG
#define NDEBUG
#endif
#include "livetest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*trip_fn)(void);

/* Runs `trip` in a child with stderr into a pipe; returns how the child
 * ended (waitpid status) and what it wrote in `out`. */
static int run_child(trip_fn trip, char *out, size_t size) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    signal(SIGABRT, SIG_DFL);
    trip();
    _exit(0); /* not reached when the invariant fires */
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t r;
  while (len + 1 < size && (r = read(fds[0], out + len, size - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

static void assert_aborted(int status, const char *out, const char *want) {
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
    fail_msg("the child was not killed by SIGABRT (status %d); it wrote: %s", status, out);
  if (!strstr(out, want))
    fail_msg("the child wrote \"%s\", not \"%s\"", out, want);
}

static volatile int zero = 0;

enum { TRIP_LINE = __LINE__ + 2 };
static void trip_macro(void) {
  HS_INVARIANT(zero == 1);
}

static void hold_macro(void) {
  HS_INVARIANT(zero == 0);
}

/* A broken invariant names its place and expression and aborts, with
 * NDEBUG defined; a holding one lets the program go on. */
static void test_invariant_aborts_in_release_builds(void **state) {
  (void)state;
  char out[4096];
  char want[256];
  snprintf(want, sizeof want, "test_live_invariants.c:%d: invariant failed: zero == 1", TRIP_LINE);
  assert_aborted(run_child(trip_macro, out, sizeof out), out, want);
  int status = run_child(hold_macro, out, sizeof out);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_null(strstr(out, "invariant"));
}

static void trip_remove_dirty(void) {
  acct_t a;
  memset(&a, 0, sizeof a);
  a.dirty = true;
  hs__acct_remove(NULL, &a); /* would leave the dirty set pointing at freed memory */
}

static void trip_refused_applies(void) {
  group_t *g = calloc(1, sizeof *g);
  g->state = G_REFUSED;
  hs__apply_entry(NULL, g, 0, NULL);
}

/* The engine's invariants fire where going on would corrupt what it
 * writes: removing an account still in the dirty set, applying an event of
 * a refused partition group. */
static void test_engine_invariants_abort(void **state) {
  (void)state;
  char out[4096];
  assert_aborted(run_child(trip_remove_dirty, out, sizeof out), out, "src/live/accounts.c:");
  assert_aborted(run_child(trip_refused_applies, out, sizeof out), out,
                 "invariant failed: g->state == G_ACTIVE");
  assert_aborted(run_child(trip_remove_dirty, out, sizeof out), out, "invariant failed: !a->dirty");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invariant_aborts_in_release_builds),
      cmocka_unit_test(test_engine_invariants_abort),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
