#!/usr/bin/env bash
# Static group membership (kafka.instance_id) and scaling 1 -> 3 -> 1
# replicas while events flow: the final state equals `healthscore replay`,
# as one uninterrupted replica's would. A static member restarted within its
# session timeout gets its partitions back without a rebalance: the other
# members' assignments do not move.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=scale-$$

start_broker 6
start_redis
for n in a b c; do engine_conf "$n" "$group" "  instance_id: \"replica-$n\""; done
# the instance id belongs to the kafka section: move the appended line there
for n in a b c; do
  python3 - "$work/$n.yaml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
extra = lines.pop()
lines.insert(lines.index("kafka:") + 1, extra)
open(p, "w").write("\n".join(lines) + "\n")
PY
done
start_daemon a
owns_all() { ready "$1" && metric_is "$1" healthscore_partitions_assigned 6; }
check "one replica owns every partition" wait_for 40 owns_all a

gen=(--accounts 150 --days 90 --seed 45)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 1500 --quiet &
gen_pid=$!
pids+=("$gen_pid")

random_between 2000 6000
advance a "$random" 30 || true
start_daemon b
start_daemon c
echo "  scaled to 3 at $(positions_total "$group") messages covered"
three_share() {
  all_ready a b c || return 1
  local n
  for n in a b c; do metric_at_least "$n" healthscore_partitions_assigned 1 || return 1; done
  [ "$(metric_sum healthscore_partitions_assigned a b c)" -eq 6 ]
}
check "three replicas share the partitions" wait_for 40 three_share

# a rolling restart of b: SIGTERM, then start again under the same instance
# id. A static member does not leave the group when it stops, so its stop
# alone moves no partition. (The mock broker's coordinator knows members by
# member id only, so b's rejoin is a rebalance here; Kafka's coordinator
# (KIP-345) hands the returning instance its partitions without one.)
revokes() { grep -c "partitions revoked" "$work/$1.log" || true; }
for n in a c; do revokes "$n" >"$work/$n.revokes"; done
t0=$(date +%s%N)
kill -TERM "$(cat "$work/b.pid")"
wait "$(cat "$work/b.pid")" 2>/dev/null
# a dynamic member's LeaveGroup would have rebalanced a and c within a
# heartbeat (500 ms): look 2 s after b stopped, once a and c have each read
# on, and well within b's session timeout (6 s), past which the group gives
# b's partitions away whatever its membership (a window that long, on a
# machine too slow for it, fails the check rather than passing unseen)
sleep 2
advance a 1 3 || true
advance c 1 3 || true
window_ms=$((($(date +%s%N) - t0) / 1000000))
echo "  revocations within ${window_ms} ms of b's stop: a $(cat "$work/a.revokes") -> $(revokes a), c $(cat "$work/c.revokes") -> $(revokes c)"
check "a static member's stop moves no partition" test "$(revokes a)/$(revokes c)/$((window_ms < 5000))" = "$(cat "$work/a.revokes")/$(cat "$work/c.revokes")/1"
mv "$work/b.log" "$work/b.1.log"
start_daemon b
echo "  b restarted at $(positions_total "$group") messages covered"
check "the restarted member is ready again" wait_for 40 ready b

random_between 500 2000
advance b "$random" 30 || true
# scale down to one: b and c stop; static members do not leave the group, so
# their partitions move to a when their session times out
for n in b c; do kill -TERM "$(cat "$work/$n.pid")"; done
for n in b c; do wait "$(cat "$work/$n.pid")" 2>/dev/null; done
echo "  scaled to 1 at $(positions_total "$group") messages covered"
check "a owns every partition again" wait_for 40 metric_is a healthscore_partitions_assigned 6
wait "$gen_pid"
check "every event is covered" wait_for 90 drained_positions "$group" "$good"
check "a is ready" wait_for 30 ready a
check "nothing is left to write" wait_for 10 settled a
check "states equal replay's" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
kill -TERM "$(cat "$work/a.pid")"
rc=0
wait "$(cat "$work/a.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-scale
