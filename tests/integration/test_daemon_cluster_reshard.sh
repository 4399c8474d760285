#!/usr/bin/env bash
# Two healthscored in one consumer group on a Redis Cluster: mid-stream a
# third of one master's slots are migrated to another with
# `redis-cli --cluster reshard`, and the members follow MOVED and ASK; then
# one member is frozen (SIGSTOP) past its session timeout, so that the group
# gives its partitions to the other, and thawed: its stale writes are
# refused. In the end nothing is lost: the states, histories and alerts
# equal `healthscore replay`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster.sh"
cfg=$src/examples/customer-behavior.yaml
group=reshard-$$

start_broker 8
start_cluster
for n in a b; do engine_conf "$n" "$group"; done
start_daemon a
start_daemon b
check "two members become ready" wait_for 40 all_ready a b

# the stream in two parts: the second starts once the reshard is done, so
# that events flow while b is frozen however long the reshard took
first=(--accounts 150 --days 35 --seed 88)
then=(--accounts 150 --days 25 --seed 89 --start 2026-02-05)
"$bin" gen "${first[@]}" --quiet >"$work/events.jsonl"
"$bin" gen "${then[@]}" --quiet >>"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${first[@]}" --kafka "$bs" --rate 900 --quiet &
gen_pid=$!
pids+=("$gen_pid")

random_between 2000 5000 # events read before the reshard, drawn from the seed
advance_all "$random" a b || true
read -r from to <<<"$(masters | head -2 | tr '\n' ' ')"
slots=$(($(slots_of "$from") / 3))
echo "  resharding $slots slots from :$from to :$to at $(positions_total "$group") messages covered"
t0=$SECONDS
check "redis-cli --cluster reshard succeeds" redis-cli --cluster reshard "127.0.0.1:$redis_port" \
  --cluster-from "$(node_id "$from")" --cluster-to "$(node_id "$to")" --cluster-slots "$slots" \
  --cluster-yes --cluster-pipeline 5 >"$work/reshard.log" 2>&1
echo "  reshard done in $((SECONDS - t0)) s: :$from owns $(slots_of "$from") slots, :$to $(slots_of "$to")"
# members: the sum of a metric over both members
members() {
  echo $(($(metric a "$1") + $(metric b "$1")))
}
redirected() { [ $(($(members healthscore_redis_moved_total) + $(members healthscore_redis_ask_total))) -gt 0 ]; }
check "the members followed the moved slots" wait_for 10 redirected
echo "  redirections followed by the members: $(members healthscore_redis_moved_total) MOVED," \
  "$(members healthscore_redis_ask_total) ASK, $(members healthscore_redis_retries_total) TRYAGAIN retries"

wait "$gen_pid"
"$bin" gen "${then[@]}" --kafka "$bs" --rate 900 --quiet &
gen_pid=$!
pids+=("$gen_pid")
advance b 300 30 || true # b reads events of the second part
# b is frozen holding events that no flush of its own carries: every master
# holds its writes (the members go on reading, their flushes wait) until b
# counts accounts changed since its last flush was sent; its flush in
# flight lands once the writes are let go, the rest is stale when b thaws
for p in $(masters); do redis-cli -p "$p" client pause 20000 write >/dev/null; done
check "the frozen member holds unwritten events" wait_for 15 metric_at_least b healthscore_accounts_dirty 1
kill -STOP "$(cat "$work/b.pid")"
for p in $(masters); do redis-cli -p "$p" client unpause >/dev/null; done
echo "  member b frozen at $(positions_total "$group") messages covered"
# past its session timeout (6 s) the group gives b's partitions to a
check "the group gives the frozen member's partitions to a" \
  wait_for 40 metric_is a healthscore_partitions_assigned 8
# and a reads on (b's unwritten events first), so that the stored states
# cover more than b holds
advance a 2000 30 || true
kill -CONT "$(cat "$work/b.pid")"
echo "  member b thawed at $(positions_total "$group") messages covered"
wait "$gen_pid"
check "the group drains every event" wait_for 90 drained_positions "$group" "$good"
check "a and b are ready" wait_for 30 all_ready a b
check "nothing is left to write" wait_for 10 settled a b
check "states equal replay's: nothing lost, nothing twice" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
# the second part ends some accounts' activity before the last event:
# replay must not age them (the members do not, idle_interval 0)
check "alerts: replay's episodes, duplicates only by alert_id" \
  alerts_ok "$cfg" "$work/events.jsonl" --no-advance
# b's stale flush is stopped at its first step when an account it writes is
# behind the stored cover (refused), else at its last, the positions
# (fenced): which one depends on how far a got meanwhile
fenced=$(metric b healthscore_redis_flush_fenced_total)
refused=$(metric b healthscore_redis_refused_writes_total)
echo "  flushes of the thawed member fenced: $fenced, account writes refused: $refused"
check "the thawed member's stale writes were refused" test $((fenced + refused)) -ge 1
echo "  resyncs: a $(metric a healthscore_resyncs_total), b $(metric b healthscore_resyncs_total);" \
  "events skipped as held by their state: a $(metric a healthscore_events_covered_total), b $(metric b healthscore_events_covered_total)"
for n in a b; do kill -TERM "$(cat "$work/$n.pid")"; done
rc=0
for n in a b; do wait "$(cat "$work/$n.pid")" || rc=$?; done
check "SIGTERM: both exit 0" test "$rc" -eq 0
finish daemon-cluster-reshard
