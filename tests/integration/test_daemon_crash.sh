#!/usr/bin/env bash
# healthscored killed with SIGKILL at random points while events flow, five
# times, restarted each time: the states and histories in Redis end equal to
# `healthscore replay` of the same events (nothing lost, nothing counted
# twice), and the alerts topic holds replay's episodes, a duplicate only
# ever repeating an alert_id.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
kills=${KILLS:-5}

start_broker 8
start_redis
engine_conf d1 crash-$$
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

gen=(--accounts 120 --days 90 --seed 33)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 500 --quiet &
gen_pid=$!
pids+=("$gen_pid")

for i in $(seq "$kills"); do
  # once it works again, let it run a random while, then kill it mid-flight
  wait_for 30 ready d1 || true
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.0, 3.0), 2))')"
  pid=$(cat "$work/d1.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "  kill -9 #$i: $(positions_total crash-$$) messages covered by the positions in Redis"
  start_daemon d1
done
wait "$gen_pid"
wait_for 30 ready d1 || true
check "after $kills kills the daemon drains every event" wait_for 120 drained_positions crash-$$ "$good"
sleep 0.5
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
