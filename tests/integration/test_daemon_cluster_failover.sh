#!/usr/bin/env bash
# A Redis Cluster master killed with SIGKILL while events flow through
# healthscored (redis.wait_replicas: 1): its replica is promoted after the
# cluster node timeout, the daemon finds it and resumes from what Redis
# holds; until the old master is back as a replica of the new one, WAIT
# finds no replica and no position moves. In the end nothing is lost: the
# states, histories and alerts equal `healthscore replay`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster.sh"
cfg=$src/examples/customer-behavior.yaml
group=failover-$$
redis_wait_replicas=1

start_broker 8
start_cluster
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready on the cluster" wait_for 30 ready d1

gen=(--accounts 150 --days 60 --seed 77)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 900 --quiet &
gen_pid=$!
pids+=("$gen_pid")

random_between 3000 6000 # events read before the kill, drawn from the seed
advance d1 "$random" 30 || true
# a master other than the seed the tests read through
victim=$(masters | grep -vx "$redis_port" | head -1)
replica=$(replica_of "$victim")
keys=$(keys_on "$victim")
covered_before=$(positions_total "$group")
t0=$(date +%s.%N)
kill_node "$victim"
echo "  master :$victim ($keys keys, $(slots_of "$victim") slots) killed at $covered_before messages covered; its replica is :$replica"
check "the replica is promoted" wait_for 20 bash -c "[ \"\$(redis-cli -p $replica role | head -1)\" = master ]"
check "healthscored is ready again" wait_for 30 ready d1
echo "  ready again $(python3 -c "import time; print(round(time.time() - $t0, 1))") s after the kill"
check "WAIT finds no replica, so positions wait" \
  wait_for 20 metric_at_least d1 healthscore_redis_wait_failures_total 1
stalled=$(positions_total "$group")
short=$(metric d1 healthscore_redis_wait_failures_total)
echo "  without a replica behind the new master: $short WAITs short, positions at $stalled"
restart_node "$victim"
check "the old master is back as a replica" wait_for 20 bash -c "[ \"\$(redis-cli -p $victim role | head -1)\" = slave ]"
echo "  :$victim back as a replica of :$replica"
wait "$gen_pid"
check "it drains every event" wait_for 120 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
echo "  resyncs: $(metric d1 healthscore_resyncs_total), flush failures: $(metric d1 healthscore_redis_flush_failures_total)," \
  "WAITs short: $(metric d1 healthscore_redis_wait_failures_total), events skipped as held by their state:" \
  "$(metric d1 healthscore_events_covered_total), MOVED: $(metric d1 healthscore_redis_moved_total)"
check "it resumed from Redis after the failover" test "$(metric d1 healthscore_resyncs_total)" -ge 1
check "states equal replay's: nothing lost, nothing twice" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
check "the log names the failed WAIT" grep -q "WAIT: 0 of 1 replicas" "$work/d1.log"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-cluster-failover
