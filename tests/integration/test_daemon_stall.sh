#!/usr/bin/env bash
# No durable progress is never silent. Redis out of memory (maxmemory,
# noeviction) while events flow: every flush fails and the engine resumes
# from Redis again and again; /readyz answers 503 with the reason, the log
# and healthscore_resyncs_total{cause} say why, and events applied again
# are counted apart (healthscore_events_reapplied_total), so that
# healthscore_events_applied_total counts each event once. Then an ACL that
# refuses the reads of one account: the same loop, from a failed read, is
# logged with its cause and makes the replica not ready. Once Redis takes
# writes again the replica is ready and its states equal `healthscore
# replay` of the same events.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=stall-$$

start_broker 4
start_redis
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1
rcli config set maxmemory-policy noeviction >/dev/null
rcli config set maxmemory 1mb >/dev/null
echo "  Redis: maxmemory 1mb, noeviction"

gen=(--accounts 150 --days 40 --seed 77)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 3000 --quiet &
gen_pid=$!
pids+=("$gen_pid")

readyz() {
  curl -s --max-time 5 "http://127.0.0.1:$(cat "$work/$1.port")/readyz"
}
check "not ready: no durable progress, with Redis's reason" \
  wait_for 90 bash -c "$(declare -f readyz); work=$work; readyz d1 | grep -q 'no durable progress.*OOM'"
echo "  readyz: $(readyz d1)"
check "the flush failures are counted as the resyncs' cause" \
  wait_for 30 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 'healthscore_resyncs_total{cause=\"flush_failed\"}') -ge 2 ]"
check "the log says why it resumes from Redis" grep -q 'resuming from the state in Redis (cause flush_failed: a flush failed: .*OOM' "$work/d1.log"
check "events applied again are counted apart" \
  wait_for 30 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 healthscore_events_reapplied_total) -gt 0 ]"
wait "$gen_pid"
applied=$(metric d1 healthscore_events_applied_total)
echo "  applied: $applied first time, $(metric d1 healthscore_events_reapplied_total) again, for $good events;" \
  "$(metric d1 healthscore_resyncs_total) resyncs"
check "each event is counted applied once at most" test "$applied" -le "$good"

rcli config set maxmemory 0 >/dev/null
echo "  Redis: maxmemory 0"
check "ready again once Redis takes writes" wait_for 60 ready d1
check "the daemon drains every event" wait_for 120 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
check "states equal replay's: nothing lost" same_states "$cfg" "$work/events.jsonl"
check "applied + ignored = good events: each counted once" \
  test $(($(metric d1 healthscore_events_applied_total) + $(metric d1 healthscore_events_ignored_total))) -eq "$good"

# one account's reads refused: before, a silent resync loop with /readyz 200
rcli acl setuser default resetkeys '~hs:pos:*' '~hs:{acct-*' >/dev/null
p=$(home_partition locked-1 "$partitions")
printf '%s' '{"type":"login","event_id":"l1","account_id":"locked-1","ts":"2026-01-05T00:00:00Z"}' |
  kcat -b "$bs" -P -t healthscore.usage -k locked-1 -p "$p" 2>/dev/null
check "a refused read is logged with its cause" \
  wait_for 30 grep -q 'cause read_failed: reading the state of account "locked-1" failed: redis: NOPERM' "$work/d1.log"
check "not ready: no durable progress, the read's reason" \
  wait_for 60 bash -c "$(declare -f readyz); work=$work; readyz d1 | grep -q 'no durable progress.*locked-1'"
echo "  readyz: $(readyz d1)"
echo "  resyncs by cause: $(http_get d1 /metrics | grep '^healthscore_resyncs_total' | tr '\n' ' ')"
check "the loop is counted by cause" \
  test "$(metric d1 'healthscore_resyncs_total{cause="read_failed"}')" -ge 2
lines=$(grep -c 'resuming from the state in Redis' "$work/d1.log")
resyncs=$(metric d1 healthscore_resyncs_total)
echo "  $resyncs resyncs, $lines log lines"
check "the log is rate-limited" test "$lines" -lt "$resyncs"
rcli acl setuser default allkeys >/dev/null
check "ready again once the reads are allowed" wait_for 60 ready d1
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-stall
