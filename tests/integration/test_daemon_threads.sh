#!/usr/bin/env bash
# healthscored with engine.threads N (THREADS, default 2): N engines in one
# process share out the partition groups. A generated stream drained by them
# leaves the states, daily histories and alerts of `healthscore replay`;
# /metrics adds the engines up (applied events = the stream), /readyz is
# ready when every engine is, /v1/accounts/{id} answers for the accounts of
# each engine, SIGHUP reloads the profiles on every engine, SIGTERM exits 0
# with everything written. Then, on a second stream, the process is killed
# with SIGKILL mid-stream and restarted with one thread: nothing is lost.
source "$(dirname "$0")/lib.sh"
threads=${THREADS:-2}
cfg=$work/profiles.yaml
cp "$src/examples/customer-behavior.yaml" "$cfg"

# with_threads NAME N: engine.threads N and the profiles copy in NAME's settings
with_threads() {
  sed -i "s|^engine:\$|engine:\n  threads: $2|; s|^  profiles: .*|  profiles: $cfg|" "$work/$1.yaml"
}

start_broker 8
start_redis
max_idle=3s
engine_conf d1 threads-$$
with_threads d1 "$threads"
"$daemon" --config "$work/d1.yaml" --check >"$work/check.out"
check "--check shows the engine threads" grep -q "; $threads engine threads\$" "$work/check.out"
# readyz_says NAME TEXT: NAME's /readyz body starts with TEXT
readyz_says() {
  curl -s --max-time 5 "http://127.0.0.1:$(cat "$work/$1.port")/readyz" | grep -q "^$2"
}
start_daemon d1
# the group's first join takes the mock broker 3 s: time to see who is not ready
check "/readyz names the engine that is not ready yet" \
  wait_for 20 readyz_says d1 "not ready: engine 1/$threads: "
check "$threads engines become ready" wait_for 40 ready d1
check "/metrics counts $threads engine threads" metric_is d1 healthscore_engine_threads "$threads"
check "the engines share out the 8 partition groups" metric_is d1 healthscore_partitions_assigned 8
check "the engines report ready one by one" metric_is d1 healthscore_ready "$threads"

gen=(--accounts 150 --days 60 --seed 41)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 8000 --quiet
check "the engines drain every event" wait_for 90 drained "$good" d1
check "nothing is left to write" wait_for 10 settled d1
check "states in Redis equal replay's, byte for byte" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts equal replay's" alerts_ok "$cfg" "$work/events.jsonl"
check "/metrics: applied + ignored events of all engines = the stream" \
  test $(($(metric d1 healthscore_events_applied_total) + $(metric d1 healthscore_events_ignored_total))) -eq "$good"
check "/metrics: events read by all engines = the stream" metric_is d1 healthscore_events_total "$good"
http_get d1 /metrics >"$work/metrics"
check "/metrics: one exposition, each family once" \
  bash -c "[ \$(grep -c '^# TYPE healthscore_events_applied_total ' '$work/metrics') -eq 1 ]"
check "/readyz: ready" bash -c "[ \"\$(curl -s --max-time 5 http://127.0.0.1:$(cat "$work/d1.port")/readyz)\" = ready ]"

# accounts homed on the first, the middle and the last partition group: the
# range assignor gives them to the first, a middle and the last engine
for p in 0 4 7; do
  acct=$(for i in $(seq 1 150); do
    a=$(printf 'acct-%06d' "$i")
    if [ "$(home_partition "$a" 8)" -eq "$p" ]; then
      echo "$a"
      break
    fi
  done)
  http_get d1 "/v1/accounts/$acct" >"$work/acct-$p.json" || true
  check "/v1/accounts/$acct (partition $p) explains its score" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["account_id"] == sys.argv[2] and "groups" in r else 1)' "$work/acct-$p.json" "$acct"
