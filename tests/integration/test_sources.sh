#!/usr/bin/env bash
# healthscored with sources and the presets only: a Segment-shaped topic of 7
# partitions keyed by user id, a Stripe topic framed for the Schema Registry
# in Avro (schemas served by tests/unit/registry_standin.py, a stand-in of
# the registry's REST API: there is no Schema Registry package on Debian) and
# a Delighted topic without keys; 5 % of every source's records delivered
# twice, as retrying sources do. Each account has one user and is in one
# source (sources_gen.py --disjoint): an account's daily score history
# depends on the order its events arrive in (docs/scoring.md), and events of
# several source partitions reach the engine in no set order, so each
# account's events come through one source partition, in time order. The daemon (engine and mapper in one
# process) is killed with SIGKILL five times mid-stream, at points drawn from
# the seed, and restarted. At the end:
# - the states in Redis equal `healthscore map | healthscore replay` of the
#   same records, byte for byte: nothing lost, nothing counted twice;
# - every mapped event reached the input topic, some more than once (the
#   kills and the sources' redeliveries), and the engine dropped the copies;
# - the alert messages are CloudEvents a CloudEvents-aware consumer
#   (ce_consumer.py) reads as they are, with replay's alerts (replayed in the
#   order the events reached the input topic: alerts, unlike states, depend
#   on the order events arrive in).
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
fx=$src/tests/fixtures/sources
maps=$src/examples/mappings
kills=${KILLS:-5}
py=/usr/bin/python3

start_broker 8 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter \
  -t segment:7 -t stripe:3 -t delighted:1
start_redis
"$py" "$src/tests/integration/sources_gen.py" "$work" --accounts 60 --days 60 --seed "$seed" --redeliver 0.05 \
  --disjoint
mkdir "$work/schemas"
cp "$fx/stripe-invoice-payment-failed.avsc" "$work/schemas/1.avsc"
cp "$fx/stripe-customer.avsc" "$work/schemas/2.avsc"
"$py" "$src/tests/unit/registry_standin.py" --port-file "$work/sr.port" --schemas "$work/schemas" \
  --log "$work/sr.log" >"$work/sr.out" 2>&1 &
pids+=($!)
wait_for 10 test -s "$work/sr.port"
group=sources-$$
engine_conf d1 "$group" "sources:" \
  "  - {topic: segment, format: json, mapping: $maps/segment.yaml}" \
  "  - {topic: stripe, format: confluent-avro, mapping: $maps/stripe.yaml," \
  "     registry: {url: \"http://127.0.0.1:$(cat "$work/sr.port")\"}}" \
  "  - {topic: delighted, format: json, mapping: $maps/delighted.yaml}"
# mapped events wait half a second in the producer while offsets are
# committed every 100 ms: a kill finds events unacknowledged whose source
# offsets a careless mapper would have committed already
sed -i 's/^  consumer:$/  producer: {linger.ms: "500"}\n  consumer:\n    auto.commit.interval.ms: "100"/' "$work/d1.yaml"
# a killed member holds its partitions until its session times out
sed -i 's/session.timeout.ms: "6000"/session.timeout.ms: "3000"/; s/heartbeat.interval.ms: "500"/heartbeat.interval.ms: "300"/' \
  "$work/d1.yaml"
check "healthscore check validates the settings and their sources" \
  "$bin" check --settings "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

# what the daemon must end with: the same records mapped offline
cat "$work/stripe-customers.jsonl" "$work/stripe-invoices.jsonl" >"$work/stripe.jsonl"
for s in segment stripe delighted; do
  "$bin" map --mapping "$maps/$s.yaml" --quiet "$work/$s.jsonl" >>"$work/events.jsonl"
done
records=$(cat "$work"/{segment,stripe,delighted}.jsonl | wc -l)
echo "  $records source records, $(wc -l <"$work/events.jsonl") engine events mapped offline"

