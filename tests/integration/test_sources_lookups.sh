#!/usr/bin/env bash
# The mapper as its own process (--role mapper) next to the engine (--role
# engine): a lookup table file reloaded on SIGHUP (all or nothing), learned
# aliases kept in Redis (written through, seen by a restarted mapper and by
# another writer's aliases without a restart), and a Redis that does not
# answer pausing the source instead of dead-lettering.
source "$(dirname "$0")/lib.sh"

start_broker 4 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter -t crm:2
start_redis
mkdir "$work/m"
printf 'u1,acct-a\n' >"$work/m/accounts.csv"
cat >"$work/m/crm.yaml" <<'YAML'
source: crm
lookups:
  accounts: {file: accounts.csv, learned: true}
rules:
  - name: link
    when: {kind: link}
    learn: {lookup: accounts, key: user, value: account}
  - name: login
    when: {kind: login}
    emit: login
    set: {event_id: id, account_id: {path: user, lookup: accounts}, ts: ts, user_id: user}
YAML
group=lookups-$$
sources=("sources:" "  - {topic: crm, format: json, mapping: $work/m/crm.yaml}")
engine_conf e1 "$group" "${sources[@]}"
engine_conf m1 "$group" "${sources[@]}"
"$daemon" --config "$work/e1.yaml" --role engine >>"$work/e1.log" 2>&1 &
pids+=($!)
"$daemon" --config "$work/m1.yaml" --role mapper >>"$work/m1.log" 2>&1 &
echo $! >"$work/m1.pid"
pids+=($!)
check "the engine and the mapper become ready, as two processes" wait_for 30 all_ready e1 m1
check "the engine alone runs no mapper" bash -c "! grep -q 'mapper:' '$work/e1.log'"
check "the mapper alone runs no engine" bash -c "! grep -q 'engine:' '$work/m1.log'"

n=0
send() { # KIND USER [ACCOUNT]
  n=$((n + 1))
  printf '{"kind":"%s","id":"ev-%d","user":"%s","account":"%s","ts":"2026-10-01T10:%02d:00Z"}\n' \
    "$1" "$n" "$2" "${3:-}" "$((n % 60))" | "$bin" produce --kafka "$bs" --topic crm --key "$2" 2>>"$work/produce.log"
}
# input_has KEY EVENT_ID: the input topic holds EVENT_ID keyed by KEY (polled
# up to 60 times)
in_topic() {
  kcat -b "$bs" -C -t healthscore.usage -o beginning -e -q -f '%k %s\n' 2>/dev/null |
    grep -q "^$1 .*\"event_id\":\"$2\""
}
input_has() {
  wait_for 6 in_topic "$@"
}
dead_letter_has() {
  kcat -b "$bs" -C -t healthscore.deadletter -o beginning -e -q -f '%h\n' 2>/dev/null | tee "$work/dl" | grep -q "$1"
}

send login u1
check "an alias from the table file maps the event, keyed by account" input_has acct-a ev-1
send login u2
wait_for 20 metric_is m1 'healthscore_source_rejects_total{source="crm",reason="mapping"}' 1
check "an unknown alias is a dead letter naming source, rule and path" \
  wait_for 10 dead_letter_has 'reason=crm: rule "login" (.*crm.yaml:[0-9]*): account_id: path "user": unknown alias "u2" in lookup "accounts"'

printf 'u1,acct-a\nu2,acct-b\n' >"$work/m/accounts.csv"
kill -HUP "$(cat "$work/m1.pid")"
check "SIGHUP reloads the table file" wait_for 10 metric_is m1 'healthscore_source_reloads_total{result="ok"}' 1
send login u2
check "... and the new alias maps" input_has acct-b ev-3
printf 'u1,acct-a\nu2\n' >"$work/m/accounts.csv"
kill -HUP "$(cat "$work/m1.pid")"
check "a table file that does not load is refused" \
  wait_for 10 metric_is m1 'healthscore_source_reloads_total{result="error"}' 1
check "... with its reason in the log" grep -q "reload of the mapping files refused, the running ones stay: source crm: .*accounts.csv" "$work/m1.log"
send login u2
check "... the tables in use stay" input_has acct-b ev-4

send link u3 acct-c
check "a learned alias is written to Redis" \
  wait_for 20 bash -c "test \"\$(redis-cli -p $redis_port hget hs:alias:crm:accounts u3)\" = acct-c"
rcli hset hs:alias:crm:accounts u4 acct-d >/dev/null
send login u4
check "an alias another replica wrote is seen without a restart" input_has acct-d ev-6
kill -9 "$(cat "$work/m1.pid")"
wait "$(cat "$work/m1.pid")" 2>/dev/null || true
rc=0
"$daemon" --config "$work/m1.yaml" --role mapper --check >"$work/check.out" 2>&1 || rc=$?
check "a mapper with a table file that does not load does not start (exit $rc)" test "$rc" -eq 2
check "... saying why" grep -q "(topic crm): .*accounts.csv:2:1: expected key,value" "$work/check.out"
printf 'u1,acct-a\nu2,acct-b\n' >"$work/m/accounts.csv"
"$daemon" --config "$work/m1.yaml" --role mapper >>"$work/m1.log" 2>&1 &
echo $! >"$work/m1.pid"
pids+=($!)
send login u3
check "a restarted mapper finds the learned alias in Redis" input_has acct-c ev-7

rcli hset hs:alias:crm:accounts u5 acct-e >/dev/null
rcli client pause 6000 all >/dev/null
send login u5
paused() { metric_is m1 'healthscore_source_paused{source="crm"}' 1; }
check "Redis not answering: the source pauses" wait_for 10 paused
check "... /readyz names the source and the lookup" \
  bash -c "curl -s http://127.0.0.1:$(cat "$work/m1.port")/readyz | grep -q 'source crm paused.*lookup \"accounts\": the alias store failed'"
check "... the alias store failure is logged" grep -q "alias store: redis 127.0.0.1:$redis_port: .*the sources that need a learned alias pause" "$work/m1.log"
check "Redis back: the event maps, nothing dead-lettered for it" input_has acct-e ev-8
check "... the source resumes" wait_for 10 metric_is m1 'healthscore_source_paused{source="crm"}' 0
check "nothing dead-lettered since the restart" metric_is m1 healthscore_source_rejects_total 0

kill -TERM "$(cat "$work/m1.pid")"
rc=0
wait "$(cat "$work/m1.pid")" || rc=$?
check "SIGTERM stops the mapper: exit 0" test "$rc" -eq 0
finish sources-lookups
