#!/usr/bin/env bash
# Two healthscored in one consumer group share the partitions; mid-stream
# one is killed with SIGKILL and a third joins; then one is frozen (SIGSTOP)
# past its session timeout, so that the group gives its partitions away,
# and thawed: its stale writes are refused. Revoked partitions are written
# before they are given up, and the end state equals `healthscore replay`.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=rebalance-$$

start_broker 8
start_redis
for n in a b c; do engine_conf "$n" "$group"; done
start_daemon a
start_daemon b
check "two members become ready" wait_for 40 bash -c "source /dev/null; $(declare -f http_get ready); work=$work; ready a && ready b"
check "they share the partitions" bash -c "$(declare -f http_get metric); work=$work;
  pa=\$(metric a healthscore_partitions_assigned); pb=\$(metric b healthscore_partitions_assigned);
  echo \"  partitions: a \$pa, b \$pb\"; [ \$pa -gt 0 ] && [ \$pb -gt 0 ] && [ \$((pa + pb)) -eq 8 ]"

gen=(--accounts 150 --days 90 --seed 44)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 600 --quiet &
gen_pid=$!
pids+=("$gen_pid")

sleep 6
kill -9 "$(cat "$work/a.pid")"
echo "  member a killed at $(positions_total "$group") messages covered"
sleep 2
start_daemon c
echo "  member c started"
check "b and c take over" wait_for 40 bash -c "$(declare -f http_get ready metric); work=$work;
  ready b && ready c && [ \$((\$(metric b healthscore_partitions_assigned) + \$(metric c healthscore_partitions_assigned))) -eq 8 ]"
sleep 2
kill -STOP "$(cat "$work/b.pid")"
echo "  member b frozen at $(positions_total "$group") messages covered"
sleep 12
kill -CONT "$(cat "$work/b.pid")"
echo "  member b thawed at $(positions_total "$group") messages covered"
wait "$gen_pid"
check "the group drains every event" wait_for 90 drained_positions "$group" "$good"
check "b and c are ready" wait_for 30 bash -c "$(declare -f http_get ready); work=$work; ready b && ready c"
sleep 0.5
check "states equal replay's" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
check "b gave partitions up" grep -q "partitions given up" "$work/b.log"
rb=$(metric b healthscore_rebalances_total)
echo "  rebalances member b took part in: $rb"
check "b counts its rebalances (its first, a's death or c's arrival, its thaw)" test "$rb" -ge 3
fenced=$(metric b healthscore_redis_flush_fenced_total)
echo "  writes of the thawed member refused: $fenced"
check "the thawed member's stale write was refused" test "$fenced" -ge 1
for n in b c; do
  kill -TERM "$(cat "$work/$n.pid")"
done
rc=0
for n in b c; do wait "$(cat "$work/$n.pid")" || rc=$?; done
check "SIGTERM: both exit 0" test "$rc" -eq 0
finish daemon-rebalance
