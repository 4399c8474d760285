#!/usr/bin/env bash
# Time passes without events: healthscored re-evaluates the accounts it
# holds at the wall clock (minus engine.allowed_lateness) every
# engine.idle_interval, so a silent account ages — its daily history reaches
# today and "days since" metrics grow — and a topic nobody writes to does not
# hold the others back.
source "$(dirname "$0")/lib.sh"
group=idle-$$

start_broker 4 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter \
  -t healthscore.empty
start_redis
engine_conf d1 "$group"
sed -i 's/^  idle_interval: 0$/  idle_interval: 1s\n  allowed_lateness: 0ms/; s/^  group_id: .*/&\n  topics: healthscore.usage,healthscore.engagement,healthscore.empty/' "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

# one account's activity, three days ago
p=$(home_partition acct-idle 4)
three_days_ago=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2 3; do
  printf '{"type":"login","event_id":"e%s","account_id":"acct-idle","ts":"%s","user_id":"u%s","session_seconds":600}' \
    "$i" "$three_days_ago" "$i" | kcat -b "$bs" -P -t healthscore.usage -k acct-idle -p "$p"
done
printf '{"type":"meeting","event_id":"m1","account_id":"acct-idle","ts":"%s","role":"champion"}' \
  "$three_days_ago" | kcat -b "$bs" -P -t healthscore.engagement -k acct-idle -p "$p"
check "events are applied although healthscore.empty never gets any" \
  wait_for 20 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 healthscore_events_applied_total) -eq 4 ]"
today=$(date -u +%Y-%m-%d)
check "the silent account's history reaches today ($today)" \
  wait_for 10 bash -c "[ -n \"\$(redis-cli -p $redis_port HGET 'hs:{acct-idle}:history' $today)\" ]"
"$bin" show --redis "127.0.0.1:$redis_port" --json acct-idle >"$work/record.json"
"$bin" show --settings "$work/d1.yaml" --json acct-idle >"$work/score.json"
check "the stored record leaves the per-metric explanation out" bash -c "! grep -q metrics $work/record.json"
check "its score record is as of today" grep -q "\"updated_at\":\"$today" "$work/score.json"
# evaluated at today's midnight: the days from the meeting to it
check "days since the last engagement have grown with time" python3 -c '
import datetime as dt, json, sys
r = json.load(open(sys.argv[1]))
v = {x["metric"]: x for x in r["metrics"]}["days_since_engagement"]["value"]
met = dt.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ")
midnight = dt.datetime.strptime(sys.argv[3], "%Y-%m-%d")
want = (midnight - met).total_seconds() / 86400
print("  days_since_engagement: %.3f (expected %.3f)" % (v, want))
sys.exit(0 if abs(v - want) < 0.002 else 1)' "$work/score.json" "$three_days_ago" "$today"
finish daemon-idle
