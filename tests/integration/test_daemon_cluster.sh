#!/usr/bin/env bash
# healthscored against a real Redis Cluster (three masters, three replicas):
# events flow through it while it is killed with SIGKILL twice mid-stream,
# and while, for a few seconds, an ACL lets it write account states but not
# positions, so that the states in Redis run ahead of the positions (as
# after a crash between the two steps of a flush): the events read again
# that an account's stored state already holds are skipped. The states,
# daily histories and alerts end equal to `healthscore replay` of the same
# events, and the accounts are spread over the three masters.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster.sh"
cfg=$src/examples/customer-behavior.yaml
group=cluster-$$
kills=${KILLS:-2}

start_broker 8
start_cluster
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready on the cluster" wait_for 30 ready d1
echo "  redis masters seen by healthscored: $(metric d1 healthscore_redis_masters)"
check "it sees three masters" test "$(metric d1 healthscore_redis_masters)" -eq 3

gen=(--accounts 150 --days 60 --seed 66)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 1000 --quiet &
gen_pid=$!
pids+=("$gen_pid")

covered=0
for i in $(seq "$kills"); do
  wait_for 30 ready d1 || true
  random_between 1500 4000 # events read before the kill, drawn from the seed
  advance d1 "$random" 30 || echo "  (fewer than $random events read in 30 s)"
  covered=$((covered + $(metric d1 healthscore_events_covered_total)))
  pid=$(cat "$work/d1.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "  kill -9 #$i: $(positions_total "$group") of $good messages covered by the positions"
  start_daemon d1
done
# positions read-only for a while: account writes succeed, position writes
# fail, and every flush resumes from positions behind the states
wait_for 30 ready d1 || true
for p in $(masters); do
  redis-cli -p "$p" acl setuser default resetkeys '~hs:{*' '%R~hs:pos:*' >/dev/null
done
# once a flush has failed, none already past its account writes is left to land
f0=$(metric d1 healthscore_redis_flush_failures_total)
check "the flushes fail" wait_for 20 metric_at_least d1 healthscore_redis_flush_failures_total $((f0 + 1))
before=$(positions_total "$group")
echo "  positions read-only (ACL) at $before messages covered"
random_between 5 20 # further failed flushes, drawn from the seed
f1=$(metric d1 healthscore_redis_flush_failures_total)
wait_for 30 metric_at_least d1 healthscore_redis_flush_failures_total $((f1 + random)) || true
check "no position moved meanwhile" test "$(positions_total "$group")" -eq "$before"
for p in $(masters); do redis-cli -p "$p" acl setuser default allkeys >/dev/null; done
failures=$(metric d1 healthscore_redis_flush_failures_total)
echo "  positions writable again: $((failures - f0)) flushes failed meanwhile"
check "the flushes failed" test "$failures" -gt 0
wait "$gen_pid"
wait_for 30 ready d1 || true
check "it drains every event" wait_for 120 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
covered=$((covered + $(metric d1 healthscore_events_covered_total)))
echo "  events read again and skipped because the account's state held them: $covered"
check "events the states held were skipped" test "$covered" -gt 0
echo "  last run: $(metric d1 healthscore_redis_commands_total) commands," \
  "$(metric d1 healthscore_redis_moved_total) MOVED, $(metric d1 healthscore_redis_ask_total) ASK," \
  "$(metric d1 healthscore_resyncs_total) resyncs, $(metric d1 healthscore_redis_refused_writes_total) refused writes"
check "states equal replay's: nothing lost, nothing twice" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
spread=""
for p in $(masters); do spread="$spread $(keys_on "$p")"; done
echo "  keys per master:$spread"
check "the accounts are spread over the three masters" \
  test "$(for k in $spread; do [ "$k" -gt 0 ] && echo x; done | wc -l)" -eq 3
check "show reads an account from the cluster" bash -c \
  "'$bin' show --redis '$redis_nodes' acct-000007 | grep -q '^acct-000007  '"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-cluster
