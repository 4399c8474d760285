#!/usr/bin/env bash
# `healthscore broker` speaks the Kafka protocol to a real client (kcat): the
# topics exist with the asked partition count, messages go in and come back,
# SIGTERM stops it with exit 0 and removes the bootstrap file.
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

rc=0
"$bin" broker --partitions 0 2>/dev/null || rc=$?
check "bad option exits 2" test "$rc" -eq 2

finish broker
