#!/usr/bin/env bash
# Redis outages while events flow: Redis frozen for 10 s (SIGSTOP), then
# Redis killed, down for 10 s and restarted from an older snapshot, which
# lost the writes made after it. Consumption pauses while Redis is away and
# resumes by itself from the positions Redis holds; nothing is lost in the
# end: the states equal `healthscore replay` of the same events.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=redis-$$

start_broker 8
start_redis
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

gen=(--accounts 150 --days 90 --seed 55)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 700 --quiet &
gen_pid=$!
pids+=("$gen_pid")

sleep 3
kill -STOP "$redis_pid"
echo "  Redis frozen"
check "not ready while Redis is frozen" wait_for 8 bash -c "! curl -sf http://127.0.0.1:$(cat "$work/d1.port")/readyz"
curl -s "http://127.0.0.1:$(cat "$work/d1.port")/readyz" | sed 's/^/  readyz: /'
sleep 7
kill -CONT "$redis_pid"
echo "  Redis thawed after 10 s"
check "ready again once Redis answers" wait_for 20 ready d1

sleep 3
rcli save >/dev/null
snap=$(positions_total "$group")
echo "  snapshot taken at $snap messages covered"
sleep 3
before=$(positions_total "$group")
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
echo "  Redis killed at $before messages covered; down for 10 s"
sleep 10
start_redis
after=$(positions_total "$group")
echo "  Redis restarted from the snapshot: $after messages covered"
check "the snapshot is older than what was written" test "$after" -lt "$before"
wait "$gen_pid"
check "the daemon drains every event" wait_for 120 drained_positions "$group" "$good"
sleep 0.5
check "states equal replay's: nothing lost" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
resyncs=$(metric d1 healthscore_resyncs_total)
echo "  resyncs: $resyncs, flush failures: $(metric d1 healthscore_redis_flush_failures_total)"
check "it resumed from Redis after each outage" test "$resyncs" -ge 3
check "the log says why it paused" grep -q "unreachable" "$work/d1.log"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-redis
