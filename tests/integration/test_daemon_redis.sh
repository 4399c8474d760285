#!/usr/bin/env bash
# Redis outages while events flow: Redis frozen (SIGSTOP) until the daemon
# has given its connection up (redis.timeout), then Redis killed, down until
# the daemon has seen its connections refused, and restarted from an older
# snapshot, which
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
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 1500 --quiet &
gen_pid=$!
pids+=("$gen_pid")

random_between 2000 5000
advance d1 "$random" 30 || true
kill -STOP "$redis_pid"
echo "  Redis frozen after $random events read"
check "not ready while Redis is frozen" wait_for 8 not_ready d1
curl -s "http://127.0.0.1:$(cat "$work/d1.port")/readyz" | sed 's/^/  readyz: /'
check "the daemon gives the frozen connection up" wait_for 20 metric_is d1 healthscore_redis_connected 0
kill -CONT "$redis_pid"
echo "  Redis thawed"
check "ready again once Redis answers" wait_for 20 ready d1

random_between 2000 5000
advance d1 "$random" 30 || true
rcli save >/dev/null
snap=$(positions_total "$group")
echo "  snapshot taken at $snap messages covered"
check "positions move past the snapshot" wait_for 30 drained_positions "$group" $((snap + 1000))
before=$(positions_total "$group")
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
echo "  Redis killed at $before messages covered"
check "not ready while Redis is down" wait_for 10 not_ready d1
check "the daemon sees Redis refuse connections" wait_for 20 grep -q "Connection refused" "$work/d1.log"
start_redis
after=$(positions_total "$group")
echo "  Redis restarted from the snapshot: $after messages covered"
check "the snapshot is older than what was written" test "$after" -lt "$before"
wait "$gen_pid"
check "the daemon drains every event" wait_for 120 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
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
