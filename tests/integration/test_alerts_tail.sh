#!/usr/bin/env bash
# `healthscore alerts` follows the alerts topic through the Kafka protocol:
# readable lines and raw JSON, --count, and SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"

start_broker 2

for f in alert-firing alert-resolved; do
  /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
    "$src/schemas/examples/$f.json"
done | kcat -b "$bs" -P -t healthscore.alerts -k acct-000015

timeout 60 "$bin" alerts --kafka "$bs" --from-beginning --count 2 >"$work/text"
check "two readable lines" test "$(wc -l <"$work/text")" -eq 2
check "the firing alert" grep -q "FIRING   declining_14d  acct-000015 score  73.4 (was  94.0)" "$work/text"
check "the resolved alert with the same id" \
  bash -c "grep resolved '$work/text' | grep -q \"\\[\$(grep -o '\"alert_id\": \"[0-9a-f]*' '$src/schemas/examples/alert-firing.json' | cut -d'\"' -f4)\\]\""
check "the metrics named" grep -q "moved by: core_features_30d" "$work/text"

timeout 60 "$bin" alerts --kafka "$bs" --from-beginning --count 1 --json >"$work/json"
check "raw JSON on request" grep -q '"schema_version": *1' "$work/json"

# CloudEvents: a binary-mode message (ce_* headers) and a structured one
one_line() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$1"; }
one_line "$src/schemas/examples/alert-firing.json" |
  kcat -b "$bs" -P -t alerts.ce -p 0 -k acct-000015 -H ce_specversion=1.0 -H ce_id=6e68d08f23fd3091-firing \
    -H ce_source=healthscore/healthscore -H ce_type=dev.healthscore.alert.firing \
    -H ce_time=2026-03-02T00:00:00.000Z -H ce_subject=acct-000015 -H content-type=application/json
one_line "$src/schemas/examples/alert-cloudevent.json" |
  kcat -b "$bs" -P -t alerts.ce -p 0 -k acct-000015 -H "content-type=application/cloudevents+json; charset=UTF-8"
timeout 60 "$bin" alerts --kafka "$bs" -t alerts.ce --from-beginning --count 2 >"$work/ce.text"
check "a structured CloudEvent reads as its alert" \
  test "$(grep -c "FIRING   declining_14d  acct-000015 score  73.4 (was  94.0) green   moved by: .* warning \[6e68d08f23fd3091\]" "$work/ce.text")" -eq 2
timeout 60 "$bin" alerts --kafka "$bs" -t alerts.ce --from-beginning --count 2 --cloudevent >"$work/ce.json"
check "--cloudevent prints both modes as one structured CloudEvent each" /usr/bin/python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
ok = len(evs) == 2 and all(e["specversion"] == "1.0" and e["id"] == "6e68d08f23fd3091-firing"
     and e["type"] == "dev.healthscore.alert.firing" and e["subject"] == "acct-000015"
     and e["datacontenttype"] == "application/json" and e["data"]["dedup_key"] == "6e68d08f23fd3091"
     for e in evs)
sys.exit(0 if ok else 1)' "$work/ce.json"

"$bin" alerts --kafka "$bs" >"$work/follow" 2>&1 &
tail_pid=$!
pids+=("$tail_pid")
# alerts of another account, produced until the tail shows one: it follows
# from the end of the topic once it has joined
/usr/bin/python3 -c 'import json,sys; a = json.load(open(sys.argv[1])); a["account_id"] = "acct-000016";
print(json.dumps(a))' "$src/schemas/examples/alert-firing.json" >"$work/new.json"
new_alert_shown() {
  kcat -b "$bs" -P -t healthscore.alerts -k acct-000016 "$work/new.json"
  grep -q acct-000016 "$work/follow"
}
check "the tail shows a new alert" wait_for 30 new_alert_shown
kill -TERM "$tail_pid"
rc=0
wait "$tail_pid" || rc=$?
check "SIGTERM exits 0 (got $rc)" test "$rc" -eq 0
check "new alerts only by default" bash -c "! grep -q acct-000015 '$work/follow'"

rc=0
"$bin" alerts 2>/dev/null || rc=$?
check "no bootstrap is a usage error" test "$rc" -eq 2

finish alerts
