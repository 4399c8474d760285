#!/usr/bin/env bash
# `healthscore broker` speaks the Kafka protocol to a real client (kcat): the
# topics exist with the asked partition count, messages go in and come back,
# SIGTERM stops it with exit 0 and removes the bootstrap file, also when it
# arrives during the start.
source "$(dirname "$0")/lib.sh"

"$bin" broker --brokers 3 --partitions 8 --bootstrap-file "$work/bootstrap" >"$work/out" 2>&1 &
pid=$!
pids+=("$pid")
wait_for 10 test -s "$work/bootstrap" || true
check "bootstrap file written" test -s "$work/bootstrap"
bs=$(cat "$work/bootstrap")
check "bootstrap printed" grep -q "bootstrap: $bs" "$work/out"

kcat -b "$bs" -L -t healthscore.usage >"$work/meta" 2>&1 || true
check "3 brokers in metadata" grep -q "3 brokers" "$work/meta"
check "8 partitions" grep -q "with 8 partitions" "$work/meta"

seq 1 200 | sed 's/^/{"n":/; s/$/}/' | kcat -b "$bs" -P -t healthscore.usage -k acct-1
kcat -b "$bs" -C -t healthscore.usage -o beginning -e -q >"$work/consumed" 2>/dev/null
check "200 messages round-trip" test "$(wc -l <"$work/consumed")" -eq 200
check "content intact" grep -qx '{"n":137}' "$work/consumed"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM exits 0 (got $rc)" test "$rc" -eq 0
check "bootstrap file removed" test ! -e "$work/bootstrap"

# SIGTERM at the start's racy moments: as soon as the stop signals are held
# (set-up under way: the signal must wait, not kill), and as soon as the
# bootstrap file appears (the last step before the wait: the signal must not
# be missed). Every round exits 0 and removes the bootstrap file.
shell_exe=$(readlink /proc/$$/exe)
sigterm_held() { # PID: exec'd (no longer this shell), SIGTERM (15) blocked
  local k v
  [ "$(readlink "/proc/$1/exe")" != "$shell_exe" ] || return 1
  while read -r k v; do
    [ "$k" = SigBlk: ] && return $((((16#$v >> 14) & 1) == 0))
  done <"/proc/$1/status"
  return 1
}
bad=0
for round in $(seq 1 12); do
  rm -f "$work/bs-race"
  "$bin" broker --quiet --partitions 1 --bootstrap-file "$work/bs-race" >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  end=$((SECONDS + 3))
  if [ $((round % 2)) -eq 1 ]; then
    until sigterm_held "$pid" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; do :; done
  else
    until [ -s "$work/bs-race" ] || [ "$SECONDS" -ge "$end" ]; do :; done
  fi
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ] || [ -e "$work/bs-race" ]; then
    bad=$((bad + 1))
    echo "round $round: exit $rc, bootstrap file $([ -e "$work/bs-race" ] && echo left || echo removed)"
  fi
done
check "SIGTERM at the start's racy moments: 12 rounds exit 0, file removed ($bad bad)" test "$bad" -eq 0

rc=0
"$bin" broker --partitions 0 2>/dev/null || rc=$?
check "bad option exits 2" test "$rc" -eq 2

finish broker
