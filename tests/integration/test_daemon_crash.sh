#!/usr/bin/env bash
# healthscored killed with SIGKILL at random points while events flow, five
# times (after a number of events drawn from the seed), restarted each time: the states and histories in Redis end equal to
# `healthscore replay` of the same events (nothing lost, nothing counted
# twice), and the alerts topic holds replay's episodes, a duplicate only
# ever repeating an alert_id.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
kills=${KILLS:-5}

start_broker 8
start_redis
engine_conf d1 crash-$$
# a killed member holds its partitions until its session times out: 3 s
# instead of 6 s halves the wait after each kill
sed -i 's/session.timeout.ms: "6000"/session.timeout.ms: "3000"/; s/heartbeat.interval.ms: "500"/heartbeat.interval.ms: "300"/' \
  "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

gen=(--accounts 120 --days 90 --seed 33)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 1000 --quiet &
gen_pid=$!
pids+=("$gen_pid")

for i in $(seq "$kills"); do
  # once it works again, let it read a random number of events, then kill
  # it mid-flight
  wait_for 30 ready d1 || true
  random_between 200 $((good / (2 * kills)))
  base=$(metric d1 healthscore_events_total)
  read_or_done() { metric_at_least d1 healthscore_events_total $((base + random)) || drained_positions crash-$$ "$good"; }
  wait_for 30 read_or_done || echo "  (fewer than $random events read in 30 s)"
  pid=$(cat "$work/d1.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "  kill -9 #$i after $random events read: $(positions_total crash-$$) messages covered by the positions in Redis"
  start_daemon d1
done
wait "$gen_pid"
wait_for 30 ready d1 || true
check "after $kills kills the daemon drains every event" wait_for 120 drained_positions crash-$$ "$good"
check "nothing is left to write" wait_for 10 settled d1
check "states equal replay's: nothing lost, nothing twice" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
check "every run resumed from the positions in Redis" \
  test "$(grep -c 'resuming .* from the positions in Redis' "$work/d1.log")" -gt "$kills"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM after it all: exit 0" test "$rc" -eq 0
finish daemon-crash
