#!/usr/bin/env bash
# healthscored running out of memory while registering its metrics exits 1
# with the reason and frees everything it had: settings, model, metrics.
# The allocation failure is injected with the allocator's own test hook
# (hs_alloc_fail_after) from gdb, and what is still allocated through the
# allocator is read at exit(): nothing. Skipped (77) without gdb or ptrace.
source "$(dirname "$0")/lib.sh"

if ! command -v gdb >/dev/null 2>&1; then
  echo "gdb not installed: skipped"
  exit 77
fi
cat >"$work/oom.gdb" <<'GDB'
set pagination off
set breakpoint pending on
break hs_metrics_new
run
call (void)hs_alloc_fail_after(2)
break exit
continue
printf "ALLOC_BYTES %lu\n", (unsigned long)hs_alloc_bytes()
kill
GDB
# the registry is the first allocation of hs_metrics_new; its first family fails
timeout 120 gdb -q -batch -x "$work/oom.gdb" --args "$daemon" -p "$src/examples/customer-behavior.yaml" \
  >"$work/gdb.log" 2>&1 || true
if grep -q "ptrace: Operation not permitted\|Could not trace\|not in executable format" "$work/gdb.log"; then
  echo "gdb cannot trace here: skipped"
  exit 77
fi
check "says why it stops" grep -q "healthscored: out of memory registering the metrics" "$work/gdb.log"
check "exits 1" grep -q "exit (status=1)" "$work/gdb.log"
check "nothing left allocated at exit ($(grep -o 'ALLOC_BYTES [0-9]*' "$work/gdb.log"))" \
  grep -qx "ALLOC_BYTES 0" "$work/gdb.log"
finish daemon_metrics_oom
