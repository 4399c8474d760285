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
check "two members become ready" wait_for 40 all_ready a b
shared() { # the partitions are shared by both members named
  local pa pb
  pa=$(metric "$1" healthscore_partitions_assigned)
  pb=$(metric "$2" healthscore_partitions_assigned)
  echo "  partitions: $1 $pa, $2 $pb"
  [ "$pa" -gt 0 ] && [ "$pb" -gt 0 ] && [ $((pa + pb)) -eq 8 ]
}
check "they share the partitions" shared a b

gen=(--accounts 150 --days 90 --seed 44)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 900 --quiet &
gen_pid=$!
pids+=("$gen_pid")

# a and b read a while (a number of events drawn from the seed); then a is
# killed, b reads on alone a little, and c joins
random_between 2000 8000
advance_all "$random" a b || true
kill -9 "$(cat "$work/a.pid")"
echo "  member a killed at $(positions_total "$group") messages covered"
random_between 500 2000
advance b "$random" 30 || true
start_daemon c
echo "  member c started"
taken_over() { all_ready b c && shared b c; }
check "b and c take over" wait_for 40 taken_over
random_between 500 2000
advance b "$random" 30 || true
kill -STOP "$(cat "$work/b.pid")"
echo "  member b frozen at $(positions_total "$group") messages covered"
# past its session timeout (6 s) the group gives b's partitions to c
check "the group gives the frozen member's partitions to c" \
  wait_for 40 metric_is c healthscore_partitions_assigned 8
# and c reads on (b's unwritten events first), so that the stored states
# cover more than b holds
advance c 2000 30 || true
kill -CONT "$(cat "$work/b.pid")"
echo "  member b thawed at $(positions_total "$group") messages covered"
wait "$gen_pid"
check "the group drains every event" wait_for 90 drained_positions "$group" "$good"
check "b and c are ready" wait_for 30 all_ready b c
check "nothing is left to write" wait_for 10 settled b c
check "states equal replay's" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts: replay's episodes, duplicates only by alert_id" alerts_ok "$cfg" "$work/events.jsonl"
check "b gave partitions up" grep -q "partitions given up" "$work/b.log"
rb=$(metric b healthscore_rebalances_total)
echo "  rebalances member b took part in: $rb"
check "b counts its rebalances (its first, a's death or c's arrival, its thaw)" test "$rb" -ge 3
# a stale flush is stopped at its first step when an account it writes is
# behind the stored cover (refused), else at its last, the positions
# (fenced): which one depends on how far c got meanwhile
fenced=$(metric b healthscore_redis_flush_fenced_total)
refused=$(metric b healthscore_redis_refused_writes_total)
echo "  flushes of the thawed member fenced: $fenced, account writes refused: $refused"
check "the thawed member's stale write was refused" test $((fenced + refused)) -ge 1
for n in b c; do
  kill -TERM "$(cat "$work/$n.pid")"
done
rc=0
for n in b c; do wait "$(cat "$work/$n.pid")" || rc=$?; done
check "SIGTERM: both exit 0" test "$rc" -eq 0
finish daemon-rebalance