"$bin" produce --kafka "$bs" --topic segment --key-path userId --rate 700 "$work/segment.jsonl" \
  2>"$work/produce-segment.log" &
pids+=($!)
prod=($!)
(
  "$bin" produce --kafka "$bs" --topic stripe --key-path data.object.id --frame confluent --schema-id 2 \
    --avro-schema "$fx/stripe-customer.avsc" "$work/stripe-customers.jsonl" &&
    "$bin" produce --kafka "$bs" --topic stripe --key-path data.object.customer --frame confluent \
      --schema-id 1 --avro-schema "$fx/stripe-invoice-payment-failed.avsc" --rate 10 "$work/stripe-invoices.jsonl"
) 2>"$work/produce-stripe.log" &
pids+=($!)
prod+=($!)
"$bin" produce --kafka "$bs" --topic delighted --rate 8 "$work/delighted.jsonl" 2>"$work/produce-delighted.log" &
pids+=($!)
prod+=($!)

mapped_all() { "$py" "$src/tests/integration/committed.py" "$bs" "$group.mapper" segment stripe delighted; }
for i in $(seq "$kills"); do
  wait_for 30 ready d1 || true
  random_between 100 $((records / (2 * kills)))
  base=$(metric d1 healthscore_source_messages_total)
  read_or_done() { metric_at_least d1 healthscore_source_messages_total $((base + random)) || mapped_all; }
  wait_for 30 read_or_done || echo "  (fewer than $random source messages mapped in 30 s)"
  pid=$(cat "$work/d1.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "  kill -9 #$i after $random source messages mapped"
  start_daemon d1
done
for p in "${prod[@]}"; do wait "$p"; done
check "every source record was sent" test "$(grep -ho '[0-9]* delivered, 0 failed' "$work"/produce-*.log |
  awk '{n += $1} END {print n}')" -eq "$records"
check "the mapper commits every source message" wait_for 90 mapped_all
input_count() { kcat -b "$bs" -C -t healthscore.usage -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l; }
produced=$(input_count)
check "the engine drains the input topic ($produced events)" wait_for 60 drained_positions "$group" "$produced"
check "nothing is left to write" wait_for 10 settled d1
check "states equal map | replay: nothing lost, nothing counted twice" same_states "$cfg" "$work/events.jsonl"

for p in $(seq 0 7); do
  kcat -b "$bs" -C -t healthscore.usage -p "$p" -o beginning -e -q -f '%s\n' 2>/dev/null
done >"$work/input.jsonl"
"$py" - "$work/events.jsonl" "$work/input.jsonl" <<'PY'
import json, sys
want = [json.loads(l)["event_id"] for l in open(sys.argv[1])]
got = [json.loads(l)["event_id"] for l in open(sys.argv[2])]
print("  input topic: %d events, %d distinct; %d mapped offline (%d distinct)"
      % (len(got), len(set(got)), len(want), len(set(want))))
sys.exit(0 if set(got) == set(want) and len(got) > len(set(got)) else 1)
PY
check "every mapped event reached the input topic, copies included" test $? -eq 0
# the live engine evaluates an account when its events arrive (engine.idle_interval 0):
# replay without advancing the accounts to the end of the input
"$bin" replay --config "$cfg" --alerts "$work/replay.alerts" --no-advance --report none --quiet \
  <"$work/input.jsonl"
check "replay finds alerts to compare" test -s "$work/replay.alerts"
check "alerts are CloudEvents a CloudEvents-aware consumer reads, replay's alerts" \
  "$py" "$src/tests/integration/ce_consumer.py" "$bs" healthscore.alerts binary "$src" "$work/replay.alerts"
check "no source record was dead-lettered" metric_is d1 healthscore_source_rejects_total 0
check "each schema fetched from the registry once per run" \
  test "$(grep -c 'GET /schemas/ids/' "$work/sr.log")" -le $((2 * (kills + 1)))

kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM after it all: exit 0" test "$rc" -eq 0
finish sources
