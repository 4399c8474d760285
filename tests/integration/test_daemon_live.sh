#!/usr/bin/env bash
# healthscored live: events produced while the daemon runs, bad input mixed
# in. The states, daily histories and alerts it leaves equal `healthscore
# replay` of the same events; every bad message is dead-lettered with its
# reason and source; the admin endpoints answer; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml

start_broker 8
start_redis
# the daily histories equal a replay's only when events are applied in
# event-time order across the topics: wait for a lagging topic longer than
# a producer slowed by a loaded machine (and a sanitizer) lags
max_idle=3s
engine_conf d1 live-$$
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1
check "/healthz answers" http_get d1 /healthz

gen=(--accounts 150 --days 60 --seed 21)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --rate 6000 --quiet &
gen_pid=$!
pids+=("$gen_pid")

# bad input, mixed into the stream: key, partition and payload problems
advance d1 2000 30 || true
bad() { # TOPIC KEY PARTITION PAYLOAD
  printf '%s' "$4" | kcat -b "$bs" -P -t "$1" -k "$2" -p "$3" 2>/dev/null
}
bad healthscore.usage acct-000001 0 '{"type":"login","account_id":"acct-000001"'
bad healthscore.usage acct-000002 1 '{"type":"teleport","event_id":"x1","account_id":"acct-000002","ts":"2026-01-05T00:00:00Z"}'
bad healthscore.billing acct-000003 2 '{"type":"invoice_paid","event_id":"x2","account_id":"acct-000003","ts":"2026-01-05T00:00:00Z","amount":"lots"}'
bad healthscore.surveys acct-000004 "$(home_partition acct-000004 8)" '{"type":"nps","event_id":"x3","account_id":"acct-000004","ts":"2099-01-01T00:00:00Z","score":9}'
bad healthscore.surveys acct-000004 $((($(home_partition acct-000004 8) + 1) % 8)) '{"type":"nps","event_id":"x5","account_id":"acct-000004","ts":"2026-01-05T00:00:00Z","score":9}'
bad healthscore.engagement someone-else 4 '{"type":"call","event_id":"x4","account_id":"acct-000005","ts":"2026-01-05T00:00:00Z","role":"admin"}'
bad healthscore.accounts acct-000006 5 'not json at all'
bad healthscore.surveys acct-000004 "$(home_partition acct-000004 8)" '{"type":"nps","event_id":"x6","account_id":"acct-000004","ts":1733500000,"score":9}'
n_bad=8
wait "$gen_pid"
# a source delivering again: ten logins produced a second time, as new
# Kafka messages with the event ids already applied
grep '"type":"login"' "$work/events.jsonl" | sed -n '100,109p' >"$work/again.jsonl"
n_again=$(wc -l <"$work/again.jsonl")
while read -r line; do
  acct=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["account_id"])')
  printf '%s' "$line" | kcat -b "$bs" -P -t healthscore.usage -k "$acct" -p "$(home_partition "$acct" 8)" 2>/dev/null
done <"$work/again.jsonl"
check "the daemon drains every event" wait_for 60 drained $((good + n_bad + n_again)) d1
check "events a source delivered again are dropped by event id and counted" \
  test "$(metric d1 healthscore_events_duplicate_id_total)" -eq "$n_again"
check "nothing is left to write" wait_for 10 settled d1

check "states in Redis equal replay's, byte for byte" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
check "alerts equal replay's" alerts_ok "$cfg" "$work/events.jsonl"
kcat -b "$bs" -C -t healthscore.alerts -o beginning -e -q -f '%k|%h\n' >"$work/alert.heads" 2>/dev/null
check "alerts are keyed by account and carry their source event's timestamp" \
  bash -c "[ -s '$work/alert.heads' ] && ! grep -vqE '^acct-[0-9]+[|](.*,)?source_timestamp=[0-9]{13}(,.*)?$' '$work/alert.heads'"
