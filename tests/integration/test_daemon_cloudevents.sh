#!/usr/bin/env bash
# healthscored with kafka.alerts_format: structured and a configured
# alerts_source: every alert message is a structured-mode CloudEvent that a
# CloudEvents-aware consumer (confluent_kafka) reads as it is, the alert in
# `data` with the same summary, severity and dedup_key as `healthscore
# replay`; a bad alerts_source is refused at start with its reason.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml

start_broker 4
start_redis
engine_conf bad ce-$$
sed -i 's/^kafka:$/kafka:\n  alerts_format: structured\n  alerts_source: "not a uri"/' "$work/bad.yaml"
rc=0
timeout 30 "$daemon" --config "$work/bad.yaml" >"$work/bad.out" 2>&1 || rc=$?
check "an alerts_source that is not a URI reference is refused (exit $rc)" test "$rc" -ne 0
check "... naming the setting and why" grep -q "alerts_source.*URI reference" "$work/bad.out"

engine_conf d1 ce-$$
sed -i 's|^kafka:$|kafka:\n  alerts_format: structured\n  alerts_source: https://healthscore.example.com/eu-1|' "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

gen=(--accounts 60 --days 60 --seed 33)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
"$bin" gen "${gen[@]}" --kafka "$bs" --quiet
check "the daemon drains every event" wait_for 60 drained "$(wc -l <"$work/events.jsonl")" d1
"$bin" replay --config "$cfg" --alerts "$work/replay.alerts" --report none --quiet <"$work/events.jsonl"
check "replay finds alerts to compare" test -s "$work/replay.alerts"
check "alerts are structured-mode CloudEvents a CloudEvents-aware consumer reads as they are" \
  /usr/bin/python3 "$src/tests/integration/ce_consumer.py" "$bs" healthscore.alerts structured "$src" \
  "$work/replay.alerts"
kcat -b "$bs" -C -t healthscore.alerts -o beginning -e -q -c 1 -f '%h\n%s\n' >"$work/one" 2>/dev/null
check "content-type application/cloudevents+json, no ce_ headers" \
  bash -c "grep -q '^content-type=application/cloudevents+json; charset=UTF-8' '$work/one' && ! head -1 '$work/one' | grep -qE '(^|,)ce_'"
check "the configured source" grep -q '"source":"https://healthscore.example.com/eu-1"' "$work/one"

kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-cloudevents