done
code=$(curl -s --max-time 5 -o "$work/nobody.json" -w '%{http_code}' "http://127.0.0.1:$(cat "$work/d1.port")/v1/accounts/nobody")
check "/v1/accounts of an account no engine holds is 404" test "$code" = 404
check "  ... and says where its record is" grep -q 'not held by this member' "$work/nobody.json"

# SIGHUP: every engine takes the new profiles, or none does
kill -HUP "$(cat "$work/d1.pid")"
check "SIGHUP reloads the profiles on every engine" \
  wait_for 20 metric_is d1 'healthscore_config_reloads_total{result="ok"}' 1
echo "profiles: [" >>"$cfg"
kill -HUP "$(cat "$work/d1.pid")"
check "a broken profiles file is refused" \
  wait_for 20 metric_is d1 'healthscore_config_reloads_total{result="error"}' 1
check "  ... and the engines still serve" ready d1

kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: the positions in Redis cover every event" drained_positions threads-$$ "$good"
for k in $(seq "$threads"); do
  check "SIGTERM: engine $k/$threads wrote its state and left the group" \
    grep -q "engine (engine $k/$threads): state written; leaving the consumer group" "$work/d1.log"
done
cp "$src/examples/customer-behavior.yaml" "$cfg"

# a second stream on a broker of its own, killed mid-stream, resumed by one thread
"$bin" broker --partitions 8 --bootstrap-file "$work/bs2" --quiet >"$work/broker2.log" 2>&1 &
pids+=($!)
wait_for 10 test -s "$work/bs2"
bs=$(cat "$work/bs2")
rcli flushall >/dev/null
engine_conf d2 threads-b-$$
sed -i 's/session.timeout.ms: "6000"/session.timeout.ms: "3000"/; s/heartbeat.interval.ms: "500"/heartbeat.interval.ms: "300"/' \
  "$work/d2.yaml"
cp "$work/d2.yaml" "$work/d2-one.yaml"
with_threads d2 "$threads"
start_daemon d2
check "$threads engines become ready on the second stream" wait_for 40 ready d2
gen=(--accounts 120 --days 60 --seed 42)
"$bin" gen "${gen[@]}" --quiet >"$work/events2.jsonl"
good=$(wc -l <"$work/events2.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 2000 --quiet &
gen_pid=$!
pids+=("$gen_pid")
random_between 500 $((good / 2))
check "the engines read $random events" advance d2 "$random" 60
kill -9 "$(cat "$work/d2.pid")"
wait "$(cat "$work/d2.pid")" 2>/dev/null || true
echo "  kill -9 after $random events read: $(positions_total threads-b-$$) messages covered by the positions in Redis"
cp "$work/d2-one.yaml" "$work/d2.yaml"
start_daemon d2
wait "$gen_pid"
check "one thread resumes and drains every event" wait_for 120 drained_positions threads-b-$$ "$good"
check "nothing is left to write" wait_for 10 settled d2
check "states equal replay's: nothing lost, nothing twice" same_states "$cfg" "$work/events2.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events2.jsonl"
kill -TERM "$(cat "$work/d2.pid")"
rc=0
wait "$(cat "$work/d2.pid")" || rc=$?
check "SIGTERM of the one thread: exit 0" test "$rc" -eq 0
# an engine that cannot start stops the others: exit 2, the engine named
"$bin" broker --topic t.a:4 --topic t.b:8 --bootstrap-file "$work/bs3" --quiet >"$work/broker3.log" 2>&1 &
pids+=($!)
wait_for 10 test -s "$work/bs3"
bs=$(cat "$work/bs3")
engine_conf d3 threads-c-$$
sed -i 's|^  group_id: .*|&\n  topics: [t.a, t.b]|' "$work/d3.yaml"
with_threads d3 "$threads"
rc=0
"$daemon" --config "$work/d3.yaml" >"$work/d3.log" 2>&1 || rc=$?
check "input topics that do not fit: exit 2" test "$rc" -eq 2
check "  ... naming the first engine and why" \
  grep -q "cannot start: engine 1/$threads: kafka: input topics are not co-partitioned" "$work/d3.log"
finish "daemon-threads-$threads"