check "alerts are CloudEvents (binary mode) a CloudEvents-aware consumer reads as they are" \
  /usr/bin/python3 "$src/tests/integration/ce_consumer.py" "$bs" healthscore.alerts binary "$src" \
  "$work/replay.alerts"
check "applied + ignored = good events" \
  test $(($(metric d1 healthscore_events_applied_total) + $(metric d1 healthscore_events_ignored_total))) -eq "$good"

kcat -b "$bs" -C -t healthscore.deadletter -o beginning -e -q -f '%h|%s\n' >"$work/dead" 2>/dev/null
check "all $n_bad bad messages dead-lettered" test "$(wc -l <"$work/dead")" -eq "$n_bad"
check "dead letters name their source" grep -q 'source_topic=healthscore.usage,source_partition=0,source_offset=' "$work/dead"
for reason in 'invalid event: malformed JSON' 'unknown event type: "teleport"' \
  'future timestamp' 'wrong key' 'invalid event: field "amount"' 'wrong partition' \
  'implausible timestamp: 1970-01-21T01:31:40.000Z is before min_event_time 2000-01-01T00:00:00.000Z; 1733500000 looks like epoch seconds'; do
  check "a dead letter says: $reason" grep -q "reason=$reason" "$work/dead"
done
check "the raw bytes are kept" grep -q '|not json at all$' "$work/dead"
check "dead letters are counted" test "$(metric d1 healthscore_deadletter_total)" -eq "$n_bad"

http_get d1 /v1/accounts/acct-000007 >"$work/acct.json"
check "/v1/accounts/{id} explains the score" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["account_id"] == "acct-000007" and "groups" in r and "history" in r else 1)' "$work/acct.json"
check "/v1/accounts of an unknown account is 404" bash -c "! curl -sf http://127.0.0.1:$(cat "$work/d1.port")/v1/accounts/nobody"
http_get d1 /metrics >"$work/metrics"
for m in healthscore_events_total healthscore_events_applied_total healthscore_events_duplicate_total \
  healthscore_events_late_total healthscore_deadletter_total healthscore_alerts_total \
  healthscore_consumer_lag healthscore_processing_latency_seconds_bucket \
  healthscore_redis_flush_seconds_bucket healthscore_redis_flush_accounts_bucket \
  healthscore_accounts healthscore_accounts_dirty healthscore_accounts_by_band \
  healthscore_engine_delay_seconds_bucket healthscore_alert_delivery_seconds_bucket; do
  check "/metrics has $m" grep -q "^$m" "$work/metrics"
done
"$bin" show --redis "127.0.0.1:$redis_port" acct-000007 >"$work/show.txt"
check "healthscore show gives the score and its top contributors" grep -q "top contributors:" "$work/show.txt"
"$bin" show --redis "127.0.0.1:$redis_port" --config "$cfg" acct-000007 >"$work/explain.txt"
check "with the profiles, show explains every metric from the stored state" grep -q "^  core_features_30d " "$work/explain.txt"
curl -sf "http://127.0.0.1:$(cat "$work/d1.port")/v1/accounts/acct-000007" >"$work/api.json" || true
check "the explanation recomputed from Redis equals the engine's own" python3 -c '
import json, subprocess, sys
api = json.load(open(sys.argv[1]))
got = json.loads(subprocess.run(sys.argv[2:], capture_output=True, text=True).stdout)
strip = lambda r: {k: v for k, v in r.items() if k not in ("history",)}
sys.exit(0 if strip(api) == strip(got) or print(sorted(set(api) ^ set(got))) else 1)' \
  "$work/api.json" "$bin" show --redis "127.0.0.1:$redis_port" --config "$cfg" --json acct-000007

start=$(date +%s%N)
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "SIGTERM: exit 0 (took ${ms} ms)" test "$rc" -eq 0
check "SIGTERM: well inside 30 s" test "$ms" -lt 30000
finish daemon-live
