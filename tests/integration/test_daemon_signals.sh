#!/usr/bin/env bash
# Operating healthscored: input topics that are not co-partitioned are
# refused at start; SIGHUP reloads the profiles, and a broken file keeps
# the running ones, says why and counts it; SIGTERM stops fetching, writes
# every applied event's state and position to Redis and exits 0 well
# inside 30 s; --help, --version and --check answer.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=signals-$$

check "--version" bash -c "'$daemon' --version | grep -q '^healthscored '"
check "--help names the endpoints" bash -c "'$daemon' --help | grep -q /readyz"
rc=0
"$daemon" --bogus >/dev/null 2>&1 || rc=$?
check "an unknown option is a usage error" test "$rc" -eq 2

start_broker 8 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter \
  -t other.usage:4
start_redis

# start_bad NAME SED: healthscored on settings NAME edited by SED; sets rc
start_bad() {
  engine_conf "$1" "$group-$1"
  sed -i "$2" "$work/$1.yaml"
  rc=0
  timeout 60 "$daemon" --config "$work/$1.yaml" >"$work/$1.log" 2>&1 || rc=$?
}
# input topics with different partition counts are refused
start_bad bad 's/^  group_id: .*/&\n  topics: healthscore.usage,other.usage/'
check "topics not co-partitioned: refused with exit 2" test "$rc" -eq 2
check "... and the reason names both topics" grep -q "not co-partitioned: healthscore.usage has 8 partitions, other.usage has 4" "$work/bad.log"
# librdkafka settings reach the client they are meant for
start_bad badp 's/^  consumer:$/  producer:\n    linger.ms: "soon"\n&/'
check "kafka.producer: a bad value stops the start" test "$rc" -ne 0
check "... and the error names it" grep -q "linger.ms" "$work/badp.log"

cp "$cfg" "$work/profiles.yaml"
engine_conf d1 "$group"
sed -i "s|profiles: .*|profiles: $work/profiles.yaml|" "$work/d1.yaml"
check "--check validates settings and profiles" bash -c "'$daemon' --config '$work/d1.yaml' --check | grep -q ok"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1
check "kafka.consumer settings are not given to the producer (no CONFWARN)" \
  bash -c "! grep -q CONFWARN '$work/d1.log'"

gen=(--accounts 100 --days 60 --seed 66)
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 3000 --quiet &
gen_pid=$!
pids+=("$gen_pid")
advance d1 1000 30 || true

echo "profiles: [this is not" >"$work/profiles.yaml"
kill -HUP "$(cat "$work/d1.pid")"
check "SIGHUP with a broken file: refused and counted" wait_for 5 \
  bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 'healthscore_config_reloads_total{result=\"error\"}') -eq 1 ]"
check "... the log says why" grep -q "reload of $work/profiles.yaml refused, the running profiles stay: $work/profiles.yaml:" "$work/d1.log"
check "... and the engine keeps running" ready d1
cp "$cfg" "$work/profiles.yaml"
sed -i 's/version: "1"/version: "2"/' "$work/profiles.yaml"
kill -HUP "$(cat "$work/d1.pid")"
check "SIGHUP with a good file: reloaded" wait_for 5 \
  bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 'healthscore_config_reloads_total{result=\"ok\"}') -eq 1 ]"
check "... scores now carry the new profile version" wait_for 10 \
  bash -c "curl -sf http://127.0.0.1:$(cat "$work/d1.port")/v1/accounts/acct-000003 | grep -q '\"profile_version\":\"2\"'"

random_between 500 3000 # events read before SIGTERM, drawn from the seed
advance d1 "$random" 30 || true
applied=$(metric d1 healthscore_events_applied_total)
start=$(date +%s%N)
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "SIGTERM mid-stream: exit 0 (took $ms ms)" test "$rc" -eq 0
check "... well inside 30 s" test "$ms" -lt 30000
check "... after writing its state" grep -q "state written; leaving the consumer group" "$work/d1.log"
covered=$(positions_total "$group")
echo "  applied before SIGTERM: $applied; covered by the positions in Redis: $covered"
check "... the positions cover at least what was applied before" test "$covered" -ge "$applied"
wait "$gen_pid" || true
# a successor resumes where it stopped and ends with every event
good=$("$bin" gen "${gen[@]}" --quiet | tee "$work/events.jsonl" | wc -l)
cp "$cfg" "$work/profiles.yaml"
start_daemon d1
check "a successor drains the rest" wait_for 60 drained_positions "$group" "$good"
check "the successor resumed where it stopped" grep -q "resuming 40 topic partitions from the positions in Redis" "$work/d1.log"
finish daemon-signals
